//! The columns `validate` reads: the features of the candidate and of the
//! baseline, each read the same way (numeric or categorical) by both, and
//! the tolerant selection that loads them.

use crate::data::Selection;
use crate::error::{Error, Result};
use crate::model::Artifact;
use crate::project::MissingPolicy;

/// The columns both models read.
pub(super) struct Columns {
    /// The candidate's features, then the baseline's other ones.
    pub(super) features: Vec<String>,
    /// Those of them read as categorical.
    pub(super) categorical: Vec<String>,
    /// The cell texts either model reads as missing.
    pub(super) na_values: Vec<String>,
}

impl Columns {
    /// The columns of the candidate and of the baseline, refusing a feature
    /// the two models read differently.
    pub(super) fn of(cand: &Artifact, base: Option<&Artifact>) -> Result<Columns> {
        let mut features = cand.features.clone();
        let mut categorical: Vec<String> = cand.categorical.keys().cloned().collect();
        let mut na_values = cand.missing.na_values.clone();
        if let Some(b) = base {
            for v in &b.missing.na_values {
                if !na_values.contains(v) {
                    na_values.push(v.clone());
                }
            }
            for f in &b.features {
                if !features.contains(f) {
                    features.push(f.clone());
                }
                let bc = b.categorical.contains_key(f);
                let cc = categorical.contains(f);
                if cand.features.contains(f) && bc != cand.categorical.contains_key(f) {
                    return Err(Error::usage(format!(
                        "feature \"{f}\" is {} in the baseline but {} in the candidate; they cannot be scored on the same rows",
                        if bc { "categorical" } else { "numeric" },
                        if bc { "numeric" } else { "categorical" }
                    )));
                }
                if bc && !cc {
                    categorical.push(f.clone());
                }
            }
        }
        Ok(Columns {
            features,
            categorical,
            na_values,
        })
    }

    /// A selection of `feats` (and `target`) that drops incomplete rows
    /// instead of failing on them.
    pub(super) fn tolerant(&self, target: Option<String>, feats: &[String]) -> Selection {
        Selection {
            target,
            features: Some(feats.to_vec()),
            exclude: Vec::new(),
            categorical: self.categorical.clone(),
            missing: MissingPolicy::DropRow,
            na_values: self.na_values.clone(),
        }
    }
}
