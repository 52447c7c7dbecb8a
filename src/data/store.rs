//! Object storage: `s3://bucket/key`, `gs://bucket/key` and
//! `az://container/key` read in ranges (never copied whole to disk), listed
//! for globs, and written, through the Apache Arrow project's
//! `object_store`. Credentials and endpoints come only from each cloud's
//! standard environment variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`); errors
//! are remote errors (exit 5) that name the URL and what failed, never a
//! credential.

use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, GetResult, ObjectMeta, ObjectStore, ObjectStoreExt};

use crate::error::{Error, Result};

/// The URL schemes read through object storage.
const SCHEMES: [&str; 3] = ["s3://", "gs://", "az://"];

/// Chunks of a streamed body held between the network and the reader.
const STREAM_CHUNKS: usize = 64;

/// The object-storage URL a path names, if it names one.
#[must_use]
pub fn store_url(path: &Path) -> Option<&str> {
    path.to_str()
        .filter(|s| SCHEMES.iter().any(|p| s.starts_with(p)))
}

/// The objects a URL names: itself, or (with `*`, `?` or `[` in the key)
/// every object under the prefix before the first of them whose URL
/// matches the pattern, sorted. `at` names the setting in messages.
pub fn glob(pattern: &str, at: &str) -> Result<Vec<String>> {
    let Some(star) = pattern.find(['*', '?', '[']) else {
        return Ok(vec![pattern.to_string()]);
    };
    let pat = glob::Pattern::new(pattern).map_err(|e| {
        Error::usage(format!(
            "{at}: pattern \"{pattern}\" is not a valid glob ({e}); fix the pattern"
        ))
    })?;
    let prefix = &pattern[..pattern[..star].rfind('/').map_or(star, |i| i + 1)];
    let remote = Remote::open(prefix)?;
    let opts = glob::MatchOptions {
        require_literal_separator: true,
        ..glob::MatchOptions::new()
    };
    let matched: Vec<String> = remote
        .list()?
        .into_iter()
        .map(|k| format!("{}{k}", remote.base))
        .filter(|u| pat.matches_with(u, opts))
        .collect();
    if matched.is_empty() {
        return Err(Error::usage(format!(
            "{at}: pattern \"{pattern}\" matches no object; check the pattern"
        )));
    }
    Ok(matched)
}

/// The runtime the blocking calls run on (object_store is async).
fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RT: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        // TLS through rustls with ring, the provider the rest of the crate uses.
        let _ = rustls::crypto::ring::default_provider().install_default();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| Error::Remote(format!("cannot start the object-storage client: {e}")))
}

/// An object the training data was read from, as the artifact records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataObject {
    /// The object's URL.
    pub url: String,
    /// Its ETag, when the store gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Its version, when the bucket keeps versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// One object (or a prefix) in object storage.
#[derive(Clone)]
pub struct Remote {
    store: Arc<dyn ObjectStore>,
    path: ObjectPath,
    url: String,
    /// `scheme://bucket/`, which keys are appended to.
    base: String,
    /// What the first answer about the object said (size, ETag, version),
    /// shared by the clones that read it: the ETag the artifact records is
    /// taken from the reads themselves, never from a request of its own.
    seen: Arc<Mutex<Option<ObjectInfo>>>,
}

/// What the store said of an object in the headers of an answer.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    /// Size in bytes.
    pub size: u64,
    /// The ETag, when the store gives one.
    pub etag: Option<String>,
    /// The object version, when the bucket keeps versions.
    pub version: Option<String>,
}

impl Remote {
    /// The object at `url` (`s3://`, `gs://` or `az://`), with credentials
    /// and endpoint from the environment.
    pub fn open(url: &str) -> Result<Remote> {
        runtime()?;
        let parsed = url::Url::parse(url).map_err(|e| {
            Error::usage(format!(
                "{url} is not a valid URL ({e}); write it as s3://bucket/key, gs://bucket/key or az://container/key"
            ))
        })?;
        let store = build_store(&parsed).map_err(|e| {
            Error::Remote(format!("{url}: cannot set up the client: {}", reason(&e)))
        })?;
        let key = parsed.path().trim_start_matches('/').trim_end_matches('/');
        let path = ObjectPath::parse(key).map_err(|e| {
            Error::usage(format!("{url}: \"{key}\" is not a valid object key ({e})"))
        })?;
        let base = format!("{}://{}/", parsed.scheme(), parsed.host_str().unwrap_or(""));
        Ok(Remote {
            store,
            path,
            url: url.to_string(),
            base,
            seen: Arc::default(),
        })
    }

