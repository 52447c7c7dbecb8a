//! The server's state folder (`[serve].state_dir`, `--state-dir`): what the
//! server was given survives a restart, and is restored before it listens.
//!
//! - `bundles/SHA256.tar.gz`: each bundle uploaded through the admin API,
//!   written (temp + fsync + rename) before any slot names it; removed once
//!   no slot does.
//! - `slots.json`: per model name its champion, challenger and previous
//!   (version, sha256, bundle file) and the challenger's share; rewritten
//!   atomically before each change takes effect, so a change that cannot be
//!   saved is refused and the server keeps what it had.
//! - `observations.jsonl`: the A/B observations, one JSON line each,
//!   appended before the feedback is acknowledged and synced to disk in the
//!   background at most [`SYNC_EVERY`] later (and at shutdown); a reset
//!   replaces it atomically with an empty file. A last line cut short by a
//!   crash is dropped on restore.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::log::{Journal, Observation, Served};
use super::model::Model;
use super::state::{Slots, Table, Variant};
use crate::error::{Error, Result, display_path};

/// How long an appended observation may wait for its fsync.
pub const SYNC_EVERY: Duration = Duration::from_millis(200);

const SLOTS: &str = "slots.json";
const BUNDLES: &str = "bundles";
const OBSERVATIONS: &str = "observations.jsonl";

/// One slot in `slots.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct SlotFile {
    version: String,
    sha256: String,
    /// `bundles/SHA.tar.gz`, or `None` for a model that did not come
    /// through the admin API (`--model`, `--env`): not restored.
    bundle: Option<String>,
}

/// One model name in `slots.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    name: String,
    champion: Option<SlotFile>,
    challenger: Option<SlotFile>,
    previous: Option<SlotFile>,
    challenger_percent: u8,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct StateFile {
    format: u32,
    models: Vec<ModelFile>,
}

/// One line of `observations.jsonl`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObservationLine {
    variant: String,
    key: String,
    value: f64,
    version: String,
    share_percent: u8,
    experiment: String,
}

/// What a state folder held.
#[derive(Debug, Default)]
pub struct Restored {
    /// The slots.
    pub table: Table,
    /// The observations, in the order they came.
    pub observations: Vec<Observation>,
    /// What is worth a line (slots not restored, a torn last line).
    pub notes: Vec<String>,
}

/// An open state folder.
#[derive(Debug)]
pub struct StateDir {
    dir: PathBuf,
    journal: Mutex<File>,
    dirty: AtomicBool,
    strict_features: bool,
}

fn io(what: &str, path: &Path, e: &std::io::Error) -> String {
    format!(
        "cannot {what} {}: {}; check the disk and the state folder's permissions",
        display_path(path),
        crate::error::io_reason(e)
    )
}

impl StateDir {
    /// Open (creating) `dir`.
    ///
    /// # Errors
    /// The folder or its observation file cannot be created (exit 2).
    pub fn open(dir: &Path) -> Result<Arc<StateDir>> {
        StateDir::open_with(dir, false)
    }

    /// Open (creating) `dir`; the models it restores get `[serve]
    /// strict_features`.
    ///
    /// # Errors
    /// As [`StateDir::open`].
    pub fn open_with(dir: &Path, strict_features: bool) -> Result<Arc<StateDir>> {
        let bundles = dir.join(BUNDLES);
        std::fs::create_dir_all(&bundles).map_err(|e| {
            Error::usage(format!(
                "{}; or choose another --state-dir",
                io("create", &bundles, &e)
            ))
        })?;
        let path = dir.join(OBSERVATIONS);
        let journal = open_append(&path).map_err(|e| {
            Error::usage(format!(
                "{}; or choose another --state-dir",
                io("open", &path, &e)
            ))
        })?;
        Ok(Arc::new(StateDir {
            dir: dir.to_path_buf(),
            journal: Mutex::new(journal),
            dirty: AtomicBool::new(false),
            strict_features,
        }))
    }

