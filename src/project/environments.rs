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

/// `[environments.NAME]`: one deploy target. Which keys apply depends on
/// `target`; the checks of `project::parse` refuse keys of another target.
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
