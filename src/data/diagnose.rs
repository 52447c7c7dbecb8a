//! After a read stopped at a cell that is not a number: the file is scanned
//! once more (only then, so the fast path pays nothing) for the first ten
//! such cells of the numeric columns read, how many there are, and whether
//! the first one's column looks like an identifier (nearly every value
//! distinct), so the message can name them all and suggest what fits.

use std::collections::HashSet;

use super::cell::{is_not_a_number, parse_number};
use super::plan::{FeatureKind, Plan};
use super::records::visit_chunk;
use crate::error::{Error, Result};

/// Bad cells a message names at most.
const NAMED: usize = 10;

/// Rows whose values are counted for the identifier check.
const DISTINCT_ROWS: usize = 100_000;

/// A column is an identifier when at least this share of its (at least
/// [`ID_MIN_ROWS`]) non-empty cells are distinct and most are not numbers.
const ID_SHARE: f64 = 0.9;
const ID_MIN_ROWS: usize = 20;

/// One numeric column read: its place in a record and its name.
struct Watched<'a> {
    index: usize,
    name: &'a str,
    /// Non-empty cells and bad cells seen, the distinct values of the first
    /// [`DISTINCT_ROWS`] rows.
    cells: usize,
    bad: usize,
    distinct: HashSet<Vec<u8>>,
}

/// `err` with the bad cells of `records` (a file's records from 1-based line
/// `first_line`) added, when `err` is a cell that is not a number and the
/// scan finds it; else `err` as it is.
pub(super) fn with_bad_cells(
    err: Error,
    plan: &Plan<'_>,
    records: &[u8],
    first_line: u64,
) -> Error {
    if !is_not_a_number(&err) {
        return err;
    }
    let mut watched: Vec<Watched<'_>> = plan
        .feat_idx
        .iter()
        .zip(&plan.kinds)
        .zip(plan.feature_names)
        .filter(|((_, k), _)| **k == FeatureKind::Numeric)
        .map(|((&index, _), name)| Watched::new(index, name))
        .chain(plan.target.map(|(index, name)| Watched::new(index, name)))
        .collect();
    let mut named: Vec<String> = Vec::new();
    let mut total = 0usize;
    let mut rows = 0usize;
    let scan = visit_chunk(plan.origin, records, first_line, &mut |fields, line, _| {
        if fields.len() != plan.width {
            return Ok(());
        }
        rows += 1;
        for w in &mut watched {
            let cell = fields[w.index];
            if cell.trim_ascii().is_empty() || plan.is_na(cell) {
                continue;
            }
            w.cells += 1;
            if rows <= DISTINCT_ROWS {
                w.distinct.insert(cell.trim_ascii().to_vec());
            }
            if parse_number(cell, "", 0, "").is_err() {
                w.bad += 1;
                total += 1;
                if named.len() < NAMED {
                    let text = String::from_utf8_lossy(cell.trim_ascii());
                    named.push(format!("line {line} \"{}\" \"{text}\"", w.name));
                }
            }
        }
        Ok(())
    });
    if scan.is_err() || total < 2 && watched.iter().all(|w| !w.is_identifier(rows)) {
        return err;
    }
    let Error::Data(msg) = err else {
        return err;
    };
    let msg = match watched.iter().find(|w| w.bad > 0 && w.is_identifier(rows)) {
        Some(w) => identifier_message(&msg, w.name),
        None => msg,
    };
    let more = if total > named.len() {
        format!("the first {NAMED} of {total}")
    } else {
        format!("all {total}")
    };
    Error::Data(format!(
        "{msg} ({more} cells that are not numbers: {})",
        named.join(", ")
    ))
}

/// The message with its hint replaced by `data.exclude` for an identifier.
fn identifier_message(msg: &str, column: &str) -> String {
    let head = msg.split_once("; ").map_or(msg, |(h, _)| h);
    format!(
        "{head}; column \"{column}\" holds a different value in nearly every row, like an identifier: list it in data.exclude"
    )
}

impl<'a> Watched<'a> {
    fn new(index: usize, name: &'a str) -> Watched<'a> {
        Watched {
            index,
            name,
            cells: 0,
            bad: 0,
            distinct: HashSet::new(),
        }
    }

    /// Nearly every value distinct, and mostly not numbers.
    fn is_identifier(&self, rows: usize) -> bool {
        let counted = self.cells.min(rows.min(DISTINCT_ROWS));
        #[allow(clippy::cast_precision_loss)] // counts far below 2^53
        let share = |a: usize, b: usize| a as f64 / b.max(1) as f64;
        counted >= ID_MIN_ROWS
            && share(self.distinct.len(), counted) >= ID_SHARE
            && share(self.bad, self.cells) > 0.5
    }
}

/// Scan `records` again when `res` failed on a cell that is not a number.
pub(super) fn explain<T>(
    res: Result<T>,
    plan: &Plan<'_>,
    records: &[u8],
    first_line: u64,
) -> Result<T> {
    res.map_err(|e| with_bad_cells(e, plan, records, first_line))
}
