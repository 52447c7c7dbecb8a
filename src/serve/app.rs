//! What every handler shares: the application state ([`App`]: models,
//! counters, log, limits, the admin token), reading a request body within a
//! limit, and writing JSON answers and `{"error": ...}` refusals. The routes
//! (`http`) and the admin API (`admin`) both build on it; it uses neither.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde_json::{Value as Json, json};
use sha2::Digest as _;

use super::auth::{AuditLog, Auth, Role};
use super::log::{Feedback, PredictionLog};
use super::metrics::Metrics;
use super::ratelimit::RateLimiter;
use super::state::Models;

/// Default cap on requests handled at once.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1024;

/// Everything a handler needs.
#[derive(Debug)]
pub struct App {
    /// The models.
    pub models: Arc<Models>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The prediction log, when configured.
    pub log: Option<PredictionLog>,
    /// Outcomes for A/B exports.
    pub feedback: Feedback,
    /// The admin token; `None` turns the admin API off.
    pub admin_token: Option<String>,
    /// Largest request body.
    pub max_body: usize,
    /// Most rows per request.
    pub max_rows: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// The timeout of a bundle upload (`PUT /admin/models/...`), for the
    /// whole request and for its body.
    pub upload_timeout: Duration,
    /// The state folder, when the server keeps what it is given.
    pub state: std::sync::OnceLock<Arc<super::persist::StateDir>>,
    /// Who may call what.
    pub auth: Arc<Auth>,
    /// The audit log of admin calls, when configured.
    pub audit: Option<AuditLog>,
    /// Requests handled at once; none free: 503.
    pub slots: tokio::sync::Semaphore,
    /// Per-caller rate limits, when configured.
    pub limiter: Option<RateLimiter>,
    next_id: AtomicU64,
    id_secret: [u8; 32],
    /// `[serve] strict_features`, given to every uploaded model.
    pub strict_features: bool,
}

impl App {
    /// A new application state.
    #[must_use]
    pub fn new(
        models: Arc<Models>,
        metrics: Arc<Metrics>,
        log: Option<PredictionLog>,
        admin_token: Option<String>,
        max_body: usize,
        max_rows: usize,
        timeout: Duration,
    ) -> App {
        let admin_token_copy = admin_token.clone();
        App {
            models,
            metrics,
            log,
            feedback: Feedback::default(),
            admin_token,
            max_body,
            max_rows,
            timeout,
            upload_timeout: Duration::from_secs_f64(super::conn::DEFAULT_UPLOAD_TIMEOUT_S),
            state: std::sync::OnceLock::new(),
            auth: Arc::new(Auth::token_only(admin_token_copy)),
            audit: None,
            slots: tokio::sync::Semaphore::new(DEFAULT_MAX_IN_FLIGHT),
            limiter: None,
            next_id: AtomicU64::new(1),
            id_secret: id_secret(),
            strict_features: false,
        }
    }

    /// The timeout of bundle uploads (`[serve] upload_timeout_s`).
    #[must_use]
    pub fn with_upload_timeout(mut self, t: Duration) -> App {
        self.upload_timeout = t;
        self
    }

    /// Refuse request fields that are not features (`[serve] strict_features`).
    #[must_use]
    pub fn with_strict_features(mut self, on: bool) -> App {
        self.strict_features = on;
        self
    }

    /// Use `auth` (and `audit`) to decide who may call what.
    #[must_use]
    pub fn with_auth(mut self, auth: Arc<Auth>, audit: Option<AuditLog>) -> App {
        self.auth = auth;
        self.audit = audit;
        self
    }

    /// Handle at most `n` requests at once, and limit callers with `limiter`.
    #[must_use]
    pub fn with_limits(mut self, n: usize, limiter: Option<RateLimiter>) -> App {
        self.slots = tokio::sync::Semaphore::new(n.clamp(1, tokio::sync::Semaphore::MAX_PERMITS));
        self.limiter = limiter;
        self
    }

