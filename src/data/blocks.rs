//! Reading a CSV input in blocks cut at record boundaries, with exact file
//! lines, in memory bounded by the block size whatever the input's size.

use std::io::Read;

use super::cut::Scanner;
use super::header::read_header;
use super::records::{count_newlines, csv_reader};
use crate::error::{Error, Result, io_reason};

/// Block size of the streaming reader.
pub const STREAM_BLOCK: usize = 8 << 20;

/// The largest single read of the streaming reader: small enough for the
/// bytes to be hashed while they are still in the core's cache.
const READ_PIECE: usize = 1 << 20;

/// The longest record the streaming reader holds (a record longer than
/// this is an error naming its line: usually an unbalanced quote).
pub const MAX_RECORD: usize = 64 << 20;

/// A CSV input read in blocks cut at record boundaries, with exact file
/// lines: memory stays bounded by the block size (and
/// the longest record, at most [`MAX_RECORD`]), whatever the input's size.
/// Record ends are found with the `csv` crate's grammar ([`Scanner`]),
/// each byte scanned once.
pub struct BlockReader<R> {
    input: R,
    origin: String,
    /// The bytes read and not handed out yet are `buf[..len]`; the rest of
    /// `buf` is initialised space the next reads fill (no zeroing per block).
    buf: Vec<u8>,
    len: usize,
    block: usize,
    more: bool,
    line: u64,
    consumed: u64,
    /// The scanner's state at `buf[scanned]`.
    scanner: Scanner,
    /// How much of `buf` was scanned.
    scanned: usize,
    /// The last record end in `buf[..scanned]`.
    last_end: Option<usize>,
    max_record: usize,
}

impl<R: Read> BlockReader<R> {
    /// Start reading `input` (named `origin` in errors); returns the reader
    /// and the checked header row.
    pub fn open(input: R, origin: &str, block: usize) -> Result<(BlockReader<R>, Vec<String>)> {
        let mut r = BlockReader {
            input,
            origin: origin.to_string(),
            buf: Vec::with_capacity(block * 2),
            len: 0,
            block,
            more: true,
            line: 1,
            consumed: 0,
            scanner: Scanner::default(),
            scanned: 0,
            last_end: None,
            max_record: MAX_RECORD,
        };
        r.fill()?;
        // The header must fit in the first blocks.
        while r.more && r.scan().is_none() {
            r.check_record_length()?;
            r.fill()?;
        }
        let mut rdr = csv_reader(&r.buf[..r.len]);
        let header = read_header(&mut rdr, origin)?;
        let mut end = usize::try_from(rdr.position().byte()).unwrap_or(r.len);
        if r.buf[..r.len].get(end) == Some(&b'\n') {
            end += 1;
        }
        let end = end.min(r.len);
        r.line += count_newlines(&r.buf[..end]);
        r.consumed = end as u64;
        r.drop_front(end);
        r.reset_scan();
        Ok((r, header))
    }

    /// Cap records at `bytes` instead of [`MAX_RECORD`].
    #[must_use]
    pub fn with_max_record(mut self, bytes: usize) -> Self {
        self.max_record = bytes;
        self
    }

    /// Scan the bytes of `buf` not scanned yet: the last record end in it.
    fn scan(&mut self) -> Option<usize> {
        if let Some(e) = self.scanner.scan(&self.buf[self.scanned..self.len]) {
            self.last_end = Some(self.scanned + e);
        }
        self.scanned = self.len;
        self.last_end
    }

    /// Start scanning afresh: `buf` now starts at a record boundary.
    fn reset_scan(&mut self) {
        self.scanner = Scanner::default();
        self.scanned = 0;
        self.last_end = None;
    }

    /// `buf` was cut at `cut` (a record end): keep the scan of what is left.
    fn after_cut(&mut self, cut: usize) {
        if self.last_end == Some(cut) && self.scanned >= cut {
            self.scanned -= cut;
            self.last_end = None;
        } else {
            self.reset_scan();
        }
    }

    /// The error of a record that outgrew the cap without ending.
    fn check_record_length(&self) -> Result<()> {
        if self.len <= self.max_record {
            return Ok(());
        }
        let hint = if self.scanner.in_quotes() {
            "a quoted field that never closes: check for an unbalanced quote"
        } else {
            "check that the file is CSV with newline-separated records"
        };
        Err(Error::data(format!(
            "{}: line {}: a record longer than {} MiB; {hint}",
            self.origin,
            self.line,
            self.max_record >> 20
        )))
    }

    /// Drop the first `n` bytes read (handed out).
    fn drop_front(&mut self, n: usize) {
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
    }

