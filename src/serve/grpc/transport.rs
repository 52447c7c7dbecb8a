//! The gRPC port's HTTP/2 connections, driven with `h2` directly: each
//! accepted connection (see [`super::incoming`]) is one task that accepts
//! streams; `ModelInfer`, the call that carries the load, is answered on a
//! lean unary path (read the one message, decode it with prost, run the
//! service's own `model_infer`, send headers, the message and the
//! `grpc-status` trailer); every other call goes through tonic's routes
//! (health, reflection, metadata), so those keep tonic's codecs.
//!
//! A stop signal sends each connection a GOAWAY: calls in flight finish,
//! new ones go elsewhere, and [`serve`] returns once every connection ends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::http;
use bytes::{BufMut, Bytes, BytesMut};
use h2::server::SendResponse;
use h2::{Reason, RecvStream};
use http_body::{Body, Frame};
use prost::Message;
use tokio::sync::{mpsc, watch};
use tonic::service::Routes;
use tonic::transport::server::{Connected, TcpConnectInfo};
use tonic::{Code, Status};

use super::incoming::{Conn, Incoming};
use super::proto::grpc_inference_service_server::GrpcInferenceService;
use super::proto::{ModelInferRequest, ModelInferResponse};
use super::service::Inference;

/// The HTTP/2 settings of the gRPC port.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Largest request message, in bytes.
    pub max_message_bytes: usize,
    /// Largest DATA frame a client may send.
    pub max_frame_bytes: u32,
    /// To finish the HTTP/2 preface and settings after the connection is
    /// ready (a client that connects and says nothing loses its slot).
    pub handshake_timeout: Duration,
    /// For a `ModelInfer` message to arrive once its headers have.
    pub body_timeout: Duration,
    /// A connection with no call open for this long (up to twice it) is
    /// closed (GOAWAY).
    pub idle_timeout: Duration,
}

/// Flow-control windows (stream and connection): hyper's default, more
/// than a 4,096-row batch needs.
const WINDOW: u32 = 1024 * 1024;
/// Largest header block a client may send (hyper's default).
const MAX_HEADER_LIST: u32 = 16 * 1024;
/// Streams a connection may have open at once: a bound against stream
/// floods (tonic set none); a client with more calls queues them itself.
const MAX_STREAMS: u32 = 200;

/// `ModelInfer` calls whose message (as buffered when its headers are
/// read) is at most this many bytes are answered in the connection's task
/// (about 200 rows of 10 FP64 features).
const INLINE_BYTES: usize = 16 * 1024;

/// The path of `ModelInfer`.
const MODEL_INFER: &str = "/inference.GRPCInferenceService/ModelInfer";

/// What the connections serve: the inference service (for `ModelInfer`)
/// and tonic's routes for the rest.
#[derive(Clone)]
pub struct Services {
    inference: Arc<Inference>,
    routes: Routes,
    settings: Settings,
}

impl Services {
    /// `inference` for `ModelInfer`, `routes` for every other call.
    pub fn new(inference: Arc<Inference>, routes: Routes, settings: Settings) -> Services {
        Services {
            inference,
            routes,
            settings,
        }
    }
}

/// Serve each connection of `incoming` until it ends; on `stop`, ask the
/// open ones to finish (GOAWAY) and return once they have.
pub async fn serve(mut incoming: Incoming, services: Services, stop: watch::Receiver<bool>) {
    let (alive, mut ended) = mpsc::channel::<()>(1);
    while let Some(conn) = incoming.next().await {
        let (services, stop, alive) = (services.clone(), stop.clone(), alive.clone());
        tokio::spawn(async move {
            connection(conn, services, stop).await;
            drop(alive);
        });
    }
    drop(alive);
    // Every connection task holds a sender: none left, all ended.
    let _ = ended.recv().await;
}

