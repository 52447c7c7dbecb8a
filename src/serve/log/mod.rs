//! The prediction log: one JSON line per prediction request, shipped to a
//! sink off the request path.
//!
//! Lines leave the request path through a bounded channel to a writer
//! thread, which hands them to the sink: a rotating JSON Lines [`file`],
//! [`stdout`], or [`elasticsearch`]'s `_bulk` API (with its own bounded
//! buffer and a dead-letter file). Predictions never wait for the log: a
//! line the channel cannot take, or the sink cannot deliver, is counted in
//! `mlops_prediction_log_dropped_lines_total{sink}`.
//!
//! The feedback store (`POST /feedback`, the A/B export) is in
//! [`super::feedback`]; its names are re-exported here, where they used to be.

mod bulk;
pub mod elasticsearch;
pub mod file;
pub mod stdout;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::Serialize;

pub use super::feedback::{
    EXPORT_HEADER, FEEDBACK_OFF, Feedback, Journal, MAX_OBSERVATIONS, NotRecorded, Observation,
    RECENT, Subject, Which,
};
pub use super::state::Served;

use super::model::{Model, Row};
use super::state::Variant;
use crate::error::Result;
use crate::model::Value;
use crate::project::{LogSink, ServeSection};

/// How a row's level that training never saw is logged.
pub const UNSEEN_LEVEL: &str = "<unseen>";

/// Lines that may wait for the writer before new ones are dropped.
pub const QUEUE: usize = 16_384;

/// Where the lines go.
#[derive(Debug, Clone)]
pub enum SinkSettings {
    /// A JSON Lines file.
    File(PathBuf),
    /// Standard output.
    Stdout,
    /// Elasticsearch.
    Elasticsearch(elasticsearch::Settings),
}

impl SinkSettings {
    /// The `sink` label.
    #[must_use]
    pub fn kind(&self) -> LogSink {
        match self {
            SinkSettings::File(_) => LogSink::File,
            SinkSettings::Stdout => LogSink::Stdout,
            SinkSettings::Elasticsearch(_) => LogSink::Elasticsearch,
        }
    }
}

/// The prediction log's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where lines go.
    pub sink: SinkSettings,
    /// Record the inputs too.
    pub features: bool,
    /// Rotate files (the log, the dead letter) past this size.
    pub max_bytes: u64,
    /// Rotated files kept.
    pub keep: u32,
}

