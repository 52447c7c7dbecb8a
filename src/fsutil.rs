//! Atomic file writes: a temporary file in the destination folder, flushed
//! and synced, then renamed over the destination. A reader sees the old file
//! or the new one, never half of one, and a failure leaves no trace.
//!
//! Two exceptions, as users of `cp` or `tee` would expect: a destination
//! that exists and is not a regular file (`/dev/null`, `/dev/stdout`, a
//! FIFO) is written in place, since renaming over it would replace the
//! device; and the new file gets the old file's permissions, or 0644.
//!
//! Durability: the file is synced before the rename and its folder after
//! it, so after a power loss the rename is not lost while a git tag that
//! records it survives. A temporary file left by a process killed mid-write
//! (`.mlops-tmp-*`, older than an hour) is removed by the next write into
//! that folder.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Write `bytes` to `path` atomically, creating parent folders.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Write to `path` atomically through `f`, creating parent folders.
pub fn write_atomic_with(
    path: &Path,
    f: impl FnOnce(&mut std::io::BufWriter<&mut File>) -> std::io::Result<()>,
) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    {
        let mut w = std::io::BufWriter::new(file.file());
        f(&mut w)
            .and_then(|()| w.flush())
            .map_err(|e| Error::io("write", path, &e))?;
    }
    file.commit()
}

/// A file being written: invisible at `path` until [`AtomicFile::commit`];
/// dropped without a commit, it leaves nothing behind.
#[derive(Debug)]
pub struct AtomicFile {
    target: Target,
    path: PathBuf,
}

#[derive(Debug)]
enum Target {
    Temp(tempfile::NamedTempFile),
    /// An existing special file, written in place.
    Direct(File),
}

impl AtomicFile {
    /// Start writing `path`, creating parent folders.
    pub fn create(path: &Path) -> Result<AtomicFile> {
        // Device paths (`/dev/stdout` links to the shell's open file) are
        // written in place, whatever they lead to.
        let device = path.starts_with("/dev") || path.starts_with("/proc");
        if device && path.exists() {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(path)
                .map_err(|e| Error::io("write", path, &e))?;
            return Ok(AtomicFile {
                target: Target::Direct(f),
                path: path.to_path_buf(),
            });
        }
        // A symbolic link: replace the file it leads to, keep the link.
        let resolved;
        let path = if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            resolved = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            resolved.as_path()
        } else {
            path
        };
        if let Ok(meta) = std::fs::metadata(path) {
            if !meta.is_file() && !meta.is_dir() {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| Error::io("write", path, &e))?;
                return Ok(AtomicFile {
                    target: Target::Direct(f),
                    path: path.to_path_buf(),
                });
            }
            if meta.is_dir() {
                return Err(Error::usage(format!(
                    "cannot write {}: it is a folder; name a file",
                    crate::error::display_path(path)
                )));
            }
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create the folder", dir, &e))?;
        remove_stale_temps(dir, STALE_AFTER);
        let tmp = tempfile::Builder::new()
            .prefix(".mlops-tmp-")
            .tempfile_in(dir)
            .map_err(|e| Error::io("create a temporary file in", dir, &e))?;
        set_permissions(tmp.as_file(), path);
        Ok(AtomicFile {
            target: Target::Temp(tmp),
            path: path.to_path_buf(),
        })
    }

    /// The file to write to.
    pub fn file(&mut self) -> &mut File {
        match &mut self.target {
            Target::Temp(t) => t.as_file_mut(),
            Target::Direct(f) => f,
        }
    }

    /// Sync and move the file into place.
    pub fn commit(self) -> Result<()> {
        let path = self.path;
        match self.target {
            Target::Temp(tmp) => {
                tmp.as_file()
                    .sync_all()
                    .map_err(|e| Error::io("write", &path, &e))?;
                tmp.persist(&path)
                    .map_err(|e| Error::io("write", &path, &e.error))?;
                match path.parent() {
                    Some(d) if !d.as_os_str().is_empty() => sync_dir(d),
                    _ => sync_dir(Path::new(".")),
                }
            }
            Target::Direct(mut f) => f.flush().map_err(|e| Error::io("write", &path, &e))?,
        }
        Ok(())
    }
}

/// How old a `.mlops-tmp-*` file must be before a write removes it: no live
/// write takes an hour between creating its temporary file and renaming it.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Remove the `.mlops-tmp-*` files in `dir` older than an hour, for a
/// writer that may skip its write (the file is already there) but should
/// still clean up after a killed one.
pub fn remove_stale_temps_in(dir: &Path) {
    remove_stale_temps(dir, STALE_AFTER);
}

/// Remove `.mlops-tmp-*` files in `dir` older than `age` (left by a process
/// killed mid-write); errors are ignored, as the next write tries again.
fn remove_stale_temps(dir: &Path, age: std::time::Duration) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    for e in entries.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().starts_with(".mlops-tmp-") {
            continue;
        }
        let old = e
            .metadata()
            .ok()
            .filter(std::fs::Metadata::is_file)
            .and_then(|m| m.modified().ok())
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|d| d > age);
        if old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Sync a folder, so that a rename into it survives a power loss. File
/// systems that cannot sync a folder (an error) are left as they are: the
/// file itself was synced.
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// The old file's permissions, or rw-r--r-- for a new one (tempfile makes
/// its files private).
#[cfg(unix)]
fn set_permissions(f: &File, path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777);
    let _ = f.set_permissions(std::fs::Permissions::from_mode(mode));
}

#[cfg(not(unix))]
fn set_permissions(_: &File, _: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temporary file left by a killed write is removed by the next write
    /// into its folder once it is over an hour old; a fresh one (a write in
    /// progress) is left alone.
    /// Security review L3.
    #[test]
    fn stale_temporary_files_are_removed_by_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join(".mlops-tmp-killed");
        let fresh = dir.path().join(".mlops-tmp-running");
        std::fs::write(&old, b"half").unwrap();
        std::fs::write(&fresh, b"half").unwrap();
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        write_atomic(&dir.path().join("m.json"), b"{}").unwrap();
        assert!(!old.exists());
        assert!(fresh.exists());
    }

    #[test]
    fn writes_and_replaces_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let r = write_atomic_with(&p, |_| Err(std::io::Error::other("boom")));
        assert!(r.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path().join("a")).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_keeps_pointing_at_the_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        let link = dir.path().join("link.json");
        std::fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_readable_and_devices_stay_devices() {
        use std::os::unix::fs::{FileTypeExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.json");
        write_atomic(&p, b"x").unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        write_atomic(Path::new("/dev/null"), b"x").unwrap();
        assert!(
            std::fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }
}
