//! The JSON Lines file: appended through a buffer, rotated by size
//! (`log` → `log.1` → ... → `log.KEEP`), reopened a second after a failure.
//! The file sink writes prediction lines here; the Elasticsearch sink
//! writes the lines it could not deliver to its dead letter the same way.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::Sink;

/// Most rotated files kept (`log_keep`): each rotation renames them all.
pub const MAX_KEEP: u32 = crate::project::MAX_LOG_KEEP;

/// Bytes buffered before they are written.
const BUFFER: usize = 1 << 16;

/// Where the lines are written: a file that can be cut back to a length.
pub trait LineFile: Write + Send {
    /// Cut the file back to `len` bytes (the end of its last whole line).
    ///
    /// # Errors
    /// The file cannot be truncated.
    fn truncate(&mut self, len: u64) -> std::io::Result<()>;
}

impl LineFile for File {
    fn truncate(&mut self, len: u64) -> std::io::Result<()> {
        self.set_len(len)
    }
}

/// Lines waiting to be written, and where each ends.
#[derive(Debug, Default)]
struct Pending {
    bytes: Vec<u8>,
    /// The end offset in `bytes` of each line.
    ends: Vec<usize>,
}

/// What writing the pending lines did.
#[derive(Debug, PartialEq, Eq)]
struct Written {
    /// Bytes of whole lines now in the file.
    bytes: u64,
    /// Lines lost (0 when all were written).
    lost: u64,
    /// The file failed; it ends at a whole line, or is cut back to one
    /// when it is opened again.
    failed: bool,
}

impl Pending {
    /// Write every pending line to `f`, whose length is `len`. A write
    /// that stops mid-line (a full disk) cuts the file back to the end of
    /// the last whole line, so the file never holds half a line; the lines
    /// not written whole are counted as lost.
    fn write_to(&mut self, f: &mut dyn LineFile, len: u64) -> Written {
        let mut done = 0usize;
        let mut error = false;
        while done < self.bytes.len() {
            match f.write(&self.bytes[done..]) {
                Ok(0) => {
                    error = true;
                    break;
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    error = true;
                    break;
                }
            }
        }
        if !error {
            error = f.flush().is_err();
        }
        let whole = self.ends.iter().take_while(|&&e| e <= done).count();
        let kept = if whole == 0 { 0 } else { self.ends[whole - 1] };
        if error && done > kept {
            // When even this fails, reopening cuts the file back.
            let _ = f.truncate(len + kept as u64);
        }
        let lost = if error {
            (self.ends.len() - whole) as u64
        } else {
            0
        };
        self.bytes.clear();
        self.ends.clear();
        Written {
            bytes: kept as u64,
            lost,
            failed: error,
        }
    }
}

/// Cut a file back to the end of its last whole line (after a crash or a
/// full disk left half a line); returns its new length.
fn trim_partial_line(f: &mut File) -> std::io::Result<u64> {
    let len = f.metadata()?.len();
    let mut end = len;
    let mut chunk = vec![0u8; 1 << 16];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let n = usize::try_from(end - start).unwrap_or(chunk.len());
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(&mut chunk[..n])?;
        if let Some(i) = chunk[..n].iter().rposition(|&b| b == b'\n') {
            end = start + i as u64 + 1;
            break;
        }
        end = start;
    }
    if end != len {
        f.set_len(end)?;
    }
    Ok(end)
}

