//! The Elasticsearch sink: prediction lines indexed through the `_bulk` API
//! with a blocking reqwest client on its own thread (the official Rust
//! client is alpha and has no bulk helper).
//!
//! - Each line becomes a `create` action with `_id` = the request id, so a
//!   retried line is never indexed twice (Elasticsearch answers 409, which
//!   counts as done); the document is the line plus `@timestamp`, so the
//!   index may be a data stream. The body is NDJSON ending in a newline.
//! - Batches are bounded by [`BATCH_DOCS`] lines, [`BATCH_BYTES`] bytes and
//!   [`FLUSH`] time. Only items that failed with 429 or 5xx (or a whole
//!   request that did, or did not connect) are retried, with exponential
//!   backoff from [`FIRST_BACKOFF`] to [`MAX_BACKOFF`]; any other refusal
//!   (a mapping error, 401, 404) is final.
//! - Predictions never wait: the writer thread only appends to a buffer of
//!   `buffer_lines` lines. A line the buffer cannot take (Elasticsearch is
//!   down longer than the buffer lasts), a line refused for good, and what is
//!   left [`CLOSE_GRACE`] after the server stops go to the dead-letter JSON
//!   Lines file (the line as the file sink writes it), and each is counted in
//!   `mlops_prediction_log_dropped_lines_total{sink="elasticsearch"}`:
//!   indexed + dead-lettered = lines logged.
//! - Credentials (an API key, or a user name and password) come from the
//!   environment variables the project file names; they are sent as the
//!   `Authorization` header and appear in no message and no `Debug` output.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::Sink;
use super::file::Rotating;
use crate::error::{Error, Result};

/// Most lines in one `_bulk` request.
pub const BATCH_DOCS: usize = 1_000;
/// Most bytes in one `_bulk` request (Elasticsearch takes up to 100 MB).
pub const BATCH_BYTES: usize = 5 * 1024 * 1024;
/// The longest a line waits for a batch to fill.
pub const FLUSH: Duration = Duration::from_secs(1);
/// The first pause before a retry; it doubles up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest pause between retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long the sink keeps trying after the server stops.
pub const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// Lines that may wait for delivery by default.
pub const DEFAULT_BUFFER_LINES: usize = 100_000;
/// The time one `_bulk` request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A credential: shown as `<hidden>` by `Debug`.
#[derive(Clone)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<hidden>")
    }
}

/// How the sink authenticates.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// `Authorization: ApiKey <encoded key>`.
    ApiKey(Secret),
    /// HTTP basic authentication.
    Basic(Secret, Secret),
}

/// Where and how lines are indexed.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The cluster's URL (no trailing slash).
    pub url: String,
    /// The index or data stream.
    pub index: String,
    /// The JSON Lines file of lines not delivered.
    pub dead_letter: PathBuf,
    /// The credentials, if any.
    pub credentials: Option<Credentials>,
    /// Lines that may wait for delivery.
    pub buffer_lines: usize,
}

/// The credential variables of `[serve.prediction_log]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CredentialVars<'a> {
    /// `api_key_env`.
    pub api_key: Option<&'a str>,
    /// `username_env`.
    pub username: Option<&'a str>,
    /// `password_env`.
    pub password: Option<&'a str>,
}

impl CredentialVars<'_> {
    /// Read the variables with `env`.
    ///
    /// # Errors
    /// A named variable that is not set (or empty).
    pub fn read(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Credentials>> {
        let get = |key: &str, var: &str| {
            env(var).filter(|v| !v.is_empty()).map(Secret).ok_or_else(|| {
                Error::usage(format!(
                    "[serve.prediction_log].{key} names the variable {var}, which is not set; set it, or remove {key}"
                ))
            })
        };
        Ok(match (self.api_key, self.username, self.password) {
            (Some(k), _, _) => Some(Credentials::ApiKey(get("api_key_env", k)?)),
            (None, Some(u), Some(p)) => Some(Credentials::Basic(
                get("username_env", u)?,
                get("password_env", p)?,
            )),
            _ => None,
        })
    }
}

