//! `mlops predict`: the input columns plus `prediction`, in input order, with
//! values computed here from the artifact's coefficients; stdout, stdin,
//! atomic `--output`, the errors, and a reader that goes away.

use std::io::Read as _;
use std::process::Stdio;

use serde_json::Value;

use crate::common::{Test, example_toml, repo, simple_toml};

/// A trained small model at `out/m.json`: `y ~ a + c` with levels p, q, r.
fn small(data_extra: &str) -> Test {
    let t = Test::new()
        .toml(&simple_toml(&format!(
            "categorical = [\"c\"]\n{data_extra}"
        )))
        .file(
            "d.csv",
            "a,c,y\n1,p,3\n2,q,5\n3,p,8\n4,q,8\n5,r,12\n6,r,11\n",
        )
        .args(["train"]);
    t.run().success();
    t
}

/// The first `n` rows of the bundled `recent.csv`, columns rearranged so
/// that the input order differs from the model's.
fn example_input(n: usize) -> String {
    let text = std::fs::read_to_string(repo().join("examples/house-prices/recent.csv")).unwrap();
    let mut out = String::new();
    for line in text.lines().take(n + 1) {
        let mut f: Vec<&str> = line.split(',').collect();
        f.reverse();
        out.push_str(&f.join(","));
        out.push('\n');
    }
    out
}

/// intercept + coefficients · x for every data row of `csv`.
fn expected(model: &Value, csv: &str) -> Vec<f64> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let mut y = model["intercept"].as_f64().unwrap();
            for f in model["features"].as_array().unwrap() {
                let f = f.as_str().unwrap();
                let cell = cells[col(f)];
                if model["categorical"].get(f).is_some() {
                    if let Some(b) = model["coefficients"].get(format!("{f}={cell}")) {
                        y += b.as_f64().unwrap();
                    }
                } else {
                    y += model["coefficients"][f].as_f64().unwrap() * cell.parse::<f64>().unwrap();
                }
            }
            y
        })
        .collect()
}

/// Check that `out` is `input` with a `prediction` column equal to `want`.
#[track_caller]
fn check_predictions(input: &str, out: &str, want: &[f64]) {
    let mut il = input.lines();
    let mut ol = out.lines();
    assert_eq!(
        ol.next().unwrap(),
        format!("{},prediction", il.next().unwrap())
    );
    let mut n = 0;
    for ((i, o), w) in il.zip(ol.by_ref()).zip(want) {
        let (prefix, p) = o.rsplit_once(',').unwrap();
        assert_eq!(prefix, i, "the input row comes first, unchanged");
        let p: f64 = p.parse().unwrap();
        assert!(
            (p - w).abs() <= 1e-9 * w.abs().max(1.0),
            "row {n}: predicted {p}, expected {w}"
        );
        n += 1;
    }
    assert_eq!(n, want.len(), "one output row per input row");
    assert_eq!(ol.next(), None, "no extra output rows");
}

#[test]
fn predictions_equal_the_linear_predictor_in_input_order() {
    let t = Test::new().toml(&example_toml()).args(["train"]);
    t.run().success();
    let model = t.read_json("models/house-price.json");
    let input = example_input(40);
    let want = expected(&model, &input);
    let t = t
        .file("in.csv", &input)
        .args(["predict", "--input", "in.csv"]);
    let out = t.run();
    out.success().stderr_empty();
    check_predictions(&input, &out.stdout, &want);

    // The same bytes to a file.
    let t = t.args(["predict", "--input", "in.csv", "--output", "preds/p.csv"]);
    t.run()
        .success()
        .stdout_eq("Wrote 40 predictions to preds/p.csv\n");
    assert_eq!(t.read("preds/p.csv"), out.stdout);

    // And from stdin, with an explicit model.
    let t = t.stdin(input.clone()).args([
        "predict",
        "--model",
        "models/house-price.json",
        "--input",
        "-",
    ]);
    t.run().success().stdout_eq(&out.stdout);
}

#[test]
fn small_model_predictions() {
    let t = small("");
    let model = t.read_json("out/m.json");
    let input = "id,c,a\n7,q,1.5\n8,r,2\n9,p,-4\n";
    let want = expected(&model, input);
    let out = t
        .file("in.csv", input)
        .args(["predict", "--input", "in.csv"])
        .run();
    out.success();
    check_predictions(input, &out.stdout, &want);
}

#[test]
fn missing_feature_column_is_named() {
    let t = small("")
        .file("in.csv", "id,c,b\n7,q,1.5\n")
        .args(["predict", "--input", "in.csv", "--output", "p.csv"]);
    t.run().error(
        3,
        "in.csv:1: feature column \"a\" not in the header; its columns are: id, c, b",
    );
    assert!(!t.exists("p.csv"));
}

#[test]
fn unseen_level_is_named() {
    let t = small("")
        .file("in.csv", "a,c\n1,p\n2,zz\n")
        .args(["predict", "--input", "in.csv", "--output", "p.csv"]);
    t.run().error(
        3,
        "in.csv:3: column \"c\": level \"zz\" was not seen in training (3 known levels: p, q, r); retrain with it (or with data.handle_unknown = \"ignore\"), or fix the cell",
    );
    assert!(!t.exists("p.csv"));
}

#[test]
fn input_with_a_prediction_column_is_refused() {
    small("")
        .file("in.csv", "a,c,prediction\n1,p,0\n")
        .args(["predict", "--input", "in.csv"])
        .run()
        .error(
            3,
            "in.csv:1: the input already has a column \"prediction\"; rename it so the output has one",
        )
        .stdout_eq("");
}

