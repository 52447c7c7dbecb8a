//! The `http` target against the real `mlops serve` binary on
//! 127.0.0.1:0 (admin token from `[serve].admin_token_env`), in real
//! temporary git repos. After every step the registry (`mlops --json
//! models`) and the server (`GET /admin/models`) must agree. Servers are
//! killed when their test ends (`Server`'s drop).

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{TOKEN, TOKEN_VAR, project, stage, stage_tags, tag_message, tag_meta};
use crate::common::Test;
use crate::serve::{Server, row};

/// `mlops serve` with no model, its admin token in `TOKEN_VAR`.
fn server() -> Server {
    let dir = Test::new().file(
        "mlops.toml",
        format!("[serve]\nadmin_token_env = \"{TOKEN_VAR}\"\n"),
    );
    let s = Server::start_with(&dir, &[], &[(TOKEN_VAR, TOKEN)]);
    // The folder only holds the server's mlops.toml, read at start.
    drop(dir);
    s
}

/// The project's `[environments.prod]` for a server at `url`.
fn env_toml(url: &str) -> String {
    format!(
        "[environments.prod]\ntarget = \"http\"\nurl = \"{url}\"\ntoken_env = \"{TOKEN_VAR}\"\nsmoke_rows = 4\nhealth = {{ timeout_s = 5, retries = 2 }}\n"
    )
}

