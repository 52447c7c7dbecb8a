//! Live drift in `mlops serve` against the batch drift check, and the
//! Prometheus files of `mlops monitor emit` checked by promtool and by a
//! real Prometheus scraping a real server (`MLOPS_PROMETHEUS`, the
//! `prometheus` binary, with `promtool` beside it; skipped when unset).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Test, example_toml, repo};
use crate::serve::Server;

/// The rows of a CSV as feature objects (`features`: numeric unless named
/// in `categorical`).
fn instances(csv: &str, features: &[&str], categorical: &[&str]) -> Vec<Value> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let mut o = serde_json::Map::new();
            for f in features {
                let v = cells[header.iter().position(|h| h == f).unwrap()];
                let v = if categorical.contains(f) {
                    json!(v)
                } else {
                    json!(v.parse::<f64>().unwrap())
                };
                o.insert((*f).to_string(), v);
            }
            Value::Object(o)
        })
        .collect()
}

const FEATURES: [&str; 7] = [
    "sqft",
    "bedrooms",
    "bathrooms",
    "year_built",
    "lot_size",
    "distance_km",
    "neighborhood",
];

/// `family{...feature="f"...} value` samples of `text`, by feature.
fn by_feature(text: &str, family: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for l in text
        .lines()
        .filter(|l| l.starts_with(&format!("{family}{{")))
    {
        let (labels, v) = l.rsplit_once(' ').unwrap();
        let f = labels
            .split("feature=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        out.insert(f.to_string(), v.parse().unwrap());
    }
    out
}

/// Train the example (streaming or in memory), serve it, send recent.csv,
/// and compare the live PSI with `validate --drift-data` feature by feature.
fn live_equals_batch(streaming: bool) {
    let t = Test::new().toml(&format!(
        "{}\n[serve.monitor]\nwindow = \"1h\"\nmin_samples = 400\n",
        example_toml()
    ));
    let mut train = vec!["-q", "train"];
    if streaming {
        train.push("--streaming");
    }
    t.run_args(train).success();
    let s = Server::start(&t, &["--model", "models/house-price.json"]);
    let metrics = || s.get("/metrics").text().unwrap();
    assert!(
        !metrics().contains("mlops_feature_drift_psi{"),
        "absent before min_samples"
    );
    let recent = repo().join("examples/house-prices/recent.csv");
    let rows = instances(
        &std::fs::read_to_string(&recent).unwrap(),
        &FEATURES,
        &["neighborhood"],
    );
    for chunk in rows.chunks(100) {
        let r = s.post_json("/predict", &json!({ "instances": chunk }));
        assert_eq!(r.status().as_u16(), 200, "{}", r.text().unwrap());
    }
    let text = metrics();
    let live = by_feature(&text, "mlops_feature_drift_psi");
    let samples = by_feature(&text, "mlops_drift_window_samples");
    assert_eq!(samples["sqft"], 500.0, "{text}");
    assert!(
        text.contains("mlops_prediction_drift_psi{model=\"house-price\""),
        "{text}"
    );
    let doc = t
        .run_args([
            "--json",
            "validate",
            "--drift-data",
            &recent.display().to_string(),
        ])
        .json();
    let batch = doc["drift"]["features"].as_array().unwrap();
    assert_eq!(batch.len(), FEATURES.len());
    for f in batch {
        let name = f["name"].as_str().unwrap();
        let want = f["psi"].as_f64().unwrap();
        let got = live[name];
        assert!(
            (got - want).abs() <= 1e-12,
            "{name}: live {got}, validate {want}"
        );
    }
    // The window's samples of each feature are the rows sent.
    assert!(samples.values().all(|&n| n == 500.0), "{samples:?}");
}

#[test]
fn live_psi_equals_validate_drift_data_in_memory_fit() {
    live_equals_batch(false);
}

#[test]
fn live_psi_equals_validate_drift_data_streaming_fit() {
    live_equals_batch(true);
}

#[test]
fn monitor_emit_writes_the_three_files_and_a_prometheus_rule() {
    let t = Test::new().toml(&format!(
        "{}\n[environments.k8s]\ntarget = \"kubernetes\"\npath = \"deploy/k8s\"\n",
        example_toml()
    ));
    t.run_args(["monitor", "emit", "--out", "mon", "--kube", "k8s"])
        .success()
        .stdout_contains("alerts.yml")
        .stdout_contains("prometheusrule.yaml");
    for f in [
        "mon/alerts.yml",
        "mon/alerts_test.yml",
        "mon/dashboard.json",
        "deploy/k8s/prometheusrule.yaml",
    ] {
        assert!(t.exists(f), "{f}");
    }
    let d = t.read_json("mon/dashboard.json");
    assert_eq!(d["templating"]["list"][0]["type"], "datasource");
    t.run_args(["monitor", "emit", "--latency-le", "0.3"])
        .code(2)
        .stderr_contains("--latency-le 0.3 is not a bucket");
    t.run_args(["monitor", "emit", "--kube", "nope"]).code(2);
    if let Some(promtool) = promtool() {
        for args in [
            vec!["check", "rules", "mon/alerts.yml"],
            vec!["test", "rules", "mon/alerts_test.yml"],
        ] {
            let o = Command::new(&promtool)
                .args(&args)
                .current_dir(t.root())
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "promtool {args:?}:\n{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}

/// `promtool` beside `MLOPS_PROMETHEUS`, when that is set.
fn promtool() -> Option<PathBuf> {
    let Some(p) = std::env::var_os("MLOPS_PROMETHEUS") else {
        eprintln!(
            "skipped: MLOPS_PROMETHEUS (the prometheus binary, promtool beside it) is not set"
        );
        return None;
    };
    Some(Path::new(&p).with_file_name("promtool"))
}

/// A real Prometheus on loopback, stopped when dropped.
struct Prometheus {
    child: Child,
    url: String,
    http: reqwest::blocking::Client,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    fn start(bin: &Path, t: &Test, target: &str) -> Prometheus {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        t.write(
            "prometheus.yml",
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - mon/alerts.yml\nscrape_configs:\n  - job_name: mlops\n    static_configs:\n      - targets: [\"{target}\"]\n"
            ),
        );
        let child = Command::new(bin)
            .current_dir(t.root())
            .args([
                "--config.file=prometheus.yml".to_string(),
                format!("--storage.tsdb.path={}", t.path("tsdb").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                "--log.level=warn".to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus");
        let p = Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        };
        p.wait_until("ready", || {
            p.http
                .get(format!("{}/-/ready", p.url))
                .send()
                .is_ok_and(|r| r.status().is_success())
        });
        p
    }

    #[track_caller]
    fn wait_until(&self, what: &str, mut ok: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ok() {
            assert!(Instant::now() < deadline, "prometheus: {what} within 60 s");
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// An instant query: the API's answer (status checked by the caller).
    fn query(&self, q: &str) -> Value {
        self.http
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", q)])
            .send()
            .and_then(reqwest::blocking::Response::text)
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap()
    }

    /// The rule groups and their health.
    fn rules(&self) -> Value {
        self.http
            .get(format!("{}/api/v1/rules", self.url))
            .send()
            .and_then(reqwest::blocking::Response::text)
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap()
    }

    /// The value of the one sample of `q`, if there is one.
    fn value(&self, q: &str) -> Option<f64> {
        let r = self.query(q);
        r["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
    }
}

/// Every PromQL expression of the emitted files, with the dashboard's
/// variables filled in.
fn expressions(t: &Test) -> Vec<String> {
    let mut out: Vec<String> = t
        .read("mon/alerts.yml")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr: "))
        .map(|e| serde_json::from_str::<String>(e).unwrap())
        .collect();
    let d = t.read_json("mon/dashboard.json");
    for p in d["panels"].as_array().unwrap() {
        for target in p["targets"].as_array().into_iter().flatten() {
            let e = target["expr"].as_str().unwrap();
            out.push(
                e.replace("$__rate_interval", "1m")
                    .replace("$job", "mlops")
                    .replace("$instance", ".*")
                    .replace("$model", ".*"),
            );
        }
    }
    out
}

#[test]
fn a_real_prometheus_scrapes_the_server_and_evaluates_every_expression() {
    let Some(bin) = std::env::var_os("MLOPS_PROMETHEUS").map(PathBuf::from) else {
        eprintln!("skipped: MLOPS_PROMETHEUS (the prometheus binary) is not set");
        return;
    };
    let t = Test::new().toml(&format!(
        "{}\n[serve.monitor]\nwindow = \"1h\"\nmin_samples = 50\n",
        example_toml()
    ));
    t.run_args(["-q", "train"]).success();
    t.run_args(["monitor", "emit", "--out", "mon"]).success();
    let s = Server::start(&t, &["--model", "models/house-price.json"]);
    let recent = std::fs::read_to_string(repo().join("examples/house-prices/recent.csv")).unwrap();
    let rows = instances(&recent, &FEATURES, &["neighborhood"]);
    let send = |rows: &[Value]| {
        for chunk in rows.chunks(50) {
            let r = s.post_json("/predict", &json!({ "instances": chunk }));
            assert_eq!(r.status().as_u16(), 200);
        }
    };
    send(&rows[..200]);
    // promtool check metrics on the live exposition: no warning at all.
    let promtool = bin.with_file_name("promtool");
    let text = s.get("/metrics").text().unwrap();
    let mut check = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut check.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let o = check.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.status.success() && said.trim().is_empty(),
        "promtool check metrics:\n{said}\n{text}"
    );

    let p = Prometheus::start(&bin, &t, &s.addr());
    let psi = "mlops_feature_drift_psi{job=\"mlops\",feature=\"sqft\"}";
    p.wait_until("a drift gauge scraped", || p.value(psi).is_some());
    let before = p.value(psi).unwrap();
    // Drifted traffic: every house three times larger.
    let drifted: Vec<Value> = rows[200..]
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r["sqft"] = json!(r["sqft"].as_f64().unwrap() * 3.0);
            r
        })
        .collect();
    send(&drifted);
    p.wait_until("the sqft PSI rising above 0.25", || {
        p.value(psi).is_some_and(|v| v > before && v > 0.25)
    });
    assert!(
        p.value("sum(mlops_feature_out_of_range_total{job=\"mlops\",feature=\"sqft\"})")
            .unwrap()
            > 0.0
    );
    for e in expressions(&t) {
        let r = p.query(&e);
        assert_eq!(r["status"], "success", "{e}: {r}");
    }
    // The rules file loaded and evaluates (no rule group in error).
    let rules = p.rules();
    let groups = rules["data"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{rules}");
    p.wait_until("every rule evaluated", || {
        p.rules()["data"]["groups"][0]["rules"]
            .as_array()
            .is_some_and(|rs| rs.iter().all(|x| x["health"] == "ok"))
    });
}

#[test]
fn artifacts_record_bin_counts_and_prediction_stats_and_v1_still_loads() {
    let data = repo().join("tests/data/logistic/breast.csv");
    let t = Test::new().toml(&format!(
        "[project]\nname = \"c\"\n\n[data]\npath = {}\ntarget = \"diagnosis\"\n\n[split]\nvalidation_fraction = 0.0\n\n[model]\nname = \"c\"\nartifact = \"m.json\"\nkind = \"logistic\"\n",
        crate::common::toml_str(&data.display().to_string())
    ));
    t.run_args(["-q", "train"]).success();
    let m = t.read_json("m.json");
    assert_eq!(m["format"], "mlops.model/v2");
    let sum = |v: &Value| -> u64 {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .sum()
    };
    // A classifier's prediction statistics are of its scores (probabilities).
    let p = &m["prediction_stats"];
    assert_eq!(p["count"], m["rows"]["train"]);
    assert_eq!(sum(&p["bin_counts"]), p["count"].as_u64().unwrap());
    assert!(p["min"].as_f64().unwrap() >= 0.0 && p["max"].as_f64().unwrap() <= 1.0);
    for (_, s) in m["feature_stats"].as_object().unwrap() {
        if s["type"] == "numeric" {
            assert_eq!(sum(&s["bin_counts"]), s["count"].as_u64().unwrap(), "{s}");
        }
    }
    // The same artifact as v1 (no bin counts, no prediction statistics) is
    // still served: counters, no drift gauge.
    let mut v1 = m.clone();
    v1["format"] = json!("mlops.model/v1");
    v1.as_object_mut().unwrap().remove("prediction_stats");
    for s in v1["feature_stats"].as_object_mut().unwrap().values_mut() {
        s.as_object_mut().unwrap().remove("bin_counts");
    }
    t.write("v1.json", serde_json::to_string_pretty(&v1).unwrap());
    let s = Server::start(&t, &["--model", "v1.json"]);
    let text = s.get("/metrics").text().unwrap();
    assert!(
        text.contains("mlops_feature_missing_total{model=\"c\""),
        "{text}"
    );
    assert!(!text.contains("mlops_feature_drift_psi{"), "{text}");
}
