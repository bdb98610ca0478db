//! The byte stream under a connection: TCP, TLS over TCP, or a Unix socket, behind one type.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use redkit_resp::{Error, Result};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
#[cfg(unix)]
use tokio::net::UnixStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::config::{Addr, Config, TlsConfig, TlsRoots};

/// An open byte stream to a server.
#[derive(Debug)]
pub(crate) enum Transport {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    #[cfg(unix)]
    Unix(UnixStream),
}

impl Transport {
    /// Open the stream `config` describes (without a timeout: the caller bounds the whole connect).
    pub(crate) async fn open(config: &Config) -> Result<Transport> {
        match (&config.addr, &config.tls) {
            (Addr::Tcp { host, port }, tls) => {
                let tcp = TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(|e| connect_error(&config.addr, e))?;
                tcp.set_nodelay(true)
                    .map_err(|e| connect_error(&config.addr, e))?;
                match tls {
                    None => Ok(Transport::Tcp(tcp)),
                    Some(tls) => {
                        let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config(tls)?));
                        let name = tls.server_name.clone().unwrap_or_else(|| host.clone());
                        let server_name = ServerName::try_from(name.clone())
                            .map_err(|_| Error::Config(format!("{name:?} is not a valid TLS server name")))?;
                        let stream = connector.connect(server_name, tcp).await.map_err(|e| Error::Io {
                            command: None,
                            source: io::Error::new(
                                e.kind(),
                                format!("TLS handshake with {} failed: {e}", config.addr),
                            ),
                        })?;
                        Ok(Transport::Tls(Box::new(stream)))
                    }
                }
            }
            #[cfg(unix)]
            (Addr::Unix(path), None) => UnixStream::connect(path)
                .await
                .map(Transport::Unix)
                .map_err(|e| connect_error(&config.addr, e)),
            #[cfg(unix)]
            (Addr::Unix(_), Some(_)) => Err(Error::Config("TLS over a Unix socket is not supported".into())),
            #[cfg(not(unix))]
            (Addr::Unix(_), _) => Err(Error::Config(
                "Unix sockets are not available on this platform".into(),
            )),
        }
    }
}

fn connect_error(addr: &Addr, e: io::Error) -> Error {
    Error::Io {
        command: None,
        source: io::Error::new(e.kind(), format!("connecting to {addr}: {e}")),
    }
}

fn tls_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Config(format!("TLS: {what}: {e}"))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn pem_certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| tls_error("reading PEM certificates", e))
}

/// The rustls client configuration for `tls`.
fn client_config(tls: &TlsConfig) -> Result<rustls::ClientConfig> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error("protocol versions", e))?;
    let builder = match &tls.roots {
        TlsRoots::DangerAcceptInvalidCerts => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(danger::AcceptAnything(provider()))),
        roots => {
            let mut store = rustls::RootCertStore::empty();
            match roots {
                TlsRoots::Custom(pem) => {
                    for cert in pem_certs(pem)? {
                        store
                            .add(cert)
                            .map_err(|e| tls_error("adding a CA certificate", e))?;
                    }
                }
                _ => {
                    let found = rustls_native_certs::load_native_certs();
                    for cert in found.certs {
                        // A malformed system certificate is skipped, as browsers do.
                        let _ = store.add(cert);
                    }
                }
            }
            if store.is_empty() {
                return Err(Error::Config("TLS: no trusted CA certificates found".into()));
            }
            builder.with_root_certificates(store)
        }
    };
    match &tls.client_cert {
        None => Ok(builder.with_no_client_auth()),
        Some((cert_pem, key_pem)) => {
            use rustls::pki_types::pem::PemObject;
            let key =
                PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| tls_error("reading the client key", e))?;
            builder
                .with_client_auth_cert(pem_certs(cert_pem)?, key)
                .map_err(|e| tls_error("client certificate", e))
        }
    }
}

mod danger {
    use std::sync::Arc;

    use tokio_rustls::rustls::client::danger::{
        HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
    };
    use tokio_rustls::rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
    use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use tokio_rustls::rustls::{DigitallySignedStruct, Error, SignatureScheme};

    /// Accepts any server certificate (signatures are still checked, so the handshake is well-formed).
    #[derive(Debug)]
    pub(super) struct AcceptAnything(pub(super) Arc<CryptoProvider>);

    impl ServerCertVerifier for AcceptAnything {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Transport::Tcp($s) => $e,
            Transport::Tls($s) => $e,
            #[cfg(unix)]
            Transport::Unix($s) => $e,
        }
    };
}

impl AsyncRead for Transport {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Transport {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Transport::Tcp(s) => s.is_write_vectored(),
            Transport::Tls(s) => s.is_write_vectored(),
            #[cfg(unix)]
            Transport::Unix(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}