impl Settings {
    /// The prediction log of `[serve]` (`None`: no log), paths resolved by
    /// `resolve`, credential variables read with `env`.
    ///
    /// # Errors
    /// A credential variable that is named but not set.
    pub fn of_section(
        sv: &ServeSection,
        resolve: &dyn Fn(&std::path::Path) -> PathBuf,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Settings>> {
        let Some(setting) = &sv.prediction_log else {
            return Ok(None);
        };
        let t = setting.section();
        let sink =
            match t.sink.unwrap_or_default() {
                LogSink::File => SinkSettings::File(resolve(
                    t.path
                        .as_deref()
                        .unwrap_or_else(|| std::path::Path::new("predictions.jsonl")),
                )),
                LogSink::Stdout => SinkSettings::Stdout,
                LogSink::Elasticsearch => {
                    let vars = elasticsearch::CredentialVars {
                        api_key: t.api_key_env.as_deref(),
                        username: t.username_env.as_deref(),
                        password: t.password_env.as_deref(),
                    };
                    SinkSettings::Elasticsearch(elasticsearch::Settings {
                        url: t.url.clone().unwrap_or_default(),
                        index: t.index.clone().unwrap_or_default(),
                        dead_letter: resolve(t.dead_letter.as_deref().unwrap_or_else(|| {
                            std::path::Path::new("predictions.dead-letter.jsonl")
                        })),
                        credentials: vars.read(env)?,
                        buffer_lines: t
                            .buffer_lines
                            .unwrap_or(elasticsearch::DEFAULT_BUFFER_LINES),
                    })
                }
            };
        Ok(Some(Settings {
            sink,
            features: t.features.unwrap_or(false),
            max_bytes: t
                .log_max_bytes
                .or(sv.log_max_bytes)
                .unwrap_or(DEFAULT_MAX_BYTES),
            keep: t.log_keep.or(sv.log_keep).unwrap_or(DEFAULT_KEEP),
        }))
    }
}

/// Default rotation size (100 MiB).
pub const DEFAULT_MAX_BYTES: u64 = 100 * 1024 * 1024;
/// Default rotated files kept.
pub const DEFAULT_KEEP: u32 = 5;

/// What a sink does with lines, on the writer thread.
pub trait Sink: Send {
    /// Take one line (ending in a newline) of request `id`.
    fn write(&mut self, id: &str, line: &[u8]);
    /// The queue is empty: push out what is buffered.
    fn flush(&mut self);
    /// The server stops: deliver or dead-letter what is left, then return.
    fn close(&mut self);
}

/// Bytes of text an [`Entry`] keeps in itself.
const INLINE: usize = 48;

/// A short text (a request id) kept inside the entry when it fits. An
/// entry is made on a request thread and dropped on the writer thread, and
/// glibc's allocator is slow at memory another thread frees: request
/// threads then miss their own cache of free blocks, and their large
/// allocations sweep up what the writer freed.
#[derive(Debug, Clone)]
pub enum ShortText {
    /// Up to [`INLINE`] bytes, in place.
    Inline(u8, [u8; INLINE]),
    /// Longer text.
    Heap(String),
}

impl ShortText {
    /// `s`, in place when it fits.
    #[must_use]
    pub fn new(s: &str) -> ShortText {
        match u8::try_from(s.len()) {
            Ok(n) if s.len() <= INLINE => {
                let mut b = [0; INLINE];
                b[..s.len()].copy_from_slice(s.as_bytes());
                ShortText::Inline(n, b)
            }
            _ => ShortText::Heap(s.to_string()),
        }
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            ShortText::Inline(n, b) => std::str::from_utf8(&b[..usize::from(*n)]).unwrap_or(""),
            ShortText::Heap(s) => s,
        }
    }
}

/// A request's predictions: one in place (no allocation, as for
/// [`ShortText`]), or a batch's.
#[derive(Debug, Clone)]
pub enum Predicted {
    /// One row's.
    One(Option<f64>),
    /// Any other number of rows'.
    Many(Vec<Option<f64>>),
}

impl Predicted {
    /// `p`, in place when it is one value.
    #[must_use]
    pub fn of(p: &[Option<f64>]) -> Predicted {
        match p {
            [one] => Predicted::One(*one),
            _ => Predicted::Many(p.to_vec()),
        }
    }

    /// The values.
    #[must_use]
    pub fn as_slice(&self) -> &[Option<f64>] {
        match self {
            Predicted::One(p) => std::slice::from_ref(p),
            Predicted::Many(p) => p,
        }
    }
}

/// What one logged prediction says.
#[derive(Debug)]
pub struct Entry {
    /// The request id.
    pub request_id: ShortText,
    /// When the request arrived.
    pub at: SystemTime,
    /// The model that answered.
    pub model: Arc<Model>,
    /// Its slot.
    pub variant: Variant,
    /// The routing key.
    pub key: Option<String>,
    /// Time to answer.
    pub latency: Duration,
    /// One prediction, or a batch's.
    pub predictions: Predicted,
    /// Whether the request was a single row (then `prediction` is a number).
    pub single: bool,
    /// The authenticated caller's subject (`[serve.auth]`).
    pub subject: Option<String>,
    /// The encoded rows, when the log records features.
    pub rows: Option<Vec<Row>>,
}

/// RFC 3339 with milliseconds.
#[must_use]
pub fn timestamp(at: SystemTime) -> String {
    let mut b = Vec::with_capacity(24);
    write_timestamp(&mut b, at);
    String::from_utf8(b).unwrap_or_default()
}

thread_local! {
    /// The last whole second written and its text without the `Z`: lines
    /// come in time order, so most share it.
    static SECOND: std::cell::RefCell<(u64, String)> =
        const { std::cell::RefCell::new((u64::MAX, String::new())) };
}