/// One connection: the HTTP/2 handshake (bounded in time), then its
/// streams (see [`dispatch`]) until the peer closes or `stop` drains.
async fn connection(conn: Conn, services: Services, mut stop: watch::Receiver<bool>) {
    let info = conn.connect_info();
    let s = services.settings;
    let mut builder = h2::server::Builder::new();
    builder
        .max_frame_size(s.max_frame_bytes)
        .initial_window_size(WINDOW)
        .initial_connection_window_size(WINDOW)
        .max_header_list_size(MAX_HEADER_LIST)
        .max_concurrent_streams(MAX_STREAMS);
    let handshake = builder.handshake::<_, Bytes>(conn);
    let Ok(Ok(mut h2)) = tokio::time::timeout(s.handshake_timeout, handshake).await else {
        return;
    };
    let mut draining = *stop.borrow();
    if draining {
        h2.graceful_shutdown();
    }
    // Idle: no call open and none begun since the timer last fired; then
    // the connection is closed as on stop (GOAWAY), so a client that says
    // nothing does not hold its slot (closed between one and two
    // `idle_timeout`s after its last call).
    let open = Arc::new(AtomicUsize::new(0));
    let (mut begun, mut seen) = (0u64, 0u64);
    let idle = tokio::time::sleep(s.idle_timeout);
    tokio::pin!(idle);
    loop {
        let (mut stopped, mut quiet) = (false, false);
        tokio::select! {
            next = h2.accept() => match next {
                Some(Ok((req, respond))) => {
                    begun += 1;
                    dispatch(&services, req, respond, (&info, Open::new(&open)));
                }
                Some(Err(_)) | None => break,
            },
            _ = stop.changed(), if !draining => stopped = true,
            () = idle.as_mut(), if !draining => quiet = true,
        }
        if quiet {
            if begun == seen && open.load(Ordering::Relaxed) == 0 {
                stopped = true;
            } else {
                seen = begun;
                idle.as_mut()
                    .reset(tokio::time::Instant::now() + s.idle_timeout);
            }
        }
        if stopped {
            draining = true;
            h2.graceful_shutdown();
        }
    }
}

/// One open call of a connection, counted until it is dropped.
struct Open(Arc<AtomicUsize>);

impl Open {
    fn new(count: &Arc<AtomicUsize>) -> Open {
        count.fetch_add(1, Ordering::Relaxed);
        Open(Arc::clone(count))
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Start answering one stream: `ModelInfer` in this task when it can be
/// answered at once, else (and every other call) in a task of its own.
fn dispatch(
    services: &Services,
    req: http::Request<RecvStream>,
    respond: SendResponse<Bytes>,
    (info, open): (&TcpConnectInfo, Open),
) {
    let mut req = req;
    if req.uri().path() == MODEL_INFER {
        let small = req.body_mut().flow_control().used_capacity() <= INLINE_BYTES;
        let inference = Arc::clone(&services.inference);
        let limit = (
            services.settings.max_message_bytes,
            services.settings.body_timeout,
        );
        let info = info.clone();
        let mut call = Box::pin(async move {
            let _open = open;
            model_infer(&inference, limit, req, info, respond).await;
        });
        if !small {
            tokio::spawn(call);
            return;
        }
        // A small call usually completes in one poll (its message came
        // with its headers): answered here, it saves a task and the
        // wake-ups between two tasks; otherwise its task goes on. Larger
        // ones always get a task, so the connection's other calls (and its
        // pings and window updates) do not wait behind them.
        // A panic there ends this call only (its stream is reset when the
        // future drops), as it would in a task of its own.
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            call.as_mut()
                .poll(&mut Context::from_waker(std::task::Waker::noop()))
        }));
        if matches!(polled, Ok(Poll::Pending)) {
            tokio::spawn(call);
        }
    } else {
        let routes = services.routes.clone();
        let info = info.clone();
        tokio::spawn(async move {
            let _open = open;
            routed(routes, req, info, respond).await;
        });
    }
}

/// `ModelInfer`: one message in, the service's answer out.
async fn model_infer(
    inference: &Inference,
    limits: (usize, Duration),
    req: http::Request<RecvStream>,
    info: TcpConnectInfo,
    respond: SendResponse<Bytes>,
) {
    let answer = answer(inference, limits, req, info).await;
    send(respond, answer);
}

