//! Tabular data: CSV → typed columns, with errors that name file, line,
//! column and value; the deterministic split; the fingerprint.
//!
//! A cell is *missing* when it is empty or only whitespace. Missing numeric
//! cells are held as `NaN` internally: a literal `NaN`/`inf` in the file is a
//! data error, so the marker is unambiguous.

mod fast;
pub mod spill;
pub mod split;

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result, display_path, io_reason};
use crate::project::MissingPolicy;
use crate::report::Progress;

/// Code of a missing categorical cell.
pub const MISSING_LEVEL: u32 = u32::MAX;

/// How a feature column is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureKind {
    /// A number per cell.
    Numeric,
    /// A level (string) per cell.
    Categorical,
}

/// Which columns to read, in the terms of `[data]`.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The target column (none when predicting).
    pub target: Option<String>,
    /// Explicit feature list, or `None` for "every other column".
    pub features: Option<Vec<String>>,
    /// Columns never used as features.
    pub exclude: Vec<String>,
    /// Categorical feature columns.
    pub categorical: Vec<String>,
    /// Missing-value policy: `Error` fails while reading.
    pub missing: MissingPolicy,
}

/// One feature column.
#[derive(Debug, Clone)]
pub enum Column {
    /// Numbers; `NaN` marks a missing cell.
    Numeric(Vec<f64>),
    /// Level codes into `levels`; [`MISSING_LEVEL`] marks a missing cell.
    Categorical {
        /// Per-row level code.
        codes: Vec<u32>,
        /// Levels in first-seen order.
        levels: Vec<String>,
    },
}

impl Column {
    /// Whether row `i` is missing.
    #[must_use]
    pub fn is_missing(&self, i: usize) -> bool {
        match self {
            Column::Numeric(v) => v[i].is_nan(),
            Column::Categorical { codes, .. } => codes[i] == MISSING_LEVEL,
        }
    }
}

/// A loaded table: the selected feature columns and the target.
#[derive(Debug, Clone)]
pub struct Table {
    /// The file, as shown in messages.
    pub origin: String,
    /// Feature names, in model order.
    pub feature_names: Vec<String>,
    /// Feature columns, parallel to `feature_names`.
    pub features: Vec<Column>,
    /// Target values (`NaN` = missing); empty when no target was asked for.
    pub target: Vec<f64>,
    /// The 1-based file line of each row.
    pub lines: Vec<u64>,
    /// Where rows come from when the table spans several files: (first
    /// row, file as shown in messages), in row order; empty for one file.
    pub sources: Vec<(usize, String)>,
}

impl Table {
    /// Append the rows of `other` (same columns), mapping its level codes
    /// onto ours.
    pub fn append(&mut self, other: Table) {
        self.target.extend_from_slice(&other.target);
        self.lines.extend_from_slice(&other.lines);
        for (mine, theirs) in self.features.iter_mut().zip(other.features) {
            match (mine, theirs) {
                (Column::Numeric(a), Column::Numeric(b)) => a.extend_from_slice(&b),
                (
                    Column::Categorical { codes, levels },
                    Column::Categorical {
                        codes: bcodes,
                        levels: blevels,
                    },
                ) => {
                    let index: HashMap<&str, u32> = levels
                        .iter()
                        .enumerate()
                        .map(|(i, l)| (l.as_str(), u32::try_from(i).unwrap_or(MISSING_LEVEL - 1)))
                        .collect();
                    let mut added: Vec<String> = Vec::new();
                    let base = levels.len();
                    let remap: Vec<u32> = blevels
                        .into_iter()
                        .map(|l| {
                            if let Some(&c) = index.get(l.as_str()) {
                                c
                            } else if let Some(k) = added.iter().position(|a| *a == l) {
                                u32::try_from(base + k).unwrap_or(MISSING_LEVEL - 1)
                            } else {
                                added.push(l);
                                u32::try_from(base + added.len() - 1).unwrap_or(MISSING_LEVEL - 1)
                            }
                        })
                        .collect();
                    levels.extend(added);
                    codes.extend(bcodes.into_iter().map(|c| {
                        if c == MISSING_LEVEL {
                            c
                        } else {
                            remap[c as usize]
                        }
                    }));
                }
                _ => {}
            }
        }
    }

    /// The file row `i` was read from, as shown in messages.
    #[must_use]
    pub fn origin_of(&self, i: usize) -> &str {
        match self.sources.partition_point(|(first, _)| *first <= i) {
            0 => &self.origin,
            k => &self.sources[k - 1].1,
        }
    }

    /// Number of rows.
    #[must_use]
    pub fn rows(&self) -> usize {
        self.lines.len()
    }
}

/// Parse one numeric cell: `Ok(None)` when missing.
///
/// `origin`, `line` and `column` only feed the error message.
#[inline]
pub fn parse_number(cell: &[u8], origin: &str, line: u64, column: &str) -> Result<Option<f64>> {
    // The common case stays small enough to inline; the general parser and
    // the messages (a large stack frame) live out of line.
    if let Some(v) = parse_short_decimal(cell) {
        return Ok(Some(v));
    }
    parse_number_general(cell, origin, line, column)
}

#[cold]
#[inline(never)]
fn parse_number_general(cell: &[u8], origin: &str, line: u64, column: &str) -> Result<Option<f64>> {
    let t = cell.trim_ascii();
    if t.is_empty() {
        return Ok(None);
    }
    if let Some(v) = parse_short_decimal(t) {
        return Ok(Some(v));
    }
    if let Ok(v) = fast_float2::parse::<f64, _>(t)
        && v.is_finite()
    {
        return Ok(Some(v));
    }
    // The slow path: the exact message, or a form only `str::parse` accepts.
    let Ok(s) = std::str::from_utf8(t) else {
        return Err(Error::data(format!(
            "{origin}:{line}: column \"{column}\": the cell holds bytes that are not valid UTF-8; save the file as UTF-8"
        )));
    };
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        Ok(_) => Err(Error::data(format!(
            "{origin}:{line}: column \"{column}\": \"{s}\" is not a finite number; remove or fix the row"
        ))),
        Err(_) => Err(Error::data(format!(
            "{origin}:{line}: column \"{column}\": \"{s}\" is not a number; fix the cell, or list the column in data.categorical"
        ))),
    }
}

