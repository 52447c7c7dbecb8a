//! The gRPC port over TLS (`[serve.tls]` with `--grpc-bind`): a tonic
//! client trusting the test CA (tests/data/tls) infers and checks health;
//! a plaintext client, a client that does not trust the CA, and (with
//! `client_ca`) a client without a certificate all fail cleanly, while
//! the server keeps serving.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use mlops::serve::grpc::proto::grpc_inference_service_client::GrpcInferenceServiceClient;
use mlops::serve::grpc::proto::{ModelInferRequest, ServerReadyRequest};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::{Value, json};
use tokio_rustls::rustls::ClientConfig;
use tonic::codegen::http::Uri;
use tonic::transport::{Channel, Endpoint};

use crate::common::{Test, repo, toml_str};
use crate::grpc::{grpc_addr, le64, raw_input, raw_out, rows, rt};
use crate::serve::{Server, numeric_model};

fn tls_dir() -> std::path::PathBuf {
    repo().join("tests/data/tls")
}

/// A connector that opens TCP, then TLS (ALPN h2) with `cfg`, for tonic.
#[derive(Clone)]
struct Tls(Arc<ClientConfig>);

impl tower_service::Service<Uri> for Tls {
    type Response = TokioIo<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let cfg = Arc::clone(&self.0);
        Box::pin(async move {
            let auth = uri.authority().expect("an authority").as_str().to_string();
            let tcp = tokio::net::TcpStream::connect(&auth).await?;
            let name = ServerName::try_from("localhost").unwrap();
            let s = tokio_rustls::TlsConnector::from(cfg)
                .connect(name, tcp)
                .await?;
            Ok(TokioIo::new(s))
        })
    }
}

/// A client configuration trusting the CA in `ca`, presenting `client`
/// (certificate, key) when given.
fn client_config(ca: &Path, client: Option<(&Path, &Path)>) -> Arc<ClientConfig> {
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let b = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut cfg = match client {
        None => b.with_no_client_auth(),
        Some((cert, key)) => b
            .with_client_auth_cert(
                CertificateDer::pem_file_iter(cert)
                    .unwrap()
                    .map(Result::unwrap)
                    .collect(),
                PrivateKeyDer::from_pem_file(key).unwrap(),
            )
            .unwrap(),
    };
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(cfg)
}

fn endpoint(addr: &str) -> Endpoint {
    Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
}

async fn tls_channel(
    addr: &str,
    cfg: Arc<ClientConfig>,
) -> Result<Channel, tonic::transport::Error> {
    endpoint(addr).connect_with_connector(Tls(cfg)).await
}

/// A server of the numeric model with `[serve.tls]` (plus `extra` keys)
/// and gRPC on a free port.
fn tls_server(t: &Test, extra: &str) -> (Server, String) {
    let d = tls_dir();
    t.write("model.json", numeric_model().to_json());
    t.write(
        "mlops.toml",
        format!(
            "[serve.tls]\ncert = {}\nkey = {}\n{extra}",
            toml_str(&d.join("server.pem").display().to_string()),
            toml_str(&d.join("server.key").display().to_string())
        ),
    );
    let s = Server::start(t, &["--model", "model.json", "--grpc-bind", "127.0.0.1:0"]);
    assert!(s.url.starts_with("https://"), "{}", s.url);
    let a = grpc_addr(&s);
    (s, a)
}

