//! Tests of two proportions: control `x_A/n_A`, variant `x_B/n_B`.
//!
//! - Pooled z (the score test): `p̂ = (x_A+x_B)/(n_A+n_B)`,
//!   `z = (p̂_B − p̂_A)/√(p̂(1−p̂)(1/n_A+1/n_B))`, two-sided `p = P(χ²₁ > z²)`
//!   (statsmodels `proportions_ztest`; equal to the chi-square test without
//!   Yates' correction). Its interval is the unpooled Wald interval
//!   `d ± z_{1−α/2} √(p̂_A(1−p̂_A)/n_A + p̂_B(1−p̂_B)/n_B)`
//!   (statsmodels `confint_proportions_2indep(method="wald")`).
//! - Chi-square on the 2×2 table with Yates' continuity correction, as
//!   `scipy.stats.chi2_contingency(table)` does by default: each observed
//!   cell moves towards its expected count by `min(½, |E−O|)`.
//! - Fisher's exact test, two-sided as scipy's `fisher_exact`: the sum of
//!   the hypergeometric probabilities of every table with the same margins
//!   that is no more likely than the observed one (relative tolerance 1e-14),
//!   computed with log-binomials so it holds for any population size.
//!   The statistic is the sample odds ratio `x_B(n_A−x_A)/((n_B−x_B)x_A)` of
//!   the table `[[x_B, n_B−x_B], [x_A, n_A−x_A]]`.

use super::dist::{chi2_sf, ln_choose, log_sum_exp, norm_ppf, norm_two_sided};
use super::{PValue, TestResult};

/// Counts of one arm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Units.
    pub n: u64,
    /// Units that converted.
    pub x: u64,
}

impl Counts {
    /// The conversion rate; NaN when empty.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn rate(&self) -> f64 {
        if self.n == 0 {
            f64::NAN
        } else {
            self.x as f64 / self.n as f64
        }
    }
}

/// A test with the Wald interval of the difference of rates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PropTest {
    /// Statistic, df and p-value.
    pub test: TestResult,
    /// `p̂_B − p̂_A`.
    pub difference: f64,
    /// Unpooled standard error of the difference.
    pub se: f64,
    /// The normal quantile of the interval.
    pub quantile: f64,
    /// Wald interval of the difference.
    pub ci: [f64; 2],
}

fn wald(a: Counts, b: Counts, alpha: f64, test: TestResult) -> PropTest {
    let (pa, pb) = (a.rate(), b.rate());
    #[allow(clippy::cast_precision_loss)]
    let se = (pa * (1.0 - pa) / a.n as f64 + pb * (1.0 - pb) / b.n as f64).sqrt();
    let q = norm_ppf(1.0 - alpha / 2.0);
    let d = pb - pa;
    PropTest {
        test,
        difference: d,
        se,
        quantile: q,
        ci: [d - q * se, d + q * se],
    }
}

/// The pooled two-proportion z-test.
#[must_use]
pub fn z_test(a: Counts, b: Counts, alpha: f64) -> PropTest {
    #[allow(clippy::cast_precision_loss)]
    let (na, nb) = (a.n as f64, b.n as f64);
    #[allow(clippy::cast_precision_loss)]
    let p = (a.x + b.x) as f64 / (na + nb);
    let se0 = (p * (1.0 - p) * (1.0 / na + 1.0 / nb)).sqrt();
    let z = if se0 > 0.0 {
        (b.rate() - a.rate()) / se0
    } else {
        f64::NAN
    };
    let p = norm_two_sided(z);
    wald(
        a,
        b,
        alpha,
        TestResult {
            statistic: z,
            df: None,
            p,
        },
    )
}

/// The 2×2 chi-square test with Yates' correction.
#[must_use]
pub fn chi2_test(a: Counts, b: Counts, alpha: f64) -> PropTest {
    #[allow(clippy::cast_precision_loss)]
    let obs = [
        [b.x as f64, (b.n - b.x) as f64],
        [a.x as f64, (a.n - a.x) as f64],
    ];
    let rows = [obs[0][0] + obs[0][1], obs[1][0] + obs[1][1]];
    let cols = [obs[0][0] + obs[1][0], obs[0][1] + obs[1][1]];
    let total = rows[0] + rows[1];
    let mut stat = 0.0;
    let mut degenerate = false;
    for (i, row) in obs.iter().enumerate() {
        for (j, &o) in row.iter().enumerate() {
            let e = rows[i] * cols[j] / total;
            if e <= 0.0 {
                degenerate = true;
                continue;
            }
            let diff = e - o;
            let o = o + diff.signum() * diff.abs().min(0.5);
            stat += (o - e) * (o - e) / e;
        }
    }
    let (stat, p) = if degenerate || total == 0.0 {
        (f64::NAN, PValue::NAN)
    } else {
        (stat, chi2_sf(stat, 1.0))
    };
    wald(
        a,
        b,
        alpha,
        TestResult {
            statistic: stat,
            df: Some(1.0),
            p,
        },
    )
}

/// Fisher's exact test, two-sided.
#[must_use]
pub fn fisher(a: Counts, b: Counts, alpha: f64) -> PropTest {
    // Table [[x_B, n_B - x_B], [x_A, n_A - x_A]]; the first cell is
    // hypergeometric given row sums n_B, n_A and first column sum x_A + x_B.
    #[allow(clippy::cast_precision_loss)]
    let (r1, r2, c1) = (b.n as f64, a.n as f64, (a.x + b.x) as f64);
    let total = r1 + r2;
    let ln_den = ln_choose(total, c1);
    let ln_pmf = |k: f64| ln_choose(r1, k) + ln_choose(r2, c1 - k) - ln_den;
    let lo = (c1 - r2).max(0.0);
    let hi = c1.min(r1);
    #[allow(clippy::cast_precision_loss)]
    let obs = ln_pmf(b.x as f64);
    let cut = obs + 1e-14f64.ln_1p();
    let mut terms = Vec::new();
    let mut k = lo;
    while k <= hi {
        let l = ln_pmf(k);
        if l <= cut {
            terms.push(l);
        }
        k += 1.0;
    }
    let p = PValue::from_ln(log_sum_exp(&terms).min(0.0));
    #[allow(clippy::cast_precision_loss)]
    let or = (b.x as f64 * (a.n - a.x) as f64) / ((b.n - b.x) as f64 * a.x as f64);
    wald(
        a,
        b,
        alpha,
        TestResult {
            statistic: or,
            df: None,
            p,
        },
    )
}

/// Expected cell counts of the 2×2 table below 5 (Cochran's rule, the
/// `auto` switch to Fisher's test).
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn small_expected(a: Counts, b: Counts) -> bool {
    let total = (a.n + b.n) as f64;
    let conv = (a.x + b.x) as f64;
    let non = total - conv;
    [a.n as f64, b.n as f64]
        .iter()
        .any(|&r| r * conv / total < 5.0 || r * non / total < 5.0)
}
