//! `mlops init`: scaffolds, never overwrites, keeps `dist/` out of git.

use crate::common::Test;

#[test]
fn creates_project_file_and_gitignore() {
    let t = Test::new().args(["init"]);
    t.run()
        .success()
        .stdout_contains("created mlops.toml")
        .stdout_contains("created .gitignore");
    assert!(t.read("mlops.toml").contains("[data]"));
    assert!(t.read(".gitignore").lines().any(|l| l == "dist/"));
    assert!(!t.exists("data"), "no example data without --example");
}

#[test]
fn creates_the_folder_given() {
    let t = Test::new().args(["init", "proj"]);
    t.run().success().stdout_contains("created proj/mlops.toml");
    assert!(t.exists("proj/mlops.toml"));
    assert!(t.exists("proj/.gitignore"));
}

#[test]
fn project_is_named_after_a_new_folder() {
    let t = Test::new().args(["init", "house-prices"]);
    t.run().success();
    let toml = t.read("house-prices/mlops.toml");
    assert!(toml.contains("name = \"house-prices\""), "{toml}");
}

#[test]
fn example_project_trains() {
    let t = Test::new()
        .dir("Shop")
        .current_dir("Shop")
        .args(["init", "--example"]);
    t.run()
        .success()
        .stdout_contains("created data/train.csv")
        .stdout_contains("mlops train");
    assert_eq!(
        t.read("Shop/data/train.csv"),
        std::fs::read_to_string(crate::common::example_csv()).unwrap()
    );
    assert!(t.read("Shop/mlops.toml").contains("name = \"shop\""));
    let t = t.args(["train"]);
    t.run().success().stdout_contains("Wrote models/shop.json");
    assert_eq!(t.read_json("Shop/models/shop.json")["target"], "price");
}

#[test]
fn second_init_changes_nothing() {
    let t = Test::new().args(["init", "--example"]);
    t.run().success();
    let before = t.snapshot();
    t.run()
        .code(2)
        .stderr_contains("error: mlops.toml, data/train.csv and data/recent.csv already exist")
        .stderr_contains("init never overwrites a file");
    assert_eq!(t.snapshot(), before);
}

#[test]
fn second_init_message_agrees_in_number() {
    let t = Test::new().args(["init", "--example"]);
    t.run().success();
    t.run()
        .code(2)
        .stderr_contains("error: mlops.toml, data/train.csv and data/recent.csv already exist;");
}

#[test]
fn existing_data_file_stops_init_before_any_write() {
    let t = Test::new()
        .file("data/train.csv", "mine\n")
        .args(["init", "--example"]);
    t.run().error(
        2,
        "data/train.csv already exists; init never overwrites a file: move it away or pick another folder",
    );
    assert!(!t.exists("mlops.toml"));
    assert!(!t.exists(".gitignore"));
    assert_eq!(t.read("data/train.csv"), "mine\n");
}

#[test]
fn existing_gitignore_gets_dist_once() {
    let t = Test::new().file(".gitignore", "target/").args(["init"]);
    t.run()
        .success()
        .stdout_contains("updated .gitignore (added dist/, deploy/)");
    assert_eq!(t.read(".gitignore"), "target/\ndist/\ndeploy/\n");

    std::fs::remove_file(t.path("mlops.toml")).unwrap();
    t.run().success().stdout_lacks(".gitignore");
    assert_eq!(t.read(".gitignore"), "target/\ndist/\ndeploy/\n");
}

#[test]
fn gitignore_that_already_ignores_dist_is_left_alone() {
    let t = Test::new()
        .file(".gitignore", "/dist\n*.log\n")
        .args(["init"]);
    t.run().success().stdout_contains("(added deploy/)");
    assert_eq!(t.read(".gitignore"), "/dist\n*.log\ndeploy/\n");
    let t = Test::new()
        .file(".gitignore", "/dist\ndeploy\n")
        .args(["init"]);
    t.run().success().stdout_lacks(".gitignore");
    assert_eq!(t.read(".gitignore"), "/dist\ndeploy\n");
}

#[test]
fn json_lists_what_was_created() {
    let t = Test::new().args(["--json", "init", "--example"]);
    let doc = t.run().success().json();
    assert_eq!(
        doc["created"],
        serde_json::json!([
            "mlops.toml",
            "data/train.csv",
            "data/recent.csv",
            ".gitignore"
        ])
    );
    assert_eq!(doc["updated"], serde_json::json!([]));
    assert_eq!(doc["added"], serde_json::json!([]));
}

/// The scaffold shows every table with working defaults: a project made by
/// `init --example` goes through the quick start's journey with no edits.
#[test]
fn example_scaffold_runs_the_whole_journey_with_no_edits() {
    let t = Test::new()
        .git_init()
        .env("SOURCE_DATE_EPOCH", crate::common::GIT_TIME.to_string())
        .args(["init", "--example"]);
    t.run().success();
    let toml = t.read("mlops.toml");
    for table in [
        "[project]",
        "[data]",
        "[split]",
        "[model]",
        "[validate.thresholds]",
        "[validate.baseline]",
        "[validate.drift]",
        "[registry]",
        "[environments.staging]",
        "[environments.prod]",
        "[serve]",
    ] {
        assert!(toml.contains(table), "{table} missing:\n{toml}");
    }
    assert!(toml.contains("mlops help project-file"), "{toml}");
    t.run_args(["train"]).success();
    t.run_args(["validate"])
        .success()
        .stdout_contains("drift")
        .stdout_contains("PASSED");
    t.commit_all("model", crate::common::GIT_TIME);
    t.run_args(["package"]).success().stdout_contains("@v0.0.1");
    t.run_args(["deploy", "staging", "--yes"]).success();
    t.run_args(["deploy", "prod", "--yes"]).success();
    assert!(t.exists("deploy/staging") && t.exists("deploy/prod"));
    t.run_args(["models"]).success().stdout_contains("prod");
    // The baseline is now the version in prod.
    t.run_args(["validate"])
        .success()
        .stdout_contains("baseline");
    // deploy/ and dist/ are ignored, so the work tree stays clean.
    let repo = t.repo();
    let mut opts = git2::StatusOptions::new();
    opts.include_ignored(false).include_untracked(true);
    let statuses = repo.statuses(Some(&mut opts)).unwrap();
    let dirty: Vec<String> = statuses
        .iter()
        .filter_map(|s| s.path().ok().map(str::to_string))
        .filter(|p| !p.starts_with(".home"))
        .collect();
    assert!(dirty.is_empty(), "{dirty:?}");
}

#[test]
fn help_topics_print_the_docs_offline() {
    let doc = std::fs::read_to_string(crate::common::repo().join("docs/project-file.md")).unwrap();
    Test::new()
        .args(["help", "project-file"])
        .run()
        .success()
        .stdout_eq(&doc);
    Test::new()
        .args(["--help"])
        .run()
        .success()
        .stdout_contains("mlops help TOPIC")
        .stdout_contains("project-file");
    Test::new()
        .args(["help", "train"])
        .run()
        .success()
        .stdout_contains("Fit the model");
}
