//! SIGKILL at random points: `train` (in memory and `--streaming`),
//! `package`, `deploy` and `rollback` to a local folder, to a real
//! `mlops serve` (http) and to Kubernetes manifests (apply = false), and
//! `mlops serve` itself during an admin upload and during prediction-log
//! rotation.
//!
//! Each scenario first runs its command once to the end to time it, then,
//! per round, starts the real binary again and kills it (SIGKILL) after a
//! delay drawn uniformly over 0..110 % of that time, from a seeded RNG
//! (`MLOPS_SIGKILL_SEED`; the seed is printed, so a failing round can be
//! replayed). After each kill: every file that exists parses (JSON, YAML,
//! bundles, releases against their manifest, prediction-log lines), links
//! lead to complete releases, every registry tag names a commit and version
//! that exist with the bundle sha256 it records; then temporary files are
//! aged by two hours, the same command runs again and must succeed, the
//! aged temporary files must be gone, and the registry must name what the
//! environment serves. `MLOPS_SIGKILL_ROUNDS` sets the kills per scenario.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::common::{GIT_TIME, Test, example_toml, sha256_hex};
use crate::deploy::project;
use crate::deploy::real_server::{server_models, slot};
use crate::serve::{Server, row};

/// As in `deploy.rs`, whose `project` sets it.
const TOKEN_VAR: &str = "MLOPS_TEST_ADMIN_TOKEN";
const TOKEN: &str = "s3cret-t0ken-0123456789abcdef0123";

/// Kills per scenario (`MLOPS_SIGKILL_ROUNDS`, default 10). Measured on
/// 2026-12-03 with `MLOPS_SIGKILL_ROUNDS=50` (debug build, one test at a
/// time, two cores shared with other builds, load average 11.5): train
/// (both paths) 43 s, package 54 s, local deploy + rollback 126 s,
/// Kubernetes manifests 116 s, real server 107 s, serve during uploads
/// 17 s, during log rotation 18 s: 481 s in all, about 9.6 s per round of
/// every scenario. Ten rounds (about 100 s there, less on an idle CI
/// runner) keep the file within CI's budget; run 50 by hand for the
/// issue's scale.
fn rounds() -> usize {
    std::env::var("MLOPS_SIGKILL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

/// SplitMix64: small, seeded, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn new(scenario: &str) -> Rng {
        let seed = std::env::var("MLOPS_SIGKILL_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("sigkill {scenario}: MLOPS_SIGKILL_SEED={seed}");
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A delay over 0..110 % of `full`.
    fn delay(&mut self, full: Duration) -> Duration {
        let f = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        full.mul_f64(1.1 * f)
    }
}

/// Run `cmd` to the end; its duration. Panics unless it succeeds.
#[track_caller]
fn timed(mut cmd: Command) -> Duration {
    let start = Instant::now();
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    start.elapsed()
}

/// Start `cmd`, SIGKILL it after `after` (if it is still running).
fn kill_after(mut cmd: Command, after: Duration) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + after;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(2).min(deadline - Instant::now()));
    }
    let _ = child.kill(); // SIGKILL on unix
    let _ = child.wait();
}

/// Every file under `root` (not `.git`, not the fake home), with symlinks.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if name == ".git" || name == ".home" {
                continue;
            }
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}

fn is_temp(p: &Path) -> bool {
    let n = p.file_name().unwrap().to_string_lossy();
    n.starts_with(".mlops-tmp-")
        || n.starts_with(".tmp-")
        || n.starts_with(".broken-")
        || n.ends_with(".tmp")
}

