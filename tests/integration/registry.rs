//! `mlops models` and `mlops history` on registries written with git2 the
//! way GTO writes them, and the interop test with the real `gto` (run when
//! `MLOPS_GTO` names a gto executable; `.ci/run` installs one).

use std::process::Command;

use crate::common::{GIT_TIME, Test, packaged_project};

/// A repository with two models written as GTO writes tags.
fn gto_style_registry() -> Test {
    let t = Test::new().git_init().file("a.txt", "1");
    let c1 = t.commit_all("one", GIT_TIME);
    t.write("a.txt", "2");
    let c2 = t.commit_all("two", GIT_TIME + 1);
    let reg = |v: &str| format!("Registering artifact churn version {v}");
    t.tag("churn@v1.0.0", c1, GIT_TIME + 10, &reg("v1.0.0"));
    t.tag(
        "churn#prod#1",
        c1,
        GIT_TIME + 11,
        "Assigning stage prod to artifact churn version v1.0.0",
    );
    t.tag("churn@v1.1.0", c2, GIT_TIME + 12, &reg("v1.1.0"));
    t.tag(
        "churn#prod#2",
        c2,
        GIT_TIME + 13,
        "Assigning stage prod to artifact churn version v1.1.0",
    );
    t.tag(
        "churn#staging#3",
        c2,
        GIT_TIME + 13,
        "Assigning stage staging to artifact churn version v1.1.0",
    );
    t.tag(
        "churn#prod!#4",
        c2,
        GIT_TIME + 14,
        "Unassigning stage 'prod' to artifact 'churn' version 'v1.1.0'",
    );
    t.tag(
        "models=nn@v0.0.1",
        c2,
        GIT_TIME + 15,
        "Registering artifact models=nn version v0.0.1",
    );
    t.tag(
        "models=nn@deprecated#1",
        c2,
        GIT_TIME + 16,
        "Deprecating artifact 'models=nn'",
    );
    // Not registry events: a release tag, a lightweight registry-looking tag.
    t.tag("v1.0.0", c1, GIT_TIME + 17, "release");
    let repo = t.repo();
    repo.tag_lightweight("churn@v9.0.0", &repo.find_object(c1, None).unwrap(), false)
        .unwrap();
    t
}