/// The service's answer to the call `req`: its message read (within
/// `body_timeout`, at most `limit` bytes) and decoded, then answered within
/// the call's `grpc-timeout`, if it gives one.
async fn answer(
    inference: &Inference,
    (limit, body_timeout): (usize, Duration),
    req: http::Request<RecvStream>,
    info: TcpConnectInfo,
) -> Result<tonic::Response<ModelInferResponse>, Status> {
    let (parts, body) = req.into_parts();
    // The call's deadline covers reading its message too; a malformed
    // grpc-timeout is ignored, as tonic's server ignores it.
    let deadline = parts
        .headers
        .get("grpc-timeout")
        .and_then(grpc_timeout)
        .map(|d| tokio::time::Instant::now() + d);
    let read = tokio::time::timeout(body_timeout, read_message(body, &parts.headers, limit));
    let message = read.await.unwrap_or_else(|_| {
        Err(Status::deadline_exceeded(format!(
            "the request message did not arrive within {} s ([serve].body_timeout_s)",
            body_timeout.as_secs_f64()
        )))
    })?;
    let m = ModelInferRequest::decode(message).map_err(|e| {
        Status::invalid_argument(format!("the request is not a ModelInferRequest: {e}"))
    })?;
    let mut ext = http::Extensions::new();
    ext.insert(info);
    let meta = tonic::metadata::MetadataMap::from_headers(parts.headers);
    let call = inference.model_infer(tonic::Request::from_parts(meta, ext, m));
    match deadline {
        None => call.await,
        Some(d) => tokio::time::timeout_at(d, call).await.unwrap_or_else(|_| {
            Err(Status::deadline_exceeded(
                "the call's deadline (grpc-timeout) passed before its answer was ready",
            ))
        }),
    }
}

/// Send `answer`: headers, the message and the `grpc-status` trailer; or a
/// refusal, its status in the headers alone (trailers-only).
fn send(
    mut respond: SendResponse<Bytes>,
    answer: Result<tonic::Response<ModelInferResponse>, Status>,
) {
    let (meta, message) = match answer.map(tonic::Response::into_parts) {
        Ok((meta, message, _)) => (meta, message),
        Err(status) => {
            let _ = respond.send_response(status.into_http::<()>(), true);
            return;
        }
    };
    let Some(framed) = frame(&message) else {
        let too_large = Status::resource_exhausted(
            "the answer is larger than the 4 GiB one gRPC message can carry; send fewer rows per call",
        );
        let _ = respond.send_response(too_large.into_http::<()>(), true);
        return;
    };
    let mut head = http::Response::new(());
    *head.headers_mut() = meta.into_headers();
    head.headers_mut()
        .insert(http::header::CONTENT_TYPE, GRPC_CONTENT_TYPE);
    let Ok(mut stream) = respond.send_response(head, false) else {
        return;
    };
    if stream.send_data(framed, false).is_ok() {
        let mut trailers = http::HeaderMap::with_capacity(1);
        trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
        let _ = stream.send_trailers(trailers);
    }
}

const GRPC_CONTENT_TYPE: http::HeaderValue = http::HeaderValue::from_static("application/grpc");

/// The deadline a `grpc-timeout` header gives: up to 8 digits and a unit
/// (`H`, `M`, `S`, `m`, `u`, `n`), as the gRPC over HTTP/2 spec writes it;
/// `None` for anything else (ignored, as tonic's server ignores it).
fn grpc_timeout(v: &http::HeaderValue) -> Option<Duration> {
    let (&unit, digits) = v.as_bytes().split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(match unit {
        b'H' => Duration::from_secs(n * 3600),
        b'M' => Duration::from_secs(n * 60),
        b'S' => Duration::from_secs(n),
        b'm' => Duration::from_millis(n),
        b'u' => Duration::from_micros(n),
        b'n' => Duration::from_nanos(n),
        _ => return None,
    })
}

