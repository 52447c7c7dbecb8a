//! Data checks of the validation rows against what the model saw in
//! training: the share of missing cells per feature, the share of rows
//! outside the training min/max of each numeric feature, and the share of
//! rows with a categorical level unseen in training.
//!
//! A feature column that is absent, or a number that does not parse, is a
//! data error when the file is read (exit 3, as in `train`). The shares are
//! judged against `[validate.data]`: a threshold set there fails the
//! validation when crossed; the defaults (0 missing, 5% out of range, 0
//! unseen) only warn.

use serde::Serialize;

use crate::data::{Column, MISSING_LEVEL, Table};
use crate::model::Artifact;
use crate::model::stats::ColumnStats;
use crate::project::DataChecksSection;

/// Default largest share of missing cells (warns).
pub const DEFAULT_MAX_MISSING: f64 = 0.0;
/// Default largest share of out-of-range values (warns).
pub const DEFAULT_MAX_OUT_OF_RANGE: f64 = 0.05;
/// Default largest share of unseen levels (warns).
pub const DEFAULT_MAX_UNSEEN: f64 = 0.0;

/// The verdict of a data check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Within the threshold.
    Pass,
    /// Above a default threshold: reported, does not fail.
    Warn,
    /// Above a configured threshold: fails the validation.
    Fail,
}

impl Verdict {
    /// As printed.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        }
    }
}

/// One data check of one feature.
#[derive(Debug, Clone, Serialize)]
pub struct DataCheck {
    /// `missing`, `out_of_range` or `unseen_levels`.
    pub check: &'static str,
    /// The feature.
    pub feature: String,
    /// Rows concerned.
    pub count: u64,
    /// Rows checked.
    pub rows: u64,
    /// `count / rows`.
    pub value: f64,
    /// The largest share allowed.
    pub threshold: f64,
    /// Whether the threshold was configured (then crossing it fails).
    pub configured: bool,
    /// The verdict.
    pub verdict: Verdict,
    /// Unseen levels (at most 10), for `unseen_levels`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<String>,
    /// One sentence.
    pub message: String,
}

/// Run the data checks of rows `idx` of `t` for model `a`.
#[must_use]
pub fn run(a: &Artifact, t: &Table, idx: &[usize], cfg: &DataChecksSection) -> Vec<DataCheck> {
    let n = idx.len() as u64;
    let mut out = Vec::new();
    for f in &a.features {
        let Some(ci) = t.feature_names.iter().position(|x| x == f) else {
            continue;
        };
        let col = &t.features[ci];
        out.push(missing(f, col, idx, cfg).judge(n));
        match col {
            Column::Numeric(v) => {
                if let Some(s) = out_of_range(a, f, v, idx, cfg) {
                    out.push(s.judge(n));
                }
            }
            Column::Categorical { codes, levels } => {
                out.push(unseen_levels(a, f, codes, levels, idx, cfg).judge(n));
            }
        }
    }
    out
}

/// What one check of one feature counted, before it is judged.
struct Count<'a> {
    /// `missing`, `out_of_range` or `unseen_levels`.
    check: &'static str,
    /// The feature.
    feature: &'a str,
    /// Rows concerned.
    count: u64,
    /// The threshold of `[validate.data]`, when set.
    set: Option<f64>,
    /// The threshold otherwise.
    default: f64,
    /// Unseen levels, for `unseen_levels`.
    levels: Vec<String>,
    /// What the rows concerned do, in words.
    what: String,
}

impl Count<'_> {
    /// The share of `n` rows against the threshold: the check as reported.
    #[allow(clippy::cast_precision_loss)]
    fn judge(self, n: u64) -> DataCheck {
        let Count {
            check,
            feature,
            count,
            set,
            default,
            levels,
            what,
        } = self;
        let value = if n == 0 { 0.0 } else { count as f64 / n as f64 };
        let threshold = set.unwrap_or(default);
        let verdict = match (value > threshold, set.is_some()) {
            (false, _) => Verdict::Pass,
            (true, true) => Verdict::Fail,
            (true, false) => Verdict::Warn,
        };
        let mut message = format!(
            "{feature}: {count} of {n} rows ({:.2}%) {what}; allowed {:.2}%",
            100.0 * value,
            100.0 * threshold
        );
        if !levels.is_empty() {
            message.push_str(&format!(" (levels: {})", levels.join(", ")));
        }
        if verdict == Verdict::Warn {
            message.push_str(&format!(
                "; a default threshold, so a warning (set validate.data.{} to fail on it)",
                match check {
                    "missing" => "max_missing",
                    "out_of_range" => "max_out_of_range",
                    _ => "max_unseen",
                }
            ));
        }
        DataCheck {
            check,
            feature: feature.to_string(),
            count,
            rows: n,
            value,
            threshold,
            configured: set.is_some(),
            verdict,
            levels,
            message,
        }
    }
}

/// Empty cells of feature `f` (column `col`) among rows `idx`.
fn missing<'a>(f: &'a str, col: &Column, idx: &[usize], cfg: &DataChecksSection) -> Count<'a> {
    Count {
        check: "missing",
        feature: f,
        count: idx.iter().filter(|&&i| col.is_missing(i)).count() as u64,
        set: cfg.max_missing,
        default: DEFAULT_MAX_MISSING,
        levels: Vec::new(),
        what: "are empty".to_string(),
    }
}

