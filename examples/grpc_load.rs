//! A small load generator for `scripts/bench/grpc.sh`: the same FP64
//! `[rows, F]` batch sent to `mlops serve` for `seconds`, by `concurrency`
//! callers, over gRPC (raw tensors), REST V2 JSON, REST V2 binary tensors
//! or the simple REST `/predict`.
//! Prints one JSON line: calls, rows per second, p50 and p99 latency (ms),
//! and this process's own CPU time per call (the load shares the machine
//! with the server, so a costly client slows the server it measures).
//!
//! cargo run --release --example grpc_load -- MODE ADDR MODEL FEATURES ROWS CONCURRENCY SECONDS
//! (MODE: grpc, rest-json, rest-binary, rest-predict, or grpc-tonic;
//! ADDR: host:port of that protocol; FEATURES: the model's feature names,
//! comma-separated, in order, or their count)
//!
//! With `CHANNELS=N` in the environment, the gRPC callers share N HTTP/2
//! connections (channels), their calls multiplexed as streams, as gRPC
//! clients do (grpcio and grpc-go open one channel per target by default);
//! HTTP/1.1 has no such thing, so REST callers keep one connection each.
//!
//! Every mode but `grpc-tonic` is equally cheap on the client: one
//! connection per caller (HTTP/2 through h2 for gRPC, a call's HEADERS and
//! DATA frames in one write as gRPC's own clients send them; HTTP/1.1
//! through hyper for REST), the request encoded once and its bytes shared
//! by every call, the answer read whole and checked (the gRPC status and
//! the prediction count). `grpc-tonic`
//! sends the same call through tonic's generated client and `Channel`,
//! which costs more client CPU per call (a buffer task, the message encoded
//! per call): for comparison.

use std::time::{Duration, Instant};

use axum::http::{HeaderValue, Method, Request, Uri, header};
use bytes::{BufMut, Bytes};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use prost::Message;

use mlops::serve::grpc::proto::ModelInferRequest;
use mlops::serve::grpc::proto::ModelInferResponse;
use mlops::serve::grpc::proto::grpc_inference_service_client::GrpcInferenceServiceClient;
use mlops::serve::grpc::proto::model_infer_request::InferInputTensor;

/// What every caller sends, built once.
struct Plan {
    mode: String,
    addr: String,
    rows: usize,
    /// The request body (for gRPC: the length-prefixed message).
    body: Bytes,
    /// For `grpc-tonic`: the message itself.
    message: ModelInferRequest,
    /// Extra headers of a REST request.
    headers: Vec<(&'static str, HeaderValue)>,
    path: String,
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [mode, addr, model, features, rows, conc, secs] = a.as_slice() else {
        eprintln!("usage: grpc_load MODE ADDR MODEL FEATURES ROWS CONCURRENCY SECONDS");
        std::process::exit(2);
    };
    let names: Vec<String> = match features.parse::<usize>() {
        Ok(n) => (0..n).map(|k| format!("f{k}")).collect(),
        Err(_) => features.split(',').map(str::to_string).collect(),
    };
    let rows: usize = rows.parse().expect("ROWS is a count");
    let conc: usize = conc.parse().expect("CONCURRENCY is a count");
    let secs: f64 = secs.parse().expect("SECONDS is a number");
    let plan = std::sync::Arc::new(plan(mode, addr, model, &names, rows));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(secs);
    let channels: usize = std::env::var("CHANNELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let lat: Vec<Duration> = rt.block_on(async {
        let mut shared = Vec::new();
        if plan.mode == "grpc" {
            for _ in 0..channels {
                shared.push(h2_channel(&plan.addr).await);
            }
        }
        let mut tasks = Vec::new();
        for i in 0..conc {
            let plan = std::sync::Arc::clone(&plan);
            let channel = (!shared.is_empty()).then(|| shared[i % shared.len()].clone());
            tasks.push(tokio::spawn(
                async move { caller(&plan, until, channel).await },
            ));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.expect("a caller"));
        }
        all
    });
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let mut ms: Vec<f64> = lat.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let q = |p: f64| {
        ms.get(((ms.len() as f64 * p) as usize).min(ms.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "{{\"mode\":\"{mode}\",\"rows\":{rows},\"concurrency\":{conc},\"channels\":{},\"calls\":{},\"rows_per_s\":{:.0},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"client_cpu_us_per_call\":{:.0}}}",
        if plan.mode == "grpc" && channels > 0 {
            channels
        } else {
            conc
        },
        ms.len(),
        (ms.len() * rows) as f64 / wall,
        q(0.50),
        q(0.99),
        cpu * 1e6 / ms.len().max(1) as f64
    );
}

/// This process's CPU time so far (user + system, all threads), from
/// `/proc/self/stat` in clock ticks of 1/100 s (Linux's `USER_HZ`).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which may hold spaces).
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    (ticks(11) + ticks(12)) / 100.0
}

