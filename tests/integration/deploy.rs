//! `mlops deploy` and `mlops rollback` against real temporary git repos and
//! real folders (local, kubernetes), and a small fake admin server on
//! 127.0.0.1:0 that implements `SERVE_DEPLOY_CONTRACT.md` (http) and can be
//! told to misbehave: wrong predictions, dying after an upload.
//!
//! After every injected failure the tests check that the environment and
//! the registry still agree.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{GIT_TIME, Test, example_toml};

#[cfg(unix)] // the real `mlops serve`, stopped with signals
pub(crate) mod real_server;

#[cfg(unix)] // real servers and a deploying process, stopped with signals
mod multi;

const TOKEN_VAR: &str = "MLOPS_TEST_ADMIN_TOKEN";
const TOKEN: &str = "s3cret-t0ken-0123456789abcdef0123";

/// The example project with `envs` appended, trained, committed and
/// registered twice (v1.0.0, then v1.1.0 on a second commit).
pub fn project(envs: &str) -> Test {
    let t = Test::new()
        .toml(&format!("{}\n{envs}", example_toml()))
        .git_init()
        .env("SOURCE_DATE_EPOCH", GIT_TIME.to_string())
        .env(TOKEN_VAR, TOKEN)
        .args(["-q", "train"]);
    t.run().success();
    t.commit_all("model", GIT_TIME);
    t.run_args(["-q", "package", "--version", "v1.0.0"])
        .success();
    t.write("models/notes.txt", "second version");
    t.commit_all("two", GIT_TIME + 10);
    t.run_args(["-q", "package", "--version", "v1.1.0"])
        .success();
    t
}

pub const LOCAL: &str =
    "[environments.staging]\ntarget = \"local\"\npath = \"env/staging\"\nkeep = 1\n";

/// The version `PATH/slot/manifest.json` names.
fn slot_version(t: &Test, slot: &str) -> Option<String> {
    let p = t.path(format!("env/staging/{slot}/manifest.json"));
    let v: Value = serde_json::from_slice(&std::fs::read(p).ok()?).ok()?;
    v["version"].as_str().map(str::to_string)
}

/// `env/staging/current` links to `releases/VERSION`, whose manifest names
/// it and whose artifact is `artifact`.
#[track_caller]
fn assert_live(t: &Test, version: &str, artifact: &[u8]) {
    assert_eq!(
        std::fs::read_link(t.path("env/staging/current")).unwrap(),
        std::path::Path::new("releases").join(version)
    );
    assert_eq!(slot_version(t, "current").as_deref(), Some(version));
    assert_eq!(
        t.read_bytes("env/staging/current/models/house-price.json"),
        artifact
    );
}

/// The registry's version of `stage`.
fn stage(t: &Test, stage: &str) -> Option<String> {
    let doc = t.run_args(["--json", "models"]).success().json();
    doc["models"][0]["stages"][stage]
        .as_str()
        .map(str::to_string)
}

/// The annotated message of a tag.
fn tag_message(t: &Test, name: &str) -> String {
    let repo = t.repo();
    let r = repo.find_reference(&format!("refs/tags/{name}")).unwrap();
    let tag = repo.find_tag(r.target().unwrap()).unwrap();
    tag.message().unwrap().unwrap().to_string()
}

/// The `mlops` object of a tag's message.
fn tag_meta(t: &Test, name: &str) -> Value {
    let msg = tag_message(t, name);
    let (_, rest) = msg.split_once("\n\n").unwrap();
    serde_json::from_str::<Value>(rest.trim()).unwrap()["mlops"].clone()
}

fn stage_tags(t: &Test, stage: &str) -> Vec<String> {
    t.tags()
        .into_iter()
        .filter(|n| n.starts_with(&format!("house-price#{stage}#")))
        .collect()
}

