//! `inference.GRPCInferenceService` on the shared [`App`]: each call is
//! admitted as an HTTP request is (the `predict` role for the model calls,
//! the rate limit, a free slot), routed as the V2 REST routes are (a
//! version names a slot; else the A/B split, keyed by `x-request-key`), and
//! counted, logged and remembered for feedback by the same [`Call`].

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::http::HeaderMap;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Request, Response, Status};

use super::super::app::App;
use super::super::auth::Role;
use super::super::http::{Call, InFlight, authenticate, v2_model, versions};
use super::super::model::{BadRequest, Model, Row, clip};
use super::super::state::{RouteError, Variant};
use super::super::v2;
use super::convert;
use super::proto::grpc_inference_service_server::GrpcInferenceService;
use super::proto::{
    ModelInferRequest, ModelInferResponse, ModelMetadataRequest, ModelMetadataResponse,
    ModelReadyRequest, ModelReadyResponse, RepositoryModelLoadRequest, RepositoryModelLoadResponse,
    RepositoryModelUnloadRequest, RepositoryModelUnloadResponse, ServerLiveRequest,
    ServerLiveResponse, ServerMetadataRequest, ServerMetadataResponse, ServerReadyRequest,
    ServerReadyResponse,
};

/// The metric label of `ModelInfer`.
pub const ENDPOINT: &str = "grpc_infer";

/// The gRPC code of an HTTP status the shared code answers with.
#[must_use]
pub fn code_of(status: u16) -> Code {
    match status {
        200 => Code::Ok,
        400 => Code::InvalidArgument,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::NotFound,
        413 | 429 => Code::ResourceExhausted,
        408 | 504 => Code::DeadlineExceeded,
        503 => Code::Unavailable,
        _ => Code::Internal,
    }
}

/// The service.
#[derive(Debug)]
pub struct Inference {
    app: Arc<App>,
}

impl Inference {
    /// The service on `app`.
    #[must_use]
    pub fn new(app: Arc<App>) -> Inference {
        Inference { app }
    }

