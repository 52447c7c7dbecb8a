//! The project file: errors that exit 2 naming the key, its line and the
//! nearest valid key; finding the file (-C, `MLOPS_CONFIG`, parent folders).

use crate::common::{Test, simple_toml};

const DATA: &str = "a,b,y\n1,2,-3\n2,1,2\n3,5,-8\n4,3,0\n5,8,-13\n6,2,7\n";

/// Train with this project file: expect exit 2 and exactly `error: {msg}`.
#[track_caller]
fn bad_toml(toml: &str, msg: &str) {
    let t = Test::new().toml(toml).file("d.csv", DATA).args(["train"]);
    t.run().error(2, msg);
    assert!(!t.exists("out"), "nothing may be written");
    assert!(!t.exists("models"), "nothing may be written");
}

#[test]
fn unknown_key_in_data() {
    bad_toml(
        "[data]\npath = \"d.csv\"\ntarget = \"y\"\npaht = \"x\"\n[model]\nname = \"m\"\n",
        "mlops.toml:4: unknown key \"data.paht\"; did you mean \"data.path\"?",
    );
}

#[test]
fn unknown_key_in_model() {
    bad_toml(
        "[data]\npath = \"d.csv\"\ntarget = \"y\"\n\n[model]\nnmae = \"m\"\n",
        "mlops.toml:6: unknown key \"model.nmae\"; did you mean \"model.name\"?",
    );
}

#[test]
fn typo_in_a_section_name() {
    bad_toml(
        "[data]\npath = \"d.csv\"\ntarget = \"y\"\n[splitt]\nseed = 1\n[model]\nname = \"m\"\n",
        "mlops.toml:4: unknown key \"splitt\"; did you mean \"split\"?",
    );
}

#[test]
fn wrong_type_number() {
    bad_toml(
        "[data]\npath = \"d.csv\"\ntarget = \"y\"\n[split]\nseed = \"x\"\n[model]\nname = \"m\"\n",
        "mlops.toml:5: key \"split.seed\" has the wrong type (the string \"x\", expected a whole number of at least 0); see docs/project-file.md",
    );
}

#[test]
fn wrong_type_boolean() {
    bad_toml(
        "[data]\npath = \"d.csv\"\ntarget = \"y\"\n[model]\nname = \"m\"\nfit_intercept = \"yes\"\n",
        "mlops.toml:6: key \"model.fit_intercept\" has the wrong type (the string \"yes\", expected true or false); see docs/project-file.md",
    );
}

#[test]
fn value_outside_a_closed_set_suggests_the_nearest() {
    bad_toml(
        "[data]\npath = \"d.csv\"\ntarget = \"y\"\nmissing = \"drop\"\n[model]\nname = \"m\"\n",
        "mlops.toml:4: key \"data.missing\" = \"drop\" is not allowed; did you mean \"drop-row\"?",
    );
}

#[test]
fn out_of_range_value() {
    bad_toml(
        "[data]\npath = \"d.csv\"\ntarget = \"y\"\n[split]\nvalidation_fraction = 1.5\n[model]\nname = \"m\"\n",
        "mlops.toml:5: key \"split.validation_fraction\" = 1.5 must be at least 0 and below 1",
    );
}

#[test]
fn missing_required_key() {
    bad_toml(
        "[data]\npath = \"d.csv\"\n[model]\nname = \"m\"\n",
        "mlops.toml:1: missing key \"data.target\" in [data]; add it (see docs/project-file.md)",
    );
}

#[test]
fn missing_required_table() {
    bad_toml(
        "# no [model]\n[data]\npath = \"d.csv\"\ntarget = \"y\"\n",
        "mlops.toml: missing table [model]; add it (see docs/project-file.md)",
    );
}

#[test]
fn missing_required_table_when_line_one_is_a_table() {
    bad_toml(
        "[data]\npath = \"d.csv\"\ntarget = \"y\"\n",
        "mlops.toml: missing table [model]; add it (see docs/project-file.md)",
    );
}

