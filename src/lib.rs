//! `mlops`: a tabular model's whole life from one project file, `mlops.toml`.
//!
//! This library holds the domain; the `mlops` binary (`src/cli/`) turns
//! arguments into calls and renders the reports. Nothing here prints or
//! depends on the terminal: long steps report through [`report::Progress`].

#![deny(unsafe_code)]

/// `abtest-analyze`: stream an experiment's rows, compare variants, decide.
pub mod abtest;
/// Reproducible model bundles (tar.gz with a manifest).
pub mod bundle;
/// The bundle store: bundles put in and fetched from object storage.
pub mod bundle_store;
/// CSV → typed columns, the split, the fingerprint.
pub mod data;
/// `deploy` and `rollback`: targets (local, http, kubernetes), verify, record.
pub mod deploy;
/// Typed errors and their exit codes.
pub mod error;
/// Atomic file writes and other file-system helpers.
pub mod fsutil;
/// `init`: scaffold a project.
pub mod init;
/// Fit, predict, metrics and the model artifact.
pub mod model;
/// `monitor emit`: alert rules, their promtool tests and a Grafana dashboard.
pub mod monitor;
/// `package`: register a trained model as a version, with its bundle.
pub mod package;
/// Batch predictions, streamed.
pub mod predict;
/// `mlops.toml`: serde types, discovery, errors that name the key.
pub mod project;
/// The model registry on git tags, in GTO's format.
pub mod registry;
/// The progress trait the library reports through.
pub mod report;
/// The model server: REST, Open Inference Protocol V2, MLflow scoring, admin API, metrics.
pub mod serve;
/// Experiment statistics: distributions, tests, intervals, corrections (pure numerics).
pub mod stats;
/// RFC 3339 timestamps of artifacts, registry events and logs.
pub mod timestamp;
/// `train`: load, split, fit, report, write the artifact.
pub mod train;
/// `validate`: quality gates, baseline comparison, data and drift checks.
pub mod validate;

pub use error::{Error, Result};

/// The version of this crate, recorded in artifacts.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
