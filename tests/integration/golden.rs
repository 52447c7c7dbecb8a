//! Golden outputs: what `train`, `validate`, `predict` and `abtest-analyze`
//! print on fixed inputs, compared byte for byte with the files under
//! `tests/data/golden/`. Any change to an output is then a visible,
//! deliberate diff. Time-dependent fields (`seconds`, `created_at`,
//! durations in text) and the test's own folder are masked.
//!
//! To re-record after a deliberate change: `MLOPS_BLESS=1 cargo test --test
//! integration golden::`, then review `git diff tests/data/golden/`.

use std::path::PathBuf;

use serde_json::Value;

use crate::common::{Output, Test, example_toml, repo, toml_str};

fn golden_dir() -> PathBuf {
    repo().join("tests/data/golden")
}

/// Replace time-dependent JSON fields by a fixed marker, recursively.
fn mask_json(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if matches!(k.as_str(), "seconds" | "created_at" | "elapsed_s") {
                    *x = Value::String("<masked>".into());
                } else {
                    mask_json(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(mask_json),
        _ => {}
    }
}

/// Mask a text output: the test's folder, the repository, and any number
/// followed by ` s` or `s)` after "in " (a duration).
fn mask_text(t: &Test, s: &str) -> String {
    let s = s
        .replace(&t.root().display().to_string(), "<DIR>")
        .replace(&repo().display().to_string(), "<REPO>");
    s.lines().map(mask_durations).collect::<Vec<_>>().join("\n")
        + if s.ends_with('\n') { "\n" } else { "" }
}

/// `in 0.12 s` / `in 12 ms` / `(0.3 s)` → `in <t>` / `(<t>)`.
fn mask_durations(line: &str) -> String {
    let mut out = String::new();
    let b: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < b.len() {
        let start_ok = i == 0 || !b[i - 1].is_ascii_alphanumeric() && b[i - 1] != '.';
        if start_ok && b[i].is_ascii_digit() {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_digit() || b[j] == '.') {
                j += 1;
            }
            let rest: String = b[j..].iter().collect();
            let unit = [" ms", "ms", " s", "s"].into_iter().find(|u| {
                rest.starts_with(u) && !rest[u.len()..].starts_with(|c: char| c.is_alphanumeric())
            });
            if let Some(u) = unit {
                out.push_str("<t>");
                i = j + u.len();
                continue;
            }
            out.extend(&b[i..j]);
            i = j;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn render(t: &Test, out: &Output, json: bool) -> String {
    let body = if json {
        let mut v: Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", out.stdout));
        mask_json(&mut v);
        (serde_json::to_string_pretty(&v).unwrap() + "\n")
            .replace(&t.root().display().to_string(), "<DIR>")
            .replace(&repo().display().to_string(), "<REPO>")
    } else {
        mask_text(t, &out.stdout)
    };
    format!(
        "exit: {:?}\n--- stdout ---\n{body}--- stderr ---\n{}",
        out.status.code(),
        mask_text(t, &out.stderr)
    )
}

#[track_caller]
fn check(name: &str, actual: &str) {
    let path = golden_dir().join(format!("{name}.txt"));
    if std::env::var_os("MLOPS_BLESS").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); record it with MLOPS_BLESS=1",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "golden output {name} differs from {}\n--- expected ---\n{expected}\n--- actual ---\n{actual}",
        path.display()
    );
}

fn example() -> Test {
    let toml = example_toml()
        + &format!(
            "\n[validate.thresholds]\nr2 = {{ min = 0.85 }}\nrmse = {{ max = 16000.0 }}\n\n[validate.drift]\ndata = {}\n",
            toml_str(
                &repo()
                    .join("examples/house-prices/recent.csv")
                    .display()
                    .to_string()
            )
        );
    Test::new().toml(&toml)
}

#[test]
fn train_validate_predict_on_the_bundled_example() {
    let t = example();
    let out = t.run_args(["--json", "train"]);
    check("example_train_json", &render(&t, &out, true));
    let out = t.run_args(["--json", "train", "--streaming"]);
    check("example_train_streaming_json", &render(&t, &out, true));
    let out = t.run_args(["train"]);
    check("example_train_text", &render(&t, &out, false));
    let out = t.run_args(["--json", "validate"]);
    check("example_validate_json", &render(&t, &out, true));
    let out = t.run_args(["validate"]);
    check("example_validate_text", &render(&t, &out, false));
    let recent = repo().join("examples/house-prices/recent.csv");
    let out = t.run_args(["predict", "--input", recent.to_str().unwrap()]);
    check("example_predict_csv", &render(&t, &out, false));
    let out = t.run_args(["--json", "predict", "--input", recent.to_str().unwrap()]);
    check("example_predict_json", &render(&t, &out, false));
}

#[test]
fn nist_fits() {
    for name in ["Longley", "Filip", "Wampler1", "NoInt1", "Norris"] {
        let certified: Value = serde_json::from_str(
            &std::fs::read_to_string(repo().join("tests/data/nist/certified.json")).unwrap(),
        )
        .unwrap();
        let intercept = certified[name]["fit_intercept"].as_bool().unwrap_or(true);
        let csv = repo().join(format!("tests/data/nist/{name}.csv"));
        let toml = format!(
            "[data]\npath = {}\ntarget = \"y\"\n[split]\nvalidation_fraction = 0.0\n[model]\nname = \"nist\"\nfit_intercept = {intercept}\n",
            toml_str(&csv.display().to_string())
        );
        let t = Test::new().toml(&toml);
        let out = t.run_args(["--json", "train"]);
        check(&format!("nist_{name}_train_json"), &render(&t, &out, true));
    }
}

/// The scipy/statsmodels reference groups as `variant,y` CSV files.
fn abtest_inputs() -> Vec<(String, String)> {
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/data/abtest/reference.json")).unwrap(),
    )
    .unwrap();
    let mut files = Vec::new();
    for g in reference["continuous"].as_array().unwrap() {
        let (Some(a), Some(b)) = (g["a"].as_array(), g["b"].as_array()) else {
            continue;
        };
        let mut s = String::from("variant,y\n");
        for x in a {
            s.push_str(&format!("A,{x}\n"));
        }
        for x in b {
            s.push_str(&format!("B,{x}\n"));
        }
        files.push((g["name"].as_str().unwrap().to_string(), s));
    }
    files
}

