//! `mlops completions <SHELL>`: the completion script, from the clap definition.

use clap::CommandFactory;

use super::args::{Cli, CompletionsArgs};
use super::env::Env;
use super::output::Output;

/// The completion script for `shell`.
#[must_use]
pub fn script(shell: clap_complete::Shell) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "mlops", &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The script is what the command is for: `-q` leaves it on stdout.
pub fn run(a: &CompletionsArgs, env: &Env, out: &Output) -> mlops::Result<()> {
    match &a.output {
        Some(p) => out.to_file(&env.cwd.join(p), &script(a.shell), "the completion script"),
        None => out.stdout(&script(a.shell)),
    }
}
