//! Per-feature training statistics, kept in the artifact for data and drift
//! checks: count, missing, mean, standard deviation (sample, n − 1; two
//! passes), min, max, the nine decile edges and the training values per
//! bin of those edges.
//!
//! Deciles use linear interpolation between order statistics (Hyndman & Fan
//! type 7, the default of `numpy.quantile` and R), found with selection in
//! O(n) rather than a sort.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::stats::binned;

/// Statistics of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ColumnStats {
    /// A numeric column.
    Numeric(NumericStats),
    /// A categorical column.
    Categorical(CategoricalStats),
}

/// Statistics of a numeric column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericStats {
    /// Non-missing values.
    pub count: u64,
    /// Missing cells.
    pub missing: u64,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 for a single value.
    pub sd: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// The 10%, 20%, …, 90% quantiles (type 7).
    pub deciles: Vec<f64>,
    /// Training values per bin of the decile edges (`deciles.len() + 1`
    /// bins, right-closed, [`crate::stats::binned::bin_of`]): ties make the
    /// shares unequal. Absent in `mlops.model/v1` artifacts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bin_counts: Vec<u64>,
}

/// Statistics of a categorical column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalStats {
    /// Non-missing values.
    pub count: u64,
    /// Missing cells.
    pub missing: u64,
    /// Rows per level, levels sorted.
    pub levels: IndexMap<String, u64>,
}

/// Statistics of the non-NaN values of `values`.
///
/// Mean and standard deviation use two passes over the kept values (the
/// sum, then the squared deviations from the mean), which is at least as
/// accurate as Welford's update and vectorises.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn numeric(values: impl Iterator<Item = f64>) -> NumericStats {
    let mut missing = 0;
    let mut v: Vec<f64> = Vec::with_capacity(values.size_hint().0);
    for x in values {
        if x.is_nan() {
            missing += 1;
        } else {
            v.push(x);
        }
    }
    let n = v.len();
    if n == 0 {
        return NumericStats {
            count: 0,
            missing,
            mean: 0.0,
            sd: 0.0,
            min: 0.0,
            max: 0.0,
            deciles: Vec::new(),
            bin_counts: Vec::new(),
        };
    }
    let (mut sum, mut min, mut max) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
    for &x in &v {
        sum += x;
        min = min.min(x);
        max = max.max(x);
    }
    let mean = sum / n as f64;
    let ss: f64 = v.iter().map(|x| (x - mean) * (x - mean)).sum();
    let sd = if n < 2 {
        0.0
    } else {
        (ss / (n - 1) as f64).sqrt()
    };
    let deciles = quantiles(&mut v, &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    let bin_counts = binned::bin_counts(&deciles, v.iter().copied());
    NumericStats {
        count: n as u64,
        missing,
        mean,
        sd,
        min,
        max,
        deciles,
        bin_counts,
    }
}

/// Type-7 quantiles of `v` at increasing probabilities `ps`; reorders `v`.
///
/// The order statistics needed (⌊h⌋ and ⌊h⌋+1 for each `h = (n-1)p`) are
/// placed by recursive selection: select the middle one, then recurse into
/// the two sides, so the work is O(n log k) for k quantiles.
#[must_use]
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
pub fn quantiles(v: &mut [f64], ps: &[f64]) -> Vec<f64> {
    let n = v.len();
    if n == 0 {
        return Vec::new();
    }
    let mut ranks: Vec<usize> = Vec::with_capacity(ps.len() * 2);
    for &p in ps {
        let h = (n - 1) as f64 * p;
        let k = h.floor() as usize;
        ranks.push(k);
        if k + 1 < n {
            ranks.push(k + 1);
        }
    }
    ranks.sort_unstable();
    ranks.dedup();
    select_all(v, 0, &ranks);
    ps.iter()
        .map(|&p| {
            let h = (n - 1) as f64 * p;
            let k = h.floor() as usize;
            let frac = h - k as f64;
            let a = v[k];
            if frac > 0.0 && k + 1 < n {
                a + frac * (v[k + 1] - a)
            } else {
                a
            }
        })
        .collect()
}

/// Place the order statistics `ranks` (sorted, relative to `base`) in `v`.
fn select_all(v: &mut [f64], base: usize, ranks: &[usize]) {
    if ranks.is_empty() || v.is_empty() {
        return;
    }
    let mid = ranks.len() / 2;
    let k = ranks[mid] - base;
    let (left, _, right) = v.select_nth_unstable_by(k, f64::total_cmp);
    select_all(left, base, &ranks[..mid]);
    select_all(right, base + k + 1, &ranks[mid + 1..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deciles_match_numpy() {
        // numpy.quantile(np.arange(1, 12), [0.1, 0.25, 0.5, 0.9]) = [2, 3.5, 6, 10]
        let mut v: Vec<f64> = (1..=11).rev().map(f64::from).collect();
        assert_eq!(
            quantiles(&mut v, &[0.1, 0.25, 0.5, 0.9]),
            [2.0, 3.5, 6.0, 10.0]
        );
        // numpy.quantile([3, 1, 4, 1, 5, 9, 2, 6], [0.1, 0.5, 0.9]) = [1, 3.5, 6.9]
        let mut v = vec![3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        let q = quantiles(&mut v, &[0.1, 0.5, 0.9]);
        assert!(
            (q[0] - 1.0).abs() < 1e-12 && (q[1] - 3.5).abs() < 1e-12 && (q[2] - 6.9).abs() < 1e-12,
            "{q:?}"
        );
    }

    #[test]
    fn mean_and_sd_are_stable_far_from_zero() {
        let s = numeric([1e9 + 4.0, 1e9 + 7.0, 1e9 + 13.0, 1e9 + 16.0, f64::NAN].into_iter());
        assert_eq!(s.count, 4);
        assert_eq!(s.missing, 1);
        assert!((s.mean - (1e9 + 10.0)).abs() < 1e-6);
        assert!((s.sd - 30f64.sqrt()).abs() < 1e-9, "{}", s.sd);
    }
}
