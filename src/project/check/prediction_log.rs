//! Checks of `[serve.prediction_log]`: which keys go with which sink, an
//! Elasticsearch URL and index name, credential variables (names only,
//! never the secrets), and rotation sizes.

use crate::error::{Error, Result};
use crate::project::check::rules::valid_env_name;
use crate::project::locate::Source;
use crate::project::types::{LogSink, PredictionLogSection, PredictionLogSetting, ServeSection};

const SECTION: &str = "serve.prediction_log";

/// `[serve] prediction_log`: a path, or a table whose keys fit its sink.
pub(super) fn check_prediction_log(sv: &ServeSection, src: Source<'_>) -> Result<()> {
    let Some(setting) = &sv.prediction_log else {
        return Ok(());
    };
    let t = match setting {
        PredictionLogSetting::Path(p) if p.as_os_str().is_empty() => {
            return Err(src.key_or_header_error(
                "serve",
                "prediction_log",
                "is empty; give a file path, or a [serve.prediction_log] table",
            ));
        }
        PredictionLogSetting::Path(_) => return Ok(()),
        PredictionLogSetting::Table(t) => t,
    };
    let err = |key: &str, msg: &str| src.key_or_header_error(SECTION, key, msg);
    for key in ["log_max_bytes", "log_keep"] {
        let (outer, inner) = match key {
            "log_max_bytes" => (sv.log_max_bytes.is_some(), t.log_max_bytes.is_some()),
            _ => (sv.log_keep.is_some(), t.log_keep.is_some()),
        };
        if outer && inner {
            return Err(err(
                key,
                &format!(
                    "is also set in [serve]; keep one of [serve].{key} and [serve.prediction_log].{key}"
                ),
            ));
        }
    }
    if t.log_max_bytes == Some(0) {
        return Err(err("log_max_bytes", "must be at least 1"));
    }
    if let Some(n) = t.log_keep {
        check_log_keep(n, &err)?;
    }
    if t.buffer_lines == Some(0) {
        return Err(err("buffer_lines", "must be at least 1"));
    }
    let sink = t.sink.unwrap_or_default();
    check_keys_fit_sink(t, sink, &err)?;
    if sink == LogSink::Elasticsearch {
        check_elasticsearch(t, &err)?;
    }
    Ok(())
}

/// Most rotated files `log_keep` may keep: each rotation renames them all.
pub const MAX_LOG_KEEP: u32 = 1000;

/// `log_keep` at most [`MAX_LOG_KEEP`].
pub(super) fn check_log_keep(n: u32, err: &impl Fn(&str, &str) -> Error) -> Result<()> {
    if n > MAX_LOG_KEEP {
        return Err(err(
            "log_keep",
            &format!(
                "= {n} is more than {MAX_LOG_KEEP}; each rotation renames every kept file, so keep at most {MAX_LOG_KEEP} (raise log_max_bytes to keep more lines)"
            ),
        ));
    }
    Ok(())
}

/// Keys that belong to another sink are errors, not silently ignored.
fn check_keys_fit_sink(
    t: &PredictionLogSection,
    sink: LogSink,
    err: &impl Fn(&str, &str) -> Error,
) -> Result<()> {
    let name = sink.as_str();
    match sink {
        LogSink::File if t.path.is_none() => {
            return Err(err(
                "path",
                "is missing: sink = \"file\" (the default) writes to this JSON Lines file; add path = \"logs/predictions.jsonl\"",
            ));
        }
        LogSink::Stdout | LogSink::Elasticsearch if t.path.is_some() => {
            return Err(err(
                "path",
                &format!(
                    "is for sink = \"file\"; with sink = \"{name}\" remove it (ship the file with Vector or Fluent Bit instead, see docs/monitoring.md)"
                ),
            ));
        }
        _ => {}
    }
    if sink != LogSink::Elasticsearch {
        let es_keys = [
            ("url", t.url.is_some()),
            ("index", t.index.is_some()),
            ("dead_letter", t.dead_letter.is_some()),
            ("api_key_env", t.api_key_env.is_some()),
            ("username_env", t.username_env.is_some()),
            ("password_env", t.password_env.is_some()),
            ("buffer_lines", t.buffer_lines.is_some()),
        ];
        if let Some((key, _)) = es_keys.iter().find(|(_, set)| *set) {
            return Err(err(
                key,
                &format!(
                    "is for sink = \"elasticsearch\"; with sink = \"{name}\" remove it, or set sink = \"elasticsearch\""
                ),
            ));
        }
    }
    Ok(())
}

/// `url`, `index` and `dead_letter` given; credentials named by variables.
fn check_elasticsearch(t: &PredictionLogSection, err: &impl Fn(&str, &str) -> Error) -> Result<()> {
    let Some(url) = &t.url else {
        return Err(err(
            "url",
            "is missing: sink = \"elasticsearch\" needs the cluster's URL, like \"https://es.example.com:9200\"",
        ));
    };
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            if !u.username().is_empty() || u.password().is_some() {
                return Err(err(
                    "url",
                    "holds credentials; remove them from the URL and name the variables holding them in username_env and password_env (or api_key_env)",
                ));
            }
        }
        _ => {
            return Err(err(
                "url",
                &format!(
                    "= \"{url}\" is not an http:// or https:// URL with a host, like \"https://es.example.com:9200\""
                ),
            ));
        }
    }
    let Some(index) = &t.index else {
        return Err(err(
            "index",
            "is missing: name the index or data stream the lines go to, like \"mlops-predictions\"",
        ));
    };
    if let Some(why) = bad_index_name(index) {
        return Err(err("index", &format!("= \"{index}\" {why}")));
    }
    if t.dead_letter.is_none() {
        return Err(err(
            "dead_letter",
            "is missing: sink = \"elasticsearch\" needs a JSON Lines file for the lines it cannot deliver, like \"logs/predictions.dead.jsonl\"",
        ));
    }
    for (key, v) in [
        ("api_key_env", &t.api_key_env),
        ("username_env", &t.username_env),
        ("password_env", &t.password_env),
    ] {
        if let Some(v) = v
            && !valid_env_name(v)
        {
            return Err(err(
                key,
                &format!(
                    "= \"{v}\" is not an environment variable name; name the variable, never put the secret itself here"
                ),
            ));
        }
    }
    if t.api_key_env.is_some() && (t.username_env.is_some() || t.password_env.is_some()) {
        return Err(err(
            "api_key_env",
            "is set together with username_env/password_env; use an API key or a user name and password, not both",
        ));
    }
    if t.username_env.is_some() != t.password_env.is_some() {
        let missing = if t.username_env.is_none() {
            "username_env"
        } else {
            "password_env"
        };
        return Err(err(
            missing,
            "is missing: basic authentication needs both username_env and password_env",
        ));
    }
    Ok(())
}

/// Why `name` cannot be an Elasticsearch index or data stream name.
fn bad_index_name(name: &str) -> Option<&'static str> {
    if name.is_empty() || name == "." || name == ".." {
        return Some("is not an index name");
    }
    if name.len() > 255 {
        return Some("is longer than 255 bytes");
    }
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        return Some("has upper-case letters; Elasticsearch index names are lower case");
    }
    if name.starts_with(['-', '_', '+']) {
        return Some("starts with -, _ or +, which Elasticsearch refuses");
    }
    if name.chars().any(|c| {
        matches!(
            c,
            '\\' | '/' | '*' | '?' | '"' | '<' | '>' | '|' | ',' | '#' | ':' | ' '
        )
    }) {
        return Some(
            "holds a character Elasticsearch refuses in index names (\\ / * ? \" < > | , # : or a space)",
        );
    }
    None
}
