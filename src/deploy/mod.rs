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

pub mod http;
pub mod kube;
pub mod local;
pub mod smoke;

use std::path::PathBuf;

use git2::{Oid, Repository};
use serde_json::{Value, json};

use crate::bundle::{self, Bundle};
use crate::error::{Error, Result, display_path};
use crate::package;
use crate::project::{EnvironmentSection, Project, TargetKind};
use crate::registry::repo::{self, EventNote};
use crate::registry::state::{self, Model, TagRecord};
use crate::registry::tag::{Action, TagName};

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
}

/// What `rollback` should do.
#[derive(Debug, Clone, Default)]
pub struct RollbackOptions {
    /// Put back this version instead of the one live before the current.
    pub to: Option<String>,
    /// Only print the plan.
    pub dry_run: bool,
    /// Push the assignment tag.
    pub push: bool,
    /// `MLOPS_GIT_TOKEN`, for HTTPS pushes.
    pub git_token: Option<String>,
    /// The admin token (the value of the environment's `token_env`).
    pub admin_token: Option<String>,
}

/// One verification step and its outcome.
#[derive(Debug, Clone)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Whether it passed (a report only carries passed checks; failures are errors).
    pub ok: bool,
    /// What was found.
    pub detail: String,
}

impl Check {
    /// A passed check.
    #[must_use]
    pub fn pass(name: &str, detail: impl Into<String>) -> Check {
        Check {
            name: name.to_string(),
            ok: true,
            detail: detail.into(),
        }
    }
}

/// What the environment runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Live {
    /// The champion's version.
    pub champion: Option<String>,
    /// The challenger's version (a canary).
    pub challenger: Option<String>,
    /// The challenger's share of traffic.
    pub challenger_percent: u8,
}

/// What a target is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Make the bundle the champion; drop a running challenger when asked.
    Replace {
        /// Remove the challenger too (rollback during a canary).
        drop_challenger: bool,
    },
    /// Load the bundle as challenger with this share of traffic.
    Canary(u8),
    /// The challenger (the bundle) becomes the champion.
    Promote,
    /// Remove the challenger; the champion (the bundle) stays.
    DropChallenger,
}

/// Everything a target needs to apply and verify a step.
pub struct Job<'a> {
    /// The step.
    pub step: Step,
    /// The model name.
    pub model: &'a str,
    /// The verified bundle of the version that ends up live in the step's slot.
    pub bundle: &'a Bundle,
    /// Its bytes.
    pub bytes: &'a [u8],
    /// Rows with known predictions.
    pub smoke: &'a smoke::Rows,
    /// What the registry says the champion is (for `If-Match`).
    pub registry_champion: Option<&'a str>,
    /// The bundle of an earlier version, to restore it by re-uploading.
    pub fetch: &'a dyn Fn(&str) -> Result<Vec<u8>>,
}

