//! Test helpers in the manner of Tornado's `AsyncHTTPTestCase` and `gen_test`: start a server
//! on an ephemeral port of the current reactor, fetch from it with a client of its own, shut
//! it down.
//!
//! ```
//! use http1::client::testing::{run_test, TestServer};
//! use http1::*;
//!
//! struct Hello;
//! struct HelloMessage;
//! impl HTTPServerConnectionDelegate for Hello {
//!     type Message = HelloMessage;
//!     fn start_request(&self, _: &ConnectionContext) -> HelloMessage {
//!         HelloMessage
//!     }
//! }
//! impl HTTPMessageDelegate for HelloMessage {
//!     async fn headers_received(&mut self, _: &RequestHead<'_>, _: &mut HTTP1Connection<'_>) {}
//!     async fn finish(&mut self, conn: &mut HTTP1Connection<'_>) {
//!         let _ = conn.write_headers(ResponseStartLine::OK, &HeaderBlock::new(), Some(b"hi")).await;
//!         let _ = conn.finish().await;
//!     }
//! }
//!
//! run_test(async {
//!     let server = TestServer::start(Hello).unwrap();
//!     let response = server.fetch("/").await.unwrap();
//!     assert_eq!((response.code, response.text().as_ref()), (200, "hi"));
//!     server.shutdown().await;
//! });
//! ```

use super::error::ClientError;
use super::fetch::HTTPClient;
use super::request::HTTPRequest;
use super::response::HTTPResponse;
use crate::delegate::HTTPServerConnectionDelegate;
use crate::params::HTTP1ConnectionParameters;
use crate::server::HTTPServer;
use reactor::Reactor;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// How long [`run_test`] lets a test run (Tornado's `ASYNC_TEST_TIMEOUT`): 5 s.
pub const DEFAULT_TEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs `test` on a fresh reactor (on this thread), failing (panicking) if it takes longer
/// than [`DEFAULT_TEST_TIMEOUT`] (Tornado's `gen_test`).
pub fn run_test<F: Future>(test: F) -> F::Output {
    run_test_with_timeout(DEFAULT_TEST_TIMEOUT, test)
}

/// [`run_test`] with another time limit.
///
/// # Panics
/// If the reactor cannot be created, or `test` does not finish within `limit`.
pub fn run_test_with_timeout<F: Future>(limit: Duration, test: F) -> F::Output {
    let reactor = Reactor::new().expect("cannot create a reactor");
    reactor
        .block_on(reactor::timeout(limit, test))
        .unwrap_or_else(|_| panic!("test timed out after {limit:?}"))
}

/// A server listening on `127.0.0.1` on an ephemeral port of the current reactor, with a
/// client to fetch from it (Tornado's `AsyncHTTPTestCase`: `get_app`, `fetch`, `get_url`).
pub struct TestServer {
    server: HTTPServer,
    addr: SocketAddr,
    client: HTTPClient,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// Serves `delegate` with default parameters. Call inside the reactor (`block_on`,
    /// [`run_test`]).
    pub fn start<D: HTTPServerConnectionDelegate>(delegate: D) -> io::Result<TestServer> {
        TestServer::start_with(delegate, HTTP1ConnectionParameters::default())
    }

    /// Serves `delegate` with `params`.
    pub fn start_with<D: HTTPServerConnectionDelegate>(
        delegate: D,
        params: HTTP1ConnectionParameters,
    ) -> io::Result<TestServer> {
        TestServer::from_server(HTTPServer::new(delegate, params))
    }

    /// Makes `server` listen on `127.0.0.1:0` (for a server built another way, e.g. by `web`).
    pub fn from_server(server: HTTPServer) -> io::Result<TestServer> {
        let addr = *server
            .listen(0, Some("127.0.0.1"))?
            .first()
            .ok_or_else(|| io::Error::other("no address bound"))?;
        Ok(TestServer {
            server,
            addr,
            client: HTTPClient::new(),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:{port}{path}` (Tornado's `get_url`).
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.addr.port(), path)
    }

    /// The server.
    pub fn server(&self) -> &HTTPServer {
        &self.server
    }

    /// The client used by [`fetch`](Self::fetch) (its pool is shared by every fetch).
    pub fn client(&self) -> &HTTPClient {
        &self.client
    }

    /// GETs `path`; any status is an `Ok` response (`raise_error` off, as in Tornado's
    /// `AsyncHTTPTestCase.fetch`).
    pub async fn fetch(&self, path: &str) -> Result<HTTPResponse, ClientError> {
        self.fetch_request(HTTPRequest::new(path)).await
    }

    /// Fetches `request`, whose URL may be a path (`/x?y`), made absolute with
    /// [`url`](Self::url); `raise_error` is turned off.
    pub async fn fetch_request(&self, request: HTTPRequest) -> Result<HTTPResponse, ClientError> {
        let mut request = request.raise_error(false);
        if request.url.starts_with('/') {
            request.url = self.url(&request.url);
        }
        self.client.fetch(request).await
    }

    /// Stops accepting, closes the client's idle connections, and waits (at most 1 s) until
    /// the server's connections are closed.
    pub async fn shutdown(self) {
        self.client.close();
        let _ = self.server.shutdown(Duration::from_secs(1)).await;
    }
}
