//! The decile edges of pass 2: a 4,096-bin histogram of each numeric
//! column's training values between its training min and max (known after
//! pass 1); each edge is within (max − min) / 4,096 of the exact type-7
//! quantile (see [`numeric_stats`]).

use crate::data::{Column, Table};
use crate::model::stats::NumericStats;
use crate::train::streaming::moments::Moments;

/// Histogram bins per feature for the decile edges.
pub const DECILE_BINS: usize = 4096;

/// The decile histograms of the training rows: per feature and of the target.
#[derive(Default)]
pub(super) struct Histograms {
    features: Vec<Vec<u64>>,
    target: Vec<u64>,
    /// The training predictions, over the target's range (those outside it
    /// land in the end bins): their edges are approximate, but pass 3
    /// counts the rows per bin of whatever edges this gives exactly.
    predictions: Vec<u64>,
    /// Per feature (and the target): the histogram's lower end and bins per
    /// unit, or None when the column is constant (no histogram needed).
    feature_bins: Vec<Option<(f64, f64)>>,
    target_bins: Option<(f64, f64)>,
}

impl Histograms {
    /// Empty histograms over the ranges of pass 1's `moments` and `target`.
    pub fn new(moments: &[Moments], target: &Moments) -> Histograms {
        let bins = DECILE_BINS as f64;
        let scale_of = |m: &Moments| (m.max > m.min).then(|| (m.min, bins / (m.max - m.min)));
        Histograms {
            features: moments.iter().map(|_| vec![0; DECILE_BINS]).collect(),
            target: vec![0u64; DECILE_BINS],
            predictions: vec![0u64; DECILE_BINS],
            feature_bins: moments.iter().map(scale_of).collect(),
            target_bins: scale_of(target),
        }
    }

    /// Empty histograms over the same bins, for another thread to fill
    /// and [`Self::add`] back.
    pub fn empty_like(&self) -> Histograms {
        let zero = |h: &Vec<u64>| vec![0; h.len()];
        Histograms {
            features: self.features.iter().map(zero).collect(),
            target: zero(&self.target),
            predictions: zero(&self.predictions),
            feature_bins: self.feature_bins.clone(),
            target_bins: self.target_bins,
        }
    }

    /// Add the counts of `other` (over the same bins, [`Self::empty_like`]).
    pub fn add(&mut self, other: &Histograms) {
        let pairs = self.features.iter_mut().zip(&other.features).chain([
            (&mut self.target, &other.target),
            (&mut self.predictions, &other.predictions),
        ]);
        for (mine, theirs) in pairs {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        }
    }

    /// Count the training rows of block `t` (`role` 1).
    pub fn push(&mut self, t: &Table, role: &[u8]) {
        let all = role.iter().all(|&r| r == 1);
        for (k, col) in t.features.iter().enumerate() {
            if let (Column::Numeric(v), Some(sb)) = (col, self.feature_bins[k]) {
                let h = &mut self.features[k];
                if all {
                    // Every row a training row: no role to look at.
                    v.iter().for_each(|&x| bin(h, sb, x));
                    continue;
                }
                for (&x, &r) in v.iter().zip(role) {
                    if r == 1 {
                        bin(h, sb, x);
                    }
                }
            }
        }
        if let Some(sb) = self.target_bins {
            for (&y, &r) in t.target.iter().zip(role) {
                if r == 1 {
                    bin(&mut self.target, sb, y);
                }
            }
        }
    }

    /// Count the predictions `pred` of the training rows (`role` 1).
    pub fn push_predictions(&mut self, pred: &[f64], role: &[u8]) {
        if let Some(sb) = self.target_bins {
            for (&p, &r) in pred.iter().zip(role) {
                if r == 1 {
                    bin(&mut self.predictions, sb, p);
                }
            }
        }
    }

