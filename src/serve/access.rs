//! From the project file to the access policy: `[serve.auth]` into an
//! [`auth::Mode`](super::auth::Mode) and `[serve.rate_limit]` into the
//! settings of a [`RateLimiter`], refusing bad values with the key's name
//! and what to write instead. Secrets come only from the env vars named.

use std::path::{Path, PathBuf};

use jsonwebtoken::Algorithm;

use super::auth::{JwtConfig, KeySource, Mode, Role};
use super::ratelimit::{Cidr, DEFAULT_MAX_KEYS, KeyBy, Rate, RateLimiter};
use crate::error::{Error, Result};
use crate::project::{AuthSection, RateLimitSection};

/// Default `leeway_s`.
pub const DEFAULT_LEEWAY_S: u64 = 60;
/// Shortest HS256 secret accepted (RFC 7518 §3.2: at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;

/// The auth settings of `[serve.auth]`.
#[derive(Debug, Clone, Default)]
pub struct AuthSettings {
    /// The mode.
    pub mode: Mode,
    /// Predict routes need a credential.
    pub protect_predict: bool,
    /// Admin routes need a credential.
    pub protect_admin: bool,
    /// `protect` lists `health`: the health and readiness routes need a
    /// credential (either role).
    pub protect_health: bool,
    /// `protect` lists `metrics`: `/metrics` needs a credential (either role).
    pub protect_metrics: bool,
    /// The audit log of admin calls.
    pub audit_log: Option<PathBuf>,
}

fn usage(key: &str, msg: &str) -> Error {
    Error::usage(format!("[serve.auth].{key}: {msg}"))
}

