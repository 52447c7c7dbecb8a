//! `train`: project file → data → split → fit → metrics → artifact.
//!
//! The artifact is written atomically and only after every step succeeded,
//! so a failure leaves the previous artifact (or none) in place.

use std::path::PathBuf;
use std::time::Instant;

use indexmap::IndexMap;
use ndarray::{Array1, Array2, ShapeBuilder};
use serde::Serialize;

use crate::data::{self, Column, MISSING_LEVEL, Selection, Table, split};
use crate::error::{Error, Result, display_path};
use crate::model::fit::{self, Estimator};
use crate::model::stats::{self, CategoricalStats, ColumnStats};
use crate::model::{
    self, Artifact, Categorical, Metrics, Missing, Params, Rows, Split, Term, Tool, metrics,
};
use crate::project::{LinkName, MissingPolicy, ModelKind, Project};
use crate::report::Progress;

mod streaming;

/// Files above this size train on the streaming path unless told otherwise.
pub const STREAMING_THRESHOLD: u64 = 512 << 20;

/// Options of a training run that do not come from the project file.
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// Write the artifact here instead of `[model].artifact`.
    pub out: Option<PathBuf>,
    /// Force the streaming path (`--streaming`); else `[model].streaming`,
    /// else by file size.
    pub streaming: bool,
    /// Block size in bytes of the streaming reader (0: the default, 8 MiB).
    pub block: usize,
    /// Timestamp recorded as `created_at` (RFC 3339).
    pub created_at: String,
}

/// What a training run did.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// Where the artifact was written.
    pub artifact_path: String,
    /// Which fitting path ran: "in-memory" or "streaming".
    pub path: &'static str,
    /// Wall time of the run in seconds.
    pub seconds: f64,
    /// The artifact.
    pub model: Artifact,
}