/// Exact powers of ten representable in an `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The common case of a number cell, without a general parser: at most 15
/// digits and a decimal exponent within ±22. Then the digits form an exact
/// integer `m < 2^53` and `10^|e|` is exact, so `m * 10^e` (or `m / 10^-e`)
/// is one correctly rounded IEEE operation: Clinger's fast path (W. D.
/// Clinger, "How to read floating point numbers accurately", PLDI 1990), the
/// same first step fast_float and Rust's own parser take. Anything else
/// returns `None` for the general parser.
#[inline]
fn parse_short_decimal(b: &[u8]) -> Option<f64> {
    let (neg, mut i) = match b.first()? {
        b'-' => (true, 1),
        b'+' => (false, 1),
        _ => (false, 0),
    };
    let mut mant: u64 = 0;
    let mut digits = 0u32;
    let mut exp: i32 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        mant = mant * 10 + u64::from(b[i] - b'0');
        digits += 1;
        i += 1;
        if digits > 15 {
            return None;
        }
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        // Eight fraction digits at a time while they fit in 15.
        while digits <= 7
            && let Some(eight) = eight_digits(b, i)
        {
            mant = mant * 100_000_000 + eight;
            digits += 8;
            exp -= 8;
            i += 8;
        }
        while i < b.len() && b[i].is_ascii_digit() {
            mant = mant * 10 + u64::from(b[i] - b'0');
            digits += 1;
            exp -= 1;
            i += 1;
            if digits > 15 {
                return None;
            }
        }
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        let eneg = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut e: i32 = 0;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 4 {
            e = e * 10 + i32::from(b[i] - b'0');
            i += 1;
        }
        if i == start {
            return None;
        }
        exp += if eneg { -e } else { e };
    }
    if i != b.len() || !(-22..=22).contains(&exp) {
        return None;
    }
    #[allow(clippy::cast_precision_loss)] // mant < 10^15 < 2^53: exact
    let m = mant as f64;
    let v = if exp >= 0 {
        m * POW10[exp.unsigned_abs() as usize]
    } else {
        m / POW10[exp.unsigned_abs() as usize]
    };
    Some(if neg { -v } else { v })
}

/// The value of the eight ASCII digits at `b[i..i + 8]`, if they all are
/// digits: one 64-bit load, a check of all eight bytes at once, and three
/// multiplications that combine digit pairs, then pairs of pairs, then the
/// two halves (the SWAR method of simdjson and fast_float).
#[inline]
fn eight_digits(b: &[u8], i: usize) -> Option<u64> {
    let bytes: [u8; 8] = b.get(i..i + 8)?.try_into().ok()?;
    let d = fast::unzero(u64::from_le_bytes(bytes));
    (fast::digit_run(d) == 8).then(|| fast::value_of_eight(d))
}

/// Parse one categorical cell: `Ok(None)` when missing.
pub fn parse_level<'a>(
    cell: &'a [u8],
    origin: &str,
    line: u64,
    column: &str,
) -> Result<Option<&'a str>> {
    let Ok(s) = std::str::from_utf8(cell) else {
        return Err(Error::data(format!(
            "{origin}:{line}: column \"{column}\": the cell holds bytes that are not valid UTF-8; save the file as UTF-8"
        )));
    };
    let s = s.trim();
    Ok(if s.is_empty() { None } else { Some(s) })
}

/// A missing-cell error under `missing = "error"`.
#[must_use]
pub fn missing_error(origin: &str, line: u64, column: &str) -> Error {
    Error::data(format!(
        "{origin}:{line}: column \"{column}\" is empty; fill it, or set data.missing = \"drop-row\" or \"mean\""
    ))
}

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

/// Read and check the header row: names in order, no duplicates.
pub fn read_header<R: Read>(rdr: &mut csv::Reader<R>, origin: &str) -> Result<Vec<String>> {
    let mut rec = csv::ByteRecord::new();
    let got = rdr
        .read_byte_record(&mut rec)
        .map_err(|e| csv_error(origin, &e))?;
    if !got || (rec.len() == 1 && rec[0].trim_ascii().is_empty()) {
        return Err(Error::data(format!(
            "{origin} is empty; it needs a header row and at least one data row"
        )));
    }
    let mut names = Vec::with_capacity(rec.len());
    for (i, f) in rec.iter().enumerate() {
        let f = if i == 0 {
            f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f)
        } else {
            f
        };
        let Ok(s) = std::str::from_utf8(f) else {
            return Err(Error::data(format!(
                "{origin}:1: header field {} is not valid UTF-8; save the file as UTF-8",
                i + 1
            )));
        };
        names.push(s.trim().to_string());
    }
    let mut seen = HashMap::new();
    for (i, n) in names.iter().enumerate() {
        if let Some(j) = seen.insert(n.as_str(), i) {
            return Err(Error::data(format!(
                "{origin}:1: column \"{n}\" appears twice (fields {} and {}); rename one",
                j + 1,
                i + 1
            )));
        }
    }
    Ok(names)
}

/// The index of each of `wanted` in `header`, or a data error naming every
/// missing one (and the nearest existing name).
pub fn locate(
    header: &[String],
    wanted: &[String],
    origin: &str,
    role: &str,
) -> Result<Vec<usize>> {
    let mut idx = Vec::with_capacity(wanted.len());
    let mut missing = Vec::new();
    for w in wanted {
        match header.iter().position(|h| h == w) {
            Some(i) => idx.push(i),
            None => missing.push(w.as_str()),
        }
    }
    if missing.is_empty() {
        return Ok(idx);
    }
    let hs: Vec<&str> = header.iter().map(String::as_str).collect();
    let hint = if missing.len() == 1 {
        match crate::project::nearest(missing[0], &hs) {
            Some(n) => format!("; did you mean \"{n}\"?"),
            None => format!("; its columns are: {}", hs.join(", ")),
        }
    } else {
        format!("; its columns are: {}", hs.join(", "))
    };
    let list = missing
        .iter()
        .map(|m| format!("\"{m}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let noun = if missing.len() == 1 {
        "column"
    } else {
        "columns"
    };
    Err(Error::data(format!(
        "{origin}:1: {role} {noun} {list} not in the header{hint}"
    )))
}

/// Resolve the feature list of `sel` against a header.
pub fn resolve_features(header: &[String], sel: &Selection, origin: &str) -> Result<Vec<String>> {
    locate(header, &sel.exclude, origin, "excluded")?;
    let feats = match &sel.features {
        Some(f) => f.clone(),
        None => header
            .iter()
            .filter(|h| Some(*h) != sel.target.as_ref() && !sel.exclude.contains(h))
            .cloned()
            .collect(),
    };
    locate(header, &feats, origin, "feature")?;
    locate(header, &sel.categorical, origin, "categorical")?;
    if feats.is_empty() {
        return Err(Error::data(format!(
            "{origin}: no feature columns are left after removing the target and data.exclude; add columns or list data.features"
        )));
    }
    Ok(feats)
}

/// A loaded file: the table and the SHA-256 of the file's bytes.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The table.
    pub table: Table,
    /// SHA-256 of the whole file, lowercase hex.
    pub sha256: String,
}