    /// Whether the admin API answers at all.
    pub(crate) fn admin_on(&self) -> bool {
        self.auth.admin_on()
    }

    /// The request's `x-request-id` when it is a sane one, else a new id.
    pub(crate) fn request_id(&self, headers: &HeaderMap) -> String {
        if let Some(v) = headers.get("x-request-id").and_then(|v| v.to_str().ok())
            && !v.is_empty()
            && v.len() <= 128
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        {
            return v.to_string();
        }
        new_request_id(
            &self.id_secret,
            self.next_id.fetch_add(1, Ordering::Relaxed),
        )
    }

    /// Whether the request may use the admin API: the admin token, or (in
    /// `jwt` mode) a token with the admin role.
    pub(crate) fn is_admin(&self, headers: &HeaderMap) -> bool {
        self.auth.admin_on() && self.auth.check(headers, Role::Admin).is_ok()
    }
}

// Its former path, `serve::app::constant_time_eq`, keeps working.
pub use super::auth::constant_time_eq;

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, doc: &Json) -> Response {
    let body = serde_json::to_vec(doc).unwrap_or_default();
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// `{"error": msg}` with `status`.
pub(crate) fn error(status: StatusCode, msg: &str) -> Response {
    json_response(status, &json!({ "error": msg }))
}

/// Why a body could not be read.
pub(crate) enum BodyError {
    TooLarge(usize),
    Broken(String),
}

impl BodyError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            BodyError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::Broken(_) => StatusCode::BAD_REQUEST,
        }
    }

    pub(crate) fn message(&self) -> String {
        match self {
            BodyError::TooLarge(n) => format!(
                "the request body is larger than the limit of {n} bytes ([serve].max_body_bytes); send fewer rows per request"
            ),
            BodyError::Broken(e) => format!("the request body could not be read: {e}"),
        }
    }
}

/// Read a body of at most `limit` bytes.
pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, BodyError> {
    if let Some(n) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && n > limit as u64
    {
        return Err(BodyError::TooLarge(limit));
    }
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge(limit)),
        Err(e) => Err(BodyError::Broken(e.to_string())),
    }
}

/// A secret for request ids: from the operating system, else (it failing)
/// from the clock and the process, hashed.
fn id_secret() -> [u8; 32] {
    let mut k = [0u8; 32];
    if getrandom::fill(&mut k).is_err() {
        let nanos = SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let seed = format!("{nanos}:{}", std::process::id());
        k = sha2::Sha256::digest(seed.as_bytes()).into();
    }
    k
}

/// The `n`-th server-made request id: 128 bits of a keyed hash of `n`, so
/// ids never repeat and cannot be guessed from those seen (feedback names
/// a request by its id).
fn new_request_id(secret: &[u8; 32], n: u64) -> String {
    use std::fmt::Write as _;
    let h = sha2::Sha256::new()
        .chain_update(secret)
        .chain_update(n.to_le_bytes())
        .finalize();
    h.iter()
        .take(16)
        .fold(String::with_capacity(32), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn server_request_ids_are_unguessable() {
        let a = App::new(
            Arc::new(Models::new()),
            Arc::new(Metrics::default()),
            None,
            None,
            1,
            1,
            Duration::from_secs(1),
        );
        let none = HeaderMap::new();
        let (x, y) = (a.request_id(&none), a.request_id(&none));
        assert_eq!(x.len(), 32);
        assert!(x.bytes().all(|b| b.is_ascii_hexdigit()));
        // Nothing of one id (no shared prefix, no counter) tells the next.
        assert_ne!(x[..8], y[..8]);
        assert_ne!(x[24..], y[24..]);
        // Another server (another secret) makes other ids.
        let b = App::new(
            Arc::new(Models::new()),
            Arc::new(Metrics::default()),
            None,
            None,
            1,
            1,
            Duration::from_secs(1),
        );
        assert_ne!(b.request_id(&none), x);
    }
}
