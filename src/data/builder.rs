//! Rows into columns: the builder that turns the records of one chunk into
//! typed columns and the target, and merges the chunks of a file in order.

use std::collections::HashMap;

use super::cell::{missing_error, parse_level, parse_number};
use super::plan::{FeatureKind, Plan};
use super::table::{Column, MISSING_LEVEL, Table};
use crate::error::{Error, Result};

/// The code of level `s` among `levels` (indexed by `map`), a new one if
/// new: the first few levels are found by a scan, any more through the map.
fn intern(levels: &mut Vec<String>, map: &mut HashMap<String, u32>, s: &str) -> u32 {
    const SCAN: usize = 8;
    let found = if levels.len() <= SCAN {
        // Byte by byte: levels are short, shorter than a call to compare.
        let same = |l: &String| l.len() == s.len() && l.bytes().zip(s.bytes()).all(|(a, b)| a == b);
        levels.iter().position(same).map(u32::try_from)
    } else {
        map.get(s).copied().map(Ok)
    };
    if let Some(Ok(c)) = found {
        return c;
    }
    let c = u32::try_from(levels.len()).unwrap_or(MISSING_LEVEL - 1);
    map.insert(s.to_string(), c);
    levels.push(s.to_string());
    c
}

/// Rows parsed from one chunk of a file.
pub(super) struct Builder<'a> {
    plan: &'a Plan<'a>,
    cols: Vec<Column>,
    level_maps: Vec<HashMap<String, u32>>,
    target: Vec<f64>,
    pub(super) lines: Vec<u64>,
}

impl<'a> Builder<'a> {
    pub(super) fn new(plan: &'a Plan<'a>) -> Builder<'a> {
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

    pub(super) fn reserve(&mut self, extra: usize) {
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
    pub(super) fn push(&mut self, rec: &[&[u8]], line: u64) -> Result<()> {
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
            let cell = if plan.is_na(rec[ti]) {
                &b""[..]
            } else {
                rec[ti]
            };
            let v = parse_number(cell, origin, line, name).map_err(|e| match e {
                Error::Data(m) => Error::Data(m.replace(
                    super::cell::CATEGORICAL_HINT,
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
            let cell = if plan.is_na(rec[ci]) {
                &b""[..]
            } else {
                rec[ci]
            };
            match col {
                Column::Numeric(v) => {
                    let x = parse_number(cell, origin, line, name)?;
                    if x.is_none() && plan.error_on_missing {
                        return Err(missing_error(origin, line, name));
                    }
                    v.push(x.unwrap_or(f64::NAN));
                }
                Column::Categorical { codes, levels } => {
                    match parse_level(cell, origin, line, name)? {
                        None if plan.error_on_missing => {
                            return Err(missing_error(origin, line, name));
                        }
                        None => codes.push(MISSING_LEVEL),
                        Some(s) => codes.push(intern(levels, &mut self.level_maps[k], s)),
                    }
                }
            }
        }
        self.lines.push(line);
        Ok(())
    }

    /// Add one record of numeric cells already read (all features numeric).
    /// Add a record the fast path read: the target, each numeric
    /// feature's value in `feats`, and each categorical feature's cell (a
    /// plain level: printable ASCII, no space) as a byte range of `chunk`.
    pub(super) fn push_fast(
        &mut self,
        target: Option<f64>,
        feats: &[f64],
        (chunk, levels): (&[u8], &[(usize, usize)]),
        line: u64,
    ) {
        if let Some(y) = target {
            self.target.push(y);
        }
        for (k, &x) in feats.iter().enumerate() {
            if let Column::Numeric(v) = &mut self.cols[k] {
                v.push(x);
                continue;
            }
            let (a, b) = levels[k];
            // Printable ASCII: always UTF-8.
            let s = std::str::from_utf8(&chunk[a..b]).unwrap_or_default();
            if let Column::Categorical { codes, levels } = &mut self.cols[k] {
                codes.push(intern(levels, &mut self.level_maps[k], s));
            }
        }
        self.lines.push(line);
    }

    /// Append the rows of a later chunk, mapping its level codes onto ours.
    pub(super) fn append(&mut self, other: Builder<'_>) {
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

    pub(super) fn into_table(self) -> Table {
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

/// Rows a chunk of `len` bytes holds, from the first 1,024 rows' `bytes`.
pub(super) fn estimate_rows(len: usize, bytes: u64) -> usize {
    let per_row = usize::try_from(bytes / 1024).unwrap_or(1).max(1);
    len / per_row * 21 / 20
}
