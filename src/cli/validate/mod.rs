//! `mlops validate`: run the checks, render the report (text, JSON,
//! markdown, JUnit), speak the CI's language, and exit 1 when a check fails.
//!
//! Every renderer is a function from the [`Report`] to a `String`, built on
//! one list of [`Row`]s (one per check) so that the formats always agree.
//!
//! In GitHub Actions (`GITHUB_ACTIONS=true`) the markdown report is appended
//! to `$GITHUB_STEP_SUMMARY`, `passed=…`, the model and its metrics go to
//! `$GITHUB_OUTPUT`, and each failed check becomes an `::error` annotation
//! (each warning a `::warning`) on stdout — on stderr when stdout carries a
//! machine-readable document. In GitLab CI (`GITLAB_CI=true`) `--report`
//! defaults to JUnit. `--dotenv` writes `MLOPS_VALIDATE_PASSED` for a
//! GitLab `artifacts:reports:dotenv`.

mod ci;
mod junit;
mod lines;
mod markdown;
mod rows;
mod text;

use serde_json::json;

use super::args::{Cli, ReportFormat, ValidateArgs};
use super::env::{Env, config_path};
use super::output::Output;
use mlops::Result;
use mlops::error::Error;
use mlops::project::Project;
use mlops::validate::{Report, ValidateOptions, Verdict};

use ci::{annotations, dotenv, github_output};
use junit::render_junit;
use markdown::render_markdown;
use rows::rows;
use text::render_text;

pub fn run(a: &ValidateArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let project = Project::load(config_path(cli, env), &env.cwd)?;
    out.verbose(&format!("project file: {}", project.path.display()));
    let opts = options(a, env)?;
    let progress = out.progress();
    let report = mlops::validate::validate(&project, &opts, progress.as_ref())?;
    let on_stdout = write_reports(a, cli, env, out, &report)?;
    if env.github_actions {
        tell_github(env, out, &report, on_stdout)?;
    }
    if let Some(p) = &a.dotenv {
        let path = env.cwd.join(p);
        mlops::fsutil::write_atomic(&path, dotenv(&report)?.as_bytes())?;
    }
    if report.passed {
        return Ok(());
    }
    Err(failed(&report))
}

/// The options from the flags; `--data` and `--drift-data` must be files.
fn options(a: &ValidateArgs, env: &Env) -> Result<ValidateOptions> {
    let opts = ValidateOptions {
        data: a.data.as_ref().map(|p| env.input_path(p)),
        baseline: a.baseline.clone(),
        drift_data: a.drift_data.as_ref().map(|p| env.input_path(p)),
        since: a
            .since
            .as_deref()
            .map(mlops::validate::prediction_log::parse_since)
            .transpose()?,
    };
    for p in [&opts.data, &opts.drift_data].into_iter().flatten() {
        if !p.is_file() && mlops::data::store_url(p).is_none() {
            let flag = if Some(p) == opts.data.as_ref() {
                "--data"
            } else {
                "--drift-data"
            };
            return Err(Error::usage(format!(
                "{flag} {} does not exist or is not a file; check the path",
                mlops::error::display_path(p)
            )));
        }
    }
    Ok(opts)
}

/// The report on stdout, and in `--report`'s file: the format on stdout.
fn write_reports(
    a: &ValidateArgs,
    cli: &Cli,
    env: &Env,
    out: &Output,
    report: &Report,
) -> Result<ReportFormat> {
    let format = cli
        .format
        .unwrap_or(if env.gitlab_ci && a.report.is_some() {
            ReportFormat::Junit
        } else {
            ReportFormat::Text
        });
    let on_stdout = if out.json {
        ReportFormat::Json
    } else if a.report.is_some() {
        ReportFormat::Text
    } else {
        format
    };
    let text = render(report, on_stdout, out);
    let summary = render_text(report, out);
    let last = summary.lines().rfind(|l| !l.trim().is_empty());
    out.report(&text, last.unwrap_or_default())?;
    if let Some(path) = &a.report {
        let path = env.cwd.join(path);
        mlops::fsutil::write_atomic(&path, render(report, format, &plain(out)).as_bytes())?;
    }
    Ok(on_stdout)
}

/// In GitHub Actions: the annotations (on stdout beside a text report, else
/// on stderr), the step summary and the step outputs.
fn tell_github(env: &Env, out: &Output, report: &Report, on_stdout: ReportFormat) -> Result<()> {
    let text = annotations(report);
    if on_stdout == ReportFormat::Text && !out.quiet {
        out.stdout(&text)?;
    } else {
        out.stderr(&text);
    }
    if let Some(p) = &env.step_summary {
        super::output::append(p, render_markdown(report).as_bytes())?;
    }
    if let Some(p) = &env.github_output {
        super::output::append(p, github_output(report)?.as_bytes())?;
    }
    Ok(())
}

/// The error of a failed validation: which checks failed.
fn failed(report: &Report) -> Error {
    let all = rows(report);
    let names: Vec<String> = all
        .iter()
        .filter(|x| x.verdict == Verdict::Fail)
        .map(|x| format!("{} {}", x.group, x.name))
        .collect();
    Error::Check(format!(
        "validation of {} failed: {} of {} checks failed ({}); see the report",
        report.candidate.name,
        names.len(),
        all.len(),
        names.join(", ")
    ))
}

/// The output settings without colour (for files).
fn plain(out: &Output) -> Output {
    let mut o = out.clone();
    o.color = false;
    o
}

/// A report in one format.
#[must_use]
pub fn render(r: &Report, f: ReportFormat, out: &Output) -> String {
    match f {
        ReportFormat::Text => render_text(r, out),
        ReportFormat::Json => render_json(r),
        ReportFormat::Markdown => render_markdown(r),
        ReportFormat::Junit => render_junit(r),
    }
}

/// The `--json` document (schema: docs/schemas/validate.schema.json).
#[must_use]
pub fn render_json(r: &Report) -> String {
    let doc = json!({
        "passed": r.passed,
        "gates": r.gates,
        "data_checks": r.data_checks,
        "drift": r.drift,
        "candidate": r.candidate,
        "baseline": r.baseline,
        "rows": r.rows,
        "notes": r.notes,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
