//! Pass 3 of the streaming fit: the training rows per bin of the final
//! decile edges (of each numeric feature and of the predictions), which the
//! artifact records so that drift compares against the true training shares
//! (ties put more or fewer than a tenth of the rows in a bin). The edges
//! are only known after pass 2, so the rows are read once more (the spill,
//! or the CSV again).

use indexmap::IndexMap;

use crate::data::{Column, Table};
use crate::model::stats::{ColumnStats, NumericStats};
use crate::stats::binned::bin_of;

/// Counts per bin of the training rows (role 1) so far.
pub(super) struct BinCounts {
    /// Per feature: the decile edges and the counts (numeric features).
    features: Vec<Option<(Vec<f64>, Vec<u64>)>>,
    predictions: (Vec<f64>, Vec<u64>),
}

impl BinCounts {
    /// Empty counts over the edges of `features` (in feature order) and of
    /// `predictions`.
    pub fn new(features: &IndexMap<String, ColumnStats>, predictions: &NumericStats) -> BinCounts {
        let empty = |s: &NumericStats| (s.deciles.clone(), vec![0u64; s.deciles.len() + 1]);
        BinCounts {
            features: features
                .values()
                .map(|s| match s {
                    ColumnStats::Numeric(n) => Some(empty(n)),
                    ColumnStats::Categorical(_) => None,
                })
                .collect(),
            predictions: empty(predictions),
        }
    }

    /// Count the training rows of block `t`, with their predictions `pred`.
    pub fn push(&mut self, t: &Table, role: &[u8], pred: &[f64]) {
        for (col, slot) in t.features.iter().zip(&mut self.features) {
            if let (Column::Numeric(v), Some((edges, counts))) = (col, slot) {
                for (&x, &r) in v.iter().zip(role) {
                    if r == 1 && !x.is_nan() {
                        counts[bin_of(edges, x)] += 1;
                    }
                }
            }
        }
        let (edges, counts) = &mut self.predictions;
        for (&p, &r) in pred.iter().zip(role) {
            if r == 1 && !p.is_nan() {
                counts[bin_of(edges, p)] += 1;
            }
        }
    }

    /// Record the counts in the statistics they were made for.
    pub fn record(
        self,
        features: &mut IndexMap<String, ColumnStats>,
        predictions: &mut NumericStats,
    ) {
        for (s, slot) in features.values_mut().zip(self.features) {
            if let (ColumnStats::Numeric(n), Some((_, counts))) = (s, slot) {
                n.bin_counts = counts;
            }
        }
        predictions.bin_counts = self.predictions.1;
    }
}
