//! The prediction log's sinks and readers through the real binary: the
//! Elasticsearch sink against the loopback `_bulk` endpoint of
//! [`crate::es_mock`] (faults, an outage, a small buffer), the log read back
//! by `validate --drift-data`, and the `[serve.prediction_log]` checks.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Test, Tmpfs, example_toml, repo, toml_str};
use crate::es_mock::{EsMock, Faults};
use crate::serve::{Server, row, with_model};

/// Requests sent and rows per request: 100,000 predictions.
const REQUESTS: usize = 5_000;
const ROWS: usize = 20;

fn metric(s: &Server, prefix: &str) -> Option<f64> {
    let text = s.get("/metrics").text().unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .map(|v| v.trim().parse().unwrap())
}

/// Lines of a JSON Lines file (none when it does not exist).
fn jsonl(t: &Test, rel: &str) -> Vec<Value> {
    if !t.exists(rel) {
        return Vec::new();
    }
    t.read(rel)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn predictions_in(doc: &Value) -> usize {
    doc["prediction"].as_array().map_or(1, Vec::len)
}

#[test]
fn elasticsearch_gets_every_prediction_once_or_the_dead_letter_has_it() {
    let es = EsMock::start(Faults {
        item_429_every: 29,
        item_503_every: 31,
        request_429_every: 17,
        lost_answer_every: 7,
        outage_after: 2,
        outage: Duration::from_secs(4),
    });
    let t = with_model().file(
        "mlops.toml",
        format!(
            "[serve.prediction_log]\nsink = \"elasticsearch\"\nurl = {}\nindex = \"mlops-predictions\"\ndead_letter = \"logs/dead.jsonl\"\napi_key_env = \"MLOPS_TEST_ES_KEY\"\nbuffer_lines = 1000\nfeatures = true\n",
            toml_str(&es.url)
        ),
    );
    let s = Server::start_with(
        &t,
        &["--model", "model.json"],
        &[("MLOPS_TEST_ES_KEY", "aWQ6a2V5")],
    );
    let body = json!({"instances": vec![row(); ROWS]}).to_string();
    let started = Instant::now();
    std::thread::scope(|sc| {
        for _ in 0..4 {
            sc.spawn(|| {
                for _ in 0..REQUESTS / 4 {
                    let r = s
                        .http
                        .post(s.u("/predict"))
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .unwrap();
                    assert_eq!(r.status(), 200);
                }
            });
        }
    });
    let sent = started.elapsed();
    // Every line ends indexed or dead-lettered, and the metric counts the latter.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (indexed, dead) = loop {
        let indexed = es.state.lock().unwrap().indexed.len();
        let dead = jsonl(&t, "logs/dead.jsonl").len();
        if indexed + dead == REQUESTS {
            break (indexed, dead);
        }
        assert!(
            Instant::now() < deadline,
            "{indexed} indexed + {dead} dead-lettered of {REQUESTS} lines; {:?}",
            es.state.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        metric(
            &s,
            "mlops_prediction_log_dropped_lines_total{sink=\"elasticsearch\"}"
        ),
        Some(dead as f64)
    );
    let stderr = s.stderr();
    assert_eq!(s.stop(), 0);
    assert!(
        !stderr.contains("aWQ6a2V5") && !secret_in_files(&t),
        "the key was printed"
    );
    let st = es.state.lock().unwrap();
    assert!(st.violations.is_empty(), "{:?}", st.violations);
    let docs: Vec<&Value> = st.indexed.values().collect();
    let dead_docs = jsonl(&t, "logs/dead.jsonl");
    let total: usize = docs.iter().map(|d| predictions_in(d)).sum::<usize>()
        + dead_docs.iter().map(predictions_in).sum::<usize>();
    assert_eq!(
        total,
        REQUESTS * ROWS,
        "indexed + dead-lettered = predictions"
    );
    // No line twice: _id is the request id, each indexed once (the mock's
    // map), none both indexed and dead-lettered, none dead-lettered twice.
    let mut ids: HashSet<&str> = HashSet::new();
    for d in &docs {
        assert_eq!(st.indexed[d["request_id"].as_str().unwrap()], **d);
        assert!(
            d["@timestamp"] == d["timestamp"] && d["features"].as_array().unwrap().len() == ROWS
        );
        ids.insert(d["request_id"].as_str().unwrap());
    }
    for d in &dead_docs {
        assert!(ids.insert(d["request_id"].as_str().unwrap()), "{d} twice");
    }
    assert_eq!(ids.len(), REQUESTS);
    // The faults all happened, and were survived.
    assert!(dead > 0 && indexed > 0, "{indexed} indexed, {dead} dead");
    for code in [201, 409, 429, 503] {
        assert!(
            st.statuses.get(&code).copied().unwrap_or(0) > 0,
            "{code}: {:?}",
            st.statuses
        );
    }
    assert!(st.outage_hits > 0 && st.lost_answers > 0);
    assert!(st.authorization.iter().all(|a| a == "ApiKey aWQ6a2V5"));
    eprintln!(
        "{REQUESTS} requests in {sent:?}: {indexed} lines indexed, {dead} dead-lettered, statuses {:?}, {} bulk requests, {} in the outage, {} answers lost",
        st.statuses, st.requests, st.outage_hits, st.lost_answers
    );
}

fn secret_in_files(t: &Test) -> bool {
    t.snapshot()
        .iter()
        .any(|(_, bytes)| String::from_utf8_lossy(bytes).contains("aWQ6a2V5"))
}

#[test]
fn drift_from_the_log_equals_drift_from_the_same_rows_as_csv() {
    let t = Test::new().toml(&format!(
        "{}\n[serve.prediction_log]\npath = \"logs/p.jsonl\"\nfeatures = true\n",
        example_toml()
    ));
    t.run_args(["-q", "train"]).success();
    let recent = repo().join("examples/house-prices/recent.csv");
    let mut rdr = csv::Reader::from_path(&recent).unwrap();
    let head: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let rows: Vec<Value> = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            let mut o = serde_json::Map::new();
            for (k, v) in head.iter().zip(r.iter()) {
                if k == "id" || k == "price" {
                    continue;
                }
                let cell = v.parse::<f64>().map_or_else(|_| json!(v), |x| json!(x));
                o.insert(k.clone(), cell);
            }
            Value::Object(o)
        })
        .collect();
    let s = Server::start(&t, &["--model", "models/house-price.json"]);
    // One row alone, then batches: both shapes of a line.
    assert_eq!(
        s.post_json("/predict", &json!({"features": rows[0]}))
            .status(),
        200
    );
    for chunk in rows[1..].chunks(37) {
        assert_eq!(
            s.post_json("/predict", &json!({"instances": chunk}))
                .status(),
            200
        );
    }
    assert_eq!(s.stop(), 0);
    let drift = |data: &str, extra: &[&str]| {
        let mut args = vec!["--json", "validate", "--drift-data", data];
        args.extend_from_slice(extra);
        let doc = t.run_args(&args).json();
        doc["drift"]["features"].clone()
    };
    let from_csv = drift(&recent.display().to_string(), &[]);
    let from_log = drift("logs/p.jsonl", &[]);
    assert_eq!(from_csv.as_array().unwrap().len(), 7);
    assert_eq!(from_log, from_csv, "the same numbers, to the last bit");
    assert_eq!(drift("logs/p.jsonl", &["--since", "1h"]), from_csv);
    t.run_args(["validate", "--drift-data", "logs/p.jsonl", "--since", "5x"])
        .code(2)
        .stderr_contains("--since \"5x\" is not a duration");
    t.run_args([
        "validate",
        "--drift-data",
        &recent.display().to_string(),
        "--since",
        "1h",
    ])
    .code(2)
    .stderr_contains("--since keeps the recent lines of a prediction log");
}

