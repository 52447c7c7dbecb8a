//! The project file, `mlops.toml`: its serde types, discovery up the parent
//! folders (as cargo finds `Cargo.toml`), and errors that name the key, its
//! line and the nearest valid key.
//!
//! Every table denies unknown fields; semantic checks (ranges, combinations)
//! run in [`Project::load`] right after parsing so that every later step can
//! trust the values.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, display_path};

/// The file name looked for in the current folder and its parents.
pub const FILE_NAME: &str = "mlops.toml";

/// The parsed project file, plus where it was found.
#[derive(Debug, Clone)]
pub struct Project {
    /// Absolute path of the project file.
    pub path: PathBuf,
    /// The folder holding it; relative paths inside are relative to it.
    pub root: PathBuf,
    /// The parsed content.
    pub file: ProjectFile,
    /// The file's text, to point at keys in later messages.
    pub source: String,
}

/// The content of `mlops.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    /// `[project]`
    #[serde(default)]
    pub project: ProjectSection,
    /// `[data]` (needed by `train`)
    pub data: Option<DataSection>,
    /// `[split]`
    #[serde(default)]
    pub split: SplitSection,
    /// `[model]` (needed by `train`, and by `predict` without `--model`)
    pub model: Option<ModelSection>,
    /// `[abtest]`: defaults of `abtest-analyze`
    pub abtest: Option<AbtestSection>,
    /// `[registry]`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistrySection>,
    /// `[validate]`: gates of `mlops validate`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate: Option<ValidateSection>,
    /// `[environments.NAME]`: deploy targets; NAME is the registry stage.
    #[serde(default, skip_serializing_if = "indexmap::IndexMap::is_empty")]
    pub environments: indexmap::IndexMap<String, EnvironmentSection>,
    /// `[serve]`: the model server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serve: Option<ServeSection>,
}

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
}

impl Thresholds {
    /// Each metric's bound, in report order.
    #[must_use]
    pub fn by_metric(&self) -> [(&'static str, Option<Bound>); 5] {
        [
            ("r2", self.r2),
            ("rmse", self.rmse),
            ("mae", self.mae),
            ("mape", self.mape),
            ("deviance", self.deviance),
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
    pub fn metric_rules(&self) -> [(&'static str, Option<Rules>); 5] {
        [
            ("r2", self.r2),
            ("rmse", self.rmse),
            ("mae", self.mae),
            ("mape", self.mape),
            ("deviance", self.deviance),
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

/// `environments.NAME.target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// A folder of releases with a `current` link, watched by `mlops serve --env`.
    Local,
    /// The admin API of a running `mlops serve`.
    Http,
    /// Kubernetes manifests (applied with kubectl when `apply = true`).
    Kubernetes,
}

impl TargetKind {
    /// The name used in the project file.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Local => "local",
            TargetKind::Http => "http",
            TargetKind::Kubernetes => "kubernetes",
        }
    }
}

/// `[environments.NAME]`: one deploy target. Which keys apply depends on
/// `target`; [`parse`] refuses keys of another target.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSection {
    /// `local`, `http` or `kubernetes`.
    pub target: TargetKind,
    /// local: the environment folder; kubernetes: where manifests are written.
    pub path: Option<PathBuf>,
    /// local: releases kept (default 5).
    pub keep: Option<u32>,
    /// http: base URL of the server's admin API.
    pub url: Option<String>,
    /// http: the environment variable holding the admin bearer token.
    pub token_env: Option<String>,
    /// http: readiness check after an upload.
    pub health: Option<HealthSection>,
    /// http: validation rows sent as a smoke test (default 5).
    pub smoke_rows: Option<usize>,
    /// kubernetes: pod replicas (default 1).
    pub replicas: Option<u32>,
    /// kubernetes: the image running `mlops serve`.
    pub image: Option<String>,
    /// kubernetes: the namespace.
    pub namespace: Option<String>,
    /// kubernetes: container resource requests and limits.
    pub resources: Option<ResourcesSection>,
    /// kubernetes: `kubectl apply` and wait for the rollout (default false).
    pub apply: Option<bool>,
}

/// `environments.NAME.health`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HealthSection {
    /// Readiness path (default `/v2/health/ready`).
    pub path: Option<String>,
    /// Seconds to wait for each attempt (default 30).
    pub timeout_s: Option<f64>,
    /// Attempts after the first (default 5).
    pub retries: Option<u32>,
}

/// `environments.NAME.resources`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResourcesSection {
    /// Requested resources.
    pub requests: Option<ResourceList>,
    /// Resource limits.
    pub limits: Option<ResourceList>,
}

/// Kubernetes quantities, e.g. `cpu = "250m"`, `memory = "128Mi"`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceList {
    /// CPU quantity.
    pub cpu: Option<String>,
    /// Memory quantity.
    pub memory: Option<String>,
}

/// `[serve]`: defaults of `mlops serve`; flags override them.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServeSection {
    /// Address to listen on (default `127.0.0.1:8080`).
    pub bind: Option<String>,
    /// The environment variable holding the admin API's bearer token; no
    /// token, no admin API.
    pub admin_token_env: Option<String>,
    /// JSON Lines prediction log.
    pub prediction_log: Option<PathBuf>,
    /// Rotate the prediction log past this size (default 100 MiB).
    pub log_max_bytes: Option<u64>,
    /// Rotated logs kept (default 5).
    pub log_keep: Option<u32>,
    /// Largest request body (default 1 MiB; larger is 413).
    pub max_body_bytes: Option<u64>,
    /// Most rows in one request (default 10,000).
    pub max_batch_rows: Option<usize>,
    /// Per-request timeout in seconds (default 10).
    pub timeout_s: Option<f64>,
    /// TLS certificate and key (PEM).
    pub tls: Option<TlsSection>,
}

/// `serve.tls`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// Certificate chain, PEM.
    pub cert: PathBuf,
    /// Private key, PEM.
    pub key: PathBuf,
}

/// `[registry]`: where tags are pushed and which stages exist.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrySection {
    /// The git remote `--push` pushes tags to; default `origin`.
    pub remote: Option<String>,
    /// The stages (environments) versions can be assigned to.
    #[serde(default)]
    pub stages: Vec<String>,
}

/// `[abtest]`: defaults of `mlops abtest-analyze`; flags override them.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AbtestSection {
    /// The metric column.
    pub metric: Option<String>,
    /// `continuous` or `binary`.
    pub kind: Option<AbtestKind>,
    /// The control variant.
    pub control: Option<String>,
    /// Significance level.
    pub alpha: Option<f64>,
    /// The planned allocation, variant to weight.
    pub planned_split: Option<indexmap::IndexMap<String, f64>>,
    /// The column naming the variant.
    pub variant_column: Option<String>,
    /// The test.
    pub test: Option<AbtestTest>,
    /// The multiple-comparison correction.
    pub correction: Option<AbtestCorrection>,
    /// Aggregate rows per unit in this column.
    pub unit: Option<String>,
    /// CUPED covariate column.
    pub covariate: Option<String>,
    /// Relative minimum detectable effect for sizing.
    pub mde: Option<f64>,
    /// `increase` (higher is better) or `decrease`.
    pub direction: Option<AbtestDirection>,
}

