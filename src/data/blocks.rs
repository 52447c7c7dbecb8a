//! Reading a CSV input in blocks cut at record boundaries, with exact file
//! lines, in memory bounded by the block size whatever the input's size.

use std::io::Read;

use super::header::read_header;
use super::records::{count_newlines, csv_reader};
use crate::error::{Error, Result, io_reason};

/// Block size of the streaming reader.
pub const STREAM_BLOCK: usize = 8 << 20;

/// The last newline of `buf` outside quoted fields, given that `buf` starts
/// at a record boundary; `None` when there is none.
fn last_record_end(buf: &[u8]) -> Option<usize> {
    let mut quotes = 0usize;
    let mut last = None;
    for pos in memchr::memchr2_iter(b'"', b'\n', buf) {
        if buf[pos] == b'"' {
            quotes += 1;
        } else if quotes.is_multiple_of(2) {
            last = Some(pos + 1);
        }
    }
    last
}

/// A CSV input read in blocks cut at record boundaries, with exact file
/// lines: memory stays bounded by the block size (and
/// the longest record), whatever the input's size.
pub struct BlockReader<R> {
    input: R,
    origin: String,
    buf: Vec<u8>,
    block: usize,
    more: bool,
    line: u64,
    consumed: u64,
}

impl<R: Read> BlockReader<R> {
    /// Start reading `input` (named `origin` in errors); returns the reader
    /// and the checked header row.
    pub fn open(input: R, origin: &str, block: usize) -> Result<(BlockReader<R>, Vec<String>)> {
        let mut r = BlockReader {
            input,
            origin: origin.to_string(),
            buf: Vec::with_capacity(block * 2),
            block,
            more: true,
            line: 1,
            consumed: 0,
        };
        r.fill()?;
        // The header must fit in the first blocks.
        while r.more && last_record_end(&r.buf).is_none() {
            r.fill()?;
        }
        let mut rdr = csv_reader(r.buf.as_slice());
        let header = read_header(&mut rdr, origin)?;
        let mut end = usize::try_from(rdr.position().byte()).unwrap_or(r.buf.len());
        if r.buf.get(end) == Some(&b'\n') {
            end += 1;
        }
        let end = end.min(r.buf.len());
        r.line += count_newlines(&r.buf[..end]);
        r.consumed = end as u64;
        r.buf.drain(..end);
        Ok((r, header))
    }

    /// Read one more block; `more` turns false at the end of the input.
    fn fill(&mut self) -> Result<()> {
        let start = self.buf.len();
        self.buf.resize(start + self.block, 0);
        let mut filled = start;
        while filled < self.buf.len() {
            match self.input.read(&mut self.buf[filled..]) {
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
        self.more = filled == self.buf.len();
        self.buf.truncate(filled);
        Ok(())
    }

    /// The end of the next chunk of whole records in `buf`, reading more
    /// until one is there (all of `buf` at the end of the input).
    fn next_cut(&mut self) -> Result<usize> {
        loop {
            if !self.more {
                return Ok(self.buf.len());
            }
            if let Some(c) = last_record_end(&self.buf) {
                return Ok(c);
            }
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
            self.buf.drain(..cut);
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
            let mut rest = spare().unwrap_or_else(|| Vec::with_capacity(self.block * 2));
            rest.clear();
            rest.extend_from_slice(&self.buf[cut..]);
            let mut chunk = std::mem::replace(&mut self.buf, rest);
            chunk.truncate(cut);
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
