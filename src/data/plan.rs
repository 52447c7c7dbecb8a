//! The plan of a read: where each selected column sits in the header, how
//! it is read, and what the chunk parsers need to know to fill the columns.

use super::header::{Selection, locate};
use crate::error::Result;
use crate::project::MissingPolicy;

/// How a feature column is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureKind {
    /// A number per cell.
    Numeric,
    /// A level (string) per cell.
    Categorical,
}

/// What every chunk parser needs to know about the columns.
#[derive(Clone)]
pub(super) struct Plan<'a> {
    pub(super) origin: &'a str,
    pub(super) width: usize,
    pub(super) feature_names: &'a [String],
    pub(super) feat_idx: Vec<usize>,
    pub(super) kinds: Vec<FeatureKind>,
    pub(super) target: Option<(usize, &'a str)>,
    pub(super) error_on_missing: bool,
    /// The non-empty `data.na_values`, trimmed.
    pub(super) na: Vec<&'a str>,
}

impl Plan<'_> {
    /// Whether `cell` is one of the `data.na_values` (the empty cell is
    /// missing anyway).
    #[inline]
    pub(super) fn is_na(&self, cell: &[u8]) -> bool {
        !self.na.is_empty() && super::cell::is_na_value(&self.na, cell)
    }

    /// Whether a `data.na_values` token reads as a number (`-999`): then
    /// every numeric cell must be compared with it.
    pub(super) fn numeric_na(&self) -> bool {
        self.na.iter().any(|n| {
            n.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_digit() || b"+-.".contains(&b))
        })
    }
}

/// The plan for reading the `feature_names` and target of `sel` from a
/// file with `header`.
pub(super) fn plan<'a>(
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
        na: sel
            .na_values
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect(),
    })
}
