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
//! The library returns a [`Report`]; the CLI renders it and decides the
//! exit code from [`Report::passed`].

pub mod baseline;
pub mod checks;
pub mod drift;
pub mod gates;

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::data::{self, Column, MISSING_LEVEL, Selection, Table, split};
use crate::error::{Error, Result, display_path};
use crate::model::metrics::{self, MetricSet};
use crate::model::stats::ColumnStats;
use crate::model::{Artifact, Predictor, Value};
use crate::project::{MissingPolicy, ModelKind, Project, VALIDATE_METRICS, ValidateSection};
use crate::report::Progress;

pub use baseline::BaselineInfo;
pub use checks::{DataCheck, Verdict};
pub use drift::{DriftThresholds, FeatureDrift};
pub use gates::{Gate, GateKind};

/// Options that come from flags rather than the project file.
#[derive(Debug, Clone, Default)]
pub struct ValidateOptions {
    /// `--data`: evaluate on this CSV instead of the validation split.
    pub data: Option<PathBuf>,
    /// `--baseline`: a stage or `NAME@vX.Y.Z` (overrides `[validate.baseline]`).
    pub baseline: Option<String>,
    /// `--drift-data`: recent data (overrides `validate.drift.data`).
    pub drift_data: Option<PathBuf>,
}

/// The candidate model as reported.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// The model name.
    pub name: String,
    /// The artifact path.
    pub artifact: String,
    /// Its metrics on the validation rows.
    pub metrics: MetricSet,
}

/// The rows evaluated.
#[derive(Debug, Clone, Serialize)]
pub struct Rows {
    /// Where they come from, in words.
    pub source: String,
    /// Rows selected for evaluation.
    pub selected: u64,
    /// Rows scored (by the candidate and the baseline).
    pub scored: u64,
    /// Rows left out: a missing target, an unseen level, an empty cell
    /// without a fill value.
    pub skipped: u64,
}

/// The drift section of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    /// The recent data, when drift was checked.
    pub data: Option<String>,
    /// The thresholds.
    pub thresholds: DriftThresholds,
    /// One entry per feature.
    pub features: Vec<FeatureDrift>,
}

/// Everything `validate` found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Every gate passed, no data check failed, no feature drifted.
    pub passed: bool,
    /// Metric gates: thresholds, then baseline rules.
    pub gates: Vec<Gate>,
    /// Data checks of the validation rows.
    pub data_checks: Vec<DataCheck>,
    /// Drift per feature.
    pub drift: Drift,
    /// The candidate.
    pub candidate: Candidate,
    /// The baseline, when one was asked for.
    pub baseline: Option<BaselineInfo>,
    /// The rows evaluated.
    pub rows: Rows,
    /// Remarks that do not change the verdict.
    pub notes: Vec<String>,
}

