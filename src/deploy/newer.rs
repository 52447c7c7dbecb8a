//! The deploy's look at the work tree: a trained model there that is newer
//! than the version about to ship was probably meant to be registered
//! first, so `deploy` says so (it still deploys what was asked).

use crate::error::display_path;
use crate::project::Project;
use crate::registry::Registry;

/// A sentence when the work tree's artifact was trained after `version` of
/// the project's model was registered; `None` when it was not, or when
/// there is nothing to compare (no artifact, no such version).
#[must_use]
pub fn newer_model(project: &Project, version: &str) -> Option<String> {
    let path = project.artifact_path().ok()?;
    let bytes = std::fs::read(&path).ok()?;
    let doc: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let trained = doc.get("created_at")?.as_str()?;
    let trained_s = crate::timestamp::parse_rfc3339(trained)?;
    let name = &project.model().ok()?.name;
    let registry = Registry::read(&project.root, Some(name)).ok()?;
    let models = registry.models();
    let model = models.iter().find(|m| &m.name == name)?;
    let v = model.version(version)?;
    #[allow(clippy::cast_precision_loss)]
    let registered = v.created_at as f64;
    (trained_s > registered).then(|| {
        format!(
            "{} was trained at {trained}, after {name}@{} was registered ({}); this deploys {}, not that model; to ship it, register it with `mlops package` and deploy the new version",
            display_path(&path),
            v.version,
            crate::timestamp::rfc3339(v.created_at),
            v.version
        )
    })
}
