//! Drift of a classifier's predicted probabilities: the candidate scores
//! the training rows of the training data and every row of the recent data,
//! and each class's probability (binary: the positive class's) is compared
//! as a numeric feature is ([`super::drift::numeric`]: PSI over the
//! training probabilities' deciles, two-sample KS).

use crate::data::Table;
use crate::error::Result;
use crate::model::Artifact;
use crate::model::stats::quantiles;

use super::drift::{self, DriftThresholds, FeatureDrift};
use super::scorer::Scorer;
use super::training::Training;

/// The drift of the candidate's probabilities, one entry per class
/// compared (`probability_CLASS`); empty for a regression.
pub(super) fn of(
    cand: &Artifact,
    t: &Training,
    recent: &Table,
    th: &DriftThresholds,
) -> Result<Vec<FeatureDrift>> {
    let Some(cp) = cand.class_predictor()? else {
        return Ok(Vec::new());
    };
    let k = cp.classes.len();
    let train = probabilities(&Scorer::new(cand, &t.table)?, &t.table, &t.train_idx);
    let all: Vec<usize> = (0..recent.rows()).collect();
    let now = probabilities(&Scorer::new(cand, recent)?, recent, &all);
    let compared: Vec<usize> = match cp.positive {
        Some(p) if k == 2 => vec![p],
        _ => (0..k).collect(),
    };
    Ok(compared
        .into_iter()
        .map(|c| {
            let a: Vec<f64> = train.iter().skip(c).step_by(k).copied().collect();
            let b: Vec<f64> = now.iter().skip(c).step_by(k).copied().collect();
            let edges = quantiles(&mut a.clone(), &DECILES);
            drift::numeric(
                &format!("probability_{}", cp.classes[c]),
                &a,
                &b,
                &edges,
                th,
            )
        })
        .collect())
}

/// The probability bins' edges: the training probabilities' deciles.
const DECILES: [f64; 9] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/// The probabilities of the rows `idx` the model can score, `k` per row.
fn probabilities(s: &Scorer, t: &Table, idx: &[usize]) -> Vec<f64> {
    idx.iter()
        .filter_map(|&i| s.score(t, i))
        .flatten()
        .collect()
}
