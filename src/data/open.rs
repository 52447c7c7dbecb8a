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
    // The parser adds a `/` to a bare host; keep the URL as written.
    let written = url.split(['?', '#']).next().unwrap_or(url);
    if u.path() == "/" && !written.ends_with('/') {
        s.pop();
    }
    if query {
        s.push_str("?…");
    }
    s
}

/// How long a GET waits: for a connection, then for the answer's head and
/// for each read of its body (an idle timeout: a large body over a slow
/// link takes as long as it needs while bytes keep coming).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Longest wait for the TCP (and TLS) connection.
    pub connect: std::time::Duration,
    /// Longest wait for the answer's head, then between two reads.
    pub read: std::time::Duration,
}

/// The timeouts of `train`'s and `abtest`'s GETs: 10 s to connect, 60 s
/// without a byte.
pub const TIMEOUTS: Timeouts = Timeouts {
    connect: std::time::Duration::from_secs(10),
    read: std::time::Duration::from_secs(60),
};

/// The variable that overrides [`TIMEOUTS`]' connect timeout (seconds).
pub const CONNECT_TIMEOUT_ENV: &str = "MLOPS_HTTP_CONNECT_TIMEOUT_S";
/// The variable that overrides [`TIMEOUTS`]' read (idle) timeout (seconds).
pub const IDLE_TIMEOUT_ENV: &str = "MLOPS_HTTP_IDLE_TIMEOUT_S";

/// [`TIMEOUTS`], each overridden by its variable when set
/// ([`CONNECT_TIMEOUT_ENV`], [`IDLE_TIMEOUT_ENV`]).
///
/// # Errors
/// A variable that is not a number of seconds above 0 and at most a day
/// (exit 2, naming it).
pub fn timeouts() -> Result<Timeouts> {
    timeouts_from(&|k| std::env::var(k).ok())
}

fn timeouts_from(env: &dyn Fn(&str) -> Option<String>) -> Result<Timeouts> {
    let secs = |var: &str, default: std::time::Duration| -> Result<std::time::Duration> {
        let Some(v) = env(var) else {
            return Ok(default);
        };
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| *x > 0.0 && *x <= 86_400.0)
            .and_then(|x| std::time::Duration::try_from_secs_f64(x).ok())
            .ok_or_else(|| {
                Error::usage(format!(
                    "{var} is \"{}\", not a number of seconds above 0 and at most 86400; set it to e.g. 10, or unset it",
                    v.chars().take(20).collect::<String>()
                ))
            })
    };
    Ok(Timeouts {
        connect: secs(CONNECT_TIMEOUT_ENV, TIMEOUTS.connect)?,
        read: secs(IDLE_TIMEOUT_ENV, TIMEOUTS.read)?,
    })
}

/// `d` in seconds as errors show it: `10`, `0.5`.
fn secs(d: std::time::Duration) -> String {
    d.as_secs_f64().to_string()
}