/// Append [`timestamp`]'s text to `b`.
fn write_timestamp(b: &mut Vec<u8>, at: SystemTime) {
    let d = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    SECOND.with_borrow_mut(|(secs, text)| {
        if *secs != d.as_secs() {
            *secs = d.as_secs();
            *text = crate::timestamp::rfc3339(i64::try_from(*secs).unwrap_or(0));
            text.pop();
        }
        b.extend_from_slice(text.as_bytes());
    });
    let ms = d.subsec_millis();
    #[allow(clippy::cast_possible_truncation)]
    b.extend_from_slice(&[
        b'.',
        b'0' + (ms / 100) as u8,
        b'0' + (ms / 10 % 10) as u8,
        b'0' + (ms % 10) as u8,
        b'Z',
    ]);
}

/// Append `v` as JSON (serde_json's text: escaped strings, shortest
/// round-trip numbers, `null` for a number that is not finite).
fn json<T: Serialize + ?Sized>(b: &mut Vec<u8>, v: &T) {
    // Writing to a Vec cannot fail, nor can these values.
    let _ = serde_json::to_writer(&mut *b, v);
}

/// A row as the model used it, `{feature: value}`: numbers, levels by
/// name (`"<unseen>"` for a level training never saw, read under
/// `handle_unknown = "ignore"`); `null` for a row the `drop-row` policy
/// dropped.
fn row_json(model: &Model, row: &Row) -> serde_json::Value {
    let Some(values) = row else {
        return serde_json::Value::Null;
    };
    let mut obj = serde_json::Map::with_capacity(values.len());
    for (name, v) in model.artifact.features.iter().zip(values) {
        let cell = match v {
            Value::Number(x) => serde_json::json!(x),
            Value::Level(i) => model
                .artifact
                .categorical
                .get(name)
                .and_then(|c| c.levels.get(*i))
                .map_or(serde_json::Value::Null, |l| serde_json::json!(l)),
            Value::Unseen => serde_json::json!(UNSEEN_LEVEL),
        };
        obj.insert(name.clone(), cell);
    }
    serde_json::Value::Object(obj)
}

impl Entry {
    #[cfg(test)]
    fn to_line(&self) -> Vec<u8> {
        let n = self.request_id.as_str().len() + 24 * self.predictions.as_slice().len();
        let mut b = Vec::with_capacity(160 + n);
        self.write_line(&mut b);
        b
    }

    /// Append the line (ending in a newline) to `b`, written field by field
    /// without building a JSON tree: `request_id`, `timestamp`, `model`,
    /// `version`, `variant`, `key`, `latency_ms`, `prediction` (a number for
    /// one row, else a list), then `subject` and `features` when present.
    fn write_line(&self, b: &mut Vec<u8>) {
        b.extend_from_slice(b"{\"request_id\":");
        json(b, self.request_id.as_str());
        b.extend_from_slice(b",\"timestamp\":\"");
        write_timestamp(b, self.at);
        b.extend_from_slice(b"\",\"model\":");
        json(b, self.model.name.as_str());
        b.extend_from_slice(b",\"version\":");
        json(b, self.model.version.as_str());
        b.extend_from_slice(b",\"variant\":");
        json(b, self.variant.as_str());
        b.extend_from_slice(b",\"key\":");
        json(b, &self.key);
        b.extend_from_slice(b",\"latency_ms\":");
        json(b, &(self.latency.as_secs_f64() * 1000.0));
        b.extend_from_slice(b",\"prediction\":");
        let predictions = self.predictions.as_slice();
        if self.single {
            json(b, &predictions.first().copied().flatten());
        } else {
            json(b, predictions);
        }
        if let Some(s) = &self.subject {
            b.extend_from_slice(b",\"subject\":");
            json(b, s.as_str());
        }
        if let Some(rows) = &self.rows {
            b.extend_from_slice(b",\"features\":");
            if self.single {
                match rows.first() {
                    Some(r) => json(b, &row_json(&self.model, r)),
                    None => b.extend_from_slice(b"null"),
                }
            } else {
                b.push(b'[');
                for (i, r) in rows.iter().enumerate() {
                    if i > 0 {
                        b.push(b',');
                    }
                    json(b, &row_json(&self.model, r));
                }
                b.push(b']');
            }
        }
        b.extend_from_slice(b"}\n");
    }
}

