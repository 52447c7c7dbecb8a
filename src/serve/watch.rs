//! `mlops serve --env NAME`: serve a local environment folder and follow it.
//!
//! The folder (see `docs/serving.md`) has `releases/<version>/` folders,
//! a `current` link to the champion, an optional `challenger` link and an
//! optional `traffic.json`. The watcher looks every ~500 ms; when a link
//! target or `traffic.json` changes it loads the release (checking every
//! file against `manifest.json`) and swaps it in. A release that fails to
//! load is reported and the old model keeps serving.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    let read = |rel: &str| {
        let p = dir.join(rel);
        std::fs::read(&p).map_err(|e| {
            Error::data(format!(
                "release {origin}: cannot read {rel} ({}); redeploy it",
                crate::error::io_reason(&e)
            ))
        })
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
            let safe = !rel.starts_with('/') && rel.split('/').all(|c| !c.is_empty() && c != "..");
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

/// The folder watcher's memory: what it saw and the models it loaded.
#[derive(Debug, Default)]
pub struct Watcher {
    /// The folder.
    pub root: PathBuf,
    seen: Option<Seen>,
    loaded: BTreeMap<PathBuf, Arc<Model>>,
    /// `[serve] strict_features`, given to every model it loads.
    pub strict_features: bool,
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
            seen: None,
            loaded: BTreeMap::new(),
            strict_features: false,
        }
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
            return Change::None;
        }
        self.seen = Some(seen.clone());
        let Some(current) = &seen.current else {
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
            Ok(s) => Change::Swapped(s),
            Err(e) => Change::Failed(format!(
                "{}: {e}; the previous model keeps serving",
                display_path(&self.root)
            )),
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
}
