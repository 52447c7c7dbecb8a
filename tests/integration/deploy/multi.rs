//! An environment spread over three targets — two real `mlops serve` on
//! loopback ports and one `local` folder — deployed all-or-none: a clean
//! rollout, a failed smoke test on the second target, a server killed
//! after the first commit, and the deploying process SIGKILLed at every
//! journal step followed by `--resume` and, separately, `--abort`. After
//! each, every target serves the same version and the registry (and
//! `mlops status`) agrees.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Fake, Faults, TOKEN, TOKEN_VAR, project, stage, stage_tags};
use crate::common::Test;
use crate::serve::Server;

/// `mlops serve` with no model, its admin token in `TOKEN_VAR`, its state
/// kept in its folder (so that a restart keeps what it was given).
fn server() -> (Server, Test) {
    let dir = Test::new().file(
        "mlops.toml",
        format!("[serve]\nadmin_token_env = \"{TOKEN_VAR}\"\nstate_dir = \"state\"\n"),
    );
    let s = Server::start_with(&dir, &[], &[(TOKEN_VAR, TOKEN)]);
    (s, dir)
}

fn http_target(name: &str, url: &str, order: i64) -> String {
    format!(
        "[targets.{name}]\ntarget = \"http\"\nurl = \"{url}\"\ntoken_env = \"{TOKEN_VAR}\"\nregion = \"{name}-1\"\norder = {order}\nsmoke_rows = 4\nhealth = {{ timeout_s = 5, retries = 2 }}\n"
    )
}

/// prod = dr (local, standby) + eu + us (http, active, in that order).
fn envs(eu: &str, us: &str) -> String {
    format!(
        "[environments.prod]\ntargets = [\"eu\", \"us\", \"dr\"]\n\n[targets.dr]\ntarget = \"local\"\npath = \"env/dr\"\nrole = \"standby\"\n\n{}\n{}",
        http_target("eu", eu, 1),
        http_target("us", us, 2)
    )
}

/// What each target serves (champion, challenger), from `mlops status`.
fn serving(t: &Test) -> (Value, i32) {
    let out = t.run_args(["--json", "status", "prod"]);
    let code = out.status.code().unwrap();
    let doc = out.json();
    crate::schemas::check("status.schema.json", &doc);
    (doc, code)
}

/// Every target serves `version` with no challenger, the registry says
/// `version`, and `mlops status` exits 0.
#[track_caller]
fn all_on(t: &Test, version: &str) {
    let (doc, code) = serving(t);
    let env = &doc["environments"][0];
    for tg in env["targets"].as_array().unwrap() {
        assert_eq!(tg["serving"], version, "{doc:#}");
        assert_eq!(tg["challenger"], Value::Null, "{doc:#}");
    }
    assert_eq!(stage(t, "prod").as_deref(), Some(version), "{doc:#}");
    assert_eq!(code, 0, "{doc:#}");
}

/// The unfinished journal, else the one written last.
fn journal(t: &Test) -> Option<Value> {
    let rd = std::fs::read_dir(t.path(".mlops/deploys")).ok()?;
    let mut all: Vec<(bool, std::time::SystemTime, Value)> = rd
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| {
            let v: Value = serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
            let open = v["phase"] != "done" && v["phase"] != "aborted";
            Some((open, e.metadata().ok()?.modified().ok()?, v))
        })
        .collect();
    all.sort_by_key(|a| (a.0, a.1));
    all.pop().map(|(_, _, v)| v)
}