    /// The folder.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Keep an uploaded bundle (its bytes as uploaded) under its sha256.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn save_bundle(&self, bytes: &[u8]) -> std::result::Result<(), String> {
        let path = self.bundle_path(&crate::bundle::sha256_hex(bytes));
        // A killed upload's temporary file goes even when nothing is written.
        crate::fsutil::remove_stale_temps_in(&self.dir.join(BUNDLES));
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
            return Ok(());
        }
        crate::fsutil::write_atomic(&path, bytes).map_err(|e| e.to_string())?;
        self.sync_dir(&self.dir.join(BUNDLES));
        Ok(())
    }

    fn bundle_path(&self, sha: &str) -> PathBuf {
        self.dir.join(BUNDLES).join(format!("{sha}.tar.gz"))
    }

    fn sync_dir(&self, dir: &Path) {
        // Makes the rename durable; where a folder cannot be opened
        // (some platforms), the rename is still atomic.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }

    /// Save the slots of `table` (before it takes effect), then remove the
    /// bundles no slot names any more.
    ///
    /// # Errors
    /// `slots.json` cannot be written.
    pub fn save_table(&self, table: &Table) -> std::result::Result<(), String> {
        let slot = |m: Option<&Arc<Model>>| {
            m.map(|m| {
                let file = self.bundle_path(&m.sha256);
                SlotFile {
                    version: m.version.clone(),
                    sha256: m.sha256.clone(),
                    bundle: file
                        .exists()
                        .then(|| format!("{BUNDLES}/{}.tar.gz", m.sha256)),
                }
            })
        };
        let doc = StateFile {
            format: 1,
            models: table
                .iter()
                .map(|(name, s)| ModelFile {
                    name: name.clone(),
                    champion: slot(s.champion.as_ref()),
                    challenger: slot(s.challenger.as_ref()),
                    previous: slot(s.previous.as_ref()),
                    challenger_percent: s.challenger_percent,
                })
                .collect(),
        };
        let mut text = serde_json::to_vec_pretty(&doc).map_err(|e| e.to_string())?;
        text.push(b'\n');
        crate::fsutil::write_atomic(&self.dir.join(SLOTS), &text).map_err(|e| e.to_string())?;
        self.sync_dir(&self.dir);
        self.collect_garbage(&doc);
        Ok(())
    }

    /// Remove the bundles `doc` does not name.
    fn collect_garbage(&self, doc: &StateFile) {
        let keep: BTreeSet<String> = doc
            .models
            .iter()
            .flat_map(|m| [&m.champion, &m.challenger, &m.previous])
            .flatten()
            .filter_map(|s| s.bundle.clone())
            .collect();
        let Ok(entries) = std::fs::read_dir(self.dir.join(BUNDLES)) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".tar.gz") && !keep.contains(&format!("{BUNDLES}/{name}")) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// Fsync the observations appended since the last sync.
    pub fn sync(&self) {
        if self.dirty.swap(false, Ordering::AcqRel) {
            let f = self
                .journal
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if f.sync_data().is_err() {
                self.dirty.store(true, Ordering::Release);
            }
        }
    }

    /// Read what the folder holds.
    ///
    /// # Errors
    /// `slots.json` or a bundle it names is unreadable or does not verify,
    /// or an observation line (other than a torn last one) is malformed
    /// (exit 3): the message names the file and what to do.
    pub fn restore(&self) -> Result<Restored> {
        let mut r = Restored::default();
        let slots = self.dir.join(SLOTS);
        match std::fs::read(&slots) {
            Ok(bytes) => self.restore_slots(&slots, &bytes, &mut r)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("read", &slots, &e)),
        }
        self.restore_observations(&mut r)?;
        Ok(r)
    }

    fn restore_slots(&self, path: &Path, bytes: &[u8], r: &mut Restored) -> Result<()> {
        let doc: StateFile = serde_json::from_slice(bytes).map_err(|e| {
            Error::data(format!(
                "{}:{}: not the server's state ({e}); move the state folder away to start empty",
                display_path(path),
                e.line()
            ))
        })?;
        for m in doc.models {
            let mut s = Slots {
                challenger_percent: m.challenger_percent.min(100),
                ..Slots::default()
            };
            for (slot, file) in [
                (Some(Variant::Champion), &m.champion),
                (Some(Variant::Challenger), &m.challenger),
                (None, &m.previous),
            ] {
                let Some(file) = file else { continue };
                let what = slot.map_or("previous", Variant::as_str);
                let Some(model) = self.load_slot(&m.name, what, file, r)? else {
                    continue;
                };
                match slot {
                    Some(Variant::Champion) => s.champion = Some(model),
                    Some(Variant::Challenger) => s.challenger = Some(model),
                    None => s.previous = Some(model),
                }
            }
            if s.challenger.is_none() {
                s.challenger_percent = 0;
            }
            if s.champion.is_some() || s.challenger.is_some() || s.previous.is_some() {
                r.table.insert(m.name, s);
            }
        }
        Ok(())
    }

    /// The model of one saved slot; `None` (with a note) when it did not
    /// come from a bundle the folder holds.
    fn load_slot(
        &self,
        name: &str,
        what: &str,
        file: &SlotFile,
        r: &mut Restored,
    ) -> Result<Option<Arc<Model>>> {
        let Some(rel) = &file.bundle else {
            r.notes.push(format!(
                "state: the {what} of {name} ({}) was not uploaded through the admin API, so it is not restored",
                file.version
            ));
            return Ok(None);
        };
        let path = self.dir.join(rel);
        let bytes = std::fs::read(&path).map_err(|e| {
            Error::data(format!(
                "{}; slots.json names it for the {what} of {name}; move the state folder away to start empty",
                io("read", &path, &e)
            ))
        })?;
        let origin = display_path(&path);
        let model =
            Model::from_bundle(crate::bundle::read(&bytes, &origin)?)?.strict(self.strict_features);
        if model.name != name || model.sha256 != file.sha256 {
            return Err(Error::data(format!(
                "{origin} holds {} {} (sha256 {}) but slots.json expects {name} {} (sha256 {}); move the state folder away to start empty",
                model.name, model.version, model.sha256, file.version, file.sha256
            )));
        }
        Ok(Some(Arc::new(model)))
    }

    fn restore_observations(&self, r: &mut Restored) -> Result<()> {
        let path = self.dir.join(OBSERVATIONS);
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("read", &path, &e)),
        };
        let complete = text.ends_with(b"\n") || text.is_empty();
        let mut lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
        if complete {
            lines.pop();
        } else {
            lines.pop();
            r.notes.push(format!(
                "state: the last line of {} was cut short (a crash while writing it) and is dropped",
                display_path(&path)
            ));
        }
        for (i, line) in lines.iter().enumerate() {
            let o = parse_observation(line).ok_or_else(|| {
                Error::data(format!(
                    "{}:{}: not an observation line; remove the line (or the file) and restart",
                    display_path(&path),
                    i + 1
                ))
            })?;
            r.observations.push(o);
        }
        if !complete {
            // Rewrite without the torn line so new lines start clean.
            let mut w = Vec::new();
            for l in &lines {
                w.extend_from_slice(l);
                w.push(b'\n');
            }
            crate::fsutil::write_atomic(&path, &w)?;
            let f = open_append(&path).map_err(|e| Error::io("open", &path, &e))?;
            *self
                .journal
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = f;
        }
        Ok(())
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

