//! The HTTP layer: axum routes that read a request, call the protocol's
//! plain function, and write the answer with its headers, metrics and log
//! line. Nothing here decides a prediction.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value as Json, json};

use super::app::{error, json_response, read_body};
use super::auth::{Caller, Denied, Role};
use super::log::{Entry, NotRecorded, Predicted, ShortText, Subject};
use super::metrics::Metrics;
use super::model::{BadRequest, Model, Row, clip, looks_like_json};
use super::state::{Choice, RouteError, Variant};
use super::{admin, mlflow, rest, v2};

// Their former paths, `serve::http::{App, MAX_BUNDLE_BYTES}`, keep working.
pub use super::admin::MAX_BUNDLE_BYTES;
pub use super::app::App;

type Shared = Arc<App>;

pub(crate) fn status_of(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The routes.
pub fn router(app: Shared) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|| async { json_response(StatusCode::OK, &json!({"status": "ok"})) }),
        )
        .route("/readyz", get(readyz))
        .route(
            "/v2/health/live",
            get(|| async { json_response(StatusCode::OK, &json!({"live": true})) }),
        )
        .route("/v2/health/ready", get(v2_ready))
        .route(
            "/v2",
            get(|| async { json_response(StatusCode::OK, &v2::server_metadata()) }),
        )
        .route("/v2/models/{m}", get(v2_metadata))
        .route("/v2/models/{m}/ready", get(v2_model_ready))
        .route("/v2/models/{m}/infer", post(v2_infer))
        .route("/v2/models/{m}/versions/{v}", get(v2_metadata_version))
        .route(
            "/v2/models/{m}/versions/{v}/ready",
            get(v2_model_ready_version),
        )
        .route("/v2/models/{m}/versions/{v}/infer", post(v2_infer_version))
        .route("/predict", post(predict))
        .route("/invocations", post(invocations))
        .route("/ping", get(ping))
        .route("/health", get(ping))
        .route(
            "/version",
            get(|| async { format!("mlops {}\n", crate::VERSION) }),
        )
        .route("/metrics", get(metrics))
        .route("/feedback", post(feedback))
        .route("/admin/models", get(admin::list))
        .route(
            "/admin/models/{name}",
            put(admin::put_model).delete(admin::delete_model),
        )
        .route("/admin/traffic", put(admin::traffic))
        .route("/admin/promote", post(admin::promote))
        .route("/admin/rollback", post(admin::rollback))
        .route("/admin/abtest/export", get(admin::export))
        .route("/admin/abtest/reset", post(admin::reset))
        .fallback(|method: Method, uri: axum::http::Uri| async move {
            error(
                StatusCode::NOT_FOUND,
                &format!(
                    "no endpoint {method} {}; see docs/serving.md",
                    clip(uri.path())
                ),
            )
        })
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&app), gate))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            guard,
        ))
        .with_state(app)
}

/// The routes of one listener when the admin API has its own
/// (`[serve].admin_bind`): `admin` true, the admin API (and the public
/// health routes); false, everything but the admin API.
pub fn router_part(app: Shared, admin: bool) -> Router {
    router(app).layer(axum::middleware::from_fn_with_state(admin, listener_part))
}

async fn listener_part(State(admin): State<bool>, req: Request, next: Next) -> Response {
    match (Role::of_path(req.uri().path()), admin) {
        (Some(Role::Admin), false) => error(
            StatusCode::NOT_FOUND,
            "the admin API listens on [serve].admin_bind, not on this address",
        ),
        (Some(Role::Predict), true) => error(
            StatusCode::NOT_FOUND,
            "this address ([serve].admin_bind) serves the admin API only; predictions go to [serve].bind",
        ),
        _ => next.run(req).await,
    }
}

/// Decrements the in-flight gauge however the request ends.
pub(crate) struct InFlight<'a>(pub(crate) &'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Every request: the in-flight gauge and cap, and the timeout.
async fn guard(State(app): State<Shared>, req: Request, next: Next) -> Response {
    // Health, readiness and metrics are never turned away: probes must see
    // a busy server as alive.
    let _slot = if Role::of_path(req.uri().path()).is_some() {
        match app.slots.try_acquire() {
            Ok(p) => Some(p),
            Err(_) => {
                let mut r = error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the server is handling as many requests as it may ([serve].max_in_flight); retry shortly",
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                return r;
            }
        }
    } else {
        None
    };
    app.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let _g = InFlight(&app.metrics);
    let (limit, key) = if super::conn::is_upload(req.method(), req.uri().path()) {
        (app.upload_timeout, "upload_timeout_s")
    } else {
        (app.timeout, "timeout_s")
    };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "the request took longer than {} s ([serve].{key})",
                limit.as_secs_f64()
            ),
        ),
    }
}

