//! The in-memory training path: load every row, split them, encode the
//! features, fit and score, with the training statistics computed alongside
//! the fit, then write the artifact.

use std::path::PathBuf;
use std::time::Instant;

use crate::data::{self, Table, labels};
use crate::error::{Error, Result};
use crate::model::{self, Artifact, Metrics, Missing, Rows, Split, Tool};
use crate::project::{ModelSection, Project};
use crate::report::Progress;
use crate::train::report::{TrainReport, write_report};
use crate::train::request::{self, TrainOptions};

pub(super) mod classify;
mod encoding;
mod rows;
mod score;
mod stats;

use encoding::Encoding;
use rows::RowSplit;
use score::Scored;
use stats::TrainingStats;

/// Train the project's model in memory and write its artifact.
pub(crate) fn train(
    project: &Project,
    opts: &TrainOptions,
    progress: &dyn Progress,
    start: Instant,
    data_files: &[PathBuf],
) -> Result<TrainReport> {
    let data_cfg = project.data()?;
    let model_cfg = project.model()?;
    let target = data_cfg.target.as_str();
    let label_target = model_cfg.kind.is_classifier().then_some(target);
    let mut sel = request::selection(data_cfg);
    if label_target.is_some() {
        sel = labels::label_selection(&sel, target);
    }
    let mut loaded = data::load_files(data_files, &sel, progress)?;
    let labels = match label_target {
        Some(t) => Some(labels::take_target(&mut loaded.table, t)?),
        None => None,
    };
    loaded.table.check_max_levels(data_cfg.max_levels)?;
    let mut rows = RowSplit::select(project, &loaded.table, &sel, label_target, progress)?;
    let classes = match &labels {
        Some(l) => Some(classify::prepare(
            model_cfg,
            &mut loaded.table,
            &mut rows,
            l,
            target,
        )?),
        None => None,
    };
    let table = &loaded.table;
    let rules = model::LevelRules {
        min_count: data_cfg.min_level_count,
        handle_unknown: data_cfg.handle_unknown,
    };
    let encoding = Encoding::of(
        table,
        &rows.train,
        sel.missing,
        model_cfg.fit_intercept,
        rules,
    )?;
    rows.check_fittable(table, &data_cfg.target)?;
    model::check_enough_rows(
        rows.train.len() as u64,
        encoding.terms.len(),
        model_cfg.fit_intercept,
        &encoding.categorical,
        &table.origin,
    )?;
    let (scored, stats) =
        fit_alongside_stats(model_cfg, table, &rows, &encoding, classes.as_deref())?;
    let trained = Trained {
        loaded,
        rows,
        encoding,
        scored,
        stats,
    };
    let artifact = trained.into_artifact(project, opts)?;
    write_report(project, opts, artifact, "in-memory", start)
}

/// Fit and score; the statistics take as long as the fit: compute them
/// alongside.
fn fit_alongside_stats(
    model_cfg: &ModelSection,
    table: &Table,
    rows: &RowSplit,
    encoding: &Encoding,
    classes: Option<&[String]>,
) -> Result<(Scored, TrainingStats)> {
    let (stats_out, fit_out) = std::thread::scope(|s| {
        let h = s.spawn(|| stats::training_stats(table, &rows.train, &encoding.categorical));
        let fit_out = match classes {
            Some(c) => classify::fit_and_score(model_cfg, table, rows, encoding, c),
            None => score::fit_and_score(model_cfg, table, rows, encoding),
        };
        (h.join(), fit_out)
    });
    let scored = fit_out?;
    let stats = stats_out.map_err(|_| Error::data("computing the training statistics failed"))?;
    Ok((scored, stats))
}

/// Everything the artifact records about a finished in-memory fit.
struct Trained {
    loaded: data::Loaded,
    rows: RowSplit,
    encoding: Encoding,
    scored: Scored,
    stats: TrainingStats,
}

impl Trained {
    /// The artifact of this fit.
    fn into_artifact(self, project: &Project, opts: &TrainOptions) -> Result<Artifact> {
        let cfg = &project.file;
        let data_cfg = project.data()?;
        let model_cfg = project.model()?;
        let Trained {
            loaded:
                data::Loaded {
                    table,
                    sha256: data_sha256,
                    objects: data_objects,
                },
            rows,
            encoding,
            scored,
            stats,
        } = self;
        Ok(Artifact {
            format: model::FORMAT.to_string(),
            name: model_cfg.name.clone(),
            kind: model_cfg.kind,
            params: scored.params,
            target: data_cfg.target.clone(),
            features: table.feature_names.clone(),
            categorical: encoding.categorical,
            intercept: scored.fitted.intercept,
            coefficients: scored.coefficients,
            missing: Missing {
                policy: data_cfg.missing,
                fill: encoding.fill_json,
                na_values: data_cfg.na_values.clone(),
            },
            metrics: Metrics {
                train: scored.train,
                validation: scored.validation,
            },
            feature_stats: stats.features,
            target_stats: stats.target,
            prediction_stats: Some(scored.prediction_stats),
            rows: Rows {
                total: table.rows() as u64,
                train: rows.train.len() as u64,
                validation: rows.valid.len() as u64,
                dropped: rows.dropped,
            },
            split: Split {
                validation_fraction: cfg.split.fraction(),
                seed: cfg.split.seed,
                validation_path: cfg.split.validation_path.clone(),
            },
            data_sha256,
            validation_data_sha256: rows.valid_sha256,
            data_objects,
            tool: Tool {
                name: "mlops".into(),
                version: crate::VERSION.into(),
            },
            created_at: opts.created_at.clone(),
            classifier: scored.classifier,
            inference: scored.fitted.inference.map(|b| *b),
        })
    }
}
