//! The `http` target: the admin API of a running `mlops serve`
//! (`SERVE_DEPLOY_CONTRACT.md`), with reqwest's blocking client.
//!
//! Uploads carry a precondition (`If-Match: <version>` or
//! `If-None-Match: *`), so of two deploys at once the second gets 409 and
//! exits 5. After an upload the target waits for readiness, confirms the
//! version with `GET /admin/models`, and sends the smoke rows through
//! `POST /predict` (forcing the variant with `X-Mlops-Variant`). A failed
//! check puts the previous champion back (`POST /admin/rollback`, else a
//! re-upload of its bundle), unloads the new champion when there was none
//! before (`DELETE …?slot=champion`), or removes the new challenger.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

use super::phase::{self, Phased, Requests};
use super::smoke;
use super::target::{Check, Job, Live, Step, Target};
use crate::error::{Error, Result};
use crate::project::{EnvironmentSection, TargetKind};

/// Readiness path by default.
pub const DEFAULT_HEALTH_PATH: &str = "/v2/health/ready";

/// The most of a response body read from the server (JSON answers, error
/// bodies, `/metrics`): a hostile or intercepted server cannot make the
/// deploy hold more than this in memory.
pub const MAX_RESPONSE_BYTES: u64 = 1024 * 1024;

/// `s` as one path segment or query value: every byte but the unreserved
/// ones (RFC 3986) percent-encoded, so a model named `team/churn` is
/// `team%2Fchurn` in `/admin/models/{name}`.
#[must_use]
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `url` split into itself without userinfo and the user and password it
/// carried (percent-decoded).
fn split_userinfo(url: &str) -> (String, Option<(String, Option<String>)>) {
    let Ok(mut u) = url::Url::parse(url) else {
        return (url.to_string(), None);
    };
    if u.username().is_empty() && u.password().is_none() {
        return (url.to_string(), None);
    }
    let dec = |s: &str| {
        url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
            .next()
            .map_or_else(|| s.to_string(), |(_, v)| v.into_owned())
    };
    let user = dec(u.username());
    let pass = u.password().map(dec);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    (
        u.as_str().trim_end_matches('/').to_string(),
        Some((user, pass)),
    )
}

/// An admin API.
#[derive(Debug)]
pub struct Http {
    /// The base URL without its user and password (those are in `basic`),
    /// so that every message and report can show it.
    base: String,
    /// The user and password of the URL's userinfo, sent as HTTP basic
    /// authentication when there is no bearer token.
    basic: Option<(String, Option<String>)>,
    env_name: String,
    model: String,
    token: Option<String>,
    token_env: Option<String>,
    client: Client,
    health_path: String,
    timeout: Duration,
    retries: u32,
}

/// One slot as `GET /admin/models` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Slot {
    version: String,
    sha256: String,
}

#[derive(Debug, Clone, Default)]
struct State {
    champion: Option<Slot>,
    challenger: Option<Slot>,
    percent: u8,
}

/// Why a check failed: the server said no (exit 1), or could not be reached (exit 5).
enum Failure {
    Check(String),
    Gone(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        match e {
            Error::Remote(_) => Failure::Gone(e),
            other => Failure::Check(other.to_string()),
        }
    }
}

