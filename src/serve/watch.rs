//! `mlops serve --env NAME`: serve a local environment folder and follow it.
//!
//! The folder (see `docs/serving.md`) has `releases/<version>/` folders,
//! a `current` link to the champion, an optional `challenger` link and an
//! optional `traffic.json`. The watcher looks every ~500 ms; when a link
//! target or `traffic.json` changes it loads the release (checking every
//! file against `manifest.json`) and swaps it in. A release that fails to
//! load is reported and the old model keeps serving; the load is tried
//! again with a backoff (0.5 s doubling to 30 s) until it succeeds or the
//! folder changes, so a passing failure (EMFILE, EIO, a permission fixed a
//! moment later) does not leave the old model serving for good.
//!
//! After each change the watcher writes `PATH/.served.json` (see
//! [`STATUS_FILE`]): its pid, what it serves and the last failure. The
//! `local` deploy target reads it back to confirm that the server really
//! serves what was deployed; the server removes it when it stops.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bundle::{self, Entry};
use crate::error::{Error, Result, display_path};

use super::model::Model;
use super::state::Models;

/// What the watcher saw in the folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    current: Option<PathBuf>,
    challenger: Option<PathBuf>,
    traffic: Option<Vec<u8>>,
}

/// Look at the folder: where the links point and what `traffic.json` says.
#[must_use]
pub fn look(root: &Path) -> Seen {
    Seen {
        current: std::fs::read_link(root.join("current")).ok(),
        challenger: std::fs::read_link(root.join("challenger")).ok(),
        traffic: std::fs::read(root.join("traffic.json")).ok(),
    }
}

/// Load a release folder: `manifest.json` and every file it lists, each
/// checked against its sha256. The model's `sha256` is that of the
/// release's `manifest.json` (which pins every file's).
///
/// # Errors
/// A missing or altered file, a bad manifest or artifact ([`Error::Data`]).
pub fn load_release(dir: &Path) -> Result<Model> {
    let origin = display_path(dir);
    // Where the release really is: files must stay inside it.
    let root = std::fs::canonicalize(dir).map_err(|e| {
        Error::data(format!(
            "release {origin}: cannot open it ({}); redeploy it",
            crate::error::io_reason(&e)
        ))
    })?;
    let mut budget = bundle::MAX_UNPACKED;
    let mut read = |rel: &str| {
        let bytes = read_inside(&root, rel, budget)
            .map_err(|why| Error::data(format!("release {origin}: {rel} {why}; redeploy it")))?;
        budget = budget.saturating_sub(bytes.len() as u64);
        Ok::<_, Error>(bytes)
    };
    let manifest = read("manifest.json")?;
    let doc: serde_json::Value = serde_json::from_slice(&manifest).map_err(|e| {
        Error::data(format!(
            "release {origin}: manifest.json is not valid JSON ({e}); redeploy it"
        ))
    })?;
    let mut files = BTreeMap::new();
    if let Some(listed) = doc.get("files").and_then(serde_json::Value::as_object) {
        for rel in listed.keys() {
            let safe = !rel.starts_with('/')
                && rel
                    .split('/')
                    .all(|c| !c.is_empty() && c != ".." && c != ".");
            if !safe {
                return Err(Error::data(format!(
                    "release {origin}: manifest.json lists {rel}, which is not a plain relative path"
                )));
            }
            files.insert(rel.clone(), read(rel)?);
        }
    }
    files.insert("manifest.json".to_string(), manifest.clone());
    // Pack the files as a bundle in memory, so one reader does every check.
    let entries: Vec<Entry> = files
        .into_iter()
        .map(|(path, bytes)| Entry { path, bytes })
        .collect();
    let packed =
        bundle::build(&entries, 0).map_err(|e| Error::data(format!("release {origin}: {e}")))?;
    let mut b = bundle::read(&packed, &format!("release {origin}"))?;
    b.sha256 = bundle::sha256_hex(&manifest);
    Model::from_bundle(b)
}

