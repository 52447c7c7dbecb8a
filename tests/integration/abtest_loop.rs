//! The A/B loop end to end, through the real binary and a real `mlops
//! serve` on 127.0.0.1:0: deploy a champion, start a canary, send keyed
//! predictions and their outcomes, then run the recipes of `docs/ci.md` and
//! `docs/serving.md` exactly as written (only the server's URL swapped in).
//! And the server's state folder: a restarted server serves and exports
//! what it had.

use std::process::Command;

use serde_json::{Value, json};

use crate::common::{BIN, Test, repo, unit};
use crate::deploy::project;
use crate::serve::{Server, row};

const TOKEN_VAR: &str = "MLOPS_PROD_TOKEN";
const TOKEN: &str = "pr0d-t0ken-0123456789abcdef01234";

/// A server whose admin token is in `TOKEN_VAR`, started in `dir` with `args`.
fn start(dir: &Test, args: &[&str]) -> Server {
    dir.write(
        "mlops.toml",
        format!("[serve]\nadmin_token_env = \"{TOKEN_VAR}\"\n"),
    );
    Server::start_with(dir, args, &[(TOKEN_VAR, TOKEN)])
}

/// The example project (v1.0.0 and v1.1.0 registered) with `prod` on the
/// server at `url`, and a bare `origin` to push to.
fn prod_project(url: &str) -> (Test, tempfile::TempDir) {
    let t = project(&format!(
        "[environments.prod]\ntarget = \"http\"\nurl = \"{url}\"\ntoken_env = \"{TOKEN_VAR}\"\nsmoke_rows = 4\nhealth = {{ timeout_s = 5, retries = 2 }}\n"
    ))
    .env(TOKEN_VAR, TOKEN);
    let bare = tempfile::tempdir().unwrap();
    git2::Repository::init_bare(bare.path()).unwrap();
    t.repo()
        .remote("origin", &bare.path().display().to_string())
        .unwrap();
    (t, bare)
}

/// A server (in `dir`, with `args`) serving v1.0.0 deployed to `prod`,
/// with v1.1.0 as a canary on `percent` of the traffic; and the project.
fn canary(dir: &Test, args: &[&str], percent: u8) -> (Server, Test, tempfile::TempDir) {
    let s = start(dir, args);
    let (t, bare) = prod_project(&s.url);
    t.run_args(["-q", "deploy", "prod", "--version", "v1.0.0"])
        .success();
    t.run_args(["-q", "deploy", "prod", "--canary", &percent.to_string()])
        .success();
    assert_eq!(models(&s)["challenger_percent"], percent);
    (s, t, bare)
}

/// The first ```sh block after `heading` in `docs/FILE`, with `host`
/// replaced by the server's URL.
fn recipe(file: &str, heading: &str, nth: usize, host: &str, url: &str) -> String {
    let text = std::fs::read_to_string(repo().join("docs").join(file)).unwrap();
    let from = text
        .find(heading)
        .unwrap_or_else(|| panic!("{file}: no {heading}"));
    let block = text[from..]
        .split("```sh\n")
        .nth(nth + 1)
        .and_then(|b| b.split("```").next())
        .unwrap_or_else(|| panic!("{file}: no sh block {nth} after {heading}"));
    assert!(
        block.contains(host),
        "{file}: the recipe no longer uses {host}:\n{block}"
    );
    block.replace(host, url)
}

/// Run a recipe as a CI job would (`sh -e`), with `mlops` on the PATH.
fn run_recipe(t: &Test, script: &str, token_var: &str) -> std::process::Output {
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("sh");
    cmd.arg("-ec")
        .arg(script)
        .current_dir(t.root())
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("MLOPS_CONFIG")
        .env_remove("GITHUB_ACTIONS")
        .env(token_var, TOKEN);
    cmd.output().unwrap()
}

/// Keyed predictions for `keys` users, each followed by its outcome:
/// uniform noise, plus `margin` when the challenger served it. Returns the
/// number of users the challenger served.
fn traffic(s: &Server, keys: u64, margin: f64) -> u64 {
    let mut challenger = 0;
    for i in 0..keys {
        let key = format!("user-{i}");
        let r = s
            .http
            .post(s.u("/predict"))
            .header("content-type", "application/json")
            .header("x-request-key", &key)
            .body(json!({ "features": row() }).to_string())
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        let variant = r.headers()["x-model-variant"].to_str().unwrap().to_string();
        let lift = if variant == "challenger" {
            challenger += 1;
            margin
        } else {
            0.0
        };
        let r = s
            .http
            .post(s.u("/feedback"))
            .header("content-type", "application/json")
            .body(json!({"key": key, "value": unit(11, i) + lift}).to_string())
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    }
    challenger
}

fn admin(s: &Server, method: reqwest::Method, path: &str) -> reqwest::blocking::Response {
    s.http
        .request(method, s.u(path))
        .bearer_auth(TOKEN)
        .send()
        .unwrap()
}

