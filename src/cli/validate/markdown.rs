//! The markdown report, for a pull-request comment or
//! `$GITHUB_STEP_SUMMARY`.

use std::fmt::Write as _;

use mlops::validate::{Report, Verdict};

use super::lines::{baseline_line, metrics_line, summary};
use super::rows::{Row, rows};

/// Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`.
#[must_use]
pub fn render_markdown(r: &Report) -> String {
    let rows = rows(r);
    let mut o = String::new();
    write_subject(&mut o, r);
    write_table(&mut o, &rows);
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

/// The heading with the verdict, the rows, the candidate and the baseline.
fn write_subject(o: &mut String, r: &Report) {
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
        metrics_line(&r.candidate.metrics, r.candidate.classification.as_ref())
    );
    if let Some(b) = baseline_line(r) {
        let m = r
            .baseline
            .as_ref()
            .and_then(|b| {
                b.metrics
                    .as_ref()
                    .map(|m| format!(": {}", metrics_line(m, b.classification.as_ref())))
            })
            .unwrap_or_default();
        let _ = writeln!(o, "  \nBaseline {b}{m}");
    }
    let _ = writeln!(o);
}

/// The table of checks, one row each.
fn write_table(o: &mut String, rows: &[Row]) {
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
    crate::cli::abtest::md_table(o, &head, &cells);
}
