//! `validate`: may this model go on? Quality gates on the validation
//! metrics, the comparison with a registered baseline, checks of the
//! validation data, and drift of recent data against the training rows.
//!
//! The rows: `--data CSV` when given; else the project's validation rows,
//! recomputed exactly as `train` chose them (same files, same missing-value
//! rule, same [`crate::data::split`] decision per row, or
//! `split.validation_path`); else, when the validation fraction is 0, the
//! training rows. The candidate and the baseline are scored on the same
//! rows: those both can score (a row with an unseen level, or an empty cell
//! the model has no fill value for, is left out and counted).
//!
//! A classifier (`logistic`, `multinomial`) is scored on its probabilities:
//! its gates are on the classification metrics (`auc`, `log_loss`, ...), the
//! baseline must be a classifier of the same classes, and drift is checked
//! on the predicted probabilities too.
//!
//! The library returns a [`Report`]; the CLI renders it and decides the
//! exit code from [`Report::passed`].

pub mod baseline;
pub mod checks;
mod columns;
pub mod drift;
mod evaluation;
mod feature_drift;
pub mod gates;
mod prediction_drift;
pub mod prediction_log;
mod report;
mod scorer;
mod training;

use std::path::PathBuf;

use crate::error::{Error, Result, display_path};
use crate::model::Artifact;
use crate::model::metrics::{self, MetricSet};
use crate::project::{CLASSIFIER_METRICS, ModelKind, Project, VALIDATE_METRICS, ValidateSection};
use crate::report::Progress;
use crate::stats::classification::ClassMetrics;

pub use baseline::BaselineInfo;
pub use checks::{DataCheck, Verdict};
pub use drift::{DriftThresholds, FeatureDrift};
pub use gates::{Gate, GateKind};
pub use report::{Candidate, Drift, Report, Rows};

use columns::Columns;
use evaluation::Evaluation;
use scorer::Scores;

/// Options that come from flags rather than the project file.
#[derive(Debug, Clone, Default)]
pub struct ValidateOptions {
    /// `--data`: evaluate on this CSV instead of the validation split.
    pub data: Option<PathBuf>,
    /// `--baseline`: a stage or `NAME@vX.Y.Z` (overrides `[validate.baseline]`).
    pub baseline: Option<String>,
    /// `--drift-data`: recent data (overrides `validate.drift.data`).
    pub drift_data: Option<PathBuf>,
    /// `--since`: seconds; only the prediction log's lines that recent.
    pub since: Option<f64>,
}

/// Run every check of `[validate]` for the project's model.
pub fn validate(
    project: &Project,
    opts: &ValidateOptions,
    progress: &dyn Progress,
) -> Result<Report> {
    let cfg: ValidateSection = project.file.validate.clone().unwrap_or_default();
    let artifact_path = project.artifact_path()?;
    let cand = load_candidate(&artifact_path)?;
    let mut notes = Vec::new();
    // The baseline first: a registry error should not wait for the data.
    let (mut base_info, base) = compared_with(project, opts, &cfg, &cand, &mut notes)?;
    let columns = Columns::of(&cand, base.as_ref())?;
    let drift_path = drift_path(project, opts, &cfg)?;
    if opts.since.is_some() && drift_path.is_none() {
        return Err(Error::usage(
            "--since filters the prediction log given to --drift-data (or validate.drift.data), and there is none; add --drift-data LOG",
        ));
    }
    let mut eval = Evaluation::load(
        project,
        opts.data.as_deref(),
        &cand,
        &columns,
        progress,
        &mut notes,
    )?;
    if drift_path.is_some() {
        eval.ensure_training(project, &cand, &columns, progress)?;
    }
    let table = eval.table()?;
    let data_checks = checks::run(&cand, table, &eval.rows, &cfg.data);
    let scores = Scores::of(&cand, base.as_ref(), table, &eval.rows)?;
    let (cm, cc) = measure(&cand, &scores.y, &scores.candidate)?;
    let rows = rows_evaluated(&eval, &scores, &mut notes);
    let gates = gates_of(
        &cfg,
        (&cm, cc.as_ref()),
        base.as_ref(),
        base_info.as_mut(),
        &scores,
    )?;
    if nothing_configured(&cfg, &gates, base_info.as_ref(), drift_path.as_ref()) {
        notes.push(NO_GATES.to_string());
    }
    let dcfg = cfg.drift.clone().unwrap_or_default();
    let thresholds = feature_drift::thresholds(&dcfg);
    let (drift_features, drift_predictions) = match (&drift_path, &eval.training) {
        (Some(dp), Some(t)) => {
            let since = opts.since.map(|s| now_secs() - s);
            feature_drift::of_recent(dp, since, &cand, t, &columns, &thresholds, progress)?
        }
        _ => (Vec::new(), Vec::new()),
    };
    let passed = gates.iter().all(|g| g.passed)
        && data_checks.iter().all(|c| c.verdict != Verdict::Fail)
        && drift_features.iter().all(|f| f.passed)
        && drift_predictions.iter().all(|f| f.passed);
    Ok(Report {
        passed,
        gates,
        data_checks,
        drift: Drift {
            data: drift_path.as_deref().map(display_path),
            thresholds,
            features: drift_features,
            predictions: drift_predictions,
        },
        candidate: Candidate {
            name: cand.name.clone(),
            artifact: display_path(&artifact_path),
            metrics: cm,
            classification: cc,
        },
        baseline: base_info,
        rows,
        notes,
    })
}

