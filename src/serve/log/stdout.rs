//! The stdout sink: one JSON line per prediction request on standard
//! output (the server's own messages go to stderr), for platforms that
//! collect a container's output. Written through a buffer, flushed when the
//! queue is empty; a failed write counts its lines as dropped.

use std::io::{BufWriter, Stdout, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Sink;

/// Standard output, buffered.
#[derive(Debug)]
pub struct StdoutSink {
    out: BufWriter<Stdout>,
    unflushed: u64,
    dropped: Arc<AtomicU64>,
}

impl StdoutSink {
    /// Lines lost count into `dropped`.
    #[must_use]
    pub fn new(dropped: Arc<AtomicU64>) -> StdoutSink {
        StdoutSink {
            out: BufWriter::with_capacity(1 << 16, std::io::stdout()),
            unflushed: 0,
            dropped,
        }
    }
}

impl Sink for StdoutSink {
    fn write(&mut self, _id: &str, line: &[u8]) {
        if self.out.write_all(line).is_ok() {
            self.unflushed += 1;
        } else {
            let lost = std::mem::take(&mut self.unflushed) + 1;
            self.dropped.fetch_add(lost, Ordering::Relaxed);
        }
    }

    fn flush(&mut self) {
        let lost = std::mem::take(&mut self.unflushed);
        if self.out.flush().is_err() {
            self.dropped.fetch_add(lost, Ordering::Relaxed);
        }
    }

    fn close(&mut self) {
        self.flush();
    }
}
