//! From pass 1's factor to the coefficients. The columns are put in design
//! order and the reference levels dropped (the R of `X P` is the R of `R P`:
//! one small QR), the rank check of the in-memory path runs on the centred
//! block of that factor with the exact column spreads, and linfa-linear's
//! least squares solves the p × p triangle; the coefficients are then mapped
//! back from the factor's shifted and scaled columns.

use indexmap::IndexMap;
use linfa::prelude::*;
use linfa_linalg::qr::QRInto;
use linfa_linear::{FittedLinearRegression, LinearRegression};
use ndarray::{Array1, Array2, ShapeBuilder, s};

use crate::error::{Error, Result};
use crate::model::fit::check_rank;
use crate::model::inference::{self, Inference, LeastSquares, Parameter};
use crate::model::{self, Categorical, Term};
use crate::train::streaming::fold::Fold;
use crate::train::streaming::plan::Plan;

/// The fitted linear model.
pub(super) struct Solution {
    /// The levels of each categorical feature, in design order.
    pub categorical: IndexMap<String, Categorical>,
    pub term_names: Vec<String>,
    /// One coefficient per term, on the features' own scale.
    pub coefficients: Vec<f64>,
    pub predictor: model::Predictor,
    /// The coefficients' standard errors, tests and intervals and the fit's
    /// statistics, as the in-memory path reports them.
    pub inference: Option<Inference>,
}

/// The levels and terms of the design.
pub(super) struct Design {
    pub categorical: IndexMap<String, Categorical>,
    pub terms: Vec<Term>,
    pub term_names: Vec<String>,
}

/// Solve the least-squares problem pass 1 folded (taking its factor).
pub(super) fn solve(fold: &mut Fold, feature_names: &[String], plan: &Plan) -> Result<Solution> {
    let (origin, intercept) = (&plan.origin, plan.intercept);
    let design = Design::new(fold, feature_names, plan)?;
    model::check_enough_rows(
        fold.train,
        design.terms.len(),
        intercept,
        &design.categorical,
        origin,
    )?;
    let (mut columns, spread) = factor_columns(&design, fold, feature_names, plan)?;
    let r = fold.r.take().unwrap_or_else(|| Array2::zeros((0, 0)));
    let ycol = r.ncols() - 1;
    columns.push(vec![ycol]);
    let k = columns.len();
    let rf = in_design_order(&r, &columns, origin)?;
    check_centred_rank(&rf, &spread, fold.train, &design.term_names, plan)?;
    let a = rf.slice(s![..k - 1, ..k - 1]).to_owned();
    let b = rf.slice(s![..k - 1, k - 1]).to_owned();
    let solved = least_squares(a, b, origin)?;
    let (coefficients, b0) = unscaled(solved.params(), &design.terms, fold, intercept);
    if coefficients.iter().any(|c| !c.is_finite()) || !b0.is_finite() {
        return Err(Error::data(format!(
            "{origin}: the fit did not converge to finite coefficients; check the data for extreme values"
        )));
    }
    let inference = inference(&rf, &design, fold, (&coefficients, b0), intercept);
    let predictor = model::Predictor {
        terms: design.terms.clone(),
        coefficients: coefficients.clone(),
        intercept: if intercept { b0 } else { 0.0 },
        inverse: model::Inverse::Identity,
    };
    Ok(Solution {
        categorical: design.categorical,
        term_names: design.term_names,
        coefficients,
        predictor,
        inference,
    })
}