/// One line waiting for delivery.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The request id (the document's `_id`).
    pub id: String,
    /// The JSON line, ending in a newline.
    pub line: Vec<u8>,
}

/// The `_bulk` body of `docs`: per line, a `create` action with its `_id`
/// and the document (the line with `@timestamp` in front); ends in a newline.
#[must_use]
pub fn bulk_body(docs: &[Doc]) -> Vec<u8> {
    let mut b = Vec::with_capacity(docs.iter().map(|d| d.line.len() + d.id.len() + 64).sum());
    for d in docs {
        b.extend_from_slice(b"{\"create\":{\"_id\":");
        // Writing a string to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut b, d.id.as_str());
        b.extend_from_slice(b"}}\n");
        document(&mut b, &d.line);
        if b.last() != Some(&b'\n') {
            b.push(b'\n');
        }
    }
    b
}

/// Append the line with `"@timestamp"` (a copy of its `timestamp`) in front.
fn document(b: &mut Vec<u8>, line: &[u8]) {
    // The request id before it is JSON-escaped, so the first `","timestamp":"`
    // is the field itself.
    const KEY: &[u8] = b"\",\"timestamp\":\"";
    let ts = memchr::memmem::find(line, KEY)
        .map(|at| &line[at + KEY.len()..])
        .and_then(|rest| memchr::memchr(b'"', rest).map(|end| &rest[..end]));
    match (ts, line.first()) {
        (Some(ts), Some(b'{')) => {
            b.extend_from_slice(b"{\"@timestamp\":\"");
            b.extend_from_slice(ts);
            b.extend_from_slice(b"\",");
            b.extend_from_slice(&line[1..]);
        }
        _ => b.extend_from_slice(line),
    }
}

/// What became of one item of a `_bulk` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Indexed, or already there (409).
    Done,
    /// 429 or 5xx: send it again.
    Retry,
    /// Refused for good (a mapping error, ...): dead-letter it.
    Refused,
}

/// The outcome of an item's status.
#[must_use]
pub fn outcome(status: u16) -> Outcome {
    match status {
        200..=299 | 409 => Outcome::Done,
        429 | 500..=599 => Outcome::Retry,
        _ => Outcome::Refused,
    }
}

/// The statuses of a `_bulk` answer's `items`, in order; `None` when the
/// answer is not one for `n` items (each item an object whose first entry
/// holds a `status`).
#[must_use]
pub fn item_statuses(body: &[u8], n: usize) -> Option<Vec<u16>> {
    // Read straight into the statuses: the items' other fields are skipped,
    // not built into a JSON tree (an answer has one item per line logged).
    let answer: BulkAnswer = serde_json::from_slice(body).ok()?;
    (answer.items.len() == n).then(|| answer.items.into_iter().map(|i| i.0).collect())
}

#[derive(Deserialize)]
struct BulkAnswer {
    items: Vec<ItemStatus>,
}

/// The `status` of an item `{"create": {..., "status": 201}}` (its first
/// entry; the others are skipped).
struct ItemStatus(u16);

#[derive(Deserialize)]
struct ItemBody {
    status: u16,
}

impl<'de> Deserialize<'de> for ItemStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ItemStatus;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a bulk item {\"create\": {\"status\": ...}}")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<ItemStatus, A::Error> {
                let Some((IgnoredAny, body)) = m.next_entry::<IgnoredAny, ItemBody>()? else {
                    return Err(serde::de::Error::custom("an empty item"));
                };
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(ItemStatus(body.status))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Debug, Default)]
struct Queue {
    docs: VecDeque<Doc>,
    bytes: usize,
    /// When the oldest waiting line arrived.
    since: Option<Instant>,
    /// Set by close: give up after this instant.
    deadline: Option<Instant>,
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
    dead: Mutex<Rotating>,
    dropped: Arc<AtomicU64>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Lines not delivered: to the dead-letter file, and counted.
    fn dead_letter(&self, docs: impl IntoIterator<Item = Doc>) {
        let mut dead = self
            .dead
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut n = 0;
        for d in docs {
            // A line the dead letter cannot take is lost, and counted the same.
            let _ = dead.write(&d.line);
            n += 1;
        }
        let _ = dead.flush();
        self.dropped.fetch_add(n, Ordering::Relaxed);
    }