fn models(s: &Server) -> Value {
    let r = admin(s, reqwest::Method::GET, "/admin/models");
    serde_json::from_str::<Value>(&r.text().unwrap()).unwrap()["models"][0].clone()
}

const CI_HOST: &str = "https://models.example.com";
const LOCAL_HOST: &str = "http://127.0.0.1:8080";

/// Run the CI recipe: exit `code`, the sample-ratio check passed against
/// the plan of the export (`percent` for the challenger), `decision`.
fn gate(t: &Test, ci: &str, percent: u8, code: i32, decision: &str) {
    let out = run_recipe(t, ci, TOKEN_VAR);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stdout}\n{stderr}");
    assert!(stdout.contains("no mismatch"), "{stdout}");
    for plan in [100 - percent, percent] {
        assert!(stdout.contains(&format!("(plan {plan}.0%)")), "{stdout}");
    }
    assert!(
        stdout.contains("plan from the input's planned_share column"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Decision: {decision}")),
        "{stdout}"
    );
    assert!(!stderr.contains(TOKEN), "the token was printed: {stderr}");
}

/// One canary share: a challenger no better is not shipped, a challenger
/// better by a margin is, and the sample-ratio check passes both times
/// with the plan taken from the export.
fn canary_decides_right(percent: u8) {
    let dir = Test::new();
    let (s, t, _bare) = canary(&dir, &[], percent);
    let ci = recipe("ci.md", "## Gating on an A/B test", 0, CI_HOST, &s.url);

    // No better: the gate holds (exit 1), the split is as planned, nothing is promoted.
    let n = traffic(&s, 800, 0.0);
    assert!(n > 0, "the challenger served nobody at {percent}%");
    gate(&t, &ci, percent, 1, "inconclusive");
    assert_eq!(models(&s)["challenger"]["version"], "v1.1.0");

    // A new period, better by 0.25 (the outcomes' sd is 0.29): shipped.
    let r = admin(&s, reqwest::Method::POST, "/admin/abtest/reset");
    assert_eq!(r.status(), 200);
    traffic(&s, 800, 0.25);
    gate(&t, &ci, percent, 0, "ship");
    let m = models(&s);
    assert_eq!(m["champion"]["version"], "v1.1.0", "{m}");
    assert_eq!(m["challenger"], Value::Null);
    // The promote starts a new experiment: the current export is empty.
    let r = admin(&s, reqwest::Method::GET, "/admin/abtest/export");
    assert_eq!(
        r.text().unwrap(),
        "variant,key,value,version,planned_share,experiment\n"
    );
    let all = admin(
        &s,
        reqwest::Method::GET,
        "/admin/abtest/export?experiment=all",
    )
    .text()
    .unwrap();
    assert_eq!(all.lines().count(), 801);
    assert_eq!(s.stop(), 0);
}

#[test]
fn ci_recipe_ships_a_better_canary_at_10_percent() {
    canary_decides_right(10);
}

#[test]
fn ci_recipe_ships_a_better_canary_at_30_percent() {
    canary_decides_right(30);
}

#[test]
fn ci_recipe_ships_a_better_canary_at_50_percent() {
    canary_decides_right(50);
}

