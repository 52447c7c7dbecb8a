//! One release across an environment's targets (`targets = [...]`),
//! all-or-none: stage and verify on every target, commit in order
//! (standby first), compensate on any failure, and write the assignment
//! tag `NAME#ENV#N` once, after every target committed. A journal
//! (`journal`) records each step before it runs, so that `--resume` or
//! `--abort` brings an interrupted deploy to all-new or all-old.

mod journal;
mod plan;
mod protocol;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use crate::error::{Error, Result, display_path};
use crate::package;
use crate::project::{Project, Role, TargetKind};
use crate::registry::repo::{self, EventNote};
use crate::registry::tag::Action;

use super::context::Context;
use super::target::Check;

pub use journal::{Journal, JournalTarget, Phase, TargetState, unfinished};
use plan::Planned;
use protocol::Ctx;

/// Default `[deploy] max_error_ratio`.
pub const DEFAULT_MAX_ERROR_RATIO: f64 = 0.01;

/// What a deploy across targets should do.
#[derive(Debug, Clone, Default)]
pub struct MultiOptions {
    /// `rollback` instead of `deploy`.
    pub rollback: bool,
    /// The version (deploy: default the latest; rollback: default the one before).
    pub version: Option<String>,
    /// Only these targets (`--targets`).
    pub only: Option<Vec<String>>,
    /// Stage this many targets at once (default 1).
    pub max_parallel: Option<usize>,
    /// Wait this long after each commit and check the error ratio.
    pub bake: Option<Duration>,
    /// Resume the journal with this id.
    pub resume: Option<String>,
    /// Abort the journal with this id.
    pub abort: Option<String>,
    /// Only print the plan.
    pub dry_run: bool,
    /// Push the assignment tag.
    pub push: bool,
    /// `MLOPS_GIT_TOKEN`, for HTTPS pushes.
    pub git_token: Option<String>,
    /// Act even when a target and the registry disagree.
    pub force: bool,
    /// Admin tokens by target name (the values of their `token_env`).
    pub tokens: BTreeMap<String, String>,
    /// Fault injection for tests: after writing journal step k, wait
    /// until the file exists.
    pub pause: Option<(u64, PathBuf)>,
}

/// One target in the report.
#[derive(Debug, Clone)]
pub struct TargetReport {
    /// `[targets.T]` name.
    pub name: String,
    /// Its kind.
    pub kind: TargetKind,
    /// Folder or URL.
    pub location: String,
    /// `region`.
    pub region: Option<String>,
    /// `role`.
    pub role: Role,
    /// What it served before.
    pub previous: Option<String>,
    /// Where it ended.
    pub state: TargetState,
    /// The checks it passed.
    pub checks: Vec<Check>,
}

/// What a deploy across targets did.
#[derive(Debug, Clone)]
pub struct MultiReport {
    /// `deploy` or `rollback`.
    pub command: String,
    /// The environment.
    pub environment: String,
    /// The model.
    pub model: String,
    /// The version.
    pub version: String,
    /// The journal's id (none for a plan or a no-op).
    pub id: Option<String>,
    /// The journal.
    pub journal: Option<PathBuf>,
    /// `done`, `aborted` or `plan` or `unchanged`.
    pub outcome: &'static str,
    /// The targets, in commit order.
    pub targets: Vec<TargetReport>,
    /// The assignment tag written.
    pub tag: Option<String>,
    /// Why no tag was written although every chosen target committed
    /// (targets left out with `--targets` serve another version).
    pub untagged: Option<String>,
    /// The tags pushed.
    pub pushed_tags: Vec<String>,
    /// A push that failed.
    pub push_failure: Option<crate::registry::repo::PushFailure>,
    /// The remote.
    pub remote: String,
}

/// The env lock: `.mlops/deploys/ENV.lock`, an OS lock held for the run.
fn lock_env(project: &Project, env_name: &str) -> Result<std::fs::File> {
    let dir = journal::folder(project);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("create the folder", &dir, &e))?;
    let safe: String = env_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let path = dir.join(format!("{safe}.lock"));
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open the deploy lock", &path, &e))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Remote(format!(
            "another deploy to {env_name} is running (it holds {}); nothing was changed, run again when it has finished",
            display_path(&path)
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io("lock", &path, &e)),
    }
}

