//! `mlops`: a tabular model's whole life from one project file, `mlops.toml`.
//!
//! This library holds the domain; the `mlops` binary (`src/cli/`) turns
//! arguments into calls and renders the reports. Nothing here prints or
//! depends on the terminal: long steps report through [`report::Progress`].

#![deny(unsafe_code)]

pub mod abtest;
pub mod data;
pub mod error;
pub mod fsutil;
pub mod init;
pub mod model;
pub mod predict;
pub mod project;
pub mod report;
pub mod stats;
pub mod train;

pub use error::{Error, Result};

/// The version of this crate, recorded in artifacts.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
