//! Tornado's `iostream`, `tcpserver`, `tcpclient` and `netutil`, on the [`reactor`] crate.
//!
//! The second layer of the stack (`reactor` → `iostream` → `http1` → `web`). It turns a
//! non-blocking fd, registered once with the reactor (edge-triggered), into buffered async
//! reads and writes; `http1` above it parses what [`IOStream`] has buffered and appends its
//! responses to the stream's write buffer, and never sees the poller. In the request
//! walk-through of `ARCHITECTURE.md` (repository root) this crate is the `read(2)` of step 4
//! and the `send(2)` of step 9, and the accept loop before them. A line-based example on its
//! own: `cargo run -p iostream --example chat`.
//!
//! * [`IOStream`] (`stream.rs`): buffered async reads (`read_until`, `read_bytes`, ...) and
//!   writes on a non-blocking fd registered once with the reactor; plus the zero-copy layer
//!   `fill_until` / `buffered` / `consume` / `write_buffer` / `flush` used by `http1`.
//! * `ReadBuffer` (`read_buffer.rs`) and `WriteBuffer` (`write_buffer.rs`): the buffers behind it.
//! * [`bind_sockets`], [`bind_unix_socket`] (`netutil.rs`): listening sockets.
//! * [`TcpServer`] (`tcpserver.rs`): accepts connections and hands them to a
//!   [`StreamHandler`].
//! * [`TcpClient`] (`tcpclient.rs`): connects, resolving names off the loop.
//! * TLS (`tls.rs`, `stream/tls_io.rs`, `tls_config.rs`): an `IOStream` whose transport is
//!   rustls over the fd, used exactly like a plain one; [`TlsAcceptor`] (server: PEM files,
//!   SNI, mutual TLS, reload without restart) for [`TcpServer::with_tls`], [`TlsConnector`]
//!   (client: built-in roots or a CA file) for [`TcpClient::connect_tls`].
//! * [`StreamError`] (`error.rs`): what can go wrong.
//! * With the `futures-io` feature (`stream/futures_io.rs`): `futures-io`'s `AsyncRead` and
//!   `AsyncWrite` for [`IOStream`], plain or TLS, and `AsyncBufRead` for `BufStream`, so that
//!   crates written for those traits (WebSocket clients, codecs, database drivers, `futures`'
//!   `copy`, ...) run over our streams; see the example below.
//! * `sys.rs`: the few raw syscalls, the crate's only `unsafe`.
//!
//! ```
//! use iostream::{IOStream, TcpClient, TcpServer};
//! use reactor::Reactor;
//!
//! Reactor::new().unwrap().block_on(async {
//!     // An echo server...
//!     let server = TcpServer::new(|stream: IOStream, _| {
//!         reactor::spawn(async move {
//!             while let Ok(data) = stream.read_bytes(64 * 1024, true).await {
//!                 if stream.write(&data).await.is_err() {
//!                     break;
//!                 }
//!             }
//!         });
//!     });
//!     let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
//!     // ...and a client.
//!     let stream = TcpClient::connect("localhost", port, None).await.unwrap();
//!     stream.write(b"ping\r\n").await.unwrap();
//!     assert_eq!(stream.read_until(b"\r\n", Some(1024)).await.unwrap(), b"ping\r\n");
//! });
//! ```
//!
//! # `futures-io`
//!
//! `iostream = { ..., features = ["futures-io"] }` adds the ecosystem's I/O traits on top of
//! the stream's own buffers: reads hand out buffered bytes first and return `0` at the end of
//! the stream; writes queue (up to the write buffer's limit, `Pending` while it is full);
//! `flush` sends; `close` flushes and shuts down the writing side (TLS: `close_notify` first).
//! Here a client we did not write, `async-tungstenite`'s futures-io flavour, speaks WebSocket
//! over an `IOStream` to a peer that answers by hand:
//!
#![cfg_attr(feature = "futures-io", doc = "```")]
#![cfg_attr(not(feature = "futures-io"), doc = "```ignore")]
//! use futures_util::{AsyncReadExt, AsyncWriteExt, SinkExt, StreamExt};
//! use async_tungstenite::tungstenite::Message;
//! use iostream::IOStream;
//!
//! let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
//! reactor::Reactor::new().unwrap().block_on(async {
//!     let (client, mut server) = (IOStream::new(a.into()).unwrap(), IOStream::new(b.into()).unwrap());
//!     reactor::spawn(async move {
//!         // The server's side, with the same traits: the handshake, then one binary frame.
//!         let head = server.read_until(b"\r\n\r\n", Some(4096)).await.unwrap();
//!         let key = String::from_utf8(head).unwrap().lines()
//!             .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ").map(str::to_owned)).unwrap();
//!         let accept = async_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
//!         let answer = format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
//!                               Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n");
//!         server.write_all(answer.as_bytes()).await.unwrap();
//!         server.write_all(&[0x82, 2, b'h', b'i']).await.unwrap(); // FIN + binary, "hi"
//!         server.flush().await.unwrap();
//!         let mut rest = Vec::new();
//!         let _ = server.read_to_end(&mut rest).await; // until the client goes
//!     });
//!     let (mut ws, _) = async_tungstenite::client_async("ws://localhost/", client).await.unwrap();
//!     assert_eq!(ws.next().await.unwrap().unwrap(), Message::Binary(b"hi".to_vec()));
//! });
//! ```
#![deny(missing_docs)]
#![deny(unsafe_code)] // except in `sys`, the syscall boundary

mod buffer_pool;
mod error;
mod netutil;
mod read_buffer;
mod stream;
#[allow(unsafe_code)]
mod sys;
mod tcpclient;
mod tcpserver;
mod tls;
mod tls_config;
mod write_buffer;

pub use crate::error::{Result, StreamError};
pub use crate::netutil::{bind_sockets, bind_unix_socket, Address};
#[cfg(feature = "futures-io")]
pub use crate::stream::futures_io::BufStream;
pub use crate::stream::{
    IOStream, DEFAULT_MAX_BUFFER_SIZE, DEFAULT_MAX_WRITE_BUFFER_SIZE, DEFAULT_READ_CHUNK_SIZE,
    IDLE_KEEP, IDLE_KEEP_WRITE, SENDFILE_FALLBACK_CHUNK,
};
pub use crate::tcpclient::TcpClient;
pub use crate::tcpserver::{
    StreamHandler, TcpServer, DEFAULT_ACCEPT_PAUSE, DEFAULT_BACKLOG, DEFAULT_MAX_ACCEPTS_PER_TURN,
};
pub use crate::tls::TLS_BUFFER_LIMIT;
pub use crate::tls_config::{TlsAcceptor, TlsConnector, TlsServerConfig};
/// The TLS library, for its config types ([`TlsAcceptor::from_rustls`], ...).
pub use rustls;

/// Resolves `host` to socket addresses without blocking the loop (IP literals directly, names on
/// a helper thread), as [`TcpClient::connect`] does.
pub async fn resolve(host: &str, port: u16) -> std::io::Result<Vec<std::net::SocketAddr>> {
    tcpclient::resolve(host, port).await
}
