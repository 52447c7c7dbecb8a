//! Hostile and corrupt inputs (issue 21, the security review): crafted
//! registry tags, broken references, missing tag objects. Each gets its
//! documented exit code and a sentence naming what is wrong.

use crate::common::{GIT_TIME, Test, example_toml};
use crate::deploy::{LOCAL, project};

/// A repository with `churn@v1.0.0` registered, and `extra` tags on it.
fn churn_registry() -> (Test, git2::Oid) {
    let t = Test::new().git_init().file("a.txt", "1");
    let c = t.commit_all("one", GIT_TIME);
    t.tag(
        "churn@v1.0.0",
        c,
        GIT_TIME + 10,
        "Registering artifact churn version v1.0.0",
    );
    (t, c)
}

/// Security review M8.
#[test]
fn a_tag_counter_of_u64_max_makes_deploy_fail_with_a_named_error_before_any_change() {
    let t = project(LOCAL);
    let c = t.repo().head().unwrap().peel_to_commit().unwrap().id();
    t.tag(
        &format!("house-price#prod#{}", u64::MAX),
        c,
        GIT_TIME + 20,
        "Assigning stage prod to artifact house-price version v1.1.0",
    );
    let before = t.tags();
    t.run_args(["deploy", "staging", "--version", "v1.0.0"])
        .code(4)
        .stderr_contains("carries the counter 18446744073709551615");
    assert_eq!(t.tags(), before, "no tag was written");
    assert!(
        !t.exists("env/staging/current"),
        "the environment is untouched"
    );
    // The registry still reads.
    t.run_args(["models"])
        .success()
        .stdout_contains("house-price");
}

/// Security review M8.
#[test]
fn a_missing_deregistration_tag_object_is_an_error_not_a_revived_version() {
    let (t, c) = churn_registry();
    t.tag(
        "churn@v1.0.0!#1",
        c,
        GIT_TIME + 11,
        "Deregistering artifact churn version v1.0.0",
    );
    let repo = t.repo();
    let oid = repo
        .find_reference("refs/tags/churn@v1.0.0!#1")
        .unwrap()
        .target()
        .unwrap()
        .to_string();
    std::fs::remove_file(t.path(format!(".git/objects/{}/{}", &oid[..2], &oid[2..]))).unwrap();
    t.run_args(["models"])
        .code(4)
        .stderr_contains("registry tag churn@v1.0.0!#1 points at object");
}

/// Security review M8.
#[test]
fn empty_or_garbled_loose_refs_do_not_hide_the_other_tags() {
    let (t, _) = churn_registry();
    std::fs::write(t.path(".git/refs/tags/x"), "").unwrap();
    std::fs::write(t.path(".git/refs/tags/y"), "garbage\n").unwrap();
    let out = t.run_args(["--json", "models"]);
    let doc = out.success().json();
    assert_eq!(doc["models"][0]["name"], "churn");
    assert_eq!(doc["models"][0]["latest"], "v1.0.0");
    t.run_args(["history", "churn"])
        .success()
        .stdout_contains("v1.0.0");
}

/// Security review M8.
#[test]
fn a_tag_dated_in_the_future_counts_as_now_and_blocks_nothing() {
    let t = project(LOCAL);
    let c = t.repo().head().unwrap().peel_to_commit().unwrap().id();
    // 2100-01-01: a bad clock somewhere.
    t.tag(
        "house-price#dev#3",
        c,
        4_102_444_800,
        "Assigning stage dev to artifact house-price version v1.1.0",
    );
    t.run_args(["-q", "deploy", "staging", "--version", "v1.0.0"])
        .success();
    assert!(t.tags().contains(&"house-price#staging#4".to_string()));
}

#[test]
fn project_files_with_many_keys_or_deep_nesting_get_exit_2_quickly() {
    let many: String = (0..100_000).fold(String::new(), |mut s, i| {
        use std::fmt::Write as _;
        let _ = writeln!(s, "k{i} = {i}");
        s
    });
    let deep_array = format!("x = {}{}\n", "[".repeat(5000), "]".repeat(5000));
    let deep_table = format!("x = {}1{}\n", "{a = ".repeat(5000), "}".repeat(5000));
    let deep_header = format!("[{}]\n", vec!["a"; 20_000].join("."));
    for (what, text) in [
        ("many keys", format!("{}\n[extra]\n{many}", example_toml())),
        ("deep array", format!("{deep_array}{}", example_toml())),
        (
            "deep inline table",
            format!("{deep_table}{}", example_toml()),
        ),
        (
            "deep table header",
            format!("{}\n{deep_header}", example_toml()),
        ),
    ] {
        let start = std::time::Instant::now();
        let t = Test::new().toml(&text).args(["-q", "train"]);
        let out = t.run();
        out.code(2);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "{what}: {:?}",
            start.elapsed()
        );
        assert!(
            out.stderr.starts_with("error: mlops.toml"),
            "{what}: {}",
            out.stderr
        );
        assert_eq!(out.stderr.lines().count(), 1, "{what}: {}", out.stderr);
    }
}

/// Security review L17.
#[test]
fn package_refuses_a_bundle_that_does_not_read_back() {
    // An artifact stored as `manifest.json` would clash with the bundle's
    // own manifest: `deploy` would refuse the bundle, so `package` does.
    let text = example_toml().replace("models/house-price.json", "manifest.json");
    assert!(text.contains("artifact = \"manifest.json\""));
    let t = Test::new()
        .toml(&text)
        .git_init()
        .env("SOURCE_DATE_EPOCH", GIT_TIME.to_string())
        .args(["-q", "train"]);
    t.run().success();
    t.commit_all("model", GIT_TIME);
    t.run_args(["package", "--version", "v1.0.0"])
        .code(4)
        .stderr_contains("the bundle just built does not read back");
    assert!(t.tags().is_empty(), "{:?}", t.tags());
    assert!(!t.exists("dist"), "no bundle was written");
}