/// `abtest.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AbtestKind {
    /// Any real number.
    Continuous,
    /// 0/1 or true/false.
    Binary,
}

/// `abtest.test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AbtestTest {
    /// Choose by kind and counts.
    Auto,
    /// Welch's t.
    Welch,
    /// Student's t.
    Student,
    /// Mann–Whitney U.
    MannWhitney,
    /// Pooled z.
    Z,
    /// Chi-square.
    Chi2,
    /// Fisher's exact test.
    Fisher,
}

/// `abtest.correction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AbtestCorrection {
    /// Holm.
    Holm,
    /// Bonferroni.
    Bonferroni,
    /// Benjamini–Hochberg.
    Bh,
    /// None.
    None,
}

/// `abtest.direction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AbtestDirection {
    /// Higher is better.
    Increase,
    /// Lower is better.
    Decrease,
}

/// `[project]`: metadata.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSection {
    /// Project name (informational).
    pub name: Option<String>,
    /// One line about the project (informational).
    pub description: Option<String>,
}

/// What to do with an empty cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MissingPolicy {
    /// An empty cell is a data error (exit 3).
    #[default]
    Error,
    /// Rows with an empty cell in a used column are left out.
    DropRow,
    /// Empty numeric feature cells get the training mean, empty categorical
    /// cells the most frequent training level; rows with an empty target are
    /// left out.
    Mean,
}

impl MissingPolicy {
    /// The name used in `mlops.toml`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MissingPolicy::Error => "error",
            MissingPolicy::DropRow => "drop-row",
            MissingPolicy::Mean => "mean",
        }
    }
}

/// `[data]`: the training data.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// CSV file(s) with a header row, relative to the project file: a path,
    /// a glob, or a list of them; `.csv.gz` files are decompressed.
    pub path: DataPath,
    /// The target column.
    pub target: String,
    /// Feature columns, in this order; default: every column but the target
    /// and `exclude`, in file order.
    pub features: Option<Vec<String>>,
    /// Columns never used as features.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Columns one-hot encoded with the levels seen in training.
    #[serde(default)]
    pub categorical: Vec<String>,
    /// Missing-value policy.
    #[serde(default)]
    pub missing: MissingPolicy,
}

/// `[data].path`: one path (or glob) or a list of them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum DataPath {
    /// `path = "data/train.csv"`
    One(String),
    /// `path = ["a.csv", "b/*.csv.gz"]`
    Many(Vec<String>),
}

impl DataPath {
    /// The paths or patterns, in order.
    #[must_use]
    pub fn patterns(&self) -> Vec<&str> {
        match self {
            DataPath::One(p) => vec![p.as_str()],
            DataPath::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// `[split]`: how validation rows are chosen.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSection {
    /// Share of rows held out for validation, in `[0, 1)`; default 0.2
    /// (0 when `validation_path` is set).
    pub validation_fraction: Option<f64>,
    /// Seed of the deterministic row assignment.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// A separate validation CSV instead of a fraction.
    pub validation_path: Option<String>,
}

fn default_seed() -> u64 {
    42
}

impl Default for SplitSection {
    fn default() -> Self {
        SplitSection {
            validation_fraction: None,
            seed: default_seed(),
            validation_path: None,
        }
    }
}

impl SplitSection {
    /// The effective validation fraction.
    #[must_use]
    pub fn fraction(&self) -> f64 {
        match (self.validation_fraction, &self.validation_path) {
            (Some(f), _) => f,
            (None, Some(_)) => 0.0,
            (None, None) => 0.2,
        }
    }
}

/// The estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Ordinary least squares (linfa-linear, QR).
    #[default]
    Linear,
    /// Tweedie generalised linear model (linfa-linear).
    Glm,
}

impl ModelKind {
    /// The name used in `mlops.toml`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Linear => "linear",
            ModelKind::Glm => "glm",
        }
    }
}

/// Link function of a GLM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkName {
    /// identity for `power = 0`, log otherwise
    #[default]
    Auto,
    /// `g(mu) = mu`
    Identity,
    /// `g(mu) = ln(mu)`
    Log,
}

/// `[model]`: what to fit and where the artifact goes.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// Registry name of the model.
    pub name: String,
    /// `linear` or `glm`.
    #[serde(default)]
    pub kind: ModelKind,
    /// Fit an intercept.
    #[serde(default = "default_true")]
    pub fit_intercept: bool,
    /// Where `train` writes the artifact; default `models/<name>.json`.
    pub artifact: Option<String>,
    /// GLM: Tweedie power (0 normal, 1 Poisson, (1,2) compound, 2 gamma, 3 inverse Gaussian).
    pub power: Option<f64>,
    /// GLM: link function.
    pub link: Option<LinkName>,
    /// GLM: L2 penalty.
    pub alpha: Option<f64>,
    /// GLM: maximum solver iterations.
    pub max_iter: Option<u64>,
    /// Train on the streaming path (true), in memory (false), or choose by
    /// file size (unset).
    pub streaming: Option<bool>,
}

fn default_true() -> bool {
    true
}

impl Project {
    /// Find the project file: `explicit` (a file, or a folder holding
    /// `mlops.toml`) when given, else the current folder and its parents.
    pub fn discover(explicit: Option<&Path>, cwd: &Path) -> Result<PathBuf> {
        if let Some(p) = explicit {
            let p = if p.is_absolute() {
                p.to_path_buf()
            } else {
                cwd.join(p)
            };
            if p.is_dir() {
                let f = p.join(FILE_NAME);
                if f.is_file() {
                    return Ok(f);
                }
                return Err(Error::usage(format!(
                    "no {FILE_NAME} in {}; run `mlops init {}` or pass the file with -C",
                    display_path(&p),
                    display_path(&p)
                )));
            }
            if p.is_file() {
                return Ok(p);
            }
            return Err(Error::usage(format!(
                "project file {} does not exist; check -C/--config or MLOPS_CONFIG",
                display_path(&p)
            )));
        }
        let mut dir = Some(cwd);
        while let Some(d) = dir {
            let f = d.join(FILE_NAME);
            if f.is_file() {
                return Ok(f);
            }
            dir = d.parent();
        }
        Err(Error::usage(format!(
            "no {FILE_NAME} in {} or any parent folder; run `mlops init` to create one or pass -C PATH",
            cwd.display()
        )))
    }

