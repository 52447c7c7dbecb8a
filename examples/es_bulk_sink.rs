//! A loopback Elasticsearch `_bulk` endpoint for `scripts/bench/serve.sh`
//! (`ES=1`, `ES_ONLY=1`): the benchmark's sink, in Rust so that its own CPU
//! time (it shares the cores with the server and wrk) stays small. Not a
//! test double: the contract tests use `tests/integration/es_mock.rs`.
//!
//! It keeps the contract of a healthy cluster for what the server sends:
//! `POST /{index}/_bulk` with NDJSON ending in a newline, action and
//! document lines in pairs; every action is parsed (`create` or `index`
//! with an `_id`) and every document must be a JSON object (checked against
//! the whole JSON grammar, without building it). The answer is
//! HTTP 200 `{"took", "errors", "items"}` with one item per action, in
//! order: 201 `created`, or 409 `version_conflict_engine_exception` for a
//! `create` whose `_id` was indexed before (then `errors: true`); a document
//! that is not a JSON object is a 400 `mapper_parsing_exception` item. A
//! body that is not pairs of lines ending in a newline is a 400 answer.
//! `GET /{index}/_count` answers `{"count": N}`, the documents indexed.
//! HTTP/1.1 keep-alive, one thread per connection.
//!
//! cargo run --release --example es_bulk_sink -- PORT

use std::collections::HashSet;
use std::fmt::Write as _;
use std::hash::BuildHasherDefault;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde::Deserialize;

/// The ids indexed so far, each kept as a 64-bit SipHash of its bytes (a
/// few million request ids would collide with a probability under 1e-6;
/// a collision would show as a line answered 409 and not indexed, which
/// the benchmark's count of indexed + dead-lettered lines would catch).
type Seen = Arc<Mutex<HashSet<u64, BuildHasherDefault<Identity>>>>;

/// The set's hasher: its keys are hashes already.
#[derive(Default)]
struct Identity(u64);

impl std::hash::Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// The key an id is remembered by.
fn id_key(id: &str) -> u64 {
    use std::hash::BuildHasher;
    BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(id)
}

#[derive(Deserialize)]
struct Target<'a> {
    /// Borrowed from the body unless it has escapes.
    #[serde(rename = "_id", borrow)]
    id: Option<std::borrow::Cow<'a, str>>,
}

/// An action line: `{"create": {...}}` or `{"index": {...}}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Action<'a> {
    #[serde(borrow)]
    create: Option<Target<'a>>,
    #[serde(borrow)]
    index: Option<Target<'a>>,
}

fn main() {
    let port = std::env::args().nth(1).unwrap_or_else(|| "9200".into());
    let listener = TcpListener::bind(format!("127.0.0.1:{port}")).unwrap_or_else(|e| {
        eprintln!("es_bulk_sink: cannot listen on 127.0.0.1:{port}: {e}");
        std::process::exit(1);
    });
    let seen: Seen = Arc::default();
    for conn in listener.incoming().flatten() {
        let seen = Arc::clone(&seen);
        std::thread::spawn(move || serve(conn, &seen));
    }
}

/// Answer the requests of one connection until it closes.
fn serve(conn: TcpStream, seen: &Seen) {
    let _ = conn.set_nodelay(true);
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    let mut r = BufReader::with_capacity(1 << 16, conn);
    let mut body = Vec::new();
    loop {
        let Some((method, path, len)) = head(&mut r) else {
            return;
        };
        body.clear();
        body.resize(len, 0);
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let (status, answer) = match (method.as_str(), path.as_str()) {
            ("POST", p) if p.ends_with("/_bulk") => bulk(&body, seen),
            ("GET", p) if p.ends_with("/_count") => {
                let n = seen.lock().map_or(0, |s| s.len());
                (200, format!("{{\"count\":{n}}}"))
            }
            ("GET", "/") => (200, r#"{"version":{"number":"8.15.0"}}"#.to_string()),
            _ => (404, r#"{"error":"not found","status":404}"#.to_string()),
        };
        let reason = if status == 200 { "OK" } else { "Error" };
        let msg = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if out.write_all(msg.as_bytes()).is_err() {
            return;
        }
    }
}

/// The method, path and content length of the next request; `None` when
/// the connection closed (or sent what is not HTTP/1.1 with a length).
fn head(r: &mut BufReader<TcpStream>) -> Option<(String, String, usize)> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut len = 0;
    loop {
        line.clear();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let h = line.trim_end();
        if h.is_empty() {
            return Some((method, path, len));
        }
        let (k, v) = h.split_once(':')?;
        if k.eq_ignore_ascii_case("content-length") {
            len = v.trim().parse().ok()?;
        } else if k.eq_ignore_ascii_case("transfer-encoding") {
            // Not sent by the server's client; refuse rather than misread.
            return None;
        }
    }
}

/// Whether `doc` is one JSON object: checked in full by serde_json's
/// grammar, but without building the object (`IgnoredAny` allocates
/// nothing), which is most of what a full parse costs.
fn is_json_object(doc: &[u8]) -> bool {
    doc.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(doc).is_ok()
}

/// `s` as a JSON string, appended (no allocation for an id without escapes).
fn json_string(out: &mut String, s: &str) {
    if s.bytes().all(|c| c >= 0x20 && c != b'"' && c != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    }
}

/// Index a `_bulk` body: the status and the answer.
fn bulk(body: &[u8], seen: &Seen) -> (u16, String) {
    let bad = |why: &str| {
        (
            400,
            format!(
                r#"{{"error":{{"type":"illegal_argument_exception","reason":"{why}"}},"status":400}}"#
            ),
        )
    };
    if body.last() != Some(&b'\n') {
        return bad("The bulk request must be terminated by a newline [\\n]");
    }
    let body = &body[..body.len() - 1];
    let mut lines: Vec<&[u8]> = Vec::with_capacity(2048);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', body) {
        lines.push(&body[start..end]);
        start = end + 1;
    }
    lines.push(&body[start..]);
    if !lines.len().is_multiple_of(2) {
        return bad("an action line without its document");
    }
    let mut parsed = Vec::with_capacity(lines.len() / 2);
    for pair in lines.chunks(2) {
        let Ok(a) = serde_json::from_slice::<Action>(pair[0]) else {
            return bad("Malformed action/metadata line");
        };
        let (op, t) = match (a.create, a.index) {
            (Some(t), None) => ("create", t),
            (None, Some(t)) => ("index", t),
            _ => return bad("Malformed action/metadata line"),
        };
        let is_object = is_json_object(pair[1]);
        parsed.push((op, t.id.unwrap_or_default(), is_object));
    }
    let mut out = String::with_capacity(parsed.len() * 64);
    let mut errors = false;
    let mut seen = seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for (i, (op, id, is_object)) in parsed.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, r#"{{"{op}":{{"_index":"bench","_id":"#);
        json_string(&mut out, &id);
        out.push(',');
        if !is_object {
            errors = true;
            out.push_str(r#""status":400,"error":{"type":"mapper_parsing_exception","reason":"the document is not a JSON object"}}}"#);
        } else if !seen.insert(id_key(&id)) && op == "create" {
            errors = true;
            out.push_str(r#""status":409,"error":{"type":"version_conflict_engine_exception","reason":"document already exists"}}}"#);
        } else {
            out.push_str(r#""result":"created","status":201}}"#);
        }
    }
    drop(seen);
    (
        200,
        format!(r#"{{"took":1,"errors":{errors},"items":[{out}]}}"#),
    )
}
