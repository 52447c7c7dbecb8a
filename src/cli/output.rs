//! Output decisions made once: colour, quietness, JSON, progress bars.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::{Cli, ColorChoice, Command, ReportFormat};
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
            json: stdout_json(cli),
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

    /// The command's report on stdout (`text`: the human report, or the
    /// JSON document with `--json`). With `-q`, at most one line: `line`
    /// (nothing when empty), or the JSON document on one line.
    pub fn report(&self, text: &str, line: &str) -> mlops::Result<()> {
        if !self.quiet {
            return self.stdout(text);
        }
        if self.json {
            let one = serde_json::from_str::<serde_json::Value>(text)
                .map_or_else(|_| text.replace('\n', " "), |v| v.to_string());
            return self.stdout(&format!("{}\n", one.trim_end()));
        }
        match line.lines().next().map(str::trim_end) {
            Some(l) if !l.trim().is_empty() => self.stdout(&format!("{l}\n")),
            _ => Ok(()),
        }
    }

    /// Write `text` (a report, a script) to `path` atomically, then say so
    /// on stdout in one line (nothing with `--json`: the document is the file).
    pub fn to_file(&self, path: &std::path::Path, text: &str, what: &str) -> mlops::Result<()> {
        mlops::fsutil::write_atomic(path, text.as_bytes())?;
        if self.json {
            return Ok(());
        }
        let line = format!(
            "{} {what} to {}\n",
            self.paint("Wrote", "1"),
            mlops::error::display_path(path)
        );
        self.report(&line, &line)
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

/// The first line of a report: what `-q` keeps of it.
#[must_use]
pub fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// Whether `--format` names the format of a file (`validate --report`)
/// rather than of stdout.
fn format_is_for_a_file(cli: &Cli) -> bool {
    matches!(&cli.command, Command::Validate(a) if a.report.is_some())
}

/// Whether stdout carries the JSON document: `--json`, or `--format json`.
fn stdout_json(cli: &Cli) -> bool {
    cli.json || (cli.format == Some(ReportFormat::Json) && !format_is_for_a_file(cli))
}

/// The formats a command's `--format` takes, as their `--format` values.
fn formats(command: &Command) -> &'static [&'static str] {
    match command {
        Command::Validate(_) => &["text", "json", "markdown", "junit"],
        Command::AbtestAnalyze(_) => &["text", "json", "markdown"],
        _ => &["text", "json"],
    }
}

/// The command's name, as typed.
fn command_name(command: &Command) -> String {
    let name = format!("{command:?}");
    let name = name.split(['(', ' ']).next().unwrap_or_default();
    let mut s = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            s.push('-');
        }
        s.push(c.to_ascii_lowercase());
    }
    s
}

/// Refuse `--format` values that the command has not, and `--json` with
/// another `--format` than json (exit 2, as a usage error).
pub fn check_format(cli: &Cli) -> mlops::Result<()> {
    let Some(f) = cli.format else { return Ok(()) };
    let value = match f {
        ReportFormat::Text => "text",
        ReportFormat::Json => "json",
        ReportFormat::Markdown => "markdown",
        ReportFormat::Junit => "junit",
    };
    if cli.json && f != ReportFormat::Json && !format_is_for_a_file(cli) {
        return Err(mlops::Error::usage(format!(
            "--json and --format {value} ask for two formats: --json is --format json; give only one of them"
        )));
    }
    let allowed = formats(&cli.command);
    if !allowed.contains(&value) {
        return Err(mlops::Error::usage(format!(
            "mlops {} has no {value} report: --format takes {} here",
            command_name(&cli.command),
            allowed.join(", ")
        )));
    }
    Ok(())
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