/// Whether a bearer token may go to `base`: over https, or over http to
/// this machine (a loopback address or `localhost`).
fn cleartext_ok(base: &str) -> bool {
    let Ok(u) = url::Url::parse(base) else {
        return false;
    };
    if u.scheme() != "http" {
        return true;
    }
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The certificates of `environments.NAME.ca_cert` (PEM).
fn private_ca(env_name: &str, path: &std::path::Path) -> Result<Vec<reqwest::Certificate>> {
    let at = crate::error::display_path(path);
    let hint = "give the PEM certificate of the CA that signed the server's certificate";
    let bytes = std::fs::read(path).map_err(|e| {
        Error::usage(format!(
            "cannot read environments.{env_name}.ca_cert {at}: {}; {hint}",
            crate::error::io_reason(&e)
        ))
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&bytes).map_err(|e| {
        Error::usage(format!(
            "environments.{env_name}.ca_cert {at} is not a PEM certificate ({e}); {hint}"
        ))
    })?;
    if certs.is_empty() {
        return Err(Error::usage(format!(
            "environments.{env_name}.ca_cert {at} holds no certificate; {hint}"
        )));
    }
    Ok(certs)
}

impl Http {
    /// The environment `env_name`, for `model`; `ca_cert` is its
    /// `ca_cert`, resolved.
    ///
    /// # Errors
    /// No URL, the token's variable unset, a token for a cleartext URL off
    /// this machine, or an unusable `ca_cert` (exit 2).
    pub fn new(
        env_name: &str,
        env: &EnvironmentSection,
        model: &str,
        token: Option<String>,
        ca_cert: Option<std::path::PathBuf>,
    ) -> Result<Http> {
        let base = env
            .url
            .as_deref()
            .ok_or_else(|| {
                Error::usage(format!(
                    "environments.{env_name} has no url; add the server's base URL"
                ))
            })?
            .trim_end_matches('/')
            .to_string();
        let (base, basic) = split_userinfo(&base);
        if let Some(name) = &env.token_env
            && token.is_none()
        {
            return Err(Error::usage(format!(
                "the admin token for {env_name} is read from the environment variable {name} (environments.{env_name}.token_env), which is not set; export it and run again"
            )));
        }
        let h = env.health.clone().unwrap_or_default();
        let timeout = Duration::from_secs_f64(h.timeout_s.unwrap_or(30.0));
        if token.is_some() && !cleartext_ok(&base) {
            return Err(Error::usage(format!(
                "environments.{env_name}.url = \"{base}\" would send the admin token in cleartext to another machine; use an https:// URL (with environments.{env_name}.ca_cert for a private CA), or reach the server through a loopback address such as an SSH tunnel"
            )));
        }
        let mut builder = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)));
        if let Some(p) = &ca_cert {
            for c in private_ca(env_name, p)? {
                builder = builder.add_root_certificate(c);
            }
        }
        let client = builder
            .build()
            .map_err(|e| Error::Remote(format!("cannot start an HTTP client: {e}")))?;
        Ok(Http {
            base,
            basic,
            env_name: env_name.to_string(),
            model: model.to_string(),
            token,
            token_env: env.token_env.clone(),
            client,
            health_path: h.path.unwrap_or_else(|| DEFAULT_HEALTH_PATH.to_string()),
            timeout,
            retries: h.retries.unwrap_or(5),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn auth(&self, r: RequestBuilder) -> RequestBuilder {
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => self.basic_auth(r),
        }
    }

    /// The URL's user and password, when it carried some.
    fn basic_auth(&self, r: RequestBuilder) -> RequestBuilder {
        match &self.basic {
            Some((u, p)) => r.basic_auth(u, p.as_ref()),
            None => r,
        }
    }

    /// Send a request; unreachable, timed out, 401/403 and a missing admin
    /// API are [`Error::Remote`] naming the URL and the token's variable.
    fn send(&self, r: RequestBuilder, url: &str) -> Result<Response> {
        let resp = self.auth(r).send().map_err(|e| {
            let why = if e.is_timeout() {
                format!("timed out after {} s", self.timeout.as_secs_f64())
            } else if e.is_connect() {
                "cannot connect".to_string()
            } else {
                "the request failed".to_string()
            };
            Error::Remote(format!(
                "{url}: {why}{}; check that the server runs and environments.{}.url, then run again",
                self.token_env
                    .as_deref()
                    .map(|v| format!(" (admin token from {v})"))
                    .unwrap_or_default(),
                self.env_name
            ))
        })?;
        match resp.status() {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                let var = self.token_env.as_deref().map_or_else(
                    || {
                        format!(
                            "no token is configured; set environments.{}.token_env",
                            self.env_name
                        )
                    },
                    |v| format!("set {v} to the server's admin token"),
                );
                Err(Error::Remote(format!(
                    "{url}: the admin API refused the credentials ({}); {var}",
                    resp.status()
                )))
            }
            StatusCode::NOT_FOUND if url.contains("/admin/") => Err(Error::Remote(format!(
                "{url}: the server has no admin API (404); start it with [serve].admin_token_env set to a variable holding the token"
            ))),
            _ => Ok(resp),
        }
    }

    fn error_text(resp: Response) -> String {
        let status = resp.status();
        let body: Option<Value> = read_json(resp).ok();
        match body
            .as_ref()
            .and_then(|b| b.get("error"))
            .and_then(Value::as_str)
        {
            Some(e) => format!("{status}: {e}"),
            None => status.to_string(),
        }
    }

    fn state(&self) -> Result<State> {
        let url = self.url("/admin/models");
        let resp = self.send(self.client.get(&url), &url)?;
        if !resp.status().is_success() {
            return Err(Error::Remote(format!(
                "{url}: {}; the server does not speak the mlops admin API",
                Http::error_text(resp)
            )));
        }
        let doc: Value = read_json(resp).map_err(|e| {
            Error::Remote(format!(
                "{url}: the answer is not JSON ({e}); the server does not speak the mlops admin API"
            ))
        })?;
        let Some(m) = doc.get("models").and_then(Value::as_array).and_then(|ms| {
            ms.iter()
                .find(|m| m.get("name").and_then(Value::as_str) == Some(&self.model))
        }) else {
            return Ok(State::default());
        };
        let slot = |k: &str| -> Option<Slot> {
            let s = m.get(k)?;
            Some(Slot {
                version: s.get("version")?.as_str()?.to_string(),
                sha256: s
                    .get("sha256")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            })
        };
        Ok(State {
            champion: slot("champion"),
            challenger: slot("challenger"),
            percent: m
                .get("challenger_percent")
                .and_then(Value::as_u64)
                .map_or(0, |p| u8::try_from(p.min(100)).unwrap_or(100)),
        })
    }

    /// `PUT /admin/models/{name}?slot=…` with a precondition.
    fn upload(&self, slot: &str, bytes: &[u8], if_match: Option<&str>) -> Result<()> {
        let url = self.url(&format!(
            "/admin/models/{}?slot={slot}",
            encode_segment(&self.model)
        ));
        let mut r = self
            .client
            .put(&url)
            .header("Content-Type", "application/gzip")
            .body(bytes.to_vec());
        r = match if_match {
            Some(v) => r.header("If-Match", v),
            None => r.header("If-None-Match", "*"),
        };
        let resp = self.send(r, &url)?;
        match resp.status() {
            s if s.is_success() => Ok(()),
            StatusCode::CONFLICT => Err(Error::Remote(format!(
                "{url}: the server's {slot} is no longer {} (409 Conflict: another deploy changed it); nothing was changed, check with `mlops models` and the server, then run again",
                if_match.unwrap_or("empty")
            ))),
            _ => Err(Error::Remote(format!(
                "{url}: the server refused the bundle ({}); nothing was changed",
                Http::error_text(resp)
            ))),
        }
    }

    /// An admin call that answers 2xx or fails: `POST path`, or `PUT path`
    /// with a JSON body; `If-Match: version` (the slot it acts on holds
    /// exactly that version, else 409), so that it never acts on another
    /// run's change.
    fn admin(&self, path: &str, put_body: Option<Value>, if_match: &str) -> Result<()> {
        let url = self.url(path);
        let r = match put_body {
            Some(b) => with_json(self.client.put(&url), &b),
            None => self.client.post(&url),
        }
        .header("If-Match", if_match);
        let resp = self.send(r, &url)?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(Error::Remote(format!("{url}: {}", Http::error_text(resp))))
        }
    }

    /// Remove the challenger `version` (409 when another run replaced it).
    fn delete_challenger(&self, version: &str) -> Result<()> {
        self.delete_slot("challenger", Some(version))
    }

    /// `DELETE /admin/models/{name}?slot=…`, with `If-Match` when given.
    fn delete_slot(&self, slot: &str, if_match: Option<&str>) -> Result<()> {
        let url = self.url(&format!(
            "/admin/models/{}?slot={slot}",
            encode_segment(&self.model)
        ));
        let mut r = self.client.delete(&url);
        if let Some(v) = if_match {
            r = r.header("If-Match", v);
        }
        let resp = self.send(r, &url)?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(Error::Remote(format!("{url}: {}", Http::error_text(resp))))
        }
    }

    /// Poll the health path: `retries` more attempts after the first.
    fn wait_ready(&self) -> std::result::Result<Check, Failure> {
        let url = self.url(&self.health_path);
        let mut last = String::new();
        let mut reached = false;
        for attempt in 0..=self.retries {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(250 * u64::from(attempt.min(8))));
            }
            match self.basic_auth(self.client.get(&url)).send() {
                Ok(r) if r.status().is_success() => {
                    return Ok(Check::pass(
                        "ready",
                        format!(
                            "{} answered {} (attempt {})",
                            self.health_path,
                            r.status(),
                            attempt + 1
                        ),
                    ));
                }
                Ok(r) => {
                    reached = true;
                    last = r.status().to_string();
                }
                Err(e) => {
                    last = if e.is_timeout() {
                        "timed out".into()
                    } else {
                        "cannot connect".into()
                    };
                }
            }
        }
        let msg = format!(
            "{url} was not ready after {} attempts (last: {last})",
            self.retries + 1
        );
        if reached {
            Err(Failure::Check(msg))
        } else {
            Err(Failure::Gone(Error::Remote(msg)))
        }
    }

    fn confirm(
        &self,
        want: &str,
        sha: &str,
        challenger: bool,
        percent: Option<u8>,
    ) -> std::result::Result<Check, Failure> {
        let st = self.state()?;
        let (slot, name) = if challenger {
            (st.challenger.as_ref(), "challenger")
        } else {
            (st.champion.as_ref(), "champion")
        };
        match slot {
            Some(s) if s.version == want && s.sha256 == sha => {}
            Some(s) if s.version == want && s.sha256.is_empty() => {
                return Err(Failure::Check(format!(
                    "GET /admin/models reports {} {want} as {name} without its sha256, so the bundle it serves cannot be confirmed",
                    self.model
                )));
            }
            Some(s) => {
                return Err(Failure::Check(format!(
                    "GET /admin/models reports {} {} (sha256 {}) as {name}, not {want}",
                    self.model, s.version, s.sha256
                )));
            }
            None => {
                return Err(Failure::Check(format!(
                    "GET /admin/models reports no {name} for {}",
                    self.model
                )));
            }
        }
        if let Some(p) = percent
            && st.percent != p
        {
            return Err(Failure::Check(format!(
                "GET /admin/models reports {}% to the challenger, not {p}%",
                st.percent
            )));
        }
        Ok(Check::pass(
            "models",
            format!("GET /admin/models reports {want} as {name}"),
        ))
    }

    fn smoke(&self, job: &Job<'_>, variant: &str) -> std::result::Result<Check, Failure> {
        let url = self.url("/predict");
        let instances: Vec<Value> = job
            .smoke
            .rows
            .iter()
            .map(|r| Value::Object(r.features.clone()))
            .collect();
        let r = self.client.post(&url).header("X-Mlops-Variant", variant);
        let r = with_json(r, &json!({ "instances": instances }));
        let resp = self.send(r, &url)?;
        if !resp.status().is_success() {
            return Err(Failure::Check(format!(
                "POST {url} answered {}",
                Http::error_text(resp)
            )));
        }
        let doc: Value = read_json(resp)
            .map_err(|e| Failure::Check(format!("POST {url} did not answer JSON ({e})")))?;
        if let Some(v) = doc.get("version").and_then(Value::as_str)
            && v != job.bundle.version
        {
            return Err(Failure::Check(format!(
                "POST {url} was answered by version {v}, not {}",
                job.bundle.version
            )));
        }
        let n = smoke::compare_answer(&job.bundle.artifact, &job.smoke.rows, &doc)
            .map_err(|e| Failure::Check(format!("smoke test: {e}")))?;
        Ok(Check::pass(
            "smoke",
            format!(
                "{n} rows ({}) through POST /predict equal the artifact's predictions",
                job.smoke.source
            ),
        ))
    }

    fn verify(&self, job: &Job<'_>) -> std::result::Result<Vec<Check>, Failure> {
        let b = job.bundle;
        let (challenger, percent) = match job.step {
            Step::Canary(p) => (true, Some(p)),
            _ => (false, None),
        };
        let mut checks = vec![self.wait_ready()?];
        checks.push(self.confirm(&b.version, &b.sha256, challenger, percent)?);
        if job.step == Step::DropChallenger {
            let st = self.state()?;
            if let Some(c) = st.challenger {
                return Err(Failure::Check(format!(
                    "GET /admin/models still reports challenger {}",
                    c.version
                )));
            }
        }
        checks.push(self.smoke(job, if challenger { "challenger" } else { "champion" })?);
        Ok(checks)
    }

    /// Put the champion `previous` back after a failed replace.
    fn restore_champion(&self, job: &Job<'_>, previous: Option<&Slot>) -> String {
        let Some(prev) = previous else {
            // Nothing to put back: unload the new champion, if it is still ours.
            return match self.delete_slot("champion", Some(&job.bundle.version)) {
                Ok(()) => format!(
                    "the server had no champion before, so {} was unloaded (DELETE /admin/models/{}?slot=champion)",
                    job.bundle.version, self.model
                ),
                Err(e) => format!(
                    "the server had no champion before and unloading {} failed too ({e})",
                    job.bundle.version
                ),
            };
        };
        let q = format!("/admin/rollback?model={}", encode_segment(&self.model));
        if self.admin(&q, None, &job.bundle.version).is_ok()
            && self.state().is_ok_and(|s| {
                s.champion
                    .as_ref()
                    .is_some_and(|c| c.version == prev.version)
            })
        {
            return format!(
                "{} {} is the champion again (POST /admin/rollback)",
                self.model, prev.version
            );
        }
        match (job.fetch)(&prev.version)
            .and_then(|bytes| self.upload("champion", &bytes, Some(&job.bundle.version)))
        {
            Ok(()) => format!(
                "{} {} is the champion again (re-uploaded)",
                self.model, prev.version
            ),
            Err(e) => format!("putting {} back failed too ({e})", prev.version),
        }
    }
}

