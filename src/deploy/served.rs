//! Confirm that `mlops serve --env` really serves what a `local` deploy
//! switched to (review finding M3).
//!
//! The server's folder watcher writes `PATH/.served.json`
//! ([`crate::serve::watch::STATUS_FILE`]) after each change: its pid, the
//! state it serves and its last failure. After switching the links, the
//! `local` target waits until that file reports the new state. No file,
//! or a pid that no longer runs, means no server watches the folder and
//! there is nothing to confirm; a server that does not load the new state
//! within [`WAIT`] fails the deploy (and the links are put back).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::target::Check;
use crate::error::display_path;
use crate::serve::watch::{STATUS_FILE, state_of};

/// How long a deploy waits for a watching server to load a new state.
pub const WAIT: Duration = Duration::from_secs(15);

fn read_status(root: &Path) -> Option<Value> {
    let bytes = std::fs::read(root.join(STATUS_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Whether process `pid` runs (on Linux; elsewhere it is assumed to).
fn alive(pid: u64) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// Wait up to `wait` for the server watching `root` (if any) to serve the
/// folder's current links and traffic. `Ok(None)`: no server watches.
///
/// # Errors
/// The server did not report the new state in time: what it serves, its
/// last error, and what to do.
pub fn confirm(root: &Path, wait: Duration) -> std::result::Result<Option<Check>, String> {
    let Some(first) = read_status(root) else {
        return Ok(None);
    };
    let Some(pid) = first
        .get("pid")
        .and_then(Value::as_u64)
        .filter(|p| alive(*p))
    else {
        return Ok(None);
    };
    let want = state_of(root);
    let deadline = Instant::now() + wait;
    let mut last = first;
    loop {
        if last.get("pid").and_then(Value::as_u64) == Some(pid) && last["serving"] == want {
            let what = want["current"].as_str().unwrap_or("nothing");
            return Ok(Some(Check::pass(
                "served",
                format!("mlops serve (pid {pid}) serves {what}"),
            )));
        }
        if Instant::now() >= deadline {
            let error = last["error"]
                .as_str()
                .map_or(String::new(), |e| format!("; its last error: {e}"));
            return Err(format!(
                "mlops serve (pid {pid}), which watches {}, did not load the new release within {} s{error}; \
                 fix the server (or, if no server watches this folder any more, remove {})",
                display_path(root),
                wait.as_secs(),
                display_path(&root.join(STATUS_FILE))
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
        last = read_status(root).unwrap_or(Value::Null);
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn link(root: &Path, name: &str, target: &str) {
        std::fs::create_dir_all(root.join(target)).unwrap();
        std::os::unix::fs::symlink(target, root.join(name)).unwrap();
    }

    #[test]
    fn nothing_to_confirm_without_a_live_server() {
        let dir = tempfile::tempdir().unwrap();
        link(dir.path(), "current", "releases/v1");
        assert!(matches!(confirm(dir.path(), Duration::ZERO), Ok(None)));
        // A status file left by a process that is gone: nobody watches.
        let doc = serde_json::json!({"pid": u32::MAX, "serving": null});
        std::fs::write(dir.path().join(STATUS_FILE), doc.to_string()).unwrap();
        assert!(matches!(confirm(dir.path(), Duration::ZERO), Ok(None)));
    }

    #[test]
    fn a_watching_server_must_report_the_new_state() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        link(root, "current", "releases/v2");
        let old = serde_json::json!({"pid": std::process::id(),
            "serving": {"current": "releases/v1", "challenger": null, "challenger_percent": 0},
            "error": "cannot read models/toy.json"});
        std::fs::write(root.join(STATUS_FILE), old.to_string()).unwrap();
        let e = confirm(root, Duration::from_millis(300)).unwrap_err();
        assert!(
            e.contains("did not load the new release") && e.contains("cannot read models/toy.json"),
            "{e}"
        );
        let new = serde_json::json!({"pid": std::process::id(),
            "serving": {"current": "releases/v2", "challenger": null, "challenger_percent": 0},
            "error": null});
        std::fs::write(root.join(STATUS_FILE), new.to_string()).unwrap();
        let c = confirm(root, Duration::ZERO).unwrap().unwrap();
        assert!(c.detail.contains("releases/v2"), "{}", c.detail);
    }
}
