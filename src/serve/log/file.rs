//! The JSON Lines file: appended through a buffer, rotated by size
//! (`log` → `log.1` → ... → `log.KEEP`), reopened a second after a failure.
//! The file sink writes prediction lines here; the Elasticsearch sink
//! writes the lines it could not deliver to its dead letter the same way.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::Sink;

/// An append-only file rotated past `max_bytes`, keeping `keep` old files.
#[derive(Debug)]
pub struct Rotating {
    path: PathBuf,
    max_bytes: u64,
    keep: u32,
    file: Option<BufWriter<File>>,
    size: u64,
    /// Lines in the buffer, not yet known to be on disk.
    unflushed: u64,
    next_try: Instant,
}

/// `path.i`.
#[must_use]
pub fn numbered(path: &Path, i: u32) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(format!(".{i}"));
    PathBuf::from(s)
}

impl Rotating {
    /// A file at `path` (opened at the first line; its folder is made).
    #[must_use]
    pub fn new(path: PathBuf, max_bytes: u64, keep: u32) -> Rotating {
        Rotating {
            path,
            max_bytes,
            keep,
            file: None,
            size: 0,
            unflushed: 0,
            next_try: Instant::now(),
        }
    }

    fn open(&mut self) -> bool {
        if self.file.is_some() {
            return true;
        }
        let now = Instant::now();
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

    /// Lines lost with the buffer when the file fails.
    fn fail(&mut self) -> u64 {
        self.file = None;
        self.next_try = Instant::now() + Duration::from_secs(1);
        std::mem::take(&mut self.unflushed)
    }

    /// Append one line (ending in a newline); returns the lines lost: 0, or
    /// this one and those still in the buffer when the file fails.
    pub fn write(&mut self, line: &[u8]) -> u64 {
        if self.size > 0 && self.size + line.len() as u64 > self.max_bytes {
            let lost = self.rotate();
            if lost > 0 {
                return lost + 1;
            }
        }
        if !self.open() {
            return 1;
        }
        let ok = self
            .file
            .as_mut()
            .is_some_and(|f| f.write_all(line).is_ok());
        if ok {
            self.size += line.len() as u64;
            self.unflushed += 1;
            0
        } else {
            self.fail() + 1
        }
    }

    /// Push the buffer to the file; returns the lines lost when that fails.
    pub fn flush(&mut self) -> u64 {
        match self.file.as_mut().map(BufWriter::flush) {
            Some(Err(_)) => self.fail(),
            _ => {
                self.unflushed = 0;
                0
            }
        }
    }

    fn rotate(&mut self) -> u64 {
        let lost = self.flush();
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
        lost
    }
}

/// The file sink: every line to a [`Rotating`] file; lost lines counted.
#[derive(Debug)]
pub struct FileSink {
    /// The file.
    pub file: Rotating,
    /// `mlops_prediction_log_dropped_lines_total{sink="file"}`.
    pub dropped: Arc<AtomicU64>,
}

impl Sink for FileSink {
    fn write(&mut self, _id: &str, line: Vec<u8>) {
        let lost = self.file.write(&line);
        self.dropped.fetch_add(lost, Ordering::Relaxed);
    }

    fn flush(&mut self) {
        let lost = self.file.flush();
        self.dropped.fetch_add(lost, Ordering::Relaxed);
    }

    fn close(&mut self) {
        self.flush();
    }
}