    /// Admit a model call: the caller (when `[serve.auth]` protects the
    /// predict role) and the rate limit; the caller's subject.
    async fn admit(
        &self,
        headers: &HeaderMap,
        peer: Option<std::net::SocketAddr>,
    ) -> Result<Option<String>, Status> {
        let app = &self.app;
        let caller = if app.auth.protects(Role::Predict) {
            match authenticate(app, headers, Role::Predict).await {
                Ok(c) => Some(c),
                Err(d) => {
                    let (status, msg, _) = d.parts();
                    return Err(Status::new(code_of(status.as_u16()), msg));
                }
            }
        } else {
            None
        };
        if let Some(l) = &app.limiter {
            let peer = peer.unwrap_or_else(|| std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
            let v = l.check(Role::Predict, l.key_of(peer, headers, caller.as_ref()));
            if !v.allowed {
                return Err(Status::resource_exhausted(format!(
                    "too many requests ([serve.rate_limit]); retry after {} s",
                    v.retry_after
                )));
            }
        }
        Ok(caller.and_then(|c| c.subject))
    }

    /// The model a metadata or readiness call names.
    fn model(&self, name: &str, version: &str) -> Result<(Arc<Model>, Variant), Status> {
        if name.is_empty() {
            return Err(Status::invalid_argument(
                "name is empty; give the model's name",
            ));
        }
        let version = (!version.is_empty()).then_some(version);
        v2_model(&self.app, name, version).map_err(|e| route_status(&e, "name"))
    }

    /// `ModelInfer` once admitted: route, convert, infer, convert back;
    /// the HTTP status it amounts to, for the metrics.
    fn infer(&self, call: &Call, req: &ModelInferRequest) -> Result<Answer, Refused> {
        let app = &self.app;
        if let Some(m) = call.key_refused() {
            return Err(Refused::new(400, format!("x-request-key: {m}")));
        }
        if req.model_name.is_empty() {
            return Err(Refused::new(
                400,
                "model_name is empty; give the model's name".into(),
            ));
        }
        let routed = if req.model_version.is_empty() {
            app.models.route(Some(&req.model_name), call.choice())
        } else {
            v2_model(app, &req.model_name, Some(&req.model_version))
        };
        let (model, variant) =
            routed.map_err(|e| Refused::new(e.status(), format!("model_name: {}", e.message())))?;
        let served = |BadRequest(m)| Refused {
            status: 400,
            message: m,
            served: Some((Arc::clone(&model), variant)),
        };
        let parsed = convert::request(req, app.max_rows).map_err(served)?;
        let keep_rows = app.log.as_ref().is_some_and(|l| l.features());
        if model.classifier().is_none() {
            let (preds, rows) = v2::regress(&model, &parsed, keep_rows).map_err(served)?;
            let names = (model.name.as_str(), model.version.as_str());
            let answer = convert::regression(names, req, &preds);
            return Ok((answer, preds, rows, model, variant));
        }
        let (out, preds, rows) = v2::infer(&model, &parsed, keep_rows).map_err(served)?;
        Ok((convert::response(out), preds, rows, model, variant))
    }
}

/// An answered `ModelInfer`: the response, the predictions and the rows
/// (for the log), and the model that made them.
type Answer = (
    ModelInferResponse,
    Vec<Option<f64>>,
    Vec<Row>,
    Arc<Model>,
    Variant,
);

/// A refused `ModelInfer`: its HTTP-equivalent status, the message, and the
/// model it was routed to, if it got that far.
struct Refused {
    status: u16,
    message: String,
    served: Option<(Arc<Model>, Variant)>,
}

impl Refused {
    fn new(status: u16, message: String) -> Refused {
        Refused {
            status,
            message,
            served: None,
        }
    }
}

fn route_status(e: &RouteError, field: &str) -> Status {
    Status::new(code_of(e.status()), format!("{field}: {}", e.message()))
}

/// The request's metadata as HTTP headers (moved, not copied), with
/// `x-request-id` taken from the request's `id` when the metadata has none.
fn headers_of(meta: MetadataMap, id: &str) -> HeaderMap {
    let mut h = meta.into_headers();
    if !h.contains_key("x-request-id")
        && !id.is_empty()
        && let Ok(v) = axum::http::HeaderValue::from_str(id)
    {
        h.insert("x-request-id", v);
    }
    h
}

/// `x-request-id`, and the model's version and variant when one served.
fn tag(meta: &mut MetadataMap, request_id: &str, served: Option<(&Arc<Model>, Variant)>) {
    if let Ok(mut v) = MetadataValue::try_from(request_id) {
        // A value that never repeats: sent as a literal HPACK never
        // indexes, so it does not churn either side's header table.
        v.set_sensitive(true);
        meta.insert("x-request-id", v);
    }
    if let Some((m, v)) = served {
        if let Ok(x) = MetadataValue::try_from(m.version.as_str()) {
            meta.insert("x-model-version", x);
        }
        meta.insert("x-model-variant", MetadataValue::from_static(v.as_str()));
    }
}

#[tonic::async_trait]
impl GrpcInferenceService for Inference {
    async fn server_live(
        &self,
        _: Request<ServerLiveRequest>,
    ) -> Result<Response<ServerLiveResponse>, Status> {
        Ok(Response::new(ServerLiveResponse { live: true }))
    }

    async fn server_ready(
        &self,
        _: Request<ServerReadyRequest>,
    ) -> Result<Response<ServerReadyResponse>, Status> {
        Ok(Response::new(ServerReadyResponse {
            ready: self.app.models.ready(),
        }))
    }

    async fn model_ready(
        &self,
        request: Request<ModelReadyRequest>,
    ) -> Result<Response<ModelReadyResponse>, Status> {
        let headers = request.metadata().clone().into_headers();
        self.admit(&headers, request.remote_addr()).await?;
        let r = request.get_ref();
        // An unknown model is not ready (what Triton answers), not an error.
        let ready = self.model(&r.name, &r.version).is_ok();
        Ok(Response::new(ModelReadyResponse { ready }))
    }

    async fn server_metadata(
        &self,
        _: Request<ServerMetadataRequest>,
    ) -> Result<Response<ServerMetadataResponse>, Status> {
        Ok(Response::new(convert::server_metadata(
            &v2::server_metadata(),
        )))
    }

