//! Models: the artifact format, fitting, prediction and metrics.
//!
//! The artifact is a JSON document (schema: `docs/schemas/model.schema.json`)
//! that holds everything needed to predict and to check new data: the
//! ordered input features, the categorical levels, the coefficients by
//! encoded name, the fill values of the missing-value policy, the training
//! statistics and metrics, and where the data came from.

pub mod classes;
pub mod fit;
pub mod inference;
pub mod likelihood;
pub mod metrics;
pub mod stats;

use std::path::Path;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, display_path};
use crate::project::{HandleUnknown, MissingPolicy, ModelKind};

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
    /// `kind = "linear"`: each coefficient's standard error, t, p-value and
    /// 95 % interval, and the fit's R², adjusted R², F, log-likelihood, AIC
    /// and BIC on the training rows, as statsmodels' OLS reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference: Option<inference::Inference>,
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
    /// The level that training levels with fewer than `data.min_level_count`
    /// rows were folded into (`"other"`); a level not among `levels` is
    /// read as this one. Absent when nothing was folded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,
    /// What a level not seen in training does (`data.handle_unknown`):
    /// `"error"` (absent) fails, `"ignore"` encodes it as all zeros.
    #[serde(default, skip_serializing_if = "HandleUnknown::is_error")]
    pub handle_unknown: HandleUnknown,
}

/// The name of the level rare levels are folded into (`data.min_level_count`).
pub const OTHER_LEVEL: &str = "other";

/// How categorical levels are kept: `data.min_level_count` and
/// `data.handle_unknown`.
#[derive(Debug, Clone, Copy)]
pub struct LevelRules {
    /// Levels with fewer training rows fold into [`OTHER_LEVEL`].
    pub min_count: u64,
    /// What a level not seen in training does.
    pub handle_unknown: HandleUnknown,
}

/// Whether `n` training rows can determine `terms` coefficients (and the
/// intercept); else an error naming the categorical column with the most
/// levels, the usual cause.
pub fn check_enough_rows(
    n: u64,
    terms: usize,
    intercept: bool,
    categorical: &IndexMap<String, Categorical>,
    origin: &str,
) -> Result<()> {
    let needed = terms + usize::from(intercept);
    if n >= needed as u64 {
        return Ok(());
    }
    let widest = categorical
        .iter()
        .max_by_key(|(_, c)| c.levels.len())
        .filter(|(_, c)| c.levels.len() > 2);
    Err(Error::data(match widest {
        Some((name, c)) => format!(
            "{origin}: {n} training rows cannot determine {needed} coefficients: categorical column \"{name}\" alone has {} levels; set data.min_level_count to fold its rare levels into \"{OTHER_LEVEL}\", list it in data.exclude, or add rows",
            c.levels.len()
        ),
        None => format!(
            "{origin}: {n} training rows cannot determine {needed} coefficients; add rows or drop features"
        ),
    }))
}

/// Levels a message about an unseen level names at most.
const LEVELS_NAMED: usize = 10;

impl Categorical {
    /// The trained levels of a column whose `levels` have `counts` training
    /// rows, sorted: those with at least `rules.min_count` rows, the others
    /// (met at least once) folded into [`OTHER_LEVEL`]; `None` when no
    /// training row has a level.
    #[must_use]
    pub fn from_counts(
        levels: &[String],
        counts: &[u64],
        rules: LevelRules,
        fit_intercept: bool,
    ) -> Option<Categorical> {
        let mut kept: Vec<String> = Vec::new();
        let mut folded = false;
        for (l, &c) in levels.iter().zip(counts) {
            if c >= rules.min_count.max(1) {
                kept.push(l.clone());
            } else if c > 0 {
                folded = true;
            }
        }
        if folded && !kept.iter().any(|l| l == OTHER_LEVEL) {
            kept.push(OTHER_LEVEL.to_string());
        }
        if kept.is_empty() {
            return None;
        }
        kept.sort();
        Some(Categorical {
            reference: fit_intercept.then(|| kept[0].clone()),
            levels: kept,
            other: folded.then(|| OTHER_LEVEL.to_string()),
            handle_unknown: rules.handle_unknown,
        })
    }

    /// The value a level not among `levels` takes: the `other` level when
    /// rare levels were folded into it, else all zeros under
    /// `handle_unknown = "ignore"`, else `None` (an error).
    #[must_use]
    pub fn unknown_value(&self) -> Option<Value> {
        if let Some(o) = &self.other
            && let Ok(i) = self.levels.binary_search(o)
        {
            return Some(Value::Level(i));
        }
        (self.handle_unknown == HandleUnknown::Ignore).then_some(Value::Unseen)
    }

    /// The value of level `s`: its index, else [`Categorical::unknown_value`].
    #[must_use]
    pub fn value_of(&self, s: &str) -> Option<Value> {
        match self.levels.binary_search_by(|l| l.as_str().cmp(s)) {
            Ok(i) => Some(Value::Level(i)),
            Err(_) => self.unknown_value(),
        }
    }