/// Train the project's model and write its artifact.
#[allow(clippy::too_many_lines)]
pub fn train(
    project: &Project,
    opts: &TrainOptions,
    progress: &dyn Progress,
) -> Result<TrainReport> {
    let start = Instant::now();
    let cfg = &project.file;
    let data_cfg = project.data()?;
    let model_cfg = project.model()?;
    let data_files = project.data_files()?;
    let streaming = opts.streaming
        || model_cfg.streaming.unwrap_or_else(|| {
            // A URL's size is unknown: stream it.
            let size: u64 = data_files
                .iter()
                .map(|p| {
                    if data::url_of(p).is_some() {
                        return u64::MAX / 4;
                    }
                    let len = std::fs::metadata(p).map_or(0, |m| m.len());
                    if data::is_gzip(p) { len * 5 } else { len }
                })
                .fold(0u64, u64::saturating_add);
            size > STREAMING_THRESHOLD
        });
    if streaming {
        project.validation_file()?;
        return streaming::train(project, opts, progress, start);
    }
    let sel = Selection {
        target: Some(data_cfg.target.clone()),
        features: data_cfg.features.clone(),
        exclude: data_cfg.exclude.clone(),
        categorical: data_cfg.categorical.clone(),
        missing: data_cfg.missing,
    };
    let data::Loaded {
        table,
        sha256: data_sha256,
    } = data::load_files(&data_files, &sel, progress)?;
    let policy = data_cfg.missing;
    let fraction = cfg.split.fraction();
    let seed = cfg.split.seed;

    // Row selection: split, then the missing-value policy.
    let usable = |t: &Table, i: usize| -> bool {
        match policy {
            MissingPolicy::Error => true,
            MissingPolicy::Mean => !t.target[i].is_nan(),
            MissingPolicy::DropRow => {
                !t.target[i].is_nan() && !t.features.iter().any(|c| c.is_missing(i))
            }
        }
    };
    let mut train_idx = Vec::with_capacity(table.rows());
    let mut valid_idx = Vec::new();
    let mut dropped = 0u64;
    for i in 0..table.rows() {
        if !usable(&table, i) {
            dropped += 1;
        } else if split::is_validation(seed, i as u64, fraction) {
            valid_idx.push(i);
        } else {
            train_idx.push(i);
        }
    }
    let (valid_table, valid_sha) = match project.validation_file()? {
        Some(vpath) => {
            let vsel = Selection {
                features: Some(table.feature_names.clone()),
                exclude: Vec::new(),
                ..sel.clone()
            };
            let loaded = data::load(&vpath, &vsel, progress)?;
            let vt = loaded.table;
            for i in 0..vt.rows() {
                if usable(&vt, i) {
                    valid_idx.push(i);
                } else {
                    dropped += 1;
                }
            }
            (Some(vt), Some(loaded.sha256))
        }
        None => (None, None),
    };
    if train_idx.is_empty() {
        return Err(Error::data(format!(
            "{}: no training rows are left after the split and the missing-value policy; add rows or lower split.validation_fraction",
            table.origin
        )));
    }
    if fraction > 0.0 && valid_idx.is_empty() {
        return Err(Error::data(format!(
            "{}: the validation split is empty ({} rows at split.validation_fraction = {fraction}); add rows or raise the fraction",
            table.origin,
            table.rows()
        )));
    }

    // Levels (sorted, from training rows), fill values and the design terms.
    let mut categorical = IndexMap::new();
    let mut code_maps: Vec<Vec<Option<usize>>> = Vec::new();
    let mut fills: Vec<Fill> = Vec::new();
    let mut fill_json = IndexMap::new();
    for (name, col) in table.feature_names.iter().zip(&table.features) {
        match col {
            Column::Numeric(v) => {
                code_maps.push(Vec::new());
                if policy == MissingPolicy::Mean {
                    let s = stats::numeric(train_idx.iter().map(|&i| v[i]));
                    let m = if s.count == 0 { 0.0 } else { s.mean };
                    fills.push(Fill::Number(m));
                    fill_json.insert(name.clone(), serde_json::json!(m));
                } else {
                    fills.push(Fill::None);
                }
            }
            Column::Categorical { codes, levels } => {
                let mut counts = vec![0u64; levels.len()];
                for &i in &train_idx {
                    if codes[i] != MISSING_LEVEL {
                        counts[codes[i] as usize] += 1;
                    }
                }
                let mut seen: Vec<&String> = levels
                    .iter()
                    .zip(&counts)
                    .filter(|(_, c)| **c > 0)
                    .map(|(l, _)| l)
                    .collect();
                seen.sort();
                if seen.is_empty() {
                    return Err(Error::data(format!(
                        "{}: categorical column \"{name}\" has no value in any training row; fill it or drop it from data.features",
                        table.origin
                    )));
                }
                let map: Vec<Option<usize>> =
                    levels.iter().map(|l| seen.binary_search(&l).ok()).collect();
                if policy == MissingPolicy::Mean {
                    // The most frequent level; ties go to the first in sorted order.
                    let best = seen
                        .iter()
                        .map(|l| {
                            let code = levels.iter().position(|x| x == *l).unwrap_or(0);
                            (counts[code], *l)
                        })
                        .fold(None::<(u64, &String)>, |acc, (c, l)| match acc {
                            Some((bc, _)) if bc >= c => acc,
                            _ => Some((c, l)),
                        })
                        .map(|(_, l)| l.clone())
                        .unwrap_or_default();
                    let idx = seen.binary_search(&&best).unwrap_or(0);
                    fills.push(Fill::Level(idx));
                    fill_json.insert(name.clone(), serde_json::json!(best));
                } else {
                    fills.push(Fill::None);
                }
                code_maps.push(map);
                categorical.insert(
                    name.clone(),
                    Categorical {
                        levels: seen.iter().map(|s| (*s).clone()).collect(),
                        reference: model_cfg.fit_intercept.then(|| seen[0].clone()),
                    },
                );
            }
        }
    }
    let (terms, term_names) = model::design_terms(&table.feature_names, &categorical);

    if train_idx.len() < 2 {
        return Err(Error::data(format!(
            "{}: only {} training row is left after the split and the missing-value policy; a model needs at least 2, add rows",
            table.origin,
            train_idx.len()
        )));
    }
    let y0 = table.target[train_idx[0]];
    if train_idx.iter().all(|&i| table.target[i] == y0) {
        return Err(Error::data(format!(
            "{}: target \"{}\" is constant ({y0} in every training row); there is nothing to learn",
            table.origin, data_cfg.target
        )));
    }

    // The statistics take as long as the fit: compute them alongside.
    let (stats_out, fit_out) = std::thread::scope(|s| {
        let h = s.spawn(|| training_stats(&table, &train_idx, &categorical));
        let fit_out = fit_and_score(
            project,
            &table,
            &train_idx,
            &valid_idx,
            valid_table.as_ref(),
            &categorical,
            &code_maps,
            &fills,
            &terms,
            &term_names,
        );
        (h.join(), fit_out)
    });
    let (fitted, coefficients, params, train_metrics, validation) = fit_out?;
    let (feature_stats, target_stats) =
        stats_out.map_err(|_| Error::data("computing the training statistics failed"))?;

    let artifact = Artifact {
        format: model::FORMAT.to_string(),
        name: model_cfg.name.clone(),
        kind: model_cfg.kind,
        params,
        target: data_cfg.target.clone(),
        features: table.feature_names.clone(),
        categorical,
        intercept: fitted.intercept,
        coefficients,
        missing: Missing {
            policy,
            fill: fill_json,
        },
        metrics: Metrics {
            train: train_metrics,
            validation,
        },
        feature_stats,
        target_stats,
        rows: Rows {
            total: table.rows() as u64,
            train: train_idx.len() as u64,
            validation: valid_idx.len() as u64,
            dropped,
        },
        split: Split {
            validation_fraction: fraction,
            seed,
            validation_path: cfg.split.validation_path.clone(),
        },
        data_sha256,
        validation_data_sha256: valid_sha,
        tool: Tool {
            name: "mlops".into(),
            version: crate::VERSION.into(),
        },
        created_at: opts.created_at.clone(),
    };
    write_report(project, opts, artifact, "in-memory", start)
}