/// Protected routes: who is calling (`[serve.auth]`), how often
/// (`[serve.rate_limit]`), and the admin audit log.
async fn gate(State(app): State<Shared>, mut req: Request, next: Next) -> Response {
    let Some(role) = Role::of_path(req.uri().path()) else {
        if app.auth.guards_public(req.uri().path()) {
            // Either role will do.
            let r = match authenticate(&app, req.headers(), Role::Predict).await {
                Err(Denied::Scope(_)) => authenticate(&app, req.headers(), Role::Admin).await,
                r => r,
            };
            if let Err(d) = r {
                return refuse(&d);
            }
        }
        return next.run(req).await;
    };
    let caller = if app.auth.protects(role) || app.auth.guards_feedback(req.uri().path()) {
        match authenticate(&app, req.headers(), role).await {
            Ok(c) => Some(c),
            Err(d) => return refuse(&d),
        }
    } else {
        None
    };
    let verdict = app.limiter.as_ref().map(|l| {
        let peer = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or(std::net::SocketAddr::from(([0, 0, 0, 0], 0)), |c| c.0);
        l.check(role, l.key_of(peer, req.headers(), caller.as_ref()))
    });
    if let Some(v) = verdict.as_ref().filter(|v| !v.allowed) {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "too many requests ([serve.rate_limit]); retry after {} s",
                v.retry_after
            ),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(v.retry_after));
        return rate_headers(r, v);
    }
    let audit = (role == Role::Admin && app.audit.is_some()).then(|| {
        let subject = caller.as_ref().and_then(|c| c.subject.clone()).or_else(|| {
            app.is_admin(req.headers())
                .then(|| "admin-token".to_string())
        });
        (subject, req.method().to_string(), req.uri().clone())
    });
    if let Some(c) = caller {
        req.extensions_mut().insert(c);
    }
    let mut resp = next.run(req).await;
    if let (Some((subject, method, uri)), Some(log)) = (audit, &app.audit) {
        let (r, version) = audited_version(resp, &method).await;
        resp = r;
        let model = uri
            .path()
            .strip_prefix("/admin/models/")
            .map(|m| clip(m).to_string());
        let action = format!("{method} {}", uri.path());
        let status = resp.status().as_u16();
        if log
            .record(
                subject.as_deref(),
                &action,
                model.as_deref(),
                version.as_deref(),
                status,
            )
            .is_err()
        {
            app.metrics
                .dropped_audit_lines
                .fetch_add(1, Ordering::Relaxed);
        }
    }
    match &verdict {
        Some(v) => rate_headers(resp, v),
        None => resp,
    }
}

/// An RFC 6750 refusal.
fn refuse(d: &Denied) -> Response {
    let (status, msg, h) = d.parts();
    let mut r = error(status, &msg);
    r.headers_mut().insert(header::WWW_AUTHENTICATE, h);
    r
}

/// The version an admin call acted on, read from its (small, JSON) answer:
/// `version` of an upload, else the first model's champion. Reads (GET,
/// such as the A/B export) are passed through untouched.
async fn audited_version(resp: Response, method: &str) -> (Response, Option<String>) {
    if method == "GET" {
        return (resp, None);
    }
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return (Response::from_parts(parts, Body::empty()), None);
    };
    let doc: Json = serde_json::from_slice(&bytes).unwrap_or(Json::Null);
    let version = doc
        .get("version")
        .or_else(|| doc.pointer("/models/0/champion/version"))
        .and_then(Json::as_str)
        .map(|v| clip(v).to_string());
    (Response::from_parts(parts, Body::from(bytes)), version)
}

/// Check the caller, fetching the issuer's keys again (off the async
/// workers) when the token names a key not seen yet.
pub(crate) async fn authenticate(
    app: &Shared,
    headers: &HeaderMap,
    role: Role,
) -> Result<Caller, Denied> {
    match app.auth.check(headers, role) {
        Err(d) if app.auth.may_know_more(&d) => {
            let auth = Arc::clone(&app.auth);
            let headers = headers.clone();
            tokio::task::spawn_blocking(move || auth.check_refreshing(&headers, role))
                .await
                .unwrap_or(Err(d))
        }
        r => r,
    }
}

