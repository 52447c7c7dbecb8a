//! The command line: clap definitions, dispatch, and the one place that maps
//! errors to exit codes (`cli.md`).

mod abtest;
mod args;
mod completions;
mod deploy;
mod deploy_multi;
mod env;
mod history;
mod init;
mod lifecycle;
mod models;
mod monitor;
pub mod output;
mod package;
mod predict;
mod serve;
mod show;
mod status;
mod token;
mod topics;
mod train;
mod validate;

use std::ffi::OsString;

use clap::Parser;

use mlops::error::Error;
use output::Output;

pub use args::*;
pub use env::{Env, config_path};

/// Run the binary on `args`; returns the exit code.
pub fn main<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    if let Some(page) = topics::page(&args) {
        let out = Output {
            color: false,
            json: false,
            quiet: false,
            verbose: 0,
            stderr_tty: false,
        };
        return match out.stdout(page) {
            Ok(()) | Err(Error::Pipe) => 0,
            Err(e) => e.exit_code(),
        };
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let env = Env::from_process();
    let out = Output::new(&cli, &env);
    if let Err(e) = output::check_format(&cli) {
        out.error(&e.to_string());
        return e.exit_code();
    }
    match run(&cli, &env, &out) {
        Ok(()) | Err(Error::Pipe) => 0,
        Err(e) => {
            out.error(&e.to_string());
            e.exit_code()
        }
    }
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
        Command::Status(a) => status::run(a, cli, env, out),
        Command::Show(a) => show::run(a, cli, env, out),
        Command::Deprecate(a) => lifecycle::run_deprecate(a, cli, env, out),
        Command::Deregister(a) => lifecycle::run_deregister(a, cli, env, out),
        Command::Unassign(a) => lifecycle::run_unassign(a, cli, env, out),
        Command::AbtestAnalyze(a) => abtest::run(a, cli, env, out),
        Command::Serve(a) => serve::run(a, cli, env, out),
        Command::Completions(a) => completions::run(a, env, out),
        Command::Token(a) => token::run(a, cli, env, out),
        Command::Monitor(a) => monitor::run(a, cli, env, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_lists_the_topics() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains(&topics::list()), "{help}");
    }
}
