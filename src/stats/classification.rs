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
        .map(|r| predicted_one(r, k, threshold))
        .collect()
}

/// Every metric; `names` are the class labels (for errors), `what` the
/// rows (e.g. "validation"). With two classes, class 1 is the positive one.
pub fn compute(
    s: Scores<'_>,
    threshold: f64,
    names: &[String],
    what: &str,
) -> Result<ClassMetrics> {
    let k = s.k;
    let mut tally = Tally::new(k, threshold);
    for (r, &t) in s.prob.chunks_exact(k).zip(s.y) {
        tally.push(t, r);
    }
    tally.check(names, what)?;
    let column = |c: usize| -> Vec<f64> { s.prob.iter().skip(c).step_by(k).copied().collect() };
    let is = |c: usize| -> Vec<bool> { s.y.iter().map(|&t| t == c).collect() };
    let ranked: Vec<(f64, f64)> = Tally::ranked_columns(k)
        .map(|c| rank_metrics(&column(c), &is(c)))
        .collect();
    Ok(tally.finish(&ranked))
}

/// The metrics of rows folded one at a time, save those that need the rows
/// in order of score (ROC AUC and average precision: [`Ranking`]).
#[derive(Debug, Clone)]
pub struct Tally {
    k: usize,
    threshold: f64,
    counts: Vec<u64>,
    confusion: Vec<Vec<u64>>,
    log_loss: f64,
    brier: f64,
    /// Per calibration bin: the sum of confidences, of hits, and the rows.
    calibration: [(f64, f64, u64); 10],
}

impl Tally {
    /// No rows yet, of `k` classes, binary decisions at `threshold`.
    #[must_use]
    pub fn new(k: usize, threshold: f64) -> Tally {
        Tally {
            k,
            threshold,
            counts: vec![0; k],
            confusion: vec![vec![0; k]; k],
            log_loss: 0.0,
            brier: 0.0,
            calibration: [(0.0, 0.0, 0); 10],
        }
    }

    /// The classes whose probability columns are ranked: class 1 when
    /// binary, else every class.
    pub fn ranked_columns(k: usize) -> std::ops::Range<usize> {
        if k == 2 { 1..2 } else { 0..k }
    }

    /// Add one row: its true class `t` (below `k`) and its `k` probabilities.
    pub fn push(&mut self, t: usize, r: &[f64]) {
        self.push_with_loss(t, r, Tally::loss(r[t]));
    }

    /// A row's log loss, given the probability of its true class (clipped
    /// to `[ε, 1 − ε]`, scikit-learn's convention).
    #[must_use]
    pub fn loss(p: f64) -> f64 {
        let eps = f64::EPSILON;
        -p.clamp(eps, 1.0 - eps).ln()
    }

    /// [`Tally::push`] of a row whose [`Tally::loss`] was computed before
    /// (on another thread, say).
    pub fn push_with_loss(&mut self, t: usize, r: &[f64], loss: f64) {
        let k = self.k;
        self.counts[t] += 1;
        let p = predicted_one(r, k, self.threshold);
        self.confusion[t][p] += 1;
        self.log_loss += loss;
        let sq = |c: usize| (r[c] - f64::from(u8::from(c == t))).powi(2);
        self.brier += if k == 2 { sq(1) } else { (0..k).map(sq).sum() };
        // Expected calibration error over 10 uniform bins (a probability
        // on an inner edge goes to the bin below, as numpy's `searchsorted`).
        let (conf, hit) = if k == 2 {
            (r[1], t == 1)
        } else {
            (r[p], t == p)
        };
        let b = CALIBRATION_EDGES.iter().filter(|&&e| e < conf).count();
        let slot = &mut self.calibration[b];
        slot.0 += conf;
        slot.1 += f64::from(u8::from(hit));
        slot.2 += 1;
    }

    /// Rows per true class so far.
    #[must_use]
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// An error when a class has no row (its AUC and average precision
    /// would be undefined).
    pub fn check(&self, names: &[String], what: &str) -> Result<()> {
        if let Some(c) = self.counts.iter().position(|&m| m == 0) {
            let n: u64 = self.counts.iter().sum();
            return Err(Error::data(format!(
                "the {what} rows hold no row of class \"{}\" ({n} rows), so ROC AUC and average precision are undefined; use more rows (raise split.validation_fraction) or fewer classes",
                names.get(c).map_or("?", String::as_str)
            )));
        }
        Ok(())
    }