/// Files up to this size are read whole and parsed on two threads.
const IN_MEMORY_MAX: u64 = 1 << 30;
/// Below this size one thread parses.
const PARALLEL_MIN: usize = 4 << 20;

/// What every chunk parser needs to know about the columns.
#[derive(Clone)]
struct Plan<'a> {
    origin: &'a str,
    width: usize,
    feature_names: &'a [String],
    feat_idx: Vec<usize>,
    kinds: Vec<FeatureKind>,
    target: Option<(usize, &'a str)>,
    error_on_missing: bool,
}

/// Rows parsed from one chunk of a file.
struct Builder<'a> {
    plan: &'a Plan<'a>,
    cols: Vec<Column>,
    level_maps: Vec<HashMap<String, u32>>,
    target: Vec<f64>,
    lines: Vec<u64>,
}

impl<'a> Builder<'a> {
    fn new(plan: &'a Plan<'a>) -> Builder<'a> {
        let cols = plan
            .kinds
            .iter()
            .map(|k| match k {
                FeatureKind::Numeric => Column::Numeric(Vec::new()),
                FeatureKind::Categorical => Column::Categorical {
                    codes: Vec::new(),
                    levels: Vec::new(),
                },
            })
            .collect();
        Builder {
            plan,
            cols,
            level_maps: vec![HashMap::new(); plan.kinds.len()],
            target: Vec::new(),
            lines: Vec::new(),
        }
    }

    fn reserve(&mut self, extra: usize) {
        self.lines.reserve(extra);
        if self.plan.target.is_some() {
            self.target.reserve(extra);
        }
        for c in &mut self.cols {
            match c {
                Column::Numeric(v) => v.reserve(extra),
                Column::Categorical { codes, .. } => codes.reserve(extra),
            }
        }
    }

    /// Add one record (its fields) read at 1-based file line `line`.
    fn push(&mut self, rec: &[&[u8]], line: u64) -> Result<()> {
        let plan = self.plan;
        let origin = plan.origin;
        if rec.len() != plan.width {
            if rec.len() == 1 && rec[0].trim_ascii().is_empty() {
                return Ok(()); // a blank line
            }
            return Err(Error::data(format!(
                "{origin}:{line}: expected {} fields as in the header, found {}; fix the row",
                plan.width,
                rec.len()
            )));
        }
        if let Some((ti, name)) = plan.target {
            let v = parse_number(rec[ti], origin, line, name).map_err(|e| match e {
                Error::Data(m) => Error::Data(m.replace(
                    "fix the cell, or list the column in data.categorical",
                    "the target must be numeric, fix the cell",
                )),
                other => other,
            })?;
            if v.is_none() && plan.error_on_missing {
                return Err(missing_error(origin, line, name));
            }
            self.target.push(v.unwrap_or(f64::NAN));
        }
        for (k, (&ci, col)) in plan.feat_idx.iter().zip(self.cols.iter_mut()).enumerate() {
            let name = &plan.feature_names[k];
            match col {
                Column::Numeric(v) => {
                    let x = parse_number(rec[ci], origin, line, name)?;
                    if x.is_none() && plan.error_on_missing {
                        return Err(missing_error(origin, line, name));
                    }
                    v.push(x.unwrap_or(f64::NAN));
                }
                Column::Categorical { codes, levels } => {
                    match parse_level(rec[ci], origin, line, name)? {
                        None if plan.error_on_missing => {
                            return Err(missing_error(origin, line, name));
                        }
                        None => codes.push(MISSING_LEVEL),
                        Some(s) => {
                            let map = &mut self.level_maps[k];
                            let code = if let Some(c) = map.get(s) {
                                *c
                            } else {
                                let c = u32::try_from(levels.len()).unwrap_or(MISSING_LEVEL - 1);
                                map.insert(s.to_string(), c);
                                levels.push(s.to_string());
                                c
                            };
                            codes.push(code);
                        }
                    }
                }
            }
        }
        self.lines.push(line);
        Ok(())
    }

    /// Add one record of numeric cells already read (all features numeric).
    fn push_numeric(&mut self, target: Option<f64>, feats: &[f64], line: u64) {
        if let Some(y) = target {
            self.target.push(y);
        }
        for (col, &x) in self.cols.iter_mut().zip(feats) {
            if let Column::Numeric(v) = col {
                v.push(x);
            }
        }
        self.lines.push(line);
    }

    /// Append the rows of a later chunk, mapping its level codes onto ours.
    fn append(&mut self, other: Builder<'_>) {
        self.target.extend_from_slice(&other.target);
        self.lines.extend_from_slice(&other.lines);
        for (k, (mine, theirs)) in self.cols.iter_mut().zip(other.cols).enumerate() {
            match (mine, theirs) {
                (Column::Numeric(a), Column::Numeric(b)) => a.extend_from_slice(&b),
                (
                    Column::Categorical { codes, levels },
                    Column::Categorical {
                        codes: bcodes,
                        levels: blevels,
                    },
                ) => {
                    let map = &mut self.level_maps[k];
                    let remap: Vec<u32> = blevels
                        .into_iter()
                        .map(|l| {
                            if let Some(c) = map.get(&l) {
                                *c
                            } else {
                                let c = u32::try_from(levels.len()).unwrap_or(MISSING_LEVEL - 1);
                                map.insert(l.clone(), c);
                                levels.push(l);
                                c
                            }
                        })
                        .collect();
                    codes.extend(bcodes.into_iter().map(|c| {
                        if c == MISSING_LEVEL {
                            c
                        } else {
                            remap[c as usize]
                        }
                    }));
                }
                _ => {}
            }
        }
    }

    fn into_table(self) -> Table {
        Table {
            origin: self.plan.origin.to_string(),
            feature_names: self.plan.feature_names.to_vec(),
            features: self.cols,
            target: self.target,
            lines: self.lines,
            sources: Vec::new(),
        }
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

/// Parse the records of `chunk` (see [`visit_chunk`]) into a [`Builder`].
fn parse_chunk<'a>(
    plan: &'a Plan<'a>,
    chunk: &[u8],
    first_line: u64,
    progress: &dyn Fn(u64, u64),
) -> Result<Builder<'a>> {
    let mut b = Builder::new(plan);
    if fast::applies(plan, chunk) {
        fast::parse_numeric_chunk(plan, chunk, first_line, &mut b, progress)?;
        return Ok(b);
    }
    let mut n = 0usize;
    visit_chunk(plan.origin, chunk, first_line, &mut |fields, line, end| {
        b.push(fields, line)?;
        n += 1;
        if n == 1024 {
            b.reserve(estimate_rows(chunk.len(), end as u64));
        }
        if n.is_multiple_of(65_536) {
            progress(end as u64, n as u64);
        }
        Ok(())
    })?;
    Ok(b)
}

