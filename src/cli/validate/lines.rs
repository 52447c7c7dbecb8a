//! The lines the text and markdown reports share: the metrics, the
//! baseline, and the closing summary.

use mlops::model::metrics::MetricSet;
use mlops::stats::classification::{ClassMetrics, METRICS};
use mlops::validate::{Report, Verdict};

use super::rows::{Row, num};

/// The metrics in one line: `r2 …, rmse …, mae …`; a classifier's
/// classification metrics: `accuracy …, log_loss …, auc …`.
pub(super) fn metrics_line(m: &MetricSet, c: Option<&ClassMetrics>) -> String {
    if let Some(c) = c {
        return METRICS
            .iter()
            .filter_map(|&(n, _)| c.get(n).map(|v| format!("{n} {}", num(v))))
            .collect::<Vec<_>>()
            .join(", ");
    }
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

/// The baseline in one line, when one was asked for.
pub(super) fn baseline_line(r: &Report) -> Option<String> {
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

/// The summary: how many checks passed, or which failed, and the warnings.
pub(super) fn summary(r: &Report, rows: &[Row]) -> String {
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
