//! The metric gates: absolute thresholds, and the comparison with a
//! baseline in the manner of MLflow's model validation
//! (`mlflow.models.MetricThreshold`): each metric has a known direction,
//! and the candidate's change against the baseline is judged by up to four
//! rules (allowed degradation, required improvement; absolute or relative
//! to the baseline's value). A classifier is judged on its classification
//! metrics ([`crate::stats::classification`]).

use serde::Serialize;

use crate::model::metrics::MetricSet;
use crate::project::{Bound, Rules, Thresholds};
use crate::stats::classification::{self, ClassMetrics};

use super::drift::short;

/// What a gate compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GateKind {
    /// An absolute bound from `[validate.thresholds]`.
    Threshold,
    /// A rule against the baseline from `[validate.baseline]`.
    Baseline,
}

/// One gate and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    /// A short name, like `r2 min` or `rmse max_relative_degradation`.
    pub name: String,
    /// `threshold` or `baseline`.
    pub kind: GateKind,
    /// The metric.
    pub metric: String,
    /// The candidate's value (`null` when the metric is not defined).
    pub value: Option<f64>,
    /// The bound or the rule's value.
    pub threshold: f64,
    /// The baseline's value (baseline gates).
    pub baseline_value: Option<f64>,
    /// Whether it passed.
    pub passed: bool,
    /// One sentence saying why.
    pub message: String,
}

/// Whether a greater value of the metric is better.
#[must_use]
pub fn greater_is_better(metric: &str) -> bool {
    metric == "r2"
        || classification::METRICS
            .iter()
            .any(|&(n, greater)| n == metric && greater)
}

/// Metrics looked up by name.
pub trait Lookup {
    /// The metric `name`, `None` when undefined or unknown.
    fn lookup(&self, name: &str) -> Option<f64>;
}

impl Lookup for MetricSet {
    fn lookup(&self, name: &str) -> Option<f64> {
        metric(self, name)
    }
}

/// A model's metrics on the evaluated rows: the regression metrics, and a
/// classifier's classification metrics.
#[derive(Debug, Clone, Copy)]
pub struct Measured<'a> {
    /// Regression metrics (a classifier's: of its probabilities).
    pub regression: &'a MetricSet,
    /// A classifier's metrics.
    pub classification: Option<&'a ClassMetrics>,
}

impl Lookup for Measured<'_> {
    fn lookup(&self, name: &str) -> Option<f64> {
        match self.classification {
            Some(c) if classification::METRICS.iter().any(|&(n, _)| n == name) => c.get(name),
            _ => metric(self.regression, name),
        }
    }
}

/// A metric of a metric set by name.
#[must_use]
pub fn metric(m: &MetricSet, name: &str) -> Option<f64> {
    match name {
        "r2" => m.r2,
        "rmse" => Some(m.rmse),
        "mae" => Some(m.mae),
        "mape" => m.mape,
        "deviance" => m.deviance,
        _ => None,
    }
}

/// Why a metric is not defined, for messages.
fn undefined(metric: &str) -> &'static str {
    match metric {
        "r2" => "R² is not defined (the target is constant in these rows)",
        "mape" => "MAPE is not defined (a target is 0)",
        "deviance" => "the deviance is only reported for GLMs",
        "precision" | "recall" | "f1" => "it is defined only for two classes",
        "auc_weighted" => "it is defined only for more than two classes",
        "accuracy" | "log_loss" | "auc" | "average_precision" | "brier" | "ece" => {
            "it is reported only for classifiers"
        }
        _ => "the metric is not defined",
    }
}

/// The gates of `[validate.thresholds]` on metrics `m`.
#[must_use]
pub fn thresholds(t: &Thresholds, m: &dyn Lookup) -> Vec<Gate> {
    let mut out = Vec::new();
    for (name, b) in t.by_metric() {
        let Some(Bound { min, max }) = b else {
            continue;
        };
        let v = m.lookup(name);
        for (side, bound) in [("min", min), ("max", max)] {
            let Some(bound) = bound else { continue };
            let (passed, message) = match v {
                None => (false, format!("{name}: {}", undefined(name))),
                Some(v) => {
                    let ok = if side == "min" {
                        v >= bound
                    } else {
                        v <= bound
                    };
                    let rel = match (side, ok) {
                        ("min", true) => "is at least",
                        ("min", false) => "is below the minimum",
                        (_, true) => "is at most",
                        (_, false) => "is above the maximum",
                    };
                    (ok, format!("{name} = {} {rel} {}", short(v), short(bound)))
                }
            };
            out.push(Gate {
                name: format!("{name} {side}"),
                kind: GateKind::Threshold,
                metric: name.to_string(),
                value: v,
                threshold: bound,
                baseline_value: None,
                passed,
                message,
            });
        }
    }
    out
}

