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
    check_target_keys(&section, env, src)?;
    check_required_keys(&section, env, src)?;
    check_values(&section, env, src)
}

/// Each key set belongs to the environment's target.
fn check_target_keys(section: &str, env: &EnvironmentSection, src: Source<'_>) -> Result<()> {
    let err = |key: &str, msg: &str| src.key_or_header_error(section, key, msg);
    let t = env.target;
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
    let t = env.target;
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
            && !(s > 0.0 && s.is_finite())
        {
            return Err(err(
                "health",
                &format!("has timeout_s = {s}; use a number of seconds above 0"),
            ));
        }
    }
    Ok(())
}
