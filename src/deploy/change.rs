//! Carrying out a change of an environment once its version and step are
//! known: verify the version and its bundle, report the plan (`--dry-run`)
//! or that it is already live, let the target apply and verify the step,
//! then record the assignment tag (and push it when asked).

use serde_json::json;

use crate::bundle::Bundle;
use crate::error::{Error, Result};
use crate::package;
use crate::project::TargetKind;
use crate::registry::repo::{self, EventNote};
use crate::registry::tag::{Action, TagName};

use super::context::Context;
use super::report::{BundleInfo, DeployReport, Strategy, planned_checks};
use super::smoke;
use super::target::{Check, Job, Live, Step, Target};
use super::verified::Verified;

/// What to take live, decided from the flags and what runs now.
pub(super) struct Change<'a> {
    /// What the environment runs now.
    pub(super) live: &'a Live,
    /// The version that ends up live in the step's slot.
    pub(super) version: String,
    /// What the target is asked to do.
    pub(super) step: Step,
    /// The strategy recorded and printed.
    pub(super) strategy: Strategy,
    /// `deploy` or `rollback`.
    pub(super) command: &'static str,
}

/// The flags that decide how far a change goes.
pub(super) struct RunFlags<'a> {
    /// Only report the plan.
    pub(super) dry_run: bool,
    /// Push the assignment tag.
    pub(super) push: bool,
    /// `MLOPS_GIT_TOKEN`, for HTTPS pushes.
    pub(super) git_token: Option<&'a str>,
}

/// Carry out `change` on `target`: the report of what was done (or, with
/// `dry_run`, of what would be).
pub(super) fn run(
    ctx: &Context<'_>,
    target: &mut dyn Target,
    change: &Change<'_>,
    flags: &RunFlags<'_>,
) -> Result<DeployReport> {
    let name = &ctx.model.name;
    let version = change.version.as_str();
    // The version is active and its bundle verified before anything changes.
    ctx.choose(Some(version))?;
    let Verified {
        bytes,
        bundle,
        info,
    } = ctx.bundle(version)?;
    let smoke_n = ctx.env.smoke_rows.unwrap_or(5);
    let smoke = smoke::rows(ctx.project, &bundle.artifact, smoke_n);
    let unchanged = already_live(ctx, change);
    let mut report = planned_report(ctx, &*target, change, info, unchanged, flags.dry_run);
    if flags.dry_run {
        report.checks = planned_checks(target.kind(), change.step, &smoke);
        return Ok(report);
    }
    if unchanged {
        report.checks.push(Check::pass(
            "already live",
            format!(
                "{name} {version} is the champion of {} and the registry agrees",
                ctx.env_name
            ),
        ));
        if flags.push {
            push(ctx, &mut report, &[], flags.git_token);
        }
        return Ok(report);
    }
    // Fail on a missing git identity before the environment changes.
    repo::tagger(&ctx.repo, 0)?;
    report.checks = apply(ctx, target, change, &bundle, &bytes, &smoke)?;

    // Verified: record the assignment.
    let tag = record(ctx, &*target, change, &report)?;
    report.tag = Some(tag.clone());
    if flags.push {
        push(ctx, &mut report, &[tag], flags.git_token);
    }
    Ok(report)
}

/// Push the model's tags that the remote lacks (`fresh` just written); a
/// failure is recorded in the report, since the environment changed.
fn push(ctx: &Context<'_>, report: &mut DeployReport, fresh: &[String], token: Option<&str>) {
    match repo::push_model_tags(&ctx.repo, &report.remote, &ctx.model.name, fresh, token) {
        Ok(tags) => {
            report.pushed = true;
            report.pushed_tags = tags;
        }
        Err(f) => report.push_failure = Some(f),
    }
}

/// Whether a replacement would change nothing: the version is the
/// champion, no challenger runs, and the registry agrees.
fn already_live(ctx: &Context<'_>, change: &Change<'_>) -> bool {
    let version = change.version.as_str();
    let live = change.live;
    let registry_stage = ctx.model.stages.get(ctx.env_name).cloned();
    match change.step {
        Step::Replace { .. } => {
            live.champion.as_deref() == Some(version)
                && live.challenger.is_none()
                && registry_stage.as_deref() == Some(version)
        }
        _ => false,
    }
}