    /// The statistics of the training predictions (`m`: their moments;
    /// `target`: the target's, whose range the histogram spans).
    pub fn prediction_stats(&self, m: &Moments, target: &Moments) -> NumericStats {
        let over_target_range = Moments {
            min: target.min,
            max: target.max,
            ..*m
        };
        let deciles = numeric_stats(&over_target_range, &self.predictions).deciles;
        NumericStats {
            deciles,
            ..numeric_stats(m, &[])
        }
    }

    /// The statistics of numeric feature `k`.
    pub fn feature_stats(&self, k: usize, m: &Moments) -> NumericStats {
        numeric_stats(m, &self.features[k])
    }

    /// Numeric feature `k`'s histogram and its `(min, bins per unit)`,
    /// when it has one (not a constant column).
    pub fn feature_histogram(&self, k: usize) -> Option<(&[u64], (f64, f64))> {
        Some((self.features.get(k)?, (*self.feature_bins.get(k)?)?))
    }

    /// The statistics of the target.
    pub fn target_stats(&self, m: &Moments) -> NumericStats {
        numeric_stats(m, &self.target)
    }
}

/// Count `x` in its histogram bin, given the histogram's lower end and bins
/// per unit (`(min, bins / (max - min))`); values outside land in the end
/// bins, missing ones nowhere.
#[inline]
fn bin(hist: &mut [u64], scale: (f64, f64), x: f64) {
    if !x.is_nan() {
        hist[bin_index(hist.len(), scale, x)] += 1;
    }
}

/// The bin of `x` (not NaN) among `len` bins of `(min, bins per unit)`.
/// Non-decreasing in `x` (infinities included), which is what lets
/// the bin counts of pass 2 (`bins`) come from the histogram.
#[inline]
pub(super) fn bin_index(len: usize, (min, per_unit): (f64, f64), x: f64) -> usize {
    // `as` truncates toward zero and saturates: floor for x ≥ min, 0 below
    // (to i64, one instruction; to usize, several).
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_possible_wrap
    )]
    let b = (((x - min) * per_unit) as i64).clamp(0, len as i64 - 1);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let b = b as usize;
    b
}

/// Numeric statistics from exact moments and the decile histogram.
///
/// The type-7 decile `x(k) + f (x(k+1) - x(k))` (k = ⌊h⌋, f = h − k, h =
/// (n − 1)p) is taken with each order statistic estimated inside its own bin
/// (its rank spread evenly over the bin), so each lies within one bin width
/// of the true one, and so does the interpolated edge: |error| ≤
/// (max − min) / 4,096.
#[allow(clippy::cast_precision_loss)]
pub(super) fn numeric_stats(m: &Moments, hist: &[u64]) -> NumericStats {
    let mut deciles = Vec::with_capacity(9);
    if m.n > 0 {
        let width = (m.max - m.min) / hist.len() as f64;
        // The value of the order statistic of 0-based rank `k`.
        let order = |k: u64| -> f64 {
            if m.max == m.min {
                return m.min;
            }
            let mut cum = 0u64;
            for (b, &c) in hist.iter().enumerate() {
                if c > 0 && cum + c > k {
                    let within = ((k - cum) as f64 + 0.5) / c as f64;
                    return (m.min + (b as f64 + within) * width).clamp(m.min, m.max);
                }
                cum += c;
            }
            m.max
        };
        for d in 1..=9 {
            let h = (m.n - 1) as f64 * f64::from(d) / 10.0;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let k = h.floor() as u64;
            let f = h - k as f64;
            let lo = order(k);
            let v = if f > 0.0 && k + 1 < m.n {
                lo + f * (order(k + 1) - lo)
            } else {
                lo
            };
            deciles.push(v);
        }
    }
    NumericStats {
        count: m.n,
        missing: m.missing,
        mean: m.mean,
        sd: m.sd(),
        min: if m.n == 0 { 0.0 } else { m.min },
        max: if m.n == 0 { 0.0 } else { m.max },
        deciles,
        // Counted in pass 3, once the edges are known.
        bin_counts: Vec::new(),
    }
}
