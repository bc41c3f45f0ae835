//! # testkit — the raw HTTP/1.1 client the workspace's tests talk to servers with
//!
//! The tests of `http1`, `web` and `tests` send hand-written bytes (often malformed on
//! purpose) and check what comes back exactly as framed on the wire. This crate holds what
//! they share, with no dependency but `std` (and `libc` for socket options and the fd limit):
//!
//! - [`Response`] and [`parse_response`]: one response parsed from the front of a byte buffer,
//!   its body framed by `Transfer-Encoding: chunked`, `Content-Length` or the close, with no
//!   body for HEAD, 1xx, 204 and 304. Anything malformed is an error, never guessed at.
//! - [`Client`]: a blocking connection with timeouts that sends raw bytes and reads one
//!   response at a time (a keep-alive or pipelined exchange), plus [`request_bytes`].
//! - [`certs`]: throwaway CAs and certificates made by the `openssl` CLI, for TLS tests.
//! - [`alloc`]: a counting global allocator, for the tests that count allocations or heap bytes.
//! - [`sockets`]: a client socket that closes with RST, the count of open fds, a bounded wait.
//! - [`postgres`]: a throwaway PostgreSQL cluster on a free port, for database tests.
//! - [`python`]: a Python script run to completion as a test's client, or skipped, saying so.
//!
//! ```
//! use testkit::parse_response;
//!
//! let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 204 No Content\r\n\r\n";
//! let (first, used) = parse_response(wire, false, false).unwrap().expect("complete");
//! assert_eq!((first.status, first.text()), (200, "hello"));
//! let (second, _) = parse_response(&wire[used..], false, false).unwrap().unwrap();
//! assert_eq!((second.status, second.reason.as_str()), (204, "No Content"));
//! ```
#![deny(missing_docs)]

pub mod alloc;
pub mod certs;
mod client;
pub mod postgres;
pub mod python;
mod response;
pub mod sockets;

pub use client::{request_bytes, Client};
pub use response::{parse_response, Response};