/// Read the file `rel` of the release at `root` (a canonical path): a
/// regular file, inside the release even through links, at most `budget`
/// bytes (what is left of the bundle's unpacked limit). The error says why
/// not, to follow the file's name.
fn read_inside(root: &Path, rel: &str, budget: u64) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    let reason = |e: &std::io::Error| format!("cannot be read ({})", crate::error::io_reason(e));
    let real = std::fs::canonicalize(root.join(rel)).map_err(|e| reason(&e))?;
    if !real.starts_with(root) {
        return Err(format!(
            "is a link that leads out of the release (to {})",
            real.display()
        ));
    }
    let f = std::fs::File::open(&real).map_err(|e| reason(&e))?;
    let meta = f.metadata().map_err(|e| reason(&e))?;
    if !meta.is_file() {
        return Err("is not a regular file".to_string());
    }
    if meta.len() > budget {
        return Err(format!(
            "is {} bytes, past the {} MiB a release may hold",
            meta.len(),
            bundle::MAX_UNPACKED >> 20
        ));
    }
    let mut bytes = Vec::new();
    f.take(budget + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| reason(&e))?;
    if bytes.len() as u64 > budget {
        return Err(format!(
            "grew past the {} MiB a release may hold while it was read",
            bundle::MAX_UNPACKED >> 20
        ));
    }
    Ok(bytes)
}

fn traffic_percent(bytes: Option<&[u8]>) -> std::result::Result<u8, String> {
    let Some(bytes) = bytes else { return Ok(0) };
    let doc: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("traffic.json is not valid JSON ({e})"))?;
    doc.get("challenger_percent")
        .and_then(serde_json::Value::as_u64)
        .and_then(|p| u8::try_from(p).ok())
        .filter(|p| *p <= 100)
        .ok_or_else(|| "traffic.json needs \"challenger_percent\": 0 to 100".to_string())
}

/// The status file the watcher writes in the environment folder.
pub const STATUS_FILE: &str = ".served.json";

/// First retry delay after a failed load; it doubles up to [`RETRY_MAX`].
pub const RETRY_FIRST: Duration = Duration::from_millis(500);
/// Longest delay between two tries of a failed load.
pub const RETRY_MAX: Duration = Duration::from_secs(30);

/// A state that failed to load, and when to try it again.
#[derive(Debug)]
struct Retry {
    seen: Seen,
    attempts: u32,
    next: Instant,
}

/// The folder watcher's memory: what it saw and the models it loaded.
#[derive(Debug)]
pub struct Watcher {
    /// The folder.
    pub root: PathBuf,
    /// The first retry delay (tests set it to zero).
    pub retry_first: Duration,
    seen: Option<Seen>,
    retry: Option<Retry>,
    loaded: BTreeMap<PathBuf, Arc<Model>>,
    /// `[serve] strict_features`, given to every model it loads.
    pub strict_features: bool,
}

fn link_text(p: Option<&PathBuf>) -> serde_json::Value {
    p.map_or(serde_json::Value::Null, |p| {
        serde_json::Value::String(p.to_string_lossy().into_owned())
    })
}

/// Remove the status file, when this process wrote it: the server stops.
pub fn forget(root: &Path) {
    let p = root.join(STATUS_FILE);
    let ours = std::fs::read(&p)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|d| d.get("pid").and_then(serde_json::Value::as_u64))
        == Some(u64::from(std::process::id()));
    if ours {
        let _ = std::fs::remove_file(p);
    }
}

/// The folder's links and traffic as the status file records a state.
#[must_use]
pub fn state_of(root: &Path) -> serde_json::Value {
    state_json(Some(&look(root)))
}

/// The state `seen` as the status file records it.
fn state_json(seen: Option<&Seen>) -> serde_json::Value {
    let Some(s) = seen else {
        return serde_json::Value::Null;
    };
    serde_json::json!({
        "current": link_text(s.current.as_ref()),
        "challenger": link_text(s.challenger.as_ref()),
        "challenger_percent": if s.challenger.is_some() {
            traffic_percent(s.traffic.as_deref()).unwrap_or(0)
        } else {
            0
        },
    })
}