#[test]
fn bad_cell_from_stdin_names_stdin() {
    small("")
        .stdin("a,c\n1,p\n2x,q\n")
        .args(["predict", "--input", "-"])
        .run()
        .code(3)
        .stderr_eq("error: <stdin>:3: column \"a\": \"2x\" is not a number; fix the cell (the model reads it as a number)\n");
}

#[test]
fn output_is_atomic_on_error() {
    let mut input = String::from("a,c\n");
    for i in 0..300 {
        input.push_str(&format!("{i},p\n"));
    }
    input.push_str("oops,q\n");
    let t = small("")
        .file("in.csv", &input)
        .args(["predict", "--input", "in.csv", "--output", "p.csv"]);
    t.run().error(
        3,
        "in.csv:302: column \"a\": \"oops\" is not a number; fix the cell (the model reads it as a number)",
    );
    assert!(!t.exists("p.csv"), "a failed run must leave no output file");

    // An existing output is left as it was, and no temporary file remains.
    t.write("p.csv", "old");
    t.run().code(3);
    assert_eq!(t.read("p.csv"), "old");
    let stray: Vec<_> = std::fs::read_dir(t.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".mlops-tmp"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

#[test]
fn json_needs_output() {
    let t = small("")
        .file("in.csv", "a,c\n1,p\n")
        .args(["--json", "predict", "--input", "in.csv"]);
    t.run()
        .error(
            2,
            "--json needs --output: without it the predictions themselves go to stdout as CSV",
        )
        .stdout_eq("");
}

#[test]
fn json_with_output_prints_a_summary() {
    let t = small("").file("in.csv", "a,c\n1,p\n2,q\n3,r\n").args([
        "--json", "predict", "--input", "in.csv", "--output", "p.csv",
    ]);
    let out = t.run();
    out.success();
    let doc = out.json();
    assert_eq!(doc["rows"], 3);
    assert_eq!(doc["model"], "m");
    assert_eq!(doc["output"], "p.csv");
    assert_eq!(doc["input"], "in.csv");
    assert_eq!(t.read("p.csv").lines().count(), 4);
}

#[test]
fn drop_row_model_leaves_incomplete_rows_empty() {
    let t = small("missing = \"drop-row\"");
    let out = t
        .stdin("a,c\n1,p\n,q\n3,\n")
        .args(["predict", "--input", "-"])
        .run();
    out.success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[1].starts_with("1,p,") && lines[1].len() > 4);
    assert_eq!(lines[2], ",q,");
    assert_eq!(lines[3], "3,,");
}

#[test]
fn mean_model_fills_empty_cells() {
    let t = small("missing = \"mean\"");
    let model = t.read_json("out/m.json");
    let fill_a = model["missing"]["fill"]["a"].as_f64().unwrap();
    let fill_c = model["missing"]["fill"]["c"].as_str().unwrap().to_string();
    let out = t
        .stdin("a,c\n,q\n3,\n")
        .args(["predict", "--input", "-"])
        .run();
    out.success();
    let want = expected(&model, &format!("a,c\n{fill_a},q\n3,{fill_c}\n"));
    let got: Vec<f64> = out
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.rsplit_once(',').unwrap().1.parse().unwrap())
        .collect();
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-9 * w.abs().max(1.0), "{g} vs {w}");
    }
    assert_eq!(got.len(), 2);
}

#[test]
fn missing_model_file() {
    Test::new()
        .file("in.csv", "a\n1\n")
        .args(["predict", "--model", "nope.json", "--input", "in.csv"])
        .run()
        .error(
            2,
            "cannot read the model nope.json: No such file or directory; check the path",
        );
}

#[test]
fn missing_input_file() {
    small("")
        .args(["predict", "--input", "nope.csv"])
        .run()
        .error(
            2,
            "cannot read the input nope.csv: No such file or directory; check the path",
        );
}

#[test]
fn no_model_and_no_project() {
    let t = Test::new().file("in.csv", "a\n1\n").args([
        "-C",
        "nope.toml",
        "predict",
        "--input",
        "in.csv",
    ]);
    t.run().code(2).stderr_contains(
        "error: no --model given and no project to take [model].artifact from: project file nope.toml does not exist",
    );
}

#[test]
fn closed_stdout_is_not_an_error() {
    let mut input = String::from("id,c,a,padding\n");
    for i in 0..5000 {
        input.push_str(&format!(
            "{i},p,{}.25,some padding text to make rows wider\n",
            i % 97
        ));
    }
    let t = small("")
        .file("big.csv", &input)
        .args(["predict", "--input", "big.csv"]);
    let mut child = t
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    assert!(first.starts_with(b"id,c,a,padding,prediction\n"));
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "stderr must stay quiet"
    );
}

#[test]
fn crlf_input_names_the_right_line() {
    small("")
        .file("in.csv", "a,c\r\n1,p\r\n2x,q\r\n")
        .args(["predict", "--input", "in.csv"])
        .run()
        .code(3)
        .stderr_eq("error: in.csv:3: column \"a\": \"2x\" is not a number; fix the cell (the model reads it as a number)\n");
}

#[test]
fn other_columns_pass_through_as_valid_csv() {
    let out = small("")
        .stdin("note,a,c\n\"x, y\",1,p\n\n\"say \"\"hi\"\"\",2,r\n")
        .args(["predict", "--input", "-"])
        .run();
    out.success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "blank lines are skipped: {lines:?}");
    assert_eq!(lines[0], "note,a,c,prediction");
    assert!(lines[1].starts_with("\"x, y\",1,p,"), "{}", lines[1]);
    assert!(
        lines[2].starts_with("\"say \"\"hi\"\"\",2,r,"),
        "{}",
        lines[2]
    );
}

#[test]
fn header_only_input_gives_header_only_output() {
    small("")
        .stdin("a,c\n")
        .args(["predict", "--input", "-"])
        .run()
        .success()
        .stdout_eq("a,c,prediction\n");
}
