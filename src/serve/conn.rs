//! Connections: the accept loop with a cap on open connections (a TLS
//! handshake holds a slot too), hyper's HTTP/1 server, and a watchdog per
//! connection that closes it when a request's headers take longer than the
//! header timeout or an idle keep-alive connection waits longer than the
//! idle timeout for its next request; a timeout on reading each request
//! body, and a graceful stop. A client that sends one byte a second holds
//! neither a worker nor a slot for long.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ConnectInfo;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, Sleep};
use tokio_rustls::TlsAcceptor;
use tower_service::Service as _;

/// Default seconds to send a request's headers (and a TLS handshake).
pub const DEFAULT_HEADER_TIMEOUT_S: f64 = 10.0;
/// Default seconds to send a request's body.
pub const DEFAULT_BODY_TIMEOUT_S: f64 = 30.0;
/// Default seconds a keep-alive connection may wait for its next request.
pub const DEFAULT_IDLE_TIMEOUT_S: f64 = 60.0;
/// Seconds a bundle upload may take, body included: 64 MiB at about 1 Mbit/s.
pub const DEFAULT_UPLOAD_TIMEOUT_S: f64 = 600.0;
/// Default cap on open connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// How long clients may take, and how many may be connected.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// To finish a TLS handshake, and to send a request line and headers
    /// from their first byte (on a new connection: from the connect).
    pub header_timeout: Duration,
    /// To send a body, from the moment the handler reads it.
    pub body_timeout: Duration,
    /// Open connections at once (handshaking ones too); more wait in the
    /// listen backlog.
    pub max_connections: usize,
    /// A keep-alive connection's wait for the first byte of its next request.
    pub idle_timeout: Duration,
    /// A bundle upload's body (`PUT /admin/models/...`), instead of
    /// `body_timeout`: a 64 MiB bundle over a slow link.
    pub upload_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Duration::from_secs_f64(DEFAULT_HEADER_TIMEOUT_S),
            body_timeout: Duration::from_secs_f64(DEFAULT_BODY_TIMEOUT_S),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: Duration::from_secs_f64(DEFAULT_IDLE_TIMEOUT_S),
            upload_timeout: Duration::from_secs_f64(DEFAULT_UPLOAD_TIMEOUT_S),
        }
    }
}

/// Accept on `listener` (handshaking TLS with `tls` when set) and answer
/// with `router` until `stop` turns true; then let open connections finish
/// their request and return.
///
/// # Errors
/// None today; the signature leaves room for fatal accept errors.
pub async fn run(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    limits: Limits,
    stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let stopping = stop.clone();
    accept_each(
        listener,
        limits.max_connections,
        stopping,
        move |tcp, peer, permit| {
            let (router, stop, tls) = (router.clone(), stop.clone(), tls.clone());
            tokio::spawn(async move {
                match tls {
                    None => connection(tcp, peer, router, limits, stop, permit).await,
                    Some(acceptor) => {
                        if let Some(s) = handshake(&acceptor, tcp, limits.header_timeout).await {
                            connection(s, peer, router, limits, stop, permit).await;
                        }
                    }
                }
            });
        },
    )
    .await;
    Ok(())
}

