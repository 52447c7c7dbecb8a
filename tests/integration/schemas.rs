//! Every `--json` output and the model artifact validate against their
//! documented JSON Schemas in `docs/schemas/` (the contract of style habit 13).

use serde_json::Value;

use crate::common::{Test, example_toml, repo, simple_toml};

#[track_caller]
pub(crate) fn check(schema_file: &str, instance: &Value) {
    let path = repo().join("docs/schemas").join(schema_file);
    let schema: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{schema_file} is not a valid schema: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{schema_file}: {errors:#?}\n{}",
        serde_json::to_string_pretty(instance).unwrap()
    );
}

#[test]
fn train_output_and_artifact_match_their_schemas() {
    let t = Test::new().toml(&example_toml()).args(["--json", "train"]);
    let doc = t.run().success().json();
    check("train.schema.json", &doc);
    check("model.schema.json", &t.read_json("models/house-price.json"));
}

#[test]
fn glm_and_missing_value_artifacts_match_the_schema() {
    let csv = "a,c,y\n1,p,2\n2,,3\n3,q,5\n4,p,4\n,q,7\n6,p,6\n7,q,9\n";
    for extra in [
        "categorical = [\"c\"]\nmissing = \"mean\"",
        "categorical = [\"c\"]\nmissing = \"drop-row\"",
    ] {
        let t = Test::new()
            .toml(&simple_toml(extra))
            .file("d.csv", csv)
            .args(["train"]);
        t.run().success();
        check("model.schema.json", &t.read_json("out/m.json"));
    }
    let glm = simple_toml("").replace(
        "name = \"m\"",
        "name = \"m\"\nkind = \"glm\"\npower = 1.5\nlink = \"log\"",
    );
    let t = Test::new()
        .toml(&glm)
        .file("d.csv", "a,y\n1,2\n2,3\n3,5\n4,4\n5,7\n6,6\n")
        .args(["--json", "train"]);
    check("train.schema.json", &t.run().success().json());
    check("model.schema.json", &t.read_json("out/m.json"));
}

#[test]
fn predict_and_init_outputs_match_their_schemas() {
    let t = Test::new().toml(&example_toml()).args(["train"]);
    t.run().success();
    let t = t.args([
        "--json",
        "predict",
        "--model",
        "models/house-price.json",
        "--input",
        &crate::common::example_csv().display().to_string(),
        "--output",
        "p.csv",
    ]);
    check("predict.schema.json", &t.run().success().json());
    let t = Test::new().args(["--json", "init", "new", "--example"]);
    check("init.schema.json", &t.run().success().json());
}