/// What a look at the folder led to.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    /// Nothing changed.
    None,
    /// Nothing is deployed yet (no `current` link).
    Empty,
    /// The models or split were swapped in; a summary.
    Swapped(String),
    /// The new state could not be loaded; the old one keeps serving.
    Failed(String),
}

impl Watcher {
    /// A watcher of `root`.
    #[must_use]
    pub fn new(root: PathBuf) -> Watcher {
        Watcher {
            root,
            retry_first: RETRY_FIRST,
            seen: None,
            retry: None,
            loaded: BTreeMap::new(),
            strict_features: false,
        }
    }

    /// Write the status file: what is served, and the last failure (with
    /// the state that failed). A folder that cannot be written is left
    /// as it is: deploys then see no watching server.
    fn write_status(&self, error: Option<&str>) {
        let doc = serde_json::json!({
            "pid": std::process::id(),
            "serving": state_json(self.seen.as_ref()),
            "error": error,
            "failed": state_json(self.retry.as_ref().map(|r| &r.seen)),
        });
        let _ =
            crate::fsutil::write_atomic(&self.root.join(STATUS_FILE), doc.to_string().as_bytes());
    }

    fn model(&mut self, link: &Path) -> std::result::Result<Arc<Model>, String> {
        let dir = self.root.join(link);
        if let Some(m) = self.loaded.get(&dir) {
            return Ok(Arc::clone(m));
        }
        let m = load_release(&dir).map_err(|e| e.to_string())?;
        let m = Arc::new(m.strict(self.strict_features));
        self.loaded.insert(dir, Arc::clone(&m));
        Ok(m)
    }