/// Read `[serve.auth]`; `env` reads an environment variable.
///
/// # Errors
/// An unknown mode, role or algorithm, a missing issuer, audience or key
/// source, a secret variable that is unset or too short (exit 2).
pub fn auth_settings(
    a: Option<&AuthSection>,
    resolve: &dyn Fn(&Path) -> PathBuf,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<AuthSettings> {
    let Some(a) = a else {
        return Ok(AuthSettings::default());
    };
    let mode = a.mode.as_deref().unwrap_or("none");
    let default_protect: &[&str] = if mode == "jwt" {
        &["predict", "admin"]
    } else {
        &["admin"]
    };
    let protect: Vec<String> = a
        .protect
        .clone()
        .unwrap_or_else(|| default_protect.iter().map(|s| (*s).to_string()).collect());
    for p in &protect {
        if p != "health" && p != "metrics" {
            role(p).map_err(|m| {
                usage(
                    "protect",
                    &format!("{m} (or \"health\" and \"metrics\" for those public routes)"),
                )
            })?;
        }
    }
    let mode = match mode {
        "none" => Mode::None,
        "token" => Mode::Token,
        "jwt" => Mode::Jwt(Box::new(jwt_config(a, resolve, env)?)),
        other => {
            return Err(usage(
                "mode",
                &format!("\"{other}\" is not \"none\", \"token\" or \"jwt\""),
            ));
        }
    };
    Ok(AuthSettings {
        mode,
        protect_predict: protect.iter().any(|p| p == "predict"),
        protect_admin: protect.iter().any(|p| p == "admin"),
        protect_health: protect.iter().any(|p| p == "health"),
        protect_metrics: protect.iter().any(|p| p == "metrics"),
        audit_log: a.audit_log.as_deref().map(resolve),
    })
}

fn role(s: &str) -> std::result::Result<Role, String> {
    match s {
        "predict" => Ok(Role::Predict),
        "admin" => Ok(Role::Admin),
        _ => Err(format!(
            "\"{s}\" is not a role; the roles are \"predict\" and \"admin\""
        )),
    }
}

fn jwt_config(
    a: &AuthSection,
    resolve: &dyn Fn(&Path) -> PathBuf,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<JwtConfig> {
    let need = |v: &Option<String>, k: &str| {
        v.clone().filter(|s| !s.is_empty()).ok_or_else(|| {
            usage(
                k,
                "mode = \"jwt\" needs it; give the value your tokens carry",
            )
        })
    };
    let issuer = need(&a.issuer, "issuer")?;
    let audience = need(&a.audience, "audience")?;
    let keys = match (&a.jwks_file, &a.jwks_url) {
        (Some(_), Some(_)) => {
            return Err(usage("jwks_url", "give jwks_file or jwks_url, not both"));
        }
        (Some(f), None) => Some(KeySource::File(resolve(f))),
        (None, Some(u))
            if u.starts_with("https://")
                || u.starts_with("http://127.0.0.1")
                || u.starts_with("http://localhost") =>
        {
            Some(KeySource::Url(u.clone()))
        }
        (None, Some(u)) => {
            return Err(usage(
                "jwks_url",
                &format!("\"{u}\" must be an https:// URL"),
            ));
        }
        (None, None) => None,
    };
    let secret = match &a.secret_env {
        None => None,
        Some(v) => {
            let s = env(v).filter(|s| !s.is_empty()).ok_or_else(|| {
                usage(
                    "secret_env",
                    &format!("the variable {v} is not set; export the HS256 secret in it"),
                )
            })?;
            if s.len() < MIN_SECRET_BYTES {
                return Err(usage(
                    "secret_env",
                    &format!(
                        "the secret in {v} is shorter than {MIN_SECRET_BYTES} bytes; use a longer random one"
                    ),
                ));
            }
            Some(s)
        }
    };
    let algorithms = algorithms(a, keys.is_some(), secret.is_some())?;
    if keys.is_none() && secret.is_none() {
        return Err(usage(
            "jwks_file",
            "mode = \"jwt\" needs jwks_file, jwks_url or secret_env",
        ));
    }
    let mut roles = Vec::new();
    for (name, values) in a.roles.iter().flatten() {
        let r = role(name).map_err(|m| usage(&format!("roles.{name}"), &m))?;
        roles.push((r, values.clone()));
    }
    Ok(JwtConfig {
        issuer,
        audience,
        algorithms,
        leeway_s: a.leeway_s.unwrap_or(DEFAULT_LEEWAY_S),
        keys,
        secret,
        roles_claim: a.roles_claim.clone(),
        roles,
    })
}

fn algorithms(a: &AuthSection, keys: bool, secret: bool) -> Result<Vec<Algorithm>> {
    let names: Vec<String> = match &a.algorithms {
        Some(v) => v.clone(),
        None => {
            let mut v: Vec<String> = Vec::new();
            if keys {
                v.extend(["RS256", "ES256", "EdDSA"].map(String::from));
            }
            if secret {
                v.push("HS256".into());
            }
            v
        }
    };
    let mut out = Vec::new();
    for n in &names {
        let alg = match n.as_str() {
            "HS256" => Algorithm::HS256,
            "RS256" => Algorithm::RS256,
            "ES256" => Algorithm::ES256,
            "EdDSA" => Algorithm::EdDSA,
            other => {
                return Err(usage(
                    "algorithms",
                    &format!(
                        "\"{other}\" is not one of HS256, RS256, ES256, EdDSA (\"none\" never is)"
                    ),
                ));
            }
        };
        if alg == Algorithm::HS256 && !secret {
            return Err(usage("algorithms", "HS256 needs secret_env"));
        }
        if alg != Algorithm::HS256 && !keys {
            return Err(usage(
                "algorithms",
                &format!("{n} needs jwks_file or jwks_url"),
            ));
        }
        out.push(alg);
    }
    if out.is_empty() {
        return Err(usage("algorithms", "the list is empty"));
    }
    Ok(out)
}

/// The parsed `[serve.rate_limit]`.
#[derive(Debug, Clone)]
pub struct RateSettings {
    default: Rate,
    roles: Vec<(Role, Rate)>,
    key: KeyBy,
    trusted: Vec<Cidr>,
    max_keys: usize,
}

impl RateSettings {
    /// The limiter.
    #[must_use]
    pub fn limiter(&self) -> RateLimiter {
        RateLimiter::new(
            self.default,
            self.roles.clone(),
            self.key.clone(),
            self.trusted.clone(),
            self.max_keys,
        )
    }
}

/// Read `[serve.rate_limit]`.
///
/// # Errors
/// A rate, key, role or CIDR that does not parse (exit 2).
pub fn rate_settings(r: Option<&RateLimitSection>) -> Result<Option<RateSettings>> {
    let Some(r) = r else { return Ok(None) };
    let bad = |k: &str, m: String| Error::usage(format!("[serve.rate_limit].{k}: {m}"));
    let default = Rate::parse(&r.rate, r.burst).map_err(|m| bad("rate", m))?;
    let mut roles = Vec::new();
    for (name, l) in r.roles.iter().flatten() {
        let k = format!("roles.{name}");
        let role = role(name).map_err(|m| bad(&k, m))?;
        roles.push((role, Rate::parse(&l.rate, l.burst).map_err(|m| bad(&k, m))?));
    }
    let key = KeyBy::parse(r.key.as_deref().unwrap_or("ip")).map_err(|m| bad("key", m))?;
    let trusted = r
        .trusted_proxies
        .iter()
        .flatten()
        .map(|c| Cidr::parse(c).map_err(|m| bad("trusted_proxies", m)))
        .collect::<Result<Vec<_>>>()?;
    let max_keys = r.max_keys.unwrap_or(DEFAULT_MAX_KEYS);
    if max_keys == 0 {
        return Err(bad("max_keys", "must be at least 1".into()));
    }
    Ok(Some(RateSettings {
        default,
        roles,
        key,
        trusted,
        max_keys,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(v: &str) -> Option<String> {
        (v == "S").then(|| "x".repeat(40))
    }

    #[test]
    fn auth_sections_are_checked_with_the_key_named() {
        let r = |p: &Path| p.to_path_buf();
        let a = AuthSection {
            mode: Some("jwt".into()),
            ..AuthSection::default()
        };
        let e = auth_settings(Some(&a), &r, &env).unwrap_err().to_string();
        assert!(e.contains("[serve.auth].issuer"), "{e}");
        let a = AuthSection {
            mode: Some("jwt".into()),
            issuer: Some("i".into()),
            audience: Some("a".into()),
            secret_env: Some("S".into()),
            algorithms: Some(vec!["none".into()]),
            ..AuthSection::default()
        };
        let e = auth_settings(Some(&a), &r, &env).unwrap_err().to_string();
        assert!(e.contains("never"), "{e}");
        let a = AuthSection {
            algorithms: Some(vec!["RS256".into()]),
            ..a
        };
        let e = auth_settings(Some(&a), &r, &env).unwrap_err().to_string();
        assert!(e.contains("RS256 needs jwks_file"), "{e}");
        let a = AuthSection {
            algorithms: None,
            ..a
        };
        let s = auth_settings(Some(&a), &r, &env).unwrap();
        assert!(s.protect_predict && s.protect_admin);
        let a = AuthSection {
            secret_env: Some("UNSET".into()),
            ..a
        };
        let e = auth_settings(Some(&a), &r, &env).unwrap_err().to_string();
        assert!(e.contains("UNSET is not set"), "{e}");
        let a = AuthSection {
            mode: Some("oauth".into()),
            ..AuthSection::default()
        };
        assert!(
            auth_settings(Some(&a), &r, &env)
                .unwrap_err()
                .to_string()
                .contains("mode")
        );
    }

    #[test]
    fn rate_sections_are_checked() {
        let r = RateLimitSection {
            rate: "10/s".into(),
            key: Some("cookie".into()),
            ..RateLimitSection::default()
        };
        assert!(
            rate_settings(Some(&r))
                .unwrap_err()
                .to_string()
                .contains("[serve.rate_limit].key")
        );
        let r = RateLimitSection {
            key: Some("header:x-api-key".into()),
            trusted_proxies: Some(vec!["10.0.0.0/33".into()]),
            ..r
        };
        assert!(
            rate_settings(Some(&r))
                .unwrap_err()
                .to_string()
                .contains("trusted_proxies")
        );
        let r = RateLimitSection {
            trusted_proxies: Some(vec!["10.0.0.0/8".into()]),
            ..r
        };
        assert!(rate_settings(Some(&r)).unwrap().is_some());
    }
}
