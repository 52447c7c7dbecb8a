//! Connections: the accept loop with a cap on open connections, hyper's
//! HTTP/1 server with a timer (so the header-read timeout, which also
//! bounds an idle keep-alive connection, is on), a timeout on reading each
//! request body, and a graceful stop. A client that sends one byte a
//! second holds neither a worker nor a slot for long.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::serve::Listener;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Sleep;
use tower_service::Service as _;

/// Default seconds to send a request's headers.
pub const DEFAULT_HEADER_TIMEOUT_S: f64 = 10.0;
/// Default seconds to send a request's body.
pub const DEFAULT_BODY_TIMEOUT_S: f64 = 30.0;
/// Default cap on open connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// How long clients may take, and how many may be connected.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// To send the request line and headers (and, between requests, to
    /// start the next one: the keep-alive idle time).
    pub header_timeout: Duration,
    /// To send a body, from the moment the handler reads it.
    pub body_timeout: Duration,
    /// Open connections at once; more wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Duration::from_secs_f64(DEFAULT_HEADER_TIMEOUT_S),
            body_timeout: Duration::from_secs_f64(DEFAULT_BODY_TIMEOUT_S),
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Accept on `listener` and answer with `router` until `stop` turns true;
/// then let open connections finish their request and return.
///
/// # Errors
/// None today; the signature leaves room for fatal accept errors.
pub async fn run<L>(
    mut listener: L,
    router: Router,
    limits: Limits,
    stop: watch::Receiver<bool>,
) -> std::io::Result<()>
where
    L: Listener<Addr = SocketAddr>,
    L::Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(max));
    let mut stopping = stop.clone();
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
        let (io, peer) = tokio::select! {
            x = listener.accept() => x,
            _ = stopping.changed() => break,
        };
        tokio::spawn(connection(
            io,
            peer,
            router.clone(),
            limits,
            stop.clone(),
            permit,
        ));
    }
    drop(listener);
    // Every connection gives its slot back when it ends.
    let _ = slots
        .acquire_many(u32::try_from(max).unwrap_or(u32::MAX))
        .await;
    Ok(())
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
    let body_timeout = limits.body_timeout;
    let svc = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let mut req = req.map(|b| TimeoutBody::new(b, body_timeout));
        req.extensions_mut().insert(ConnectInfo(peer));
        let mut r = router.clone();
        async move { Ok::<_, Infallible>(r.call(req).await.unwrap_or_else(|e| match e {})) }
    });
    let mut b = hyper::server::conn::http1::Builder::new();
    b.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let conn = b.serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    if *stop.borrow() {
        conn.as_mut().graceful_shutdown();
    }
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// A request body that fails when it has not fully arrived within a time.
pub struct TimeoutBody {
    inner: Incoming,
    limit: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl TimeoutBody {
    fn new(inner: Incoming, limit: Duration) -> TimeoutBody {
        TimeoutBody {
            inner,
            limit,
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
        let limit = this.limit;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(format!(
                "the body did not arrive within {} s ([serve].body_timeout_s)",
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