    /// Discover and load the project file.
    pub fn load(explicit: Option<&Path>, cwd: &Path) -> Result<Project> {
        let path = Project::discover(explicit, cwd)?;
        let path = std::fs::canonicalize(&path).unwrap_or(path);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                Error::usage(format!("{} is not valid UTF-8", display_path(&path)))
            } else {
                Error::io("read", &path, &e)
            }
        })?;
        Project::from_text(&text, path)
    }

    /// A project from the text of its file, which lives at `path`.
    pub fn from_text(text: &str, path: PathBuf) -> Result<Project> {
        let file = parse(text, &display_path(&path))?;
        let root = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Ok(Project {
            path,
            root,
            file,
            source: text.to_string(),
        })
    }

    /// `file:line` of `key` in `[section]`, or the file alone.
    #[must_use]
    pub fn locate(&self, section: &str, key: &str) -> String {
        let f = display_path(&self.path);
        match find_key_line(&self.source, section, key) {
            Some(l) => format!("{f}:{l}"),
            None => f,
        }
    }

    /// Resolve a path written in the project file.
    #[must_use]
    pub fn resolve(&self, p: impl AsRef<Path>) -> PathBuf {
        let p = p.as_ref();
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        }
    }

    /// The training files `[data].path` names, globs expanded (sorted), in
    /// order; each must exist.
    pub fn data_files(&self) -> Result<Vec<PathBuf>> {
        let at = self.locate("data", "path");
        let mut out = Vec::new();
        for pat in self.data()?.path.patterns() {
            if pat.starts_with("https://") || pat.starts_with("http://") {
                out.push(PathBuf::from(pat));
                continue;
            }
            let full = self.resolve(pat);
            if pat.contains(['*', '?', '[']) {
                let text = full.to_string_lossy().into_owned();
                let mut matched: Vec<PathBuf> = glob::glob(&text)
                    .map_err(|e| {
                        Error::usage(format!(
                            "{at}: data.path pattern \"{pat}\" is not a valid glob ({e}); fix the pattern"
                        ))
                    })?
                    .filter_map(std::result::Result::ok)
                    .filter(|p| p.is_file())
                    .collect();
                matched.sort();
                if matched.is_empty() {
                    return Err(Error::usage(format!(
                        "{at}: data.path pattern \"{pat}\" matches no file; check the pattern (it is relative to the project file)"
                    )));
                }
                out.extend(matched);
            } else {
                require_file(&full, &at, "data.path")?;
                out.push(full);
            }
        }
        Ok(out)
    }

    /// `[split].validation_path` resolved, when set; it must be a file.
    pub fn validation_file(&self) -> Result<Option<PathBuf>> {
        let Some(vp) = &self.file.split.validation_path else {
            return Ok(None);
        };
        let full = self.resolve(vp);
        require_file(
            &full,
            &self.locate("split", "validation_path"),
            "split.validation_path",
        )?;
        Ok(Some(full))
    }

    /// Where the artifact goes.
    pub fn artifact_path(&self) -> Result<PathBuf> {
        let model = self.model()?;
        Ok(match &model.artifact {
            Some(a) => self.resolve(a),
            None => self
                .root
                .join("models")
                .join(format!("{}.json", model.name)),
        })
    }

    /// `[data]`, or a usage error naming the missing table.
    pub fn data(&self) -> Result<&DataSection> {
        self.file
            .data
            .as_ref()
            .ok_or_else(|| self.missing_table("data"))
    }

    /// `[environments.NAME]`, or a usage error listing the environments.
    pub fn environment(&self, name: &str) -> Result<&EnvironmentSection> {
        self.file.environments.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.file.environments.keys().map(String::as_str).collect();
            let hint = match (nearest(name, &names), names.is_empty()) {
                (_, true) => {
                    "add an [environments.NAME] table (see docs/project-file.md)".to_string()
                }
                (Some(n), _) => format!("did you mean \"{n}\"?"),
                (None, _) => format!("defined: {}", names.join(", ")),
            };
            Error::usage(format!(
                "{}: no environment \"{name}\"; {hint}",
                display_path(&self.path)
            ))
        })
    }

    /// `[model]`, or a usage error naming the missing table.
    pub fn model(&self) -> Result<&ModelSection> {
        self.file
            .model
            .as_ref()
            .ok_or_else(|| self.missing_table("model"))
    }

    fn missing_table(&self, table: &str) -> Error {
        Error::usage(format!(
            "{}: missing table [{table}]; add it (see docs/project-file.md)",
            display_path(&self.path)
        ))
    }
}

/// A data file named at `key` (found at `at`) must be an existing file.
pub fn require_file(path: &Path, at: &str, key: &str) -> Result<()> {
    if path.is_file() {
        return Ok(());
    }
    let what = if path.is_dir() {
        "is a folder, not a CSV file"
    } else {
        "does not exist"
    };
    Err(Error::usage(format!(
        "{at}: {key} = {} {what}; check the path (it is relative to the project file)",
        display_path(path)
    )))
}

/// Parse and check the text of a project file; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<ProjectFile> {
    let file: ProjectFile = toml::from_str(text).map_err(|e| toml_error(text, origin, &e))?;
    check(&file, text, origin)?;
    Ok(file)
}

