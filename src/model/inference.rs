//! Inference for a least-squares fit, as statsmodels' `OLS(...).fit()`
//! reports it: each coefficient's standard error, t statistic, two-sided
//! p-value and 95 % confidence interval, and the model's R², adjusted R², F
//! statistic and its p-value, log-likelihood, AIC and BIC; and for a GLM, as
//! `GLM(...).fit()` reports it: Wald z statistics and normal intervals,
//! deviance, Pearson chi², scale, log-likelihood, AIC and BIC
//! ([`glm`], the families' likelihoods in [`crate::model::likelihood`]).
//!
//! The input is the triangular factor `R` of the design the solver saw (so
//! `(XᵀX)⁻¹ = R⁻¹R⁻ᵀ` in its units) and, for each reported parameter, the
//! linear combination `g` of the solver's unknowns it is (`b = gᵀ x`), plus
//! any variance known apart from the factor (the intercept of a centred
//! design, `σ²/n`). Then `Var(b) = σ² (|R⁻ᵀ g|² + extra)`, one forward
//! substitution per parameter, never an explicit inverse.
//!
//! Conventions (statsmodels'): with an intercept, R² and F are about the
//! centred target and `df_model = p`; without one, about the uncentred
//! target (statsmodels' `k_constant = 0`); `df_resid = n − p − [intercept]`;
//! `σ² = RSS / df_resid`; `llf = −n/2 (ln 2π + ln(RSS/n) + 1)`,
//! `AIC = −2 llf + 2k`, `BIC = −2 llf + k ln n` with `k` the number of
//! parameters. For a GLM the factor is that of the IRLS-weighted design at
//! the fit, `Var(b) = φ |R⁻ᵀ g|²` with statsmodels' scale `φ` (1 for
//! Poisson, Pearson chi² / df_resid otherwise), and the tests are normal.

use indexmap::IndexMap;
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::model::likelihood::Family;
use crate::stats::dist;

/// A fit's statistics (artifact key `inference`): least squares (`t`
/// tests, R², F) or a GLM (`z` tests, deviance, Pearson chi², scale).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Inference {
    /// Training rows.
    pub rows: u64,
    /// Model degrees of freedom (slopes).
    pub df_model: f64,
    /// Residual degrees of freedom.
    pub df_resid: f64,
    /// Least squares: the residual standard error `sqrt(RSS / df_resid)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residual_std_error: Option<f64>,
    /// Least squares: R² of the training rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r2: Option<f64>,
    /// Least squares: adjusted R².
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adj_r2: Option<f64>,
    /// Least squares: F statistic of all slopes being zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f_statistic: Option<f64>,
    /// Least squares: its p-value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f_p_value: Option<f64>,
    /// GLM: the family (statsmodels' name for the Tweedie power).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// GLM: the scale (dispersion) the standard errors use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
    /// GLM: the deviance at the fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deviance: Option<f64>,
    /// GLM: Pearson's chi² at the fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pearson_chi2: Option<f64>,
    /// Log-likelihood at the fit; absent for a Tweedie power whose
    /// likelihood statsmodels does not define (outside 0, [1, 2] and 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_likelihood: Option<f64>,
    /// Akaike's information criterion (with the log-likelihood).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aic: Option<f64>,
    /// Bayesian information criterion (with the log-likelihood).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bic: Option<f64>,
    /// The intercept's statistics, when one was fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intercept: Option<Coefficient>,
    /// Each coefficient's statistics, by encoded name, in design order.
    pub coefficients: IndexMap<String, Coefficient>,
}

/// One parameter's statistics.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Coefficient {
    /// The estimate.
    pub estimate: f64,
    /// Its standard error.
    pub std_error: f64,
    /// Least squares: `estimate / std_error`, on Student's t.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t: Option<f64>,
    /// GLM: `estimate / std_error`, on the standard normal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z: Option<f64>,
    /// Two-sided p-value of t on `df_resid` degrees of freedom, or of z.
    pub p_value: f64,
    /// Lower end of the 95 % confidence interval.
    pub ci_low: f64,
    /// Upper end of the 95 % confidence interval.
    pub ci_high: f64,
}

/// One reported parameter: its value, its combination of the solver's
/// unknowns, and the variance (in units of σ²) known apart from the factor.
pub struct Parameter {
    /// The estimate.
    pub estimate: f64,
    /// `b = gᵀ x` over the solver's unknowns `x`.
    pub g: Vec<f64>,
    /// Added to `|R⁻ᵀ g|²`.
    pub extra: f64,
}