fn with_json(r: RequestBuilder, v: &Value) -> RequestBuilder {
    r.header("Content-Type", "application/json")
        .body(v.to_string())
}

/// The body of `resp`, refused when longer than [`MAX_RESPONSE_BYTES`].
fn read_capped(resp: Response) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    resp.take(MAX_RESPONSE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_RESPONSE_BYTES {
        return Err(format!(
            "the answer is longer than {} MiB, more than the admin API ever sends",
            MAX_RESPONSE_BYTES / (1024 * 1024)
        ));
    }
    Ok(bytes)
}

fn read_json(resp: Response) -> std::result::Result<Value, String> {
    let bytes = read_capped(resp)?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

impl Target for Http {
    fn kind(&self) -> TargetKind {
        TargetKind::Http
    }

    fn location(&self) -> String {
        self.base.clone()
    }

    fn lock(&mut self) -> Result<()> {
        // Concurrent deploys are refused by the server's preconditions (409).
        Ok(())
    }

    fn live(&mut self) -> Result<Live> {
        let st = self.state()?;
        Ok(Live {
            champion: st.champion.map(|s| s.version),
            challenger_percent: if st.challenger.is_some() {
                st.percent
            } else {
                0
            },
            challenger: st.challenger.map(|s| s.version),
        })
    }

    fn apply(&mut self, job: &Job<'_>) -> Result<Vec<Check>> {
        let before = self.state()?;
        let b = job.bundle;
        match job.step {
            Step::Replace { .. } => {
                // If-Match the champion the deploy read before acting (the
                // registry's, or with --force the live one), so that a
                // deploy made behind its back since is a 409. A server that holds
                // no champion (restarted, or never deployed to) is filled
                // with If-None-Match: *, which still loses to a concurrent
                // deploy.
                let pre = before.champion.as_ref().map(|live| {
                    job.registry_champion
                        .map_or_else(|| live.version.clone(), str::to_string)
                });
                self.upload("champion", job.bytes, pre.as_deref())?;
            }
            Step::Canary(p) => {
                let pre = before.challenger.as_ref().map(|s| s.version.clone());
                self.upload("challenger", job.bytes, pre.as_deref())?;
                if let Err(e) = self.admin(
                    "/admin/traffic",
                    Some(json!({"challenger_percent": p, "model": self.model})),
                    &b.version,
                ) {
                    let _ = self.delete_challenger(&b.version);
                    return Err(e);
                }
            }
            Step::Promote => self.admin(
                &format!("/admin/promote?model={}", encode_segment(&self.model)),
                None,
                &b.version,
            )?,
            Step::DropChallenger => {
                if let Some(c) = &before.challenger {
                    self.delete_challenger(&c.version)?;
                }
            }
        }
        let result = self.verify(job);
        let (why, gone) = match result {
            Ok(mut checks) => {
                if let Step::Replace {
                    drop_challenger: true,
                } = job.step
                    && let Some(c) = &before.challenger
                {
                    self.delete_challenger(&c.version)?;
                    checks.push(Check::pass("challenger", "the challenger was removed"));
                }
                return Ok(checks);
            }
            Err(Failure::Check(w)) => (w, None),
            Err(Failure::Gone(e)) => (e.to_string(), Some(e)),
        };
        let back = match job.step {
            Step::Replace { .. } | Step::Promote => {
                self.restore_champion(job, before.champion.as_ref())
            }
            Step::Canary(_) => match self.delete_challenger(&b.version) {
                Ok(()) => "the challenger was removed".to_string(),
                Err(e) => format!("removing the challenger failed too ({e})"),
            },
            Step::DropChallenger => "nothing to put back".to_string(),
        };
        let msg = format!(
            "{} {} did not verify in {} at {} ({why}); {back}, and no assignment was recorded",
            self.model, b.version, self.env_name, self.base
        );
        Err(match gone {
            Some(_) => Error::Remote(msg),
            None => Error::Check(msg),
        })
    }
}

impl Http {
    /// Readiness, the slot's version, then the smoke rows through it.
    fn verify_slot(&self, job: &Job<'_>, challenger: bool) -> Result<Vec<Check>> {
        let b = job.bundle;
        let run = || -> std::result::Result<Vec<Check>, Failure> {
            let percent = challenger.then_some(0);
            Ok(vec![
                self.wait_ready()?,
                self.confirm(&b.version, &b.sha256, challenger, percent)?,
                self.smoke(job, if challenger { "challenger" } else { "champion" })?,
            ])
        };
        run().map_err(|f| {
            let what = if challenger { "staged" } else { "live" };
            match f {
                Failure::Check(w) => Error::Check(format!(
                    "{} {} did not verify {what} at {} ({w})",
                    self.model, b.version, self.base
                )),
                Failure::Gone(e) => e,
            }
        })
    }
}

impl Phased for Http {
    fn stage(&mut self, job: &Job<'_>) -> Result<Vec<Check>> {
        let st = self.state()?;
        let v = job.bundle.version.as_str();
        let Some(champion) = st.champion else {
            // Nothing served yet: the first champion, as a single-target
            // first deploy loads it.
            self.upload("champion", job.bytes, None)?;
            return self.verify_slot(job, false);
        };
        if champion.version == v {
            return self.verify_slot(job, false);
        }
        match st.challenger {
            Some(c) if c.version == v => {}
            Some(c) => self.upload("challenger", job.bytes, Some(&c.version))?,
            None => self.upload("challenger", job.bytes, None)?,
        }
        self.admin(
            "/admin/traffic",
            Some(json!({"challenger_percent": 0, "model": self.model})),
            v,
        )?;
        self.verify_slot(job, true)
    }

    fn commit(&mut self, job: &Job<'_>) -> Result<Vec<Check>> {
        let st = self.state()?;
        let v = job.bundle.version.as_str();
        let live = st.champion.as_ref().is_some_and(|c| c.version == v);
        if !live {
            if st.challenger.as_ref().is_none_or(|c| c.version != v) {
                // Staged before a restart that lost it: stage again.
                self.stage(job)?;
            }
            if self
                .state()?
                .champion
                .as_ref()
                .is_none_or(|c| c.version != v)
            {
                self.admin(
                    &format!("/admin/promote?model={}", encode_segment(&self.model)),
                    None,
                    v,
                )?;
            }
        }
        self.verify_slot(job, false)
    }

    fn revert(&mut self, job: &Job<'_>, previous: Option<&str>) -> Result<()> {
        let st = self.state()?;
        let now = st.champion.as_ref().map(|c| c.version.as_str());
        if now == previous {
            return Ok(());
        }
        let Some(prev) = previous else {
            return self.delete_slot("champion", now);
        };
        let bytes = (job.fetch)(prev)?;
        self.upload("champion", &bytes, now)?;
        if self.state()?.champion.is_some_and(|c| c.version == prev) {
            Ok(())
        } else {
            Err(Error::Remote(format!(
                "{}: {} {prev} was uploaded back but GET /admin/models does not report it as champion",
                self.base, self.model
            )))
        }
    }

    fn unstage(&mut self, version: &str) -> Result<()> {
        match self.state()?.challenger {
            Some(c) if c.version == version => self.delete_challenger(version),
            _ => Ok(()),
        }
    }

    fn requests(&mut self) -> Result<Option<Requests>> {
        let url = self.url("/metrics");
        let resp = self.send(self.client.get(&url), &url)?;
        if !resp.status().is_success() {
            return Err(Error::Remote(format!(
                "{url}: {}; the server does not expose its metrics",
                Http::error_text(resp)
            )));
        }
        let bytes = read_capped(resp)
            .map_err(|e| Error::Remote(format!("{url}: the answer cannot be read ({e})")))?;
        let text = String::from_utf8_lossy(&bytes);
        Ok(Some(phase::parse_requests(&text, &self.model)))
    }

    fn ready(&mut self) -> bool {
        let url = self.url(&self.health_path);
        self.basic_auth(self.client.get(&url))
            .send()
            .is_ok_and(|r| r.status().is_success())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(url: &str, ca: Option<&str>) -> EnvironmentSection {
        let mut text = format!("target = \"http\"\nurl = \"{url}\"\ntoken_env = \"T\"\n");
        if let Some(c) = ca {
            text.push_str(&format!("ca_cert = \"{c}\"\n"));
        }
        toml::from_str(&text).unwrap()
    }

    fn new(url: &str, ca: Option<&str>) -> Result<Http> {
        Http::new(
            "prod",
            &env(url, ca),
            "m",
            Some("s3cret".into()),
            ca.map(std::path::PathBuf::from),
        )
    }

    /// Security review H3.
    #[test]
    fn a_token_never_goes_in_cleartext_to_another_machine() {
        let e = new("http://10.0.0.5:8080", None).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let msg = e.to_string();
        assert!(
            msg.contains("environments.prod.url = \"http://10.0.0.5:8080\""),
            "{msg}"
        );
        assert!(!msg.contains("s3cret"), "{msg}");
        assert!(new("http://example.com", None).is_err());
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:8080",
            "https://10.0.0.5:8443",
        ] {
            assert!(new(ok, None).is_ok(), "{ok}");
        }
        // Without a token, nothing secret travels.
        let open: EnvironmentSection =
            toml::from_str("target = \"http\"\nurl = \"http://10.0.0.5\"\n").unwrap();
        assert!(Http::new("prod", &open, "m", None, None).is_ok());
    }

    /// A server on 127.0.0.1:0 that answers every request with `body`
    /// (status 200, JSON); its base URL.
    fn canned(body: Vec<u8>) -> String {
        use std::io::{Read as _, Write as _};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        std::thread::spawn(move || {
            for c in l.incoming() {
                let Ok(mut c) = c else { return };
                let mut buf = [0u8; 4096];
                let _ = c.read(&mut buf);
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = c.write_all(head.as_bytes());
                let _ = c.write_all(&body);
            }
        });
        url
    }

    /// L14: a server that answers 2 MiB is refused, not read whole.
    #[test]
    fn a_response_over_the_cap_is_refused() {
        let mut big = b"{\"models\": [\"".to_vec();
        big.resize(2 * 1024 * 1024, b'a');
        big.extend_from_slice(b"\"]}");
        let h = new(&canned(big), None).unwrap();
        let e = h.state().unwrap_err();
        assert_eq!(e.exit_code(), 5);
        assert!(e.to_string().contains("longer than 1 MiB"), "{e}");
    }

    /// L14: a slot reported without a sha256 does not confirm the bundle.
    #[test]
    fn confirm_refuses_an_empty_sha256() {
        let doc =
            json!({"models": [{"name": "m", "champion": {"version": "v1.0.0", "sha256": ""}}]});
        let h = new(&canned(doc.to_string().into_bytes()), None).unwrap();
        match h.confirm("v1.0.0", "abc", false, None) {
            Err(Failure::Check(m)) => assert!(m.contains("without its sha256"), "{m}"),
            Err(Failure::Gone(e)) => panic!("{e}"),
            Ok(c) => panic!("confirmed: {c:?}"),
        }
        let doc =
            json!({"models": [{"name": "m", "champion": {"version": "v1.0.0", "sha256": "abc"}}]});
        let h = new(&canned(doc.to_string().into_bytes()), None).unwrap();
        assert!(h.confirm("v1.0.0", "abc", false, None).is_ok());
    }

    /// L1 and L9: a `/` in a model name is `%2F` in the path; the URL's
    /// user and password leave the base URL every message shows.
    #[test]
    fn names_are_encoded_and_userinfo_is_kept_out_of_the_base() {
        assert_eq!(encode_segment("team/churn"), "team%2Fchurn");
        assert_eq!(encode_segment("a-b_c.1"), "a-b_c.1");
        let (base, basic) = split_userinfo("https://bob:p%40ss@h.example:8443/x");
        assert_eq!(base, "https://h.example:8443/x");
        assert_eq!(basic, Some(("bob".into(), Some("p@ss".into()))));
        assert_eq!(
            split_userinfo("http://127.0.0.1:1"),
            ("http://127.0.0.1:1".into(), None)
        );
        let open: EnvironmentSection =
            toml::from_str("target = \"http\"\nurl = \"http://u:hunter2@10.0.0.5\"\n").unwrap();
        let h = Http::new("prod", &open, "m", None, None).unwrap();
        assert_eq!(h.location(), "http://10.0.0.5");
        assert!(!format!("{h:?}").contains("http://u:hunter2@"));
    }

    /// Security review H3.
    #[test]
    fn ca_cert_must_be_a_readable_pem_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        let e = new("https://h:1", Some(missing.to_str().unwrap())).unwrap_err();
        assert!(
            e.to_string()
                .contains("cannot read environments.prod.ca_cert"),
            "{e}"
        );
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let e = new("https://h:1", Some(junk.to_str().unwrap())).unwrap_err();
        assert!(e.to_string().contains("environments.prod.ca_cert"), "{e}");
        let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/tls/ca.pem");
        assert!(new("https://h:1", Some(ca)).is_ok());
    }
}
