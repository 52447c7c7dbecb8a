//! Output decisions made once: colour, quietness, JSON, progress bars.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::{Cli, ColorChoice};
use super::env::Env;
use mlops::report::Progress;

/// Where and how to print.
#[derive(Debug, Clone)]
pub struct Output {
    /// Colour on stdout/stderr.
    pub color: bool,
    /// `--json`.
    pub json: bool,
    /// `--quiet`.
    pub quiet: bool,
    /// `--verbose` count.
    pub verbose: u8,
    pub(crate) stderr_tty: bool,
}

impl Output {
    /// Decide from the flags and the environment.
    #[must_use]
    pub fn new(cli: &Cli, env: &Env) -> Output {
        let color = match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                !env.no_color && (env.clicolor_force || std::io::stdout().is_terminal())
            }
        };
        Output {
            color,
            json: cli.json,
            quiet: cli.quiet,
            verbose: cli.verbose,
            stderr_tty: std::io::stderr().is_terminal(),
        }
    }

    /// Print the one error line.
    pub fn error(&self, msg: &str) {
        let label = self.paint("error:", "1;31");
        let _ = writeln!(std::io::stderr(), "{label} {msg}");
    }

    /// A warning line on stderr (even with `-q`: it names something broken).
    pub fn warning(&self, msg: &str) {
        let label = self.paint("warning:", "1;33");
        let _ = writeln!(std::io::stderr(), "{label} {msg}");
    }

    /// Text on stderr as it is (CI workflow commands); a closed stderr is ignored.
    pub fn stderr(&self, text: &str) {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }

    /// A detail on stderr with `-v`.
    pub fn verbose(&self, msg: &str) {
        if self.verbose > 0 && !self.quiet {
            let _ = writeln!(std::io::stderr(), "{msg}");
        }
    }

    /// Wrap `text` in an SGR code when colour is on.
    #[must_use]
    pub fn paint(&self, text: &str, sgr: &str) -> String {
        if self.color {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Print to stdout; a closed pipe is not an error.
    pub fn stdout(&self, text: &str) -> mlops::Result<()> {
        let mut o = std::io::stdout().lock();
        match o.write_all(text.as_bytes()).and_then(|()| o.flush()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(mlops::Error::Pipe),
            Err(e) => Err(mlops::Error::usage(format!(
                "cannot write to stdout: {}",
                mlops::error::io_reason(&e)
            ))),
        }
    }

    /// A progress reporter: a bar on a terminal, nothing otherwise.
    #[must_use]
    pub fn progress(&self) -> Box<dyn Progress> {
        if self.stderr_tty && !self.quiet && !self.json {
            Box::new(Bar {
                bar: ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
                started: std::sync::Mutex::new(std::time::Instant::now()),
            })
        } else {
            Box::new(mlops::report::NoProgress)
        }
    }
}

/// Append `bytes` to the file at `path` (created when missing), as CI
/// files like `$GITHUB_STEP_SUMMARY` expect.
pub fn append(path: &std::path::Path, bytes: &[u8]) -> mlops::Result<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| mlops::Error::io("append to", path, &e))
}

/// An indicatif bar behind the library's progress trait: bytes, bytes/s,
/// rows and rows/s.
struct Bar {
    bar: ProgressBar,
    started: std::sync::Mutex<std::time::Instant>,
}

impl Progress for Bar {
    fn start(&self, label: &str, total: Option<u64>) {
        // Small inputs finish before a bar is worth drawing.
        if total.is_some_and(|t| t < 16 << 20) {
            self.bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        if let Some(t) = total {
            self.bar.set_length(t);
        }
        self.bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>9} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        self.bar.set_prefix(label.to_string());
        self.bar.set_message(String::new());
        if let Ok(mut t) = self.started.lock() {
            *t = std::time::Instant::now();
        }
        self.bar.enable_steady_tick(Duration::from_millis(200));
    }

    fn set_position(&self, pos: u64) {
        self.bar.set_position(pos);
    }

    fn set_rows(&self, rows: u64) {
        let secs = self
            .started
            .lock()
            .map_or(0.0, |t| t.elapsed().as_secs_f64())
            .max(1e-3);
        #[allow(clippy::cast_precision_loss)]
        let rate = rows as f64 / secs;
        self.bar
            .set_message(format!("{rows} rows ({rate:.0} rows/s)"));
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
