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
use super::bulk::Batch;
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

/// Whether a `_bulk` answer says `"errors": false` before anything but
/// `"took"`, as Elasticsearch writes it: then every item succeeded and the
/// items need not be read (most answers; only others are parsed whole).
#[must_use]
pub fn no_errors(body: &[u8]) -> bool {
    let mut b = body;
    if !eat(&mut b, b"{") {
        return false;
    }
    if eat(&mut b, b"\"took\"") {
        // `eat` of nothing skips the whitespace before the number.
        if !eat(&mut b, b":") || !eat(&mut b, b"") {
            return false;
        }
        let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
        b = &b[digits..];
        if digits == 0 || !eat(&mut b, b",") {
            return false;
        }
    }
    eat(&mut b, b"\"errors\"")
        && eat(&mut b, b":")
        && eat(&mut b, b"false")
        && (eat(&mut b, b",") || eat(&mut b, b"}"))
}

/// Skip JSON whitespace, then `token` if it comes next.
fn eat(b: &mut &[u8], token: &[u8]) -> bool {
    let ws = b.iter().take_while(|c| b" \t\r\n".contains(c)).count();
    *b = &b[ws..];
    let Some(rest) = b.strip_prefix(token) else {
        return false;
    };
    *b = rest;
    true
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
    /// Lines waiting, in batches of at most [`BATCH_DOCS`] lines and
    /// [`BATCH_BYTES`] bytes; new lines go to the last one.
    batches: VecDeque<Batch>,
    /// Lines in `batches`.
    lines: usize,
    /// Batches delivered, emptied for reuse.
    spare: Vec<Batch>,
    /// When the oldest waiting line arrived.
    since: Option<Instant>,
    /// Set by close: give up after this instant.
    deadline: Option<Instant>,
}

/// Emptied batches kept for reuse.
const SPARE: usize = 4;

impl Queue {
    /// Whether the first batch is ready to go without waiting.
    fn full(&self) -> bool {
        self.batches.len() > 1
            || self
                .batches
                .front()
                .is_some_and(|b| b.len() >= BATCH_DOCS || b.bytes() >= BATCH_BYTES)
    }

