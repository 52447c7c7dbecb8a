//! The prediction log and the feedback store.
//!
//! Log lines leave the request path through a bounded channel to a writer
//! thread; when the channel is full, or the disk fails, the line is counted
//! as dropped and the prediction still goes out. The file rotates by size:
//! `log` → `log.1` → ... → `log.KEEP`.
//!
//! Feedback (`POST /feedback`) is joined to the variant that served the
//! request (by request id, or by the routing key) and kept in memory for
//! `GET /admin/abtest/export`, the CSV `abtest-analyze` reads.

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::model::Model;
pub use super::state::Served;
use super::state::Variant;

/// Lines that may wait for the writer before new ones are dropped.
pub const QUEUE: usize = 16_384;

/// What one logged prediction says.
#[derive(Debug)]
pub struct Entry {
    /// The request id.
    pub request_id: String,
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
    pub predictions: Vec<Option<f64>>,
    /// Whether the request was a single row (then `prediction` is a number).
    pub single: bool,
    /// The authenticated caller's subject (`[serve.auth]`).
    pub subject: Option<String>,
}

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
}

/// RFC 3339 with milliseconds.
#[must_use]
pub fn timestamp(at: SystemTime) -> String {
    let d = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let s = crate::timestamp::rfc3339(i64::try_from(d.as_secs()).unwrap_or(0));
    format!("{}.{:03}Z", &s[..s.len() - 1], d.subsec_millis())
}

impl Entry {
    fn to_line(&self) -> Vec<u8> {
        let line = Line {
            request_id: &self.request_id,
            timestamp: timestamp(self.at),
            model: &self.model.name,
            version: &self.model.version,
            variant: self.variant.as_str(),
            key: self.key.as_deref(),
            latency_ms: self.latency.as_secs_f64() * 1000.0,
            prediction: if self.single {
                serde_json::json!(self.predictions.first().copied().flatten())
            } else {
                serde_json::json!(self.predictions)
            },
            subject: self.subject.as_deref(),
        };
        let mut v = serde_json::to_vec(&line).unwrap_or_default();
        v.push(b'\n');
        v
    }
}