/// Semantic checks that serde cannot express.
fn check(f: &ProjectFile, text: &str, origin: &str) -> Result<()> {
    let err = |section: &str, key: &str, msg: String| {
        let line = find_key_line(text, section, key)
            .map(|l| format!(":{l}"))
            .unwrap_or_default();
        Error::usage(format!("{origin}{line}: key \"{section}.{key}\" {msg}"))
    };
    if let Some(fr) = f.split.validation_fraction {
        if !(0.0..1.0).contains(&fr) || fr.is_nan() {
            return Err(err(
                "split",
                "validation_fraction",
                format!("= {fr} must be at least 0 and below 1"),
            ));
        }
        if fr > 0.0 && f.split.validation_path.is_some() {
            return Err(err(
                "split",
                "validation_fraction",
                "cannot be combined with split.validation_path; keep one of them".into(),
            ));
        }
    }
    if let Some(d) = &f.data {
        if d.target.trim().is_empty() {
            return Err(err(
                "data",
                "target",
                "is empty; name the target column".into(),
            ));
        }
        let patterns = d.path.patterns();
        if patterns.is_empty() || patterns.iter().any(|p| p.trim().is_empty()) {
            return Err(err(
                "data",
                "path",
                "is empty; name the training CSV (or a list of CSVs)".into(),
            ));
        }
        if let Some(feats) = &d.features {
            if feats.is_empty() {
                return Err(err(
                    "data",
                    "features",
                    "is empty; list at least one column or remove the key to use every column"
                        .into(),
                ));
            }
            if feats.contains(&d.target) {
                return Err(err(
                    "data",
                    "features",
                    format!("contains the target \"{}\"; remove it", d.target),
                ));
            }
            if let Some(dup) = first_duplicate(feats) {
                return Err(err("data", "features", format!("lists \"{dup}\" twice")));
            }
            for c in &d.categorical {
                if !feats.contains(c) {
                    return Err(err(
                        "data",
                        "categorical",
                        format!("names \"{c}\", which is not in data.features; add it there"),
                    ));
                }
            }
        }
        if d.categorical.contains(&d.target) {
            return Err(err(
                "data",
                "categorical",
                format!(
                    "contains the target \"{}\"; the target must be numeric",
                    d.target
                ),
            ));
        }
        if d.exclude.contains(&d.target) {
            return Err(err(
                "data",
                "exclude",
                format!("contains the target \"{}\"; remove it", d.target),
            ));
        }
    }
    if let Some(m) = &f.model {
        if !valid_model_name(&m.name) {
            return Err(err(
                "model",
                "name",
                format!(
                    "= \"{}\" is not a valid model name; use letters, digits, '-', '_' or '/', starting and ending with a letter or digit",
                    m.name
                ),
            ));
        }
        if m.kind == ModelKind::Linear {
            for (key, set) in [
                ("power", m.power.is_some()),
                ("link", m.link.is_some()),
                ("alpha", m.alpha.is_some()),
                ("max_iter", m.max_iter.is_some()),
            ] {
                if set {
                    return Err(err(
                        "model",
                        key,
                        "applies only to kind = \"glm\"; remove it or set model.kind = \"glm\""
                            .into(),
                    ));
                }
            }
        } else {
            if let Some(p) = m.power
                && (!(p == 0.0 || p >= 1.0) || !p.is_finite())
            {
                return Err(err(
                    "model",
                    "power",
                    format!("= {p} is not a Tweedie power; use 0, or a number of at least 1"),
                ));
            }
            if let Some(a) = m.alpha
                && (a < 0.0 || !a.is_finite())
            {
                return Err(err(
                    "model",
                    "alpha",
                    format!("= {a} must be a finite number of at least 0"),
                ));
            }
            if m.max_iter == Some(0) {
                return Err(err("model", "max_iter", "must be at least 1".into()));
            }
        }
    }
    if let Some(r) = &f.registry {
        if r.remote.as_deref().is_some_and(|x| x.trim().is_empty()) {
            return Err(err(
                "registry",
                "remote",
                "is empty; name a git remote such as \"origin\"".into(),
            ));
        }
        for st in &r.stages {
            if !valid_model_name(st) {
                return Err(err(
                    "registry",
                    "stages",
                    format!(
                        "lists \"{st}\", which is not a valid stage name; use letters, digits, '-', '_' or '/', starting and ending with a letter or digit"
                    ),
                ));
            }
        }
        if let Some(dup) = first_duplicate(&r.stages) {
            return Err(err("registry", "stages", format!("lists \"{dup}\" twice")));
        }
    }
    if let Some(v) = &f.validate {
        check_validate(f, v, &err, &|section: &str| {
            let line = text
                .lines()
                .position(|l| {
                    l.trim()
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .trim()
                        == section
                })
                .map(|i| format!(":{}", i + 1))
                .unwrap_or_default();
            format!("{origin}{line}")
        })?;
    }
    for (name, env) in &f.environments {
        check_environment(name, env, text, origin)?;
    }
    if let Some(sv) = &f.serve {
        check_serve(sv, text, origin)?;
    }
    if let Some(a) = &f.abtest {
        if let Some(al) = a.alpha
            && !(al > 0.0 && al < 1.0)
        {
            return Err(err(
                "abtest",
                "alpha",
                format!("= {al} must be above 0 and below 1, like 0.05"),
            ));
        }
        if let Some(m) = a.mde
            && !(m > 0.0 && m.is_finite())
        {
            return Err(err(
                "abtest",
                "mde",
                format!("= {m} must be a relative effect above 0, like 0.02"),
            ));
        }
        if let Some(sp) = &a.planned_split
            && (sp.len() < 2 || sp.values().any(|w| !(*w > 0.0 && w.is_finite())))
        {
            return Err(err(
                "abtest",
                "planned_split",
                "must name at least two variants with weights above 0, like { A = 0.5, B = 0.5 }"
                    .into(),
            ));
        }
    }
    Ok(())
}

/// The metrics `[validate]` knows, in report order.
pub const VALIDATE_METRICS: &[&str] = &["r2", "rmse", "mae", "mape", "deviance"];

/// Semantic checks of `[validate]`.
fn check_validate(
    f: &ProjectFile,
    v: &ValidateSection,
    err: &dyn Fn(&str, &str, String) -> Error,
    header: &dyn Fn(&str) -> String,
) -> Result<()> {
    let t = &v.thresholds;
    let glm = f.model.as_ref().is_some_and(|m| m.kind == ModelKind::Glm);
    for (name, b) in t.by_metric() {
        let Some(b) = b else { continue };
        let bad = |x: Option<f64>| x.is_some_and(|x| !x.is_finite());
        if bad(b.min) || bad(b.max) {
            return Err(err(
                "validate.thresholds",
                name,
                "needs finite numbers for min and max".into(),
            ));
        }
        if b.min.is_none() && b.max.is_none() {
            return Err(err(
                "validate.thresholds",
                name,
                "sets neither min nor max; write e.g. { min = 0.8 } or remove it".into(),
            ));
        }
        if let (Some(lo), Some(hi)) = (b.min, b.max)
            && lo > hi
        {
            return Err(err(
                "validate.thresholds",
                name,
                format!("has min = {lo} above max = {hi}; swap them"),
            ));
        }
        if name == "deviance" && !glm {
            return Err(err(
                "validate.thresholds",
                name,
                "applies only to kind = \"glm\" models; remove it".into(),
            ));
        }
    }
    if let Some(b) = &v.baseline {
        if b.stage.is_some() && b.version.is_some() {
            return Err(err(
                "validate.baseline",
                "version",
                "cannot be combined with validate.baseline.stage; keep one of them".into(),
            ));
        }
        if let Some(st) = &b.stage
            && !crate::registry::tag::valid_name(st)
        {
            return Err(err(
                "validate.baseline",
                "stage",
                format!(
                    "= \"{st}\" is not a valid stage name; use letters, digits, '-', '_' or '/'"
                ),
            ));
        }
        if let Some(ms) = &b.metrics {
            for m in ms {
                if !VALIDATE_METRICS.contains(&m.as_str()) {
                    let hint = nearest(m, VALIDATE_METRICS).map_or_else(
                        || format!("use some of {}", VALIDATE_METRICS.join(", ")),
                        |n| format!("did you mean \"{n}\"?"),
                    );
                    return Err(err(
                        "validate.baseline",
                        "metrics",
                        format!("lists \"{m}\", which is not a metric; {hint}"),
                    ));
                }
            }
        }
        let tables = b
            .metric_rules()
            .into_iter()
            .filter_map(|(m, r)| r.map(|r| (format!("validate.baseline.{m}"), Some(m), r)));
        for (section, metric, rules) in
            std::iter::once(("validate.baseline".to_string(), None, b.common_rules())).chain(tables)
        {
            for (key, x) in rules.by_name() {
                if let Some(x) = x
                    && !(x >= 0.0 && x.is_finite())
                {
                    return Err(err(
                        &section,
                        key,
                        format!("= {x} must be a finite number of at least 0"),
                    ));
                }
            }
            let Some(m) = metric else { continue };
            if rules.by_name().iter().all(|(_, x)| x.is_none()) {
                return Err(Error::usage(format!(
                    "{}: table [{section}] sets no rule; set max_relative_degradation, max_absolute_degradation, min_relative_improvement or min_absolute_improvement, or remove it",
                    header(&section)
                )));
            }
            if let Some(ms) = &b.metrics
                && !ms.iter().any(|x| x == m)
            {
                return Err(err(
                    "validate.baseline",
                    "metrics",
                    format!(
                        "does not list \"{m}\", which has rules in [{section}]; add it or remove the table"
                    ),
                ));
            }
            if m == "deviance" && !glm {
                return Err(Error::usage(format!(
                    "{}: table [{section}] applies only to kind = \"glm\" models; remove it",
                    header(&section)
                )));
            }
        }
    }
    if let Some(d) = &v.drift {
        if let Some(x) = d.max_psi
            && !(x > 0.0 && x.is_finite())
        {
            return Err(err(
                "validate.drift",
                "max_psi",
                format!("= {x} must be above 0, like 0.2"),
            ));
        }
        for (key, x) in [
            ("ks_p_value", d.ks_p_value),
            ("chi2_p_value", d.chi2_p_value),
        ] {
            if let Some(x) = x
                && !(x > 0.0 && x < 1.0)
            {
                return Err(err(
                    "validate.drift",
                    key,
                    format!("= {x} must be above 0 and below 1, like 0.01"),
                ));
            }
        }
        if d.data.as_ref().is_some_and(|p| p.trim().is_empty()) {
            return Err(err(
                "validate.drift",
                "data",
                "is empty; name the recent data CSV".into(),
            ));
        }
    }
    for (key, x) in [
        ("max_missing", v.data.max_missing),
        ("max_out_of_range", v.data.max_out_of_range),
        ("max_unseen", v.data.max_unseen),
    ] {
        if let Some(x) = x
            && !(0.0..=1.0).contains(&x)
        {
            return Err(err(
                "validate.data",
                key,
                format!("= {x} must be a share between 0 and 1"),
            ));
        }
    }
    Ok(())
}

