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
        .stderr_contains("error: mlops.toml and data/train.csv already exist")
        .stderr_contains("init never overwrites a file");
    assert_eq!(t.snapshot(), before);
}

#[test]
fn second_init_message_agrees_in_number() {
    let t = Test::new().args(["init", "--example"]);
    t.run().success();
    t.run()
        .code(2)
        .stderr_contains("error: mlops.toml and data/train.csv already exist;");
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
        .stdout_contains("updated .gitignore (added dist/)");
    assert_eq!(t.read(".gitignore"), "target/\ndist/\n");

    std::fs::remove_file(t.path("mlops.toml")).unwrap();
    t.run().success().stdout_lacks(".gitignore");
    assert_eq!(t.read(".gitignore"), "target/\ndist/\n");
}

#[test]
fn gitignore_that_already_ignores_dist_is_left_alone() {
    let t = Test::new()
        .file(".gitignore", "/dist\n*.log\n")
        .args(["init"]);
    t.run().success();
    assert_eq!(t.read(".gitignore"), "/dist\n*.log\n");
}

#[test]
fn json_lists_what_was_created() {
    let t = Test::new().args(["--json", "init", "--example"]);
    let doc = t.run().success().json();
    assert_eq!(
        doc["created"],
        serde_json::json!(["mlops.toml", "data/train.csv", ".gitignore"])
    );
    assert_eq!(doc["updated"], serde_json::json!([]));
}