    /// The URL, as shown in messages.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Run a future of the store, naming the URL and `what` on failure.
    fn run<T>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = object_store::Result<T>>,
    ) -> Result<T> {
        runtime()?.block_on(fut).map_err(|e| self.failure(what, &e))
    }

    fn failure(&self, what: &str, e: &object_store::Error) -> Error {
        let url = &self.url;
        let hint = match e {
            object_store::Error::NotFound { .. } => {
                return Error::Remote(format!(
                    "{what} {url} failed: no such object (or bucket); check the URL"
                ));
            }
            object_store::Error::Precondition { .. } => {
                return Error::Remote(format!(
                    "{what} {url} failed: the object changed while it was read; run the command again"
                ));
            }
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. } => credential_hint(&self.base),
            _ => "check the URL, the endpoint and the credentials in the environment",
        };
        Error::Remote(format!("{what} {url} failed: {}; {hint}", reason(e)))
    }

    /// Keep what an answer said of the object, the first time; its size,
    /// ETag and version.
    fn note(&self, m: &ObjectMeta) -> ObjectInfo {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.get_or_insert_with(|| ObjectInfo {
            size: m.size,
            etag: m.e_tag.clone(),
            version: m.version.clone(),
        })
        .clone()
    }

    /// A `GET` of `range` of the object; once its ETag is known, only of
    /// that version of it (`If-Match`), so that a read never mixes two.
    fn get(&self, range: Option<GetRange>) -> Result<GetResult> {
        let etag = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .and_then(|i| i.etag.clone());
        let opts = GetOptions {
            range,
            if_match: etag,
            ..GetOptions::default()
        };
        let res = self.run("GET", self.store.get_opts(&self.path, opts))?;
        self.note(&res.meta);
        Ok(res)
    }

    /// Bytes `range` of the object.
    pub fn get_range(&self, range: Range<u64>) -> Result<Bytes> {
        if range.is_empty() {
            return Ok(Bytes::new());
        }
        let res = self.get(Some(GetRange::Bounded(range)))?;
        self.run("GET", res.bytes())
    }

    /// The last `n` bytes of the object (all of it when it is shorter), and
    /// its size: one request where a `HEAD` and a `GET` would be two.
    pub fn get_tail(&self, n: u64) -> Result<(Bytes, u64)> {
        if !(self.base.starts_with("s3://") || self.base.starts_with("gs://")) {
            // Azure Blob has no suffix ranges: a HEAD for the size, then a
            // bounded range.
            let meta = self.run("HEAD", self.store.head(&self.path))?;
            let size = self.note(&meta).size;
            return Ok((self.get_range(size.saturating_sub(n)..size)?, size));
        }
        let res = self.get(Some(GetRange::Suffix(n.max(1))))?;
        let size = res.meta.size;
        Ok((self.run("GET", res.bytes())?, size))
    }

    /// The whole object (for small objects such as bundles).
    pub fn get_all(&self) -> Result<Bytes> {
        let res = self.get(None)?;
        self.run("GET", res.bytes())
    }

    /// The object as its reads saw it: URL, ETag and version (`None` before
    /// any answer about it).
    #[must_use]
    pub fn data_object(&self) -> Option<DataObject> {
        let seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.as_ref().map(|i| DataObject {
            url: self.url.clone(),
            etag: i.etag.clone(),
            version: i.version.clone(),
        })
    }

    /// Write `bytes` as the object (a single atomic PUT).
    pub fn put(&self, bytes: Vec<u8>) -> Result<()> {
        self.run("PUT", self.store.put(&self.path, bytes.into()))
            .map(|_| ())
    }

    /// The object at `key` under the same bucket.
    #[must_use]
    pub fn sibling(&self, key: &str) -> Remote {
        Remote {
            store: Arc::clone(&self.store),
            path: ObjectPath::from(key),
            url: format!("{}{key}", self.base),
            base: self.base.clone(),
            seen: Arc::default(),
        }
    }

    /// Keys under the object's path taken as a prefix, sorted.
    pub fn list(&self) -> Result<Vec<String>> {
        let prefix = (!self.path.as_ref().is_empty()).then_some(&self.path);
        let metas = self.run("LIST", async {
            use futures_util::TryStreamExt;
            self.store.list(prefix).try_collect::<Vec<_>>().await
        })?;
        let mut keys: Vec<String> = metas.into_iter().map(|m| m.location.to_string()).collect();
        keys.sort();
        Ok(keys)
    }

    /// A reader of the object from byte `start`: one `GET`, its body
    /// streamed (object_store resumes a broken body at the byte it stopped,
    /// of the same ETag), a bounded number of chunks ahead of the reader.
    pub fn reader(&self, start: u64) -> Result<StreamReader> {
        let range = (start > 0).then_some(GetRange::Offset(start));
        let res = self.get(range)?;
        let (tx, rx) = tokio::sync::mpsc::channel(STREAM_CHUNKS);
        let mut body = res.into_stream();
        runtime()?.spawn(async move {
            use futures_util::StreamExt;
            while let Some(chunk) = body.next().await {
                let failed = chunk.is_err();
                if tx.send(chunk).await.is_err() || failed {
                    return;
                }
            }
        });
        Ok(StreamReader {
            remote: self.clone(),
            rx,
            buf: Bytes::new(),
        })
    }
}

