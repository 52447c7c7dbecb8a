//! What the gRPC server offers beside the inference service:
//! `grpc.health.v1.Health` following the models' readiness (so Kubernetes
//! `grpc` probes and `grpc_health_probe` work), server reflection (v1 and
//! v1alpha, so `grpcurl` lists the service without the proto file), and the
//! message size limit answering `RESOURCE_EXHAUSTED`.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http;
use tonic::server::NamedService;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use super::super::app::App;
use super::{SERVICE, proto};

/// How often the health service looks at the models' readiness.
const HEALTH_EVERY: Duration = Duration::from_millis(250);

/// Keep `reporter` in step with the models (`""`, the whole server, and the
/// inference service: serving once a model is ready) until `stop` changes;
/// then report not serving and end the `Watch` streams, so they do not hold
/// up the drain.
pub fn follow_readiness(
    mut reporter: HealthReporter,
    app: Arc<App>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = None;
        loop {
            let ready = app.models.ready();
            if last != Some(ready) {
                let status = if ready {
                    ServingStatus::Serving
                } else {
                    ServingStatus::NotServing
                };
                for name in ["", SERVICE] {
                    reporter.set_service_status(name, status).await;
                }
                last = Some(ready);
            }
            tokio::select! {
                () = tokio::time::sleep(HEALTH_EVERY) => {}
                _ = stop.changed() => break,
            }
        }
        for name in ["", SERVICE] {
            reporter
                .set_service_status(name, ServingStatus::NotServing)
                .await;
            reporter.clear_service_status(name).await;
        }
    })
}

fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
}

/// Server reflection, `grpc.reflection.v1`.
///
/// # Errors
/// The committed descriptor set does not decode (a build defect).
pub fn reflection_v1() -> Result<
    tonic_reflection::server::v1::ServerReflectionServer<
        impl tonic_reflection::server::v1::ServerReflection,
    >,
    String,
> {
    reflection()
        .build_v1()
        .map_err(|e| format!("gRPC reflection: {e}"))
}

/// Server reflection, `grpc.reflection.v1alpha` (older grpcurl asks for it).
///
/// # Errors
/// The committed descriptor set does not decode (a build defect).
pub fn reflection_v1alpha() -> Result<
    tonic_reflection::server::v1alpha::ServerReflectionServer<
        impl tonic_reflection::server::v1alpha::ServerReflection,
    >,
    String,
> {
    reflection()
        .build_v1alpha()
        .map_err(|e| format!("gRPC reflection: {e}"))
}

/// A service whose too-large requests answer `RESOURCE_EXHAUSTED`, naming
/// the limit and the key that sets it (tonic answers `OUT_OF_RANGE`).
#[derive(Debug, Clone)]
pub struct SizeLimit<S> {
    inner: S,
    limit: usize,
}

impl<S> SizeLimit<S> {
    /// `inner`, whose decoding limit is `limit` bytes.
    pub fn new(inner: S, limit: usize) -> SizeLimit<S> {
        SizeLimit { inner, limit }
    }
}

impl<S: NamedService> NamedService for SizeLimit<S> {
    const NAME: &'static str = S::NAME;
}

type Reply = http::Response<tonic::body::Body>;

impl<S, B> tower_service::Service<http::Request<B>> for SizeLimit<S>
where
    S: tower_service::Service<http::Request<B>, Response = Reply>,
    S::Future: Send + 'static,
{
    type Response = Reply;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Reply, S::Error>> + Send + 'static>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let limit = self.limit;
        let fut = self.inner.call(req);
        Box::pin(async move {
            let mut reply = fut.await?;
            relabel_too_large(reply.headers_mut(), limit);
            Ok(reply)
        })
    }
}

/// Turn tonic's `OUT_OF_RANGE` "decoded message length too large" (a
/// trailers-only answer: the status is in the headers) into
/// `RESOURCE_EXHAUSTED` with a message that says what to do.
fn relabel_too_large(h: &mut http::HeaderMap, limit: usize) {
    let out_of_range = h.get("grpc-status").is_some_and(|v| v == "11");
    let too_large = h
        .get("grpc-message")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|m| m.replace("%20", " ").contains("message length too large"));
    if !(out_of_range && too_large) {
        return;
    }
    let msg = tonic::Status::resource_exhausted(too_large_message(limit));
    let mut fresh = http::HeaderMap::new();
    if msg.add_header(&mut fresh).is_ok() {
        for (k, v) in &fresh {
            h.insert(k, v.clone());
        }
    }
}

/// What a too-large request message is told.
#[must_use]
pub fn too_large_message(limit: usize) -> String {
    format!(
        "the request message is larger than the limit of {limit} bytes ([serve].max_message_bytes); send fewer rows per call"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_large_becomes_resource_exhausted() {
        let mut h = http::HeaderMap::new();
        tonic::Status::out_of_range(
            "Error, decoded message length too large: found 100 bytes, the limit is: 10 bytes",
        )
        .add_header(&mut h)
        .unwrap();
        relabel_too_large(&mut h, 10);
        assert_eq!(h["grpc-status"], "8");
        let m = h["grpc-message"].to_str().unwrap().replace("%20", " ");
        assert!(
            m.contains("limit of 10 bytes ([serve].max_message_bytes)"),
            "{m}"
        );
        let mut other = http::HeaderMap::new();
        tonic::Status::out_of_range("something else")
            .add_header(&mut other)
            .unwrap();
        relabel_too_large(&mut other, 10);
        assert_eq!(other["grpc-status"], "11");
    }

    #[test]
    fn reflection_descriptors_decode() {
        assert!(reflection_v1().is_ok());
        assert!(reflection_v1alpha().is_ok());
    }
}
