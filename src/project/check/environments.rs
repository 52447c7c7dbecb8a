//! Checks of `[environments.NAME]`: the name is a stage, each key belongs
//! to the environment's target, and the target's required keys are set.

use crate::error::{Error, Result};
use crate::project::check::rules::valid_env_name;
use crate::project::environments::{EnvironmentSection, TargetKind};
use crate::project::locate::Source;
use crate::registry::tag::valid_name;

/// `[environments.NAME]`: a valid stage name, keys of its target only, the
/// target's required keys, and values in range.
pub(super) fn check_environment(
    name: &str,
    env: &EnvironmentSection,
    src: Source<'_>,
) -> Result<()> {
    if !valid_name(name) {
        return Err(Error::usage(format!(
            "{}: [environments.{name}]: \"{name}\" is not a valid stage name; use letters, digits, '-', '_' or '/', starting and ending with a letter or digit",
            src.origin
        )));
    }
    let section = format!("environments.{name}");
    for (key, set) in [
        ("region", env.region.is_some()),
        ("role", env.role.is_some()),
        ("order", env.order.is_some()),
    ] {
        if set {
            return Err(src.key_or_header_error(
                &section,
                key,
                "belongs in a [targets.T] table that the environment names in `targets`; move it there",
            ));
        }
    }
    if env.targets.is_some() {
        return check_spread(&section, env, src);
    }
    check_one(&section, env, src)
}

/// `[targets.NAME]`: the keys of a single-target environment, plus
/// `region`, `role` and `order`.
pub(super) fn check_target(name: &str, t: &EnvironmentSection, src: Source<'_>) -> Result<()> {
    if !valid_name(name) {
        return Err(Error::usage(format!(
            "{}: [targets.{name}]: \"{name}\" is not a valid target name; use letters, digits, '-', '_' or '/', starting and ending with a letter or digit",
            src.origin
        )));
    }
    let section = format!("targets.{name}");
    if t.targets.is_some() {
        return Err(src.key_or_header_error(
            &section,
            "targets",
            "belongs in an [environments.NAME] table; a target is one place, list targets in the environment",
        ));
    }
    check_one(&section, t, src)
}

/// The checks of one target's table (an environment's or a `[targets.T]`).
fn check_one(section: &str, env: &EnvironmentSection, src: Source<'_>) -> Result<()> {
    if env.target.is_none() {
        return Err(Error::usage(format!(
            "{}: missing key \"{section}.target\"; set target = \"local\", \"http\" or \"kubernetes\"{}",
            src.at_header(section),
            if section.starts_with("environments.") {
                ", or list [targets.T] tables with targets = [\"T\", ...]"
            } else {
                ""
            }
        )));
    }
    check_target_keys(section, env, src)?;
    check_required_keys(section, env, src)?;
    check_values(section, env, src)
}

/// An environment spread over `targets`: that key alone, naming at least
/// one target, none twice.
fn check_spread(section: &str, env: &EnvironmentSection, src: Source<'_>) -> Result<()> {
    let names = env.targets.as_deref().unwrap_or_default();
    if names.is_empty() {
        return Err(src.key_or_header_error(
            section,
            "targets",
            "is empty; name at least one [targets.T] table",
        ));
    }
    if let Some(d) = names
        .iter()
        .enumerate()
        .find_map(|(i, n)| names[..i].contains(n).then_some(n))
    {
        return Err(src.key_or_header_error(
            section,
            "targets",
            &format!("names \"{d}\" twice; list each target once"),
        ));
    }
    let json = serde_json::to_value(env).unwrap_or_default();
    if let Some(key) = json.as_object().and_then(|o| {
        o.iter()
            .find(|(k, v)| *k != "targets" && !v.is_null())
            .map(|(k, _)| k.clone())
    }) {
        return Err(src.key_or_header_error(
            section,
            &key,
            "cannot be combined with targets; set it in each [targets.T] table instead",
        ));
    }
    Ok(())
}

