//! `deploy` and `rollback`: take a registered version to an environment,
//! prove it works there, and only then record `NAME#ENV#N` in the registry.
//!
//! The steps are the same for every target: resolve the version from the
//! registry (refusing deprecated models, deregistered or unknown versions),
//! get its bundle from `dist/` or rebuild it from the tagged commit and
//! check it against the tag's `bundle_sha256`, read what the environment
//! runs now, then let the target apply and verify the change. A target that
//! fails verification puts back what was live and returns
//! [`Error::Check`] (exit 1); a target it cannot reach returns
//! [`Error::Remote`] (exit 5) with the environment untouched. The
//! assignment tag is written last, while the environment's lock is still
//! held, so the registry and the environment agree afterwards.
//!
//! Targets: [`local`] (a folder of releases with a `current` link),
//! [`http`] (the admin API of `mlops serve`), [`kube`] (Kubernetes
//! manifests, applied with kubectl when asked).

mod agree;
mod change;
mod context;
pub mod http;
pub mod kube;
pub mod local;
pub mod multi;
mod newer;
pub mod phase;
mod report;
mod served;
pub mod smoke;
pub mod status;
mod target;
mod verified;

use crate::error::{Error, Result};
use crate::project::{EnvironmentSection, Project, TargetKind};

pub use newer::newer_model;
pub use report::{BundleInfo, DeployReport, Strategy};
pub use target::{Check, Job, Live, Step, Target};

use change::{Change, RunFlags};
use context::Context;

/// What `deploy` should do.
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    /// The version; default the latest registered one (ignored with `promote`).
    pub version: Option<String>,
    /// Start a canary with this share of traffic.
    pub canary: Option<u8>,
    /// Promote the running challenger.
    pub promote: bool,
    /// Only print the plan.
    pub dry_run: bool,
    /// Push the assignment tag.
    pub push: bool,
    /// `MLOPS_GIT_TOKEN`, for HTTPS pushes.
    pub git_token: Option<String>,
    /// The admin token (the value of the environment's `token_env`).
    pub admin_token: Option<String>,
    /// Act even when the environment and the registry disagree.
    pub force: bool,
}

/// What `rollback` should do.
#[derive(Debug, Clone, Default)]
pub struct RollbackOptions {
    /// Put back this version instead of the one live before the current.
    pub to: Option<String>,
    /// Act even when the environment and the registry disagree.
    pub force: bool,
    /// Only print the plan.
    pub dry_run: bool,
    /// Push the assignment tag.
    pub push: bool,
    /// `MLOPS_GIT_TOKEN`, for HTTPS pushes.
    pub git_token: Option<String>,
    /// The admin token (the value of the environment's `token_env`).
    pub admin_token: Option<String>,
}

/// The deploy: `opts.version` (or the latest) to `env_name`.
pub fn deploy(project: &Project, env_name: &str, opts: &DeployOptions) -> Result<DeployReport> {
    let env = project.environment(env_name)?;
    spans_targets(env_name, env)?;
    if (opts.canary.is_some() || opts.promote) && env.kind() == TargetKind::Kubernetes {
        return Err(Error::usage(format!(
            "--canary and --promote apply to local and http environments; {env_name} is a kubernetes target, deploy it without them"
        )));
    }
    if let Some(p) = opts.canary
        && !(1..=100).contains(&p)
    {
        return Err(Error::usage(format!(
            "--canary {p} is not a share of traffic; use a percent from 1 to 100"
        )));
    }
    let strategy = match (opts.canary, opts.promote) {
        (Some(_), true) => {
            return Err(Error::usage(
                "--canary and --promote cannot be combined; start the canary, then promote it",
            ));
        }
        (Some(p), false) => Strategy::Canary(p),
        (None, true) => Strategy::Promote,
        (None, false) => Strategy::Replace,
    };
    // The lock comes before the registry is read, so that what is read
    // stays true until the tag is written.
    let mut target = make_target(project, env_name, env, opts.admin_token.clone())?;
    if !opts.dry_run {
        target.lock()?;
    }
    let ctx = Context::open(project, env_name, env)?;
    let live = target.live()?;
    if !opts.force {
        agree::check(&ctx, &live, "deploy")?;
    }
    let (version, step) = match strategy {
        Strategy::Promote => {
            let Some(c) = &live.challenger else {
                return Err(Error::Registry(format!(
                    "{env_name} runs no canary to promote (its champion is {}); start one with `mlops deploy {env_name} --canary PERCENT`",
                    live.champion.as_deref().unwrap_or("none")
                )));
            };
            (c.clone(), Step::Promote)
        }
        Strategy::Canary(p) => (ctx.choose(opts.version.as_deref())?, Step::Canary(p)),
        _ => (
            ctx.choose(opts.version.as_deref())?,
            Step::Replace {
                drop_challenger: false,
            },
        ),
    };
    change::run(
        &ctx,
        target.as_mut(),
        &Change {
            live: &live,
            version,
            step,
            strategy,
            command: "deploy",
        },
        &RunFlags {
            dry_run: opts.dry_run,
            push: opts.push,
            git_token: opts.git_token.as_deref(),
        },
    )
}

