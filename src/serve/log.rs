//! The prediction log and the feedback store.
//!
//! Log lines leave the request path through a bounded channel to a writer
//! thread; when the channel is full, or the disk fails, the line is counted
//! as dropped and the prediction still goes out. The file rotates by size:
//! `log` → `log.1` → ... → `log.KEEP`.
//!
//! The feedback store lives in [`super::feedback`]; its names are
//! re-exported here, where they used to be.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::Serialize;

pub use super::feedback::{
    EXPORT_HEADER, FEEDBACK_OFF, Feedback, Journal, MAX_OBSERVATIONS, NotRecorded, Observation,
    RECENT, Subject, Which,
};
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
}