fn parse_observation(line: &[u8]) -> Option<Observation> {
    let l: ObservationLine = serde_json::from_slice(line).ok()?;
    if l.share_percent > 100 || !l.value.is_finite() {
        return None;
    }
    Some(Observation {
        served: Served {
            variant: Variant::parse(&l.variant)?,
            version: Arc::from(l.version.as_str()),
            share_percent: l.share_percent,
            experiment: Arc::from(l.experiment.as_str()),
        },
        key: l.key,
        value: l.value,
    })
}

impl Journal for StateDir {
    fn append(&self, o: &Observation) -> std::result::Result<(), String> {
        let line = ObservationLine {
            variant: o.served.variant.as_str().to_string(),
            key: o.key.clone(),
            value: o.value,
            version: o.served.version.to_string(),
            share_percent: o.served.share_percent,
            experiment: o.served.experiment.to_string(),
        };
        let mut bytes = serde_json::to_vec(&line).map_err(|e| e.to_string())?;
        bytes.push(b'\n');
        let path = self.dir.join(OBSERVATIONS);
        let mut f = self
            .journal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f.write_all(&bytes).map_err(|e| io("write", &path, &e))?;
        self.dirty.store(true, Ordering::Release);
        Ok(())
    }

    fn clear(&self) -> std::result::Result<(), String> {
        let path = self.dir.join(OBSERVATIONS);
        let mut f = self
            .journal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        crate::fsutil::write_atomic(&path, b"").map_err(|e| e.to_string())?;
        self.sync_dir(&self.dir);
        *f = open_append(&path).map_err(|e| io("open", &path, &e))?;
        self.dirty.store(false, Ordering::Release);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::log::{Feedback, Subject, Which};
    use crate::serve::state::Models;

    fn bundle(version: &str) -> Vec<u8> {
        crate::serve::model::tests::toy_bundle(version)
    }

    #[test]
    fn slots_and_observations_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let st = StateDir::open(dir.path()).unwrap();
        let ms = Models::new();
        let saver = Arc::clone(&st);
        ms.set_saver(Box::new(move |t| saver.save_table(t)));
        let (b1, b2) = (bundle("v1.0.0"), bundle("v1.1.0"));
        for (b, slot) in [(&b1, Variant::Champion), (&b2, Variant::Challenger)] {
            st.save_bundle(b).unwrap();
            let m = Model::from_bundle(crate::bundle::read(b, "b").unwrap()).unwrap();
            ms.put(m, slot, None, false).unwrap();
        }
        ms.set_traffic(None, 30).unwrap();
        let f = Feedback::default();
        f.persist(Vec::new(), Arc::clone(&st) as Arc<dyn Journal>);
        let (m, v) = ms
            .route(
                None,
                crate::serve::state::Choice::Force(Variant::Challenger),
            )
            .unwrap();
        f.served("r1", Some("alice"), &ms.served(&m, v).unwrap());
        f.record(&Subject::Request("r1".into()), 2.5).unwrap();
        st.sync();
        let csv = f.export_csv(&Which::All);
        drop((f, st));

        // A new process: the same slots, split and observations.
        let st = StateDir::open(dir.path()).unwrap();
        let r = st.restore().unwrap();
        assert!(r.notes.is_empty(), "{:?}", r.notes);
        let s = &r.table["toy"];
        assert_eq!(s.champion.as_ref().unwrap().version, "v1.0.0");
        assert_eq!(s.challenger.as_ref().unwrap().version, "v1.1.0");
        assert_eq!(s.challenger_percent, 30);
        let f = Feedback::default();
        f.persist(r.observations, Arc::clone(&st) as Arc<dyn Journal>);
        assert_eq!(f.export_csv(&Which::All), csv);
        assert!(
            csv.ends_with("challenger,alice,2.5,v1.1.0,0.3,toy:v1.0.0/v1.1.0\n"),
            "{csv}"
        );

        // A promote drops the old champion's bundle once nothing names it.
        ms.promote(None).unwrap();
        ms.promote(None).unwrap_err();
        let n = std::fs::read_dir(dir.path().join(BUNDLES)).unwrap().count();
        assert_eq!(n, 2, "champion and previous");
        ms.update(|t| {
            t.get_mut("toy").unwrap().previous = None;
            Ok(())
        })
        .unwrap();
        let n = std::fs::read_dir(dir.path().join(BUNDLES)).unwrap().count();
        assert_eq!(n, 1);

        // A reset empties the file.
        assert_eq!(f.reset().unwrap(), 1);
        assert_eq!(st.restore().unwrap().observations.len(), 0);
    }