/// Each name in `environments.NAME.targets` is a `[targets.T]` table.
pub(super) fn check_target_names(
    name: &str,
    env: &EnvironmentSection,
    targets: &indexmap::IndexMap<String, EnvironmentSection>,
    src: Source<'_>,
) -> Result<()> {
    let known: Vec<&str> = targets.keys().map(String::as_str).collect();
    for t in env.targets.as_deref().unwrap_or_default() {
        if targets.contains_key(t) {
            continue;
        }
        let hint = match (
            crate::project::suggest::nearest(t, &known),
            known.is_empty(),
        ) {
            (_, true) => format!("add a [targets.{t}] table"),
            (Some(n), _) => format!("did you mean \"{n}\"?"),
            (None, _) => format!(
                "defined: {}; or add a [targets.{t}] table",
                known.join(", ")
            ),
        };
        return Err(src.key_or_header_error(
            &format!("environments.{name}"),
            "targets",
            &format!("names \"{t}\", which is not a [targets.T] table; {hint}"),
        ));
    }
    Ok(())
}

/// Each key set belongs to the environment's target.
fn check_target_keys(section: &str, env: &EnvironmentSection, src: Source<'_>) -> Result<()> {
    let err = |key: &str, msg: &str| src.key_or_header_error(section, key, msg);
    let t = env.kind();
    let only = |key: &str, set: bool, allowed: &[TargetKind]| -> Result<()> {
        if set && !allowed.contains(&t) {
            let names: Vec<&str> = allowed.iter().map(|k| k.as_str()).collect();
            return Err(err(
                key,
                &format!(
                    "applies only to target = \"{}\", not \"{}\"; remove it",
                    names.join("\" or \""),
                    t.as_str()
                ),
            ));
        }
        Ok(())
    };
    use TargetKind::{Http, Kubernetes, Local};
    only("path", env.path.is_some(), &[Local, Kubernetes])?;
    only("keep", env.keep.is_some(), &[Local])?;
    only("url", env.url.is_some(), &[Http])?;
    only("token_env", env.token_env.is_some(), &[Http])?;
    only("health", env.health.is_some(), &[Http])?;
    only("ca_cert", env.ca_cert.is_some(), &[Http])?;
    only("smoke_rows", env.smoke_rows.is_some(), &[Http])?;
    for (key, set) in [
        ("replicas", env.replicas.is_some()),
        ("image", env.image.is_some()),
        ("namespace", env.namespace.is_some()),
        ("resources", env.resources.is_some()),
        ("apply", env.apply.is_some()),
    ] {
        only(key, set, &[Kubernetes])?;
    }
    Ok(())
}

/// The keys the target needs: `path` (local, kubernetes), an http(s) `url` (http).
fn check_required_keys(section: &str, env: &EnvironmentSection, src: Source<'_>) -> Result<()> {
    let err = |key: &str, msg: &str| src.key_or_header_error(section, key, msg);
    let t = env.kind();
    use TargetKind::{Http, Kubernetes, Local};
    match t {
        Local | Kubernetes if env.path.is_none() => {
            return Err(Error::usage(format!(
                "{}: missing key \"{section}.path\"; add the folder the {} target writes to",
                src.at_header(section),
                t.as_str()
            )));
        }
        Http => {
            let Some(url) = &env.url else {
                return Err(Error::usage(format!(
                    "{}: missing key \"{section}.url\"; add the server's base URL, like \"http://127.0.0.1:8080\"",
                    src.at_header(section)
                )));
            };
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
                return Err(err(
                    "url",
                    &format!("= \"{url}\" is not an http:// or https:// URL"),
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

/// Counts of at least 1, a token variable name, and a sane health check.
fn check_values(section: &str, env: &EnvironmentSection, src: Source<'_>) -> Result<()> {
    let err = |key: &str, msg: &str| src.key_or_header_error(section, key, msg);
    if env.keep == Some(0) {
        return Err(err("keep", "must be at least 1"));
    }
    if env.replicas == Some(0) {
        return Err(err("replicas", "must be at least 1"));
    }
    if env.smoke_rows == Some(0) {
        return Err(err("smoke_rows", "must be at least 1"));
    }
    if let Some(v) = &env.token_env
        && !valid_env_name(v)
    {
        return Err(err(
            "token_env",
            &format!(
                "= \"{v}\" is not an environment variable name; name the variable, never put the token itself here"
            ),
        ));
    }
    if let Some(h) = &env.health {
        if let Some(p) = &h.path
            && !p.starts_with('/')
        {
            return Err(err(
                "health",
                &format!("has path = \"{p}\"; start it with '/'"),
            ));
        }
        if let Some(s) = h.timeout_s
            && !(s > 0.0 && s <= 86_400.0)
        {
            return Err(err(
                "health",
                &format!(
                    "has timeout_s = {s}; use a number of seconds above 0 and at most 86400 (a day)"
                ),
            ));
        }
    }
    Ok(())
}
