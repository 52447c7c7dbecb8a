//! Bayesian chance to win, `P(variant better than control)`: a posterior
//! probability, not `1 − p`.
//!
//! - Binary: with uniform Beta(1, 1) priors the rates have posteriors
//!   `Beta(α_A, β_A)`, `Beta(α_B, β_B)` (`α = x+1`, `β = n−x+1`), and
//!   `P(p_B > p_A) = Σ_{i=0}^{α_B−1} B(α_A+i, β_A+β_B) /
//!   ((β_B+i) B(1+i, β_B) B(α_A, β_A))` exactly (Evan Miller, "Formulas for
//!   Bayesian A/B testing", 2015; Cook 2005). Summed in logs over the smaller
//!   of `α_A`, `α_B` (by symmetry), so no Monte Carlo and no overflow.
//! - Continuous: the normal approximation of the posterior of the difference
//!   with a flat prior, `Φ(d / se)`, `se² = s²_A/n_A + s²_B/n_B`
//!   (GrowthBook's Bayesian engine without a prior).

use statrs::function::beta::ln_beta;

use super::dist::norm_cdf;
use super::proportions::Counts;

/// `P(p_B > p_A)` under Beta(1,1) priors.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn beta_binomial_win(a: Counts, b: Counts) -> f64 {
    let (aa, ba) = ((a.x + 1) as f64, (a.n.saturating_sub(a.x) + 1) as f64);
    let (ab, bb) = ((b.x + 1) as f64, (b.n.saturating_sub(b.x) + 1) as f64);
    if ab <= aa {
        miller(aa, ba, ab, bb)
    } else {
        1.0 - miller(ab, bb, aa, ba)
    }
}

/// Evan Miller's sum for `P(p_B > p_A)`, over `α_B` terms.
fn miller(aa: f64, ba: f64, ab: f64, bb: f64) -> f64 {
    let base = ln_beta(aa, ba);
    let mut total = 0.0;
    let mut i = 0.0;
    while i < ab {
        total += (ln_beta(aa + i, ba + bb) - (bb + i).ln() - ln_beta(1.0 + i, bb) - base).exp();
        i += 1.0;
    }
    total.clamp(0.0, 1.0)
}

/// `Φ(d / se)` for a continuous metric.
#[must_use]
pub fn normal_win(difference: f64, se: f64) -> f64 {
    // Zero spread in both arms carries no evidence about sampling noise:
    // undefined (NaN), as the test is.
    if se > 0.0 {
        norm_cdf(difference / se)
    } else {
        f64::NAN
    }
}
