//! Fetching the rows over HTTP(S): one GET with timeouts (and the bearer
//! token, when `--token-env` names a set variable), a non-2xx answer is an
//! error naming the status and, for 401/403, the token's variable.

use crate::abtest::settings::Bearer;
use crate::error::{Error, Result};

/// What to do about a refused token, naming its variable.
fn token_hint(bearer: &Bearer) -> String {
    match bearer.token() {
        Some(_) => format!(
            "the token in {} was refused; set it to the server's admin token",
            bearer.var
        ),
        None => format!(
            "{} is not set; export the server's admin token in it (or name another variable with --token-env)",
            bearer.var
        ),
    }
}

/// Fetch a URL (with `Authorization: Bearer` when `bearer` is set) and
/// return its body as a reader.
pub(super) fn fetch(url: &str, bearer: &Bearer) -> Result<reqwest::blocking::Response> {
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(300))
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| Error::Remote(format!("cannot start an HTTP client: {e}")))?;
    let mut req = client.get(url);
    if let Some(t) = bearer.token() {
        req = req.bearer_auth(t);
    }
    let resp = req.send().map_err(|e| {
        let why = if e.is_timeout() {
            "timed out".to_string()
        } else if e.is_connect() {
            "the connection was refused or failed".to_string()
        } else {
            e.to_string()
        };
        Error::Remote(format!(
            "cannot fetch {url}: {why}; check that the server is up and the URL is right"
        ))
    })?;
    let status = resp.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(Error::Remote(format!(
            "{url} answered HTTP {status}: {}",
            token_hint(bearer)
        )));
    }
    if !status.is_success() {
        return Err(Error::Remote(format!(
            "{url} answered HTTP {status}; check the URL (and the token, if it needs one)"
        )));
    }
    Ok(resp)
}