/// The rollback: the version live before the current one (or `opts.to`)
/// back into `env_name`, or the running challenger removed.
pub fn rollback(project: &Project, env_name: &str, opts: &RollbackOptions) -> Result<DeployReport> {
    let env = project.environment(env_name)?;
    spans_targets(env_name, env)?;
    let mut target = make_target(project, env_name, env, opts.admin_token.clone())?;
    if !opts.dry_run {
        target.lock()?;
    }
    let ctx = Context::open(project, env_name, env)?;
    let live = target.live()?;
    if !opts.force {
        agree::check(&ctx, &live, "roll back")?;
    }
    let (version, step) = match (&opts.to, &live.challenger, &live.champion) {
        (None, Some(_), Some(champion)) => (champion.clone(), Step::DropChallenger),
        (Some(to), _, _) => {
            let v = ctx.choose(Some(to))?;
            (
                v,
                Step::Replace {
                    drop_challenger: live.challenger.is_some(),
                },
            )
        }
        (None, _, _) => (
            ctx.previous_version()?,
            Step::Replace {
                drop_challenger: live.challenger.is_some(),
            },
        ),
    };
    change::run(
        &ctx,
        target.as_mut(),
        &Change {
            live: &live,
            version,
            step,
            strategy: Strategy::Rollback,
            command: "rollback",
        },
        &RunFlags {
            dry_run: opts.dry_run,
            push: opts.push,
            git_token: opts.git_token.as_deref(),
        },
    )
}

/// Refuse the single-target path for an environment with `targets`.
fn spans_targets(env_name: &str, env: &EnvironmentSection) -> Result<()> {
    if env.targets.is_some() {
        return Err(Error::usage(format!(
            "{env_name} spans several targets; --canary and --promote apply to single-target environments, deploy it without them"
        )));
    }
    Ok(())
}

/// Refuse an environment that is not one of `[registry].stages`.
pub(crate) fn check_stage(project: &Project, env_name: &str) -> Result<()> {
    if let Some(r) = &project.file.registry
        && !r.stages.is_empty()
        && !r.stages.iter().any(|s| s == env_name)
    {
        return Err(Error::usage(format!(
            "{}: environment \"{env_name}\" is not one of [registry].stages ({}); add it there, since the environment is the stage its assignments go to",
            project.locate("registry", "stages"),
            r.stages.join(", ")
        )));
    }
    Ok(())
}

/// The target of `env_name`, after checking that it is a registry stage.
fn make_target(
    project: &Project,
    env_name: &str,
    env: &EnvironmentSection,
    admin_token: Option<String>,
) -> Result<Box<dyn Target>> {
    check_stage(project, env_name)?;
    let name = project.model()?.name.clone();
    Ok(construct(project, env_name, env, &name, admin_token)?)
}

/// The target of the table `section` (an environment's or a
/// `[targets.T]`), named `name` in messages.
pub(crate) fn construct(
    project: &Project,
    name: &str,
    section: &EnvironmentSection,
    model: &str,
    admin_token: Option<String>,
) -> Result<Box<dyn phase::Phased + Send>> {
    Ok(match section.kind() {
        TargetKind::Local => Box::new(local::Local::new(project, name, section)?),
        TargetKind::Http => Box::new(http::Http::new(
            name,
            section,
            model,
            admin_token,
            section.ca_cert.as_deref().map(|p| project.resolve(p)),
        )?),
        TargetKind::Kubernetes => Box::new(kube::Kube::new(project, name, section, model)?),
    })
}

#[cfg(test)]
/// A bundle of a model trained on `y = 1 + 2a` (+ `shift`), version `v`.
pub(crate) fn test_bundle(
    dir: &std::path::Path,
    v: &str,
    shift: f64,
) -> (Vec<u8>, crate::bundle::Bundle) {
    let csv: String = std::iter::once("a,y\n".to_string())
        .chain((0..20).map(|i| {
            format!(
                "{i},{}\n",
                1.0 + 2.0 * f64::from(i) + shift + f64::from(i % 3) * 0.1
            )
        }))
        .collect();
    std::fs::write(dir.join("d.csv"), csv).unwrap();
    let toml = "[data]\npath = \"d.csv\"\ntarget = \"y\"\n[split]\nvalidation_fraction = 0.0\n[model]\nname = \"m\"\n";
    let project = Project::from_text(toml, dir.join("mlops.toml")).unwrap();
    let opts = crate::train::TrainOptions {
        out: Some(dir.join("m.json")),
        created_at: "2026-01-01T00:00:00Z".into(),
        ..Default::default()
    };
    crate::train::train(&project, &opts, &crate::report::NoProgress).unwrap();
    let art = std::fs::read(dir.join("m.json")).unwrap();
    let manifest = serde_json::json!({
        "name": "m", "version": v, "commit": "0".repeat(40),
        "files": {"mlops.toml": crate::bundle::sha256_hex(toml.as_bytes()), "models/m.json": crate::bundle::sha256_hex(&art)},
    });
    let entries = [
        crate::bundle::Entry {
            path: "mlops.toml".into(),
            bytes: toml.as_bytes().to_vec(),
        },
        crate::bundle::Entry {
            path: "models/m.json".into(),
            bytes: art,
        },
        crate::bundle::Entry {
            path: "manifest.json".into(),
            bytes: manifest.to_string().into_bytes(),
        },
    ];
    let bytes = crate::bundle::build(&entries, 0).unwrap();
    let b = crate::bundle::read(&bytes, "test").unwrap();
    (bytes, b)
}