/// Rows a chunk of `len` bytes holds, from the first 1,024 rows' `bytes`.
fn estimate_rows(len: usize, bytes: u64) -> usize {
    let per_row = usize::try_from(bytes / 1024).unwrap_or(1).max(1);
    len / per_row * 21 / 20
}

/// Where to cut `data` in two at a record boundary: a newline near the
/// middle with an even number of quotes before it (so not inside a quoted
/// field). `None` when no such newline is found near the middle.
fn split_point(data: &[u8]) -> Option<usize> {
    let mid = data.len() / 2;
    let mut quotes = data[..mid].iter().filter(|&&b| b == b'"').count();
    let limit = (mid + (1 << 20)).min(data.len());
    for (i, &b) in data[mid..limit].iter().enumerate() {
        match b {
            b'"' => quotes += 1,
            b'\n' if quotes % 2 == 0 => return Some(mid + i + 1),
            _ => {}
        }
    }
    None
}

fn count_newlines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}

/// Load a CSV file into a [`Table`], and hash it.
pub fn load(path: &Path, sel: &Selection, progress: &dyn Progress) -> Result<Loaded> {
    load_files(&[path.to_path_buf()], sel, progress)
}

/// The URL of a source given as `http://` or `https://` in `[data].path`.
#[must_use]
pub fn url_of(path: &Path) -> Option<&str> {
    path.to_str()
        .filter(|s| s.starts_with("https://") || s.starts_with("http://"))
}

/// Open a URL for reading, streaming its body (exit 5 when it fails).
pub fn open_url(url: &str) -> Result<Box<dyn Read + Send>> {
    let client = reqwest::blocking::Client::builder()
        .user_agent(concat!("mlops/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(30))
        .timeout(None)
        .build()
        .map_err(|e| Error::Remote(format!("cannot start an HTTP client: {e}")))?;
    let resp = client.get(url).send().map_err(|e| {
        Error::Remote(format!(
            "GET {url} failed: {}; check the URL and the network",
            root_cause(&e)
        ))
    })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(Error::Remote(format!(
            "GET {url} answered {status}; check the URL"
        )));
    }
    Ok(Box::new(resp))
}

/// The innermost message of an error chain.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    let s = cur.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The raw bytes of a file or URL.
fn read_raw(p: &Path) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    if let Some(url) = url_of(p) {
        open_url(url)?.read_to_end(&mut out).map_err(|e| {
            Error::Remote(format!(
                "reading {url} failed: {}; check the network",
                io_reason(&e)
            ))
        })?;
        return Ok(out);
    }
    std::fs::read(p).map_err(|e| Error::io("read", p, &e))
}

/// Whether a path names a gzip file (by its `.gz` suffix).
#[must_use]
pub fn is_gzip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// The file as the table spanning several files shows it in messages.
fn joint_origin(paths: &[PathBuf]) -> String {
    match paths {
        [one] => display_path(one),
        [first, rest @ ..] => format!("{} (and {} more)", display_path(first), rest.len()),
        [] => String::new(),
    }
}

/// Load CSV files (each plain, or gzip by a `.gz` suffix) with the same
/// header into one [`Table`], in order; `sha256` is that of the files' raw
/// bytes, concatenated.
///
/// Inputs up to 1 GiB in all are read whole, hashed on one thread while
/// each file is parsed in two halves on two others; larger ones are
/// streamed in blocks through one parser.
pub fn load_files(paths: &[PathBuf], sel: &Selection, progress: &dyn Progress) -> Result<Loaded> {
    let mut size = 0u64;
    for p in paths.iter().filter(|p| url_of(p).is_none()) {
        let m = std::fs::metadata(p).map_err(|e| Error::io("read", p, &e))?;
        // A compressed file is judged by a typical 5:1 ratio.
        size += if is_gzip(p) { m.len() * 5 } else { m.len() };
    }
    if size > IN_MEMORY_MAX {
        return load_streaming(paths, sel, progress, STREAM_BLOCK);
    }
    let mut raw: Vec<Vec<u8>> = Vec::with_capacity(paths.len());
    for p in paths {
        raw.push(read_raw(p)?);
    }
    progress.start("reading", Some(size));
    let (sha, parsed) = std::thread::scope(|s| {
        let hasher = s.spawn(|| {
            let mut h = Sha256::new();
            for r in &raw {
                h.update(r);
            }
            hex(&h.finalize())
        });
        let parsed = parse_files(paths, &raw, sel, progress);
        (hasher.join().unwrap_or_default(), parsed)
    });
    progress.finish();
    Ok(Loaded {
        table: parsed?,
        sha256: sha,
    })
}

