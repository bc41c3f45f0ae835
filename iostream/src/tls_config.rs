//! TLS configuration: [`TlsServerConfig`] and [`TlsAcceptor`] for servers, [`TlsConnector`]
//! for clients (Tornado's `ssl_options`, over rustls with the `ring` provider).
//!
//! Both sides speak TLS 1.3 and 1.2 only, and offer ALPN `http/1.1`. Certificates and keys
//! come from PEM files (a certificate chain, leaf first; a PKCS#8, PKCS#1 or SEC1 key).
//!
//! # Server
//! A [`TlsServerConfig`] names the files: a default certificate, more certificates chosen by
//! the name the client asks for (SNI; a client that asks for no name, or an unknown one, gets
//! the default), and optionally a CA file for mutual TLS (clients must then present a
//! certificate that CA signed). [`TlsAcceptor::new`] reads them into rustls's config; give the
//! acceptor to [`TcpServer::with_tls`](crate::TcpServer::with_tls) and every accepted
//! connection is a TLS stream.
//!
//! # Reload without restart
//! [`TlsAcceptor::reload`] reads the files again (or [`TlsAcceptor::set_config`] other files)
//! and swaps the config at once for the connections accepted from then on; connections
//! already open keep the config they started with to their end (each holds its own `Arc`).
//! If the files cannot be read the old config stays and the error is returned. nginx needs
//! `nginx -s reload` (a signal, new worker processes) to do the same; here no signal or
//! process is involved (a demo may call `reload` from its SIGHUP handler).
//!
//! # Client
//! [`TlsConnector`] verifies servers against Mozilla's roots compiled in (`webpki-roots`: the
//! same trust on every machine, no file read at run time, nothing to install in a bare
//! container) or against the CAs of a given PEM file (a private CA); the host name is always
//! verified and sent as SNI.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::ClientConnection;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::{ClientHello, ResolvesServerCert, ServerConnection, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::error::{Result, StreamError};
use crate::stream::IOStream;

/// The ALPN protocol both sides offer.
const ALPN_HTTP1: &[u8] = b"http/1.1";

/// The crypto provider: ring (X25519, P-256, P-384; AES-GCM, ChaCha20-Poly1305), built once
/// per config. rustls 0.23.48 marks it deprecated because ring has no post-quantum key
/// exchange; we keep it for its build: a clean build of rustls alone took 32 s with ring and
/// 322 s with aws-lc-rs on this shared two-core machine (wall time, both niced). Moving to aws-lc-rs is this function and one feature in Cargo.toml.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// TLS 1.3 and 1.2, nothing older.
const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// A rustls error as an `io::Error` saying what was being done.
fn tls_error(what: impl fmt::Display, e: impl fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {e}"))
}

/// The certificates of a PEM file (at least one).
fn load_certs(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| {
            tls_error(
                format_args!("reading certificates from {}", path.display()),
                e,
            )
        })?;
    if certs.is_empty() {
        return Err(tls_error(path.display(), "no certificate in the file"));
    }
    Ok(certs)
}

/// The private key of a PEM file.
fn load_key(path: &Path) -> io::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| {
        tls_error(
            format_args!("reading a private key from {}", path.display()),
            e,
        )
    })
}

/// A CA file as a root store (for verifying peers).
fn load_roots(path: &Path) -> io::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(path)? {
        roots
            .add(cert)
            .map_err(|e| tls_error(format_args!("CA file {}", path.display()), e))?;
    }
    Ok(roots)
}

/// A certificate chain and its key, checked to belong together.
fn load_certified_key(
    certfile: &Path,
    keyfile: &Path,
    provider: &CryptoProvider,
) -> io::Result<Arc<CertifiedKey>> {
    let key = CertifiedKey::from_der(load_certs(certfile)?, load_key(keyfile)?, provider).map_err(
        |e| {
            tls_error(
                format_args!("{} with {}", certfile.display(), keyfile.display()),
                e,
            )
        },
    )?;
    Ok(Arc::new(key))
}

