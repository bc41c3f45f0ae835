//! Handing a connection's stream over after `101 Switching Protocols` (Tornado's
//! `HTTP1Connection.detach()`): how a protocol such as WebSocket leaves HTTP.
//!
//! A delegate that answers `101` calls [`HTTP1Connection::detach`] with a [`Detached`]: the
//! function that serves the stream from then on. When the delegate's `finish` returns, the
//! server connection's request loop ends: it sends the `101` (and whatever was written
//! before), stops its header and idle timers, and runs the function on the stream. Bytes the
//! client sent after its request (a WebSocket client may send frames at once) stay in the
//! stream's read buffer ([`IOStream::buffered`]), so the new owner reads them first. When the
//! function's future completes, the stream is closed and the server delegate's `on_close`
//! runs, as for any connection.
//!
//! ```
//! use http1::{Detached, HTTP1Connection};
//! fn hand_over(conn: &mut HTTP1Connection<'_>) {
//!     let echo: Detached = Box::new(|stream| {
//!         Box::pin(async move {
//!             while let Ok(n) = stream.fill(1).await {
//!                 let bytes = stream.buffered().to_vec();
//!                 stream.consume(n);
//!                 if stream.write(&bytes).await.is_err() {
//!                     break;
//!                 }
//!             }
//!         })
//!     });
//!     conn.detach(echo);
//! }
//! ```
//!
//! [`HTTP1Connection::detach`]: crate::HTTP1Connection::detach

/// The stream a [`Detached`] owner serves (re-exported so that the layer above names it
/// through http1).
pub use iostream::IOStream;
use std::future::Future;
use std::pin::Pin;

/// What serves a stream once HTTP has handed it over: called once with the stream (its read
/// buffer may already hold the new protocol's first bytes); the stream closes when the future
/// it returns completes.
pub type Detached = Box<dyn for<'s> FnOnce(&'s IOStream) -> Pin<Box<dyn Future<Output = ()> + 's>>>;
