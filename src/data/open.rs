//! Opening inputs: files, gzip files (by a `.gz` suffix), `http(s)://`
//! URLs and objects in storage (`s3://`, `gs://`, `az://`), read whole or streamed, hashing the raw bytes that pass.

use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::store::{DataObject, Remote, store_url};
use crate::error::{Error, Result, io_reason};

/// The URL of a source given as `http://` or `https://` in `[data].path`.
#[must_use]
pub fn url_of(path: &Path) -> Option<&str> {
    path.to_str()
        .filter(|s| s.starts_with("https://") || s.starts_with("http://"))
}

/// `url` as errors show it: without a user or password, and with the query
/// (a presigned URL's signature) replaced by `?…`.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        return url.to_string();
    };
    let _ = u.set_username("");
    let _ = u.set_password(None);
    let query = u.query().is_some();
    u.set_query(None);
    u.set_fragment(None);
    let mut s = u.to_string();
    if query {
        s.push_str("?…");
    }
    s
}

/// Open a URL for reading, streaming its body (exit 5 when it fails).
pub fn open_url(url: &str) -> Result<Box<dyn Read + Send>> {
    let shown = redact_url(url);
    let client = reqwest::blocking::Client::builder()
        .user_agent(concat!("mlops/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(30))
        .timeout(None)
        .build()
        .map_err(|e| Error::Remote(format!("cannot start an HTTP client: {e}")))?;
    let resp = client.get(url).send().map_err(|e| {
        Error::Remote(format!(
            "GET {shown} failed: {}; check the URL and the network",
            root_cause(&e)
        ))
    })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(Error::Remote(format!(
            "GET {shown} answered {status}; check the URL"
        )));
    }
    Ok(Box::new(resp))
}

/// The innermost message of an error chain.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    let s = cur.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The raw bytes of a file or URL (a URL's body read up to `cap` bytes:
/// a longer one is an error).
pub(super) fn read_raw(p: &Path, cap: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    if let Some(url) = url_of(p) {
        open_url(url)?
            .take(cap.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| {
                Error::Remote(format!(
                    "reading {} failed: {}; check the network",
                    redact_url(url),
                    io_reason(&e)
                ))
            })?;
        if out.len() as u64 > cap {
            return Err(Error::data(format!(
                "{}: the body is larger than {} MiB, more than is read into memory; download it and name the file in data.path",
                redact_url(url),
                cap >> 20
            )));
        }
        return Ok(out);
    }
    if let Some(url) = store_url(p) {
        return Ok(Remote::open(url)?.get_all()?.to_vec());
    }
    std::fs::read(p).map_err(|e| Error::io("read", p, &e))
}

/// The contents of file `path` from its raw `bytes`: decompressed into a
/// new buffer when it is gzip, else the bytes themselves (no copy).
/// `Ok(None)` when a gzip file decompresses to more than `cap` bytes (it
/// is then left to the streaming reader; no more than `cap + 1` bytes are
/// ever held).
pub(super) fn decompressed<'a>(
    path: &Path,
    bytes: &'a [u8],
    origin: &str,
    cap: u64,
) -> Result<Option<Cow<'a, [u8]>>> {
    if !is_gzip(path) {
        return Ok(Some(Cow::Borrowed(bytes)));
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(cap.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| {
            Error::data(format!(
                "{origin}: not a readable gzip file ({}); check the file or drop the .gz suffix",
                io_reason(&e)
            ))
        })?;
    Ok((out.len() as u64 <= cap).then_some(Cow::Owned(out)))
}

/// Whether a path names a gzip file (by its `.gz` suffix).
#[must_use]
pub fn is_gzip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// A reader that hashes the raw bytes that pass through it.
pub(super) struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// One input file or URL, decompressed when it is gzip, hashing its raw
/// bytes; the object it is read from, if it is in storage.
pub(super) struct Input {
    read: Decoded,
    remote: Option<Remote>,
}

/// An input's bytes, decompressed when it is gzip.
enum Decoded {
    Plain(Hashing<Box<dyn Read + Send>>),
    Gzip(Box<flate2::read::MultiGzDecoder<Hashing<Box<dyn Read + Send>>>>),
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match &mut self.read {
            Decoded::Plain(r) => r.read(buf),
            Decoded::Gzip(r) => r.read(buf),
        }
    }
}

impl Input {
    /// Open `path` (a file or URL), hashing its raw bytes into `hasher`.
    pub(super) fn open(path: &Path, hasher: Sha256) -> Result<Input> {
        let mut remote = None;
        let f: Box<dyn Read + Send> = match (url_of(path), store_url(path)) {
            (Some(url), _) => open_url(url)?,
            (None, Some(url)) => {
                let r = Remote::open(url)?;
                let reader = r.reader(0)?;
                remote = Some(r);
                Box::new(reader)
            }
            (None, None) => Box::new(File::open(path).map_err(|e| Error::io("read", path, &e))?),
        };
        let h = Hashing { inner: f, hasher };
        let read = if is_gzip(path) {
            Decoded::Gzip(Box::new(flate2::read::MultiGzDecoder::new(h)))
        } else {
            Decoded::Plain(h)
        };
        Ok(Input { read, remote })
    }

    /// Read what is left of the raw file and return the running hash, and
    /// the object read (URL, and the ETag and version its read saw).
    pub(super) fn finish(self) -> (Sha256, Option<DataObject>) {
        let mut h = match self.read {
            Decoded::Plain(h) => h,
            Decoded::Gzip(d) => d.into_inner(),
        };
        let _ = std::io::copy(&mut h, &mut std::io::sink());
        (h.hasher, self.remote.and_then(|r| r.data_object()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut e, bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn a_gzip_bomb_is_cut_off_at_the_cap_and_left_to_the_streaming_reader() {
        // 64 MiB of zeros compress about 1000:1.
        let bomb = gzip(&vec![b'0'; 64 << 20]);
        assert!(bomb.len() < 128 << 10, "{}", bomb.len());
        let p = Path::new("bomb.csv.gz");
        assert!(
            decompressed(p, &bomb, "bomb.csv.gz", 1 << 20)
                .unwrap()
                .is_none()
        );
        let ok = decompressed(p, &bomb, "bomb.csv.gz", 64 << 20)
            .unwrap()
            .unwrap();
        assert_eq!(ok.len(), 64 << 20);
    }

    #[test]
    fn urls_in_errors_lose_their_credentials_and_query() {
        assert_eq!(
            redact_url("https://u:p4ss@data.example/x.csv?X-Amz-Signature=abc#f"),
            "https://data.example/x.csv?…"
        );
        assert_eq!(redact_url("http://h/x.csv"), "http://h/x.csv");
        let e = open_url("http://user:s3cret@127.0.0.1:9/x.csv?sig=s3cret")
            .err()
            .unwrap();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert!(
            e.to_string().contains("GET http://127.0.0.1:9/x.csv?…"),
            "{e}"
        );
    }

    #[test]
    fn every_gzip_member_is_read() {
        let mut two = gzip(b"a,b\n1,2\n");
        two.extend(gzip(b"3,4\n"));
        let out = decompressed(Path::new("t.csv.gz"), &two, "t", 1 << 20)
            .unwrap()
            .unwrap();
        assert_eq!(&out[..], b"a,b\n1,2\n3,4\n");
    }
}
