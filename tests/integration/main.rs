//! The integration tests: one binary (`cargo test --test integration`) that
//! runs the real `mlops` executable in a temporary folder per test, through
//! the small builder in [`common`].
//!
//! Each test owns its folder and its environment (`NO_COLOR=1`, no
//! `MLOPS_CONFIG`), so the tests run in parallel and leave nothing behind.

mod abtest;
#[cfg(unix)] // the server's signals
mod abtest_loop;
mod architecture;
#[cfg(unix)] // uses the serve test's server
mod auth;
mod classify;
mod cli;
mod common;
mod deploy;
#[cfg(unix)] // bash
mod doc_blocks;
mod docs;
#[cfg(unix)] // the loopback Elasticsearch of the prediction_log tests
mod es_mock;
mod examples;
mod fuzz;
mod glm;
mod golden;
#[cfg(unix)] // the server's signals
mod grpc;
#[cfg(unix)] // the server's signals
mod grpc_tls;
mod habits;
mod hostile;
mod inference;
mod init;
mod inputs;
mod levels;
mod monitor;
mod nist;
mod package;
mod parquet;
mod predict;
#[cfg(unix)] // uses the serve test's server
mod prediction_log;
mod project;
mod registry;
mod registry_truth;
mod s3_count;
mod schemas;
#[cfg(unix)] // signals and symlinks
mod serve;
#[cfg(unix)] // SIGKILL and the serve test's server
mod sigkill;
mod storage;
mod streaming;
mod streaming_classify;
mod train;
mod train_errors;
mod validate;

/// The clap definition of the binary (only clap types), for the man pages
/// and the check of docs/commands.md.
#[path = "../../src/cli/args.rs"]
#[allow(dead_code)]
mod clidef;
