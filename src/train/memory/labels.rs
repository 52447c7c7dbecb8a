//! A classifier's target read as labels (strings, integers or booleans): it
//! is loaded as a categorical column and taken out of the features.

use crate::data::{Column, MISSING_LEVEL, Selection, Table};
use crate::error::{Error, Result};

/// The selection that reads the target as a categorical feature column.
pub(super) fn label_selection(sel: &Selection, target: &str) -> Selection {
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
pub(super) fn take_target(table: &mut Table, target: &str) -> Result<Vec<Option<String>>> {
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
