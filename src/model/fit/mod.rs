//! Fitting: ordinary least squares and Tweedie GLMs through linfa-linear, on
//! a standardised design, with a rank check that refuses degenerate data.
//!
//! Why standardise: linfa-linear solves least squares with a Householder QR
//! (linfa-linalg). Centring every column (when there is an intercept) removes
//! the intercept's collinearity with the columns' means, and scaling each
//! column by a power of two near its root mean square (an exact operation in
//! binary floating point) leaves every column the same size. The fit is then
//! mapped back: `b_j = b'_j / s_j`, `b_0 = mean(y) - sum_j b_j * mean_j`. This
//! is what keeps the NIST StRD digits (see `tests/data/nist/`).
//!
//! Why a rank check: linfa-linear returns huge coefficients without complaint
//! when a column is a linear combination of others. We factor the
//! standardised design `Z = QR` (blockwise, see [`r_factor`]) and call column `j` dependent when
//! `|R_jj| / sqrt(n) < RANK_TOL`; since every column of `Z` has a root mean
//! square of about 1, `|R_jj| / sqrt(n)` is the (relative) distance of column
//! `j` from the span of the columns before it. The columns involved are those
//! with a non-negligible weight in that combination.

use linfa::prelude::*;
use linfa_linalg::qr::QRInto;
use linfa_linear::{LinearRegression, Link, TweedieRegressor};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, ShapeBuilder, s};

use crate::error::{Error, Result};

/// Relative distance from the span of the other columns below which a column
/// counts as dependent. Exactly collinear columns land near 1e-16; the worst
/// well-posed NIST problem (Filip, a degree-10 polynomial) has 6.1e-8.
pub const RANK_TOL: f64 = 1e-11;

/// What to fit.
#[derive(Debug, Clone, Copy)]
pub enum Estimator {
    /// Ordinary least squares.
    Linear,
    /// Tweedie GLM.
    Glm {
        /// Tweedie power.
        power: f64,
        /// Log link (else identity).
        log_link: bool,
        /// L2 penalty on the standardised coefficients.
        alpha: f64,
        /// Solver iterations.
        max_iter: u64,
    },
}

/// Fitted coefficients in the units of the design columns.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// Intercept (0 without one).
    pub intercept: f64,
    /// One coefficient per design column.
    pub coefficients: Vec<f64>,
}

