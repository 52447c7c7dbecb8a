//! The command line: clap definitions, dispatch, and the one place that maps
//! errors to exit codes (`cli.md`).

mod abtest;
mod args;
mod completions;
mod deploy;
mod history;
mod init;
mod models;
pub mod output;
mod package;
mod predict;
mod serve;
mod train;
mod validate;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{CommandFactory, Parser};

use mlops::error::Error;
use output::Output;

pub use args::*;

/// What the process reads from its environment, read once at start-up.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// `NO_COLOR` is set and not empty.
    pub no_color: bool,
    /// `CLICOLOR_FORCE` is set and not `0`.
    pub clicolor_force: bool,
    /// `SOURCE_DATE_EPOCH`, for reproducible timestamps.
    pub source_date_epoch: Option<String>,
    /// The current folder.
    pub cwd: PathBuf,
    /// `MLOPS_CONFIG`, when set and not empty.
    pub config: Option<PathBuf>,
    /// `MLOPS_GIT_TOKEN`, for pushing over HTTPS.
    pub git_token: Option<String>,
    /// `GITHUB_STEP_SUMMARY`, when running in GitHub Actions.
    pub step_summary: Option<PathBuf>,
    /// `GITHUB_ACTIONS=true`.
    pub github_actions: bool,
    /// `GITHUB_OUTPUT`, when running in GitHub Actions.
    pub github_output: Option<PathBuf>,
    /// `GITLAB_CI=true`.
    pub gitlab_ci: bool,
}

impl Env {
    /// Read the process environment.
    #[must_use]
    pub fn from_process() -> Env {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Env {
            no_color: var("NO_COLOR").is_some(),
            clicolor_force: var("CLICOLOR_FORCE").is_some_and(|v| v != "0"),
            source_date_epoch: var("SOURCE_DATE_EPOCH"),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            config: std::env::var_os("MLOPS_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            git_token: var("MLOPS_GIT_TOKEN"),
            step_summary: var("GITHUB_STEP_SUMMARY")
                .filter(|_| var("GITHUB_ACTIONS").is_some_and(|v| v == "true"))
                .map(PathBuf::from),
            github_actions: var("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
            github_output: var("GITHUB_OUTPUT")
                .filter(|_| var("GITHUB_ACTIONS").is_some_and(|v| v == "true"))
                .map(PathBuf::from),
            gitlab_ci: var("GITLAB_CI").is_some_and(|v| v == "true"),
        }
    }
}

/// Run the binary on `args`; returns the exit code.
pub fn main<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let env = Env::from_process();
    let out = Output::new(&cli, &env);
    match run(&cli, &env, &out) {
        Ok(()) | Err(Error::Pipe) => 0,
        Err(e) => {
            out.error(&e.to_string());
            e.exit_code()
        }
    }
}

/// The project file named by `-C` or else `MLOPS_CONFIG`.
#[must_use]
pub fn config_path<'a>(cli: &'a Cli, env: &'a Env) -> Option<&'a std::path::Path> {
    cli.config.as_deref().or(env.config.as_deref())
}

/// Dispatch a parsed command line.
pub fn run(cli: &Cli, env: &Env, out: &Output) -> mlops::Result<()> {
    match &cli.command {
        Command::Init(a) => init::run(a, env, out),
        Command::Train(a) => train::run(a, cli, env, out),
        Command::Predict(a) => predict::run(a, cli, env, out),
        Command::Validate(a) => validate::run(a, cli, env, out),
        Command::Package(a) => package::run(a, cli, env, out),
        Command::Models(_) => models::run(cli, env, out),
        Command::History(a) => history::run(a, cli, env, out),
        Command::Deploy(a) => deploy::run_deploy(a, cli, env, out),
        Command::Rollback(a) => deploy::run_rollback(a, cli, env, out),
        Command::AbtestAnalyze(a) => abtest::run(a, cli, env, out),
        Command::Serve(a) => serve::run(a, cli, env, out),
        Command::Completions(a) => completions::run(a, out),
    }
}

/// The clap command, for completions and man pages.
#[must_use]
pub fn command() -> clap::Command {
    Cli::command()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
