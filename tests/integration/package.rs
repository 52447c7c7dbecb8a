//! `mlops package`: version choice, the committed-files check, the
//! reproducible bundle, the tag, `--check`, `--dry-run`, `--push`, and two
//! runs at once.

use std::io::Read as _;

use crate::common::{GIT_TIME, Test, packaged_project, sha256_hex};

#[test]
fn package_builds_the_bundle_and_writes_gtos_tag() {
    let (t, commit) = packaged_project();
    let t = t.args(["--json", "package"]);
    let doc = t.run().success().json();
    assert_eq!(doc["model"], "house-price");
    assert_eq!(doc["version"], "v0.0.1");
    assert_eq!(doc["tag"], "house-price@v0.0.1");
    assert_eq!(doc["bundle"], "dist/house-price-v0.0.1.tar.gz");
    assert_eq!(doc["commit"], commit.to_string());
    assert_eq!(doc["pushed"], false);
    let bytes = t.read_bytes("dist/house-price-v0.0.1.tar.gz");
    assert_eq!(doc["bundle_sha256"], sha256_hex(&bytes));

    // The tag: annotated, on the commit, GTO's first line, then our JSON.
    let repo = t.repo();
    let r = repo.find_reference("refs/tags/house-price@v0.0.1").unwrap();
    let tag = repo.find_tag(r.target().unwrap()).unwrap();
    assert_eq!(tag.target_id(), commit);
    let msg = tag.message().unwrap();
    let (first, rest) = msg.unwrap().split_once("\n\n").unwrap();
    assert_eq!(first, "Registering artifact house-price version v0.0.1");
    let meta: serde_json::Value = serde_json::from_str(rest.trim()).unwrap();
    assert_eq!(meta["mlops"]["bundle_sha256"], doc["bundle_sha256"]);
    assert_eq!(meta["mlops"]["artifact"], "models/house-price.json");
    assert!(meta["mlops"]["metrics"]["validation"]["r2"].is_number());
    assert_eq!(
        meta["mlops"]["tool"],
        format!("mlops {}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(tag.tagger().unwrap().name().unwrap(), "Test User");

    // The bundle: fixed order, mtime = commit time, uid 0, mode 0644.
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
    let mut names = Vec::new();
    let mut manifest = String::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let h = e.header();
        assert_eq!(h.mtime().unwrap(), GIT_TIME as u64);
        assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
        assert_eq!(h.mode().unwrap(), 0o644);
        let name = e.path().unwrap().display().to_string();
        if name == "manifest.json" {
            e.read_to_string(&mut manifest).unwrap();
        }
        names.push(name);
    }
    assert_eq!(
        names,
        ["manifest.json", "mlops.toml", "models/house-price.json"]
    );
    let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(m["name"], "house-price");
    assert_eq!(m["version"], "v0.0.1");
    assert_eq!(m["commit"], commit.to_string());
    assert_eq!(m["created_at"], "2023-11-14T22:13:20Z");
    assert_eq!(
        m["files"]["models/house-price.json"],
        sha256_hex(&t.read_bytes("models/house-price.json"))
    );
    assert_eq!(
        m["files"]["mlops.toml"],
        sha256_hex(&t.read_bytes("mlops.toml"))
    );
    assert_eq!(m["features"][0]["name"], "sqft");
    assert!(m["data_sha256"].is_string());

    // --check rebuilds it from the commit.
    t.run_args(["package", "--check", "house-price@v0.0.1"])
        .success()
        .stdout_contains("rebuilds from commit");
}

#[test]
fn same_commit_and_version_give_the_same_bytes() {
    let (a, ca) = packaged_project();
    let (b, cb) = packaged_project();
    assert_eq!(ca, cb, "fixed signature and time give the same commit");
    a.run_args(["package"]).success();
    b.run_args(["package"]).success();
    assert_eq!(
        a.read_bytes("dist/house-price-v0.0.1.tar.gz"),
        b.read_bytes("dist/house-price-v0.0.1.tar.gz")
    );
}

#[test]
fn uncommitted_or_changed_files_are_refused_by_name() {
    let t = Test::new()
        .toml(&crate::common::example_toml())
        .git_init()
        .args(["-q", "train"]);
    t.run().success();
    t.run_args(["package"]).error(
        4,
        "the repository has no commit yet; commit mlops.toml and the model artifact first",
    );
    let t = t.file("README", "x");
    let repo = t.repo();
    let mut idx = repo.index().unwrap();
    idx.add_path(std::path::Path::new("mlops.toml")).unwrap();
    idx.write().unwrap();
    let tree = repo.find_tree(idx.write_tree().unwrap()).unwrap();
    let sig = crate::common::git_sig(GIT_TIME);
    repo.commit(Some("HEAD"), &sig, &sig, "toml only", &tree, &[])
        .unwrap();
    t.run_args(["package"]).error(
        4,
        "the model artifact and the project file must be committed at HEAD and unchanged to register a version, but models/house-price.json (not committed) is not; commit it (`git add` and `git commit`) and run again",
    );
    t.write(".gitignore", "/models/\n");
    t.run_args(["package"]).code(4).stderr_contains(
        "models/house-price.json (not committed; it is ignored by .gitignore, add it with `git add -f`) is not",
    );
    t.commit_all("all", GIT_TIME + 1);
    t.write(
        "mlops.toml",
        format!("{}\n# changed\n", t.read("mlops.toml")),
    );
    t.write("models/house-price.json", "{}");
    t.run_args(["package"]).code(4).stderr_contains(
        "but models/house-price.json (modified), mlops.toml (modified) are not; commit them",
    );
    assert!(!t.exists("dist"));
    assert!(t.tags().is_empty());
}

#[test]
fn versions_are_chosen_and_never_reused() {
    let (t, _) = packaged_project();
    t.run_args(["package", "--version", "v1.2.0"])
        .success()
        .stdout_contains("house-price@v1.2.0");
    // A second version on one commit is refused, as GTO does.
    t.run_args(["package"])
        .code(4)
        .stderr_contains("already carries version v1.2.0 of house-price (tag house-price@v1.2.0)");
    t.write("models/extra.txt", "x");
    t.commit_all("two", GIT_TIME + 10);
    t.run_args(["package", "--version", "v1.2.0"])
        .code(4)
        .stderr_contains(
            "house-price@v1.2.0 is already registered (tag house-price@v1.2.0 on commit",
        );
    t.run_args(["package", "--version", "1.3"]).error(
        2,
        "--version \"1.3\" is not a version; use vMAJOR.MINOR.PATCH, e.g. v1.2.0",
    );
    t.run_args(["--json", "package", "--bump", "minor"])
        .success();
    t.write("models/extra.txt", "y");
    t.commit_all("three", GIT_TIME + 20);
    let doc = t.run_args(["--json", "package"]).success().json();
    assert_eq!(doc["version"], "v1.3.1");
    t.write("models/extra.txt", "z");
    t.commit_all("four", GIT_TIME + 30);
    let doc = t
        .run_args(["--json", "package", "--bump", "major"])
        .success()
        .json();
    assert_eq!(doc["version"], "v2.0.0");
    assert_eq!(
        t.tags(),
        [
            "house-price@v1.2.0",
            "house-price@v1.3.0",
            "house-price@v1.3.1",
            "house-price@v2.0.0"
        ]
    );
    // Tagger times are strictly increasing, one second apart at least.
    let repo = t.repo();
    let mut times: Vec<i64> = t
        .tags()
        .iter()
        .map(|n| {
            let r = repo.find_reference(&format!("refs/tags/{n}")).unwrap();
            repo.find_tag(r.target().unwrap())
                .unwrap()
                .tagger()
                .unwrap()
                .when()
                .seconds()
        })
        .collect();
    let sorted = {
        let mut s = times.clone();
        s.sort_unstable();
        s.dedup();
        s
    };
    times.sort_unstable();
    assert_eq!(times, sorted, "no two tags in one second");
}

#[test]
fn dry_run_changes_nothing() {
    let (t, _) = packaged_project();
    let before = t.snapshot();
    t.run_args(["package", "--dry-run"])
        .success()
        .stdout_contains("Would package house-price v0.0.1")
        .stdout_contains("dist/house-price-v0.0.1.tar.gz")
        .stdout_contains("house-price@v0.0.1");
    let doc = t
        .run_args(["--json", "package", "--dry-run"])
        .success()
        .json();
    assert_eq!(doc["dry_run"], true);
    assert_eq!(t.snapshot(), before);
    assert!(t.tags().is_empty());
}

#[test]
fn check_fails_when_the_recorded_digest_differs() {
    let (t, c) = packaged_project();
    t.tag(
        "house-price@v0.0.1",
        c,
        GIT_TIME + 5,
        "Registering artifact house-price version v0.0.1\n\n{\"mlops\":{\"bundle_sha256\":\"00ff\",\"tool\":\"mlops 0.1.0\"}}\n",
    );
    t.run_args(["package", "--check", "house-price@v0.0.1"])
        .code(1)
        .stderr_contains("has sha256 ")
        .stderr_contains("but the tag records 00ff");
    t.run_args(["package", "--check", "house-price@v9.9.9"]).error(
        4,
        "there is no annotated tag house-price@v9.9.9; run `mlops models` to see the registered versions",
    );
    t.run_args(["package", "--check", "house-price#prod"])
        .error(
            2,
            "--check \"house-price#prod\" is not a version tag; use NAME@vX.Y.Z",
        );
}

#[test]
fn a_missing_identity_is_a_registry_error() {
    let (t, _) = packaged_project();
    let repo = t.repo();
    let mut cfg = repo
        .config()
        .unwrap()
        .open_level(git2::ConfigLevel::Local)
        .unwrap();
    cfg.remove("user.name").unwrap();
    cfg.remove("user.email").unwrap();
    t.run_args(["package"]).error(
        4,
        "no git identity to sign the tag with; set it with `git config user.name \"Your Name\"` and `git config user.email you@example.com`",
    );
    assert!(
        !t.exists("dist/house-price-v0.0.1.tar.gz"),
        "no bundle left behind"
    );
    assert!(t.tags().is_empty());
}

#[test]
fn an_existing_tag_is_never_overwritten() {
    let (t, c) = packaged_project();
    // A lightweight tag is no registry event, but its name is taken: the
    // run that finds the name taken fails and leaves no bundle.
    let repo = t.repo();
    repo.tag_lightweight(
        "house-price@v0.0.1",
        &repo.find_object(c, None).unwrap(),
        false,
    )
    .unwrap();
    t.run_args(["package"]).error(
        4,
        "tag house-price@v0.0.1 already exists (another run created it first); nothing was changed, run `mlops models` to see the registry",
    );
    assert!(!t.exists("dist/house-price-v0.0.1.tar.gz"));
}

#[test]
fn two_runs_at_once_create_exactly_one_version() {
    let (t, _) = packaged_project();
    let t = t.args(["package"]);
    let mut a = t.command();
    let mut b = t.command();
    a.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    b.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let pa = a.spawn().unwrap();
    let pb = b.spawn().unwrap();
    let oa = pa.wait_with_output().unwrap();
    let ob = pb.wait_with_output().unwrap();
    let mut codes = [oa.status.code().unwrap(), ob.status.code().unwrap()];
    codes.sort_unstable();
    assert_eq!(codes, [0, 4], "{oa:?} {ob:?}");
    let loser = if oa.status.success() { ob } else { oa };
    let err = String::from_utf8_lossy(&loser.stderr);
    assert!(
        err.contains("already carries version v0.0.1") || err.contains("already exists"),
        "{err}"
    );
    assert_eq!(t.tags(), ["house-price@v0.0.1"]);
    assert!(t.exists("dist/house-price-v0.0.1.tar.gz"));
}

#[test]
fn push_sends_the_tag_to_the_remote() {
    let (t, _) = packaged_project();
    let bare = tempfile::tempdir().unwrap();
    git2::Repository::init_bare(bare.path()).unwrap();
    t.repo()
        .remote("origin", &bare.path().display().to_string())
        .unwrap();
    let doc = t.run_args(["--json", "package", "--push"]).success().json();
    assert_eq!(doc["pushed"], true);
    let remote = git2::Repository::open_bare(bare.path()).unwrap();
    let r = remote
        .find_reference("refs/tags/house-price@v0.0.1")
        .unwrap();
    assert!(
        remote.find_tag(r.target().unwrap()).is_ok(),
        "annotated tag pushed"
    );
}

#[test]
fn a_failed_push_exits_5_and_keeps_the_local_tag() {
    let (t, _) = packaged_project();
    let toml = format!(
        "{}\n[registry]\nremote = \"backup\"\n",
        t.read("mlops.toml")
    );
    t.write("mlops.toml", toml);
    t.commit_all("registry", GIT_TIME + 1);
    t.repo()
        .remote("backup", &t.path("no-such-repo").display().to_string())
        .unwrap();
    t.run_args(["package", "--push"])
        .code(5)
        .stderr_contains("cannot push tag house-price@v0.0.1 to remote \"backup\"")
        .stderr_contains("the tag stays in the local repository");
    assert_eq!(t.tags(), ["house-price@v0.0.1"]);
    assert!(t.exists("dist/house-price-v0.0.1.tar.gz"));
}

#[test]
fn bundles_read_back_verified_and_tampering_is_named() {
    let (t, _) = packaged_project();
    let t = t.args(["-q", "package"]);
    t.run().success();
    let bytes = t.read_bytes("dist/house-price-v0.0.1.tar.gz");
    let b = mlops::bundle::read(&bytes, "dist/house-price-v0.0.1.tar.gz").unwrap();
    assert_eq!(
        (b.name.as_str(), b.version.as_str()),
        ("house-price", "v0.0.1")
    );
    assert_eq!(b.artifact_path, "models/house-price.json");
    assert_eq!(b.artifact.name, "house-price");
    assert_eq!(b.files.len(), 3);
    assert_eq!(b.sha256, mlops::bundle::sha256_hex(&bytes));

    // Rebuild the archive with one byte of the model changed: refused by name.
    let mut entries: Vec<mlops::bundle::Entry> = b
        .files
        .iter()
        .map(|(p, v)| mlops::bundle::Entry {
            path: p.clone(),
            bytes: v.clone(),
        })
        .collect();
    let model = entries
        .iter_mut()
        .find(|e| e.path == "models/house-price.json")
        .unwrap();
    let at = model.bytes.iter().position(|&c| c == b'7').unwrap();
    model.bytes[at] = b'8';
    let tampered = mlops::bundle::build(&entries, 0).unwrap();
    let err = mlops::bundle::read(&tampered, "x.tar.gz").unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert!(
        err.to_string()
            .contains("models/house-price.json has sha256"),
        "{err}"
    );
    // An extra file, and garbage, are refused too.
    let model = entries
        .iter_mut()
        .find(|e| e.path == "models/house-price.json")
        .unwrap();
    model.bytes[at] = b'7';
    entries.push(mlops::bundle::Entry {
        path: "evil.sh".into(),
        bytes: b"rm -rf /".to_vec(),
    });
    let err = mlops::bundle::read(&mlops::bundle::build(&entries, 0).unwrap(), "x").unwrap_err();
    assert!(err.to_string().contains("evil.sh"), "{err}");
    let err = mlops::bundle::read(b"not a bundle", "x").unwrap_err();
    assert!(err.to_string().contains("not a"), "{err}");
}

/// L12: a shallow clone is refused before a version is chosen (it lacks the
/// tags the next version depends on), naming the command that fixes it.
#[test]
fn a_shallow_clone_is_refused_before_a_version_is_chosen() {
    let (t, commit) = packaged_project();
    // What `git clone --depth 1` leaves: `.git/shallow` naming the cut.
    t.write(".git/shallow", format!("{commit}\n"));
    t.run_args(["package"])
        .code(4)
        .stderr_contains("shallow clone")
        .stderr_contains("git fetch --unshallow --tags");
    assert!(t.tags().is_empty());
    assert!(!t.exists("dist/house-price-v0.0.1.tar.gz"));
}

/// L12 and L9: a clone with a remote but no tag at all gets a warning, and
/// neither it nor a failed push prints the remote URL's credentials.
#[test]
fn a_tagless_clone_warns_and_a_remote_url_never_shows_its_token() {
    let (t, _) = packaged_project();
    let remote = "https://ci:tok3n-s3cret@127.0.0.1:1/r.git?x=q";
    let toml = format!(
        "{}\n[registry]\nremote = \"{remote}\"\n",
        t.read("mlops.toml")
    );
    t.write("mlops.toml", toml);
    t.commit_all("registry", GIT_TIME + 1);
    t.repo().remote("origin", remote).unwrap();
    let out = t.run_args(["package", "--push"]);
    out.code(5)
        .stderr_contains("warning: the repository has a remote but no tags at all")
        .stderr_contains("git fetch --tags")
        .stderr_contains(
            "cannot push tag house-price@v0.0.1 to remote \"https://127.0.0.1:1/r.git?…\"",
        );
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(!all.contains("tok3n"), "{all}");
    // Tagged now: no warning the second time.
    t.write("models/notes.txt", "two");
    t.commit_all("two", GIT_TIME + 2);
    let out = t.run_args(["package"]);
    out.success();
    assert!(!out.stderr.contains("no tags at all"));
}

/// L12: a held registry lock is waited for with a message naming it, and
/// for at most `MLOPS_LOCK_TIMEOUT_S` (exit 5), not for ever.
#[test]
fn a_held_registry_lock_is_waited_for_with_a_message_and_a_timeout() {
    let (t, _) = packaged_project();
    let path = t.path(".git/mlops-registry.lock");
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap();
    held.lock().unwrap();
    let start = std::time::Instant::now();
    let out = t
        .command_args(["package"])
        .env("MLOPS_LOCK_TIMEOUT_S", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("waiting for lock on "), "{err}");
    assert!(err.contains("mlops-registry.lock"), "{err}");
    assert!(err.contains("still held after 1 s"), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
    assert!(t.tags().is_empty());
    // Released: the next run goes through.
    drop(held);
    t.run_args(["-q", "package"]).success();
    assert_eq!(t.tags(), ["house-price@v0.0.1"]);
}

/// Issue 21, full disk: `package` writing its bundle into a full `dist/`
/// (a small tmpfs) exits 2 with one sentence naming the bundle and "no
/// space left", keeps the bundles already there as they were, creates no
/// tag and leaves no temporary file; once space is freed it succeeds.
#[test]
fn a_full_dist_fails_naming_the_bundle_and_writes_no_tag() {
    let (t, _) = packaged_project();
    let _fs = match crate::common::Tmpfs::mount(&t.path("dist"), "256k") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    t.run_args(["-q", "package", "--version", "v1.0.0"])
        .success();
    let first = t.read_bytes("dist/house-price-v1.0.0.tar.gz");
    t.write("models/notes.txt", "second version");
    t.commit_all("two", GIT_TIME + 10);
    let tags = t.tags();
    crate::common::fill_up(&t.path("dist"));
    t.run_args(["package", "--version", "v1.1.0"]).error(
        2,
        "cannot write dist/house-price-v1.1.0.tar.gz: no space left on its device; free some space and run again (the previous file is unchanged)",
    );
    assert_eq!(t.read_bytes("dist/house-price-v1.0.0.tar.gz"), first);
    assert_eq!(t.tags(), tags, "no tag");
    let mut left: Vec<String> = std::fs::read_dir(t.path("dist"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["filler", "house-price-v1.0.0.tar.gz"]);
    std::fs::remove_file(t.path("dist/filler")).unwrap();
    t.run_args(["-q", "package", "--version", "v1.1.0"])
        .success();
    assert!(t.tags().contains(&"house-price@v1.1.0".to_string()));
    assert_eq!(t.read_bytes("dist/house-price-v1.0.0.tar.gz"), first);
}