    /// Look once and apply a change to `models`.
    pub fn poll(&mut self, models: &Models) -> Change {
        let seen = look(&self.root);
        if self.seen.as_ref() == Some(&seen) {
            if self.retry.take().is_some() {
                self.write_status(None);
            }
            return Change::None;
        }
        if let Some(r) = &self.retry
            && r.seen == seen
            && Instant::now() < r.next
        {
            return Change::None;
        }
        let Some(current) = &seen.current else {
            self.seen = Some(seen);
            self.retry = None;
            self.write_status(None);
            return Change::Empty;
        };
        let applied = (|| {
            let champion = self.model(current)?;
            let challenger = seen
                .challenger
                .as_ref()
                .map(|c| self.model(c))
                .transpose()?;
            let percent = if challenger.is_some() {
                traffic_percent(seen.traffic.as_deref())?
            } else {
                0
            };
            if let Some(c) = &challenger
                && c.name != champion.name
            {
                return Err(format!(
                    "the challenger is model {} but the champion is {}",
                    c.name, champion.name
                ));
            }
            let summary = match &challenger {
                Some(c) => format!(
                    "{} {} (champion), {} (challenger, {percent}%)",
                    champion.name, champion.version, c.version
                ),
                None => format!("{} {}", champion.name, champion.version),
            };
            models.set_release(champion, challenger, percent);
            Ok(summary)
        })();
        // Keep only what is in use, so old releases can be pruned from memory.
        let keep: Vec<PathBuf> = [&seen.current, &seen.challenger]
            .into_iter()
            .flatten()
            .map(|l| self.root.join(l))
            .collect();
        self.loaded.retain(|p, _| keep.contains(p));
        match applied {
            Ok(s) => {
                self.seen = Some(seen);
                self.retry = None;
                self.write_status(None);
                Change::Swapped(s)
            }
            Err(e) => {
                let attempts = match &self.retry {
                    Some(r) if r.seen == seen => r.attempts.saturating_add(1),
                    _ => 1,
                };
                let wait = self
                    .retry_first
                    .saturating_mul(1u32 << (attempts - 1).min(16))
                    .min(RETRY_MAX);
                self.retry = Some(Retry {
                    seen,
                    attempts,
                    next: Instant::now() + wait,
                });
                let msg = format!(
                    "{}: {e}; the previous model keeps serving (try {attempts}, next in {:.1} s)",
                    display_path(&self.root),
                    wait.as_secs_f64()
                );
                self.write_status(Some(&msg));
                Change::Failed(msg)
            }
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::serve::model::tests::toy;
    use crate::serve::state::{Choice, Variant};

    /// Write a release folder for a toy model at `version`.
    fn release(root: &Path, version: &str) {
        let art = toy("error").artifact.to_json();
        let dir = root.join("releases").join(version);
        std::fs::create_dir_all(dir.join("models")).unwrap();
        std::fs::write(dir.join("models/toy.json"), &art).unwrap();
        std::fs::write(dir.join("mlops.toml"), "").unwrap();
        let manifest = serde_json::json!({
            "name": "toy", "version": version, "commit": "0",
            "files": {"models/toy.json": bundle::sha256_hex(art.as_bytes()), "mlops.toml": bundle::sha256_hex(b"")}
        });
        std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    }

    fn link(root: &Path, name: &str, version: &str) {
        let tmp = root.join(".tmp-link");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(format!("releases/{version}"), &tmp).unwrap();
        std::fs::rename(&tmp, root.join(name)).unwrap();
    }

    #[test]
    fn follows_links_and_traffic() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let models = Models::new();
        let mut w = Watcher::new(root.to_path_buf());
        assert_eq!(w.poll(&models), Change::Empty);
        release(root, "v1.0.0");
        release(root, "v1.1.0");
        link(root, "current", "v1.0.0");
        assert_eq!(w.poll(&models), Change::Swapped("toy v1.0.0".into()));
        assert_eq!(w.poll(&models), Change::None);
        link(root, "challenger", "v1.1.0");
        std::fs::write(root.join("traffic.json"), r#"{"challenger_percent": 100}"#).unwrap();
        assert!(matches!(w.poll(&models), Change::Swapped(s) if s.contains("challenger, 100%")));
        assert_eq!(
            models.route(None, Choice::Key("k")).unwrap().1,
            Variant::Challenger
        );
        // An altered file: refused, the old state serves on.
        release(root, "v2.0.0");
        std::fs::write(root.join("releases/v2.0.0/models/toy.json"), "{}").unwrap();
        link(root, "current", "v2.0.0");
        match w.poll(&models) {
            Change::Failed(e) => assert!(e.contains("sha256"), "{e}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            models
                .route(None, Choice::Force(Variant::Champion))
                .unwrap()
                .0
                .version,
            "v1.0.0"
        );
        link(root, "current", "v1.1.0");
        std::fs::remove_file(root.join("challenger")).unwrap();
        assert_eq!(w.poll(&models), Change::Swapped("toy v1.1.0".into()));
        let d = models.describe();
        assert_eq!(d["models"][0]["previous"]["version"], "v1.0.0");
        assert_eq!(d["models"][0]["challenger"], serde_json::Value::Null);
    }

    /// L11: a release file that is a link out of the release, a device, or
    /// a `.` path is refused, like the same thing in a bundle.
    #[test]
    fn a_release_file_leading_out_of_the_release_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        release(root, "v1.0.0");
        let rel = root.join("releases/v1.0.0");
        assert!(load_release(&rel).is_ok());
        // A link to a file outside, with the same bytes (so only the link
        // is wrong).
        let art = rel.join("models/toy.json");
        let outside = root.join("toy-outside.json");
        std::fs::rename(&art, &outside).unwrap();
        std::os::unix::fs::symlink(&outside, &art).unwrap();
        let e = load_release(&rel).unwrap_err().to_string();
        assert!(
            e.contains("models/toy.json is a link that leads out of the release"),
            "{e}"
        );
        // A link to a device: not a regular file (never read to the end).
        std::fs::remove_file(&art).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &art).unwrap();
        let e = load_release(&rel).unwrap_err().to_string();
        assert!(e.contains("leads out of the release"), "{e}");
        // A link inside the release is fine.
        std::fs::remove_file(&art).unwrap();
        std::fs::rename(&outside, rel.join("models/real.json")).unwrap();
        std::os::unix::fs::symlink("real.json", &art).unwrap();
        assert!(load_release(&rel).is_ok());
        // A "." component in the manifest.
        let m = std::fs::read_to_string(rel.join("manifest.json")).unwrap();
        std::fs::write(
            rel.join("manifest.json"),
            m.replace("\"models/toy.json\"", "\"./models/toy.json\""),
        )
        .unwrap();
        let e = load_release(&rel).unwrap_err().to_string();
        assert!(
            e.contains("./models/toy.json, which is not a plain relative path"),
            "{e}"
        );
        // A file past the size limit (sparse: no disk used).
        release(root, "v1.1.0");
        let big = root.join("releases/v1.1.0/mlops.toml");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(bundle::MAX_UNPACKED + 1).unwrap();
        let e = load_release(&root.join("releases/v1.1.0"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("mlops.toml is 268435457 bytes, past the 256 MiB"),
            "{e}"
        );
    }

    fn status(root: &Path) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(root.join(STATUS_FILE)).unwrap()).unwrap()
    }

