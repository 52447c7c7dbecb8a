//! The human report: what was validated, one row per check, the problems
//! and notes, and a summary line.

use std::fmt::Write as _;

use mlops::validate::{Report, Verdict};

use super::lines::{baseline_line, metrics_line, summary};
use super::rows::{Row, rows};
use crate::cli::output::Output;

/// The human report: what was validated, one row per check, a summary line.
#[must_use]
pub fn render_text(r: &Report, out: &Output) -> String {
    let rows = rows(r);
    let mut s = String::new();
    write_subject(&mut s, r, out);
    write_table(&mut s, &rows, out);
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

/// What was validated: the candidate, the rows, the metrics, the baseline
/// and the drift data.
fn write_subject(s: &mut String, r: &Report, out: &Output) {
    let _ = writeln!(
        s,
        "{} {} ({}) on {} rows: {}",
        out.paint("Validated", "1"),
        r.candidate.name,
        r.candidate.artifact,
        r.rows.scored,
        r.rows.source
    );
    let _ = writeln!(
        s,
        "  metrics   {}",
        metrics_line(&r.candidate.metrics, r.candidate.classification.as_ref())
    );
    if let Some(b) = baseline_line(r) {
        let _ = writeln!(s, "  baseline  {b}");
        if let Some(b) = r.baseline.as_ref()
            && let Some(m) = b.metrics.as_ref()
        {
            let line = metrics_line(m, b.classification.as_ref());
            let _ = writeln!(s, "            {line}");
        }
    }
    if let Some(d) = &r.drift.data {
        let _ = writeln!(s, "  drift     {d}");
    }
    let _ = writeln!(s);
}

/// The table of checks, one row each.
fn write_table(s: &mut String, rows: &[Row], out: &Output) {
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
    for x in rows {
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
}
