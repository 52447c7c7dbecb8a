//! Distances between two binned distributions: the population stability
//! index and the Jensen–Shannon distance, over counts per bin.
//!
//! Bins of numeric values are cut by ascending edges and right-closed,
//! `(e_{i−1}, e_i]` (`numpy.searchsorted(edges, x, side="left")`). The same
//! functions serve the batch drift check (`validate --drift-data`) and the
//! live drift gauges of `serve`, so the two agree to the last bit over the
//! same rows.
//!
//! - PSI = Σ (a_i − e_i) ln(a_i / e_i), `e` the expected (training) shares
//!   and `a` the actual shares, each clipped below at [`PSI_EPSILON`] so an
//!   empty bin adds a large but finite term.
//! - Jensen–Shannon distance, base 2: √(½ KL(p‖m) + ½ KL(q‖m)) / √ln 2 with
//!   m = ½(p + q), no clipping; equal to
//!   `scipy.spatial.distance.jensenshannon(p, q, base=2)`, in [0, 1].

/// Shares below this count as this in the PSI (an empty bin).
pub const PSI_EPSILON: f64 = 1e-4;

/// The bin of `x` among ascending `edges`: the number of edges below it,
/// so bins are right-closed, `(e_{i−1}, e_i]` (`numpy.searchsorted(edges,
/// x, side="left")`).
///
/// A few edges (deciles: nine) are counted without branches: the compares
/// are independent, where a binary search is a chain of dependent loads
/// (it was most of the drift monitor's cost per cell). Over ascending
/// edges both give the same bin.
#[must_use]
pub fn bin_of(edges: &[f64], x: f64) -> usize {
    if edges.len() <= 32 {
        edges.iter().map(|&e| usize::from(e < x)).sum()
    } else {
        edges.partition_point(|&e| e < x)
    }
}

/// Counts per bin (`edges.len() + 1` bins) of the non-NaN `values`.
#[must_use]
pub fn bin_counts(edges: &[f64], values: impl Iterator<Item = f64>) -> Vec<u64> {
    let mut c = vec![0u64; edges.len() + 1];
    for x in values.filter(|x| !x.is_nan()) {
        c[bin_of(edges, x)] += 1;
    }
    c
}

/// The PSI of `actual` counts against `expected` counts over the same bins
/// (shares clipped below at [`PSI_EPSILON`]); 0 when either is empty.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn psi_from_counts(expected: &[u64], actual: &[u64]) -> f64 {
    let ne: u64 = expected.iter().sum();
    let na: u64 = actual.iter().sum();
    if ne == 0 || na == 0 {
        return 0.0;
    }
    expected
        .iter()
        .zip(actual)
        .map(|(&e, &a)| {
            let e = (e as f64 / ne as f64).max(PSI_EPSILON);
            let a = (a as f64 / na as f64).max(PSI_EPSILON);
            (a - e) * (a / e).ln()
        })
        .sum()
}

/// The Jensen–Shannon distance (base 2) between the distributions of counts
/// `p` and `q` over the same bins; `None` when either is empty.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn js_distance(p: &[u64], q: &[u64]) -> Option<f64> {
    let np: u64 = p.iter().sum();
    let nq: u64 = q.iter().sum();
    if np == 0 || nq == 0 {
        return None;
    }
    // scipy.special.rel_entr(x, m): x ln(x / m), 0 when x = 0.
    let rel = |x: f64, m: f64| if x > 0.0 { x * (x / m).ln() } else { 0.0 };
    let mut sum = 0.0;
    for (&a, &b) in p.iter().zip(q) {
        let a = a as f64 / np as f64;
        let b = b as f64 / nq as f64;
        let m = (a + b) / 2.0;
        sum += rel(a, m) + rel(b, m);
    }
    let js = sum / 2.0 / std::f64::consts::LN_2;
    Some(js.max(0.0).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The count over a few edges is the binary search's bin, ties and
    /// repeated edges included, on both sides of the 32-edge switch.
    #[test]
    fn bin_of_counts_as_the_binary_search_finds() {
        for n in [0usize, 1, 9, 32, 33, 100] {
            // Ascending with repeats: 0, 0, 1, 1, 2, ...
            let edges: Vec<f64> = (0..n).map(|i| (i / 2) as f64).collect();
            for k in -4..(n as i32 + 4) {
                let x = f64::from(k) * 0.5;
                assert_eq!(
                    bin_of(&edges, x),
                    edges.partition_point(|&e| e < x),
                    "{n} edges, x = {x}"
                );
            }
        }
    }

    #[test]
    fn bins_are_right_closed() {
        let e = [1.0, 2.0, 2.0, 3.0];
        assert_eq!(bin_of(&e, 0.5), 0);
        assert_eq!(bin_of(&e, 1.0), 0);
        assert_eq!(bin_of(&e, 1.5), 1);
        assert_eq!(bin_of(&e, 2.0), 1);
        assert_eq!(bin_of(&e, 2.5), 3);
        assert_eq!(bin_of(&e, 9.0), 4);
    }

    #[test]
    fn psi_is_finite_with_empty_bins() {
        let p = psi_from_counts(&[10, 0, 10], &[0, 10, 10]);
        assert!(p.is_finite() && p > 1.0, "{p}");
        assert_eq!(psi_from_counts(&[5, 5], &[50, 50]), 0.0);
        assert_eq!(psi_from_counts(&[0, 0], &[1, 1]), 0.0);
    }

    #[test]
    fn js_bounds() {
        assert_eq!(js_distance(&[3, 5], &[30, 50]), Some(0.0));
        let d = js_distance(&[1, 0], &[0, 1]).unwrap();
        assert!((d - 1.0).abs() < 1e-15, "{d}");
        assert_eq!(js_distance(&[0, 0], &[1, 1]), None);
    }
}
