//! Tweedie GLMs on the standardised design: linfa-linear's L-BFGS fit as
//! the start, then Newton steps (iteratively reweighted least squares, with
//! step halving) to the precision of a Newton solver.

use linfa::prelude::*;
use linfa_linear::{LinearRegression, Link, TweedieRegressor};
use ndarray::{Array1, Array2, ArrayView2, ShapeBuilder, s};

use crate::error::{Error, Result};

use super::qr::{check_rank, r_factor};

/// A Tweedie GLM on a standardised design, for the Newton refinement.
pub(super) struct Glm {
    /// Tweedie power.
    pub(super) power: f64,
    /// Log link (else identity).
    pub(super) log_link: bool,
    /// L2 penalty on the standardised coefficients.
    pub(super) alpha: f64,
    /// Fit an intercept.
    pub(super) intercept: bool,
}

/// A point of the Newton iteration: the parameters and their objective.
struct Iterate {
    /// The intercept.
    b0: f64,
    /// The standardised coefficients.
    beta: Vec<f64>,
    /// The objective there.
    objective: f64,
}

impl Glm {
    /// Fit the standardised design `x`: the intercept and the standardised
    /// coefficients. `names` label the columns in errors.
    pub(super) fn fit(
        &self,
        x: &Array2<f64>,
        y: &Array1<f64>,
        names: &[String],
        max_iter: u64,
    ) -> Result<(f64, Vec<f64>)> {
        let n = x.nrows();
        check_rank(&r_factor(x.view(), None)?, n, names)?;
        let start = self.lbfgs_start(x, y, max_iter)?;
        self.refine(x.view(), y, start, max_iter)
    }

    /// The triangular factor of the IRLS-weighted design `sqrt(w) [1 | x]`
    /// at `(b0, beta)` (whose `RᵀR` is the Fisher information statsmodels'
    /// IRLS inverts for the covariance), and the fitted means.
    pub(super) fn weighted_factor(
        &self,
        x: ArrayView2<f64>,
        y: &Array1<f64>,
        b0: f64,
        beta: &[f64],
    ) -> Result<(Array2<f64>, Array1<f64>)> {
        let (a, _) = self.working_problem(x, y, b0, beta, 0.0);
        let r = r_factor(a.view(), None)?;
        let (_, mu) = self.mean(x, b0, beta);
        Ok((r, mu))
    }

    /// linfa-linear's L-BFGS fit, mapped to the standardised design's units.
    #[allow(clippy::cast_precision_loss)]
    fn lbfgs_start(
        &self,
        x: &Array2<f64>,
        y: &Array1<f64>,
        max_iter: u64,
    ) -> Result<(f64, Vec<f64>)> {
        let (power, log_link, alpha, intercept) =
            (self.power, self.log_link, self.alpha, self.intercept);
        let nf = x.nrows() as f64;
        // With a log link, fit y / c for c = mean(y): the slopes are the
        // same and the intercept shifts by ln(c), while the solver starts
        // near the optimum and its tolerance is relative to a unit-sized
        // deviance.
        let ymean = y.sum() / nf;
        if log_link && ymean <= 0.0 {
            return Err(Error::data(format!(
                "a GLM with a log link models a positive mean, but the target's mean is {ymean}; use model.link = \"identity\" or a positive target"
            )));
        }
        let c = if log_link { ymean } else { 1.0 };
        // Columns scaled by 1/sqrt(n) make the Hessian of linfa's summed
        // deviance O(1), which L-BFGS's unit first step needs; the penalty
        // then acts as scikit-learn's `alpha` on standardised features.
        let root_n = nf.sqrt();
        let ds = Dataset::new(x.mapv(|v| v / root_n), y.mapv(|v| v / c));
        let link = if log_link { Link::Log } else { Link::Identity };
        let m = TweedieRegressor::params()
            .power(power)
            .link(link)
            .alpha(alpha)
            .max_iter(usize::try_from(max_iter.min(100)).unwrap_or(100))
            .tol(1e-8)
            .fit_intercept(intercept)
            .fit(&ds)
            .map_err(|e| glm_error(&e, power))?;
        let shift = if log_link { c.ln() } else { 0.0 };
        let scale = if log_link { 1.0 } else { c };
        Ok((
            if intercept {
                m.intercept * scale + shift
            } else {
                0.0
            },
            m.coef
                .iter()
                .map(|b| b * scale / root_n)
                .collect::<Vec<_>>(),
        ))
    }