/// The checks after a kill: whatever exists is whole.
#[track_caller]
fn check_whole(root: &Path) {
    for p in walk(root) {
        if p.ancestors()
            .any(|a| a != root && a.starts_with(root) && is_temp(a))
        {
            continue; // inside or is a temporary file: nobody reads it
        }
        let meta = std::fs::symlink_metadata(&p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let shown = p.strip_prefix(root).unwrap().display().to_string();
        if meta.file_type().is_symlink() {
            let dir = p.parent().unwrap().join(std::fs::read_link(&p).unwrap());
            assert!(
                dir.join("manifest.json").is_file(),
                "the link {shown} leads to no complete release"
            );
            continue;
        }
        if meta.is_dir() {
            if p.parent()
                .unwrap()
                .file_name()
                .is_some_and(|n| n == "releases")
            {
                check_release(&p, &shown);
            }
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        if name.ends_with(".json") {
            serde_json::from_slice::<Value>(&bytes)
                .unwrap_or_else(|e| panic!("{shown} is not whole JSON after a kill: {e}"));
        } else if name.ends_with(".jsonl") || name.contains(".jsonl.") {
            for (i, line) in String::from_utf8(bytes).unwrap().lines().enumerate() {
                serde_json::from_str::<Value>(line).unwrap_or_else(|e| {
                    panic!("{shown}:{}: not a whole JSON line after a kill: {e}", i + 1)
                });
            }
        } else if name.ends_with(".yaml") {
            let text = String::from_utf8(bytes).unwrap();
            let docs = yaml_rust2::YamlLoader::load_from_str(&text)
                .unwrap_or_else(|e| panic!("{shown} is not whole YAML after a kill: {e}"));
            assert!(!docs.is_empty(), "{shown} is empty after a kill");
        } else if name.ends_with(".tar.gz") {
            mlops::bundle::read(&bytes, &shown)
                .unwrap_or_else(|e| panic!("{shown} is not a whole bundle after a kill: {e}"));
            if p.parent()
                .unwrap()
                .file_name()
                .is_some_and(|n| n == "bundles")
            {
                assert_eq!(format!("{}.tar.gz", sha256_hex(&bytes)), name, "{shown}");
            }
        }
    }
}

/// A release folder holds every file its manifest lists, with its sha256.
#[track_caller]
fn check_release(dir: &Path, shown: &str) {
    let m: Value = serde_json::from_slice(
        &std::fs::read(dir.join("manifest.json"))
            .unwrap_or_else(|e| panic!("{shown} has no manifest.json after a kill: {e}")),
    )
    .unwrap();
    for (file, sha) in m["files"].as_object().unwrap() {
        let bytes = std::fs::read(dir.join(file))
            .unwrap_or_else(|e| panic!("{shown}/{file} is missing after a kill: {e}"));
        assert_eq!(
            Some(sha256_hex(&bytes).as_str()),
            sha.as_str(),
            "{shown}/{file}"
        );
    }
}

/// Every registry tag names a commit that exists; a version tag's bundle,
/// when in `dist/`, has the sha256 the tag records; a stage tag names a
/// registered version.
#[track_caller]
fn check_tags(t: &Test) {
    if !t.exists(".git") {
        return; // `train` needs no repository
    }
    let repo = t.repo();
    let records = mlops::registry::repo::read_tags(&repo, None).unwrap();
    let names: Vec<&str> = records.iter().map(|r| r.name.as_str()).collect();
    for r in &records {
        let oid = git2::Oid::from_str(&r.commit).unwrap();
        assert!(repo.find_commit(oid).is_ok(), "{} names no commit", r.name);
        if let Some((model, version)) = r.name.split_once('@') {
            let json = &r.message[r.message.find('{').unwrap()..];
            let meta: Value = serde_json::from_str(json).unwrap();
            let want = meta["mlops"]["bundle_sha256"].as_str().unwrap();
            let dist = t.path(format!("dist/{model}-{version}.tar.gz"));
            let got = sha256_hex(&std::fs::read(&dist).unwrap_or_else(|e| {
                panic!(
                    "{} exists but its bundle {} does not: {e}",
                    r.name,
                    dist.display()
                )
            }));
            assert_eq!(got, want, "{}: the bundle's sha256", r.name);
        } else if let Some(v) = r
            .message
            .lines()
            .next()
            .filter(|l| l.starts_with("Assigning"))
            .and_then(|l| l.rsplit(" version ").next())
        {
            assert!(
                names.contains(&format!("house-price@{v}").as_str()),
                "{} names {v}, which is not registered",
                r.name
            );
        }
    }
}

/// A ref lock file libgit2 left (a kill inside a tag write) would refuse
/// the next tag of that name: the next run must have cleared it.
fn check_no_ref_locks(t: &Test) {
    let locks: Vec<PathBuf> = walk_git(&t.root().join(".git").join("refs"));
    assert!(
        locks.is_empty(),
        "git lock files left after the next run: {locks:?}"
    );
}

fn walk_git(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_git(&p));
        } else if p.extension().is_some_and(|x| x == "lock") {
            out.push(p);
        }
    }
    out
}

