//! The baseline: which registered version to compare with, and its
//! artifact, read straight from the version's commit with git2 (the work
//! tree is never touched).
//!
//! A stage names the version now in it; `NAME@vX.Y.Z` (or `vX.Y.Z` of the
//! project's model) names a version. No version registered yet, or an empty
//! stage, is not an error: there is nothing to compare with, and the
//! report says so. An unknown stage or version is a registry error (exit 4).

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::Artifact;
use crate::package::{committed_artifact, rel_in_repo};
use crate::project::{BaselineSection, Project};
use crate::registry::Registry;
use crate::registry::repo;
use crate::registry::state::Model;
use crate::registry::tag::{Action, Semver, TagName, valid_name};

/// What the user asked to compare with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// The version now in this stage.
    Stage(String),
    /// This version of this model.
    Version {
        /// The model.
        model: String,
        /// `vX.Y.Z`.
        version: String,
    },
}

impl Spec {
    /// Parse `STAGE`, `NAME@vX.Y.Z` or `vX.Y.Z` (of `model`); `origin`
    /// names where it came from in errors.
    pub fn parse(s: &str, model: &str, origin: &str) -> Result<Spec> {
        let s = s.trim();
        if let Some((n, v)) = s.split_once('@') {
            let tag = match Semver::parse(v) {
                Some(_) => format!("{n}@v{v}"),
                None => s.to_string(),
            };
            return match TagName::parse(&tag) {
                Some(TagName {
                    artifact,
                    action: Action::Register(v),
                    counter: None,
                }) => Ok(Spec::Version {
                    model: artifact,
                    version: v.to_string(),
                }),
                _ => Err(Error::usage(format!(
                    "{origin} \"{s}\" is not a version; use NAME@vX.Y.Z, like {model}@v1.2.0, or a stage name"
                ))),
            };
        }
        if let Some(v) = Semver::parse_user(s) {
            return Ok(Spec::Version {
                model: model.to_string(),
                version: v.to_string(),
            });
        }
        if valid_name(s) {
            return Ok(Spec::Stage(s.to_string()));
        }
        Err(Error::usage(format!(
            "{origin} \"{s}\" is neither a stage name nor NAME@vX.Y.Z; use e.g. prod or {model}@v1.2.0"
        )))
    }

    /// How the report names it: `stage prod` or `house-price@v1.2.0`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Spec::Stage(s) => format!("stage {s}"),
            Spec::Version { model, version } => format!("{model}@{version}"),
        }
    }
}

/// The baseline as reported.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineInfo {
    /// What was asked for: `stage prod` or `NAME@vX.Y.Z`.
    pub requested: String,
    /// The model.
    pub name: String,
    /// The version found, or `null` when there is none yet.
    pub version: Option<String>,
    /// Its registration tag.
    pub tag: Option<String>,
    /// Its commit.
    pub commit: Option<String>,
    /// The artifact's path in the repository at that commit.
    pub artifact: Option<String>,
    /// Its metrics on the validation rows (filled in later).
    pub metrics: Option<crate::model::metrics::MetricSet>,
    /// A classifier's classification metrics on the validation rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<crate::stats::classification::ClassMetrics>,
    /// Why there is nothing to compare with, when so.
    pub note: Option<String>,
}

/// What `--baseline` (`flag`) or else `[validate.baseline]` (`cfg`) asks
/// to compare the model `model` with, if anything.
pub fn requested(
    project: &Project,
    flag: Option<&str>,
    cfg: Option<&BaselineSection>,
    model: &str,
) -> Result<Option<Spec>> {
    Ok(match (flag, cfg) {
        (Some(s), _) => Some(Spec::parse(s, model, "--baseline")?),
        (None, Some(b)) => match (&b.stage, &b.version) {
            (Some(s), _) => Some(Spec::parse(
                s,
                model,
                &format!(
                    "{}: validate.baseline.stage",
                    project.locate("validate.baseline", "stage")
                ),
            )?),
            (None, Some(v)) => Some(Spec::parse(
                v,
                model,
                &format!(
                    "{}: validate.baseline.version",
                    project.locate("validate.baseline", "version")
                ),
            )?),
            (None, None) => None,
        },
        (None, None) => None,
    })
}

