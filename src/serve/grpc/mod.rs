//! The Open Inference Protocol over gRPC (`inference.GRPCInferenceService`,
//! as KServe, Triton and MLServer serve it), beside the HTTP server and on
//! the same [`App`]: the same models, slots, A/B routing, auth, rate limits,
//! metrics and prediction log.
//!
//! [`convert`] turns protobuf tensors into the V2 request of [`super::v2`]
//! and its answer back into protobuf (raw output contents by default);
//! [`service`] is the service itself; [`extras`] adds `grpc.health.v1.Health`,
//! server reflection and the message size limit; [`transport`] drives the
//! HTTP/2 connections (`ModelInfer` on a lean unary path, the rest through
//! tonic's routes). The code in [`proto`] is
//! generated from `proto/grpc_predict_v2.proto` and committed
//! (`tests/integration/grpc.rs` checks it is fresh).

pub mod convert;
pub mod extras;
pub mod incoming;
pub mod service;
pub mod transport;

use std::net::SocketAddr;
use std::sync::Arc;

use super::app::App;

/// The code generated from `proto/grpc_predict_v2.proto` (package `inference`).
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unreachable_pub
)]
pub mod proto {
    include!("generated/inference.rs");

    /// The encoded descriptor set of the package, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!("generated/inference.bin");
}

/// Default largest request message (64 MiB); larger is `RESOURCE_EXHAUSTED`.
pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 64 * 1024 * 1024;

/// Largest HTTP/2 DATA frame clients may send to the gRPC port.
const MAX_FRAME_BYTES: u32 = 256 * 1024;

/// The service's full name.
pub const SERVICE: &str = "inference.GRPCInferenceService";

/// Serve gRPC on `listener` (over TLS with `tls`, see [`incoming`]) until
/// `stop` changes, then drain the calls in flight (the HTTP server's stop
/// signal stops both).
///
/// # Errors
/// The committed reflection descriptors do not decode (a build defect);
/// accept errors are handled where they happen (see [`incoming`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: Arc<App>,
    (max_message_bytes, limits): (usize, super::conn::Limits),
    stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let (health, health_service) = tonic_health::server::health_reporter();
    let watching = extras::follow_readiness(health, Arc::clone(&app), stop.clone());
    let inference = Arc::new(service::Inference::new(app));
    let server = proto::grpc_inference_service_server::GrpcInferenceServiceServer::from_arc(
        Arc::clone(&inference),
    )
    .max_decoding_message_size(max_message_bytes);
    let (v1, v1alpha) = match (extras::reflection_v1(), extras::reflection_v1alpha()) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Err(std::io::Error::other(e)),
    };
    let routes = tonic::service::Routes::new(health_service)
        .add_service(v1)
        .add_service(v1alpha)
        .add_service(extras::SizeLimit::new(server, max_message_bytes))
        .prepare();
    let settings = transport::Settings {
        max_message_bytes,
        // Clients may send DATA frames of up to 256 KiB (h2's default is
        // 16 KiB): a 4,096-row batch (~300 KB) then arrives in 2 frames,
        // not 19, each a wake-up and a copy less.
        max_frame_bytes: MAX_FRAME_BYTES,
        handshake_timeout: limits.header_timeout,
        body_timeout: limits.body_timeout,
        idle_timeout: limits.idle_timeout,
    };
    let services = transport::Services::new(inference, routes, settings);
    let incoming = incoming::accept(listener, tls, limits, stop.clone());
    transport::serve(incoming, services, stop).await;
    watching.abort();
    Ok(())
}

/// Listen on `bind` for gRPC.
///
/// # Errors
/// The address cannot be bound (named, with the flag and key to change).
pub async fn bind(bind: SocketAddr) -> crate::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(bind).await.map_err(|e| {
        crate::error::Error::usage(format!(
            "cannot listen on {bind} for gRPC: {}; choose another --grpc-bind or [serve].grpc_bind",
            crate::error::io_reason(&e)
        ))
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| crate::error::Error::usage(format!("cannot read the bound address: {e}")))?;
    Ok((listener, addr))
}
