//! The in-memory fit and its scores: the design built straight from the
//! table's columns, the estimator the project asks for, and the predictions
//! and metrics of the training and validation rows.

use indexmap::IndexMap;
use ndarray::{Array1, Array2, ShapeBuilder};

use crate::data::{Column, MISSING_LEVEL, Table};
use crate::error::{Error, Result};
use crate::model::fit::{self, Estimator};
use crate::model::{self, Categorical, Params, Term, metrics};
use crate::project::{LinkName, ModelKind, ModelSection};
use crate::train::memory::encoding::{Encoding, Fill, remap_levels};
use crate::train::memory::rows::RowSplit;

/// A fitted model and its metrics.
pub(super) struct Scored {
    pub fitted: fit::Fitted,
    /// The coefficients by term name.
    pub coefficients: IndexMap<String, f64>,
    pub params: Params,
    /// Metrics of the training rows.
    pub train: metrics::MetricSet,
    /// Metrics of the validation rows, if any.
    pub validation: Option<metrics::MetricSet>,
    /// The statistics of the predictions on the training rows (a
    /// classifier's score).
    pub prediction_stats: model::stats::NumericStats,
    /// Classifiers: classes, linear predictors, convergence and metrics.
    pub classifier: Option<model::classes::ClassifierPart>,
}

/// Build the design, fit, and score the training and validation rows.
pub(super) fn fit_and_score(
    model_cfg: &ModelSection,
    table: &Table,
    rows: &RowSplit,
    enc: &Encoding,
) -> Result<Scored> {
    let train_idx = &rows.train;
    let y: Vec<f64> = train_idx.iter().map(|&i| table.target[i]).collect();
    let x = design(table, train_idx, enc, y.len());
    let (est, params, tweedie) = estimator(model_cfg);
    let y_arr = Array1::from_vec(y);
    let fitted = fit::fit(x, &y_arr, &enc.term_names, model_cfg.fit_intercept, est).map_err(
        |e| match e {
            Error::Data(m) => Error::Data(format!("{}: {m}", table.origin)),
            other => other,
        },
    )?;
    let coefficients: IndexMap<String, f64> = enc
        .term_names
        .iter()
        .cloned()
        .zip(fitted.coefficients.iter().copied())
        .collect();
    let predictor = model::Predictor {
        terms: enc.terms.to_vec(),
        coefficients: fitted.coefficients.clone(),
        intercept: fitted.intercept,
        inverse: if params.link == Some(model::GlmLink::Log) {
            model::Inverse::Exp
        } else {
            model::Inverse::Identity
        },
    };

    // Metrics.
    let y = y_arr.to_vec();
    let train_pred = predict_rows(
        &predictor,
        table,
        train_idx,
        &enc.code_maps,
        &enc.fills,
        None,
        false,
    )?;
    let train = metrics::compute(&y, &train_pred, tweedie);
    let prediction_stats = model::stats::numeric(train_pred.iter().copied());
    let validation = validation_metrics(&predictor, table, rows, enc, tweedie)?;
    Ok(Scored {
        fitted,
        coefficients,
        params,
        train,
        validation,
        prediction_stats,
        classifier: None,
    })
}

/// The design of the training rows `train_idx` (`n` of them), straight from
/// the table's columns (column-major).
pub(super) fn design(table: &Table, train_idx: &[usize], enc: &Encoding, n: usize) -> Array2<f64> {
    let (terms, code_maps, fills) = (&enc.terms, &enc.code_maps, &enc.fills);
    let mut x = Array2::<f64>::zeros((n, terms.len()).f());
    for (j, t) in terms.iter().enumerate() {
        let mut col = x.column_mut(j);
        match (*t, &table.features[term_feature(*t)]) {
            (Term::Numeric { feature }, Column::Numeric(v)) => {
                let fill = match fills[feature] {
                    Fill::Number(m) => m,
                    _ => f64::NAN,
                };
                for (dst, &i) in col.iter_mut().zip(train_idx) {
                    *dst = if v[i].is_nan() { fill } else { v[i] };
                }
            }
            (Term::Level { feature, level }, Column::Categorical { codes, .. }) => {
                let fill = match fills[feature] {
                    Fill::Level(l) => Some(l),
                    _ => None,
                };
                for (dst, &i) in col.iter_mut().zip(train_idx) {
                    let l = match codes[i] {
                        MISSING_LEVEL => fill,
                        c => code_maps[feature][c as usize],
                    };
                    *dst = if l == Some(level) { 1.0 } else { 0.0 };
                }
            }
            _ => {}
        }
    }
    x
}