#[test]
fn a_log_without_features_is_refused_by_validate_with_the_fix() {
    let t = Test::new().toml(&format!(
        "{}\n[serve]\nprediction_log = \"logs/p.jsonl\"\n",
        example_toml()
    ));
    t.run_args(["-q", "train"]).success();
    let s = Server::start(&t, &["--model", "models/house-price.json"]);
    assert_eq!(
        s.post_json("/predict", &json!({"features": row()}))
            .status(),
        200
    );
    assert_eq!(s.stop(), 0);
    t.run_args(["validate", "--drift-data", "logs/p.jsonl"])
        .code(3)
        .stderr_contains("logs/p.jsonl:1: the line has no \"features\"; log the inputs with [serve.prediction_log] features = true");
}

#[test]
fn prediction_log_tables_are_checked() {
    let cases = [
        ("sink = \"kafka\"\npath = \"p.jsonl\"", "sink"),
        (
            "features = true",
            "key \"serve.prediction_log.path\" is missing",
        ),
        (
            "sink = \"elasticsearch\"\nindex = \"p\"\ndead_letter = \"d.jsonl\"",
            "key \"serve.prediction_log.url\" is missing",
        ),
        (
            "sink = \"elasticsearch\"\nurl = \"https://u:pw@es:9200\"\nindex = \"p\"\ndead_letter = \"d.jsonl\"",
            "holds credentials",
        ),
        (
            "sink = \"elasticsearch\"\nurl = \"es:9200\"\nindex = \"p\"\ndead_letter = \"d.jsonl\"",
            "is not an http:// or https:// URL",
        ),
        (
            "sink = \"elasticsearch\"\nurl = \"http://es:9200\"\nindex = \"Preds\"\ndead_letter = \"d.jsonl\"",
            "has upper-case letters",
        ),
        (
            "sink = \"elasticsearch\"\nurl = \"http://es:9200\"\nindex = \"p\"",
            "key \"serve.prediction_log.dead_letter\" is missing",
        ),
        (
            "sink = \"elasticsearch\"\nurl = \"http://es:9200\"\nindex = \"p\"\ndead_letter = \"d\"\napi_key_env = \"sk-123 secret\"",
            "is not an environment variable name",
        ),
        (
            "sink = \"elasticsearch\"\nurl = \"http://es:9200\"\nindex = \"p\"\ndead_letter = \"d\"\nusername_env = \"U\"",
            "needs both username_env and password_env",
        ),
        (
            "sink = \"stdout\"\nurl = \"http://es:9200\"",
            "is for sink = \"elasticsearch\"",
        ),
        ("path = \"p.jsonl\"\nbufer_lines = 3", "buffer_lines"),
    ];
    for (table, want) in cases {
        let t = Test::new().toml(&format!(
            "{}\n[serve.prediction_log]\n{table}\n",
            example_toml()
        ));
        let o = t.run_args(["validate"]);
        o.code(2);
        assert!(o.stderr.contains(want), "{table}: {}", o.stderr);
        assert!(o.stderr.contains("mlops.toml:"), "{}", o.stderr);
    }
}

