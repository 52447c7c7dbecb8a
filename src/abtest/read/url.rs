//! Fetching the rows over HTTP(S): one GET with timeouts (and the bearer
//! token, when `--token-env` names a set variable), a non-2xx answer is an
//! error naming the status and, for 401/403, the token's variable.

use crate::abtest::settings::Bearer;
use crate::data::{Timeouts, UrlBody, http_client, redact_url, timeouts, why_failed};
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
/// return its body as a reader; the timeouts are [`timeouts`]'.
pub(super) fn fetch(url: &str, bearer: &Bearer) -> Result<UrlBody> {
    fetch_with(url, bearer, timeouts()?)
}

/// [`fetch`] with other timeouts.
pub(super) fn fetch_with(url: &str, bearer: &Bearer, t: Timeouts) -> Result<UrlBody> {
    let client = http_client(t)?;
    let mut req = client.get(url);
    if let Some(t) = bearer.token() {
        req = req.bearer_auth(t);
    }
    let shown = redact_url(url);
    let resp = req.send().map_err(|e| {
        Error::Remote(format!(
            "cannot fetch {shown}: {}; check that the server is up and the URL is right",
            why_failed(&e, t)
        ))
    })?;
    let status = resp.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(Error::Remote(format!(
            "{shown} answered HTTP {status}: {}",
            token_hint(bearer)
        )));
    }
    if !status.is_success() {
        return Err(Error::Remote(format!(
            "{shown} answered HTTP {status}; check the URL (and the token, if it needs one)"
        )));
    }
    Ok(UrlBody::new(resp, url, t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::time::Duration;

    /// L15: the fetch waits on an idle server for the read timeout, not a
    /// total 300 s; the error names the URL (redacted) and the timeout.
    #[test]
    fn a_stalled_export_times_out_naming_the_url() {
        let t = Timeouts {
            connect: Duration::from_secs(1),
            read: Duration::from_secs(1),
        };
        let bearer = Bearer::new("MLOPS_TEST_UNSET_TOKEN_VAR", None);
        let url = crate::data::stalling_server("", Duration::from_secs(10));
        let e = fetch_with(&url, &bearer, t).err().unwrap().to_string();
        assert!(
            e.contains("/rows.csv?…: timed out: no answer within 1 s (the read timeout, MLOPS_HTTP_IDLE_TIMEOUT_S)")
                && !e.contains("s3cret"),
            "{e}"
        );
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nvariant,y\n";
        let url = crate::data::stalling_server(head, Duration::from_secs(10));
        let mut body = fetch_with(&url, &bearer, t).unwrap();
        let e = body.read_to_end(&mut Vec::new()).unwrap_err().to_string();
        assert!(
            e.contains("timed out: no data for 1 s (the read timeout, MLOPS_HTTP_IDLE_TIMEOUT_S)"),
            "{e}"
        );
    }
}