/// The note of a `validate` with nothing to check but the default data checks.
pub const NO_GATES: &str = "no gates configured: [validate.thresholds], [validate.baseline], [validate.drift] and [validate.data] set nothing and --baseline was not given, so only the default data checks ran (they warn, never fail); add a gate to mlops.toml, e.g. r2 = { min = 0.8 } under [validate.thresholds]";

/// Whether no gate, baseline, drift check or data-check limit is configured.
fn nothing_configured(
    cfg: &ValidateSection,
    gates: &[Gate],
    base_info: Option<&BaselineInfo>,
    drift_path: Option<&PathBuf>,
) -> bool {
    let d = &cfg.data;
    gates.is_empty()
        && base_info.is_none()
        && cfg.baseline.is_none()
        && drift_path.is_none()
        && d.max_missing.is_none()
        && d.max_out_of_range.is_none()
        && d.max_unseen.is_none()
}

/// Now, Unix seconds.
fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The candidate: the project's trained artifact.
fn load_candidate(artifact_path: &std::path::Path) -> Result<Artifact> {
    if !artifact_path.is_file() {
        return Err(Error::usage(format!(
            "there is no model artifact at {}; run `mlops train` first",
            display_path(artifact_path)
        )));
    }
    Artifact::load(artifact_path)
}

/// The baseline asked for (by `--baseline` or `[validate.baseline]`), its
/// info and its artifact; its note, when any, goes to `notes`.
fn compared_with(
    project: &Project,
    opts: &ValidateOptions,
    cfg: &ValidateSection,
    cand: &Artifact,
    notes: &mut Vec<String>,
) -> Result<(Option<BaselineInfo>, Option<Artifact>)> {
    let spec = baseline::requested(
        project,
        opts.baseline.as_deref(),
        cfg.baseline.as_ref(),
        &cand.name,
    )?;
    let (base_info, base) = match &spec {
        Some(s) => {
            let (info, art) = baseline::resolve(project, s, &cand.name)?;
            if let Some(n) = &info.note {
                notes.push(n.clone());
            }
            (Some(info), art)
        }
        None => (None, None),
    };
    if let Some(b) = &base
        && b.target != cand.target
    {
        return Err(Error::usage(format!(
            "the baseline predicts \"{}\" but the candidate predicts \"{}\"; compare models of the same target",
            b.target, cand.target
        )));
    }
    if let Some(b) = &base {
        same_classes(b, cand)?;
    }
    Ok((base_info, base))
}

/// A classifier is compared with a classifier of the same classes, a
/// regression with a regression.
fn same_classes(b: &Artifact, cand: &Artifact) -> Result<()> {
    let classes = |a: &Artifact| a.classifier.as_ref().map(|c| c.classes.clone());
    match (classes(b), classes(cand)) {
        (None, None) => Ok(()),
        (Some(bc), Some(cc)) if bc == cc => Ok(()),
        (Some(bc), Some(cc)) => Err(Error::usage(format!(
            "the baseline's classes ({}) differ from the candidate's ({}); compare classifiers trained on the same classes",
            bc.join(", "),
            cc.join(", ")
        ))),
        _ => Err(Error::usage(format!(
            "the baseline is a {} (kind = \"{}\") but the candidate is a {} (kind = \"{}\"); compare models of the same kind",
            if b.kind.is_classifier() {
                "classifier"
            } else {
                "regression"
            },
            b.kind.as_str(),
            if cand.kind.is_classifier() {
                "classifier"
            } else {
                "regression"
            },
            cand.kind.as_str()
        ))),
    }
}