/// `GET /admin/models`: the entry of house-price (Null when none).
pub(crate) fn server_models(s: &Server) -> Value {
    let r = s
        .http
        .get(s.u("/admin/models"))
        .bearer_auth(TOKEN)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = serde_json::from_str(&r.text().unwrap()).unwrap();
    doc["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "house-price")
        .cloned()
        .unwrap_or(Value::Null)
}

pub(crate) fn slot(m: &Value, slot: &str) -> Option<String> {
    m[slot]["version"].as_str().map(str::to_string)
}

/// The registry and the server agree: the stage names the champion, and
/// the stage's canary the challenger and its share. Returns the server's
/// (champion, challenger, percent).
#[track_caller]
fn agree(t: &Test, s: &Server) -> (Option<String>, Option<String>, u64) {
    let m = server_models(s);
    let (champion, challenger) = (slot(&m, "champion"), slot(&m, "challenger"));
    let percent = m["challenger_percent"].as_u64().unwrap_or(0);
    assert_eq!(stage(t, "prod"), champion, "registry vs server {m}");
    let doc = t.run_args(["--json", "models"]).success().json();
    let canary = &doc["models"][0]["canaries"]["prod"];
    assert_eq!(
        canary["version"].as_str().map(str::to_string),
        challenger,
        "registry canary vs server {m}"
    );
    if challenger.is_some() {
        assert_eq!(canary["percent"].as_u64(), Some(percent));
    }
    (champion, challenger, percent)
}

/// `POST /predict` with a request key: (variant, version) from the headers.
fn predict_keyed(s: &Server, key: &str) -> (String, String) {
    let r = s
        .http
        .post(s.u("/predict"))
        .header("content-type", "application/json")
        .header("x-request-key", key)
        .body(json!({ "features": row() }).to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers();
    (
        h["x-model-variant"].to_str().unwrap().to_string(),
        h["x-model-version"].to_str().unwrap().to_string(),
    )
}

#[test]
fn real_server_deploy_redeploy_canary_promote_and_rollback() {
    let s = server();
    let t = project(&env_toml(&s.url));
    assert_eq!(s.get("/readyz").status(), 503);
    assert_eq!(agree(&t, &s), (None, None, 0));

    // First deploy: an empty slot.
    let doc = t
        .run_args(["--json", "deploy", "prod", "--version", "v1.0.0"])
        .success()
        .json();
    assert_eq!(doc["target"], "http");
    assert_eq!(doc["location"], s.url);
    assert_eq!(doc["tag"], "house-price#prod#1");
    assert_eq!(agree(&t, &s), (Some("v1.0.0".into()), None, 0));
    assert_eq!(s.get("/readyz").status(), 200);
    let m = server_models(&s);
    assert_eq!(m["champion"]["sha256"], doc["bundle"]["sha256"]);

    // Redeploy of a newer version (If-Match: v1.0.0).
    let doc = t.run_args(["--json", "deploy", "prod"]).success().json();
    assert_eq!(doc["version"], "v1.1.0");
    assert_eq!(doc["previous"], "v1.0.0");
    assert_eq!(agree(&t, &s), (Some("v1.1.0".into()), None, 0));
    assert_eq!(
        slot(&server_models(&s), "previous").as_deref(),
        Some("v1.0.0")
    );
    assert_eq!(tag_meta(&t, "house-price#prod#2")["previous"], "v1.0.0");
    assert_eq!(predict_keyed(&s, "anyone").1, "v1.1.0");

    // A change behind the registry's back: refused (M9) until --force.
    let v1 = t.read_bytes("dist/house-price-v1.0.0.tar.gz");
    let put = |bytes: &[u8], if_match: &str| {
        let r = s
            .http
            .put(s.u("/admin/models/house-price?slot=champion"))
            .bearer_auth(TOKEN)
            .header("if-match", if_match)
            .body(bytes.to_vec())
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    };
    put(&v1, "v1.1.0");
    let tags = t.tags();
    t.run_args(["deploy", "prod", "--version", "v1.0.0"])
        .code(4)
        .stderr_contains(
            "prod serves champion v1.0.0 of house-price but the registry says champion v1.1.0",
        );
    // --force accepts what the server holds and replaces it.
    t.run_args(["-q", "deploy", "prod", "--version", "v1.1.0", "--force"])
        .success();
    assert_eq!(t.tags().len(), tags.len() + 1);
    assert_eq!(agree(&t, &s).0.as_deref(), Some("v1.1.0"));

    // Canary: v1.0.0 as challenger with 30 %, sticky per request key.
    let doc = t
        .run_args([
            "--json",
            "deploy",
            "prod",
            "--version",
            "v1.0.0",
            "--canary",
            "30",
        ])
        .success()
        .json();
    assert_eq!(doc["strategy"], "canary");
    assert_eq!(doc["canary_percent"], 30);
    assert_eq!(
        agree(&t, &s),
        (Some("v1.1.0".into()), Some("v1.0.0".into()), 30)
    );
    let meta = tag_meta(&t, doc["tag"].as_str().unwrap());
    assert_eq!(meta["strategy"], "canary");
    assert_eq!(meta["previous"], "v1.1.0");
    let mut challenger = 0;
    for i in 0..100 {
        let key = format!("user-{i}");
        let (variant, version) = predict_keyed(&s, &key);
        assert_eq!(predict_keyed(&s, &key), (variant.clone(), version.clone()));
        match variant.as_str() {
            "challenger" => {
                assert_eq!(version, "v1.0.0");
                challenger += 1;
            }
            "champion" => assert_eq!(version, "v1.1.0"),
            v => panic!("variant {v}"),
        }
    }
    // FNV-1a buckets of user-0..user-99 against a 30 % split.
    assert!((15..=45).contains(&challenger), "{challenger} of 100");

    // Rollback during the canary removes the challenger.
    let doc = t.run_args(["--json", "rollback", "prod"]).success().json();
    assert_eq!(doc["version"], "v1.1.0");
    assert_eq!(doc["previous"], "v1.0.0");
    assert!(tag_message(&t, doc["tag"].as_str().unwrap()).starts_with("rollback: "));
    assert_eq!(agree(&t, &s), (Some("v1.1.0".into()), None, 0));
    assert_eq!(predict_keyed(&s, "user-1").0, "champion");

    // A canary again, then --promote.
    t.run_args([
        "-q",
        "deploy",
        "prod",
        "--version",
        "v1.0.0",
        "--canary",
        "30",
    ])
    .success();
    let doc = t
        .run_args(["--json", "deploy", "prod", "--promote"])
        .success()
        .json();
    assert_eq!(doc["strategy"], "promote");
    assert_eq!(doc["version"], "v1.0.0");
    assert_eq!(agree(&t, &s), (Some("v1.0.0".into()), None, 0));
    assert_eq!(
        slot(&server_models(&s), "previous").as_deref(),
        Some("v1.1.0")
    );

    // Rollback: the previous champion comes back, recorded as `rollback:`.
    let doc = t.run_args(["--json", "rollback", "prod"]).success().json();
    assert_eq!(doc["version"], "v1.1.0");
    assert_eq!(doc["previous"], "v1.0.0");
    let tag = doc["tag"].as_str().unwrap();
    assert!(
        tag_message(&t, tag)
            .starts_with("rollback: Assigning stage prod to artifact house-price version v1.1.0")
    );
    assert_eq!(tag_meta(&t, tag)["strategy"], "rollback");
    assert_eq!(agree(&t, &s), (Some("v1.1.0".into()), None, 0));
    // Two canaries are recorded beside the stage, not as assignments (the
    // forced redeploy is one more).
    assert_eq!(stage_tags(&t, "prod").len(), 6);
    assert_eq!(s.stop(), 0);
}

#[test]
fn real_server_refuses_a_wrong_token_and_a_tampered_bundle_changes_nothing() {
    let s = server();
    let t = project(&env_toml(&s.url));
    t.run_args(["-q", "deploy", "prod", "--version", "v1.0.0"])
        .success();
    let before = server_models(&s);
    let tags = t.tags();

    // Wrong token: exit 5, the message names the variable, not a token.
    let out = t
        .command_args(["deploy", "prod"])
        .env(TOKEN_VAR, "not-the-token")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains(&format!(
            "{}/admin/models: the admin API refused the credentials (401 Unauthorized); set {TOKEN_VAR} to the server's admin token",
            s.url
        )),
        "{err}"
    );
    assert!(
        !err.contains("not-the-token") && !err.contains(TOKEN),
        "{err}"
    );
    assert_eq!(server_models(&s), before);
    assert_eq!(t.tags(), tags);
    agree(&t, &s);

    // A tampered bundle: deploy verifies it against the tag before any
    // upload, so the server never sees it (exit 4, not the server's 422).
    let p = t.path("dist/house-price-v1.1.0.tar.gz");
    let good = std::fs::read(&p).unwrap();
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 20] ^= 0xff;
    std::fs::write(&p, &bad).unwrap();
    t.run_args(["deploy", "prod"])
        .code(4)
        .stderr_contains("the bundle was altered; nothing was deployed");
    assert_eq!(server_models(&s), before);
    assert_eq!(t.tags(), tags);
    // The server refuses the same bytes itself with a 422.
    let r = s
        .http
        .put(s.u("/admin/models/house-price?slot=champion"))
        .bearer_auth(TOKEN)
        .body(bad)
        .send()
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(server_models(&s), before);
    std::fs::write(&p, &good).unwrap();

    // Stopped before the deploy: exit 5, no tag, the registry unchanged.
    let url = s.url.clone();
    assert_eq!(s.stop(), 0);
    t.run_args(["deploy", "prod"]).error(
        5,
        &format!("{url}/admin/models: cannot connect (admin token from {TOKEN_VAR}); check that the server runs and environments.prod.url, then run again"),
    );
    assert_eq!(t.tags(), tags);
    assert_eq!(stage(&t, "prod").as_deref(), Some("v1.0.0"));
}