/// The baseline rule when none is set: the candidate may be worse by at
/// most 1 % of the baseline's value (`max_relative_degradation = 0.01`), so
/// that a retrain differing in the fifth digit does not fail.
pub const DEFAULT_MAX_RELATIVE_DEGRADATION: f64 = 0.01;

/// The rules set, with the default when none is:
/// `max_relative_degradation =` [`DEFAULT_MAX_RELATIVE_DEGRADATION`].
#[must_use]
pub fn rules(b: &Rules) -> Vec<(&'static str, f64)> {
    let mut r: Vec<(&'static str, f64)> = b
        .by_name()
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    if r.is_empty() {
        r.push(("max_relative_degradation", DEFAULT_MAX_RELATIVE_DEGRADATION));
    }
    r
}

/// The comparison gates of candidate metrics `c` against baseline metrics
/// `b`, for each metric under its rules.
///
/// With `improvement = c − b` when greater is better and `b − c` otherwise:
/// `max_absolute_degradation = t` needs `improvement ≥ −t`;
/// `max_relative_degradation = t` needs `improvement ≥ −t |b|`;
/// `min_absolute_improvement = t` needs `improvement ≥ t`;
/// `min_relative_improvement = t` needs `improvement ≥ t |b|`.
/// A metric undefined for the baseline is skipped; undefined for the
/// candidate only, it fails.
#[must_use]
pub fn baseline(
    metrics: &[(&str, Vec<(&'static str, f64)>)],
    c: &dyn Lookup,
    b: &dyn Lookup,
) -> Vec<Gate> {
    let mut out = Vec::new();
    for (name, rules) in metrics {
        let name = *name;
        let Some(bv) = b.lookup(name) else { continue };
        let cv = c.lookup(name);
        for &(rule, t) in rules {
            let (passed, message) = match cv {
                None => (false, format!("{name}: {}", undefined(name))),
                Some(cv) => {
                    let improvement = if greater_is_better(name) {
                        cv - bv
                    } else {
                        bv - cv
                    };
                    let need = match rule {
                        "max_absolute_degradation" => -t,
                        "max_relative_degradation" => -t * bv.abs(),
                        "min_absolute_improvement" => t,
                        _ => t * bv.abs(),
                    };
                    let ok = improvement >= need;
                    let dir = if greater_is_better(name) {
                        "higher"
                    } else {
                        "lower"
                    };
                    let (cs, bs) = distinct(cv, bv);
                    let change = if improvement >= 0.0 {
                        format!("better by {}", short(improvement))
                    } else {
                        format!("worse by {}", short(-improvement))
                    };
                    let rel = if bv == 0.0 {
                        String::new()
                    } else {
                        format!(" ({})", percent(improvement / bv.abs()))
                    };
                    let verdict = if ok {
                        format!("within {rule} = {t}")
                    } else {
                        format!(
                            "breaks {rule} = {t}; to change the rule, set {rule} (or another rule) in [validate.baseline] or in [validate.baseline.{name}]"
                        )
                    };
                    (
                        ok,
                        format!(
                            "{name} = {cs} against the baseline's {bs} ({dir} is better): {change}{rel}, {verdict}"
                        ),
                    )
                }
            };
            out.push(Gate {
                name: format!("{name} {rule}"),
                kind: GateKind::Baseline,
                metric: name.to_string(),
                value: cv,
                threshold: t,
                baseline_value: Some(bv),
                passed,
                message,
            });
        }
    }
    out
}

/// `a` and `b` with as many significant digits as it takes to tell them
/// apart (at least those of [`short`], at most 17).
fn distinct(a: f64, b: f64) -> (String, String) {
    let (sa, sb) = (short(a), short(b));
    if sa != sb || a == b || !a.is_finite() || !b.is_finite() {
        return (sa, sb);
    }
    for digits in 5..=17 {
        let (fa, fb) = (significant(a, digits), significant(b, digits));
        if fa != fb {
            return (fa, fb);
        }
    }
    (format!("{a:?}"), format!("{b:?}"))
}

/// `x` with `digits` significant digits (trailing zeros kept: they are
/// the digits that differ).
fn significant(x: f64, digits: usize) -> String {
    let a = x.abs();
    if !(1e-3..1e6).contains(&a) {
        return format!("{x:.prec$e}", prec = digits - 1);
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let decimals = (digits as i32 - 1 - a.log10().floor() as i32).max(0) as usize;
    format!("{x:.decimals$}")
}

/// A fraction as a signed percentage, with digits enough to show a change
/// smaller than 0.01 %.
fn percent(f: f64) -> String {
    let p = 100.0 * f;
    if p == 0.0 || p.abs() >= 0.01 {
        format!("{p:+.2}%")
    } else {
        format!("{}{}%", if p > 0.0 { "+" } else { "" }, short(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(r2: f64, rmse: f64) -> MetricSet {
        MetricSet {
            rows: 10,
            rmse,
            mae: rmse / 2.0,
            r2: Some(r2),
            mape: None,
            deviance: None,
        }
    }

    #[track_caller]
    fn case(rule: &'static str, t: f64, metric: &str, c: MetricSet, b: MetricSet, pass: bool) {
        let g = baseline(&[(metric, vec![(rule, t)])], &c, &b);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].passed, pass, "{}", g[0].message);
    }

    #[test]
    fn baseline_rules_know_the_direction() {
        // rmse: lower is better. 102 vs 100 is 2% worse.
        case(
            "max_relative_degradation",
            0.01,
            "rmse",
            ms(0.9, 102.0),
            ms(0.9, 100.0),
            false,
        );
        case(
            "max_relative_degradation",
            0.03,
            "rmse",
            ms(0.9, 102.0),
            ms(0.9, 100.0),
            true,
        );
        case(
            "max_absolute_degradation",
            2.0,
            "rmse",
            ms(0.9, 102.0),
            ms(0.9, 100.0),
            true,
        );
        case(
            "max_absolute_degradation",
            1.9,
            "rmse",
            ms(0.9, 102.0),
            ms(0.9, 100.0),
            false,
        );
        case(
            "min_relative_improvement",
            0.05,
            "rmse",
            ms(0.9, 94.0),
            ms(0.9, 100.0),
            true,
        );
        case(
            "min_relative_improvement",
            0.05,
            "rmse",
            ms(0.9, 96.0),
            ms(0.9, 100.0),
            false,
        );
        // r2: higher is better.
        case(
            "min_absolute_improvement",
            0.01,
            "r2",
            ms(0.92, 1.0),
            ms(0.90, 1.0),
            true,
        );
        case(
            "max_absolute_degradation",
            0.0,
            "r2",
            ms(0.89, 1.0),
            ms(0.90, 1.0),
            false,
        );
        case(
            "max_absolute_degradation",
            0.0,
            "r2",
            ms(0.90, 1.0),
            ms(0.90, 1.0),
            true,
        );
        // Undefined for the baseline: skipped.
        assert!(
            baseline(
                &[("mape", vec![("min_absolute_improvement", 0.0)])],
                &ms(0.9, 1.0),
                &ms(0.9, 1.0)
            )
            .is_empty()
        );
    }

    #[test]
    fn thresholds_check_both_sides() {
        let t = Thresholds {
            r2: Some(Bound {
                min: Some(0.8),
                max: None,
            }),
            rmse: Some(Bound {
                min: Some(1.0),
                max: Some(5.0),
            }),
            mape: Some(Bound {
                min: None,
                max: Some(0.1),
            }),
            ..Thresholds::default()
        };
        let g = thresholds(&t, &ms(0.85, 6.0));
        let v: Vec<(&str, bool)> = g.iter().map(|g| (g.name.as_str(), g.passed)).collect();
        assert_eq!(
            v,
            [
                ("r2 min", true),
                ("rmse min", true),
                ("rmse max", false),
                ("mape max", false)
            ]
        );
        assert!(g[3].message.contains("not defined"), "{}", g[3].message);
    }

    #[test]
    fn default_rule_is_one_percent() {
        assert_eq!(
            rules(&Rules::default()),
            [("max_relative_degradation", 0.01)]
        );
    }

    #[test]
    fn a_tiny_degradation_shows_its_digits_and_the_key() {
        // The case of issue 23: worse by 3.010e-5 on r2 = 0.88, 2 % allowed
        // by nothing: max_absolute_degradation = 0 fails it.
        let g = baseline(
            &[("r2", vec![("max_absolute_degradation", 0.0)])],
            &ms(0.880_301, 100.0),
            &ms(0.880_331_1, 100.0),
        );
        let m = &g[0].message;
        assert!(!g[0].passed);
        assert!(
            m.contains("r2 = 0.88030 against the baseline's 0.88033"),
            "{m}"
        );
        assert!(m.contains("worse by 3.010e-5 (-0.003419%)"), "{m}");
        assert!(m.contains("[validate.baseline.r2]"), "{m}");
        // The default rule lets it pass.
        let g = baseline(
            &[("r2", rules(&Rules::default()))],
            &ms(0.880_301, 100.0),
            &ms(0.880_331_1, 100.0),
        );
        assert!(g[0].passed, "{}", g[0].message);
        assert_eq!(percent(-0.02), "-2.00%");
        assert_eq!(distinct(1.0, 2.0), ("1".into(), "2".into()));
        assert_eq!(distinct(14_917.51, 14_917.6).0, "14917.5");
    }
}
