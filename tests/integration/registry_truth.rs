//! The registry tells the truth (issue 22): a canary is recorded beside the
//! stage's version, never as its assignment; `history` names each event;
//! `deploy` refuses when the environment and the registry disagree;
//! `show` pages a version; `deprecate`, `deregister` and `unassign` write
//! GTO's tags; a failed push says what happened and a rerun pushes. Each
//! through the real binary in a temporary git repo, and against the real
//! `gto` when `MLOPS_GTO` names one.

use serde_json::Value;

use crate::common::{Test, sha256_hex};
use crate::deploy::{LOCAL, project};

/// `gto show --json` of the test's repository, or `None` without `MLOPS_GTO`.
fn gto_show(t: &Test) -> Option<Value> {
    let gto = crate::registry::gto()?;
    Some(serde_json::from_str(&crate::registry::run_gto(&gto, t, &["show", "--json"])).unwrap())
}

fn now() -> i64 {
    mlops::registry::repo::now()
}

/// The `house-price` entry of `mlops --json models`.
fn model(t: &Test) -> Value {
    let doc = t.run_args(["--json", "models"]).success().json();
    doc["models"][0].clone()
}

/// The (event, version, stage, canary_percent) of every event of house-price.
fn events(t: &Test) -> Vec<(String, String, String, Value)> {
    let doc = t
        .run_args(["--json", "history", "house-price"])
        .success()
        .json();
    doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_string(),
                e["version"].as_str().unwrap_or("-").to_string(),
                e["stage"].as_str().unwrap_or("-").to_string(),
                e["canary_percent"].clone(),
            )
        })
        .collect()
}

#[test]
fn a_canary_stays_beside_the_champion_until_promoted_and_gto_agrees() {
    let t = project(LOCAL);
    t.run_args(["-q", "deploy", "staging", "--version", "v1.0.0"])
        .success();
    let doc = t
        .run_args(["--json", "deploy", "staging", "--canary", "20"])
        .success()
        .json();
    let tag = doc["tag"].as_str().unwrap();
    assert!(
        tag.starts_with("mlops/canary/house-price/staging/"),
        "{tag}"
    );
    let m = model(&t);
    assert_eq!(m["stages"]["staging"], "v1.0.0");
    assert_eq!(m["canaries"]["staging"]["version"], "v1.1.0");
    assert_eq!(m["canaries"]["staging"]["percent"], 20);
    t.run_args(["models"])
        .success()
        .stdout_contains("staging=v1.0.0 (canary v1.1.0 at 20 %)");
    t.run_args(["history", "house-price"])
        .success()
        .stdout_contains("canary      house-price  v1.1.0 staging at 20 %");
    if let Some(show) = gto_show(&t) {
        assert_eq!(
            show["house-price"]["stage"]["staging"], "v1.0.0",
            "{show:#}"
        );
    }
    t.run_args(["-q", "deploy", "staging", "--promote"])
        .success();
    let m = model(&t);
    assert_eq!(m["stages"]["staging"], "v1.1.0");
    assert_eq!(m["canaries"], serde_json::json!({}));
    t.run_args(["models"])
        .success()
        .stdout_contains("staging=v1.1.0\n");
    if let Some(show) = gto_show(&t) {
        assert_eq!(
            show["house-price"]["stage"]["staging"], "v1.1.0",
            "{show:#}"
        );
    }
}

#[test]
fn a_canary_written_by_0_1_0_as_an_assignment_is_read_as_a_canary() {
    let t = project(LOCAL);
    t.run_args(["-q", "deploy", "staging", "--version", "v1.0.0"])
        .success();
    let doc = t
        .run_args(["--json", "deploy", "staging", "--canary", "30"])
        .success()
        .json();
    // Make the registry what 0.1.0 wrote for that canary: an assignment.
    let repo = t.repo();
    let canary = doc["tag"].as_str().unwrap();
    repo.find_reference(&format!("refs/tags/{canary}"))
        .unwrap()
        .delete()
        .unwrap();
    let c2 = repo.head().unwrap().peel_to_commit().unwrap().id();
    t.tag(
        "house-price#staging#2",
        c2,
        now(),
        "Assigning stage staging to artifact house-price version v1.1.0\n\n{\"mlops\":{\"target\":\"local\",\"strategy\":\"canary\",\"canary_percent\":30,\"previous\":\"v1.0.0\"}}\n",
    );
    t.run_args(["models"])
        .success()
        .stdout_contains("staging=v1.0.0 (canary v1.1.0 at 30 %)");
    let ev = events(&t);
    assert_eq!(
        ev.last().unwrap(),
        &(
            "canary".to_string(),
            "v1.1.0".to_string(),
            "staging".to_string(),
            Value::from(30)
        )
    );
    // The folder runs that canary, so the registry agrees and --promote works.
    t.run_args(["-q", "deploy", "staging", "--promote"])
        .success();
    t.run_args(["models"])
        .success()
        .stdout_contains("staging=v1.1.0\n");
}