/// Run every check of `[validate]` for the project's model.
#[allow(clippy::too_many_lines)]
pub fn validate(
    project: &Project,
    opts: &ValidateOptions,
    progress: &dyn Progress,
) -> Result<Report> {
    let cfg: ValidateSection = project.file.validate.clone().unwrap_or_default();
    let artifact_path = project.artifact_path()?;
    if !artifact_path.is_file() {
        return Err(Error::usage(format!(
            "there is no model artifact at {}; run `mlops train` first",
            display_path(&artifact_path)
        )));
    }
    let cand = Artifact::load(&artifact_path)?;
    let mut notes = Vec::new();

    // The baseline first: a registry error should not wait for the data.
    let spec = match (&opts.baseline, cfg.baseline.as_ref()) {
        (Some(s), _) => Some(baseline::Spec::parse(s, &cand.name, "--baseline")?),
        (None, Some(b)) => match (&b.stage, &b.version) {
            (Some(s), _) => Some(baseline::Spec::parse(
                s,
                &cand.name,
                &format!(
                    "{}: validate.baseline.stage",
                    project.locate("validate.baseline", "stage")
                ),
            )?),
            (None, Some(v)) => Some(baseline::Spec::parse(
                v,
                &cand.name,
                &format!(
                    "{}: validate.baseline.version",
                    project.locate("validate.baseline", "version")
                ),
            )?),
            (None, None) => None,
        },
        (None, None) => None,
    };
    let (mut base_info, base) = match &spec {
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

    // The columns both models read.
    let mut features = cand.features.clone();
    let mut categorical: Vec<String> = cand.categorical.keys().cloned().collect();
    if let Some(b) = &base {
        for f in &b.features {
            if !features.contains(f) {
                features.push(f.clone());
            }
            let bc = b.categorical.contains_key(f);
            let cc = categorical.contains(f);
            if cand.features.contains(f) && bc != cand.categorical.contains_key(f) {
                return Err(Error::usage(format!(
                    "feature \"{f}\" is {} in the baseline but {} in the candidate; they cannot be scored on the same rows",
                    if bc { "categorical" } else { "numeric" },
                    if bc { "numeric" } else { "categorical" }
                )));
            }
            if bc && !cc {
                categorical.push(f.clone());
            }
        }
    }

    // The evaluation rows.
    let drift_path = match (
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
    };
    let tolerant = |target: Option<String>, feats: &[String]| Selection {
        target,
        features: Some(feats.to_vec()),
        exclude: Vec::new(),
        categorical: categorical.clone(),
        missing: MissingPolicy::DropRow,
    };
    // The evaluation table is a file of its own, or the training table
    // (then held once, in `training`).
    let mut training: Option<Training> = None;
    let (own, rows, source) = match &opts.data {
        Some(p) => {
            let loaded = data::load(p, &tolerant(Some(cand.target.clone()), &features), progress)?;
            let n = loaded.table.rows();
            (
                Some(loaded.table),
                (0..n).collect::<Vec<_>>(),
                display_path(p),
            )
        }
        None => {
            let t = load_training(project, &cand, &features, &categorical, progress)?;
            if t.sha256 != cand.data_sha256 {
                notes.push(format!(
                    "the training data has changed since the model was trained (sha256 {} now, {} in the artifact); the validation rows may differ from train's",
                    &t.sha256[..12.min(t.sha256.len())],
                    &cand.data_sha256[..12.min(cand.data_sha256.len())]
                ));
            }
            let split_cfg = &project.file.split;
            let out = if let Some(vpath) = project.validation_file()? {
                let sel = Selection {
                    missing: t.policy,
                    ..tolerant(Some(cand.target.clone()), &features)
                };
                let vt = data::load(&vpath, &sel, progress)?.table;
                let idx: Vec<usize> = (0..vt.rows())
                    .filter(|&i| usable(&vt, i, t.policy, &cand.features))
                    .collect();
                (Some(vt), idx, display_path(&vpath))
            } else if split_cfg.fraction() > 0.0 {
                let what = format!(
                    "the validation split (split.validation_fraction = {}, seed {}) of {}",
                    split_cfg.fraction(),
                    split_cfg.seed,
                    t.table.origin
                );
                (None, t.valid_idx.clone(), what)
            } else {
                let what = format!(
                    "the training rows of {} (split.validation_fraction = 0)",
                    t.table.origin
                );
                (None, t.train_idx.clone(), what)
            };
            training = Some(t);
            out
        }
    };
    if drift_path.is_some() && training.is_none() {
        training = Some(load_training(
            project,
            &cand,
            &features,
            &categorical,
            progress,
        )?);
    }
    let table: &Table = match (&own, &training) {
        (Some(t), _) => t,
        (None, Some(t)) => &t.table,
        (None, None) => return Err(Error::data("there are no rows to evaluate")),
    };
    if rows.is_empty() {
        return Err(Error::data(format!(
            "{}: there are no validation rows to evaluate; add rows, raise split.validation_fraction or pass --data",
            table.origin
        )));
    }

    // Data checks on the candidate's features.
    let data_checks = checks::run(&cand, table, &rows, &cfg.data);

    // Score both models on the rows both can score.
    let cs = Scorer::new(&cand, table)?;
    let bs = match &base {
        Some(b) => Some(Scorer::new(b, table)?),
        None => None,
    };
    let mut y = Vec::with_capacity(rows.len());
    let mut pc = Vec::with_capacity(rows.len());
    let mut pb = Vec::new();
    for &i in &rows {
        let t = table.target[i];
        if t.is_nan() {
            continue;
        }
        let Some(c) = cs.score(table, i) else {
            continue;
        };
        let b = match &bs {
            Some(s) => match s.score(table, i) {
                Some(b) => Some(b),
                None => continue,
            },
            None => None,
        };
        y.push(t);
        pc.push(c);
        if let Some(b) = b {
            pb.push(b);
        }
    }
    if y.is_empty() {
        return Err(Error::data(format!(
            "{}: none of the {} validation rows can be scored (each has an empty target, an unseen level or an empty cell the model has no fill value for); see the data checks with --data, or fix the rows",
            table.origin,
            rows.len()
        )));
    }
    let cm = metrics::compute(&y, &pc, tweedie(&cand));
    let skipped = (rows.len() - y.len()) as u64;
    if skipped > 0 {
        notes.push(format!(
            "{skipped} of {} rows could not be scored and were left out of the metrics",
            rows.len()
        ));
    }

    // Gates.
    let mut gates_out = gates::thresholds(&cfg.thresholds, &cm);
    if let (Some(b), Some(info)) = (&base, base_info.as_mut()) {
        let bm = metrics::compute(&y, &pb, tweedie(b));
        let rules_cfg = cfg.baseline.clone().unwrap_or_default();
        let wanted: Vec<(&str, Vec<(&'static str, f64)>)> = match &rules_cfg.metrics {
            Some(ms) => ms.iter().map(String::as_str).collect::<Vec<_>>(),
            None => VALIDATE_METRICS.to_vec(),
        }
        .into_iter()
        .map(|m| (m, gates::rules(&rules_cfg.rules_for(m))))
        .collect();
        gates_out.extend(gates::baseline(&wanted, &cm, &bm));
        info.metrics = Some(bm);
    }

    // Drift.
    let dcfg = cfg.drift.clone().unwrap_or_default();
    let ks_p = dcfg.ks_p_value.unwrap_or(drift::DEFAULT_KS_P_VALUE);
    let thresholds = DriftThresholds {
        max_psi: dcfg.max_psi.unwrap_or(drift::DEFAULT_MAX_PSI),
        ks_p_value: ks_p,
        chi2_p_value: dcfg.chi2_p_value.unwrap_or(ks_p),
    };
    let mut drift_features = Vec::new();
    if let (Some(dp), Some(t)) = (&drift_path, &training) {
        let recent = data::load(dp, &tolerant(None, &cand.features), progress)?.table;
        drift_features = drift_of(&cand, t, &recent, &thresholds);
    }

    let report_passed = gates_out.iter().all(|g| g.passed)
        && data_checks.iter().all(|c| c.verdict != Verdict::Fail)
        && drift_features.iter().all(|f| f.passed);
    Ok(Report {
        passed: report_passed,
        gates: gates_out,
        data_checks,
        drift: Drift {
            data: drift_path.as_deref().map(display_path),
            thresholds,
            features: drift_features,
        },
        candidate: Candidate {
            name: cand.name.clone(),
            artifact: display_path(&artifact_path),
            metrics: cm,
        },
        baseline: base_info,
        rows: Rows {
            source,
            selected: rows.len() as u64,
            scored: y.len() as u64,
            skipped,
        },
        notes,
    })
}

/// The Tweedie power for metrics (GLMs report their deviance).
fn tweedie(a: &Artifact) -> Option<f64> {
    (a.kind == ModelKind::Glm).then(|| a.params.power.unwrap_or(0.0))
}

/// The project's training data with train's row assignment.
struct Training {
    table: Table,
    sha256: String,
    policy: MissingPolicy,
    train_idx: Vec<usize>,
    valid_idx: Vec<usize>,
}

/// Whether train uses row `i` under `policy` (judged on the model's features).
fn usable(t: &Table, i: usize, policy: MissingPolicy, model_features: &[String]) -> bool {
    match policy {
        MissingPolicy::Error => true,
        MissingPolicy::Mean => !t.target[i].is_nan(),
        MissingPolicy::DropRow => {
            !t.target[i].is_nan()
                && !t
                    .feature_names
                    .iter()
                    .zip(&t.features)
                    .any(|(n, c)| model_features.contains(n) && c.is_missing(i))
        }
    }
}

/// Load `[data]` as train does and assign its rows as train does.
fn load_training(
    project: &Project,
    cand: &Artifact,
    features: &[String],
    categorical: &[String],
    progress: &dyn Progress,
) -> Result<Training> {
    let dcfg = project.data()?;
    let files = project.data_files()?;
    let sel = Selection {
        target: Some(dcfg.target.clone()),
        features: Some(features.to_vec()),
        exclude: dcfg.exclude.clone(),
        categorical: categorical.to_vec(),
        missing: dcfg.missing,
    };
    let loaded = data::load_files(&files, &sel, progress)?;
    let table = loaded.table;
    let fraction = project.file.split.fraction();
    let seed = project.file.split.seed;
    let mut train_idx = Vec::new();
    let mut valid_idx = Vec::new();
    for i in 0..table.rows() {
        if !usable(&table, i, dcfg.missing, &cand.features) {
            continue;
        }
        if split::is_validation(seed, i as u64, fraction) {
            valid_idx.push(i);
        } else {
            train_idx.push(i);
        }
    }
    Ok(Training {
        table,
        sha256: loaded.sha256,
        policy: dcfg.missing,
        train_idx,
        valid_idx,
    })
}

/// Drift of every candidate feature: training rows against recent rows.
fn drift_of(
    cand: &Artifact,
    t: &Training,
    recent: &Table,
    th: &DriftThresholds,
) -> Vec<FeatureDrift> {
    let col = |tab: &'_ Table, name: &str| -> Option<usize> {
        tab.feature_names.iter().position(|n| n == name)
    };
    let mut out = Vec::new();
    for f in &cand.features {
        let (Some(ti), Some(ri)) = (col(&t.table, f), col(recent, f)) else {
            continue;
        };
        match (&t.table.features[ti], &recent.features[ri]) {
            (Column::Numeric(tv), Column::Numeric(rv)) => {
                let train: Vec<f64> = t.train_idx.iter().map(|&i| tv[i]).collect();
                let edges = match cand.feature_stats.get(f) {
                    Some(ColumnStats::Numeric(s)) => s.deciles.clone(),
                    _ => Vec::new(),
                };
                out.push(drift::numeric(f, &train, rv, &edges, th));
            }
            (
                Column::Categorical {
                    codes: tc,
                    levels: tl,
                },
                Column::Categorical {
                    codes: rc,
                    levels: rl,
                },
            ) => {
                // Levels: the training levels in order, then recent-only ones.
                let mut names: Vec<String> = cand
                    .categorical
                    .get(f)
                    .map(|c| c.levels.clone())
                    .unwrap_or_default();
                let mut index: HashMap<String, usize> = names
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (l.clone(), i))
                    .collect();
                let mut a =
                    level_counts(tc, tl, t.train_idx.iter().copied(), &mut names, &mut index);
                let mut b = level_counts(rc, rl, 0..recent.rows(), &mut names, &mut index);
                a.resize(names.len(), 0);
                b.resize(names.len(), 0);
                out.push(drift::categorical(f, &a, &b, th));
            }
            _ => {}
        }
    }
    out
}

