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

    /// The events in order (of `model` when given).
    #[must_use]
    pub fn history(&self, model: Option<&str>) -> Vec<Event<'_>> {
        state::history(&self.records, model)
    }
}
