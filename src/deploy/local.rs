//! The `local` target: a folder that `mlops serve --env NAME` watches
//! (`SERVE_DEPLOY_CONTRACT.md`).
//!
//! ```text
//! PATH/releases/<version>/   an unpacked, verified bundle (temp folder renamed into place)
//! PATH/current               relative symlink to the champion's release, replaced atomically
//! PATH/challenger            the same for a canary; absent without one
//! PATH/traffic.json          {"challenger_percent": N}; absent means 0
//! PATH/.lock                 the deploy lock (an OS lock on the file, plus the holder's pid)
//! PATH/.served.json          written by `mlops serve --env`: what it serves (read back after a switch)
//! ```
//!
//! The lock is an advisory OS lock (`flock`), so the kernel releases it
//! when the holder exits, even when it is killed: a lock file left behind
//! by a dead process is stale by construction and the next deploy takes it.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::phase::{Phased, Requests};
use super::smoke;
use super::target::{Check, Job, Live, Step, Target};
use crate::bundle::{self, Bundle};
use crate::error::{Error, Result, display_path, io_reason};
use crate::project::{EnvironmentSection, Project, TargetKind};

/// Releases kept by default.
pub const DEFAULT_KEEP: u32 = 5;

/// A local environment folder.
#[derive(Debug)]
pub struct Local {
    root: PathBuf,
    env_name: String,
    keep: usize,
    lock: Option<std::fs::File>,
}

/// The links and traffic file as they were, to put back.
struct Saved {
    current: Option<PathBuf>,
    challenger: Option<PathBuf>,
    traffic: Option<Vec<u8>>,
}

impl Local {
    /// The environment `env_name` of `project`.
    pub fn new(project: &Project, env_name: &str, env: &EnvironmentSection) -> Result<Local> {
        let path = env.path.as_ref().ok_or_else(|| {
            Error::usage(format!(
                "environments.{env_name} has no path; add the folder to deploy into"
            ))
        })?;
        Ok(Local {
            root: project.resolve(path),
            env_name: env_name.to_string(),
            keep: env.keep.unwrap_or(DEFAULT_KEEP).max(1) as usize,
            lock: None,
        })
    }

    fn releases(&self) -> PathBuf {
        self.root.join("releases")
    }

    fn link_target(&self, slot: &str) -> Option<PathBuf> {
        std::fs::read_link(self.root.join(slot)).ok()
    }