/// Counts per level name of rows `idx`; new names are appended to `names`.
fn level_counts(
    codes: &[u32],
    levels: &[String],
    idx: impl Iterator<Item = usize>,
    names: &mut Vec<String>,
    index: &mut HashMap<String, usize>,
) -> Vec<u64> {
    let mut c = vec![0u64; names.len()];
    for i in idx {
        let code = codes[i];
        if code == MISSING_LEVEL {
            continue;
        }
        let l = &levels[code as usize];
        let k = match index.get(l) {
            Some(&k) => k,
            None => {
                names.push(l.clone());
                index.insert(l.clone(), names.len() - 1);
                names.len() - 1
            }
        };
        if c.len() <= k {
            c.resize(k + 1, 0);
        }
        c[k] += 1;
    }
    c
}

/// Scores rows of a table with one model.
struct Scorer {
    predictor: Predictor,
    /// Table column of each model feature.
    cols: Vec<usize>,
    /// Per model feature: table level code → model level index.
    levels: Vec<Option<Vec<Option<usize>>>>,
    /// Per model feature: the fill value of a missing cell.
    fills: Vec<Option<Value>>,
}

impl Scorer {
    fn new(a: &Artifact, t: &Table) -> Result<Scorer> {
        let mut cols = Vec::new();
        let mut levels = Vec::new();
        let mut fills = Vec::new();
        for f in &a.features {
            let ci = t.feature_names.iter().position(|n| n == f).ok_or_else(|| {
                Error::data(format!(
                    "{}:1: feature column \"{f}\" not in the header",
                    t.origin
                ))
            })?;
            cols.push(ci);
            let fill = a.missing.fill.get(f);
            match (&t.features[ci], a.categorical.get(f)) {
                (Column::Categorical { levels: tl, .. }, Some(c)) => {
                    levels.push(Some(
                        tl.iter().map(|l| c.levels.binary_search(l).ok()).collect(),
                    ));
                    fills.push(
                        fill.and_then(|v| v.as_str())
                            .and_then(|s| c.levels.binary_search(&s.to_string()).ok())
                            .map(Value::Level),
                    );
                }
                (Column::Numeric(_), None) => {
                    levels.push(None);
                    fills.push(fill.and_then(serde_json::Value::as_f64).map(Value::Number));
                }
                _ => {
                    return Err(Error::data(format!(
                        "{}: column \"{f}\" is not read the way the model reads it; check data.categorical",
                        t.origin
                    )));
                }
            }
        }
        Ok(Scorer {
            predictor: a.predictor()?,
            cols,
            levels,
            fills,
        })
    }

    /// The prediction for row `i`, or `None` when the model cannot score it.
    fn score(&self, t: &Table, i: usize) -> Option<f64> {
        let mut row = Vec::with_capacity(self.cols.len());
        for (k, &ci) in self.cols.iter().enumerate() {
            let v = match (&t.features[ci], &self.levels[k]) {
                (Column::Numeric(v), _) => {
                    if v[i].is_nan() {
                        self.fills[k]?
                    } else {
                        Value::Number(v[i])
                    }
                }
                (Column::Categorical { codes, .. }, Some(map)) => match codes[i] {
                    MISSING_LEVEL => self.fills[k]?,
                    c => Value::Level(map.get(c as usize).copied().flatten()?),
                },
                (Column::Categorical { .. }, None) => return None,
            };
            row.push(v);
        }
        Some(self.predictor.predict(&row))
    }
}
