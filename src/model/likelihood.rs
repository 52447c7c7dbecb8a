//! The exponential families behind `kind = "glm"`, as statsmodels' GLM
//! defines them: which family a Tweedie power is, its variance function,
//! deviance, Pearson chi² and log-likelihood at a given scale.
//!
//! The log-likelihoods are statsmodels' `loglike_obs` summed: Gaussian (with
//! the identity link the concentrated one, scale `RSS / n`), Poisson (with
//! `ln Γ(y + 1)`, also for non-integer targets), Gamma, inverse Gaussian,
//! and Tweedie with `1 < p < 2` by Dunn and Smyth's series (the Wright
//! Bessel function `Φ(−α, 0, x)`, summed in logs outward from its largest
//! term). Other Tweedie powers have none (statsmodels returns NaN).

use statrs::function::gamma::ln_gamma;

use crate::model::metrics::mean_tweedie_deviance;

/// A GLM family: the Tweedie power, named as statsmodels names it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Family {
    /// Power 0.
    Gaussian,
    /// Power 1.
    Poisson,
    /// Power 2.
    Gamma,
    /// Power 3.
    InverseGaussian,
    /// Any other power.
    Tweedie(f64),
}

impl Family {
    /// The family of Tweedie power `p`.
    #[must_use]
    pub fn of_power(p: f64) -> Family {
        match p {
            0.0 => Family::Gaussian,
            1.0 => Family::Poisson,
            2.0 => Family::Gamma,
            3.0 => Family::InverseGaussian,
            _ => Family::Tweedie(p),
        }
    }

    /// Its name in the artifact.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Family::Gaussian => "gaussian",
            Family::Poisson => "poisson",
            Family::Gamma => "gamma",
            Family::InverseGaussian => "inverse_gaussian",
            Family::Tweedie(_) => "tweedie",
        }
    }

    /// The variance power.
    #[must_use]
    pub fn power(self) -> f64 {
        match self {
            Family::Gaussian => 0.0,
            Family::Poisson => 1.0,
            Family::Gamma => 2.0,
            Family::InverseGaussian => 3.0,
            Family::Tweedie(p) => p,
        }
    }

    /// Whether the scale is fixed at 1 (statsmodels: Poisson); else it is
    /// estimated as Pearson chi² / df_resid.
    #[must_use]
    pub fn fixed_scale(self) -> bool {
        self == Family::Poisson
    }

    /// The deviance `Σ d(y, μ)`.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn deviance(self, y: &[f64], mu: &[f64]) -> f64 {
        if self == Family::InverseGaussian {
            // (y − μ)² / (y μ²): no cancellation between large terms.
            return y
                .iter()
                .zip(mu)
                .map(|(y, m)| (y - m) * (y - m) / (y * m * m))
                .sum();
        }
        mean_tweedie_deviance(y, mu, self.power()) * y.len() as f64
    }

    /// Pearson's chi² `Σ (y − μ)² / V(μ)`.
    #[must_use]
    pub fn pearson_chi2(self, y: &[f64], mu: &[f64]) -> f64 {
        let p = self.power();
        y.iter()
            .zip(mu)
            .map(|(y, m)| {
                let v = if p == 0.0 { 1.0 } else { m.powf(p) };
                (y - m) * (y - m) / v
            })
            .sum()
    }

    /// The log-likelihood at `scale` (statsmodels' `llf`: with the Gaussian
    /// family and identity link, the concentrated one); `None` where
    /// statsmodels defines none.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn log_likelihood(self, y: &[f64], mu: &[f64], scale: f64, log_link: bool) -> Option<f64> {
        let pairs = y.iter().zip(mu).map(|(&y, &m)| (y, m));
        let ln2pi = (2.0 * std::f64::consts::PI).ln();
        let v: f64 = match self {
            Family::Gaussian => {
                let phi = if log_link {
                    scale
                } else {
                    pairs.clone().map(|(y, m)| (y - m) * (y - m)).sum::<f64>() / y.len() as f64
                };
                pairs
                    .map(|(y, m)| -((y - m) * (y - m) / phi + phi.ln() + ln2pi) / 2.0)
                    .sum()
            }
            Family::Poisson => pairs
                .map(|(y, m)| (y * m.ln() - m - ln_gamma(y + 1.0)) / scale)
                .sum(),
            Family::Gamma => {
                let ws = 1.0 / scale;
                pairs
                    .map(|(y, m)| ws * (ws * y / m).ln() - ws * y / m - ln_gamma(ws) - y.ln())
                    .sum()
            }
            Family::InverseGaussian => pairs
                .map(|(y, m)| {
                    -((y - m) * (y - m) / (scale * y * m * m) + (scale * y.powi(3)).ln() + ln2pi)
                        / 2.0
                })
                .sum(),
            Family::Tweedie(p) if p > 1.0 && p < 2.0 => {
                pairs.map(|(y, m)| tweedie_obs(y, m, p, scale)).sum()
            }
            Family::Tweedie(_) => return None,
        };
        v.is_finite().then_some(v)
    }
}