/// A model's metrics on the scored rows: the regression metrics (a
/// classifier's: of its probabilities), and a classifier's classification
/// metrics, computed as `train` computes them.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn measure(a: &Artifact, y: &[f64], pred: &[f64]) -> Result<(MetricSet, Option<ClassMetrics>)> {
    match a.class_predictor()? {
        Some(cp) => {
            let classes: Vec<usize> = y.iter().map(|&c| c as usize).collect();
            let (c, r) = crate::model::classes::evaluate(
                &cp.classes,
                cp.positive,
                cp.threshold,
                &classes,
                pred,
                "validation",
            )?;
            Ok((r, Some(c)))
        }
        None => Ok((metrics::compute(y, pred, tweedie(a)), None)),
    }
}

/// The recent data to check for drift: `--drift-data`, else
/// `validate.drift.data` (which must exist).
fn drift_path(
    project: &Project,
    opts: &ValidateOptions,
    cfg: &ValidateSection,
) -> Result<Option<PathBuf>> {
    Ok(
        match (
            &opts.drift_data,
            cfg.drift.as_ref().and_then(|d| d.data.as_ref()),
        ) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(p)) => {
                let full = project.resolve(p);
                crate::project::require_file(
                    &full,
                    &project.locate("validate.drift", "data"),
                    "validate.drift.data",
                )?;
                Some(full)
            }
            (None, None) => None,
        },
    )
}

/// The rows as reported; a note when some could not be scored.
fn rows_evaluated(eval: &Evaluation, scores: &Scores, notes: &mut Vec<String>) -> Rows {
    let rows = &eval.rows;
    let skipped = (rows.len() - scores.y.len()) as u64;
    if skipped > 0 {
        notes.push(format!(
            "{skipped} of {} rows could not be scored and were left out of the metrics",
            rows.len()
        ));
    }
    Rows {
        source: eval.source.clone(),
        selected: rows.len() as u64,
        scored: scores.y.len() as u64,
        skipped,
    }
}

/// The metric gates: thresholds, then the baseline rules (which also fill
/// in the baseline's metrics).
fn gates_of(
    cfg: &ValidateSection,
    (cm, cc): (&MetricSet, Option<&ClassMetrics>),
    base: Option<&Artifact>,
    base_info: Option<&mut BaselineInfo>,
    scores: &Scores,
) -> Result<Vec<Gate>> {
    let cand = gates::Measured {
        regression: cm,
        classification: cc,
    };
    let mut gates_out = gates::thresholds(&cfg.thresholds, &cand);
    if let (Some(b), Some(info)) = (base, base_info) {
        let (bm, bc) = measure(b, &scores.y, &scores.baseline)?;
        let rules_cfg = cfg.baseline.clone().unwrap_or_default();
        let all = if b.kind.is_classifier() {
            CLASSIFIER_METRICS
        } else {
            VALIDATE_METRICS
        };
        let wanted: Vec<(&str, Vec<(&'static str, f64)>)> = match &rules_cfg.metrics {
            Some(ms) => ms.iter().map(String::as_str).collect::<Vec<_>>(),
            None => all.to_vec(),
        }
        .into_iter()
        .map(|m| (m, gates::rules(&rules_cfg.rules_for(m))))
        .collect();
        let base_m = gates::Measured {
            regression: &bm,
            classification: bc.as_ref(),
        };
        gates_out.extend(gates::baseline(&wanted, &cand, &base_m));
        info.metrics = Some(bm);
        info.classification = bc;
    }
    Ok(gates_out)
}

/// The Tweedie power for metrics (GLMs report their deviance).
fn tweedie(a: &Artifact) -> Option<f64> {
    (a.kind == ModelKind::Glm).then(|| a.params.power.unwrap_or(0.0))
}
