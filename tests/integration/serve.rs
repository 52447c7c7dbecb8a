//! `mlops serve`: the real binary on 127.0.0.1:0, driven over HTTP.
//!
//! Each test starts its own server, waits for the "listening on" line,
//! talks to it with reqwest (or a raw socket), and stops it with SIGTERM;
//! a server still running when its test ends is killed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

use crate::common::{BIN, Test, example_toml, repo, sha256_hex, train_in_process};

pub(crate) const TOKEN: &str = "s3cret-token-0123456789abcdef0123";

/// A running server (also used by `deploy::real_server`).
pub struct Server {
    pub child: Child,
    pub url: String,
    stderr: Arc<Mutex<String>>,
    pub http: Client,
}

impl Server {
    /// Start `mlops serve --bind 127.0.0.1:0 ARGS` in `t`'s folder.
    #[track_caller]
    pub(crate) fn start(t: &Test, args: &[&str]) -> Server {
        Server::start_with(t, args, &[])
    }

    #[track_caller]
    pub fn start_with(t: &Test, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(t.root())
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(args)
            .env_remove("MLOPS_CONFIG")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start mlops serve");
        let err = child.stderr.take().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let buf = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Some(u) = line.strip_prefix("listening on ") {
                    let _ = tx.send(u.to_string());
                }
                let mut b = buf.lock().unwrap();
                b.push_str(&line);
                b.push('\n');
            }
        });
        let Ok(url) = rx.recv_timeout(Duration::from_secs(20)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server did not start:\n{}", stderr.lock().unwrap());
        };
        let http = Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Server {
            child,
            url,
            stderr,
            http,
        }
    }

    pub fn u(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub fn get(&self, path: &str) -> Response {
        self.http.get(self.u(path)).send().unwrap()
    }

    pub(crate) fn post_json(&self, path: &str, body: &Value) -> Response {
        self.http
            .post(self.u(path))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap()
    }

    fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::blocking::RequestBuilder {
        self.http.request(method, self.u(path)).bearer_auth(TOKEN)
    }

    pub(crate) fn addr(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// SIGTERM, then the exit code (within 20 s).
    pub fn stop(self) -> i32 {
        self.stop_with("TERM")
    }

    /// Send `sig`, then the exit code (within 20 s).
    fn stop_with(mut self, sig: &str) -> i32 {
        self.signal(sig);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([format!("-{sig}"), self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[track_caller]
fn json_of(r: Response, status: u16) -> Value {
    let got = r.status().as_u16();
    let text = r.text().unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[track_caller]
fn error_of(r: Response, status: u16, want: &str) {
    let doc = json_of(r, status);
    let msg = doc["error"]
        .as_str()
        .or(doc["message"].as_str())
        .unwrap_or_default();
    assert!(msg.contains(want), "{doc} lacks {want}");
}

/// The example model, trained once per test process.
pub(crate) fn model() -> &'static mlops::model::Artifact {
    static M: std::sync::OnceLock<mlops::model::Artifact> = std::sync::OnceLock::new();
    M.get_or_init(|| train_in_process(&example_toml()))
}

/// A numeric-only model (the example without its categorical column).
pub(crate) fn numeric_model() -> &'static mlops::model::Artifact {
    static M: std::sync::OnceLock<mlops::model::Artifact> = std::sync::OnceLock::new();
    M.get_or_init(|| {
        train_in_process(
            &example_toml()
                .replace("exclude = [\"id\"]", "exclude = [\"id\", \"neighborhood\"]")
                .replace("categorical = [\"neighborhood\"]\n", ""),
        )
    })
}

/// A bundle of `art` registered as `name` at `version`.
pub(crate) fn bundle(art: &mlops::model::Artifact, name: &str, version: &str) -> Vec<u8> {
    let mut art = art.clone();
    art.name = name.to_string();
    let a = art.to_json().into_bytes();
    let toml = b"[project]\nname = \"t\"\n".to_vec();
    let manifest = json!({
        "name": name, "version": version, "commit": "0".repeat(40),
        "files": {"models/m.json": sha256_hex(&a), "mlops.toml": sha256_hex(&toml)},
    });
    let entries = [
        mlops::bundle::Entry {
            path: "models/m.json".into(),
            bytes: a,
        },
        mlops::bundle::Entry {
            path: "mlops.toml".into(),
            bytes: toml,
        },
        mlops::bundle::Entry {
            path: "manifest.json".into(),
            bytes: manifest.to_string().into_bytes(),
        },
    ];
    mlops::bundle::build(&entries, 1_700_000_000).unwrap()
}

/// A row of the example's features.
pub fn row() -> Value {
    json!({"sqft": 2000, "bedrooms": 3, "bathrooms": 2, "year_built": 1990,
           "lot_size": 5000, "distance_km": 10, "neighborhood": "eastside"})
}

/// The expected prediction of [`row`] by the library.
fn expected(art: &mlops::model::Artifact, row: &Value) -> f64 {
    let m = mlops::serve::Model::new(art.clone(), "v", "x").unwrap();
    let r = m.encode_object(row.as_object().unwrap(), "").unwrap();
    m.predict_one(&r).unwrap().unwrap()
}

pub(crate) fn with_model() -> Test {
    let t = Test::new();
    t.write("model.json", model().to_json());
    t
}

#[test]
fn every_read_endpoint_and_protocol() {
    let t = with_model();
    let s = Server::start(&t, &["--model", "model.json"]);
    let want = expected(model(), &row());
    let name = model().name.clone();

    assert_eq!(json_of(s.get("/healthz"), 200)["status"], "ok");
    assert_eq!(json_of(s.get("/readyz"), 200)["status"], "ready");
    assert_eq!(json_of(s.get("/v2/health/live"), 200)["live"], true);
    assert_eq!(json_of(s.get("/v2/health/ready"), 200)["ready"], true);
    assert_eq!(
        json_of(s.get("/v2"), 200)["extensions"][0],
        "binary_tensor_data"
    );
    let meta = json_of(s.get(&format!("/v2/models/{name}")), 200);
    assert_eq!(meta["versions"], json!(["unversioned"]));
    assert_eq!(
        meta["inputs"][6],
        json!({"name": "neighborhood", "datatype": "BYTES", "shape": [-1]})
    );
    assert_eq!(
        json_of(s.get(&format!("/v2/models/{name}/ready")), 200)["ready"],
        true
    );
    json_of(
        s.get(&format!("/v2/models/{name}/versions/unversioned")),
        200,
    );
    error_of(
        s.get(&format!("/v2/models/{name}/versions/v9")),
        404,
        "no version \"v9\"",
    );
    error_of(
        s.get("/v2/models/made-up"),
        404,
        "no model named \"made-up\"",
    );

    // Simple REST, one row and a batch, with the headers.
    let r = s.post_json("/predict", &json!({"features": row()}));
    let h = r.headers().clone();
    let doc = json_of(r, 200);
    assert_eq!(doc["prediction"].as_f64().unwrap(), want);
    assert_eq!(doc["model"], name.as_str());
    assert_eq!(doc["version"], "unversioned");
    assert_eq!(doc["variant"], "champion");
    assert_eq!(h["x-model-version"], "unversioned");
    assert_eq!(h["x-model-variant"], "champion");
    assert!(!h["x-request-id"].is_empty());
    let r = s
        .http
        .post(s.u("/predict"))
        .header("content-type", "application/json")
        .header("x-request-id", "client-id-1")
        .body(json!({"instances": [row(), [2000, 3, 2, 1990, 5000, 10, "eastside"]]}).to_string())
        .send()
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "client-id-1");
    assert_eq!(json_of(r, 200)["predictions"], json!([want, want]));

    // V2 JSON: one input per feature (the model has a categorical one).
    let mut inputs = Vec::new();
    for (k, v) in row().as_object().unwrap() {
        let dt = if v.is_string() { "BYTES" } else { "FP64" };
        inputs.push(json!({"name": k, "shape": [2], "datatype": dt, "data": [v, v]}));
    }
    let r = s.post_json(
        &format!("/v2/models/{name}/infer"),
        &json!({"id": "q1", "inputs": inputs}),
    );
    assert_eq!(r.headers()["x-model-variant"], "champion");
    let doc = json_of(r, 200);
    assert_eq!(doc["id"], "q1");
    assert_eq!(doc["outputs"][0]["name"], "prediction");
    assert_eq!(doc["outputs"][0]["data"], json!([want, want]));

    // MLflow: every payload shape and CSV.
    let cols: Vec<&str> = model().features.iter().map(String::as_str).collect();
    let vals: Vec<Value> = cols.iter().map(|c| row()[*c].clone()).collect();
    for body in [
        json!({"dataframe_split": {"columns": cols, "data": [vals]}}),
        json!({"dataframe_records": [row()]}),
        json!({"instances": [row()]}),
        json!({"inputs": [vals]}),
    ] {
        let doc = json_of(s.post_json("/invocations", &body), 200);
        assert_eq!(doc["predictions"], json!([want]), "{body}");
    }
    let csv = format!(
        "{}\n{}\n",
        cols.join(","),
        vals.iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(",")
    );
    let r = s
        .http
        .post(s.u("/invocations"))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .unwrap();
    assert_eq!(json_of(r, 200)["predictions"], json!([want]));
    let r = s
        .http
        .post(s.u("/invocations"))
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .unwrap();
    let doc = json_of(r, 415);
    assert_eq!(doc["error_code"], "BAD_REQUEST");
    let r = s
        .http
        .post(s.u("/invocations"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(json!({"dataframe_records": [row()]}).to_string())
        .send()
        .unwrap();
    assert_eq!(json_of(r, 200)["predictions"], json!([want]));
    let doc = json_of(
        s.post_json("/invocations", &json!({"instances": [{"sqft": 1}]})),
        400,
    );
    assert_eq!(doc["error_code"], "BAD_REQUEST");
    assert!(
        doc["message"].as_str().unwrap().contains("is missing"),
        "{doc}"
    );
    assert_eq!(s.get("/ping").status(), 200);
    assert_eq!(s.get("/health").status(), 200);
    assert!(s.get("/version").text().unwrap().starts_with("mlops "));
    error_of(s.get("/nope"), 404, "no endpoint GET /nope");
    // No token configured: the admin API is off.
    error_of(
        s.admin(reqwest::Method::GET, "/admin/models")
            .send()
            .unwrap(),
        404,
        "admin API is off",
    );

    let metrics = s.get("/metrics").text().unwrap();
    for want in [
        format!(
            "mlops_requests_total{{endpoint=\"predict\",model=\"{name}\",version=\"unversioned\",variant=\"champion\",status=\"200\"}} 2"
        ),
        format!(
            "mlops_requests_total{{endpoint=\"v2_infer\",model=\"{name}\",version=\"unversioned\",variant=\"champion\",status=\"200\"}} 1"
        ),
        format!(
            "mlops_requests_total{{endpoint=\"invocations\",model=\"{name}\",version=\"unversioned\",variant=\"champion\",status=\"200\"}} 6"
        ),
        format!("mlops_model_info{{model=\"{name}\",version=\"unversioned\",slot=\"champion\"}} 1"),
        format!(
            "mlops_predictions_count{{model=\"{name}\",version=\"unversioned\",variant=\"champion\"}} 11"
        ),
        "mlops_request_duration_seconds_bucket{".to_string(),
        "mlops_model_loaded_timestamp_seconds{".to_string(),
        "mlops_in_flight_requests 1".to_string(),
        "# TYPE mlops_prediction_log_dropped_lines_total counter".to_string(),
    ] {
        assert!(metrics.contains(&want), "{want} not in\n{metrics}");
    }
    assert!(
        !metrics.contains("made-up"),
        "a client's name became a label:\n{metrics}"
    );
    assert_eq!(s.stop(), 0);
}

#[test]
fn v2_binary_tensors() {
    let t = Test::new();
    t.write("model.json", numeric_model().to_json());
    let s = Server::start(&t, &["--model", "model.json"]);
    let name = numeric_model().name.clone();
    let f = numeric_model().features.len();
    let x: Vec<f64> = (0..2 * f).map(|i| 1.0 + i as f64).collect();
    let head = json!({
        "inputs": [{"name": "input", "shape": [2, f], "datatype": "FP64", "parameters": {"binary_data_size": 16 * f}}],
        "outputs": [{"name": "prediction", "parameters": {"binary_data": true}}],
    })
    .to_string();
    let mut body = head.clone().into_bytes();
    for v in &x {
        body.extend_from_slice(&v.to_le_bytes());
    }
    let r = s
        .http
        .post(s.u(&format!("/v2/models/{name}/infer")))
        .header("inference-header-content-length", head.len())
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let n: usize = r.headers()["inference-header-content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = r.bytes().unwrap();
    let doc: Value = serde_json::from_slice(&bytes[..n]).unwrap();
    assert_eq!(doc["outputs"][0]["parameters"]["binary_data_size"], 16);
    let m = mlops::serve::Model::new(numeric_model().clone(), "v", "x").unwrap();
    for i in 0..2 {
        let got = f64::from_le_bytes(bytes[n + 8 * i..n + 8 * i + 8].try_into().unwrap());
        let want = m.predict_one(&Some(
            x[i * f..(i + 1) * f]
                .iter()
                .map(|v| mlops::model::Value::Number(*v))
                .collect(),
        ));
        assert_eq!(Some(got), want.unwrap());
    }
    // The JSON form of the same matrix.
    let doc = json_of(
        s.post_json(
            &format!("/v2/models/{name}/infer"),
            &json!({"inputs": [{"name": "input", "shape": [2, f], "datatype": "FP32", "data": x}]}),
        ),
        200,
    );
    assert_eq!(doc["outputs"][0]["shape"], json!([2]));
    error_of(
        s.post_json(
            &format!("/v2/models/{name}/infer"),
            &json!({"inputs": [{"name": "input", "shape": [1, f], "datatype": "FP64", "data": x}]}),
        ),
        400,
        "holds",
    );
    assert_eq!(s.stop(), 0);
}

#[test]
fn bad_requests_are_named_and_never_crash_the_server() {
    let t = with_model().file(
        "mlops.toml",
        "[serve]\nmax_body_bytes = 2000\nmax_batch_rows = 3\n",
    );
    let s = Server::start(&t, &["--model", "model.json"]);
    let with = |k: &str, v: Value| {
        let mut r = row();
        r[k] = v;
        json!({"features": r})
    };
    let mut missing = row();
    missing.as_object_mut().unwrap().remove("sqft");
    let cases = [
        (json!({"features": missing}), "feature \"sqft\" is missing"),
        (
            with("sqft", json!("big")),
            "feature \"sqft\" must be a number",
        ),
        (with("sqft", json!("NaN")), "feature \"sqft\" is not finite"),
        (
            with("sqft", json!(true)),
            "feature \"sqft\" must be a number, got a boolean",
        ),
        (
            with("neighborhood", json!("atlantis")),
            "level \"atlantis\" was not seen",
        ),
        (
            json!({"instances": [row(), row(), row(), row()]}),
            "more than the limit of 3",
        ),
    ];
    for (body, want) in cases {
        error_of(s.post_json("/predict", &body), 400, want);
    }
    for raw in [
        "{\"features\": ",
        "[1, 2",
        "\u{0}",
        "{\"features\": {\"sqft\": 1e999}}",
    ] {
        let r = s
            .http
            .post(s.u("/predict"))
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .unwrap();
        error_of(r, 400, "");
    }
    let big = json!({"features": {"x": "a".repeat(3000)}}).to_string();
    let r = s
        .http
        .post(s.u("/predict"))
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .unwrap();
    error_of(r, 413, "larger than the limit of 2000 bytes");
    // Without a Content-Length (chunked): still 413.
    let r = s
        .http
        .post(s.u("/predict"))
        .header("content-type", "application/json")
        .body(reqwest::blocking::Body::new(std::io::Cursor::new(
            big.into_bytes(),
        )))
        .send()
        .unwrap();
    // The rest of the body is left unread, so the server closes the
    // connection and says so: a client must not reuse it.
    assert_eq!(r.headers()["connection"], "close");
    error_of(r, 413, "larger than the limit");
    let r = s
        .http
        .post(s.u("/predict"))
        .header("content-type", "text/plain")
        .body("sqft=1")
        .send()
        .unwrap();
    error_of(r, 415, "application/json");
    // curl -d sends a form type: a JSON body is read as JSON all the same.
    let r = s
        .http
        .post(s.u("/predict"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(json!({"features": row()}).to_string())
        .send()
        .unwrap();
    assert_eq!(json_of(r, 200)["variant"], "champion");
    // Garbage on a raw socket, then the server still answers.
    let mut c = TcpStream::connect(s.addr()).unwrap();
    c.write_all(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: zzz\r\n\r\n{}")
        .unwrap();
    let mut buf = String::new();
    let _ = c.read_to_string(&mut buf);
    assert!(buf.starts_with("HTTP/1.1 400"), "{buf}");
    assert_eq!(
        json_of(s.post_json("/predict", &json!({"features": row()})), 200)["variant"],
        "champion"
    );
    let metrics = s.get("/metrics").text().unwrap();
    assert!(
        metrics.contains("status=\"413\"") && metrics.contains("status=\"415\""),
        "{metrics}"
    );
    assert_eq!(s.stop(), 0);
}

#[test]
fn admin_api_deploys_routes_and_rolls_back() {
    let t = Test::new().file(
        "mlops.toml",
        "[serve]\nadmin_token_env = \"TEST_ADMIN_TOKEN\"\n",
    );
    let s = Server::start_with(&t, &[], &[("TEST_ADMIN_TOKEN", TOKEN)]);
    use reqwest::Method;
    // Live, not ready.
    assert_eq!(s.get("/healthz").status(), 200);
    error_of(s.get("/readyz"), 503, "no model is loaded");
    assert_eq!(json_of(s.get("/v2/health/ready"), 503)["ready"], false);
    error_of(
        s.post_json("/predict", &json!({"features": row()})),
        503,
        "no model is loaded",
    );
    // Auth.
    error_of(
        s.http.get(s.u("/admin/models")).send().unwrap(),
        401,
        "admin token",
    );
    error_of(
        s.http
            .get(s.u("/admin/models"))
            .bearer_auth("wrong")
            .send()
            .unwrap(),
        401,
        "admin token",
    );
    assert_eq!(
        json_of(s.admin(Method::GET, "/admin/models").send().unwrap(), 200),
        json!({"models": []})
    );

    let v1 = bundle(model(), "hp", "v1.0.0");
    let v2 = bundle(model(), "hp", "v1.1.0");
    let v3 = bundle(model(), "hp", "v2.0.0");
    let put = |slot: &str, b: &[u8], pre: Option<(&str, &str)>| {
        let mut r = s
            .admin(Method::PUT, &format!("/admin/models/hp?slot={slot}"))
            .body(b.to_vec());
        if let Some((k, v)) = pre {
            r = r.header(k, v);
        }
        r.send().unwrap()
    };
    error_of(
        put("champion", b"not a bundle", None),
        422,
        "not a readable tar.gz",
    );
    let mut tampered = v1.clone();
    let n = tampered.len();
    tampered[n - 30] ^= 0xff;
    assert_eq!(put("champion", &tampered, None).status(), 422);
    error_of(
        s.admin(Method::PUT, "/admin/models/other")
            .body(v1.clone())
            .send()
            .unwrap(),
        422,
        "holds model \"hp\"",
    );
    error_of(
        put("champion", &v1, Some(("if-match", "v0.9.0"))),
        409,
        "holds nothing",
    );
    let doc = json_of(put("champion", &v1, Some(("if-none-match", "*"))), 200);
    assert_eq!(doc["name"], "hp");
    assert_eq!(doc["slot"], "champion");
    assert_eq!(doc["version"], "v1.0.0");
    assert_eq!(doc["sha256"], sha256_hex(&v1));
    assert!(doc["loaded_at"].as_str().unwrap().ends_with('Z'));
    error_of(
        put("champion", &v2, Some(("if-none-match", "*"))),
        409,
        "already holds v1.0.0",
    );
    error_of(
        put("champion", &v2, Some(("if-match", "v0.9.0"))),
        409,
        "holds v1.0.0, not v0.9.0",
    );
    assert_eq!(json_of(s.get("/readyz"), 200)["status"], "ready");
    // A challenger at 0 %: nobody sees it unless forced with the token.
    json_of(put("challenger", &v2, None), 200);
    let predict = |key: Option<&str>, force: Option<&str>, token: bool| {
        let mut r = s
            .http
            .post(s.u("/predict"))
            .header("content-type", "application/json");
        if let Some(k) = key {
            r = r.header("x-request-key", k);
        }
        if let Some(f) = force {
            r = r.header("x-mlops-variant", f);
        }
        if token {
            r = r.bearer_auth(TOKEN);
        }
        let r = r
            .body(json!({"features": row()}).to_string())
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        let h = r.headers().clone();
        let rid = h["x-request-id"].to_str().unwrap().to_string();
        (
            h["x-model-variant"].to_str().unwrap().to_string(),
            h["x-model-version"].to_str().unwrap().to_string(),
            rid,
        )
    };
    assert_eq!(predict(Some("u1"), None, false).0, "champion");
    assert_eq!(
        predict(None, Some("challenger"), false).0,
        "champion",
        "forcing needs the token"
    );
    assert_eq!(predict(None, Some("challenger"), true).1, "v1.1.0");
    error_of(
        s.admin(Method::PUT, "/admin/traffic")
            .body(json!({"challenger_percent": 101}).to_string())
            .send()
            .unwrap(),
        400,
        "0 to 100",
    );
    let doc = json_of(
        s.admin(Method::PUT, "/admin/traffic")
            .body(json!({"challenger_percent": 50, "model": "hp"}).to_string())
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(doc["models"][0]["challenger_percent"], 50);
    // Sticky: a key keeps its variant; both variants appear over many keys.
    let mut seen = std::collections::HashSet::new();
    for i in 0..40 {
        let k = format!("user-{i}");
        let first = predict(Some(&k), None, false).0;
        for _ in 0..3 {
            assert_eq!(predict(Some(&k), None, false).0, first);
        }
        // The body's key routes the same way as the header.
        let r = s.post_json("/predict", &json!({"features": row(), "key": k}));
        assert_eq!(r.headers()["x-model-variant"].to_str().unwrap(), first);
        seen.insert(first);
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    // Feedback joins the variant; the export is abtest-analyze's input.
    let (variant, version, rid) = predict(Some("alice"), None, false);
    json_of(
        s.post_json("/feedback", &json!({"request_id": rid, "value": 1})),
        200,
    );
    json_of(
        s.post_json("/feedback", &json!({"key": "alice", "value": 0.5})),
        200,
    );
    error_of(
        s.post_json("/feedback", &json!({"key": "nobody", "value": 1})),
        404,
        "was not served",
    );
    error_of(
        s.post_json("/feedback", &json!({"key": "alice"})),
        400,
        "value",
    );
    error_of(
        s.http.get(s.u("/admin/abtest/export")).send().unwrap(),
        401,
        "token",
    );
    let csv = s
        .admin(Method::GET, "/admin/abtest/export")
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(
        csv,
        format!(
            "variant,key,value,version,planned_share,experiment\n{variant},alice,1,{version},0.5,hp:v1.0.0/v1.1.0\n{variant},alice,0.5,{version},0.5,hp:v1.0.0/v1.1.0\n"
        )
    );
    // GET shape.
    let doc = json_of(s.admin(Method::GET, "/admin/models").send().unwrap(), 200);
    let m = &doc["models"][0];
    assert_eq!(m["name"], "hp");
    assert_eq!(m["champion"]["version"], "v1.0.0");
    assert_eq!(m["challenger"]["version"], "v1.1.0");
    assert_eq!(m["previous"], Value::Null);
    assert_eq!(m["challenger_percent"], 50);
    // Promote, then a new champion, then roll back.
    let doc = json_of(
        s.admin(Method::POST, "/admin/promote?model=hp")
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(doc["models"][0]["champion"]["version"], "v1.1.0");
    assert_eq!(doc["models"][0]["previous"]["version"], "v1.0.0");
    error_of(
        s.admin(Method::POST, "/admin/promote").send().unwrap(),
        409,
        "no challenger",
    );
    json_of(put("champion", &v3, Some(("if-match", "v1.1.0"))), 200);
    assert_eq!(predict(None, None, false).1, "v2.0.0");
    let doc = json_of(
        s.admin(Method::POST, "/admin/rollback").send().unwrap(),
        200,
    );
    assert_eq!(doc["models"][0]["champion"]["version"], "v1.1.0");
    assert_eq!(predict(None, None, false).1, "v1.1.0");
    // A challenger removed: traffic back to the champion.
    json_of(put("challenger", &v3, None), 200);
    let doc = json_of(
        s.admin(Method::DELETE, "/admin/models/hp?slot=challenger")
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(doc["challenger"], Value::Null);
    error_of(
        s.admin(Method::DELETE, "/admin/models/hp").send().unwrap(),
        400,
        "name the slot to remove",
    );
    let metrics = s.get("/metrics").text().unwrap();
    assert!(
        metrics.contains("mlops_model_info{model=\"hp\",version=\"v1.1.0\",slot=\"champion\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("mlops_model_info{model=\"hp\",version=\"v2.0.0\",slot=\"previous\"} 1"),
        "{metrics}"
    );
    assert!(!metrics.contains("other"), "{metrics}");
    assert_eq!(s.stop(), 0);
}

/// Review M10: promote, traffic and rollback act only on the version the
/// caller names in `If-Match`; a stale one is a 409 that changes nothing.
#[test]
fn promote_traffic_and_rollback_honour_if_match() {
    let t = Test::new().file(
        "mlops.toml",
        "[serve]\nadmin_token_env = \"TEST_ADMIN_TOKEN\"\n",
    );
    let s = Server::start_with(&t, &[], &[("TEST_ADMIN_TOKEN", TOKEN)]);
    use reqwest::Method;
    for (slot, v) in [("champion", "v1.0.0"), ("challenger", "v1.1.0")] {
        let r = s
            .admin(Method::PUT, &format!("/admin/models/hp?slot={slot}"))
            .body(bundle(model(), "hp", v))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let call = |m: Method, path: &str, if_match: &str, body: Option<&str>| {
        let mut r = s.admin(m, path).header("if-match", if_match);
        if let Some(b) = body {
            r = r
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        r.send().unwrap()
    };
    let traffic = r#"{"challenger_percent": 30}"#;
    error_of(
        call(Method::PUT, "/admin/traffic", "v2.0.0", Some(traffic)),
        409,
        "the challenger slot of hp holds v1.1.0, not v2.0.0",
    );
    error_of(
        call(Method::POST, "/admin/promote", "v2.0.0", None),
        409,
        "holds v1.1.0, not v2.0.0",
    );
    let doc = json_of(s.admin(Method::GET, "/admin/models").send().unwrap(), 200);
    assert_eq!(doc["models"][0]["champion"]["version"], "v1.0.0");
    assert_eq!(doc["models"][0]["challenger_percent"], 0);
    let doc = json_of(
        call(Method::PUT, "/admin/traffic", "\"v1.1.0\"", Some(traffic)),
        200,
    );
    assert_eq!(doc["models"][0]["challenger_percent"], 30);
    json_of(
        call(Method::POST, "/admin/promote?model=hp", "v1.1.0", None),
        200,
    );
    error_of(
        call(Method::POST, "/admin/rollback", "v1.0.0", None),
        409,
        "the champion slot of hp holds v1.1.0, not v1.0.0",
    );
    let doc = json_of(call(Method::POST, "/admin/rollback", "v1.1.0", None), 200);
    assert_eq!(doc["models"][0]["champion"]["version"], "v1.0.0");
    assert_eq!(s.stop(), 0);
}

#[test]
fn deleting_the_champion_unloads_it() {
    let t = Test::new().file(
        "mlops.toml",
        "[serve]\nadmin_token_env = \"TEST_ADMIN_TOKEN\"\n",
    );
    let s = Server::start_with(&t, &[], &[("TEST_ADMIN_TOKEN", TOKEN)]);
    use reqwest::Method;
    let del = |q: &str, if_match: Option<&str>| {
        let mut r = s.admin(Method::DELETE, &format!("/admin/models/hp{q}"));
        if let Some(v) = if_match {
            r = r.header("if-match", v);
        }
        r.send().unwrap()
    };
    error_of(del("?slot=champion", None), 404, "no model named \"hp\"");
    let put = |slot: &str, b: Vec<u8>| {
        let r = s
            .admin(Method::PUT, &format!("/admin/models/hp?slot={slot}"))
            .body(b)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    };
    put("champion", bundle(model(), "hp", "v1.0.0"));
    put("challenger", bundle(model(), "hp", "v1.1.0"));
    assert_eq!(s.get("/readyz").status(), 200);
    // Not while a challenger would be left alone; not under a stale If-Match.
    error_of(
        del("?slot=champion", None),
        409,
        "has challenger v1.1.0 loaded",
    );
    error_of(
        del("?slot=challenger", Some("v9.0.0")),
        409,
        "holds v1.1.0, not v9.0.0",
    );
    error_of(del("?slot=other", None), 400, "not champion or challenger");
    json_of(del("?slot=challenger", Some("v1.1.0")), 200);
    error_of(
        del("?slot=champion", Some("v0.1.0")),
        409,
        "holds v1.0.0, not v0.1.0",
    );
    assert_eq!(s.get("/readyz").status(), 200);
    let doc = json_of(del("?slot=champion", Some("v1.0.0")), 200);
    assert_eq!(doc["models"][0]["champion"], Value::Null);
    // Unloaded: not ready, nothing to predict with, nothing listed.
    error_of(s.get("/readyz"), 503, "no model is loaded");
    assert_eq!(json_of(s.get("/v2/health/ready"), 503)["ready"], false);
    error_of(
        s.post_json("/predict", &json!({"features": row()})),
        503,
        "no model is loaded",
    );
    assert_eq!(
        json_of(s.admin(Method::GET, "/admin/models").send().unwrap(), 200),
        json!({"models": []})
    );
    let metrics = s.get("/metrics").text().unwrap();
    assert!(!metrics.contains("mlops_model_info{"), "{metrics}");
    // A new champion makes it ready again.
    put("champion", bundle(model(), "hp", "v2.0.0"));
    assert_eq!(s.get("/readyz").status(), 200);
    // Without the token: 401, nothing removed.
    error_of(
        s.http
            .delete(s.u("/admin/models/hp?slot=champion"))
            .send()
            .unwrap(),
        401,
        "admin token",
    );
    assert_eq!(s.get("/readyz").status(), 200);
    assert_eq!(s.stop(), 0);
}

#[test]
fn swapping_models_under_load_fails_no_request() {
    let t = Test::new().file(
        "mlops.toml",
        "[serve]\nadmin_token_env = \"TEST_ADMIN_TOKEN\"\n",
    );
    let s = Server::start_with(&t, &[], &[("TEST_ADMIN_TOKEN", TOKEN)]);
    let versions: Vec<(String, Vec<u8>)> = (0..4)
        .map(|i| {
            (
                format!("v1.{i}.0"),
                bundle(model(), "hp", &format!("v1.{i}.0")),
            )
        })
        .collect();
    let put = |b: &[u8], slot: &str| {
        let r = s
            .admin(
                reqwest::Method::PUT,
                &format!("/admin/models/hp?slot={slot}"),
            )
            .body(b.to_vec())
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    };
    put(&versions[0].1, "champion");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let body = json!({"instances": [row(), row()]}).to_string();
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (url, stop, body) = (s.u("/predict"), Arc::clone(&stop), body.clone());
            std::thread::spawn(move || {
                let c = Client::new();
                let (mut ok, mut bad, mut seen) =
                    (0, Vec::new(), std::collections::BTreeSet::new());
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    i += 1;
                    let r = c
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("x-request-key", format!("w{w}-{i}"))
                        .body(body.clone())
                        .send();
                    match r {
                        Ok(r) if r.status() == 200 => {
                            seen.insert(
                                r.headers()["x-model-version"].to_str().unwrap().to_string(),
                            );
                            let d: Value = serde_json::from_str(&r.text().unwrap()).unwrap();
                            assert_eq!(d["predictions"].as_array().unwrap().len(), 2);
                            ok += 1;
                        }
                        Ok(r) => {
                            bad.push(format!("{} {}", r.status(), r.text().unwrap_or_default()))
                        }
                        Err(e) => bad.push(e.to_string()),
                    }
                }
                (ok, bad, seen)
            })
        })
        .collect();
    use reqwest::Method;
    for round in 0..6 {
        let (_, b) = &versions[1 + round % 3];
        put(b, "champion");
        put(&versions[(round + 2) % 4].1, "challenger");
        let r = s
            .admin(Method::PUT, "/admin/traffic")
            .body(json!({"challenger_percent": 30 * (round % 4)}).to_string())
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            s.admin(Method::POST, "/admin/promote")
                .send()
                .unwrap()
                .status(),
            200
        );
        assert_eq!(
            s.admin(Method::POST, "/admin/rollback")
                .send()
                .unwrap()
                .status(),
            200
        );
        std::thread::sleep(Duration::from_millis(30));
    }
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    let mut versions_seen = std::collections::BTreeSet::new();
    for w in workers {
        let (ok, bad, seen) = w.join().unwrap();
        assert!(bad.is_empty(), "failed requests during swaps: {bad:?}");
        total += ok;
        versions_seen.extend(seen);
    }
    assert!(total > 20, "only {total} requests");
    assert!(versions_seen.len() >= 2, "{versions_seen:?}");
    assert_eq!(s.stop(), 0);
}

fn release(t: &Test, env: &str, version: &str) {
    let b = mlops::bundle::read(&bundle(model(), "hp", version), "test").unwrap();
    for (p, bytes) in &b.files {
        t.write(format!("{env}/releases/{version}/{p}"), bytes);
    }
}

fn link(t: &Test, env: &str, name: &str, version: &str) {
    let tmp = t.path(format!("{env}/.current.tmp"));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(format!("releases/{version}"), &tmp).unwrap();
    std::fs::rename(&tmp, t.path(format!("{env}/{name}"))).unwrap();
}

/// Wait up to 10 s for `f` to hold.
#[track_caller]
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn env_folder_is_served_and_followed() {
    let t = Test::new().file(
        "mlops.toml",
        "[environments.staging]\ntarget = \"local\"\npath = \"deploy/staging\"\n",
    );
    std::fs::create_dir_all(t.path("deploy/staging")).unwrap();
    let s = Server::start(&t, &["--env", "staging"]);
    assert_eq!(s.get("/readyz").status(), 503);
    release(&t, "deploy/staging", "v1.0.0");
    link(&t, "deploy/staging", "current", "v1.0.0");
    let version = || {
        let r = s.post_json("/predict", &json!({"features": row()}));
        (r.status() == 200).then(|| r.headers()["x-model-version"].to_str().unwrap().to_string())
    };
    eventually("v1.0.0 to serve", || version().as_deref() == Some("v1.0.0"));
    release(&t, "deploy/staging", "v1.1.0");
    link(&t, "deploy/staging", "challenger", "v1.1.0");
    std::fs::write(
        t.path("deploy/staging/traffic.json"),
        r#"{"challenger_percent": 100}"#,
    )
    .unwrap();
    eventually("the challenger to take all traffic", || {
        version().as_deref() == Some("v1.1.0")
    });
    // A broken release: reported, the old model keeps serving.
    release(&t, "deploy/staging", "v2.0.0");
    std::fs::write(
        t.path("deploy/staging/releases/v2.0.0/mlops.toml"),
        "altered",
    )
    .unwrap();
    link(&t, "deploy/staging", "current", "v2.0.0");
    eventually("the failure to be reported", || {
        s.stderr().contains("sha256")
    });
    assert_eq!(version().as_deref(), Some("v1.1.0"));
    std::fs::remove_file(t.path("deploy/staging/challenger")).unwrap();
    link(&t, "deploy/staging", "current", "v1.1.0");
    eventually("v1.1.0 as champion", || {
        let r = s.post_json("/predict", &json!({"features": row()}));
        r.headers()
            .get("x-model-variant")
            .is_some_and(|v| v == "champion")
            && r.headers()["x-model-version"] == "v1.1.0"
    });
    // The status file a local deploy reads back (M3) names what is served.
    let status = t.path("deploy/staging/.served.json");
    eventually("the status file to name v1.1.0", || {
        std::fs::read_to_string(&status)
            .is_ok_and(|s| s.contains("\"current\":\"releases/v1.1.0\""))
    });
    assert_eq!(s.stop_with("INT"), 0, "SIGINT drains too");
    assert!(
        !status.exists(),
        "the server removes its status file when it stops"
    );
    // An http environment cannot be served.
    Test::new()
        .toml("[environments.prod]\ntarget = \"http\"\nurl = \"http://127.0.0.1:1\"\ntoken_env = \"X\"\n")
        .args(["serve", "--env", "prod"])
        .run()
        .code(2)
        .stderr_contains("--env serves a \"local\" environment");
}

#[test]
fn sigterm_drains_an_in_flight_request_and_exits_0() {
    let t = with_model().file(
        "mlops.toml",
        "[serve]\nprediction_log = \"logs/predictions.jsonl\"\n",
    );
    let s = Server::start(&t, &["--model", "model.json"]);
    let body = json!({"features": row(), "key": "k1"}).to_string();
    let mut c = TcpStream::connect(s.addr()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        c,
        "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    let (a, b) = body.as_bytes().split_at(10);
    c.write_all(a).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    s.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    c.write_all(b).unwrap();
    let mut resp = String::new();
    c.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let code = s.stop();
    assert_eq!(code, 0);
    let log = t.read("logs/predictions.jsonl");
    let line: Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    for k in [
        "request_id",
        "timestamp",
        "model",
        "version",
        "variant",
        "key",
        "latency_ms",
        "prediction",
    ] {
        assert!(line.get(k).is_some(), "{k} missing in {line}");
    }
    assert_eq!(line["key"], "k1");
    assert_eq!(
        line["prediction"].as_f64().unwrap(),
        expected(model(), &row())
    );
}

#[test]
fn tls_from_the_project_file() {
    let tls = repo().join("tests/data/tls");
    let t = with_model().file(
        "mlops.toml",
        format!(
            "[serve]\ntls = {{ cert = {}, key = {} }}\n",
            crate::common::toml_str(&tls.join("server.pem").display().to_string()),
            crate::common::toml_str(&tls.join("server.key").display().to_string())
        ),
    );
    let s = Server::start(&t, &["--model", "model.json"]);
    assert!(s.url.starts_with("https://127.0.0.1:"), "{}", s.url);
    let cert = reqwest::Certificate::from_pem(&std::fs::read(tls.join("ca.pem")).unwrap()).unwrap();
    let c = Client::builder()
        .add_root_certificate(cert)
        .build()
        .unwrap();
    let r = c
        .post(s.u("/predict"))
        .header("content-type", "application/json")
        .body(json!({"features": row()}).to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    // Plain HTTP to the TLS port gets no answer, and the server lives on.
    assert!(
        Client::new()
            .get(s.u("/healthz").replace("https", "http"))
            .send()
            .map(|r| r.status() != 200)
            .unwrap_or(true)
    );
    assert_eq!(c.get(s.u("/healthz")).send().unwrap().status(), 200);
    assert_eq!(s.stop(), 0);
    // Unusable files: exit 2 naming the key.
    with_model()
        .file(
            "mlops.toml",
            "[serve]\ntls = { cert = \"nope.pem\", key = \"nope.key\" }\n",
        )
        .args(["serve", "--model", "model.json", "--bind", "127.0.0.1:0"])
        .run()
        .code(2)
        .stderr_contains("[serve.tls] cert");
}

#[test]
fn bad_model_and_bind_exit_with_a_sentence() {
    let t = with_model().file("junk.tar.gz", [0x1f, 0x8b, 0, 1, 2]);
    t.run_args(["serve", "--model", "junk.tar.gz"])
        .code(3)
        .stderr_contains("junk.tar.gz: not a readable tar.gz");
    t.run_args(["serve", "--model", "missing.json"])
        .code(2)
        .stderr_contains("missing.json");
    t.run_args(["serve", "--model", "model.json", "--bind", "nope"])
        .code(2)
        .stderr_contains("--bind \"nope\"");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    t.run_args(["serve", "--model", "model.json", "--bind", &addr])
        .code(2)
        .stderr_contains("cannot listen on");
}

#[test]
fn a_request_slower_than_the_timeout_is_503() {
    let t = with_model().file("mlops.toml", "[serve]\ntimeout_s = 0.3\n");
    let s = Server::start(&t, &["--model", "model.json"]);
    // Headers, then a body that never arrives in time.
    let mut c = TcpStream::connect(s.addr()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    c.write_all(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{").unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    let n = c.read(&mut buf).unwrap();
    let resp = String::from_utf8_lossy(&buf[..n]);
    assert!(resp.starts_with("HTTP/1.1 503"), "{resp}");
    assert!(
        resp.contains("longer than 0.3 s ([serve].timeout_s)"),
        "{resp}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        json_of(s.post_json("/predict", &json!({"features": row()})), 200)["variant"],
        "champion"
    );
    assert_eq!(s.stop(), 0);
}

/// The (method, path) pairs of `docs/openapi.yaml`: path lines are indented
/// two spaces under `paths:`, their operations four.
fn openapi_operations() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo().join("docs/openapi.yaml")).unwrap();
    let mut ops = Vec::new();
    let mut in_paths = false;
    let mut path = String::new();
    for line in text.lines() {
        if !line.starts_with(' ') {
            in_paths = line == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = line.strip_prefix("  /") {
            path = format!("/{}", p.trim_end_matches(':'));
        } else if let Some(m) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':'))
            && ["get", "post", "put", "delete"].contains(&m)
        {
            ops.push((m.to_uppercase(), path.clone()));
        }
    }
    ops
}

#[test]
fn every_openapi_operation_exists_on_the_real_server() {
    let ops = openapi_operations();
    assert_eq!(ops.len(), 26, "{ops:?}");
    let t = Test::new().file(
        "mlops.toml",
        "[serve]\nadmin_token_env = \"TEST_ADMIN_TOKEN\"\n",
    );
    let s = Server::start_with(&t, &[], &[("TEST_ADMIN_TOKEN", TOKEN)]);
    let r = s
        .admin(reqwest::Method::PUT, "/admin/models/hp")
        .body(bundle(model(), "hp", "v1.0.0"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    for (method, path) in ops {
        let url = path
            .replace("{m}", "hp")
            .replace("{v}", "v1.0.0")
            .replace("{name}", "other");
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = s
            .admin(m, &url)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let body = r.text().unwrap();
        assert!(
            status != 405 && !body.contains("no endpoint"),
            "{method} {path}: {status} {body}"
        );
    }
    // And an undocumented path is the fallback's 404.
    error_of(s.get("/v3"), 404, "no endpoint GET /v3");
    assert_eq!(s.stop(), 0);
}

/// `--bind` takes the short forms people type: `8080`, `:8080`,
/// `localhost:8080` all listen on the loopback address.
#[test]
fn bind_accepts_short_forms() {
    let t = Test::new().toml(&example_toml());
    t.run_args(["-q", "train"]).success();
    for form in ["0", ":0", "localhost:0"] {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(t.root())
            .args(["serve", "--bind", form])
            .env_remove("MLOPS_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let err = child.stderr.take().unwrap();
        let line = BufReader::new(err)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.starts_with("listening on "));
        let _ = child.kill();
        let _ = child.wait();
        let line = line.unwrap_or_default();
        assert!(
            line.starts_with("listening on http://127.0.0.1:"),
            "{form}: {line}"
        );
    }
    t.run_args(["serve", "--bind", "localhost"])
        .code(2)
        .stderr_contains("is not an address and port, like 127.0.0.1:8080, localhost:8080 or 8080");
}

/// Extra fields are ignored by default on every protocol, and refused,
/// naming them, with `[serve] strict_features = true`, for the `--model`
/// and for a model uploaded through the admin API alike.
#[test]
fn extra_fields_are_ignored_unless_strict_features() {
    use reqwest::Method;
    let art = numeric_model();
    let name = art.name.clone();
    let mut plus = row();
    plus.as_object_mut().unwrap().remove("neighborhood");
    let want = expected(art, &plus);
    plus["color"] = json!("red");
    let feats: Vec<String> = art.features.clone();
    let mut cols: Vec<&str> = feats.iter().map(String::as_str).collect();
    cols.push("color");
    let vals: Vec<Value> = cols.iter().map(|c| plus[*c].clone()).collect();
    let csv = format!(
        "{}\n{}\n",
        cols.join(","),
        vals.iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(",")
            .replace('"', "")
    );
    let v2: Vec<Value> = cols
        .iter()
        .map(|c| {
            let x = if *c == "color" {
                json!(1)
            } else {
                plus[*c].clone()
            };
            json!({"name": c, "shape": [1], "datatype": "FP64", "data": [x]})
        })
        .collect();
    let send = |s: &Server| -> Vec<Response> {
        vec![
            s.post_json("/predict", &json!({"features": plus})),
            s.post_json("/invocations", &json!({"dataframe_records": [plus]})),
            s.post_json(
                "/invocations",
                &json!({"dataframe_split": {"columns": cols, "data": [vals]}}),
            ),
            s.http
                .post(s.u("/invocations"))
                .header("content-type", "text/csv")
                .body(csv.clone())
                .send()
                .unwrap(),
            s.post_json(&format!("/v2/models/{name}/infer"), &json!({"inputs": v2})),
        ]
    };
    let t = Test::new().file("model.json", art.to_json()).file(
        "mlops.toml",
        "[serve]\nadmin_token_env = \"TEST_ADMIN_TOKEN\"\n",
    );
    let s = Server::start(&t, &["--model", "model.json"]);
    for (i, r) in send(&s).into_iter().enumerate() {
        let doc = json_of(r, 200);
        let got = doc["prediction"]
            .as_f64()
            .or(doc["predictions"][0].as_f64())
            .or(doc["outputs"][0]["data"][0].as_f64())
            .unwrap_or_else(|| panic!("request {i}: {doc}"));
        assert!(
            (got - want).abs() < 1e-9 * want.abs(),
            "request {i}: {got} vs {want}"
        );
    }
    drop(s);
    let strict = "[serve]\nadmin_token_env = \"TEST_ADMIN_TOKEN\"\nstrict_features = true\n";
    let t = t.file("mlops.toml", strict);
    let s = Server::start(&t, &["--model", "model.json"]);
    let refused = |s: &Server| {
        for (i, r) in send(s).into_iter().enumerate() {
            let doc = json_of(r, 400);
            let msg = doc["error"]
                .as_str()
                .or(doc["message"].as_str())
                .unwrap_or_default();
            assert!(
                msg.contains("\"color\"") && msg.contains("strict_features"),
                "request {i}: {doc}"
            );
        }
    };
    refused(&s);
    drop(s);
    // A model uploaded through the admin API is strict too.
    let s = Server::start_with(&t, &[], &[("TEST_ADMIN_TOKEN", TOKEN)]);
    let b = bundle(art, &name, "v1.0.0");
    let r = s
        .admin(Method::PUT, &format!("/admin/models/{name}?slot=champion"))
        .body(b)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    refused(&s);
}