/// The least-squares statistics from the factor `rf` of the columns
/// `[1?, terms…, y]` (its corner is the residual norm) and the target's
/// exact moments: each parameter is a combination of the unknowns on the
/// shifted and scaled columns (`b_j = x_j / scale_j` for a numeric term,
/// `b_0 = x_0 − Σ x_j shift_j / scale_j + shift_y`).
#[allow(clippy::cast_precision_loss)]
fn inference(
    rf: &Array2<f64>,
    design: &Design,
    fold: &Fold,
    (coefficients, b0): (&[f64], f64),
    intercept: bool,
) -> Option<Inference> {
    let off = usize::from(intercept);
    let q = design.terms.len() + off;
    let corner = rf[[q, q]];
    let t = &fold.target;
    let tss = if intercept {
        t.m2
    } else {
        t.m2 + t.n as f64 * t.mean * t.mean
    };
    let mut g0 = vec![0.0; q];
    let mut named = Vec::with_capacity(design.terms.len());
    for (j, (term, name)) in design.terms.iter().zip(&design.term_names).enumerate() {
        let mut g = vec![0.0; q];
        g[off + j] = 1.0;
        if let Term::Numeric { feature } = *term {
            g[off + j] = 1.0 / fold.scale[feature];
            g0[off + j] = -fold.shift[feature] / fold.scale[feature];
        }
        let estimate = coefficients[j];
        named.push((
            name.clone(),
            Parameter {
                estimate,
                g,
                extra: 0.0,
            },
        ));
    }
    if intercept {
        g0[0] = 1.0;
    }
    inference::least_squares(&LeastSquares {
        r: rf.view(),
        rss: corner * corner,
        tss,
        rows: fold.train,
        intercept,
        intercept_param: intercept.then_some(Parameter {
            estimate: b0,
            g: g0,
            extra: 0.0,
        }),
        coefficients: named,
    })
}

impl Design {
    /// Levels in design order (sorted), and the terms.
    pub fn new(fold: &Fold, feature_names: &[String], plan: &Plan) -> Result<Design> {
        let (origin, intercept) = (&plan.origin, plan.intercept);
        let mut categorical = IndexMap::new();
        for (k, name) in feature_names.iter().enumerate() {
            if let Some(lv) = &fold.levels[k] {
                let rules = model::LevelRules {
                    min_count: plan.data_cfg.min_level_count,
                    handle_unknown: plan.data_cfg.handle_unknown,
                };
                let Some(cat) = Categorical::from_counts(&lv.names, &lv.counts, rules, intercept)
                else {
                    return Err(Error::data(format!(
                        "{origin}: categorical column \"{name}\" has no value in any training row; fill it or drop it from data.features"
                    )));
                };
                categorical.insert(name.clone(), cat);
            }
        }
        let (terms, term_names) = model::design_terms(feature_names, &categorical);
        Ok(Design {
            categorical,
            terms,
            term_names,
        })
    }
}

/// The factor's columns of each term in design order (after the
/// intercept's; a level that rarer levels were folded into sums their
/// columns), and the RMS of each term's column in factor units; a numeric
/// column that is constant (with an intercept) or all zeros is an error.
fn factor_columns(
    design: &Design,
    fold: &Fold,
    feature_names: &[String],
    plan: &Plan,
) -> Result<(Vec<Vec<usize>>, Vec<f64>)> {
    let (origin, intercept) = (&plan.origin, plan.intercept);
    let mut columns: Vec<Vec<usize>> = Vec::new();
    let mut spread: Vec<f64> = Vec::new(); // the RMS of each term's column, in factor units
    #[allow(clippy::cast_precision_loss)]
    let nf = fold.train as f64;
    if intercept {
        columns.push(vec![0]);
    }
    for (t, name) in design.terms.iter().zip(&design.term_names) {
        match *t {
            Term::Numeric { feature } => {
                let m = &fold.moments[feature];
                if m.min == m.max && (intercept || m.min == 0.0) {
                    let what = if intercept {
                        "is constant, so it duplicates the intercept"
                    } else {
                        "is all zeros"
                    };
                    return Err(Error::data(format!(
                        "{origin}: the design is rank deficient: column \"{name}\" {what}; drop it from data.features"
                    )));
                }
                columns.push(vec![fold.numeric_col[feature].unwrap_or(0)]);
                let rms = if intercept {
                    m.centred_rms()
                } else {
                    (m.m2 / nf + m.mean * m.mean).sqrt()
                };
                spread.push(rms / fold.scale[feature]);
            }
            Term::Level { feature, level } => {
                let lv = fold.levels[feature]
                    .as_ref()
                    .ok_or_else(|| Error::data("internal error: a level of a numeric column"))?;
                let cat = &design.categorical[&feature_names[feature]];
                // The fold's levels read as this one: itself, or those folded into it.
                let mut cols = Vec::new();
                let mut count = 0u64;
                for (g, name) in lv.names.iter().enumerate() {
                    if matches!(cat.value_of(name), Some(model::Value::Level(l)) if l == level) {
                        cols.push(lv.column[g]);
                        count += lv.counts[g];
                    }
                }
                columns.push(cols);
                let p = count as f64 / nf;
                spread.push(if intercept {
                    (p * (1.0 - p)).sqrt()
                } else {
                    p.sqrt()
                });
            }
        }
    }
    Ok((columns, spread))
}