#[test]
fn toml_syntax_error() {
    let t = Test::new()
        .toml("[data\npath = \"d.csv\"\n")
        .file("d.csv", DATA)
        .args(["train"]);
    t.run()
        .code(2)
        .stderr_contains("error: mlops.toml:1: ")
        .stderr_contains("; fix the TOML syntax");
}

#[test]
fn missing_data_file() {
    bad_toml(
        "[data]\npath = \"nope.csv\"\ntarget = \"y\"\n[model]\nname = \"m\"\n",
        "mlops.toml:2: data.path = nope.csv does not exist; check the path (it is relative to the project file)",
    );
}

#[test]
fn config_flag_to_a_missing_file() {
    let t = Test::new().args(["-C", "nope.toml", "train"]);
    t.run().error(
        2,
        "project file nope.toml does not exist; check -C/--config or MLOPS_CONFIG",
    );
}

#[test]
fn config_flag_to_a_file_and_to_a_folder() {
    let t = Test::new()
        .file("proj/p.toml", simple_toml(""))
        .file("proj/d.csv", DATA)
        .args(["--config", "proj/p.toml", "train"]);
    t.run().success();
    assert!(
        t.exists("proj/out/m.json"),
        "paths are relative to the project file"
    );

    let t = Test::new()
        .file("proj/mlops.toml", simple_toml(""))
        .file("proj/d.csv", DATA)
        .args(["-C", "proj", "train"]);
    t.run().success();
    assert!(t.exists("proj/out/m.json"));
}

#[test]
fn mlops_config_env_is_honoured() {
    let t = Test::new()
        .file("conf/p.toml", simple_toml(""))
        .file("conf/d.csv", DATA)
        .env("MLOPS_CONFIG", "conf/p.toml")
        .args(["train"]);
    t.run().success();
    assert!(t.exists("conf/out/m.json"));

    let t = Test::new().env("MLOPS_CONFIG", "nope.toml").args(["train"]);
    t.run().error(
        2,
        "project file nope.toml does not exist; check -C/--config or MLOPS_CONFIG",
    );
}

#[test]
fn config_flag_beats_mlops_config() {
    let t = Test::new()
        .file("good/mlops.toml", simple_toml(""))
        .file("good/d.csv", DATA)
        .env("MLOPS_CONFIG", "nope.toml")
        .args(["-C", "good/mlops.toml", "train"]);
    t.run().success();
    assert!(t.exists("good/out/m.json"));
}

#[test]
fn discovered_from_a_subfolder() {
    let t = Test::new()
        .toml(&simple_toml(""))
        .file("d.csv", DATA)
        .current_dir("a/b")
        .args(["train"]);
    t.run().success();
    assert!(
        t.exists("out/m.json"),
        "the artifact is relative to the project file"
    );
    assert!(!t.exists("a/b/out"));
}

#[test]
fn nearest_project_file_wins() {
    let t = Test::new()
        .toml("this is not toml")
        .file("a/mlops.toml", simple_toml(""))
        .file("a/d.csv", DATA)
        .current_dir("a/b")
        .args(["train"]);
    t.run().success();
    assert!(t.exists("a/out/m.json"));
}

#[test]
fn errors_found_from_a_subfolder_name_the_file() {
    let t = Test::new()
        .toml("[data]\npath = \"d.csv\"\ntarget = \"y\"\npaht = \"x\"\n[model]\nname = \"m\"\n")
        .current_dir("sub")
        .args(["train"]);
    let root = t.root();
    t.run().error(
        2,
        &format!(
            "{}:4: unknown key \"data.paht\"; did you mean \"data.path\"?",
            root.join("mlops.toml").display()
        ),
    );
}

#[test]
fn no_project_file_anywhere() {
    let t = Test::new().args(["train"]);
    let root = t.root();
    if root
        .ancestors()
        .skip(1)
        .any(|d| d.join("mlops.toml").is_file())
    {
        eprintln!(
            "skipped: a parent of {} holds an mlops.toml",
            root.display()
        );
        return;
    }
    t.run().error(
        2,
        &format!(
            "no mlops.toml in {} or any parent folder; run `mlops init` to create one or pass -C PATH",
            root.display()
        ),
    );
}
