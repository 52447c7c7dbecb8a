//! A loopback Elasticsearch `_bulk` endpoint for the prediction-log sink's
//! tests (there is no Elasticsearch on these machines). It keeps the
//! contract of `POST /{index}/_bulk` as Elasticsearch 8 documents it:
//!
//! - NDJSON (`Content-Type: application/x-ndjson`), ending in a newline;
//!   action and document lines in pairs; a `create` action with an `_id`
//!   indexes the document unless the id exists, which is a 409
//!   `version_conflict_engine_exception` for that item alone;
//! - the answer is `{"took", "errors", "items": [{"create": {"_index",
//!   "_id", "status", "result" | "error"}}]}`, one item per action in
//!   order, `errors: true` when any item failed, and HTTP 200 even then;
//! - an overloaded node rejects items with 429
//!   (`es_rejected_execution_exception`) or 503
//!   (`unavailable_shards_exception`), or the whole request with 429/503.
//!
//! Faults are injected deterministically by counters ([`Faults`]), and
//! any departure of the client from the contract is recorded in
//! [`State::violations`].

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// What goes wrong, by counter (0 = never).
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Every Nth item is rejected with 429.
    pub item_429_every: u64,
    /// Every Nth item is rejected with 503.
    pub item_503_every: u64,
    /// Every Nth request is rejected whole with 429.
    pub request_429_every: u64,
    /// Every Nth request is indexed, then its connection drops before the
    /// answer (the client must retry; the ids make that a 409).
    pub lost_answer_every: u64,
    /// After this many requests, an outage starts: first 503 to every
    /// request, then connections closed without an answer.
    pub outage_after: u64,
    /// How long the outage lasts.
    pub outage: Duration,
}

/// What the endpoint saw and holds.
#[derive(Debug, Default)]
pub struct State {
    /// Indexed documents by `_id`.
    pub indexed: HashMap<String, Value>,
    /// Items answered, by status.
    pub statuses: BTreeMap<u16, u64>,
    /// `_bulk` requests received.
    pub requests: u64,
    /// Requests refused or cut by the outage.
    pub outage_hits: u64,
    /// Requests whose answer was dropped after indexing.
    pub lost_answers: u64,
    /// `Authorization` headers seen.
    pub authorization: Vec<String>,
    /// Departures from the contract.
    pub violations: Vec<String>,
    items: u64,
    outage_from: Option<Instant>,
}

/// The running endpoint.
pub struct EsMock {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// What it saw.
    pub state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl EsMock {
    /// Listen on a free loopback port.
    pub fn start(faults: Faults) -> EsMock {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (Arc::clone(&state), Arc::clone(&stop));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = Arc::clone(&st);
                std::thread::spawn(move || serve_connection(conn, &st, faults));
            }
        });
        EsMock {
            url: format!("http://127.0.0.1:{port}"),
            state,
            stop,
            port,
        }
    }
}