fn plan(mode: &str, addr: &str, model: &str, names: &[String], rows: usize) -> Plan {
    let f = names.len();
    let x: Vec<f64> = (0..rows * f).map(|i| (i % 97) as f64 * 1.5 + 1.0).collect();
    let raw: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
    let message = ModelInferRequest {
        model_name: model.into(),
        inputs: vec![InferInputTensor {
            name: "input".into(),
            datatype: "FP64".into(),
            shape: vec![rows as i64, f as i64],
            ..Default::default()
        }],
        raw_input_contents: vec![raw.clone().into()],
        ..Default::default()
    };
    let json = HeaderValue::from_static("application/json");
    let (body, headers, path): (Vec<u8>, Vec<(&'static str, HeaderValue)>, String) = match mode {
        "grpc" | "grpc-tonic" => {
            let m = message.encode_to_vec();
            let mut b = Vec::with_capacity(5 + m.len());
            b.put_u8(0);
            b.put_u32(u32::try_from(m.len()).expect("a message under 4 GiB"));
            b.extend_from_slice(&m);
            (
                b,
                Vec::new(),
                "/inference.GRPCInferenceService/ModelInfer".into(),
            )
        }
        "rest-binary" => {
            let head = format!(
                r#"{{"inputs":[{{"name":"input","shape":[{rows},{f}],"datatype":"FP64","parameters":{{"binary_data_size":{}}}}}],"outputs":[{{"name":"prediction","parameters":{{"binary_data":true}}}}]}}"#,
                raw.len()
            );
            let n = head.len();
            let mut b = head.into_bytes();
            b.extend_from_slice(&raw);
            (
                b,
                vec![
                    ("inference-header-content-length", HeaderValue::from(n)),
                    (
                        "content-type",
                        HeaderValue::from_static("application/octet-stream"),
                    ),
                ],
                format!("/v2/models/{model}/infer"),
            )
        }
        "rest-json" => {
            let doc = serde_json::json!({"inputs": [{"name": "input", "shape": [rows, f], "datatype": "FP64", "data": x}]});
            (
                doc.to_string().into_bytes(),
                vec![("content-type", json)],
                format!("/v2/models/{model}/infer"),
            )
        }
        "rest-predict" => {
            // One row as `features` (an object), more as `instances`
            // (lists in the model's feature order).
            let doc = if rows == 1 {
                let o: serde_json::Map<String, serde_json::Value> = names
                    .iter()
                    .zip(&x)
                    .map(|(n, v)| (n.clone(), serde_json::json!(v)))
                    .collect();
                serde_json::json!({ "features": o })
            } else {
                serde_json::json!({ "instances": x.chunks(f).collect::<Vec<_>>() })
            };
            (
                doc.to_string().into_bytes(),
                vec![("content-type", json)],
                "/predict".into(),
            )
        }
        other => {
            eprintln!(
                "unknown MODE {other}: use grpc, rest-json, rest-binary, rest-predict or grpc-tonic"
            );
            std::process::exit(2);
        }
    };
    Plan {
        mode: mode.into(),
        addr: addr.into(),
        rows,
        body: Bytes::from(body),
        message,
        headers,
        path,
    }
}

/// One caller's end of an HTTP/2 connection.
type H2 = h2::client::SendRequest<Bytes>;

async fn caller(plan: &Plan, until: Instant, channel: Option<H2>) -> Vec<Duration> {
    match plan.mode.as_str() {
        "grpc-tonic" => tonic_caller(plan, until).await,
        "grpc" => {
            let tx = match channel {
                Some(tx) => tx,
                None => h2_channel(&plan.addr).await,
            };
            grpc_caller(plan, until, tx).await
        }
        _ => rest_caller(plan, until).await,
    }
}

/// A new HTTP/2 connection (its driver spawned), with hyper's client
/// windows (2 MiB per stream, 5 MiB per connection).
async fn h2_channel(addr: &str) -> H2 {
    let (tx, conn) = h2::client::Builder::new()
        .initial_window_size(2 << 20)
        .initial_connection_window_size(5 << 20)
        .handshake(connect(addr).await.into_inner())
        .await
        .expect("an HTTP/2 handshake");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    tx
}

async fn connect(addr: &str) -> TokioIo<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect to the server");
    tcp.set_nodelay(true).expect("TCP_NODELAY");
    TokioIo::new(tcp)
}