#[test]
fn abtest_analyses() {
    for (name, csv) in abtest_inputs() {
        let t = Test::new().file("d.csv", &csv);
        let args = [
            "abtest-analyze",
            "--input",
            "d.csv",
            "--metric",
            "y",
            "--control",
            "A",
        ];
        let out = t.run_args(std::iter::once("--json").chain(args));
        check(&format!("abtest_{name}_json"), &render(&t, &out, true));
        let out = t.run_args(args);
        check(&format!("abtest_{name}_text"), &render(&t, &out, false));
    }
    // A conversion metric (0/1) with an explicit split.
    let mut s = String::from("variant,converted\n");
    for i in 0..600 {
        s.push_str(&format!("A,{}\n", u8::from(i % 10 < 2)));
    }
    for i in 0..400 {
        s.push_str(&format!("B,{}\n", u8::from(i % 10 < 3)));
    }
    let t = Test::new().file("d.csv", &s);
    let args = [
        "abtest-analyze",
        "--input",
        "d.csv",
        "--metric",
        "converted",
        "--control",
        "A",
        "--split",
        "A=0.6,B=0.4",
    ];
    let out = t.run_args(std::iter::once("--json").chain(args));
    check("abtest_conversion_json", &render(&t, &out, true));
    let out = t.run_args(args);
    check("abtest_conversion_text", &render(&t, &out, false));
}