/// Parse the raw contents of `paths` (decompressing gzip) into one table.
fn parse_files(
    paths: &[PathBuf],
    raw: &[Vec<u8>],
    sel: &Selection,
    progress: &dyn Progress,
) -> Result<Table> {
    let origins: Vec<String> = paths.iter().map(|p| display_path(p)).collect();
    let mut first: Option<(Vec<String>, Vec<String>)> = None;
    let mut plans: Vec<Plan<'_>> = Vec::new();
    // Plain files are parsed in place; only gzip files get a new buffer.
    let mut bodies: Vec<(std::borrow::Cow<'_, [u8]>, usize, u64)> = Vec::new();
    for (i, (p, bytes)) in paths.iter().zip(raw).enumerate() {
        let origin = &origins[i];
        let bytes = if is_gzip(p) {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(bytes.as_slice())
                .read_to_end(&mut out)
                .map_err(|e| {
                    Error::data(format!(
                        "{origin}: not a readable gzip file ({}); check the file or drop the .gz suffix",
                        io_reason(&e)
                    ))
                })?;
            std::borrow::Cow::Owned(out)
        } else {
            std::borrow::Cow::Borrowed(bytes.as_slice())
        };
        let mut rdr = csv_reader(&bytes[..]);
        let header = read_header(&mut rdr, origin)?;
        let mut hdr_end = usize::try_from(rdr.position().byte()).unwrap_or(bytes.len());
        if bytes.get(hdr_end) == Some(&b'\n') {
            hdr_end += 1;
        }
        let hdr_end = hdr_end.min(bytes.len());
        let first_line = 1 + count_newlines(&bytes[..hdr_end]);
        match &first {
            None => {
                let names = resolve_features(&header, sel, origin)?;
                first = Some((header, names));
            }
            Some((h, _)) if *h != header => {
                return Err(Error::data(format!(
                    "{origin}:1: the header differs from that of {}; every file of data.path needs the same columns in the same order",
                    origins[0]
                )));
            }
            Some(_) => {}
        }
        bodies.push((bytes, hdr_end, first_line));
    }
    let Some((header, feature_names)) = &first else {
        return Err(Error::usage(
            "data.path names no file; name at least one CSV",
        ));
    };
    for origin in &origins {
        plans.push(plan(header, feature_names, sel, origin)?);
    }
    let mut all: Option<Builder<'_>> = None;
    let mut sources = Vec::new();
    for (k, (bytes, hdr_end, first_line)) in bodies.iter().enumerate() {
        let b = parse_body(&plans[k], &bytes[*hdr_end..], *first_line, progress)?;
        if b.lines.is_empty() {
            return Err(Error::data(format!(
                "{} has a header row but no data rows; add data",
                origins[k]
            )));
        }
        match &mut all {
            None => all = Some(b),
            Some(a) => {
                sources.push((a.lines.len(), origins[k].clone()));
                a.append(b);
            }
        }
    }
    let mut table = all
        .ok_or_else(|| Error::usage("data.path names no file; name at least one CSV"))?
        .into_table();
    if !sources.is_empty() {
        table.origin = joint_origin(paths);
        sources.insert(0, (0, origins[0].clone()));
    }
    table.sources = sources;
    Ok(table)
}

/// Parse the records after the header, in two halves on two threads when
/// the body is large (cut at a newline outside quotes).
fn parse_body<'p>(
    plan: &'p Plan<'p>,
    data: &[u8],
    first_line: u64,
    progress: &dyn Progress,
) -> Result<Builder<'p>> {
    let cut = if data.len() >= PARALLEL_MIN {
        split_point(data)
    } else {
        None
    };
    let Some(cut) = cut else {
        return parse_chunk(plan, data, first_line, &|b, rows| {
            progress.set_position(b);
            progress.set_rows(rows);
        });
    };
    let (a, b) = data.split_at(cut);
    let second_line = first_line + count_newlines(a);
    std::thread::scope(|s| {
        let h2 = s.spawn(move || parse_chunk(plan, b, second_line, &|_, _| {}));
        // The halves are about equal: twice the first's progress is the whole's.
        let first = parse_chunk(plan, a, first_line, &|b, rows| {
            progress.set_position(b.saturating_mul(2));
            progress.set_rows(rows.saturating_mul(2));
        });
        let second = h2.join();
        match (first, second) {
            (Err(e), _) | (Ok(_), Ok(Err(e))) => Err(e),
            (Ok(mut f), Ok(Ok(sb))) => {
                f.append(sb);
                Ok(f)
            }
            (Ok(_), Err(_)) => Err(Error::data(format!(
                "{}: the parser thread failed; please report this",
                plan.origin
            ))),
        }
    })
}

fn plan<'a>(
    header: &[String],
    feature_names: &'a [String],
    sel: &'a Selection,
    origin: &'a str,
) -> Result<Plan<'a>> {
    let feat_idx = locate(header, feature_names, origin, "feature")?;
    let target = match &sel.target {
        Some(t) => Some((
            locate(header, std::slice::from_ref(t), origin, "target")?[0],
            t.as_str(),
        )),
        None => None,
    };
    let kinds = feature_names
        .iter()
        .map(|f| {
            if sel.categorical.contains(f) {
                FeatureKind::Categorical
            } else {
                FeatureKind::Numeric
            }
        })
        .collect();
    Ok(Plan {
        origin,
        width: header.len(),
        feature_names,
        feat_idx,
        kinds,
        target,
        error_on_missing: sel.missing == MissingPolicy::Error,
    })
}

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

/// A reader that hashes the raw bytes that pass through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// One input file or URL, decompressed when it is gzip, hashing its raw
/// bytes.
enum Input {
    Plain(Hashing<Box<dyn Read + Send>>),
    Gzip(Box<flate2::read::MultiGzDecoder<Hashing<Box<dyn Read + Send>>>>),
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Input::Plain(r) => r.read(buf),
            Input::Gzip(r) => r.read(buf),
        }
    }
}

impl Input {
    fn open(path: &Path, hasher: Sha256) -> Result<Input> {
        let f: Box<dyn Read + Send> = match url_of(path) {
            Some(url) => open_url(url)?,
            None => Box::new(File::open(path).map_err(|e| Error::io("read", path, &e))?),
        };
        let h = Hashing { inner: f, hasher };
        Ok(if is_gzip(path) {
            Input::Gzip(Box::new(flate2::read::MultiGzDecoder::new(h)))
        } else {
            Input::Plain(h)
        })
    }

    /// Read what is left of the raw file and return the running hash.
    fn finish(self) -> Sha256 {
        let mut h = match self {
            Input::Plain(h) => h,
            Input::Gzip(d) => d.into_inner(),
        };
        let _ = std::io::copy(&mut h, &mut std::io::sink());
        h.hasher
    }
}