/// gRPC on an HTTP/2 connection (its own, or one it shares): the encoded
/// message, its answer decoded and its status checked. A call's HEADERS
/// and DATA frames are queued together, so they leave in one write, as
/// grpc-go and grpc-c++ send them.
async fn grpc_caller(plan: &Plan, until: Instant, tx: H2) -> Vec<Duration> {
    let uri: Uri = format!("http://{}{}", plan.addr, plan.path)
        .parse()
        .expect("a URI");
    let mut out = Vec::new();
    let mut tx = tx;
    let mut got = Vec::new();
    while Instant::now() < until {
        let t = Instant::now();
        let mut req = Request::new(());
        *req.method_mut() = Method::POST;
        *req.uri_mut() = uri.clone();
        let h = req.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc"),
        );
        h.insert(header::TE, HeaderValue::from_static("trailers"));
        tx = tx.ready().await.expect("the connection is open");
        let (answer, mut send) = tx.send_request(req, false).expect("a stream");
        send.send_data(plan.body.clone(), true)
            .expect("the message sent");
        let (parts, mut body) = answer.await.expect("an answer").into_parts();
        got.clear();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.expect("the answer's body");
            let _ = body.flow_control().release_capacity(chunk.len());
            got.extend_from_slice(&chunk);
        }
        let trailers = body.trailers().await.expect("the answer's trailers");
        let status = trailers
            .as_ref()
            .and_then(|t| t.get("grpc-status"))
            .or_else(|| parts.headers.get("grpc-status"));
        assert_eq!(
            status.map(HeaderValue::as_bytes),
            Some(&b"0"[..]),
            "grpc-status {status:?}, message {:?}",
            trailers.as_ref().and_then(|t| t.get("grpc-message"))
        );
        let r = ModelInferResponse::decode(&got[5.min(got.len())..]).expect("a ModelInferResponse");
        assert_eq!(r.raw_output_contents[0].len(), plan.rows * 8);
        out.push(t.elapsed());
    }
    out
}

/// REST on one HTTP/1.1 keep-alive connection.
async fn rest_caller(plan: &Plan, until: Instant) -> Vec<Duration> {
    let (mut tx, conn) = hyper::client::conn::http1::handshake(connect(&plan.addr).await)
        .await
        .expect("an HTTP/1.1 handshake");
    tokio::spawn(conn);
    let uri: Uri = plan.path.parse().expect("a path");
    let host = HeaderValue::from_str(&plan.addr).expect("a host");
    let mut out = Vec::new();
    while Instant::now() < until {
        let t = Instant::now();
        let mut req = Request::new(Full::new(plan.body.clone()));
        *req.method_mut() = Method::POST;
        *req.uri_mut() = uri.clone();
        let h = req.headers_mut();
        h.insert(header::HOST, host.clone());
        for (k, v) in &plan.headers {
            h.insert(*k, v.clone());
        }
        tx.ready().await.expect("the connection is open");
        let resp = tx.send_request(req).await.expect("an answer");
        assert!(resp.status().is_success(), "{}", resp.status());
        let b = resp.into_body().collect().await.expect("the answer's body");
        let b = b.to_bytes();
        if plan.mode == "rest-binary" {
            assert!(b.len() >= plan.rows * 8, "{} bytes", b.len());
        }
        out.push(t.elapsed());
    }
    out
}

/// gRPC through tonic's generated client on a `Channel`.
async fn tonic_caller(plan: &Plan, until: Instant) -> Vec<Duration> {
    let ch = tonic::transport::Endpoint::from_shared(format!("http://{}", plan.addr))
        .expect("an endpoint")
        .tcp_nodelay(true)
        .connect()
        .await
        .expect("connect to the server");
    let mut c = GrpcInferenceServiceClient::new(ch)
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX);
    let mut out = Vec::new();
    while Instant::now() < until {
        let t = Instant::now();
        let r = c
            .model_infer(plan.message.clone())
            .await
            .expect("an answer")
            .into_inner();
        assert_eq!(r.raw_output_contents[0].len(), plan.rows * 8);
        out.push(t.elapsed());
    }
    out
}