    /// `sum(unit deviance) + n·alpha·|beta|²`, proportional to
    /// scikit-learn's objective; `None` where the mean leaves its domain.
    #[allow(clippy::cast_precision_loss)]
    fn objective(&self, y: &Array1<f64>, mu: &Array1<f64>, beta: &[f64]) -> Option<f64> {
        if self.power > 0.0 && mu.iter().any(|&m| m <= 0.0 || !m.is_finite()) {
            return None;
        }
        let n = y.len() as f64;
        let dev =
            crate::model::metrics::mean_tweedie_deviance(y.as_slice()?, mu.as_slice()?, self.power)
                * n;
        let pen = n * self.alpha * beta.iter().map(|b| b * b).sum::<f64>();
        let v = dev + pen;
        v.is_finite().then_some(v)
    }

    fn mean(&self, x: ArrayView2<f64>, b0: f64, beta: &[f64]) -> (Array1<f64>, Array1<f64>) {
        let eta = x.dot(&ndarray::ArrayView1::from(beta)) + b0;
        let mu = if self.log_link {
            eta.mapv(f64::exp)
        } else {
            eta.clone()
        };
        (eta, mu)
    }

    /// Newton steps (iteratively reweighted least squares, with step
    /// halving) from `start` until the objective stops changing: the
    /// weighted least-squares problem of each step is factored with TSQR and
    /// solved by linfa-linear's OLS. This takes L-BFGS's answer to the
    /// precision of a Newton solver (statsmodels' GLM, R's glm.fit), and
    /// repairs its answer where it stalls (linfa-linear 0.8's Poisson
    /// deviance omits a factor 2 that its gradient has, so its line search
    /// fails early).
    #[allow(clippy::cast_precision_loss)]
    fn refine(
        &self,
        x: ArrayView2<f64>,
        y: &Array1<f64>,
        start: (f64, Vec<f64>),
        max_iter: u64,
    ) -> Result<(f64, Vec<f64>)> {
        let n = x.nrows();
        let mut at = self.starting_point(x, y, start)?;
        let ridge = (n as f64 * self.alpha).sqrt();
        for _ in 0..max_iter.max(1) {
            let (nb0, nbeta) = self.newton_solution(x, y, at.b0, &at.beta, ridge)?;
            let Some(next) = self.halve_step(x, y, &at, nb0, &nbeta) else {
                break; // no step improves: converged to the precision available
            };
            // Newton converges quadratically: stop when a full step moves no
            // (standardised) parameter by more than 1e-13 of the largest.
            let (b0, beta) = (at.b0, &at.beta);
            let size = beta.iter().fold(b0.abs(), |m, b| m.max(b.abs())).max(1.0);
            let moved = beta
                .iter()
                .zip(&next.beta)
                .fold((b0 - next.b0).abs(), |m, (a, b)| m.max((a - b).abs()));
            at = next;
            if moved <= 1e-13 * size {
                break;
            }
        }
        Ok((at.b0, at.beta))
    }

    /// `start`, or the mean when L-BFGS ended outside the domain.
    #[allow(clippy::cast_precision_loss)]
    fn starting_point(
        &self,
        x: ArrayView2<f64>,
        y: &Array1<f64>,
        start: (f64, Vec<f64>),
    ) -> Result<Iterate> {
        let (n, p) = x.dim();
        let (mut b0, mut beta) = start;
        let (_, mu) = self.mean(x, b0, &beta);
        let mut obj = self.objective(y, &mu, &beta);
        if obj.is_none() {
            // L-BFGS ended outside the domain: start from the mean.
            let ym = y.sum() / n as f64;
            b0 = if self.log_link { ym.ln() } else { ym };
            beta = vec![0.0; p];
            let (_, mu) = self.mean(x, b0, &beta);
            obj = self.objective(y, &mu, &beta);
        }
        let Some(objective) = obj else {
            return Err(Error::data(
                "the GLM has no valid starting point: the target leaves the domain of the chosen power and link; pick another model.power or model.link",
            ));
        };
        Ok(Iterate {
            b0,
            beta,
            objective,
        })
    }