/// The sending half of the log; [`PredictionLog::close`] lets the writer
/// finish.
#[derive(Debug)]
pub struct PredictionLog {
    tx: Mutex<Option<SyncSender<Entry>>>,
    dropped: Arc<AtomicU64>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    features: bool,
    sink: LogSink,
}

impl PredictionLog {
    /// Start the writer thread and the sink of `settings`; lines not
    /// delivered are counted in `dropped`.
    #[must_use]
    pub fn start(settings: Settings, dropped: Arc<AtomicU64>) -> PredictionLog {
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
        let kind = settings.sink.kind();
        let features = settings.features;
        let d = Arc::clone(&dropped);
        let writer = std::thread::Builder::new()
            .name("prediction-log".into())
            .spawn(move || {
                let mut sink: Box<dyn Sink> = match settings.sink {
                    SinkSettings::File(path) => Box::new(file::FileSink {
                        file: file::Rotating::new(path, settings.max_bytes, settings.keep),
                        dropped: d,
                    }),
                    SinkSettings::Stdout => Box::new(stdout::StdoutSink::new(d)),
                    SinkSettings::Elasticsearch(es) => {
                        let dead = file::Rotating::new(
                            es.dead_letter.clone(),
                            settings.max_bytes,
                            settings.keep,
                        );
                        Box::new(elasticsearch::EsSink::start(es, dead, d))
                    }
                };
                run(&rx, &mut *sink);
            })
            .ok();
        PredictionLog {
            tx: Mutex::new(Some(tx)),
            dropped,
            writer: Mutex::new(writer),
            features,
            sink: kind,
        }
    }

    /// Whether lines record the inputs (`features = true`).
    #[must_use]
    pub fn features(&self) -> bool {
        self.features
    }

    /// The sink's kind (the metric's label).
    #[must_use]
    pub fn sink(&self) -> LogSink {
        self.sink
    }

    /// Queue an entry; never blocks.
    pub fn send(&self, e: Entry) {
        let tx = self
            .tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(tx) = tx.as_ref() else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        match tx.try_send(e) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Stop taking lines, let the sink deliver (or dead-letter) what is
    /// queued, and wait for it.
    pub fn close(&self) {
        drop(
            self.tx
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take(),
        );
        if let Some(h) = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            let _ = h.join();
        }
    }
}

/// While lines keep coming, the writer looks at the queue once per tick
/// instead of sleeping in `recv`: a request then never has to wake it (a
/// futex call and a context switch each, which cost more than the line
/// itself on a busy server), and the sink writes in large pieces.
pub const TICK: Duration = Duration::from_millis(2);

/// Under sustained load the sink is flushed at least this often, so a line
/// reaches the file (or the sink's own buffer) within this time.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// What one look at the queue found.
enum Drained {
    Lines(usize),
    Closed,
}

/// Hand one entry's line to the sink, written in `line` (reused: the
/// writer thread allocates nothing per line).
fn hand(e: &Entry, sink: &mut dyn Sink, line: &mut Vec<u8>) {
    line.clear();
    e.write_line(line);
    sink.write(e.request_id.as_str(), line);
}

/// Hand every queued line to the sink without waiting.
fn drain(rx: &Receiver<Entry>, sink: &mut dyn Sink, line: &mut Vec<u8>) -> Drained {
    let mut n = 0;
    loop {
        match rx.try_recv() {
            Ok(e) => {
                hand(&e, sink, line);
                n += 1;
            }
            Err(TryRecvError::Empty) => return Drained::Lines(n),
            Err(TryRecvError::Disconnected) => return Drained::Closed,
        }
    }
}