fn rate_headers(mut r: Response, v: &super::ratelimit::Verdict) -> Response {
    let h = r.headers_mut();
    if let Ok(x) = HeaderValue::from_str(&v.policy) {
        h.insert("ratelimit-policy", x);
    }
    if let Ok(x) = HeaderValue::from_str(&v.state) {
        h.insert("ratelimit", x);
    }
    r
}

async fn readyz(State(app): State<Shared>) -> Response {
    if app.models.ready() {
        json_response(StatusCode::OK, &json!({"status": "ready"}))
    } else {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            &RouteError::NotReady.message(),
        )
    }
}

async fn v2_ready(State(app): State<Shared>) -> Response {
    let ready = app.models.ready();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, &json!({ "ready": ready }))
}

async fn ping(State(app): State<Shared>) -> Response {
    if app.models.ready() {
        (StatusCode::OK, "\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "no model is loaded\n").into_response()
    }
}

async fn metrics(State(app): State<Shared>) -> Response {
    let mut text = app.metrics.render(&app.models.snapshot());
    if let Some(l) = &app.limiter {
        text.push_str(&l.render());
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        text,
    )
        .into_response()
}

/// The model of `name` at `version` (a slot's version), for V2 URLs (and
/// the gRPC service's model name and version).
pub(crate) fn v2_model(
    app: &App,
    name: &str,
    version: Option<&str>,
) -> Result<(Arc<Model>, Variant), RouteError> {
    let Some(v) = version else {
        return app
            .models
            .route(Some(name), Choice::Force(Variant::Champion))
            .or_else(|e| match e {
                RouteError::NoSuchSlot(_) => app
                    .models
                    .route(Some(name), Choice::Force(Variant::Challenger)),
                e => Err(e),
            });
    };
    for slot in [Variant::Champion, Variant::Challenger] {
        if let Ok((m, s)) = app.models.route(Some(name), Choice::Force(slot))
            && m.version == v
        {
            return Ok((m, s));
        }
    }
    app.models.route(Some(name), Choice::Split)?;
    Err(RouteError::NoSuchSlot(format!(
        "model \"{}\" has no version \"{}\" loaded",
        clip(name),
        clip(v)
    )))
}

pub(crate) fn versions(app: &App, name: &str) -> Vec<String> {
    let t = app.models.snapshot();
    t.get(name).map_or_else(Vec::new, |s| {
        [&s.champion, &s.challenger]
            .into_iter()
            .flatten()
            .map(|m| m.version.clone())
            .collect()
    })
}

async fn v2_metadata(State(app): State<Shared>, Path(m): Path<String>) -> Response {
    metadata_for(&app, &m, None)
}

async fn v2_metadata_version(
    State(app): State<Shared>,
    Path((m, v)): Path<(String, String)>,
) -> Response {
    metadata_for(&app, &m, Some(&v))
}

fn metadata_for(app: &App, name: &str, version: Option<&str>) -> Response {
    match v2_model(app, name, version) {
        Ok((model, _)) => {
            let vs = versions(app, name);
            let vs: Vec<&str> = vs.iter().map(String::as_str).collect();
            json_response(StatusCode::OK, &v2::metadata(&model, &vs))
        }
        Err(e) => error(status_of(e.status()), &e.message()),
    }
}

async fn v2_model_ready(State(app): State<Shared>, Path(m): Path<String>) -> Response {
    ready_for(&app, &m, None)
}

async fn v2_model_ready_version(
    State(app): State<Shared>,
    Path((m, v)): Path<(String, String)>,
) -> Response {
    ready_for(&app, &m, Some(&v))
}

fn ready_for(app: &App, name: &str, version: Option<&str>) -> Response {
    match v2_model(app, name, version) {
        Ok((model, _)) => json_response(
            StatusCode::OK,
            &json!({"name": model.name, "version": model.version, "ready": true}),
        ),
        Err(e) => error(status_of(e.status()), &e.message()),
    }
}

/// What the prediction handlers (and the gRPC service) share: read the
/// body, route, answer.
pub(crate) struct Call {
    started: Instant,
    at: SystemTime,
    pub(crate) request_id: String,
    pub(crate) key: Option<String>,
    force: Option<Variant>,
    subject: Option<String>,
    /// The encoded rows, for a prediction log that records features.
    pub(crate) rows: Vec<Row>,
}

impl Call {
    fn new(app: &App, parts: &axum::http::request::Parts) -> Call {
        let subject = parts
            .extensions
            .get::<Caller>()
            .and_then(|c| c.subject.clone());
        Call::of(app, &parts.headers, subject)
    }

    /// A call with these headers (request id, A/B key, forced variant) by
    /// the caller `subject`.
    pub(crate) fn of(app: &App, headers: &HeaderMap, subject: Option<String>) -> Call {
        let force = headers
            .get("x-mlops-variant")
            .and_then(|v| v.to_str().ok())
            .and_then(Variant::parse)
            .filter(|_| app.is_admin(headers));
        Call {
            started: Instant::now(),
            at: SystemTime::now(),
            request_id: app.request_id(headers),
            key: headers
                .get("x-request-key")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            force,
            subject,
            rows: Vec::new(),
        }
    }

    /// Why the routing key is refused: longer than
    /// [`super::feedback::MAX_KEY_BYTES`].
    pub(crate) fn key_refused(&self) -> Option<String> {
        self.key
            .as_ref()
            .filter(|k| k.len() > super::feedback::MAX_KEY_BYTES)
            .map(|k| {
                format!(
                    "the routing key (X-Request-Key or \"key\") is {} bytes, more than the {} allowed; send a shorter key, such as a hash of it",
                    k.len(),
                    super::feedback::MAX_KEY_BYTES
                )
            })
    }

    pub(crate) fn choice(&self) -> Choice<'_> {
        match (self.force, &self.key) {
            (Some(v), _) => Choice::Force(v),
            (None, Some(k)) => Choice::Key(k),
            (None, None) => Choice::Split,
        }
    }

    /// Finish a request: headers, metrics, log and feedback bookkeeping.
    fn finish(
        self,
        app: &App,
        endpoint: &'static str,
        served: Option<(&Arc<Model>, Variant)>,
        predictions: Option<(&[Option<f64>], bool)>,
        mut resp: Response,
    ) -> Response {
        let status = resp.status().as_u16();
        let h = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&self.request_id) {
            h.insert("x-request-id", v);
        }
        if let Some((m, v)) = served {
            if let Ok(x) = HeaderValue::from_str(&m.version) {
                h.insert("x-model-version", x);
            }
            h.insert("x-model-variant", HeaderValue::from_static(v.as_str()));
        }
        self.record(app, endpoint, served, predictions, status);
        resp
    }

    /// Count a finished call (its `status`, HTTP's) and, when it served
    /// `predictions`, log them and remember them for feedback.
    pub(crate) fn record(
        self,
        app: &App,
        endpoint: &'static str,
        served: Option<(&Arc<Model>, Variant)>,
        predictions: Option<(&[Option<f64>], bool)>,
        status: u16,
    ) {
        let elapsed = self.started.elapsed();
        app.metrics.request(endpoint, served, status, elapsed);
        if let (Some((m, v)), Some((preds, single))) = (served, predictions) {
            app.metrics.predictions(m, v, preds);
            // Without the admin API, /feedback is refused: no outcome
            // could ever be joined to what the store remembers.
            if app.admin_on()
                && let Some(served) = app.models.served(m, v)
            {
                app.feedback
                    .served(&self.request_id, self.key.as_deref(), &served);
            }
            if let Some(log) = &app.log {
                log.send(Entry {
                    request_id: ShortText::new(&self.request_id),
                    at: self.at,
                    model: Arc::clone(m),
                    variant: v,
                    key: self.key,
                    latency: elapsed,
                    predictions: Predicted::of(preds),
                    single,
                    subject: self.subject,
                    rows: log.features().then_some(self.rows),
                });
            }
        }
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|c| {
            let m = c
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            m == "application/json" || m.ends_with("+json")
        })
}

