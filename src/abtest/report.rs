//! The answer of an analysis: per-variant summaries, the sample ratio
//! check, each comparison with the control, power and sizing, CUPED and the
//! decision with its reasons. Plain data; the renderers live in the CLI.

use super::settings::{Settings, TestChoice};
use crate::stats::{PValue, TestResult};

/// One variant's summary.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantSummary {
    /// Its name.
    pub name: String,
    /// Units (rows, or distinct `--unit` values).
    pub n: u64,
    /// Mean of the metric (the rate for a binary metric).
    pub mean: f64,
    /// Sample standard deviation.
    pub sd: f64,
    /// Conversions of a binary metric.
    pub conversions: Option<u64>,
    /// CUPED-adjusted mean.
    pub adjusted_mean: Option<f64>,
}

/// Where the planned split of the sample ratio check came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanSource {
    /// `--split`.
    Flag,
    /// The input's `planned_share` column (a server's export).
    Export,
    /// `abtest.planned_split` in mlops.toml.
    ProjectFile,
    /// No plan: equal shares.
    Equal,
}

impl PlanSource {
    /// Its name in JSON.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PlanSource::Flag => "split_flag",
            PlanSource::Export => "export",
            PlanSource::ProjectFile => "project_file",
            PlanSource::Equal => "equal",
        }
    }

    /// In words, for the human report.
    #[must_use]
    pub fn words(self) -> &'static str {
        match self {
            PlanSource::Flag => "--split",
            PlanSource::Export => "the input's planned_share column (the server's split)",
            PlanSource::ProjectFile => "abtest.planned_split in mlops.toml",
            PlanSource::Equal => "equal shares (no --split, no planned_share column)",
        }
    }
}

/// The sample ratio mismatch check.
#[derive(Debug, Clone, PartialEq)]
pub struct SrmReport {
    /// Where the plan came from.
    pub source: PlanSource,
    /// Variants whose planned share changed during the experiment, with
    /// the shares seen (from the export).
    pub changed: Vec<(String, Vec<f64>)>,
    /// The chi-square statistic.
    pub chi2: f64,
    /// Degrees of freedom.
    pub df: f64,
    /// Its p-value.
    pub p: PValue,
    /// Planned shares, normalised to 1.
    pub planned: Vec<(String, f64)>,
    /// Observed counts.
    pub observed: Vec<(String, u64)>,
    /// Expected counts.
    pub expected: Vec<f64>,
    /// Each arm's `(O − E)²/E`.
    pub contributions: Vec<f64>,
    /// `p < 0.001`.
    pub mismatch: bool,
}

/// One variant against the control.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The variant.
    pub variant: String,
    /// The test used.
    pub test: TestChoice,
    /// Statistic, df and p-value.
    pub result: TestResult,
    /// Adjusted p-value.
    pub p_adjusted: f64,
    /// Variant − control.
    pub difference: f64,
    /// Interval of the difference.
    pub ci: [f64; 2],
    /// Relative lift `B/A − 1`.
    pub relative_lift: Option<f64>,
    /// Its interval.
    pub relative_ci: Option<[f64; 2]>,
    /// Posterior probability that the variant is better.
    pub chance_to_win: f64,
    /// Significant after correction.
    pub significant: bool,
    /// Why something is null.
    pub notes: Vec<String>,
    /// Standard error of the difference (for power).
    pub se: f64,
}

/// Power at the current sizes and sizing for `--mde`.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerReport {
    /// The power assumed.
    pub power: f64,
    /// Per comparison: (variant, absolute MDE, relative MDE).
    pub mde: Vec<(String, f64, Option<f64>)>,
    /// The `--mde` asked for.
    pub target_mde: Option<f64>,
    /// Units per arm needed for it.
    pub units_per_arm: Option<f64>,
}

/// The CUPED adjustment.
#[derive(Debug, Clone, PartialEq)]
pub struct CupedReport {
    /// The covariate column.
    pub covariate: String,
    /// θ.
    pub theta: f64,
    /// `1 − Var(adjusted)/Var(raw)`, pooled within arms.
    pub variance_reduction: f64,
}

/// The decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A challenger is significantly better.
    Ship,
    /// A challenger is significantly worse and none is better.
    Keep,
    /// Nothing significant.
    Inconclusive,
    /// Sample ratio mismatch or too little data.
    Invalid,
}

impl Decision {
    /// Its name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Ship => "ship",
            Decision::Keep => "keep",
            Decision::Inconclusive => "inconclusive",
            Decision::Invalid => "invalid",
        }
    }
}

/// The whole analysis.
#[derive(Debug, Clone)]
pub struct Report {
    /// Where the rows came from.
    pub origin: String,
    /// The settings used.
    pub settings: Settings,
    /// Rows read.
    pub rows: u64,
    /// The experiments the rows belong to (an export's `experiment` column;
    /// empty without one).
    pub experiments: Vec<String>,
    /// Control first, then the other variants in order of appearance.
    pub variants: Vec<VariantSummary>,
    /// Sample ratio mismatch.
    pub srm: SrmReport,
    /// Every variant against the control.
    pub comparisons: Vec<Comparison>,
    /// The family of the correction, in words.
    pub family: String,
    /// Power.
    pub power: PowerReport,
    /// CUPED, when a covariate was given.
    pub cuped: Option<CupedReport>,
    /// The decision.
    pub decision: Decision,
    /// Why.
    pub reasons: Vec<String>,
}
