//! A classifier's target read as labels (strings, integers or booleans): it
//! is loaded as a categorical column and taken out of the features; `train`
//! and `validate` then encode the labels as class indices.

use crate::data::{Column, MISSING_LEVEL, Selection, Table};
use crate::error::{Error, Result};

/// The selection that reads the target as a categorical feature column.
pub fn label_selection(sel: &Selection, target: &str) -> Selection {
    let mut s = sel.clone();
    s.target = None;
    if let Some(f) = &mut s.features {
        f.push(target.to_string());
    }
    s.categorical.push(target.to_string());
    s
}

/// Take the target column out of the features: its label per row (`None`
/// when missing); the table's target becomes 0 (present) or NaN (missing).
pub fn take_target(table: &mut Table, target: &str) -> Result<Vec<Option<String>>> {
    let (codes, labels) = take_target_codes(table, target)?;
    Ok(codes
        .iter()
        .map(|&c| (c != MISSING_LEVEL).then(|| labels[c as usize].clone()))
        .collect())
}

/// [`take_target`] without a string per row: each row's label as an index
/// into the block's distinct labels ([`MISSING_LEVEL`] when missing), and
/// those labels (a number's as `f64::to_string` writes it).
pub fn take_target_codes(table: &mut Table, target: &str) -> Result<(Vec<u32>, Vec<String>)> {
    let Some(k) = table.feature_names.iter().position(|n| n == target) else {
        return Err(Error::data(format!(
            "{}: target column \"{target}\" was not read; check data.target",
            table.origin
        )));
    };
    table.feature_names.remove(k);
    let (codes, labels) = match table.features.remove(k) {
        Column::Categorical { codes, levels } => (codes, levels),
        Column::Numeric(v) => number_codes(&v),
    };
    table.target = codes
        .iter()
        .map(|&c| if c == MISSING_LEVEL { f64::NAN } else { 0.0 })
        .collect();
    Ok((codes, labels))
}

/// The distinct numbers of `v` (by their bits, so `-0` and `0` differ as
/// their labels do) as codes and labels; NaN is missing. The first few
/// distinct numbers (a classifier's usual handful) are found by a scan,
/// any more through a map.
fn number_codes(v: &[f64]) -> (Vec<u32>, Vec<String>) {
    const SCAN: usize = 16;
    let mut bits: Vec<u64> = Vec::new();
    let mut more: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    let mut labels = Vec::new();
    let codes = v
        .iter()
        .map(|x| {
            if x.is_nan() {
                return MISSING_LEVEL;
            }
            let b = x.to_bits();
            let found = match bits.iter().position(|&seen| seen == b) {
                Some(at) => Some(at),
                None if bits.len() >= SCAN => more.get(&b).copied(),
                None => None,
            };
            let at = found.unwrap_or_else(|| {
                let at = labels.len();
                if at < SCAN {
                    bits.push(b);
                } else {
                    more.insert(b, at);
                }
                labels.push(x.to_string());
                at
            });
            u32::try_from(at).unwrap_or(MISSING_LEVEL)
        })
        .collect();
    (codes, labels)
}

/// Set the table's target to each row's class index among `classes`; a
/// missing label, or one not among the classes, becomes NaN (not scored).
/// The rows of labels outside the classes are counted, with the first few
/// such labels.
pub fn encode_known(table: &mut Table, labels: &[Option<String>], classes: &[String]) -> Unknown {
    let mut unknown = Unknown::default();
    for (t, l) in table.target.iter_mut().zip(labels) {
        let Some(l) = l else { continue };
        #[allow(clippy::cast_precision_loss)]
        match classes.iter().position(|c| c == l) {
            Some(c) => *t = c as f64,
            None => {
                *t = f64::NAN;
                unknown.rows += 1;
                if unknown.labels.len() < 5 && !unknown.labels.contains(l) {
                    unknown.labels.push(l.clone());
                }
            }
        }
    }
    unknown
}

/// Rows whose label is not a class of the model.
#[derive(Debug, Clone, Default)]
pub struct Unknown {
    /// How many.
    pub rows: u64,
    /// The first few distinct such labels.
    pub labels: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes point at each row's own label, labels in order of appearance,
    /// past the scanned few too; `-0` and `0` are two labels, NaN none.
    #[test]
    fn number_codes_name_each_row_s_label() {
        let mut v: Vec<f64> = (0..40).map(|i| f64::from(i % 23) * 0.5).collect();
        v.extend([f64::NAN, -0.0, 0.0, 3.0, 1e300]);
        let (codes, labels) = number_codes(&v);
        let mut seen: Vec<String> = Vec::new();
        for (x, &c) in v.iter().zip(&codes) {
            if x.is_nan() {
                assert_eq!(c, MISSING_LEVEL);
                continue;
            }
            let s = x.to_string();
            if !seen.contains(&s) {
                seen.push(s.clone());
            }
            assert_eq!(labels[c as usize], s);
        }
        assert_eq!(labels, seen);
        assert_eq!(labels.len(), 23 + 2);
    }
}