#[test]
fn a_canary_that_cannot_be_recorded_says_how_to_record_it() {
    let t = project(LOCAL);
    t.run_args(["-q", "deploy", "staging", "--version", "v1.0.0"])
        .success();
    let repo = t.repo();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    repo.tag_lightweight(
        "mlops/canary/house-price/staging/2",
        head.as_object(),
        false,
    )
    .unwrap();
    t.run_args(["deploy", "staging", "--canary", "15"])
        .code(4)
        .stderr_contains("house-price v1.1.0 is live and verified in staging but the canary could not be recorded")
        .stderr_contains("record it with `git tag -a 'mlops/canary/house-price/staging/3' -m 'Canary of artifact house-price version v1.1.0 beside stage staging at 15 % (not an assignment)");
}

#[test]
fn history_names_every_event_and_lifecycle_tags_are_gtos() {
    let t = project(LOCAL);
    t.run_args(["-q", "deploy", "staging", "--version", "v1.0.0"])
        .success();
    t.run_args(["-q", "deploy", "staging", "--canary", "25"])
        .success();
    t.run_args(["-q", "rollback", "staging"]).success();
    t.run_args(["-q", "deploy", "staging", "--canary", "50"])
        .success();
    t.run_args(["-q", "deploy", "staging", "--promote"])
        .success();
    // unassign: the older holder of the stage comes back, as in GTO.
    let doc = t
        .run_args(["--json", "unassign", "house-price", "staging"])
        .success()
        .json();
    assert_eq!(doc["version"], "v1.1.0");
    assert!(
        doc["tag"]
            .as_str()
            .unwrap()
            .starts_with("house-price#staging!#")
    );
    assert_eq!(model(&t)["stages"]["staging"], "v1.0.0");
    if let Some(show) = gto_show(&t) {
        assert_eq!(
            show["house-price"]["stage"]["staging"], "v1.0.0",
            "{show:#}"
        );
    }
    t.run_args(["unassign", "house-price", "prod"])
        .code(4)
        .stderr_contains("house-price has no version in stage prod");
    // deregister: the version leaves the registry and deploy refuses it.
    t.run_args(["deregister", "house-price@v1.1.0"])
        .success()
        .stdout_contains("Deregistered house-price@v1.1.0");
    assert_eq!(model(&t)["latest"], "v1.0.0");
    if let Some(show) = gto_show(&t) {
        assert_eq!(show["house-price"]["version"], "v1.0.0", "{show:#}");
    }
    t.run_args(["deploy", "staging", "--version", "v1.1.0", "--force"])
        .code(4)
        .stderr_contains("house-price@v1.1.0 was deregistered and must not ship");
    t.run_args(["deregister", "house-price@v1.1.0"])
        .code(4)
        .stderr_contains("was deregistered; choose an active version");
    t.run_args(["deregister", "house-price"])
        .code(2)
        .stderr_contains("deregister takes one version");
    // deprecate: GTO hides the model; deploy refuses it.
    t.run_args(["deprecate", "house-price"]).success();
    assert_eq!(model(&t)["deprecated"], true);
    if let Some(show) = gto_show(&t) {
        assert!(
            show.get("house-price").is_none(),
            "gto hides a deprecated model: {show:#}"
        );
    }
    t.run_args(["deploy", "staging"])
        .code(4)
        .stderr_contains("house-price is deprecated in the registry");
    let kinds: Vec<(String, String, String, Value)> = events(&t);
    let expected = [
        ("register", "v1.0.0", "-", Value::Null),
        ("register", "v1.1.0", "-", Value::Null),
        ("deploy", "v1.0.0", "staging", Value::Null),
        ("canary", "v1.1.0", "staging", Value::from(25)),
        ("rollback", "v1.0.0", "staging", Value::Null),
        ("canary", "v1.1.0", "staging", Value::from(50)),
        ("promote", "v1.1.0", "staging", Value::Null),
        ("unassign", "v1.1.0", "staging", Value::Null),
        ("deregister", "v1.1.0", "-", Value::Null),
        ("deprecate", "v1.1.0", "-", Value::Null),
    ];
    let expected: Vec<(String, String, String, Value)> = expected
        .iter()
        .map(|(a, b, c, d)| ((*a).into(), (*b).into(), (*c).into(), d.clone()))
        .collect();
    assert_eq!(kinds, expected);
    let text = t.run_args(["history"]).success().stdout.clone();
    for word in ["  deploy  ", "  rollback  ", "  promote  ", "  unassign  "] {
        assert!(text.contains(word), "{word}\n{text}");
    }
}