/// Accept on `listener` while fewer than `max_connections` are open (each
/// holds a slot until it is dropped), handing each to `each` with its
/// slot, until `stop` turns true; then wait for every slot to come back.
/// The HTTP server and the gRPC server both accept so.
pub async fn accept_each<F>(
    listener: TcpListener,
    max_connections: usize,
    mut stopping: watch::Receiver<bool>,
    mut each: F,
) where
    F: FnMut(tokio::net::TcpStream, SocketAddr, OwnedSemaphorePermit),
{
    let max = max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(max));
    loop {
        if *stopping.borrow() {
            break;
        }
        let permit = tokio::select! {
            p = Arc::clone(&slots).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stopping.changed() => break,
        };
        let (tcp, peer) = tokio::select! {
            x = listener.accept() => match x {
                Ok(x) => x,
                Err(_) => {
                    // Out of file descriptors and the like: wait a moment.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopping.changed() => break,
        };
        let _ = tcp.set_nodelay(true);
        each(tcp, peer, permit);
    }
    drop(listener);
    // Every connection gives its slot back when it ends.
    let _ = slots
        .acquire_many(u32::try_from(max).unwrap_or(u32::MAX))
        .await;
}

/// A TLS handshake on `tcp`, given up after `timeout` (the header
/// timeout); `None` when it fails or is too slow. The caller holds the
/// connection's slot meanwhile.
pub async fn handshake(
    acceptor: &TlsAcceptor,
    tcp: tokio::net::TcpStream,
    timeout: Duration,
) -> Option<tokio_rustls::server::TlsStream<tokio::net::TcpStream>> {
    match tokio::time::timeout(timeout, acceptor.accept(tcp)).await {
        Ok(Ok(s)) => Some(s),
        _ => None,
    }
}

/// What a connection is doing, for its watchdog.
#[derive(Debug)]
struct Phase {
    /// Requests handed to the router whose answer is not yet sent.
    busy: usize,
    /// When the connection last became idle.
    idle_since: Instant,
    /// When the first byte of the next request came (a new connection:
    /// its start).
    reading_since: Option<Instant>,
}

type Shared = Arc<Mutex<Phase>>;

fn phase(p: &Shared) -> std::sync::MutexGuard<'_, Phase> {
    p.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// When the connection must be closed, as things stand; `None`: a request
/// is being handled (its own timeouts apply).
fn deadline(p: &Phase, limits: &Limits) -> Option<Instant> {
    if p.busy > 0 {
        None
    } else if let Some(t) = p.reading_since {
        Some(t + limits.header_timeout)
    } else {
        Some(p.idle_since + limits.idle_timeout)
    }
}

async fn connection<I>(
    io: I,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let now = Instant::now();
    let state: Shared = Arc::new(Mutex::new(Phase {
        busy: 0,
        idle_since: now,
        reading_since: Some(now),
    }));
    let (body_timeout, upload_timeout) = (limits.body_timeout, limits.upload_timeout);
    let st = Arc::clone(&state);
    let svc = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let (limit, key) = if is_upload(req.method(), req.uri().path()) {
            (upload_timeout, "upload_timeout_s")
        } else {
            (body_timeout, "body_timeout_s")
        };
        let mut req = req.map(|b| TimeoutBody::new(b, limit, key));
        req.extensions_mut().insert(ConnectInfo(peer));
        let mut r = router.clone();
        let busy = Busy::start(&st);
        async move {
            let mut resp = r.call(req).await.unwrap_or_else(|e| match e {});
            // A body refused before it was read leaves the rest of it on the
            // connection, so hyper closes it: say so, or a client reusing
            // the connection for its next request sees it cut (RFC 9112 9.6).
            if matches!(
                resp.status(),
                axum::http::StatusCode::PAYLOAD_TOO_LARGE | axum::http::StatusCode::REQUEST_TIMEOUT
            ) {
                resp.headers_mut().insert(
                    axum::http::header::CONNECTION,
                    axum::http::HeaderValue::from_static("close"),
                );
            }
            Ok::<_, Infallible>(resp.map(|b| {
                axum::body::Body::new(Answer {
                    inner: b,
                    _busy: busy,
                })
            }))
        }
    });
    let mut b = hyper::server::conn::http1::Builder::new();
    // hyper's own header timer runs from the end of one answer to the end
    // of the next request's headers: a backstop behind the watchdog.
    b.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout.saturating_add(limits.idle_timeout))
        .keep_alive(true);
    let io = Watched {
        inner: io,
        state: Arc::clone(&state),
    };
    let conn = b.serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    if *stop.borrow() {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let due = deadline(&phase(&state), &limits);
        let wait = due.unwrap_or_else(|| Instant::now() + limits.header_timeout);
        tokio::select! {
            _ = conn.as_mut() => return,
            () = tokio::time::sleep_until(wait) => {
                let now = Instant::now();
                if deadline(&phase(&state), &limits).is_some_and(|d| d <= now) {
                    // Too slow sending headers, or idle too long: hang up.
                    return;
                }
            }
            _ = stop.changed() => {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
                return;
            }
        }
    }
}

/// A request being handled, from the router's call until its answer's
/// body is sent (or dropped).
struct Busy(Shared);

impl Busy {
    fn start(s: &Shared) -> Busy {
        let mut p = phase(s);
        p.busy += 1;
        p.reading_since = None;
        drop(p);
        Busy(Arc::clone(s))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut p = phase(&self.0);
        p.busy = p.busy.saturating_sub(1);
        if p.busy == 0 {
            p.idle_since = Instant::now();
            p.reading_since = None;
        }
    }
}

/// An answer's body, holding its request's [`Busy`] until it is sent.
struct Answer {
    inner: axum::body::Body,
    _busy: Busy,
}

impl Body for Answer {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection's stream, noting when the first byte of a request arrives
/// on an idle connection.
struct Watched<I> {
    inner: I,
    state: Shared,
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let mut p = phase(&this.state);
            if p.busy == 0 && p.reading_since.is_none() {
                p.reading_since = Some(Instant::now());
            }
        }
        r
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A bundle upload: `PUT /admin/models/...`, which gets
/// `[serve].upload_timeout_s` instead of the per-request timeouts.
#[must_use]
pub fn is_upload(method: &hyper::Method, path: &str) -> bool {
    method == hyper::Method::PUT && path.starts_with("/admin/models/")
}

/// A request body that fails when it has not fully arrived within a time.
pub struct TimeoutBody {
    inner: Incoming,
    limit: Duration,
    /// The `[serve]` key that sets `limit`, for the message.
    key: &'static str,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl TimeoutBody {
    fn new(inner: Incoming, limit: Duration, key: &'static str) -> TimeoutBody {
        TimeoutBody {
            inner,
            limit,
            key,
            sleep: None,
        }
    }
}

impl Body for TimeoutBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(x) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(x.map(|r| r.map_err(Into::into)));
        }
        let (limit, key) = (this.limit, this.key);
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(format!(
                "the body did not arrive within {} s ([serve].{key})",
                limit.as_secs_f64()
            )
            .into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