/// The sending half of the log; dropping it (with [`PredictionLog::close`])
/// lets the writer finish.
#[derive(Debug)]
pub struct PredictionLog {
    tx: Mutex<Option<SyncSender<Entry>>>,
    dropped: Arc<AtomicU64>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl PredictionLog {
    /// Start the writer for `path`, rotating past `max_bytes`, keeping `keep`
    /// old files; lost lines are counted in `dropped`.
    #[must_use]
    pub fn start(
        path: PathBuf,
        max_bytes: u64,
        keep: u32,
        dropped: Arc<AtomicU64>,
    ) -> PredictionLog {
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
        let d = Arc::clone(&dropped);
        let writer = std::thread::Builder::new()
            .name("prediction-log".into())
            .spawn(move || {
                Writer {
                    path,
                    max_bytes,
                    keep,
                    dropped: d,
                    file: None,
                    size: 0,
                    next_try: std::time::Instant::now(),
                }
                .run(&rx);
            })
            .ok();
        PredictionLog {
            tx: Mutex::new(Some(tx)),
            dropped,
            writer: Mutex::new(writer),
        }
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

    /// Stop taking lines, let the writer write what is queued, and wait for it.
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

struct Writer {
    path: PathBuf,
    max_bytes: u64,
    keep: u32,
    dropped: Arc<AtomicU64>,
    file: Option<BufWriter<File>>,
    size: u64,
    next_try: std::time::Instant,
}

fn numbered(path: &Path, i: u32) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(format!(".{i}"));
    PathBuf::from(s)
}

impl Writer {
    fn run(mut self, rx: &Receiver<Entry>) {
        while let Ok(e) = rx.recv() {
            self.write(&e.to_line());
            // Flush when the queue is empty: lines reach the disk promptly
            // under light load and in large writes under heavy load.
            loop {
                match rx.try_recv() {
                    Ok(e) => self.write(&e.to_line()),
                    Err(TryRecvError::Empty) => {
                        self.flush();
                        break;
                    }
                    Err(TryRecvError::Disconnected) => {
                        self.flush();
                        return;
                    }
                }
            }
        }
        self.flush();
    }

    fn open(&mut self) -> bool {
        if self.file.is_some() {
            return true;
        }
        let now = std::time::Instant::now();
        if now < self.next_try {
            return false;
        }
        if let Some(d) = self.path.parent()
            && !d.as_os_str().is_empty()
        {
            let _ = std::fs::create_dir_all(d);
        }
        match OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
        {
            Ok(f) => {
                self.size = f.metadata().map_or(0, |m| m.len());
                self.file = Some(BufWriter::with_capacity(1 << 16, f));
                true
            }
            Err(_) => {
                self.next_try = now + Duration::from_secs(1);
                false
            }
        }
    }

    fn fail(&mut self, lines: u64) {
        self.dropped.fetch_add(lines, Ordering::Relaxed);
        self.file = None;
        self.next_try = std::time::Instant::now() + Duration::from_secs(1);
    }

    fn write(&mut self, line: &[u8]) {
        if self.size > 0 && self.size + line.len() as u64 > self.max_bytes {
            self.rotate();
        }
        if !self.open() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let ok = self
            .file
            .as_mut()
            .is_some_and(|f| f.write_all(line).is_ok());
        if ok {
            self.size += line.len() as u64;
        } else {
            self.fail(1);
        }
    }

    fn flush(&mut self) {
        if let Some(f) = self.file.as_mut()
            && f.flush().is_err()
        {
            // What the buffer held is lost; count it roughly as one line.
            self.fail(1);
        }
    }

    fn rotate(&mut self) {
        self.flush();
        self.file = None;
        if self.keep == 0 {
            let _ = std::fs::remove_file(&self.path);
        } else {
            let _ = std::fs::remove_file(numbered(&self.path, self.keep));
            for i in (1..self.keep).rev() {
                let _ = std::fs::rename(numbered(&self.path, i), numbered(&self.path, i + 1));
            }
            let _ = std::fs::rename(&self.path, numbered(&self.path, 1));
        }
        self.size = 0;
    }
}

/// Why `/feedback` is refused while the admin API is off.
pub const FEEDBACK_OFF: &str = "feedback is off because the admin API is off: nobody could export it; start the server with the variable named by [serve].admin_token_env set";

/// Requests remembered for feedback by request id.
pub const RECENT: usize = 100_000;
/// Observations kept for the export.
pub const MAX_OBSERVATIONS: usize = 1_000_000;

/// One outcome, joined to what served it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// What served the request.
    pub served: Served,
    /// The routing key, else the request id.
    pub key: String,
    /// The outcome.
    pub value: f64,
}

/// The export's columns, in order.
pub const EXPORT_HEADER: [&str; 6] = [
    "variant",
    "key",
    "value",
    "version",
    "planned_share",
    "experiment",
];

impl Observation {
    /// The export's cells, in [`EXPORT_HEADER`] order.
    #[must_use]
    pub fn cells(&self) -> [String; 6] {
        [
            self.served.variant.as_str().to_string(),
            self.key.clone(),
            self.value.to_string(),
            self.served.version.to_string(),
            (f64::from(self.served.share_percent) / 100.0).to_string(),
            self.served.experiment.to_string(),
        ]
    }
}

/// Where observations are kept besides memory (the server's state folder).
pub trait Journal: Send + Sync + std::fmt::Debug {
    /// Append one observation durably enough to survive a restart.
    ///
    /// # Errors
    /// The write failed; the observation must not be kept.
    fn append(&self, o: &Observation) -> Result<(), String>;
    /// Forget every observation.
    ///
    /// # Errors
    /// The write failed; the observations must be kept.
    fn clear(&self) -> Result<(), String>;
}

#[derive(Debug, Default)]
struct Store {
    requests: HashMap<String, (Served, Option<String>)>,
    order: VecDeque<String>,
    keys: HashMap<String, Served>,
    observations: Vec<Observation>,
    journal: Option<Arc<dyn Journal>>,
}

/// What a feedback names.
#[derive(Debug, Clone)]
pub enum Subject {
    /// A request id from `X-Request-Id`.
    Request(String),
    /// A routing key.
    Key(String),
}

/// Why a feedback was not recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRecorded {
    /// The request id or key was never served (or is too old), or the
    /// store is full (404).
    Unknown(String),
    /// The state folder could not be written (503).
    Storage(String),
}