/// A usage error pointing at `key` in `[section]`.
fn key_error(text: &str, origin: &str, section: &str, key: &str, msg: &str) -> Error {
    let line = find_key_line(text, section, key)
        .or_else(|| find_header_line(text, section))
        .map(|l| format!(":{l}"))
        .unwrap_or_default();
    Error::usage(format!("{origin}{line}: key \"{section}.{key}\" {msg}"))
}

/// The 1-based line of the `[section]` header.
fn find_header_line(text: &str, section: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim();
            t.starts_with('[')
                && t.find(']')
                    .is_some_and(|end| t[1..end].trim().replace(['"', ' '], "") == section)
        })
        .map(|i| i + 1)
}

fn check_environment(name: &str, env: &EnvironmentSection, text: &str, origin: &str) -> Result<()> {
    let section = format!("environments.{name}");
    let err = |key: &str, msg: &str| key_error(text, origin, &section, key, msg);
    if !valid_model_name(name) {
        return Err(Error::usage(format!(
            "{origin}: [environments.{name}]: \"{name}\" is not a valid stage name; use letters, digits, '-', '_' or '/', starting and ending with a letter or digit"
        )));
    }
    let t = env.target;
    let only = |key: &str, set: bool, allowed: &[TargetKind]| -> Result<()> {
        if set && !allowed.contains(&t) {
            let names: Vec<&str> = allowed.iter().map(|k| k.as_str()).collect();
            return Err(err(
                key,
                &format!(
                    "applies only to target = \"{}\", not \"{}\"; remove it",
                    names.join("\" or \""),
                    t.as_str()
                ),
            ));
        }
        Ok(())
    };
    use TargetKind::{Http, Kubernetes, Local};
    only("path", env.path.is_some(), &[Local, Kubernetes])?;
    only("keep", env.keep.is_some(), &[Local])?;
    only("url", env.url.is_some(), &[Http])?;
    only("token_env", env.token_env.is_some(), &[Http])?;
    only("health", env.health.is_some(), &[Http])?;
    only("smoke_rows", env.smoke_rows.is_some(), &[Http])?;
    for (key, set) in [
        ("replicas", env.replicas.is_some()),
        ("image", env.image.is_some()),
        ("namespace", env.namespace.is_some()),
        ("resources", env.resources.is_some()),
        ("apply", env.apply.is_some()),
    ] {
        only(key, set, &[Kubernetes])?;
    }
    match t {
        Local | Kubernetes if env.path.is_none() => {
            return Err(Error::usage(format!(
                "{origin}{}: missing key \"{section}.path\"; add the folder the {} target writes to",
                find_header_line(text, &section)
                    .map(|l| format!(":{l}"))
                    .unwrap_or_default(),
                t.as_str()
            )));
        }
        Http => {
            let Some(url) = &env.url else {
                return Err(Error::usage(format!(
                    "{origin}{}: missing key \"{section}.url\"; add the server's base URL, like \"http://127.0.0.1:8080\"",
                    find_header_line(text, &section)
                        .map(|l| format!(":{l}"))
                        .unwrap_or_default()
                )));
            };
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
                return Err(err(
                    "url",
                    &format!("= \"{url}\" is not an http:// or https:// URL"),
                ));
            }
        }
        _ => {}
    }
    if env.keep == Some(0) {
        return Err(err("keep", "must be at least 1"));
    }
    if env.replicas == Some(0) {
        return Err(err("replicas", "must be at least 1"));
    }
    if env.smoke_rows == Some(0) {
        return Err(err("smoke_rows", "must be at least 1"));
    }
    if let Some(v) = &env.token_env
        && !valid_env_name(v)
    {
        return Err(err(
            "token_env",
            &format!(
                "= \"{v}\" is not an environment variable name; name the variable, never put the token itself here"
            ),
        ));
    }
    if let Some(h) = &env.health {
        if let Some(p) = &h.path
            && !p.starts_with('/')
        {
            return Err(err(
                "health",
                &format!("has path = \"{p}\"; start it with '/'"),
            ));
        }
        if let Some(s) = h.timeout_s
            && !(s > 0.0 && s.is_finite())
        {
            return Err(err(
                "health",
                &format!("has timeout_s = {s}; use a number of seconds above 0"),
            ));
        }
    }
    Ok(())
}