    /// The metrics, given `(ROC AUC, average precision)` of each of
    /// [`Tally::ranked_columns`].
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn finish(self, ranked: &[(f64, f64)]) -> ClassMetrics {
        let (k, counts) = (self.k, &self.counts);
        let n: u64 = counts.iter().sum();
        let nf = n as f64;
        let right = (0..k).map(|c| self.confusion[c][c]).sum::<u64>();
        let (auc, auc_weighted, ap) = if k == 2 {
            (ranked[0].0, None, ranked[0].1)
        } else {
            let aucs: Vec<f64> = ranked.iter().map(|r| r.0).collect();
            let aps: Vec<f64> = ranked.iter().map(|r| r.1).collect();
            let w: f64 = aucs
                .iter()
                .zip(counts)
                .map(|(a, &m)| a * m as f64)
                .sum::<f64>()
                / nf;
            (mean(&aucs), Some(w), mean(&aps))
        };
        let (precision, recall, f1) = if k == 2 {
            binary_rates(&self.confusion)
        } else {
            (None, None, None)
        };
        let ece = self
            .calibration
            .iter()
            .filter(|b| b.2 > 0)
            .map(|&(sp, sy, c)| {
                let m = c as f64;
                m / nf * (sp / m - sy / m).abs()
            })
            .sum();
        ClassMetrics {
            rows: n,
            accuracy: right as f64 / nf,
            log_loss: self.log_loss / nf,
            auc,
            auc_weighted,
            average_precision: ap,
            brier: self.brier / nf,
            precision,
            recall,
            f1,
            ece,
            confusion: self.confusion,
        }
    }
}

/// The predicted class of one row's probabilities (see [`predicted`]).
/// The inner edges of the calibration bins: `i · 0.1` for `i` in 1..10,
/// as computed in f64 (0.30000000000000004, not 0.3).
const CALIBRATION_EDGES: [f64; 9] = {
    let mut e = [0.0; 9];
    let mut i = 0;
    while i < 9 {
        e[i] = (i + 1) as f64 * 0.1;
        i += 1;
    }
    e
};

fn predicted_one(r: &[f64], k: usize, threshold: f64) -> usize {
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

/// ROC AUC and average precision folded from the groups of tied scores in
/// decreasing order of score, given the positives and negatives in all.
#[derive(Debug, Clone)]
pub struct Ranking {
    pos: u128,
    neg: u128,
    /// Twice the count of (positive, negative) pairs ranked right, ties once.
    twice: u128,
    neg_above: u128,
    tp: u64,
    fp: u64,
    ap: f64,
    prev: f64,
}

impl Ranking {
    /// Before the first group, of `pos` positives and `neg` negatives.
    #[must_use]
    pub fn new(pos: u64, neg: u64) -> Ranking {
        Ranking {
            pos: u128::from(pos),
            neg: u128::from(neg),
            twice: 0,
            neg_above: 0,
            tp: 0,
            fp: 0,
            ap: 0.0,
            prev: 0.0,
        }
    }

    /// The next group of tied scores: `p` positives and `q` negatives.
    #[allow(clippy::cast_precision_loss)]
    pub fn group(&mut self, p: u64, q: u64) {
        // Each of the group's positives beats the negatives below it.
        let (pw, qw) = (u128::from(p), u128::from(q));
        let below = self.neg - self.neg_above - qw;
        self.twice += 2 * pw * below + pw * qw;
        self.neg_above += qw;
        // Average precision: `Σ (R_i - R_{i-1}) P_i` over decreasing thresholds.
        self.tp += p;
        self.fp += q;
        let recall = self.tp as f64 / self.pos as f64;
        self.ap += (recall - self.prev) * (self.tp as f64 / (self.tp + self.fp) as f64);
        self.prev = recall;
    }

    /// `(ROC AUC, average precision)`.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn finish(&self) -> (f64, f64) {
        (
            self.twice as f64 / (2 * self.pos * self.neg) as f64,
            self.ap,
        )
    }
}

/// `(ROC AUC, average precision)` of scores whose rows are `positive` or not.
fn rank_metrics(score: &[f64], positive: &[bool]) -> (f64, f64) {
    let pos = positive.iter().filter(|&&b| b).count() as u64;
    let mut r = Ranking::new(pos, positive.len() as u64 - pos);
    for (p, q) in tie_groups(score, positive) {
        r.group(p, q);
    }
    r.finish()
}

/// ROC AUC: the chance a positive scores above a negative, ties counting
/// half, counted exactly in integers.
#[must_use]
pub fn roc_auc(score: &[f64], positive: &[bool]) -> f64 {
    rank_metrics(score, positive).0
}

/// Average precision: `Σ (R_i - R_{i-1}) P_i` over decreasing thresholds.
#[must_use]
pub fn average_precision(score: &[f64], positive: &[bool]) -> f64 {
    rank_metrics(score, positive).1
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