/// Which observations an export holds.
#[derive(Debug, Clone)]
pub enum Which {
    /// Those of the experiments named (the current ones).
    Experiments(std::collections::HashSet<String>),
    /// All.
    All,
}

/// Served variants and recorded outcomes.
#[derive(Debug, Default)]
pub struct Feedback {
    store: Mutex<Store>,
}

impl Feedback {
    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Start from `restored` observations and keep new ones in `journal` too.
    pub fn persist(&self, restored: Vec<Observation>, journal: Arc<dyn Journal>) {
        let mut s = self.lock();
        s.observations = restored;
        s.journal = Some(journal);
    }

    /// Remember that `request_id` (with `key`) was served by `served`.
    pub fn served(&self, request_id: &str, key: Option<&str>, served: &Served) {
        let mut s = self.lock();
        if s.order.len() >= RECENT
            && let Some(old) = s.order.pop_front()
        {
            s.requests.remove(&old);
        }
        s.requests.insert(
            request_id.to_string(),
            (served.clone(), key.map(str::to_string)),
        );
        s.order.push_back(request_id.to_string());
        if let Some(k) = key {
            if s.keys.len() >= RECENT && !s.keys.contains_key(k) {
                s.keys.clear();
            }
            s.keys.insert(k.to_string(), served.clone());
        }
    }

    /// Record an outcome; returns what it was joined to.
    ///
    /// # Errors
    /// The request id or key was never served (or is too old), the store
    /// is full, or the state folder cannot be written.
    pub fn record(&self, subject: &Subject, value: f64) -> Result<Served, NotRecorded> {
        let mut s = self.lock();
        let (served, key) = match subject {
            Subject::Request(id) => match s.requests.get(id) {
                // A request served with a key is known by its key.
                Some((v, k)) => (v.clone(), k.clone().unwrap_or_else(|| id.clone())),
                None => {
                    return Err(NotRecorded::Unknown(format!(
                        "request_id \"{}\" was not served by this server (or is older than the last {RECENT} requests)",
                        super::model::clip(id)
                    )));
                }
            },
            Subject::Key(k) => match s.keys.get(k) {
                Some(v) => (v.clone(), k.clone()),
                None => {
                    return Err(NotRecorded::Unknown(format!(
                        "key \"{}\" was not served by this server",
                        super::model::clip(k)
                    )));
                }
            },
        };
        if s.observations.len() >= MAX_OBSERVATIONS {
            return Err(NotRecorded::Unknown(format!(
                "the server holds {MAX_OBSERVATIONS} observations already; export them and reset the experiment (POST /admin/abtest/reset)"
            )));
        }
        let o = Observation {
            served: served.clone(),
            key,
            value,
        };
        if let Some(j) = &s.journal {
            j.append(&o).map_err(NotRecorded::Storage)?;
        }
        s.observations.push(o);
        Ok(served)
    }

    /// Forget every observation and every remembered request; returns how
    /// many observations were dropped.
    ///
    /// # Errors
    /// The state folder cannot be written (nothing is forgotten).
    pub fn reset(&self) -> Result<usize, String> {
        let mut s = self.lock();
        if let Some(j) = &s.journal {
            j.clear()?;
        }
        let n = s.observations.len();
        s.observations.clear();
        s.requests.clear();
        s.order.clear();
        s.keys.clear();
        Ok(n)
    }