/// Write the artifact atomically and report.
pub(crate) fn write_report(
    project: &Project,
    opts: &TrainOptions,
    artifact: Artifact,
    path: &'static str,
    start: Instant,
) -> Result<TrainReport> {
    let out = match &opts.out {
        Some(p) => p.clone(),
        None => project.artifact_path()?,
    };
    crate::fsutil::write_atomic(&out, artifact.to_json().as_bytes())?;
    Ok(TrainReport {
        artifact_path: display_path(&out),
        path,
        seconds: start.elapsed().as_secs_f64(),
        model: artifact,
    })
}

/// What [`fit_and_score`] returns.
type FitOut = (
    fit::Fitted,
    IndexMap<String, f64>,
    Params,
    metrics::MetricSet,
    Option<metrics::MetricSet>,
);

/// Build the design, fit, and score the training and validation rows.
#[allow(clippy::too_many_arguments)]
fn fit_and_score(
    project: &Project,
    table: &Table,
    train_idx: &[usize],
    valid_idx: &[usize],
    valid_table: Option<&Table>,
    categorical: &IndexMap<String, Categorical>,
    code_maps: &[Vec<Option<usize>>],
    fills: &[Fill],
    terms: &[Term],
    term_names: &[String],
) -> Result<FitOut> {
    let y: Vec<f64> = train_idx.iter().map(|&i| table.target[i]).collect();
    // The design, straight from the table's columns (column-major).
    let mut x = Array2::<f64>::zeros((y.len(), terms.len()).f());
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
    let model_cfg = project.model()?;
    let (est, params, tweedie) = estimator(model_cfg);
    let y_arr = Array1::from_vec(y);
    let fitted =
        fit::fit(x, &y_arr, term_names, model_cfg.fit_intercept, est).map_err(|e| match e {
            Error::Data(m) => Error::Data(format!("{}: {m}", table.origin)),
            other => other,
        })?;
    let coefficients: IndexMap<String, f64> = term_names
        .iter()
        .cloned()
        .zip(fitted.coefficients.iter().copied())
        .collect();
    let predictor = model::Predictor {
        terms: terms.to_vec(),
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
    let train_pred = predict_rows(&predictor, table, train_idx, code_maps, fills, None, false)?;
    let train_metrics = metrics::compute(&y, &train_pred, tweedie);
    let validation = if valid_idx.is_empty() {
        None
    } else {
        let vt = valid_table.unwrap_or(table);
        let maps = match valid_table {
            Some(vt) => remap_levels(vt, categorical),
            None => code_maps.to_vec(),
        };
        let pred = predict_rows(
            &predictor,
            vt,
            valid_idx,
            &maps,
            fills,
            Some(categorical),
            valid_table.is_some(),
        )?;
        let vy: Vec<f64> = valid_idx.iter().map(|&i| vt.target[i]).collect();
        Some(metrics::compute(&vy, &pred, tweedie))
    };
    Ok((fitted, coefficients, params, train_metrics, validation))
}

/// Per-feature and target statistics of the training rows.
fn training_stats(
    table: &Table,
    train_idx: &[usize],
    categorical: &IndexMap<String, Categorical>,
) -> (IndexMap<String, ColumnStats>, stats::NumericStats) {
    let mut feature_stats = IndexMap::new();
    for (name, col) in table.feature_names.iter().zip(&table.features) {
        let s = match col {
            Column::Numeric(v) => {
                ColumnStats::Numeric(stats::numeric(train_idx.iter().map(|&i| v[i])))
            }
            Column::Categorical { codes, levels } => {
                let mut counts: IndexMap<String, u64> = categorical[name]
                    .levels
                    .iter()
                    .map(|l| (l.clone(), 0))
                    .collect();
                let mut missing = 0;
                for &i in train_idx {
                    match codes[i] {
                        MISSING_LEVEL => missing += 1,
                        c => *counts.entry(levels[c as usize].clone()).or_default() += 1,
                    }
                }
                ColumnStats::Categorical(CategoricalStats {
                    count: train_idx.len() as u64 - missing,
                    missing,
                    levels: counts,
                })
            }
        };
        feature_stats.insert(name.clone(), s);
    }
    let target_stats = stats::numeric(train_idx.iter().map(|&i| table.target[i]));
    (feature_stats, target_stats)
}

/// The estimator, its recorded parameters and the Tweedie power for metrics.
fn estimator(m: &crate::project::ModelSection) -> (Estimator, Params, Option<f64>) {
    match m.kind {
        ModelKind::Linear => (
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

/// A missing cell's replacement.
#[derive(Debug, Clone, Copy)]
enum Fill {
    None,
    Number(f64),
    Level(usize),
}

/// Map a validation table's level codes onto the trained levels.
fn remap_levels(t: &Table, cats: &IndexMap<String, Categorical>) -> Vec<Vec<Option<usize>>> {
    t.feature_names
        .iter()
        .zip(&t.features)
        .map(|(name, col)| match (col, cats.get(name)) {
            (Column::Categorical { levels, .. }, Some(c)) => levels
                .iter()
                .map(|l| c.levels.binary_search(l).ok())
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// Predictions for rows `idx` of a table, column by column. Level codes map
/// through `maps`; a level outside them is an error naming the row (it can
/// only happen in validation rows, `cats` names the known levels).
fn predict_rows(
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
    // Unseen levels: checked once per categorical feature.
    for (k, col) in t.features.iter().enumerate() {
        if let Column::Categorical { codes, levels } = col {
            for &i in idx {
                let c = codes[i];
                if c != MISSING_LEVEL && code_maps_get(&maps[k], c).is_none() {
                    let name = &t.feature_names[k];
                    let known = cats
                        .and_then(|c| c.get(name))
                        .map(|c| c.levels.join(", "))
                        .unwrap_or_default();
                    let hint = if separate_file {
                        "add training rows with it, or remove it from the validation file"
                    } else {
                        "add training rows with it, or change split.seed"
                    };
                    return Err(Error::data(format!(
                        "{}:{}: column \"{name}\": level \"{}\" appears only in validation rows (training levels: {known}); {hint}",
                        t.origin_of(i),
                        t.lines[i],
                        levels[c as usize]
                    )));
                }
            }
        }
    }
    if p.inverse == model::Inverse::Exp {
        for e in &mut eta {
            *e = e.exp();
        }
    }
    Ok(eta)
}

fn code_maps_get(map: &[Option<usize>], code: u32) -> Option<usize> {
    map.get(code as usize).copied().flatten()
}

fn term_feature(t: Term) -> usize {
    match t {
        Term::Numeric { feature } | Term::Level { feature, .. } => feature,
    }
}

/// RFC 3339 UTC timestamp of Unix seconds (Howard Hinnant's civil-from-days).
#[must_use]
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_564_800), "2026-11-25T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }
}
