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
        // Every row a training row: no role to look at.
        let role = (!role.iter().all(|&r| r == 1)).then_some(role);
        for (k, col) in t.features.iter().enumerate() {
            if let (Column::Numeric(v), Some(sb)) = (col, self.feature_bins[k]) {
                count_into(&mut self.features[k], sb, v, role);
            }
        }
        if let Some(sb) = self.target_bins {
            count_into(&mut self.target, sb, &t.target, role);
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
    // (to i32, what vector units convert to; `len` is far below i32::MAX).
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_possible_wrap
    )]
    let b = (((x - min) * per_unit) as i32).clamp(0, len as i32 - 1) as usize;
    b
}

/// Values binned at a time by [`bin_indices`].
pub(super) const BIN_RUN: usize = 256;

/// [`bin_index`] of each of `xs` (at most [`BIN_RUN`]) into `out`, `len`
/// (no bin) for a NaN: a loop without branches, which the compiler
/// vectorises (in AVX2 where the CPU has it), apart from the counting that
/// follows it.
#[inline]
pub(super) fn bin_indices(len: usize, scale: (f64, f64), xs: &[f64], out: &mut [u32; BIN_RUN]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above), the one
        // requirement of a `target_feature(enable = "avx2")` function.
        #[allow(unsafe_code)]
        unsafe {
            bin_indices_avx2(len, scale, xs, out);
        }
        return;
    }
    indices(len, scale, xs, out);
}

/// [`indices`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn bin_indices_avx2(len: usize, scale: (f64, f64), xs: &[f64], out: &mut [u32; BIN_RUN]) {
    indices(len, scale, xs, out);
}

/// `2^52`: adding it to an integer below it puts the integer in the low
/// bits of the sum's representation.
const TWO_52: f64 = 4_503_599_627_370_496.0;

/// The body of [`bin_indices`]: [`bin_index`] with the bin clamped before
/// the conversion (the same bins: truncation is monotone, and what lies in
/// `[0, len − 1]` converts exactly), so that no conversion saturates.
#[inline(always)]
fn indices(len: usize, (min, per_unit): (f64, f64), xs: &[f64], out: &mut [u32; BIN_RUN]) {
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let (none, top) = (len as u32, len.saturating_sub(1) as f64);
    for (o, &x) in out.iter_mut().zip(xs) {
        // Clamped with `max` and `min` (a NaN gives way to the other
        // operand, where `clamp` would branch), floored, and read off the
        // low bits of `2^52 + f` (exact for an integer `0 <= f < 2^52`):
        // no conversion that saturates, so the loop vectorises.
        let f = ((x - min) * per_unit).max(0.0).min(top).floor();
        #[allow(clippy::cast_possible_truncation)]
        let b = (f + TWO_52).to_bits() as u32;
        *o = if x.is_nan() { none } else { b };
    }
}

/// Count the values of `xs` whose role is 1 (all of them without `role`)
/// in `hist`, NaNs in none.
fn count_into(hist: &mut [u64], scale: (f64, f64), xs: &[f64], role: Option<&[u8]>) {
    let mut at = [0u32; BIN_RUN];
    for (i, part) in xs.chunks(BIN_RUN).enumerate() {
        bin_indices(hist.len(), scale, part, &mut at);
        let roles = role.map(|r| r.get(i * BIN_RUN..).unwrap_or_default());
        for (j, &b) in at[..part.len()].iter().enumerate() {
            let counted = roles.is_none_or(|r| r.get(j) == Some(&1));
            if let (true, Some(h)) = (counted, hist.get_mut(b as usize)) {
                *h += 1;
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectorised indices are [`bin_index`]'s, NaN in no bin, for
    /// values inside, outside and at the ends of the range, infinities and
    /// a scale that overflows.
    #[test]
    fn bin_indices_are_bin_index() {
        let xs: Vec<f64> = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            1e-310,
            -3.0,
            -2.5,
            7.0,
            7.0 - 1e-12,
            1e300,
            -1e300,
        ]
        .into_iter()
        .chain((0..200).map(|i| f64::from(i) * 0.0517 - 2.6))
        .collect();
        for (len, scale) in [
            (DECILE_BINS, (-2.5, 4096.0 / 9.5)),
            (10, (0.0, 1e308)),
            (1, (-1.0, 0.5)),
        ] {
            let mut out = [0u32; BIN_RUN];
            bin_indices(len, scale, &xs, &mut out);
            for (&x, &b) in xs.iter().zip(&out) {
                let want = if x.is_nan() {
                    len
                } else {
                    bin_index(len, scale, x)
                };
                assert_eq!(b as usize, want, "{x} over {len} bins of {scale:?}");
            }
        }
        // Counted: the same histogram as one value at a time.
        let mut hist = vec![0u64; 64];
        count_into(&mut hist, (-2.0, 10.0), &xs, None);
        let mut want = vec![0u64; 64];
        xs.iter().for_each(|&x| bin(&mut want, (-2.0, 10.0), x));
        assert_eq!(hist, want);
    }
}
