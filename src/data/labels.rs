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
    let Some(k) = table.feature_names.iter().position(|n| n == target) else {
        return Err(Error::data(format!(
            "{}: target column \"{target}\" was not read; check data.target",
            table.origin
        )));
    };
    table.feature_names.remove(k);
    let labels: Vec<Option<String>> = match table.features.remove(k) {
        Column::Categorical { codes, levels } => codes
            .iter()
            .map(|&c| (c != MISSING_LEVEL).then(|| levels[c as usize].clone()))
            .collect(),
        Column::Numeric(v) => v
            .iter()
            .map(|x| (!x.is_nan()).then(|| x.to_string()))
            .collect(),
    };
    table.target = labels
        .iter()
        .map(|l| if l.is_some() { 0.0 } else { f64::NAN })
        .collect();
    Ok(labels)
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
