//! `mlops deploy` and `mlops rollback` of an environment with
//! `targets = [...]`: options from the flags, and the report.

use std::time::Duration;

use serde_json::json;

use super::args::{DeployArgs, MultiFlags, RollbackArgs};
use super::env::Env;
use super::output::Output;
use mlops::Result;
use mlops::deploy::multi::{self, MultiOptions, MultiReport};
use mlops::error::{Error, display_path};
use mlops::project::Project;
use mlops::registry::repo::shown_remote;

/// Whether `env_name` is an environment with targets.
pub fn spans(project: &Project, env_name: &str) -> bool {
    project
        .file
        .environments
        .get(env_name)
        .is_some_and(|e| e.targets.is_some())
}

/// Whether a flag of multi-target deploys was given.
pub fn deploy_flags(a: &DeployArgs) -> bool {
    multi_flags(&a.multi) || a.resume.is_some() || a.abort.is_some()
}

/// Whether a flag of multi-target rollbacks was given.
pub fn rollback_flags(a: &RollbackArgs) -> bool {
    multi_flags(&a.multi)
}

fn multi_flags(m: &MultiFlags) -> bool {
    m.targets.is_some() || m.max_parallel.is_some() || m.bake.is_some()
}

/// `30s`, `10m`, `1h`, `90` (seconds).
fn duration(s: &str) -> Result<Duration> {
    let t = s.trim();
    let (num, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => t.split_at(i),
        None => (t, "s"),
    };
    let mult = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => f64::NAN,
    };
    match num.parse::<f64>() {
        Ok(n) if n >= 0.0 && (n * mult).is_finite() => Ok(Duration::from_secs_f64(n * mult)),
        _ => Err(Error::usage(format!(
            "--bake {s} is not a duration; write it like 30s, 10m or 1h"
        ))),
    }
}

fn pause(env: &Env) -> Option<(u64, std::path::PathBuf)> {
    let (k, f) = env.deploy_pause.as_deref()?.split_once(':')?;
    Some((k.parse().ok()?, f.into()))
}

/// The options common to deploy and rollback; `[push, dry_run, force]`.
fn options(project: &Project, env: &Env, m: &MultiFlags, flags: [bool; 3]) -> Result<MultiOptions> {
    let [push, dry_run, force] = flags;
    Ok(MultiOptions {
        only: m.targets.clone(),
        max_parallel: m.max_parallel.map(usize::from),
        bake: m.bake.as_deref().map(duration).transpose()?,
        dry_run,
        push,
        git_token: env.git_token.clone(),
        force,
        tokens: super::status::tokens(project),
        pause: pause(env),
        ..MultiOptions::default()
    })
}

pub fn run_deploy(a: &DeployArgs, project: &Project, env: &Env, out: &Output) -> Result<()> {
    if a.canary.is_some() || a.promote {
        return Err(Error::usage(format!(
            "--canary and --promote apply to single-target environments; {} spans several targets, deploy it without them",
            a.env
        )));
    }
    let mut o = options(project, env, &a.multi, [a.push, a.dry_run, a.force])?;
    o.version = a.version.clone();
    o.resume = a.resume.clone();
    o.abort = a.abort.clone();
    let r = multi::run(project, &a.env, &o)?;
    render(&r, out)
}

pub fn run_rollback(a: &RollbackArgs, project: &Project, env: &Env, out: &Output) -> Result<()> {
    let mut o = options(project, env, &a.multi, [a.push, a.dry_run, a.force])?;
    o.rollback = true;
    o.version = a.to.clone();
    let r = multi::run(project, &a.env, &o)?;
    render(&r, out)
}

fn render(r: &MultiReport, out: &Output) -> Result<()> {
    if out.json {
        out.report(&render_json(r), "")?;
    } else {
        let text = render_text(r, out);
        out.report(&text, super::output::first_line(&text))?;
    }
    match &r.push_failure {
        None => Ok(()),
        Some(f) => Err(Error::Remote(format!(
            "{} {} {} on every target of {} and tagged it locally, but could not push {} to remote \"{}\" ({}); push them with `{}`",
            r.command,
            r.model,
            r.version,
            r.environment,
            f.tags.join(", "),
            shown_remote(&r.remote),
            f.reason,
            f.command
        ))),
    }
}

/// The `--json` document (schema: docs/schemas/deploy-multi.schema.json).
#[must_use]
pub fn render_json(r: &MultiReport) -> String {
    let targets: Vec<_> = r
        .targets
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "target": t.kind.as_str(),
                "location": t.location,
                "region": t.region,
                "role": t.role.as_str(),
                "previous": t.previous,
                "state": serde_json::to_value(t.state).unwrap_or_default(),
                "checks": t.checks.iter().map(|c| json!({"name": c.name, "ok": c.ok, "detail": c.detail})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "command": r.command,
        "environment": r.environment,
        "model": r.model,
        "version": r.version,
        "outcome": r.outcome,
        "id": r.id,
        "journal": r.journal.as_ref().map(|p| display_path(p)),
        "targets": targets,
        "tag": r.tag,
        "untagged": r.untagged,
        "pushed_tags": r.pushed_tags,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// The human report.
#[must_use]
pub fn render_text(r: &MultiReport, out: &Output) -> String {
    let head = match r.outcome {
        "plan" => "Plan:".to_string(),
        "unchanged" => out.paint("Up to date:", "1;32"),
        "aborted" => out.paint("Aborted:", "1;33"),
        _ if r.command == "rollback" => out.paint("Rolled back", "1;32"),
        _ => out.paint("Deployed", "1;32"),
    };
    let mut s = format!(
        "{head} {} {} in {} ({} targets)\n",
        r.model,
        r.version,
        r.environment,
        r.targets.len()
    );
    for t in &r.targets {
        s.push_str(&format!(
            "  {:<12}{} at {} ({}{}), from {}: {}\n",
            t.name,
            t.kind.as_str(),
            t.location,
            t.role.as_str(),
            t.region
                .as_deref()
                .map(|x| format!(", {x}"))
                .unwrap_or_default(),
            t.previous.as_deref().unwrap_or("nothing"),
            serde_json::to_value(t.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ));
        for c in &t.checks {
            s.push_str(&format!("    {:<10}{}\n", c.name, c.detail));
        }
    }
    if let Some(j) = &r.journal {
        s.push_str(&format!("  journal   {}\n", display_path(j)));
    }
    if let Some(t) = &r.tag {
        s.push_str(&format!("  tag       {t}\n"));
    }
    if let Some(u) = &r.untagged {
        s.push_str(&format!("  not tagged: {u}\n"));
    }
    if !r.pushed_tags.is_empty() {
        s.push_str(&format!(
            "  pushed    to {}: {}\n",
            shown_remote(&r.remote),
            r.pushed_tags.join(", ")
        ));
    }
    if r.outcome == "plan" {
        s.push_str("Nothing was changed (--dry-run).\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(duration("soon").is_err());
        assert!(duration("-1s").is_err());
    }
}
