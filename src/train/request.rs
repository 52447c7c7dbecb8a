//! What a training run is asked for: the options that do not come from the
//! project file, and the columns the project's `[data]` selects.

use std::path::PathBuf;

use crate::data::Selection;
use crate::project::DataSection;

/// Options of a training run that do not come from the project file.
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// Write the artifact here instead of `[model].artifact`.
    pub out: Option<PathBuf>,
    /// Force the streaming path (`--streaming`); else `[model].streaming`,
    /// else by file size.
    pub streaming: bool,
    /// Block size in bytes of the streaming reader (0: the default, 8 MiB).
    pub block: usize,
    /// Timestamp recorded as `created_at` (RFC 3339).
    pub created_at: String,
}

/// The columns `[data]` selects: the target, the features, the categorical
/// ones and the missing-value policy.
pub(crate) fn selection(data_cfg: &DataSection) -> Selection {
    Selection {
        target: Some(data_cfg.target.clone()),
        features: data_cfg.features.clone(),
        exclude: data_cfg.exclude.clone(),
        categorical: data_cfg.categorical.clone(),
        missing: data_cfg.missing,
        na_values: data_cfg.na_values.clone(),
    }
}