#[test]
fn deploy_refuses_when_the_environment_and_the_registry_disagree() {
    let t = project(LOCAL);
    t.run_args(["-q", "deploy", "staging", "--version", "v1.0.0"])
        .success();
    // A crash between the switch and the tag: the next tag name is taken.
    let repo = t.repo();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    repo.tag_lightweight("house-price#staging#2", head.as_object(), false)
        .unwrap();
    t.run_args(["deploy", "staging"]).code(4);
    let tags = t.tags();
    t.run_args(["deploy", "staging", "--version", "v1.0.0"])
        .code(4)
        .stderr_contains("error: staging serves champion v1.1.0 of house-price but the registry says champion v1.0.0")
        .stderr_contains("rerun with --force to deploy anyway");
    t.run_args(["rollback", "staging"])
        .code(4)
        .stderr_contains("rerun with --force to roll back anyway");
    assert_eq!(t.tags(), tags);
    // --force acts: the registry records what now runs.
    repo.find_reference("refs/tags/house-price#staging#2")
        .unwrap()
        .delete()
        .unwrap();
    t.run_args(["-q", "deploy", "staging", "--force"]).success();
    assert_eq!(model(&t)["stages"]["staging"], "v1.1.0");
    t.run_args(["-q", "deploy", "staging"]).success();

    // An emptied environment.
    std::fs::remove_dir_all(t.path("env/staging")).unwrap();
    t.run_args(["deploy", "staging", "--version", "v1.1.0"])
        .code(4)
        .stderr_contains("staging serves nothing of house-price but the registry says champion v1.1.0 (the environment is empty");
    t.run_args(["-q", "deploy", "staging", "--version", "v1.1.0", "--force"])
        .success();
    t.run_args(["deploy", "staging", "--version", "v1.1.0"])
        .success()
        .stdout_contains("is already live");
}

/// Review M9: a deploy killed after switching `current` and before its tag
/// leaves v1.1.0 live while the registry says v1.0.0. `rollback` must say
/// so and change nothing, never roll "back" from the registry's version.
#[test]
fn rollback_after_a_crash_between_the_switch_and_the_tag_names_the_disagreement() {
    let t = project(&LOCAL.replace("keep = 1", "keep = 3"));
    for args in [
        &["-q", "deploy", "staging", "--version", "v1.0.0"][..],
        &["-q", "deploy", "staging", "--version", "v1.1.0"],
        &["-q", "rollback", "staging"],
    ] {
        t.run_args(args).success();
    }
    assert_eq!(model(&t)["stages"]["staging"], "v1.0.0");
    // What the killed deploy of v1.1.0 did before its tag: the link swap.
    let link = t.path("env/staging/current");
    let tmp = t.path("env/staging/.current.tmp");
    std::os::unix::fs::symlink("releases/v1.1.0", &tmp).unwrap();
    std::fs::rename(&tmp, &link).unwrap();
    let tags = t.tags();
    for (cmd, verb) in [("rollback", "roll back"), ("deploy", "deploy")] {
        t.run_args([cmd, "staging"])
            .code(4)
            .stderr_contains("staging serves champion v1.1.0 of house-price but the registry says champion v1.0.0")
            .stderr_contains("a deploy stopped between the switch and its tag")
            .stderr_contains(&format!("rerun with --force to {verb} anyway"));
    }
    assert_eq!(t.tags(), tags, "nothing recorded");
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        std::path::Path::new("releases/v1.1.0"),
        "nothing changed"
    );
    // `status` reports the drift too.
    t.run_args(["status", "staging"]).code(1);
}