/// Age every temporary file and folder by two hours; the list.
fn age_temps(root: &Path) -> Vec<PathBuf> {
    let old = SystemTime::now() - Duration::from_secs(7200);
    let temps: Vec<PathBuf> = walk(root).into_iter().filter(|p| is_temp(p)).collect();
    for p in &temps {
        if let Ok(f) = std::fs::File::open(p) {
            let _ = f.set_modified(old);
        }
    }
    temps
}

#[track_caller]
fn assert_gone(temps: &[PathBuf]) {
    let left: Vec<&PathBuf> = temps
        .iter()
        .filter(|p| std::fs::symlink_metadata(p).is_ok())
        .collect();
    assert!(
        left.is_empty(),
        "temporary files older than an hour stayed after the next run: {left:?}"
    );
}

/// The kill loop of a command that the project's folder holds all the
/// state of: per round `prepare` (a fresh commit, a version to deploy)
/// gives the arguments, the command is killed, the folder checked, and the
/// same command run again to the end; `agree` checks the outcome.
fn kill_rounds(
    scenario: &str,
    t: &Test,
    mut args: impl FnMut(usize) -> Vec<String>,
    agree: &impl Fn(&Test),
) {
    let mut rng = Rng::new(scenario);
    let full = timed(t.command_args(args(0)));
    agree(t);
    for round in 1..=rounds() {
        let a = args(round);
        kill_after(t.command_args(&a), rng.delay(full));
        check_whole(&t.root());
        check_tags(t);
        let temps = age_temps(&t.root());
        let mut out = t.run_args(a.clone());
        if !out.status.success() && out.stderr.contains("but the registry says") {
            // Killed between the switch and its tag: the next deploy says
            // the two disagree and changes nothing (M9); --force goes on.
            assert_eq!(out.status.code(), Some(4), "{}", out.stderr);
            assert!(out.stderr.contains("--force"), "{}", out.stderr);
            out = t.run_args(a.iter().cloned().chain(["--force".to_string()]));
        }
        if !out.status.success() && out.stderr.contains("already carries version") {
            // `package` killed after its tag was written (or done before
            // the kill): the commit is registered, and a commit holds one
            // version for ever, so the same command is refused (exit 4)
            // and there is nothing left to finish; `agree` checks that
            // HEAD is registered; the next round's write into dist/ removes
            // any aged temporary file. (Seen once in 50 rounds.)
            assert_eq!(out.status.code(), Some(4), "{}", out.stderr);
            agree(t);
            continue;
        }
        assert!(
            out.status.success(),
            "{scenario} round {round}: `mlops {}` after a kill failed:\n{}",
            a.join(" "),
            out.stderr
        );
        assert_gone(&temps);
        check_whole(&t.root());
        check_tags(t);
        check_no_ref_locks(t);
        agree(t);
    }
}

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_string()).collect()
}

#[test]
fn train_in_memory_and_streaming() {
    let t = Test::new().toml(&example_toml());
    let artifact_parses = |t: &Test| {
        mlops::model::Artifact::from_slice(&t.read_bytes("models/house-price.json"), "artifact")
            .unwrap();
    };
    kill_rounds("train", &t, |_| strings(&["-q", "train"]), &artifact_parses);
    kill_rounds(
        "train --streaming",
        &t,
        |_| strings(&["-q", "train", "--streaming"]),
        &artifact_parses,
    );
}

