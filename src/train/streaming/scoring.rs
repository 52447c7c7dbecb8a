//! What pass 2 of a streaming classifier measures: the classification
//! metrics folded a row at a time ([`Tally`]; ROC AUC and average precision
//! from the rows sorted on disk, `ranks`), with the in-memory path's
//! conventions (the positive class counted as class 1; the regression
//! metrics of the probabilities against the classes, binary: of the
//! positive class's probability), and the target's statistics, exact from
//! the class counts.

use std::collections::HashMap;

use indexmap::IndexMap;

use crate::error::{Error, Result};
use crate::model::classes::ClassPredictor;
use crate::model::metrics::MetricSet;
use crate::model::stats::NumericStats;
use crate::model::{self, Categorical, Value};
use crate::stats::binned::bin_of;
use crate::stats::classification::{ClassMetrics, Tally};
use crate::train::streaming::metric_sums::MetricSums;
use crate::train::streaming::ranks::{Ranked, Ranks};

/// Per feature, each trained level's index by name.
pub(super) fn lookup_of<'a>(
    feature_names: &[String],
    categorical: &'a IndexMap<String, Categorical>,
) -> Vec<Option<HashMap<&'a str, usize>>> {
    feature_names
        .iter()
        .map(|f| {
            categorical.get(f).map(|c| {
                c.levels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (l.as_str(), i))
                    .collect()
            })
        })
        .collect()
}

/// The classification metrics of a set of rows, folded a row at a time.
pub(super) struct Evaluation {
    k: usize,
    /// Binary with the first class positive: the classes are swapped so
    /// that class 1 is positive (as the in-memory `evaluate`).
    swap: bool,
    tally: Tally,
    ranks: Ranks,
    sums: MetricSums,
    rows: u64,
}

impl Evaluation {
    /// No rows yet, of `k` classes.
    pub fn new(k: usize, positive: Option<usize>, threshold: f64) -> Evaluation {
        Evaluation {
            k,
            swap: k == 2 && positive == Some(0),
            tally: Tally::new(k, threshold),
            ranks: Ranks::new(k),
            sums: MetricSums::default(),
            rows: 0,
        }
    }

    /// Add a row: its class `y`, its `k` probabilities and its score.
    pub fn push(&mut self, y: usize, prob: &[f64], score: f64) -> Result<()> {
        self.push_with_loss(y, prob, score, Tally::loss(prob[y]))
    }

