//! The `mlops` binary: parse, run, print the error once, exit with its code.
//! Everything else lives in the library (`mlops::`) and in `cli/`.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    let code = cli::main(std::env::args_os());
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
