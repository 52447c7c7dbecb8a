//! The registry side of a deploy, read once: the model's versions and
//! stages, which version to take live, what was live before, and the
//! verified bundle of a version.

use git2::Repository;

use crate::error::{Error, Result};
use crate::project::{EnvironmentSection, Project};
use crate::registry::repo;
use crate::registry::state::{self, Model, TagRecord};

use super::verified::{self, Verified};

/// The registry side of a deploy, read once.
pub(super) struct Context<'a> {
    pub(super) project: &'a Project,
    pub(super) env_name: &'a str,
    pub(super) env: &'a EnvironmentSection,
    pub(super) repo: Repository,
    pub(super) model: Model,
    records: Vec<TagRecord>,
}

impl<'a> Context<'a> {
    pub(super) fn open(
        project: &'a Project,
        env_name: &'a str,
        env: &'a EnvironmentSection,
    ) -> Result<Self> {
        let name = project.model()?.name.clone();
        let repo = repo::open(&project.root)?;
        let mut records = repo::read_tags(&repo, Some(&name))?;
        state::sort(&mut records);
        let model = state::resolve(&records).into_iter().next().ok_or_else(|| {
            Error::Registry(format!(
                "there is no model {name} in the registry; register a version with `mlops package` first"
            ))
        })?;
        // A tag numbered u64::MAX: refuse before the environment changes.
        model.next_counter()?;
        if model.deprecated {
            return Err(Error::Registry(format!(
                "{name} is deprecated in the registry; nothing of it ships until a new version is registered with `mlops package`"
            )));
        }
        Ok(Context {
            project,
            env_name,
            env,
            repo,
            model,
            records,
        })
    }

    /// An active registered version: `wanted` or the latest.
    pub(super) fn choose(&self, wanted: Option<&str>) -> Result<String> {
        let name = &self.model.name;
        let Some(v) = wanted else {
            return self.model.latest.clone().ok_or_else(|| {
                Error::Registry(format!(
                    "{name} has no active version to deploy (every version was deregistered); register one with `mlops package`"
                ))
            });
        };
        let ver = self.model.version(v).ok_or_else(|| {
            let known: Vec<&str> = self
                .model
                .versions
                .iter()
                .filter(|x| x.active)
                .map(|x| x.version.as_str())
                .collect();
            Error::Registry(format!(
                "{name} has no version {v} (active: {}){}; run `mlops models` to see the registry",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                },
                self.model.did_you_mean(v)
            ))
        })?;
        if !ver.active {
            return Err(Error::Registry(format!(
                "{name}@{v} was deregistered and must not ship; choose an active version (`mlops models`)"
            )));
        }
        Ok(ver.version.clone())
    }

    /// The assignments of this environment's stage, oldest first: (version, tag).
    fn stage_history(&self) -> Vec<(String, &TagRecord)> {
        state::history(&self.records, Some(&self.model.name))
            .into_iter()
            .filter(|e| e.kind.is_assignment() && e.stage == Some(self.env_name))
            .filter_map(|e| e.version.map(|v| (v, e.record)))
            .collect()
    }

    /// The version live before the registry's current one.
    pub(super) fn previous_version(&self) -> Result<String> {
        let current = self.model.stages.get(self.env_name);
        let hist = self.stage_history();
        let found = hist
            .iter()
            .rev()
            .find(|(v, _)| Some(v) != current && self.model.version(v).is_some_and(|x| x.active));
        if let Some((v, _)) = found {
            return Ok(v.clone());
        }
        let shown = if hist.is_empty() {
            "no assignment yet".to_string()
        } else {
            hist.iter()
                .map(|(v, r)| format!("{v} ({}, {})", r.name, crate::timestamp::rfc3339(r.time)))
                .collect::<Vec<_>>()
                .join(", then ")
        };
        Err(Error::Registry(format!(
            "nothing to roll back to in {}: the stage's history of {} is {shown}; deploy another version first, or name one with --to",
            self.env_name, self.model.name
        )))
    }

    /// What the registry says the champion is: the stage's version (a
    /// canary is recorded beside it, never as its assignment).
    pub(super) fn registry_champion(&self) -> Option<String> {
        self.model.stages.get(self.env_name).cloned()
    }

    /// What the registry says the challenger is: the stage's canary.
    pub(super) fn registry_canary(&self) -> Option<&state::Canary> {
        self.model.canaries.get(self.env_name)
    }

    /// The verified bundle of `version`: from `dist/`, or rebuilt from its
    /// commit; its sha256 must be the registration tag's.
    pub(super) fn bundle(&self, version: &str) -> Result<Verified> {
        verified::bundle(self.project, &self.repo, &self.model, version)
    }
}