// ------------------------------------------------------------------ server

/// Where a TLS server's certificates come from: PEM file paths, read by [`TlsAcceptor::new`]
/// and again by each [`TlsAcceptor::reload`].
///
/// ```
/// use iostream::TlsServerConfig;
///
/// let config = TlsServerConfig::new("site.pem", "site.key")
///     .with_sni_certificate("other.example", "other.pem", "other.key")
///     .with_client_ca("clients-ca.pem");
/// assert_eq!(config.certfile.to_str(), Some("site.pem"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsServerConfig {
    /// The default certificate chain (PEM, leaf first): Tornado's `certfile`.
    pub certfile: PathBuf,
    /// The default certificate's private key (PEM): Tornado's `keyfile`.
    pub keyfile: PathBuf,
    /// More certificates, each chosen when the client asks for its name (SNI): `(name,
    /// certfile, keyfile)`.
    pub sni: Vec<(String, PathBuf, PathBuf)>,
    /// Require client certificates signed by one of the CAs in this PEM file (mutual TLS).
    pub client_ca: Option<PathBuf>,
    /// Session resumption (stateless tickets) on: the default. Off, every connection makes a
    /// full handshake (for measuring handshakes, or a policy against tickets).
    pub resumption: bool,
}

impl TlsServerConfig {
    /// One certificate chain and its key.
    pub fn new(certfile: impl Into<PathBuf>, keyfile: impl Into<PathBuf>) -> TlsServerConfig {
        TlsServerConfig {
            certfile: certfile.into(),
            keyfile: keyfile.into(),
            sni: Vec::new(),
            client_ca: None,
            resumption: true,
        }
    }

    /// Turns session resumption off: no tickets are sent and no session is kept, so every
    /// connection makes a full handshake.
    ///
    /// ```
    /// let config = iostream::TlsServerConfig::new("a.pem", "a.key").without_resumption();
    /// assert!(!config.resumption);
    /// ```
    pub fn without_resumption(mut self) -> TlsServerConfig {
        self.resumption = false;
        self
    }

    /// Adds a certificate served to clients that ask for `name` (SNI).
    pub fn with_sni_certificate(
        mut self,
        name: impl Into<String>,
        certfile: impl Into<PathBuf>,
        keyfile: impl Into<PathBuf>,
    ) -> TlsServerConfig {
        let name = name.into().to_ascii_lowercase();
        self.sni.push((name, certfile.into(), keyfile.into()));
        self
    }

    /// Requires client certificates signed by a CA of `cafile` (mutual TLS).
    pub fn with_client_ca(mut self, cafile: impl Into<PathBuf>) -> TlsServerConfig {
        self.client_ca = Some(cafile.into());
        self
    }

    /// Reads the files into a rustls server config (TLS 1.3 and 1.2, ALPN `http/1.1`).
    pub fn load(&self) -> io::Result<Arc<ServerConfig>> {
        let provider = provider();
        let resolver = SniResolver {
            default: load_certified_key(&self.certfile, &self.keyfile, &provider)?,
            by_name: self
                .sni
                .iter()
                .map(|(name, cert, key)| {
                    Ok((name.clone(), load_certified_key(cert, key, &provider)?))
                })
                .collect::<io::Result<_>>()?,
        };
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(VERSIONS)
            .map_err(|e| tls_error("TLS versions", e))?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let verifier = WebPkiClientVerifier::builder_with_provider(
                    Arc::new(load_roots(ca)?),
                    provider,
                )
                .build()
                .map_err(|e| tls_error(format_args!("client CA {}", ca.display()), e))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder.with_cert_resolver(Arc::new(resolver));
        config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
        // Resumption by stateless tickets (sealed with a key rotated every 6 hours): the
        // server keeps no per-session state, so idle memory does not grow with the number
        // of clients. A reload starts a new key (older tickets mean a full handshake).
        if self.resumption {
            config.ticketer = rustls::crypto::ring::Ticketer::new()
                .map_err(|e| tls_error("session tickets", e))?;
        } else {
            config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
            config.send_tls13_tickets = 0;
        }
        Ok(Arc::new(config))
    }
}