/// What the statistics are computed from.
pub struct LeastSquares<'a> {
    /// The upper-triangular factor of the solver's design (at least q × q,
    /// q = the number of unknowns).
    pub r: ArrayView2<'a, f64>,
    /// Residual sum of squares.
    pub rss: f64,
    /// Total sum of squares (centred with an intercept, else uncentred).
    pub tss: f64,
    /// Training rows.
    pub rows: u64,
    /// Whether an intercept was fitted.
    pub intercept: bool,
    /// The intercept, when fitted.
    pub intercept_param: Option<Parameter>,
    /// The coefficients, by encoded name.
    pub coefficients: Vec<(String, Parameter)>,
}

/// The statistics of a least-squares fit; `None` when they are undefined
/// (no residual degree of freedom, or a zero residual or total sum of squares).
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn least_squares(ls: &LeastSquares) -> Option<Inference> {
    let n = ls.rows as f64;
    let p = ls.coefficients.len() as f64;
    let k = p + f64::from(u8::from(ls.intercept));
    let df_resid = n - k;
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if df_resid <= 0.0 || !positive(ls.rss) || !positive(ls.tss) {
        return None;
    }
    let sigma2 = ls.rss / df_resid;
    let test = Test::T(df_resid);
    let (intercept, coefficients) =
        parameters(ls.r, &ls.intercept_param, &ls.coefficients, sigma2, test)?;
    let df_model = p;
    let r2 = 1.0 - ls.rss / ls.tss;
    let adj_r2 = 1.0 - (n - f64::from(u8::from(ls.intercept))) / df_resid * (1.0 - r2);
    let f_statistic = ((ls.tss - ls.rss) / df_model) / sigma2;
    let log_likelihood = -n / 2.0 * ((2.0 * std::f64::consts::PI).ln() + (ls.rss / n).ln() + 1.0);
    Some(Inference {
        rows: ls.rows,
        df_model,
        df_resid,
        residual_std_error: Some(sigma2.sqrt()),
        r2: Some(r2),
        adj_r2: Some(adj_r2),
        f_statistic: Some(f_statistic),
        f_p_value: Some(f_sf(f_statistic, df_model, df_resid)),
        family: None,
        scale: None,
        deviance: None,
        pearson_chi2: None,
        log_likelihood: Some(log_likelihood),
        aic: Some(-2.0 * log_likelihood + 2.0 * k),
        bic: Some(-2.0 * log_likelihood + k * n.ln()),
        intercept,
        coefficients,
    })
}

/// What a GLM's statistics are computed from.
pub struct GlmFit<'a> {
    /// The upper-triangular factor of the IRLS-weighted design at the fit
    /// (`sqrt(w) X`, `w = (dμ/dη)² / V(μ)`), over the solver's unknowns.
    pub r: ArrayView2<'a, f64>,
    /// The training targets.
    pub y: &'a [f64],
    /// The fitted means.
    pub mu: &'a [f64],
    /// The family.
    pub family: Family,
    /// Log link (else identity).
    pub log_link: bool,
    /// Whether an intercept was fitted.
    pub intercept: bool,
    /// The intercept, when fitted.
    pub intercept_param: Option<Parameter>,
    /// The coefficients, by encoded name.
    pub coefficients: Vec<(String, Parameter)>,
}

/// The statistics of an (unpenalised) GLM fit, as statsmodels' `GLM(...).fit()`
/// reports them; `None` when undefined (no residual degree of freedom, a
/// zero Pearson chi² where the scale is estimated, a singular factor).
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn glm(g: &GlmFit) -> Option<Inference> {
    let rows = g.y.len();
    let n = rows as f64;
    let k = (g.coefficients.len() + usize::from(g.intercept)) as f64;
    let df_resid = n - k;
    if df_resid <= 0.0 {
        return None;
    }
    let fam = g.family;
    let deviance = fam.deviance(g.y, g.mu);
    let pearson_chi2 = fam.pearson_chi2(g.y, g.mu);
    let scale = if fam.fixed_scale() {
        1.0
    } else {
        pearson_chi2 / df_resid
    };
    if !(scale.is_finite() && scale > 0.0 && deviance.is_finite()) {
        return None;
    }
    let (intercept, coefficients) =
        parameters(g.r, &g.intercept_param, &g.coefficients, scale, Test::Z)?;
    let log_likelihood = fam.log_likelihood(g.y, g.mu, scale, g.log_link);
    Some(Inference {
        rows: rows as u64,
        df_model: k - 1.0,
        df_resid,
        residual_std_error: None,
        r2: None,
        adj_r2: None,
        f_statistic: None,
        f_p_value: None,
        family: Some(fam.name().to_string()),
        scale: Some(scale),
        deviance: Some(deviance),
        pearson_chi2: Some(pearson_chi2),
        log_likelihood,
        aic: log_likelihood.map(|l| -2.0 * l + 2.0 * k),
        bic: log_likelihood.map(|l| -2.0 * l + k * n.ln()),
        intercept,
        coefficients,
    })
}

