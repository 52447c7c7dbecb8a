//! The Mann–Whitney U test (Mann & Whitney 1947), two-sided, as
//! `scipy.stats.mannwhitneyu(variant, control)` computes it by default.
//!
//! `U_B = R_B − n_B(n_B+1)/2` with `R_B` the sum of the variant's mid-ranks
//! in the pooled sample. The method follows scipy's `auto`: the exact null
//! distribution when either sample has at most 8 values and there are no
//! ties, else the normal approximation with the tie correction
//! `σ² = n_A n_B/12 · ((n+1) − Σ(t³−t)/(n(n−1)))` and a continuity
//! correction of ½: `z = (max(U_B, U_A) − n_A n_B/2 − ½)/σ`, `p = 2 P(Z > z)`.
//!
//! The exact distribution: the number of rank arrangements with `U = u` is
//! the coefficient of `q^u` in the Gaussian binomial `[n_A+n_B choose m]_q`,
//! `m = min(n_A, n_B)`, built as `∏_{i=1..m} (1 − q^{N+i})/(1 − q^i)` with
//! `N = max(n_A, n_B)` in exact integers (Andrews, *The Theory of
//! Partitions*, 1976, §3.3); `p = min(1, 2 P(U ≥ max(U_A, U_B)))`.
//! The exact path runs only while the number of arrangements,
//! `C(n_A+n_B, m)`, stays below 10^36 (it is held in `i128`, and its table
//! has `m·N + 1` entries): 8 values against more than about 130,000 take
//! the normal approximation, which is then accurate to far below 1e-6.

use super::dist::norm_two_sided;
use super::{PValue, TestResult};

/// Which null distribution was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The exact distribution of U.
    Exact,
    /// Normal approximation with tie and continuity corrections.
    Asymptotic,
}

/// The test of `b` (variant) against `a` (control); `U` is the variant's.
/// `None` when either sample is empty.
#[must_use]
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Option<(TestResult, Method)> {
    let (na, nb) = (a.len(), b.len());
    if na == 0 || nb == 0 {
        return None;
    }
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, false))
        .chain(b.iter().map(|&x| (x, true)))
        .collect();
    all.sort_unstable_by(|x, y| x.0.total_cmp(&y.0));
    let n = all.len();
    let mut rank_b = 0.0f64;
    let mut tie_term = 0.0f64;
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && all[j].0 == all[i].0 {
            j += 1;
        }
        #[allow(clippy::cast_precision_loss)]
        let (t, mid) = ((j - i) as f64, (i + j + 1) as f64 / 2.0);
        if j - i > 1 {
            tie_term += t * t * t - t;
        }
        let in_b = all[i..j].iter().filter(|x| x.1).count();
        #[allow(clippy::cast_precision_loss)]
        {
            rank_b += mid * in_b as f64;
        }
        i = j;
    }
    #[allow(clippy::cast_precision_loss)]
    let (naf, nbf, nf) = (na as f64, nb as f64, n as f64);
    let u_b = rank_b - nbf * (nbf + 1.0) / 2.0;
    let u_a = naf * nbf - u_b;
    let u = u_b.max(u_a);
    if (na <= 8 || nb <= 8) && tie_term == 0.0 && exact_fits(na, nb) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let p = 2.0 * exact_sf(u.round() as usize, na, nb);
        return Some((
            TestResult {
                statistic: u_b,
                df: None,
                p: PValue::from_p(p.min(1.0)),
            },
            Method::Exact,
        ));
    }
    let s = (naf * nbf / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)))).sqrt();
    let z = (u - naf * nbf / 2.0 - 0.5) / s;
    let p = if z.is_nan() {
        PValue::NAN
    } else if z <= 0.0 {
        PValue::from_p(1.0)
    } else {
        norm_two_sided(z)
    };
    Some((
        TestResult {
            statistic: u_b,
            df: None,
            p,
        },
        Method::Asymptotic,
    ))
}

/// Whether the exact table of `C(n1+n2, m)` arrangements fits in `i128`
/// with room to spare (below 10^36), and so in memory (`m·N + 1` entries).
fn exact_fits(n1: usize, n2: usize) -> bool {
    let (m, big) = (n1.min(n2), n1.max(n2));
    // log10 C(big+m, m) = Σ_{i=1..m} log10((big+i)/i)
    #[allow(clippy::cast_precision_loss)]
    let log10: f64 = (1..=m).map(|i| ((big + i) as f64 / i as f64).log10()).sum();
    log10 < 36.0
}

/// `P(U ≥ u)` under the null for sample sizes `n1`, `n2`.
fn exact_sf(u: usize, n1: usize, n2: usize) -> f64 {
    let (m, big) = (n1.min(n2), n1.max(n2));
    let len = m * big + 1;
    let mut c = vec![0i128; len];
    c[0] = 1;
    let mut deg = 0usize;
    for i in 1..=m {
        // Multiply by (1 - q^(big+i)).
        let k = big + i;
        let new_deg = deg + k;
        for j in (k..=new_deg.min(len - 1)).rev() {
            c[j] -= c[j - k];
        }
        // Divide by (1 - q^i): prefix sums with stride i.
        for j in i..len {
            c[j] += c[j - i];
        }
        deg = new_deg - i;
    }
    #[allow(clippy::cast_precision_loss)]
    let total: f64 = c.iter().map(|&x| x as f64).sum();
    #[allow(clippy::cast_precision_loss)]
    let upper: f64 = c.iter().skip(u).map(|&x| x as f64).sum();
    upper / total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_distribution_is_symmetric_and_sums() {
        // n1 = n2 = 2: U in 0..=4 with counts 1,1,2,1,1.
        assert!((exact_sf(0, 2, 2) - 1.0).abs() < 1e-15);
        assert!((exact_sf(4, 2, 2) - 1.0 / 6.0).abs() < 1e-15);
        assert!((exact_sf(2, 2, 2) - 4.0 / 6.0).abs() < 1e-15);
    }

    /// 8 values against 300,000 without ties: the exact table would
    /// overflow `i128` (and take gigabytes at 10^8 values), so the normal
    /// approximation answers.
    /// Security review L7.
    #[test]
    fn a_small_sample_against_a_huge_one_takes_the_normal_approximation() {
        assert!(exact_fits(8, 100_000));
        assert!(!exact_fits(8, 300_000));
        let a: Vec<f64> = (0..8).map(|i| f64::from(i) * 0.03 + 0.000_000_5).collect();
        let b: Vec<f64> = (0..300_000).map(|i| f64::from(i) / 1e6).collect();
        let (r, method) = mann_whitney(&a, &b).unwrap();
        assert_eq!(method, Method::Asymptotic);
        // scipy 1.17.1: mannwhitneyu(b, a, method="asymptotic") gives
        // U = 1559992 and p = 0.14166006658388905.
        assert_eq!(r.statistic, 1_559_992.0);
        assert!(
            (r.p.p - 0.141_660_066_583_889_05).abs() < 1e-12,
            "{}",
            r.p.p
        );
    }
}