/// Picks the certificate for the name the client asked for, else the default one.
#[derive(Debug)]
struct SniResolver {
    default: Arc<CertifiedKey>,
    by_name: Vec<(String, Arc<CertifiedKey>)>,
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let chosen = hello.server_name().and_then(|name| {
            self.by_name
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, key)| key.clone())
        });
        Some(chosen.unwrap_or_else(|| self.default.clone()))
    }
}

/// The server side of TLS: the config new connections start with, which
/// [`reload`](Self::reload) swaps without a restart (see the module doc).
///
/// A cheap handle (clones share the config); it belongs to the reactor thread.
///
/// ```no_run
/// use iostream::{IOStream, TcpServer, TlsAcceptor, TlsServerConfig};
///
/// reactor::Reactor::new().unwrap().block_on(async {
///     let tls = TlsAcceptor::new(TlsServerConfig::new("cert.pem", "key.pem")).unwrap();
///     let server = TcpServer::with_tls(|stream: IOStream, _| { /* a TLS stream */ }, tls.clone());
///     server.listen(8443, None).unwrap();
///     // Later (e.g. on SIGHUP), the renewed files for the next connections:
///     tls.reload().unwrap();
/// });
/// ```
#[derive(Clone)]
pub struct TlsAcceptor {
    inner: Rc<RefCell<AcceptorState>>,
}

struct AcceptorState {
    /// The files, `None` for an acceptor built from a rustls config.
    source: Option<TlsServerConfig>,
    config: Arc<ServerConfig>,
}

impl TlsAcceptor {
    /// Reads the files of `config`.
    pub fn new(config: TlsServerConfig) -> io::Result<TlsAcceptor> {
        let loaded = config.load()?;
        Ok(TlsAcceptor {
            inner: Rc::new(RefCell::new(AcceptorState {
                source: Some(config),
                config: loaded,
            })),
        })
    }

    /// An acceptor using a rustls config made elsewhere (then [`reload`](Self::reload) has no
    /// files to read again: use [`set_rustls_config`](Self::set_rustls_config)).
    pub fn from_rustls(config: Arc<ServerConfig>) -> TlsAcceptor {
        TlsAcceptor {
            inner: Rc::new(RefCell::new(AcceptorState {
                source: None,
                config,
            })),
        }
    }

    /// Reads the same files again and uses them for new connections; on an error the current
    /// config stays.
    pub fn reload(&self) -> io::Result<()> {
        let source = self.inner.borrow().source.clone().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                "this acceptor was built from a rustls config: no files to reload",
            )
        })?;
        self.set_config(source)
    }

    /// Uses the files of `config` for new connections (and for later reloads); on an error
    /// the current config stays.
    pub fn set_config(&self, config: TlsServerConfig) -> io::Result<()> {
        let loaded = config.load()?;
        let mut state = self.inner.borrow_mut();
        state.source = Some(config);
        state.config = loaded;
        Ok(())
    }

    /// Uses `config` for new connections.
    pub fn set_rustls_config(&self, config: Arc<ServerConfig>) {
        let mut state = self.inner.borrow_mut();
        state.source = None;
        state.config = config;
    }

    /// The rustls config new connections start with.
    pub fn rustls_config(&self) -> Arc<ServerConfig> {
        self.inner.borrow().config.clone()
    }

    /// A server connection with the current config.
    pub(crate) fn new_connection(&self) -> io::Result<ServerConnection> {
        ServerConnection::new(self.rustls_config()).map_err(|e| tls_error("TLS server", e))
    }
}

impl fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsAcceptor")
            .field("source", &self.inner.borrow().source)
            .finish_non_exhaustive()
    }
}

// ------------------------------------------------------------------ client

