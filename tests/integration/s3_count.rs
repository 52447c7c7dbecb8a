//! How many requests reading an object takes, counted by a loopback S3
//! endpoint of its own (GET and HEAD of objects, with `Range`, `If-Match`,
//! `ETag` and `x-amz-version-id` as S3 documents them): a CSV is one `GET`
//! of the whole object; a Parquet file one `GET` of its last bytes (the
//! footer, with the object's size), one ranged `GET` per row group (its
//! column chunks) and one `GET` of the whole object for its hash; the
//! artifact's ETag and version come from those answers, not from a `HEAD`
//! of their own; and once the ETag is known every later read asks for that
//! version (`If-Match`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use crate::common::{Test, example_csv, example_toml, repo, sha256_hex, toml_str};

const ETAG: &str = "\"5d41402abc4b2a76b9719d911017c592\"";
const OTHER_ETAG: &str = "\"7d793037a0760186574b0282f2f435e7\"";
const VERSION: &str = "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY";

/// One request as the endpoint saw it: method, path, `Range`, `If-Match`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    method: String,
    path: String,
    range: Option<String>,
    if_match: Option<String>,
}

/// A loopback S3 endpoint serving `objects` (path → bytes), recording
/// every request.
struct S3 {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl S3 {
    fn start(objects: HashMap<String, Vec<u8>>) -> S3 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (objects, log) = (Arc::new(objects), Arc::clone(&seen));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (objects, log) = (Arc::clone(&objects), Arc::clone(&log));
                std::thread::spawn(move || serve(conn, &objects, &log));
            }
        });
        S3 { url, seen }
    }

    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }

    fn test(&self) -> Test {
        Test::new()
            .env("AWS_ENDPOINT_URL", &self.url)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing-secret")
            .env("AWS_REGION", "us-east-1")
    }
}

fn serve(conn: TcpStream, objects: &HashMap<String, Vec<u8>>, log: &Mutex<Vec<Seen>>) {
    let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(30)));
    let mut w = conn.try_clone().unwrap();
    let mut r = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let n: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; n];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let seen = Seen {
            method: method.clone(),
            path: path.clone(),
            range: headers.get("range").cloned(),
            if_match: headers.get("if-match").cloned(),
        };
        let earlier = {
            let mut l = log.lock().unwrap();
            l.push(seen.clone());
            l.len() - 1
        };
        // An object named "changing" is replaced after its first answer.
        let etag = if path.contains("changing") && earlier > 0 {
            OTHER_ETAG
        } else {
            ETAG
        };
        let (status, head, body) = answer(objects, &seen, etag);
        let mut out = format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\n{head}\r\n",
            body.len()
        );
        if method == "HEAD" {
            out = format!("HTTP/1.1 {status}\r\n{head}\r\n");
        }
        if w.write_all(out.as_bytes()).is_err() || (method != "HEAD" && w.write_all(&body).is_err())
        {
            return;
        }
    }
}

/// Status, headers (each ending in CRLF, without Content-Length for a
/// GET) and body of the answer to `req`.
fn answer(objects: &HashMap<String, Vec<u8>>, req: &Seen, etag: &str) -> (String, String, Vec<u8>) {
    let Some(bytes) = objects.get(req.path.split('?').next().unwrap_or("")) else {
        let body =
            b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>no</Message></Error>";
        return (
            "404 Not Found".into(),
            "content-type: application/xml\r\n".into(),
            body.to_vec(),
        );
    };
    if req.if_match.as_deref().is_some_and(|m| m != etag) {
        return ("412 Precondition Failed".into(), String::new(), Vec::new());
    }
    let size = bytes.len();
    let meta = format!(
        "etag: {etag}\r\nx-amz-version-id: {VERSION}\r\nlast-modified: Wed, 02 Dec 2026 10:00:00 GMT\r\naccept-ranges: bytes\r\n"
    );
    if req.method == "HEAD" {
        return (
            "200 OK".into(),
            format!("{meta}content-length: {size}\r\n"),
            Vec::new(),
        );
    }
    let Some(spec) = req.range.as_deref().and_then(|r| r.strip_prefix("bytes=")) else {
        return ("200 OK".into(), meta, bytes.clone());
    };
    let (a, b) = spec.split_once('-').unwrap();
    let (from, to) = match (a.parse::<usize>(), b.parse::<usize>()) {
        (Ok(a), Ok(b)) => (a, b.min(size - 1)),
        (Ok(a), Err(_)) => (a, size - 1),
        (Err(_), Ok(n)) => (size.saturating_sub(n), size - 1),
        _ => panic!("bad range {spec}"),
    };
    let head = format!("{meta}content-range: bytes {from}-{to}/{size}\r\n");
    (
        "206 Partial Content".into(),
        head,
        bytes[from..=to].to_vec(),
    )
}

