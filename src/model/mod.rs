//! Models: the artifact format, fitting, prediction and metrics.
//!
//! The artifact is a JSON document (schema: `docs/schemas/model.schema.json`)
//! that holds everything needed to predict and to check new data: the
//! ordered input features, the categorical levels, the coefficients by
//! encoded name, the fill values of the missing-value policy, the training
//! statistics and metrics, and where the data came from.

pub mod classes;
pub mod fit;
pub mod metrics;
pub mod stats;

use std::path::Path;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, display_path};
use crate::project::{MissingPolicy, ModelKind};

/// The artifact format identifier written by this version.
pub const FORMAT: &str = "mlops.model/v2";

/// The previous format, still read: it lacks the training counts per decile
/// bin and the statistics of the training predictions, so live drift is not
/// measured for it.
pub const FORMAT_V1: &str = "mlops.model/v1";

/// A trained model as stored on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// Format identifier, [`FORMAT`].
    pub format: String,
    /// Registry name.
    pub name: String,
    /// Estimator kind.
    pub kind: ModelKind,
    /// Estimator parameters.
    pub params: Params,
    /// Target column.
    pub target: String,
    /// Input feature columns, in order.
    pub features: Vec<String>,
    /// Categorical columns: sorted levels and the reference level (dropped
    /// when there is an intercept).
    pub categorical: IndexMap<String, Categorical>,
    /// Intercept (0 without one).
    pub intercept: f64,
    /// Coefficient per encoded column (`col` or `col=level`), in design order.
    pub coefficients: IndexMap<String, f64>,
    /// Missing-value policy and its fill values.
    pub missing: Missing,
    /// Metrics on training and validation rows.
    pub metrics: Metrics,
    /// Training statistics per input feature.
    pub feature_stats: IndexMap<String, stats::ColumnStats>,
    /// Training statistics of the target.
    pub target_stats: stats::NumericStats,
    /// Statistics of the model's predictions on its training rows (a
    /// classifier's score, as `serve` reports it), with the counts per
    /// decile bin; the expected distribution of the prediction drift gauge.
    /// Absent in `mlops.model/v1` artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction_stats: Option<stats::NumericStats>,
    /// Row counts.
    pub rows: Rows,
    /// How validation rows were chosen.
    pub split: Split,
    /// SHA-256 of the training file's bytes.
    pub data_sha256: String,
    /// SHA-256 of the validation file's bytes, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_data_sha256: Option<String>,
    /// The objects in storage the training data was read from (URL, ETag,
    /// version); absent for local files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_objects: Vec<crate::data::store::DataObject>,
    /// The tool that wrote the artifact.
    pub tool: Tool,
    /// When it was written (RFC 3339, UTC).
    pub created_at: String,
    /// Classifiers only: classes, per-class linear predictors, convergence
    /// and classification metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classifier: Option<classes::ClassifierPart>,
}

/// Estimator parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Whether an intercept was fitted.
    pub fit_intercept: bool,
    /// GLM: Tweedie power.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power: Option<f64>,
    /// GLM: the link function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<GlmLink>,
    /// GLM: L2 penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// GLM: solver iterations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_iter: Option<u64>,
}

/// The link function of a fitted GLM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GlmLink {
    /// mean = linear predictor
    Identity,
    /// mean = exp(linear predictor)
    Log,
}

/// A categorical column's encoding.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Categorical {
    /// Levels seen in training, sorted.
    pub levels: Vec<String>,
    /// The level without its own column (the first), when there is an intercept.
    pub reference: Option<String>,
}

/// The missing-value policy as trained.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Missing {
    /// `error`, `drop-row` or `mean`.
    pub policy: MissingPolicy,
    /// Fill values by feature (policy `mean`): numbers or levels.
    pub fill: IndexMap<String, serde_json::Value>,
}

/// Training and validation metrics.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// On the rows the model was fitted on.
    pub train: metrics::MetricSet,
    /// On held-out rows; `null` when there are none.
    pub validation: Option<metrics::MetricSet>,
}

/// Row counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rows {
    /// Data rows read from the training file.
    pub total: u64,
    /// Rows fitted on.
    pub train: u64,
    /// Rows held out (from the file or the validation file).
    pub validation: u64,
    /// Rows left out because of missing cells.
    pub dropped: u64,
}

/// The split as applied.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Split {
    /// Share of rows held out.
    pub validation_fraction: f64,
    /// Seed of the assignment.
    pub seed: u64,
    /// The validation file, as written in `mlops.toml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_path: Option<String>,
}

/// The writer of an artifact.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// "mlops".
    pub name: String,
    /// Its version.
    pub version: String,
}

/// One term of the linear predictor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    /// The value of numeric feature `feature`.
    Numeric {
        /// Index into `features`.
        feature: usize,
    },
    /// 1 when categorical feature `feature` has level `level`, else 0.
    Level {
        /// Index into `features`.
        feature: usize,
        /// Index into the feature's sorted levels.
        level: usize,
    },
}

/// The name of a one-hot column.
#[must_use]
pub fn level_column(feature: &str, level: &str) -> String {
    format!("{feature}={level}")
}

