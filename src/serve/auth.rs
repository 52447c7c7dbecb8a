//! Who may call what (`[serve.auth]`): no check, a shared bearer token, or
//! bearer JSON Web Tokens (RFC 7519) checked against a JWKS or an HS256
//! secret. Routes fall in two protected groups, `predict` and `admin`;
//! refusals follow RFC 6750 (401 `invalid_token`, 403
//! `insufficient_scope`) and never echo the token. Verified tokens are
//! cached by a hash of the token until they expire.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind, jwk::JwkSet};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

/// Compare two byte strings in time that depends only on their lengths.
#[must_use]
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for (i, x) in a.iter().enumerate() {
        diff |= x ^ b.get(i).copied().unwrap_or(!x);
    }
    diff == 0
}

/// Longest bearer token accepted.
pub const MAX_TOKEN_BYTES: usize = 8192;
/// Unknown `kid`s refresh the JWKS at most this often.
pub const REFRESH_EVERY: Duration = Duration::from_secs(10);
const CACHE_MAX: usize = 10_000;
const UNKNOWN_KID: &str = "the token's key id (kid) is not among the issuer's keys";

/// A protected group of routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Inference and model metadata.
    Predict,
    /// The admin API.
    Admin,
}

impl Role {
    /// Its name in the project file and in tokens.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Predict => "predict",
            Role::Admin => "admin",
        }
    }

    /// The group `path` belongs to; `None`: public.
    #[must_use]
    pub fn of_path(path: &str) -> Option<Role> {
        if path == "/admin" || path.starts_with("/admin/") {
            Some(Role::Admin)
        } else if ["/predict", "/invocations", "/feedback"].contains(&path)
            || path.starts_with("/v2/models/")
        {
            Some(Role::Predict)
        } else {
            None
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// The token's `sub` (`token` mode: "token").
    pub subject: Option<String>,
    /// Holds the predict role.
    pub predict: bool,
    /// Holds the admin role.
    pub admin: bool,
}

impl Caller {
    fn has(&self, r: Role) -> bool {
        match r {
            Role::Predict => self.predict,
            Role::Admin => self.admin,
        }
    }
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// 401: no usable token; the description says why.
    Invalid(String),
    /// 403: the token lacks the role.
    Scope(Role),
}

impl Denied {
    /// The RFC 6750 status, message and `WWW-Authenticate` value.
    #[must_use]
    pub fn parts(&self) -> (StatusCode, String, HeaderValue) {
        let (status, code, desc) = match self {
            Denied::Invalid(d) => (StatusCode::UNAUTHORIZED, "invalid_token", d.clone()),
            Denied::Scope(r) => (
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("the token lacks the {} role", r.as_str()),
            ),
        };
        let v = format!(
            "Bearer realm=\"mlops\", error=\"{code}\", error_description=\"{}\"",
            desc.replace(['"', '\\'], "'")
        );
        let v =
            HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static("Bearer realm=\"mlops\""));
        (status, desc, v)
    }
}

/// Where JWKS keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A JWKS file.
    File(PathBuf),
    /// A JWKS URL.
    Url(String),
}

impl KeySource {
    /// Read the key set (blocking).
    ///
    /// # Errors
    /// Unreadable or not a JWKS, with the place.
    pub fn fetch(&self) -> std::result::Result<JwkSet, String> {
        let (text, place) = match self {
            KeySource::File(p) => (
                std::fs::read_to_string(p).map_err(|e| {
                    format!(
                        "cannot read [serve.auth].jwks_file {}: {}",
                        crate::error::display_path(p),
                        crate::error::io_reason(&e)
                    )
                })?,
                crate::error::display_path(p),
            ),
            KeySource::Url(u) => (fetch_url(u)?, u.clone()),
        };
        serde_json::from_str(&text).map_err(|e| format!("{place} is not a JWKS: {e}"))
    }
}

fn fetch_url(url: &str) -> std::result::Result<String, String> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let r = client
        .get(url)
        .send()
        .map_err(|e| format!("cannot fetch [serve.auth].jwks_url {url}: {e}"))?;
    if !r.status().is_success() {
        return Err(format!(
            "[serve.auth].jwks_url {url} answered {}",
            r.status()
        ));
    }
    r.text()
        .map_err(|e| format!("cannot read [serve.auth].jwks_url {url}: {e}"))
}

