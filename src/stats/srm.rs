//! Sample ratio mismatch: Pearson's chi-square goodness of fit of the
//! observed arm sizes against the planned allocation,
//! `χ² = Σ (O_i − E_i)²/E_i`, `E_i = N w_i / Σw`, `k − 1` degrees of freedom
//! (`scipy.stats.chisquare(observed, expected)`). A p-value below 0.001
//! marks the experiment invalid, the threshold GrowthBook and most
//! experimentation platforms use (Fabijan et al., "Diagnosing Sample Ratio
//! Mismatch in Online Controlled Experiments", KDD 2019).

use super::PValue;
use super::dist::chi2_sf;

/// The p-value below which the split is declared mismatched.
pub const THRESHOLD: f64 = 0.001;

/// The goodness-of-fit result.
#[derive(Debug, Clone, PartialEq)]
pub struct Srm {
    /// The chi-square statistic.
    pub chi2: f64,
    /// Degrees of freedom, `k − 1`.
    pub df: f64,
    /// Its p-value.
    pub p: PValue,
    /// Each arm's expected count.
    pub expected: Vec<f64>,
    /// Each arm's contribution `(O − E)²/E`.
    pub contributions: Vec<f64>,
    /// `p < 0.001`.
    pub mismatch: bool,
}

/// Test `observed` counts against `weights` (any positive scale).
#[must_use]
pub fn srm(observed: &[u64], weights: &[f64]) -> Srm {
    #[allow(clippy::cast_precision_loss)]
    let n: f64 = observed.iter().map(|&o| o as f64).sum();
    let w: f64 = weights.iter().sum();
    let expected: Vec<f64> = weights.iter().map(|x| n * x / w).collect();
    #[allow(clippy::cast_precision_loss)]
    let contributions: Vec<f64> = observed
        .iter()
        .zip(&expected)
        .map(|(&o, &e)| (o as f64 - e).powi(2) / e)
        .collect();
    let chi2: f64 = contributions.iter().sum();
    #[allow(clippy::cast_precision_loss)]
    let df = (observed.len().max(1) - 1) as f64;
    let p = if df >= 1.0 && chi2.is_finite() {
        chi2_sf(chi2, df)
    } else {
        PValue::from_p(1.0)
    };
    Srm {
        chi2,
        df,
        mismatch: p.p < THRESHOLD,
        p,
        expected,
        contributions,
    }
}