    /// The solution of the weighted least-squares problem of a Newton step
    /// from `(b0, beta)`: the intercept and the coefficients.
    fn newton_solution(
        &self,
        x: ArrayView2<f64>,
        y: &Array1<f64>,
        b0: f64,
        beta: &[f64],
        ridge: f64,
    ) -> Result<(f64, Vec<f64>)> {
        let k = x.ncols() + usize::from(self.intercept);
        let (a, z) = self.working_problem(x, y, b0, beta, ridge);
        let r = r_factor(a.view(), Some(z.view()))?;
        let m = LinearRegression::new()
            .with_intercept(false)
            .fit(&Dataset::new(
                r.slice(s![..k, ..k]).to_owned(),
                r.slice(s![..k, k]).to_owned(),
            ))
            .map_err(|e| Error::data(format!("the GLM's Newton step failed: {e}")))?;
        let sol = m.params();
        Ok(if self.intercept {
            (sol[0], sol.iter().skip(1).copied().collect::<Vec<_>>())
        } else {
            (0.0, sol.to_vec())
        })
    }

    /// The weighted design and working response of a Newton step from
    /// `(b0, beta)`, with the ridge rows of the penalty below.
    fn working_problem(
        &self,
        x: ArrayView2<f64>,
        y: &Array1<f64>,
        b0: f64,
        beta: &[f64],
        ridge: f64,
    ) -> (Array2<f64>, Array1<f64>) {
        let (n, p) = x.dim();
        let k = p + usize::from(self.intercept);
        let (eta, mu) = self.mean(x, b0, beta);
        // Working weights and response.
        let mut a = Array2::<f64>::zeros((n + if ridge > 0.0 { p } else { 0 }, k).f());
        let mut z = Array1::<f64>::zeros(a.nrows());
        for i in 0..n {
            let (g, v) = if self.log_link {
                (mu[i], mu[i].powf(self.power))
            } else {
                (1.0, mu[i].powf(self.power))
            };
            let sw = (g * g / v).sqrt();
            z[i] = sw * (eta[i] + (y[i] - mu[i]) / g);
            let mut c = 0;
            if self.intercept {
                a[[i, 0]] = sw;
                c = 1;
            }
            for j in 0..p {
                a[[i, c + j]] = sw * x[[i, j]];
            }
        }
        if ridge > 0.0 {
            for j in 0..p {
                a[[n + j, usize::from(self.intercept) + j]] = ridge;
            }
        }
        (a, z)
    }

    /// The first of the steps `1, 1/2, 1/4, …` (at most 40) from `at`
    /// towards `(nb0, nbeta)` that keeps the objective decreasing and in the
    /// domain; `None` when none does.
    fn halve_step(
        &self,
        x: ArrayView2<f64>,
        y: &Array1<f64>,
        at: &Iterate,
        nb0: f64,
        nbeta: &[f64],
    ) -> Option<Iterate> {
        let (b0, beta, obj) = (at.b0, &at.beta, at.objective);
        // Step halving keeps the objective decreasing and in the domain.
        let mut step = 1.0;
        for _ in 0..40 {
            let tb0 = b0 + step * (nb0 - b0);
            let tbeta: Vec<f64> = beta
                .iter()
                .zip(nbeta)
                .map(|(o, nw)| o + step * (nw - o))
                .collect();
            let (_, tmu) = self.mean(x, tb0, &tbeta);
            if let Some(o) = self.objective(y, &tmu, &tbeta) {
                // (a rounding-sized rise is allowed: near the optimum the
                // objective is flat to working precision)
                if o <= obj * (1.0 + 1e-12) {
                    return Some(Iterate {
                        b0: tb0,
                        beta: tbeta,
                        objective: o,
                    });
                }
            }
            step /= 2.0;
        }
        None
    }
}

fn glm_error(e: &linfa_linear::LinearError<f64>, power: f64) -> Error {
    match e {
        linfa_linear::LinearError::InvalidTargetRange(_) => {
            let need = if power >= 2.0 {
                "positive"
            } else {
                "non-negative"
            };
            Error::data(format!(
                "a GLM with Tweedie power {power} needs a {need} target, and some target values are not; pick another model.power or transform the target"
            ))
        }
        other => Error::data(format!("the GLM fit failed: {other}")),
    }
}