fn project(url: &str) -> String {
    example_toml().replace(
        &toml_str(&example_csv().display().to_string()),
        &toml_str(url),
    )
}

/// Train on `url` (in memory or streaming) and return the requests made
/// and the artifact's `data_objects`.
fn train(s3: &S3, url: &str, streaming: bool) -> (Vec<Seen>, serde_json::Value, serde_json::Value) {
    let mut args = vec!["train"];
    if streaming {
        args.push("--streaming");
    }
    let t = s3.test().toml(&project(url)).args(args);
    s3.take();
    t.run().success();
    let doc = t.read_json("models/house-price.json");
    (
        s3.take(),
        doc["data_objects"].clone(),
        doc["data_sha256"].clone(),
    )
}

#[test]
fn reads_make_only_the_requests_they_need_and_their_answers_give_the_etag() {
    let pq = repo().join("tests/data/parquet/train.snappy.parquet");
    let (csv_bytes, pq_bytes) = (
        std::fs::read(example_csv()).unwrap(),
        std::fs::read(&pq).unwrap(),
    );
    let s3 = S3::start(HashMap::from([
        ("/b/train.csv".to_string(), csv_bytes.clone()),
        ("/b/train.parquet".to_string(), pq_bytes.clone()),
    ]));
    let want_object =
        |url: &str| serde_json::json!([{ "url": url, "etag": ETAG, "version": VERSION }]);
    for streaming in [false, true] {
        // A CSV: one GET of the whole object, nothing else.
        let url = "s3://b/train.csv";
        let (seen, objects, sha) = train(&s3, url, streaming);
        assert_eq!(
            seen,
            vec![Seen {
                method: "GET".into(),
                path: "/b/train.csv".into(),
                range: None,
                if_match: None
            }],
            "streaming {streaming}"
        );
        assert_eq!(objects, want_object(url));
        assert_eq!(sha, sha256_hex(&csv_bytes));

        // A Parquet file of 7 row groups: its last 64 KiB, then one ranged
        // GET per row group and one GET of the whole for the hash, all of
        // the version first seen.
        let url = "s3://b/train.parquet";
        let (seen, objects, sha) = train(&s3, url, streaming);
        assert!(
            seen.iter()
                .all(|s| s.method == "GET" && s.path == "/b/train.parquet"),
            "{seen:#?}"
        );
        assert_eq!(seen[0].range.as_deref(), Some("bytes=-65536"), "{seen:#?}");
        assert_eq!(seen[0].if_match, None);
        assert!(
            seen[1..]
                .iter()
                .all(|s| s.if_match.as_deref() == Some(ETAG)),
            "{seen:#?}"
        );
        let whole = seen.iter().filter(|s| s.range.is_none()).count();
        let ranged = seen[1..].iter().filter(|s| s.range.is_some()).count();
        assert_eq!(
            (whole, ranged, seen.len()),
            (1, 7, 9),
            "streaming {streaming}: {seen:#?}"
        );
        assert_eq!(objects, want_object(url));
        assert_eq!(sha, sha256_hex(&pq_bytes));
    }
}

#[test]
fn an_object_replaced_while_it_is_read_is_a_remote_error() {
    // After the footer's answer the object is replaced: every later read
    // asks for the ETag first seen, and the endpoint refuses it (412), as S3
    // does.
    let pq = repo().join("tests/data/parquet/train.snappy.parquet");
    let s3 = S3::start(HashMap::from([(
        "/b/changing.parquet".to_string(),
        std::fs::read(pq).unwrap(),
    )]));
    let url = "s3://b/changing.parquet";
    s3.test()
        .toml(&project(url))
        .args(["train"])
        .run()
        .code(5)
        .stderr_contains(url)
        .stderr_contains("the object changed while it was read; run the command again");
}