    fn past_deadline(&self) -> bool {
        self.lock().deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// The sink: the writer thread's end of the buffer, and the shipper thread.
#[derive(Debug)]
pub struct EsSink {
    shared: Arc<Shared>,
    shipper: Option<std::thread::JoinHandle<()>>,
    buffer_lines: usize,
}

impl EsSink {
    /// Start the shipper for `s`; `dead` is the dead-letter file.
    #[must_use]
    pub fn start(s: Settings, dead: Rotating, dropped: Arc<AtomicU64>) -> EsSink {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            dead: Mutex::new(dead),
            dropped,
        });
        let buffer_lines = s.buffer_lines.max(1);
        let sh = Arc::clone(&shared);
        let shipper = std::thread::Builder::new()
            .name("prediction-log-es".into())
            .spawn(move || Shipper::new(s, sh).run())
            .ok();
        if shipper.is_none() {
            // No thread, no delivery: everything goes to the dead letter.
            shared.lock().deadline = Some(Instant::now());
        }
        EsSink {
            shared,
            shipper,
            buffer_lines,
        }
    }
}

impl Sink for EsSink {
    fn write(&mut self, id: &str, line: Vec<u8>) {
        let doc = Doc {
            id: id.to_string(),
            line,
        };
        let mut q = self.shared.lock();
        if q.docs.len() >= self.buffer_lines || self.shipper.is_none() {
            drop(q);
            self.shared.dead_letter([doc]);
            return;
        }
        q.bytes += doc.line.len();
        q.docs.push_back(doc);
        // The first line starts the shipper's clock; a full batch goes now.
        let first = q.since.is_none();
        q.since.get_or_insert_with(Instant::now);
        if first || q.docs.len() >= BATCH_DOCS || q.bytes >= BATCH_BYTES {
            self.shared.wake.notify_one();
        }
    }

    fn flush(&mut self) {}

    fn close(&mut self) {
        self.shared.lock().deadline = Some(Instant::now() + CLOSE_GRACE);
        self.shared.wake.notify_one();
        if let Some(h) = self.shipper.take() {
            let _ = h.join();
        }
        // Anything still here (no shipper) is not delivered.
        let left: Vec<Doc> = {
            let mut q = self.shared.lock();
            q.bytes = 0;
            q.docs.drain(..).collect()
        };
        if !left.is_empty() {
            self.shared.dead_letter(left);
        }
    }
}

/// The shipper thread: batches out of the buffer, `_bulk` requests, retries.
struct Shipper {
    s: Settings,
    shared: Arc<Shared>,
    client: Option<reqwest::blocking::Client>,
    url: String,
}

