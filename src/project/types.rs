//! The serde types of `mlops.toml`: the root table and the tables of
//! training (`[project]`, `[data]`, `[split]`, `[model]`), `[registry]`,
//! `[abtest]` and `[serve]`. `[validate]` and `[environments.NAME]` have
//! their own files. Every table denies unknown fields.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::project::environments::{DeploySection, EnvironmentSection};
use crate::project::validate::ValidateSection;

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
    /// `[targets.T]`: the targets of multi-target environments.
    #[serde(default, skip_serializing_if = "indexmap::IndexMap::is_empty")]
    pub targets: indexmap::IndexMap<String, EnvironmentSection>,
    /// `[deploy]`: settings of multi-target deploys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<DeploySection>,
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
    /// The prediction log: a JSON Lines file path, or a
    /// `[serve.prediction_log]` table (sink, features, Elasticsearch).
    pub prediction_log: Option<PredictionLogSetting>,
    /// Where the server keeps what it was given (uploaded bundles, slots,
    /// split, A/B observations) across restarts.
    pub state_dir: Option<PathBuf>,
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
    /// Seconds a client has to finish a TLS handshake and to send a
    /// request's headers (default 10).
    pub header_timeout_s: Option<f64>,
    /// Seconds a client has to send a request's body (default 30).
    pub body_timeout_s: Option<f64>,
    /// Seconds a bundle upload (`PUT /admin/models/...`) may take, body
    /// included (default 600).
    pub upload_timeout_s: Option<f64>,
    /// Most open connections; more wait in the listen backlog (default 10,000).
    pub max_connections: Option<usize>,
    /// Most requests handled at once; more get 503 (default 1,024).
    pub max_in_flight: Option<usize>,
    /// Who may call what.
    pub auth: Option<AuthSection>,
    /// How often a caller may call.
    pub rate_limit: Option<RateLimitSection>,
    /// A separate address for the admin API (then only there).
    pub admin_bind: Option<String>,
    /// Allow the admin API on a non-loopback address without TLS.
    pub allow_insecure_admin: Option<bool>,
    /// Seconds a keep-alive connection may idle between requests (default 60).
    pub idle_timeout_s: Option<f64>,
    /// Live drift of the served models.
    pub monitor: Option<MonitorSection>,
    /// Where the gRPC service (the Open Inference Protocol's) listens; unset: no gRPC.
    pub grpc_bind: Option<String>,
    /// Largest gRPC request message (default 64 MiB; larger is RESOURCE_EXHAUSTED).
    pub max_message_bytes: Option<u64>,
    /// Refuse request fields that are not features (default: ignore them).
    pub strict_features: Option<bool>,
}

/// `[serve.monitor]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorSection {
    /// The sliding window of the drift gauges, like `"1h"` (default).
    pub window: Option<String>,
    /// Rows a feature needs in the window before its drift gauges appear
    /// (default 500).
    pub min_samples: Option<u64>,
    /// `false` turns live drift monitoring off (default `true`).
    pub enabled: Option<bool>,
}

/// `[serve] prediction_log`: a path (today's form) or a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PredictionLogSetting {
    /// `prediction_log = "logs/predictions.jsonl"`.
    Path(PathBuf),
    /// `[serve.prediction_log]`.
    Table(PredictionLogSection),
}

impl<'de> Deserialize<'de> for PredictionLogSetting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = PredictionLogSetting;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a path or a [serve.prediction_log] table")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(PredictionLogSetting::Path(PathBuf::from(v)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                // The table's own errors (unknown key, wrong type) stay as they are.
                PredictionLogSection::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(PredictionLogSetting::Table)
            }
        }
        d.deserialize_any(V)
    }
}

impl PredictionLogSetting {
    /// The table form (a bare path is a file sink at that path).
    #[must_use]
    pub fn section(&self) -> PredictionLogSection {
        match self {
            PredictionLogSetting::Path(p) => PredictionLogSection {
                path: Some(p.clone()),
                ..PredictionLogSection::default()
            },
            PredictionLogSetting::Table(t) => t.clone(),
        }
    }
}

impl From<&str> for PredictionLogSetting {
    fn from(p: &str) -> Self {
        PredictionLogSetting::Path(PathBuf::from(p))
    }
}

/// `[serve.prediction_log]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PredictionLogSection {
    /// The JSON Lines file (sink `file`).
    pub path: Option<PathBuf>,
    /// Record each request's inputs too.
    pub features: Option<bool>,
    /// Where lines go (default `file`).
    pub sink: Option<LogSink>,
    /// Elasticsearch: the cluster's URL.
    pub url: Option<String>,
    /// Elasticsearch: the index or data stream.
    pub index: Option<String>,
    /// Elasticsearch: the JSON Lines file of lines not delivered.
    pub dead_letter: Option<PathBuf>,
    /// Elasticsearch: the env var holding an API key.
    pub api_key_env: Option<String>,
    /// Elasticsearch: the env var holding the basic-auth user name.
    pub username_env: Option<String>,
    /// Elasticsearch: the env var holding the basic-auth password.
    pub password_env: Option<String>,
    /// Elasticsearch: lines that may wait for delivery (default 100,000).
    pub buffer_lines: Option<usize>,
    /// Rotate the file (and the dead letter) past this size (default 100 MiB).
    pub log_max_bytes: Option<u64>,
    /// Rotated files kept (default 5).
    pub log_keep: Option<u32>,
}

