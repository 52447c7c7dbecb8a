//! `mlops status`: for each environment and each of its targets, the
//! version the registry assigns against the version the target serves
//! (asked over the admin API, read from the folder or the manifests), the
//! challenger and its share, readiness, and any unfinished deploy journal.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::project::{EnvironmentSection, Project, Role, TargetKind};
use crate::registry::repo;
use crate::registry::state::{self, Model};

use super::multi::{self, Journal};

/// One target's state.
#[derive(Debug, Clone)]
pub struct TargetStatus {
    /// The `[targets.T]` name (the environment's name for a single target).
    pub name: String,
    /// Its kind.
    pub kind: TargetKind,
    /// Folder or URL.
    pub location: String,
    /// `region`.
    pub region: Option<String>,
    /// `role`.
    pub role: Role,
    /// The champion it serves.
    pub serving: Option<String>,
    /// The challenger it serves.
    pub challenger: Option<String>,
    /// The challenger's share of traffic.
    pub challenger_percent: u8,
    /// Whether it answers its readiness check.
    pub ready: bool,
    /// Why it could not be asked.
    pub error: Option<String>,
    /// Whether it serves what the registry says.
    pub agrees: bool,
}

/// One environment's state.
#[derive(Debug, Clone)]
pub struct EnvStatus {
    /// The environment (stage).
    pub environment: String,
    /// The version the registry assigns.
    pub registry: Option<String>,
    /// The canary the registry records beside it.
    pub registry_canary: Option<(String, u8)>,
    /// Its targets.
    pub targets: Vec<TargetStatus>,
    /// Unfinished deploy journals of the environment.
    pub unfinished: Vec<Journal>,
}

impl EnvStatus {
    /// Every target serves what the registry says and no deploy is unfinished.
    #[must_use]
    pub fn agrees(&self) -> bool {
        self.unfinished.is_empty() && self.targets.iter().all(|t| t.agrees)
    }
}

/// What `mlops status` reports.
#[derive(Debug, Clone)]
pub struct StatusReport {
    /// The model.
    pub model: String,
    /// The environments.
    pub environments: Vec<EnvStatus>,
}

/// The state of `only` (or every environment); `tokens` holds admin tokens
/// by target name (the environment's name for a single target).
pub fn status(
    project: &Project,
    only: Option<&str>,
    tokens: &BTreeMap<String, String>,
) -> Result<StatusReport> {
    let name = project.model()?.name.clone();
    if let Some(e) = only {
        project.environment(e)?;
    }
    let model = registry_model(project, &name)?;
    let mut environments = Vec::new();
    for (env_name, env) in &project.file.environments {
        if only.is_some_and(|o| o != env_name) {
            continue;
        }
        let registry = model.as_ref().and_then(|m| m.stages.get(env_name).cloned());
        let canary = model
            .as_ref()
            .and_then(|m| m.canaries.get(env_name))
            .map(|c| (c.version.clone(), c.percent));
        let tables: Vec<(String, &EnvironmentSection)> = match &env.targets {
            Some(ts) => ts
                .iter()
                .filter_map(|t| project.file.targets.get(t).map(|s| (t.clone(), s)))
                .collect(),
            None => vec![(env_name.clone(), env)],
        };
        let targets = tables
            .into_iter()
            .map(|(t, s)| {
                target_status(
                    project,
                    &t,
                    s,
                    &name,
                    tokens,
                    registry.as_ref(),
                    canary.as_ref(),
                )
            })
            .collect();
        environments.push(EnvStatus {
            environment: env_name.clone(),
            registry,
            registry_canary: canary,
            targets,
            unfinished: multi::unfinished(project, Some(env_name))?,
        });
    }
    Ok(StatusReport {
        model: name,
        environments,
    })
}

/// The model in the registry (none when it was never registered).
fn registry_model(project: &Project, name: &str) -> Result<Option<Model>> {
    let repo = repo::open(&project.root)?;
    let mut records = repo::read_tags(&repo, Some(name))?;
    state::sort(&mut records);
    Ok(state::resolve(&records).into_iter().next())
}

fn target_status(
    project: &Project,
    name: &str,
    section: &EnvironmentSection,
    model: &str,
    tokens: &BTreeMap<String, String>,
    registry: Option<&String>,
    canary: Option<&(String, u8)>,
) -> TargetStatus {
    let mut st = TargetStatus {
        name: name.to_string(),
        kind: section.kind(),
        location: section
            .url
            .as_deref()
            .map(crate::data::redact_url)
            .or_else(|| section.path.as_ref().map(|p| p.display().to_string()))
            .unwrap_or_default(),
        region: section.region.clone(),
        role: section.role.unwrap_or_default(),
        serving: None,
        challenger: None,
        challenger_percent: 0,
        ready: false,
        error: None,
        agrees: false,
    };
    let asked = super::construct(project, name, section, model, tokens.get(name).cloned())
        .and_then(|mut t| {
            st.location = t.location();
            let live = t.live()?;
            Ok((live, t.ready()))
        });
    match asked {
        Ok((live, ready)) => {
            st.agrees = live.champion.as_ref() == registry
                && live
                    .challenger
                    .as_ref()
                    .map(|c| (c.clone(), live.challenger_percent))
                    .as_ref()
                    == canary;
            st.serving = live.champion;
            st.challenger = live.challenger;
            st.challenger_percent = live.challenger_percent;
            st.ready = ready;
        }
        Err(e) => st.error = Some(e.to_string()),
    }
    st
}