/// The writer thread. Idle, it sleeps in `recv` until a line arrives; then
/// it drains the queue once per [`TICK`] until a tick brings nothing, and
/// flushes then (promptly under light load) or every [`FLUSH_EVERY`]
/// under sustained load.
fn run(rx: &Receiver<Entry>, sink: &mut dyn Sink) {
    let mut line = Vec::with_capacity(1024);
    while let Ok(e) = rx.recv() {
        hand(&e, sink, &mut line);
        let mut flushed = std::time::Instant::now();
        loop {
            std::thread::sleep(TICK);
            match drain(rx, sink, &mut line) {
                Drained::Lines(0) => {
                    sink.flush();
                    break;
                }
                Drained::Lines(_) => {
                    if flushed.elapsed() >= FLUSH_EVERY {
                        sink.flush();
                        flushed = std::time::Instant::now();
                    }
                }
                Drained::Closed => {
                    sink.close();
                    return;
                }
            }
        }
    }
    sink.close();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::model::tests::toy;

    fn entry(i: usize, m: &Arc<Model>) -> Entry {
        Entry {
            request_id: ShortText::new(&format!("r{i}")),
            at: std::time::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
            model: Arc::clone(m),
            variant: Variant::Champion,
            key: Some("u".into()),
            latency: Duration::from_micros(1500),
            predictions: Predicted::of(&[Some(2.5)]),
            single: true,
            subject: None,
            rows: None,
        }
    }

    fn file_log(
        path: &std::path::Path,
        max_bytes: u64,
        keep: u32,
        d: &Arc<AtomicU64>,
    ) -> PredictionLog {
        let settings = Settings {
            sink: SinkSettings::File(path.to_path_buf()),
            features: false,
            max_bytes,
            keep,
        };
        PredictionLog::start(settings, Arc::clone(d))
    }

    #[test]
    fn writes_lines_and_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/p.jsonl");
        let m = Arc::new(toy("error"));
        let line = entry(0, &m).to_line();
        assert_eq!(
            String::from_utf8(line.clone()).unwrap(),
            "{\"request_id\":\"r0\",\"timestamp\":\"2023-11-14T22:13:20.123Z\",\"model\":\"toy\",\"version\":\"v1.0.0\",\"variant\":\"champion\",\"key\":\"u\",\"latency_ms\":1.5,\"prediction\":2.5}\n"
        );
        let dropped = Arc::new(AtomicU64::new(0));
        // Room for three lines per file, two old files kept.
        let log = file_log(&path, line.len() as u64 * 3, 2, &dropped);
        for i in 0..10 {
            log.send(entry(i, &m));
        }
        log.close();
        let lines =
            |p: &std::path::Path| std::fs::read_to_string(p).map_or(0, |s| s.lines().count());
        assert_eq!(lines(&path), 1);
        assert_eq!(lines(&file::numbered(&path, 1)), 3);
        assert_eq!(lines(&file::numbered(&path, 2)), 3);
        assert!(!file::numbered(&path, 3).exists());
        assert_eq!(dropped.load(Ordering::Relaxed), 0);
        // After close, lines are counted as dropped.
        log.send(entry(11, &m));
        assert_eq!(dropped.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn an_unwritable_log_counts_dropped_lines() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should be: every open fails.
        let path = dir.path().join("p.jsonl");
        std::fs::create_dir(&path).unwrap();
        let m = Arc::new(toy("error"));
        let dropped = Arc::new(AtomicU64::new(0));
        let log = file_log(&path, 1 << 20, 1, &dropped);
        for i in 0..5 {
            log.send(entry(i, &m));
        }
        log.close();
        assert_eq!(dropped.load(Ordering::Relaxed), 5);
    }

    /// The line as the serde struct it replaced wrote it (the reference).
    fn reference_line(e: &Entry) -> Vec<u8> {
        #[derive(Serialize)]
        struct Line<'a> {
            request_id: &'a str,
            timestamp: String,
            model: &'a str,
            version: &'a str,
            variant: &'static str,
            key: Option<&'a str>,
            latency_ms: f64,
            prediction: serde_json::Value,
            #[serde(skip_serializing_if = "Option::is_none")]
            subject: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            features: Option<serde_json::Value>,
        }
        let d = e.at.duration_since(std::time::UNIX_EPOCH).unwrap();
        let s = crate::timestamp::rfc3339(i64::try_from(d.as_secs()).unwrap());
        let features = e.rows.as_ref().map(|rows| {
            if e.single {
                rows.first()
                    .map_or(serde_json::Value::Null, |r| row_json(&e.model, r))
            } else {
                serde_json::Value::Array(rows.iter().map(|r| row_json(&e.model, r)).collect())
            }
        });
        let line = Line {
            request_id: e.request_id.as_str(),
            timestamp: format!("{}.{:03}Z", &s[..s.len() - 1], d.subsec_millis()),
            model: &e.model.name,
            version: &e.model.version,
            variant: e.variant.as_str(),
            key: e.key.as_deref(),
            latency_ms: e.latency.as_secs_f64() * 1000.0,
            prediction: if e.single {
                serde_json::json!(e.predictions.as_slice().first().copied().flatten())
            } else {
                serde_json::json!(e.predictions.as_slice())
            },
            subject: e.subject.as_deref(),
            features,
        };
        let mut v = serde_json::to_vec(&line).unwrap();
        v.push(b'\n');
        v
    }

    #[test]
    fn lines_are_byte_for_byte_what_serde_wrote() {
        let m = Arc::new(toy("drop-row"));
        let row = m
            .encode_object(
                serde_json::json!({"a": 0.1, "b": -3e-7, "c": "z"})
                    .as_object()
                    .unwrap(),
                "",
            )
            .unwrap();
        let mut cases = Vec::new();
        for i in 0..6 {
            let mut e = entry(i, &m);
            e.at = std::time::UNIX_EPOCH
                + Duration::from_nanos(1_764_800_000_000_000_000 + 999_999_999 * i as u64 * 7);
            e.latency = Duration::from_nanos(1 + 123_457 * i as u64);
            cases.push(e);
        }
        cases[0].request_id = ShortText::new("q\"\\\u{1}\n\u{7f}é\",\"timestamp\":\"x");
        cases[1].request_id = ShortText::new(&"long-id.".repeat(16));
        cases[1].key = None;
        cases[1].subject = Some("user \"7\"\t".into());
        cases[2].single = false;
        cases[2].predictions =
            Predicted::of(&[Some(1.0), None, Some(f64::NAN), Some(1e300), Some(-0.0)]);
        cases[2].rows = Some(vec![row.clone(), None]);
        cases[3].predictions = Predicted::of(&[Some(f64::INFINITY)]);
        cases[3].rows = Some(vec![row]);
        cases[4].predictions = Predicted::of(&[None]);
        cases[4].variant = Variant::Challenger;
        cases[5].single = false;
        cases[5].predictions = Predicted::of(&[]);
        cases[5].rows = Some(Vec::new());
        for e in &cases {
            let (got, want) = (e.to_line(), reference_line(e));
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want).unwrap()
            );
        }
        assert_eq!(
            timestamp(std::time::UNIX_EPOCH + Duration::from_millis(1_700_000_000_007)),
            "2023-11-14T22:13:20.007Z"
        );
    }

    #[test]
    fn features_are_the_rows_as_the_model_used_them() {
        let m = Arc::new(toy("drop-row"));
        let row = m
            .encode_object(
                serde_json::json!({"a": 2.5, "b": 1, "c": "z"})
                    .as_object()
                    .unwrap(),
                "",
            )
            .unwrap();
        let mut e = entry(0, &m);
        e.rows = Some(vec![row.clone()]);
        let v: serde_json::Value = serde_json::from_slice(&e.to_line()).unwrap();
        assert_eq!(
            v["features"],
            serde_json::json!({"a": 2.5, "b": 1.0, "c": "z"})
        );
        e.single = false;
        e.predictions = Predicted::of(&[Some(1.0), None]);
        e.rows = Some(vec![row, None]);
        let v: serde_json::Value = serde_json::from_slice(&e.to_line()).unwrap();
        assert_eq!(
            v["features"],
            serde_json::json!([{"a": 2.5, "b": 1.0, "c": "z"}, null])
        );
    }
}