    /// The end of a message about unseen level `s`: the number of known
    /// levels and at most ten of them, never the whole list.
    #[must_use]
    pub fn unseen_message(&self, s: &str) -> String {
        let n = self.levels.len();
        let shown: Vec<&str> = self
            .levels
            .iter()
            .take(LEVELS_NAMED)
            .map(|l| clip(l, 40))
            .collect();
        let more = if n > LEVELS_NAMED { ", ..." } else { "" };
        let what = if n == 1 {
            "known level"
        } else {
            "known levels"
        };
        format!(
            "level \"{}\" was not seen in training ({n} {what}: {}{more})",
            clip(s, 40),
            shown.join(", ")
        )
    }
}

#[cfg(test)]
mod level_tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn rare_levels_fold_into_other() {
        let rules = LevelRules {
            min_count: 3,
            handle_unknown: HandleUnknown::Error,
        };
        let c =
            Categorical::from_counts(&strings(&["b", "a", "z", "y"]), &[5, 3, 1, 0], rules, true)
                .unwrap();
        assert_eq!(c.levels, strings(&["a", "b", "other"]));
        assert_eq!(c.reference.as_deref(), Some("a"));
        assert_eq!(c.other.as_deref(), Some("other"));
        assert!(matches!(c.value_of("z"), Some(Value::Level(2))));
        assert!(matches!(c.value_of("never"), Some(Value::Level(2))));
        assert!(matches!(c.value_of("b"), Some(Value::Level(1))));
        // Nothing rare: no `other`, and an unseen level is an error.
        let keep = LevelRules {
            min_count: 1,
            ..rules
        };
        let c = Categorical::from_counts(&strings(&["b", "a"]), &[5, 3], keep, false).unwrap();
        assert_eq!(c.other, None);
        assert_eq!(c.reference, None);
        assert!(c.value_of("z").is_none());
        let ignore = LevelRules {
            handle_unknown: HandleUnknown::Ignore,
            ..keep
        };
        let c = Categorical::from_counts(&strings(&["b"]), &[5], ignore, true).unwrap();
        assert!(matches!(c.value_of("z"), Some(Value::Unseen)));
        assert!(Categorical::from_counts(&strings(&["b"]), &[0], keep, true).is_none());
    }

    #[test]
    fn unseen_messages_name_ten_levels_and_the_count() {
        let levels: Vec<String> = (0..10_000).map(|i| format!("l{i:05}")).collect();
        let c = Categorical {
            levels,
            reference: None,
            other: None,
            handle_unknown: HandleUnknown::Error,
        };
        let m = c.unseen_message("zzz");
        assert!(
            m.starts_with("level \"zzz\" was not seen in training (10000 known levels: l00000, ")
        );
        assert!(m.ends_with("l00009, ...)"), "{m}");
        let one = Categorical {
            levels: strings(&["a"]),
            ..c
        };
        assert_eq!(
            one.unseen_message(&"x".repeat(100)),
            format!(
                "level \"{}\" was not seen in training (1 known level: a)",
                "x".repeat(40)
            )
        );
    }
}

/// At most `max` characters of `s`.
fn clip(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The missing-value policy as trained.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Missing {
    /// `error`, `drop-row` or `mean`.
    pub policy: MissingPolicy,
    /// Fill values by feature (policy `mean`): numbers or levels.
    pub fill: IndexMap<String, serde_json::Value>,
    /// Cell texts read as missing besides the empty cell (`data.na_values`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub na_values: Vec<String>,
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
    /// A level not seen in training, read under `handle_unknown =
    /// "ignore"`: every one-hot column of the feature is 0.
    Unseen,
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

impl Predictor {
    /// Predict one row of numbers (parallel to the artifact's `features`),
    /// with the very operations of [`Predictor::predict`] on the same row
    /// as [`Value::Number`]s, so the answer is the same to the last bit.
    /// For a model whose terms are all numeric ([`Predictor::numeric`]).
    #[must_use]
    pub fn predict_numbers(&self, row: &[f64]) -> f64 {
        let mut eta = self.intercept;
        for (t, b) in self.terms.iter().zip(&self.coefficients) {
            eta += match *t {
                Term::Numeric { feature } => b * row[feature],
                Term::Level { .. } => 0.0,
            };
        }
        match self.inverse {
            Inverse::Identity => eta,
            Inverse::Exp => eta.exp(),
        }
    }

    /// Whether every term is a number (no one-hot levels).
    #[must_use]
    pub fn numeric(&self) -> bool {
        self.terms.iter().all(|t| matches!(t, Term::Numeric { .. }))
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
        if !crate::registry::tag::valid_name(&a.name) {
            return Err(Error::usage(format!(
                "{origin}: the model name \"{}\" is not a model name (letters, digits, '-', '_' or '/', starting and ending with a letter or digit); the artifact is corrupt, retrain it",
                clip(&a.name.escape_debug().to_string(), 64)
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
