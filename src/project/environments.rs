//! The serde types of `[environments.NAME]`: one deploy target per
//! registry stage (a local folder, a server's admin API, or Kubernetes
//! manifests) and its nested tables.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

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

/// `[environments.NAME]`: one deploy target, or (`targets`) a set of
/// `[targets.T]` tables, which take the same keys plus `region`, `role`
/// and `order`. Which keys apply depends on `target`; the checks of
/// `project::parse` refuse keys of another target.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSection {
    /// `local`, `http` or `kubernetes` (required unless `targets` is set).
    pub target: Option<TargetKind>,
    /// environments only: the `[targets.T]` tables the environment spans.
    pub targets: Option<Vec<String>>,
    /// targets only: where the target runs, for reports.
    pub region: Option<String>,
    /// targets only: `active` (default) or `standby`.
    pub role: Option<Role>,
    /// targets only: commit order (lower first; default 0).
    pub order: Option<i64>,
    /// local: the environment folder; kubernetes: where manifests are written.
    pub path: Option<PathBuf>,
    /// local: releases kept (default 5).
    pub keep: Option<u32>,
    /// http: base URL of the server's admin API.
    pub url: Option<String>,
    /// http: the environment variable holding the admin bearer token.
    pub token_env: Option<String>,
    /// http: the CA certificate (PEM) that signed the server's, for a
    /// private CA; trusted besides the public roots.
    pub ca_cert: Option<PathBuf>,
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

/// `targets.T.role`: an active target serves traffic; a standby one runs
/// the same verified version and is committed first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Serves traffic (the default).
    #[default]
    Active,
    /// Ready to take traffic when a load balancer or DNS fails over.
    Standby,
}

impl Role {
    /// The name used in the project file.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Active => "active",
            Role::Standby => "standby",
        }
    }
}

impl EnvironmentSection {
    /// The target kind of a single-target table (`target`, checked present
    /// when `targets` is absent); `local` for a table of targets.
    #[must_use]
    pub fn kind(&self) -> TargetKind {
        self.target.unwrap_or(TargetKind::Local)
    }
}

/// `[deploy]`: settings of multi-target deploys.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeploySection {
    /// Largest share of failed prediction requests (5xx) a target may show
    /// during `--bake` (default 0.01).
    pub max_error_ratio: Option<f64>,
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
