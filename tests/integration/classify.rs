//! Classifiers through `train` and `predict`: string targets read as
//! classes, the fit equal to statsmodels (reference in tests/data/logistic/),
//! the probability columns, and the refusals (one class, too many classes,
//! separation, GLM keys).

use serde_json::Value;

use crate::common::{Test, repo, toml_str};

fn data(file: &str) -> String {
    repo()
        .join("tests/data/logistic")
        .join(file)
        .display()
        .to_string()
}

fn project(file: &str, target: &str, model: &str) -> String {
    format!(
        "[project]\nname = \"c\"\n\n[data]\npath = {}\ntarget = \"{target}\"\n\n[split]\nvalidation_fraction = 0.0\n\n[model]\nname = \"c\"\nartifact = \"m.json\"\n{model}\n",
        toml_str(&data(file))
    )
}

fn reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(data("reference.json")).unwrap()).unwrap()
}

#[track_caller]
fn close(got: &Value, want: &Value, tol: f64) {
    let (g, w) = (got.as_f64().unwrap(), want.as_f64().unwrap());
    assert!((g - w).abs() <= tol * w.abs(), "{g} vs {w}");
}

#[test]
fn logistic_on_string_labels_equals_statsmodels_and_predicts_probabilities() {
    let t = Test::new()
        .toml(&project("breast.csv", "diagnosis", "kind = \"logistic\""))
        .args(["train"]);
    t.run().success().stdout_contains("auc");
    let m = t.read_json("m.json");
    let c = &m["classifier"];
    assert_eq!(c["classes"], serde_json::json!(["benign", "malignant"]));
    assert_eq!(c["positive"], "malignant");
    assert_eq!(c["convergence"]["converged"], true);
    let sm = &reference()["breast"]["statsmodels"];
    let lp = &c["linear_predictors"]["malignant"];
    close(&lp["intercept"], &sm["intercept"], 1e-9);
    for (j, f) in [
        "mean_radius",
        "mean_texture",
        "mean_smoothness",
        "mean_compactness",
        "mean_symmetry",
    ]
    .iter()
    .enumerate()
    {
        close(&lp["coefficients"][f], &sm["coef"][j], 1e-9);
        close(&m["coefficients"][f], &sm["coef"][j], 1e-9);
    }
    // predict: the label and one probability per class, from the artifact.
    t.write("in.csv", "mean_radius,mean_texture,mean_smoothness,mean_compactness,mean_symmetry\n1,0,0,0,0\n-2,0,0,0,0\n");
    let out = t.run_args(["predict", "--model", "m.json", "--input", "in.csv"]);
    out.success();
    let text = out.stdout.clone();
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .ends_with(",prediction,probability_benign,probability_malignant")
    );
    let b0 = sm["intercept"].as_f64().unwrap();
    let b1 = sm["coef"][0].as_f64().unwrap();
    for (line, x) in lines.zip([1.0, -2.0]) {
        let cells: Vec<&str> = line.split(',').collect();
        let p: f64 = cells[7].parse().unwrap();
        let want = 1.0 / (1.0 + (-(b0 + b1 * x)).exp());
        assert!((p - want).abs() < 1e-9, "{p} vs {want}");
        let q: f64 = cells[6].parse().unwrap();
        assert!((p + q - 1.0).abs() < 1e-15);
        assert_eq!(cells[5], if p > 0.5 { "malignant" } else { "benign" });
    }
}

#[test]
fn multinomial_equals_statsmodels_mnlogit() {
    let t = Test::new()
        .toml(&project("wine.csv", "cultivar", "kind = \"multinomial\""))
        .args(["train"]);
    t.run().success();
    let m = t.read_json("m.json");
    let sm = &reference()["wine"]["statsmodels"];
    for c in 1..3 {
        let lp = &m["classifier"]["linear_predictors"][format!("class_{c}")];
        close(&lp["intercept"], &sm["intercept"][c - 1], 1e-9);
        for (j, f) in ["alcohol", "malic_acid", "ash"].iter().enumerate() {
            close(&lp["coefficients"][f], &sm["coef"][c - 1][j], 1e-9);
        }
    }
    assert!(m["classifier"]["metrics"]["train"]["auc_weighted"].is_number());
}

