//! One version's page, from the registry alone (MLflow's model-version
//! page): what its registration tag records (metrics, data fingerprint,
//! bundle sha256, tool), its commit, the stages it holds or runs beside as
//! a canary, and every event that concerns it.

use serde_json::Value;

use super::state::{Event, Model, Version};
use super::{Registry, tag::Semver};
use crate::error::{Error, Result};

/// A version's page.
#[derive(Debug)]
pub struct VersionPage<'a> {
    /// The model.
    pub model: Model,
    /// The version.
    pub version: Version,
    /// The stages whose version it is.
    pub stages: Vec<String>,
    /// The stages it runs beside as a canary: (stage, percent).
    pub canaries: Vec<(String, u8)>,
    /// The events of the version (its registration, stage events on its commit, canaries).
    pub events: Vec<Event<'a>>,
}

impl VersionPage<'_> {
    /// A field of the registration tag's metadata.
    #[must_use]
    pub fn meta(&self, key: &str) -> Option<&Value> {
        self.version.metadata.as_ref().and_then(|m| m.get(key))
    }
}

/// The page of `version` (default: the latest active one) of `name`.
pub fn version_page<'a>(
    reg: &'a Registry,
    name: &str,
    version: Option<&Semver>,
) -> Result<VersionPage<'a>> {
    let model = reg
        .models()
        .into_iter()
        .find(|m| m.name == name)
        .ok_or_else(|| {
            Error::Registry(format!(
                "there is no model {name} in the registry; run `mlops models` to see the registered models"
            ))
        })?;
    let wanted = match version {
        Some(v) => v.to_string(),
        None => model.latest.clone().ok_or_else(|| {
            Error::Registry(format!(
                "{name} has no active version; name one with {name}@vX.Y.Z (`mlops history {name}` lists them)"
            ))
        })?,
    };
    let ver = model.version(&wanted).cloned().ok_or_else(|| {
        let known: Vec<&str> = model.versions.iter().map(|v| v.version.as_str()).collect();
        Error::Registry(format!(
            "{name} has no version {wanted} (versions: {}); run `mlops models` to see the registry",
            known.join(", ")
        ))
    })?;
    let stages = model
        .stages
        .iter()
        .filter(|(_, v)| **v == ver.version)
        .map(|(s, _)| s.clone())
        .collect();
    let canaries = model
        .canaries
        .iter()
        .filter(|(_, c)| c.version == ver.version)
        .map(|(s, c)| (s.clone(), c.percent))
        .collect();
    let events = reg
        .history(Some(name))
        .into_iter()
        .filter(|e| e.record.commit == ver.commit || e.version.as_deref() == Some(&ver.version))
        .collect();
    Ok(VersionPage {
        model,
        version: ver,
        stages,
        canaries,
        events,
    })
}
