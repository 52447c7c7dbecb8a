//! The evaluation rows: `--data CSV` when given; else the project's
//! validation rows as `train` chose them (`split.validation_path`, or the
//! validation split of the training data); else, when the validation
//! fraction is 0, the training rows.

use std::path::Path;

use crate::data::labels::Unknown;
use crate::data::{self, Selection, Table};
use crate::error::{Error, Result, display_path};
use crate::model::Artifact;
use crate::project::Project;
use crate::report::Progress;

use super::columns::Columns;
use super::training::{Training, usable};

/// The rows to evaluate, and the table that holds them.
pub(super) struct Evaluation {
    /// The evaluation table when it is a file of its own (else it is the
    /// training table, held once, in `training`).
    own: Option<Table>,
    /// The rows of the table to evaluate.
    pub(super) rows: Vec<usize>,
    /// Where they come from, in words.
    pub(super) source: String,
    /// The training data, when it was read.
    pub(super) training: Option<Training>,
}

impl Evaluation {
    /// The rows of `data`, or else the project's validation rows (a note
    /// goes to `notes` when the training data changed since training).
    pub(super) fn load(
        project: &Project,
        data: Option<&Path>,
        cand: &Artifact,
        columns: &Columns,
        progress: &dyn Progress,
        notes: &mut Vec<String>,
    ) -> Result<Evaluation> {
        let (e, unknown) = match data {
            Some(p) => Evaluation::from_file(p, cand, columns, progress)?,
            None => Evaluation::from_project(project, cand, columns, progress, notes)?,
        };
        if unknown.rows > 0 {
            notes.push(format!(
                "{} rows hold a class the model does not know ({}); they are left out",
                unknown.rows,
                unknown
                    .labels
                    .iter()
                    .map(|l| format!("\"{l}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(e)
    }

    /// Every row of `--data`.
    fn from_file(
        p: &Path,
        cand: &Artifact,
        columns: &Columns,
        progress: &dyn Progress,
    ) -> Result<(Evaluation, Unknown)> {
        let mut table = data::load(
            p,
            &columns.tolerant(Some(cand.target.clone()), &columns.features),
            progress,
        )?
        .table;
        let unknown = columns.encode_target(&mut table, &cand.target)?;
        let n = table.rows();
        let e = Evaluation {
            own: Some(table),
            rows: (0..n).collect::<Vec<_>>(),
            source: display_path(p),
            training: None,
        };
        Ok((e, unknown))
    }

    /// The project's validation rows, recomputed as `train` chose them.
    fn from_project(
        project: &Project,
        cand: &Artifact,
        columns: &Columns,
        progress: &dyn Progress,
        notes: &mut Vec<String>,
    ) -> Result<(Evaluation, Unknown)> {
        let t = Training::load(project, &cand.features, columns, progress)?;
        if t.sha256 != cand.data_sha256 {
            notes.push(format!(
                "the training data has changed since the model was trained (sha256 {} now, {} in the artifact); the validation rows may differ from train's",
                &t.sha256[..12.min(t.sha256.len())],
                &cand.data_sha256[..12.min(cand.data_sha256.len())]
            ));
        }
        let split_cfg = &project.file.split;
        let mut unknown = t.unknown.clone();
        let (own, rows, source) = if let Some(vpath) = project.validation_file()? {
            let sel = Selection {
                missing: t.policy,
                ..columns.tolerant(Some(cand.target.clone()), &columns.features)
            };
            let mut vt = data::load(&vpath, &sel, progress)?.table;
            unknown = columns.encode_target(&mut vt, &cand.target)?;
            let idx: Vec<usize> = (0..vt.rows())
                .filter(|&i| usable(&vt, i, t.policy, &cand.features))
                .collect();
            (Some(vt), idx, display_path(&vpath))
        } else if split_cfg.fraction() > 0.0 {
            let what = format!(
                "the validation split (split.validation_fraction = {}, seed {}) of {}",
                split_cfg.fraction(),
                split_cfg.seed,
                t.table.origin
            );
            (None, t.valid_idx.clone(), what)
        } else {
            let what = format!(
                "the training rows of {} (split.validation_fraction = 0)",
                t.table.origin
            );
            (None, t.train_idx.clone(), what)
        };
        let e = Evaluation {
            own,
            rows,
            source,
            training: Some(t),
        };
        Ok((e, unknown))
    }

    /// Read the training data too, when the evaluation rows did not need it
    /// (drift compares against it).
    pub(super) fn ensure_training(
        &mut self,
        project: &Project,
        cand: &Artifact,
        columns: &Columns,
        progress: &dyn Progress,
    ) -> Result<()> {
        if self.training.is_none() {
            self.training = Some(Training::load(project, &cand.features, columns, progress)?);
        }
        Ok(())
    }

    /// The table holding the rows; an error when there are no rows.
    pub(super) fn table(&self) -> Result<&Table> {
        let table: &Table = match (&self.own, &self.training) {
            (Some(t), _) => t,
            (None, Some(t)) => &t.table,
            (None, None) => return Err(Error::data("there are no rows to evaluate")),
        };
        if self.rows.is_empty() {
            return Err(Error::data(format!(
                "{}: there are no validation rows to evaluate; add rows, raise split.validation_fraction or pass --data",
                table.origin
            )));
        }
        Ok(table)
    }
}
