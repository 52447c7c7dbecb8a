//! `train`: project file → data → split → fit → metrics → artifact.
//!
//! This module only chooses the fitting path: the in-memory one (`memory`)
//! or, for data larger than memory, the streaming one (`streaming`). What a
//! run is asked for and what it reports live in `request` and `report`,
//! re-exported here. The artifact is written
//! atomically and only after every step succeeded, so a failure leaves the
//! previous artifact (or none) in place.

use std::path::PathBuf;
use std::time::Instant;

use crate::data;
use crate::error::Result;
use crate::project::Project;
use crate::report::Progress;

mod memory;
mod report;
mod request;
mod streaming;

pub use report::TrainReport;
pub use request::TrainOptions;

/// Files above this size train on the streaming path unless told otherwise.
pub const STREAMING_THRESHOLD: u64 = 512 << 20;

/// Train the project's model and write its artifact.
pub fn train(
    project: &Project,
    opts: &TrainOptions,
    progress: &dyn Progress,
) -> Result<TrainReport> {
    let start = Instant::now();
    // `[data]` is checked before `[model]`.
    project.data()?;
    let model_cfg = project.model()?;
    let data_files = project.data_files()?;
    let streaming = opts.streaming
        || model_cfg
            .streaming
            .unwrap_or_else(|| above_threshold(&data_files));
    if streaming {
        project.validation_file()?;
        return streaming::train(project, opts, progress, start);
    }
    memory::train(project, opts, progress, start, &data_files)
}

/// Whether the data files together are larger than [`STREAMING_THRESHOLD`]
/// (a gzip file counts five times its size; a URL's size is unknown: stream it).
fn above_threshold(data_files: &[PathBuf]) -> bool {
    let size: u64 = data_files
        .iter()
        .map(|p| {
            if data::url_of(p).is_some() {
                return u64::MAX / 4;
            }
            let len = std::fs::metadata(p).map_or(0, |m| m.len());
            if data::is_gzip(p) { len * 5 } else { len }
        })
        .fold(0u64, u64::saturating_add);
    size > STREAMING_THRESHOLD
}

/// What to do about a level met only in validation rows.
pub(crate) fn unseen_hint(separate_file: bool) -> &'static str {
    if separate_file {
        "add training rows with it, remove it from the validation file, or set data.min_level_count > 1 or data.handle_unknown = \"ignore\""
    } else {
        "add training rows with it, change split.seed, or set data.min_level_count > 1 or data.handle_unknown = \"ignore\""
    }
}
