//! The checks of a report as rows, one per check, in order (gates,
//! baseline rules, data checks, drift): the one list every format renders,
//! so that the formats always agree.

use mlops::validate::{DataCheck, DriftThresholds, FeatureDrift, Gate, GateKind, Report, Verdict};

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

/// A number as the reports print it.
pub(super) fn num(v: f64) -> String {
    crate::cli::train::fmt_num(v)
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
    out.extend(r.gates.iter().map(gate_row));
    out.extend(r.data_checks.iter().map(data_row));
    for f in r.drift.features.iter().chain(&r.drift.predictions) {
        drift_rows(f, &r.drift.thresholds, &mut out);
    }
    out
}

/// The row of a metric gate (a threshold or a baseline rule).
fn gate_row(g: &Gate) -> Row {
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
    Row {
        group,
        name: g.name.clone(),
        value: g.value.map_or_else(|| "-".into(), num),
        threshold,
        baseline: g.baseline_value.map_or_else(String::new, num),
        verdict: verdict(g.passed),
        message: g.message.clone(),
    }
}

/// The row of a data check.
fn data_row(c: &DataCheck) -> Row {
    Row {
        group: "data",
        name: format!("{} {}", c.check, c.feature),
        value: pct(c.value),
        threshold: format!("<= {}", pct(c.threshold)),
        baseline: String::new(),
        verdict: c.verdict,
        message: c.message.clone(),
    }
}

/// The rows of one feature's drift: its tests, its PSI, and a failed row
/// when either sample is empty.
fn drift_rows(f: &FeatureDrift, t: &DriftThresholds, out: &mut Vec<Row>) {
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
