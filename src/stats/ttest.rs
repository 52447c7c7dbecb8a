//! Two-sample t-tests from summary statistics, and the delta-method
//! interval of the relative lift.
//!
//! The difference is `d = x̄_B − x̄_A` (variant minus control), matching
//! `scipy.stats.ttest_ind(variant, control)`.
//!
//! - Welch (1947): `se² = s²_A/n_A + s²_B/n_B`, `t = d/se`, degrees of
//!   freedom by Welch–Satterthwaite
//!   `ν = se⁴ / ((s²_A/n_A)²/(n_A−1) + (s²_B/n_B)²/(n_B−1))`; two-sided
//!   `p = 2 P(T_ν > |t|)`; interval `d ± t_{1−α/2,ν} se`
//!   (scipy `ttest_ind(equal_var=False)` and its `confidence_interval`).
//! - Student: pooled `s²_p = ((n_A−1)s²_A + (n_B−1)s²_B)/(n_A+n_B−2)`,
//!   `se = s_p √(1/n_A + 1/n_B)`, `ν = n_A+n_B−2`.
//! - Relative lift `r = x̄_B/x̄_A − 1` with the delta-method variance
//!   `Var(r) ≈ s²_B/(n_B x̄_A²) + s²_A x̄_B²/(n_A x̄_A⁴)` and interval
//!   `r ± q √Var(r)`, `q` the same quantile as the absolute interval
//!   (GrowthBook's frequentist engine, `gbstats/frequentist/tests.py`).

use super::dist::{t_ppf, t_two_sided};
use super::{Moments, PValue, TestResult};

/// A t-test with its interval of the difference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TTest {
    /// Statistic, df and p-value.
    pub test: TestResult,
    /// `x̄_B − x̄_A`.
    pub difference: f64,
    /// Standard error of the difference.
    pub se: f64,
    /// The quantile used for the intervals.
    pub quantile: f64,
    /// Interval of the difference at `1 − α`.
    pub ci: [f64; 2],
}

fn finish(a: &Moments, b: &Moments, se: f64, df: f64, alpha: f64) -> TTest {
    let d = b.mean - a.mean;
    let t = if se > 0.0 { d / se } else { f64::NAN };
    let p = if t.is_finite() && df.is_finite() {
        t_two_sided(t, df)
    } else {
        PValue::NAN
    };
    let q = if df.is_finite() && df > 0.0 {
        t_ppf(1.0 - alpha / 2.0, df)
    } else {
        f64::NAN
    };
    TTest {
        test: TestResult {
            statistic: t,
            df: Some(df),
            p,
        },
        difference: d,
        se,
        quantile: q,
        ci: [d - q * se, d + q * se],
    }
}

/// Welch's t-test of `b` (variant) against `a` (control).
#[must_use]
pub fn welch(a: &Moments, b: &Moments, alpha: f64) -> TTest {
    let (va, vb) = (a.var() / a.nf(), b.var() / b.nf());
    let se2 = va + vb;
    let den = va * va / (a.nf() - 1.0) + vb * vb / (b.nf() - 1.0);
    let df = if den > 0.0 { se2 * se2 / den } else { f64::NAN };
    finish(a, b, se2.sqrt(), df, alpha)
}

/// Student's (pooled-variance) t-test of `b` against `a`.
#[must_use]
pub fn student(a: &Moments, b: &Moments, alpha: f64) -> TTest {
    let df = a.nf() + b.nf() - 2.0;
    if a.n < 2 || b.n < 2 {
        return finish(a, b, f64::NAN, f64::NAN, alpha);
    }
    let sp2 = (a.m2 + b.m2) / df;
    let se = (sp2 * (1.0 / a.nf() + 1.0 / b.nf())).sqrt();
    finish(a, b, se, df, alpha)
}

/// Relative lift `mean_b / mean_a − 1` and its delta-method interval with
/// quantile `q`; `None` when the control mean is 0.
#[must_use]
pub fn relative_lift(
    mean_a: f64,
    var_a: f64,
    n_a: f64,
    mean_b: f64,
    var_b: f64,
    n_b: f64,
    q: f64,
) -> Option<(f64, [f64; 2])> {
    if mean_a == 0.0 || !mean_a.is_finite() {
        return None;
    }
    let r = mean_b / mean_a - 1.0;
    let v = var_b / (n_b * mean_a * mean_a) + var_a * mean_b * mean_b / (n_a * mean_a.powi(4));
    let h = q * v.sqrt();
    Some((r, [r - h, r + h]))
}