#[track_caller]
fn fails(t: &Test, code: i32, needle: &str) {
    let out = t.run();
    out.code(code);
    assert!(out.stderr.contains(needle), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

#[test]
fn refusals_name_the_column_and_the_cause() {
    let iris = |model: &str| {
        Test::new()
            .toml(&project("iris.csv", "species", model))
            .args(["train"])
    };
    let t = iris("kind = \"multinomial\"");
    fails(&t, 3, "separated by \"sepal_length\"");
    fails(&t, 3, "model.alpha > 0");
    fails(
        &iris("kind = \"logistic\""),
        3,
        "target \"species\" has 3 classes, but model.kind = \"logistic\" fits two",
    );
    fails(
        &iris("kind = \"multinomial\"\nmax_classes = 2"),
        3,
        "target \"species\" has 3 classes in the training rows, more than model.max_classes = 2",
    );
    let t = Test::new()
        .file("one.csv", "a,y\n1,yes\n2,yes\n3,yes\n")
        .toml("[project]\nname = \"c\"\n[data]\npath = \"one.csv\"\ntarget = \"y\"\n[split]\nvalidation_fraction = 0.0\n[model]\nname = \"c\"\nkind = \"logistic\"\n")
        .args(["train"]);
    fails(&t, 3, "target \"y\" has 1 class in the training rows (yes)");
    fails(
        &Test::new()
            .toml(&project(
                "breast.csv",
                "diagnosis",
                "kind = \"logistic\"\npower = 1.0",
            ))
            .args(["train"]),
        2,
        "applies only to kind = \"glm\"",
    );
}

/// `serve`'s `/predict` answers a classifier's label and probabilities, for
/// one row and for a batch.
#[cfg(unix)]
#[test]
fn serve_answers_labels_and_probabilities() {
    let t = Test::new()
        .toml(&project("breast.csv", "diagnosis", "kind = \"logistic\""))
        .args(["train"]);
    t.run().success();
    let s = crate::serve::Server::start_with(&t, &["--model", "m.json"], &[]);
    let post = |body: Value| -> Value {
        s.http
            .post(s.u("/predict"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap()
            .text()
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap()
    };
    let row = serde_json::json!({"mean_radius": 1.0, "mean_texture": 0, "mean_smoothness": 0, "mean_compactness": 0, "mean_symmetry": 0});
    let one = post(serde_json::json!({ "features": row }));
    let sm = &reference()["breast"]["statsmodels"];
    let eta = sm["intercept"].as_f64().unwrap() + sm["coef"][0].as_f64().unwrap();
    let want = 1.0 / (1.0 + (-eta).exp());
    assert_eq!(one["prediction"], "malignant", "{one}");
    let p = one["probabilities"]["malignant"].as_f64().unwrap();
    assert!((p - want).abs() < 1e-9, "{p} vs {want}");
    let q = one["probabilities"]["benign"].as_f64().unwrap();
    assert!((p + q - 1.0).abs() < 1e-15);
    let mlflow: Value = serde_json::from_str(
        &s.http
            .post(s.u("/invocations"))
            .header("content-type", "text/csv")
            .body("mean_radius,mean_texture,mean_smoothness,mean_compactness,mean_symmetry\n1,0,0,0,0\n-2,0,0,0,0\n")
            .send()
            .unwrap()
            .text()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        mlflow,
        serde_json::json!({"predictions": ["malignant", "benign"]})
    );
    let many = post(serde_json::json!({ "instances": [row, [-2, 0, 0, 0, 0]] }));
    assert_eq!(
        many["predictions"],
        serde_json::json!(["malignant", "benign"]),
        "{many}"
    );
    assert_eq!(many["probabilities"].as_array().unwrap().len(), 2);
    assert_eq!(s.stop(), 0);
}

fn validate_reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(data("validate.json")).unwrap()).unwrap()
}

/// `validate`'s classification metrics equal scikit-learn's on the
/// statsmodels fit's probabilities (tests/data/logistic/validate.json), and
/// its gates pass or fail on them.
#[test]
fn validate_gates_a_classifier_on_metrics_equal_to_scikit_learn() {
    for (file, target, kind, key) in [
        ("breast.csv", "diagnosis", "logistic", "breast"),
        ("wine.csv", "cultivar", "multinomial", "wine"),
    ] {
        let t = Test::new()
            .toml(&format!(
                "{}\n[validate.thresholds]\nauc = {{ min = 0.9 }}\naccuracy = {{ min = 0.75 }}\n",
                project(file, target, &format!("kind = \"{kind}\""))
            ))
            .args(["-q", "train"]);
        t.run().success();
        // No --data and validation_fraction = 0: the training rows; and
        // --data: every row of the same file. Both are every row.
        for args in [vec![], vec!["--data".to_string(), data(file)]] {
            let mut a = vec!["--json".to_string(), "validate".to_string()];
            a.extend(args);
            let doc = t.run_args(&a).success().json();
            let got = &doc["candidate"]["classification"];
            let want = &validate_reference()[key];
            assert_eq!(got["rows"], want["rows"], "{key}");
            assert_eq!(got["confusion"], want["confusion"], "{key}");
            for (name, w) in want.as_object().unwrap() {
                if let Some(w) = w.as_f64() {
                    close(&got[name], &Value::from(w), 1e-7);
                }
            }
            assert_eq!(doc["passed"], true, "{doc}");
            assert_eq!(doc["gates"][0]["name"], "accuracy min");
            assert_eq!(doc["gates"][1]["name"], "auc min");
        }
    }
    // A failing gate: exit 1, named in the text report.
    let t = Test::new()
        .toml(&format!(
            "{}\n[validate.thresholds]\nlog_loss = {{ max = 0.1 }}\nf1 = {{ min = 0.9 }}\n",
            project("breast.csv", "diagnosis", "kind = \"logistic\"")
        ))
        .args(["-q", "train"]);
    t.run().success();
    t.run_args(["validate"])
        .code(1)
        .stdout_contains("gate log_loss max")
        .stdout_contains("metrics   accuracy ");
}

/// On a split, `validate` recomputes train's validation rows: its metrics
/// are the artifact's validation metrics exactly; drift is checked on the
/// predicted probability of the positive class too.
#[test]
fn validate_of_the_churn_example_equals_train_and_checks_probability_drift() {
    let ex = repo().join("examples/churn");
    let toml = std::fs::read_to_string(ex.join("mlops.toml")).unwrap();
    let t = Test::new()
        .file("train.csv", std::fs::read(ex.join("train.csv")).unwrap())
        .file("recent.csv", std::fs::read(ex.join("recent.csv")).unwrap())
        .toml(&format!(
            "{toml}\n[validate.thresholds]\nauc = {{ min = 0.6 }}\n\n[validate.drift]\ndata = \"recent.csv\"\n"
        ))
        .args(["-q", "train"]);
    t.run().success();
    let doc = t.run_args(["--json", "validate"]).json();
    let art = t.read_json("models/churn.json");
    assert_eq!(
        doc["candidate"]["classification"],
        art["classifier"]["metrics"]["validation"]
    );
    assert_eq!(doc["candidate"]["metrics"], art["metrics"]["validation"]);
    let p = &doc["drift"]["predictions"];
    assert_eq!(p.as_array().unwrap().len(), 1, "{p}");
    assert_eq!(p[0]["name"], "probability_yes");
    assert!(p[0]["ks_p_value"].is_number() && p[0]["psi"].is_number());
    t.run_args(["validate"])
        .stdout_contains("drift probability_yes");
}

/// The baseline from the registry is a classifier too: compared on the
/// classification metrics, by default all of them.
#[test]
fn validate_compares_a_classifier_with_its_registered_baseline() {
    let base = project("breast.csv", "diagnosis", "kind = \"logistic\"");
    let t = Test::new()
        .toml(&base)
        .git_init()
        .env("SOURCE_DATE_EPOCH", crate::common::GIT_TIME.to_string())
        .args(["-q", "train"]);
    t.run().success();
    t.commit_all("model", crate::common::GIT_TIME);
    t.run_args(["-q", "package"]).success();
    let doc = t
        .run_args(["--json", "validate", "--baseline", "c@v0.0.1"])
        .success()
        .json();
    assert_eq!(
        doc["baseline"]["classification"],
        doc["candidate"]["classification"]
    );
    let names: Vec<&str> = doc["gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["metric"].as_str().unwrap())
        .collect();
    // Binary: every classification metric but the weighted AUC.
    assert_eq!(
        names,
        [
            "accuracy",
            "log_loss",
            "auc",
            "average_precision",
            "brier",
            "precision",
            "recall",
            "f1",
            "ece"
        ]
    );
    // A heavily penalised candidate is worse on log loss.
    t.write(
        "mlops.toml",
        format!(
            "{base}alpha = 200.0\n\n[validate.baseline]\nmetrics = [\"auc\", \"log_loss\"]\nmax_absolute_degradation = 0.01\n"
        ),
    );
    t.run_args(["-q", "train"]).success();
    let doc = t
        .run_args(["--json", "validate", "--baseline", "c@v0.0.1"])
        .code(1)
        .json();
    let g = &doc["gates"][1];
    assert_eq!(g["name"], "log_loss max_absolute_degradation");
    assert_eq!(g["passed"], false);
    assert!(g["value"].as_f64().unwrap() > g["baseline_value"].as_f64().unwrap() + 0.01);
}

#[test]
fn validate_keys_must_fit_the_kind() {
    for (extra, needle) in [
        (
            "[validate.thresholds]\nr2 = { min = 0.5 }\n",
            "key \"validate.thresholds.r2\" applies only to regressions",
        ),
        (
            "[validate.thresholds]\nauc_weighted = { min = 0.5 }\n",
            "is defined only for more than two classes",
        ),
        (
            "[validate.baseline]\nmetrics = [\"rmse\"]\n",
            "lists \"rmse\", which applies only to regressions",
        ),
    ] {
        let t = Test::new()
            .toml(&format!(
                "{}\n{extra}",
                project("breast.csv", "diagnosis", "kind = \"logistic\"")
            ))
            .args(["validate"]);
        fails(&t, 2, needle);
    }
    let t = Test::new()
        .toml(&format!(
            "{}\n[validate.thresholds]\nauc = {{ min = 0.5 }}\n",
            project("breast.csv", "diagnosis", "kind = \"linear\"")
        ))
        .args(["validate"]);
    fails(&t, 2, "applies only to classifiers");
}

/// The bundled churn example trains as shipped and recovers the logistic
/// model its generator draws from (examples/churn/generate.py).
#[test]
fn churn_example_trains_and_recovers_its_generator() {
    let dir = repo().join("examples/churn");
    let t = Test::new()
        .file("mlops.toml", std::fs::read(dir.join("mlops.toml")).unwrap())
        .file("train.csv", std::fs::read(dir.join("train.csv")).unwrap())
        .args(["train"]);
    t.run().success();
    let m = t.read_json("models/churn.json");
    let c = &m["classifier"];
    assert_eq!(c["classes"], serde_json::json!(["no", "yes"]));
    let lp = &c["linear_predictors"]["yes"]["coefficients"];
    for (k, truth, tol) in [
        ("late_payments", 0.45, 0.1),
        ("support_calls", 0.35, 0.1),
        ("contract=monthly", 1.2, 0.25),
        ("contract=two-year", -0.9, 0.3),
    ] {
        let b = lp[k].as_f64().unwrap();
        assert!((b - truth).abs() < tol, "{k}: {b} vs {truth}");
    }
    assert!(c["metrics"]["validation"]["auc"].as_f64().unwrap() > 0.7);
}

/// Open Inference V2: a classifier declares and returns `label` (BYTES) and
/// `probability` (FP64 `[N, K]`), honouring `outputs` and binary data.
#[cfg(unix)]
#[test]
fn v2_returns_label_and_probability_tensors() {
    let t = Test::new()
        .toml(&project("wine.csv", "cultivar", "kind = \"multinomial\""))
        .args(["train"]);
    t.run().success();
    let s = crate::serve::Server::start_with(&t, &["--model", "m.json"], &[]);
    let meta: Value = serde_json::from_str(&s.get("/v2/models/c").text().unwrap()).unwrap();
    assert_eq!(
        meta["outputs"][1],
        serde_json::json!({"name": "probability", "datatype": "FP64", "shape": [-1, 3]})
    );
    let infer = |body: Value| -> (Value, Vec<u8>) {
        let r = s
            .http
            .post(s.u("/v2/models/c/infer"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap();
        let len: Option<usize> = r
            .headers()
            .get("inference-header-content-length")
            .map(|v| v.to_str().unwrap().parse().unwrap());
        let bytes = r.bytes().unwrap().to_vec();
        let n = len.unwrap_or(bytes.len());
        (
            serde_json::from_slice(&bytes[..n]).unwrap(),
            bytes[n..].to_vec(),
        )
    };
    let input = serde_json::json!([{"name": "x", "shape": [2, 3], "datatype": "FP64", "data": [[1.5, -0.5, 0.2], [0.2, 1.0, 1.1]]}]);
    let (doc, _) = infer(serde_json::json!({ "inputs": input }));
    assert_eq!(doc["outputs"][0]["name"], "label", "{doc}");
    assert_eq!(doc["outputs"][0]["datatype"], "BYTES");
    assert_eq!(doc["outputs"][1]["shape"], serde_json::json!([2, 3]));
    let p: Vec<f64> = serde_json::from_value(doc["outputs"][1]["data"].clone()).unwrap();
    assert!((p[0] + p[1] + p[2] - 1.0).abs() < 1e-15);
    // Only the probabilities, as binary data.
    let (doc, bin) = infer(serde_json::json!({
        "inputs": input,
        "outputs": [{"name": "probability", "parameters": {"binary_data": true}}]
    }));
    assert_eq!(doc["outputs"].as_array().unwrap().len(), 1, "{doc}");
    assert_eq!(doc["outputs"][0]["parameters"]["binary_data_size"], 48);
    let first = f64::from_le_bytes(bin[..8].try_into().unwrap());
    assert_eq!(first, p[0]);
    assert_eq!(s.stop(), 0);
}

/// An `http` deploy of a classifier to the real `mlops serve`: the smoke
/// test compares each class's probability (1e-9) and the label.
#[cfg(unix)]
#[test]
fn http_deploy_of_a_classifier_smoke_tests_its_probabilities() {
    const VAR: &str = "MLOPS_TEST_ADMIN_TOKEN";
    const TOKEN: &str = "s3cret-t0ken-0123456789abcdef0123";
    let dir = Test::new().file(
        "mlops.toml",
        format!("[serve]\nadmin_token_env = \"{VAR}\"\n"),
    );
    let s = crate::serve::Server::start_with(&dir, &[], &[(VAR, TOKEN)]);
    let ex = repo().join("examples/churn");
    let toml = std::fs::read_to_string(ex.join("mlops.toml")).unwrap();
    let t = Test::new()
        .file("train.csv", std::fs::read(ex.join("train.csv")).unwrap())
        .toml(&format!(
            "{toml}\n[environments.prod]\ntarget = \"http\"\nurl = \"{}\"\ntoken_env = \"{VAR}\"\nsmoke_rows = 4\nhealth = {{ timeout_s = 5, retries = 2 }}\n",
            s.url
        ))
        .git_init()
        .env("SOURCE_DATE_EPOCH", crate::common::GIT_TIME.to_string())
        .env(VAR, TOKEN)
        .args(["-q", "train"]);
    t.run().success();
    t.commit_all("model", crate::common::GIT_TIME);
    t.run_args(["-q", "package", "--version", "v1.0.0"])
        .success();
    let doc = t
        .run_args(["--json", "deploy", "prod", "--version", "v1.0.0"])
        .success()
        .json();
    let smoke = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "smoke")
        .unwrap();
    assert!(
        smoke["detail"]
            .as_str()
            .unwrap()
            .starts_with("4 rows (validation rows of "),
        "{smoke}"
    );
}

/// `docs/openapi.yaml` as JSON.
fn openapi() -> Value {
    fn json(y: &yaml_rust2::Yaml) -> Value {
        use yaml_rust2::Yaml;
        match y {
            Yaml::Hash(h) => Value::Object(
                h.iter()
                    .map(|(k, v)| (k.as_str().unwrap().to_string(), json(v)))
                    .collect(),
            ),
            Yaml::Array(a) => Value::Array(a.iter().map(json).collect()),
            Yaml::String(s) => Value::from(s.as_str()),
            Yaml::Integer(i) => Value::from(*i),
            Yaml::Real(r) => Value::from(r.parse::<f64>().unwrap()),
            Yaml::Boolean(b) => Value::from(*b),
            _ => Value::Null,
        }
    }
    let text = std::fs::read_to_string(repo().join("docs/openapi.yaml")).unwrap();
    json(&yaml_rust2::YamlLoader::load_from_str(&text).unwrap()[0])
}

/// A classifier's real `/predict` answers, one row and a batch, are valid
/// by `docs/openapi.yaml`'s `PredictResponse`; a regression's labels would
/// not be objects of probabilities.
#[cfg(unix)]
#[test]
fn openapi_describes_a_classifiers_predict_response() {
    let t = Test::new()
        .toml(&project("breast.csv", "diagnosis", "kind = \"logistic\""))
        .args(["-q", "train"]);
    t.run().success();
    let s = crate::serve::Server::start_with(&t, &["--model", "m.json"], &[]);
    let schema = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": openapi()["components"],
        "$ref": "#/components/schemas/PredictResponse",
    });
    let v = jsonschema::validator_for(&schema).unwrap();
    let row = serde_json::json!({"mean_radius": 1.0, "mean_texture": 0, "mean_smoothness": 0, "mean_compactness": 0, "mean_symmetry": 0});
    for body in [
        serde_json::json!({ "features": row }),
        serde_json::json!({ "instances": [row, [-2, 0, 0, 0, 0]] }),
    ] {
        let doc: Value = serde_json::from_str(
            &s.http
                .post(s.u("/predict"))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .unwrap()
                .text()
                .unwrap(),
        )
        .unwrap();
        assert!(doc["probabilities"].is_object() || doc["probabilities"].is_array());
        let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{doc}: {errors:?}");
    }
    let mut bad = serde_json::json!({"prediction": "x", "probabilities": {"a": "high"}, "model": "c", "version": "v", "variant": "champion"});
    assert!(!v.is_valid(&bad));
    bad["probabilities"] = serde_json::json!({"a": 0.5});
    assert!(v.is_valid(&bad));
}
