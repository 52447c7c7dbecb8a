//! The project's training data as `train` saw it: the same files, the same
//! missing-value rule, the same [`crate::data::split`] decision per row.

use crate::data::labels::Unknown;
use crate::data::{self, Table, split};
use crate::error::Result;
use crate::project::{MissingPolicy, Project};
use crate::report::Progress;

use super::columns::Columns;

/// The project's training data with train's row assignment.
pub(super) struct Training {
    pub(super) table: Table,
    pub(super) sha256: String,
    pub(super) policy: MissingPolicy,
    pub(super) train_idx: Vec<usize>,
    pub(super) valid_idx: Vec<usize>,
    /// Rows whose label is not a class of the model (classifiers).
    pub(super) unknown: Unknown,
}

/// Whether train uses row `i` under `policy` (judged on the model's features).
pub(super) fn usable(
    t: &Table,
    i: usize,
    policy: MissingPolicy,
    model_features: &[String],
) -> bool {
    match policy {
        MissingPolicy::Error => true,
        MissingPolicy::Mean => !t.target[i].is_nan(),
        MissingPolicy::DropRow => {
            !t.target[i].is_nan()
                && !t
                    .feature_names
                    .iter()
                    .zip(&t.features)
                    .any(|(n, c)| model_features.contains(n) && c.is_missing(i))
        }
    }
}

impl Training {
    /// Load `[data]` as train does (the `columns`) and assign its rows as
    /// train does (usable rows judged on `model_features`).
    pub(super) fn load(
        project: &Project,
        model_features: &[String],
        columns: &Columns,
        progress: &dyn Progress,
    ) -> Result<Training> {
        let dcfg = project.data()?;
        let files = project.data_files()?;
        let sel = columns.labelled(data::Selection {
            target: Some(dcfg.target.clone()),
            features: Some(columns.features.clone()),
            exclude: dcfg.exclude.clone(),
            categorical: columns.categorical.clone(),
            missing: dcfg.missing,
            na_values: dcfg.na_values.clone(),
        });
        let loaded = data::load_files(&files, &sel, progress)?;
        let mut table = loaded.table;
        let unknown = columns.encode_target(&mut table, &dcfg.target)?;
        let fraction = project.file.split.fraction();
        let seed = project.file.split.seed;
        let mut train_idx = Vec::new();
        let mut valid_idx = Vec::new();
        for i in 0..table.rows() {
            if !usable(&table, i, dcfg.missing, model_features) {
                continue;
            }
            if split::is_validation(seed, i as u64, fraction) {
                valid_idx.push(i);
            } else {
                train_idx.push(i);
            }
        }
        Ok(Training {
            table,
            sha256: loaded.sha256,
            policy: dcfg.missing,
            train_idx,
            valid_idx,
            unknown,
        })
    }
}
