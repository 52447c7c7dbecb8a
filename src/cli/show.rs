//! `mlops show NAME[@vX.Y.Z]`: one version's page, from the registry alone.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::args::{Cli, ShowArgs};
use super::env::Env;
use super::output::Output;
use mlops::Result;
use mlops::registry::Registry;
use mlops::registry::lifecycle::parse_version_ref;
use mlops::registry::page::{VersionPage, version_page};
use mlops::timestamp::rfc3339;

pub fn run(a: &ShowArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let (name, version) = parse_version_ref(&a.target)?;
    let dir = super::models::registry_dir(cli, env)?;
    let reg = Registry::read(&dir, Some(&name))?;
    if reg.records.is_empty() {
        return Err(Registry::no_model(&dir, &name));
    }
    let page = version_page(&reg, &name, version.as_ref())?;
    if out.json {
        out.report(&render_json(&page), "")
    } else {
        let text = render_text(&page, out);
        out.report(&text, super::output::first_line(&text))
    }
}

/// The `--json` document (schema: docs/schemas/show.schema.json).
#[must_use]
pub fn render_json(p: &VersionPage<'_>) -> String {
    let v = &p.version;
    let canaries: serde_json::Map<String, Value> = p
        .canaries
        .iter()
        .map(|(s, pc)| (s.clone(), json!(pc)))
        .collect();
    let doc = json!({
        "model": p.model.name,
        "version": v.version,
        "active": v.active,
        "latest": p.model.latest.as_deref() == Some(v.version.as_str()),
        "deprecated": p.model.deprecated,
        "commit": v.commit,
        "tag": v.tag,
        "created_at": rfc3339(v.created_at),
        "author": v.author,
        "bundle_sha256": p.meta("bundle_sha256"),
        "artifact": p.meta("artifact"),
        "data_sha256": p.meta("data_sha256"),
        "metrics": p.meta("metrics"),
        "tool": p.meta("tool"),
        "stages": p.stages,
        "canaries": canaries,
        "events": super::history::events_json(&p.events),
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "-".to_string(),
        Some(x) => x.to_string(),
    }
}

/// The human page.
#[must_use]
pub fn render_text(p: &VersionPage<'_>, out: &Output) -> String {
    let v = &p.version;
    let mut status = vec![if v.active { "active" } else { "deregistered" }];
    if p.model.latest.as_deref() == Some(v.version.as_str()) {
        status.push("latest");
    }
    if p.model.deprecated {
        status.push("model deprecated");
    }
    let mut s = format!(
        "{} ({})\n",
        out.paint(&format!("{}@{}", p.model.name, v.version), "1"),
        status.join(", ")
    );
    let mut stages: Vec<String> = p.stages.clone();
    stages.extend(
        p.canaries
            .iter()
            .map(|(st, pc)| format!("{st} (canary at {pc} %)")),
    );
    let rows = [
        (
            "registered",
            format!("{} by {}", rfc3339(v.created_at), v.author),
        ),
        ("tag", v.tag.clone()),
        ("commit", v.commit.clone()),
        ("bundle", text_of(p.meta("bundle_sha256"))),
        ("artifact", text_of(p.meta("artifact"))),
        ("data", text_of(p.meta("data_sha256"))),
        ("tool", text_of(p.meta("tool"))),
        (
            "stages",
            if stages.is_empty() {
                "-".into()
            } else {
                stages.join(", ")
            },
        ),
    ];
    for (k, val) in rows {
        let _ = writeln!(s, "  {k:<11}{val}");
    }
    s.push_str("  metrics\n");
    match p.meta("metrics").and_then(Value::as_object) {
        Some(sets) if !sets.is_empty() => {
            for (set, m) in sets {
                let vals: Vec<String> = m
                    .as_object()
                    .map(|o| o.iter().map(|(k, x)| format!("{k}={x}")).collect())
                    .unwrap_or_default();
                let _ = writeln!(s, "    {set:<11}{}", vals.join("  "));
            }
        }
        _ => s.push_str("    -\n"),
    }
    s.push_str("  events\n");
    s.push_str(
        &super::history::render_text(&p.events, Some(&p.model.name))
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>(),
    );
    s
}
