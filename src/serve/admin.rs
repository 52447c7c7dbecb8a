//! The admin API that `mlops deploy` talks to (contract:
//! `docs/serving.md`, "Admin API"). Off (404) without a token; 401 without
//! the right `Authorization: Bearer` token.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};

use super::app::{App, error, json_response, read_body};
use super::log::Which;
use super::model::{Model, clip};
use super::state::{Refused, Variant};

// Its former path, `serve::admin::constant_time_eq`, keeps working.
pub use super::app::constant_time_eq;

/// Largest admin upload (a bundle), whatever `max_body_bytes` says.
pub const MAX_BUNDLE_BYTES: usize = 64 * 1024 * 1024;

/// Shortest admin token accepted, in bytes: 32 random hex digits carry 128
/// bits, beyond guessing at any request rate.
pub const MIN_TOKEN_BYTES: usize = 32;

/// The admin token read from the variable `var` is long enough (an empty
/// one turns the admin API off and passes).
///
/// # Errors
/// A token shorter than [`MIN_TOKEN_BYTES`], naming the variable (never
/// the token).
pub fn check_token(var: &str, token: &str) -> crate::error::Result<()> {
    if token.is_empty() || token.len() >= MIN_TOKEN_BYTES {
        return Ok(());
    }
    Err(crate::error::Error::usage(format!(
        "the admin token in {var} is {} bytes long; use at least {MIN_TOKEN_BYTES} random bytes, like the output of `openssl rand -hex 32`",
        token.len()
    )))
}

/// `None` when the request may use the admin API, else the refusal.
fn deny(app: &App, headers: &HeaderMap) -> Option<Response> {
    if !app.admin_on() {
        return Some(error(
            StatusCode::NOT_FOUND,
            "the admin API is off: start the server with the variable named by [serve].admin_token_env set",
        ));
    }
    if app.is_admin(headers) {
        return None;
    }
    let mut r = error(
        StatusCode::UNAUTHORIZED,
        "missing or wrong admin token: send Authorization: Bearer <token>",
    );
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    Some(r)
}

fn refused(r: Refused) -> Response {
    match r {
        Refused::Conflict(m) => error(StatusCode::CONFLICT, &m),
        Refused::Invalid(m) => error(StatusCode::BAD_REQUEST, &m),
        Refused::NotFound(m) => error(StatusCode::NOT_FOUND, &m),
        Refused::Storage(m) => error(StatusCode::SERVICE_UNAVAILABLE, &m),
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| char::from(c).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of `key` in a query string.
fn query(uri: &axum::http::Uri, key: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (decode(k) == key).then(|| decode(v))
    })
}

fn slot_of(uri: &axum::http::Uri) -> Result<Variant, String> {
    match query(uri, "slot") {
        None => Ok(Variant::Champion),
        Some(s) => Variant::parse(&s)
            .ok_or_else(|| format!("slot \"{}\" is not champion or challenger", clip(&s))),
    }
}

/// `GET /admin/models`.
pub async fn list(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Some(r) = deny(&app, &headers) {
        return r;
    }
    json_response(StatusCode::OK, &app.models.describe())
}

/// `PUT /admin/models/{name}?slot=...` with a bundle body.
pub async fn put_model(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    if let Some(r) = deny(&app, &parts.headers) {
        return r;
    }
    let slot = match slot_of(&parts.uri) {
        Ok(s) => s,
        Err(m) => return error(StatusCode::BAD_REQUEST, &m),
    };
    let text = |h: header::HeaderName| {
        parts
            .headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().trim_matches('"').to_string())
    };
    let if_match = if_match(&parts.headers);
    let if_none_match = text(header::IF_NONE_MATCH).is_some_and(|v| v == "*");
    let bytes = match read_body(&parts.headers, body, MAX_BUNDLE_BYTES).await {
        Ok(b) => b,
        Err(e) => return error(e.status(), &e.message()),
    };
    let state = app.state.get().cloned();
    let expected = name.clone();
    let strict = app.strict_features;
    let loaded = tokio::task::spawn_blocking(move || {
        let b = crate::bundle::read(&bytes, "the uploaded bundle")?;
        let m = Model::from_bundle(b)?.strict(strict);
        // Kept before any slot names it, so a restart restores it.
        if let Some(st) = state
            && m.name == expected
        {
            st.save_bundle(&bytes)
                .map_err(crate::error::Error::Remote)?;
        }
        Ok::<_, crate::error::Error>(m)
    })
    .await;
    let model = match loaded {
        Ok(Ok(m)) => m,
        Ok(Err(crate::error::Error::Remote(e))) => {
            return error(StatusCode::SERVICE_UNAVAILABLE, &e);
        }
        Ok(Err(e)) => return error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
        Err(_) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "loading the bundle failed",
            );
        }
    };
    if model.name != name {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!(
                "the bundle holds model \"{}\" but the URL names \"{}\"; PUT it to /admin/models/{}",
                model.name,
                clip(&name),
                model.name
            ),
        );
    }
    match app
        .models
        .put(model, slot, if_match.as_deref(), if_none_match)
    {
        Ok(m) => json_response(
            StatusCode::OK,
            &json!({
                "name": m.name,
                "slot": slot.as_str(),
                "version": m.version,
                "sha256": m.sha256,
                "loaded_at": m.loaded_at_rfc3339(),
            }),
        ),
        Err(r) => refused(r),
    }
}