    /// The batch the next line of `room` bytes goes to.
    fn last_with_room(&mut self, room: usize) -> &mut Batch {
        let start_new = self.batches.back().is_none_or(|b| {
            b.len() >= BATCH_DOCS || (!b.is_empty() && b.bytes() + room > BATCH_BYTES)
        });
        if start_new {
            let b = self.spare.pop().unwrap_or_default();
            self.batches.push_back(b);
        }
        // Just made non-empty.
        self.batches.back_mut().expect("a batch")
    }
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
    fn dead_letter<'a>(&self, lines: impl IntoIterator<Item = &'a [u8]>) {
        let mut dead = self
            .dead
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut n = 0;
        for line in lines {
            // A line the dead letter cannot take is lost, and counted the same.
            let _ = dead.write(line);
            n += 1;
        }
        let _ = dead.flush();
        self.dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// The lines `i` of `batch` for which `pick(i)` holds, dead-lettered.
    fn dead_letter_of(&self, batch: &Batch, pick: impl Fn(usize) -> bool) {
        let mut line = Vec::new();
        let mut dead = self
            .dead
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut n = 0;
        for i in (0..batch.len()).filter(|&i| pick(i)) {
            batch.line_into(i, &mut line);
            let _ = dead.write(&line);
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
    fn write(&mut self, id: &str, line: &[u8]) {
        let mut q = self.shared.lock();
        if q.lines >= self.buffer_lines || self.shipper.is_none() {
            drop(q);
            self.shared.dead_letter([line]);
            return;
        }
        // An action line and `@timestamp` add less than this to a line.
        q.last_with_room(line.len() + id.len() + 64).push(id, line);
        q.lines += 1;
        // The first line starts the shipper's clock; a full batch goes now.
        let first = q.since.is_none();
        q.since.get_or_insert_with(Instant::now);
        if first || q.full() {
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
        let left: Vec<Batch> = {
            let mut q = self.shared.lock();
            q.lines = 0;
            q.batches.drain(..).collect()
        };
        for b in &left {
            self.shared.dead_letter_of(b, |_| true);
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
    fn next_batch(&self) -> Option<Batch> {
        let mut q = self.shared.lock();
        loop {
            let now = Instant::now();
            if let Some(d) = q.deadline {
                if q.lines == 0 {
                    return None;
                }
                if now >= d {
                    let left: Vec<Batch> = q.batches.drain(..).collect();
                    q.lines = 0;
                    drop(q);
                    for b in &left {
                        self.shared.dead_letter_of(b, |_| true);
                    }
                    return None;
                }
                break;
            }
            if q.full() {
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
        let batch = q.batches.pop_front().unwrap_or_default();
        q.lines -= batch.len();
        q.since = if q.lines == 0 {
            None
        } else {
            Some(Instant::now())
        };
        Some(batch)
    }

    /// Send `batch` until every line is done or refused; past the close
    /// deadline, what is left goes to the dead letter. The emptied batch
    /// is kept for reuse.
    fn deliver(&self, mut batch: Batch) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            batch = self.attempt(batch);
            if batch.is_empty() {
                let mut q = self.shared.lock();
                if q.spare.len() < SPARE {
                    batch.clear();
                    q.spare.push(batch);
                }
                return;
            }
            if self.shared.past_deadline() {
                self.shared.dead_letter_of(&batch, |_| true);
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
    /// are dead-lettered here), or the batch emptied when all are done.
    fn attempt(&self, mut batch: Batch) -> Batch {
        let Some(client) = &self.client else {
            return batch;
        };
        // The body is shared with the request, not copied; it comes back
        // for a retry or for reuse.
        let body = bytes::Bytes::from(batch.take_body());
        let mut req = client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
            .body(body.clone());
        req = match &self.s.credentials {
            Some(Credentials::ApiKey(k)) => {
                req.header(reqwest::header::AUTHORIZATION, format!("ApiKey {}", k.0))
            }
            Some(Credentials::Basic(u, p)) => req.basic_auth(&u.0, Some(&p.0)),
            None => req,
        };
        let sent = req.send();
        batch.restore(body.try_into_mut().map_or_else(|b| b.to_vec(), Vec::from));
        let Ok(resp) = sent else {
            return batch;
        };
        match outcome(resp.status().as_u16()) {
            Outcome::Retry => return batch,
            Outcome::Refused => {
                self.shared.dead_letter_of(&batch, |_| true);
                batch.clear();
                return batch;
            }
            Outcome::Done => {}
        }
        let Ok(answer) = resp.bytes() else {
            return batch;
        };
        if no_errors(&answer) {
            batch.clear();
            return batch;
        }
        let Some(statuses) = item_statuses(&answer, batch.len()) else {
            // An answer that cannot be read: send it all again; the `_id`s
            // make the lines already indexed answer 409.
            return batch;
        };
        let is = |i: usize, o: Outcome| outcome(statuses[i]) == o;
        if statuses.iter().all(|&s| outcome(s) == Outcome::Done) {
            batch.clear();
            return batch;
        }
        self.shared
            .dead_letter_of(&batch, |i| is(i, Outcome::Refused));
        let retry = batch.select(|i| is(i, Outcome::Retry));
        if retry.is_empty() {
            batch.clear();
            return batch;
        }
        retry
    }
}

#[cfg(test)]
mod tests {
    use super::super::bulk::tests::line;
    use super::*;

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
    fn errors_false_up_front_needs_no_items_read() {
        for yes in [
            r#"{"took":3,"errors":false,"items":[]}"#,
            r#"{"errors":false,"items":[],"took":1}"#,
            " { \"took\" : 12 ,\n \"errors\" : false }",
        ] {
            assert!(no_errors(yes.as_bytes()), "{yes}");
        }
        for no in [
            r#"{"took":3,"errors":true,"items":[]}"#,
            r#"{"items":[{"create":{"status":400}}],"errors":false}"#,
            r#"{"took":"3","errors":false}"#,
            r#"{"took":3,"errors":falsey}"#,
            r#"{"errors":false"#,
            r#"["errors",false]"#,
            "",
        ] {
            assert!(!no_errors(no.as_bytes()), "{no}");
        }
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
            let id = format!("r{i}");
            sink.write(&id, &line(&id));
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
