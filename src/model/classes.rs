//! The classifier part of an artifact (`kind = "logistic"` or
//! `"multinomial"`): the sorted classes, the positive class and decision
//! threshold of binary metrics, one linear predictor per class (softmax of
//! them gives the probabilities), how Newton's iteration ended and the
//! classification metrics. The artifact's top-level `intercept` and
//! `coefficients` hold the last class's linear predictor (for `logistic`,
//! the log-odds of the second class against the first).

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::stats::classification::{self, ClassMetrics, Scores};

use super::metrics::{self, MetricSet};

use super::{Predictor, Value};

/// What an artifact records about a classifier.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierPart {
    /// The target's distinct values in training rows, sorted (numerically
    /// when all are numbers).
    pub classes: Vec<String>,
    /// Binary: the positive class of precision, recall, F1 and AUC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive: Option<String>,
    /// Binary: predict the positive class when its probability exceeds this.
    pub threshold: f64,
    /// The class whose linear predictor is fixed at 0, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Per class: intercept and coefficients by encoded column.
    pub linear_predictors: IndexMap<String, ClassTerms>,
    /// How the fit ended.
    pub convergence: ConvergenceRecord,
    /// Classification metrics on training and validation rows.
    pub metrics: ClassMetricsPair,
}

/// One class's linear predictor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassTerms {
    /// Intercept.
    pub intercept: f64,
    /// Coefficient per encoded column, in design order.
    pub coefficients: IndexMap<String, f64>,
}

/// Newton's iteration as it ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvergenceRecord {
    /// Whether it converged within `max_iter`.
    pub converged: bool,
    /// Likelihood evaluations (passes over the data).
    pub iterations: u64,
    /// Norm of the objective's gradient at the end (standardised units).
    pub gradient_norm: f64,
    /// Residual deviance `-2 log L` of the training rows.
    pub deviance: f64,
}

/// Classification metrics of training and validation rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassMetricsPair {
    /// On the rows fitted on.
    pub train: ClassMetrics,
    /// On held-out rows; `null` when there are none.
    pub validation: Option<ClassMetrics>,
}

/// A classifier ready to predict.
#[derive(Debug, Clone)]
pub struct ClassPredictor {
    /// The class labels.
    pub classes: Vec<String>,
    /// One linear predictor per class.
    pub linear: Vec<Predictor>,
    /// Binary: index of the positive class.
    pub positive: Option<usize>,
    /// Binary: the decision threshold.
    pub threshold: f64,
}

impl ClassPredictor {
    /// The probability of each class for one row (softmax, less the row's
    /// largest linear predictor).
    #[must_use]
    pub fn probabilities(&self, row: &[Value]) -> Vec<f64> {
        let eta: Vec<f64> = self.linear.iter().map(|p| p.predict(row)).collect();
        Self::softmax(&eta)
    }

    /// The class probabilities of the linear predictors `eta` (softmax,
    /// subtracting the largest), as [`ClassPredictor::probabilities`].
    #[must_use]
    pub fn softmax(eta: &[f64]) -> Vec<f64> {
        let mut prob = Vec::with_capacity(eta.len());
        Self::softmax_into(eta, &mut prob);
        prob
    }

    /// [`ClassPredictor::softmax`] into `prob` (cleared first), allocating
    /// nothing once `prob` has room.
    pub fn softmax_into(eta: &[f64], prob: &mut Vec<f64>) {
        let top = eta.iter().fold(f64::NEG_INFINITY, |m, &e| m.max(e));
        prob.clear();
        prob.extend(eta.iter().map(|e| (e - top).exp()));
        let sum: f64 = prob.iter().sum();
        prob.iter_mut().for_each(|e| *e /= sum);
    }

    /// The predicted class index of a row's probabilities.
    #[must_use]
    pub fn label(&self, prob: &[f64]) -> usize {
        match self.positive {
            Some(pos) if prob.len() == 2 => {
                if prob[pos] > self.threshold {
                    pos
                } else {
                    1 - pos
                }
            }
            _ => {
                prob.iter()
                    .enumerate()
                    .fold(
                        (0, f64::NEG_INFINITY),
                        |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                    )
                    .0
            }
        }
    }
}