/// Open (or create, mode 0600: lines hold user keys) the log file for
/// appending, cut back to its last whole line.
fn open_log(path: &Path) -> std::io::Result<(File, u64)> {
    let mut o = OpenOptions::new();
    o.create(true).read(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(path)?;
    let len = trim_partial_line(&mut f)?;
    Ok((f, len))
}

/// An append-only file rotated past `max_bytes`, keeping `keep` old files.
/// The file only ever holds whole lines, even when the disk fills up.
pub struct Rotating {
    path: PathBuf,
    max_bytes: u64,
    keep: u32,
    file: Option<Box<dyn LineFile>>,
    /// Whole lines in the file, in bytes.
    size: u64,
    pending: Pending,
    next_try: Instant,
    /// Opens the file (tests give a failing one).
    opener: Opener,
}

impl std::fmt::Debug for Rotating {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rotating")
            .field("path", &self.path)
            .field("max_bytes", &self.max_bytes)
            .field("keep", &self.keep)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// Opens the file at a path: the file and its length in whole lines.
type Opener = Box<dyn FnMut(&Path) -> std::io::Result<(Box<dyn LineFile>, u64)> + Send>;

fn open_file(path: &Path) -> std::io::Result<(Box<dyn LineFile>, u64)> {
    open_log(path).map(|(f, len)| (Box::new(f) as Box<dyn LineFile>, len))
}

/// `path.i`.
#[must_use]
pub fn numbered(path: &Path, i: u32) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(format!(".{i}"));
    PathBuf::from(s)
}

impl Rotating {
    /// A file at `path` (opened at the first line; its folder is made);
    /// `keep` is capped at [`MAX_KEEP`].
    #[must_use]
    pub fn new(path: PathBuf, max_bytes: u64, keep: u32) -> Rotating {
        Rotating {
            path,
            max_bytes,
            keep: keep.min(MAX_KEEP),
            file: None,
            size: 0,
            pending: Pending::default(),
            next_try: Instant::now(),
            opener: Box::new(open_file),
        }
    }

    /// The same, with files opened by `opener`.
    #[cfg(test)]
    fn with_opener(path: PathBuf, max_bytes: u64, keep: u32, opener: Opener) -> Rotating {
        Rotating {
            opener,
            ..Rotating::new(path, max_bytes, keep)
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
        match (self.opener)(&self.path) {
            Ok((f, len)) => {
                self.size = len;
                self.file = Some(f);
                true
            }
            Err(_) => {
                self.next_try = now + Duration::from_secs(1);
                false
            }
        }
    }

    /// Append one line (ending in a newline); returns the lines lost: 0, or
    /// this one, or those of the buffer not written whole when the file
    /// fails.
    pub fn write(&mut self, line: &[u8]) -> u64 {
        let queued = self.size + self.pending.bytes.len() as u64;
        if queued > 0 && queued + line.len() as u64 > self.max_bytes {
            let lost = self.rotate();
            if lost > 0 {
                return lost + 1;
            }
        }
        if !self.open() {
            return 1;
        }
        let mut lost = 0;
        if !self.pending.bytes.is_empty() && self.pending.bytes.len() + line.len() > BUFFER {
            lost = self.flush();
            if self.file.is_none() {
                return lost + 1;
            }
        }
        self.pending.bytes.extend_from_slice(line);
        self.pending.ends.push(self.pending.bytes.len());
        lost
    }

    /// Write the buffer to the file; returns the lines lost when that fails.
    pub fn flush(&mut self) -> u64 {
        let Some(f) = self.file.as_mut() else {
            let lost = self.pending.ends.len() as u64;
            self.pending = Pending::default();
            return lost;
        };
        let w = self.pending.write_to(&mut **f, self.size);
        self.size += w.bytes;
        if w.failed {
            // Reopened a second later, cut back to its last whole line.
            self.file = None;
            self.next_try = Instant::now() + Duration::from_secs(1);
        }
        w.lost
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
    fn write(&mut self, _id: &str, line: &[u8]) {
        let lost = self.file.write(line);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A disk with room for `room` bytes: writes past it fail with ENOSPC
    /// after writing what fits (like `/dev/full` once the room is used).
    struct Full {
        data: Arc<Mutex<Vec<u8>>>,
        room: usize,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut d = self.data.lock().unwrap();
            let free = self.room.saturating_sub(d.len());
            if free == 0 {
                return Err(std::io::Error::from(ErrorKind::StorageFull));
            }
            let n = free.min(buf.len());
            d.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl LineFile for Full {
        fn truncate(&mut self, len: u64) -> std::io::Result<()> {
            self.data
                .lock()
                .unwrap()
                .truncate(usize::try_from(len).unwrap());
            Ok(())
        }
    }

    fn line(i: usize) -> Vec<u8> {
        // Lines of different lengths, so the disk fills mid-line.
        let mut v =
            serde_json::to_vec(&serde_json::json!({"i": i, "pad": "x".repeat(i % 37)})).unwrap();
        v.push(b'\n');
        v
    }

    /// Lines sent, and the log over a disk with `room` bytes.
    fn full_disk(room: usize, lines: usize, flush_every: usize) -> (Vec<u8>, u64) {
        let data = Arc::new(Mutex::new(Vec::new()));
        let d = Arc::clone(&data);
        let mut r = Rotating::with_opener(
            PathBuf::from("p.jsonl"),
            1 << 30,
            1,
            Box::new(move |_: &Path| {
                let len = d.lock().unwrap().len() as u64;
                let f: Box<dyn LineFile> = Box::new(Full {
                    data: Arc::clone(&d),
                    room,
                });
                Ok((f, len))
            }),
        );
        let mut lost = 0;
        for i in 0..lines {
            lost += r.write(&line(i));
            if i % flush_every == flush_every - 1 {
                lost += r.flush();
            }
        }
        lost += r.flush();
        let bytes = data.lock().unwrap().clone();
        (bytes, lost)
    }

    #[test]
    fn a_full_disk_never_leaves_half_a_line_and_every_lost_line_is_counted() {
        for (room, lines, every) in [
            (1000, 200, 1),
            (1000, 200, 7),
            (4096, 5000, 5000),
            (4096, 5000, 3),
            (70_000, 3000, 3000),
            (0, 10, 2),
        ] {
            let (bytes, lost) = full_disk(room, lines, every);
            assert!(bytes.is_empty() || bytes.ends_with(b"\n"), "room {room}");
            let text = String::from_utf8(bytes).unwrap();
            let kept: Vec<usize> = text
                .lines()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    usize::try_from(v["i"].as_u64().unwrap()).unwrap()
                })
                .collect();
            // The lines kept are the first ones, in order, each once.
            assert_eq!(kept, (0..kept.len()).collect::<Vec<_>>(), "room {room}");
            assert_eq!(kept.len() as u64 + lost, lines as u64, "room {room}");
            assert!(lost > 0 && text.len() <= room, "room {room}");
        }
    }

    #[test]
    fn the_file_is_private_and_a_torn_last_line_is_cut_off_when_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.jsonl");
        std::fs::write(&path, b"{\"a\":1}\n{\"a\":2}\n{\"a\":").unwrap();
        let mut r = Rotating::new(path.clone(), 1 << 20, 2);
        assert_eq!(r.write(b"{\"a\":3}\n"), 0);
        assert_eq!(r.flush(), 0);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n"
        );
        // A file without any newline is all half a line.
        let other = dir.path().join("q.jsonl");
        std::fs::write(&other, "x".repeat(200_000)).unwrap();
        let mut q = Rotating::new(other.clone(), 1 << 20, 0);
        assert_eq!(q.write(b"{}\n"), 0);
        assert_eq!(q.flush(), 0);
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "{}\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let fresh = dir.path().join("new.jsonl");
            let mut n = Rotating::new(fresh.clone(), 1 << 20, 2);
            n.write(b"{}\n");
            n.flush();
            let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(Rotating::new(path, 1, u32::MAX).keep, MAX_KEEP);
    }
}