#[test]
fn show_pages_a_version_from_the_registry_alone() {
    let t = project(LOCAL);
    t.run_args(["-q", "deploy", "staging", "--version", "v1.0.0"])
        .success();
    t.run_args(["-q", "deploy", "staging", "--canary", "10"])
        .success();
    let doc = t
        .run_args(["--json", "show", "house-price@v1.0.0"])
        .success()
        .json();
    let art = t.read_json("models/house-price.json");
    assert_eq!(doc["version"], "v1.0.0");
    assert_eq!(doc["metrics"], art["metrics"]);
    assert_eq!(doc["data_sha256"], art["data_sha256"]);
    assert_eq!(
        doc["bundle_sha256"],
        sha256_hex(&t.read_bytes("dist/house-price-v1.0.0.tar.gz"))
    );
    let repo = t.repo();
    let tag = repo.find_reference("refs/tags/house-price@v1.0.0").unwrap();
    let commit = tag.peel_to_commit().unwrap().id().to_string();
    assert_eq!(doc["commit"], commit);
    assert_eq!(doc["stages"], serde_json::json!(["staging"]));
    assert_eq!(doc["latest"], false);
    let ev: Vec<&str> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(ev, ["register", "deploy"]);
    // The default is the latest, canarying in staging.
    let latest = t
        .run_args(["--json", "show", "house-price"])
        .success()
        .json();
    assert_eq!(latest["version"], "v1.1.0");
    assert_eq!(latest["canaries"]["staging"], 10);
    t.run_args(["show", "house-price"])
        .success()
        .stdout_contains("house-price@v1.1.0 (active, latest)")
        .stdout_contains("staging (canary at 10 %)")
        .stdout_contains(&format!(
            "bundle     {}",
            sha256_hex(&t.read_bytes("dist/house-price-v1.1.0.tar.gz"))
        ));
    t.run_args(["show", "house-price@v9.0.0"])
        .code(4)
        .stderr_contains("house-price has no version v9.0.0 (versions: v1.0.0, v1.1.0)");
    t.run_args(["show", "house-price@9"])
        .code(2)
        .stderr_contains("is not a version");
    t.run_args(["show", "nobody"])
        .code(4)
        .stderr_contains("there is no model nobody in the registry");
}

#[test]
fn a_failed_push_says_what_happened_and_a_rerun_pushes() {
    let t = project(LOCAL);
    let remote_dir = tempfile::tempdir().unwrap();
    let bare = remote_dir.path().join("origin.git");
    t.repo()
        .remote("origin", &bare.display().to_string())
        .unwrap();
    let out = t.run_args(["deploy", "staging", "--version", "v1.0.0", "--push"]);
    out.code(5)
        .stdout_contains("Deployed house-price v1.0.0 in staging")
        .stdout_contains("tag       house-price#staging#1")
        .stdout_contains("not pushed to origin")
        .stderr_contains("deployed house-price v1.0.0 in staging and tagged it in the local repository, but could not push")
        .stderr_contains("push them with `git push origin 'refs/tags/house-price#staging#1'`");
    assert_eq!(model(&t)["stages"]["staging"], "v1.0.0");
    // The remote comes back: a rerun pushes what is still local.
    git2::Repository::init_bare(&bare).unwrap();
    let push = ["deploy", "staging", "--version", "v1.0.0", "--push"];
    let doc = t.run_args(["--json"].iter().chain(&push)).success().json();
    assert_eq!(doc["changed"], false);
    assert_eq!(doc["pushed"], true);
    assert_eq!(
        doc["pushed_tags"],
        serde_json::json!([
            "house-price@v1.0.0",
            "house-price@v1.1.0",
            "house-price#staging#1"
        ])
    );
    let remote = git2::Repository::open_bare(&bare).unwrap();
    assert!(
        remote
            .find_reference("refs/tags/house-price#staging#1")
            .is_ok()
    );
    t.run_args(push)
        .success()
        .stdout_contains("pushed    to origin: nothing left to push");
}
