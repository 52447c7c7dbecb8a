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
use crate::train::streaming::deciles::{BIN_RUN, Histograms, bin_index, bin_indices};

/// Add the training rows (role 1) of `values` to `counts`, per bin of
/// `edges` (`bins` is scratch space). When the edges ascend, a value's bin
/// is the number of edges below it, counted edge by edge over the whole
/// block without a branch (a binary search per value mispredicts); else by
/// [`bin_of`]. NaNs are not counted.
pub(super) fn count(
    edges: &[f64],
    counts: &mut [u64],
    values: &[f64],
    role: &[u8],
    bins: &mut Vec<u32>,
) {
    if !edges.is_sorted_by(|a, b| a <= b) || u32::try_from(edges.len()).is_err() {
        for (&x, &r) in values.iter().zip(role) {
            if r == 1 && !x.is_nan() {
                counts[bin_of(edges, x)] += 1;
            }
        }
        return;
    }
    bins.clear();
    bins.resize(values.len(), 0);
    for &e in edges {
        for (b, &x) in bins.iter_mut().zip(values) {
            *b += u32::from(e < x);
        }
    }
    // Rows not counted go to an extra bin; four sets of counters, so that
    // consecutive rows in one bin do not wait on each other's increment.
    let skip = edges.len() + 1;
    let mut lanes = vec![[0u64; 4]; skip + 1];
    let at = |b: u32, x: f64, r: u8| {
        if r == 1 && !x.is_nan() {
            b as usize
        } else {
            skip
        }
    };
    let (bq, vq, rq) = (
        bins.chunks_exact(4),
        values.chunks_exact(4),
        role.chunks_exact(4),
    );
    for ((&b, &x), &r) in bq
        .remainder()
        .iter()
        .zip(vq.remainder())
        .zip(rq.remainder())
    {
        lanes[at(b, x, r)][0] += 1;
    }
    for ((b, x), r) in bq.zip(vq).zip(rq) {
        for l in 0..4 {
            lanes[at(b[l], x[l], r[l])][l] += 1;
        }
    }
    for (c, l) in counts.iter_mut().zip(&lanes) {
        *c += l.iter().sum::<u64>();
    }
}

/// Counts per bin of the training rows (role 1) so far.
pub(super) struct BinCounts {
    /// Per feature: the decile edges and the counts (numeric features).
    features: Vec<Option<(Vec<f64>, Vec<u64>)>>,
    /// Per feature, when its fine histogram of the same rows is known: the
    /// rows of every fine bin without an edge inside are already in the
    /// counts, and only values in the other bins are still counted.
    coarse: Vec<Option<Coarse>>,
    predictions: (Vec<f64>, Vec<u64>),
}

/// The fine histogram's bins (`(min, bins per unit)` over `exact.len()`
/// bins) and which of them hold an edge, so that their values are counted
/// one by one. A value in a bin without an edge lies on the same side of
/// every edge as the whole bin does, since the bin index does not decrease
/// as the value grows: the bin's count goes to one final bin at once.
#[derive(Clone)]
struct Coarse {
    scale: (f64, f64),
    exact: Vec<bool>,
}

impl Coarse {
    /// Put the rows of `hist`'s bins without an edge into `counts` (per bin
    /// of the ascending `edges`); `None` when the edges or the scale do not
    /// allow it (the caller then counts every value).
    fn new(edges: &[f64], counts: &mut [u64], hist: &[u64], scale: (f64, f64)) -> Option<Coarse> {
        let usable = !hist.is_empty()
            && scale.0.is_finite()
            && scale.1.is_finite()
            && scale.1 > 0.0
            && edges.iter().all(|e| !e.is_nan())
            && edges.is_sorted_by(|a, b| a <= b);
        if !usable {
            return None;
        }
        let mut exact = vec![false; hist.len()];
        let at: Vec<usize> = edges
            .iter()
            .map(|&e| bin_index(hist.len(), scale, e))
            .collect();
        at.iter().for_each(|&b| exact[b] = true);
        for (b, &c) in hist.iter().enumerate() {
            if !exact[b] {
                // Edges in bins below this one are below each of its values.
                counts[at.partition_point(|&e| e < b)] += c;
            }
        }
        Some(Coarse { scale, exact })
    }