#[test]
fn models_resolve_latest_stages_and_deprecation() {
    let t = gto_style_registry().args(["--json", "models"]);
    let doc = t.run().success().json();
    let models = doc["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    let churn = &models[0];
    assert_eq!(churn["name"], "churn");
    assert_eq!(churn["latest"], "v1.1.0");
    // prod was unassigned from v1.1.0: the older holder comes back.
    assert_eq!(churn["stages"]["prod"], "v1.0.0");
    assert_eq!(churn["stages"]["staging"], "v1.1.0");
    assert_eq!(churn["deprecated"], false);
    assert_eq!(churn["versions"][0]["version"], "v1.0.0");
    assert_eq!(churn["versions"][0]["created_at"], "2023-11-14T22:13:30Z");
    assert_eq!(
        churn["versions"][0]["author"],
        "Test User <test@example.com>"
    );
    assert_eq!(models[1]["name"], "models=nn");
    assert_eq!(models[1]["deprecated"], true);
    t.run_args(["models"])
        .success()
        .stdout_eq("name       latest        stages\nchurn      v1.1.0        prod=v1.0.0 staging=v1.1.0\nmodels=nn  v0.0.1        -  (deprecated)\n");
}

#[test]
fn history_lists_events_in_order() {
    let t = gto_style_registry().args(["--json", "history"]);
    let doc = t.run().success().json();
    let ev: Vec<(String, String)> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_string(),
                e["tag"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("register", "churn@v1.0.0"),
        ("assign", "churn#prod#1"),
        ("register", "churn@v1.1.0"),
        ("assign", "churn#prod#2"),
        ("assign", "churn#staging#3"),
        ("unassign", "churn#prod!#4"),
        ("register", "models=nn@v0.0.1"),
        ("deprecate", "models=nn@deprecated#1"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
        .collect();
    assert_eq!(ev, expected);
    let e = &doc["events"][3];
    assert_eq!(e["version"], "v1.1.0");
    assert_eq!(e["stage"], "prod");
    assert_eq!(
        e["message"],
        "Assigning stage prod to artifact churn version v1.1.0"
    );
    let one = t
        .run_args(["--json", "history", "models=nn"])
        .success()
        .json();
    assert_eq!(one["events"].as_array().unwrap().len(), 2);
    t.run_args(["history", "churn"])
        .success()
        .stdout_contains("2023-11-14T22:13:34Z  unassign    churn  v1.1.0 prod  ");
    t.run_args(["history", "nobody"])
        .success()
        .stdout_eq("No registry events for nobody.\n");
}

#[test]
fn outside_a_repository_is_a_registry_error() {
    let t = Test::new().git_env().args(["models"]);
    let out = t.run();
    out.code(4)
        .stderr_contains("is not inside a git repository");
    Test::new()
        .git_init()
        .args(["models"])
        .run()
        .success()
        .stdout_eq("No models registered yet; run `mlops package` to register one.\n");
}

/// The `gto` executable named by `MLOPS_GTO`, or `None` (the test is skipped).
pub fn gto() -> Option<String> {
    match std::env::var("MLOPS_GTO") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            eprintln!("note: MLOPS_GTO is not set; skipping the interop test with the real gto");
            None
        }
    }
}

pub fn run_gto(gto: &str, t: &Test, args: &[&str]) -> String {
    let out = Command::new(gto)
        .args(args)
        .current_dir(t.root())
        .env("HOME", t.path(".home"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test User")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test User")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gto {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn gto_reads_what_mlops_wrote_and_mlops_reads_what_gto_wrote() {
    let Some(gto) = gto() else { return };
    // mlops writes two versions; gto assigns a stage and reads everything.
    let (t, _) = packaged_project();
    t.run_args(["package", "--version", "v1.0.0"]).success();
    t.write("models/notes.txt", "2");
    t.commit_all("two", GIT_TIME + 10);
    t.run_args(["package", "--bump", "minor"]).success();
    let show: serde_json::Value =
        serde_json::from_str(&run_gto(&gto, &t, &["show", "--json"])).unwrap();
    let hp = &show["house-price"];
    assert_eq!(hp["version"], "v1.1.0", "{show:#}");
    run_gto(
        &gto,
        &t,
        &[
            "assign",
            "house-price",
            "--version",
            "v1.0.0",
            "--stage",
            "prod",
        ],
    );
    let out = run_gto(&gto, &t, &["history", "house-price", "--plain"]);
    assert!(
        out.contains("house-price@v1.0.0") && out.contains("house-price#prod#1"),
        "{out}"
    );
    let doc = t.run_args(["--json", "models"]).success().json();
    assert_eq!(doc["models"][0]["latest"], "v1.1.0");
    assert_eq!(doc["models"][0]["stages"]["prod"], "v1.0.0");

    // gto registers and assigns; mlops reads it, then packages after it
    // with the next counter-free version and a later tagger time.
    let g = Test::new().git_init().file("model.pkl", "x");
    g.commit_all("one", GIT_TIME);
    // gto's register and deregister tags carry no counter, so events in the
    // same second would tie (docs/registry.md): keep them a second apart.
    let tick = || std::thread::sleep(std::time::Duration::from_millis(1100));
    run_gto(&gto, &g, &["register", "churn"]);
    tick();
    run_gto(
        &gto,
        &g,
        &[
            "assign",
            "churn",
            "--stage",
            "staging",
            "--version",
            "v0.0.1",
        ],
    );
    g.write("model.pkl", "y");
    g.commit_all("two", GIT_TIME + 1);
    tick();
    run_gto(&gto, &g, &["register", "churn", "--bump-minor"]);
    tick();
    run_gto(
        &gto,
        &g,
        &["assign", "churn", "--stage", "prod", "--version", "v0.1.0"],
    );
    tick();
    run_gto(&gto, &g, &["deprecate", "churn", "v0.0.1"]);
    let doc = g.run_args(["--json", "models"]).success().json();
    let m = &doc["models"][0];
    assert_eq!(m["name"], "churn");
    assert_eq!(m["latest"], "v0.1.0", "{doc:#}");
    assert_eq!(m["stages"]["prod"], "v0.1.0");
    assert_eq!(m["stages"].get("staging"), None, "v0.0.1 was deregistered");
    let h = g.run_args(["--json", "history", "churn"]).success().json();
    let kinds: Vec<&str> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["register", "assign", "register", "assign", "deregister"]
    );
}

#[test]
fn names_with_slashes_and_folders_are_read_with_packed_or_loose_refs() {
    let t = Test::new().git_init().file("a.txt", "1");
    let c = t.commit_all("one", GIT_TIME);
    t.tag(
        "team/churn@v1.0.0",
        c,
        GIT_TIME + 1,
        "Registering artifact team/churn version v1.0.0",
    );
    t.tag(
        "dir/x=nn@v0.1.0",
        c,
        GIT_TIME + 2,
        "Registering artifact dir/x=nn version v0.1.0",
    );
    let names = |t: &Test| -> Vec<String> {
        let doc = t.run_args(["--json", "models"]).success().json();
        doc["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                format!(
                    "{}={}",
                    m["name"].as_str().unwrap(),
                    m["latest"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(names(&t), ["dir/x=nn=v0.1.0", "team/churn=v1.0.0"]);
    // Packed refs, as after `git gc`: rewrite the refs into packed-refs.
    let repo = t.repo();
    let mut packed = String::from("# pack-refs with: peeled fully-peeled sorted \n");
    let mut refs: Vec<(String, git2::Oid)> = repo
        .references_glob("refs/tags/*")
        .unwrap()
        .map(|r| {
            let r = r.unwrap();
            (r.name().unwrap().to_string(), r.target().unwrap())
        })
        .collect();
    refs.sort();
    for (name, oid) in &refs {
        packed.push_str(&format!("{oid} {name}\n"));
    }
    std::fs::write(t.path(".git/packed-refs"), packed).unwrap();
    std::fs::remove_dir_all(t.path(".git/refs/tags")).unwrap();
    std::fs::create_dir_all(t.path(".git/refs/tags")).unwrap();
    assert_eq!(names(&t), ["dir/x=nn=v0.1.0", "team/churn=v1.0.0"]);
}

#[test]
fn events_written_by_the_library_follow_gtos_rules() {
    use mlops::registry::repo::write_event;
    use mlops::registry::tag::{Action, Semver};
    let (t, _) = packaged_project();
    t.run_args(["package"]).success();
    t.write("models/notes.txt", "2");
    t.commit_all("two", GIT_TIME + 10);
    t.run_args(["package", "--bump", "minor"]).success();
    let repo = t.repo();
    let prod = || Action::Assign("prod".into());
    let w = write_event(&repo, "house-price", &prod(), Some("v0.0.1")).unwrap();
    assert_eq!(w.tag, "house-price#prod#1");
    let w = write_event(&repo, "house-price", &prod(), Some("v0.1.0")).unwrap();
    assert_eq!(w.tag, "house-price#prod#2");
    let un = Action::Unassign("prod".into());
    let w = write_event(&repo, "house-price", &un, Some("v0.1.0")).unwrap();
    assert_eq!(w.tag, "house-price#prod!#3");
    let e = write_event(&repo, "house-price", &un, Some("v0.1.0")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "house-price@v0.1.0 is not in stage prod; nothing to unassign"
    );
    let e = write_event(&repo, "house-price", &prod(), Some("v9.0.0")).unwrap_err();
    assert_eq!(e.exit_code(), 4);
    let dereg = Action::Deregister(Semver::parse_v("v0.1.0").unwrap());
    let w = write_event(&repo, "house-price", &dereg, None).unwrap();
    assert_eq!(w.tag, "house-price@v0.1.0!#4");
    let e = write_event(&repo, "house-price", &prod(), Some("v0.1.0")).unwrap_err();
    assert!(e.to_string().contains("was deregistered"), "{e}");
    let doc = t.run_args(["--json", "models"]).success().json();
    let m = &doc["models"][0];
    assert_eq!(m["latest"], "v0.0.1");
    assert_eq!(m["stages"]["prod"], "v0.0.1");
    let w = write_event(&repo, "house-price", &Action::Deprecate, None).unwrap();
    assert_eq!(w.tag, "house-price@deprecated#5");
    let doc = t.run_args(["--json", "models"]).success().json();
    assert_eq!(doc["models"][0]["deprecated"], true);
    let h = t.run_args(["--json", "history"]).success().json();
    let kinds: Vec<&str> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "register",
            "register",
            "assign",
            "assign",
            "unassign",
            "deregister",
            "deprecate"
        ]
    );
    // The real gto agrees (when available).
    if let Some(gto) = gto() {
        let show = run_gto(&gto, &t, &["show", "--json", "--deprecated"]);
        let show: serde_json::Value = serde_json::from_str(&show).unwrap();
        assert_eq!(show["house-price"]["version"], "v0.0.1", "{show:#}");
        assert_eq!(show["house-price"]["stage"]["prod"], "v0.0.1", "{show:#}");
        assert_eq!(show["house-price"]["active"], false, "deprecated: {show:#}");
    }
}