/// The client of the store `url` names, configured from the environment.
fn build_store(url: &url::Url) -> object_store::Result<Arc<dyn ObjectStore>> {
    let s = url.as_str();
    Ok(match url.scheme() {
        "s3" => {
            let mut b = object_store::aws::AmazonS3Builder::from_env().with_url(s);
            if std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err()
            {
                b = b.with_region("us-east-1");
            }
            if let Ok(ep) = std::env::var("AWS_ENDPOINT_URL")
                && ep.starts_with("http://")
            {
                b = b.with_allow_http(true);
            }
            Arc::new(b.build()?)
        }
        "gs" => Arc::new(
            object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(s)
                .build()?,
        ),
        _ => {
            let mut b = object_store::azure::MicrosoftAzureBuilder::from_env().with_url(s);
            if std::env::var("AZURE_STORAGE_ENDPOINT").is_ok_and(|e| e.starts_with("http://")) {
                b = b.with_allow_http(true);
            }
            Arc::new(b.build()?)
        }
    })
}

/// Which environment variables hold the credentials of a store, by the
/// URL's scheme (`base` is `SCHEME://BUCKET/`).
fn credential_hint(base: &str) -> &'static str {
    if base.starts_with("s3://") {
        "the store refused the credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN, AWS_ENDPOINT_URL)"
    } else if base.starts_with("gs://") {
        "the store refused the credentials: check GOOGLE_APPLICATION_CREDENTIALS (or GOOGLE_SERVICE_ACCOUNT)"
    } else {
        "the store refused the credentials: check AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY (or AZURE_STORAGE_SAS_TOKEN)"
    }
}

/// The message of an object-store error, reduced to its innermost cause
/// (which names neither a key nor a secret).
fn reason(e: &object_store::Error) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    one_line(&cur.to_string())
}

/// An error message on one line: a store's XML error body (S3, Azure,
/// GCS answer one after the status) reduced to its `Code` and `Message`,
/// and every run of white space made one space.
fn one_line(msg: &str) -> String {
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = msg.find(&open)? + open.len();
        let end = msg[start..].find(&format!("</{name}>"))?;
        Some(msg[start..start + end].trim().to_string())
    };
    let short = match msg.find('<') {
        Some(at) if msg[at..].contains("<Error>") || msg[at..].starts_with("<?xml") => {
            let head = msg[..at].trim_end().trim_end_matches(':');
            match (tag("Code"), tag("Message")) {
                (Some(c), Some(m)) => format!("{head}: {c}: {m}"),
                (Some(c), None) => format!("{head}: {c}"),
                _ => head.to_string(),
            }
        }
        _ => msg.to_string(),
    };
    short.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A sequential reader of an object's body.
pub struct StreamReader {
    remote: Remote,
    rx: tokio::sync::mpsc::Receiver<object_store::Result<Bytes>>,
    buf: Bytes,
}

impl Read for StreamReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.buf.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(b)) => self.buf = b,
                Some(Err(e)) => {
                    return Err(std::io::Error::other(
                        self.remote.failure("GET", &e).to_string(),
                    ));
                }
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        let _ = self.buf.split_to(n);
        Ok(n)
    }
}

#[cfg(test)]
mod one_line_tests {
    #[test]
    fn an_xml_error_body_becomes_one_line() {
        let m = "Server returned non-2xx status code: 403 Forbidden: <?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message><RequestId>x</RequestId></Error>";
        assert_eq!(
            super::one_line(m),
            "Server returned non-2xx status code: 403 Forbidden: InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records."
        );
        assert_eq!(super::one_line("a\n  b"), "a b");
        assert_eq!(super::one_line("x < y"), "x < y");
    }
}