#[test]
fn real_server_unloads_a_failed_first_champion_with_delete() {
    // The real server predicts right, so the smoke test is made to fail
    // by a readiness path that never answers 200; there was no champion
    // before, so deploy unloads the new one with DELETE ?slot=champion.
    let s = server();
    let toml = env_toml(&s.url).replace(
        "health = { timeout_s = 5, retries = 2 }",
        "health = { path = \"/v2/models/house-price/versions/v0.0.0/ready\", timeout_s = 5, retries = 1 }",
    );
    let t = project(&toml);
    let tags = t.tags();
    t.run_args(["deploy", "prod"])
        .code(1)
        .stderr_contains("house-price v1.1.0 did not verify in prod")
        .stderr_contains("the server had no champion before, so v1.1.0 was unloaded (DELETE /admin/models/house-price?slot=champion)")
        .stderr_contains("no assignment was recorded");
    assert_eq!(server_models(&s), Value::Null);
    assert_eq!(s.get("/readyz").status(), 503);
    assert_eq!(t.tags(), tags);
    assert_eq!(agree(&t, &s), (None, None, 0));
    assert_eq!(s.stop(), 0);
}

/// A relay in front of a real server: passes each request on (one per
/// connection). When armed, once the server has answered a
/// `PUT /admin/models/…`, it SIGKILLs the server before passing the answer
/// back: the upload happened, then the server died. Connections to a dead
/// server are closed, until `upstream` names a live one again.
struct Relay {
    url: String,
    upstream: Arc<Mutex<String>>,
    armed: Arc<AtomicBool>,
    killed: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// One HTTP message from `c`: the head and its Content-Length body.
fn read_message(c: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match c.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < end + len {
        match c.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Some(buf)
}

/// `msg` with `connection: close` after its first line.
fn closing(msg: &[u8]) -> Vec<u8> {
    let i = msg.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    [&msg[..i], b"connection: close\r\n", &msg[i..]].concat()
}

impl Relay {
    fn start(s: &Server) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = Arc::new(Mutex::new(s.url.trim_start_matches("http://").to_string()));
        let pid = Arc::new(Mutex::new(s.child.id()));
        let armed = Arc::new(AtomicBool::new(false));
        let killed = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (up, a, k, st) = (
            upstream.clone(),
            armed.clone(),
            killed.clone(),
            stop.clone(),
        );
        let handle = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !st.load(Ordering::SeqCst) && Instant::now() < deadline {
                let Ok((mut c, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                c.set_nonblocking(false).unwrap();
                c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let Some(req) = read_message(&mut c) else {
                    continue;
                };
                let addr = up.lock().unwrap().clone();
                let Ok(mut u) = TcpStream::connect(&addr) else {
                    continue; // the server is gone: close the client
                };
                u.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                if u.write_all(&closing(&req)).is_err() {
                    continue;
                }
                let mut resp = Vec::new();
                let _ = u.read_to_end(&mut resp);
                if resp.is_empty() {
                    continue;
                }
                if req.starts_with(b"PUT /admin/models/") && a.swap(false, Ordering::SeqCst) {
                    let p = *pid.lock().unwrap();
                    let status = std::process::Command::new("kill")
                        .args(["-KILL", &p.to_string()])
                        .status()
                        .unwrap();
                    assert!(status.success());
                    let end = Instant::now() + Duration::from_secs(10);
                    while TcpStream::connect(&addr).is_ok() && Instant::now() < end {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    k.store(true, Ordering::SeqCst);
                }
                let _ = c.write_all(&closing(&resp));
                let _ = c.flush();
            }
        });
        Relay {
            url,
            upstream,
            armed,
            killed,
            stop,
            handle: Some(handle),
        }
    }
}

#[test]
fn real_server_killed_mid_deploy_is_exit_5_and_a_restarted_server_is_filled_again() {
    let s = server();
    let relay = Relay::start(&s);
    let t = project(&env_toml(&relay.url));
    t.run_args(["-q", "deploy", "prod", "--version", "v1.0.0"])
        .success();
    assert_eq!(agree(&t, &s), (Some("v1.0.0".into()), None, 0));

    // The upload of v1.1.0 goes through, then the server dies.
    relay.armed.store(true, Ordering::SeqCst);
    let tags = t.tags();
    t.run_args(["deploy", "prod"])
        .code(5)
        .stderr_contains(&format!(
            "{}/v2/health/ready was not ready after 3 attempts",
            relay.url
        ))
        .stderr_contains("house-price v1.1.0 did not verify in prod")
        .stderr_contains("no assignment was recorded");
    assert!(relay.killed.load(Ordering::SeqCst));
    assert_eq!(t.tags(), tags);
    assert_eq!(stage(&t, "prod").as_deref(), Some("v1.0.0"));
    drop(s);

    // A new server (nothing in memory) behind the same URL: deploy says
    // the environment is empty while the registry names v1.0.0, and acts
    // only with --force; then it fills the empty slot with the registry's
    // version (If-None-Match: *, not a 409 on the registry's If-Match), and
    // the two agree again.
    let s = server();
    *relay.upstream.lock().unwrap() = s.url.trim_start_matches("http://").to_string();
    t.run_args(["deploy", "prod"])
        .code(4)
        .stderr_contains("prod serves nothing of house-price but the registry says champion v1.0.0 (the environment is empty");
    t.run_args(["-q", "deploy", "prod", "--version", "v1.0.0", "--force"])
        .success();
    assert_eq!(agree(&t, &s), (Some("v1.0.0".into()), None, 0));
    assert_eq!(stage_tags(&t, "prod").len(), 2);
    drop(relay);
    assert_eq!(s.stop(), 0);
}

/// Security review H3.
#[test]
fn real_server_over_tls_signed_by_a_private_ca_named_in_ca_cert() {
    let tls = crate::common::repo().join("tests/data/tls");
    let pem = |f: &str| crate::common::toml_str(&tls.join(f).display().to_string());
    let dir = Test::new().file(
        "mlops.toml",
        format!(
            "[serve]\nadmin_token_env = \"{TOKEN_VAR}\"\n[serve.tls]\ncert = {}\nkey = {}\n",
            pem("server.pem"),
            pem("server.key")
        ),
    );
    let s = Server::start_with(&dir, &[], &[(TOKEN_VAR, TOKEN)]);
    assert!(s.url.starts_with("https://127.0.0.1:"), "{}", s.url);
    let t = project(&format!(
        "{}ca_cert = {}\n",
        env_toml(&s.url),
        pem("ca.pem")
    ));
    let doc = t
        .run_args(["--json", "deploy", "prod", "--version", "v1.0.0"])
        .success()
        .json();
    assert_eq!(doc["location"], s.url);
    assert_eq!(stage(&t, "prod").as_deref(), Some("v1.0.0"));
    drop(dir);
}

/// Review M10: a canary deploy and a promote racing on one server, round
/// after round. Whatever interleaving happens, each ends applied or
/// refused, and afterwards the registry names what the server runs.
#[test]
fn a_canary_and_a_promote_racing_leave_the_registry_naming_the_live_champion() {
    let s = server();
    let t = project(&env_toml(&s.url));
    t.run_args(["-q", "deploy", "prod", "--version", "v1.0.0"])
        .success();
    for round in 0..4 {
        let spawn = |args: &[&str]| {
            t.command_args(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let canary = spawn(&[
            "-q",
            "deploy",
            "prod",
            "--version",
            "v1.1.0",
            "--canary",
            "20",
        ]);
        if round % 2 == 1 {
            std::thread::sleep(Duration::from_millis(150 * round));
        }
        let promote = spawn(&["-q", "deploy", "prod", "--promote"]);
        for child in [canary, promote] {
            let out = child.wait_with_output().unwrap();
            let code = out.status.code();
            assert!(
                matches!(code, Some(0 | 4 | 5)),
                "round {round}: {code:?} {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let (_, challenger, _) = agree(&t, &s);
        t.run_args(["status", "prod"]).success();
        // Back to v1.0.0 alone for the next round.
        if challenger.is_some() {
            t.run_args(["-q", "rollback", "prod"]).success();
        }
        if stage(&t, "prod").as_deref() != Some("v1.0.0") {
            t.run_args(["-q", "rollback", "prod", "--to", "v1.0.0"])
                .success();
        }
    }
}

/// L1 and L9: a model named `team/churn` deploys to the real server (its
/// name travels as `team%2Fchurn`), its bundle gets its own `dist/` file,
/// and the user and password in the environment's URL reach neither the
/// tag, nor the output, nor the `--json` report.
#[test]
fn real_server_deploys_a_name_with_a_slash_and_the_url_password_stays_secret() {
    let s = server();
    let url = s.url.replacen("http://", "http://ci:hunter2@", 1);
    let toml = crate::common::example_toml()
        .replace("name = \"house-price\"\n", "name = \"team/churn\"\n");
    let t = Test::new()
        .toml(&format!("{toml}\n{}", env_toml(&url)))
        .git_init()
        .env("SOURCE_DATE_EPOCH", crate::common::GIT_TIME.to_string())
        .env(TOKEN_VAR, TOKEN)
        .args(["-q", "train"]);
    t.run().success();
    t.commit_all("model", crate::common::GIT_TIME);
    t.run_args(["-q", "package", "--version", "v1.0.0"])
        .success();
    assert!(t.exists("dist/team/churn-v1.0.0.tar.gz"));
    let out = t.run_args(["--json", "deploy", "prod"]);
    out.success();
    let doc = out.json();
    assert_eq!(doc["location"], s.url);
    let text = t.run_args(["deploy", "prod", "--dry-run"]);
    let models = s
        .http
        .get(s.u("/admin/models"))
        .bearer_auth(TOKEN)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let models: Value = serde_json::from_str(&models).unwrap();
    let m = models["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "team/churn")
        .unwrap_or_else(|| panic!("{models}"));
    assert_eq!(m["champion"]["version"], "v1.0.0");
    let tag = doc["tag"].as_str().unwrap();
    assert_eq!(tag, "team/churn#prod#1");
    let msg = tag_message(&t, tag);
    assert!(tag_meta(&t, tag)["location"] == s.url, "{msg}");
    for shown in [
        msg,
        out.stdout.clone(),
        out.stderr.clone(),
        text.stdout.clone(),
        t.run_args(["--json", "status"]).stdout.clone(),
    ] {
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