async fn predict(State(app): State<Shared>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let mut call = Call::new(&app, &parts);
    let fail = |call: Call, status: StatusCode, msg: &str, served| {
        call.finish(&app, "predict", served, None, error(status, msg))
    };
    let bytes = match read_body(&parts.headers, body, app.max_body).await {
        Ok(b) => b,
        Err(e) => return fail(call, e.status(), &e.message(), None),
    };
    // A JSON body under another type (curl -d sends a form type) is read
    // as JSON.
    if !is_json(&parts.headers) && !looks_like_json(&bytes) {
        return fail(
            call,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "/predict takes Content-Type: application/json (the body is not JSON either)",
            None,
        );
    }
    let parsed = match rest::parse(&bytes, app.max_rows) {
        Ok(p) => p,
        Err(BadRequest(m)) => return fail(call, StatusCode::BAD_REQUEST, &m, None),
    };
    if call.key.is_none() {
        call.key = parsed.key();
    }
    if let Some(m) = call.key_refused() {
        return fail(call, StatusCode::BAD_REQUEST, &m, None);
    }
    let (model, variant) = match app.models.route(None, call.choice()) {
        Ok(x) => x,
        Err(e) => return fail(call, status_of(e.status()), &e.message(), None),
    };
    match rest::predict_rows(&model, &parsed) {
        Ok((out, rows)) => {
            call.rows = rows;
            let doc = rest::response(&out, &model, variant);
            let (preds, single) = out.logged();
            let resp = json_response(StatusCode::OK, &doc);
            call.finish(
                &app,
                "predict",
                Some((&model, variant)),
                Some((&preds, single)),
                resp,
            )
        }
        Err(BadRequest(m)) => fail(call, StatusCode::BAD_REQUEST, &m, Some((&model, variant))),
    }
}