#[test]
fn a_credential_variable_that_is_not_set_stops_serve_before_it_listens() {
    let t = with_model().file(
        "mlops.toml",
        "[serve.prediction_log]\nsink = \"elasticsearch\"\nurl = \"http://127.0.0.1:1\"\nindex = \"p\"\ndead_letter = \"d.jsonl\"\nusername_env = \"MLOPS_TEST_ES_USER\"\npassword_env = \"MLOPS_TEST_ES_PASS\"\n",
    );
    t.run_args(["serve", "--bind", "127.0.0.1:0", "--model", "model.json"])
        .code(2)
        .stderr_contains("[serve.prediction_log].username_env names the variable MLOPS_TEST_ES_USER, which is not set");
}

#[test]
fn the_stdout_sink_writes_one_json_line_per_request_on_stdout() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let t = with_model().file(
        "mlops.toml",
        "[serve.prediction_log]\nsink = \"stdout\"\nfeatures = true\n",
    );
    let mut child = Command::new(crate::common::BIN)
        .current_dir(t.root())
        .args(["serve", "--bind", "127.0.0.1:0", "--model", "model.json"])
        .env_remove("MLOPS_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "the server did not start"
        );
        if let Some(u) = line.trim().strip_prefix("listening on ") {
            break u.to_string();
        }
    };
    let http = reqwest::blocking::Client::new();
    for body in [
        json!({"features": row()}),
        json!({"instances": [row(), row()]}),
    ] {
        let r = http
            .post(format!("{url}/predict"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let metrics = http
        .get(format!("{url}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("mlops_prediction_log_dropped_lines_total{sink=\"stdout\"} 0\n"),
        "{metrics}"
    );
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0]["features"]["neighborhood"], "eastside");
    assert_eq!(lines[1]["features"].as_array().unwrap().len(), 2);
}

/// L4: with the log on a 64 KiB tmpfs, every prediction still answers 200,
/// the file holds only whole JSON lines, and the drop counter is exactly
/// the requests whose line is not in the file.
#[test]
fn a_full_disk_keeps_predictions_flowing_and_counts_every_lost_line() {
    let t = with_model().file(
        "mlops.toml",
        "[serve.prediction_log]\npath = \"logs/p.jsonl\"\nfeatures = true\n",
    );
    let _fs = match Tmpfs::mount(&t.path("logs"), "64k") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let s = Server::start_with(&t, &["--model", "model.json"], &[]);
    const N: usize = 1500;
    for i in 0..N {
        let r = s.post_json(
            "/predict",
            &json!({"features": row(), "key": format!("u{i}")}),
        );
        assert_eq!(r.status(), 200, "request {i}");
    }
    let count = || {
        let lines = jsonl(&t, "logs/p.jsonl").len();
        let dropped = metric(
            &s,
            "mlops_prediction_log_dropped_lines_total{sink=\"file\"} ",
        )
        .unwrap_or(0.0);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        (lines, dropped as usize)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let (lines, dropped) = loop {
        let (l, d) = count();
        if l + d >= N || Instant::now() > deadline {
            break (l, d);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // The disk is full: some lines were written, the rest counted.
    assert!(lines > 0 && dropped > 0, "{lines} lines, {dropped} dropped");
    assert_eq!(lines + dropped, N, "{lines} lines + {dropped} dropped");
    let raw = t.read("logs/p.jsonl");
    assert!(raw.ends_with('\n'));
    let mut ids = HashSet::new();
    for l in raw.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        assert!(ids.insert(v["key"].as_str().unwrap().to_string()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(t.path("logs/p.jsonl"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the log holds user keys");
    }
    drop(s);
}