    /// The version named by `slot/manifest.json`.
    fn version_of(&self, slot: &str) -> Result<Option<String>> {
        if self.link_target(slot).is_none() {
            return Ok(None);
        }
        let p = self.root.join(slot).join("manifest.json");
        let bytes = std::fs::read(&p).map_err(|e| {
            Error::Remote(format!(
                "{} links to a release that cannot be read ({}); repair the environment with `mlops rollback {} --to VERSION`",
                display_path(&self.root.join(slot)),
                io_reason(&e),
                self.env_name
            ))
        })?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
            Error::Remote(format!(
                "{} is not valid JSON ({e}); repair the environment with `mlops rollback {} --to VERSION`",
                display_path(&p),
                self.env_name
            ))
        })?;
        Ok(v.get("version").and_then(Value::as_str).map(str::to_string))
    }

    fn save(&self) -> Saved {
        Saved {
            current: self.link_target("current"),
            challenger: self.link_target("challenger"),
            traffic: std::fs::read(self.root.join("traffic.json")).ok(),
        }
    }

    fn restore(&self, s: &Saved) -> Result<()> {
        self.set_link("current", s.current.as_deref())?;
        self.set_link("challenger", s.challenger.as_deref())?;
        match &s.traffic {
            Some(b) => crate::fsutil::write_atomic(&self.root.join("traffic.json"), b),
            None => remove_if_present(&self.root.join("traffic.json")),
        }
    }

    /// Point `slot` at `target` (relative), atomically: a temporary link
    /// renamed over the old one. `None` removes the link.
    fn set_link(&self, slot: &str, target: Option<&Path>) -> Result<()> {
        let link = self.root.join(slot);
        let Some(target) = target else {
            remove_if_present(&link)?;
            crate::fsutil::sync_dir(&self.root);
            return Ok(());
        };
        let tmp = self.root.join(format!(".{slot}.tmp"));
        remove_if_present(&tmp)?;
        symlink(target, &tmp).map_err(|e| Error::io("create the link", &tmp, &e))?;
        std::fs::rename(&tmp, &link).map_err(|e| Error::io("replace the link", &link, &e))?;
        // The switch survives a power loss before the tag that records it.
        crate::fsutil::sync_dir(&self.root);
        Ok(())
    }

    fn set_traffic(&self, percent: u8) -> Result<()> {
        let p = self.root.join("traffic.json");
        if percent == 0 {
            return remove_if_present(&p);
        }
        crate::fsutil::write_atomic(
            &p,
            format!("{{\"challenger_percent\": {percent}}}\n").as_bytes(),
        )
    }

    /// `releases/<version>` holding exactly the bundle's files: reused when
    /// intact, else unpacked into a temporary folder and renamed into place.
    fn ensure_release(&self, b: &Bundle) -> Result<PathBuf> {
        let rel = PathBuf::from("releases").join(&b.version);
        let dir = self.root.join(&rel);
        if dir.is_dir() {
            if verify_release(&dir, b).is_ok() {
                touch(&dir);
                return Ok(rel);
            }
            let aside =
                self.releases()
                    .join(format!(".broken-{}-{}", b.version, std::process::id()));
            std::fs::rename(&dir, &aside).map_err(|e| Error::io("move aside", &dir, &e))?;
            let _ = std::fs::remove_dir_all(&aside);
        }
        let releases = self.releases();
        std::fs::create_dir_all(&releases)
            .map_err(|e| Error::io("create the folder", &releases, &e))?;
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempdir_in(&releases)
            .map_err(|e| Error::io("create a temporary folder in", &releases, &e))?;
        let mut dirs = std::collections::BTreeSet::new();
        for (path, bytes) in &b.files {
            let p = tmp.path().join(path);
            // Errors name the file where it will be, not the temporary
            // folder (which is removed on the way out).
            let shown = dir.join(path);
            if let Some(d) = p.parent() {
                std::fs::create_dir_all(d).map_err(|e| {
                    Error::io("create the folder", shown.parent().unwrap_or(&dir), &e)
                })?;
                set_mode(d, 0o755);
                dirs.insert(d.to_path_buf());
            }
            let mut f = std::fs::File::create(&p).map_err(|e| Error::io("write", &shown, &e))?;
            f.write_all(bytes)
                .and_then(|()| f.sync_all())
                .map_err(|e| Error::io("write", &shown, &e))?;
        }
        set_mode(tmp.path(), 0o755);
        // Deepest first, so every folder's entries are durable before the
        // rename publishes them.
        for d in dirs.iter().rev() {
            crate::fsutil::sync_dir(d);
        }
        crate::fsutil::sync_dir(tmp.path());
        let kept = tmp.keep();
        std::fs::rename(&kept, &dir).map_err(|e| {
            let _ = std::fs::remove_dir_all(&kept);
            Error::io("move the release into place at", &dir, &e)
        })?;
        crate::fsutil::sync_dir(&releases);
        Ok(rel)
    }

    /// Check `slot` after the switch: it names the version, its files match
    /// the manifest, and its artifact predicts the smoke rows as the bundle's does.
    fn verify(&self, slot: &str, job: &Job<'_>) -> std::result::Result<Vec<Check>, String> {
        let b = job.bundle;
        let dir = self.root.join(slot);
        let got = self.version_of(slot).map_err(|e| e.to_string())?;
        if got.as_deref() != Some(b.version.as_str()) {
            return Err(format!(
                "{} names version {} instead of {}",
                display_path(&dir),
                got.as_deref().unwrap_or("none"),
                b.version
            ));
        }
        let mut checks = vec![Check::pass(
            "link",
            format!("{slot} → releases/{}", b.version),
        )];
        let n = verify_release(&dir, b)?;
        checks.push(Check::pass(
            "release",
            format!("{n} files match manifest.json"),
        ));
        checks.push(smoke_check(&dir, job)?);
        if let Step::Canary(p) = job.step {
            let t: Value = std::fs::read(self.root.join("traffic.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or(Value::Null);
            if t.get("challenger_percent").and_then(Value::as_u64) != Some(u64::from(p)) {
                return Err(format!("traffic.json does not read challenger_percent {p}"));
            }
            checks.push(Check::pass("traffic", format!("{p}% to the challenger")));
        }
        if let Some(c) = super::served::confirm(&self.root, super::served::WAIT)? {
            checks.push(c);
        }
        Ok(checks)
    }

    /// Remove releases beyond `keep`, oldest first, never a linked one.
    fn prune(&self) {
        let linked: Vec<PathBuf> = ["current", "challenger"]
            .iter()
            .filter_map(|s| self.link_target(s))
            .filter_map(|t| t.file_name().map(PathBuf::from))
            .collect();
        let Ok(rd) = std::fs::read_dir(self.releases()) else {
            return;
        };
        let mut dirs: Vec<(std::time::SystemTime, PathBuf)> = rd
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .filter_map(|e| {
                let t = e.metadata().and_then(|m| m.modified()).ok()?;
                Some((t, e.path()))
            })
            .collect();
        dirs.sort();
        let mut extra = dirs.len().saturating_sub(self.keep);
        for (_, d) in dirs {
            if extra == 0 {
                break;
            }
            if d.file_name().is_some_and(|n| linked.iter().any(|l| l == n)) {
                continue;
            }
            if std::fs::remove_dir_all(&d).is_ok() {
                extra -= 1;
            }
        }
    }

    fn run(&self, job: &Job<'_>) -> std::result::Result<Vec<Check>, String> {
        let slot = match job.step {
            Step::Canary(p) => {
                let rel = self.ensure_release(job.bundle).map_err(|e| e.to_string())?;
                self.set_link("challenger", Some(&rel))
                    .map_err(|e| e.to_string())?;
                self.set_traffic(p).map_err(|e| e.to_string())?;
                "challenger"
            }
            Step::Replace { drop_challenger } => {
                let rel = self.ensure_release(job.bundle).map_err(|e| e.to_string())?;
                self.set_link("current", Some(&rel))
                    .map_err(|e| e.to_string())?;
                if drop_challenger {
                    self.drop_challenger().map_err(|e| e.to_string())?;
                }
                "current"
            }
            Step::Promote => {
                let rel = self.ensure_release(job.bundle).map_err(|e| e.to_string())?;
                self.set_link("current", Some(&rel))
                    .map_err(|e| e.to_string())?;
                self.drop_challenger().map_err(|e| e.to_string())?;
                "current"
            }
            Step::DropChallenger => {
                self.drop_challenger().map_err(|e| e.to_string())?;
                "current"
            }
        };
        self.verify(slot, job)
    }

    fn drop_challenger(&self) -> Result<()> {
        self.set_traffic(0)?;
        self.set_link("challenger", None)
    }
}

impl Target for Local {
    fn kind(&self) -> TargetKind {
        TargetKind::Local
    }

    fn location(&self) -> String {
        display_path(&self.root)
    }

    fn lock(&mut self) -> Result<()> {
        self.lock = Some(flock(&self.root, &self.env_name)?);
        // Leftovers of a run that died half-way.
        if let Ok(rd) = std::fs::read_dir(self.releases()) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if n.starts_with(".tmp-") || n.starts_with(".broken-") {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        for slot in ["current", "challenger"] {
            let _ = remove_if_present(&self.root.join(format!(".{slot}.tmp")));
        }
        Ok(())
    }

    fn live(&mut self) -> Result<Live> {
        let percent = std::fs::read(self.root.join("traffic.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v.get("challenger_percent").and_then(Value::as_u64))
            .map_or(0, |p| u8::try_from(p.min(100)).unwrap_or(100));
        let challenger = self.version_of("challenger")?;
        Ok(Live {
            champion: self.version_of("current")?,
            challenger_percent: if challenger.is_some() { percent } else { 0 },
            challenger,
        })
    }

    fn apply(&mut self, job: &Job<'_>) -> Result<Vec<Check>> {
        // Unpack the release before anything live changes: a failure here
        // (a full disk, say) names the file and leaves the links, the
        // traffic file and the registry as they were.
        if !matches!(job.step, Step::DropChallenger) {
            self.ensure_release(job.bundle)?;
        }
        let saved = self.save();
        match self.run(job) {
            Ok(checks) => {
                self.prune();
                Ok(checks)
            }
            Err(why) => {
                let restored = self.restore(&saved);
                let back = match &restored {
                    Ok(()) => "the environment was put back as it was".to_string(),
                    Err(e) => format!("putting the environment back failed too ({e})"),
                };
                Err(Error::Check(format!(
                    "{} {} did not verify in {} ({why}); {back}, and no assignment was recorded",
                    job.model, job.bundle.version, self.env_name
                )))
            }
        }
    }
}

impl Local {
    /// Check the release folder `rel` of `job`'s bundle before it is
    /// linked: its files, and its artifact's predictions of the smoke rows.
    fn verify_staged(&self, rel: &Path, job: &Job<'_>) -> std::result::Result<Vec<Check>, String> {
        let b = job.bundle;
        let dir = self.root.join(rel);
        let n = verify_release(&dir, b)?;
        Ok(vec![
            Check::pass(
                "release",
                format!("releases/{}: {n} files match manifest.json", b.version),
            ),
            smoke_check(&dir, job)?,
        ])
    }

    fn failed(&self, job: &Job<'_>, what: &str, why: &str) -> Error {
        Error::Check(format!(
            "{} {} did not verify {what} in {} ({why})",
            job.model,
            job.bundle.version,
            display_path(&self.root)
        ))
    }
}

impl Phased for Local {
    fn stage(&mut self, job: &Job<'_>) -> Result<Vec<Check>> {
        let rel = self.ensure_release(job.bundle)?;
        self.verify_staged(&rel, job)
            .map_err(|why| self.failed(job, "staged", &why))
    }

    fn commit(&mut self, job: &Job<'_>) -> Result<Vec<Check>> {
        let rel = self.ensure_release(job.bundle)?;
        self.set_link("current", Some(&rel))?;
        self.verify("current", job)
            .map_err(|why| self.failed(job, "live", &why))
    }

    fn revert(&mut self, job: &Job<'_>, previous: Option<&str>) -> Result<()> {
        let Some(v) = previous else {
            return self.set_link("current", None);
        };
        if self.version_of("current").ok().flatten().as_deref() == Some(v) {
            return Ok(());
        }
        let bytes = (job.fetch)(v)?;
        let b = bundle::read(&bytes, v).map_err(|e| Error::Registry(e.to_string()))?;
        let rel = self.ensure_release(&b)?;
        self.set_link("current", Some(&rel))
    }

    fn unstage(&mut self, version: &str) -> Result<()> {
        let linked = ["current", "challenger"].iter().any(|s| {
            self.link_target(s)
                .is_some_and(|t| t.file_name().is_some_and(|n| n == version))
        });
        let dir = self.releases().join(version);
        if linked || !dir.is_dir() {
            return Ok(());
        }
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io("remove", &dir, &e))
    }

    fn requests(&mut self) -> Result<Option<Requests>> {
        Ok(None)
    }

    fn ready(&mut self) -> bool {
        self.version_of("current").ok().flatten().is_some()
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        if let Some(f) = self.lock.take() {
            let _ = f.set_len(0);
            let _ = f.unlock();
        }
    }
}

/// Take the deploy lock of the environment folder `root`: an OS lock
/// (`flock`) on `root/.lock`, which then names the holder's pid. Shared by
/// the `local` and `kubernetes` targets.
///
/// # Errors
/// Another deploy holds it ([`Error::Remote`]), or the file cannot be opened.
pub(super) fn flock(root: &Path, env_name: &str) -> Result<std::fs::File> {
    std::fs::create_dir_all(root)
        .map_err(|e| Error::io("create the environment folder", root, &e))?;
    let path = root.join(".lock");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open the deploy lock", &path, &e))?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = f.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(Error::Remote(format!(
                "another deploy to {} is running ({} holds {}); nothing was changed, run again when it has finished",
                env_name,
                if holder.is_empty() {
                    "a process"
                } else {
                    holder
                },
                display_path(&path)
            )));
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(Error::io("lock", &path, &e));
        }
    }
    // Whatever the file says is stale now: its holder released the OS
    // lock, by finishing or by dying.
    let _ = f.set_len(0);
    let _ = f.rewind();
    let _ = write!(
        f,
        "pid {} since {}",
        std::process::id(),
        crate::timestamp::rfc3339(crate::registry::repo::now())
    );
    let _ = f.flush();
    Ok(f)
}