    #[test]
    fn a_change_that_cannot_be_saved_is_refused_and_changes_nothing() {
        let ms = Models::new();
        ms.put(
            crate::serve::model::tests::toy("error"),
            Variant::Champion,
            None,
            false,
        )
        .unwrap();
        ms.set_saver(Box::new(|_| Err("disk full".into())));
        assert_eq!(
            ms.set_traffic(None, 30),
            Err(crate::serve::state::Refused::Storage("disk full".into()))
        );
        assert_eq!(ms.snapshot()["toy"].challenger_percent, 0);
        let f = Feedback::default();
        f.persist(Vec::new(), Arc::new(Full) as Arc<dyn Journal>);
        let (m, v) = ms.route(None, crate::serve::state::Choice::Split).unwrap();
        f.served("r1", None, &ms.served(&m, v).unwrap());
        assert!(matches!(
            f.record(&Subject::Request("r1".into()), 1.0),
            Err(crate::serve::log::NotRecorded::Storage(_))
        ));
        assert_eq!(f.export_csv(&Which::All).lines().count(), 1);
        assert!(f.reset().is_err());
    }

    /// A journal on a full disk.
    #[derive(Debug)]
    struct Full;

    impl Journal for Full {
        fn append(&self, _: &Observation) -> std::result::Result<(), String> {
            Err("disk full".into())
        }
        fn clear(&self) -> std::result::Result<(), String> {
            Err("disk full".into())
        }
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_a_bad_one_named() {
        let dir = tempfile::tempdir().unwrap();
        let line = r#"{"variant":"champion","key":"k","value":1.0,"version":"v1","share_percent":90,"experiment":"m:v1/v2"}"#;
        std::fs::write(
            dir.path().join(OBSERVATIONS),
            format!("{line}\n{line}\n{{\"variant\":\"cha"),
        )
        .unwrap();
        let st = StateDir::open(dir.path()).unwrap();
        let r = st.restore().unwrap();
        assert_eq!(r.observations.len(), 2);
        assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
        let again = st.restore().unwrap();
        assert_eq!((again.observations.len(), again.notes.len()), (2, 0));

        std::fs::write(dir.path().join(OBSERVATIONS), format!("{line}\nnope\n")).unwrap();
        let e = StateDir::open(dir.path()).unwrap().restore().unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(
            e.to_string()
                .contains("observations.jsonl:2: not an observation"),
            "{e}"
        );

        std::fs::write(dir.path().join(SLOTS), "{").unwrap();
        let e = StateDir::open(dir.path()).unwrap().restore().unwrap_err();
        assert!(
            e.to_string()
                .contains("slots.json:1: not the server's state"),
            "{e}"
        );
    }
}
