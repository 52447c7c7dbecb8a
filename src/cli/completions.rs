//! `mlops completions <SHELL>`: the completion script, from the clap definition.

use clap::CommandFactory;

use super::args::{Cli, CompletionsArgs};
use super::output::Output;

/// The completion script for `shell`.
#[must_use]
pub fn script(shell: clap_complete::Shell) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "mlops", &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

pub fn run(a: &CompletionsArgs, out: &Output) -> mlops::Result<()> {
    out.stdout(&script(a.shell))
}