/// A deploy target: reads what is live, applies a step and verifies it,
/// putting back what was live when verification fails.
pub trait Target {
    /// `local`, `http` or `kubernetes`.
    fn kind(&self) -> TargetKind;
    /// The folder or URL, for messages.
    fn location(&self) -> String;
    /// Take the environment's deploy lock (held until the target is dropped).
    fn lock(&mut self) -> Result<()>;
    /// What runs now.
    fn live(&mut self) -> Result<Live>;
    /// Apply and verify `job`; the checks that passed.
    fn apply(&mut self, job: &Job<'_>) -> Result<Vec<Check>>;
}

/// Where the bundle came from.
#[derive(Debug, Clone)]
pub struct BundleInfo {
    /// `dist/NAME-vX.Y.Z.tar.gz`, when read from there.
    pub path: Option<PathBuf>,
    /// SHA-256 of its bytes (equal to the tag's).
    pub sha256: String,
    /// `dist` or `rebuilt` (from the tagged commit).
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
    /// The remote pushed to.
    pub remote: String,
    /// Only a plan.
    pub dry_run: bool,
    /// Whether the environment or the registry changed (false: already live).
    pub changed: bool,
}

/// The deploy: `opts.version` (or the latest) to `env_name`.
pub fn deploy(project: &Project, env_name: &str, opts: &DeployOptions) -> Result<DeployReport> {
    let env = project.environment(env_name)?;
    if (opts.canary.is_some() || opts.promote) && env.target == TargetKind::Kubernetes {
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
    ctx.run(
        target.as_mut(),
        &live,
        &version,
        step,
        strategy,
        "deploy",
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
    let mut target = make_target(project, env_name, env, opts.admin_token.clone())?;
    if !opts.dry_run {
        target.lock()?;
    }
    let ctx = Context::open(project, env_name, env)?;
    let live = target.live()?;
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
    ctx.run(
        target.as_mut(),
        &live,
        &version,
        step,
        Strategy::Rollback,
        "rollback",
        &RunFlags {
            dry_run: opts.dry_run,
            push: opts.push,
            git_token: opts.git_token.as_deref(),
        },
    )
}

/// The target of `env_name`, after checking that it is a registry stage.
fn make_target(
    project: &Project,
    env_name: &str,
    env: &EnvironmentSection,
    admin_token: Option<String>,
) -> Result<Box<dyn Target>> {
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
    let name = project.model()?.name.clone();
    Ok(match env.target {
        TargetKind::Local => Box::new(local::Local::new(project, env_name, env)?),
        TargetKind::Http => Box::new(http::Http::new(env_name, env, &name, admin_token)?),
        TargetKind::Kubernetes => Box::new(kube::Kube::new(project, env_name, env, &name)?),
    })
}

struct RunFlags<'a> {
    dry_run: bool,
    push: bool,
    git_token: Option<&'a str>,
}

/// The registry side of a deploy, read once.
struct Context<'a> {
    project: &'a Project,
    env_name: &'a str,
    env: &'a EnvironmentSection,
    repo: Repository,
    model: Model,
    records: Vec<TagRecord>,
}

impl<'a> Context<'a> {
    fn open(project: &'a Project, env_name: &'a str, env: &'a EnvironmentSection) -> Result<Self> {
        let name = project.model()?.name.clone();
        let repo = repo::open(&project.root)?;
        let mut records = repo::read_tags(&repo, Some(&name))?;
        state::sort(&mut records);
        let model = state::resolve(&records).into_iter().next().ok_or_else(|| {
            Error::Registry(format!(
                "there is no model {name} in the registry; register a version with `mlops package` first"
            ))
        })?;
        if model.deprecated {
            return Err(Error::Registry(format!(
                "{name} is deprecated in the registry; nothing of it ships until a new version is registered with `mlops package`"
            )));
        }
        Ok(Context {
            project,
            env_name,
            env,
            repo,
            model,
            records,
        })
    }

