//! A small load generator for `scripts/bench/grpc.sh`: the same FP64
//! `[rows, F]` batch sent to `mlops serve` for `seconds`, by `concurrency`
//! callers, over gRPC (raw tensors), REST V2 JSON or REST V2 binary tensors.
//! Prints one JSON line: calls, rows per second, p50 and p99 latency (ms).
//!
//! cargo run --release --example grpc_load -- MODE ADDR MODEL FEATURES ROWS CONCURRENCY SECONDS
//! (MODE: grpc, rest-json or rest-binary; ADDR: host:port of that protocol)

use std::time::{Duration, Instant};

use mlops::serve::grpc::proto::ModelInferRequest;
use mlops::serve::grpc::proto::grpc_inference_service_client::GrpcInferenceServiceClient;
use mlops::serve::grpc::proto::model_infer_request::InferInputTensor;

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [mode, addr, model, f, rows, conc, secs] = a.as_slice() else {
        eprintln!("usage: grpc_load MODE ADDR MODEL FEATURES ROWS CONCURRENCY SECONDS");
        std::process::exit(2);
    };
    let (f, rows): (usize, usize) = (f.parse().unwrap(), rows.parse().unwrap());
    let (conc, secs): (usize, f64) = (conc.parse().unwrap(), secs.parse().unwrap());
    let x: Vec<f64> = (0..rows * f).map(|i| (i % 97) as f64 * 1.5 + 1.0).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let lat: Vec<Duration> = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..conc {
            let (mode, addr, model, x) = (mode.clone(), addr.clone(), model.clone(), x.clone());
            tasks.push(tokio::spawn(async move {
                caller(&mode, &addr, &model, f, rows, &x, until).await
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    let wall = started.elapsed().as_secs_f64();
    let mut ms: Vec<f64> = lat.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let q = |p: f64| {
        ms.get(((ms.len() as f64 * p) as usize).min(ms.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "{{\"mode\":\"{mode}\",\"rows\":{rows},\"concurrency\":{conc},\"calls\":{},\"rows_per_s\":{:.0},\"p50_ms\":{:.3},\"p99_ms\":{:.3}}}",
        ms.len(),
        (ms.len() * rows) as f64 / wall,
        q(0.50),
        q(0.99)
    );
}

async fn caller(
    mode: &str,
    addr: &str,
    model: &str,
    f: usize,
    rows: usize,
    x: &[f64],
    until: Instant,
) -> Vec<Duration> {
    let mut out = Vec::new();
    let raw: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
    if mode == "grpc" {
        let ch = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut c = GrpcInferenceServiceClient::new(ch)
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        let req = ModelInferRequest {
            model_name: model.into(),
            inputs: vec![InferInputTensor {
                name: "input".into(),
                datatype: "FP64".into(),
                shape: vec![rows as i64, f as i64],
                ..Default::default()
            }],
            raw_input_contents: vec![raw.into()],
            ..Default::default()
        };
        while Instant::now() < until {
            let t = Instant::now();
            let r = c.model_infer(req.clone()).await.unwrap().into_inner();
            assert_eq!(r.raw_output_contents[0].len(), rows * 8);
            out.push(t.elapsed());
        }
        return out;
    }
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/v2/models/{model}/infer");
    let (body, header_len) = if mode == "rest-binary" {
        let head = format!(
            r#"{{"inputs":[{{"name":"input","shape":[{rows},{f}],"datatype":"FP64","parameters":{{"binary_data_size":{}}}}}],"outputs":[{{"name":"prediction","parameters":{{"binary_data":true}}}}]}}"#,
            raw.len()
        );
        let n = head.len();
        let mut b = head.into_bytes();
        b.extend_from_slice(&raw);
        (b, Some(n))
    } else {
        let doc = serde_json::json!({"inputs": [{"name": "input", "shape": [rows, f], "datatype": "FP64", "data": x}]});
        (doc.to_string().into_bytes(), None)
    };
    // Shared, not copied per call (as the gRPC request's raw bytes are).
    let body = bytes::Bytes::from(body);
    while Instant::now() < until {
        let t = Instant::now();
        let mut r = http.post(&url).body(body.clone());
        if let Some(n) = header_len {
            r = r
                .header("inference-header-content-length", n)
                .header("content-type", "application/octet-stream");
        } else {
            r = r.header("content-type", "application/json");
        }
        let resp = r.send().await.unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
        let _ = resp.bytes().await.unwrap();
        out.push(t.elapsed());
    }
    out
}