fn check_serve(sv: &ServeSection, text: &str, origin: &str) -> Result<()> {
    let err = |key: &str, msg: &str| key_error(text, origin, "serve", key, msg);
    if let Some(b) = &sv.bind
        && b.parse::<std::net::SocketAddr>().is_err()
    {
        return Err(err(
            "bind",
            &format!("= \"{b}\" is not an address and port, like \"127.0.0.1:8080\""),
        ));
    }
    if let Some(v) = &sv.admin_token_env
        && !valid_env_name(v)
    {
        return Err(err(
            "admin_token_env",
            &format!(
                "= \"{v}\" is not an environment variable name; name the variable, never put the token itself here"
            ),
        ));
    }
    for (key, v) in [
        ("max_body_bytes", sv.max_body_bytes),
        ("log_max_bytes", sv.log_max_bytes),
        ("max_batch_rows", sv.max_batch_rows.map(|n| n as u64)),
    ] {
        if v == Some(0) {
            return Err(err(key, "must be at least 1"));
        }
    }
    if let Some(s) = sv.timeout_s
        && !(s > 0.0 && s.is_finite())
    {
        return Err(err(
            "timeout_s",
            &format!("= {s} must be a number of seconds above 0"),
        ));
    }
    Ok(())
}

/// An environment variable name: letters, digits and `_`, not starting with a digit.
#[must_use]
pub fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// GTO's artifact-name grammar: `[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?`.
#[must_use]
pub fn valid_model_name(name: &str) -> bool {
    let b = name.as_bytes();
    let edge = |c: u8| c.is_ascii_alphanumeric();
    let inner = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'/' | b'_');
    match b {
        [] => false,
        [c] => edge(*c),
        [first, mid @ .., last] => edge(*first) && edge(*last) && mid.iter().all(|c| inner(*c)),
    }
}

fn first_duplicate(v: &[String]) -> Option<&str> {
    let mut seen = std::collections::HashSet::new();
    v.iter()
        .find(|s| !seen.insert(s.as_str()))
        .map(String::as_str)
}

/// The keys of a baseline rules table.
const RULE_KEYS: &[&str] = &[
    "max_relative_degradation",
    "max_absolute_degradation",
    "min_relative_improvement",
    "min_absolute_improvement",
];

/// Valid keys per table, for "did you mean" hints.
const TABLES: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "project",
            "data",
            "split",
            "model",
            "registry",
            "abtest",
            "environments",
            "serve",
            "validate",
        ],
    ),
    ("validate", &["thresholds", "baseline", "drift", "data"]),
    (
        "validate.thresholds",
        &["r2", "rmse", "mae", "mape", "deviance"],
    ),
    (
        "validate.baseline",
        &[
            "stage",
            "version",
            "metrics",
            "max_relative_degradation",
            "max_absolute_degradation",
            "min_relative_improvement",
            "min_absolute_improvement",
            "r2",
            "rmse",
            "mae",
            "mape",
            "deviance",
        ],
    ),
    ("validate.baseline.r2", RULE_KEYS),
    ("validate.baseline.rmse", RULE_KEYS),
    ("validate.baseline.mae", RULE_KEYS),
    ("validate.baseline.mape", RULE_KEYS),
    ("validate.baseline.deviance", RULE_KEYS),
    (
        "validate.drift",
        &["data", "max_psi", "ks_p_value", "chi2_p_value"],
    ),
    (
        "validate.data",
        &["max_missing", "max_out_of_range", "max_unseen"],
    ),
    (
        "serve",
        &[
            "bind",
            "admin_token_env",
            "prediction_log",
            "log_max_bytes",
            "log_keep",
            "max_body_bytes",
            "max_batch_rows",
            "timeout_s",
            "tls",
        ],
    ),
    ("serve.tls", &["cert", "key"]),
    ("registry", &["remote", "stages"]),
    ("project", &["name", "description"]),
    (
        "data",
        &[
            "path",
            "target",
            "features",
            "exclude",
            "categorical",
            "missing",
        ],
    ),
    ("split", &["validation_fraction", "seed", "validation_path"]),
    (
        "model",
        &[
            "name",
            "kind",
            "fit_intercept",
            "artifact",
            "power",
            "link",
            "alpha",
            "max_iter",
            "streaming",
        ],
    ),
    (
        "abtest",
        &[
            "metric",
            "kind",
            "control",
            "alpha",
            "planned_split",
            "variant_column",
            "test",
            "correction",
            "unit",
            "covariate",
            "mde",
            "direction",
        ],
    ),
];

/// The keys a serde struct accepts, read from its own "unknown field"
/// message (so the list cannot drift from the struct).
fn serde_fields<T: serde::de::DeserializeOwned>() -> Vec<String> {
    match toml::from_str::<T>("zz_not_a_key = 0") {
        Ok(_) => Vec::new(),
        Err(e) => backquoted(e.message())
            .into_iter()
            .skip(1)
            .map(str::to_string)
            .collect(),
    }
}

/// Every key the project file accepts, dotted from the root (`data.path`,
/// `environments.NAME.health.retries`, `validate.thresholds.METRIC.min`),
/// for the test that docs/project-file.md documents each one.
#[doc(hidden)]
#[must_use]
pub fn known_keys() -> Vec<String> {
    let join = |t: &str, k: &str| {
        if t.is_empty() {
            k.to_string()
        } else {
            format!("{t}.{k}")
        }
    };
    let mut keys: Vec<String> = TABLES
        .iter()
        .flat_map(|(t, ks)| ks.iter().map(move |k| join(t, k)))
        .collect();
    // Tables with free names (an environment, a metric) are not in TABLES.
    for (table, fields) in [
        ("validate.thresholds.METRIC", serde_fields::<Bound>()),
        ("environments.NAME", serde_fields::<EnvironmentSection>()),
        ("environments.NAME.health", serde_fields::<HealthSection>()),
        (
            "environments.NAME.resources",
            serde_fields::<ResourcesSection>(),
        ),
        (
            "environments.NAME.resources.requests",
            serde_fields::<ResourceList>(),
        ),
        (
            "environments.NAME.resources.limits",
            serde_fields::<ResourceList>(),
        ),
    ] {
        keys.extend(fields.iter().map(|k| join(table, k)));
    }
    keys
}

/// 1-based line of byte offset `pos`.
fn line_of(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The `[table]` header in force at byte offset `pos` ("" for the root).
fn table_at(text: &str, pos: usize) -> String {
    let mut current = String::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if offset > pos {
            break;
        }
        let t = line.trim();
        if t.starts_with('[')
            && !t.starts_with("[[")
            && let Some(end) = t.find(']')
        {
            current = t[1..end].trim().to_string();
        }
        offset += line.len();
    }
    current
}

/// The 1-based line of `key = ...` inside `[section]`.
fn find_key_line(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            if let Some(end) = t.find(']') {
                current = t[1..end].trim().to_string();
            }
            continue;
        }
        if current == section
            && let Some((k, _)) = t.split_once('=')
            && k.trim().trim_matches('"') == key
        {
            return Some(i + 1);
        }
    }
    None
}

