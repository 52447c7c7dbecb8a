//! Classification metrics in f64, each equal to scikit-learn 1.9's function
//! (`tests/data/logistic/metrics.json`, made by `make_metrics.py` there):
//! accuracy, log loss (probabilities clipped to `[ε, 1-ε]`, ε the f64
//! machine epsilon, as `log_loss`), ROC AUC (binary; one-vs-rest macro and
//! prevalence-weighted for K > 2), average precision (`average_precision_score`,
//! macro over classes for K > 2), Brier score (`brier_score_loss`: the mean
//! squared error of the positive class's probability when binary, the sum
//! over classes when K > 2), precision / recall / F1 at the decision
//! threshold (binary; positive when `p > threshold`, as
//! `LogisticRegression.predict`), the expected calibration error over the 10
//! uniform bins of `calibration_curve` (of the positive class when binary,
//! of the top class's probability against being right when K > 2), and the
//! confusion matrix (rows true, columns predicted).
//!
//! ROC AUC counts, per group of tied scores, the positives above the
//! negatives below plus half the ties, in exact integer arithmetic (u128),
//! so ties are exact and nothing is lost beyond 2^24 (or 2^53) rows. A set
//! where a class is absent has no AUC: that is an error naming the class,
//! never NaN.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The metrics of a classifier on a set of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassMetrics {
    /// Rows evaluated.
    pub rows: u64,
    /// Share of rows whose predicted label is right.
    pub accuracy: f64,
    /// Mean negative log-likelihood of the true class.
    pub log_loss: f64,
    /// ROC AUC (binary), or one-vs-rest macro average (K > 2).
    pub auc: f64,
    /// One-vs-rest AUC weighted by class prevalence (K > 2 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auc_weighted: Option<f64>,
    /// Average precision (macro over classes when K > 2).
    pub average_precision: f64,
    /// Brier score.
    pub brier: f64,
    /// Precision at the threshold (binary only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<f64>,
    /// Recall at the threshold (binary only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall: Option<f64>,
    /// F1 at the threshold (binary only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f1: Option<f64>,
    /// Expected calibration error over 10 bins.
    pub ece: f64,
    /// Counts by true class (rows) and predicted class (columns).
    pub confusion: Vec<Vec<u64>>,
}

impl ClassMetrics {
    /// A metric by its name in `[validate.thresholds]`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<f64> {
        match name {
            "accuracy" => Some(self.accuracy),
            "log_loss" => Some(self.log_loss),
            "auc" => Some(self.auc),
            "auc_weighted" => self.auc_weighted,
            "average_precision" => Some(self.average_precision),
            "brier" => Some(self.brier),
            "precision" => self.precision,
            "recall" => self.recall,
            "f1" => self.f1,
            "ece" => Some(self.ece),
            _ => None,
        }
    }
}

/// Names [`ClassMetrics::get`] knows, and whether larger is better.
pub const METRICS: [(&str, bool); 10] = [
    ("accuracy", true),
    ("log_loss", false),
    ("auc", true),
    ("auc_weighted", true),
    ("average_precision", true),
    ("brier", false),
    ("precision", true),
    ("recall", true),
    ("f1", true),
    ("ece", false),
];

/// What is evaluated: true classes and the probabilities, row-major `n × k`.
#[derive(Debug, Clone, Copy)]
pub struct Scores<'a> {
    /// True class of each row, below `k`.
    pub y: &'a [usize],
    /// Probabilities, `k` per row.
    pub prob: &'a [f64],
    /// Number of classes.
    pub k: usize,
}

/// The class index each row is predicted: with two classes, class 1 when
/// its probability exceeds `threshold`; else the first most probable.
#[must_use]
pub fn predicted(prob: &[f64], k: usize, threshold: f64) -> Vec<usize> {
    prob.chunks_exact(k)
        .map(|r| {
            if k == 2 {
                usize::from(r[1] > threshold)
            } else {
                r.iter()
                    .enumerate()
                    .fold(
                        (0, f64::NEG_INFINITY),
                        |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                    )
                    .0
            }
        })
        .collect()
}

