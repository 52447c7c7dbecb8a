//! The lifecycle events GTO writes, written by `mlops` in GTO's grammar
//! (`registry.md`): deprecate a model, deregister a version, unassign a
//! stage. Each checks what it records against the registry first, so that
//! `gto show` and `mlops models` agree afterwards.

use std::path::Path;

use super::repo::{self, Written};
use super::tag::{Action, Semver, valid_artifact, valid_name};
use super::{Model, Registry};
use crate::error::{Error, Result};

/// `NAME@vX.Y.Z` split into its parts, or a usage error naming the input.
pub fn parse_version_ref(target: &str) -> Result<(String, Option<Semver>)> {
    let (name, version) = match target.split_once('@') {
        Some((n, v)) => (n, Some(v)),
        None => (target, None),
    };
    if !valid_artifact(name) {
        return Err(Error::usage(format!(
            "\"{name}\" is not a valid model name; use letters, digits, '-', '_' or '/' (and `dir=` for a monorepo path)"
        )));
    }
    let semver = match version {
        Some(v) => Some(Semver::parse_user(v).ok_or_else(|| {
            Error::usage(format!(
                "\"{v}\" in \"{target}\" is not a version; write NAME@vMAJOR.MINOR.PATCH, like {name}@v1.0.0"
            ))
        })?),
        None => None,
    };
    Ok((name.to_string(), semver))
}

/// `name` must be a model name without a version.
fn model_name(name: &str, command: &str) -> Result<()> {
    if parse_version_ref(name)?.1.is_some() {
        return Err(Error::usage(format!(
            "{command} takes a model NAME, not a version like \"{name}\"; drop the @vX.Y.Z"
        )));
    }
    Ok(())
}

/// The model `name` of the repository at `path`, or a registry error.
fn model(path: &Path, name: &str) -> Result<Model> {
    Registry::read(path, Some(name))?
        .models()
        .into_iter()
        .next()
        .ok_or_else(|| Registry::no_model(path, name))
}

/// Deprecate the model: `NAME@deprecated#N` on the commit of its newest event.
pub fn deprecate(path: &Path, name: &str) -> Result<Written> {
    model_name(name, "deprecate")?;
    let m = model(path, name)?;
    if m.deprecated {
        return Err(Error::Registry(format!(
            "{name} is already deprecated; nothing was changed (a new registration with `mlops package` revives it)"
        )));
    }
    repo::write_event(&repo::open(path)?, name, &Action::Deprecate, None)
}

/// Deregister `NAME@vX.Y.Z`: `NAME@vX.Y.Z!#N` on the version's commit.
pub fn deregister(path: &Path, target: &str) -> Result<Written> {
    let (name, version) = parse_version_ref(target)?;
    let version = version.ok_or_else(|| {
        Error::usage(format!(
            "deregister takes one version, NAME@vX.Y.Z, not \"{target}\"; run `mlops models` to see the versions"
        ))
    })?;
    model(path, &name)?;
    repo::write_event(
        &repo::open(path)?,
        &name,
        &Action::Deregister(version),
        None,
    )
}

/// Unassign `stage` from the version that holds it: `NAME#STAGE!#N` on its
/// commit; an older holder of the stage comes back, as in GTO.
pub fn unassign(path: &Path, name: &str, stage: &str) -> Result<Written> {
    model_name(name, "unassign")?;
    if !valid_name(stage) {
        return Err(Error::usage(format!(
            "\"{stage}\" is not a valid stage name; use letters, digits, '-', '_' or '/'"
        )));
    }
    let m = model(path, name)?;
    let version = m.stages.get(stage).cloned().ok_or_else(|| {
        let held: Vec<String> = m.stages.keys().cloned().collect();
        let names: Vec<&str> = held.iter().map(String::as_str).collect();
        Error::Registry(format!(
            "{name} has no version in stage {stage}{} (stages: {}); nothing to unassign",
            crate::project::did_you_mean(stage, &names),
            if held.is_empty() {
                "none".to_string()
            } else {
                held.join(", ")
            }
        ))
    })?;
    repo::write_event(
        &repo::open(path)?,
        name,
        &Action::Unassign(stage.to_string()),
        Some(&version),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_refs() {
        let (n, v) = parse_version_ref("hp@v1.2.3").unwrap();
        assert_eq!(
            (n.as_str(), v.unwrap().to_string()),
            ("hp", "v1.2.3".into())
        );
        assert_eq!(parse_version_ref("hp").unwrap().1, None);
        assert_eq!(parse_version_ref("hp@1.2").unwrap_err().exit_code(), 2);
        assert_eq!(parse_version_ref("h p").unwrap_err().exit_code(), 2);
        let e = model_name("hp@v1.0.0", "deprecate").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().contains("deprecate takes a model NAME"),
            "{e}"
        );
        assert!(model_name("models=hp", "deprecate").is_ok());
    }
}