/// The settings of `jwt` mode.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// Required `iss`.
    pub issuer: String,
    /// Required `aud`.
    pub audience: String,
    /// Accepted algorithms.
    pub algorithms: Vec<Algorithm>,
    /// Clock skew, seconds.
    pub leeway_s: u64,
    /// Public keys.
    pub keys: Option<KeySource>,
    /// HS256 secret.
    pub secret: Option<String>,
    /// The claim holding roles; `None`: `scope` and `roles`.
    pub roles_claim: Option<String>,
    /// Role name → claim values granting it (empty: the role's own name).
    pub roles: Vec<(Role, Vec<String>)>,
}

/// How callers are checked.
#[derive(Debug, Clone, Default)]
pub enum Mode {
    /// No check (the admin API still wants its token).
    #[default]
    None,
    /// The admin token, for the protected groups.
    Token,
    /// JSON Web Tokens.
    Jwt(Box<JwtConfig>),
}

struct Keys {
    set: HashMap<String, (DecodingKey, Option<Algorithm>)>,
    unnamed: Vec<(DecodingKey, Option<Algorithm>)>,
    refreshed: Option<Instant>,
}

/// The access policy of a running server.
pub struct Auth {
    /// The mode.
    pub mode: Mode,
    /// Protect the predict routes.
    pub protect_predict: bool,
    /// Protect the admin routes.
    pub protect_admin: bool,
    /// The shared admin token.
    pub admin_token: Option<String>,
    /// Health and readiness routes need a credential (`protect` lists `health`).
    pub protect_health: bool,
    /// `/metrics` needs a credential (`protect` lists `metrics`).
    pub protect_metrics: bool,
    keys: RwLock<Keys>,
    cache: Mutex<HashMap<[u8; 32], (Caller, u64)>>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token or the secret.
        f.debug_struct("Auth")
            .field("protect_predict", &self.protect_predict)
            .field("protect_admin", &self.protect_admin)
            .finish_non_exhaustive()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The bearer token of a request (scheme case-insensitive).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim())
        .filter(|t| !t.is_empty())
}

