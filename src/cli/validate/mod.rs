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

use std::fmt::Write as _;

use serde_json::json;

use super::{Cli, Env, ReportFormat, ValidateArgs, output::Output};
use mlops::Result;
use mlops::error::Error;
use mlops::model::metrics::MetricSet;
use mlops::project::Project;
use mlops::validate::{GateKind, Report, ValidateOptions, Verdict};

pub fn run(a: &ValidateArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let project = Project::load(super::config_path(cli, env), &env.cwd)?;
    out.verbose(&format!("project file: {}", project.path.display()));
    let opts = ValidateOptions {
        data: a.data.as_ref().map(|p| env.cwd.join(p)),
        baseline: a.baseline.clone(),
        drift_data: a.drift_data.as_ref().map(|p| env.cwd.join(p)),
    };
    for p in [&opts.data, &opts.drift_data].into_iter().flatten() {
        if !p.is_file() {
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
    let progress = out.progress();
    let report = mlops::validate::validate(&project, &opts, progress.as_ref())?;

    let format = a.format.unwrap_or(if env.gitlab_ci && a.report.is_some() {
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
    out.stdout(&render(&report, on_stdout, out))?;
    if let Some(path) = &a.report {
        let path = env.cwd.join(path);
        mlops::fsutil::write_atomic(&path, render(&report, format, &plain(out)).as_bytes())?;
    }
    if env.github_actions {
        let text = annotations(&report);
        if on_stdout == ReportFormat::Text {
            out.stdout(&text)?;
        } else {
            out.stderr(&text);
        }
        if let Some(p) = &env.step_summary {
            super::output::append(p, render_markdown(&report).as_bytes())?;
        }
        if let Some(p) = &env.github_output {
            super::output::append(p, github_output(&report).as_bytes())?;
        }
    }
    if let Some(p) = &a.dotenv {
        let path = env.cwd.join(p);
        mlops::fsutil::write_atomic(&path, dotenv(&report).as_bytes())?;
    }
    if report.passed {
        return Ok(());
    }
    let all = rows(&report);
    let names: Vec<String> = all
        .iter()
        .filter(|x| x.verdict == Verdict::Fail)
        .map(|x| format!("{} {}", x.group, x.name))
        .collect();
    Err(Error::Check(format!(
        "validation of {} failed: {} of {} checks failed ({}); see the report",
        report.candidate.name,
        names.len(),
        all.len(),
        names.join(", ")
    )))
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

/// One check, as every format shows it.
#[derive(Debug, Clone)]
pub struct Row {
    /// `gate`, `baseline`, `data` or `drift`.
    pub group: &'static str,
    /// The check's name within the group.
    pub name: String,
    /// The value found.
    pub value: String,
    /// The bound.
    pub threshold: String,
    /// The baseline's value (baseline gates).
    pub baseline: String,
    /// The verdict.
    pub verdict: Verdict,
    /// One sentence.
    pub message: String,
}

fn num(v: f64) -> String {
    super::train::fmt_num(v)
}

fn pct(v: f64) -> String {
    format!("{:.2}%", 100.0 * v)
}

fn verdict(passed: bool) -> Verdict {
    if passed { Verdict::Pass } else { Verdict::Fail }
}

/// Every check of the report, in order: gates, baseline rules, data checks, drift.
#[must_use]
pub fn rows(r: &Report) -> Vec<Row> {
    let mut out = Vec::new();
    for g in &r.gates {
        let (group, threshold) = match g.kind {
            GateKind::Threshold => (
                "gate",
                if g.name.ends_with(" min") {
                    format!(">= {}", g.threshold)
                } else {
                    format!("<= {}", g.threshold)
                },
            ),
            GateKind::Baseline => (
                "baseline",
                match g.name.rsplit(' ').next().unwrap_or("") {
                    "max_relative_degradation" => format!("worse by <= {}", pct(g.threshold)),
                    "max_absolute_degradation" => format!("worse by <= {}", g.threshold),
                    "min_relative_improvement" => format!("better by >= {}", pct(g.threshold)),
                    _ => format!("better by >= {}", g.threshold),
                },
            ),
        };
        out.push(Row {
            group,
            name: g.name.clone(),
            value: g.value.map_or_else(|| "-".into(), num),
            threshold,
            baseline: g.baseline_value.map_or_else(String::new, num),
            verdict: verdict(g.passed),
            message: g.message.clone(),
        });
    }
    for c in &r.data_checks {
        out.push(Row {
            group: "data",
            name: format!("{} {}", c.check, c.feature),
            value: pct(c.value),
            threshold: format!("<= {}", pct(c.threshold)),
            baseline: String::new(),
            verdict: c.verdict,
            message: c.message.clone(),
        });
    }
    let t = &r.drift.thresholds;
    for f in &r.drift.features {
        let mut add = |stat: &str, value: Option<f64>, threshold: String, ok: bool| {
            if let Some(v) = value {
                let message = if ok {
                    format!("{} {stat} = {} is within {threshold}", f.name, num(v))
                } else {
                    format!("{} {stat} = {} breaks {threshold}", f.name, num(v))
                };
                out.push(Row {
                    group: "drift",
                    name: format!("{} {stat}", f.name),
                    value: num(v),
                    threshold,
                    baseline: String::new(),
                    verdict: verdict(ok),
                    message,
                });
            }
        };
        if let Some(p) = f.ks_p_value {
            add(
                "ks_p_value",
                Some(p),
                format!(">= {}", t.ks_p_value),
                p >= t.ks_p_value,
            );
        }
        if let Some(p) = f.chi2_p_value {
            add(
                "chi2_p_value",
                Some(p),
                format!(">= {}", t.chi2_p_value),
                p >= t.chi2_p_value,
            );
        }
        add(
            "psi",
            Some(f.psi),
            format!("<= {}", t.max_psi),
            f.psi <= t.max_psi,
        );
        if f.train_rows == 0 || f.recent_rows == 0 {
            out.push(Row {
                group: "drift",
                name: format!("{} values", f.name),
                value: format!("{} / {}", f.train_rows, f.recent_rows),
                threshold: "> 0 / > 0".into(),
                baseline: String::new(),
                verdict: Verdict::Fail,
                message: format!("{}: {}", f.name, f.message),
            });
        }
    }
    out
}

fn metrics_line(m: &MetricSet) -> String {
    let mut parts = Vec::new();
    if let Some(v) = m.r2 {
        parts.push(format!("r2 {}", num(v)));
    }
    parts.push(format!("rmse {}", num(m.rmse)));
    parts.push(format!("mae {}", num(m.mae)));
    if let Some(v) = m.mape {
        parts.push(format!("mape {}", num(v)));
    }
    if let Some(v) = m.deviance {
        parts.push(format!("deviance {}", num(v)));
    }
    parts.join(", ")
}

fn baseline_line(r: &Report) -> Option<String> {
    let b = r.baseline.as_ref()?;
    Some(match (&b.version, &b.commit) {
        (Some(v), Some(c)) => format!(
            "{}@{v} ({}, commit {})",
            b.name,
            b.requested,
            &c[..12.min(c.len())]
        ),
        _ => format!(
            "none ({}): {}",
            b.requested,
            b.note.as_deref().unwrap_or("not found")
        ),
    })
}

fn summary(r: &Report, rows: &[Row]) -> String {
    let failed: Vec<&Row> = rows.iter().filter(|x| x.verdict == Verdict::Fail).collect();
    let warned = rows.iter().filter(|x| x.verdict == Verdict::Warn).count();
    let warn = match warned {
        0 => String::new(),
        1 => ", 1 warning".into(),
        n => format!(", {n} warnings"),
    };
    if r.passed {
        format!("{} checks passed{warn}", rows.len() - warned)
    } else {
        format!(
            "{} of {} checks failed ({}){warn}",
            failed.len(),
            rows.len(),
            failed
                .iter()
                .map(|x| format!("{} {}", x.group, x.name))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// The human report: what was validated, one row per check, a summary line.
#[must_use]
pub fn render_text(r: &Report, out: &Output) -> String {
    let rows = rows(r);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} {} ({}) on {} rows: {}",
        out.paint("Validated", "1"),
        r.candidate.name,
        r.candidate.artifact,
        r.rows.scored,
        r.rows.source
    );
    let _ = writeln!(s, "  metrics   {}", metrics_line(&r.candidate.metrics));
    if let Some(b) = baseline_line(r) {
        let _ = writeln!(s, "  baseline  {b}");
        if let Some(m) = r.baseline.as_ref().and_then(|b| b.metrics.as_ref()) {
            let _ = writeln!(s, "            {}", metrics_line(m));
        }
    }
    if let Some(d) = &r.drift.data {
        let _ = writeln!(s, "  drift     {d}");
    }
    let _ = writeln!(s);
    let w_name = rows
        .iter()
        .map(|x| x.group.len() + 1 + x.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let w_thr = rows
        .iter()
        .map(|x| x.threshold.len())
        .max()
        .unwrap_or(9)
        .max(9);
    let _ = writeln!(
        s,
        "  {:<w_name$}  {:>14}  {:<w_thr$}  {:>14}  verdict",
        "check", "value", "threshold", "baseline"
    );
    for x in &rows {
        let v = match x.verdict {
            Verdict::Pass => out.paint("pass", "32"),
            Verdict::Warn => out.paint("warn", "33"),
            Verdict::Fail => out.paint("FAIL", "1;31"),
        };
        let _ = writeln!(
            s,
            "  {:<w_name$}  {:>14}  {:<w_thr$}  {:>14}  {v}",
            format!("{} {}", x.group, x.name),
            x.value,
            x.threshold,
            x.baseline
        );
    }
    if rows.is_empty() {
        let _ = writeln!(
            s,
            "  (no checks configured; see [validate] in docs/project-file.md)"
        );
    }
    let problems: Vec<&Row> = rows.iter().filter(|x| x.verdict != Verdict::Pass).collect();
    if !problems.is_empty() {
        let _ = writeln!(s);
        for x in problems {
            let _ = writeln!(s, "  {} {}: {}", x.verdict.as_str(), x.name, x.message);
        }
    }
    let shown = r.baseline.as_ref().and_then(|b| b.note.as_ref());
    for n in r.notes.iter().filter(|n| Some(*n) != shown) {
        let _ = writeln!(s, "  note: {n}");
    }
    let _ = writeln!(s);
    let head = if r.passed {
        out.paint("PASSED", "1;32")
    } else {
        out.paint("FAILED", "1;31")
    };
    let _ = writeln!(s, "{head} {}", summary(r, &rows));
    s
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

/// Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`.
#[must_use]
pub fn render_markdown(r: &Report) -> String {
    let rows = rows(r);
    let mut o = String::new();
    let (icon, word) = if r.passed {
        ("✅", "passed")
    } else {
        ("❌", "failed")
    };
    let _ = writeln!(
        o,
        "### mlops validate: `{}` {icon} **{word}**\n",
        r.candidate.name
    );
    let _ = writeln!(
        o,
        "{} rows: {}  \nCandidate `{}`: {}",
        r.rows.scored,
        r.rows.source,
        r.candidate.artifact,
        metrics_line(&r.candidate.metrics)
    );
    if let Some(b) = baseline_line(r) {
        let m = r
            .baseline
            .as_ref()
            .and_then(|b| b.metrics.as_ref())
            .map(|m| format!(": {}", metrics_line(m)))
            .unwrap_or_default();
        let _ = writeln!(o, "  \nBaseline {b}{m}");
    }
    let _ = writeln!(o);
    let head: Vec<String> = ["Check", "Value", "Threshold", "Baseline", "Verdict"]
        .iter()
        .map(ToString::to_string)
        .collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|x| {
            let v = match x.verdict {
                Verdict::Pass => "✅ pass",
                Verdict::Warn => "⚠️ warn",
                Verdict::Fail => "❌ fail",
            };
            vec![
                format!("{} {}", x.group, x.name),
                x.value.clone(),
                x.threshold.clone(),
                x.baseline.clone(),
                v.to_string(),
            ]
        })
        .collect();
    super::abtest::md_table(&mut o, &head, &cells);
    let problems: Vec<&Row> = rows.iter().filter(|x| x.verdict != Verdict::Pass).collect();
    if !problems.is_empty() {
        let _ = writeln!(o);
        for x in problems {
            let _ = writeln!(
                o,
                "- **{} {}** ({}): {}",
                x.group,
                x.name,
                x.verdict.as_str(),
                x.message
            );
        }
    }
    for n in &r.notes {
        let _ = writeln!(o, "\n> {n}");
    }
    let _ = writeln!(
        o,
        "\n**{}**: {}",
        if r.passed { "Passed" } else { "Failed" },
        summary(r, &rows)
    );
    o
}

fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => o.push(c),
        }
    }
    o
}

/// JUnit XML: each check a `<testcase>`, failed ones with `<failure>`.
#[must_use]
pub fn render_junit(r: &Report) -> String {
    let rows = rows(r);
    let failures = rows.iter().filter(|x| x.verdict == Verdict::Fail).count();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        "<testsuites name=\"mlops validate\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
        rows.len()
    );
    let _ = writeln!(
        o,
        "  <testsuite name=\"mlops validate {}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        xml(&r.candidate.name),
        rows.len()
    );
    for x in &rows {
        let open = format!(
            "    <testcase classname=\"mlops.validate.{}\" name=\"{}\"",
            x.group,
            xml(&x.name)
        );
        match x.verdict {
            Verdict::Pass => {
                let _ = writeln!(o, "{open}/>");
            }
            Verdict::Warn => {
                let _ = writeln!(
                    o,
                    "{open}>\n      <system-out>warning: {}</system-out>\n    </testcase>",
                    xml(&x.message)
                );
            }
            Verdict::Fail => {
                let _ = writeln!(
                    o,
                    "{open}>\n      <failure message=\"{}\" type=\"{}\">value {}, threshold {}</failure>\n    </testcase>",
                    xml(&x.message),
                    x.group,
                    xml(&x.value),
                    xml(&x.threshold)
                );
            }
        }
    }
    let _ = writeln!(o, "  </testsuite>\n</testsuites>");
    o
}

/// GitHub's escaping of a workflow command's message.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub's escaping of a workflow command's property.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One `::error` per failed check and one `::warning` per warning.
#[must_use]
pub fn annotations(r: &Report) -> String {
    let mut o = String::new();
    for x in rows(r) {
        let level = match x.verdict {
            Verdict::Pass => continue,
            Verdict::Warn => "warning",
            Verdict::Fail => "error",
        };
        let _ = writeln!(
            o,
            "::{level} title={}::{}",
            gh_property(&format!("mlops validate {} {}", x.group, x.name)),
            gh_data(&x.message)
        );
    }
    o
}

/// What CI variables carry: the verdict, the model, the number of failed
/// checks and the candidate's metrics, as `(name, value)`.
fn ci_values(r: &Report) -> Vec<(&'static str, String)> {
    let m = &r.candidate.metrics;
    let failed = rows(r)
        .iter()
        .filter(|x| x.verdict == Verdict::Fail)
        .count();
    let mut v = vec![
        ("passed", r.passed.to_string()),
        ("model", r.candidate.name.clone()),
        ("failed", failed.to_string()),
    ];
    let metrics = [
        ("r2", m.r2),
        ("rmse", Some(m.rmse)),
        ("mae", Some(m.mae)),
        ("mape", m.mape),
        ("deviance", m.deviance),
    ];
    v.extend(
        metrics
            .into_iter()
            .filter_map(|(k, x)| x.map(|x| (k, x.to_string()))),
    );
    v
}

/// Lines for `$GITHUB_OUTPUT`: `passed=true`, `model=NAME`, `failed=N`, `r2=…`.
#[must_use]
pub fn github_output(r: &Report) -> String {
    ci_values(r)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect()
}

/// A dotenv file for GitLab's `artifacts:reports:dotenv`:
/// `MLOPS_VALIDATE_PASSED=true`, `MLOPS_VALIDATE_MODEL=NAME`, ….
#[must_use]
pub fn dotenv(r: &Report) -> String {
    ci_values(r)
        .into_iter()
        .map(|(k, v)| format!("MLOPS_VALIDATE_{}={v}\n", k.to_uppercase()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            xml("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(xml("x\u{1}y"), "xy");
        assert_eq!(gh_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(gh_property("a: b, c"), "a%3A b%2C c");
    }
}