    /// Count the training rows of `values` that lie in a bin holding an edge.
    fn push(&self, edges: &[f64], counts: &mut [u64], values: &[f64], role: &[u8]) {
        let len = self.exact.len();
        let mut at = [0u32; BIN_RUN];
        for (part, roles) in values.chunks(BIN_RUN).zip(role.chunks(BIN_RUN)) {
            // A NaN's index is `len`: in no bin.
            bin_indices(len, self.scale, part, &mut at);
            for ((&b, &x), &r) in at.iter().zip(part).zip(roles) {
                if r == 1 && self.exact.get(b as usize) == Some(&true) {
                    counts[bin_of(edges, x)] += 1;
                }
            }
        }
    }
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
            coarse: features.values().map(|_| None).collect(),
            predictions: empty(predictions),
        }
    }

    /// Counts over the edges of `features` alone, from their fine
    /// `histograms` of the same training rows where they exist: only the
    /// values in fine bins holding an edge remain to be counted.
    pub fn features_from(
        features: &IndexMap<String, ColumnStats>,
        histograms: &Histograms,
    ) -> BinCounts {
        let mut b = BinCounts::features_only(features);
        for (k, (slot, coarse)) in b.features.iter_mut().zip(&mut b.coarse).enumerate() {
            if let (Some((edges, counts)), Some((hist, scale))) =
                (slot.as_mut(), histograms.feature_histogram(k))
            {
                *coarse = Coarse::new(edges, counts, hist, scale);
            }
        }
        b
    }

    /// Empty counts over the edges of `features` alone (the predictions'
    /// are counted elsewhere).
    pub fn features_only(features: &IndexMap<String, ColumnStats>) -> BinCounts {
        let none = crate::model::stats::numeric(std::iter::empty());
        BinCounts::new(features, &none)
    }

    /// Zero counts over the same edges (and fine bins), for another thread
    /// to fill and [`Self::add`] back.
    pub fn empty_like(&self) -> BinCounts {
        let zero = |(edges, counts): &(Vec<f64>, Vec<u64>)| (edges.clone(), vec![0; counts.len()]);
        BinCounts {
            features: self.features.iter().map(|f| f.as_ref().map(zero)).collect(),
            coarse: self.coarse.clone(),
            predictions: zero(&self.predictions),
        }
    }

    /// Add the counts of `other` (over the same edges: [`Self::empty_like`]).
    pub fn add(&mut self, other: &BinCounts) {
        let pairs = self
            .features
            .iter_mut()
            .zip(&other.features)
            .filter_map(|(a, b)| Some((&mut a.as_mut()?.1, &b.as_ref()?.1)))
            .chain([(&mut self.predictions.1, &other.predictions.1)]);
        for (mine, theirs) in pairs {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        }
    }

    /// Count the training rows of block `t` per bin of each numeric
    /// feature's edges.
    pub fn push_features(&mut self, t: &Table, role: &[u8]) {
        let mut bins = Vec::new();
        let slots = self.features.iter_mut().zip(&self.coarse);
        for (col, (slot, coarse)) in t.features.iter().zip(slots) {
            match (col, slot, coarse) {
                (Column::Numeric(v), Some((edges, counts)), Some(c)) => {
                    c.push(edges, counts, v, role);
                }
                (Column::Numeric(v), Some((edges, counts)), None) => {
                    count(edges, counts, v, role, &mut bins);
                }
                _ => {}
            }
        }
    }

    /// Count the training rows' predictions `pred` per bin of the
    /// predictions' edges.
    pub fn push_predictions(&mut self, role: &[u8], pred: &[f64]) {
        let (edges, counts) = &mut self.predictions;
        count(edges, counts, pred, role, &mut Vec::new());
    }

    /// Record the counts in the statistics they were made for.
    pub fn record(
        self,
        features: &mut IndexMap<String, ColumnStats>,
        predictions: &mut NumericStats,
    ) {
        predictions.bin_counts = self.predictions.1;
        Self::record_into(self.features, features);
    }

    /// Record the features' counts alone.
    pub fn record_features(self, features: &mut IndexMap<String, ColumnStats>) {
        Self::record_into(self.features, features);
    }

    fn record_into(
        counted: Vec<Option<(Vec<f64>, Vec<u64>)>>,
        features: &mut IndexMap<String, ColumnStats>,
    ) {
        for (s, slot) in features.values_mut().zip(counted) {
            if let (ColumnStats::Numeric(n), Some((_, counts))) = (s, slot) {
                n.bin_counts = counts;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_made_apart_and_added_equal_counts_made_together() {
        let features: IndexMap<String, ColumnStats> = [(
            "x".to_string(),
            ColumnStats::Numeric(crate::model::stats::numeric(
                [0.0, 1.0, 2.0, 3.0, 4.0].into_iter(),
            )),
        )]
        .into_iter()
        .collect();
        let column = |v: &[f64]| Table {
            features: vec![Column::Numeric(v.to_vec())],
            ..Table::default()
        };
        let (a, b) = ([0.5, 3.5, 1.0, f64::NAN], [4.0, 0.0, 2.2]);
        let mut together = BinCounts::features_only(&features);
        together.push_features(&column(&a), &[1; 4]);
        together.push_features(&column(&b), &[1, 2, 1]);
        let mut apart = BinCounts::features_only(&features);
        let mut other = apart.empty_like();
        apart.push_features(&column(&a), &[1; 4]);
        other.push_features(&column(&b), &[1, 2, 1]);
        apart.add(&other);
        assert_eq!(apart.features, together.features);
        assert_eq!(apart.features[0].as_ref().unwrap().1.iter().sum::<u64>(), 5);
    }

    /// The counts of the training rows (role 1) of `values` as `bin_of`
    /// gives them, one value at a time.
    fn by_search(edges: &[f64], values: &[f64], role: &[u8]) -> Vec<u64> {
        let mut c = vec![0u64; edges.len() + 1];
        for (&x, &r) in values.iter().zip(role) {
            if r == 1 && !x.is_nan() {
                c[bin_of(edges, x)] += 1;
            }
        }
        c
    }

    #[test]
    fn counting_edge_by_edge_equals_the_binary_search() {
        // Ties between edges, values on the edges, outside them, NaNs,
        // infinities and a row that is not a training row.
        let values: Vec<f64> = (0..2000)
            .map(|i| f64::from(i % 23) * 0.5 - 2.0)
            .chain([f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0])
            .collect();
        let mut role = vec![1u8; values.len()];
        role[2] = 2;
        role[7] = 0;
        let edge_sets: [&[f64]; 5] = [
            &[-1.0, 0.0, 0.0, 0.5, 3.0, 3.0, 3.0, 7.5, 9.0],
            &[0.0],
            &[],
            &[f64::NEG_INFINITY, 1.0, f64::INFINITY],
            // Not ascending (and a NaN): the binary search, as before.
            &[3.0, f64::NAN, 1.0],
        ];
        for edges in edge_sets {
            let mut counts = vec![0u64; edges.len() + 1];
            count(edges, &mut counts, &values, &role, &mut Vec::new());
            assert_eq!(counts, by_search(edges, &values, &role), "{edges:?}");
        }
    }

    #[test]
    fn counting_from_the_fine_histogram_equals_the_binary_search() {
        // Values on edges and on fine bin boundaries, ties, values outside
        // the histogram's range, infinities, NaNs and rows not trained on.
        let values: Vec<f64> = (0..5000)
            .map(|i| f64::from(i % 97) * 0.125 - 3.0)
            .chain([
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                -0.0,
                0.0,
                -7.5,
                20.0,
            ])
            .collect();
        let mut role = vec![1u8; values.len()];
        role[3] = 2;
        role[11] = 0;
        for bins in [1usize, 7, 64, 4096] {
            let (lo, hi) = (-3.0, 9.0);
            #[allow(clippy::cast_precision_loss)]
            let scale = (lo, bins as f64 / (hi - lo));
            let mut hist = vec![0u64; bins];
            for (&x, &r) in values.iter().zip(&role) {
                if r == 1 && !x.is_nan() {
                    hist[bin_index(bins, scale, x)] += 1;
                }
            }
            let edge_sets: [&[f64]; 5] = [
                &[-1.0, 0.0, 0.0, 0.5, 3.0, 3.0, 3.0, 7.5, 9.0],
                &[-2.96, 0.01, 5.875],
                &[],
                &[f64::NEG_INFINITY, 1.0, f64::INFINITY],
                &[-10.0, 100.0],
            ];
            for edges in edge_sets {
                let mut counts = vec![0u64; edges.len() + 1];
                let coarse = Coarse::new(edges, &mut counts, &hist, scale).unwrap();
                for (v, r) in values.chunks(333).zip(role.chunks(333)) {
                    coarse.push(edges, &mut counts, v, r);
                }
                assert_eq!(counts, by_search(edges, &values, &role), "{bins} {edges:?}");
            }
            // Edges that do not ascend, or a NaN: every value counted instead.
            let mut counts = vec![0u64; 4];
            assert!(Coarse::new(&[3.0, f64::NAN, 1.0], &mut counts, &hist, scale).is_none());
        }
    }
}
