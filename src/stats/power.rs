//! Power of a two-sample comparison (normal approximation; Cohen 1988,
//! ch. 2; the same formula as GrowthBook's power calculator).
//!
//! - Minimum detectable effect at the current sizes:
//!   `δ = (z_{1−α/2} + z_{power}) √(σ²_A/n_A + σ²_B/n_B)`, reported absolute
//!   and relative to the control mean.
//! - Units per arm for a relative effect `m` (equal arms):
//!   `n = (z_{1−α/2} + z_{power})² (σ²_A + σ²_B) / (m μ_A)²`, with
//!   `σ²_B = σ²_A` for a continuous metric and `σ² = p(1−p)` with
//!   `p_B = p_A(1+m)` for a binary one.

use super::dist::norm_ppf;

/// The power used throughout.
pub const POWER: f64 = 0.8;

/// `z_{1−α/2} + z_{power}`.
#[must_use]
pub fn z_sum(alpha: f64, power: f64) -> f64 {
    norm_ppf(1.0 - alpha / 2.0) + norm_ppf(power)
}

/// Absolute MDE for a standard error `se` of the difference.
#[must_use]
pub fn mde(se: f64, alpha: f64, power: f64) -> f64 {
    z_sum(alpha, power) * se
}

/// Units per arm to detect a relative effect `rel` on a control with mean
/// `mu` and variance `var_a`, the variant's variance `var_b`.
#[must_use]
pub fn units_per_arm(mu: f64, var_a: f64, var_b: f64, rel: f64, alpha: f64, power: f64) -> f64 {
    let delta = rel * mu;
    if delta == 0.0 || !delta.is_finite() {
        return f64::NAN;
    }
    let z = z_sum(alpha, power);
    (z * z * (var_a + var_b) / (delta * delta)).ceil()
}
