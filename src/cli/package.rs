//! `mlops package`: render a [`PackageReport`] or a [`CheckReport`].

use std::io::Write as _;

use serde_json::json;

use super::args::{BumpPart, Cli, PackageArgs};
use super::env::{Env, config_path};
use super::output::Output;
use mlops::Result;
use mlops::error::display_path;
use mlops::package::{CheckReport, PackageOptions, PackageReport};
use mlops::project::Project;
use mlops::registry::tag::Bump;

pub fn run(a: &PackageArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let project = Project::load(config_path(cli, env), &env.cwd)?;
    if let Some(tag) = &a.check {
        let r = mlops::package::check(&project, tag)?;
        let text = render_check(&r, out.json);
        return out.report(&text, super::output::first_line(&text));
    }
    let opts = PackageOptions {
        version: a.version.clone(),
        bump: match a.bump.unwrap_or(BumpPart::Patch) {
            BumpPart::Patch => Bump::Patch,
            BumpPart::Minor => Bump::Minor,
            BumpPart::Major => Bump::Major,
        },
        dry_run: a.dry_run,
        push: a.push,
        token: env.git_token.clone(),
        upload: a.upload,
        lock_timeout: lock_timeout()?,
        on_notice: |m| {
            let _ = writeln!(std::io::stderr(), "{m}");
        },
    };
    let r = mlops::package::package(&project, &opts)?;
    if out.json {
        out.report(&render_json(&r), "")
    } else {
        let text = render_text(&r, out);
        out.report(&text, super::output::first_line(&text))
    }
}

/// The `--json` document (schema: docs/schemas/package.schema.json).
#[must_use]
pub fn render_json(r: &PackageReport) -> String {
    let doc = json!({
        "model": r.model,
        "version": r.version,
        "tag": r.tag,
        "bundle": display_path(&r.bundle),
        "bundle_sha256": r.bundle_sha256,
        "commit": r.commit,
        "pushed": r.pushed,
        "dry_run": r.dry_run,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// The human report.
#[must_use]
pub fn render_text(r: &PackageReport, out: &Output) -> String {
    let bundle = display_path(&r.bundle);
    if r.dry_run {
        return format!(
            "Would package {} {} (commit {})\n  bundle  {bundle}\n  sha256  {}\n  tag     {}\nNothing was changed (--dry-run).\n",
            r.model,
            r.version,
            &r.commit[..12],
            r.bundle_sha256,
            r.tag
        );
    }
    let mut s = format!(
        "{} {} {} (commit {})\n  bundle  {bundle}\n  sha256  {}\n  tag     {}\n",
        out.paint("Packaged", "1;32"),
        r.model,
        r.version,
        &r.commit[..12],
        r.bundle_sha256,
        r.tag
    );
    if r.pushed {
        s.push_str(&format!(
            "  pushed  {} to {}\n",
            r.tag,
            mlops::registry::repo::shown_remote(&r.remote)
        ));
    }
    s
}

/// The result of `--check`.
#[must_use]
pub fn render_check(r: &CheckReport, json_out: bool) -> String {
    if json_out {
        let doc = json!({
            "tag": r.tag,
            "commit": r.commit,
            "recorded_sha256": r.recorded,
            "rebuilt_sha256": r.rebuilt,
            "reproducible": r.recorded == r.rebuilt,
        });
        let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
        s.push('\n');
        return s;
    }
    format!(
        "{} rebuilds from commit {} to the recorded bundle (sha256 {})\n",
        r.tag,
        &r.commit[..12],
        r.rebuilt
    )
}

/// `MLOPS_LOCK_TIMEOUT_S`: how long `package` waits for the registry lock
/// (default 120 s).
fn lock_timeout() -> Result<std::time::Duration> {
    const VAR: &str = "MLOPS_LOCK_TIMEOUT_S";
    match std::env::var(VAR) {
        Err(_) => Ok(std::time::Duration::from_secs(120)),
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|s| *s <= 86_400)
            .map(std::time::Duration::from_secs)
            .ok_or_else(|| {
                mlops::error::Error::usage(format!(
                    "{VAR} = \"{v}\" is not a number of seconds from 0 to 86400; fix or unset it"
                ))
            }),
    }
}