impl Drop for EsMock {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

struct Request {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

fn read_request(r: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    let n: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = vec![0; n];
    r.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn serve_connection(conn: TcpStream, state: &Mutex<State>, faults: Faults) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut w = conn.try_clone().unwrap();
    let mut r = BufReader::new(conn);
    while let Some(req) = read_request(&mut r) {
        let answer = {
            let mut s = state.lock().unwrap();
            handle(&mut s, &req, faults)
        };
        let Some((status, body)) = answer else {
            // The node died: no answer, the connection closes.
            let _ = w.shutdown(std::net::Shutdown::Both);
            return;
        };
        let reason = match status {
            200 => "OK",
            400 => "Bad Request",
            429 => "Too Many Requests",
            _ => "Service Unavailable",
        };
        let text = body.to_string();
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            text.len()
        );
        if w.write_all(head.as_bytes()).is_err() || w.write_all(text.as_bytes()).is_err() {
            return;
        }
    }
}

fn error_body(status: u16, kind: &str) -> Value {
    json!({"error": {"type": kind, "reason": kind}, "status": status})
}

/// The answer to one request; `None`: close the connection unanswered.
fn handle(s: &mut State, req: &Request, f: Faults) -> Option<(u16, Value)> {
    s.requests += 1;
    let n = s.requests;
    if let Some(a) = req.headers.get("authorization") {
        s.authorization.push(a.clone());
    }
    if f.outage_after > 0 && n == f.outage_after + 1 {
        s.outage_from = Some(Instant::now());
    }
    if let Some(t) = s.outage_from
        && t.elapsed() < f.outage
    {
        s.outage_hits += 1;
        if t.elapsed() < f.outage / 2 {
            return Some((503, error_body(503, "unavailable_shards_exception")));
        }
        return None;
    }
    if f.request_429_every > 0 && n.is_multiple_of(f.request_429_every) {
        return Some((429, error_body(429, "es_rejected_execution_exception")));
    }
    let Some(index) = req
        .path
        .strip_prefix('/')
        .and_then(|p| p.strip_suffix("/_bulk"))
        .filter(|i| !i.is_empty() && !i.contains('/'))
        .map(str::to_string)
    else {
        s.violations
            .push(format!("{} {}: not /{{index}}/_bulk", req.method, req.path));
        return Some((400, error_body(400, "illegal_argument_exception")));
    };
    if req.method != "POST" {
        s.violations.push(format!("method {}", req.method));
    }
    if req.headers.get("content-type").map(String::as_str) != Some("application/x-ndjson") {
        s.violations.push(format!(
            "content-type {:?}",
            req.headers.get("content-type")
        ));
    }
    let items = match bulk_items(&req.body) {
        Ok(items) => items,
        Err(why) => {
            s.violations.push(why.clone());
            return Some((
                400,
                json!({"error": {"type": "parse_exception", "reason": why}, "status": 400}),
            ));
        }
    };
    let mut answers = Vec::with_capacity(items.len());
    let mut errors = false;
    for (id, doc) in items {
        s.items += 1;
        let k = s.items;
        let status = if f.item_429_every > 0 && k.is_multiple_of(f.item_429_every) {
            429
        } else if f.item_503_every > 0 && k.is_multiple_of(f.item_503_every) {
            503
        } else if s.indexed.contains_key(&id) {
            409
        } else {
            s.indexed.insert(id.clone(), doc);
            201
        };
        *s.statuses.entry(status).or_default() += 1;
        errors |= status >= 300;
        let item = match status {
            201 => json!({"_index": index, "_id": id, "_version": 1, "result": "created",
                          "_shards": {"total": 1, "successful": 1, "failed": 0}, "status": 201}),
            409 => json!({"_index": index, "_id": id, "status": 409, "error": {
                          "type": "version_conflict_engine_exception",
                          "reason": format!("[{id}]: version conflict, document already exists")}}),
            429 => json!({"_index": index, "_id": id, "status": 429,
                          "error": {"type": "es_rejected_execution_exception", "reason": "rejected"}}),
            _ => json!({"_index": index, "_id": id, "status": 503,
                        "error": {"type": "unavailable_shards_exception", "reason": "primary shard is not active"}}),
        };
        answers.push(json!({"create": item}));
    }
    if f.lost_answer_every > 0 && n.is_multiple_of(f.lost_answer_every) {
        s.lost_answers += 1;
        return None;
    }
    Some((200, json!({"took": 1, "errors": errors, "items": answers})))
}

/// The `(_id, document)` pairs of a `_bulk` body, or why it breaks the contract.
fn bulk_items(body: &[u8]) -> Result<Vec<(String, Value)>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_string())?;
    if !text.ends_with('\n') {
        return Err("the bulk body does not end in a newline".into());
    }
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    if lines.is_empty() || !lines.len().is_multiple_of(2) {
        return Err(format!(
            "{} lines: actions and documents must pair",
            lines.len()
        ));
    }
    let mut out = Vec::new();
    for pair in lines.chunks(2) {
        let action: Value = serde_json::from_str(pair[0]).map_err(|e| format!("action {e}"))?;
        let obj = action.as_object().filter(|o| o.len() == 1);
        let Some(id) = obj
            .and_then(|o| o.get("create"))
            .and_then(|c| c.get("_id"))
            .and_then(Value::as_str)
        else {
            return Err(format!("not a create action with an _id: {}", pair[0]));
        };
        let doc: Value = serde_json::from_str(pair[1]).map_err(|e| format!("document {e}"))?;
        if !doc.is_object() || doc.get("@timestamp").and_then(Value::as_str).is_none() {
            return Err(format!("a document without @timestamp: {}", pair[1]));
        }
        out.push((id.to_string(), doc));
    }
    Ok(out)
}
