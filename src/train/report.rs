//! What a training run reports, and the last step of both fitting paths:
//! writing the artifact atomically.

use std::time::Instant;

use serde::Serialize;

use crate::error::{Result, display_path};
use crate::model::Artifact;
use crate::project::Project;
use crate::train::request::TrainOptions;

/// What a training run did.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// Where the artifact was written.
    pub artifact_path: String,
    /// Which fitting path ran: "in-memory" or "streaming".
    pub path: &'static str,
    /// Wall time of the run in seconds.
    pub seconds: f64,
    /// The artifact.
    pub model: Artifact,
}

/// Write the artifact atomically and report.
pub(crate) fn write_report(
    project: &Project,
    opts: &TrainOptions,
    artifact: Artifact,
    path: &'static str,
    start: Instant,
) -> Result<TrainReport> {
    let out = match &opts.out {
        Some(p) => p.clone(),
        None => project.artifact_path()?,
    };
    let artifact = keep_unchanged(&out, artifact);
    crate::fsutil::write_atomic(&out, artifact.to_json().as_bytes())?;
    Ok(TrainReport {
        artifact_path: display_path(&out),
        path,
        seconds: start.elapsed().as_secs_f64(),
        model: artifact,
    })
}

/// A retrain on unchanged data and configuration leaves the artifact
/// byte-identical: when the file at `out` is this artifact but for its
/// `created_at`, that timestamp is kept, so a committed model is not
/// dirtied by training again.
fn keep_unchanged(out: &std::path::Path, mut artifact: Artifact) -> Artifact {
    let Ok(old_bytes) = std::fs::read(out) else {
        return artifact;
    };
    let Ok(old) = Artifact::from_slice(&old_bytes, "") else {
        return artifact;
    };
    if old.created_at == artifact.created_at {
        return artifact;
    }
    let new_created = std::mem::replace(&mut artifact.created_at, old.created_at);
    if artifact.to_json().as_bytes() != old_bytes.as_slice() {
        artifact.created_at = new_created;
    }
    artifact
}
