//! `mlops token --role ROLE [--ttl 15m] [--sub NAME]`: an HS256 token signed
//! with the secret of `[serve.auth].secret_env`, for development and CI
//! smoke tests. The token goes to stdout and nowhere else.

use std::time::Duration;

use super::args::{Cli, TokenArgs, TokenRole};
use super::env::{Env, config_path};
use super::output::Output;
use mlops::Result;
use mlops::error::Error;
use mlops::project::Project;

/// `15m` → 900 s: a whole number with s, m, h or d.
fn ttl(s: &str) -> Result<Duration> {
    let bad = || {
        Error::usage(format!(
            "--ttl \"{s}\" is not a duration like 90s, 15m, 12h or 7d"
        ))
    };
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().map_err(|_| bad())?;
    let per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    match n.checked_mul(per) {
        Some(secs) if secs > 0 && secs <= 366 * 86_400 => Ok(Duration::from_secs(secs)),
        _ => Err(Error::usage(format!(
            "--ttl \"{s}\" must be between 1 s and a year"
        ))),
    }
}

pub fn run(a: &TokenArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let ttl = ttl(&a.ttl)?;
    let project = Project::load(config_path(cli, env), &env.cwd)?;
    let auth = project
        .file
        .serve
        .as_ref()
        .and_then(|s| s.auth.as_ref())
        .filter(|a| a.mode.as_deref() == Some("jwt"))
        .ok_or_else(|| {
            Error::usage(
                "mlops token needs [serve.auth] with mode = \"jwt\" and secret_env in the project file",
            )
        })?;
    let var = auth.secret_env.as_deref().ok_or_else(|| {
        Error::usage(
            "[serve.auth].secret_env is not set; name the variable holding the HS256 secret",
        )
    })?;
    let secret = std::env::var(var)
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Error::usage(format!(
                "the variable {var} ([serve.auth].secret_env) is not set"
            ))
        })?;
    let missing = |k: &str| Error::usage(format!("[serve.auth].{k} is not set"));
    let issuer = auth.issuer.as_deref().ok_or_else(|| missing("issuer"))?;
    let audience = auth
        .audience
        .as_deref()
        .ok_or_else(|| missing("audience"))?;
    let roles: Vec<&str> = a
        .role
        .iter()
        .map(|r| match r {
            TokenRole::Predict => "predict",
            TokenRole::Admin => "admin",
        })
        .collect();
    let token = mlops::serve::auth::mint_hs256(&secret, issuer, audience, &a.sub, &roles, ttl)
        .map_err(Error::usage)?;
    out.stdout(&format!("{token}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_parse() {
        assert_eq!(ttl("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(ttl("2h").unwrap(), Duration::from_secs(7200));
        assert!(ttl("15").is_err());
        assert!(ttl("0s").is_err());
        assert!(ttl("99999999999999999d").is_err());
        assert!(ttl("m").is_err());
    }
}