fn mlflow_error(status: StatusCode, msg: &str) -> Response {
    json_response(
        status,
        &json!({"error_code": "BAD_REQUEST", "message": msg}),
    )
}

async fn invocations(State(app): State<Shared>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let mut call = Call::new(&app, &parts);
    let fail = |call: Call, status: StatusCode, msg: &str, served| {
        call.finish(&app, "invocations", served, None, mlflow_error(status, msg))
    };
    if let Some(m) = call.key_refused() {
        return fail(call, StatusCode::BAD_REQUEST, &m, None);
    }
    let bytes = match read_body(&parts.headers, body, app.max_body).await {
        Ok(b) => b,
        Err(e) => return fail(call, e.status(), &e.message(), None),
    };
    let (model, variant) = match app.models.route(None, call.choice()) {
        Ok(x) => x,
        Err(e) => return fail(call, status_of(e.status()), &e.message(), None),
    };
    let ct = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    match mlflow::answer(&model, ct, &bytes, app.max_rows) {
        Ok((doc, preds, rows)) => {
            call.rows = rows;
            let resp = json_response(StatusCode::OK, &doc);
            call.finish(
                &app,
                "invocations",
                Some((&model, variant)),
                Some((&preds, false)),
                resp,
            )
        }
        Err(mlflow::Refusal::Bad(m)) => {
            fail(call, StatusCode::BAD_REQUEST, &m, Some((&model, variant)))
        }
        Err(mlflow::Refusal::Unsupported(m)) => fail(
            call,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &m,
            Some((&model, variant)),
        ),
    }
}

async fn v2_infer(State(app): State<Shared>, Path(m): Path<String>, req: Request) -> Response {
    infer_for(&app, &m, None, req).await
}

async fn v2_infer_version(
    State(app): State<Shared>,
    Path((m, v)): Path<(String, String)>,
    req: Request,
) -> Response {
    infer_for(&app, &m, Some(&v), req).await
}

async fn infer_for(app: &App, name: &str, version: Option<&str>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let mut call = Call::new(app, &parts);
    let fail = |call: Call, status: StatusCode, msg: &str, served| {
        call.finish(app, "v2_infer", served, None, error(status, msg))
    };
    if let Some(m) = call.key_refused() {
        return fail(call, StatusCode::BAD_REQUEST, &m, None);
    }
    let bytes = match read_body(&parts.headers, body, app.max_body).await {
        Ok(b) => b,
        Err(e) => return fail(call, e.status(), &e.message(), None),
    };
    let header_len = match parts.headers.get(v2::HEADER_LENGTH) {
        None => None,
        Some(v) => match v.to_str().ok().and_then(|s| s.trim().parse::<usize>().ok()) {
            Some(n) => Some(n),
            None => {
                return fail(
                    call,
                    StatusCode::BAD_REQUEST,
                    "Inference-Header-Content-Length must be a byte count",
                    None,
                );
            }
        },
    };
    let routed = match version {
        Some(_) => v2_model(app, name, version),
        None => app.models.route(Some(name), call.choice()),
    };
    let (model, variant) = match routed {
        Ok(x) => x,
        Err(e) => return fail(call, status_of(e.status()), &e.message(), None),
    };
    let parsed = match v2::parse(&bytes, header_len, app.max_rows) {
        Ok(p) => p,
        Err(BadRequest(m)) => {
            return fail(call, StatusCode::BAD_REQUEST, &m, Some((&model, variant)));
        }
    };
    let keep_rows = app.log.as_ref().is_some_and(|l| l.features());
    match v2::infer(&model, &parsed, keep_rows) {
        Ok((out, preds, rows)) => {
            call.rows = rows;
            let (bytes, json_len) = v2::encode(&out);
            let mut resp = Response::new(Body::from(bytes));
            let h = resp.headers_mut();
            match json_len {
                Some(n) => {
                    h.insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/octet-stream"),
                    );
                    h.insert(v2::HEADER_LENGTH, HeaderValue::from(n));
                }
                None => {
                    h.insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                }
            }
            call.finish(
                app,
                "v2_infer",
                Some((&model, variant)),
                Some((&preds, false)),
                resp,
            )
        }
        Err(BadRequest(m)) => fail(call, StatusCode::BAD_REQUEST, &m, Some((&model, variant))),
    }
}