/// `message` as a gRPC length-prefixed message (uncompressed); `None`
/// when it is larger than a prefix can announce (4 GiB).
fn frame(message: &impl Message) -> Option<Bytes> {
    let len = message.encoded_len();
    let announced = u32::try_from(len).ok()?;
    let mut buf = BytesMut::with_capacity(5 + len);
    buf.put_u8(0);
    buf.put_u32(announced);
    message.encode_raw(&mut buf);
    Some(buf.freeze())
}

/// The one length-prefixed message of a unary call, uncompressed and at
/// most `limit` bytes: its bytes without the prefix.
async fn read_message(
    mut body: RecvStream,
    headers: &http::HeaderMap,
    limit: usize,
) -> Result<Bytes, Status> {
    if let Some(e) = headers.get("grpc-encoding")
        && e != "identity"
    {
        return Err(Status::unimplemented(format!(
            "grpc-encoding {}: compressed messages are not supported; send them uncompressed",
            e.to_str().unwrap_or("?")
        )));
    }
    let mut first: Option<Bytes> = None;
    let mut more = BytesMut::new();
    let mut want: Option<usize> = None;
    while let Some(chunk) = body.data().await {
        let chunk =
            chunk.map_err(|e| Status::cancelled(format!("the request stream failed: {e}")))?;
        let _ = body.flow_control().release_capacity(chunk.len());
        match first.take() {
            None if more.is_empty() => first = Some(chunk),
            None => more.extend_from_slice(&chunk),
            Some(f) => {
                // Room for the whole message at once (or what is known).
                more.reserve(want.map_or(0, |w| 5 + w).max(f.len() + chunk.len()));
                more.extend_from_slice(&f);
                more.extend_from_slice(&chunk);
            }
        }
        let have = first.as_ref().map_or(more.len(), Bytes::len);
        if want.is_none() && have >= 5 {
            let head = first.as_deref().unwrap_or(&more[..]);
            let w = prefix(head, limit)?;
            if first.is_none() {
                // Room for the whole message at once, not doubling to it.
                more.reserve((5 + w).saturating_sub(more.len()));
            }
            want = Some(w);
        }
        if let Some(w) = want
            && have > 5 + w
        {
            return Err(Status::invalid_argument(
                "the call carries more than one message; ModelInfer takes one ModelInferRequest",
            ));
        }
    }
    let all = first.unwrap_or_else(|| more.freeze());
    match want {
        Some(w) if all.len() == 5 + w => Ok(all.slice(5..)),
        _ => Err(Status::invalid_argument(
            "the request message is missing or cut short; send one length-prefixed ModelInferRequest",
        )),
    }
}

/// The length a message prefix announces, refused when compressed or
/// larger than `limit`.
fn prefix(head: &[u8], limit: usize) -> Result<usize, Status> {
    if head[0] != 0 {
        return Err(Status::unimplemented(
            "the message is compressed; compressed messages are not supported, send it uncompressed",
        ));
    }
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > limit {
        return Err(Status::new(
            Code::ResourceExhausted,
            super::extras::too_large_message(limit),
        ));
    }
    Ok(len)
}

/// Any other call, through tonic's routes; the answer streamed back until
/// its end or the client's reset.
async fn routed(
    mut routes: Routes,
    req: http::Request<RecvStream>,
    info: TcpConnectInfo,
    mut respond: SendResponse<Bytes>,
) {
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(info);
    let req = http::Request::from_parts(parts, RequestBody::new(body));
    let answer = {
        use tower_service::Service;
        if std::future::poll_fn(|cx| {
            Service::<http::Request<RequestBody>>::poll_ready(&mut routes, cx)
        })
        .await
        .is_err()
        {
            return;
        }
        match routes.call(req).await {
            Ok(a) => a,
            Err(never) => match never {},
        }
    };
    let (head, mut body) = answer.into_parts();
    let end = body.is_end_stream();
    let Ok(mut stream) = respond.send_response(http::Response::from_parts(head, ()), end) else {
        return;
    };
    if end {
        return;
    }
    loop {
        // The next frame only once the client's window has room: h2 would
        // queue whatever is sent without limit, so a client that never
        // reads could make the server hold ever more (at most one frame
        // beyond the window stays queued per stream).
        if !std::future::poll_fn(|cx| room(&mut stream, cx)).await {
            return;
        }
        let next = tokio::select! {
            f = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)) => f,
            _ = std::future::poll_fn(|cx| stream.poll_reset(cx)) => return,
        };
        let sent = match next {
            None => {
                let _ = stream.send_data(Bytes::new(), true);
                return;
            }
            Some(Ok(f)) => match f.into_data() {
                Ok(d) => stream.send_data(d, false),
                Err(f) => match f.into_trailers() {
                    Ok(t) => {
                        let _ = stream.send_trailers(t);
                        return;
                    }
                    Err(_) => Ok(()),
                },
            },
            Some(Err(_)) => {
                stream.send_reset(Reason::INTERNAL_ERROR);
                return;
            }
        };
        if sent.is_err() {
            return;
        }
    }
}

