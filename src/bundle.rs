//! Reproducible bundles: a `tar.gz` whose bytes depend only on its inputs.
//!
//! Entries are sorted by path; every header has the same mtime (the commit
//! time), uid/gid 0, empty user and group names, mode 0644, and the ustar
//! format; the gzip header has mtime 0, no file name and a fixed OS byte.
//! So the same commit and version always give the same bytes.

use std::io::Write;

use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// One file of a bundle.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Path inside the archive (`/`-separated, relative).
    pub path: String,
    /// Contents.
    pub bytes: Vec<u8>,
}

/// Lowercase hex SHA-256.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let d = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in d {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The bytes of a `tar.gz` holding `entries` (sorted by path), every
/// header dated `mtime` (Unix seconds).
pub fn build(entries: &[Entry], mtime: u64) -> Result<Vec<u8>> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let fail = |e: &std::io::Error| Error::Registry(format!("cannot build the bundle: {e}"));
    let gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::best());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for e in sorted {
        let mut h = tar::Header::new_ustar();
        h.set_size(e.bytes.len() as u64);
        h.set_mtime(mtime);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_username("").map_err(|e| fail(&e))?;
        h.set_groupname("").map_err(|e| fail(&e))?;
        tar.append_data(&mut h, &e.path, e.bytes.as_slice())
            .map_err(|e| fail(&e))?;
    }
    let gz = tar.into_inner().map_err(|e| fail(&e))?;
    let mut bytes = gz.finish().map_err(|e| fail(&e))?;
    bytes.flush().map_err(|e| fail(&e))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_inputs_same_bytes_in_any_order() {
        let a = Entry {
            path: "b.txt".into(),
            bytes: b"two".to_vec(),
        };
        let b = Entry {
            path: "a/x.json".into(),
            bytes: b"{}".to_vec(),
        };
        let one = build(&[a.clone(), b.clone()], 1_700_000_000).unwrap();
        let two = build(&[b, a], 1_700_000_000).unwrap();
        assert_eq!(one, two);
        // gzip header: magic, deflate, no flags, mtime 0.
        assert_eq!(&one[..8], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
        let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(one.as_slice()));
        let names: Vec<String> = ar
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                assert_eq!(e.header().mtime().unwrap(), 1_700_000_000);
                assert_eq!(e.header().uid().unwrap(), 0);
                assert_eq!(e.header().mode().unwrap(), 0o644);
                e.path().unwrap().display().to_string()
            })
            .collect();
        assert_eq!(names, ["a/x.json", "b.txt"]);
    }
}