/// Fit `y ~ x` (`x` is consumed: it is standardised in place). `names`
/// label the columns in errors.
#[allow(clippy::cast_precision_loss)]
pub fn fit(
    mut x: Array2<f64>,
    y: &Array1<f64>,
    names: &[String],
    intercept: bool,
    est: Estimator,
) -> Result<Fitted> {
    let (n, p) = x.dim();
    let needed = p + usize::from(intercept);
    if n < needed {
        return Err(Error::data(format!(
            "{n} training rows cannot determine {needed} coefficients; add rows or drop features"
        )));
    }
    let nf = n as f64;
    let mut means = vec![0.0; p];
    let mut scales = vec![1.0; p];
    for (j, mut col) in x.axis_iter_mut(Axis(1)).enumerate() {
        if intercept {
            let m = col.sum() / nf;
            col.mapv_inplace(|v| v - m);
            means[j] = m;
        }
        // The root mean square, scaled by the largest magnitude first so
        // that values near 1e300 do not overflow when squared.
        let big = col.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let rms = if big > 0.0 && big.is_finite() {
            big * (col.iter().map(|v| (v / big) * (v / big)).sum::<f64>() / nf).sqrt()
        } else {
            big
        };
        if rms == 0.0 || !rms.is_finite() {
            let what = if intercept {
                "is constant, so it duplicates the intercept"
            } else {
                "is all zeros"
            };
            return Err(Error::data(format!(
                "the design is rank deficient: column \"{}\" {what}; drop it from data.features",
                names[j]
            )));
        }
        // A power of two: scaling by it is exact.
        let s = 2f64.powi(rms.log2().round() as i32);
        col.mapv_inplace(|v| v / s);
        scales[j] = s;
    }
    let scaled = match est {
        Estimator::Linear => {
            // TSQR of [Z | y - mean(y)], then linfa-linear's QR least squares
            // on the p × p triangle: the same solution as on all n rows.
            let ym = if intercept { y.sum() / nf } else { 0.0 };
            let yc = y.mapv(|v| v - ym);
            let r = r_factor(x.view(), Some(yc.view()))?;
            check_rank(&r, n, names)?;
            let a = r.slice(s![..p, ..p]).to_owned();
            let b = r.slice(s![..p, p]).to_owned();
            let m = LinearRegression::new()
                .with_intercept(false)
                .fit(&Dataset::new(a, b))
                .map_err(|e| Error::data(format!("the least-squares fit failed: {e}")))?;
            (ym, m.params().to_vec())
        }
        Estimator::Glm {
            power,
            log_link,
            alpha,
            max_iter,
        } => {
            check_rank(&r_factor(x.view(), None)?, n, names)?;
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
            let start = (
                if intercept {
                    m.intercept * scale + shift
                } else {
                    0.0
                },
                m.coef
                    .iter()
                    .map(|b| b * scale / root_n)
                    .collect::<Vec<_>>(),
            );
            let glm = Glm {
                power,
                log_link,
                alpha,
                intercept,
            };
            glm.refine(x.view(), y, start, max_iter)?
        }
    };
    let coefficients: Vec<f64> = scaled.1.iter().zip(&scales).map(|(b, s)| b / s).collect();
    let shift: f64 = coefficients.iter().zip(&means).map(|(b, m)| b * m).sum();
    let intercept_value = if intercept { scaled.0 - shift } else { 0.0 };
    if coefficients.iter().any(|c| !c.is_finite()) || !intercept_value.is_finite() {
        return Err(Error::data(
            "the fit did not converge to finite coefficients; check the data for extreme values",
        ));
    }
    Ok(Fitted {
        intercept: intercept_value,
        coefficients,
    })
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

/// The R factor of `z = QR`, computed block by block (TSQR: the R of the
/// rows so far is stacked on the next block and factored again with
/// linfa-linalg's Householder QR), so the working set stays in cache and no
/// copy of `z` is made.
///
/// With `extra`, the factor is that of `[z | extra]`: its last column above
/// the diagonal is `Qᵀ extra`, and its corner is the residual norm.
pub fn r_factor(z: ArrayView2<f64>, extra: Option<ArrayView1<f64>>) -> Result<Array2<f64>> {
    let (n, pz) = z.dim();
    let p = pz + usize::from(extra.is_some());
    let block = (2 * p).max(4096);
    let mut r: Option<Array2<f64>> = None;
    let mut start = 0;
    while start < n {
        let end = (start + block).min(n);
        let top = r.as_ref().map_or(0, Array2::nrows);
        let mut m = Array2::<f64>::zeros((top + end - start, p).f());
        if let Some(r) = &r {
            m.slice_mut(s![..top, ..]).assign(r);
        }
        m.slice_mut(s![top.., ..pz])
            .assign(&z.slice(s![start..end, ..]));
        if let Some(e) = &extra {
            m.slice_mut(s![top.., pz]).assign(&e.slice(s![start..end]));
        }
        if m.nrows() < p {
            return Err(Error::data(format!(
                "{n} rows cannot determine {p} coefficients; add rows or drop features"
            )));
        }
        r = Some(
            m.qr_into()
                .map_err(|e| Error::data(format!("the QR factorisation failed: {e}")))?
                .into_r(),
        );
        start = end;
    }
    Ok(r.unwrap_or_else(|| Array2::zeros((p, p))))
}

/// A Tweedie GLM on a standardised design, for the Newton refinement.
struct Glm {
    power: f64,
    log_link: bool,
    alpha: f64,
    intercept: bool,
}

impl Glm {
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
        let (n, p) = x.dim();
        let k = p + usize::from(self.intercept);
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
        let Some(mut obj) = obj else {
            return Err(Error::data(
                "the GLM has no valid starting point: the target leaves the domain of the chosen power and link; pick another model.power or model.link",
            ));
        };
        let ridge = (n as f64 * self.alpha).sqrt();
        for _ in 0..max_iter.max(1) {
            let (eta, mu) = self.mean(x, b0, &beta);
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
            let r = r_factor(a.view(), Some(z.view()))?;
            let m = LinearRegression::new()
                .with_intercept(false)
                .fit(&Dataset::new(
                    r.slice(s![..k, ..k]).to_owned(),
                    r.slice(s![..k, k]).to_owned(),
                ))
                .map_err(|e| Error::data(format!("the GLM's Newton step failed: {e}")))?;
            let sol = m.params();
            let (nb0, nbeta) = if self.intercept {
                (sol[0], sol.iter().skip(1).copied().collect::<Vec<_>>())
            } else {
                (0.0, sol.to_vec())
            };
            // Step halving keeps the objective decreasing and in the domain.
            let mut step = 1.0;
            let mut accepted = None;
            for _ in 0..40 {
                let tb0 = b0 + step * (nb0 - b0);
                let tbeta: Vec<f64> = beta
                    .iter()
                    .zip(&nbeta)
                    .map(|(o, nw)| o + step * (nw - o))
                    .collect();
                let (_, tmu) = self.mean(x, tb0, &tbeta);
                if let Some(o) = self.objective(y, &tmu, &tbeta) {
                    // (a rounding-sized rise is allowed: near the optimum the
                    // objective is flat to working precision)
                    if o <= obj * (1.0 + 1e-12) {
                        accepted = Some((tb0, tbeta, o));
                        break;
                    }
                }
                step /= 2.0;
            }
            let Some((tb0, tbeta, o)) = accepted else {
                break; // no step improves: converged to the precision available
            };
            // Newton converges quadratically: stop when a full step moves no
            // (standardised) parameter by more than 1e-13 of the largest.
            let size = beta.iter().fold(b0.abs(), |m, b| m.max(b.abs())).max(1.0);
            let moved = beta
                .iter()
                .zip(&tbeta)
                .fold((b0 - tb0).abs(), |m, (a, b)| m.max((a - b).abs()));
            b0 = tb0;
            beta = tbeta;
            obj = o;
            if moved <= 1e-13 * size {
                break;
            }
        }
        Ok((b0, beta))
    }
}