/// A blocking HTTP client with `t`.
///
/// # Errors
/// The client cannot start (exit 5).
pub fn http_client(t: Timeouts) -> Result<reqwest::blocking::Client> {
    reqwest::blocking::Client::builder()
        .user_agent(concat!("mlops/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(t.connect)
        // reqwest's blocking timeout bounds the wait for the head and each
        // read of the body, not the whole transfer.
        .timeout(t.read)
        .build()
        .map_err(|e| Error::Remote(format!("cannot start an HTTP client: {e}")))
}

/// Why a GET failed, naming the timeout that ran out.
#[must_use]
pub fn why_failed(e: &reqwest::Error, t: Timeouts) -> String {
    if e.is_timeout() && e.is_connect() {
        format!(
            "timed out: no connection within {} s (the connect timeout, {CONNECT_TIMEOUT_ENV})",
            secs(t.connect)
        )
    } else if e.is_timeout() {
        format!(
            "timed out: no answer within {} s (the read timeout, {IDLE_TIMEOUT_ENV})",
            secs(t.read)
        )
    } else if e.is_connect() {
        format!("the connection was refused or failed ({})", root_cause(e))
    } else {
        root_cause(e)
    }
}

/// A response body whose read errors name the URL and, when the server
/// stalls, the timeout.
pub struct UrlBody {
    resp: reqwest::blocking::Response,
    shown: String,
    read: std::time::Duration,
}

impl UrlBody {
    /// The body of `resp`, fetched from `url` with `t`.
    #[must_use]
    pub fn new(resp: reqwest::blocking::Response, url: &str, t: Timeouts) -> UrlBody {
        UrlBody {
            resp,
            shown: redact_url(url),
            read: t.read,
        }
    }
}

impl Read for UrlBody {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.resp.read(buf).map_err(|e| {
            let timed_out = e.kind() == std::io::ErrorKind::TimedOut
                || e.get_ref()
                    .and_then(|r| r.downcast_ref::<reqwest::Error>())
                    .is_some_and(reqwest::Error::is_timeout);
            let why = if timed_out {
                format!(
                    "timed out: no data for {} s (the read timeout, {IDLE_TIMEOUT_ENV})",
                    secs(self.read)
                )
            } else {
                io_reason(&e)
            };
            std::io::Error::new(e.kind(), format!("GET {} stopped: {why}", self.shown))
        })
    }
}

/// Open a URL for reading, streaming its body (exit 5 when it fails), with
/// [`timeouts`].
pub fn open_url(url: &str) -> Result<Box<dyn Read + Send>> {
    open_url_with(url, timeouts()?)
}

/// [`open_url`] with other timeouts.
///
/// # Errors
/// The GET fails, times out or answers other than 2xx (exit 5).
pub fn open_url_with(url: &str, t: Timeouts) -> Result<Box<dyn Read + Send>> {
    let shown = redact_url(url);
    let client = http_client(t)?;
    let resp = client.get(url).send().map_err(|e| {
        Error::Remote(format!(
            "GET {shown} failed: {}; check the URL and the network",
            why_failed(&e, t)
        ))
    })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(Error::Remote(format!(
            "GET {shown} answered {status}; check the URL"
        )));
    }
    Ok(Box::new(UrlBody::new(resp, url, t)))
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

    /// Security review M5.
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

/// A loopback server that answers one GET with `head` (and a part of a
/// body) and then stalls for `stall`: its URL.
#[cfg(test)]
pub(crate) fn stalling_server(head: &'static str, stall: std::time::Duration) -> String {
    use std::io::Write;
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut c, _)) = l.accept() {
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let _ = c.write_all(head.as_bytes());
            let _ = c.flush();
            std::thread::sleep(stall);
        }
    });
    format!("http://user:s3cret@127.0.0.1:{port}/rows.csv?sig=s3cret")
}

#[cfg(test)]
mod timeout_tests {
    use super::*;
    use std::time::{Duration, Instant};

    const T: Timeouts = Timeouts {
        connect: Duration::from_secs(1),
        read: Duration::from_secs(1),
    };

    /// L15: the variables override each timeout; a bad value is exit 2
    /// naming the variable.
    #[test]
    fn the_timeouts_come_from_their_variables() {
        let none = |_: &str| None;
        assert_eq!(timeouts_from(&none).unwrap(), TIMEOUTS);
        let set = |k: &str| match k {
            CONNECT_TIMEOUT_ENV => Some("0.5".to_string()),
            IDLE_TIMEOUT_ENV => Some(" 2 ".to_string()),
            _ => None,
        };
        let t = timeouts_from(&set).unwrap();
        assert_eq!(t.connect, Duration::from_millis(500));
        assert_eq!(t.read, Duration::from_secs(2));
        assert_eq!(secs(t.connect), "0.5");
        assert_eq!(secs(t.read), "2");
        for bad in ["0", "-1", "soon", "NaN", "inf", "1e9"] {
            let env = |k: &str| (k == IDLE_TIMEOUT_ENV).then(|| bad.to_string());
            let e = timeouts_from(&env).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(
                e.to_string().starts_with(&format!(
                    "MLOPS_HTTP_IDLE_TIMEOUT_S is \"{bad}\", not a number of seconds"
                )),
                "{e}"
            );
        }
    }

    /// L15: a server that never answers, or stops mid-body, is given up on
    /// after the read timeout, and the error names the URL (without its
    /// secrets) and the timeout.
    #[test]
    fn a_stalled_server_times_out_naming_the_url_and_the_timeout() {
        let url = stalling_server("", Duration::from_secs(10));
        let t = Instant::now();
        let e = open_url_with(&url, T).err().unwrap().to_string();
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert!(
            e.contains("GET http://127.0.0.1:")
                && e.contains("/rows.csv?… failed: timed out: no answer within 1 s (the read timeout, MLOPS_HTTP_IDLE_TIMEOUT_S)"),
            "{e}"
        );
        assert!(!e.contains("s3cret"), "{e}");
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\na,b\n1,2\n";
        let url = stalling_server(head, Duration::from_secs(10));
        let mut body = open_url_with(&url, T).unwrap();
        let mut got = Vec::new();
        let t = Instant::now();
        let e = body.read_to_end(&mut got).unwrap_err().to_string();
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert_eq!(got, b"a,b\n1,2\n");
        assert!(
            e.contains("/rows.csv?… stopped: timed out: no data for 1 s (the read timeout, MLOPS_HTTP_IDLE_TIMEOUT_S)"),
            "{e}"
        );
        assert!(!e.contains("s3cret"), "{e}");
    }
}