/// Stream CSV files (plain or gzip) with the same header as a sequence of
/// tables, one per block of whole records: the same parser, checks,
/// messages and exact line numbers as [`load`], in memory bounded by the
/// block size. Calls `f` for each block (category codes are local to each
/// table) and returns the SHA-256 of the files' raw bytes, concatenated.
pub fn stream_tables(
    paths: &[PathBuf],
    sel: &Selection,
    block: usize,
    progress: &dyn Progress,
    f: &mut dyn FnMut(Table) -> Result<()>,
) -> Result<String> {
    let mut hasher = Sha256::new();
    let mut first: Option<(Vec<String>, Vec<String>)> = None;
    let total: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    progress.start("reading", Some(total));
    let mut done = 0u64;
    let mut rows = 0u64;
    for path in paths {
        let origin = display_path(path);
        let input = Input::open(path, hasher)?;
        let (reader, header) = BlockReader::open(input, &origin, block)?;
        let feature_names = match &first {
            None => {
                let names = resolve_features(&header, sel, &origin)?;
                first = Some((header.clone(), names.clone()));
                names
            }
            Some((h, _)) if *h != header => {
                return Err(Error::data(format!(
                    "{origin}:1: the header differs from that of {}; every file of data.path needs the same columns in the same order",
                    display_path(&paths[0])
                )));
            }
            Some((_, names)) => names.clone(),
        };
        let plan = plan(&header, &feature_names, sel, &origin)?;
        let reader = parse_in_parallel(
            reader,
            &plan,
            &mut |t| {
                rows += t.rows() as u64;
                progress.set_rows(rows);
                f(t)
            },
            &|pos| progress.set_position(done + pos),
        )?;
        hasher = reader.into_inner().finish();
        done += std::fs::metadata(path).map_or(0, |m| m.len());
    }
    progress.finish();
    Ok(hex(&hasher.finalize()))
}

/// Parse workers of [`parse_in_parallel`].
fn parse_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4))
}

