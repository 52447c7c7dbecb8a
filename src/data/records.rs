//! The general CSV record parser: the one CSV dialect `mlops` reads, cut
//! into records and fields with exact 1-based file lines (a fast scan when a
//! chunk has no quotes, the csv crate otherwise).

use std::io::Read;

use crate::error::{Error, Result, io_reason};

/// A CSV reader configured the one way `mlops` reads CSV.
pub fn csv_reader<R: Read>(r: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(r)
}

/// Turn a csv-crate error into a data error.
#[must_use]
pub fn csv_error(origin: &str, e: &csv::Error) -> Error {
    csv_error_at(origin, e, 0)
}

/// [`csv_error`] for a reader that started `offset` lines into the file.
fn csv_error_at(origin: &str, e: &csv::Error, offset: u64) -> Error {
    let line = e.position().map(|p| p.line() + offset);
    let loc = line.map_or_else(|| origin.to_string(), |l| format!("{origin}:{l}"));
    match e.kind() {
        csv::ErrorKind::Io(io) => Error::data(format!("{loc}: cannot read: {}", io_reason(io))),
        _ => Error::data(format!("{loc}: malformed CSV: {e}")),
    }
}

/// What [`visit_chunk`] calls for each record: (fields, file line, end offset).
pub type RecordVisitor<'a> = dyn FnMut(&[&[u8]], u64, usize) -> Result<()> + 'a;

/// Visit the records of `chunk`, whose first byte is on file line
/// `first_line`: `visit(fields, line, end)` gets each record's fields, its
/// 1-based file line and the offset just past it. Blank lines are skipped.
///
/// Line numbers are exact: they count the newlines before each record's
/// first byte (the csv crate's own count is one short after CRLF
/// terminators and blank lines). A chunk without a single quote character
/// takes a fast path: a record is then a line (LF or CRLF) and a field what
/// lies between commas, exactly as RFC 4180 reads it.
pub fn visit_chunk(
    origin: &str,
    chunk: &[u8],
    first_line: u64,
    visit: &mut RecordVisitor<'_>,
) -> Result<()> {
    if !chunk.contains(&b'"') {
        let mut fields: Vec<&[u8]> = Vec::new();
        let mut line = first_line;
        let mut start = 0usize; // start of the current field
        // One SIMD scan finds every comma and newline.
        for pos in memchr::memchr2_iter(b',', b'\n', chunk).chain(std::iter::once(chunk.len())) {
            let end_of_line = pos == chunk.len() || chunk[pos] == b'\n';
            let mut field = &chunk[start..pos];
            if end_of_line {
                field = field.strip_suffix(b"\r").unwrap_or(field);
            }
            fields.push(field);
            start = pos + 1;
            if end_of_line {
                if !(fields.len() == 1 && fields[0].trim_ascii().is_empty()) {
                    visit(&fields, line, start.min(chunk.len()))?;
                }
                fields.clear();
                line += 1;
            }
        }
        return Ok(());
    }
    let mut rdr = csv_reader(chunk);
    let mut rec = csv::ByteRecord::new();
    let (mut line, mut last_start) = (first_line, 0usize);
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(csv_error_at(origin, &e, first_line.saturating_sub(1)));
            }
        }
        // The record's first byte: the reported position may sit on the line
        // terminator (or blank lines) before it.
        let byte = rec.position().map_or(0, csv::Position::byte);
        let mut at = usize::try_from(byte)
            .unwrap_or(chunk.len())
            .min(chunk.len());
        while at < chunk.len() && matches!(chunk[at], b'\r' | b'\n') {
            at += 1;
        }
        line += count_newlines(&chunk[last_start.min(at)..at]);
        last_start = at;
        if rec.len() == 1 && rec[0].trim_ascii().is_empty() {
            continue;
        }
        let fields: Vec<&[u8]> = rec.iter().collect();
        let end = usize::try_from(rdr.position().byte()).unwrap_or(chunk.len());
        visit(&fields, line, end)?;
    }
    Ok(())
}

/// The number of newlines in `b`.
pub(super) fn count_newlines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}
