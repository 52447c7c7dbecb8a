//! The serde types of `[validate]`: absolute thresholds, the comparison
//! with a registered baseline, drift and data-check thresholds, and the
//! metrics the table knows.

use serde::{Deserialize, Serialize};

/// The metrics `[validate]` knows, in report order.
pub const VALIDATE_METRICS: &[&str] = &["r2", "rmse", "mae", "mape", "deviance"];

/// The metrics `[validate]` knows for classifiers, in report order.
pub const CLASSIFIER_METRICS: &[&str] = &[
    "accuracy",
    "log_loss",
    "auc",
    "auc_weighted",
    "average_precision",
    "brier",
    "precision",
    "recall",
    "f1",
    "ece",
];

/// `[validate]`: quality gates, baseline comparison, data and drift checks.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateSection {
    /// `[validate.thresholds]`: absolute gates on the validation metrics.
    #[serde(default)]
    pub thresholds: Thresholds,
    /// `[validate.baseline]`: comparison with a registered version.
    pub baseline: Option<BaselineSection>,
    /// `[validate.drift]`: drift of recent data against the training rows.
    pub drift: Option<DriftSection>,
    /// `[validate.data]`: thresholds of the data checks.
    #[serde(default)]
    pub data: DataChecksSection,
}

/// `[validate.thresholds]`: a bound per metric.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[allow(clippy::struct_field_names)]
pub struct Thresholds {
    /// R².
    pub r2: Option<Bound>,
    /// Root mean squared error.
    pub rmse: Option<Bound>,
    /// Mean absolute error.
    pub mae: Option<Bound>,
    /// Mean absolute percentage error (a fraction).
    pub mape: Option<Bound>,
    /// Mean Tweedie deviance (GLMs only).
    pub deviance: Option<Bound>,
    /// Accuracy (classifiers).
    pub accuracy: Option<Bound>,
    /// Log loss (classifiers).
    pub log_loss: Option<Bound>,
    /// ROC AUC; one-vs-rest macro when K > 2 (classifiers).
    pub auc: Option<Bound>,
    /// One-vs-rest ROC AUC weighted by prevalence (classifiers, K > 2).
    pub auc_weighted: Option<Bound>,
    /// Average precision (classifiers).
    pub average_precision: Option<Bound>,
    /// Brier score (classifiers).
    pub brier: Option<Bound>,
    /// Precision at the threshold (binary classifiers).
    pub precision: Option<Bound>,
    /// Recall at the threshold (binary classifiers).
    pub recall: Option<Bound>,
    /// F1 at the threshold (binary classifiers).
    pub f1: Option<Bound>,
    /// Expected calibration error over 10 bins (classifiers).
    pub ece: Option<Bound>,
}

impl Thresholds {
    /// Each metric's bound, in report order.
    #[must_use]
    pub fn by_metric(&self) -> [(&'static str, Option<Bound>); 15] {
        [
            ("r2", self.r2),
            ("rmse", self.rmse),
            ("mae", self.mae),
            ("mape", self.mape),
            ("deviance", self.deviance),
            ("accuracy", self.accuracy),
            ("log_loss", self.log_loss),
            ("auc", self.auc),
            ("auc_weighted", self.auc_weighted),
            ("average_precision", self.average_precision),
            ("brier", self.brier),
            ("precision", self.precision),
            ("recall", self.recall),
            ("f1", self.f1),
            ("ece", self.ece),
        ]
    }
}

/// `{ min = .., max = .. }`.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Bound {
    /// The metric must be at least this.
    pub min: Option<f64>,
    /// The metric must be at most this.
    pub max: Option<f64>,
}

