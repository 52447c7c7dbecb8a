//! `mlops serve --grpc-bind`: the Open Inference Protocol's gRPC service
//! (`inference.GRPCInferenceService`), driven with a tonic client against
//! the real binary; and the check that the committed generated code is
//! what `proto/grpc_predict_v2.proto` gives today.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mlops::serve::grpc::proto::grpc_inference_service_client::GrpcInferenceServiceClient;
use mlops::serve::grpc::proto::model_infer_request::{
    InferInputTensor, InferRequestedOutputTensor,
};
use mlops::serve::grpc::proto::{
    InferTensorContents, ModelInferRequest, ModelInferResponse, ModelMetadataRequest,
    ModelReadyRequest, ServerLiveRequest, ServerMetadataRequest, ServerReadyRequest,
};
use serde_json::{Value, json};
use tonic::Code;
use tonic::transport::Channel;

use crate::common::{Test, repo};
use crate::serve::{Server, TOKEN, bundle, model, numeric_model, row};

type Client = GrpcInferenceServiceClient<Channel>;

pub(crate) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The gRPC address the server announced.
#[track_caller]
pub(crate) fn grpc_addr(s: &Server) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(a) = s
            .stderr()
            .lines()
            .find_map(|l| l.strip_prefix("grpc listening on "))
        {
            return a.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no gRPC address:\n{}",
            s.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn channel(addr: &str) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

async fn client(addr: &str) -> Client {
    GrpcInferenceServiceClient::new(channel(addr).await).max_decoding_message_size(usize::MAX)
}

fn fp64_input(name: &str, shape: &[i64], v: &[f64]) -> InferInputTensor {
    InferInputTensor {
        name: name.into(),
        datatype: "FP64".into(),
        shape: shape.to_vec(),
        contents: Some(InferTensorContents {
            fp64_contents: v.to_vec(),
            ..InferTensorContents::default()
        }),
        ..InferInputTensor::default()
    }
}

pub(crate) fn raw_input(name: &str, datatype: &str, shape: &[i64]) -> InferInputTensor {
    InferInputTensor {
        name: name.into(),
        datatype: datatype.into(),
        shape: shape.to_vec(),
        ..InferInputTensor::default()
    }
}

pub(crate) fn le64(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The FP64 values of output 0 in raw_output_contents.
pub(crate) fn raw_out(r: &ModelInferResponse) -> Vec<f64> {
    assert_eq!(r.raw_output_contents.len(), r.outputs.len(), "{r:?}");
    r.raw_output_contents[0]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Rows of the numeric model's features (deterministic, varied).
pub(crate) fn rows(n: usize, f: usize) -> Vec<f64> {
    (0..n * f)
        .map(|i| ((i * 37 % 101) as f64) * 13.5 + (i % f) as f64)
        .collect()
}

#[track_caller]
fn refused<T: std::fmt::Debug>(r: Result<T, tonic::Status>, code: Code, want: &str) {
    let e = r.expect_err("the call should fail");
    assert_eq!(e.code(), code, "{e:?}");
    assert!(e.message().contains(want), "{:?} lacks {want}", e.message());
}

/// The generated code and descriptor set, made from the committed proto
/// with protox and tonic-prost-build (no system protoc).
fn generate(out: &Path) -> (String, Vec<u8>) {
    use prost::Message as _;
    let proto = repo().join("proto");
    let mut fds = protox::compile([proto.join("grpc_predict_v2.proto")], [&proto])
        .expect("compile proto/grpc_predict_v2.proto");
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(false)
        // Tensors as `bytes::Bytes`: raw contents are sliced, not copied.
        .bytes(".")
        .emit_rerun_if_changed(false)
        .out_dir(out)
        .compile_fds(fds.clone())
        .expect("generate the gRPC code");
    for f in &mut fds.file {
        f.source_code_info = None;
    }
    let code = std::fs::read_to_string(out.join("inference.rs")).expect("read the generated code");
    (code, fds.encode_to_vec())
}

#[test]
fn generated_code_is_fresh() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, descriptor) = generate(tmp.path());
    let dir = repo().join("src/serve/grpc/generated");
    let (code_path, bin_path) = (dir.join("inference.rs"), dir.join("inference.bin"));
    if std::env::var_os("MLOPS_BLESS").is_some() {
        std::fs::write(&code_path, &code).unwrap();
        std::fs::write(&bin_path, &descriptor).unwrap();
        return;
    }
    let stale = |p: &Path| {
        format!(
            "{} is not what proto/grpc_predict_v2.proto gives; regenerate with MLOPS_BLESS=1 cargo test --test integration grpc::generated",
            p.display()
        )
    };
    assert!(
        std::fs::read_to_string(&code_path).ok().as_deref() == Some(code.as_str()),
        "{}",
        stale(&code_path)
    );
    assert!(
        std::fs::read(&bin_path).ok().as_deref() == Some(descriptor.as_slice()),
        "{}",
        stale(&bin_path)
    );
}

/// `/metrics` counts `grpc_infer` calls of HTTP-equivalent `status`; then
/// SIGTERM, and the server exits 0.
#[track_caller]
fn counted_then_stop(s: Server, status: &str) {
    let metrics = s.get("/metrics").text().unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("mlops_requests_total{")
                && l.contains("endpoint=\"grpc_infer\"")
                && l.contains(&format!("status=\"{status}\""))),
        "{metrics}"
    );
    assert_eq!(s.stop(), 0);
}

