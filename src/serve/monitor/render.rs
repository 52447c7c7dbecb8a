//! The Prometheus families of the drift monitors of the served models, in
//! the text format.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use crate::stats::binned::{js_distance, psi_from_counts};

use super::{Feature, Monitor, window};

/// `"` `\` and newlines escaped for a label value.
#[must_use]
pub fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One served model's monitor with its labels and window totals.
struct Row<'a> {
    labels: String,
    monitor: &'a Monitor,
    totals: Vec<u64>,
}

impl Row<'_> {
    fn window_of<'f>(&'f self, f: &Feature) -> &'f [u64] {
        &self.totals[f.offset..f.offset + f.width]
    }

    /// The training and window counts of `f`, when drift is shown for it.
    fn drift_counts<'f>(&'f self, f: &'f Feature) -> Option<(&'f [u64], &'f [u64])> {
        let e = f.expected.as_deref()?;
        let w = self.window_of(f);
        (w.iter().sum::<u64>() >= self.monitor.min_samples).then_some((e, w))
    }
}

const FAMILIES: [(&str, &str, &str); 7] = [
    (
        "mlops_feature_drift_psi",
        "gauge",
        "Population stability index of each feature over the window against training (absent until min_samples).",
    ),
    (
        "mlops_feature_drift_js_distance",
        "gauge",
        "Jensen-Shannon distance (base 2) of each feature over the window against training (absent until min_samples).",
    ),
    (
        "mlops_prediction_drift_psi",
        "gauge",
        "Population stability index of the predictions over the window against the training predictions (absent until min_samples).",
    ),
    (
        "mlops_drift_window_samples",
        "gauge",
        "Non-missing values of each feature in the drift window.",
    ),
    (
        "mlops_feature_missing_total",
        "counter",
        "Feature values missing (null or absent).",
    ),
    (
        "mlops_feature_out_of_range_total",
        "counter",
        "Numeric feature values outside the training min and max.",
    ),
    (
        "mlops_feature_unseen_level_total",
        "counter",
        "Categorical feature levels not seen in training.",
    ),
];

/// Write the drift families of `served`: each monitor with its labels
/// (`model="…",version="…",variant="…"`, escaped).
pub fn render(out: &mut String, served: &[(String, &Monitor)]) {
    let now = window::now_ms();
    let rows: Vec<Row<'_>> = served
        .iter()
        .map(|(labels, m)| Row {
            labels: labels.clone(),
            monitor: m,
            totals: m.window.totals(now),
        })
        .collect();
    for (name, kind, help) in FAMILIES {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for r in &rows {
            family(out, name, r);
        }
    }
}

/// The samples of family `name` for one served model.
fn family(out: &mut String, name: &str, r: &Row<'_>) {
    if name == "mlops_prediction_drift_psi" {
        if let Some((e, w)) = r
            .monitor
            .prediction
            .as_ref()
            .and_then(|p| r.drift_counts(p))
        {
            let _ = writeln!(out, "{name}{{{}}} {}", r.labels, psi_from_counts(e, w));
        }
        return;
    }
    for f in &r.monitor.features {
        let value = match name {
            "mlops_feature_drift_psi" => r.drift_counts(f).map(|(e, w)| psi_from_counts(e, w)),
            "mlops_feature_drift_js_distance" => {
                r.drift_counts(f).and_then(|(e, w)| js_distance(e, w))
            }
            #[allow(clippy::cast_precision_loss)]
            "mlops_drift_window_samples" => Some(r.window_of(f).iter().sum::<u64>() as f64),
            _ => {
                let c = match name {
                    "mlops_feature_missing_total" => &f.missing,
                    "mlops_feature_out_of_range_total" => &f.out_of_range,
                    _ => &f.unseen,
                };
                let _ = writeln!(
                    out,
                    "{name}{{{},feature=\"{}\"}} {}",
                    r.labels,
                    esc(&f.name),
                    c.load(Ordering::Relaxed)
                );
                None
            }
        };
        if let Some(v) = value {
            let _ = writeln!(
                out,
                "{name}{{{},feature=\"{}\"}} {v}",
                r.labels,
                esc(&f.name)
            );
        }
    }
}