impl Auth {
    /// The policy of `mode`; `jwt` keys are loaded now (blocking).
    ///
    /// # Errors
    /// The JWKS cannot be read or holds no usable key.
    pub fn new(
        mode: Mode,
        protect_predict: bool,
        protect_admin: bool,
        admin_token: Option<String>,
    ) -> std::result::Result<Auth, String> {
        let mut keys = Keys {
            set: HashMap::new(),
            unnamed: Vec::new(),
            refreshed: None,
        };
        if let Mode::Jwt(j) = &mode
            && let Some(src) = &j.keys
        {
            load(&mut keys, &src.fetch()?)?;
        }
        Ok(Auth {
            mode,
            protect_predict,
            protect_admin,
            admin_token,
            protect_health: false,
            protect_metrics: false,
            keys: RwLock::new(keys),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Today's behaviour: no check but the admin token.
    #[must_use]
    pub fn token_only(admin_token: Option<String>) -> Auth {
        Auth {
            mode: Mode::None,
            protect_predict: false,
            protect_admin: true,
            admin_token,
            protect_health: false,
            protect_metrics: false,
            keys: RwLock::new(Keys {
                set: HashMap::new(),
                unnamed: Vec::new(),
                refreshed: None,
            }),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the admin API answers at all.
    #[must_use]
    pub fn admin_on(&self) -> bool {
        matches!(self.mode, Mode::Jwt(_)) || self.admin_token.is_some()
    }

    /// Whether `role`'s routes need a credential.
    #[must_use]
    pub fn protects(&self, role: Role) -> bool {
        match (&self.mode, role) {
            // Today's behaviour: the admin API checks its own token.
            (Mode::None, _) => false,
            (_, Role::Predict) => self.protect_predict,
            (Mode::Token, Role::Admin) => self.admin_token.is_some(),
            (_, Role::Admin) => true,
        }
    }

    /// Whether `path` is `/feedback` under `token` or `jwt` mode, where it
    /// needs the predict role even when predictions are open: an outcome
    /// decides an experiment, so anonymous callers may not write one.
    #[must_use]
    pub fn guards_feedback(&self, path: &str) -> bool {
        path == "/feedback" && !matches!(self.mode, Mode::None)
    }

    /// Whether the public route `path` needs a credential (of either role)
    /// because `protect` lists `health` or `metrics` (`token`, `jwt` modes).
    #[must_use]
    pub fn guards_public(&self, path: &str) -> bool {
        const HEALTH: [&str; 8] = [
            "/healthz",
            "/readyz",
            "/v2/health/live",
            "/v2/health/ready",
            "/v2",
            "/ping",
            "/health",
            "/version",
        ];
        !matches!(self.mode, Mode::None)
            && ((self.protect_metrics && path == "/metrics")
                || (self.protect_health && HEALTH.contains(&path)))
    }

    /// Check a request for `role` without fetching keys.
    ///
    /// # Errors
    /// Why the caller is refused.
    pub fn check(&self, headers: &HeaderMap, role: Role) -> Result<Caller, Denied> {
        self.check_with(headers, role, false)
    }

    /// Check a request for `role`, refreshing the JWKS once (blocking) when
    /// the token names an unknown key.
    ///
    /// # Errors
    /// Why the caller is refused.
    pub fn check_refreshing(&self, headers: &HeaderMap, role: Role) -> Result<Caller, Denied> {
        self.check_with(headers, role, true)
    }

    fn check_with(&self, headers: &HeaderMap, role: Role, refresh: bool) -> Result<Caller, Denied> {
        let token = bearer(headers)
            .ok_or_else(|| Denied::Invalid("no bearer token in the Authorization header".into()))?;
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Denied::Invalid(format!(
                "the token is longer than {MAX_TOKEN_BYTES} bytes"
            )));
        }
        let caller = match &self.mode {
            Mode::Jwt(j) => self.verify(j, token, refresh)?,
            _ => {
                let ok = self
                    .admin_token
                    .as_ref()
                    .is_some_and(|t| constant_time_eq(token.as_bytes(), t.as_bytes()));
                if !ok {
                    return Err(Denied::Invalid("wrong token".into()));
                }
                Caller {
                    subject: Some("token".into()),
                    predict: true,
                    admin: true,
                }
            }
        };
        if caller.has(role) {
            Ok(caller)
        } else {
            Err(Denied::Scope(role))
        }
    }

    fn verify(&self, j: &JwtConfig, token: &str, refresh: bool) -> Result<Caller, Denied> {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = unix_now();
        if let Ok(c) = self.cache.lock()
            && let Some((caller, until)) = c.get(&hash)
            && now < *until
        {
            return Ok(caller.clone());
        }
        let head = jsonwebtoken::decode_header(token)
            .map_err(|_| Denied::Invalid("malformed token header".into()))?;
        if !j.algorithms.contains(&head.alg) {
            return Err(Denied::Invalid(format!(
                "algorithm {:?} is not allowed",
                head.alg
            )));
        }
        let key = self.key_for(j, head.alg, head.kid.as_deref(), refresh)?;
        let mut v = Validation::new(head.alg);
        v.set_issuer(&[&j.issuer]);
        v.set_audience(&[&j.audience]);
        v.leeway = j.leeway_s;
        v.validate_nbf = true;
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Map<String, Json>>(token, &key, &v)
            .map_err(|e| Denied::Invalid(describe(e.kind(), token)))?;
        let claims = data.claims;
        let caller = roles_of(j, &claims);
        let exp = claims.get("exp").and_then(Json::as_u64).unwrap_or(0);
        if let Ok(mut c) = self.cache.lock() {
            if c.len() >= CACHE_MAX {
                c.clear();
            }
            c.insert(hash, (caller.clone(), exp.saturating_add(j.leeway_s)));
        }
        Ok(caller)
    }

    fn key_for(
        &self,
        j: &JwtConfig,
        alg: Algorithm,
        kid: Option<&str>,
        refresh: bool,
    ) -> Result<DecodingKey, Denied> {
        if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
            // Only the configured secret, never a public key's bytes.
            return j
                .secret
                .as_ref()
                .and_then(|s| DecodingKey::from_secret(s.as_bytes()).ok())
                .ok_or_else(|| Denied::Invalid("no secret for HS256 is configured".into()));
        }
        if let Some(k) = self.lookup(alg, kid) {
            return Ok(k);
        }
        if refresh
            && let Some(src) = &j.keys
            && self.may_refresh()
        {
            // The last good set stays when the issuer cannot be reached.
            if let Ok(set) = src.fetch()
                && let Ok(mut keys) = self.keys.write()
            {
                let mut fresh = Keys {
                    set: HashMap::new(),
                    unnamed: Vec::new(),
                    refreshed: keys.refreshed,
                };
                if load(&mut fresh, &set).is_ok() {
                    *keys = fresh;
                }
            }
            if let Some(k) = self.lookup(alg, kid) {
                return Ok(k);
            }
        }
        Err(Denied::Invalid(match kid {
            Some(_) => UNKNOWN_KID.into(),
            None => "no key for the token's algorithm".into(),
        }))
    }

    /// Whether a refusal may turn into a pass once the JWKS is fetched again.
    #[must_use]
    pub fn may_know_more(&self, d: &Denied) -> bool {
        matches!(&self.mode, Mode::Jwt(j) if j.keys.is_some())
            && matches!(d, Denied::Invalid(m) if m == UNKNOWN_KID)
    }

    fn may_refresh(&self) -> bool {
        let Ok(mut k) = self.keys.write() else {
            return false;
        };
        if k.refreshed.is_some_and(|t| t.elapsed() < REFRESH_EVERY) {
            return false;
        }
        k.refreshed = Some(Instant::now());
        true
    }

    fn lookup(&self, alg: Algorithm, kid: Option<&str>) -> Option<DecodingKey> {
        let keys = self.keys.read().ok()?;
        let fits = |(k, a): &(DecodingKey, Option<Algorithm>)| {
            (a.is_none_or(|a| a == alg) && k.family() == alg.family()).then(|| k.clone())
        };
        match kid {
            Some(id) => keys.set.get(id).and_then(fits),
            None => keys.unnamed.iter().chain(keys.set.values()).find_map(fits),
        }
    }
}

/// Store the usable keys of `set` in `keys`.
fn load(keys: &mut Keys, set: &JwkSet) -> std::result::Result<(), String> {
    for jwk in &set.keys {
        let Ok(k) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        let alg = jwk
            .common
            .key_algorithm
            .and_then(|a| a.to_string().parse::<Algorithm>().ok());
        match &jwk.common.key_id {
            Some(id) => {
                keys.set.insert(id.clone(), (k, alg));
            }
            None => keys.unnamed.push((k, alg)),
        }
    }
    if keys.set.is_empty() && keys.unnamed.is_empty() {
        return Err("the JWKS holds no usable key".into());
    }
    Ok(())
}

/// What is wrong with a token, in words (never the token).
fn describe(k: &ErrorKind, token: &str) -> String {
    match k {
        // A claim that is there but not a number reads as "missing" to the
        // crate; say what it is (the payload is only looked at for words).
        ErrorKind::MissingRequiredClaim(c)
            if jsonwebtoken::dangerous::insecure_decode::<Map<String, Json>>(token)
                .is_ok_and(|d| d.claims.contains_key(c)) =>
        {
            format!("the token's \"{c}\" claim is not valid")
        }
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        ErrorKind::InvalidSignature => "the token's signature does not verify".into(),
        ErrorKind::InvalidAudience => "the token's audience (aud) is wrong".into(),
        ErrorKind::InvalidIssuer => "the token's issuer (iss) is wrong".into(),
        ErrorKind::InvalidAlgorithm => "the token's algorithm does not fit its key".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("the token has no \"{c}\" claim"),
        ErrorKind::InvalidClaimFormat(c) => format!("the token's \"{c}\" claim is not valid"),
        _ => "the token is malformed".into(),
    }
}

/// The roles and subject in `claims`.
fn roles_of(j: &JwtConfig, claims: &Map<String, Json>) -> Caller {
    let mut values: Vec<String> = Vec::new();
    let mut take = |v: Option<&Json>| match v {
        Some(Json::String(s)) => values.extend(s.split_whitespace().map(str::to_string)),
        Some(Json::Array(a)) => {
            values.extend(a.iter().filter_map(Json::as_str).map(str::to_string))
        }
        _ => {}
    };
    match &j.roles_claim {
        Some(c) => take(claims.get(c)),
        None => {
            take(claims.get("scope"));
            take(claims.get("roles"));
        }
    }
    let grants = |r: Role| match j.roles.iter().find(|(x, _)| *x == r) {
        Some((_, vals)) => vals.iter().any(|v| values.contains(v)),
        None => j.roles.is_empty() && values.iter().any(|v| v == r.as_str()),
    };
    Caller {
        subject: claims.get("sub").and_then(Json::as_str).map(str::to_string),
        predict: grants(Role::Predict),
        admin: grants(Role::Admin),
    }
}

/// Mint an HS256 token (for `mlops token`).
///
/// # Errors
/// The secret cannot sign.
pub fn mint_hs256(
    secret: &str,
    issuer: &str,
    audience: &str,
    subject: &str,
    roles: &[&str],
    ttl: Duration,
) -> std::result::Result<String, String> {
    let now = unix_now();
    let claims = serde_json::json!({
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "scope": roles.join(" "),
        "iat": now,
        "exp": now.saturating_add(ttl.as_secs()),
    });
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes())
        .map_err(|e| format!("cannot use the secret: {e}"))?;
    jsonwebtoken::encode(&jsonwebtoken::Header::new(Algorithm::HS256), &claims, &key)
        .map_err(|e| format!("cannot sign the token: {e}"))
}

/// A JSON Lines audit log of admin calls.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl AuditLog {
    /// Append to `path` (opened at the first line).
    #[must_use]
    pub fn new(path: PathBuf) -> AuditLog {
        AuditLog {
            path,
            file: Mutex::new(None),
        }
    }