/// The predictions ModelInfer answers for `rows(3, f)` as raw FP64.
async fn infer_raw(ch: Channel, name: &str, f: usize) -> Vec<f64> {
    let x = rows(3, f);
    let r = GrpcInferenceServiceClient::new(ch)
        .model_infer(ModelInferRequest {
            model_name: name.into(),
            inputs: vec![raw_input("input", "FP64", &[3, f as i64])],
            raw_input_contents: vec![le64(&x).into()],
            ..ModelInferRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    raw_out(&r)
}

/// Over TLS the server is ready, and ModelInfer answers what REST V2 (over
/// HTTPS) answers.
async fn infers(ch: Channel, name: &str, f: usize, want: &[f64]) {
    let ready = GrpcInferenceServiceClient::new(ch.clone())
        .server_ready(ServerReadyRequest {})
        .await;
    assert!(ready.unwrap().into_inner().ready);
    assert_eq!(infer_raw(ch, name, f).await, want);
}

/// The REST V2 answer for `rows(3, f)` over HTTPS, trusting the test CA.
fn rest_answer(s: &Server, name: &str, f: usize) -> Vec<f64> {
    let ca =
        reqwest::Certificate::from_pem(&std::fs::read(tls_dir().join("ca.pem")).unwrap()).unwrap();
    let c = reqwest::blocking::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let body = json!({"inputs": [{"name": "input", "shape": [3, f], "datatype": "FP64", "data": rows(3, f)}]});
    let text = c
        .post(s.u(&format!("/v2/models/{name}/infer")))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap()
        .text()
        .unwrap();
    let r: Value = serde_json::from_str(&text).unwrap();
    r["outputs"][0]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[test]
fn grpc_over_tls_infers_and_checks_health_and_refuses_the_rest() {
    let t = Test::new();
    let (s, addr) = tls_server(&t, "");
    let (name, f) = (numeric_model().name.clone(), numeric_model().features.len());
    let want = rest_answer(&s, &name, f);
    let trusted = client_config(&tls_dir().join("ca.pem"), None);
    rt().block_on(async {
        let ch = tls_channel(&addr, Arc::clone(&trusted)).await.unwrap();
        infers(ch.clone(), &name, f, &want).await;
        // The health service over TLS.
        let mut h = tonic_health::pb::health_client::HealthClient::new(ch);
        let st = h
            .check(tonic_health::pb::HealthCheckRequest {
                service: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(
            st,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );

        // Plaintext HTTP/2 to the TLS port: an error, not a hang.
        let plain = match endpoint(&addr).connect().await {
            Err(e) => e.to_string(),
            Ok(ch) => GrpcInferenceServiceClient::new(ch)
                .server_ready(ServerReadyRequest {})
                .await
                .expect_err("plaintext against the TLS port should fail")
                .to_string(),
        };
        assert!(!plain.is_empty());

        // A client trusting another CA refuses the server's certificate.
        let other = client_config(&tls_dir().join("client/client-ca.pem"), None);
        let e = tls_channel(&addr, other).await.expect_err("untrusted CA");
        let chain = format!("{e:?}");
        assert!(chain.contains("UnknownIssuer"), "{chain}");

        // The server lives on for a trusted client.
        let ch = tls_channel(&addr, trusted).await.unwrap();
        infers(ch, &name, f, &want).await;
    });
    assert_eq!(s.stop(), 0);
}

#[test]
fn grpc_over_mutual_tls_needs_a_client_certificate() {
    let t = Test::new();
    let d = tls_dir();
    let (s, addr) = tls_server(
        &t,
        &format!(
            "client_ca = {}\n",
            toml_str(&d.join("client/client-ca.pem").display().to_string())
        ),
    );
    let (name, f) = (numeric_model().name.clone(), numeric_model().features.len());
    rt().block_on(async {
        // Without a client certificate: the handshake (or the first call)
        // fails.
        let bare = client_config(&d.join("ca.pem"), None);
        let failed = match tls_channel(&addr, bare).await {
            Err(_) => true,
            Ok(ch) => GrpcInferenceServiceClient::new(ch)
                .server_ready(ServerReadyRequest {})
                .await
                .is_err(),
        };
        assert!(failed, "a client without a certificate was served");
        let with = client_config(
            &d.join("ca.pem"),
            Some((&d.join("client/client.pem"), &d.join("client/client.key"))),
        );
        let ch = tls_channel(&addr, with).await.unwrap();
        assert_eq!(infer_raw(ch, &name, f).await.len(), 3);
    });
    assert_eq!(s.stop(), 0);
}