/// The deploy (or rollback, `--resume`, `--abort`) of `env_name` across its targets.
pub fn run(project: &Project, env_name: &str, opts: &MultiOptions) -> Result<MultiReport> {
    let env = project.environment(env_name)?;
    if env.targets.is_none() {
        return Err(Error::usage(format!(
            "{env_name} is a single-target environment; --targets, --max-parallel, --bake, --resume and --abort apply to environments with targets = [...]"
        )));
    }
    super::check_stage(project, env_name)?;
    let _lock = if opts.dry_run {
        None
    } else {
        Some(lock_env(project, env_name)?)
    };
    let ctx = Context::open(project, env_name, env)?;
    if let Some(id) = opts.resume.as_deref().or(opts.abort.as_deref()) {
        let j = journal::load(project, env_name, id)?;
        return continue_journal(project, &ctx, j, opts);
    }
    if !opts.dry_run
        && let Some(j) = unfinished(project, Some(env_name))?.first()
    {
        return Err(Error::Remote(format!(
            "a deploy of {env_name} is unfinished ({}, {} {} at step {}, phase {:?}); nothing was changed: finish it with `mlops deploy {env_name} --resume {}` or undo it with `mlops deploy {env_name} --abort {}`",
            display_path(&j.path(project)),
            j.command,
            j.version,
            j.step,
            j.phase,
            j.id,
            j.id
        )));
    }
    let names = plan::ordered(project, env_name, env, opts.only.as_deref())?;
    let model = ctx.model.name.clone();
    let mut targets = names
        .iter()
        .map(|n| plan::build(project, n, &model, &opts.tokens))
        .collect::<Result<Vec<_>>>()?;
    let version = if opts.rollback {
        match &opts.version {
            Some(v) => ctx.choose(Some(v))?,
            None => ctx.previous_version()?,
        }
    } else {
        ctx.choose(opts.version.as_deref())?
    };
    let j = start(&ctx, &mut targets, &version, opts)?;
    if opts.dry_run || j.phase == Phase::Done {
        let outcome = if opts.dry_run { "plan" } else { "unchanged" };
        let mut r = report(project, &ctx, &j, &targets, Vec::new(), outcome);
        r.id = None;
        r.journal = None;
        return Ok(r);
    }
    repo::tagger(&ctx.repo, 0)?;
    execute(project, &ctx, j, &mut targets, opts)
}

