//! What the streaming passes read and how: the project's settings the two
//! passes share, checked once (the streaming path fits `linear`, `logistic`
//! and `multinomial` models, not GLMs, and cannot fill missing values with
//! means).

use std::path::PathBuf;

use crate::data::{self, Selection, Table, labels};
use crate::error::{Error, Result, display_path};
use crate::project::{DataSection, MissingPolicy, ModelKind, ModelSection, Project};
use crate::train::request::{self, TrainOptions};

/// The settings of a streaming fit.
pub(super) struct Plan<'a> {
    pub project: &'a Project,
    pub data_cfg: &'a DataSection,
    pub model_cfg: &'a ModelSection,
    /// The training files, and how messages name them together.
    pub data_files: Vec<PathBuf>,
    pub origin: String,
    pub sel: Selection,
    /// `split.validation_fraction` and `split.seed`.
    pub fraction: f64,
    pub seed: u64,
    /// Whether the model has an intercept.
    pub intercept: bool,
    /// Whether rows with a missing value are dropped (else they are an error).
    pub drop_rows: bool,
    /// Block size in bytes of the reader.
    pub block: usize,
    /// Whether the validation rows come from a separate file.
    pub separate: bool,
    /// Whether the model is a classifier (its target read as labels).
    pub classifier: bool,
}

impl<'a> Plan<'a> {
    /// The settings, or a usage error for what the streaming path cannot fit.
    pub fn new(project: &'a Project, opts: &TrainOptions) -> Result<Plan<'a>> {
        let cfg = &project.file;
        let data_cfg = project.data()?;
        let model_cfg = project.model()?;
        if model_cfg.kind == ModelKind::Glm {
            return Err(Error::usage(format!(
                "{}: the streaming path fits model.kind = \"linear\", \"logistic\" or \"multinomial\", not \"glm\"; set model.streaming = false (or drop --streaming) to fit a GLM in memory",
                project.locate("model", "kind")
            )));
        }
        if data_cfg.missing == MissingPolicy::Mean {
            return Err(Error::usage(format!(
                "{}: the streaming path cannot use data.missing = \"mean\" (the means must be known before the first row is fitted); use \"drop-row\" or \"error\", or train in memory",
                project.locate("data", "missing")
            )));
        }
        let classifier = model_cfg.kind.is_classifier();
        let data_files = project.data_files()?;
        let origin = match data_files.as_slice() {
            [one] => display_path(one),
            [first, rest @ ..] => format!("{} (and {} more)", display_path(first), rest.len()),
            [] => String::new(),
        };
        Ok(Plan {
            project,
            data_cfg,
            model_cfg,
            data_files,
            origin,
            sel: if classifier {
                labels::label_selection(&request::selection(data_cfg), &data_cfg.target)
            } else {
                request::selection(data_cfg)
            },
            fraction: cfg.split.fraction(),
            seed: cfg.split.seed,
            intercept: model_cfg.fit_intercept,
            drop_rows: data_cfg.missing == MissingPolicy::DropRow,
            block: if opts.block == 0 {
                data::STREAM_BLOCK
            } else {
                opts.block
            },
            separate: cfg.split.validation_path.is_some(),
            classifier,
        })
    }

    /// Whether row `i` of `t` is used: under drop-row, only rows without a
    /// missing value.
    #[inline]
    pub fn usable(&self, t: &Table, i: usize) -> bool {
        !self.drop_rows || (!t.target[i].is_nan() && !t.features.iter().any(|c| c.is_missing(i)))
    }
}
