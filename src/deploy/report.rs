//! What `deploy` and `rollback` report: the [`Strategy`], where the bundle
//! came from, the checks that passed (or, with `--dry-run`, the checks that
//! will run) and the assignment tag written.

use std::path::PathBuf;

use crate::project::TargetKind;

use super::smoke;
use super::target::{Check, Step};

/// How the version goes live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Replace the champion.
    Replace,
    /// Load into the challenger slot with this share of traffic (percent).
    Canary(u8),
    /// Make the running challenger the champion.
    Promote,
    /// Put back an earlier version (or drop the running challenger).
    Rollback,
}

impl Strategy {
    /// The name recorded in the tag and printed.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Replace => "replace",
            Strategy::Canary(_) => "canary",
            Strategy::Promote => "promote",
            Strategy::Rollback => "rollback",
        }
    }

    /// The canary's share of traffic.
    #[must_use]
    pub fn percent(self) -> Option<u8> {
        match self {
            Strategy::Canary(p) => Some(p),
            _ => None,
        }
    }
}

/// Where the bundle came from.
#[derive(Debug, Clone)]
pub struct BundleInfo {
    /// `dist/NAME-vX.Y.Z.tar.gz`, when read from there.
    pub path: Option<PathBuf>,
    /// SHA-256 of its bytes (equal to the tag's).
    pub sha256: String,
    /// `dist`, `rebuilt` (from the tagged commit) or `store` (fetched from
    /// `[registry].bundle_store`).
    pub source: &'static str,
}

/// What `deploy` or `rollback` did (or would do).
#[derive(Debug, Clone)]
pub struct DeployReport {
    /// `deploy` or `rollback`.
    pub command: &'static str,
    /// The environment (stage).
    pub environment: String,
    /// Its target kind.
    pub target: TargetKind,
    /// Folder or URL.
    pub location: String,
    /// The model.
    pub model: String,
    /// The version now live (the challenger's for a canary).
    pub version: String,
    /// The champion before.
    pub previous: Option<String>,
    /// The strategy.
    pub strategy: Strategy,
    /// The bundle.
    pub bundle: BundleInfo,
    /// Checks that passed (or, with `dry_run`, that will run).
    pub checks: Vec<Check>,
    /// The assignment tag written.
    pub tag: Option<String>,
    /// Whether it was pushed.
    pub pushed: bool,
    /// The tags pushed (the new one and any that were still local).
    pub pushed_tags: Vec<String>,
    /// The push that failed: the tags still local and the command that
    /// pushes them (the environment and the local registry changed).
    pub push_failure: Option<crate::registry::repo::PushFailure>,
    /// The remote pushed to.
    pub remote: String,
    /// Only a plan.
    pub dry_run: bool,
    /// Whether the environment or the registry changed (false: already live).
    pub changed: bool,
    /// False when only manifests were rendered (`kubernetes` with `apply =
    /// false`): the version is recorded as rendered, not running.
    pub applied: bool,
}

/// The checks a step will run, for `--dry-run`.
pub(super) fn planned_checks(kind: TargetKind, step: Step, smoke: &smoke::Rows) -> Vec<Check> {
    let plan = |n: &str, d: String| Check {
        name: n.to_string(),
        ok: true,
        detail: d,
    };
    let mut v = vec![plan(
        "bundle",
        "sha256 equals the registration tag's bundle_sha256 (checked)".into(),
    )];
    let rows = format!(
        "{} rows ({}) predict as the artifact does, within {:e} relative",
        smoke.rows.len(),
        smoke.source,
        smoke::TOLERANCE
    );
    match kind {
        TargetKind::Local => {
            v.push(plan(
                "release",
                "every file of the release matches manifest.json".into(),
            ));
            v.push(plan(
                "link",
                format!("the {} link names the version", slot_of(step)),
            ));
            v.push(plan("smoke", rows));
        }
        TargetKind::Http => {
            v.push(plan("ready", "the health path answers 200".into()));
            v.push(plan(
                "models",
                format!("GET /admin/models reports the version as {}", slot_of(step)),
            ));
            v.push(plan("smoke", rows));
        }
        TargetKind::Kubernetes => {
            v.push(plan(
                "manifests",
                "ConfigMap, Deployment, Service and HorizontalPodAutoscaler written".into(),
            ));
            v.push(plan(
                "rollout",
                "kubectl apply and rollout status, when apply = true".into(),
            ));
        }
    }
    v
}

fn slot_of(step: Step) -> &'static str {
    match step {
        Step::Canary(_) => "challenger",
        _ => "champion",
    }
}