    /// Record one admin call; a failure to write is returned, not fatal.
    ///
    /// # Errors
    /// The file cannot be opened or written.
    pub fn record(
        &self,
        subject: Option<&str>,
        action: &str,
        model: Option<&str>,
        version: Option<&str>,
        status: u16,
    ) -> std::io::Result<()> {
        use std::io::Write as _;
        let line = serde_json::json!({
            "time": super::log::timestamp(SystemTime::now()),
            "subject": subject,
            "action": action,
            "model": model,
            "version": version,
            "result": status,
        });
        let mut g = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("audit log lock poisoned"))?;
        if g.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut o = std::fs::OpenOptions::new();
            o.create(true).append(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
            *g = Some(o.open(&self.path)?);
        }
        let mut text = line.to_string();
        text.push('\n');
        match g.as_mut() {
            Some(f) => f.write_all(text.as_bytes()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(secret: &str) -> Auth {
        let cfg = JwtConfig {
            issuer: "https://issuer.test".into(),
            audience: "mlops".into(),
            algorithms: vec![Algorithm::HS256],
            leeway_s: 60,
            keys: None,
            secret: Some(secret.into()),
            roles_claim: None,
            roles: Vec::new(),
        };
        Auth::new(Mode::Jwt(Box::new(cfg)), true, true, None).unwrap()
    }

    fn headers(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("bearer {token}")).unwrap(),
        );
        h
    }