    /// M3: a release that fails to load for a passing reason is tried
    /// again (after a backoff) instead of being remembered as seen.
    #[test]
    fn a_failed_load_is_retried_until_it_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let models = Models::new();
        let mut w = Watcher::new(root.to_path_buf());
        release(root, "v1.0.0");
        link(root, "current", "v1.0.0");
        assert_eq!(w.poll(&models), Change::Swapped("toy v1.0.0".into()));
        assert_eq!(status(root)["serving"]["current"], "releases/v1.0.0");
        assert_eq!(status(root)["pid"], std::process::id());
        release(root, "v2.0.0");
        let art = root.join("releases/v2.0.0/models/toy.json");
        let aside = root.join("toy.json.aside");
        std::fs::rename(&art, &aside).unwrap();
        link(root, "current", "v2.0.0");
        assert!(matches!(w.poll(&models), Change::Failed(e) if e.contains("try 1")));
        // The backoff holds the next try back.
        assert_eq!(w.poll(&models), Change::None);
        let st = status(root);
        assert_eq!(st["serving"]["current"], "releases/v1.0.0");
        assert_eq!(st["failed"]["current"], "releases/v2.0.0");
        assert!(st["error"].as_str().unwrap().contains("models/toy.json"));
        // Without a delay, each poll tries again; once the file is back it loads.
        w.retry_first = Duration::ZERO;
        std::thread::sleep(RETRY_FIRST);
        assert!(matches!(w.poll(&models), Change::Failed(e) if e.contains("try 2")));
        std::fs::rename(&aside, &art).unwrap();
        assert_eq!(w.poll(&models), Change::Swapped("toy v2.0.0".into()));
        assert_eq!(w.poll(&models), Change::None);
        let st = status(root);
        assert_eq!(st["serving"]["current"], "releases/v2.0.0");
        assert_eq!(st["error"], serde_json::Value::Null);
        forget(root);
        assert!(!root.join(STATUS_FILE).exists());
    }

    /// M3 as the review wrote it: an unreadable file (only meaningful when
    /// not root, since root reads it anyway).
    #[test]
    fn an_unreadable_file_is_retried_once_readable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        release(root, "v1.0.0");
        let art = root.join("releases/v1.0.0/models/toy.json");
        std::fs::set_permissions(&art, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&art).is_ok() {
            eprintln!(
                "skipped: running as root, chmod 000 does not stop reads (see a_failed_load_is_retried_until_it_succeeds)"
            );
            return;
        }
        let models = Models::new();
        let mut w = Watcher::new(root.to_path_buf());
        w.retry_first = Duration::ZERO;
        link(root, "current", "v1.0.0");
        assert!(matches!(w.poll(&models), Change::Failed(_)));
        std::fs::set_permissions(&art, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(w.poll(&models), Change::Swapped("toy v1.0.0".into()));
    }
}