/// Lock and read every target, check they agree with the registry, and
/// make the journal (not yet written).
fn start(
    ctx: &Context<'_>,
    targets: &mut [Planned<'_>],
    version: &str,
    opts: &MultiOptions,
) -> Result<Journal> {
    let registry = ctx.registry_champion();
    let mut jt = Vec::new();
    let mut all_live = registry.as_deref() == Some(version);
    for p in targets.iter_mut() {
        if !opts.dry_run {
            p.target.lock()?;
        }
        let live = p.target.live().map_err(|e| at_target(&p.name, e))?;
        if let Some(c) = &live.challenger {
            return Err(Error::Registry(format!(
                "target {} of {} runs a challenger ({c} at {} %); a deploy across targets replaces champions only: end the canary first, then run again",
                p.name, ctx.env_name, live.challenger_percent
            )));
        }
        if !opts.force && live.champion != registry {
            return Err(Error::Registry(format!(
                "target {} of {} serves {} but the registry says {} (changed outside `mlops`, or a deploy stopped between its commits and its tag); nothing was changed: check it with `mlops status {}`, then rerun with --force",
                p.name,
                ctx.env_name,
                live.champion.as_deref().unwrap_or("nothing"),
                registry.as_deref().unwrap_or("nothing"),
                ctx.env_name
            )));
        }
        all_live &= live.champion.as_deref() == Some(version);
        jt.push(JournalTarget {
            name: p.name.clone(),
            kind: p.section.kind().as_str().to_string(),
            location: p.target.location(),
            role: p.section.role.unwrap_or_default().as_str().to_string(),
            previous: live.champion,
            state: TargetState::Planned,
        });
    }
    Ok(Journal {
        id: journal::new_id(ctx.env_name),
        command: if opts.rollback { "rollback" } else { "deploy" }.into(),
        environment: ctx.env_name.to_string(),
        model: ctx.model.name.clone(),
        version: version.to_string(),
        step: 0,
        phase: if all_live {
            Phase::Done
        } else {
            Phase::Staging
        },
        targets: jt,
        failure: None,
        tag: None,
        updated_at: String::new(),
    })
}

fn at_target(name: &str, e: Error) -> Error {
    let msg = format!("target {name}: {e}");
    match e {
        Error::Check(_) => Error::Check(msg),
        Error::Usage(_) => Error::Usage(msg),
        Error::Registry(_) => Error::Registry(msg),
        _ => Error::Remote(msg),
    }
}

/// `--resume` or `--abort` of journal `j`.
fn continue_journal(
    project: &Project,
    ctx: &Context<'_>,
    mut j: Journal,
    opts: &MultiOptions,
) -> Result<MultiReport> {
    if !j.phase.unfinished() {
        return Err(Error::usage(format!(
            "the deploy {} already ended ({:?}); nothing to resume or abort, see `mlops status {}`",
            j.id, j.phase, j.environment
        )));
    }
    let mut targets = j
        .targets
        .iter()
        .map(|t| plan::build(project, &t.name, &j.model, &opts.tokens))
        .collect::<Result<Vec<_>>>()?;
    for p in &mut targets {
        p.target.lock()?;
    }
    let tagged =
        j.phase == Phase::Tagging && ctx.registry_champion().as_deref() == Some(j.version.as_str());
    if opts.abort.is_some() && !tagged {
        if j.phase != Phase::Compensating {
            j.failure.get_or_insert(journal::Failure {
                target: String::new(),
                reason: "aborted with --abort".into(),
                exit_code: 0,
            });
        }
        j.phase = Phase::Compensating;
    }
    execute(project, ctx, j, &mut targets, opts)
}

/// Run the journal forward (or its compensation) and tag at the end.
fn execute(
    project: &Project,
    ctx: &Context<'_>,
    mut j: Journal,
    targets: &mut [Planned<'_>],
    opts: &MultiOptions,
) -> Result<MultiReport> {
    let verified = ctx.bundle(&j.version)?;
    let fetch = |v: &str| ctx.bundle(v).map(|b| b.bytes);
    let cx = Ctx {
        project,
        model: &ctx.model.name,
        bundle: &verified.bundle,
        bytes: &verified.bytes,
        fetch: &fetch,
        max_parallel: opts.max_parallel.unwrap_or(1),
        bake: opts.bake,
        max_error_ratio: project
            .file
            .deploy
            .as_ref()
            .and_then(|d| d.max_error_ratio)
            .unwrap_or(DEFAULT_MAX_ERROR_RATIO),
        pause: opts.pause.as_ref(),
    };
    if j.step == 0 {
        // The plan, written before anything changes.
        cx.save(&mut j)?;
    }
    let mut checks = Vec::new();
    if j.phase != Phase::Compensating
        && let Err(f) = protocol::forward(&cx, &mut j, targets, &mut checks)
    {
        j.failure = Some(f);
    }
    if j.phase == Phase::Compensating || j.failure.is_some() {
        return fail(project, &cx, &mut j, targets, opts.abort.is_some());
    }
    let untagged = untagged(ctx, &j, targets)?;
    if untagged.is_none() && ctx.registry_champion().as_deref() != Some(j.version.as_str()) {
        j.tag = Some(record(ctx, &j)?);
    }
    j.phase = Phase::Done;
    cx.save(&mut j)?;
    let mut r = report(project, ctx, &j, targets, checks, "done");
    r.untagged = untagged;
    if opts.push {
        let fresh: Vec<String> = j.tag.iter().cloned().collect();
        match repo::push_model_tags(
            &ctx.repo,
            &r.remote,
            &ctx.model.name,
            &fresh,
            opts.git_token.as_deref(),
        ) {
            Ok(t) => r.pushed_tags = t,
            Err(f) => r.push_failure = Some(f),
        }
    }
    Ok(r)
}

/// Compensate after the journal's failure: the error to exit with, or
/// (`--abort`, all old) the report.
fn fail(
    project: &Project,
    cx: &Ctx<'_>,
    j: &mut Journal,
    targets: &mut [Planned<'_>],
    aborting: bool,
) -> Result<MultiReport> {
    let left = protocol::compensate(cx, j, targets)?;
    let f = j.failure.clone().unwrap_or(journal::Failure {
        target: String::new(),
        reason: "interrupted".into(),
        exit_code: 5,
    });
    let back = if left.is_empty() {
        "every target was put back on the version it served before, and no assignment was recorded"
            .to_string()
    } else {
        format!(
            "putting back failed on {} — the journal {} stays unfinished: run `mlops deploy {} --abort {}` once the targets answer",
            left.join("; "),
            display_path(&j.path(project)),
            j.environment,
            j.id
        )
    };
    if aborting && left.is_empty() {
        return Ok(MultiReport {
            outcome: "aborted",
            ..bare(project, j, targets)
        });
    }
    let who = if f.target.is_empty() {
        String::new()
    } else {
        format!("target {}: ", f.target)
    };
    let msg = format!(
        "{} {} {} to {} failed ({who}{}); {back}",
        j.command, j.model, j.version, j.environment, f.reason
    );
    Err(if f.exit_code == 1 && left.is_empty() {
        Error::Check(msg)
    } else {
        Error::Remote(msg)
    })
}

/// Why the tag waits: targets of the environment left out with
/// `--targets` that do not serve the version.
fn untagged(ctx: &Context<'_>, j: &Journal, targets: &[Planned<'_>]) -> Result<Option<String>> {
    let env = ctx.project.environment(ctx.env_name)?;
    let mut behind = Vec::new();
    for name in env.targets.iter().flatten() {
        if targets.iter().any(|p| &p.name == name) {
            continue;
        }
        let mut p = plan::build(ctx.project, name, &j.model, &BTreeMap::new())?;
        let live = p.target.live().ok().and_then(|l| l.champion);
        if live.as_deref() != Some(j.version.as_str()) {
            behind.push(format!(
                "{name} serves {}",
                live.as_deref().unwrap_or("nothing")
            ));
        }
    }
    Ok((!behind.is_empty()).then(|| {
        format!(
            "not every target of {} serves {} yet ({}); the assignment is recorded when the last one does",
            j.environment,
            j.version,
            behind.join(", ")
        )
    }))
}

/// Write `NAME#ENV#N`: its name.
fn record(ctx: &Context<'_>, j: &Journal) -> Result<String> {
    let previous: serde_json::Map<String, serde_json::Value> = j
        .targets
        .iter()
        .map(|t| (t.name.clone(), json!(t.previous)))
        .collect();
    let meta = json!({
        "target": "multi",
        "targets": j.targets.iter().map(|t| &t.name).collect::<Vec<_>>(),
        "strategy": if j.command == "rollback" { "rollback" } else { "replace" },
        "canary_percent": null,
        "previous": ctx.registry_champion(),
        "previous_by_target": previous,
        "deploy_id": j.id,
        "bundle_sha256": ctx.bundle(&j.version)?.info.sha256,
        "tool": package::tool(),
    });
    let note = EventNote {
        prefix: if j.command == "rollback" {
            "rollback: ".into()
        } else {
            String::new()
        },
        meta: Some(meta),
        canary: None,
    };
    let action = Action::Assign(ctx.env_name.to_string());
    let written = repo::write_event_with(&ctx.repo, &ctx.model.name, &action, Some(&j.version), &note)
        .map_err(|e| {
            Error::Registry(format!(
                "{} {} is live and verified on every target of {} but the assignment could not be recorded ({e}); record it with `mlops deploy {} --resume {}`",
                ctx.model.name, j.version, ctx.env_name, ctx.env_name, j.id
            ))
        })?;
    Ok(written.tag)
}

fn bare(project: &Project, j: &Journal, targets: &[Planned<'_>]) -> MultiReport {
    MultiReport {
        command: j.command.clone(),
        environment: j.environment.clone(),
        model: j.model.clone(),
        version: j.version.clone(),
        id: Some(j.id.clone()),
        journal: Some(j.path(project)),
        outcome: "done",
        targets: targets
            .iter()
            .map(|p| {
                let jt = j.targets.iter().find(|t| t.name == p.name);
                TargetReport {
                    name: p.name.clone(),
                    kind: p.section.kind(),
                    location: p.target.location(),
                    region: p.section.region.clone(),
                    role: p.section.role.unwrap_or_default(),
                    previous: jt.and_then(|t| t.previous.clone()),
                    state: jt.map_or(TargetState::Planned, |t| t.state),
                    checks: Vec::new(),
                }
            })
            .collect(),
        tag: j.tag.clone(),
        untagged: None,
        pushed_tags: Vec::new(),
        push_failure: None,
        remote: project
            .file
            .registry
            .as_ref()
            .and_then(|r| r.remote.clone())
            .unwrap_or_else(|| "origin".into()),
    }
}

fn report(
    project: &Project,
    _ctx: &Context<'_>,
    j: &Journal,
    targets: &[Planned<'_>],
    checks: Vec<(String, Check)>,
    outcome: &'static str,
) -> MultiReport {
    let mut r = bare(project, j, targets);
    r.outcome = outcome;
    for (name, c) in checks {
        if let Some(t) = r.targets.iter_mut().find(|t| t.name == name) {
            t.checks.push(c);
        }
    }
    r
}
