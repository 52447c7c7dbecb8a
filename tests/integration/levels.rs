//! Cells that mean "missing" (`data.na_values`), the hints and the list of
//! cells that are not numbers, and categorical levels: `max_levels`,
//! `min_level_count`, `handle_unknown`, and messages that name at most ten
//! levels.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Test, noisy_csv, simple_toml};
use crate::serve::Server;

/// `noisy_csv(n)` with column `a` holding `token` in rows `rows`.
fn with_token(n: u64, token: &str, rows: &[usize]) -> String {
    let mut out = String::new();
    for (i, line) in noisy_csv(n).lines().enumerate() {
        if rows.contains(&i) {
            let mut f: Vec<&str> = line.split(',').collect();
            f[1] = token;
            out.push_str(&f.join(","));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

const CATEGORICAL: &str = "exclude = [\"id\"]\ncategorical = [\"c\"]";

#[test]
fn na_values_are_missing_cells_in_train_and_predict() {
    let csv = with_token(60, "NA", &[3, 10, 17]);
    let extra = format!("{CATEGORICAL}\nna_values = [\"NA\", \"null\"]\nmissing = \"drop-row\"");
    let t = Test::new()
        .toml(&simple_toml(&extra))
        .file("d.csv", &csv)
        .file(
            "in.csv",
            "id,a,b,c\n1,NA,2,north\n2, null ,2,north\n3,1,2,north\n",
        )
        .args(["train"]);
    t.run().success();
    let m = t.read_json("out/m.json");
    assert_eq!(m["rows"]["dropped"], 3);
    assert_eq!(m["missing"]["na_values"], json!(["NA", "null"]));
    let out = t.run_args(["predict", "--input", "in.csv"]);
    out.success();
    let text = out.stdout.clone();
    let preds: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    assert_eq!(preds[..2], ["", ""], "{text}");
    assert!(preds[2].parse::<f64>().is_ok(), "{text}");
}

#[test]
fn a_missing_value_token_suggests_na_values_and_lists_the_cells() {
    let rows: Vec<usize> = (1..=12).map(|k| k * 4).collect();
    let err = train_fails(
        CATEGORICAL,
        with_token(60, "NA", &rows),
        "error: d.csv:5: column \"a\": \"NA\" is not a number; list \"NA\" in data.na_values to read it as a missing cell (the first 10 of 12 cells that are not numbers: line 5 \"a\" \"NA\", line 9 \"a\" \"NA\",",
    );
    assert!(err.contains("line 41 \"a\" \"NA\")"), "{err}");
    assert!(!err.contains("line 45"), "{err}");
}

#[test]
fn a_malformed_number_says_to_fix_the_cell() {
    let t = Test::new()
        .toml(&simple_toml(CATEGORICAL))
        .file("d.csv", with_token(30, "\"1,54.7\"", &[2]))
        .args(["train"]);
    t.run().error(
        3,
        "d.csv:3: column \"a\": \"1,54.7\" is not a number; fix the cell (it is a malformed number)",
    );
}

#[test]
fn an_identifier_column_suggests_exclude() {
    let mut csv = String::from("id,a,y\n");
    for i in 0..50 {
        let _ = writeln!(csv, "C-{i:04},{},{}", i % 7, i * 2);
    }
    train_fails(
        "",
        csv,
        "error: d.csv:2: column \"id\": \"C-0000\" is not a number; column \"id\" holds a different value in nearly every row, like an identifier: list it in data.exclude (the first 10 of 50 cells",
    );
}

/// Train `csv` with `data_extra`: exit 3, one line on stderr that starts
/// with `head`; that line.
#[track_caller]
fn train_fails(data_extra: &str, csv: String, head: &str) -> String {
    let t = Test::new()
        .toml(&simple_toml(data_extra))
        .file("d.csv", csv)
        .args(["train"]);
    let out = t.run();
    out.code(3);
    let err = out.stderr.clone();
    assert!(err.starts_with(head), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

/// M6: an identifier listed as categorical stops early, naming the column.
#[test]
fn max_levels_refuses_an_identifier_column_quickly() {
    let mut csv = String::from("id,a,y\n");
    for i in 0..50_000 {
        let _ = writeln!(csv, "u{i},{},{}", i % 13, (i % 13) * 2 + i % 3);
    }
    let t = Test::new()
        .toml(&simple_toml("categorical = [\"id\"]"))
        .file("d.csv", csv)
        .args(["train"]);
    let start = Instant::now();
    t.run().error(
        2,
        "d.csv: categorical column \"id\" has 50000 distinct levels, more than data.max_levels = 1000; if it is an identifier, list it in data.exclude, else raise data.max_levels",
    );
    // 2 s on an idle machine; generous for a loaded CI runner.
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    let t = t.toml(&simple_toml("categorical = [\"id\"]\nmax_levels = 1"));
    t.run().error(
        2,
        "mlops.toml:5: key \"data.max_levels\" = 1 must be at least 2 (a column with one level carries nothing)",
    );
}

/// Levels `l00`..: `l00`-`l03` common, `r00`-`r09` in one row each.
fn rare_levels_csv() -> String {
    let mut csv = String::from("a,c,y\n");
    for i in 0..80u32 {
        let c = format!("l{:02}", i % 4);
        let _ = writeln!(
            csv,
            "{},{c},{}",
            i % 9,
            f64::from(i % 9) * 2.0 + f64::from(i % 4)
        );
    }
    for i in 0..10u32 {
        let _ = writeln!(csv, "{},r{i:02},{}", i % 9, f64::from(i % 9) * 2.0 + 7.0);
    }
    csv
}

#[test]
fn too_few_rows_for_the_levels_names_the_column() {
    let t = Test::new()
        .toml(&simple_toml("categorical = [\"c\"]"))
        .file("d.csv", "a,c,y\n1,p,1\n2,q,2\n3,r,4\n4,s,3\n5,t,6\n6,u,5\n")
        .args(["train"]);
    t.run().error(
        3,
        "d.csv: 6 training rows cannot determine 7 coefficients: categorical column \"c\" alone has 6 levels; set data.min_level_count to fold its rare levels into \"other\", list it in data.exclude, or add rows",
    );
}

#[test]
fn min_level_count_folds_rare_levels_into_other() {
    let t = Test::new()
        .toml(&simple_toml("categorical = [\"c\"]\nmin_level_count = 5"))
        .file("d.csv", rare_levels_csv())
        .file("in.csv", "a,c\n2,r03\n2,zz\n2,other\n2,l01\n")
        .args(["train"]);
    t.run().success();
    let m = t.read_json("out/m.json");
    let c = &m["categorical"]["c"];
    assert_eq!(c["levels"], json!(["l00", "l01", "l02", "l03", "other"]));
    assert_eq!(c["other"], "other");
    assert_eq!(m["feature_stats"]["c"]["levels"]["other"], 10);
    assert!(m["coefficients"].get("c=r03").is_none());
    // Without folding there is a column per rare level.
    let plain = Test::new()
        .toml(&simple_toml("categorical = [\"c\"]"))
        .file("d.csv", rare_levels_csv())
        .args(["train"]);
    plain.run().success();
    assert!(
        plain.read_json("out/m.json")["coefficients"]
            .get("c=r03")
            .is_some()
    );
    // A rare level, an unseen one and `other` predict alike.
    let out = t.run_args(["predict", "--input", "in.csv"]);
    out.success();
    let p = predictions(&out.stdout);
    assert_eq!(p[0], p[1]);
    assert_eq!(p[0], p[2]);
    assert_ne!(p[0], p[3]);
    // The streaming fit folds the same way.
    let s = Test::new()
        .toml(&simple_toml("categorical = [\"c\"]\nmin_level_count = 5"))
        .file("d.csv", rare_levels_csv())
        .args(["train", "--streaming"]);
    s.run().success();
    let sm = s.read_json("out/m.json");
    assert_eq!(sm["categorical"], m["categorical"]);
    assert_eq!(
        sm["feature_stats"]["c"]["levels"],
        m["feature_stats"]["c"]["levels"]
    );
    for (k, v) in m["coefficients"].as_object().unwrap() {
        let (a, b) = (v.as_f64().unwrap(), sm["coefficients"][k].as_f64().unwrap());
        assert!((a - b).abs() < 1e-9 * a.abs().max(1.0), "{k}: {a} vs {b}");
    }
}

fn predictions(stdout: &str) -> Vec<f64> {
    stdout
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn handle_unknown_ignore_reads_an_unseen_level_as_all_zeros() {
    let t = Test::new()
        .toml(&simple_toml(
            "categorical = [\"c\"]\nhandle_unknown = \"ignore\"",
        ))
        .file("d.csv", rare_levels_csv())
        .file("in.csv", "a,c\n2,zz\n2,l00\n2,l01\n")
        .args(["train"]);
    t.run().success();
    let m = t.read_json("out/m.json");
    assert_eq!(m["categorical"]["c"]["handle_unknown"], "ignore");
    let out = t.run_args(["predict", "--input", "in.csv"]);
    out.success();
    let p = predictions(&out.stdout);
    assert_eq!(p[0], p[1], "an unseen level predicts as the reference l00");
    assert_ne!(p[0], p[2]);
    // Without it, predict stops and names the level.
    let strict = Test::new()
        .toml(&simple_toml("categorical = [\"c\"]"))
        .file("d.csv", rare_levels_csv())
        .file("in.csv", "a,c\n2,zz\n")
        .args(["train"]);
    strict.run().success();
    strict.run_args(["predict", "--input", "in.csv"]).error(
        3,
        "in.csv:2: column \"c\": level \"zz\" was not seen in training (14 known levels: l00, l01, l02, l03, r00, r01, r02, r03, r04, r05, ...); retrain with it (or with data.handle_unknown = \"ignore\"), or fix the cell",
    );
    // serve answers the unseen level too.
    t.write("model.json", t.read("out/m.json"));
    let s = Server::start(&t, &["--model", "model.json"]);
    let r = s.post_json("/predict", &json!({"features": {"a": 2, "c": "zz"}}));
    assert_eq!(r.status(), 200);
    let body: Value = serde_json::from_str(&r.text().unwrap()).unwrap();
    assert_eq!(body["prediction"].as_f64().unwrap(), p[0]);
    assert_eq!(s.stop(), 0);
}

/// M7: an unseen level's 400 names ten levels and the count, not all.
#[test]
fn an_unseen_level_answer_is_short() {
    let t = Test::new()
        .toml(&simple_toml("categorical = [\"c\"]"))
        .file("d.csv", rare_levels_csv())
        .args(["train"]);
    t.run().success();
    let mut m = t.read_json("out/m.json");
    let levels: Vec<String> = (0..10_000).map(|i| format!("level-{i:05}")).collect();
    m["categorical"]["c"]["levels"] = json!(levels);
    m["categorical"]["c"]["reference"] = json!(levels[0]);
    let coefs = m["coefficients"].as_object_mut().unwrap();
    coefs.retain(|k, _| !k.starts_with("c="));
    for l in &levels[1..] {
        coefs.insert(format!("c={l}"), json!(0.5));
    }
    m["feature_stats"]["c"]["levels"] = json!({});
    t.write("model.json", m.to_string());
    let s = Server::start(&t, &["--model", "model.json"]);
    let r = s.post_json("/predict", &json!({"features": {"a": 2, "c": "zzz"}}));
    assert_eq!(r.status(), 400);
    let body = r.text().unwrap();
    assert!(body.len() < 2048, "{} bytes", body.len());
    assert!(
        body.contains("10000 known levels: level-00000, level-00001"),
        "{body}"
    );
    assert_eq!(s.stop(), 0);
}
