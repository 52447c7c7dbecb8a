//! `mlops models`: every model with its latest version and stages.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::args::Cli;
use super::env::{Env, config_path};
use super::output::Output;
use mlops::Result;
use mlops::registry::{Model, Registry};
use mlops::timestamp::rfc3339;

/// The folder whose repository holds the registry: the project file's
/// folder with `-C`/`MLOPS_CONFIG`, else the current folder (its repository
/// is the project's, and a repository that only GTO wrote needs no
/// `mlops.toml`).
pub fn registry_dir(cli: &Cli, env: &Env) -> Result<std::path::PathBuf> {
    match config_path(cli, env) {
        Some(p) => Ok(mlops::project::Project::load(Some(p), &env.cwd)?.root),
        None => Ok(env.cwd.clone()),
    }
}

pub fn run(cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let reg = Registry::read(&registry_dir(cli, env)?, None)?;
    reg.warnings.iter().for_each(|w| out.warning(w));
    let models = reg.models();
    if out.json {
        out.report(&render_json(&models), "")
    } else {
        let line = match models.len() {
            1 => "1 model".to_string(),
            n => format!("{n} models"),
        };
        out.report(&render_text(&models, out), &line)
    }
}

fn model_json(m: &Model) -> Value {
    json!({
        "name": m.name,
        "latest": m.latest,
        "stages": m.stages,
        "canaries": m.canaries.iter().map(|(s, c)| (s.clone(), json!({
            "version": c.version,
            "percent": c.percent,
            "tag": c.tag,
            "since": rfc3339(c.since),
        }))).collect::<serde_json::Map<String, Value>>(),
        "deprecated": m.deprecated,
        "versions": m.versions.iter().map(|v| json!({
            "version": v.version,
            "commit": v.commit,
            "created_at": rfc3339(v.created_at),
            "author": v.author,
            "tag": v.tag,
            "active": v.active,
            "bundle_sha256": v.metadata.as_ref().and_then(|m| m.get("bundle_sha256")).cloned(),
        })).collect::<Vec<_>>(),
    })
}

/// The `--json` document (schema: docs/schemas/models.schema.json).
#[must_use]
pub fn render_json(models: &[Model]) -> String {
    let doc = json!({ "models": models.iter().map(model_json).collect::<Vec<_>>() });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// The human table.
#[must_use]
pub fn render_text(models: &[Model], out: &Output) -> String {
    let mut s = String::new();
    if models.is_empty() {
        s.push_str("No models registered yet; run `mlops package` to register one.\n");
        return s;
    }
    let w = models
        .iter()
        .map(|m| m.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        s,
        "{}",
        out.paint(&format!("{:<w$}  {:<12}  stages", "name", "latest"), "1")
    );
    for m in models {
        let stages = stages_text(m);
        let dep = if m.deprecated { "  (deprecated)" } else { "" };
        let _ = writeln!(
            s,
            "{:<w$}  {:<12}  {stages}{dep}",
            m.name,
            m.latest.as_deref().unwrap_or("-")
        );
    }
    s
}

/// `prod=v0.0.1 (canary v0.0.2 at 20 %) staging=v0.0.2`, or `-`.
#[must_use]
pub fn stages_text(m: &Model) -> String {
    let mut names: Vec<&String> = m.stages.keys().chain(m.canaries.keys()).collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return "-".to_string();
    }
    names
        .into_iter()
        .map(|s| {
            let v = m.stages.get(s).map_or("-", String::as_str);
            match m.canaries.get(s) {
                Some(c) => format!("{s}={v} (canary {} at {} %)", c.version, c.percent),
                None => format!("{s}={v}"),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