#[test]
fn serving_md_recipes_read_the_export_with_the_token() {
    let dir = Test::new();
    let (s, t, _bare) = canary(&dir, &[], 20);
    traffic(&s, 500, 0.25);
    let heading = "### Feedback and the experiment's export";
    for nth in [0, 1] {
        let script = recipe("serving.md", heading, nth, LOCAL_HOST, &s.url);
        let out = run_recipe(&t, &script, "MLOPS_ADMIN_TOKEN");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{script}\n{stdout}\n{stderr}");
        assert!(stdout.contains("Decision: ship"), "{stdout}");
        assert!(stdout.contains("(plan 20.0%)"), "{stdout}");
        assert!(!stderr.contains(TOKEN) && !stdout.contains(TOKEN));
    }
    // Without the token: refused, naming the variable, never the token.
    let url = format!("{}/admin/abtest/export", s.url);
    let base = [
        "abtest-analyze",
        "--input",
        &url,
        "--metric",
        "value",
        "--control",
        "champion",
    ];
    Test::new()
        .env_remove("MLOPS_TOKEN")
        .run_args(base)
        .code(5)
        .stderr_contains("answered HTTP 401")
        .stderr_contains("MLOPS_TOKEN is not set");
    let out = Test::new()
        .env("OTHER_TOKEN", "wrong-token")
        .run_args(base.iter().copied().chain(["--token-env", "OTHER_TOKEN"]));
    out.code(5)
        .stderr_contains("the token in OTHER_TOKEN was refused");
    assert!(!out.stderr.contains("wrong-token") && !out.stdout.contains("wrong-token"));
    // --split overrides the export's plan, and says so.
    let doc = Test::new()
        .env("MLOPS_TOKEN", TOKEN)
        .run_args(
            ["--json"]
                .into_iter()
                .chain(base)
                .chain(["--split", "champion=1,challenger=1"]),
        )
        .success()
        .json();
    assert_eq!(doc["srm"]["plan_source"], "split_flag");
    assert_eq!(doc["srm"]["mismatch"], true);
    assert_eq!(doc["decision"], "invalid");
    // A change of split mid-experiment is reported, not mixed.
    let r = s
        .http
        .put(s.u("/admin/traffic"))
        .bearer_auth(TOKEN)
        .body(json!({"challenger_percent": 50}).to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    traffic(&s, 500, 0.25);
    let doc = Test::new()
        .env("MLOPS_TOKEN", TOKEN)
        .run_args(["--json"].into_iter().chain(base))
        .success()
        .json();
    assert_eq!(doc["srm"]["plan_source"], "export");
    assert_eq!(doc["decision"], "invalid");
    assert_eq!(doc["srm"]["plan_changed"]["challenger"], json!([0.2, 0.5]));
    assert_eq!(s.stop(), 0);
}

#[test]
fn feedback_is_refused_while_the_admin_api_is_off() {
    let dir = Test::new();
    let s = Server::start_with(&dir, &[], &[]);
    assert!(
        s.stderr().contains("/feedback is refused too"),
        "{}",
        s.stderr()
    );
    let r = s
        .http
        .post(s.u("/feedback"))
        .header("content-type", "application/json")
        .body(json!({"key": "k", "value": 1}).to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().unwrap().contains("the admin API is off"));
    assert_eq!(s.stop(), 0);
}

#[test]
fn a_restarted_server_restores_its_slots_split_and_observations() {
    let dir = Test::new();
    let state = dir.path("state");
    let state_arg = state.display().to_string();
    let (s, t, _bare) = canary(&dir, &["--state-dir", &state_arg], 30);
    traffic(&s, 200, 0.25);
    let before = models(&s);
    let export = |s: &Server| {
        admin(s, reqwest::Method::GET, "/admin/abtest/export")
            .text()
            .unwrap()
    };
    let rows = export(&s);
    assert_eq!(rows.lines().count(), 201);
    let url = s.url.clone();
    assert_eq!(s.stop(), 0);

    // Same folder: the same champion, challenger, split and rows.
    let restart = |old: &str| {
        let s = Server::start_with(&dir, &["--state-dir", &state_arg], &[(TOKEN_VAR, TOKEN)]);
        // The environment follows the server to its new port.
        let toml = t.read("mlops.toml").replace(old, &s.url);
        t.write("mlops.toml", toml);
        s
    };
    let s = restart(&url);
    assert!(
        s.stderr().contains("restored house-price from"),
        "{}",
        s.stderr()
    );
    let after = models(&s);
    for k in ["champion", "challenger", "previous"] {
        assert_eq!(after[k]["version"], before[k]["version"], "{k}");
        assert_eq!(after[k]["sha256"], before[k]["sha256"], "{k}");
    }
    assert_eq!(after["challenger_percent"], 30);
    assert_eq!(export(&s), rows);
    assert_eq!(s.get("/v2/health/ready").status(), 200);

    // deploy finds the server as it left it: the promote works from there.
    let doc = t
        .run_args(["--json", "deploy", "prod", "--promote"])
        .success()
        .json();
    assert_eq!(doc["previous"], "v1.0.0", "{doc}");
    // A rollback, a restart, and deploying the stage's version is a no-op.
    t.run_args(["-q", "rollback", "prod", "--yes"]).success();
    assert_eq!(models(&s)["champion"]["version"], "v1.0.0");
    let url = s.url.clone();
    assert_eq!(s.stop(), 0);
    let s = restart(&url);
    assert_eq!(models(&s)["champion"]["version"], "v1.0.0");
    assert_eq!(models(&s)["previous"]["version"], "v1.1.0");
    t.run_args(["deploy", "prod", "--version", "v1.0.0"])
        .success()
        .stdout_contains("Up to date:")
        .stdout_lacks("from nothing");
    // Only the bundles the slots name are kept.
    let bundles = std::fs::read_dir(state.join("bundles")).unwrap().count();
    assert_eq!(bundles, 2);
    assert_eq!(s.stop(), 0);
}

#[test]
fn an_unusable_state_folder_stops_the_server_with_a_sentence() {
    let t = Test::new().file("taken", "a file, not a folder");
    t.run_args(["serve", "--bind", "127.0.0.1:0", "--state-dir", "taken"])
        .code(2)
        .stderr_contains("cannot create taken/bundles")
        .stderr_contains("choose another --state-dir");
    let t = Test::new().file("state/slots.json", "{\"format\": 1, \"models\": [");
    t.run_args(["serve", "--bind", "127.0.0.1:0", "--state-dir", "state"])
        .code(3)
        .stderr_contains("state/slots.json:1: not the server's state")
        .stderr_contains("move the state folder away");
}