impl Shipper {
    fn new(s: Settings, shared: Arc<Shared>) -> Shipper {
        let client = reqwest::blocking::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(2))
            .build()
            .ok();
        let url = format!("{}/{}/_bulk", s.url.trim_end_matches('/'), s.index);
        Shipper {
            s,
            shared,
            client,
            url,
        }
    }

    fn run(self) {
        while let Some(batch) = self.next_batch() {
            self.deliver(batch);
        }
    }

    /// The next batch: when one is full, the oldest line waited [`FLUSH`],
    /// or the server stops; `None` when stopped and empty (or past the
    /// deadline, after dead-lettering what was left).
    fn next_batch(&self) -> Option<Vec<Doc>> {
        let mut q = self.shared.lock();
        loop {
            let now = Instant::now();
            if let Some(d) = q.deadline {
                if q.docs.is_empty() {
                    return None;
                }
                if now >= d {
                    let left: Vec<Doc> = q.docs.drain(..).collect();
                    q.bytes = 0;
                    drop(q);
                    self.shared.dead_letter(left);
                    return None;
                }
                break;
            }
            if q.docs.len() >= BATCH_DOCS || q.bytes >= BATCH_BYTES {
                break;
            }
            match q.since {
                Some(t) if now >= t + FLUSH => break,
                Some(t) => {
                    q = self
                        .shared
                        .wake
                        .wait_timeout(q, t + FLUSH - now)
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0;
                }
                None => {
                    q = self
                        .shared
                        .wake
                        .wait(q)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                }
            }
        }
        let mut batch = Vec::with_capacity(q.docs.len().min(BATCH_DOCS));
        let mut bytes = 0;
        while batch.len() < BATCH_DOCS {
            let Some(len) = q.docs.front().map(|d| d.line.len()) else {
                break;
            };
            if !batch.is_empty() && bytes + len > BATCH_BYTES {
                break;
            }
            bytes += len;
            batch.extend(q.docs.pop_front());
        }
        q.bytes -= bytes;
        q.since = if q.docs.is_empty() {
            None
        } else {
            Some(Instant::now())
        };
        Some(batch)
    }

    /// Send `batch` until every line is done or refused; past the close
    /// deadline, what is left goes to the dead letter.
    fn deliver(&self, mut batch: Vec<Doc>) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            batch = self.attempt(batch);
            if batch.is_empty() {
                return;
            }
            if self.shared.past_deadline() {
                self.shared.dead_letter(batch);
                return;
            }
            let pause = {
                let q = self.shared.lock();
                q.deadline.map_or(backoff, |d| {
                    backoff.min(d.saturating_duration_since(Instant::now()))
                })
            };
            std::thread::sleep(pause);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One `_bulk` request; returns the lines to send again (refused lines
    /// are dead-lettered here).
    fn attempt(&self, batch: Vec<Doc>) -> Vec<Doc> {
        let Some(client) = &self.client else {
            return batch;
        };
        let mut req = client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
            .body(bulk_body(&batch));
        req = match &self.s.credentials {
            Some(Credentials::ApiKey(k)) => {
                req.header(reqwest::header::AUTHORIZATION, format!("ApiKey {}", k.0))
            }
            Some(Credentials::Basic(u, p)) => req.basic_auth(&u.0, Some(&p.0)),
            None => req,
        };
        let Ok(resp) = req.send() else {
            return batch;
        };
        match outcome(resp.status().as_u16()) {
            Outcome::Retry => return batch,
            Outcome::Refused => {
                self.shared.dead_letter(batch);
                return Vec::new();
            }
            Outcome::Done => {}
        }
        let Some(statuses) = resp
            .bytes()
            .ok()
            .and_then(|b| item_statuses(&b, batch.len()))
        else {
            // An answer that cannot be read: send it all again; the `_id`s
            // make the lines already indexed answer 409.
            return batch;
        };
        let mut retry = Vec::new();
        let mut refused = Vec::new();
        for (d, st) in batch.into_iter().zip(statuses) {
            match outcome(st) {
                Outcome::Done => {}
                Outcome::Retry => retry.push(d),
                Outcome::Refused => refused.push(d),
            }
        }
        if !refused.is_empty() {
            self.shared.dead_letter(refused);
        }
        retry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str) -> Doc {
        Doc {
            id: id.into(),
            line: format!("{{\"request_id\":{},\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"prediction\":1}}\n", serde_json::json!(id)).into_bytes(),
        }
    }

    #[test]
    fn the_bulk_body_is_create_actions_with_ids_and_ends_in_a_newline() {
        let b = String::from_utf8(bulk_body(&[doc("a"), doc("q\"\",\"timestamp\":\"x")])).unwrap();
        let lines: Vec<&str> = b.split_terminator('\n').collect();
        assert!(b.ends_with('\n'));
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], r#"{"create":{"_id":"a"}}"#);
        let d: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(d["@timestamp"], "2026-01-01T00:00:00.000Z");
        assert_eq!(d["timestamp"], d["@timestamp"]);
        let a: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
        assert_eq!(a["create"]["_id"], "q\"\",\"timestamp\":\"x");
        let d: serde_json::Value = serde_json::from_str(lines[3]).unwrap();
        assert_eq!(d["@timestamp"], "2026-01-01T00:00:00.000Z", "{d}");
    }

    #[test]
    fn item_statuses_and_outcomes() {
        let body = br#"{"took":3,"errors":true,"items":[{"create":{"_id":"a","status":201}},{"create":{"_id":"b","status":409,"error":{"type":"version_conflict_engine_exception"}}},{"create":{"_id":"c","status":429}},{"create":{"_id":"d","status":400,"error":{"type":"mapper_parsing_exception"}}}]}"#;
        let st = item_statuses(body, 4).unwrap();
        assert_eq!(st, [201, 409, 429, 400]);
        let o: Vec<Outcome> = st.into_iter().map(outcome).collect();
        use Outcome::*;
        assert_eq!(o, [Done, Done, Retry, Refused]);
        assert_eq!(outcome(503), Retry);
        assert_eq!(outcome(401), Refused);
        assert!(
            item_statuses(body, 3).is_none(),
            "a count that does not match"
        );
        assert!(item_statuses(b"<html>", 1).is_none());
    }

    #[test]
    fn item_statuses_refuse_what_is_not_one_status_per_item() {
        let one = |item: &str| {
            item_statuses(
                format!(r#"{{"errors":false,"items":[{item}]}}"#).as_bytes(),
                1,
            )
        };
        // Other fields, nested objects and later entries are skipped.
        assert_eq!(
            one(
                r#"{"index":{"_shards":{"total":2,"status":1},"status":201,"result":"created"},"x":[1,{"status":3}]}"#
            ),
            Some(vec![201])
        );
        for bad in [
            "{}",
            r#"{"create":{}}"#,
            r#"{"create":{"status":"201"}}"#,
            r#"{"create":{"status":201.5}}"#,
            r#"{"create":{"status":-1}}"#,
            r#"{"create":{"status":70000}}"#,
            r#"{"create":201}"#,
            "[201]",
            "null",
        ] {
            assert_eq!(one(bad), None, "{bad}");
        }
        assert_eq!(item_statuses(br#"{"items":null}"#, 0), None);
        assert_eq!(item_statuses(br#"{"took":1}"#, 0), None);
        assert_eq!(item_statuses(br#"{"items":[]}"#, 0), Some(vec![]));
    }

    #[test]
    fn credentials_come_from_the_named_variables_and_never_show() {
        let env = |v: &str| (v == "K").then(|| "c2VjcmV0".to_string());
        let vars = CredentialVars {
            api_key: Some("K"),
            ..CredentialVars::default()
        };
        let c = vars.read(&env).unwrap().unwrap();
        assert!(!format!("{c:?}").contains("c2VjcmV0"));
        let vars = CredentialVars {
            username: Some("U"),
            password: Some("K"),
            ..CredentialVars::default()
        };
        let e = vars.read(&env).unwrap_err().to_string();
        assert!(
            e.contains("username_env names the variable U, which is not set"),
            "{e}"
        );
    }

    #[test]
    fn an_unreachable_cluster_dead_letters_every_line_at_close() {
        let dir = tempfile::tempdir().unwrap();
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dead = dir.path().join("dead.jsonl");
        let dropped = Arc::new(AtomicU64::new(0));
        let s = Settings {
            url: format!("http://127.0.0.1:{port}"),
            index: "p".into(),
            dead_letter: dead.clone(),
            credentials: None,
            buffer_lines: 3,
        };
        let mut sink = EsSink::start(
            s,
            Rotating::new(dead.clone(), 1 << 20, 1),
            Arc::clone(&dropped),
        );
        for i in 0..5 {
            let d = doc(&format!("r{i}"));
            sink.write(&d.id, d.line);
        }
        // Two lines past the buffer went to the dead letter at once.
        assert_eq!(dropped.load(Ordering::Relaxed), 2);
        let started = Instant::now();
        sink.close();
        assert!(started.elapsed() < CLOSE_GRACE + Duration::from_secs(5));
        assert_eq!(dropped.load(Ordering::Relaxed), 5);
        let text = std::fs::read_to_string(&dead).unwrap();
        let mut ids: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["request_id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        ids.sort();
        assert_eq!(ids, ["r0", "r1", "r2", "r3", "r4"]);
    }
}