#[test]
fn package() {
    let t = Test::new()
        .toml(&example_toml())
        .git_init()
        .env("SOURCE_DATE_EPOCH", GIT_TIME.to_string());
    t.run_args(["-q", "train"]).success();
    // Each round packages a new commit (a commit is registered once).
    kill_rounds(
        "package",
        &t,
        |round| {
            t.write("models/notes.txt", format!("round {round}"));
            t.commit_all(&format!("round {round}"), GIT_TIME + round as i64);
            strings(&["-q", "package", "--bump", "patch"])
        },
        &|t: &Test| {
            let head = t.repo().head().unwrap().peel_to_commit().unwrap().id();
            let tags = mlops::registry::repo::read_tags(&t.repo(), None).unwrap();
            assert!(
                tags.iter().any(|r| r.commit == head.to_string()),
                "HEAD is not registered"
            );
        },
    );
}

/// The registry's version in `stage`.
fn stage(t: &Test, stage: &str) -> Option<String> {
    let doc = t.run_args(["--json", "models"]).success().json();
    doc["models"][0]["stages"][stage]
        .as_str()
        .map(str::to_string)
}

fn live_local(t: &Test) -> Option<String> {
    let p = t.path("env/staging/current/manifest.json");
    let v: Value = serde_json::from_slice(&std::fs::read(p).ok()?).ok()?;
    v["version"].as_str().map(str::to_string)
}

/// Kill `deploy ENV --version` (alternating v1.0.0 and v1.1.0), then
/// `rollback ENV`; `agree` compares the registry with the environment.
fn deploy_then_rollback(kind: &str, t: &Test, env: &str, agree: impl Fn(&Test)) {
    kill_rounds(
        &format!("deploy {kind}"),
        t,
        |round| {
            let v = if round % 2 == 0 { "v1.0.0" } else { "v1.1.0" };
            strings(&["-q", "deploy", env, "--version", v])
        },
        &agree,
    );
    kill_rounds(
        &format!("rollback {kind}"),
        t,
        |_| strings(&["-q", "rollback", env]),
        &agree,
    );
}

const LOCAL: &str =
    "[environments.staging]\ntarget = \"local\"\npath = \"env/staging\"\nkeep = 2\n";

#[test]
fn deploy_and_rollback_to_a_local_folder() {
    let t = project(LOCAL);
    let agree = |t: &Test| assert_eq!(stage(t, "staging"), live_local(t), "registry and folder");
    deploy_then_rollback("local", &t, "staging", agree);
}

const K8S: &str = "[environments.k8s]\ntarget = \"kubernetes\"\npath = \"deploy/k8s\"\n";

#[test]
fn deploy_and_rollback_to_kubernetes_manifests() {
    let t = project(K8S);
    let agree = |t: &Test| {
        let live = stage(t, "k8s").unwrap();
        let all: String = walk(&t.path("deploy/k8s"))
            .iter()
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        assert!(all.contains(&live), "the manifests do not name {live}");
    };
    deploy_then_rollback("kubernetes", &t, "k8s", agree);
}

/// `mlops serve` with an admin token and (optionally) a state folder.
fn admin_server(state: &Test, extra: &str) -> Server {
    state.write(
        "mlops.toml",
        format!("[serve]\nadmin_token_env = \"{TOKEN_VAR}\"\n{extra}"),
    );
    Server::start_with(state, &[], &[(TOKEN_VAR, TOKEN)])
}

fn served_champion(s: &Server) -> Option<String> {
    slot(&server_models(s), "champion")
}

#[test]
fn deploy_and_rollback_to_a_real_server() {
    let dir = Test::new();
    let s = admin_server(&dir, "");
    let t = project(&format!(
        "[environments.prod]\ntarget = \"http\"\nurl = \"{}\"\ntoken_env = \"{TOKEN_VAR}\"\nsmoke_rows = 4\nhealth = {{ timeout_s = 5, retries = 2 }}\n",
        s.url
    ));
    let agree = |t: &Test| assert_eq!(stage(t, "prod"), served_champion(&s), "registry and server");
    deploy_then_rollback("http", &t, "prod", agree);
}

