//! `mlops deprecate`, `mlops deregister` and `mlops unassign`: one GTO
//! lifecycle tag each, reported as the tag written.

use serde_json::json;

use super::args::{Cli, DeprecateArgs, DeregisterArgs, UnassignArgs};
use super::env::Env;
use super::output::Output;
use mlops::Result;
use mlops::registry::lifecycle;
use mlops::registry::repo::Written;

pub fn run_deprecate(a: &DeprecateArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let dir = super::models::registry_dir(cli, env)?;
    let w = lifecycle::deprecate(&dir, &a.name)?;
    let text = format!(
        "Deprecated {}: `mlops deploy` refuses it until a new version is registered\n",
        a.name
    );
    render(out, "deprecate", &a.name, None, &w, &text)
}

pub fn run_deregister(a: &DeregisterArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let dir = super::models::registry_dir(cli, env)?;
    let w = lifecycle::deregister(&dir, &a.target)?;
    let text = format!(
        "Deregistered {}: `mlops deploy` refuses this version from now on\n",
        a.target
    );
    let name = a.target.split('@').next().unwrap_or_default();
    render(out, "deregister", name, None, &w, &text)
}

pub fn run_unassign(a: &UnassignArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let dir = super::models::registry_dir(cli, env)?;
    let w = lifecycle::unassign(&dir, &a.name, &a.stage)?;
    let text = format!(
        "Unassigned {} from {} {}: the stage falls back to its previous holder, if any (`mlops models`)\n",
        a.stage,
        a.name,
        w.version.as_deref().unwrap_or("")
    );
    render(out, "unassign", &a.name, Some(&a.stage), &w, &text)
}

/// The report (schema: docs/schemas/lifecycle.schema.json).
fn render(
    out: &Output,
    command: &str,
    model: &str,
    stage: Option<&str>,
    w: &Written,
    text: &str,
) -> Result<()> {
    if out.json {
        let doc = json!({
            "command": command,
            "model": model,
            "version": w.version,
            "stage": stage,
            "tag": w.tag,
            "commit": w.commit,
        });
        let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
        s.push('\n');
        out.report(&s, "")
    } else {
        out.report(&format!("{text}  tag       {}\n", w.tag), text)
    }
}