/// A server of the numeric model with gRPC on a free port.
fn numeric_server(t: &Test, extra: &[&str]) -> (Server, String) {
    t.write("model.json", numeric_model().to_json());
    let mut args = vec!["--model", "model.json", "--grpc-bind", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let s = Server::start(t, &args);
    let a = grpc_addr(&s);
    (s, a)
}

#[test]
fn every_rpc_answers_as_the_rest_v2_routes_do() {
    let t = Test::new();
    let (s, addr) = numeric_server(&t, &[]);
    let name = numeric_model().name.clone();
    let f = numeric_model().features.len();
    let x = rows(5, f);
    // The REST V2 answer, the reference for every gRPC form.
    let rest: Value = {
        let body =
            json!({"inputs": [{"name": "input", "shape": [5, f], "datatype": "FP64", "data": x}]});
        let r = s.post_json(&format!("/v2/models/{name}/infer"), &body);
        serde_json::from_str(&r.text().unwrap()).unwrap()
    };
    let want: Vec<f64> = rest["outputs"][0]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let x32: Vec<f32> = x.iter().map(|v| *v as f32).collect();
    let rest32: Value = {
        let body = json!({"inputs": [{"name": "input", "shape": [5, f], "datatype": "FP32", "data": x32}]});
        serde_json::from_str(
            &s.post_json(&format!("/v2/models/{name}/infer"), &body)
                .text()
                .unwrap(),
        )
        .unwrap()
    };
    rt().block_on(async {
        let mut c = client(&addr).await;
        assert!(
            c.server_live(ServerLiveRequest {})
                .await
                .unwrap()
                .into_inner()
                .live
        );
        assert!(
            c.server_ready(ServerReadyRequest {})
                .await
                .unwrap()
                .into_inner()
                .ready
        );
        let ready = |n: &str, v: &str| ModelReadyRequest {
            name: n.into(),
            version: v.into(),
        };
        for (n, v, want) in [
            (&*name, "", true),
            (&*name, "unversioned", true),
            ("made-up", "", false),
        ] {
            let r = c.model_ready(ready(n, v)).await.unwrap().into_inner();
            assert_eq!(r.ready, want, "{n} {v}");
        }
        let sm = c
            .server_metadata(ServerMetadataRequest {})
            .await
            .unwrap()
            .into_inner();
        assert_eq!(sm.name, "mlops");
        assert_eq!(sm.version, env!("CARGO_PKG_VERSION"));
        let md = c
            .model_metadata(ModelMetadataRequest {
                name: name.clone(),
                version: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(md.versions, vec!["unversioned"]);
        assert_eq!(md.platform, "mlops");
        assert_eq!(md.inputs[0].datatype, "FP64");
        assert_eq!(md.inputs[0].shape, vec![-1, f as i64]);
        assert_eq!(md.outputs[0].name, "prediction");
        refused(
            c.model_metadata(ModelMetadataRequest {
                name: "made-up".into(),
                version: String::new(),
            })
            .await,
            Code::NotFound,
            "no model named \"made-up\"",
        );

        // Typed FP64, raw FP64 and typed FP32 all answer in raw outputs,
        // equal to REST's bit for bit (FP32 inputs: equal to REST's FP32).
        let typed = ModelInferRequest {
            model_name: name.clone(),
            id: "q-7".into(),
            inputs: vec![fp64_input("input", &[5, f as i64], &x)],
            ..ModelInferRequest::default()
        };
        let resp = c.model_infer(typed).await.unwrap();
        assert_eq!(
            resp.metadata().get("x-model-version").unwrap(),
            "unversioned"
        );
        assert_eq!(resp.metadata().get("x-model-variant").unwrap(), "champion");
        assert_eq!(resp.metadata().get("x-request-id").unwrap(), "q-7");
        let r = resp.into_inner();
        assert_eq!(
            (r.id.as_str(), r.model_name.as_str()),
            ("q-7", name.as_str())
        );
        assert_eq!(
            (r.outputs[0].datatype.as_str(), &r.outputs[0].shape),
            ("FP64", &vec![5])
        );
        assert_eq!(
            raw_out(&r).iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        let raw = ModelInferRequest {
            model_name: name.clone(),
            inputs: vec![raw_input("input", "FP64", &[5, f as i64])],
            raw_input_contents: vec![le64(&x).into()],
            outputs: vec![InferRequestedOutputTensor {
                name: "prediction".into(),
                ..Default::default()
            }],
            ..ModelInferRequest::default()
        };
        let r = c.model_infer(raw).await.unwrap().into_inner();
        assert_eq!(raw_out(&r), want);
        assert!(r.id.is_empty());
        let fp32 = ModelInferRequest {
            model_name: name.clone(),
            model_version: "unversioned".into(),
            inputs: vec![InferInputTensor {
                contents: Some(InferTensorContents {
                    fp32_contents: x32.clone(),
                    ..Default::default()
                }),
                ..raw_input("input", "FP32", &[5, f as i64])
            }],
            ..ModelInferRequest::default()
        };
        let r = c.model_infer(fp32).await.unwrap().into_inner();
        let got: Vec<Value> = raw_out(&r).into_iter().map(|v| json!(v)).collect();
        assert_eq!(Value::Array(got), rest32["outputs"][0]["data"]);
    });
    counted_then_stop(s, "200");
}

#[test]
fn each_bad_call_gets_its_status_naming_the_field() {
    let t = Test::new().file("mlops.toml", "[serve]\nmax_message_bytes = 4096\n");
    let (s, addr) = numeric_server(&t, &[]);
    let name = numeric_model().name.clone();
    let f = numeric_model().features.len() as i64;
    let base = || ModelInferRequest {
        model_name: name.clone(),
        ..ModelInferRequest::default()
    };
    rt().block_on(async {
        let mut c = client(&addr).await;
        let cases: Vec<(ModelInferRequest, Code, String)> = vec![
            (
                ModelInferRequest {
                    inputs: vec![fp64_input("input", &[1, f], &rows(1, f as usize))],
                    raw_input_contents: vec![le64(&rows(1, f as usize)).into()],
                    ..base()
                },
                Code::InvalidArgument,
                "has both contents and raw_input_contents[0]".into(),
            ),
            (
                ModelInferRequest {
                    inputs: vec![raw_input("input", "FP64", &[2, f])],
                    raw_input_contents: vec![le64(&rows(1, f as usize)).into()],
                    ..base()
                },
                Code::InvalidArgument,
                format!("raw_input_contents[0] (input \"input\") has {} bytes but shape [2, {f}] of FP64 takes {}", 8 * f, 16 * f),
            ),
            (
                ModelInferRequest {
                    inputs: vec![InferInputTensor {
                        contents: Some(InferTensorContents { fp32_contents: vec![1.0; f as usize], ..Default::default() }),
                        ..raw_input("input", "FP64", &[1, f])
                    }],
                    ..base()
                },
                Code::InvalidArgument,
                "datatype FP64 takes contents.fp64_contents, but contents.fp32_contents is given".into(),
            ),
            (
                ModelInferRequest { inputs: vec![raw_input("input", "UINT8", &[1, f])], raw_input_contents: vec![vec![0u8; f as usize].into()], ..base() },
                Code::InvalidArgument,
                "datatype \"UINT8\" is not supported".into(),
            ),
            (
                ModelInferRequest { inputs: vec![fp64_input("input", &[1, f + 1], &rows(1, f as usize + 1))], ..base() },
                Code::InvalidArgument,
                format!("input \"input\" has {} columns but the model has {f} features", f + 1),
            ),
            (
                ModelInferRequest { inputs: vec![fp64_input("input", &[3, f], &rows(1, f as usize))], ..base() },
                Code::InvalidArgument,
                format!("shape [3, {f}] holds {} values but the data has {f}", 3 * f),
            ),
            (
                ModelInferRequest { inputs: vec![fp64_input(&numeric_model().features[0], &[1], &[1.0])], ..base() },
                Code::InvalidArgument,
                format!("input for feature \"{}\" is missing", numeric_model().features[1]),
            ),
            (
                ModelInferRequest { model_name: "made-up".into(), inputs: vec![fp64_input("input", &[1, f], &rows(1, f as usize))], ..ModelInferRequest::default() },
                Code::NotFound,
                "model_name: no model named \"made-up\"".into(),
            ),
            (
                ModelInferRequest { model_version: "v9".into(), inputs: vec![fp64_input("input", &[1, f], &rows(1, f as usize))], ..base() },
                Code::NotFound,
                "no version \"v9\"".into(),
            ),
            (
                ModelInferRequest { inputs: vec![fp64_input("input", &[1, f], &rows(1, f as usize))], ..ModelInferRequest::default() },
                Code::InvalidArgument,
                "model_name is empty".into(),
            ),
            (
                ModelInferRequest { inputs: vec![fp64_input("input", &[1, f], &rows(1, f as usize))], outputs: vec![InferRequestedOutputTensor { name: "nope".into(), ..Default::default() }], ..base() },
                Code::InvalidArgument,
                "unknown output \"nope\"".into(),
            ),
            (
                ModelInferRequest { inputs: vec![raw_input("input", "FP64", &[100, f])], raw_input_contents: vec![le64(&rows(100, f as usize)).into()], ..base() },
                Code::ResourceExhausted,
                "larger than the limit of 4096 bytes ([serve].max_message_bytes)".into(),
            ),
        ];
        for (req, code, want) in cases {
            let r = c.model_infer(req.clone()).await;
            let e = r.as_ref().expect_err(&format!("{req:?} should fail"));
            assert_eq!(e.code(), code, "{e:?}");
            assert!(e.message().contains(&want), "{:?} lacks {want}", e.message());
        }
        // The connection survives the refusals.
        let ok = ModelInferRequest { inputs: vec![fp64_input("input", &[1, f], &rows(1, f as usize))], ..base() };
        assert_eq!(raw_out(&c.model_infer(ok).await.unwrap().into_inner()).len(), 1);
    });
    counted_then_stop(s, "400");
}

#[test]
fn one_input_per_feature_with_bytes_and_the_prediction_log() {
    let t = Test::new().file("mlops.toml", "[serve]\nprediction_log = \"p.jsonl\"\n");
    t.write("model.json", model().to_json());
    let s = Server::start(&t, &["--model", "model.json", "--grpc-bind", "127.0.0.1:0"]);
    let addr = grpc_addr(&s);
    let name = model().name.clone();
    let mut inputs = Vec::new();
    for (k, v) in row().as_object().unwrap() {
        inputs.push(match v.as_str() {
            Some(text) => InferInputTensor {
                contents: Some(InferTensorContents {
                    bytes_contents: vec![text.as_bytes().to_vec().into(); 2],
                    ..Default::default()
                }),
                ..raw_input(k, "BYTES", &[2])
            },
            None => fp64_input(k, &[2, 1], &[v.as_f64().unwrap(); 2]),
        });
    }
    let rest: Value = {
        let mut ins = Vec::new();
        for (k, v) in row().as_object().unwrap() {
            let dt = if v.is_string() { "BYTES" } else { "FP64" };
            ins.push(json!({"name": k, "shape": [2], "datatype": dt, "data": [v, v]}));
        }
        serde_json::from_str(
            &s.post_json(&format!("/v2/models/{name}/infer"), &json!({"inputs": ins}))
                .text()
                .unwrap(),
        )
        .unwrap()
    };
    rt().block_on(async {
        let mut c = client(&addr).await;
        let mut req = tonic::Request::new(ModelInferRequest {
            model_name: name.clone(),
            inputs,
            ..Default::default()
        });
        req.metadata_mut()
            .insert("x-request-id", "log-me".parse().unwrap());
        let r = c.model_infer(req).await.unwrap().into_inner();
        let got: Vec<Value> = raw_out(&r).into_iter().map(|v| json!(v)).collect();
        assert_eq!(Value::Array(got), rest["outputs"][0]["data"]);
    });
    assert_eq!(s.stop(), 0);
    let log = t.read("p.jsonl");
    assert!(log.lines().any(|l| l.contains("\"log-me\"")), "{log}");
}

/// A server with no model, the admin API on and gRPC; `extra` is more
/// of the project file.
fn admin_server(extra: &str) -> (Test, Server, String) {
    let t = Test::new().file(
        "mlops.toml",
        format!("[serve]\nadmin_token_env = \"TEST_ADMIN_TOKEN\"\n\n{extra}"),
    );
    let s = Server::start_with(
        &t,
        &["--grpc-bind", "127.0.0.1:0"],
        &[("TEST_ADMIN_TOKEN", TOKEN)],
    );
    let addr = grpc_addr(&s);
    (t, s, addr)
}

#[test]
fn health_reflection_and_auth() {
    let (_t, s, addr) = admin_server("[serve.auth]\nmode = \"token\"\nprotect = [\"predict\"]\n");
    rt().block_on(async {
        use tonic_health::pb::health_client::HealthClient;
        use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};
        let ch = channel(&addr).await;
        let mut h = HealthClient::new(ch.clone());
        let status = |svc: &str| HealthCheckRequest {
            service: svc.into(),
        };
        // No model yet: not serving; a model: serving.
        let st = h
            .check(status("inference.GRPCInferenceService"))
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(st, ServingStatus::NotServing as i32);
        let mut c = GrpcInferenceServiceClient::new(ch.clone());
        assert!(
            !c.server_ready(ServerReadyRequest {})
                .await
                .unwrap()
                .into_inner()
                .ready
        );
        let r = reqwest::Client::new()
            .put(s.u("/admin/models/hp?slot=champion"))
            .bearer_auth(TOKEN)
            .body(bundle(numeric_model(), "hp", "v1.0.0"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let deadline = Instant::now() + Duration::from_secs(10);
        while h.check(status("")).await.unwrap().into_inner().status
            != ServingStatus::Serving as i32
        {
            assert!(Instant::now() < deadline, "health never turned serving");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        refused(h.check(status("made.Up")).await, Code::NotFound, "");

        // Reflection lists the services.
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        let mut refl = ServerReflectionClient::new(ch.clone());
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream = refl
            .server_reflection_info(tokio_stream_once(req))
            .await
            .unwrap()
            .into_inner();
        let Some(MessageResponse::ListServicesResponse(list)) =
            stream.message().await.unwrap().unwrap().message_response
        else {
            panic!("no service list");
        };
        let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        for want in ["inference.GRPCInferenceService", "grpc.health.v1.Health"] {
            assert!(names.iter().any(|n| n == want), "{names:?}");
        }

        // The predict role: no token, a wrong one, the right one.
        let f = numeric_model().features.len();
        let call = || ModelInferRequest {
            model_name: "hp".into(),
            inputs: vec![fp64_input("input", &[1, f as i64], &rows(1, f))],
            ..Default::default()
        };
        refused(c.model_infer(call()).await, Code::Unauthenticated, "");
        refused(
            c.model_metadata(ModelMetadataRequest {
                name: "hp".into(),
                version: String::new(),
            })
            .await,
            Code::Unauthenticated,
            "",
        );
        let mut bad = tonic::Request::new(call());
        bad.metadata_mut()
            .insert("authorization", "Bearer wrong".parse().unwrap());
        refused(c.model_infer(bad).await, Code::Unauthenticated, "");
        let mut good = tonic::Request::new(call());
        good.metadata_mut()
            .insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
        let r = c.model_infer(good).await.unwrap();
        assert_eq!(r.metadata().get("x-model-version").unwrap(), "v1.0.0");
        // Liveness needs no token.
        assert!(
            c.server_live(ServerLiveRequest {})
                .await
                .unwrap()
                .into_inner()
                .live
        );
    });
    assert_eq!(s.stop(), 0);
}

/// One `ModelInfer` call framed by hand over a raw HTTP/2 connection:
/// `extra` headers and `body` as sent; the answer's `grpc-status` and
/// (decoded) `grpc-message`, from a trailers-only answer or the trailers.
async fn raw_infer(
    send: &h2::client::SendRequest<bytes::Bytes>,
    extra: &[(&str, &str)],
    body: Vec<u8>,
) -> (String, String) {
    let mut req = axum::http::Request::post("/inference.GRPCInferenceService/ModelInfer")
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let mut send = send.clone().ready().await.unwrap();
    let (answer, mut out) = send.send_request(req.body(()).unwrap(), false).unwrap();
    // The server may refuse from the headers alone (grpc-encoding) and
    // end the stream before the message goes out: then this fails, and
    // the answer below is what counts.
    let _ = out.send_data(body.into(), true);
    let (head, mut recv) = answer.await.unwrap().into_parts();
    let of = |h: &axum::http::HeaderMap| {
        let text = |k: &str| {
            h.get(k)
                .map(|v| v.to_str().unwrap().replace("%20", " "))
                .unwrap_or_default()
        };
        (text("grpc-status"), text("grpc-message"))
    };
    if head.headers.contains_key("grpc-status") {
        return of(&head.headers);
    }
    while let Some(d) = recv.data().await {
        let _ = recv.flow_control().release_capacity(d.unwrap().len());
    }
    of(&recv.trailers().await.unwrap().unwrap())
}

/// A one-row `ModelInfer` of the numeric model, encoded.
fn one_row_call() -> Vec<u8> {
    use prost::Message;
    let f = numeric_model().features.len();
    ModelInferRequest {
        model_name: numeric_model().name.clone(),
        inputs: vec![fp64_input("input", &[1, f as i64], &rows(1, f))],
        ..ModelInferRequest::default()
    }
    .encode_to_vec()
}

/// `body` as one length-prefixed gRPC message, with compression flag `flag`.
fn framed(flag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![flag];
    v.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes());
    v.extend_from_slice(body);
    v
}

#[test]
fn badly_framed_or_late_calls_get_a_status_and_the_connection_lives_on() {
    let t = Test::new().file(
        "mlops.toml",
        "[serve]\nmax_message_bytes = 4096\nbody_timeout_s = 0.5\n",
    );
    let (s, addr) = numeric_server(&t, &[]);
    let good = one_row_call();
    rt().block_on(async {
        let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let (send, conn) = h2::client::handshake(tcp).await.unwrap();
        tokio::spawn(conn);
        let two = [framed(0, &good), framed(0, &good)].concat();
        let mut short = framed(0, &good);
        short.truncate(short.len() - 3);
        let mut huge = vec![0u8];
        huge.extend_from_slice(&100_000u32.to_be_bytes());
        // (extra headers, body, grpc-status, words of the message)
        type Case<'a> = (&'a [(&'a str, &'a str)], Vec<u8>, &'a str, &'a str);
        let cases: Vec<Case> = vec![
            (&[], framed(1, &good), "12", "compressed"),
            (
                &[("grpc-encoding", "gzip")],
                framed(0, &good),
                "12",
                "grpc-encoding gzip",
            ),
            (&[], two, "3", "more than one message"),
            (&[], short, "3", "cut short"),
            (&[], Vec::new(), "3", "missing"),
            (
                &[],
                framed(0, b"\xff\xff\xff"),
                "3",
                "not a ModelInferRequest",
            ),
            (&[], huge, "8", "larger than the limit of 4096 bytes"),
        ];
        for (extra, body, status, want) in cases {
            let (got, msg) = raw_infer(&send, extra, body).await;
            assert_eq!(got, status, "{want}: {msg}");
            assert!(msg.contains(want), "{msg:?} lacks {want:?}");
        }
        // Headers and no message: DEADLINE_EXCEEDED after body_timeout_s.
        let req = axum::http::Request::post("/inference.GRPCInferenceService/ModelInfer")
            .header("content-type", "application/grpc")
            .body(())
            .unwrap();
        let mut tx = send.clone().ready().await.unwrap();
        let (answer, _open) = tx.send_request(req, false).unwrap();
        let started = Instant::now();
        let head = answer.await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(head.headers()["grpc-status"], "4");
        let msg = head.headers()["grpc-message"]
            .to_str()
            .unwrap()
            .replace("%20", " ");
        assert!(msg.contains("body_timeout_s"), "{msg}");
        // The same connection still answers a well-framed call (within
        // the deadline it names; a malformed one is ignored, as tonic does).
        for timeout in ["10S", "1.5S"] {
            let (got, msg) = raw_infer(&send, &[("grpc-timeout", timeout)], framed(0, &good)).await;
            assert_eq!((got.as_str(), msg.as_str()), ("0", ""), "{timeout}");
        }
    });
    assert_eq!(s.stop(), 0);
}

#[test]
fn answers_arrive_whole_through_a_16_byte_client_window() {
    use prost::Message;
    let t = Test::new();
    let (s, addr) = numeric_server(&t, &[]);
    let name = numeric_model().name.clone();
    rt().block_on(async {
        // A 16-byte window: the metadata answer (hundreds of bytes) goes
        // out in pieces, each as the client's reads open the window again.
        let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let (send, conn) = h2::client::Builder::new()
            .initial_window_size(16)
            .handshake::<_, bytes::Bytes>(tcp)
            .await
            .unwrap();
        tokio::spawn(conn);
        let req = axum::http::Request::post("/inference.GRPCInferenceService/ModelMetadata")
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())
            .unwrap();
        let mut send = send.ready().await.unwrap();
        let (answer, mut out) = send.send_request(req, false).unwrap();
        let m = ModelMetadataRequest {
            name: name.clone(),
            ..Default::default()
        };
        out.send_data(framed(0, &m.encode_to_vec()).into(), true)
            .unwrap();
        let mut recv = answer.await.unwrap().into_body();
        let mut got = Vec::new();
        while let Some(d) = recv.data().await {
            let d = d.unwrap();
            let _ = recv.flow_control().release_capacity(d.len());
            got.extend_from_slice(&d);
        }
        let trailers = recv.trailers().await.unwrap().unwrap();
        assert_eq!(trailers["grpc-status"], "0");
        assert!(got.len() > 5 + 16, "{} bytes", got.len());
        let meta = mlops::serve::grpc::proto::ModelMetadataResponse::decode(&got[5..]).unwrap();
        assert_eq!(meta.name, name);
        assert!(!meta.inputs.is_empty());
    });
    assert_eq!(s.stop(), 0);
}

#[test]
fn an_idle_connection_is_closed_and_a_busy_one_is_not() {
    let t = Test::new().file("mlops.toml", "[serve]\nidle_timeout_s = 0.5\n");
    let (s, addr) = numeric_server(&t, &[]);
    let good = one_row_call();
    rt().block_on(async {
        // Idle after one call: the server closes it (GOAWAY) within two
        // idle timeouts, so its driver ends.
        let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let (send, conn) = h2::client::handshake(tcp).await.unwrap();
        let driver = tokio::spawn(conn);
        let (got, _) = raw_infer(&send, &[], framed(0, &good)).await;
        assert_eq!(got, "0");
        let closed = tokio::time::timeout(Duration::from_secs(5), driver).await;
        assert!(
            closed.is_ok(),
            "the idle connection is still open after 5 s"
        );
        // Busy: calls every 50 ms for 1.5 s (three idle timeouts) on one
        // connection all succeed.
        let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let (send, conn) = h2::client::handshake(tcp).await.unwrap();
        tokio::spawn(conn);
        for _ in 0..30 {
            let (got, msg) = raw_infer(&send, &[], framed(0, &good)).await;
            assert_eq!(got, "0", "{msg}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    assert_eq!(s.stop(), 0);
}

/// A stream of one message, for a bidirectional call.
fn tokio_stream_once<T: Send + 'static>(
    m: T,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    futures_util::stream::iter([m])
}

#[test]
fn swapping_models_under_grpc_load_fails_no_call_and_sigterm_drains() {
    let (_t, s, addr) = admin_server("");
    let put = |version: &str, slot: &str| {
        let r = s
            .http
            .put(s.u(&format!("/admin/models/hp?slot={slot}")))
            .bearer_auth(TOKEN)
            .body(bundle(numeric_model(), "hp", version))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    };
    put("v1.0.0", "champion");
    let f = numeric_model().features.len();
    let stop = Arc::new(AtomicBool::new(false));
    let runtime = rt();
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (addr, stop) = (addr.clone(), Arc::clone(&stop));
            runtime.spawn(async move {
                let mut c = client(&addr).await;
                let (mut ok, mut bad, mut seen) =
                    (0, Vec::new(), std::collections::BTreeSet::new());
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let mut req = tonic::Request::new(ModelInferRequest {
                        model_name: "hp".into(),
                        inputs: vec![raw_input("input", "FP64", &[4, f as i64])],
                        raw_input_contents: vec![le64(&rows(4, f)).into()],
                        ..Default::default()
                    });
                    req.metadata_mut()
                        .insert("x-request-key", format!("w{w}-{i}").parse().unwrap());
                    match c.model_infer(req).await {
                        Ok(r) => {
                            seen.insert(
                                r.metadata()
                                    .get("x-model-version")
                                    .unwrap()
                                    .to_str()
                                    .unwrap()
                                    .to_string(),
                            );
                            assert_eq!(raw_out(r.get_ref()).len(), 4);
                            ok += 1;
                        }
                        Err(e) => bad.push(format!("{e:?}")),
                    }
                }
                (ok, bad, seen)
            })
        })
        .collect();
    for round in 0..6 {
        put(&format!("v1.{}.0", 1 + round % 3), "champion");
        put(&format!("v2.{round}.0"), "challenger");
        let r = s
            .http
            .put(s.u("/admin/traffic"))
            .bearer_auth(TOKEN)
            .body(json!({"challenger_percent": 30 * (round % 4)}).to_string())
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = s
            .http
            .post(s.u("/admin/promote"))
            .bearer_auth(TOKEN)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        std::thread::sleep(Duration::from_millis(30));
    }
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    let mut versions = std::collections::BTreeSet::new();
    for w in workers {
        let (ok, bad, seen) = runtime.block_on(w).unwrap();
        assert!(bad.is_empty(), "failed gRPC calls during swaps: {bad:?}");
        total += ok;
        versions.extend(seen);
    }
    assert!(total > 20, "only {total} calls");
    assert!(versions.len() >= 2, "{versions:?}");

    // SIGTERM with a health Watch stream open and a channel idle: the
    // server drains and exits 0 well before its drain deadline (10 s + 5 s).
    let watch = runtime.block_on(async {
        let mut h = tonic_health::pb::health_client::HealthClient::new(channel(&addr).await);
        h.watch(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
    });
    let started = Instant::now();
    assert_eq!(s.stop(), 0);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    drop(watch);
}
