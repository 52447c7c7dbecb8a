//! Checks of `[serve]`: the defaults of `mlops serve`.

use crate::error::Result;
use crate::project::check::rules::valid_env_name;
use crate::project::locate::Source;
use crate::project::types::ServeSection;

/// `[serve]`: an address and port, a token variable name, positive limits.
pub(super) fn check_serve(sv: &ServeSection, src: Source<'_>) -> Result<()> {
    let err = |key: &str, msg: &str| src.key_or_header_error("serve", key, msg);
    if let Some(b) = &sv.bind
        && crate::project::bind::parse_bind(b).is_none()
    {
        return Err(err(
            "bind",
            &format!(
                "= \"{b}\" is not an address and port, like \"127.0.0.1:8080\", \"localhost:8080\" or \"8080\""
            ),
        ));
    }
    if let Some(v) = &sv.admin_token_env
        && !valid_env_name(v)
    {
        return Err(err(
            "admin_token_env",
            &format!(
                "= \"{v}\" is not an environment variable name; name the variable, never put the token itself here"
            ),
        ));
    }
    for (key, v) in [
        ("max_body_bytes", sv.max_body_bytes),
        ("log_max_bytes", sv.log_max_bytes),
        ("max_batch_rows", sv.max_batch_rows.map(|n| n as u64)),
    ] {
        if v == Some(0) {
            return Err(err(key, "must be at least 1"));
        }
    }
    if let Some(n) = sv.log_keep {
        super::prediction_log::check_log_keep(n, &err)?;
    }
    if let Some(s) = sv.timeout_s
        && !(s > 0.0 && s.is_finite())
    {
        return Err(err(
            "timeout_s",
            &format!("= {s} must be a number of seconds above 0"),
        ));
    }
    Ok(())
}