/// The artifact in the release `dir` predicts `job`'s smoke rows as the
/// bundle's does.
fn smoke_check(dir: &Path, job: &Job<'_>) -> std::result::Result<Check, String> {
    let art = crate::model::Artifact::load(&dir.join(&job.bundle.artifact_path))
        .map_err(|e| e.to_string())?;
    let got: Vec<f64> = job
        .smoke
        .rows
        .iter()
        .map(|r| smoke::predict(&art, &r.features).unwrap_or(f64::NAN))
        .collect();
    smoke::compare(&job.smoke.rows, &got)?;
    Ok(Check::pass(
        "smoke",
        format!(
            "{} rows ({}) predict as the artifact does",
            got.len(),
            job.smoke.source
        ),
    ))
}

/// Every file of the manifest present in `dir` with its sha256; returns
/// the number of files checked.
fn verify_release(dir: &Path, b: &Bundle) -> std::result::Result<usize, String> {
    let mut n = 0;
    for (path, want) in &b.files {
        let p = dir.join(path);
        let got = std::fs::read(&p)
            .map_err(|e| format!("{} cannot be read ({})", display_path(&p), io_reason(&e)))?;
        if got != *want {
            return Err(format!(
                "{} has sha256 {} but the bundle's is {}",
                display_path(&p),
                bundle::sha256_hex(&got),
                bundle::sha256_hex(want)
            ));
        }
        n += 1;
    }
    Ok(n)
}

