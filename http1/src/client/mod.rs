//! # The HTTP/1.1 client
//!
//! Tornado's `httpclient` + `simple_httpclient` on the same layers as the server: requests go
//! out through an [`iostream::IOStream`], responses are read with the server's codecs.
//!
//! | module | Tornado | what |
//! |---|---|---|
//! | [`request`] | `HTTPRequest` | method, URL, headers, body (bytes or a producer), timeouts, redirects, limits, callbacks |
//! | [`response`] | `HTTPResponse` | status, reason, headers, body, effective URL, timing |
//! | [`error`] | `HTTPClientError`, `HTTPTimeoutError`, `HTTPStreamClosedError` | [`ClientError`]: DNS, refused, which timeout, protocol, limits, status |
//! | `connection` | `HTTP1Connection` (client side) | write one request, read one response (framing, 1xx, HEAD/204/304) |
//! | `pool` | `SimpleAsyncHTTPClient.queue` / `max_clients` | keep-alive connections per host, FIFO queue, stale-connection checks |
//! | [`fetch`] | `AsyncHTTPClient.fetch`, `HTTPClient` | [`HTTPClient::fetch`], [`fetch_blocking`] |
//! | [`testing`] | `AsyncHTTPTestCase`, `gen_test` | [`testing::TestServer`], [`testing::run_test`] |
//!
//! ```no_run
//! use http1::client::{HTTPClient, HTTPRequest};
//! use std::time::Duration;
//!
//! reactor::Reactor::new().unwrap().block_on(async {
//!     let client = HTTPClient::new();
//!     let request = HTTPRequest::new("http://localhost:8888/api")
//!         .method("POST")
//!         .header("Content-Type", "application/json")
//!         .body(r#"{"a": 1}"#)
//!         .request_timeout(Some(Duration::from_secs(5)));
//!     match client.fetch(request).await {
//!         Ok(r) => println!("{} {}: {}", r.code, r.reason, r.text()),
//!         Err(e) => eprintln!("{e}"),
//!     }
//! });
//! ```
//!
//! # One `HTTP1Connection` for both roles
//! As in Tornado, the response is read by [`HTTP1Connection`](crate::HTTP1Connection) in
//! client mode (`read_response`, in `response_reader.rs`): the field rules
//! ([`crate::rules`]), the body reader (fixed, chunked, close-delimited, gunzip), the chunked
//! and gzip decoders and the header type are the server's. The client adds what only it
//! does: writing the request (`connection.rs`), `100 Continue`, redirects, the pool.
//!
//! # Not yet
//! `https://` is served over a TLS stream (see [`fetch`] and [`HTTPClient::with_tls`]); no
//! proxy support; chunked
//! trailers are read and checked but not returned; the body of a response that arrives while
//! a large request body is still being written is not read (the write fails first).

pub mod error;
pub mod fetch;
pub mod request;
pub mod response;
pub mod testing;

pub(crate) mod connection;
mod pool;
pub(crate) mod response_reader; // pub(crate): crate::fuzzing reaches parse_response_head

pub use connection::EXPECT_CONTINUE_WAIT;
pub use error::{ClientError, Phase, TimeoutKind};
pub use fetch::{connect_stream, fetch_blocking, tls_handshake, BlockingHTTPClient, HTTPClient};
pub use request::{Body, BodyProducer, BodyWriter, HTTPRequest, Url};
pub use response::{HTTPResponse, ResponseHead, Timing};
pub use response_reader::read_response_head;
