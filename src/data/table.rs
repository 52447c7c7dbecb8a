//! Columns and tables: the typed feature columns a CSV is read into, and the
//! table that holds them with the target and each row's file line.

use std::collections::HashMap;

use crate::error::Error;

/// Code of a missing categorical cell.
pub const MISSING_LEVEL: u32 = u32::MAX;

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
#[derive(Debug, Clone, Default)]
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
    /// Every feature column, when all of them are numeric.
    #[must_use]
    pub fn numeric_columns(&self) -> Option<Vec<&[f64]>> {
        self.features
            .iter()
            .map(|c| match c {
                Column::Numeric(v) => Some(v.as_slice()),
                Column::Categorical { .. } => None,
            })
            .collect()
    }

    /// Append the rows of `other` (same columns), mapping its level codes
    /// onto ours.
    pub fn append(&mut self, other: Table) {
        self.extend_from(&other, 0..other.rows());
    }

    /// Append rows `rows` of `other` (same columns), mapping its level codes
    /// onto ours; each value is copied once.
    pub fn extend_from(&mut self, other: &Table, rows: std::ops::Range<usize>) {
        if !other.target.is_empty() {
            self.target.extend_from_slice(&other.target[rows.clone()]);
        }
        self.lines.extend_from_slice(&other.lines[rows.clone()]);
        for (mine, theirs) in self.features.iter_mut().zip(&other.features) {
            match (mine, theirs) {
                (Column::Numeric(a), Column::Numeric(b)) => a.extend_from_slice(&b[rows.clone()]),
                (
                    Column::Categorical { codes, levels },
                    Column::Categorical {
                        codes: bcodes,
                        levels: blevels,
                    },
                ) => {
                    let remap = merge_levels(levels, blevels);
                    codes.extend(bcodes[rows.clone()].iter().map(|&c| {
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

    /// An empty table with the columns (and levels) of this one, room for
    /// `rows` rows, and the origin of its row `at`.
    #[must_use]
    pub fn empty_like(&self, at: usize, rows: usize) -> Table {
        let features = self
            .features
            .iter()
            .map(|c| match c {
                Column::Numeric(_) => Column::Numeric(Vec::with_capacity(rows)),
                Column::Categorical { levels, .. } => Column::Categorical {
                    codes: Vec::with_capacity(rows),
                    levels: levels.clone(),
                },
            })
            .collect();
        Table {
            origin: self.origin_of(at).to_string(),
            feature_names: self.feature_names.clone(),
            features,
            target: Vec::with_capacity(if self.target.is_empty() { 0 } else { rows }),
            lines: Vec::with_capacity(rows),
            sources: Vec::new(),
        }
    }

    /// Split the table in two at row `at`: `self` keeps rows `..at`, the
    /// rows `at..` are returned (each half keeps every level, with the same
    /// codes).
    #[must_use]
    pub fn split_off(&mut self, at: usize) -> Table {
        let features = self
            .features
            .iter_mut()
            .map(|c| match c {
                Column::Numeric(v) => Column::Numeric(v.split_off(at)),
                Column::Categorical { codes, levels } => Column::Categorical {
                    codes: codes.split_off(at),
                    levels: levels.clone(),
                },
            })
            .collect();
        let origin = self.origin_of(at).to_string();
        let k = self.sources.partition_point(|(first, _)| *first <= at);
        let sources = self.sources.split_off(k);
        Table {
            origin,
            feature_names: self.feature_names.clone(),
            features,
            target: if self.target.is_empty() {
                Vec::new()
            } else {
                self.target.split_off(at)
            },
            lines: self.lines.split_off(at),
            sources: sources
                .into_iter()
                .map(|(first, o)| (first - at, o))
                .collect(),
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

/// Add the levels of `theirs` missing from `levels`; each of their codes'
/// code among `levels`.
fn merge_levels(levels: &mut Vec<String>, theirs: &[String]) -> Vec<u32> {
    let index: HashMap<&str, u32> = levels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), u32::try_from(i).unwrap_or(MISSING_LEVEL - 1)))
        .collect();
    let mut added: Vec<&String> = Vec::new();
    let base = levels.len();
    let remap = theirs
        .iter()
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
    levels.extend(added.into_iter().cloned());
    remap
}

/// The rows of each table the streaming reader hands on, for tables of
/// `features` feature columns: about 1 MiB of numbers (so that a table
/// read back from the spill is still in the core's cache when it is
/// used), from 4,096 to 65,536 rows. It depends on the columns alone, never
/// on the file's format.
#[must_use]
pub(super) fn table_rows(features: usize) -> usize {
    ((1 << 20) / (8 * (features + 2))).clamp(1 << 12, 1 << 16)
}

/// The error for categorical column `column` of `origin` with `count`
/// levels, more than `data.max_levels` = `max`.
#[must_use]
pub fn too_many_levels(origin: &str, column: &str, count: usize, max: u64) -> Error {
    Error::usage(format!(
        "{origin}: categorical column \"{column}\" has {count} distinct levels, more than data.max_levels = {max}; if it is an identifier, list it in data.exclude, else raise data.max_levels"
    ))
}

impl Table {
    /// The first categorical column with more than `max` levels, as an error.
    pub fn check_max_levels(&self, max: u64) -> crate::error::Result<()> {
        for (name, col) in self.feature_names.iter().zip(&self.features) {
            if let Column::Categorical { levels, .. } = col
                && levels.len() as u64 > max
            {
                return Err(too_many_levels(&self.origin, name, levels.len(), max));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labelled(codes: Vec<u32>, levels: &[&str]) -> Table {
        let n = codes.len();
        Table {
            origin: "t.csv".into(),
            feature_names: vec!["c".into()],
            features: vec![Column::Categorical {
                codes,
                levels: levels.iter().map(|l| (*l).to_string()).collect(),
            }],
            target: vec![1.0; n],
            lines: (2..).take(n).collect(),
            sources: Vec::new(),
        }
    }

    fn labels(t: &Table) -> Vec<&str> {
        match &t.features[0] {
            Column::Categorical { codes, levels } => codes
                .iter()
                .map(|&c| levels.get(c as usize).map_or("?", String::as_str))
                .collect(),
            Column::Numeric(_) => Vec::new(),
        }
    }

    #[test]
    fn rows_copied_from_another_table_keep_their_levels() {
        let a = labelled(vec![0, 1], &["x", "y"]);
        // Another block's codes: "y" first, a new "z", one missing.
        let b = labelled(vec![0, 2, MISSING_LEVEL, 1, 0], &["y", "x", "z"]);
        let mut t = a.empty_like(0, 8);
        t.extend_from(&a, 0..2);
        t.extend_from(&b, 1..5);
        assert_eq!(labels(&t), ["x", "y", "z", "?", "x", "y"]);
        assert_eq!(t.lines, [2, 3, 3, 4, 5, 6]);
        assert_eq!(t.target.len(), 6);
        let mut whole = a.clone();
        whole.append(b.clone());
        assert_eq!(labels(&whole), ["x", "y", "y", "z", "?", "x", "y"]);
    }
}