#[test]
fn schemas_reject_broken_documents() {
    let t = Test::new().toml(&example_toml()).args(["train"]);
    t.run().success();
    let mut model = t.read_json("models/house-price.json");
    model["rows"]["total"] = Value::from("2000");
    model["surprise"] = Value::from(1);
    let schema: Value = serde_json::from_slice(
        &std::fs::read(repo().join("docs/schemas/model.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert_eq!(validator.iter_errors(&model).count(), 2);
}

#[test]
fn registry_outputs_match_their_schemas() {
    let (t, _) = crate::common::packaged_project();
    check(
        "package.schema.json",
        &t.run_args(["--json", "package", "--dry-run"])
            .success()
            .json(),
    );
    check(
        "package.schema.json",
        &t.run_args(["--json", "package"]).success().json(),
    );
    check(
        "models.schema.json",
        &t.run_args(["--json", "models"]).success().json(),
    );
    check(
        "history.schema.json",
        &t.run_args(["--json", "history"]).success().json(),
    );
    let c = t.repo().head().unwrap().target().unwrap();
    t.tag(
        "house-price#prod#1",
        c,
        2_000_000_000,
        "Assigning stage prod to artifact house-price version v0.0.1",
    );
    t.tag(
        "other@deprecated",
        c,
        2_000_000_001,
        "Deprecating artifact 'other'",
    );
    check(
        "models.schema.json",
        &t.run_args(["--json", "models"]).success().json(),
    );
    let h = t.run_args(["--json", "history"]).success().json();
    assert_eq!(h["events"].as_array().unwrap().len(), 3);
    check("history.schema.json", &h);
}

#[test]
fn abtest_outputs_match_their_schema() {
    let mut cont = String::from("variant,y,pre,user\n");
    let mut bin = String::from("variant,y\n");
    for i in 0..60 {
        cont.push_str(&format!(
            "A,{},{},a{i}\nB,{},{},b{i}\nC,{},{},c{i}\n",
            i % 7,
            i % 5,
            i % 7 + 1,
            i % 5,
            i % 3,
            i % 4
        ));
        bin.push_str(&format!(
            "A,{}\nB,{}\n",
            u8::from(i % 9 == 0),
            u8::from(i % 3 == 0)
        ));
    }
    let t = Test::new().file("c.csv", cont).file("b.csv", bin);
    for args in [
        vec![
            "--input",
            "c.csv",
            "--metric",
            "y",
            "--control",
            "A",
            "--mde",
            "0.05",
        ],
        vec![
            "--input",
            "c.csv",
            "--metric",
            "y",
            "--control",
            "A",
            "--covariate",
            "pre",
            "--unit",
            "user",
        ],
        vec![
            "--input",
            "c.csv",
            "--metric",
            "y",
            "--control",
            "A",
            "--test",
            "mann-whitney",
            "--correction",
            "bh",
        ],
        vec![
            "--input",
            "b.csv",
            "--metric",
            "y",
            "--control",
            "A",
            "--kind",
            "binary",
            "--split",
            "A=0.5,B=0.5",
        ],
        vec![
            "--input",
            "b.csv",
            "--metric",
            "y",
            "--control",
            "A",
            "--kind",
            "binary",
            "--test",
            "fisher",
        ],
    ] {
        let mut all = vec!["--json", "abtest-analyze"];
        all.extend(args);
        let t = Test::new()
            .file("c.csv", t.read("c.csv"))
            .file("b.csv", t.read("b.csv"))
            .args(all);
        check("abtest.schema.json", &t.run().success().json());
    }
}

#[test]
fn validate_output_matches_its_schema() {
    let (t, _) = crate::common::packaged_project();
    let recent = repo().join("examples/house-prices/recent.csv");
    let recent = recent.display().to_string();
    // No baseline asked for, then none yet, with drift and gates.
    t.write(
        "mlops.toml",
        format!(
            "{}\n[validate.thresholds]\nr2 = {{ min = 0.95 }}\nmape = {{ max = 0.5 }}\n",
            example_toml()
        ),
    );
    let doc = t
        .run_args(["--json", "validate", "--drift-data", &recent])
        .code(1)
        .json();
    check("validate.schema.json", &doc);
    check(
        "validate.schema.json",
        &t.run_args(["--json", "validate", "--baseline", "prod"])
            .code(1)
            .json(),
    );
    // A baseline found in a stage.
    t.commit_all("gates", crate::common::GIT_TIME + 5);
    t.run_args(["package"]).success();
    t.assign("prod", "v0.0.1");
    let doc = t
        .run_args(["--json", "validate", "--baseline", "prod"])
        .code(1)
        .json();
    assert_eq!(doc["baseline"]["version"], "v0.0.1");
    check("validate.schema.json", &doc);
    // Warnings and unseen levels from --data.
    let csv = std::fs::read_to_string(crate::common::example_csv()).unwrap();
    t.write("v.csv", csv.replacen("lakeview", "harbour", 1));
    check(
        "validate.schema.json",
        &t.run_args(["--json", "validate", "--data", "v.csv"])
            .code(1)
            .json(),
    );
}

#[test]
fn deploy_and_rollback_outputs_match_their_schemas() {
    let t = crate::deploy::project(crate::deploy::LOCAL);
    let deploy = |args: &[&str]| {
        let mut a = vec!["--json", "deploy", "staging"];
        a.extend_from_slice(args);
        t.run_args(a).success().json()
    };
    check("deploy.schema.json", &deploy(&["--dry-run"]));
    check("deploy.schema.json", &deploy(&["--version", "v1.0.0"]));
    check("deploy.schema.json", &deploy(&["--version", "v1.0.0"]));
    check("deploy.schema.json", &deploy(&["--canary", "20"]));
    let rollback = |args: &[&str]| {
        let mut a = vec!["--json", "rollback", "staging"];
        a.extend_from_slice(args);
        t.run_args(a).success().json()
    };
    check("rollback.schema.json", &rollback(&["--dry-run"]));
    check("rollback.schema.json", &rollback(&[]));
    check("deploy.schema.json", &deploy(&["--canary", "20"]));
    let promoted = deploy(&["--promote"]);
    assert_eq!(promoted["strategy"], "promote");
    check("deploy.schema.json", &promoted);
    let doc = rollback(&[]);
    check("rollback.schema.json", &doc);
    // The schemas tell the two documents apart.
    let schema: Value = serde_json::from_slice(
        &std::fs::read(repo().join("docs/schemas/rollback.schema.json")).unwrap(),
    )
    .unwrap();
    assert!(
        !jsonschema::validator_for(&schema)
            .unwrap()
            .is_valid(&promoted)
    );
}

#[test]
fn show_lifecycle_canary_and_failed_push_outputs_match_their_schemas() {
    let t = crate::deploy::project(crate::deploy::LOCAL);
    t.repo()
        .remote("origin", "/nonexistent/remote.git")
        .unwrap();
    let failed = t.run_args([
        "--json",
        "deploy",
        "staging",
        "--version",
        "v1.0.0",
        "--push",
    ]);
    failed.code(5);
    let doc: Value = serde_json::from_str(&failed.stdout).unwrap();
    assert!(doc["push_failure"]["command"].is_string());
    check("deploy.schema.json", &doc);
    let canary = t
        .run_args(["--json", "deploy", "staging", "--canary", "20"])
        .success()
        .json();
    check("deploy.schema.json", &canary);
    let models = t.run_args(["--json", "models"]).success().json();
    assert_eq!(models["models"][0]["canaries"]["staging"]["percent"], 20);
    check("models.schema.json", &models);
    check(
        "history.schema.json",
        &t.run_args(["--json", "history"]).success().json(),
    );
    for v in ["house-price", "house-price@v1.0.0"] {
        check(
            "show.schema.json",
            &t.run_args(["--json", "show", v]).success().json(),
        );
    }
    check(
        "rollback.schema.json",
        &t.run_args(["--json", "rollback", "staging"])
            .success()
            .json(),
    );
    for args in [
        &["unassign", "house-price", "staging"][..],
        &["deregister", "house-price@v1.1.0"],
        &["deprecate", "house-price"],
    ] {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        check("lifecycle.schema.json", &t.run_args(a).success().json());
    }
}

#[test]
fn classifier_artifacts_match_the_schema() {
    for (file, target, model) in [
        (
            "breast.csv",
            "diagnosis",
            "kind = \"logistic\"\npositive = \"benign\"",
        ),
        (
            "wine.csv",
            "cultivar",
            "kind = \"multinomial\"\nalpha = 1.0\nmax_classes = 5\nthreshold = 0.4",
        ),
    ] {
        let path = repo().join("tests/data/logistic").join(file);
        let toml = format!(
            "[project]\nname = \"c\"\n[data]\npath = {}\ntarget = \"{target}\"\n[split]\nvalidation_fraction = 0.3\n[model]\nname = \"c\"\n{model}\n",
            serde_json::to_string(&path.display().to_string()).unwrap()
        );
        let t = Test::new().toml(&toml).args(["--json", "train"]);
        let doc = t.run().success().json();
        check("train.schema.json", &doc);
        check("model.schema.json", &t.read_json("models/c.json"));
    }
}