/// `[serve.prediction_log].sink`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogSink {
    /// A JSON Lines file, rotated by size.
    #[default]
    File,
    /// Standard output, one JSON line per prediction request.
    Stdout,
    /// Elasticsearch's `_bulk` API.
    Elasticsearch,
}

impl LogSink {
    /// The word of the project file (and of the metric's `sink` label).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            LogSink::File => "file",
            LogSink::Stdout => "stdout",
            LogSink::Elasticsearch => "elasticsearch",
        }
    }
}

/// `[serve.auth]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    /// `none` (default), `token` or `jwt`.
    pub mode: Option<String>,
    /// Route groups that need a credential: `predict`, `admin`.
    pub protect: Option<Vec<String>>,
    /// jwt: the required `iss`.
    pub issuer: Option<String>,
    /// jwt: the required `aud`.
    pub audience: Option<String>,
    /// jwt: accepted algorithms (HS256, RS256, ES256, EdDSA).
    pub algorithms: Option<Vec<String>>,
    /// jwt: clock skew allowed on `exp`/`nbf`, seconds (default 60).
    pub leeway_s: Option<u64>,
    /// jwt: a JWKS file.
    pub jwks_file: Option<PathBuf>,
    /// jwt: a JWKS URL (an OIDC issuer's `jwks_uri`).
    pub jwks_url: Option<String>,
    /// jwt: the env var holding the HS256 secret.
    pub secret_env: Option<String>,
    /// jwt: the claim listing roles (default: `scope`, then `roles`).
    pub roles_claim: Option<String>,
    /// JSON Lines audit log of admin calls.
    pub audit_log: Option<PathBuf>,
    /// Role → claim values granting it.
    pub roles: Option<indexmap::IndexMap<String, Vec<String>>>,
}

/// `[serve.rate_limit]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSection {
    /// `N/s`, `N/min` or `N/h`.
    pub rate: String,
    /// Requests admitted at once (default: the rate's N).
    pub burst: Option<u32>,
    /// `sub`, `ip` (default) or `header:NAME`.
    pub key: Option<String>,
    /// CIDRs of proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Option<Vec<String>>,
    /// Most keys remembered (default 100,000).
    pub max_keys: Option<usize>,
    /// Per-role rate and burst.
    pub roles: Option<indexmap::IndexMap<String, RoleLimit>>,
}

/// `[serve.rate_limit.roles.ROLE]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RoleLimit {
    /// `N/s`, `N/min` or `N/h`.
    pub rate: String,
    /// Requests admitted at once.
    pub burst: Option<u32>,
}

/// `serve.tls`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// Certificate chain, PEM.
    pub cert: PathBuf,
    /// Private key, PEM.
    pub key: PathBuf,
    /// Require client certificates signed by this CA (PEM).
    pub client_ca: Option<PathBuf>,
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
    /// Object storage (`s3://bucket/prefix`, `gs://`, `az://`) that
    /// `package --upload` puts bundles in and `deploy` fetches them from.
    pub bundle_store: Option<String>,
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
    /// Cell texts that mean "missing", besides the empty cell (`["NA", "null"]`).
    #[serde(default)]
    pub na_values: Vec<String>,
    /// Most levels a categorical column may have (default 1,000).
    #[serde(default = "default_max_levels")]
    pub max_levels: u64,
    /// Levels with fewer training rows are folded into one `other` level
    /// (default 1: none).
    #[serde(default = "default_min_level_count")]
    pub min_level_count: u64,
    /// What `predict` and `serve` do with a level not seen in training.
    #[serde(default)]
    pub handle_unknown: HandleUnknown,
}

/// The default of `[data].max_levels`.
pub const DEFAULT_MAX_LEVELS: u64 = 1_000;

fn default_max_levels() -> u64 {
    DEFAULT_MAX_LEVELS
}

fn default_min_level_count() -> u64 {
    1
}

/// What to do with a categorical level not seen in training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HandleUnknown {
    /// The row (request, batch) fails, naming the level.
    #[default]
    Error,
    /// The level encodes as all zeros (the reference level's encoding).
    Ignore,
}

impl HandleUnknown {
    /// Whether this is the default, `error`.
    #[must_use]
    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
    pub fn is_error(&self) -> bool {
        *self == HandleUnknown::Error
    }
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
    /// Binary logistic regression (Newton / IRLS).
    Logistic,
    /// Multinomial (softmax) logistic regression, K ≥ 2 classes.
    Multinomial,
}

impl ModelKind {
    /// The name used in `mlops.toml`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Linear => "linear",
            ModelKind::Glm => "glm",
            ModelKind::Logistic => "logistic",
            ModelKind::Multinomial => "multinomial",
        }
    }

    /// Whether the model predicts a class.
    #[must_use]
    pub fn is_classifier(self) -> bool {
        matches!(self, ModelKind::Logistic | ModelKind::Multinomial)
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
    /// Classifiers: the positive class of binary metrics (default: the
    /// second of the two sorted classes).
    pub positive: Option<String>,
    /// Classifiers: the most classes the target may hold (default 100).
    pub max_classes: Option<u64>,
    /// Classifiers: the decision threshold on the positive class's
    /// probability (default 0.5).
    pub threshold: Option<f64>,
    /// Classifiers: keep a fit that did not converge within `max_iter`.
    pub allow_unconverged: Option<bool>,
}

fn default_true() -> bool {
    true
}
