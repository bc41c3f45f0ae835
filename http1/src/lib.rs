//! # http1 — Tornado's HTTP/1.1 server, on `iostream`
//!
//! The third layer of the stack (`reactor` → `iostream` → `http1` → `web`): Tornado's
//! `http1connection`, `httpserver` and the parts of `httputil` they use. It reads and writes
//! through [`iostream::IOStream`] and never touches epoll.
//!
//! | module | Tornado | what |
//! |---|---|---|
//! | [`server`] | `HTTPServer` | a `TcpServer` whose `handle_stream` starts an [`HTTP1ServerConnection`] |
//! | [`server_connection`] | `HTTP1ServerConnection` | the request loop: keep-alive, pipelining, lingering close |
//! | `shutdown` | `HTTPServer.close_all_connections` | graceful shutdown: [`HTTPServer::shutdown`] |
//! | `timeouts` | `IOStream` timeouts, `_maybe_add_error_listener` | a fill or flush within a time limit; the keep-alive idle timer |
//! | [`connection`] | `HTTP1Connection` | one message: head, body, the delegate calls; the response writer; `read_response` for the client |
//! | [`detach`] | `HTTP1Connection.detach` | the stream handed over after `101 Switching Protocols` (WebSocket) |
//! | [`delegate`] | `HTTPServerConnectionDelegate`, `HTTPMessageDelegate` | the traits the layer above implements |
//! | [`parse`], [`request`] | `parse_request_start_line`, `HTTPHeaders.parse` | the head, its RFC 9112 rules, the body framing |
//! | [`headers`] | `HTTPHeaders` | headers to read: case-insensitive, ordered, multi-valued; borrowed from the read buffer or a kept copy |
//! | [`header_block`], [`header_value`] | `HTTPHeaders` (response side) | response fields in wire form, checked as pushed (what a response is written from); the values they take |
//! | [`rules`] | `httputil` checks, `_can_keep_alive`, `_read_body`'s framing | the field rules of both roles: lengths, codings, `Connection`, tokens, reasons |
//! | `body` | `_read_body`, `_read_fixed_body`, `_read_chunked_body`, `_read_body_until_close` | the one body reader of both roles: fixed, chunked, to the close, gunzip |
//! | [`chunked`] | `_read_chunked_body` | the chunked body decoder |
//! | [`response`] | `write_headers` / `write` / `finish` | status line, headers, body framing, length checks |
//! | [`gzip`] | `_GzipMessageDelegate` | bounded gzip request-body decompression |
//! | [`workers`](mod@workers) | `fork_processes`, `reuse_port` | thread-per-core servers on one port (`SO_REUSEPORT`), shutdown on signals |
//! | [`xheaders`] | `_apply_xheaders` | X-Real-IP, X-Forwarded-For, X-Forwarded-Proto, X-Scheme |
//! | [`date`] | `httputil.format_timestamp` | the `Date` header, once a second |
//! | [`params`] | `HTTP1ConnectionParameters` | limits, timeouts, switches |
//! | [`client`] | `httpclient`, `simple_httpclient`, `testing` | [`HTTPClient::fetch`], the keep-alive pool, test helpers |
//!
//! On the keep-alive path nothing is allocated per request: the head is parsed in place and
//! borrows the read buffer, the read and write buffers are reused, the delegate is returned by
//! value and its futures are stored inline (no `Box`), the `Date` comes from a per-second
//! cache, and the idle timeout is one timer per connection rather than one per request
//! (`tests/alloc.rs` counts: 0 allocations over 10,000+ keep-alive requests).
//!
//! In the request walk-through of `ARCHITECTURE.md` (repository root) this crate is steps 5, 6
//! and 8: the head parsed in place, the body framed and handed to the delegate, the response
//! framed into the stream's write buffer; `web` is the delegate. The same server with a bare
//! delegate and no framework: `cargo run -p http1 --example hello`.
//!
//! A server with a bare delegate, and a client (from `iostream`) asking it once:
//!
//! ```
//! use http1::*;
//!
//! struct Hello;
//! struct HelloMessage;
//! static HEADERS: HeaderBlock =
//!     HeaderBlock::from_lines("Content-Type: text/plain\r\nContent-Length: 13\r\n");
//!
//! impl HTTPServerConnectionDelegate for Hello {
//!     type Message = HelloMessage;
//!     fn start_request(&self, _: &ConnectionContext) -> HelloMessage {
//!         HelloMessage
//!     }
//! }
//! impl HTTPMessageDelegate for HelloMessage {
//!     async fn headers_received(&mut self, _: &RequestHead<'_>, _: &mut HTTP1Connection<'_>) {}
//!     async fn finish(&mut self, conn: &mut HTTP1Connection<'_>) {
//!         let _ = conn.write_response(ResponseStartLine::OK, &HEADERS, b"Hello, World!").await;
//!     }
//! }
//!
//! reactor::Reactor::new().unwrap().block_on(async {
//!     let server = HTTPServer::new(Hello, HTTP1ConnectionParameters::default());
//!     let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
//!     let client = iostream::TcpClient::connect("127.0.0.1", port, None).await.unwrap();
//!     client.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
//!     let head = client.read_until(b"\r\n\r\n", Some(4096)).await.unwrap();
//!     assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"));
//!     assert_eq!(client.read_bytes(13, false).await.unwrap(), b"Hello, World!");
//! });
//! ```

#![deny(missing_docs)]

mod body;
pub mod chunked;
pub mod client;
pub mod connection;
pub mod date;
pub mod delegate;
pub mod detach;
mod framing_facts;
#[doc(hidden)]
pub mod fuzzing;
pub mod gzip;
pub mod header_block;
pub mod header_value;
pub mod headers;
pub mod params;
pub mod parse;
pub mod request;
pub mod response;
pub mod rules;
pub mod server;
pub mod server_connection;
mod shutdown;
mod timeouts;
pub mod workers;
pub mod xheaders;

pub use crate::client::{ClientError, HTTPClient, HTTPRequest, HTTPResponse};
pub use crate::connection::HTTP1Connection;
pub use crate::delegate::{ConnectionContext, HTTPMessageDelegate, HTTPServerConnectionDelegate};
pub use crate::detach::Detached;
pub use crate::header_block::{HeaderBlock, HeaderName, IntoHeaderName, InvalidField};
pub use crate::header_value::{HeaderValue, HexTag};
pub use crate::headers::HTTPHeaders;
pub use crate::params::HTTP1ConnectionParameters;
pub use crate::parse::RequestError;
pub use crate::request::{BodyFraming, OwnedRequestHead, RequestHead, Version};
pub use crate::response::{HTTPOutputError, ResponseStartLine};
pub use crate::server::HTTPServer;
pub use crate::server_connection::HTTP1ServerConnection;
pub use crate::workers::{workers, WorkerInfo, Workers, WorkersExit, WorkersHandle};
