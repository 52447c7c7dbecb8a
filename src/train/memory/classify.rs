//! The in-memory path for classifiers: the target's labels (read by
//! `labels`), its classes (sorted; numerically when all are
//! numbers), and the classifier's fit, probabilities and metrics.

use indexmap::IndexMap;

use crate::data::Table;
use crate::error::{Error, Result};
use crate::model::classes::{
    ClassMetricsPair, ClassTerms, ClassifierPart, ConvergenceRecord, evaluate,
};
use crate::model::fit::{self, ClassifierSpec};
use crate::model::{self, Params, metrics, stats};
use crate::project::{ModelKind, ModelSection};
use crate::stats::classification::ClassMetrics;
use crate::train::memory::encoding::{Encoding, remap_levels};
use crate::train::memory::rows::RowSplit;
use crate::train::memory::score::{Scored, design, predict_rows};

/// The sorted distinct labels of the training rows; one class, or more
/// than `model.max_classes`, is an error naming the column and the count.
pub(super) fn classes_of(
    labels: &[Option<String>],
    train: &[usize],
    m: &ModelSection,
    origin: &str,
    target: &str,
) -> Result<Vec<String>> {
    let classes: Vec<String> = train.iter().filter_map(|&i| labels[i].clone()).collect();
    check_classes(classes, m, origin, target)
}

/// The distinct labels `classes`, sorted (numerically when all are numbers);
/// one class, or more than `model.max_classes`, is an error naming the
/// column and the count.
pub(crate) fn check_classes(
    mut classes: Vec<String>,
    m: &ModelSection,
    origin: &str,
    target: &str,
) -> Result<Vec<String>> {
    classes.sort();
    classes.dedup();
    let numbers: Option<Vec<f64>> = classes
        .iter()
        .map(|c| c.trim().parse::<f64>().ok())
        .collect();
    if let Some(v) = numbers {
        let mut pairs: Vec<(f64, String)> = v.into_iter().zip(classes).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        classes = pairs.into_iter().map(|p| p.1).collect();
    }
    let max = m.max_classes.unwrap_or(100);
    let k = classes.len();
    if k < 2 {
        return Err(Error::data(format!(
            "{origin}: target \"{target}\" has {k} class in the training rows ({}); a classifier needs at least 2, add rows of another class",
            classes.join(", ")
        )));
    }
    if k as u64 > max {
        return Err(Error::data(format!(
            "{origin}: target \"{target}\" has {k} classes in the training rows, more than model.max_classes = {max}; is it the right column? raise model.max_classes if so"
        )));
    }
    if m.kind == ModelKind::Logistic && k != 2 {
        return Err(Error::data(format!(
            "{origin}: target \"{target}\" has {k} classes, but model.kind = \"logistic\" fits two; set model.kind = \"multinomial\""
        )));
    }
    Ok(classes)
}

/// The classes of the training rows, with both tables' targets encoded as
/// class indices.
pub(super) fn prepare(
    m: &ModelSection,
    table: &mut Table,
    rows: &mut RowSplit,
    labels: &[Option<String>],
    target: &str,
) -> Result<Vec<String>> {
    let classes = classes_of(labels, &rows.train, m, &table.origin, target)?;
    encode(table, labels, &classes, &rows.train, target)?;
    match (rows.valid_table.as_mut(), rows.valid_labels.as_ref()) {
        (Some(vt), Some(vl)) => encode(vt, vl, &classes, &rows.valid, target)?,
        _ => encode(table, labels, &classes, &rows.valid, target)?,
    }
    Ok(classes)
}