impl ClassifierPart {
    /// The predictor, given the design terms and their names.
    pub fn predictor(&self, terms: &[super::Term], names: &[String]) -> Result<ClassPredictor> {
        let corrupt = |what: String| {
            Error::usage(format!(
                "the model artifact {what}; it is corrupt, retrain it"
            ))
        };
        let mut linear = Vec::with_capacity(self.classes.len());
        for c in &self.classes {
            let t = self
                .linear_predictors
                .get(c)
                .ok_or_else(|| corrupt(format!("has no linear predictor for class \"{c}\"")))?;
            let coefficients = names
                .iter()
                .map(|n| t.coefficients.get(n).copied())
                .collect::<Option<Vec<f64>>>()
                .filter(|v| v.len() == t.coefficients.len())
                .ok_or_else(|| {
                    corrupt(format!(
                        "has coefficients for class \"{c}\" that do not match its features"
                    ))
                })?;
            linear.push(Predictor {
                terms: terms.to_vec(),
                coefficients,
                intercept: t.intercept,
                inverse: super::Inverse::Identity,
            });
        }
        let positive = match &self.positive {
            Some(p) => Some(self.classes.iter().position(|c| c == p).ok_or_else(|| {
                corrupt(format!("names positive class \"{p}\" outside its classes"))
            })?),
            None => None,
        };
        if self.classes.len() < 2 {
            return Err(corrupt("has fewer than two classes".into()));
        }
        Ok(ClassPredictor {
            classes: self.classes.clone(),
            linear,
            positive,
            threshold: self.threshold,
        })
    }
}

/// The classification metrics of rows whose true class indices are `y` and
/// whose probabilities `prob` are `k = classes.len()` per row in the sorted
/// classes' order, with the regression metrics of the probabilities against
/// the one-hot classes (binary: of the positive class's probability; R² is
/// then Efron's pseudo-R²). Binary metrics count `positive` (default the
/// second class) as positive; the confusion matrix stays in the sorted
/// classes' order. `what` names the rows in errors.
#[allow(clippy::cast_precision_loss)]
pub fn evaluate(
    classes: &[String],
    positive: Option<usize>,
    threshold: f64,
    y: &[usize],
    prob: &[f64],
    what: &str,
) -> Result<(ClassMetrics, MetricSet)> {
    let k = classes.len();
    // Binary: the positive class goes last, so class 1 is positive.
    let swap = k == 2 && positive == Some(0);
    let (y, prob): (Vec<usize>, Vec<f64>) = if swap {
        (
            y.iter().map(|&c| 1 - c).collect(),
            prob.chunks_exact(2).flat_map(|r| [r[1], r[0]]).collect(),
        )
    } else {
        (y.to_vec(), prob.to_vec())
    };
    let names: Vec<String> = if swap {
        vec![classes[1].clone(), classes[0].clone()]
    } else {
        classes.to_vec()
    };
    let mut cm = classification::compute(
        Scores {
            y: &y,
            prob: &prob,
            k,
        },
        threshold,
        &names,
        what,
    )?;
    if swap {
        // Report the confusion matrix in the sorted classes' order.
        cm.confusion = vec![
            vec![cm.confusion[1][1], cm.confusion[1][0]],
            vec![cm.confusion[0][1], cm.confusion[0][0]],
        ];
    }
    let (truth, pred): (Vec<f64>, Vec<f64>) = if k == 2 {
        (
            y.iter().map(|&c| c as f64).collect(),
            prob.iter().skip(1).step_by(2).copied().collect(),
        )
    } else {
        let onehot = y
            .iter()
            .flat_map(|&c| (0..k).map(move |j| f64::from(u8::from(j == c))));
        (onehot.collect(), prob)
    };
    Ok((cm, metrics::compute(&truth, &pred, None)))
}