#[test]
fn local_deploy_redeploy_and_rollback() {
    let t = project(LOCAL);
    let doc = t
        .run_args(["--json", "deploy", "staging", "--version", "v1.0.0"])
        .success()
        .json();
    assert_eq!(doc["version"], "v1.0.0");
    assert_eq!(doc["previous"], Value::Null);
    assert_eq!(doc["strategy"], "replace");
    assert_eq!(doc["bundle"]["source"], "dist");
    let tag = doc["tag"].as_str().unwrap().to_string();
    assert_eq!(tag, "house-price#staging#1");
    assert_live(&t, "v1.0.0", &t.read_bytes("models/house-price.json"));
    let msg = tag_message(&t, &tag);
    assert!(
        msg.starts_with("Assigning stage staging to artifact house-price version v1.0.0\n\n"),
        "{msg}"
    );
    let meta = tag_meta(&t, &tag);
    assert_eq!(meta["target"], "local");
    assert_eq!(meta["strategy"], "replace");
    assert_eq!(meta["canary_percent"], Value::Null);
    assert_eq!(meta["previous"], Value::Null);
    assert_eq!(meta["location"], "env/staging");
    assert_eq!(meta["bundle_sha256"], doc["bundle"]["sha256"]);
    assert_eq!(stage(&t, "staging").as_deref(), Some("v1.0.0"));

    // The same version again: nothing to do, no new tag.
    t.run_args(["deploy", "staging", "--version", "v1.0.0"])
        .success()
        .stdout_contains("is already live in staging");
    assert_eq!(stage_tags(&t, "staging").len(), 1);

    // The latest by default; keep = 1 prunes the old release.
    t.run_args(["deploy", "staging", "--yes"])
        .success()
        .stdout_contains("Deployed house-price v1.1.0 in staging");
    assert_eq!(slot_version(&t, "current").as_deref(), Some("v1.1.0"));
    assert!(!t.exists("env/staging/releases/v1.0.0"));
    assert_eq!(tag_meta(&t, "house-price#staging#2")["previous"], "v1.0.0");

    // Rollback: the version before, recorded with a `rollback:` message.
    let doc = t
        .run_args(["--json", "rollback", "staging"])
        .success()
        .json();
    assert_eq!(doc["command"], "rollback");
    assert_eq!(doc["version"], "v1.0.0");
    assert_eq!(doc["previous"], "v1.1.0");
    assert_eq!(slot_version(&t, "current").as_deref(), Some("v1.0.0"));
    let msg = tag_message(&t, "house-price#staging#3");
    assert!(
        msg.starts_with("rollback: Assigning stage staging to artifact house-price version v1.0.0"),
        "{msg}"
    );
    assert_eq!(
        tag_meta(&t, "house-price#staging#3")["strategy"],
        "rollback"
    );
    assert_eq!(stage(&t, "staging").as_deref(), Some("v1.0.0"));
    // The lock file is released (empty) and no temporary folder is left.
    assert_eq!(t.read("env/staging/.lock"), "");
    let names: Vec<String> = std::fs::read_dir(t.path("env/staging/releases"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["v1.0.0"]);
}

#[test]
fn rollback_with_nothing_before_is_exit_4_with_the_history() {
    let t = project(LOCAL);
    let out = t.run_args(["rollback", "staging"]);
    out.code(4)
        .stderr_contains("nothing to roll back to in staging: the stage's history of house-price is no assignment yet");
    t.run_args(["-q", "deploy", "staging", "--version", "v1.0.0"])
        .success();
    let before = t.snapshot();
    t.run_args(["rollback", "staging"])
        .code(4)
        .stderr_contains("is v1.0.0 (house-price#staging#1, ")
        .stderr_contains("deploy another version first, or name one with --to");
    assert_eq!(t.snapshot(), before);
    assert_eq!(stage_tags(&t, "staging").len(), 1);
    // --to names one explicitly.
    t.run_args(["-q", "rollback", "staging", "--to", "v1.1.0"])
        .success();
    assert_eq!(slot_version(&t, "current").as_deref(), Some("v1.1.0"));
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let t = project(LOCAL);
    let before = t.snapshot();
    let tags = t.tags();
    t.run_args(["deploy", "staging", "--dry-run"])
        .success()
        .stdout_contains("Plan: deploy house-price to staging (local at env/staging)")
        .stdout_contains("  from      nothing\n  to        v1.1.0\n  strategy  replace\n")
        .stdout_contains("Nothing was changed (--dry-run).");
    let doc = t
        .run_args(["--json", "deploy", "staging", "--canary", "10", "--dry-run"])
        .success()
        .json();
    assert_eq!(doc["dry_run"], true);
    assert_eq!(doc["strategy"], "canary");
    assert_eq!(doc["canary_percent"], 10);
    assert_eq!(doc["tag"], Value::Null);
    assert_eq!(t.snapshot(), before);
    assert_eq!(t.tags(), tags);
    assert!(!t.exists("env"));
}

#[test]
fn canary_promote_and_rollback_during_a_canary() {
    let t = project(LOCAL);
    t.run_args(["-q", "deploy", "staging", "--version", "v1.0.0"])
        .success();
    // The bundle is rebuilt from the tagged commit when dist/ lacks it.
    std::fs::remove_file(t.path("dist/house-price-v1.1.0.tar.gz")).unwrap();
    let doc = t
        .run_args(["--json", "deploy", "staging", "--canary", "25"])
        .success()
        .json();
    assert_eq!(doc["bundle"]["source"], "rebuilt");
    assert_eq!(doc["canary_percent"], 25);
    assert_eq!(slot_version(&t, "current").as_deref(), Some("v1.0.0"));
    assert_eq!(slot_version(&t, "challenger").as_deref(), Some("v1.1.0"));
    assert_eq!(
        t.read_json("env/staging/traffic.json"),
        json!({"challenger_percent": 25})
    );
    let meta = tag_meta(&t, doc["tag"].as_str().unwrap());
    assert_eq!(meta["strategy"], "canary");
    assert_eq!(meta["canary_percent"], 25);
    assert_eq!(meta["previous"], "v1.0.0");

    // Rollback during a canary removes the challenger.
    let doc = t
        .run_args(["--json", "rollback", "staging"])
        .success()
        .json();
    assert_eq!(doc["version"], "v1.0.0");
    assert_eq!(doc["previous"], "v1.1.0");
    assert!(!t.exists("env/staging/challenger"));
    assert!(!t.exists("env/staging/traffic.json"));
    assert_eq!(slot_version(&t, "current").as_deref(), Some("v1.0.0"));
    assert_eq!(stage(&t, "staging").as_deref(), Some("v1.0.0"));

    // Promote without a canary is refused; with one it swaps.
    t.run_args(["deploy", "staging", "--promote"])
        .code(4)
        .stderr_contains("staging runs no canary to promote");
    t.run_args(["-q", "deploy", "staging", "--canary", "50"])
        .success();
    let doc = t
        .run_args(["--json", "deploy", "staging", "--promote"])
        .success()
        .json();
    assert_eq!(doc["strategy"], "promote");
    assert_eq!(doc["version"], "v1.1.0");
    assert_eq!(slot_version(&t, "current").as_deref(), Some("v1.1.0"));
    assert!(!t.exists("env/staging/challenger"));
    assert!(!t.exists("env/staging/traffic.json"));
    assert_eq!(stage(&t, "staging").as_deref(), Some("v1.1.0"));
    // Kubernetes environments have no canary.
    let k = project("[environments.k]\ntarget = \"kubernetes\"\npath = \"k\"\n");
    k.run_args(["deploy", "k", "--canary", "5"])
        .code(2)
        .stderr_contains("--canary and --promote apply to local and http environments");
}

#[test]
fn what_must_not_ship_is_refused_with_exit_4() {
    let t = project(LOCAL);
    t.run_args(["deploy", "staging", "--version", "v9.9.9"])
        .code(4)
        .stderr_eq("error: house-price has no version v9.9.9 (active: v1.0.0, v1.1.0); run `mlops models` to see the registry\n");

    // A tampered bundle in dist/: nothing deployed.
    let p = t.path("dist/house-price-v1.1.0.tar.gz");
    let mut b = std::fs::read(&p).unwrap();
    let n = b.len();
    b[n - 20] ^= 0xff;
    std::fs::write(&p, &b).unwrap();
    t.run_args(["deploy", "staging"])
        .code(4)
        .stderr_contains("error: dist/house-price-v1.1.0.tar.gz has sha256 ")
        .stderr_contains("the bundle was altered; nothing was deployed");
    assert!(!t.exists("env/staging/current"));
    assert!(stage_tags(&t, "staging").is_empty());

    // A deregistered version.
    let repo = t.repo();
    let c1 = repo
        .find_reference("refs/tags/house-price@v1.0.0")
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .id();
    // Dated after the registrations (written now), as a real one would be.
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    t.tag(
        "house-price@v1.0.0!#1",
        c1,
        now + 1,
        "Deregistering artifact house-price version v1.0.0\n",
    );
    t.run_args(["deploy", "staging", "--version", "v1.0.0"])
        .code(4)
        .stderr_contains("house-price@v1.0.0 was deregistered and must not ship");
    // A deprecated model.
    t.tag(
        "house-price@deprecated#2",
        c1,
        now + 2,
        "Deprecating artifact 'house-price'\n",
    );
    t.run_args(["deploy", "staging", "--version", "v1.0.0"])
        .code(4)
        .stderr_contains("house-price is deprecated in the registry");
    assert!(!t.exists("env/staging/current"));
}

#[test]
fn a_held_lock_makes_the_second_deploy_exit_5_and_a_stale_one_is_taken() {
    let t = project(LOCAL);
    t.run_args(["-q", "deploy", "staging", "--version", "v1.0.0"])
        .success();
    let before = t.snapshot();
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(t.path("env/staging/.lock"))
        .unwrap();
    lock.lock().unwrap();
    t.run_args(["deploy", "staging"])
        .code(5)
        .stderr_contains("another deploy to staging is running");
    assert_eq!(t.snapshot(), before);
    drop(lock);
    // A lock file left by a process that died: its OS lock is gone.
    t.write("env/staging/.lock", "pid 999999 since 2026-01-01T00:00:00Z");
    t.run_args(["-q", "deploy", "staging"]).success();
    assert_eq!(slot_version(&t, "current").as_deref(), Some("v1.1.0"));
}

#[test]
fn two_concurrent_deploys_leave_the_registry_and_the_environment_agreeing() {
    let t = project(LOCAL);
    let spawn = |v: &str| {
        let mut c = t.command_args(["-q", "deploy", "staging", "--version", v]);
        c.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        c.spawn().unwrap()
    };
    let (a, b) = (spawn("v1.0.0"), spawn("v1.1.0"));
    let (oa, ob) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let codes = [oa.status.code().unwrap(), ob.status.code().unwrap()];
    eprintln!("concurrent deploys exited {codes:?}");
    assert!(codes.contains(&0), "{codes:?}");
    for (o, c) in [(&oa, codes[0]), (&ob, codes[1])] {
        assert!(c == 0 || c == 5, "{}", String::from_utf8_lossy(&o.stderr));
        if c == 5 {
            assert!(
                String::from_utf8_lossy(&o.stderr).contains("another deploy to staging is running")
            );
        }
    }
    assert_eq!(stage(&t, "staging"), slot_version(&t, "current"));
    let winners = codes.iter().filter(|&&c| c == 0).count();
    assert_eq!(stage_tags(&t, "staging").len(), winners);
}

// ---------------------------------------------------------------- http

/// How the fake server misbehaves.
#[derive(Debug, Clone, Default)]
struct Faults {
    /// Predictions of this version are off by one.
    wrong_version: Option<String>,
    /// Stop listening right after a successful upload.
    die_after_upload: bool,
    /// `POST /admin/rollback` answers 409 (as after a restart).
    no_rollback: bool,
    /// While this version is the champion, every scrape of `/metrics`
    /// shows 10 more prediction requests, 5 of them answered 503.
    failing_version: Option<String>,
    /// Another deploy puts this version in as champion while an upload is
    /// on its way (between the deploy's read and its upload).
    race_upload: Option<String>,
}

#[derive(Debug, Clone)]
struct Loaded {
    version: String,
    sha256: String,
    artifact: mlops::model::Artifact,
}

#[derive(Debug, Default)]
struct FakeState {
    champion: Option<Loaded>,
    challenger: Option<Loaded>,
    previous: Option<Loaded>,
    percent: u64,
    /// `(ok, failed)` prediction requests shown on `/metrics`.
    requests: (u64, u64),
    faults: Faults,
    log: Vec<String>,
}

/// The fake admin server: one thread, one connection at a time, gone after
/// a minute or when dropped.
struct Fake {
    url: String,
    state: Arc<Mutex<FakeState>>,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Fake {
    fn start(faults: Faults) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(FakeState {
            faults,
            ..FakeState::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (state.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !st.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((conn, _)) => {
                        if serve_one(conn, &s) {
                            return; // dies: the listener is dropped
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Fake {
            url,
            state,
            stop,
            handle: Some(handle),
        }
    }

    fn champion(&self) -> Option<String> {
        self.state
            .lock()
            .unwrap()
            .champion
            .as_ref()
            .map(|l| l.version.clone())
    }

    fn challenger(&self) -> Option<String> {
        self.state
            .lock()
            .unwrap()
            .challenger
            .as_ref()
            .map(|l| l.version.clone())
    }

    fn toml(&self) -> String {
        format!(
            "[environments.prod]\ntarget = \"http\"\nurl = \"{}\"\ntoken_env = \"{TOKEN_VAR}\"\nsmoke_rows = 4\nhealth = {{ path = \"/v2/health/ready\", timeout_s = 2, retries = 1 }}\n",
            self.url
        )
    }
}

fn slot_json(l: Option<&Loaded>) -> Value {
    l.map_or(
        Value::Null,
        |l| json!({"version": l.version, "sha256": l.sha256, "loaded_at": "2026-01-01T00:00:00Z"}),
    )
}

fn models_doc(s: &FakeState) -> Value {
    let mut models = Vec::new();
    if s.champion.is_some() || s.challenger.is_some() {
        models.push(json!({
            "name": "house-price",
            "champion": slot_json(s.champion.as_ref()),
            "challenger": slot_json(s.challenger.as_ref()),
            "previous": slot_json(s.previous.as_ref()),
            "challenger_percent": s.percent,
        }));
    }
    json!({ "models": models })
}

/// Answer one request; true when the server should die now.
fn serve_one(mut conn: TcpStream, state: &Mutex<FakeState>) -> bool {
    conn.set_nonblocking(false).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let first = lines.next().unwrap_or("");
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = &buf[head_end..head_end + len];
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let authed =
        headers.get("authorization").map(String::as_str) == Some(&format!("Bearer {TOKEN}"));
    let mut s = state.lock().unwrap();
    s.log.push(format!("{method} {target}"));
    let mut die = false;
    let (code, doc): (u16, Value) = if path.starts_with("/admin/") && !authed {
        (401, json!({"error": "missing or wrong token"}))
    } else {
        match (method.as_str(), path) {
            ("GET", "/admin/models") => (200, models_doc(&s)),
            ("PUT", "/admin/models/house-price") => {
                let challenger = query.contains("slot=challenger");
                let current = if challenger {
                    &s.challenger
                } else {
                    &s.champion
                };
                let mut cur_v = current.as_ref().map(|l| l.version.clone());
                if !challenger && s.faults.race_upload.is_some() {
                    cur_v.clone_from(&s.faults.race_upload);
                }
                let ok = match (headers.get("if-match"), headers.get("if-none-match")) {
                    (Some(m), _) => cur_v.as_deref() == Some(m.as_str()),
                    (None, Some(_)) => cur_v.is_none(),
                    (None, None) => true,
                };
                if !ok {
                    (409, json!({"error": "precondition failed"}))
                } else {
                    match mlops::bundle::read(body, "upload") {
                        Err(e) => (422, json!({"error": e.to_string()})),
                        Ok(b) => {
                            let l = Loaded {
                                version: b.version.clone(),
                                sha256: b.sha256.clone(),
                                artifact: b.artifact,
                            };
                            if challenger {
                                s.challenger = Some(l);
                            } else {
                                s.previous = s.champion.take();
                                s.champion = Some(l);
                            }
                            die = s.faults.die_after_upload;
                            (
                                200,
                                json!({"name": "house-price", "version": b.version, "sha256": b.sha256}),
                            )
                        }
                    }
                }
            }
            ("DELETE", "/admin/models/house-price") if query.contains("slot=champion") => {
                let cur = s.champion.as_ref().map(|l| l.version.clone());
                match headers.get("if-match") {
                    Some(m) if cur.as_deref() != Some(m.as_str()) => {
                        (409, json!({"error": "precondition failed"}))
                    }
                    _ if s.challenger.is_some() => (409, json!({"error": "challenger loaded"})),
                    _ => {
                        s.champion = None;
                        (200, models_doc(&s))
                    }
                }
            }
            ("DELETE", "/admin/models/house-price") => {
                s.challenger = None;
                s.percent = 0;
                (200, models_doc(&s))
            }
            ("PUT", "/admin/traffic") => {
                let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
                match v["challenger_percent"].as_u64() {
                    Some(p) if p <= 100 => {
                        s.percent = p;
                        (200, models_doc(&s))
                    }
                    _ => (400, json!({"error": "challenger_percent"})),
                }
            }
            ("POST", "/admin/promote") => match s.challenger.take() {
                Some(c) => {
                    s.previous = s.champion.take();
                    s.champion = Some(c);
                    s.percent = 0;
                    (200, models_doc(&s))
                }
                None => (409, json!({"error": "no challenger"})),
            },
            ("POST", "/admin/rollback") if s.faults.no_rollback => {
                (409, json!({"error": "no previous"}))
            }
            ("POST", "/admin/rollback") => match s.previous.take() {
                Some(p) => {
                    s.champion = Some(p);
                    (200, models_doc(&s))
                }
                None => (409, json!({"error": "no previous"})),
            },
            ("GET", "/metrics") => {
                let failing =
                    s.champion.as_ref().map(|l| &l.version) == s.faults.failing_version.as_ref();
                s.requests.0 += 5;
                if failing {
                    s.requests.1 += 5;
                } else {
                    s.requests.0 += 5;
                }
                let (ok, failed) = s.requests;
                let l = "endpoint=\"predict\",model=\"house-price\",variant=\"champion\"";
                (
                    200,
                    Value::String(format!(
                        "mlops_requests_total{{{l},status=\"200\"}} {ok}\nmlops_requests_total{{{l},status=\"503\"}} {failed}\n"
                    )),
                )
            }
            ("GET", "/v2/health/ready") => {
                if s.champion.is_some() {
                    (200, json!({"ready": true}))
                } else {
                    (503, json!({"ready": false}))
                }
            }
            ("POST", "/predict") => {
                let forced = if authed {
                    headers.get("x-mlops-variant").cloned()
                } else {
                    None
                };
                let l = match forced.as_deref() {
                    Some("challenger") => s.challenger.clone(),
                    _ => s.champion.clone(),
                };
                match l {
                    None => (503, json!({"error": "no model"})),
                    Some(l) => {
                        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
                        let off = if s.faults.wrong_version.as_deref() == Some(l.version.as_str()) {
                            1.0
                        } else {
                            0.0
                        };
                        let preds: Vec<Value> = v["instances"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .map(|x| {
                                        x.as_object()
                                            .and_then(|m| {
                                                mlops::deploy::smoke::predict(&l.artifact, m)
                                            })
                                            .map_or(Value::Null, |p| json!(p + off))
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        (
                            200,
                            json!({"predictions": preds, "model": "house-price", "version": l.version, "variant": forced.unwrap_or_else(|| "champion".into())}),
                        )
                    }
                }
            }
            _ => (404, json!({"error": "not found"})),
        }
    };
    drop(s);
    let text = match doc {
        Value::String(plain) => plain,
        doc => doc.to_string(),
    };
    let reason = match code {
        200 => "OK",
        401 => "Unauthorized",
        409 => "Conflict",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let _ = write!(
        conn,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = conn.flush();
    die
}

#[test]
fn http_deploy_canary_promote_and_rollback_through_the_admin_api() {
    let fake = Fake::start(Faults::default());
    let t = project(&fake.toml());
    let doc = t
        .run_args(["--json", "deploy", "prod", "--version", "v1.0.0"])
        .success()
        .json();
    assert_eq!(doc["target"], "http");
    assert_eq!(doc["location"], fake.url);
    let names: Vec<&str> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ready", "models", "smoke"]);
    assert!(
        doc["checks"][2]["detail"]
            .as_str()
            .unwrap()
            .starts_with("4 rows (validation rows of ")
    );
    assert_eq!(fake.champion().as_deref(), Some("v1.0.0"));
    assert_eq!(stage(&t, "prod").as_deref(), Some("v1.0.0"));
    // The first upload asked for an empty slot.
    assert!(
        fake.state
            .lock()
            .unwrap()
            .log
            .contains(&"PUT /admin/models/house-price?slot=champion".to_string())
    );

    t.run_args(["-q", "deploy", "prod", "--canary", "10"])
        .success();
    assert_eq!(fake.challenger().as_deref(), Some("v1.1.0"));
    assert_eq!(fake.state.lock().unwrap().percent, 10);
    // The canary is beside the stage, whose version stays the champion.
    assert_eq!(stage(&t, "prod").as_deref(), Some("v1.0.0"));
    t.run_args(["models"])
        .success()
        .stdout_contains("prod=v1.0.0 (canary v1.1.0 at 10 %)");
    t.run_args(["-q", "deploy", "prod", "--promote"]).success();
    assert_eq!(fake.champion().as_deref(), Some("v1.1.0"));
    assert_eq!(fake.challenger(), None);

    let doc = t.run_args(["--json", "rollback", "prod"]).success().json();
    assert_eq!(doc["version"], "v1.0.0");
    assert_eq!(fake.champion().as_deref(), Some("v1.0.0"));
    assert_eq!(stage(&t, "prod").as_deref(), Some("v1.0.0"));
    assert!(tag_message(&t, doc["tag"].as_str().unwrap()).starts_with("rollback: "));

    // Rollback during a canary over http removes the challenger.
    t.run_args(["-q", "deploy", "prod", "--canary", "30"])
        .success();
    t.run_args(["-q", "rollback", "prod"]).success();
    assert_eq!(fake.challenger(), None);
    assert_eq!(fake.champion().as_deref(), Some("v1.0.0"));
    assert_eq!(stage(&t, "prod").as_deref(), Some("v1.0.0"));
}

#[test]
fn http_wrong_predictions_roll_back_and_exit_1_without_a_tag() {
    let fake = Fake::start(Faults {
        wrong_version: Some("v1.1.0".into()),
        ..Faults::default()
    });
    let t = project(&fake.toml());
    t.run_args(["-q", "deploy", "prod", "--version", "v1.0.0"])
        .success();
    let tags = t.tags();
    t.run_args(["deploy", "prod"])
        .code(1)
        .stderr_contains("house-price v1.1.0 did not verify in prod at http://127.0.0.1:")
        .stderr_contains("smoke test: row 1 predicted ")
        .stderr_contains("house-price v1.0.0 is the champion again (POST /admin/rollback)")
        .stderr_contains("no assignment was recorded");
    assert_eq!(fake.champion().as_deref(), Some("v1.0.0"));
    assert_eq!(t.tags(), tags);
    assert_eq!(stage(&t, "prod").as_deref(), Some("v1.0.0"));
    // A failing canary is removed.
    t.run_args(["deploy", "prod", "--canary", "20"])
        .code(1)
        .stderr_contains("the challenger was removed");
    assert_eq!(fake.challenger(), None);
    assert_eq!(t.tags(), tags);
}

#[test]
fn http_failed_first_deploy_unloads_the_new_champion() {
    let fake = Fake::start(Faults {
        wrong_version: Some("v1.1.0".into()),
        ..Faults::default()
    });
    let t = project(&fake.toml());
    let tags = t.tags();
    t.run_args(["deploy", "prod"])
        .code(1)
        .stderr_contains("smoke test: row 1 predicted ")
        .stderr_contains("the server had no champion before, so v1.1.0 was unloaded (DELETE /admin/models/house-price?slot=champion)")
        .stderr_contains("no assignment was recorded");
    assert_eq!(fake.champion(), None);
    assert!(
        fake.state
            .lock()
            .unwrap()
            .log
            .contains(&"DELETE /admin/models/house-price?slot=champion".to_string())
    );
    assert_eq!(t.tags(), tags);
    assert_eq!(stage(&t, "prod"), None);
}

#[test]
fn http_restore_re_uploads_the_previous_bundle_when_the_server_cannot_roll_back() {
    let fake = Fake::start(Faults {
        wrong_version: Some("v1.1.0".into()),
        no_rollback: true,
        ..Faults::default()
    });
    let t = project(&fake.toml());
    t.run_args(["-q", "deploy", "prod", "--version", "v1.0.0"])
        .success();
    // Also rebuilt from the commit when dist/ lacks the old bundle.
    std::fs::remove_file(t.path("dist/house-price-v1.0.0.tar.gz")).unwrap();
    let tags = t.tags();
    t.run_args(["deploy", "prod"])
        .code(1)
        .stderr_contains("house-price v1.0.0 is the champion again (re-uploaded)");
    assert_eq!(fake.champion().as_deref(), Some("v1.0.0"));
    assert_eq!(t.tags(), tags);
}

#[test]
fn http_server_dying_mid_deploy_is_exit_5_without_a_tag() {
    let fake = Fake::start(Faults {
        die_after_upload: true,
        ..Faults::default()
    });
    let t = project(&fake.toml());
    let tags = t.tags();
    t.run_args(["deploy", "prod"])
        .code(5)
        .stderr_contains(&format!(
            "{}/v2/health/ready was not ready after 2 attempts (last: cannot connect)",
            fake.url
        ))
        .stderr_contains("no assignment was recorded");
    assert_eq!(t.tags(), tags);
    assert_eq!(stage(&t, "prod"), None);
}

#[test]
fn http_wrong_token_and_unreachable_server_are_exit_5_with_nothing_changed() {
    let fake = Fake::start(Faults::default());
    let t = project(&fake.toml());
    let tags = t.tags();
    let out = t
        .command_args(["deploy", "prod"])
        .env(TOKEN_VAR, "wrong-token")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains(&format!("{}/admin/models: the admin API refused the credentials (401 Unauthorized); set {TOKEN_VAR} to the server's admin token", fake.url)), "{err}");
    assert!(
        !err.contains("wrong-token") && !err.contains(TOKEN),
        "{err}"
    );
    assert_eq!(fake.champion(), None);
    assert_eq!(t.tags(), tags);

    // The variable unset: a usage error naming it.
    let out = t
        .command_args(["deploy", "prod"])
        .env_remove(TOKEN_VAR)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("environment variable {TOKEN_VAR}"))
    );

    // Nothing listens on the port of a dropped listener.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let u = project(&format!(
        "[environments.prod]\ntarget = \"http\"\nurl = \"http://127.0.0.1:{port}\"\ntoken_env = \"{TOKEN_VAR}\"\n"
    ));
    let tags = u.tags();
    u.run_args(["deploy", "prod"]).error(
        5,
        &format!("http://127.0.0.1:{port}/admin/models: cannot connect (admin token from {TOKEN_VAR}); check that the server runs and environments.prod.url, then run again"),
    );
    assert_eq!(u.tags(), tags);
}

#[test]
fn http_server_that_never_answers_times_out_with_exit_5() {
    // Accepts connections and holds them without a word, for a few seconds.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let t = project(&format!(
        "[environments.prod]\ntarget = \"http\"\nurl = \"http://127.0.0.1:{port}\"\ntoken_env = \"{TOKEN_VAR}\"\nhealth = {{ timeout_s = 1 }}\n"
    ));
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let holder = std::thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let mut held = Vec::new();
        let end = Instant::now() + Duration::from_secs(30);
        while Instant::now() < end && !d.load(Ordering::SeqCst) {
            if let Ok((c, _)) = listener.accept() {
                held.push(c);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let tags = t.tags();
    let started = Instant::now();
    t.run_args(["deploy", "prod"]).error(
        5,
        &format!("http://127.0.0.1:{port}/admin/models: timed out after 1 s (admin token from {TOKEN_VAR}); check that the server runs and environments.prod.url, then run again"),
    );
    assert!(started.elapsed() < Duration::from_secs(6));
    assert_eq!(t.tags(), tags);
    done.store(true, Ordering::SeqCst);
    holder.join().unwrap();
}

#[test]
fn http_concurrent_change_is_a_409_and_exit_5() {
    let fake = Fake::start(Faults::default());
    let t = project(&fake.toml());
    t.run_args(["-q", "deploy", "prod", "--version", "v1.0.0"])
        .success();
    // Another deploy put v1.1.0 on the server behind the registry's back.
    let b = mlops::bundle::read(&t.read_bytes("dist/house-price-v1.1.0.tar.gz"), "x").unwrap();
    fake.state.lock().unwrap().champion = Some(Loaded {
        version: b.version,
        sha256: b.sha256,
        artifact: b.artifact,
    });
    let tags = t.tags();
    t.run_args(["deploy", "prod", "--version", "v1.0.0"])
        .code(4)
        .stderr_contains(
            "prod serves champion v1.1.0 of house-price but the registry says champion v1.0.0",
        );
    // --force accepts what the server holds (after a crash between the
    // switch and the tag, the only way on): If-Match the live champion.
    t.run_args(["-q", "deploy", "prod", "--version", "v1.0.0", "--force"])
        .success();
    assert_eq!(fake.champion().as_deref(), Some("v1.0.0"));
    assert_eq!(t.tags().len(), tags.len() + 1);
}

#[test]
fn http_change_racing_the_upload_is_a_409_and_exit_5() {
    let fake = Fake::start(Faults {
        race_upload: Some("v9.9.9".into()),
        ..Faults::default()
    });
    let t = project(&fake.toml());
    let tags = t.tags();
    // The server is empty when read, and holds v9.9.9 when the upload comes.
    t.run_args(["deploy", "prod", "--version", "v1.0.0"])
        .code(5)
        .stderr_contains(
            "the server's champion is no longer empty (409 Conflict: another deploy changed it)",
        );
    assert_eq!(t.tags(), tags);
}

#[test]
fn push_sends_the_assignment_and_a_failed_tag_write_says_how_to_record_it() {
    let t = project(LOCAL);
    let bare = tempfile::tempdir().unwrap();
    git2::Repository::init_bare(bare.path()).unwrap();
    t.repo()
        .remote("origin", &bare.path().display().to_string())
        .unwrap();
    let doc = t
        .run_args([
            "--json",
            "deploy",
            "staging",
            "--version",
            "v1.0.0",
            "--push",
        ])
        .success()
        .json();
    assert_eq!(doc["pushed"], true);
    let remote = git2::Repository::open_bare(bare.path()).unwrap();
    assert!(
        remote
            .find_reference("refs/tags/house-price#staging#1")
            .is_ok()
    );

    // A lightweight tag holds the next name: the deploy is good, the record fails.
    let repo = t.repo();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    repo.tag_lightweight("house-price#staging#2", head.as_object(), false)
        .unwrap();
    t.run_args(["deploy", "staging"])
        .code(4)
        .stderr_contains("error: house-price v1.1.0 is live and verified in staging but the assignment could not be recorded (tag house-price#staging#2 already exists")
        .stderr_contains("record it with `git tag -a 'house-price#staging#3' -m 'Assigning stage staging to artifact house-price version v1.1.0' ");
    assert_eq!(slot_version(&t, "current").as_deref(), Some("v1.1.0"));
}

#[test]
fn stages_and_identity_are_checked_before_anything_changes() {
    let t = project(&format!(
        "{LOCAL}\n[registry]\nstages = [\"dev\", \"prod\"]\n"
    ));
    t.run_args(["deploy", "staging"])
        .code(2)
        .stderr_contains("environment \"staging\" is not one of [registry].stages (dev, prod)");
    let t = project(LOCAL);
    let mut cfg = t.repo().config().unwrap();
    cfg.remove("user.name").unwrap();
    cfg.remove("user.email").unwrap();
    t.run_args(["deploy", "staging"])
        .code(4)
        .stderr_contains("no git identity to sign the tag with");
    assert!(!t.exists("env/staging/current"));
}

// ---------------------------------------------------------- kubernetes

const K8S: &str = "[environments.k8s]\ntarget = \"kubernetes\"\npath = \"deploy/k8s\"\nreplicas = 3\nnamespace = \"ml\"\nresources = { requests = { cpu = \"250m\", memory = \"256Mi\" } }\n";

#[test]
fn kubernetes_manifests_are_the_deploy_without_apply() {
    let t = project(K8S);
    let doc = t.run_args(["--json", "deploy", "k8s"]).success().json();
    assert_eq!(doc["target"], "kubernetes");
    assert_eq!(stage(&t, "k8s").as_deref(), Some("v1.1.0"));
    // Rendered, not deployed: said in --json, the tag and the report.
    assert_eq!(doc["applied"], false);
    assert_eq!(tag_meta(&t, doc["tag"].as_str().unwrap())["applied"], false);
    let dep = t.read("deploy/k8s/deployment.yaml");
    for needle in [
        "kind: \"Deployment\"",
        "namespace: \"ml\"",
        "replicas: 3",
        "path: \"/v2/health/ready\"",
        "path: \"/v2/health/live\"",
        "runAsNonRoot: true",
        "readOnly: true",
        "cpu: \"250m\"",
        "mlops.dev/version: \"v1.1.0\"",
        "            - \"mlops\"\n            - \"serve\"\n            - \"--model\"\n            - \"/models/bundle.tar.gz\"\n            - \"--bind\"\n            - \"0.0.0.0:8080\"\n",
    ] {
        assert!(dep.contains(needle), "{needle}\n{dep}");
    }
    let cm = t.read("deploy/k8s/configmap.yaml");
    assert!(cm.contains("binaryData:\n  bundle.tar.gz: \"H4sI"), "{cm}");
    assert!(
        t.read("deploy/k8s/service.yaml")
            .contains("kind: \"Service\"")
    );
    assert!(t.read("deploy/k8s/hpa.yaml").contains("minReplicas: 3\n"));
    // M4 and L13: an immutable ConfigMap named after its content, which the
    // Deployment mounts; no service account token; the two new files.
    assert!(cm.contains("immutable: true"), "{cm}");
    let cm_name = cm
        .lines()
        .find(|l| l.contains("name: \"mlops-house-price-bundle-"))
        .unwrap_or_else(|| panic!("{cm}"))
        .trim()
        .to_string();
    assert!(dep.contains(&cm_name), "{cm_name}\n{dep}");
    assert!(dep.contains("automountServiceAccountToken: false"), "{dep}");
    assert!(dep.contains("imagePullPolicy: \"Always\""), "{dep}");
    assert!(
        t.read("deploy/k8s/networkpolicy.yaml")
            .contains("kind: \"NetworkPolicy\"")
    );
    assert!(
        t.read("deploy/k8s/pdb.yaml")
            .contains("kind: \"PodDisruptionBudget\"")
    );
    // Rollback re-renders the earlier version.
    t.run_args(["deploy", "k8s", "--version", "v1.0.0"])
        .success()
        .stdout_contains("Rendered house-price v1.0.0 in k8s")
        .stdout_contains("apply = false: nothing applied");
    // Another bundle, another ConfigMap: the old ReplicaSet keeps its own.
    let cm_v1 = t.read("deploy/k8s/configmap.yaml");
    assert!(!cm_v1.contains(&cm_name), "{cm_v1}");
    t.run_args(["-q", "rollback", "k8s"]).success();
    assert!(
        t.read("deploy/k8s/deployment.yaml")
            .contains("mlops.dev/version: \"v1.1.0\"")
    );

    // kubernetes-validate --strict, when MLOPS_KUBERNETES_VALIDATE names it.
    match std::env::var("MLOPS_KUBERNETES_VALIDATE") {
        Ok(kv) if !kv.is_empty() => {
            for f in [
                "configmap.yaml",
                "deployment.yaml",
                "service.yaml",
                "hpa.yaml",
                "networkpolicy.yaml",
                "pdb.yaml",
            ] {
                let out = Command::new(&kv)
                    .args(["--strict", "-k", "1.30.0"])
                    .arg(t.path("deploy/k8s").join(f))
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "kubernetes-validate {f}:\n{}\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        _ => eprintln!("note: MLOPS_KUBERNETES_VALIDATE is not set; skipping kubernetes-validate"),
    }
}

#[test]
fn kubernetes_apply_without_a_cluster_is_exit_5_and_changes_nothing() {
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        eprintln!("note: kubectl is not on PATH; skipping");
        return;
    }
    let t = project(&K8S.replace("replicas = 3", "replicas = 3\napply = true"));
    // A cluster that is not there.
    t.write(
        "kubeconfig",
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: x\n",
    );
    let tags = t.tags();
    let out = t
        .command_args(["deploy", "k8s"])
        .env("KUBECONFIG", t.path("kubeconfig"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    // What the cluster runs is asked first (to compare it with the
    // registry), so the unreachable cluster stops the deploy before any
    // manifest is written.
    assert!(err.contains("`kubectl get deployment mlops-"), "{err}");
    assert!(!t.exists("deploy/k8s/deployment.yaml"));
    assert_eq!(t.tags(), tags);
}

/// A stand-in for `kubectl` on PATH: `apply` records the version of the
/// applied `deployment.yaml` in `$FAKE_CLUSTER/version`, `get deployment`
/// prints the Deployment's pod template annotations as the API server
/// would (nothing with `--ignore-not-found` when there is none), and
/// `rollout status` succeeds. A test runs `kubectl rollout undo` by writing
/// the file.
const FAKE_KUBECTL: &str = r#"#!/bin/sh
set -e
case "$1" in
apply)
  [ -z "$FAKE_APPLY_FAILS" ] || { echo "error: the server refused the object" >&2; exit 1; }
  shift
  while [ $# -gt 0 ]; do
    if [ "$1" = -f ] && [ "${2##*/}" = deployment.yaml ]; then
      grep -m1 'mlops.dev/version:' "$2" | sed 's/.*: "\(.*\)"/\1/' > "$FAKE_CLUSTER/version"
    fi
    shift
  done
  echo applied;;
rollout) echo "deployment successfully rolled out";;
get)
  [ -s "$FAKE_CLUSTER/version" ] || exit 0
  printf '{"kind":"Deployment","spec":{"template":{"metadata":{"annotations":{"mlops.dev/version":"%s"}}}}}\n' "$(cat "$FAKE_CLUSTER/version")";;
*) echo "fake kubectl: $*" >&2; exit 1;;
esac
"#;

#[test]
fn kubernetes_with_apply_reads_live_from_the_cluster_and_sees_a_rollout_undo() {
    use std::os::unix::fs::PermissionsExt;
    let t = project(&K8S.replace("replicas = 3", "replicas = 3\napply = true"));
    t.write("bin/kubectl", FAKE_KUBECTL);
    let k = t.path("bin/kubectl");
    std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(t.path("cluster")).unwrap();
    let path = format!(
        "{}:{}",
        t.path("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |args: &[&str]| {
        t.command_args(args)
            .env("PATH", &path)
            .env("FAKE_CLUSTER", t.path("cluster"))
            .output()
            .unwrap()
    };
    for v in ["v1.0.0", "v1.1.0"] {
        let out = run(&["-q", "deploy", "k8s", "--version", v]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(t.read("cluster/version").trim(), v);
    }
    assert_eq!(stage(&t, "k8s").as_deref(), Some("v1.1.0"));
    // `kubectl rollout undo` behind mlops' back: the cluster runs v1.0.0
    // again, the folder and the registry still say v1.1.0.
    t.write("cluster/version", "v1.0.0\n");
    let tags = t.tags();
    let out = run(&["deploy", "k8s", "--version", "v1.1.0"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("k8s serves champion v1.0.0")
            && err.contains("the registry says champion v1.1.0"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert_eq!(t.tags(), tags, "nothing recorded");
    assert_eq!(
        t.read("cluster/version").trim(),
        "v1.0.0",
        "nothing applied"
    );
    // With --force, the deploy acts, and cluster and registry agree again.
    let out = run(&["-q", "deploy", "k8s", "--version", "v1.1.0", "--force"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(t.read("cluster/version").trim(), "v1.1.0");
    let out = run(&["-q", "rollback", "k8s"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(t.read("cluster/version").trim(), "v1.0.0");
    assert_eq!(stage(&t, "k8s").as_deref(), Some("v1.0.0"));
    // A cluster that refuses the apply: exit 5, the previous manifests
    // put back, nothing recorded.
    let before = t.read("deploy/k8s/deployment.yaml");
    let tags = t.tags();
    let out = t
        .command_args(["deploy", "k8s", "--version", "v1.1.0"])
        .env("PATH", &path)
        .env("FAKE_CLUSTER", t.path("cluster"))
        .env("FAKE_APPLY_FAILS", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("`kubectl apply -f "), "{err}");
    assert!(
        err.contains("the previous manifests were put back, and no assignment was recorded"),
        "{err}"
    );
    assert_eq!(t.read("deploy/k8s/deployment.yaml"), before);
    assert_eq!(t.tags(), tags);
    assert_eq!(t.read("cluster/version").trim(), "v1.0.0");
}

// ----------------------------------------------------------------- gto

#[test]
fn gto_reads_the_stage_history_deploy_wrote() {
    let Ok(gto) = std::env::var("MLOPS_GTO") else {
        eprintln!("note: MLOPS_GTO is not set; skipping the interop test with the real gto");
        return;
    };
    if gto.is_empty() {
        return;
    }
    let t = project(LOCAL);
    t.run_args(["-q", "deploy", "staging", "--version", "v1.0.0"])
        .success();
    t.run_args(["-q", "deploy", "staging"]).success();
    t.run_args(["-q", "rollback", "staging"]).success();
    let run = |args: &[&str]| {
        let out = Command::new(&gto)
            .args(args)
            .current_dir(t.root())
            .env("HOME", t.path(".home"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "gto {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let show: Value = serde_json::from_str(&run(&["show", "--json"])).unwrap();
    assert_eq!(
        show["house-price"]["stage"]["staging"], "v1.0.0",
        "{show:#}"
    );
    let hist = run(&["history", "house-price", "--plain"]);
    for tag in [
        "house-price#staging#1",
        "house-price#staging#2",
        "house-price#staging#3",
    ] {
        assert!(hist.contains(tag), "{tag}\n{hist}");
    }
}

// ------------------------------------------------- examples/scripts/rollback.sh

#[test]
fn the_rollback_script_checks_exit_codes_and_notifies() {
    let t = project(LOCAL);
    t.write(
        "notify.sh",
        "#!/bin/sh\nprintf '%s\\n' \"$1\" >> \"$(dirname \"$0\")/notes.txt\"\n",
    );
    let script = crate::common::repo().join("examples/scripts/rollback.sh");
    let run_with = |health: Option<&str>| {
        let mut c = Command::new("bash");
        if let Some(h) = health {
            c.env("HEALTH_URL", h).env("HEALTH_TRIES", "1");
        } else {
            c.env_remove("HEALTH_URL");
        }
        c.arg(&script)
            .arg("staging")
            .current_dir(t.root())
            .env("MLOPS", crate::common::BIN)
            .env("NOTIFY_CMD", t.path("notify.sh"))
            .env("HOME", t.path(".home"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap()
    };
    let run = || run_with(None);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(t.path("notify.sh"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }
    // Nothing to roll back to: exit 4, and the hook hears about it.
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        t.read("notes.txt").contains(
            "[mlops rollback staging] NOT DONE: error: nothing to roll back to in staging"
        )
    );
    t.run_args(["-q", "deploy", "staging", "--version", "v1.0.0"])
        .success();
    t.run_args(["-q", "deploy", "staging"]).success();
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        t.read("notes.txt").contains("[mlops rollback staging] rolled back to v1.0.0 (was v1.1.0, recorded as house-price#staging#3)"),
        "{}",
        t.read("notes.txt")
    );
    assert_eq!(slot_version(&t, "current").as_deref(), Some("v1.0.0"));
    // Rolled back, but the health probe fails: exit 3, and the hook says so.
    if Command::new("curl").arg("--version").output().is_ok() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/v2/health/ready");
        let out = run_with(Some(&url));
        assert_eq!(
            out.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(t.read("notes.txt").contains(&format!("rolled back to v1.1.0 (was v1.0.0, house-price#staging#4) but {url} is not healthy after 1 tries")));
    }
}

/// A project whose `[serve]` turns on token auth for predictions and the
/// admin API and a rate limit: the pods get those settings, the tokens come
/// from the Secret by `secretKeyRef` (never written into a manifest), and
/// every manifest still passes `kubernetes-validate --strict`.
#[test]
fn kubernetes_pods_carry_serve_auth_with_secret_refs() {
    let serve = "\n[serve]\nadmin_token_env = \"MLOPS_TEST_ADMIN_TOKEN\"\n\n[serve.auth]\nmode = \"token\"\nprotect = [\"predict\", \"admin\"]\n\n[serve.rate_limit]\nrate = \"100/s\"\nburst = 20\n";
    let t = project(&format!("{K8S}{serve}"));
    t.run_args(["-q", "deploy", "k8s"]).success();
    let dir = t.path("deploy/k8s");
    let mut all = String::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        all.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
    }
    assert!(!all.contains(TOKEN), "{all}");
    let dep = t.read("deploy/k8s/deployment.yaml");
    for needle in ["secretKeyRef", TOKEN_VAR, "--config"] {
        assert!(dep.contains(needle), "{needle}\n{dep}");
    }
    let cm = t.read("deploy/k8s/configmap.yaml");
    assert!(cm.contains("mlops.toml"), "{cm}");
    assert!(cm.contains("100/s"), "{cm}");
    match std::env::var("MLOPS_KUBERNETES_VALIDATE") {
        Ok(kv) if !kv.is_empty() => {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_none_or(|x| x != "yaml") {
                    continue;
                }
                let out = Command::new(&kv)
                    .args(["--strict", "-k", "1.30.0"])
                    .arg(&p)
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "kubernetes-validate {}:\n{}\n{}",
                    p.display(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        _ => eprintln!("note: MLOPS_KUBERNETES_VALIDATE is not set; skipping kubernetes-validate"),
    }
}

/// Versions are taken with or without the `v`, a near miss gets a
/// did-you-mean, and a model trained after the deployed version was
/// registered is pointed out.
#[test]
fn versions_without_v_near_misses_and_a_newer_model() {
    let t = project(LOCAL);
    t.run_args(["deploy", "staging", "--version", "1.0.9"])
        .code(4)
        .stderr_contains("has no version 1.0.9 (active: v1.0.0, v1.1.0); did you mean v1.0.0?");
    let doc = t
        .run_args(["--json", "deploy", "staging", "--version", "1.0.0"])
        .success()
        .json();
    assert_eq!(doc["version"], "v1.0.0");
    let out = t.run_args(["deploy", "staging"]);
    assert!(
        !out.success().stderr.contains("was trained at"),
        "{}",
        out.stderr
    );
    let p = "models/house-price.json";
    let mut art: Value = serde_json::from_slice(&t.read_bytes(p)).unwrap();
    art["created_at"] = Value::from("2099-01-01T00:00:00Z");
    t.write(p, art.to_string());
    t.run_args(["rollback", "staging", "--to", "1.0.0"])
        .success();
    t.run_args(["deploy", "staging", "--version", "v1.1.0"])
        .success()
        .stderr_contains("warning: models/house-price.json was trained at 2099-01-01T00:00:00Z, after house-price@v1.1.0 was registered");
}

/// The names in `dir`, sorted.
fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Issue 21, full disk: a local deploy whose environment folder is on a
/// full tmpfs (with no room at all, then with room for a few small files
/// but not the release) exits 2 with one sentence naming the path and "no
/// space left", leaves the previous release, the `current` link and the
/// registry as they were (no stage tag), leaves no temporary folder, and
/// succeeds once space is freed.
#[test]
fn a_full_environment_disk_fails_naming_the_path_and_changes_nothing() {
    let t = project(LOCAL);
    let _fs = match crate::common::Tmpfs::mount(&t.path("env/staging"), "512k") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    t.run_args(["-q", "deploy", "staging", "--version", "v1.0.0"])
        .success();
    let tags = t.tags();
    let live = t.read_bytes("env/staging/current/models/house-price.json");
    crate::common::fill_up(&t.path("env/staging"));
    let filler = t.path("env/staging/filler");
    let full = std::fs::metadata(&filler).unwrap().len();
    for room in [0, 8192] {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&filler)
            .unwrap()
            .set_len(full - room)
            .unwrap();
        let out = t.run_args(["deploy", "staging", "--version", "v1.1.0", "--yes"]);
        out.code(2);
        let err = out.stderr.trim_end();
        assert_eq!(err.lines().count(), 1, "room {room}: {err}");
        assert!(
            err.starts_with("error: cannot write env/staging/releases/v1.1.0/")
                && err.contains(": no space left on its device; free some space and run again"),
            "room {room}: {err}"
        );
        assert_live(&t, "v1.0.0", &live);
        assert_eq!(t.tags(), tags, "room {room}: no stage tag");
        assert_eq!(names_in(&t.path("env/staging/releases")), ["v1.0.0"]);
    }
    assert_eq!(stage(&t, "staging").as_deref(), Some("v1.0.0"));
    std::fs::remove_file(&filler).unwrap();
    t.run_args(["-q", "deploy", "staging", "--version", "v1.1.0", "--yes"])
        .success();
    assert_eq!(slot_version(&t, "current").as_deref(), Some("v1.1.0"));
    assert_eq!(stage(&t, "staging").as_deref(), Some("v1.1.0"));
}
