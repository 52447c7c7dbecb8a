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
    })
}