/// Levenshtein distance, for "did you mean".
#[must_use]
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate nearest to `word`, if reasonably near.
#[must_use]
pub fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| {
            let longest = c.chars().count().max(word.chars().count());
            *d * 2 <= longest && *d < longest
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Backquoted names in a serde message: "unknown field `x`, expected one of `a`, `b`".
fn backquoted(msg: &str) -> Vec<&str> {
    msg.split('`').skip(1).step_by(2).collect()
}

fn toml_error(text: &str, origin: &str, e: &toml::de::Error) -> Error {
    let msg = e.message().trim().to_string();
    let pos = e.span().map_or(0, |s| s.start);
    let line = e.span().map(|s| line_of(text, s.start));
    let loc = line.map_or_else(|| origin.to_string(), |l| format!("{origin}:{l}"));
    let mut table = table_at(text, pos);
    // On a `[header]` line an unknown key is the header's last segment, a
    // key of its parent table.
    let header = line
        .and_then(|l| text.lines().nth(l - 1))
        .map(str::trim)
        .filter(|t| t.starts_with('['))
        .map(|t| t.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    if let (Some(h), true) = (&header, msg.starts_with("unknown field")) {
        // The unknown key is one segment of the header path; its table is
        // the segments before it.
        let key = backquoted(&msg).first().copied().unwrap_or("");
        let segs: Vec<&str> = h.split('.').map(|s| s.trim().trim_matches('"')).collect();
        let i = segs
            .iter()
            .position(|s| *s == key)
            .unwrap_or(segs.len().saturating_sub(1));
        table = segs[..i].join(".");
    }
    let qualify = |k: &str| {
        if table.is_empty() {
            k.to_string()
        } else {
            format!("{table}.{k}")
        }
    };
    if msg.starts_with("unknown field") {
        let names = backquoted(&msg);
        let key = names.first().copied().unwrap_or("?");
        let valid: Vec<&str> = TABLES
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, k)| k.to_vec())
            .unwrap_or_else(|| names.iter().skip(1).copied().collect());
        let hint = match nearest(key, &valid) {
            Some(n) => format!("did you mean \"{}\"?", qualify(n)),
            None => format!("valid keys here: {}", valid.join(", ")),
        };
        return Error::usage(format!("{loc}: unknown key \"{}\"; {hint}", qualify(key)));
    }
    if msg.starts_with("missing field") {
        let names = backquoted(&msg);
        let key = names.first().copied().unwrap_or("?");
        let table_name = if table.is_empty() {
            String::new()
        } else {
            format!(" in [{table}]")
        };
        // A field missing at the root has an empty span at 0 (or the whole text).
        let whole = e
            .span()
            .is_some_and(|sp| sp.start == 0 && (sp.end == 0 || sp.end >= text.trim_end().len()));
        let root_table = TABLES[0].1.contains(&key);
        let what = if root_table && (table.is_empty() || whole) {
            format!("{origin}: missing table [{key}]; add it (see docs/project-file.md)")
        } else {
            format!(
                "{loc}: missing key \"{}\"{table_name}; add it (see docs/project-file.md)",
                qualify(key)
            )
        };
        return Error::usage(what);
    }
    if msg.starts_with("unknown variant") {
        let names = backquoted(&msg);
        let got = names.first().copied().unwrap_or("?");
        let valid: Vec<&str> = names.iter().skip(1).copied().collect();
        let key = key_on_line(text, line);
        let hint = match nearest(got, &valid) {
            Some(n) => format!("did you mean \"{n}\"?"),
            None => format!("use one of {}", quoted_list(&valid)),
        };
        return Error::usage(format!(
            "{loc}: key \"{}\" = \"{got}\" is not allowed; {hint}",
            qualify(&key)
        ));
    }
    if msg.starts_with("invalid type") || msg.starts_with("invalid value") {
        let key = key_on_line(text, line);
        let detail = msg
            .replace("invalid type: ", "")
            .replace("invalid value: ", "");
        return Error::usage(format!(
            "{loc}: key \"{}\" has the wrong type ({}); see docs/project-file.md",
            qualify(&key),
            detail
                .replace("expected f64", "expected a number")
                .replace("expected u64", "expected a whole number of at least 0")
                .replace("expected a boolean", "expected true or false")
        ));
    }
    if msg.contains("untagged enum DataPath") {
        return Error::usage(format!(
            "{loc}: key \"data.path\" must be a path or a list of paths; see docs/project-file.md"
        ));
    }
    let first = msg.lines().next().unwrap_or("invalid TOML");
    Error::usage(format!("{loc}: {first}; fix the TOML syntax"))
}