    #[test]
    fn paths_fall_in_groups() {
        assert_eq!(Role::of_path("/admin/models/x"), Some(Role::Admin));
        assert_eq!(Role::of_path("/predict"), Some(Role::Predict));
        assert_eq!(Role::of_path("/v2/models/m/infer"), Some(Role::Predict));
        assert_eq!(Role::of_path("/healthz"), None);
        assert_eq!(Role::of_path("/v2/health/ready"), None);
        assert_eq!(Role::of_path("/metrics"), None);
    }

    #[test]
    fn minted_tokens_carry_roles_and_subject() {
        let secret = "0123456789abcdef0123456789abcdef";
        let a = jwt(secret);
        let mint = |secret: &str, aud: &str| {
            let ttl = Duration::from_secs(60);
            mint_hs256(secret, "https://issuer.test", aud, "ci", &["predict"], ttl).unwrap()
        };
        let t = mint(secret, "mlops");
        let c = a.check(&headers(&t), Role::Predict).unwrap();
        assert_eq!(c.subject.as_deref(), Some("ci"));
        assert_eq!(
            a.check(&headers(&t), Role::Admin),
            Err(Denied::Scope(Role::Admin))
        );
        let refusal = |t: &str| match a.check(&headers(t), Role::Predict) {
            Err(Denied::Invalid(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(refusal(&mint("another-secret-another-secret-xx", "mlops")).contains("signature"));
        assert!(refusal(&mint(secret, "other")).contains("aud"));
    }

    #[test]
    fn refusals_follow_rfc_6750_and_hide_the_token() {
        let (status, _, h) = Denied::Invalid("the token has expired".into()).parts();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            h,
            "Bearer realm=\"mlops\", error=\"invalid_token\", error_description=\"the token has expired\""
        );
        let (status, _, h) = Denied::Scope(Role::Admin).parts();
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(h.to_str().unwrap().contains("insufficient_scope"));
        let a = jwt("0123456789abcdef0123456789abcdef");
        let e = a.check(&headers("abc.def.ghi"), Role::Predict).unwrap_err();
        assert!(!format!("{e:?}").contains("abc.def"));
    }

    /// Review L16: the `Bearer` scheme is matched case-insensitively (RFC
    /// 9110 §11.1); another scheme or an empty token is no bearer token.
    #[test]
    fn l16_the_bearer_scheme_is_case_insensitive() {
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            let mut h = HeaderMap::new();
            h.insert(
                header::AUTHORIZATION,
                HeaderValue::from_str(&format!("{scheme} tok")).unwrap(),
            );
            assert_eq!(bearer(&h), Some("tok"), "{scheme}");
        }
        for v in ["Basic tok", "Bearer ", "Bearertok", "tok"] {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            assert_eq!(bearer(&h), None, "{v}");
        }
    }
}