/// Start `mlops deploy ARGS` pausing after journal step `k` until `go`
/// exists; wait until the journal reaches step k.
fn paused(t: &Test, args: &[&str], k: u64) -> (Child, PathBuf) {
    let go = t.path(format!("go-{k}"));
    let _ = std::fs::remove_file(&go);
    let mut cmd: Command = t.command_args(args);
    cmd.env("MLOPS_TEST_DEPLOY_PAUSE", format!("{k}:{}", go.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let j = journal(t).unwrap_or(Value::Null);
        let open = j["phase"] != "done" && j["phase"] != "aborted";
        if open && j["step"].as_u64() == Some(k) {
            break;
        }
        if let Some(code) = child.try_wait().unwrap() {
            panic!("the deploy ended ({code}) before its journal reached step {k}: {j:#}");
        }
        assert!(
            Instant::now() < deadline,
            "the journal never reached step {k}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    (child, go)
}

fn kill9(child: &mut Child) {
    let _ = child.kill(); // SIGKILL on Unix
    let _ = child.wait();
}

#[test]
fn three_targets_clean_rollout_failed_smoke_and_status() {
    let (a, _ad) = server();
    let fake = Fake::start(Faults {
        wrong_version: Some("v1.1.0".into()),
        ..Faults::default()
    });
    let t = project(&envs(&a.url, &fake.url));
    // Before anything: nothing anywhere, and status agrees.
    let (doc, code) = serving(&t);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        doc["environments"][0]["targets"].as_array().unwrap().len(),
        3
    );

    // A plan changes nothing.
    let doc = t
        .run_args([
            "--json",
            "deploy",
            "prod",
            "--version",
            "v1.0.0",
            "--dry-run",
        ])
        .success()
        .json();
    crate::schemas::check("deploy-multi.schema.json", &doc);
    assert_eq!(doc["outcome"], "plan");
    assert!(!t.exists(".mlops/deploys") || journal(&t).is_none());

    // First deploy: every target serves nothing yet; the three stage at once.
    let doc = t
        .run_args([
            "--json",
            "deploy",
            "prod",
            "--version",
            "v1.0.0",
            "--max-parallel",
            "3",
        ])
        .success()
        .json();
    crate::schemas::check("deploy-multi.schema.json", &doc);
    assert_eq!(doc["tag"], "house-price#prod#1");
    let order: Vec<&str> = doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["dr", "eu", "us"], "standby first, then by order");
    all_on(&t, "v1.0.0");

    // v1.1.0 predicts wrong on the second active target (the fake): the
    // smoke test fails while staging, every target stays on v1.0.0.
    let tags = t.tags();
    t.run_args(["deploy", "prod"])
        .code(1)
        .stderr_contains("target us")
        .stderr_contains("smoke test")
        .stderr_contains("every target was put back");
    assert_eq!(t.tags(), tags, "no tag");
    assert_eq!(fake.champion().as_deref(), Some("v1.0.0"));
    assert_eq!(fake.challenger(), None);
    all_on(&t, "v1.0.0");
    assert!(
        !t.exists("env/dr/releases/v1.1.0"),
        "the staged release is removed"
    );
}

#[test]
fn killed_at_every_step_then_resumed_or_aborted() {
    let (a, _ad) = server();
    let (b, _bd) = server();
    let t = project(&envs(&a.url, &b.url));
    t.run_args(["deploy", "prod", "--version", "v1.0.0"])
        .success();
    all_on(&t, "v1.0.0");
    // Count the steps of a clean deploy of v1.1.0, then undo it.
    t.run_args(["deploy", "prod", "--version", "v1.1.0"])
        .success();
    let steps = journal(&t).unwrap()["step"].as_u64().unwrap();
    assert!(steps >= 10, "{steps}");
    t.run_args(["rollback", "prod"]).success();
    all_on(&t, "v1.0.0");

    for k in 1..steps {
        // Killed at step k, then aborted: all old.
        let (mut child, _go) = paused(&t, &["deploy", "prod", "--version", "v1.1.0"], k);
        kill9(&mut child);
        let id = journal(&t).unwrap()["id"].as_str().unwrap().to_string();
        let (doc, code) = serving(&t);
        assert_eq!(code, 1, "an unfinished journal is reported: {doc:#}");
        assert_eq!(doc["environments"][0]["unfinished"][0]["id"], id.as_str());
        t.run_args(["deploy", "prod"])
            .code(5)
            .stderr_contains(&format!(".mlops/deploys/{id}.json"));
        t.run_args(["deploy", "prod", "--abort", &id]).success();
        all_on(&t, "v1.0.0");

        // Killed at step k again, then resumed: all new, tagged once.
        let before = stage_tags(&t, "prod").len();
        let (mut child, _go) = paused(&t, &["deploy", "prod", "--version", "v1.1.0"], k);
        kill9(&mut child);
        let id = journal(&t).unwrap()["id"].as_str().unwrap().to_string();
        t.run_args(["deploy", "prod", "--resume", &id]).success();
        all_on(&t, "v1.1.0");
        assert_eq!(stage_tags(&t, "prod").len(), before + 1, "k = {k}");
        t.run_args(["rollback", "prod", "--to", "v1.0.0"]).success();
        all_on(&t, "v1.0.0");
    }
}

#[test]
fn a_server_killed_after_the_first_commit_ends_all_old() {
    let (a, _ad) = server();
    let (b, bd) = server();
    let t = project(&envs(&a.url, &b.url));
    t.run_args(["deploy", "prod", "--version", "v1.0.0"])
        .success();
    let tags = t.tags();
    // Steps: 1 plan, 2-7 staging, 8 committing, 9-10 dr committed.
    let (mut child, go) = paused(&t, &["deploy", "prod", "--version", "v1.1.0"], 10);
    assert_eq!(journal(&t).unwrap()["targets"][0]["state"], "committed");
    let mut b = b;
    b.signal("KILL");
    let _ = b.child.wait();
    std::fs::write(&go, "").unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(5));
    assert_eq!(t.tags(), tags, "no tag");
    let j = journal(&t).unwrap();
    assert_eq!(j["phase"], "compensating", "us could not be cleaned: {j:#}");
    assert_eq!(j["failure"]["target"], "us");
    // dr and eu are back on v1.0.0 already.
    let (doc, code) = serving(&t);
    assert_eq!(code, 1);
    for tg in doc["environments"][0]["targets"].as_array().unwrap() {
        match tg["name"].as_str().unwrap() {
            "us" => assert!(tg["error"].is_string(), "{doc:#}"),
            _ => assert_eq!(tg["serving"], "v1.0.0", "{doc:#}"),
        }
    }
    // The server comes back (its state folder kept v1.0.0 and the staged
    // v1.1.0) on a new port; --abort removes what was staged.
    let b2 = Server::start_with(&bd, &[], &[(TOKEN_VAR, TOKEN)]);
    let text = t.read("mlops.toml").replace(&b.url, &b2.url);
    t.write("mlops.toml", text);
    let id = j["id"].as_str().unwrap().to_string();
    t.run_args(["deploy", "prod", "--abort", &id]).success();
    all_on(&t, "v1.0.0");
    drop(b);
}

