//! `mlops deploy` and `mlops rollback`: render a [`DeployReport`].

use serde_json::json;

use super::args::{Cli, DeployArgs, RollbackArgs};
use super::env::{Env, config_path};
use super::output::Output;
use mlops::Result;
use mlops::deploy::{DeployOptions, DeployReport, RollbackOptions, Strategy};
use mlops::error::Error;
use mlops::error::display_path;
use mlops::project::Project;
use mlops::registry::repo::shown_remote;

/// The admin token of `env_name`'s `token_env`, read from the process
/// environment (the project file names the variable, never the token).
fn admin_token(project: &Project, env_name: &str) -> Option<String> {
    let name = project
        .file
        .environments
        .get(env_name)?
        .token_env
        .as_ref()?;
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

pub fn run_deploy(a: &DeployArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let project = Project::load(config_path(cli, env), &env.cwd)?;
    if super::deploy_multi::spans(&project, &a.env) || super::deploy_multi::deploy_flags(a) {
        return super::deploy_multi::run_deploy(a, &project, env, out);
    }
    let opts = DeployOptions {
        version: a.version.clone(),
        canary: a.canary,
        promote: a.promote,
        dry_run: a.dry_run,
        push: a.push,
        git_token: env.git_token.clone(),
        admin_token: admin_token(&project, &a.env),
        force: a.force,
    };
    let r = mlops::deploy::deploy(&project, &a.env, &opts)?;
    if let Some(w) = mlops::deploy::newer_model(&project, &r.version) {
        out.warning(&w);
    }
    render(&r, out)
}

pub fn run_rollback(a: &RollbackArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let project = Project::load(config_path(cli, env), &env.cwd)?;
    if super::deploy_multi::spans(&project, &a.env) || super::deploy_multi::rollback_flags(a) {
        return super::deploy_multi::run_rollback(a, &project, env, out);
    }
    let opts = RollbackOptions {
        to: a.to.clone(),
        dry_run: a.dry_run,
        push: a.push,
        git_token: env.git_token.clone(),
        admin_token: admin_token(&project, &a.env),
        force: a.force,
    };
    let r = mlops::deploy::rollback(&project, &a.env, &opts)?;
    render(&r, out)
}

/// Print the report; a failed push is then an error (exit 5) that says
/// what happened, since the environment and the local registry changed.
fn render(r: &DeployReport, out: &Output) -> Result<()> {
    if out.json {
        out.report(&render_json(r), "")?;
    } else {
        let text = render_text(r, out);
        out.report(&text, super::output::first_line(&text))?;
    }
    match &r.push_failure {
        None => Ok(()),
        Some(f) => {
            let verb = match r.strategy {
                Strategy::Rollback => "rolled back",
                Strategy::Canary(_) => "started the canary of",
                Strategy::Promote => "promoted",
                Strategy::Replace => "deployed",
            };
            let done = if r.changed {
                format!(
                    "{verb} {} {} in {} and tagged it in the local repository",
                    r.model, r.version, r.environment
                )
            } else {
                format!(
                    "{} {} was already live in {}",
                    r.model, r.version, r.environment
                )
            };
            Err(Error::Remote(format!(
                "{done}, but could not push {} to remote \"{}\" ({}); the tags are not pushed: push them with `{}` (or rerun with --push)",
                f.tags.join(", "),
                shown_remote(&r.remote),
                f.reason,
                f.command
            )))
        }
    }
}

/// The `--json` document (schemas: docs/schemas/deploy.schema.json and
/// rollback.schema.json).
#[must_use]
pub fn render_json(r: &DeployReport) -> String {
    let checks: Vec<_> = r
        .checks
        .iter()
        .map(|c| json!({"name": c.name, "ok": c.ok, "detail": c.detail}))
        .collect();
    let doc = json!({
        "command": r.command,
        "environment": r.environment,
        "target": r.target.as_str(),
        "location": r.location,
        "model": r.model,
        "version": r.version,
        "previous": r.previous,
        "strategy": r.strategy.name(),
        "canary_percent": r.strategy.percent(),
        "bundle": {
            "path": r.bundle.path.as_ref().map(|p| display_path(p)),
            "sha256": r.bundle.sha256,
            "source": r.bundle.source,
        },
        "checks": checks,
        "tag": r.tag,
        "pushed": r.pushed,
        "pushed_tags": r.pushed_tags,
        "push_failure": r.push_failure.as_ref().map(|f| json!({
            "tags": f.tags,
            "reason": f.reason,
            "command": f.command,
        })),
        "dry_run": r.dry_run,
        "changed": r.changed,
        "applied": r.applied,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// The human report.
#[must_use]
pub fn render_text(r: &DeployReport, out: &Output) -> String {
    let from = r.previous.as_deref().unwrap_or("nothing");
    let how = match r.strategy {
        Strategy::Canary(p) => format!("canary, {p}% of traffic"),
        s => s.name().to_string(),
    };
    let bundle = match &r.bundle.path {
        Some(p) => display_path(p),
        None => "rebuilt from the tagged commit".to_string(),
    };
    let mut s = if r.dry_run {
        format!(
            "Plan: {} {} to {} ({} at {})\n  from      {from}\n  to        {}\n  strategy  {how}\n  bundle    {bundle} (sha256 {})\n  checks\n",
            r.command,
            r.model,
            r.environment,
            r.target.as_str(),
            r.location,
            r.version,
            r.bundle.sha256
        )
    } else if !r.changed {
        format!(
            "{} {} {} is already live in {} ({} at {}); nothing to do\n",
            out.paint("Up to date:", "1;32"),
            r.model,
            r.version,
            r.environment,
            r.target.as_str(),
            r.location
        )
    } else {
        let verb = match r.strategy {
            Strategy::Rollback => "Rolled back",
            Strategy::Canary(_) => "Canary started",
            Strategy::Promote => "Promoted",
            Strategy::Replace if !r.applied => "Rendered",
            Strategy::Replace => "Deployed",
        };
        format!(
            "{} {} {} in {} ({} at {})\n  from      {from}\n  strategy  {how}\n  bundle    {bundle} (sha256 {})\n  checks\n",
            out.paint(verb, "1;32"),
            r.model,
            r.version,
            r.environment,
            r.target.as_str(),
            r.location,
            r.bundle.sha256
        )
    };
    if r.changed || r.dry_run {
        for c in &r.checks {
            s.push_str(&format!("    {:<10}{}\n", c.name, c.detail));
        }
    }
    if let Some(t) = &r.tag {
        s.push_str(&format!("  tag       {t}\n"));
    }
    if r.pushed {
        let what = if r.pushed_tags.is_empty() {
            "nothing left to push".to_string()
        } else {
            r.pushed_tags.join(", ")
        };
        s.push_str(&format!(
            "  pushed    to {}: {what}\n",
            shown_remote(&r.remote)
        ));
    }
    if let Some(f) = &r.push_failure {
        s.push_str(&format!(
            "  not pushed to {} ({}); tagged in the local repository only, push with:\n    {}\n",
            shown_remote(&r.remote),
            f.reason,
            f.command
        ));
    }
    if r.dry_run {
        s.push_str("Nothing was changed (--dry-run).\n");
    }
    s
}
