//! Fitting: ordinary least squares and Tweedie GLMs through linfa-linear, and
//! logistic / multinomial classifiers by Newton's method (`classifier`,
//! `logistic`, `softmax`), on a standardised design, with a rank check that refuses degenerate data.
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
use linfa_linear::LinearRegression;
use ndarray::{Array1, Array2, ArrayView2, s};

use crate::error::{Error, Result};

mod binary;
mod classifier;
mod glm;
pub mod logistic;
pub(crate) mod qr;
mod sample;
pub mod softmax;
mod standardise;
mod streamed;

pub use classifier::{ClassFit, ClassifierSpec, fit_classifier, from_counts, unscale_classes};
pub use qr::{RANK_TOL, check_rank, r_factor};
pub use sample::Sample;
pub use streamed::{Block, InOrder, Prepared, Replay, fit_classifier_streamed};

use crate::model::inference::{self, Parameter};
use crate::model::likelihood::Family;
use glm::Glm;
use standardise::Standardised;

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
    /// Least squares and unpenalised GLMs: the coefficients' standard
    /// errors, tests and intervals and the model's statistics
    /// ([`crate::model::inference`]).
    pub inference: Option<Box<crate::model::inference::Inference>>,
}

/// Fit `y ~ x` (`x` is consumed: it is standardised in place). `names`
/// label the columns in errors.
pub fn fit(
    x: Array2<f64>,
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
    let Standardised { x, means, scales } = standardise::standardise(x, names, intercept)?;
    let mut parts = None;
    let mut glm_parts = None;
    let scaled = match est {
        Estimator::Linear => {
            let (b0, b, p) = least_squares(x.view(), y, names, intercept)?;
            parts = Some(p);
            (b0, b)
        }
        Estimator::Glm {
            power,
            log_link,
            alpha,
            max_iter,
        } => {
            let glm = Glm {
                power,
                log_link,
                alpha,
                intercept,
            };
            let (b0, beta) = glm.fit(&x, y, names, max_iter)?;
            // Wald statistics are those of the unpenalised likelihood.
            if alpha == 0.0 {
                let (r, mu) = glm.weighted_factor(x.view(), y, b0, &beta)?;
                glm_parts = Some((r, mu, Family::of_power(power), log_link));
            }
            (b0, beta)
        }
    };
    let mut fitted = unscale(scaled, &means, &scales, intercept)?;
    let ms = (means.as_slice(), scales.as_slice());
    if let Some(p) = parts {
        let (intercept_param, coefficients) =
            parameters(&fitted, ms, names, intercept, false, 1.0 / p.rows as f64);
        let ls = inference::LeastSquares {
            r: p.r.view(),
            rss: p.rss,
            tss: p.tss,
            rows: p.rows as u64,
            intercept,
            intercept_param,
            coefficients,
        };
        fitted.inference = inference::least_squares(&ls).map(Box::new);
    }
    if let (Some((r, mu, family, log_link)), Some(ys)) = (glm_parts, y.as_slice()) {
        let (intercept_param, coefficients) = parameters(&fitted, ms, names, intercept, true, 0.0);
        let g = inference::GlmFit {
            r: r.view(),
            y: ys,
            mu: mu.as_slice().unwrap_or_default(),
            family,
            log_link,
            intercept,
            intercept_param,
            coefficients,
        };
        fitted.inference = inference::glm(&g).map(Box::new);
    }
    Ok(fitted)
}

/// What least squares leaves for inference: the factor of the standardised
/// design and the sums of squares.
struct LsParts {
    /// The p × p factor of the standardised design.
    r: Array2<f64>,
    /// Residual sum of squares.
    rss: f64,
    /// Total sum of squares (of the centred target with an intercept).
    tss: f64,
    /// Rows.
    rows: usize,
}

/// Each reported parameter as a combination of the solver's unknowns on the
/// standardised design: `b_j = b'_j / s_j`, and
/// `b_0 = b'_0 − Σ m_j b'_j / s_j`, where `b'_0` is the solver's first
/// unknown (`lead`, a GLM) or, for centred least squares, the target's
/// mean, uncorrelated with the slopes (variance σ²/n: `extra`).
fn parameters(
    fitted: &Fitted,
    (means, scales): (&[f64], &[f64]),
    names: &[String],
    intercept: bool,
    lead: bool,
    extra: f64,
) -> (Option<Parameter>, Vec<(String, Parameter)>) {
    let off = usize::from(lead && intercept);
    let k = scales.len() + off;
    let unit = |j: usize| -> Vec<f64> {
        let mut g = vec![0.0; k];
        g[off + j] = 1.0 / scales[j];
        g
    };
    let intercept_param = intercept.then(|| Parameter {
        estimate: fitted.intercept,
        g: (0..off)
            .map(|_| 1.0)
            .chain(means.iter().zip(scales).map(|(m, s)| -m / s))
            .collect(),
        extra,
    });
    let coefficients = names
        .iter()
        .zip(&fitted.coefficients)
        .enumerate()
        .map(|(j, (name, b))| {
            (
                name.clone(),
                Parameter {
                    estimate: *b,
                    g: unit(j),
                    extra: 0.0,
                },
            )
        })
        .collect();
    (intercept_param, coefficients)
}

/// Ordinary least squares on the standardised design `x`: the intercept
/// and the standardised coefficients.
#[allow(clippy::cast_precision_loss)]
fn least_squares(
    x: ArrayView2<f64>,
    y: &Array1<f64>,
    names: &[String],
    intercept: bool,
) -> Result<(f64, Vec<f64>, LsParts)> {
    let (n, p) = x.dim();
    let nf = n as f64;
    // TSQR of [Z | y - mean(y)], then linfa-linear's QR least squares
    // on the p × p triangle: the same solution as on all n rows.
    let ym = if intercept { y.sum() / nf } else { 0.0 };
    let yc = y.mapv(|v| v - ym);
    let r = r_factor(x, Some(yc.view()))?;
    check_rank(&r, n, names)?;
    let a = r.slice(s![..p, ..p]).to_owned();
    let a_factor = a.clone();
    let b = r.slice(s![..p, p]).to_owned();
    let m = LinearRegression::new()
        .with_intercept(false)
        .fit(&Dataset::new(a, b))
        .map_err(|e| Error::data(format!("the least-squares fit failed: {e}")))?;
    let parts = LsParts {
        r: a_factor,
        rss: r[[p, p]] * r[[p, p]],
        tss: yc.iter().map(|v| v * v).sum(),
        rows: n,
    };
    Ok((ym, m.params().to_vec(), parts))
}

/// The fit in the units of the design columns: `b_j = b'_j / s_j`,
/// `b_0 = b'_0 - sum_j b_j * mean_j`; an error unless all are finite.
fn unscale(
    scaled: (f64, Vec<f64>),
    means: &[f64],
    scales: &[f64],
    intercept: bool,
) -> Result<Fitted> {
    let coefficients: Vec<f64> = scaled.1.iter().zip(scales).map(|(b, s)| b / s).collect();
    let shift: f64 = coefficients.iter().zip(means).map(|(b, m)| b * m).sum();
    let intercept_value = if intercept { scaled.0 - shift } else { 0.0 };
    if coefficients.iter().any(|c| !c.is_finite()) || !intercept_value.is_finite() {
        return Err(Error::data(
            "the fit did not converge to finite coefficients; check the data for extreme values",
        ));
    }
    Ok(Fitted {
        intercept: intercept_value,
        coefficients,
        inference: None,
    })
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