    /// The observations `which` names, as CSV ([`EXPORT_HEADER`]).
    #[must_use]
    pub fn export_csv(&self, which: &Which) -> String {
        let s = self.lock();
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(EXPORT_HEADER);
        for o in &s.observations {
            if let Which::Experiments(set) = which
                && !set.contains(&*o.served.experiment)
            {
                continue;
            }
            let _ = w.write_record(o.cells());
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::model::tests::toy;

    fn entry(i: usize, m: &Arc<Model>) -> Entry {
        Entry {
            request_id: format!("r{i}"),
            at: std::time::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
            model: Arc::clone(m),
            variant: Variant::Champion,
            key: Some("u".into()),
            latency: Duration::from_micros(1500),
            predictions: vec![Some(2.5)],
            single: true,
            subject: None,
        }
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
        let log =
            PredictionLog::start(path.clone(), line.len() as u64 * 3, 2, Arc::clone(&dropped));
        for i in 0..10 {
            log.send(entry(i, &m));
        }
        log.close();
        let lines = |p: &Path| std::fs::read_to_string(p).map_or(0, |s| s.lines().count());
        assert_eq!(lines(&path), 1);
        assert_eq!(lines(&numbered(&path, 1)), 3);
        assert_eq!(lines(&numbered(&path, 2)), 3);
        assert!(!numbered(&path, 3).exists());
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
        let log = PredictionLog::start(path, 1 << 20, 1, Arc::clone(&dropped));
        for i in 0..5 {
            log.send(entry(i, &m));
        }
        log.close();
        assert_eq!(dropped.load(Ordering::Relaxed), 5);
    }

    fn served(variant: Variant, version: &str, share: u8, exp: &str) -> Served {
        Served {
            variant,
            version: Arc::from(version),
            share_percent: share,
            experiment: Arc::from(exp),
        }
    }

    #[test]
    fn feedback_joins_by_request_and_key_and_exports_by_experiment() {
        let f = Feedback::default();
        let a = served(Variant::Champion, "v1", 70, "m:v1/v2");
        let b = served(Variant::Challenger, "v2", 30, "m:v1/v2");
        f.served("r1", None, &a);
        f.served("r2", Some("alice"), &b);
        assert_eq!(f.record(&Subject::Request("r1".into()), 1.0), Ok(a.clone()));
        assert_eq!(f.record(&Subject::Key("alice".into()), 0.0), Ok(b.clone()));
        assert_eq!(f.record(&Subject::Request("r2".into()), 2.5), Ok(b));
        assert!(matches!(
            f.record(&Subject::Key("bob".into()), 1.0),
            Err(NotRecorded::Unknown(_))
        ));
        // A later experiment (after a promote): its rows are apart.
        let c = served(Variant::Champion, "v2", 100, "m:v2/-");
        f.served("r3", None, &c);
        f.record(&Subject::Request("r3".into()), 4.0).unwrap();
        let head = "variant,key,value,version,planned_share,experiment\n";
        let old = "champion,r1,1,v1,0.7,m:v1/v2\nchallenger,alice,0,v2,0.3,m:v1/v2\nchallenger,alice,2.5,v2,0.3,m:v1/v2\n";
        let new = "champion,r3,4,v2,1,m:v2/-\n";
        assert_eq!(f.export_csv(&Which::All), format!("{head}{old}{new}"));
        let current = Which::Experiments(["m:v2/-".to_string()].into_iter().collect());
        assert_eq!(f.export_csv(&current), format!("{head}{new}"));
        // A reset forgets the observations and the requests.
        assert_eq!(f.reset(), Ok(4));
        assert_eq!(f.export_csv(&Which::All), head);
        assert!(f.record(&Subject::Request("r3".into()), 1.0).is_err());
    }
}