/// Values of numeric feature `f` outside its training range, when the
/// model has its statistics.
fn out_of_range<'a>(
    a: &Artifact,
    f: &'a str,
    v: &[f64],
    idx: &[usize],
    cfg: &DataChecksSection,
) -> Option<Count<'a>> {
    let Some(ColumnStats::Numeric(s)) = a.feature_stats.get(f) else {
        return None;
    };
    if s.count == 0 {
        return None;
    }
    let outside = idx
        .iter()
        .filter(|&&i| !v[i].is_nan() && (v[i] < s.min || v[i] > s.max))
        .count() as u64;
    Some(Count {
        check: "out_of_range",
        feature: f,
        count: outside,
        set: cfg.max_out_of_range,
        default: DEFAULT_MAX_OUT_OF_RANGE,
        levels: Vec::new(),
        what: format!(
            "lie outside the training range [{}, {}]",
            super::drift::short(s.min),
            super::drift::short(s.max)
        ),
    })
}

/// Levels of categorical feature `f` not seen in training (the first ten
/// names, sorted).
fn unseen_levels<'a>(
    a: &Artifact,
    f: &'a str,
    codes: &[u32],
    levels: &[String],
    idx: &[usize],
    cfg: &DataChecksSection,
) -> Count<'a> {
    let known = a.categorical.get(f).map(|c| &c.levels);
    let unseen_code = |c: u32| {
        c != MISSING_LEVEL && known.is_some_and(|k| k.binary_search(&levels[c as usize]).is_err())
    };
    let mut names: Vec<String> = Vec::new();
    let mut count = 0u64;
    for &i in idx {
        if unseen_code(codes[i]) {
            count += 1;
            let l = &levels[codes[i] as usize];
            if names.len() < 10 && !names.contains(l) {
                names.push(l.clone());
            }
        }
    }
    names.sort();
    Count {
        check: "unseen_levels",
        feature: f,
        count,
        set: cfg.max_unseen,
        default: DEFAULT_MAX_UNSEEN,
        levels: names,
        what: "have a level not seen in training".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::stats::{CategoricalStats, numeric};

    fn artifact() -> Artifact {
        let mut a: Artifact = serde_json::from_value(serde_json::json!({
            "format": "mlops.model/v2", "name": "m", "kind": "linear",
            "params": {"fit_intercept": true}, "target": "y", "features": ["x", "c"],
            "categorical": {"c": {"levels": ["a", "b"], "reference": "a"}},
            "intercept": 0.0, "coefficients": {"x": 1.0, "c=b": 1.0},
            "missing": {"policy": "error", "fill": {}},
            "metrics": {"train": {"rows": 2, "rmse": 0.0, "mae": 0.0, "r2": 1.0, "mape": 0.0}, "validation": null},
            "feature_stats": {},
            "target_stats": {"count": 2, "missing": 0, "mean": 0.0, "sd": 0.0, "min": 0.0, "max": 0.0, "deciles": []},
            "rows": {"total": 2, "train": 2, "validation": 0, "dropped": 0},
            "split": {"validation_fraction": 0.0, "seed": 42},
            "data_sha256": "00", "tool": {"name": "mlops", "version": "0"}, "created_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        a.feature_stats.insert(
            "x".into(),
            ColumnStats::Numeric(numeric([0.0, 10.0].into_iter())),
        );
        a.feature_stats.insert(
            "c".into(),
            ColumnStats::Categorical(CategoricalStats {
                count: 2,
                missing: 0,
                levels: [("a".to_string(), 1), ("b".to_string(), 1)]
                    .into_iter()
                    .collect(),
            }),
        );
        a
    }

    #[test]
    fn shares_and_verdicts() {
        let a = artifact();
        let t = Table {
            origin: "v.csv".into(),
            feature_names: vec!["x".into(), "c".into()],
            features: vec![
                Column::Numeric(vec![1.0, f64::NAN, 11.0, 5.0]),
                Column::Categorical {
                    codes: vec![0, 1, 2, MISSING_LEVEL],
                    levels: vec!["a".into(), "z".into(), "b".into()],
                },
            ],
            target: vec![1.0; 4],
            lines: vec![2, 3, 4, 5],
            sources: Vec::new(),
        };
        let cfg = DataChecksSection {
            max_missing: Some(0.3),
            max_out_of_range: None,
            max_unseen: Some(0.1),
        };
        let c = run(&a, &t, &[0, 1, 2, 3], &cfg);
        let v: Vec<(&str, &str, u64, Verdict)> = c
            .iter()
            .map(|c| (c.check, c.feature.as_str(), c.count, c.verdict))
            .collect();
        assert_eq!(
            v,
            [
                ("missing", "x", 1, Verdict::Pass),
                ("out_of_range", "x", 1, Verdict::Warn),
                ("missing", "c", 1, Verdict::Pass),
                ("unseen_levels", "c", 1, Verdict::Fail),
            ]
        );
        assert_eq!(c[3].levels, ["z"]);
        assert!(
            c[1].message.contains("1 of 4 rows (25.00%)"),
            "{}",
            c[1].message
        );
    }
}