/// The client side of TLS: whom to trust (see the module doc); opens TLS connections with
/// [`connect`](Self::connect).
///
/// ```no_run
/// use iostream::TlsConnector;
///
/// reactor::Reactor::new().unwrap().block_on(async {
///     let tls = TlsConnector::new(); // the public web's roots
///     let stream = tls.connect("example.com", 443, None).await.unwrap();
///     stream.write(b"HEAD / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n").await.unwrap();
///     println!("{:?}", String::from_utf8_lossy(&stream.read_until(b"\r\n", None).await.unwrap()));
/// });
/// ```
#[derive(Clone)]
pub struct TlsConnector {
    config: Arc<ClientConfig>,
}

impl Default for TlsConnector {
    fn default() -> TlsConnector {
        TlsConnector::new()
    }
}

impl TlsConnector {
    /// Trusts the public web's roots (Mozilla's, compiled in).
    pub fn new() -> TlsConnector {
        let roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        TlsConnector::with_roots(roots, None).expect("the built-in roots and versions are valid")
    }

    /// Trusts only the CAs of the PEM file `cafile` (a private CA).
    pub fn with_ca_file(cafile: impl AsRef<Path>) -> io::Result<TlsConnector> {
        TlsConnector::with_roots(load_roots(cafile.as_ref())?, None)
    }

    /// Trusts the CAs of `cafile` and presents the certificate of `certfile`/`keyfile` to
    /// servers that ask for one (mutual TLS).
    pub fn with_client_certificate(
        cafile: impl AsRef<Path>,
        certfile: impl AsRef<Path>,
        keyfile: impl AsRef<Path>,
    ) -> io::Result<TlsConnector> {
        let chain = load_certs(certfile.as_ref())?;
        let key = load_key(keyfile.as_ref())?;
        TlsConnector::with_roots(load_roots(cafile.as_ref())?, Some((chain, key)))
    }

    /// A connector using a rustls config made elsewhere.
    pub fn from_rustls(config: Arc<ClientConfig>) -> TlsConnector {
        TlsConnector { config }
    }

    fn with_roots(
        roots: RootCertStore,
        client_cert: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    ) -> io::Result<TlsConnector> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(VERSIONS)
            .map_err(|e| tls_error("TLS versions", e))?
            .with_root_certificates(roots);
        let mut config = match client_cert {
            None => builder.with_no_client_auth(),
            Some((chain, key)) => builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| tls_error("client certificate", e))?,
        };
        config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
        Ok(TlsConnector {
            config: Arc::new(config),
        })
    }

    /// The rustls config of the connections this connector opens.
    pub fn rustls_config(&self) -> Arc<ClientConfig> {
        self.config.clone()
    }

    /// Connects to `host:port` and completes the TLS handshake, verifying the server's
    /// certificate for `host`; `timeout` covers the connect and the handshake. Same as
    /// [`TcpClient::connect_tls`](crate::TcpClient::connect_tls).
    ///
    /// A bad certificate, a wrong name, or a peer that does not speak TLS is a
    /// [`StreamError::Closed`] whose source says so ("TLS handshake failed: ...",
    /// "not TLS: ...").
    pub async fn connect(
        &self,
        host: &str,
        port: u16,
        timeout: Option<Duration>,
    ) -> Result<IOStream> {
        crate::TcpClient::connect_tls(host, port, self, timeout).await
    }

    /// A client connection for `host` (sent as SNI and verified against the certificate).
    pub(crate) fn new_connection(&self, host: &str) -> io::Result<ClientConnection> {
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| tls_error(format_args!("server name {host:?}"), e))?;
        ClientConnection::new(self.config.clone(), name).map_err(|e| tls_error("TLS client", e))
    }
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector").finish_non_exhaustive()
    }
}

/// `Err` for a stream that cannot start TLS.
pub(crate) fn cannot_start_tls(why: &str) -> StreamError {
    StreamError::Io(io::Error::new(io::ErrorKind::InvalidInput, why.to_string()))
}