/// How a coefficient is tested: Student's t on these degrees of freedom, or
/// the standard normal.
#[derive(Clone, Copy)]
enum Test {
    T(f64),
    Z,
}

/// Each parameter's statistics, with variance `scale · (|R⁻ᵀ g|² + extra)`;
/// `None` on a zero pivot.
fn parameters(
    r: ArrayView2<f64>,
    intercept: &Option<Parameter>,
    named: &[(String, Parameter)],
    scale: f64,
    test: Test,
) -> Option<(Option<Coefficient>, IndexMap<String, Coefficient>)> {
    let q = match test {
        Test::T(df) => dist::t_ppf(0.975, df),
        Test::Z => dist::norm_ppf(0.975),
    };
    let coef = |prm: &Parameter| -> Option<Coefficient> {
        let w = forward(r, &prm.g)?;
        let var = scale * (w.iter().map(|v| v * v).sum::<f64>() + prm.extra);
        let se = var.sqrt();
        let stat = prm.estimate / se;
        let (t, z, p_value) = match test {
            Test::T(df) => (Some(stat), None, dist::t_two_sided(stat, df).p),
            Test::Z => (None, Some(stat), dist::norm_two_sided(stat).p),
        };
        Some(Coefficient {
            estimate: prm.estimate,
            std_error: se,
            t,
            z,
            p_value,
            ci_low: prm.estimate - q * se,
            ci_high: prm.estimate + q * se,
        })
    };
    let intercept = match intercept {
        Some(prm) => Some(coef(prm)?),
        None => None,
    };
    let mut coefficients = IndexMap::new();
    for (name, prm) in named {
        coefficients.insert(name.clone(), coef(prm)?);
    }
    Some((intercept, coefficients))
}

/// `w` with `Rᵀ w = g` (forward substitution on the lower triangle `Rᵀ`);
/// `None` on a zero pivot.
fn forward(r: ArrayView2<f64>, g: &[f64]) -> Option<Vec<f64>> {
    let q = g.len();
    let mut w = vec![0.0; q];
    for i in 0..q {
        let mut s = g[i];
        for (j, wj) in w.iter().enumerate().take(i) {
            s -= r[[j, i]] * wj;
        }
        let d = r[[i, i]];
        if d == 0.0 {
            return None;
        }
        w[i] = s / d;
    }
    Some(w)
}

/// `P(F_{d1,d2} > f) = I_{d2/(d2 + d1 f)}(d2/2, d1/2)`.
fn f_sf(f: f64, d1: f64, d2: f64) -> f64 {
    if !f.is_finite() || f <= 0.0 {
        return if f > 0.0 { 0.0 } else { 1.0 };
    }
    let x = d2 / (d2 + d1 * f);
    statrs::function::beta::beta_reg(d2 / 2.0, d1 / 2.0, x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn a_line_through_three_points() {
        // x = 0, 1, 2; y = 0, 1, 3: b = 1.5, a = -1/6, RSS = 1/6.
        // Uncentred design [1 x]: R of [[1,0],[1,1],[1,2]].
        let s3 = 3f64.sqrt();
        let r = array![[s3, s3], [0.0, 2f64.sqrt()]];
        let ls = LeastSquares {
            r: r.view(),
            rss: 1.0 / 6.0,
            tss: 14.0 / 3.0,
            rows: 3,
            intercept: true,
            intercept_param: Some(Parameter {
                estimate: -1.0 / 6.0,
                g: vec![1.0, 0.0],
                extra: 0.0,
            }),
            coefficients: vec![(
                "x".into(),
                Parameter {
                    estimate: 1.5,
                    g: vec![0.0, 1.0],
                    extra: 0.0,
                },
            )],
        };
        let inf = least_squares(&ls).unwrap();
        // Var(b) = σ² / Sxx = (1/6) / 2.
        let se = (1.0f64 / 12.0).sqrt();
        assert!((inf.coefficients["x"].std_error - se).abs() < 1e-14);
        // Var(a) = σ² (1/n + x̄²/Sxx) = (1/6)(1/3 + 1/2).
        let se0 = (5.0f64 / 36.0).sqrt();
        assert!((inf.intercept.unwrap().std_error - se0).abs() < 1e-14);
        assert!((inf.r2.unwrap() - (1.0 - 1.0 / 28.0)).abs() < 1e-14);
        // F = t² for one slope, and their p-values agree.
        let t = inf.coefficients["x"].t.unwrap();
        let f = inf.f_statistic.unwrap();
        assert!((f - t * t).abs() < 1e-9 * t * t);
        assert!((inf.f_p_value.unwrap() - inf.coefficients["x"].p_value).abs() < 1e-12);
        assert!(least_squares(&LeastSquares { rows: 2, ..ls }).is_none());
    }
}