/// Every metric; `names` are the class labels (for errors), `what` the
/// rows (e.g. "validation"). With two classes, class 1 is the positive one.
#[allow(clippy::cast_precision_loss)]
pub fn compute(
    s: Scores<'_>,
    threshold: f64,
    names: &[String],
    what: &str,
) -> Result<ClassMetrics> {
    let n = s.y.len();
    let k = s.k;
    let mut counts = vec![0u64; k];
    s.y.iter().for_each(|&c| counts[c] += 1);
    if let Some(c) = counts.iter().position(|&m| m == 0) {
        return Err(Error::data(format!(
            "the {what} rows hold no row of class \"{}\" ({n} rows), so ROC AUC and average precision are undefined; use more rows (raise split.validation_fraction) or fewer classes",
            names.get(c).map_or("?", String::as_str)
        )));
    }
    let pred = predicted(s.prob, k, threshold);
    let mut confusion = vec![vec![0u64; k]; k];
    s.y.iter()
        .zip(&pred)
        .for_each(|(&t, &p)| confusion[t][p] += 1);
    let right = (0..k).map(|c| confusion[c][c]).sum::<u64>();
    let column = |c: usize| -> Vec<f64> { s.prob.iter().skip(c).step_by(k).copied().collect() };
    let is = |c: usize| -> Vec<bool> { s.y.iter().map(|&t| t == c).collect() };
    let (auc, auc_weighted, ap) = if k == 2 {
        let (p, t) = (column(1), is(1));
        (roc_auc(&p, &t), None, average_precision(&p, &t))
    } else {
        let aucs: Vec<f64> = (0..k).map(|c| roc_auc(&column(c), &is(c))).collect();
        let aps: Vec<f64> = (0..k)
            .map(|c| average_precision(&column(c), &is(c)))
            .collect();
        let w: f64 = aucs
            .iter()
            .zip(&counts)
            .map(|(a, &m)| a * m as f64)
            .sum::<f64>()
            / n as f64;
        (mean(&aucs), Some(w), mean(&aps))
    };
    let (precision, recall, f1) = if k == 2 {
        binary_rates(&confusion)
    } else {
        (None, None, None)
    };
    Ok(ClassMetrics {
        rows: n as u64,
        accuracy: right as f64 / n as f64,
        log_loss: log_loss(s),
        auc,
        auc_weighted,
        average_precision: ap,
        brier: brier(s),
        precision,
        recall,
        f1,
        ece: calibration_error(s, &pred),
        confusion,
    })
}

#[allow(clippy::cast_precision_loss)]
fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Precision, recall and F1 of class 1 (0 where undefined, as
/// scikit-learn's `zero_division=0`).
#[allow(clippy::cast_precision_loss)]
fn binary_rates(c: &[Vec<u64>]) -> (Option<f64>, Option<f64>, Option<f64>) {
    let (tp, fp, fn_) = (c[1][1] as f64, c[0][1] as f64, c[1][0] as f64);
    let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
    let recall = if tp + fn_ > 0.0 { tp / (tp + fn_) } else { 0.0 };
    let f1 = if 2.0 * tp + fp + fn_ > 0.0 {
        2.0 * tp / (2.0 * tp + fp + fn_)
    } else {
        0.0
    };
    (Some(precision), Some(recall), Some(f1))
}

/// Mean `-ln p(true class)`, probabilities clipped to `[ε, 1-ε]`.
#[allow(clippy::cast_precision_loss)]
fn log_loss(s: Scores<'_>) -> f64 {
    let eps = f64::EPSILON;
    let total: f64 = s
        .prob
        .chunks_exact(s.k)
        .zip(s.y)
        .map(|(r, &t)| -r[t].clamp(eps, 1.0 - eps).ln())
        .sum();
    total / s.y.len() as f64
}

/// Brier score: binary, the mean of `(p₁ - y)²`; else the mean over rows
/// of the sum over classes.
#[allow(clippy::cast_precision_loss)]
fn brier(s: Scores<'_>) -> f64 {
    let total: f64 = s
        .prob
        .chunks_exact(s.k)
        .zip(s.y)
        .map(|(r, &t)| {
            let sq = |c: usize| (r[c] - f64::from(u8::from(c == t))).powi(2);
            if s.k == 2 {
                sq(1)
            } else {
                (0..s.k).map(sq).sum()
            }
        })
        .sum();
    total / s.y.len() as f64
}

/// Expected calibration error over 10 uniform bins (a probability on an
/// inner edge goes to the bin below, as numpy's `searchsorted`).
#[allow(clippy::cast_precision_loss)]
fn calibration_error(s: Scores<'_>, pred: &[usize]) -> f64 {
    let edges: Vec<f64> = (1..10).map(|i| f64::from(i) * 0.1).collect();
    let mut sum_p = [0.0f64; 10];
    let mut sum_y = [0.0f64; 10];
    let mut count = [0u64; 10];
    for ((r, &t), &p) in s.prob.chunks_exact(s.k).zip(s.y).zip(pred) {
        let (conf, hit) = if s.k == 2 {
            (r[1], t == 1)
        } else {
            (r[p], t == p)
        };
        let b = edges.partition_point(|&e| e < conf);
        sum_p[b] += conf;
        sum_y[b] += f64::from(u8::from(hit));
        count[b] += 1;
    }
    let n = s.y.len() as f64;
    (0..10)
        .filter(|&b| count[b] > 0)
        .map(|b| {
            let m = count[b] as f64;
            m / n * (sum_p[b] / m - sum_y[b] / m).abs()
        })
        .sum()
}

/// Rows sorted by decreasing score, grouped by ties: per group, the
/// positives and negatives in it.
fn tie_groups(score: &[f64], positive: &[bool]) -> Vec<(u64, u64)> {
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]));
    let mut groups: Vec<(u64, u64)> = Vec::new();
    let mut last = f64::NAN;
    for i in order {
        if groups.is_empty() || score[i] != last {
            groups.push((0, 0));
            last = score[i];
        }
        let g = groups.last_mut().unwrap_or_else(|| unreachable!());
        if positive[i] { g.0 += 1 } else { g.1 += 1 }
    }
    groups
}

