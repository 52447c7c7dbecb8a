//! `mlops status [ENV]`: render a [`StatusReport`]; exit 1 when a target
//! disagrees with the registry or a deploy is unfinished.

use std::collections::BTreeMap;

use serde_json::json;

use super::args::{Cli, StatusArgs};
use super::env::{Env, config_path};
use super::output::Output;
use mlops::Result;
use mlops::deploy::status::{EnvStatus, StatusReport, TargetStatus};
use mlops::error::{Error, display_path};
use mlops::project::Project;

/// Admin tokens by target name: single-target environments by their own
/// name, `[targets.T]` by T, from the variables their `token_env` names.
pub fn tokens(project: &Project) -> BTreeMap<String, String> {
    let f = &project.file;
    f.environments
        .iter()
        .chain(f.targets.iter())
        .filter_map(|(n, t)| {
            let v = std::env::var(t.token_env.as_ref()?).ok()?;
            (!v.is_empty()).then(|| (n.clone(), v))
        })
        .collect()
}

pub fn run(a: &StatusArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let project = Project::load(config_path(cli, env), &env.cwd)?;
    let r = mlops::deploy::status::status(&project, a.env.as_deref(), &tokens(&project))?;
    if out.json {
        out.report(&render_json(&r, &project), "")?;
    } else {
        let off: Vec<&str> = r
            .environments
            .iter()
            .filter(|e| !e.agrees())
            .map(|e| e.environment.as_str())
            .collect();
        let line = if off.is_empty() {
            format!("{}: every environment agrees with the registry", r.model)
        } else {
            format!("{}: {} disagree with the registry", r.model, off.join(", "))
        };
        out.report(&render_text(&r, &project, out), &line)?;
    }
    let off: Vec<String> = r
        .environments
        .iter()
        .filter(|e| !e.agrees())
        .map(|e| describe(e, &project))
        .collect();
    if off.is_empty() {
        return Ok(());
    }
    Err(Error::Check(format!(
        "{}; deploy or roll back to make them agree, or finish the journal with --resume ID or --abort ID",
        off.join("; ")
    )))
}

/// Why an environment disagrees, in one clause.
fn describe(e: &EnvStatus, project: &Project) -> String {
    let mut parts: Vec<String> = e
        .targets
        .iter()
        .filter(|t| !t.agrees)
        .map(|t| match &t.error {
            Some(err) => format!("target {} cannot be asked ({err})", t.name),
            None => format!(
                "target {} serves {} but the registry says {}",
                t.name,
                t.serving.as_deref().unwrap_or("nothing"),
                e.registry.as_deref().unwrap_or("nothing")
            ),
        })
        .collect();
    parts.extend(e.unfinished.iter().map(|j| {
        format!(
            "deploy {} is unfinished ({})",
            j.id,
            display_path(&j.path(project))
        )
    }));
    format!("{}: {}", e.environment, parts.join(", "))
}

fn target_json(t: &TargetStatus) -> serde_json::Value {
    json!({
        "name": t.name,
        "target": t.kind.as_str(),
        "location": t.location,
        "region": t.region,
        "role": t.role.as_str(),
        "serving": t.serving,
        "challenger": t.challenger,
        "challenger_percent": t.challenger_percent,
        "ready": t.ready,
        "agrees": t.agrees,
        "error": t.error,
    })
}

/// The `--json` document (schema: docs/schemas/status.schema.json).
#[must_use]
pub fn render_json(r: &StatusReport, project: &Project) -> String {
    let envs: Vec<_> = r
        .environments
        .iter()
        .map(|e| {
            json!({
                "environment": e.environment,
                "registry": e.registry,
                "registry_canary": e.registry_canary.as_ref().map(|(v, p)| json!({"version": v, "percent": p})),
                "agrees": e.agrees(),
                "targets": e.targets.iter().map(target_json).collect::<Vec<_>>(),
                "unfinished": e.unfinished.iter().map(|j| json!({
                    "id": j.id,
                    "journal": display_path(&j.path(project)),
                    "command": j.command,
                    "version": j.version,
                    "step": j.step,
                    "phase": serde_json::to_value(j.phase).unwrap_or_default(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "model": r.model,
        "agrees": r.environments.iter().all(EnvStatus::agrees),
        "environments": envs,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// The human table.
#[must_use]
pub fn render_text(r: &StatusReport, project: &Project, out: &Output) -> String {
    let mut s = String::new();
    for e in &r.environments {
        let mark = if e.agrees() {
            out.paint("agrees", "1;32")
        } else {
            out.paint("DISAGREES", "1;31")
        };
        s.push_str(&format!(
            "{} {}: registry {} ({mark})\n",
            r.model,
            e.environment,
            e.registry.as_deref().unwrap_or("nothing")
        ));
        for t in &e.targets {
            let serving = match (&t.error, &t.serving) {
                (Some(err), _) => format!("unknown ({err})"),
                (None, v) => v.as_deref().unwrap_or("nothing").to_string(),
            };
            let challenger = t
                .challenger
                .as_ref()
                .map(|c| format!(", challenger {c} at {} %", t.challenger_percent))
                .unwrap_or_default();
            s.push_str(&format!(
                "  {:<12}{:<11}{:<8}serves {serving}{challenger}, {}  {}\n",
                t.name,
                t.kind.as_str(),
                t.role.as_str(),
                if t.ready { "ready" } else { "not ready" },
                t.location
            ));
        }
        for j in &e.unfinished {
            s.push_str(&format!(
                "  unfinished {} {} {} at step {} ({}): resume with --resume {} or undo with --abort {}\n",
                j.command,
                j.version,
                j.id,
                j.step,
                display_path(&j.path(project)),
                j.id,
                j.id
            ));
        }
    }
    s
}