/// Read `reader`'s chunks on one thread (which also hashes the raw bytes),
/// parse them on [`parse_workers`] threads, and hand the tables to `f` on
/// this thread in file order. At most `2 × workers` chunks are in flight, so
/// memory stays bounded by the block size. Errors come out in file order
/// too: the first bad record of the file is the one reported, as in a
/// sequential read.
fn parse_in_parallel<R: Read + Send>(
    mut reader: BlockReader<R>,
    plan: &Plan<'_>,
    f: &mut dyn FnMut(Table) -> Result<()>,
    position: &(dyn Fn(u64) + Sync),
) -> Result<BlockReader<R>> {
    use std::collections::BTreeMap;
    use std::sync::mpsc::{Receiver, sync_channel};
    use std::sync::{Arc, Mutex};
    let workers = parse_workers();
    let in_flight = 2 * workers;
    // A token per chunk in flight: the reader takes one before it hands out
    // a chunk, this thread gives it back once the chunk's table is consumed.
    let (token_tx, token_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        let _ = token_tx.send(());
    }
    // (sequence number, chunk, its first line)
    type Job = (u64, Vec<u8>, u64);
    let (work_tx, work_rx) = sync_channel::<Job>(in_flight);
    let work_rx: Arc<Mutex<Receiver<Job>>> = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = sync_channel::<(u64, Result<Table>)>(in_flight);
    // Parsed chunks' buffers go back to the reader for reuse.
    let (spare_tx, spare_rx) = sync_channel::<Vec<u8>>(in_flight);
    let stopped = || Error::data("stopped");
    std::thread::scope(|s| {
        let producer = s.spawn(move || -> Result<BlockReader<R>> {
            let mut seq = 0u64;
            reader.for_each_owned_chunk(
                &mut |chunk, line| {
                    token_rx.recv().map_err(|_| stopped())?;
                    work_tx.send((seq, chunk, line)).map_err(|_| stopped())?;
                    seq += 1;
                    Ok(())
                },
                &|| spare_rx.try_recv().ok(),
                position,
            )?;
            Ok(reader)
        });
        for _ in 0..workers {
            let (work_rx, done_tx) = (Arc::clone(&work_rx), done_tx.clone());
            let spare_tx = spare_tx.clone();
            s.spawn(move || {
                loop {
                    let job = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((seq, bytes, line)) = job else { return };
                    let t = parse_chunk(plan, &bytes, line, &|_, _| {}).map(Builder::into_table);
                    let _ = spare_tx.try_send(bytes);
                    if done_tx.send((seq, t)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(spare_tx);
        drop((done_tx, work_rx));
        let mut next = 0u64;
        let mut waiting: BTreeMap<u64, Result<Table>> = BTreeMap::new();
        let mut consumed = Ok(());
        'recv: while let Ok((seq, t)) = done_rx.recv() {
            waiting.insert(seq, t);
            while let Some(t) = waiting.remove(&next) {
                next += 1;
                if let Err(e) = t.and_then(&mut *f) {
                    consumed = Err(e);
                    break 'recv;
                }
                let _ = token_tx.send(());
            }
        }
        // Stop the reader and the workers (their channels close), then wait.
        drop((done_rx, token_tx));
        let produced = producer.join();
        // Chunks arrive in order: an error met here comes from an earlier
        // chunk than any error the reader met after it.
        consumed?;
        produced.map_err(|_| {
            Error::data(format!(
                "{}: the reader thread failed; please report this",
                plan.origin
            ))
        })?
    })
}

/// One thread and bounded buffers, for inputs too large to hold whole: the
/// same chunk parser as the in-memory path, so values, messages and line
/// numbers are the same.
fn load_streaming(
    paths: &[PathBuf],
    sel: &Selection,
    progress: &dyn Progress,
    block: usize,
) -> Result<Loaded> {
    let mut all: Option<Table> = None;
    let mut sources: Vec<(usize, String)> = Vec::new();
    let sha = stream_tables(paths, sel, block, progress, &mut |t| {
        match &mut all {
            None => {
                sources.push((0, t.origin.clone()));
                all = Some(t);
            }
            Some(a) => {
                if sources.last().is_some_and(|(_, o)| *o != t.origin) {
                    sources.push((a.rows(), t.origin.clone()));
                }
                a.append(t);
            }
        }
        Ok(())
    })?;
    let Some(mut table) = all.filter(|t| t.rows() > 0) else {
        return Err(Error::data(format!(
            "{} has a header row but no data rows; add data",
            joint_origin(paths)
        )));
    };
    if paths.len() > 1 {
        table.origin = joint_origin(paths);
        table.sources = sources;
    }
    Ok(Loaded { table, sha256: sha })
}

/// SHA-256 of a file's bytes, as lowercase hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = File::open(path).map_err(|e| Error::io("read", path, &e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io("read", path, &e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// Lowercase hex of bytes.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::NoProgress;

    fn sel() -> Selection {
        Selection {
            target: Some("y".into()),
            features: None,
            exclude: vec![],
            categorical: vec!["c".into()],
            missing: MissingPolicy::Error,
        }
    }

    fn load_str(text: &[u8], sel: &Selection) -> Result<Table> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, text).unwrap();
        load(&p, sel, &NoProgress)
            .map(|l| l.table)
            .map_err(|e| Error::data(e.to_string().replace(&display_path(&p), "t.csv")))
    }

    #[track_caller]
    fn bad(text: &[u8], expected: &str) {
        let e = load_str(text, &sel()).unwrap_err();
        assert_eq!(e.exit_code(), 3, "{e}");
        assert_eq!(e.to_string(), expected);
    }

    #[test]
    fn reads_numbers_levels_quotes_and_crlf() {
        let t = load_str(b"\xEF\xBB\xBFa,c,y\r\n1.5,\"x, y\",2\r\n-3e2,z,4", &sel()).unwrap();
        assert_eq!(t.rows(), 2);
        assert_eq!(t.feature_names, ["a", "c"]);
        match &t.features[0] {
            Column::Numeric(v) => assert_eq!(v, &[1.5, -300.0]),
            Column::Categorical { .. } => panic!(),
        }
        match &t.features[1] {
            Column::Categorical { levels, codes } => {
                assert_eq!(levels, &["x, y", "z"]);
                assert_eq!(codes, &[0, 1]);
            }
            Column::Numeric(_) => panic!(),
        }
        assert_eq!(t.target, [2.0, 4.0]);
        assert_eq!(t.lines, [2, 3]);
    }

    #[test]
    fn number_forms() {
        for (text, v) in [
            ("+1.5", 1.5),
            ("1e5", 1e5),
            (".5", 0.5),
            ("5.", 5.0),
            ("1E-3", 1e-3),
            (" 7 ", 7.0),
            ("-0", -0.0),
        ] {
            assert_eq!(
                parse_number(text.as_bytes(), "f", 1, "c").unwrap(),
                Some(v),
                "{text}"
            );
        }
        for text in [
            "1,5", "0x10", "1e", "--1", "1.2.3", "infinity", "-inf", "nan",
        ] {
            assert!(
                parse_number(text.as_bytes(), "f", 1, "c").is_err(),
                "{text}"
            );
        }
    }

    /// The fast path agrees bit for bit with Rust's own (correctly rounded)
    /// parser, on a deterministic sweep of short decimals.
    #[test]
    fn eight_digits_at_once() {
        assert_eq!(eight_digits(b"12345678", 0), Some(12_345_678));
        assert_eq!(eight_digits(b"x00000009", 1), Some(9));
        assert_eq!(eight_digits(b"99999999", 0), Some(99_999_999));
        assert_eq!(eight_digits(b"1234567", 0), None);
        for bad in [b'/', b':', b'.', b'e', b' ', 0x80, 0xB9] {
            for at in 0..8 {
                let mut s = *b"55555555";
                s[at] = bad;
                assert_eq!(eight_digits(&s, 0), None, "{s:?}");
            }
        }
        for k in [0u64, 1, 10, 1234, 10_000_000, 31_415_926, 87_654_321] {
            assert_eq!(eight_digits(format!("{k:08}").as_bytes(), 0), Some(k));
        }
    }

    #[test]
    fn short_decimal_fast_path_is_exact() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state = split::splitmix64(state);
            state
        };
        let mut checked = 0;
        for _ in 0..200_000 {
            let r = next();
            let int_digits = (r % 9) as usize;
            let frac_digits = ((r >> 8) % 10) as usize;
            let mut s = String::new();
            if r & (1 << 20) != 0 {
                s.push('-');
            }
            for k in 0..int_digits {
                s.push(char::from(b'0' + ((next() >> (k % 7)) % 10) as u8));
            }
            if frac_digits > 0 {
                s.push('.');
                for _ in 0..frac_digits {
                    s.push(char::from(b'0' + (next() % 10) as u8));
                }
            }
            if r & (1 << 21) != 0 {
                s.push_str(&format!("e{}", (r >> 24) as i64 % 30 - 15));
            }
            let want = s.parse::<f64>().ok();
            if let Some(got) = parse_short_decimal(s.as_bytes()) {
                assert_eq!(Some(got.to_bits()), want.map(f64::to_bits), "{s}");
                checked += 1;
            }
        }
        assert!(checked > 150_000, "{checked}");
        for s in ["1e", "e5", ".", "-", "1.2.3", "1e+", "0x1", "1,5", "١"] {
            assert!(parse_short_decimal(s.as_bytes()).is_none(), "{s}");
        }
        assert!(parse_short_decimal(b"1234567890123456").is_none());
        assert_eq!(
            parse_short_decimal(b"-0").map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
    }

    #[test]
    fn bad_data_messages() {
        bad(
            b"a,c,y\n1,x,2\n12a,x,3\n",
            "t.csv:3: column \"a\": \"12a\" is not a number; fix the cell, or list the column in data.categorical",
        );
        bad(
            b"a,c,y\n1,x,NaN\n",
            "t.csv:2: column \"y\": \"NaN\" is not a finite number; remove or fix the row",
        );
        bad(
            b"a,c,y\ninf,x,1\n",
            "t.csv:2: column \"a\": \"inf\" is not a finite number; remove or fix the row",
        );
        bad(
            b"a,c,y\n1,x\n",
            "t.csv:2: expected 3 fields as in the header, found 2; fix the row",
        );
        bad(
            b"a,c,a,y\n1,x,1,2\n",
            "t.csv:1: column \"a\" appears twice (fields 1 and 3); rename one",
        );
        bad(
            b"a,c,z\n1,x,2\n",
            "t.csv:1: target column \"y\" not in the header; its columns are: a, c, z",
        );
        bad(
            b"",
            "t.csv is empty; it needs a header row and at least one data row",
        );
        bad(
            b"a,c,y\n",
            "t.csv has a header row but no data rows; add data",
        );
        bad(
            b"a,c,y\n1,\xff,2\n",
            "t.csv:2: column \"c\": the cell holds bytes that are not valid UTF-8; save the file as UTF-8",
        );
        bad(
            b"a,c,y\n\xff,x,2\n",
            "t.csv:2: column \"a\": the cell holds bytes that are not valid UTF-8; save the file as UTF-8",
        );
        bad(
            b"a,c,y\n,x,2\n",
            "t.csv:2: column \"a\" is empty; fill it, or set data.missing = \"drop-row\" or \"mean\"",
        );
    }

    /// The same rows through the three parsers: the plain fast path (no
    /// quotes), the csv-crate path (quotes present), and the streaming path.
    #[test]
    fn all_parsers_agree_on_values_and_lines() {
        let s = sel();
        let plain = b"a,c,y\r\n1.5,x,2\r\n\r\n-3e2,z,4\r\n7,x,8".to_vec();
        let quoted = b"a,c,y\r\n1.5,\"x\",2\r\n\r\n-3e2,z,4\r\n7,x,8".to_vec();
        let plan_header: Vec<String> = vec!["a".into(), "c".into(), "y".into()];
        let feats = resolve_features(&plan_header, &s, "t.csv").unwrap();
        let plan = plan(&plan_header, &feats, &s, "t.csv").unwrap();
        let noop = |_: u64, _: u64| {};
        let body = |b: &[u8]| b[7..].to_vec();
        let a = parse_chunk(&plan, &body(&plain), 2, &noop)
            .unwrap()
            .into_table();
        let b = parse_chunk(&plan, &body(&quoted), 2, &noop)
            .unwrap()
            .into_table();
        assert_eq!(a.lines, [2, 4, 5]);
        assert_eq!(b.lines, [2, 4, 5]);
        assert_eq!(a.target, b.target);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.csv");
        std::fs::write(&p, &quoted).unwrap();
        let c = load_streaming(std::slice::from_ref(&p), &s, &NoProgress, STREAM_BLOCK).unwrap();
        assert_eq!(c.table.lines, [2, 4, 5]);
        assert_eq!(c.table.target, a.target);
        assert_eq!(c.sha256, sha256_file(&p).unwrap());
        // Errors carry the file line in every path.
        let bad = b"5,x,1\r\n12a,x,3\r\n";
        let e = parse_chunk(&plan, bad, 2, &noop).map(|_| ()).unwrap_err();
        assert!(e.to_string().starts_with("t.csv:3: column \"a\""), "{e}");
        let bad_quoted = b"5,\"x\",1\r\n12a,x,3\r\n";
        let e = parse_chunk(&plan, bad_quoted, 2, &noop)
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().starts_with("t.csv:3: column \"a\""), "{e}");
    }

    #[test]
    fn streaming_blocks_cut_at_record_boundaries() {
        let mut text = String::from("a,c,y\r\n");
        for i in 0..200 {
            text.push_str(&format!("{i},\"l,{}\n2\",{}\r\n", i % 3, i % 5));
            if i % 50 == 0 {
                text.push_str("\r\n");
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.csv");
        std::fs::write(&p, &text).unwrap();
        let whole = load(&p, &sel(), &NoProgress).unwrap();
        for block in [7, 64, 1000] {
            let s = load_streaming(std::slice::from_ref(&p), &sel(), &NoProgress, block).unwrap();
            assert_eq!(s.table.lines, whole.table.lines, "block {block}");
            assert_eq!(s.table.target, whole.table.target);
            assert_eq!(s.sha256, whole.sha256);
        }
        assert_eq!(whole.table.rows(), 200);
        assert_eq!(whole.table.lines[1], 5);
    }

    #[test]
    fn split_point_avoids_quoted_newlines() {
        let mut data = Vec::new();
        for i in 0..100 {
            data.extend_from_slice(format!("{i},\"a\nb\",1\n").as_bytes());
        }
        let cut = split_point(&data).unwrap();
        assert_eq!(data[cut - 1], b'\n');
        let quotes = data[..cut].iter().filter(|&&b| b == b'"').count();
        assert_eq!(quotes % 2, 0);
        // Both halves parse to whole rows.
        let first = String::from_utf8_lossy(&data[..cut]);
        assert!(first.ends_with(",1\n"), "{first}");
    }

    #[test]
    fn two_halves_merge_levels_and_lines() {
        let mut text = String::from("a,c,y\n");
        for i in 0..300_000 {
            let level = if i < 150_000 { "p" } else { "q" };
            text.push_str(&format!("{i},{level},{}\n", i % 7));
        }
        let t = load_str(text.as_bytes(), &sel()).unwrap();
        assert_eq!(t.rows(), 300_000);
        assert_eq!(t.lines[0], 2);
        assert_eq!(t.lines[299_999], 300_001);
        match &t.features[1] {
            Column::Categorical { codes, levels } => {
                assert_eq!(levels, &["p", "q"]);
                assert_eq!(codes[0], 0);
                assert_eq!(codes[299_999], 1);
            }
            Column::Numeric(_) => panic!(),
        }
        let mut bad = text.clone();
        bad.push_str("1,p,zz\n");
        let e = load_str(bad.as_bytes(), &sel()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv:300002: column \"y\": \"zz\" is not a number; the target must be numeric, fix the cell"
        );
    }

    #[test]
    fn whitespace_only_lines_are_blank_lines_in_every_path() {
        for text in [
            &b"a,c,y\n1,x,2\n   \n3,z,4\n"[..],
            b"a,c,y\n1,\"x\",2\n   \n3,z,4\n",
        ] {
            let t = load_str(text, &sel()).unwrap();
            assert_eq!(t.lines, [2, 4]);
        }
    }

    #[test]
    fn missing_cells_are_kept_as_markers_when_allowed() {
        let mut s = sel();
        s.missing = MissingPolicy::DropRow;
        let t = load_str(b"a,c,y\n,x,1\n2,,3\n", &s).unwrap();
        assert!(t.features[0].is_missing(0));
        assert!(t.features[1].is_missing(1));
    }
}
