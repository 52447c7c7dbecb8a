//! The model registry: versions and stages as annotated git tags in GTO's
//! grammar (`docs/registry.md`).
//!
//! [`tag`] parses and formats tag names and messages, [`state`] resolves
//! versions, stages and history from tag records (both pure), and [`repo`]
//! reads and writes tags with git2. [`lifecycle`] writes GTO's
//! deprecate, deregister and unassign events; [`page`] gathers one
//! version's page. A canary is recorded beside a stage, never as its
//! assignment (`mlops/canary/…` tags, outside GTO's grammar).

pub mod lifecycle;
pub mod page;
pub mod repo;
pub mod state;
pub mod tag;

use std::path::Path;

use crate::error::Result;
pub use state::{Canary, Event, EventKind, Model, TagRecord};

/// The registry of a repository, read once.
#[derive(Debug)]
pub struct Registry {
    /// The registry tags, in event order.
    pub records: Vec<TagRecord>,
    /// Tag references skipped because they cannot be read, one sentence each.
    pub warnings: Vec<String>,
}

impl Registry {
    /// Read the registry of the repository containing `path` (only `model`'s
    /// tags when given).
    pub fn read(path: &Path, model: Option<&str>) -> Result<Registry> {
        let repo = repo::open(path)?;
        Registry::from_repo(&repo, model)
    }

    /// Read the registry of an open repository.
    pub fn from_repo(repo: &git2::Repository, model: Option<&str>) -> Result<Registry> {
        let (mut records, warnings) = repo::read_tags_checked(repo, model)?;
        state::sort(&mut records);
        Ok(Registry { records, warnings })
    }

    /// Every model's state, by name.
    #[must_use]
    pub fn models(&self) -> Vec<Model> {
        state::resolve(&self.records)
    }

    /// The error for a model `name` that the registry of the repository
    /// containing `path` does not hold, with the nearest model's name.
    #[must_use]
    pub fn no_model(path: &Path, name: &str) -> crate::error::Error {
        let hint = Registry::nearest_model(path, name)
            .map_or_else(String::new, |n| format!("; did you mean \"{n}\"?"));
        crate::error::Error::Registry(format!(
            "there is no model {name} in the registry{hint}; run `mlops models` to see the registered models"
        ))
    }

    /// The registered model whose name is nearest to `name` (a near miss).
    #[must_use]
    pub fn nearest_model(path: &Path, name: &str) -> Option<String> {
        let names: Vec<String> = Registry::read(path, None)
            .map(|r| r.models().into_iter().map(|m| m.name).collect())
            .unwrap_or_default();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        crate::project::nearest(name, &names).map(str::to_string)
    }

    /// The events in order (of `model` when given).
    #[must_use]
    pub fn history(&self, model: Option<&str>) -> Vec<Event<'_>> {
        state::history(&self.records, model)
    }
}