/// `[validate.baseline]`: which registered version to compare with, and the rules.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineSection {
    /// The version now in this stage.
    pub stage: Option<String>,
    /// Or this version (`vX.Y.Z` of the model, or `NAME@vX.Y.Z`).
    pub version: Option<String>,
    /// The metrics compared (default: every metric both models report).
    pub metrics: Option<Vec<String>>,
    /// The candidate may be worse by at most this fraction of the baseline's value.
    pub max_relative_degradation: Option<f64>,
    /// The candidate may be worse by at most this much.
    pub max_absolute_degradation: Option<f64>,
    /// The candidate must be better by at least this fraction of the baseline's value.
    pub min_relative_improvement: Option<f64>,
    /// The candidate must be better by at least this much.
    pub min_absolute_improvement: Option<f64>,
    /// `[validate.baseline.r2]`: R²'s own rules.
    pub r2: Option<Rules>,
    /// `[validate.baseline.rmse]`: RMSE's own rules.
    pub rmse: Option<Rules>,
    /// `[validate.baseline.mae]`: MAE's own rules.
    pub mae: Option<Rules>,
    /// `[validate.baseline.mape]`: MAPE's own rules.
    pub mape: Option<Rules>,
    /// `[validate.baseline.deviance]`: the deviance's own rules.
    pub deviance: Option<Rules>,
    /// `[validate.baseline.accuracy]`: its own rules.
    pub accuracy: Option<Rules>,
    /// `[validate.baseline.log_loss]`: its own rules.
    pub log_loss: Option<Rules>,
    /// `[validate.baseline.auc]`: its own rules.
    pub auc: Option<Rules>,
    /// `[validate.baseline.auc_weighted]`: its own rules.
    pub auc_weighted: Option<Rules>,
    /// `[validate.baseline.average_precision]`: its own rules.
    pub average_precision: Option<Rules>,
    /// `[validate.baseline.brier]`: its own rules.
    pub brier: Option<Rules>,
    /// `[validate.baseline.precision]`: its own rules.
    pub precision: Option<Rules>,
    /// `[validate.baseline.recall]`: its own rules.
    pub recall: Option<Rules>,
    /// `[validate.baseline.f1]`: its own rules.
    pub f1: Option<Rules>,
    /// `[validate.baseline.ece]`: its own rules.
    pub ece: Option<Rules>,
}

/// The rules of a comparison with the baseline (all optional).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// The candidate may be worse by at most this fraction of the baseline's value.
    pub max_relative_degradation: Option<f64>,
    /// The candidate may be worse by at most this much.
    pub max_absolute_degradation: Option<f64>,
    /// The candidate must be better by at least this fraction of the baseline's value.
    pub min_relative_improvement: Option<f64>,
    /// The candidate must be better by at least this much.
    pub min_absolute_improvement: Option<f64>,
}

impl Rules {
    /// Each rule by name, set or not.
    #[must_use]
    pub fn by_name(&self) -> [(&'static str, Option<f64>); 4] {
        [
            ("max_relative_degradation", self.max_relative_degradation),
            ("max_absolute_degradation", self.max_absolute_degradation),
            ("min_relative_improvement", self.min_relative_improvement),
            ("min_absolute_improvement", self.min_absolute_improvement),
        ]
    }
}

impl BaselineSection {
    /// The rules of `[validate.baseline]` itself (for every metric).
    #[must_use]
    pub fn common_rules(&self) -> Rules {
        Rules {
            max_relative_degradation: self.max_relative_degradation,
            max_absolute_degradation: self.max_absolute_degradation,
            min_relative_improvement: self.min_relative_improvement,
            min_absolute_improvement: self.min_absolute_improvement,
        }
    }

    /// Each metric's own rules table, in report order.
    #[must_use]
    pub fn metric_rules(&self) -> [(&'static str, Option<Rules>); 15] {
        [
            ("r2", self.r2),
            ("rmse", self.rmse),
            ("mae", self.mae),
            ("mape", self.mape),
            ("deviance", self.deviance),
            ("accuracy", self.accuracy),
            ("log_loss", self.log_loss),
            ("auc", self.auc),
            ("auc_weighted", self.auc_weighted),
            ("average_precision", self.average_precision),
            ("brier", self.brier),
            ("precision", self.precision),
            ("recall", self.recall),
            ("f1", self.f1),
            ("ece", self.ece),
        ]
    }

    /// The rules that apply to `metric`: its own table, else the common ones.
    #[must_use]
    pub fn rules_for(&self, metric: &str) -> Rules {
        self.metric_rules()
            .into_iter()
            .find(|(m, _)| *m == metric)
            .and_then(|(_, r)| r)
            .unwrap_or_else(|| self.common_rules())
    }
}

/// `[validate.drift]`: recent data and the drift thresholds.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DriftSection {
    /// The recent data (CSV), relative to the project file.
    pub data: Option<String>,
    /// A feature fails when its population stability index is above this (default 0.2).
    pub max_psi: Option<f64>,
    /// A numeric feature fails when its KS p-value is below this (default 0.01).
    pub ks_p_value: Option<f64>,
    /// A categorical feature fails when its chi-square p-value is below this (default: `ks_p_value`).
    pub chi2_p_value: Option<f64>,
}

/// `[validate.data]`: thresholds of the data checks. Unset, the defaults
/// only warn; set, a share above the threshold fails the validation.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DataChecksSection {
    /// Largest share of missing cells in a feature (default 0, warns).
    pub max_missing: Option<f64>,
    /// Largest share of rows outside the training min/max of a numeric feature (default 0.05, warns).
    pub max_out_of_range: Option<f64>,
    /// Largest share of rows with a level unseen in training (default 0, warns).
    pub max_unseen: Option<f64>,
}