/// `PUT /admin/models/house-price?slot=champion` with `bundle`.
fn upload(url: &str, bundle: &[u8]) -> reqwest::Result<reqwest::blocking::Response> {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .put(format!("{url}/admin/models/house-price?slot=champion"))
        .bearer_auth(TOKEN)
        .body(bundle.to_vec())
        .send()
}

/// The server is killed while bundles are uploaded: restarted on the same
/// state folder it starts, holds whole files only, serves a champion it was
/// given, and takes the next upload.
#[test]
fn serve_killed_during_admin_uploads() {
    let t = project("");
    let bundles = [
        t.read_bytes("dist/house-price-v1.0.0.tar.gz"),
        t.read_bytes("dist/house-price-v1.1.0.tar.gz"),
    ];
    let dir = Test::new();
    let extra = "state_dir = \"state\"\n";
    let mut rng = Rng::new("serve upload");
    let start = Instant::now();
    let s = admin_server(&dir, extra);
    assert_eq!(upload(&s.url, &bundles[0]).unwrap().status(), 200);
    let full = start.elapsed();
    drop(s);
    for round in 1..=rounds() {
        let s = admin_server(&dir, extra);
        let url = s.url.clone();
        let body = bundles[round % 2].clone();
        let sender = std::thread::spawn(move || {
            let _ = upload(&url, &body);
        });
        std::thread::sleep(rng.delay(full));
        drop(s); // SIGKILL
        let _ = sender.join();
        check_whole(&dir.root());
        let temps = age_temps(&dir.root());
        let s = admin_server(&dir, extra);
        let before = served_champion(&s);
        assert!(
            before.is_none() || before.as_deref().is_some_and(|v| v.starts_with("v1.")),
            "{before:?}"
        );
        let r = upload(&s.url, &bundles[(round + 1) % 2]).unwrap();
        assert_eq!(r.status(), 200, "round {round}: {}", r.text().unwrap());
        assert_gone(&temps);
        check_whole(&dir.root());
    }
}

/// The server is killed while predictions rotate its log: every line of
/// every log file is whole JSON, and the restarted server logs again.
#[test]
fn serve_killed_during_log_rotation() {
    let t = project("");
    let dir = Test::new();
    std::fs::copy(t.path("models/house-price.json"), dir.path("model.json")).unwrap();
    dir.write(
        "mlops.toml",
        "[serve]\nprediction_log = \"logs/p.jsonl\"\nlog_max_bytes = 2000\nlog_keep = 3\n",
    );
    let start_server = || Server::start_with(&dir, &["--model", "model.json"], &[]);
    let predict = |s: &Server, stop: Arc<AtomicBool>, sent: Arc<Mutex<u64>>| {
        let url = s.u("/predict");
        std::thread::spawn(move || {
            let c = reqwest::blocking::Client::new();
            let body = serde_json::json!({ "features": row() }).to_string();
            while !stop.load(Ordering::Relaxed) {
                let ok = c
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .is_ok_and(|r| r.status() == 200);
                if !ok {
                    break;
                }
                *sent.lock().unwrap() += 1;
            }
        })
    };
    let mut rng = Rng::new("serve log rotation");
    // Long enough for several rotations (one every ~10 lines).
    let full = Duration::from_millis(400);
    for round in 1..=rounds() {
        let s = start_server();
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(Mutex::new(0));
        let h = predict(&s, Arc::clone(&stop), Arc::clone(&sent));
        std::thread::sleep(rng.delay(full));
        drop(s); // SIGKILL
        stop.store(true, Ordering::Relaxed);
        let _ = h.join();
        check_whole(&dir.root());
        let s = start_server();
        let r = s.post_json("/predict", &serde_json::json!({ "features": row() }));
        assert_eq!(r.status(), 200, "round {round}");
        drop(s);
    }
    assert!(dir.path("logs/p.jsonl.1").exists(), "the log never rotated");
}