/// `DELETE /admin/models/{name}?slot=challenger|champion`, optionally
/// with `If-Match: <version>`. The slot must be named: removing the
/// champion unloads it (the server is not ready until a new one comes).
pub async fn delete_model(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    if let Some(r) = deny(&app, req.headers()) {
        return r;
    }
    let if_match = if_match(req.headers());
    let slot = match query(req.uri(), "slot") {
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                "name the slot to remove: DELETE /admin/models/NAME?slot=challenger or ?slot=champion",
            );
        }
        Some(_) => match slot_of(req.uri()) {
            Ok(s) => s,
            Err(m) => return error(StatusCode::BAD_REQUEST, &m),
        },
    };
    match app.models.remove(&name, slot, if_match.as_deref()) {
        Ok(one) => json_response(StatusCode::OK, &json!({"models": [one]})),
        Err(r) => refused(r),
    }
}

/// The `If-Match` version, unquoted.
fn if_match(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().trim_matches('"').to_string())
}

/// `PUT /admin/traffic` `{"challenger_percent": N, "model"?: name}`,
/// optionally with `If-Match: <the challenger's version>`.
pub async fn traffic(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    if let Some(r) = deny(&app, &parts.headers) {
        return r;
    }
    let bytes = match read_body(&parts.headers, body, app.max_body).await {
        Ok(b) => b,
        Err(e) => return error(e.status(), &e.message()),
    };
    let doc: serde_json::Map<String, Json> = match serde_json::from_slice(&bytes) {
        Ok(d) => d,
        Err(e) => return error(StatusCode::BAD_REQUEST, &super::rest::malformed(&e).0),
    };
    if let Some(k) = doc
        .keys()
        .find(|k| !["challenger_percent", "model"].contains(&k.as_str()))
    {
        return error(
            StatusCode::BAD_REQUEST,
            &format!(
                "unknown key \"{}\"; send challenger_percent and optionally model",
                clip(k)
            ),
        );
    }
    let Some(p) = doc.get("challenger_percent").and_then(Json::as_i64) else {
        return error(
            StatusCode::BAD_REQUEST,
            "the body needs \"challenger_percent\": an integer from 0 to 100",
        );
    };
    let model = match doc.get("model") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.as_str()),
        Some(_) => return error(StatusCode::BAD_REQUEST, "\"model\" must be a string"),
    };
    match app
        .models
        .set_traffic_if(model, p, if_match(&parts.headers).as_deref())
    {
        Ok(one) => json_response(StatusCode::OK, &json!({"models": [one]})),
        Err(r) => refused(r),
    }
}

/// `POST /admin/promote[?model=NAME]`, optionally with `If-Match: <the
/// challenger's version>`.
pub async fn promote(State(app): State<Arc<App>>, req: Request) -> Response {
    if let Some(r) = deny(&app, req.headers()) {
        return r;
    }
    let model = query(req.uri(), "model");
    match app
        .models
        .promote_if(model.as_deref(), if_match(req.headers()).as_deref())
    {
        Ok(one) => json_response(StatusCode::OK, &json!({"models": [one]})),
        Err(r) => refused(r),
    }
}

/// `POST /admin/rollback[?model=NAME]`, optionally with `If-Match: <the
/// champion's version>` (the one rolled back).
pub async fn rollback(State(app): State<Arc<App>>, req: Request) -> Response {
    if let Some(r) = deny(&app, req.headers()) {
        return r;
    }
    let model = query(req.uri(), "model");
    match app
        .models
        .rollback_if(model.as_deref(), if_match(req.headers()).as_deref())
    {
        Ok(one) => json_response(StatusCode::OK, &json!({"models": [one]})),
        Err(r) => refused(r),
    }
}

/// `GET /admin/abtest/export[?experiment=current|all]`: CSV
/// `variant,key,value,version,planned_share,experiment`.
pub async fn export(State(app): State<Arc<App>>, req: Request) -> Response {
    if let Some(r) = deny(&app, req.headers()) {
        return r;
    }
    let which = match query(req.uri(), "experiment").as_deref() {
        None | Some("current") => Which::Experiments(app.models.experiments()),
        Some("all") => Which::All,
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("experiment \"{}\" is not current or all", clip(other)),
            );
        }
    };
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"))],
        app.feedback.export_csv(&which),
    )
        .into_response()
}

/// `POST /admin/abtest/reset`: forget every observation (and every
/// remembered request), to start the experiment anew.
pub async fn reset(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Some(r) = deny(&app, &headers) {
        return r;
    }
    match app.feedback.reset() {
        Ok(n) => json_response(StatusCode::OK, &json!({"removed": n})),
        Err(m) => error(StatusCode::SERVICE_UNAVAILABLE, &m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values() {
        let uri: axum::http::Uri = "/a?slot=challenger&model=house%2Dprice".parse().unwrap();
        assert_eq!(query(&uri, "slot").as_deref(), Some("challenger"));
        assert_eq!(query(&uri, "model").as_deref(), Some("house-price"));
        assert_eq!(query(&uri, "x"), None);
        assert_eq!(decode("a%2"), "a%2");
    }

    /// Review L16: an admin token shorter than 32 bytes is refused at
    /// start (exit 2), naming the variable and the length, never the token.
    #[test]
    fn l16_a_short_admin_token_is_refused_naming_its_variable() {
        let e = check_token("MLOPS_ADMIN_TOKEN", "s3cret").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.to_string(),
            "the admin token in MLOPS_ADMIN_TOKEN is 6 bytes long; use at least 32 random bytes, like the output of `openssl rand -hex 32`"
        );
        assert!(check_token("V", &"x".repeat(MIN_TOKEN_BYTES)).is_ok());
        assert!(check_token("V", "").is_ok(), "empty: the admin API is off");
    }
}