    /// An active registered version: `wanted` or the latest.
    fn choose(&self, wanted: Option<&str>) -> Result<String> {
        let name = &self.model.name;
        let Some(v) = wanted else {
            return self.model.latest.clone().ok_or_else(|| {
                Error::Registry(format!(
                    "{name} has no active version to deploy (every version was deregistered); register one with `mlops package`"
                ))
            });
        };
        let ver = self.model.version(v).ok_or_else(|| {
            let known: Vec<&str> = self
                .model
                .versions
                .iter()
                .filter(|x| x.active)
                .map(|x| x.version.as_str())
                .collect();
            Error::Registry(format!(
                "{name} has no version {v} (active: {}); run `mlops models` to see the registry",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })?;
        if !ver.active {
            return Err(Error::Registry(format!(
                "{name}@{v} was deregistered and must not ship; choose an active version (`mlops models`)"
            )));
        }
        Ok(ver.version.clone())
    }

    /// The assignments of this environment's stage, oldest first: (version, tag).
    fn stage_history(&self) -> Vec<(String, &TagRecord)> {
        state::history(&self.records, Some(&self.model.name))
            .into_iter()
            .filter(|e| e.kind == state::EventKind::Assign && e.stage == Some(self.env_name))
            .filter_map(|e| e.version.map(|v| (v, e.record)))
            .collect()
    }

    /// The version live before the registry's current one.
    fn previous_version(&self) -> Result<String> {
        let current = self.model.stages.get(self.env_name);
        let hist = self.stage_history();
        let found = hist
            .iter()
            .rev()
            .find(|(v, _)| Some(v) != current && self.model.version(v).is_some_and(|x| x.active));
        if let Some((v, _)) = found {
            return Ok(v.clone());
        }
        let shown = if hist.is_empty() {
            "no assignment yet".to_string()
        } else {
            hist.iter()
                .map(|(v, r)| format!("{v} ({}, {})", r.name, crate::train::rfc3339(r.time)))
                .collect::<Vec<_>>()
                .join(", then ")
        };
        Err(Error::Registry(format!(
            "nothing to roll back to in {}: the stage's history of {} is {shown}; deploy another version first, or name one with --to",
            self.env_name, self.model.name
        )))
    }

    /// What the registry says the champion is: the stage's version, or
    /// the champion recorded before it when the stage's newest assignment
    /// started a canary.
    fn registry_champion(&self) -> Option<String> {
        let current = self.model.stages.get(self.env_name)?;
        let (_, rec) = self
            .stage_history()
            .into_iter()
            .rev()
            .find(|(v, _)| v == current)?;
        let meta = rec.metadata();
        match meta
            .as_ref()
            .and_then(|m| m.get("strategy"))
            .and_then(Value::as_str)
        {
            Some("canary") => meta
                .as_ref()
                .and_then(|m| m.get("previous"))
                .and_then(Value::as_str)
                .map(str::to_string),
            _ => Some(current.clone()),
        }
    }

    /// The verified bundle of `version`: from `dist/`, or rebuilt from its
    /// commit; its sha256 must be the registration tag's.
    fn bundle(&self, version: &str) -> Result<(Vec<u8>, Bundle, BundleInfo)> {
        let name = &self.model.name;
        let ver = self.model.version(version).ok_or_else(|| {
            Error::Registry(format!(
                "{name} has no version {version} in the registry; run `mlops models` to see it"
            ))
        })?;
        let recorded = ver
            .metadata
            .as_ref()
            .and_then(|m| m.get("bundle_sha256"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::Registry(format!(
                    "tag {} records no bundle_sha256 (it was not written by `mlops package`), so its bundle cannot be verified; register the model with `mlops package`",
                    ver.tag
                ))
            })?
            .to_string();
        let path = package::bundle_path(self.project, name, version);
        let (bytes, source, from) = match std::fs::read(&path) {
            Ok(b) => (b, "dist", Some(path.clone())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let toml_rel = package::rel_in_repo(&self.repo, &self.project.path)?;
                let oid =
                    Oid::from_str(&ver.commit).map_err(|e| repo::git_err("read the tag", &e))?;
                let commit = self
                    .repo
                    .find_commit(oid)
                    .map_err(|e| repo::git_err(&format!("find commit {}", ver.commit), &e))?;
                let tool = ver
                    .metadata
                    .as_ref()
                    .and_then(|m| m.get("tool"))
                    .and_then(Value::as_str)
                    .map_or_else(package::tool, str::to_string);
                let built = package::build_from_commit(
                    &self.repo, &commit, &toml_rel, name, version, &tool,
                )?;
                (built.bytes, "rebuilt", None)
            }
            Err(e) => return Err(Error::io("read the bundle", &path, &e)),
        };
        let origin = from.as_ref().map_or_else(
            || {
                format!(
                    "the bundle of {name}@{version} rebuilt from commit {}",
                    &ver.commit[..12]
                )
            },
            |p| display_path(p),
        );
        let sha = bundle::sha256_hex(&bytes);
        if sha != recorded {
            let fix = if from.is_some() {
                format!(
                    "delete it so that deploy rebuilds it from the tagged commit, or check it with `mlops package --check {name}@{version}`"
                )
            } else {
                "the commit no longer rebuilds to the registered bundle; register a new version with `mlops package`".to_string()
            };
            return Err(Error::Registry(format!(
                "{origin} has sha256 {sha} but tag {} records {recorded}: the bundle was altered; nothing was deployed, {fix}",
                ver.tag
            )));
        }
        let b = bundle::read(&bytes, &origin).map_err(|e| Error::Registry(e.to_string()))?;
        if b.name != *name || b.version != version {
            return Err(Error::Registry(format!(
                "{origin} holds {}@{}, not {name}@{version}; nothing was deployed, rebuild it with `mlops package --check {name}@{version}`",
                b.name, b.version
            )));
        }
        Ok((
            bytes,
            b,
            BundleInfo {
                path: from,
                sha256: sha,
                source,
            },
        ))
    }

    #[allow(clippy::too_many_arguments, clippy::too_many_lines)]
    fn run(
        &self,
        target: &mut dyn Target,
        live: &Live,
        version: &str,
        step: Step,
        strategy: Strategy,
        command: &'static str,
        flags: &RunFlags<'_>,
    ) -> Result<DeployReport> {
        let name = &self.model.name;
        // The version is active and its bundle verified before anything changes.
        self.choose(Some(version))?;
        let (bytes, bundle, info) = self.bundle(version)?;
        let smoke_n = self.env.smoke_rows.unwrap_or(5);
        let smoke = smoke::rows(self.project, &bundle.artifact, smoke_n);
        let registry_stage = self.model.stages.get(self.env_name).cloned();
        let unchanged = match step {
            Step::Replace { .. } => {
                live.champion.as_deref() == Some(version)
                    && live.challenger.is_none()
                    && registry_stage.as_deref() == Some(version)
            }
            _ => false,
        };
        let remote = self
            .project
            .file
            .registry
            .as_ref()
            .and_then(|r| r.remote.clone())
            .unwrap_or_else(|| "origin".into());
        let previous = if step == Step::DropChallenger {
            live.challenger.clone()
        } else {
            live.champion.clone()
        };
        let mut report = DeployReport {
            command,
            environment: self.env_name.to_string(),
            target: target.kind(),
            location: target.location(),
            model: name.clone(),
            version: version.to_string(),
            previous: previous.clone(),
            strategy,
            bundle: info,
            checks: Vec::new(),
            tag: None,
            pushed: false,
            remote: remote.clone(),
            dry_run: flags.dry_run,
            changed: !unchanged,
        };
        if flags.dry_run {
            report.checks = planned_checks(target.kind(), step, &smoke);
            return Ok(report);
        }
        if unchanged {
            report.checks.push(Check::pass(
                "already live",
                format!(
                    "{name} {version} is the champion of {} and the registry agrees",
                    self.env_name
                ),
            ));
            return Ok(report);
        }
        // Fail on a missing git identity before the environment changes.
        repo::tagger(&self.repo, 0)?;
        let registry_champion = self.registry_champion();
        let fetch = |v: &str| self.bundle(v).map(|(b, _, _)| b);
        let job = Job {
            step,
            model: name,
            bundle: &bundle,
            bytes: &bytes,
            smoke: &smoke,
            registry_champion: registry_champion.as_deref(),
            fetch: &fetch,
        };
        report.checks = target.apply(&job)?;

        // Verified: record the assignment.
        let meta = json!({
            "target": target.kind().as_str(),
            "strategy": strategy.name(),
            "canary_percent": strategy.percent(),
            "previous": previous,
            "location": self
                .env
                .url
                .clone()
                .or_else(|| self.env.path.as_ref().map(|p| p.display().to_string())),
            "bundle_sha256": report.bundle.sha256,
            "tool": package::tool(),
        });
        let note = EventNote {
            prefix: if strategy == Strategy::Rollback {
                "rollback: ".into()
            } else {
                String::new()
            },
            meta: Some(meta),
        };
        let action = Action::Assign(self.env_name.to_string());
        let written = repo::write_event_with(&self.repo, name, &action, Some(version), &note)
            .map_err(|e| {
                // The next free name (a lightweight tag may hold the expected one).
                let mut n = self.model.max_counter + 1;
                let tag = loop {
                    let t = TagName {
                        artifact: name.clone(),
                        action: action.clone(),
                        counter: Some(n),
                    };
                    if self.repo.find_reference(&format!("refs/tags/{t}")).is_err() {
                        break t;
                    }
                    n += 1;
                };
                Error::Registry(format!(
                    "{name} {version} is live and verified in {} but the assignment could not be recorded ({e}); record it with `git tag -a '{tag}' -m 'Assigning stage {} to artifact {name} version {version}' {}` so the registry agrees",
                    self.env_name,
                    self.env_name,
                    self.model
                        .version(version)
                        .map_or("COMMIT", |v| v.commit.as_str())
                ))
            })?;
        report.tag = Some(written.tag.clone());
        if flags.push {
            repo::push_tag(&self.repo, &remote, &written.tag, flags.git_token)?;
            report.pushed = true;
        }
        Ok(report)
    }
}

/// The checks a step will run, for `--dry-run`.
fn planned_checks(kind: TargetKind, step: Step, smoke: &smoke::Rows) -> Vec<Check> {
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

#[cfg(test)]
/// A bundle of a model trained on `y = 1 + 2a` (+ `shift`), version `v`.
pub(crate) fn test_bundle(dir: &std::path::Path, v: &str, shift: f64) -> (Vec<u8>, Bundle) {
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
        "files": {"mlops.toml": bundle::sha256_hex(toml.as_bytes()), "models/m.json": bundle::sha256_hex(&art)},
    });
    let entries = [
        bundle::Entry {
            path: "mlops.toml".into(),
            bytes: toml.as_bytes().to_vec(),
        },
        bundle::Entry {
            path: "models/m.json".into(),
            bytes: art,
        },
        bundle::Entry {
            path: "manifest.json".into(),
            bytes: manifest.to_string().into_bytes(),
        },
    ];
    let bytes = bundle::build(&entries, 0).unwrap();
    let b = bundle::read(&bytes, "test").unwrap();
    (bytes, b)
}
