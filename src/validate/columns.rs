//! The columns `validate` reads: the features of the candidate and of the
//! baseline, each read the same way (numeric or categorical) by both, and
//! the tolerant selection that loads them. A classifier's target is read
//! as labels and encoded as the candidate's class indices.

use crate::data::labels::{self, Unknown};
use crate::data::{Selection, Table};
use crate::error::{Error, Result};
use crate::model::Artifact;
use crate::project::MissingPolicy;

/// The columns both models read.
pub(super) struct Columns {
    /// The candidate's features, then the baseline's other ones.
    pub(super) features: Vec<String>,
    /// Those of them read as categorical.
    pub(super) categorical: Vec<String>,
    /// A classifier's classes: the target is then read as labels.
    classes: Option<Vec<String>>,
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
            classes: cand.classifier.as_ref().map(|c| c.classes.clone()),
            na_values,
        })
    }

    /// `sel`, reading its target as labels when the model is a classifier.
    pub(super) fn labelled(&self, sel: Selection) -> Selection {
        match (&self.classes, &sel.target) {
            (Some(_), Some(t)) => labels::label_selection(&sel, t),
            _ => sel,
        }
    }

    /// A classifier's target, read by [`Columns::labelled`], taken out of
    /// the features and encoded as class indices (NaN when missing or not a
    /// class of the model); the rows of unknown classes, for a note.
    pub(super) fn encode_target(&self, table: &mut Table, target: &str) -> Result<Unknown> {
        match &self.classes {
            Some(classes) => {
                let l = labels::take_target(table, target)?;
                Ok(labels::encode_known(table, &l, classes))
            }
            None => Ok(Unknown::default()),
        }
    }

    /// A selection of `feats` (and `target`) that drops incomplete rows
    /// instead of failing on them.
    pub(super) fn tolerant(&self, target: Option<String>, feats: &[String]) -> Selection {
        self.labelled(Selection {
            target,
            features: Some(feats.to_vec()),
            exclude: Vec::new(),
            categorical: self.categorical.clone(),
            missing: MissingPolicy::DropRow,
            na_values: self.na_values.clone(),
        })
    }
}