fn quoted_list(v: &[&str]) -> String {
    v.iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn key_on_line(text: &str, line: Option<usize>) -> String {
    line.and_then(|l| text.lines().nth(l - 1))
        .and_then(|t| t.split_once('='))
        .map(|(k, _)| k.trim().trim_matches('"').to_string())
        .unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {

    #[test]
    fn tables_list_exactly_the_serde_fields() {
        fn sorted(mut v: Vec<String>) -> Vec<String> {
            v.sort();
            v
        }
        let table = |name: &str| {
            let (_, ks) = TABLES.iter().find(|(t, _)| *t == name).unwrap();
            sorted(ks.iter().map(|k| (*k).to_string()).collect())
        };
        let cases: Vec<(&str, Vec<String>)> = vec![
            ("", serde_fields::<ProjectFile>()),
            ("project", serde_fields::<ProjectSection>()),
            ("data", serde_fields::<DataSection>()),
            ("split", serde_fields::<SplitSection>()),
            ("model", serde_fields::<ModelSection>()),
            ("registry", serde_fields::<RegistrySection>()),
            ("abtest", serde_fields::<AbtestSection>()),
            ("validate", serde_fields::<ValidateSection>()),
            ("validate.thresholds", serde_fields::<Thresholds>()),
            ("validate.baseline", serde_fields::<BaselineSection>()),
            ("validate.baseline.r2", serde_fields::<Rules>()),
            ("validate.drift", serde_fields::<DriftSection>()),
            ("validate.data", serde_fields::<DataChecksSection>()),
            ("serve", serde_fields::<ServeSection>()),
            ("serve.tls", serde_fields::<TlsSection>()),
        ];
        for (name, fields) in cases {
            assert!(!fields.is_empty(), "[{name}]");
            assert_eq!(table(name), sorted(fields), "TABLES[{name:?}]");
        }
        let keys = known_keys();
        for k in [
            "environments.NAME.health.retries",
            "environments.NAME.resources.limits.memory",
            "validate.thresholds.METRIC.min",
            "serve.tls.cert",
        ] {
            assert!(keys.iter().any(|x| x == k), "{k}");
        }
    }

    use super::*;

    const OK: &str = r#"
[project]
name = "p"
[data]
path = "d.csv"
target = "y"
[model]
name = "m"
"#;

    #[track_caller]
    fn fails(text: &str, expected: &str) {
        match parse(text, "mlops.toml") {
            Ok(_) => panic!("parsed: {text}"),
            Err(e) => {
                assert_eq!(e.exit_code(), 2);
                assert!(
                    e.to_string().contains(expected),
                    "{e} does not contain {expected}"
                );
            }
        }
    }

    #[test]
    fn minimal_file_has_defaults() {
        let f = parse(OK, "mlops.toml").unwrap();
        assert_eq!(f.split.fraction(), 0.2);
        assert_eq!(f.split.seed, 42);
        let (m, d) = (f.model.unwrap(), f.data.unwrap());
        assert!(m.fit_intercept);
        assert_eq!(m.kind, ModelKind::Linear);
        assert_eq!(d.missing, MissingPolicy::Error);
    }

    #[test]
    fn registry_section_parses() {
        let f = parse(OK, "mlops.toml").unwrap();
        assert!(f.registry.is_none());
        let f = parse(
            &format!("{OK}[registry]\nremote = \"up\"\nstages = [\"dev\", \"prod\"]\n"),
            "mlops.toml",
        )
        .unwrap();
        let r = f.registry.unwrap();
        assert_eq!(r.remote.as_deref(), Some("up"));
        assert_eq!(r.stages, ["dev", "prod"]);
    }

    #[test]
    fn errors_name_key_line_and_nearest() {
        fails(
            &OK.replace("target = \"y\"", "target = \"y\"\npaht = \"x\""),
            "mlops.toml:7: unknown key \"data.paht\"; did you mean \"data.path\"?",
        );
        fails(
            &OK.replace("path = \"d.csv\"\n", ""),
            "missing key \"data.path\"",
        );
        fails(
            &format!("{OK}[split]\nvalidation_fraction = \"x\"\n"),
            "mlops.toml:10: key \"split.validation_fraction\" has the wrong type",
        );
        fails(
            &format!("{OK}[split]\nvalidation_fraction = 1.5\n"),
            "mlops.toml:10: key \"split.validation_fraction\" = 1.5 must be",
        );
        fails(
            &format!("{OK}kind = \"lineer\"\n"),
            "key \"model.kind\" = \"lineer\" is not allowed; did you mean \"linear\"?",
        );
        fails(
            &format!("{OK}power = 1.0\n"),
            "applies only to kind = \"glm\"",
        );
        fails(&format!("{OK}[splitt]\n"), "did you mean \"split\"");
        fails(
            &format!("{OK}[registry]\nremot = \"o\"\n"),
            "unknown key \"registry.remot\"; did you mean \"registry.remote\"?",
        );
        fails(
            &format!("{OK}[registry]\nstages = [\"prod\", \"a.b\"]\n"),
            "mlops.toml:10: key \"registry.stages\" lists \"a.b\", which is not a valid stage name",
        );
        fails(
            &format!("{OK}[registry]\nstages = [\"prod\", \"prod\"]\n"),
            "lists \"prod\" twice",
        );
        fails("[data\n", "fix the TOML syntax");
        fails(
            &OK.replace("name = \"m\"", "name = \"-m\""),
            "not a valid model name",
        );
    }

    #[test]
    fn model_names() {
        for ok in ["a", "house-price", "a/b_c", "A1"] {
            assert!(valid_model_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a b", "a@b", "a#b"] {
            assert!(!valid_model_name(bad), "{bad}");
        }
    }

    #[test]
    fn discovery_walks_up() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), OK).unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        let found = Project::discover(None, &sub).unwrap();
        assert_eq!(found, dir.path().join(FILE_NAME));
        let e = Project::discover(Some(Path::new("nope.toml")), &sub).unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn environments_and_serve_from_the_spec_parse() {
        let text = format!(
            "{OK}{}",
            r#"
[environments.staging]
target = "local"
path = "deploy/staging"

[environments.prod]
target = "http"
url = "http://127.0.0.1:8080"
token_env = "MLOPS_PROD_TOKEN"
health = { path = "/v2/health/ready", timeout_s = 30, retries = 5 }

[environments.k8s]
target = "kubernetes"
path = "deploy/k8s"
replicas = 3
apply = false
resources = { requests = { cpu = "100m", memory = "64Mi" } }

[serve]
bind = "127.0.0.1:8080"
admin_token_env = "MLOPS_ADMIN_TOKEN"
prediction_log = "logs/predictions.jsonl"
max_body_bytes = 1048576
tls = { cert = "certs/server.pem", key = "certs/server.key" }
"#
        );
        let f = parse(&text, "mlops.toml").unwrap();
        assert_eq!(
            f.environments.keys().collect::<Vec<_>>(),
            ["k8s", "prod", "staging"]
        );
        assert_eq!(f.environments["prod"].target, TargetKind::Http);
        assert_eq!(
            f.environments["prod"].health.as_ref().unwrap().retries,
            Some(5)
        );
        assert_eq!(f.environments["k8s"].replicas, Some(3));
        let sv = f.serve.unwrap();
        assert_eq!(sv.admin_token_env.as_deref(), Some("MLOPS_ADMIN_TOKEN"));
        assert_eq!(sv.max_body_bytes, Some(1_048_576));
    }

    #[test]
    fn environment_keys_belong_to_their_target() {
        fails(
            &format!(
                "{OK}[environments.prod]\ntarget = \"http\"\nurl = \"http://h:1\"\npath = \"x\"\n"
            ),
            "mlops.toml:12: key \"environments.prod.path\" applies only to target = \"local\" or \"kubernetes\", not \"http\"",
        );
        fails(
            &format!("{OK}[environments.staging]\ntarget = \"local\"\n"),
            "mlops.toml:9: missing key \"environments.staging.path\"",
        );
        fails(
            &format!("{OK}[environments.prod]\ntarget = \"http\"\n"),
            "missing key \"environments.prod.url\"",
        );
        fails(
            &format!("{OK}[environments.prod]\ntarget = \"http\"\nurl = \"ftp://x\"\n"),
            "is not an http:// or https:// URL",
        );
        fails(
            &format!(
                "{OK}[environments.prod]\ntarget = \"http\"\nurl = \"http://h:1\"\ntoken_env = \"s3cr3t token\"\n"
            ),
            "is not an environment variable name",
        );
        fails(
            &format!("{OK}[environments.x]\ntarget = \"ftp\"\npath = \"p\"\n"),
            "did you mean \"http\"?",
        );
        fails(
            &format!("{OK}[environments.k]\ntarget = \"kubernetes\"\npath = \"p\"\nreplica = 2\n"),
            "replicas",
        );
    }

    #[test]
    fn serve_values_are_checked() {
        fails(
            &format!("{OK}[serve]\nbind = \"localhost\"\n"),
            "mlops.toml:10: key \"serve.bind\" = \"localhost\" is not an address and port",
        );
        fails(
            &format!("{OK}[serve]\nmax_body_bytes = 0\n"),
            "must be at least 1",
        );
        fails(
            &format!("{OK}[serve]\nbnd = \"x\"\n"),
            "did you mean \"serve.bind\"?",
        );
        fails(&format!("{OK}[serve]\ntls = {{ cert = \"c\" }}\n"), "key");
    }
}