/// The report before anything is applied: no checks, no tag yet.
fn planned_report(
    ctx: &Context<'_>,
    target: &dyn Target,
    change: &Change<'_>,
    info: BundleInfo,
    unchanged: bool,
    dry_run: bool,
) -> DeployReport {
    let remote = ctx
        .project
        .file
        .registry
        .as_ref()
        .and_then(|r| r.remote.clone())
        .unwrap_or_else(|| "origin".into());
    let previous = if change.step == Step::DropChallenger {
        change.live.challenger.clone()
    } else {
        change.live.champion.clone()
    };
    DeployReport {
        command: change.command,
        environment: ctx.env_name.to_string(),
        target: target.kind(),
        location: target.location(),
        model: ctx.model.name.clone(),
        version: change.version.clone(),
        previous,
        strategy: change.strategy,
        bundle: info,
        checks: Vec::new(),
        tag: None,
        pushed: false,
        pushed_tags: Vec::new(),
        push_failure: None,
        remote,
        dry_run,
        changed: !unchanged,
        applied: target.kind() != TargetKind::Kubernetes || ctx.env.apply == Some(true),
    }
}

/// Let the target apply and verify `step` with the verified bundle: the
/// checks that passed.
fn apply(
    ctx: &Context<'_>,
    target: &mut dyn Target,
    change: &Change<'_>,
    bundle: &Bundle,
    bytes: &[u8],
    smoke: &smoke::Rows,
) -> Result<Vec<Check>> {
    let fetch = |v: &str| ctx.bundle(v).map(|b| b.bytes);
    let job = Job {
        step: change.step,
        model: &ctx.model.name,
        bundle,
        bytes,
        smoke,
        // The champion read before acting: the registry's (the agreement
        // check found it live), or with --force the one the user accepted;
        // the registry's would make every forced http deploy a 409.
        registry_champion: change.live.champion.as_deref(),
        fetch: &fetch,
    };
    target.apply(&job)
}

/// Write the assignment tag of the change: its name.
fn record(
    ctx: &Context<'_>,
    target: &dyn Target,
    change: &Change<'_>,
    report: &DeployReport,
) -> Result<String> {
    let name = &ctx.model.name;
    let version = change.version.as_str();
    let strategy = change.strategy;
    let meta = json!({
        "target": target.kind().as_str(),
        "strategy": strategy.name(),
        "canary_percent": strategy.percent(),
        "previous": report.previous,
        // Never the URL's user, password or query (L9): the tag is pushed.
        "location": ctx
            .env
            .url
            .as_deref()
            .map(crate::data::redact_url)
            .or_else(|| ctx.env.path.as_ref().map(|p| p.display().to_string())),
        "bundle_sha256": report.bundle.sha256,
        "tool": package::tool(),
    });
    let mut meta = meta;
    if !report.applied {
        // Rendered, not deployed: nothing runs the version until the
        // manifests are applied.
        meta["applied"] = serde_json::Value::Bool(false);
    }
    let note = EventNote {
        prefix: if strategy == Strategy::Rollback {
            "rollback: ".into()
        } else {
            String::new()
        },
        meta: Some(meta),
        canary: strategy.percent(),
    };
    let action = Action::Assign(ctx.env_name.to_string());
    let written = repo::write_event_with(&ctx.repo, name, &action, Some(version), &note)
        .map_err(|e| unrecorded(ctx, &action, version, strategy.percent(), &e))?;
    Ok(written.tag)
}

/// The error of an assignment that is live and verified but could not be
/// recorded: the `git tag` command that records it.
fn unrecorded(
    ctx: &Context<'_>,
    action: &Action,
    version: &str,
    canary: Option<u8>,
    e: &Error,
) -> Error {
    let name = &ctx.model.name;
    // The next free name (a lightweight tag may hold the expected one).
    let mut n = ctx.model.max_counter.saturating_add(1);
    let tag = loop {
        let t = match canary {
            Some(_) => repo::canary_tag(name, ctx.env_name, n),
            None => TagName {
                artifact: name.clone(),
                action: action.clone(),
                counter: Some(n),
            }
            .to_string(),
        };
        if ctx.repo.find_reference(&format!("refs/tags/{t}")).is_err() || n == u64::MAX {
            break t;
        }
        n += 1;
    };
    let (what, message) = match canary {
        Some(p) => (
            "canary",
            format!(
                "Canary of artifact {name} version {version} beside stage {} at {p} % (not an assignment)\n\n{{\"mlops\":{{\"event\":\"canary\",\"model\":\"{name}\",\"stage\":\"{}\",\"version\":\"{version}\",\"canary_percent\":{p},\"strategy\":\"canary\"}}}}",
                ctx.env_name, ctx.env_name
            ),
        ),
        None => (
            "assignment",
            format!(
                "Assigning stage {} to artifact {name} version {version}",
                ctx.env_name
            ),
        ),
    };
    Error::Registry(format!(
        "{name} {version} is live and verified in {} but the {what} could not be recorded ({e}); record it with `git tag -a '{tag}' -m '{message}' {}` so the registry agrees",
        ctx.env_name,
        ctx.model
            .version(version)
            .map_or("COMMIT", |v| v.commit.as_str())
    ))
}