async fn feedback(State(app): State<Shared>, req: Request) -> Response {
    if !app.admin_on() {
        // Nobody could export what it records.
        return error(StatusCode::NOT_FOUND, super::log::FEEDBACK_OFF);
    }
    let (parts, body) = req.into_parts();
    let bytes = match read_body(&parts.headers, body, app.max_body).await {
        Ok(b) => b,
        Err(e) => return error(e.status(), &e.message()),
    };
    let doc: serde_json::Map<String, Json> = match serde_json::from_slice(&bytes) {
        Ok(d) => d,
        Err(e) => return error(StatusCode::BAD_REQUEST, &rest::malformed(&e).0),
    };
    if let Some(k) = doc
        .keys()
        .find(|k| !["request_id", "key", "value"].contains(&k.as_str()))
    {
        return error(
            StatusCode::BAD_REQUEST,
            &format!(
                "unknown key \"{}\"; feedback holds request_id or key, and value",
                clip(k)
            ),
        );
    }
    let text = |k: &str| match doc.get(k) {
        Some(Json::String(s)) => Some(s.clone()),
        Some(Json::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let subject = match (text("request_id"), text("key")) {
        (Some(id), None) => Subject::Request(id),
        (None, Some(k)) if k.len() > super::feedback::MAX_KEY_BYTES => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "\"key\" is {} bytes, more than the {} a routing key may have",
                    k.len(),
                    super::feedback::MAX_KEY_BYTES
                ),
            );
        }
        (None, Some(k)) => Subject::Key(k),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "feedback needs exactly one of \"request_id\" or \"key\" (a string)",
            );
        }
    };
    let value = match doc.get("value") {
        Some(Json::Bool(b)) => f64::from(u8::from(*b)),
        Some(v) => match v.as_f64() {
            Some(x) if x.is_finite() => x,
            _ => return error(StatusCode::BAD_REQUEST, "\"value\" must be a finite number"),
        },
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                "feedback needs \"value\": a number",
            );
        }
    };
    match app.feedback.record(&subject, value) {
        Ok(v) => json_response(
            StatusCode::OK,
            &json!({"recorded": true, "variant": v.variant.as_str(), "version": &*v.version, "experiment": &*v.experiment}),
        ),
        Err(NotRecorded::Unknown(m)) => error(StatusCode::NOT_FOUND, &m),
        Err(NotRecorded::Duplicate(m)) => error(StatusCode::CONFLICT, &m),
        Err(NotRecorded::Storage(m)) => error(StatusCode::SERVICE_UNAVAILABLE, &m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::metrics::Metrics;
    use crate::serve::state::{Choice, Models};

    /// What a served call leaves in the feedback store, with and without
    /// the admin API (without it, /feedback is refused: nothing is kept).
    fn kept(admin_token: Option<&str>) -> usize {
        let models = Arc::new(Models::new());
        let toy = crate::serve::model::tests::toy("error");
        models.put(toy, Variant::Champion, None, false).unwrap();
        let app = App::new(
            Arc::clone(&models),
            Arc::new(Metrics::default()),
            None,
            admin_token.map(str::to_string),
            1 << 20,
            100,
            std::time::Duration::from_secs(1),
        );
        let (m, v) = models.route(None, Choice::Split).unwrap();
        let call = Call::of(&app, &HeaderMap::new(), None);
        call.record(
            &app,
            "predict",
            Some((&m, v)),
            Some((&[Some(1.0)], true)),
            200,
        );
        app.feedback.retained_bytes()
    }

    #[test]
    fn served_calls_are_remembered_only_when_feedback_can_be_exported() {
        assert_eq!(kept(None), 0);
        assert!(kept(Some("t0ken-long-enough-for-the-admin-api")) > 0);
    }
}