/// Resolve `spec` for the project's model `model` in the project's
/// repository: the info and the artifact (none when there is no baseline yet).
pub fn resolve(
    project: &Project,
    spec: &Spec,
    model: &str,
) -> Result<(BaselineInfo, Option<Artifact>)> {
    let repo = repo::open(&project.root)?;
    let registry = Registry::from_repo(&repo, None)?;
    let name = match spec {
        Spec::Stage(_) => model.to_string(),
        Spec::Version { model, .. } => model.clone(),
    };
    let mut info = BaselineInfo {
        requested: spec.describe(),
        name: name.clone(),
        version: None,
        tag: None,
        commit: None,
        artifact: None,
        metrics: None,
        classification: None,
        note: None,
    };
    let models = registry.models();
    let m = models.iter().find(|m| m.name == name);
    let version = match spec {
        Spec::Stage(stage) => match stage_version(project, &registry, m, stage, &name)? {
            InStage::Version(v) => v,
            InStage::Nothing(note) => {
                info.note = Some(note);
                return Ok((info, None));
            }
        },
        Spec::Version { version, .. } => registered_version(project, m, &name, version)?,
    };
    let ver = m
        .and_then(|m| m.version(&version))
        .ok_or_else(|| Error::Registry(format!("{name} has no version {version}")))?;
    let oid = git2::Oid::from_str(&ver.commit).map_err(|e| repo::git_err("read the tag", &e))?;
    let commit = repo
        .find_commit(oid)
        .map_err(|e| repo::git_err(&format!("find commit {}", ver.commit), &e))?;
    let toml_rel = rel_in_repo(&repo, &project.path)?;
    let c = committed_artifact(&repo, &commit, &toml_rel)?;
    if !ver.active {
        info.note = Some(format!(
            "{name}@{version} was deregistered; compared with it anyway"
        ));
    }
    info.version = Some(version);
    info.tag = Some(ver.tag.clone());
    info.commit = Some(ver.commit.clone());
    info.artifact = Some(c.artifact_rel);
    Ok((info, Some(c.artifact)))
}

/// What a stage holds for the baseline.
enum InStage {
    /// This version.
    Version(String),
    /// Nothing yet: the note that says why.
    Nothing(String),
}

/// The version in `stage` of model `m` (named `name`); an unknown stage is
/// a registry error.
fn stage_version(
    project: &Project,
    registry: &Registry,
    m: Option<&Model>,
    stage: &str,
    name: &str,
) -> Result<InStage> {
    let configured: &[String] = project
        .file
        .registry
        .as_ref()
        .map_or(&[], |r| r.stages.as_slice());
    let known = if configured.is_empty() {
        registry
            .records
            .iter()
            .any(|r| r.parsed.stage() == Some(stage))
    } else {
        configured.iter().any(|s| s == stage)
    };
    let has_versions = m.is_some_and(|m| !m.versions.is_empty());
    if !known && (has_versions || !configured.is_empty()) {
        let assigned: Vec<&str> = registry
            .records
            .iter()
            .filter_map(|r| r.parsed.stage())
            .collect();
        let candidates: Vec<&str> = if configured.is_empty() {
            assigned
        } else {
            configured.iter().map(String::as_str).collect()
        };
        let hint = crate::project::did_you_mean(stage, &candidates);
        let list = if configured.is_empty() {
            "no stage is listed in [registry].stages and none was ever assigned; add it to [registry].stages".to_string()
        } else {
            format!("the stages are {}", configured.join(", "))
        };
        return Err(Error::Registry(format!(
            "there is no stage \"{stage}\" in the registry{hint} ({list}); check --baseline or validate.baseline.stage"
        )));
    }
    Ok(match m.and_then(|m| m.stages.get(stage)) {
        Some(v) => InStage::Version(v.clone()),
        None => InStage::Nothing(if has_versions {
            format!("stage {stage} of {name} is empty; there is no baseline to compare with yet")
        } else {
            format!("no version of {name} is registered yet; there is no baseline to compare with")
        }),
    })
}

/// `version` of model `m` (named `name`), which must be registered.
fn registered_version(
    project: &Project,
    m: Option<&Model>,
    name: &str,
    version: &str,
) -> Result<String> {
    let Some(m) = m else {
        let hint = Registry::nearest_model(&project.root, name).map_or_else(String::new, |n| {
            format!("; did you mean \"{n}@{version}\"?")
        });
        return Err(Error::Registry(format!(
            "there is no model {name} in the registry, so no {name}@{version}{hint}; run `mlops models` to see the registered models"
        )));
    };
    if m.version(version).is_none() {
        return Err(Error::Registry(format!(
            "{name} has no version {version}{}; run `mlops models` to see its versions",
            m.did_you_mean(version)
        )));
    }
    Ok(version.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let p = |s| Spec::parse(s, "m", "--baseline");
        assert_eq!(p("prod").unwrap(), Spec::Stage("prod".into()));
        assert_eq!(
            p("m@v1.2.0").unwrap(),
            Spec::Version {
                model: "m".into(),
                version: "v1.2.0".into()
            }
        );
        assert_eq!(
            p("v0.0.1").unwrap(),
            Spec::Version {
                model: "m".into(),
                version: "v0.0.1".into()
            }
        );
        assert_eq!(p("m@x").unwrap_err().exit_code(), 2);
        assert_eq!(p("a b").unwrap_err().exit_code(), 2);
        assert_eq!(p("m#prod").unwrap_err().exit_code(), 2);
    }
}