/// One observation's Tweedie log-likelihood for `1 < p < 2` (statsmodels'
/// `Tweedie.loglike_obs` with `eql = False`).
fn tweedie_obs(y: f64, mu: f64, p: f64, phi: f64) -> f64 {
    let theta = mu.powf(1.0 - p) / (1.0 - p);
    let kappa = mu.powf(2.0 - p) / (2.0 - p);
    let alpha = (2.0 - p) / (1.0 - p);
    let mut ll = (y * theta - kappa) / phi;
    if y > 0.0 {
        let x = ((p - 1.0) * phi / y).powf(alpha) / ((2.0 - p) * phi);
        ll += -y.ln() + ln_wright_bessel0(-alpha, x);
    }
    ll
}

/// `ln Φ(a, 0, x)` for `a > 0`, `x > 0`, where
/// `Φ(a, 0, x) = Σ_{k≥1} x^k / (k! Γ(a k))`: the log-terms are summed
/// outward from the largest until they fall 40 below it.
#[allow(clippy::cast_precision_loss)]
fn ln_wright_bessel0(a: f64, x: f64) -> f64 {
    let lx = x.ln();
    let term = |k: f64| k * lx - ln_gamma(k + 1.0) - ln_gamma(a * k);
    // The largest term is near ln x = ln k + a ln(a k).
    let peak = ((lx - a * a.ln()) / (1.0 + a)).exp().round().max(1.0);
    let top = term(peak);
    let mut sum = 1.0; // the peak, as exp(term − top)
    let mut k = peak + 1.0;
    loop {
        let t = term(k) - top;
        sum += t.exp();
        if t < -40.0 {
            break;
        }
        k += 1.0;
    }
    let mut k = peak - 1.0;
    while k >= 1.0 {
        let t = term(k) - top;
        sum += t.exp();
        if t < -40.0 {
            break;
        }
        k -= 1.0;
    }
    top + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wright_bessel_matches_scipy() {
        // scipy.special.log_wright_bessel(1.0, 0, 3.5e5) and (0.5, 0, 20.0)
        for (a, x, want) in [
            (1.0, 3.5e5, 1_185.141_549_537_931_7),
            (0.5, 20.0, 13.539_574_862_404_514),
        ] {
            let got = ln_wright_bessel0(a, x);
            assert!(
                ((got - want) / want).abs() < 1e-12,
                "{a} {x}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn families_and_scales() {
        assert_eq!(Family::of_power(1.0), Family::Poisson);
        assert_eq!(Family::of_power(1.5).name(), "tweedie");
        assert!(Family::Poisson.fixed_scale() && !Family::Gamma.fixed_scale());
        let (y, mu) = ([1.0, 2.0, 4.0], [1.5, 2.0, 3.0]);
        // Pearson for Gamma: 0.25/2.25 + 0 + 1/9.
        let want = 0.25 / 2.25 + 1.0 / 9.0;
        assert!((Family::Gamma.pearson_chi2(&y, &mu) - want).abs() < 1e-15);
        assert!(
            Family::Tweedie(2.5)
                .log_likelihood(&y, &mu, 1.0, true)
                .is_none()
        );
    }
}
