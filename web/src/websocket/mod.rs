//! The WebSocket protocol (RFC 6455) and its permessage-deflate extension (RFC 7692), as a pure
//! codec: bytes in, frames and messages out, and back. Tornado's `WebSocketProtocol13` framing,
//! without the connection: nothing here reads a socket, so every rule can be tested (and
//! fuzzed) on plain byte slices.
//!
//! The pieces, from the wire up:
//! - [`frame`]: the frame header ([`FrameHeader`]), decoded incrementally with the stateless
//!   rules (masking per [`Role`], reserved bits and opcodes, control frame limits);
//! - [`mask`]: XOR masking of payloads in place;
//! - [`encode`]: frame headers and payloads written into a `Vec<u8>` ([`FrameEncoder`]);
//! - [`message`]: the [`MessageReader`], which reassembles fragments, answers control frames
//!   between them, validates text as it arrives ([`utf8`]) and parses close frames ([`close`]);
//! - [`writer`]: the [`MessageWriter`], one message out (compressed when negotiated);
//! - [`deflate`]: per-message compression and bounded decompression ([`Deflater`],
//!   [`Inflater`]);
//! - [`extension`]: the `Sec-WebSocket-Extensions` negotiation of permessage-deflate, server
//!   and client side;
//! - [`handshake`]: `Sec-WebSocket-Accept`, the checks of a client's upgrade request, and the
//!   subprotocol list;
//! - [`error`]: [`ProtocolError`], each with the close code the connection must send;
//! - [`client`]: [`websocket_connect`] and the [`WebSocketClientConnection`] (a connection,
//!   the one part here that does I/O).
//!
//! On top of the codec, the server side (Tornado's `WebSocketHandler`):
//! - [`handler`]: the [`WebSocketHandler`] trait an application implements;
//! - [`route`]: [`websocket_url`], a route running the opening handshake inside the normal
//!   routing, then handing the stream over (`http1::detach`);
//! - [`socket`]: the [`WebSocket`] handle (`write_message`, `ping`, `close`, and
//!   `render_string` with the application's templates), which writes frames into the
//!   stream's write buffer, bounded;
//! - `connection.rs`: the connection's read loop, sender and pinger.
//!
//! Reading two client frames (a masked "Hel", then "lo" as its continuation) on the server:
//!
//! ```
//! use web::websocket::{Event, MessageReader, Role};
//!
//! let mut reader = MessageReader::new(Role::Server, 10 << 20);
//! let mut wire = vec![0x01, 0x83, 1, 2, 3, 4, b'H' ^ 1, b'e' ^ 2, b'l' ^ 3];
//! wire.extend([0x80, 0x82, 1, 2, 3, 4, b'l' ^ 1, b'o' ^ 2]);
//! let len = wire.len();
//! let decoded = reader.read(&mut wire).unwrap();
//! assert_eq!(decoded.consumed, len);
//! assert!(matches!(decoded.event, Some(Event::Text("Hello"))));
//! ```

pub mod client;
pub mod close;
pub(crate) mod connection;
pub mod deflate;
pub mod encode;
pub mod error;
pub mod extension;
pub mod frame;
pub mod handler;
pub mod handshake;
pub mod mask;
pub mod message;
pub mod route;
pub mod socket;
pub mod utf8;
pub mod writer;

pub use client::{
    websocket_connect, ClientMessage, WebSocketClientConnection, WebSocketClientError,
    WebSocketConnectOptions,
};
pub use close::CloseFrame;
pub use deflate::{Deflater, Inflater};
pub use encode::{FrameEncoder, MaskSource, NoMask};
pub use error::ProtocolError;
pub use extension::{DeflateConfig, DeflateOptions};
pub use frame::{FrameDecoder, FrameHeader, Opcode, Role};
pub use handler::{Message, WebSocketHandler};
pub use handshake::{accept_value, check_upgrade_request, UpgradeRejection, UpgradeRequest};
pub use message::{Decoded, Event, Found, Located, MessageReader};
pub use route::{websocket_url, websocket_url_with};
pub use socket::{WebSocket, WebSocketError};
pub use writer::MessageWriter;

/// Tornado's default `max_message_size`: 10 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 10 * 1024 * 1024;
