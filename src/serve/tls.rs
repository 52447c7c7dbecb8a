//! TLS with rustls (`[serve.tls]` cert and key, PEM, and optionally a CA
//! for client certificates). Handshakes run in each connection's own task
//! ([`super::conn`]), within the header timeout and holding a connection
//! slot, so a slow or broken client never holds up the others.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;

use crate::error::{Error, Result, display_path};

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