/// The design terms for features and sorted levels; with an intercept the
/// first level of each categorical feature is the reference and gets no term.
#[must_use]
pub fn design_terms(
    features: &[String],
    categorical: &IndexMap<String, Categorical>,
) -> (Vec<Term>, Vec<String>) {
    let mut terms = Vec::new();
    let mut names = Vec::new();
    for (fi, f) in features.iter().enumerate() {
        match categorical.get(f) {
            None => {
                terms.push(Term::Numeric { feature: fi });
                names.push(f.clone());
            }
            Some(c) => {
                for (li, l) in c.levels.iter().enumerate() {
                    if c.reference.as_deref() == Some(l.as_str()) {
                        continue;
                    }
                    terms.push(Term::Level {
                        feature: fi,
                        level: li,
                    });
                    names.push(level_column(f, l));
                }
            }
        }
    }
    (terms, names)
}

/// The inverse link of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inverse {
    /// Prediction = linear predictor.
    Identity,
    /// Prediction = exp(linear predictor).
    Exp,
}

/// A model ready to predict: coefficients laid out per term.
#[derive(Debug, Clone)]
pub struct Predictor {
    /// Terms of the linear predictor.
    pub terms: Vec<Term>,
    /// Coefficient per term.
    pub coefficients: Vec<f64>,
    /// Intercept.
    pub intercept: f64,
    /// Inverse link.
    pub inverse: Inverse,
}

/// One input value of a row.
#[derive(Debug, Clone, Copy)]
pub enum Value {
    /// A number.
    Number(f64),
    /// Index of a known level.
    Level(usize),
}

impl Predictor {
    /// Predict one row (values parallel to the artifact's `features`).
    #[must_use]
    pub fn predict(&self, row: &[Value]) -> f64 {
        let mut eta = self.intercept;
        for (t, b) in self.terms.iter().zip(&self.coefficients) {
            eta += match (*t, row[term_feature(*t)]) {
                (Term::Numeric { .. }, Value::Number(x)) => b * x,
                (Term::Level { level, .. }, Value::Level(l)) if l == level => *b,
                _ => 0.0,
            };
        }
        match self.inverse {
            Inverse::Identity => eta,
            Inverse::Exp => eta.exp(),
        }
    }
}

fn term_feature(t: Term) -> usize {
    match t {
        Term::Numeric { feature } | Term::Level { feature, .. } => feature,
    }
}

impl Artifact {
    /// Read and check an artifact file.
    pub fn load(path: &Path) -> Result<Artifact> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("read the model", path, &e))?;
        Artifact::from_slice(&bytes, &display_path(path))
    }

    /// Parse and check artifact JSON; `origin` names it in errors.
    pub fn from_slice(bytes: &[u8], origin: &str) -> Result<Artifact> {
        let a: Artifact = serde_json::from_slice(bytes).map_err(|e| {
            Error::usage(format!(
                "{origin}:{}:{}: not a valid mlops model artifact: {e}; retrain with `mlops train`",
                e.line(),
                e.column()
            ))
        })?;
        if a.format != FORMAT && a.format != FORMAT_V1 {
            return Err(Error::usage(format!(
                "{origin}: model format \"{}\" is not supported by this mlops (which reads \"{FORMAT}\" and \"{FORMAT_V1}\"); retrain or upgrade mlops",
                a.format
            )));
        }
        a.predictor()?;
        a.class_predictor()?;
        Ok(a)
    }

    /// The predictor of this artifact.
    pub fn predictor(&self) -> Result<Predictor> {
        let (terms, names) = design_terms(&self.features, &self.categorical);
        let mut coefficients = Vec::with_capacity(names.len());
        for n in &names {
            match self.coefficients.get(n) {
                Some(c) => coefficients.push(*c),
                None => {
                    return Err(Error::usage(format!(
                        "the model artifact has no coefficient for \"{n}\"; it is corrupt, retrain it"
                    )));
                }
            }
        }
        if names.len() != self.coefficients.len() {
            return Err(Error::usage(
                "the model artifact has coefficients for columns it does not use; it is corrupt, retrain it",
            ));
        }
        let inverse = if self.kind == ModelKind::Glm && self.params.link == Some(GlmLink::Log) {
            Inverse::Exp
        } else {
            Inverse::Identity
        };
        Ok(Predictor {
            terms,
            coefficients,
            intercept: self.intercept,
            inverse,
        })
    }

    /// The classifier's predictor: `None` for a regression; an error when
    /// the kind and the classifier part disagree.
    pub fn class_predictor(&self) -> Result<Option<classes::ClassPredictor>> {
        match (&self.classifier, self.kind.is_classifier()) {
            (Some(c), true) => {
                let (terms, names) = design_terms(&self.features, &self.categorical);
                c.predictor(&terms, &names).map(Some)
            }
            (None, false) => Ok(None),
            _ => Err(Error::usage(
                "the model artifact's kind and its classifier part disagree; it is corrupt, retrain it",
            )),
        }
    }

    /// The model as pretty JSON.
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}