/// Metrics of the validation rows (of the separate validation file when
/// there is one), or `None` without validation rows.
fn validation_metrics(
    predictor: &model::Predictor,
    table: &Table,
    rows: &RowSplit,
    enc: &Encoding,
    tweedie: Option<f64>,
) -> Result<Option<metrics::MetricSet>> {
    let (valid_idx, valid_table) = (&rows.valid, rows.valid_table.as_ref());
    if valid_idx.is_empty() {
        return Ok(None);
    }
    let vt = valid_table.unwrap_or(table);
    let maps = match valid_table {
        Some(vt) => remap_levels(vt, &enc.categorical),
        None => enc.code_maps.to_vec(),
    };
    let pred = predict_rows(
        predictor,
        vt,
        valid_idx,
        &maps,
        &enc.fills,
        Some(&enc.categorical),
        valid_table.is_some(),
    )?;
    let vy: Vec<f64> = valid_idx.iter().map(|&i| vt.target[i]).collect();
    Ok(Some(metrics::compute(&vy, &pred, tweedie)))
}

/// The estimator, its recorded parameters and the Tweedie power for metrics.
fn estimator(m: &ModelSection) -> (Estimator, Params, Option<f64>) {
    match m.kind {
        // (classifiers are fitted in `classify`)
        ModelKind::Linear | ModelKind::Logistic | ModelKind::Multinomial => (
            Estimator::Linear,
            Params {
                fit_intercept: m.fit_intercept,
                power: None,
                link: None,
                alpha: None,
                max_iter: None,
            },
            None,
        ),
        ModelKind::Glm => {
            let power = m.power.unwrap_or(0.0);
            let log = match m.link.unwrap_or_default() {
                LinkName::Auto => power >= 1.0,
                LinkName::Identity => false,
                LinkName::Log => true,
            };
            let alpha = m.alpha.unwrap_or(0.0);
            let max_iter = m.max_iter.unwrap_or(1000);
            (
                Estimator::Glm {
                    power,
                    log_link: log,
                    alpha,
                    max_iter,
                },
                Params {
                    fit_intercept: m.fit_intercept,
                    power: Some(power),
                    link: Some(if log {
                        model::GlmLink::Log
                    } else {
                        model::GlmLink::Identity
                    }),
                    alpha: Some(alpha),
                    max_iter: Some(max_iter),
                },
                Some(power),
            )
        }
    }
}

/// Predictions for rows `idx` of a table, column by column. Level codes map
/// through `maps`; a level outside them is an error naming the row (it can
/// only happen in validation rows, `cats` names the known levels).
pub(super) fn predict_rows(
    p: &model::Predictor,
    t: &Table,
    idx: &[usize],
    maps: &[Vec<Option<usize>>],
    fills: &[Fill],
    cats: Option<&IndexMap<String, Categorical>>,
    separate_file: bool,
) -> Result<Vec<f64>> {
    let mut eta = vec![p.intercept; idx.len()];
    for (term, &b) in p.terms.iter().zip(&p.coefficients) {
        match (*term, &t.features[term_feature(*term)]) {
            (Term::Numeric { feature }, Column::Numeric(v)) => {
                let fill = match fills[feature] {
                    Fill::Number(m) => m,
                    _ => f64::NAN,
                };
                for (e, &i) in eta.iter_mut().zip(idx) {
                    *e += b * if v[i].is_nan() { fill } else { v[i] };
                }
            }
            (Term::Level { feature, level }, Column::Categorical { codes, .. }) => {
                let fill = match fills[feature] {
                    Fill::Level(l) => Some(l),
                    _ => None,
                };
                for (e, &i) in eta.iter_mut().zip(idx) {
                    let l = match codes[i] {
                        MISSING_LEVEL => fill,
                        c => code_maps_get(&maps[feature], c),
                    };
                    if l == Some(level) {
                        *e += b;
                    }
                }
            }
            _ => {}
        }
    }
    unseen_levels(t, idx, maps, cats, separate_file)?;
    if p.inverse == model::Inverse::Exp {
        for e in &mut eta {
            *e = e.exp();
        }
    }
    Ok(eta)
}

/// Unseen levels: checked once per categorical feature; the first is an
/// error naming its row.
fn unseen_levels(
    t: &Table,
    idx: &[usize],
    maps: &[Vec<Option<usize>>],
    cats: Option<&IndexMap<String, Categorical>>,
    separate_file: bool,
) -> Result<()> {
    for (k, col) in t.features.iter().enumerate() {
        if let Column::Categorical { codes, levels } = col {
            for &i in idx {
                let c = codes[i];
                if c != MISSING_LEVEL && code_maps_get(&maps[k], c).is_none() {
                    let name = &t.feature_names[k];
                    let level = &levels[c as usize];
                    let what = cats.and_then(|c| c.get(name)).map_or_else(
                        || format!("level \"{level}\" was not seen in training"),
                        |c| c.unseen_message(level),
                    );
                    return Err(Error::data(format!(
                        "{}:{}: column \"{name}\": {what}; it appears only in validation rows: {}",
                        t.origin_of(i),
                        t.lines[i],
                        crate::train::unseen_hint(separate_file)
                    )));
                }
            }
        }
    }
    Ok(())
}

fn code_maps_get(map: &[Option<usize>], code: u32) -> Option<usize> {
    map.get(code as usize).copied().flatten()
}

fn term_feature(t: Term) -> usize {
    match t {
        Term::Numeric { feature } | Term::Level { feature, .. } => feature,
    }
}
