//! TLS with rustls (`[serve.tls]` cert and key, PEM). Handshakes run in
//! their own tasks, so a slow or broken client never holds up the others.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;

use crate::error::{Error, Result, display_path};

/// Longest a client may take to finish its handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The rustls configuration of a certificate chain and key in PEM files;
/// with `client_ca`, clients must present a certificate signed by it.
///
/// # Errors
/// Unreadable or invalid files, or a key that does not match (exit 2).
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<ServerConfig>> {
    let bad = |p: &Path, what: &str, e: &dyn std::fmt::Display| {
        Error::usage(format!(
            "[serve.tls] {what} {}: {e}; give a PEM file",
            display_path(p)
        ))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, "cert", &e))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad(cert, "cert", &e))?;
    if certs.is_empty() {
        return Err(bad(cert, "cert", &"no certificate in it"));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, "key", &e))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::usage(format!("[serve.tls]: {e}")))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => builder.with_client_cert_verifier(client_verifier(ca, provider)?),
    };
    let mut cfg = builder.with_single_cert(certs, key).map_err(|e| {
        Error::usage(format!(
            "[serve.tls]: the certificate and key do not make a usable pair: {e}"
        ))
    })?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// A verifier accepting only client certificates signed by the CA in `ca`.
fn client_verifier(
    ca: &Path,
    provider: Arc<tokio_rustls::rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn tokio_rustls::rustls::server::danger::ClientCertVerifier>> {
    let bad = |e: &dyn std::fmt::Display| {
        Error::usage(format!(
            "[serve.tls] client_ca {}: {e}; give the CA certificate as PEM",
            display_path(ca)
        ))
    };
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).map_err(|e| bad(&e))? {
        roots.add(c.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
    }
    if roots.is_empty() {
        return Err(bad(&"no certificate in it"));
    }
    tokio_rustls::rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider,
    )
    .build()
    .map_err(|e| bad(&e))
}

/// A listener handing out TLS streams whose handshake is done.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: std::io::Result<SocketAddr>,
}

impl TlsListener {
    /// Accept on `listener` with `config`.
    #[must_use]
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> TlsListener {
        let addr = listener.local_addr();
        let (tx, rx) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(x) => x,
                    Err(_) => {
                        // Out of file descriptors and the like: wait a moment.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let out = tx.clone();
                tokio::spawn(async move {
                    if let Ok(Ok(s)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
                    {
                        let _ = out.send((s, peer)).await;
                    }
                });
                if tx.is_closed() {
                    return;
                }
            }
        });
        TlsListener { rx, addr }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(x) => x,
            // The accept loop never ends while we hold the receiver.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        match &self.addr {
            Ok(a) => Ok(*a),
            Err(e) => Err(std::io::Error::new(e.kind(), e.to_string())),
        }
    }
}