    async fn model_metadata(
        &self,
        request: Request<ModelMetadataRequest>,
    ) -> Result<Response<ModelMetadataResponse>, Status> {
        let headers = request.metadata().clone().into_headers();
        self.admit(&headers, request.remote_addr()).await?;
        let r = request.get_ref();
        let (model, _) = self.model(&r.name, &r.version)?;
        let vs = versions(&self.app, &r.name);
        let vs: Vec<&str> = vs.iter().map(String::as_str).collect();
        Ok(Response::new(convert::model_metadata(&v2::metadata(
            &model, &vs,
        ))))
    }

    async fn model_infer(
        &self,
        request: Request<ModelInferRequest>,
    ) -> Result<Response<ModelInferResponse>, Status> {
        let app = &self.app;
        let peer = request.remote_addr();
        let (meta, _, req) = request.into_parts();
        let headers = headers_of(meta, &req.id);
        let subject = self.admit(&headers, peer).await?;
        let Ok(_slot) = app.slots.try_acquire() else {
            return Err(Status::unavailable(
                "the server is handling as many requests as it may ([serve].max_in_flight); retry shortly",
            ));
        };
        app.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
        let _g = InFlight(&app.metrics);
        let mut call = Call::of(app, &headers, subject);
        let work = async { self.infer(&call, &req) };
        let outcome = match tokio::time::timeout(app.timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(Refused::new(
                504,
                format!(
                    "the request took longer than {} s ([serve].timeout_s)",
                    app.timeout.as_secs_f64()
                ),
            )),
        };
        let id = call.request_id.clone();
        match outcome {
            Ok((answer, preds, rows, model, variant)) => {
                let served = Some((&model, variant));
                call.rows = rows;
                call.record(app, ENDPOINT, served, Some((&preds, false)), 200);
                let mut resp = Response::new(answer);
                tag(resp.metadata_mut(), &id, served);
                Ok(resp)
            }
            Err(r) => {
                let served = r.served.as_ref().map(|(m, v)| (m, *v));
                call.record(app, ENDPOINT, served, None, r.status);
                let mut status = Status::new(code_of(r.status), r.message);
                tag(status.metadata_mut(), &id, served);
                Err(status)
            }
        }
    }

    async fn repository_model_load(
        &self,
        request: Request<RepositoryModelLoadRequest>,
    ) -> Result<Response<RepositoryModelLoadResponse>, Status> {
        Err(no_repository(&request.get_ref().model_name))
    }

    async fn repository_model_unload(
        &self,
        request: Request<RepositoryModelUnloadRequest>,
    ) -> Result<Response<RepositoryModelUnloadResponse>, Status> {
        Err(no_repository(&request.get_ref().model_name))
    }
}

/// KServe's model repository extension is not offered: models are loaded
/// through the admin API, which checks the admin role and the bundle.
fn no_repository(name: &str) -> Status {
    Status::unimplemented(format!(
        "the model repository extension is not offered; load \"{}\" with the admin API (PUT /admin/models/NAME, see docs/serving.md)",
        clip(name)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses_map_to_grpc_codes() {
        assert_eq!(code_of(400), Code::InvalidArgument);
        assert_eq!(code_of(404), Code::NotFound);
        assert_eq!(code_of(413), Code::ResourceExhausted);
        assert_eq!(code_of(429), Code::ResourceExhausted);
        assert_eq!(code_of(401), Code::Unauthenticated);
        assert_eq!(code_of(403), Code::PermissionDenied);
        assert_eq!(code_of(503), Code::Unavailable);
        assert_eq!(code_of(500), Code::Internal);
    }

    #[test]
    fn request_id_comes_from_the_metadata_else_the_request() {
        let mut meta = MetadataMap::new();
        assert_eq!(headers_of(meta.clone(), "abc")["x-request-id"], "abc");
        meta.insert("x-request-id", MetadataValue::from_static("m-1"));
        assert_eq!(headers_of(meta, "abc")["x-request-id"], "m-1");
        assert!(!headers_of(MetadataMap::new(), "").contains_key("x-request-id"));
    }
}
