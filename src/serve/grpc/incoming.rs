//! The gRPC port's connections, accepted as the HTTP server accepts
//! ([`crate::serve::conn::accept_each`]): at most `max_connections` open,
//! a TLS handshake (when `[serve.tls]` is set; ALPN `h2`) in the
//! connection's own task within the header timeout and holding its slot,
//! then handed to the HTTP/2 driver already handshaken. So tonic needs no TLS feature
//! and the build keeps one rustls crypto provider (ring).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tonic::transport::server::{Connected, TcpConnectInfo};

use crate::serve::conn;

/// A connection's bytes: plain HTTP/2 (h2c) or TLS.
enum Io {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

/// An accepted (and handshaken) connection, holding its slot until it is
/// dropped.
pub struct Conn {
    io: Io,
    info: TcpConnectInfo,
    _slot: OwnedSemaphorePermit,
}

/// The rustls configuration of `[serve.tls]` for gRPC: the same
/// certificate, key and client CA, offering only HTTP/2 in ALPN.
pub fn h2_acceptor(http: &Arc<ServerConfig>) -> TlsAcceptor {
    let mut cfg = ServerConfig::clone(http);
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    TlsAcceptor::from(Arc::new(cfg))
}

/// Accept on `listener` until `stop` turns true: the stream of ready
/// connections for the HTTP/2 driver to serve.
pub fn accept(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    limits: conn::Limits,
    stop: watch::Receiver<bool>,
) -> Incoming {
    let (tx, rx) = mpsc::channel(64);
    let local = listener.local_addr().ok();
    tokio::spawn(conn::accept_each(
        listener,
        limits.max_connections,
        stop,
        move |tcp, peer, slot| {
            let (tx, tls) = (tx.clone(), tls.clone());
            tokio::spawn(async move {
                let io = match tls {
                    None => Io::Plain(tcp),
                    Some(a) => match conn::handshake(&a, tcp, limits.header_timeout).await {
                        Some(s) => Io::Tls(Box::new(s)),
                        None => return,
                    },
                };
                let info = TcpConnectInfo {
                    local_addr: local,
                    remote_addr: Some(peer),
                };
                let _ = tx
                    .send(Conn {
                        io,
                        info,
                        _slot: slot,
                    })
                    .await;
            });
        },
    ));
    Incoming(rx)
}

/// The connections [`accept`] makes ready, in the order they are.
pub struct Incoming(mpsc::Receiver<Conn>);

impl Incoming {
    /// The next ready connection; `None` once the listener has stopped.
    pub async fn next(&mut self) -> Option<Conn> {
        self.0.recv().await
    }
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.info.clone()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.io {
            Io::Plain(s) => s.is_write_vectored(),
            Io::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
