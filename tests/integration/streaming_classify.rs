//! Classifiers on the streaming path: the same artifact as the in-memory
//! path (coefficients, convergence, every metric, the target's and the
//! predicted probabilities' statistics and bins within 1e-9; only the
//! numeric features' deciles are the streaming path's histogram estimates,
//! as for `linear`), the same refusals with the same messages, and an
//! artifact that `validate` and `serve` use as any other.

use serde_json::Value;

use crate::common::{Test, repo, toml_str, train_streaming};

/// Keys whose values legitimately differ between the two paths: the time
/// of training and the final gradient's norm (rounding noise near 0).
const DIFFER: [&str; 2] = ["created_at", "gradient_norm"];

/// Keys of the numeric features' statistics that are histogram estimates
/// on the streaming path (deciles within (max − min) / 4,096), with the
/// counts per bin of those edges.
const ESTIMATED: [&str; 2] = ["deciles", "bin_counts"];

/// `a` equals `b`: numbers within 1e-9 relative (1e-12 absolute near 0),
/// everything else exactly, save the keys of [`DIFFER`], and of
/// [`ESTIMATED`] in `feature_stats`.
#[track_caller]
fn same(a: &Value, b: &Value, path: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let (kx, ky): (Vec<_>, Vec<_>) = (x.keys().collect(), y.keys().collect());
            assert_eq!(kx, ky, "{path}");
            for (k, v) in x {
                let estimated =
                    ESTIMATED.contains(&k.as_str()) && path.starts_with(".feature_stats");
                if DIFFER.contains(&k.as_str()) || estimated {
                    continue;
                }
                same(v, &y[k], &format!("{path}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}");
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                same(u, v, &format!("{path}[{i}]"));
            }
        }
        (Value::Number(u), Value::Number(v)) => {
            let (u, v) = (u.as_f64().unwrap(), v.as_f64().unwrap());
            assert!(
                (u - v).abs() <= 1e-9 * v.abs().max(1e-3),
                "{path}: {u} (streaming) vs {v} (in memory)"
            );
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

/// Train `toml` (with `files`) in memory and with `--streaming`, and
/// compare the artifacts `m.json`.
fn both_paths(toml: &str, files: &[(&str, Vec<u8>)]) -> (Value, Value) {
    let (streamed, memory) = train_both(toml, files);
    same(&streamed, &memory, "");
    (streamed, memory)
}

/// The artifacts `m.json` of `toml` (with `files`) trained with
/// `--streaming` and in memory.
fn train_both(toml: &str, files: &[(&str, Vec<u8>)]) -> (Value, Value) {
    let mut t = Test::new().toml(toml);
    for (name, bytes) in files {
        t = t.file(name, bytes);
    }
    t.run_args(["-q", "train"]).success();
    let memory = t.read_json("m.json");
    t.run_args(["--json", "train", "--streaming"]).success();
    (t.read_json("m.json"), memory)
}

fn churn_toml(positive: &str, alpha: f64) -> String {
    format!(
        "[data]\npath = \"train.csv\"\ntarget = \"churned\"\nexclude = [\"customer_id\"]\ncategorical = [\"contract\"]\n\n[split]\nvalidation_fraction = 0.2\nseed = 42\n\n[model]\nname = \"churn\"\nkind = \"logistic\"\npositive = \"{positive}\"\nalpha = {alpha}\nartifact = \"m.json\"\n"
    )
}

fn churn_csv() -> Vec<u8> {
    std::fs::read(repo().join("examples/churn/train.csv")).unwrap()
}

#[test]
fn churn_streams_to_the_in_memory_artifact() {
    for (positive, alpha) in [("yes", 0.0), ("no", 0.0), ("yes", 2.0)] {
        let (s, _) = both_paths(&churn_toml(positive, alpha), &[("train.csv", churn_csv())]);
        let c = &s["classifier"];
        assert_eq!(c["classes"], serde_json::json!(["no", "yes"]));
        assert_eq!(c["positive"], positive);
        assert_eq!(c["convergence"]["converged"], true);
        assert!(c["metrics"]["validation"]["auc"].as_f64().unwrap() > 0.6);
        // The training bins of the predicted probabilities (format v2).
        let bins = s["prediction_stats"]["bin_counts"].as_array().unwrap();
        let total: u64 = bins.iter().map(|b| b.as_u64().unwrap()).sum();
        assert_eq!(total, s["rows"]["train"].as_u64().unwrap());
    }
}

/// Every row a training row: each numeric feature's training rows per bin
/// of its own decile edges (counted in pass 2, since the fit's first pass
/// filled the histograms) equal a count straight from the CSV, a value's
/// bin being the number of edges below it; the predictions' bins (from
/// their sort) add up to the rows.
#[test]
fn feature_bins_count_the_csv_rows_per_bin_of_their_edges() {
    let toml =
        churn_toml("yes", 0.0).replace("validation_fraction = 0.2", "validation_fraction = 0.0");
    let csv = churn_csv();
    let t = Test::new().toml(&toml).file("train.csv", &csv);
    t.run_args(["-q", "train", "--streaming"]).success();
    let s = t.read_json("m.json");
    let text = String::from_utf8(csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    for name in [
        "tenure_months",
        "monthly_charges",
        "support_calls",
        "late_payments",
    ] {
        let col = header.iter().position(|h| *h == name).unwrap();
        let stats = &s["feature_stats"][name];
        let edges: Vec<f64> = stats["deciles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_f64().unwrap())
            .collect();
        let mut want = vec![0u64; edges.len() + 1];
        for r in &rows {
            let x: f64 = r[col].parse().unwrap();
            want[edges.iter().filter(|&&e| e < x).count()] += 1;
        }
        let got: Vec<u64> = stats["bin_counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .collect();
        assert_eq!(got, want, "{name}");
    }
    let bins = s["prediction_stats"]["bin_counts"].as_array().unwrap();
    let total: u64 = bins.iter().map(|b| b.as_u64().unwrap()).sum();
    assert_eq!(total, rows.len() as u64);
}

/// Blocks of a few rows each: the fit, the labels and the metrics do not
/// depend on where the blocks end.
#[test]
fn churn_in_small_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("train.csv");
    std::fs::write(&csv, churn_csv()).unwrap();
    let toml =
        churn_toml("yes", 0.0).replace("\"train.csv\"", &toml_str(&csv.display().to_string()));
    let whole = train_streaming(&toml, 0);
    for block in [64, 1000] {
        let a = train_streaming(&toml, block);
        let (x, y) = (
            serde_json::to_value(&a).unwrap(),
            serde_json::to_value(&whole).unwrap(),
        );
        same(&x, &y, &format!("block {block}"));
    }
}

fn wine_toml(kind_extra: &str, split: &str) -> String {
    let csv = repo().join("tests/data/logistic/wine.csv");
    format!(
        "[data]\npath = {}\ntarget = \"cultivar\"\n\n[split]\n{split}\n\n[model]\nname = \"w\"\nkind = \"multinomial\"\n{kind_extra}\nartifact = \"m.json\"\n",
        toml_str(&csv.display().to_string())
    )
}

#[test]
fn multinomial_wine_streams_to_the_in_memory_artifact() {
    for (extra, split) in [
        ("", "validation_fraction = 0.25\nseed = 7"),
        ("alpha = 1.0", "validation_fraction = 0.3\nseed = 1"),
        ("", "validation_fraction = 0.0"),
    ] {
        let (s, _) = both_paths(&wine_toml(extra, split), &[]);
        let c = &s["classifier"];
        assert_eq!(
            c["classes"],
            serde_json::json!(["class_0", "class_1", "class_2"])
        );
        assert!(c["metrics"]["train"]["auc_weighted"].is_number());
    }
}

/// Bad labels: the same exit code and the same message on both paths,
/// naming the file and line where there is one.
#[test]
fn bad_labels_give_the_same_messages() {
    let toml = |split: &str, missing: &str| {
        format!(
            "[data]\npath = \"d.csv\"\ntarget = \"y\"\nmissing = \"{missing}\"\n\n[split]\n{split}\n\n[model]\nname = \"m\"\nkind = \"logistic\"\nartifact = \"m.json\"\n"
        )
    };
    let rows = |n: usize| -> String {
        (0..n)
            .map(|i| format!("{},{}\n", i % 7, if i % 3 == 0 { "b" } else { "a" }))
            .collect()
    };
    let sep = "validation_fraction = 0.0\nvalidation_path = \"v.csv\"";
    let cases: Vec<(String, String, &str)> = vec![
        // A class met only in the separate validation file, at v.csv:3.
        (toml(sep, "error"), format!("x,y\n{}", rows(40)), "v.csv:3"),
        // One class.
        (
            toml("validation_fraction = 0.0", "error"),
            "x,y\n1,a\n2,a\n3,a\n".into(),
            "1 class",
        ),
        // A missing label where missing values are errors.
        (
            toml("validation_fraction = 0.0", "error"),
            format!("x,y\n{}5,\n", rows(9)),
            "d.csv:11",
        ),
        // Three classes for a logistic model.
        (
            toml("validation_fraction = 0.0", "error"),
            format!("x,y\n{}5,c\n", rows(9)),
            "multinomial",
        ),
    ];
    for (toml, csv, needle) in cases {
        let t = Test::new()
            .toml(&toml)
            .file("d.csv", &csv)
            .file("v.csv", "x,y\n1,a\n2,c\n3,b\n")
            .args(["train"]);
        let m = t.run();
        let s = t.run_args(["train", "--streaming"]);
        assert_eq!(m.status.code(), Some(3), "{csv}: {}", m.stderr);
        assert_eq!(s.status.code(), Some(3), "{csv}: {}", s.stderr);
        assert_eq!(m.stderr, s.stderr, "{csv}");
        assert!(m.stderr.contains(needle), "{needle}: {}", m.stderr);
    }
}

/// A label met only in validation rows of the split is refused on both
/// paths, naming the same file and line.
#[test]
fn a_class_only_in_validation_rows_names_its_line() {
    let mut csv = String::from("x,y\n");
    for i in 0..300 {
        csv.push_str(&format!(
            "{},{}\n",
            i % 11,
            if i % 2 == 0 { "a" } else { "b" }
        ));
    }
    // A third class on the last row (line 302), a validation row at this seed.
    let t = Test::new()
        .toml("[data]\npath = \"d.csv\"\ntarget = \"y\"\n\n[split]\nvalidation_fraction = 0.5\nseed = 3\n\n[model]\nname = \"m\"\nkind = \"multinomial\"\nartifact = \"m.json\"\n")
        .file("d.csv", format!("{csv}1,c\n"))
        .args(["train"]);
    let m = t.run();
    let s = t.run_args(["train", "--streaming"]);
    assert_eq!(m.status.code(), Some(3), "{}", m.stderr);
    assert!(
        m.stderr
            .contains("d.csv:302: column \"y\": class \"c\" appears only in validation rows"),
        "{}",
        m.stderr
    );
    assert_eq!(m.stderr, s.stderr);
}

/// `validate` and `serve` take the streamed artifact as the in-memory one.
#[cfg(unix)]
#[test]
fn validate_and_serve_use_the_streamed_artifact() {
    let toml = format!(
        "{}\n[validate.thresholds]\nauc = {{ min = 0.6 }}\n",
        churn_toml("yes", 0.0)
    );
    let t = Test::new()
        .toml(&toml)
        .file("train.csv", churn_csv())
        .args(["-q", "train", "--streaming"]);
    t.run().success();
    let art = t.read_json("m.json");
    let doc = t.run_args(["--json", "validate"]).success().json();
    same(
        &doc["candidate"]["classification"],
        &art["classifier"]["metrics"]["validation"],
        "validate",
    );
    let s = crate::serve::Server::start_with(&t, &["--model", "m.json"], &[]);
    let row = serde_json::json!({"tenure_months": 3, "monthly_charges": 80.5, "support_calls": 4, "late_payments": 2, "contract": "monthly"});
    let one: Value = serde_json::from_str(
        &s.http
            .post(s.u("/predict"))
            .header("content-type", "application/json")
            .body(serde_json::json!({ "features": row }).to_string())
            .send()
            .unwrap()
            .text()
            .unwrap(),
    )
    .unwrap();
    let lp = &art["classifier"]["linear_predictors"]["yes"];
    let c = &lp["coefficients"];
    let eta = lp["intercept"].as_f64().unwrap()
        + 3.0 * c["tenure_months"].as_f64().unwrap()
        + 80.5 * c["monthly_charges"].as_f64().unwrap()
        + 4.0 * c["support_calls"].as_f64().unwrap()
        + 2.0 * c["late_payments"].as_f64().unwrap()
        + c["contract=monthly"].as_f64().unwrap();
    let want = 1.0 / (1.0 + (-eta).exp());
    let p = one["probabilities"]["yes"].as_f64().unwrap();
    assert!((p - want).abs() < 1e-12, "{one} vs {want}");
    assert_eq!(one["prediction"], if want > 0.5 { "yes" } else { "no" });
    assert_eq!(s.stop(), 0);
}

/// A large all-numeric binary file with a validation split: the streaming
/// fit takes its moments and its warm start's sample (over 10,000 rows, so
/// the warm start runs) from the first pass over the CSV, and still gives
/// the in-memory artifact, in fewer passes over the full data than the
/// in-memory iteration's evaluations (which start at the class log odds).
#[test]
fn a_large_numeric_file_streams_to_the_in_memory_artifact() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut csv = String::from("a,b,c,label\n");
    for _ in 0..420_000 {
        let (a, b, c) = (4.0 * uniform() - 2.0, 10.0 * uniform(), uniform() - 0.5);
        let eta = 0.8 * a - 0.15 * b + 1.5 * c + 0.4;
        let label = if uniform() < 1.0 / (1.0 + (-eta).exp()) {
            "buy"
        } else {
            "skip"
        };
        csv.push_str(&format!("{a:.6},{b:.5},{c:.7},{label}\n"));
    }
    let toml = "[data]\npath = \"big.csv\"\ntarget = \"label\"\n\n[split]\nvalidation_fraction = 0.2\nseed = 3\n\n[model]\nname = \"big\"\nkind = \"logistic\"\nartifact = \"m.json\"\n";
    let (mut s, mut m) = train_both(toml, &[("big.csv", csv.into_bytes())]);
    let passes = |a: &mut Value| a["classifier"]["convergence"]["iterations"].take().as_u64();
    let (streamed, memory) = (passes(&mut s).unwrap(), passes(&mut m).unwrap());
    assert!(
        streamed < memory,
        "{streamed} passes streamed, {memory} in memory"
    );
    same(&s, &m, "");
    let c = &s["classifier"];
    assert_eq!(c["classes"], serde_json::json!(["buy", "skip"]));
    assert_eq!(c["convergence"]["converged"], true);
    let train = s["rows"]["train"].as_u64().unwrap();
    assert!(train > 320_000 && train < 420_000, "{train}");
}