    /// [`Evaluation::push`] of a row whose log loss (`Tally::loss` of
    /// `prob[y]`) was computed before.
    #[allow(clippy::cast_precision_loss)]
    pub fn push_with_loss(&mut self, y: usize, prob: &[f64], score: f64, loss: f64) -> Result<()> {
        let swapped;
        let (y, row) = if self.swap {
            swapped = [prob[1], prob[0]];
            (1 - y, &swapped[..])
        } else {
            (y, prob)
        };
        // Swapped, `row[y]` is still `prob` of the true class.
        self.tally.push_with_loss(y, row, loss);
        self.ranks.push(y, row, score)?;
        if self.k == 2 {
            self.sums.push(y as f64, row[1]);
        } else {
            for (j, &p) in row.iter().enumerate() {
                self.sums.push(f64::from(u8::from(j == y)), p);
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// The metrics (`None` without rows) and the ranking (with the
    /// scores' deciles, and their bin counts when known); `classes` name
    /// the classes in errors, `what` the rows.
    pub fn finish(
        self,
        classes: &[String],
        what: &str,
    ) -> Result<Option<(ClassMetrics, MetricSet, Ranked)>> {
        if self.rows == 0 {
            return Ok(None);
        }
        let names: Vec<String> = if self.swap {
            vec![classes[1].clone(), classes[0].clone()]
        } else {
            classes.to_vec()
        };
        self.tally.check(&names, what)?;
        let counts = self.tally.counts().to_vec();
        let ranked = self.ranks.finish(&counts)?;
        let mut cm = self.tally.finish(&ranked.columns);
        if self.swap {
            // The confusion matrix in the sorted classes' order.
            let c = &cm.confusion;
            cm.confusion = vec![vec![c[1][1], c[1][0]], vec![c[0][1], c[0][0]]];
        }
        let reg = self
            .sums
            .finish()
            .ok_or_else(|| Error::data(format!("no {what} rows")))?;
        Ok(Some((cm, reg, ranked)))
    }
}

/// A block scored on a lane (`Pass2::on_lanes`): each row's role, score,
/// class probabilities (`k` per row) and log loss.
pub(super) struct Scored {
    pub role: Vec<u8>,
    pub pred: Vec<f64>,
    pub prob: Vec<f64>,
    pub loss: Vec<f64>,
}

/// Pass 2's scoring of a classifier: its predictor and the metrics so far.
pub(super) struct Scoring {
    pub predictor: ClassPredictor,
    pub train: Evaluation,
    pub valid: Evaluation,
}

impl Scoring {
    /// The scoring of `linear` (one predictor per class).
    pub fn new(
        classes: &[String],
        positive: Option<usize>,
        threshold: f64,
        linear: Vec<model::Predictor>,
    ) -> Scoring {
        let k = classes.len();
        Scoring {
            predictor: ClassPredictor {
                classes: classes.to_vec(),
                linear,
                positive,
                threshold,
            },
            train: Evaluation::new(k, positive, threshold),
            valid: Evaluation::new(k, positive, threshold),
        }
    }

    /// Expect `train` training and `valid` validation rows: with two
    /// classes and few enough rows, their scores are ranked in memory.
    pub fn expect(&mut self, train: u64, valid: u64) {
        self.train.ranks.reserve(train);
        self.valid.ranks.reserve(valid);
    }

    /// The metrics so far (training, validation), fresh ones left in
    /// their place (for pass 3, which only scores).
    pub fn take(&mut self) -> (Evaluation, Evaluation) {
        let p = &self.predictor;
        let fresh = || Evaluation::new(p.classes.len(), p.positive, p.threshold);
        (
            std::mem::replace(&mut self.train, fresh()),
            std::mem::replace(&mut self.valid, fresh()),
        )
    }

    /// Per class, each term's (feature, coefficient), when every term is
    /// numeric: rows are then scored straight from the columns.
    pub fn numeric_terms(&self) -> Option<Vec<Vec<(usize, f64)>>> {
        self.predictor
            .linear
            .iter()
            .map(|p| {
                if p.inverse != model::Inverse::Identity {
                    return None;
                }
                p.terms
                    .iter()
                    .zip(&p.coefficients)
                    .map(|(t, b)| match t {
                        model::Term::Numeric { feature } => Some((*feature, *b)),
                        model::Term::Level { .. } => None,
                    })
                    .collect()
            })
            .collect()
    }

    /// [`Scoring::score`] of row `i` of the numeric columns `cols`, with the
    /// terms of [`Scoring::numeric_terms`]: the same sums in the same order
    /// as `Predictor::predict`. The probabilities go to `prob`, the
    /// linear predictors to the scratch `eta`; the score is returned.
    pub fn score_columns(
        &self,
        terms: &[Vec<(usize, f64)>],
        cols: &[&[f64]],
        i: usize,
        (eta, prob): (&mut Vec<f64>, &mut Vec<f64>),
    ) -> f64 {
        eta.clear();
        eta.extend(self.predictor.linear.iter().zip(terms).map(|(p, ts)| {
            let mut e = p.intercept;
            for &(f, b) in ts {
                e += b * cols[f][i];
            }
            e
        }));
        ClassPredictor::softmax_into(eta, prob);
        self.score_of(prob)
    }

    /// [`Scoring::score_columns`] of every used row (`s.role` not 0) of a
    /// block of two classes, column by column instead of row by row: per
    /// row the same sums in the same order, the same soft-max (`exp(0)` is
    /// 1 exactly, so the top class's is not computed), so the same bits;
    /// with each row's score and log loss (`target`: the class indices).
    pub fn score_two_columns(
        &self,
        terms: [&Vec<(usize, f64)>; 2],
        cols: &[&[f64]],
        target: &[f64],
        s: &mut Scored,
    ) {
        let n = s.role.len();
        let eta = |c: usize| {
            let mut e = vec![self.predictor.linear[c].intercept; n];
            for &(f, b) in terms[c] {
                for (e, x) in e.iter_mut().zip(cols[f]) {
                    *e += b * x;
                }
            }
            e
        };
        let (e0, e1) = (eta(0), eta(1));
        let positive = self.predictor.positive.unwrap_or(1);
        let exp = |d: f64| if d == 0.0 { 1.0 } else { d.exp() };
        for (i, (&a, &b)) in e0.iter().zip(&e1).enumerate() {
            if s.role[i] == 0 {
                continue;
            }
            let top = f64::NEG_INFINITY.max(a).max(b);
            let (pa, pb) = (exp(a - top), exp(b - top));
            let sum = pa + pb;
            let p = [pa / sum, pb / sum];
            s.pred[i] = p[positive];
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let y = target[i] as usize;
            s.loss[i] = Tally::loss(p[y]);
            s.prob[2 * i..2 * i + 2].copy_from_slice(&p);
        }
    }

    /// A row's probabilities, and what serve reports of it: the positive
    /// class's probability (binary), else the top probability.
    pub fn score(&self, values: &[Value]) -> (Vec<f64>, f64) {
        self.scored(self.predictor.probabilities(values))
    }

    /// The probabilities `prob` and the score of them.
    fn scored(&self, prob: Vec<f64>) -> (Vec<f64>, f64) {
        let s = self.score_of(&prob);
        (prob, s)
    }

    /// The score of the probabilities `prob`.
    fn score_of(&self, prob: &[f64]) -> f64 {
        if prob.len() == 2 {
            prob[self.predictor.positive.unwrap_or(1)]
        } else {
            prob.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v))
        }
    }
}

/// The statistics of the training rows' class indices, exact from the
/// rows per class `counts` (the in-memory path's `stats::numeric` of them).
#[allow(clippy::cast_precision_loss)]
pub(super) fn target_stats(counts: &[u64]) -> NumericStats {
    let n: u64 = counts.iter().sum();
    let nf = n as f64;
    let mean = counts
        .iter()
        .enumerate()
        .map(|(c, &m)| c as f64 * m as f64)
        .sum::<f64>()
        / nf;
    let ss: f64 = counts
        .iter()
        .enumerate()
        .map(|(c, &m)| m as f64 * (c as f64 - mean) * (c as f64 - mean))
        .sum();
    // The class of 0-based rank `r` among the sorted rows.
    let order = |r: u64| -> f64 {
        let mut cum = 0;
        for (c, &m) in counts.iter().enumerate() {
            cum += m;
            if r < cum {
                return c as f64;
            }
        }
        (counts.len() - 1) as f64
    };
    let deciles: Vec<f64> = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
        .iter()
        .map(|&q| {
            let h = (n - 1) as f64 * q;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let lo = h.floor() as u64;
            let f = h - lo as f64;
            let a = order(lo);
            if f > 0.0 && lo + 1 < n {
                a + f * (order(lo + 1) - a)
            } else {
                a
            }
        })
        .collect();
    let mut bin_counts = vec![0u64; deciles.len() + 1];
    for (c, &m) in counts.iter().enumerate() {
        bin_counts[bin_of(&deciles, c as f64)] += m;
    }
    let present: Vec<usize> = (0..counts.len()).filter(|&c| counts[c] > 0).collect();
    NumericStats {
        count: n,
        missing: 0,
        mean,
        sd: if n < 2 {
            0.0
        } else {
            (ss / (n - 1) as f64).sqrt()
        },
        min: present.first().map_or(0.0, |&c| c as f64),
        max: present.last().map_or(0.0, |&c| c as f64),
        deciles,
        bin_counts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Column by column, two classes: the bits of row by row
    /// (`score_columns` and `Tally::loss`), extreme and missing values
    /// included, unused rows left at 0.
    #[test]
    fn two_classes_column_by_column_equal_row_by_row() {
        let predictor = |intercept: f64, coefficients: Vec<f64>| model::Predictor {
            terms: (0..coefficients.len())
                .map(|feature| model::Term::Numeric { feature })
                .collect(),
            coefficients,
            intercept,
            inverse: model::Inverse::Identity,
        };
        let classes = vec!["no".to_string(), "yes".to_string()];
        for positive in [None, Some(0)] {
            let sc = Scoring::new(
                &classes,
                positive,
                0.5,
                vec![
                    predictor(0.0, vec![0.0, 0.0, 0.0]),
                    predictor(-0.37, vec![1.25, -3.5e-3, 40.0]),
                ],
            );
            let terms = sc.numeric_terms().unwrap();
            let a: Vec<f64> = (0..200).map(|i| f64::from(i) * 0.173 - 17.0).collect();
            let b: Vec<f64> = (0..200).map(|i| f64::from(i * i % 97) * 31.0).collect();
            let mut c: Vec<f64> = (0..200).map(|i| f64::from(i % 7) - 3.0).collect();
            c[5] = 1e300;
            c[6] = -1e300;
            c[7] = f64::NAN;
            c[8] = f64::INFINITY;
            let cols = [a.as_slice(), &b, &c];
            let target: Vec<f64> = (0..200).map(|i| f64::from(i % 3 % 2)).collect();
            let role: Vec<u8> = (0..200u8).map(|i| i % 5 % 3).collect();
            let n = role.len();
            let mut s = Scored {
                role: role.clone(),
                pred: vec![0.0; n],
                prob: vec![0.0; 2 * n],
                loss: vec![0.0; n],
            };
            sc.score_two_columns([&terms[0], &terms[1]], &cols, &target, &mut s);
            let (mut eta, mut p) = (Vec::new(), Vec::new());
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            for i in 0..n {
                if role[i] == 0 {
                    assert_eq!(bits(&[s.pred[i], s.loss[i]]), [0, 0]);
                    assert_eq!(bits(&s.prob[2 * i..2 * i + 2]), [0, 0]);
                    continue;
                }
                let score = sc.score_columns(&terms, &cols, i, (&mut eta, &mut p));
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let loss = Tally::loss(p[target[i] as usize]);
                assert_eq!(
                    bits(&[s.pred[i], s.loss[i]]),
                    bits(&[score, loss]),
                    "row {i}"
                );
                assert_eq!(bits(&s.prob[2 * i..2 * i + 2]), bits(&p), "row {i}");
            }
        }
    }
}