/// ROC AUC: the chance a positive scores above a negative, ties counting
/// half, counted exactly in integers.
#[allow(clippy::cast_precision_loss)]
pub fn roc_auc(score: &[f64], positive: &[bool]) -> f64 {
    let (mut twice, mut neg_below, mut pos, mut neg) = (0u128, 0u128, 0u128, 0u128);
    // Ascending: each group's positives beat the negatives below it.
    for (p, q) in tie_groups(score, positive).into_iter().rev() {
        let (p, q) = (u128::from(p), u128::from(q));
        twice += 2 * p * neg_below + p * q;
        neg_below += q;
        pos += p;
        neg += q;
    }
    twice as f64 / (2 * pos * neg) as f64
}

/// Average precision: `Σ (R_i - R_{i-1}) P_i` over decreasing thresholds.
#[allow(clippy::cast_precision_loss)]
pub fn average_precision(score: &[f64], positive: &[bool]) -> f64 {
    let total = positive.iter().filter(|&&b| b).count() as f64;
    let (mut tp, mut fp, mut ap, mut prev) = (0u64, 0u64, 0.0, 0.0);
    for (p, q) in tie_groups(score, positive) {
        tp += p;
        fp += q;
        let recall = tp as f64 / total;
        ap += (recall - prev) * (tp as f64 / (tp + fp) as f64);
        prev = recall;
    }
    ap
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn reference() -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/logistic/metrics.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn usizes(v: &Value) -> Vec<usize> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| usize::try_from(x.as_u64().unwrap()).unwrap())
            .collect()
    }

    #[track_caller]
    fn close(got: f64, want: &Value) {
        let w = want.as_f64().unwrap();
        assert!((got - w).abs() <= 1e-12, "{got} vs {w}");
    }

    fn names(k: usize) -> Vec<String> {
        (0..k).map(|c| c.to_string()).collect()
    }

    #[test]
    fn binary_equals_sklearn() {
        let r = reference();
        for case in ["binary_ties", "binary_fine"] {
            let c = &r[case];
            let y = usizes(&c["y"]);
            let prob: Vec<f64> = c["p"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|p| {
                    let p = p.as_f64().unwrap();
                    [1.0 - p, p]
                })
                .collect();
            let s = Scores {
                y: &y,
                prob: &prob,
                k: 2,
            };
            let m = compute(s, c["threshold"].as_f64().unwrap(), &names(2), "test").unwrap();
            for key in [
                "accuracy",
                "log_loss",
                "auc",
                "average_precision",
                "brier",
                "precision",
                "recall",
                "f1",
                "ece",
            ] {
                close(m.get(key).unwrap(), &c[key]);
            }
            let conf: Vec<Vec<u64>> = serde_json::from_value(c["confusion"].clone()).unwrap();
            assert_eq!(m.confusion, conf);
        }
    }

    #[test]
    fn multiclass_equals_sklearn() {
        let c = &reference()["multiclass"];
        let y = usizes(&c["y"]);
        let prob: Vec<f64> = c["p"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect::<Vec<_>>()
            })
            .collect();
        let m = compute(
            Scores {
                y: &y,
                prob: &prob,
                k: 3,
            },
            0.5,
            &names(3),
            "test",
        )
        .unwrap();
        close(m.accuracy, &c["accuracy"]);
        close(m.log_loss, &c["log_loss"]);
        close(m.auc, &c["auc_macro"]);
        close(m.auc_weighted.unwrap(), &c["auc_weighted"]);
        close(m.average_precision, &c["average_precision"]);
        close(m.brier, &c["brier"]);
        close(m.ece, &c["ece"]);
        assert!(m.precision.is_none());
        let conf: Vec<Vec<u64>> = serde_json::from_value(c["confusion"].clone()).unwrap();
        assert_eq!(m.confusion, conf);
    }

    #[test]
    fn one_class_is_refused_by_name() {
        let names = vec!["no".to_string(), "yes".to_string()];
        let e = compute(
            Scores {
                y: &[1, 1],
                prob: &[0.2, 0.8, 0.4, 0.6],
                k: 2,
            },
            0.5,
            &names,
            "validation",
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(
            e.to_string()
                .contains("validation rows hold no row of class \"no\""),
            "{e}"
        );
    }

    #[test]
    fn auc_is_exact_with_ties_and_many_rows() {
        // All tied: exactly one half. Beyond 2^24 rows, an f32 rank sum
        // would round; counts in u128 do not.
        let n = (1usize << 24) + 3;
        let score = vec![0.5; n];
        let positive: Vec<bool> = (0..n).map(|i| i % 2 == 0).collect();
        assert_eq!(roc_auc(&score, &positive), 0.5);
        assert_eq!(roc_auc(&[0.1, 0.9, 0.4], &[false, true, true]), 1.0);
        assert_eq!(
            roc_auc(&[0.4, 0.4, 0.1, 0.9], &[false, true, true, false]),
            0.125
        );
    }
}
