//! Which rows the in-memory path trains and validates on: the split, then
//! the missing-value policy, and the rows of a separate validation file.

use crate::data::{self, Selection, Table, split};
use crate::error::{Error, Result};
use crate::project::{MissingPolicy, Project};
use crate::report::Progress;

/// The training and validation rows of a table.
pub(super) struct RowSplit {
    /// Training rows of the table.
    pub train: Vec<usize>,
    /// Validation rows: of `valid_table` when there is one, else of the table.
    pub valid: Vec<usize>,
    /// Rows the missing-value policy dropped (in both files).
    pub dropped: u64,
    /// The separate validation file (`split.validation_path`), loaded.
    pub valid_table: Option<Table>,
    /// SHA-256 of the separate validation file.
    pub valid_sha256: Option<String>,
    /// Classifiers: the separate validation file's target labels.
    pub valid_labels: Option<Vec<Option<String>>>,
}

impl RowSplit {
    /// Row selection: split, then the missing-value policy; a separate
    /// validation file is loaded with the training table's features.
    pub fn select(
        project: &Project,
        table: &Table,
        sel: &Selection,
        label_target: Option<&str>,
        progress: &dyn Progress,
    ) -> Result<RowSplit> {
        let policy = sel.missing;
        let fraction = project.file.split.fraction();
        let seed = project.file.split.seed;
        let mut train = Vec::with_capacity(table.rows());
        let mut valid = Vec::new();
        let mut dropped = 0u64;
        let mut valid_labels = None;
        for i in 0..table.rows() {
            if !usable(policy, table, i) {
                dropped += 1;
            } else if split::is_validation(seed, i as u64, fraction) {
                valid.push(i);
            } else {
                train.push(i);
            }
        }
        let (valid_table, valid_sha256) = match project.validation_file()? {
            Some(vpath) => {
                let mut features = table.feature_names.clone();
                features.extend(label_target.map(String::from));
                let vsel = Selection {
                    features: Some(features),
                    exclude: Vec::new(),
                    ..sel.clone()
                };
                let loaded = data::load(&vpath, &vsel, progress)?;
                let mut vt = loaded.table;
                if let Some(t) = label_target {
                    valid_labels = Some(crate::data::labels::take_target(&mut vt, t)?);
                }
                for i in 0..vt.rows() {
                    if usable(policy, &vt, i) {
                        valid.push(i);
                    } else {
                        dropped += 1;
                    }
                }
                (Some(vt), Some(loaded.sha256))
            }
            None => (None, None),
        };
        if train.is_empty() {
            return Err(Error::data(format!(
                "{}: no training rows are left after the split and the missing-value policy; add rows or lower split.validation_fraction",
                table.origin
            )));
        }
        if fraction > 0.0 && valid.is_empty() {
            return Err(Error::data(format!(
                "{}: the validation split is empty ({} rows at split.validation_fraction = {fraction}); add rows or raise the fraction",
                table.origin,
                table.rows()
            )));
        }
        Ok(RowSplit {
            train,
            valid,
            dropped,
            valid_table,
            valid_sha256,
            valid_labels,
        })
    }

    /// At least two training rows, and a target that varies across them.
    pub fn check_fittable(&self, table: &Table, target: &str) -> Result<()> {
        let train_idx = &self.train;
        if train_idx.len() < 2 {
            return Err(Error::data(format!(
                "{}: only {} training row is left after the split and the missing-value policy; a model needs at least 2, add rows",
                table.origin,
                train_idx.len()
            )));
        }
        let y0 = table.target[train_idx[0]];
        if train_idx.iter().all(|&i| table.target[i] == y0) {
            return Err(Error::data(format!(
                "{}: target \"{target}\" is constant ({y0} in every training row); there is nothing to learn",
                table.origin
            )));
        }
        Ok(())
    }
}

/// Whether row `i` of `t` can be used under the missing-value policy.
fn usable(policy: MissingPolicy, t: &Table, i: usize) -> bool {
    match policy {
        MissingPolicy::Error => true,
        MissingPolicy::Mean => !t.target[i].is_nan(),
        MissingPolicy::DropRow => {
            !t.target[i].is_nan() && !t.features.iter().any(|c| c.is_missing(i))
        }
    }
}
