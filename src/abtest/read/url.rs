//! Fetching the rows over HTTP(S): one GET with timeouts, a non-2xx answer
//! is an error naming the status.

use crate::error::{Error, Result};

/// Fetch a URL and return its body as a reader.
pub(super) fn fetch(url: &str) -> Result<reqwest::blocking::Response> {
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(300))
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| Error::Remote(format!("cannot start an HTTP client: {e}")))?;
    let resp = client.get(url).send().map_err(|e| {
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
    if !status.is_success() {
        return Err(Error::Remote(format!(
            "{url} answered HTTP {status}; check the URL (and the token, if it needs one)"
        )));
    }
    Ok(resp)
}