fn remove_if_present(p: &Path) -> Result<()> {
    match std::fs::remove_file(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", p, &e)),
    }
}

fn touch(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other(
        "local environments need symbolic links (Unix)",
    ))
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::smoke::{Row, Rows};
    use crate::deploy::test_bundle as bundle;

    fn rows(b: &Bundle, off: f64) -> Rows {
        let mut features = serde_json::Map::new();
        features.insert("a".into(), serde_json::json!(3.0));
        let expected = smoke::predict(&b.artifact, &features).unwrap() + off;
        Rows {
            rows: vec![Row { features, expected }],
            source: "test".into(),
        }
    }

    /// What a deploy killed half-way leaves (an unpacked release not yet
    /// renamed, one moved aside, a link not yet swapped) is removed by the
    /// next deploy once it holds the lock: no live writer can own them.
    #[cfg(unix)]
    #[test]
    fn the_lock_removes_what_a_killed_deploy_left() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("env");
        let half = root.join("releases/.tmp-abc123/models");
        std::fs::create_dir_all(&half).unwrap();
        std::fs::write(half.join("m.json"), b"{\"half").unwrap();
        std::fs::create_dir_all(root.join("releases/.broken-v1.0.0-42")).unwrap();
        std::fs::create_dir_all(root.join("releases/v1.0.0")).unwrap();
        symlink(Path::new("releases/v1.0.0"), &root.join(".current.tmp")).unwrap();
        let mut env = Local {
            root: root.clone(),
            env_name: "staging".into(),
            keep: 1,
            lock: None,
        };
        env.lock().unwrap();
        let mut left: Vec<String> = std::fs::read_dir(root.join("releases"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["v1.0.0"]);
        assert!(std::fs::symlink_metadata(root.join(".current.tmp")).is_err());
    }

    #[test]
    fn a_failed_check_puts_the_links_back_and_pruning_keeps_linked_releases() {
        let dir = tempfile::tempdir().unwrap();
        let (b1_bytes, b1) = bundle(dir.path(), "v1.0.0", 0.0);
        let (b2_bytes, b2) = bundle(dir.path(), "v2.0.0", 5.0);
        let mut env = Local {
            root: dir.path().join("env"),
            env_name: "staging".into(),
            keep: 1,
            lock: None,
        };
        env.lock().unwrap();
        let fetch = |_: &str| -> Result<Vec<u8>> { Ok(Vec::new()) };
        let job = |b: &'static Bundle, bytes: &'static [u8], smoke: &'static Rows, step| Job {
            step,
            model: "m",
            bundle: b,
            bytes,
            smoke,
            registry_champion: None,
            fetch: &fetch,
        };
        let leak = |x: Bundle| -> &'static Bundle { Box::leak(Box::new(x)) };
        let (b1, b2) = (leak(b1), leak(b2));
        let (b1_bytes, b2_bytes): (&'static [u8], &'static [u8]) =
            (b1_bytes.leak(), b2_bytes.leak());
        let good1: &'static Rows = Box::leak(Box::new(rows(b1, 0.0)));
        let replace = Step::Replace {
            drop_challenger: false,
        };
        env.apply(&job(b1, b1_bytes, good1, replace)).unwrap();
        assert_eq!(env.live().unwrap().champion.as_deref(), Some("v1.0.0"));

        // v2's smoke rows expect another prediction: the check fails after
        // the switch, and `current` goes back to v1.
        let bad2: &'static Rows = Box::leak(Box::new(rows(b2, 1.0)));
        let e = env.apply(&job(b2, b2_bytes, bad2, replace)).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(
            e.to_string()
                .contains("the environment was put back as it was"),
            "{e}"
        );
        assert_eq!(
            env.live().unwrap(),
            Live {
                champion: Some("v1.0.0".into()),
                ..Live::default()
            }
        );

        // A failing canary leaves no challenger and no traffic file.
        let e = env
            .apply(&job(b2, b2_bytes, bad2, Step::Canary(30)))
            .unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(!env.root.join("challenger").exists());
        assert!(!env.root.join("traffic.json").exists());

        // A good canary: keep = 1, but both linked releases stay.
        let good2: &'static Rows = Box::leak(Box::new(rows(b2, 0.0)));
        env.apply(&job(b2, b2_bytes, good2, Step::Canary(30)))
            .unwrap();
        assert_eq!(
            env.live().unwrap(),
            Live {
                champion: Some("v1.0.0".into()),
                challenger: Some("v2.0.0".into()),
                challenger_percent: 30
            }
        );
        assert!(env.releases().join("v1.0.0").is_dir() && env.releases().join("v2.0.0").is_dir());
        // A release whose files were altered is unpacked again.
        std::fs::write(env.releases().join("v2.0.0/models/m.json"), "{}").unwrap();
        env.apply(&job(b2, b2_bytes, good2, Step::Promote)).unwrap();
        assert_eq!(env.live().unwrap().champion.as_deref(), Some("v2.0.0"));
        assert!(
            !env.releases().join("v1.0.0").exists(),
            "pruned to keep = 1"
        );
        drop(env);
        assert_eq!(std::fs::read(dir.path().join("env/.lock")).unwrap(), b"");
    }
}