/// Refuse a rank-deficient design, given the R factor (at least p × p) of
/// its standardised columns over `n` rows, naming the columns involved.
pub fn check_rank(r: &Array2<f64>, n: usize, names: &[String]) -> Result<()> {
    let p = names.len();
    #[allow(clippy::cast_precision_loss)]
    let root_n = (n as f64).sqrt();
    for j in 0..p {
        if r[[j, j]].abs() / root_n >= RANK_TOL {
            continue;
        }
        // Column j ≈ sum_i c_i z_i over i < j: solve R[..j,..j] c = R[..j, j].
        let mut c = vec![0.0; j];
        for i in (0..j).rev() {
            let mut s = r[[i, j]];
            for k in i + 1..j {
                s -= r[[i, k]] * c[k];
            }
            c[i] = if r[[i, i]] == 0.0 { 0.0 } else { s / r[[i, i]] };
        }
        let mut involved: Vec<&str> = c
            .iter()
            .enumerate()
            .filter(|(_, v)| v.abs() > 1e-8)
            .map(|(i, _)| names[i].as_str())
            .collect();
        involved.push(names[j].as_str());
        let list = involved
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let what = if involved.len() == 2 {
            "duplicate each other (up to scale and shift)"
        } else {
            "are exactly collinear"
        };
        return Err(Error::data(format!(
            "the design is rank deficient: columns {list} {what}; drop one of them from data.features"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn names(k: usize) -> Vec<String> {
        ["a", "b", "c", "d"][..k]
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn exact_line() {
        let x = array![[1.0], [2.0], [3.0], [4.0]];
        let y = array![3.0, 5.0, 7.0, 9.0];
        let f = fit(x, &y, &names(1), true, Estimator::Linear).unwrap();
        assert!((f.intercept - 1.0).abs() < 1e-12);
        assert!((f.coefficients[0] - 2.0).abs() < 1e-12);
    }

    #[test]
    fn huge_values_do_not_overflow_the_scaling() {
        let x = array![[1e300], [2e300], [3e300], [5e300]];
        let y = array![1.0, 2.0, 3.1, 5.0];
        let f = fit(x, &y, &names(1), true, Estimator::Linear).unwrap();
        assert!(f.coefficients[0].is_finite() && f.coefficients[0] > 0.0);
    }

    #[track_caller]
    fn deficient(x: Array2<f64>, intercept: bool, expected: &str) {
        let y = Array1::from_iter((0..x.nrows()).map(|i| (i * i) as f64));
        let k = x.ncols();
        let e = fit(x, &y, &names(k), intercept, Estimator::Linear).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains(expected), "{e}");
    }

    #[test]
    fn rank_deficiency_names_columns() {
        deficient(
            array![[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [5.0, 10.0]],
            true,
            "columns \"a\", \"b\" duplicate each other",
        );
        deficient(
            array![[1.0, 7.0], [2.0, 7.0], [3.0, 7.0], [5.0, 7.0]],
            true,
            "column \"b\" is constant",
        );
        deficient(
            array![
                [1.0, 0.5, 1.5, 9.0],
                [2.0, 1.0, 3.0, 1.0],
                [3.0, 4.0, 7.0, 2.0],
                [5.0, 1.0, 6.0, 3.0],
                [1.0, 1.0, 2.0, 5.0]
            ],
            true,
            "columns \"a\", \"b\", \"c\" are exactly collinear",
        );
        deficient(array![[1.0]], true, "cannot determine");
    }
}
