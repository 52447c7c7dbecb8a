//! `mlops train`: the bundled example end to end, the artifact's contents,
//! exact fits on tiny tables, the split and the missing-value policies.

use serde_json::Value;

use crate::common::{Test, close, example_csv, example_toml, noisy_csv, sha256_hex, simple_toml};

/// Train `csv` (as `d.csv`) under `simple_toml(data_extra)`; return the test
/// and the artifact.
#[track_caller]
fn fit(data_extra: &str, csv: &str) -> (Test, Value) {
    let t = Test::new()
        .toml(&simple_toml(data_extra))
        .file("d.csv", csv)
        .args(["train"]);
    t.run().success();
    let a = t.read_json("out/m.json");
    (t, a)
}

/// The keys of a JSON object, in order.
fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn bundled_example_writes_a_complete_artifact() {
    let t = Test::new().toml(&example_toml()).args(["train"]);
    t.run()
        .success()
        .stdout_contains("Trained house-price")
        .stdout_contains("Wrote models/house-price.json");
    let a = t.read_json("models/house-price.json");

    assert_eq!(a["format"], "mlops.model/v2");
    assert_eq!(a["name"], "house-price");
    assert_eq!(a["kind"], "linear");
    assert_eq!(a["params"]["fit_intercept"], true);
    assert_eq!(a["target"], "price");
    let numeric = [
        "sqft",
        "bedrooms",
        "bathrooms",
        "year_built",
        "lot_size",
        "distance_km",
    ];
    let mut features: Vec<&str> = numeric.to_vec();
    features.push("neighborhood");
    assert_eq!(a["features"], serde_json::json!(features));

    // Levels sorted, the first is the reference and has no coefficient.
    let cat = &a["categorical"]["neighborhood"];
    let levels: Vec<&str> = cat["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(
        levels,
        ["downtown", "eastside", "hillcrest", "lakeview", "riverside"]
    );
    assert!(levels.is_sorted());
    assert_eq!(cat["reference"], "downtown");

    assert!(f(&a["intercept"]).is_finite());
    let mut expected_terms: Vec<String> = numeric.iter().map(ToString::to_string).collect();
    expected_terms.extend(levels[1..].iter().map(|l| format!("neighborhood={l}")));
    assert_eq!(keys(&a["coefficients"]), expected_terms);
    for (_, c) in a["coefficients"].as_object().unwrap() {
        assert!(f(c).is_finite());
    }

    // Row counts add up; the share held out is near the fraction.
    let rows = &a["rows"];
    let total = std::fs::read_to_string(example_csv())
        .unwrap()
        .lines()
        .count() as u64
        - 1;
    assert_eq!(rows["total"], total);
    assert_eq!(rows["dropped"], 0);
    let (train, valid) = (
        rows["train"].as_u64().unwrap(),
        rows["validation"].as_u64().unwrap(),
    );
    assert_eq!(train + valid, total);
    let share = valid as f64 / total as f64;
    assert!((0.15..0.25).contains(&share), "validation share {share}");

    // Metrics on both sets.
    for (set, n) in [("train", train), ("validation", valid)] {
        let m = &a["metrics"][set];
        assert_eq!(m["rows"], n, "{set}");
        for k in ["rmse", "mae", "r2", "mape"] {
            assert!(f(&m[k]).is_finite(), "metrics.{set}.{k} = {}", m[k]);
        }
        assert!(f(&m["rmse"]) >= f(&m["mae"]));
        assert!(
            f(&m["r2"]) > 0.8 && f(&m["r2"]) <= 1.0,
            "{set} r2 {}",
            m["r2"]
        );
        assert!(f(&m["mape"]) > 0.0 && f(&m["mape"]) < 1.0);
    }

    // Training statistics per feature.
    let stats = &a["feature_stats"];
    assert_eq!(keys(stats), features);
    for name in numeric {
        let s = &stats[name];
        assert_eq!(s["type"], "numeric", "{name}");
        assert_eq!(s["count"], train, "{name}");
        assert_eq!(s["missing"], 0, "{name}");
        let (mean, sd, min, max) = (f(&s["mean"]), f(&s["sd"]), f(&s["min"]), f(&s["max"]));
        assert!(min <= mean && mean <= max && sd > 0.0, "{name}: {s}");
        let d: Vec<f64> = s["deciles"].as_array().unwrap().iter().map(f).collect();
        assert_eq!(d.len(), 9, "{name}");
        assert!(d.windows(2).all(|w| w[0] <= w[1]), "{name}: {d:?}");
        assert!(min <= d[0] && d[8] <= max, "{name}: {d:?}");
    }
    let ns = &stats["neighborhood"];
    assert_eq!(ns["type"], "categorical");
    assert_eq!(keys(&ns["levels"]), levels);
    let per_level: u64 = ns["levels"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(per_level, train);
    assert_eq!(a["target_stats"]["count"], train);

    // Provenance.
    let bytes = std::fs::read(example_csv()).unwrap();
    assert_eq!(a["data_sha256"], sha256_hex(&bytes));
    assert_eq!(a["split"]["seed"], 42);
    assert_eq!(a["split"]["validation_fraction"], 0.2);
    assert_eq!(a["tool"]["name"], "mlops");
    assert_eq!(a["tool"]["version"], env!("CARGO_PKG_VERSION"));
    let created = a["created_at"].as_str().unwrap();
    assert_eq!(created.len(), 20, "{created}");
    assert!(
        created.ends_with('Z') && created.as_bytes()[10] == b'T',
        "{created}"
    );
    assert!(created >= "2024", "{created}");
}

#[test]
fn out_flag_overrides_the_artifact_path() {
    let t = Test::new()
        .toml(&example_toml())
        .args(["train", "--out", "elsewhere/model.json"]);
    t.run()
        .success()
        .stdout_contains("Wrote elsewhere/model.json");
    assert!(t.exists("elsewhere/model.json"));
    assert!(!t.exists("models"), "[model].artifact must not be written");
    assert_eq!(t.read_json("elsewhere/model.json")["name"], "house-price");
}

#[test]
fn out_flag_is_relative_to_the_current_folder() {
    let t = Test::new()
        .toml(&simple_toml(""))
        .file("d.csv", "a,y\n1,3\n2,5\n4,8\n")
        .current_dir("sub")
        .args(["train", "--output", "m.json"]);
    t.run().success();
    assert!(t.exists("sub/m.json"));
    assert!(!t.exists("out/m.json"));
}

#[test]
fn default_artifact_path_is_models_name_json() {
    let t = Test::new()
        .toml(
            "[data]\npath = \"d.csv\"\ntarget = \"y\"\nexclude = [\"id\"]\ncategorical = [\"c\"]\n[model]\nname = \"my-model\"\n",
        )
        .file("d.csv", noisy_csv(60))
        .args(["train"]);
    t.run().success();
    assert_eq!(t.read_json("models/my-model.json")["name"], "my-model");
}

#[test]
fn source_date_epoch_makes_runs_byte_identical() {
    let t = Test::new()
        .toml(&example_toml())
        .env("SOURCE_DATE_EPOCH", "0")
        .args(["train", "--out", "a.json"]);
    t.run().success();
    let t = t.args(["train", "--out", "b.json"]);
    t.run().success();
    let (a, b) = (t.read_bytes("a.json"), t.read_bytes("b.json"));
    assert_eq!(t.read_json("a.json")["created_at"], "1970-01-01T00:00:00Z");
    assert!(a == b, "two runs with SOURCE_DATE_EPOCH=0 differ");
}

#[test]
fn bad_source_date_epoch_is_a_usage_error() {
    let t = Test::new()
        .toml(&example_toml())
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .args(["train"]);
    t.run().error(
        2,
        "SOURCE_DATE_EPOCH = \"yesterday\" is not a whole number of seconds; unset it or fix it",
    );
    assert!(!t.exists("models"));
}

#[test]
fn json_report_is_one_document_matching_the_artifact() {
    let t = Test::new().toml(&example_toml()).args(["--json", "train"]);
    let out = t.run();
    out.success();
    let r = out.json();
    let a = t.read_json("models/house-price.json");
    assert_eq!(r["artifact"], "models/house-price.json");
    assert_eq!(r["intercept"], a["intercept"]);
    assert_eq!(r["coefficients"], a["coefficients"]);
    assert_eq!(r["metrics"], a["metrics"]);
    assert_eq!(r["rows"], a["rows"]);
    assert_eq!(r["data_sha256"], a["data_sha256"]);
    assert!(r["metrics"]["validation"]["r2"].is_number());
}

#[test]
fn human_report_shows_the_metrics() {
    let out = Test::new().toml(&example_toml()).args(["train"]).run();
    out.success().stderr_empty();
    for k in [
        "rmse",
        "mae",
        "r2",
        "mape",
        "train",
        "validation",
        "intercept",
    ] {
        out.stdout_contains(k);
    }
    out.stdout_contains("2000 read")
        .stdout_contains("neighborhood=eastside")
        .stdout_lacks("\x1b[");
}

#[test]
fn exact_fit_recovers_the_coefficients() {
    // y = 1 + 2a - 3b
    let (_, a) = fit(
        "",
        "a,b,y\n1,2,-3\n2,1,2\n3,5,-8\n4,3,0\n5,8,-13\n6,2,7\n-1.5,0.25,-2.75\n",
    );
    assert!(
        (f(&a["intercept"]) - 1.0).abs() < 1e-12,
        "{}",
        a["intercept"]
    );
    assert_eq!(keys(&a["coefficients"]), ["a", "b"]);
    assert!((f(&a["coefficients"]["a"]) - 2.0).abs() < 1e-12);
    assert!((f(&a["coefficients"]["b"]) + 3.0).abs() < 1e-12);
    assert!(f(&a["metrics"]["train"]["rmse"]) < 1e-12);
    assert!((f(&a["metrics"]["train"]["r2"]) - 1.0).abs() < 1e-12);
}

#[test]
fn exact_fit_without_intercept() {
    // y = 2a - 3b, through the origin.
    let csv = "a,b,y\n1,2,-4\n2,1,1\n3,5,-9\n4,3,-1\n5,8,-14\n";
    let t = Test::new()
        .toml(&simple_toml("").replace("[model]\n", "[model]\nfit_intercept = false\n"))
        .file("d.csv", csv)
        .args(["train"]);
    t.run().success();
    let a = t.read_json("out/m.json");
    assert_eq!(a["params"]["fit_intercept"], false);
    assert_eq!(a["intercept"], 0.0);
    assert_eq!(keys(&a["coefficients"]), ["a", "b"]);
    close(f(&a["coefficients"]["a"]), 2.0, 1e-12);
    close(f(&a["coefficients"]["b"]), -3.0, 1e-12);
    // With an intercept, the fit finds 0 for it.
    let (_, a1) = fit("", csv);
    assert!(f(&a1["intercept"]).abs() < 1e-12, "{}", a1["intercept"]);
}

#[test]
fn categorical_is_one_hot_with_the_first_sorted_level_as_reference() {
    // y = 1 + 2a + 5[c=q] - 4[c=r]; levels first seen in the order r, p, q.
    let (_, a) = fit(
        "categorical = [\"c\"]",
        "c,a,y\nr,1,-1\np,2,5\nq,3,12\nr,4,5\np,0,1\nq,-1,4\nr,2,1\n",
    );
    assert_eq!(
        a["categorical"]["c"]["levels"],
        serde_json::json!(["p", "q", "r"])
    );
    assert_eq!(a["categorical"]["c"]["reference"], "p");
    assert_eq!(keys(&a["coefficients"]), ["c=q", "c=r", "a"]);
    close(f(&a["intercept"]), 1.0, 1e-12);
    close(f(&a["coefficients"]["a"]), 2.0, 1e-12);
    close(f(&a["coefficients"]["c=q"]), 5.0, 1e-12);
    close(f(&a["coefficients"]["c=r"]), -4.0, 1e-12);
}

#[test]
fn categorical_without_intercept_keeps_every_level() {
    let t = Test::new()
        .toml(
            &simple_toml("categorical = [\"c\"]")
                .replace("[model]\n", "[model]\nfit_intercept = false\n"),
        )
        .file(
            "d.csv",
            "c,a,y\nr,1,-1\np,2,5\nq,3,12\nr,4,5\np,0,1\nq,-1,4\nr,2,1\n",
        )
        .args(["train"]);
    t.run().success();
    let a = t.read_json("out/m.json");
    assert_eq!(a["categorical"]["c"]["reference"], Value::Null);
    assert_eq!(keys(&a["coefficients"]), ["c=p", "c=q", "c=r", "a"]);
    assert_eq!(a["intercept"], 0.0);
    close(f(&a["coefficients"]["c=p"]), 1.0, 1e-12);
    close(f(&a["coefficients"]["c=q"]), 6.0, 1e-12);
    close(f(&a["coefficients"]["c=r"]), -3.0, 1e-12);
    close(f(&a["coefficients"]["a"]), 2.0, 1e-12);
}

#[test]
fn missing_drop_row_leaves_out_incomplete_rows() {
    // y = 1 + 2a - 3b on the complete rows; the incomplete ones would spoil it.
    let (_, a) = fit(
        "missing = \"drop-row\"",
        "a,b,y\n1,2,-3\n2,,100\n2,1,2\n3,5,-8\n,3,50\n4,3,0\n5,8,\n6,2,7\n",
    );
    assert_eq!(a["missing"]["policy"], "drop-row");
    assert_eq!(a["missing"]["fill"], serde_json::json!({}));
    assert_eq!(a["rows"]["total"], 8);
    assert_eq!(a["rows"]["dropped"], 3);
    assert_eq!(a["rows"]["train"], 5);
    close(f(&a["intercept"]), 1.0, 1e-12);
    close(f(&a["coefficients"]["a"]), 2.0, 1e-12);
    close(f(&a["coefficients"]["b"]), -3.0, 1e-12);
}

#[test]
fn missing_mean_records_the_fill_values() {
    let (_, a) = fit(
        "missing = \"mean\"\ncategorical = [\"c\"]",
        "a,b,c,y\n1,2,p,3\n2,,q,4\n3,6,,2\n5,10,q,\n6,1,q,1\n7,3,p,3\n,4,p,9\n",
    );
    assert_eq!(a["missing"]["policy"], "mean");
    // The row with an empty target is left out; fills come from the others.
    assert_eq!(a["rows"]["dropped"], 1);
    assert_eq!(a["rows"]["train"], 6);
    let fill = &a["missing"]["fill"];
    assert_eq!(keys(fill), ["a", "b", "c"]);
    close(f(&fill["a"]), (1.0 + 2.0 + 3.0 + 6.0 + 7.0) / 5.0, 1e-12);
    close(f(&fill["b"]), (2.0 + 6.0 + 1.0 + 3.0 + 4.0) / 5.0, 1e-12);
    // The most frequent level among the training rows.
    assert_eq!(fill["c"], "p");
    assert_eq!(a["feature_stats"]["a"]["missing"], 1);
    assert_eq!(a["feature_stats"]["b"]["missing"], 1);
    assert_eq!(a["feature_stats"]["c"]["missing"], 1);
}

#[test]
fn validation_fraction_zero_means_no_validation_metrics() {
    let (_, a) = fit("exclude = [\"id\"]\ncategorical = [\"c\"]", &noisy_csv(50));
    assert_eq!(a["metrics"]["validation"], Value::Null);
    assert_eq!(a["rows"]["validation"], 0);
    assert_eq!(a["rows"]["train"], 50);
    assert_eq!(a["split"]["validation_fraction"], 0.0);
}

#[test]
fn validation_path_is_used_instead_of_a_fraction() {
    let valid = "y,b,a\n-3,2,1\n2,1,2\n-9,4,1\n";
    let t = Test::new()
        .toml(
            "[data]\npath = \"d.csv\"\ntarget = \"y\"\n[split]\nvalidation_path = \"v.csv\"\n[model]\nname = \"m\"\nartifact = \"out/m.json\"\n",
        )
        .file("d.csv", "a,b,y\n1,2,-3\n2,1,2\n3,5,-8\n4,3,0\n5,8,-13\n6,2,7\n")
        .file("v.csv", valid)
        .args(["train"]);
    t.run().success();
    let a = t.read_json("out/m.json");
    assert_eq!(a["rows"]["train"], 6, "every training row is fitted");
    assert_eq!(a["rows"]["validation"], 3);
    assert_eq!(a["metrics"]["validation"]["rows"], 3);
    assert!(
        f(&a["metrics"]["validation"]["rmse"]) < 1e-9,
        "exact data, exact predictions"
    );
    assert_eq!(a["split"]["validation_path"], "v.csv");
    assert_eq!(a["split"]["validation_fraction"], 0.0);
    assert_eq!(a["validation_data_sha256"], sha256_hex(valid.as_bytes()));
}

#[test]
fn validation_path_that_does_not_exist_is_a_usage_error() {
    let t = Test::new()
        .toml(
            "[data]\npath = \"d.csv\"\ntarget = \"y\"\n[split]\nvalidation_path = \"nope.csv\"\n[model]\nname = \"m\"\nartifact = \"out/m.json\"\n",
        )
        .file("d.csv", "a,y\n1,2\n2,5\n3,3\n")
        .args(["train"]);
    t.run().error(
        2,
        "mlops.toml:5: split.validation_path = nope.csv does not exist; check the path (it is relative to the project file)",
    );
    assert!(!t.exists("out"));
}

#[test]
fn level_seen_only_in_validation_is_a_data_error() {
    let t = Test::new()
        .toml(
            "[data]\npath = \"d.csv\"\ntarget = \"y\"\ncategorical = [\"c\"]\n[split]\nvalidation_path = \"v.csv\"\n[model]\nname = \"m\"\nartifact = \"out/m.json\"\n",
        )
        .file("d.csv", "a,c,y\n1,p,3\n2,q,5\n3,p,8\n4,q,8\n")
        .file("v.csv", "a,c,y\n1,p,3\n2,zz,5\n")
        .args(["train"]);
    t.run().code(3).stderr_contains(
        "error: v.csv:3: column \"c\": level \"zz\" was not seen in training (2 known levels: p, q); it appears only in validation rows: add training rows with it, remove it from the validation file, or set data.min_level_count > 1 or data.handle_unknown = \"ignore\"",
    );
    assert!(!t.exists("out"));
}

/// Train `noisy_csv(300)` with this seed; the artifact.
fn with_seed(seed: u64) -> Value {
    let t = Test::new()
        .toml(&format!(
            "[data]\npath = \"d.csv\"\ntarget = \"y\"\nexclude = [\"id\"]\ncategorical = [\"c\"]\n[split]\nvalidation_fraction = 0.25\nseed = {seed}\n[model]\nname = \"m\"\nartifact = \"out/m.json\"\n"
        ))
        .file("d.csv", noisy_csv(300))
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(["train"]);
    t.run().success();
    t.read_json("out/m.json")
}

#[test]
fn same_seed_same_split_other_seed_other_split() {
    let a = with_seed(7);
    let b = with_seed(7);
    let c = with_seed(8);
    assert_eq!(a, b, "the same seed must give the same artifact");
    assert_eq!(a["split"]["seed"], 7);
    assert_eq!(c["split"]["seed"], 8);
    assert_ne!(
        a["metrics"]["validation"], c["metrics"]["validation"],
        "another seed must hold out other rows"
    );
    assert_ne!(a["coefficients"], c["coefficients"]);
    for m in [&a, &c] {
        let v = m["rows"]["validation"].as_u64().unwrap();
        assert!((40..110).contains(&v), "validation rows {v} of 300 at 0.25");
        assert_eq!(m["rows"]["train"].as_u64().unwrap() + v, 300);
    }
}

#[test]
fn quoted_fields_with_commas_and_newlines_parse() {
    let (_, a) = fit(
        "categorical = [\"c\"]",
        "a,c,y\n1,\"x, y\nz\",3\n2,\"q\",5\n3,q,7\n4,\"x, y\nz\",9.5\n\"5\",q,11\n",
    );
    assert_eq!(a["rows"]["total"], 5);
    assert_eq!(
        a["categorical"]["c"]["levels"],
        serde_json::json!(["q", "x, y\nz"])
    );
    assert!(
        a["coefficients"]["c=x, y\nz"].is_number(),
        "{}",
        a["coefficients"]
    );
}

#[test]
fn crlf_bom_and_blank_lines_are_read() {
    let (_, a) = fit(
        "",
        "\u{feff}a,b,y\r\n1,2,-3\r\n\r\n2,1,2\r\n3,5,-8\r\n\n4,3,0\r\n5,8,-13\r\n",
    );
    assert_eq!(a["features"], serde_json::json!(["a", "b"]));
    assert_eq!(a["rows"]["total"], 5);
    close(f(&a["coefficients"]["b"]), -3.0, 1e-12);
}

#[test]
fn quiet_and_verbose_are_accepted() {
    let t = Test::new()
        .toml(&simple_toml(""))
        .file("d.csv", "a,y\n1,3\n2,5\n4,8\n");
    t.args(["-q", "train"]).run().success().stderr_empty();
    let t = Test::new()
        .toml(&simple_toml(""))
        .file("d.csv", "a,y\n1,3\n2,5\n4,8\n");
    t.args(["-v", "train"])
        .run()
        .success()
        .stderr_contains("mlops.toml");
}

#[test]
fn number_forms_and_padded_header_names() {
    // y = 1 + 2a - 3b, written in various number forms.
    let (_, a) = fit(
        "",
        " a , b ,y\n 1e0,+2, -.3e1\n2.,1,2\n3,5.0,-8\n4,3,0E0\n5,8,-13\n",
    );
    assert_eq!(a["features"], serde_json::json!(["a", "b"]));
    close(f(&a["intercept"]), 1.0, 1e-12);
    close(f(&a["coefficients"]["a"]), 2.0, 1e-12);
    close(f(&a["coefficients"]["b"]), -3.0, 1e-12);
}

#[test]
fn features_follow_the_listed_order() {
    let (_, a) = fit(
        "features = [\"b\", \"a\"]",
        "a,b,z,y\n1,2,9,-3\n2,1,9,2\n3,5,9,-8\n4,3,9,0\n5,8,9,-13\n",
    );
    assert_eq!(a["features"], serde_json::json!(["b", "a"]));
    assert_eq!(keys(&a["coefficients"]), ["b", "a"]);
}

#[test]
fn json_mode_errors_leave_stdout_empty() {
    Test::new()
        .toml(&simple_toml(""))
        .file("d.csv", "a,y\n1,x\n")
        .args(["--json", "train"])
        .run()
        .code(3)
        .stdout_eq("")
        .stderr_contains("error: d.csv:2: column \"y\"");
}

/// Training again on unchanged data and configuration leaves the artifact
/// byte-identical (its `created_at` too), so a committed model is not
/// dirtied; a change in the data gives a new artifact with a new time.
#[test]
fn retrain_on_unchanged_data_leaves_the_artifact_byte_identical() {
    let t = Test::new().toml(&crate::common::example_toml());
    t.run_args(["-q", "train"]).success();
    let first = t.read_bytes("models/house-price.json");
    let t = t.env("SOURCE_DATE_EPOCH", "1900000000");
    t.run_args(["-q", "train"]).success();
    assert_eq!(t.read_bytes("models/house-price.json"), first);
    // Another validation split: another model, recorded at the new time.
    let toml = t.read("mlops.toml").replace("seed = 42", "seed = 7");
    t.write("mlops.toml", toml);
    t.run_args(["-q", "train"]).success();
    let changed = t.read_json("models/house-price.json");
    assert_eq!(changed["created_at"], "2030-03-17T17:46:40Z");
}

/// Issue 21, full disk: `train` whose artifact folder is on a full tmpfs
/// fails with one sentence naming the file and "no space left", and the
/// previous artifact stays as it was, with no temporary file left.
#[test]
fn a_full_disk_fails_naming_the_artifact_and_keeps_the_previous_one() {
    let t = Test::new().toml(&example_toml()).args(["train"]);
    let _fs = match crate::common::Tmpfs::mount(&t.path("models"), "256k") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    t.run().success();
    let before = t.read("models/house-price.json");
    crate::common::fill_up(&t.path("models"));
    let out = t.run();
    out.code(2)
        .stderr_contains("cannot write models/house-price.json: no space left on its device");
    assert_eq!(t.read("models/house-price.json"), before);
    let left: Vec<_> = std::fs::read_dir(t.path("models"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".mlops-tmp-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