#[test]
fn a_bake_above_max_error_ratio_puts_every_target_back() {
    let (a, _ad) = server();
    // us answers half its requests with 503 while v1.1.0 is its champion
    // (a fake: a real `mlops serve` counts no 5xx against a model — its
    // 503s for overload, timeouts or no model carry no model label).
    let fake = Fake::start(Faults {
        failing_version: Some("v1.1.0".into()),
        ..Faults::default()
    });
    let t = project(&format!(
        "{}\n[deploy]\nmax_error_ratio = 0.1\n",
        envs(&a.url, &fake.url)
    ));
    // v1.0.0 bakes cleanly: no failed request on any target.
    let doc = t
        .run_args([
            "--json",
            "deploy",
            "prod",
            "--version",
            "v1.0.0",
            "--bake",
            "1s",
        ])
        .success()
        .json();
    let us = &doc["targets"][2];
    assert_eq!(us["name"], "us");
    let bake = us["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "bake")
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert!(
        bake["detail"]
            .as_str()
            .unwrap()
            .contains("0 of 10 requests failed"),
        "{doc:#}"
    );
    all_on(&t, "v1.0.0");

    // v1.1.0: dr and eu commit and bake, us commits, then 5 of its 10
    // requests fail during the bake: compensation, exit 1, no tag.
    let tags = t.tags();
    t.run_args(["deploy", "prod", "--version", "v1.1.0", "--bake", "1s"])
        .code(1)
        .stderr_contains("target us")
        .stderr_contains("5 of 10 prediction requests failed during the 1 s bake")
        .stderr_contains("above [deploy] max_error_ratio = 0.1")
        .stderr_contains("every target was put back");
    assert_eq!(t.tags(), tags, "no tag");
    assert_eq!(fake.champion().as_deref(), Some("v1.0.0"));
    assert_eq!(fake.challenger(), None);
    let j = journal(&t).unwrap();
    assert_eq!(j["phase"], "aborted", "{j:#}");
    for tg in j["targets"].as_array().unwrap() {
        assert_eq!(tg["state"], "reverted", "{j:#}");
    }
    all_on(&t, "v1.0.0");
    assert!(!t.exists("env/dr/releases/v1.1.0"));
}

#[test]
fn a_rollback_killed_at_step_boundaries_then_resumed_or_aborted() {
    let (a, _ad) = server();
    let (b, _bd) = server();
    let t = project(&envs(&a.url, &b.url));
    t.run_args(["deploy", "prod", "--version", "v1.0.0"])
        .success();
    t.run_args(["deploy", "prod", "--version", "v1.1.0"])
        .success();
    // Count the steps of a clean rollback, then deploy v1.1.0 again.
    t.run_args(["rollback", "prod"]).success();
    all_on(&t, "v1.0.0");
    let j = journal(&t).unwrap();
    assert_eq!(j["command"], "rollback");
    let steps = j["step"].as_u64().unwrap();
    assert!(steps >= 10, "{steps}");
    t.run_args(["deploy", "prod", "--version", "v1.1.0"])
        .success();
    all_on(&t, "v1.1.0");

    // The first step, one while staging, the commits, the tag.
    let mut ks = vec![1, 3, steps / 2, steps - 2, steps - 1];
    ks.dedup();
    for k in ks {
        // Killed at step k, then aborted: all still on v1.1.0.
        let (mut child, _go) = paused(&t, &["rollback", "prod"], k);
        kill9(&mut child);
        let j = journal(&t).unwrap();
        assert_eq!(j["command"], "rollback");
        let id = j["id"].as_str().unwrap().to_string();
        let (doc, code) = serving(&t);
        assert_eq!(code, 1, "an unfinished journal is reported: {doc:#}");
        t.run_args(["rollback", "prod"])
            .code(5)
            .stderr_contains(&format!(".mlops/deploys/{id}.json"));
        t.run_args(["deploy", "prod", "--abort", &id]).success();
        all_on(&t, "v1.1.0");

        // Killed at step k again, then resumed: all on v1.0.0, tagged once
        // as a rollback.
        let before = stage_tags(&t, "prod").len();
        let (mut child, _go) = paused(&t, &["rollback", "prod"], k);
        kill9(&mut child);
        let id = journal(&t).unwrap()["id"].as_str().unwrap().to_string();
        t.run_args(["deploy", "prod", "--resume", &id]).success();
        all_on(&t, "v1.0.0");
        assert_eq!(stage_tags(&t, "prod").len(), before + 1, "k = {k}");
        let log = t.run_args(["history"]).success().stdout.clone();
        assert!(log.contains("rollback"), "k = {k}: {log}");
        t.run_args(["deploy", "prod", "--version", "v1.1.0"])
            .success();
        all_on(&t, "v1.1.0");
    }
}

#[test]
fn a_kubernetes_manifest_folder_beside_a_local_folder() {
    let t = project(
        "[environments.prod]\ntargets = [\"k8s\", \"dr\"]\n\n[targets.dr]\ntarget = \"local\"\npath = \"env/dr\"\nrole = \"standby\"\n\n[targets.k8s]\ntarget = \"kubernetes\"\npath = \"deploy/k8s\"\napply = false\nnamespace = \"ml\"\nregion = \"eu-1\"\n",
    );
    let version = |t: &Test| {
        let dep = t.read("deploy/k8s/deployment.yaml");
        ["v1.0.0", "v1.1.0"]
            .into_iter()
            .find(|v| dep.contains(&format!("mlops.dev/version: \"{v}\"")))
            .map(str::to_string)
    };
    let doc = t
        .run_args(["--json", "deploy", "prod", "--version", "v1.0.0"])
        .success()
        .json();
    crate::schemas::check("deploy-multi.schema.json", &doc);
    assert_eq!(doc["tag"], "house-price#prod#1");
    let kinds: Vec<(&str, &str)> = doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["target"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("dr", "local"), ("k8s", "kubernetes")]);
    assert_eq!(version(&t).as_deref(), Some("v1.0.0"));
    assert!(
        t.read("deploy/k8s/deployment.yaml")
            .contains("namespace: \"ml\"")
    );
    all_on(&t, "v1.0.0");

    t.run_args(["deploy", "prod"]).success();
    assert_eq!(version(&t).as_deref(), Some("v1.1.0"));
    assert!(
        !t.exists("deploy/k8s/.staged/v1.1.0"),
        "nothing left staged"
    );
    all_on(&t, "v1.1.0");

    // Killed after staging both, then aborted: the manifests are v1.1.0's
    // again and nothing staged is left.
    t.run_args(["rollback", "prod"]).success();
    all_on(&t, "v1.0.0");
    let (mut child, _go) = paused(&t, &["deploy", "prod", "--version", "v1.1.0"], 5);
    assert!(t.exists("deploy/k8s/.staged/v1.1.0/deployment.yaml"));
    kill9(&mut child);
    let id = journal(&t).unwrap()["id"].as_str().unwrap().to_string();
    t.run_args(["deploy", "prod", "--abort", &id]).success();
    assert_eq!(version(&t).as_deref(), Some("v1.0.0"));
    assert!(!t.exists("deploy/k8s/.staged/v1.1.0"));
    all_on(&t, "v1.0.0");
}