/// Replace the table's placeholder target by class indices; a label not
/// among the classes (in validation rows) is an error naming its row.
pub(super) fn encode(
    table: &mut Table,
    labels: &[Option<String>],
    classes: &[String],
    rows: &[usize],
    target: &str,
) -> Result<()> {
    for &i in rows {
        let Some(l) = &labels[i] else { continue };
        match classes.iter().position(|c| c == l) {
            Some(c) => table.target[i] = c as f64,
            None => {
                return Err(Error::data(format!(
                    "{}:{}: column \"{target}\": class \"{l}\" appears only in validation rows (training classes: {}); add training rows with it, or change split.seed",
                    table.origin_of(i),
                    table.lines[i],
                    classes.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// The positive class's index (binary only).
pub(crate) fn positive_index(m: &ModelSection, classes: &[String]) -> Result<Option<usize>> {
    if classes.len() != 2 {
        return Ok(None);
    }
    match &m.positive {
        None => Ok(Some(1)),
        Some(p) => classes.iter().position(|c| c == p).map(Some).ok_or_else(|| {
            Error::data(format!(
                "model.positive = \"{p}\" is not a class of the target (classes: {}); name one of them",
                classes.join(", ")
            ))
        }),
    }
}

/// Fit the classifier on the training rows and score both sets.
pub(super) fn fit_and_score(
    m: &ModelSection,
    table: &Table,
    rows: &RowSplit,
    enc: &Encoding,
    classes: &[String],
) -> Result<Scored> {
    let k = classes.len();
    let y: Vec<usize> = rows
        .train
        .iter()
        .map(|&i| table.target[i] as usize)
        .collect();
    let x = design(table, &rows.train, enc, y.len());
    let spec = spec_of(m, k);
    let f = fit::fit_classifier(x, &y, &enc.term_names, spec).map_err(|e| match e {
        Error::Data(msg) => Error::Data(format!("{}: {msg}", table.origin)),
        other => other,
    })?;
    let linear = linear_of(&f, &enc.terms);
    let positive = positive_index(m, classes)?;
    let threshold = m.threshold.unwrap_or(0.5);
    let ctx = Ctx {
        classes,
        positive,
        threshold,
        linear: &linear,
    };
    let maps = enc.code_maps.clone();
    let (train_cm, train_reg, train_scores) =
        ctx.score(table, &rows.train, &maps, enc, false, "training")?;
    let valid = match (rows.valid.is_empty(), rows.valid_table.as_ref()) {
        (true, _) => None,
        (false, Some(vt)) => {
            let maps = remap_levels(vt, &enc.categorical);
            Some(ctx.score(vt, &rows.valid, &maps, enc, true, "validation")?)
        }
        (false, None) => Some(ctx.score(table, &rows.valid, &maps, enc, false, "validation")?),
    };
    let part = part_of(
        (classes, positive, threshold),
        spec,
        &f,
        &enc.term_names,
        ClassMetricsPair {
            train: train_cm,
            validation: valid.as_ref().map(|v| v.0.clone()),
        },
    );
    let last = k - 1;
    Ok(Scored {
        fitted: fit::Fitted {
            intercept: f.intercepts[last],
            coefficients: f.coefficients[last].clone(),
            inference: None,
        },
        coefficients: part.linear_predictors[last].coefficients.clone(),
        params: params_of(m),
        train: train_reg,
        validation: valid.map(|v| v.1),
        prediction_stats: stats::numeric(train_scores.into_iter()),
        classifier: Some(part),
    })
}

/// One linear predictor per class of fit `f` over the design `terms`.
pub(crate) fn linear_of(f: &fit::ClassFit, terms: &[model::Term]) -> Vec<model::Predictor> {
    (0..f.intercepts.len())
        .map(|c| model::Predictor {
            terms: terms.to_vec(),
            coefficients: f.coefficients[c].clone(),
            intercept: f.intercepts[c],
            inverse: model::Inverse::Identity,
        })
        .collect()
}

/// What to fit for `k` classes.
pub(crate) fn spec_of(m: &ModelSection, k: usize) -> ClassifierSpec {
    let alpha = m.alpha.unwrap_or(0.0);
    ClassifierSpec {
        classes: k,
        all_slopes: m.kind == ModelKind::Multinomial && alpha > 0.0,
        alpha,
        intercept: m.fit_intercept,
        max_iter: m.max_iter.unwrap_or(100),
        allow_unconverged: m.allow_unconverged.unwrap_or(false),
    }
}

/// The parameters a classifier's artifact records.
pub(crate) fn params_of(m: &ModelSection) -> Params {
    Params {
        fit_intercept: m.fit_intercept,
        power: None,
        link: None,
        alpha: Some(m.alpha.unwrap_or(0.0)),
        max_iter: Some(m.max_iter.unwrap_or(100)),
    }
}

/// The artifact's classifier part of fit `f` (design columns `term_names`)
/// of `(classes, positive, threshold)`, with its metrics.
pub(crate) fn part_of(
    (classes, positive, threshold): (&[String], Option<usize>, f64),
    spec: ClassifierSpec,
    f: &fit::ClassFit,
    term_names: &[String],
    metrics: ClassMetricsPair,
) -> ClassifierPart {
    let named = |c: usize| -> IndexMap<String, f64> {
        term_names
            .iter()
            .cloned()
            .zip(f.coefficients[c].iter().copied())
            .collect()
    };
    ClassifierPart {
        classes: classes.to_vec(),
        positive: positive.map(|p| classes[p].clone()),
        threshold,
        reference: (!spec.all_slopes).then(|| classes[0].clone()),
        linear_predictors: (0..classes.len())
            .map(|c| {
                (
                    classes[c].clone(),
                    ClassTerms {
                        intercept: f.intercepts[c],
                        coefficients: named(c),
                    },
                )
            })
            .collect(),
        convergence: ConvergenceRecord {
            converged: f.convergence.converged,
            iterations: f.convergence.iterations,
            gradient_norm: f.convergence.gradient_norm,
            deviance: f.convergence.deviance,
        },
        metrics,
    }
}

/// What scoring a set of rows needs.
struct Ctx<'a> {
    classes: &'a [String],
    positive: Option<usize>,
    threshold: f64,
    linear: &'a [model::Predictor],
}

impl Ctx<'_> {
    /// The classification metrics of rows `idx` of `t`, and the regression
    /// metrics of the probabilities against the one-hot classes (binary:
    /// of the positive class's probability; R² is then Efron's pseudo-R²).
    fn score(
        &self,
        t: &Table,
        idx: &[usize],
        maps: &[Vec<Option<usize>>],
        enc: &Encoding,
        separate: bool,
        what: &str,
    ) -> Result<(ClassMetrics, metrics::MetricSet, Vec<f64>)> {
        let k = self.classes.len();
        let mut etas = Vec::with_capacity(k);
        for p in self.linear {
            etas.push(predict_rows(
                p,
                t,
                idx,
                maps,
                &enc.fills,
                Some(&enc.categorical),
                separate,
            )?);
        }
        let mut prob = Vec::with_capacity(idx.len() * k);
        for (r, _) in idx.iter().enumerate() {
            let top = (0..k).fold(f64::NEG_INFINITY, |m, c| m.max(etas[c][r]));
            let e: Vec<f64> = (0..k).map(|c| (etas[c][r] - top).exp()).collect();
            let s: f64 = e.iter().sum();
            prob.extend(e.iter().map(|v| v / s));
        }
        let y: Vec<usize> = idx.iter().map(|&i| t.target[i] as usize).collect();
        let (cm, reg) = evaluate(self.classes, self.positive, self.threshold, &y, &prob, what)?;
        // What serve reports of each row: the positive class's probability
        // (binary), else the top probability.
        let positive = self.positive.unwrap_or(1);
        let scores = prob
            .chunks_exact(k)
            .map(|p| {
                if k == 2 {
                    p[positive]
                } else {
                    p.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v))
                }
            })
            .collect();
        Ok((cm, reg, scores))
    }
}