/// Ready with `true` once `stream` may send at least a byte; `false` when
/// the client reset it or it closed.
fn room(stream: &mut h2::SendStream<Bytes>, cx: &mut Context<'_>) -> Poll<bool> {
    if stream.poll_reset(cx).is_ready() {
        return Poll::Ready(false);
    }
    stream.reserve_capacity(1);
    loop {
        if stream.capacity() > 0 {
            return Poll::Ready(true);
        }
        match ready!(stream.poll_capacity(cx)) {
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return Poll::Ready(false),
        }
    }
}

/// A stream's request body as tonic's routes read it.
struct RequestBody {
    recv: RecvStream,
    data_done: bool,
}

impl RequestBody {
    fn new(recv: RecvStream) -> RequestBody {
        RequestBody {
            recv,
            data_done: false,
        }
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = h2::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, h2::Error>>> {
        let this = self.get_mut();
        if !this.data_done {
            match ready!(this.recv.poll_data(cx)) {
                Some(Ok(b)) => {
                    let _ = this.recv.flow_control().release_capacity(b.len());
                    return Poll::Ready(Some(Ok(Frame::data(b))));
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => this.data_done = true,
            }
        }
        match ready!(this.recv.poll_trailers(cx)) {
            Ok(Some(t)) => Poll::Ready(Some(Ok(Frame::trailers(t)))),
            Ok(None) => Poll::Ready(None),
            Err(e) => Poll::Ready(Some(Err(e))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.recv.is_end_stream()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &'static str) -> Option<Duration> {
        grpc_timeout(&http::HeaderValue::from_static(v))
    }

    #[test]
    fn grpc_timeouts_read_as_the_spec_writes_them() {
        assert_eq!(t("100m"), Some(Duration::from_millis(100)));
        assert_eq!(t("2S"), Some(Duration::from_secs(2)));
        assert_eq!(t("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(t("3M"), Some(Duration::from_secs(180)));
        assert_eq!(t("99999999u"), Some(Duration::from_micros(99_999_999)));
        assert_eq!(t("5n"), Some(Duration::from_nanos(5)));
        for bad in ["", "m", "100", "123456789m", "1x", "-1S", "1.5S"] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_prefix_refuses_compression_and_sizes_over_the_limit() {
        assert_eq!(prefix(&[0, 0, 0, 0, 10], 10).unwrap(), 10);
        assert_eq!(
            prefix(&[1, 0, 0, 0, 10], 10).unwrap_err().code(),
            Code::Unimplemented
        );
        let e = prefix(&[0, 0, 0, 0, 11], 10).unwrap_err();
        assert_eq!(e.code(), Code::ResourceExhausted);
        assert!(e.message().contains("max_message_bytes"));
    }

    #[test]
    fn a_frame_is_the_prefix_and_the_message() {
        let m = ModelInferRequest {
            model_name: "m".into(),
            ..ModelInferRequest::default()
        };
        let f = frame(&m).unwrap();
        assert_eq!(f[0], 0);
        assert_eq!(
            u32::from_be_bytes([f[1], f[2], f[3], f[4]]) as usize,
            f.len() - 5
        );
        assert_eq!(ModelInferRequest::decode(&f[5..]).unwrap(), m);
    }
}