    /// Read one more block, in reads of at most [`READ_PIECE`] bytes (each
    /// hashed by the input while it is still in cache); `more` turns false
    /// at the end of the input.
    fn fill(&mut self) -> Result<()> {
        let end = self.len + self.block;
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        let mut filled = self.len;
        while filled < end {
            let piece = (filled + READ_PIECE).min(end);
            match self.input.read(&mut self.buf[filled..piece]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(Error::data(format!(
                        "{}: cannot read: {}",
                        self.origin,
                        io_reason(&e)
                    )));
                }
            }
        }
        self.more = filled == end;
        self.len = filled;
        Ok(())
    }

    /// The end of the next chunk of whole records in `buf`, reading more
    /// until one is there (all of `buf` at the end of the input).
    fn next_cut(&mut self) -> Result<usize> {
        loop {
            if !self.more {
                return Ok(self.len);
            }
            if let Some(c) = self.scan() {
                return Ok(c);
            }
            self.check_record_length()?;
            self.fill()?;
        }
    }

    /// Call `f(chunk, first_line)` for consecutive chunks of whole records
    /// until the input ends; `progress` gets the bytes consumed so far.
    pub fn for_each_chunk(
        &mut self,
        f: &mut dyn FnMut(&[u8], u64) -> Result<()>,
        progress: &dyn Fn(u64),
    ) -> Result<()> {
        loop {
            let cut = self.next_cut()?;
            let chunk = &self.buf[..cut];
            f(chunk, self.line)?;
            self.line += count_newlines(chunk);
            self.consumed += cut as u64;
            progress(self.consumed);
            self.drop_front(cut);
            self.after_cut(cut);
            if !self.more {
                return Ok(());
            }
            self.fill()?;
        }
    }

    /// [`BlockReader::for_each_chunk`] with each chunk handed over as an
    /// owned buffer (no copy): the partial record after it moves to a
    /// buffer from `spare` (one given back by the consumer, else new).
    pub fn for_each_owned_chunk(
        &mut self,
        f: &mut dyn FnMut(Vec<u8>, u64) -> Result<()>,
        spare: &dyn Fn() -> Option<Vec<u8>>,
        progress: &dyn Fn(u64),
    ) -> Result<()> {
        loop {
            let cut = self.next_cut()?;
            // The partial record moves to the front of a spare buffer; what
            // it held before stays as initialised space for the next reads.
            let tail = self.len - cut;
            let mut rest = spare().unwrap_or_else(|| Vec::with_capacity(self.block * 2));
            if rest.len() < tail {
                rest.resize(tail, 0);
            }
            rest[..tail].copy_from_slice(&self.buf[cut..self.len]);
            let mut chunk = std::mem::replace(&mut self.buf, rest);
            chunk.truncate(cut);
            self.len = tail;
            self.after_cut(cut);
            let lines = count_newlines(&chunk);
            f(chunk, self.line)?;
            self.line += lines;
            self.consumed += cut as u64;
            progress(self.consumed);
            if !self.more {
                return Ok(());
            }
            self.fill()?;
        }
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        self.input
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that counts how much it has handed out.
    struct Counting<R> {
        inner: R,
        read: std::rc::Rc<std::cell::Cell<usize>>,
    }

    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read.set(self.read.get() + n);
            Ok(n)
        }
    }

    /// Security review M5.
    #[test]
    fn a_stray_quote_does_not_swallow_the_rest_of_the_input() {
        let mut data = b"a,b\n1,2\"\n".to_vec();
        for i in 0..100_000 {
            data.extend_from_slice(format!("{i},{i}\n").as_bytes());
        }
        let (mut r, header) = BlockReader::open(data.as_slice(), "t.csv", 1024).unwrap();
        assert_eq!(header, vec!["a", "b"]);
        let mut chunks = 0;
        let mut largest = 0;
        let mut rows = 0;
        r.for_each_chunk(
            &mut |c, _| {
                chunks += 1;
                largest = largest.max(c.len());
                rows += count_newlines(c);
                Ok(())
            },
            &|_| {},
        )
        .unwrap();
        assert!(chunks > 100, "{chunks} chunks");
        assert!(largest <= 2 * 1024, "a chunk of {largest} bytes");
        assert_eq!(rows, 100_001);
    }

    /// Security review M5.
    #[test]
    fn a_record_longer_than_the_cap_fails_naming_its_line_without_reading_on() {
        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        // Two good lines, then 100 MiB with no newline.
        let input = Counting {
            inner: b"a,b\n1,2\n3,".chain(std::io::repeat(b'9').take(100 << 20)),
            read: read.clone(),
        };
        let start = std::time::Instant::now();
        let (r, _) = BlockReader::open(input, "big.csv", 1 << 20).unwrap();
        let mut r = r.with_max_record(4 << 20);
        let e = r.for_each_chunk(&mut |_, _| Ok(()), &|_| {}).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("big.csv: line 3: a record longer than 4 MiB"),
            "{msg}"
        );
        assert_eq!(e.exit_code(), 3);
        assert!(read.get() < 8 << 20, "read {} bytes", read.get());
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn an_unclosed_quote_is_named_in_the_record_length_error() {
        let input = b"a,b\n\"x,".chain(std::io::repeat(b'\n').take(3 << 20));
        let (r, _) = BlockReader::open(input, "q.csv", 1 << 20).unwrap();
        let mut r = r.with_max_record(2 << 20);
        let msg = r
            .for_each_chunk(&mut |_, _| Ok(()), &|_| {})
            .unwrap_err()
            .to_string();
        assert!(msg.contains("line 2: a record longer than 2 MiB"), "{msg}");
        assert!(msg.contains("unbalanced quote"), "{msg}");
    }

    /// Security review M5.
    #[test]
    fn each_refill_scans_only_the_new_bytes() {
        // One 8 MiB quoted record: rescanned from the start after each
        // 1 KiB block, that is 8192 scans, ~34 GB; scanned once, 8 MiB.
        let mut data = b"a,b\n\"".to_vec();
        data.extend(std::iter::repeat_n(b'x', 8 << 20));
        data.extend_from_slice(b"\",1\n2,3\n");
        let start = std::time::Instant::now();
        let (mut r, _) = BlockReader::open(data.as_slice(), "t.csv", 1024).unwrap();
        let mut rows = 0;
        r.for_each_chunk(
            &mut |c, _| {
                rows += count_newlines(c);
                Ok(())
            },
            &|_| {},
        )
        .unwrap();
        assert_eq!(rows, 2);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }
}