/// The triangular factor of the columns of `r` summed as `columns` says,
/// in that order (the R of `X A` is the R of `R A`).
fn in_design_order(r: &Array2<f64>, columns: &[Vec<usize>], origin: &str) -> Result<Array2<f64>> {
    let k = columns.len();
    let mut m = Array2::<f64>::zeros((r.nrows().max(k), k).f());
    for (dst, srcs) in columns.iter().enumerate() {
        for &src in srcs {
            let mut col = m.slice_mut(s![..r.nrows(), dst]);
            col += &r.column(src);
        }
    }
    Ok(m.qr_into()
        .map_err(|e| Error::data(format!("{origin}: the QR factorisation failed: {e}")))?
        .into_r())
}

/// The rank check of the in-memory path, on the centred block of `rf` with
/// unit columns (`spread`: each term's RMS), for `n` training rows.
fn check_centred_rank(
    rf: &Array2<f64>,
    spread: &[f64],
    n: u64,
    term_names: &[String],
    plan: &Plan,
) -> Result<()> {
    let off = usize::from(plan.intercept);
    let p = term_names.len();
    let mut centred = rf.slice(s![off..off + p, off..off + p]).to_owned();
    for (j, sp) in spread.iter().enumerate() {
        if *sp > 0.0 {
            centred.column_mut(j).mapv_inplace(|v| v / sp);
        }
    }
    let n_usize = usize::try_from(n).unwrap_or(usize::MAX);
    check_rank(&centred, n_usize, term_names)
        .map_err(|e| Error::data(format!("{}: {e}", plan.origin)))
}

/// linfa-linear's least squares of the triangle `a` against `b`.
fn least_squares(
    a: Array2<f64>,
    b: Array1<f64>,
    origin: &str,
) -> Result<FittedLinearRegression<f64>> {
    LinearRegression::new()
        .with_intercept(false)
        .fit(&Dataset::new(a, b))
        .map_err(|e| Error::data(format!("{origin}: the least-squares fit failed: {e}")))
}

/// The coefficients on the features' own scale and the intercept, from the
/// solution `sol` on the factor's shifted and scaled columns.
fn unscaled(sol: &Array1<f64>, terms: &[Term], fold: &Fold, intercept: bool) -> (Vec<f64>, f64) {
    let off = usize::from(intercept);
    let mut coefficients = Vec::with_capacity(terms.len());
    let mut b0 = if intercept { sol[0] } else { 0.0 } + fold.y_shift;
    for (j, t) in terms.iter().enumerate() {
        let bj = sol[off + j];
        match *t {
            Term::Numeric { feature } => {
                let c = bj / fold.scale[feature];
                b0 -= c * fold.shift[feature];
                coefficients.push(c);
            }
            Term::Level { .. } => coefficients.push(bj),
        }
    }
    (coefficients, b0)
}
