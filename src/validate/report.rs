//! What `validate` returns: the [`Report`] and its parts (the candidate,
//! the rows evaluated, the drift section), as the CLI renders them and as
//! `--json` serialises them.

use serde::Serialize;

use crate::model::metrics::MetricSet;
use crate::stats::classification::ClassMetrics;

use super::baseline::BaselineInfo;
use super::checks::DataCheck;
use super::drift::{DriftThresholds, FeatureDrift};
use super::gates::Gate;

/// The candidate model as reported.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// The model name.
    pub name: String,
    /// The artifact path.
    pub artifact: String,
    /// Its metrics on the validation rows (a classifier's: of its
    /// probabilities against the one-hot classes).
    pub metrics: MetricSet,
    /// A classifier's classification metrics on the validation rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<ClassMetrics>,
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
    /// A classifier's predicted probabilities, one entry per class compared
    /// (`probability_CLASS`; binary: the positive class).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub predictions: Vec<FeatureDrift>,
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
