//! The client side of WebSocket: [`websocket_connect`] and [`WebSocketClientConnection`]
//! (Tornado's `tornado.websocket.websocket_connect` and `WebSocketClientConnection`), on the
//! pure codec of this module's siblings and on `http1`'s client pieces.
//!
//! # The opening handshake (RFC 6455 §4.1)
//! 1. The `ws://` or `wss://` URL is parsed by `http1`'s [`Url`] (host, port, path, query; the
//!    fragment is dropped; `wss://` defaults to port 443). Other schemes are
//!    [`WebSocketClientError::UnsupportedScheme`].
//! 2. TCP connect with `http1`'s [`connect_stream`] within `connect_timeout` (its errors: DNS,
//!    refused, timeout), then for `wss://` the TLS handshake ([`tls_handshake`]: the
//!    certificate verified for the host against [`WebSocketConnectOptions::tls`], by default the
//!    public web's roots); the whole handshake within `request_timeout`.
//! 3. The request: `GET` with `Upgrade: websocket`, `Connection: Upgrade`, a random
//!    `Sec-WebSocket-Key` (16 bytes from the OS random source), `Sec-WebSocket-Version: 13`,
//!    the subprotocols offered, the permessage-deflate offer
//!    ([`client_offer`]) when compression is on, and the
//!    caller's extra headers (e.g. `Origin`, `Cookie`).
//! 4. The response head is read by `http1` ([`read_response_head`], the same rules as every
//!    response); bytes after it (frames the server sent at once) stay buffered. A status other
//!    than 101 is [`WebSocketClientError::Rejected`]; a missing `Upgrade`/`Connection`, a wrong
//!    `Sec-WebSocket-Accept`, a subprotocol that was not offered, or an extension answer we
//!    did not offer ([`accept_response`]) is
//!    [`WebSocketClientError::Handshake`].
//!
//! # The connection
//! [`read_message`](WebSocketClientConnection::read_message) returns the next text or binary
//! [`ClientMessage`], or `None` once the connection is closed; pings are answered with pongs on the
//! way. [`write_message`](WebSocketClientConnection::write_message) resolves when the message
//! has been handed to the kernel: awaiting it is the backpressure, and a writer waits while
//! more than `max_write_buffer_size` bytes are queued. Every frame is masked with a fresh
//! random key. A server that breaks the protocol gets a close frame with the matching code
//! (1002, 1007 for invalid UTF-8 or deflate data, 1009 over `max_message_size`, also after
//! inflation) and the connection ends. [`close`](WebSocketClientConnection::close) sends a
//! close frame, waits up to `close_timeout` for the server's, then closes the fd; afterwards
//! [`close_code`](WebSocketClientConnection::close_code) and
//! [`close_reason`](WebSocketClientConnection::close_reason) say how it ended.
//!
//! With `ping_interval` set (Tornado 6.5's semantics), a ping is sent every interval and the
//! connection is closed if its pong has not arrived within `ping_timeout` (by default the
//! interval). Pings and their timeouts run while a `read_message` is waiting (a client that
//! never reads has no use for them).
//!
//! The connection is a handle: clones share it, so one task can read while another writes
//! (and closes: the reading task then sees the server's close and gets `None`).
//!
//! ```no_run
//! use web::websocket::client::{websocket_connect, ClientMessage, WebSocketConnectOptions};
//!
//! reactor::Reactor::new().unwrap().block_on(async {
//!     let options = WebSocketConnectOptions::default().subprotocols(["chat"]);
//!     let ws = websocket_connect("ws://127.0.0.1:8888/ws/echo", options).await.unwrap();
//!     ws.write_message("hello", false).await.unwrap();
//!     if let Some(ClientMessage::Text(echo)) = ws.read_message().await {
//!         println!("{echo}");
//!     }
//!     ws.close(Some(1000), "done").await;
//!     println!("closed: {:?} {:?}", ws.close_code(), ws.close_reason());
//! });
//! ```

mod connection;
mod error;
mod options;

pub use connection::{ClientMessage, WebSocketClientConnection};
pub use error::WebSocketClientError;
pub use options::WebSocketConnectOptions;

use std::cell::Cell;

use base64::Engine;
use http1::client::{
    connect_stream, read_response_head, tls_handshake, ClientError, Phase, ResponseHead,
    TimeoutKind, Url,
};
use http1::rules::{is_field_value, is_token};
use iostream::{IOStream, StreamError};

use super::extension::{accept_response, client_offer};
use super::handshake::parse_subprotocols;
use super::{accept_value, DeflateConfig};

/// Opens a WebSocket connection to `url` (`ws://host[:port][/path][?query]`): connects,
/// performs the opening handshake (see the module doc) and returns the open connection.
pub async fn websocket_connect(
    url: &str,
    options: WebSocketConnectOptions,
) -> Result<WebSocketClientConnection, WebSocketClientError> {
    let parsed = parse_ws_url(url)?;
    let phase = Cell::new(Phase::Connecting);
    let attempt = handshake(&parsed, &options, &phase);
    let (stream, subprotocol, deflate) = match options.request_timeout {
        None => attempt.await?,
        Some(after) => match reactor::timeout(after, attempt).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(WebSocketClientError::Connect(ClientError::Timeout {
                    kind: TimeoutKind::Request,
                    after,
                    phase: phase.get(),
                }))
            }
        },
    };
    Ok(WebSocketClientConnection::new(
        stream,
        subprotocol,
        deflate,
        &options,
    ))
}

/// `ws://...` as `http1`'s [`Url`] (the same host, port and target rules as HTTP).
fn parse_ws_url(url: &str) -> Result<Url, WebSocketClientError> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    match scheme.to_ascii_lowercase().as_str() {
        scheme @ ("ws" | "wss") => {
            let http = if scheme == "ws" { "http" } else { "https" };
            Url::parse(&format!("{http}://{rest}")).map_err(|e| match e {
                // Name the URL as the caller wrote it.
                ClientError::InvalidUrl { reason, .. } => {
                    WebSocketClientError::Connect(ClientError::InvalidUrl {
                        url: url.to_owned(),
                        reason,
                    })
                }
                other => WebSocketClientError::Connect(other),
            })
        }
        "" => Err(WebSocketClientError::Connect(ClientError::InvalidUrl {
            url: url.to_owned(),
            reason: "no scheme (expected ws://...)",
        })),
        other => Err(WebSocketClientError::UnsupportedScheme {
            url: url.to_owned(),
            scheme: other.to_owned(),
        }),
    }
}

/// Connects and runs the opening handshake; returns the stream, the chosen subprotocol and
/// the agreed compression.
async fn handshake(
    url: &Url,
    options: &WebSocketConnectOptions,
    phase: &Cell<Phase>,
) -> Result<(IOStream, Option<String>, Option<DeflateConfig>), WebSocketClientError> {
    let key = base64::engine::general_purpose::STANDARD.encode(random_bytes::<16>());
    let request = request_head(url, options, &key)?;
    let stream = connect_stream(url, options.connect_timeout).await?;
    if url.scheme() == "https" {
        let connector = options.tls.clone().unwrap_or_default();
        tls_handshake(&stream, &connector, url).await?;
    }
    let _ = stream.set_nodelay(true);
    phase.set(Phase::Sending);
    stream
        .write(request.as_bytes())
        .await
        .map_err(|e| stream_error(e, Phase::Sending))?;
    phase.set(Phase::AwaitingResponse);
    let head = read_response_head(&stream, options.max_header_size).await?;
    let (subprotocol, deflate) = check_response(&head, &key, options)?;
    Ok((stream, subprotocol, deflate))
}

/// The handshake request's head.
fn request_head(
    url: &Url,
    options: &WebSocketConnectOptions,
    key: &str,
) -> Result<String, WebSocketClientError> {
    let mut head = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n",
        url.target(),
        url.host_header()
    );
    if !options.subprotocols.is_empty() {
        if let Some(bad) = options
            .subprotocols
            .iter()
            .find(|p| !is_token(p.as_bytes()))
        {
            return Err(
                ClientError::InvalidRequest(format!("subprotocol {bad:?} is not a token")).into(),
            );
        }
        head.push_str("Sec-WebSocket-Protocol: ");
        head.push_str(&options.subprotocols.join(", "));
        head.push_str("\r\n");
    }
    if let Some(deflate) = &options.compression {
        head.push_str("Sec-WebSocket-Extensions: ");
        head.push_str(&client_offer(deflate));
        head.push_str("\r\n");
    }
    for (name, value) in &options.headers {
        if !is_token(name.as_bytes()) || !is_field_value(value.as_bytes()) {
            return Err(ClientError::InvalidRequest(format!(
                "invalid header field {name:?}: {value:?}"
            ))
            .into());
        }
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    Ok(head)
}

/// Checks the server's answer (RFC 6455 §4.1, the client's requirements 1–6).
fn check_response(
    head: &ResponseHead,
    key: &str,
    options: &WebSocketConnectOptions,
) -> Result<(Option<String>, Option<DeflateConfig>), WebSocketClientError> {
    if head.code != 101 {
        return Err(WebSocketClientError::Rejected {
            code: head.code,
            reason: head.reason.clone(),
        });
    }
    let headers = &head.headers;
    let bad = |why: String| Err(WebSocketClientError::Handshake(why));
    if !headers
        .get_all("upgrade")
        .any(|v| v.trim().eq_ignore_ascii_case("websocket"))
    {
        return bad("the 101 has no \"Upgrade: websocket\"".into());
    }
    if !headers
        .get_all("connection")
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
    {
        return bad("the 101 has no \"Connection: Upgrade\"".into());
    }
    let expected = accept_value(key);
    match headers.get("sec-websocket-accept").map(str::trim) {
        Some(accept) if accept == expected => {}
        Some(accept) => {
            return bad(format!(
                "Sec-WebSocket-Accept is {accept:?}, expected {expected:?}"
            ))
        }
        None => return bad("the 101 has no Sec-WebSocket-Accept".into()),
    }
    let chosen: Vec<&str> = headers
        .get_all("sec-websocket-protocol")
        .flat_map(parse_subprotocols)
        .collect();
    let subprotocol = match chosen[..] {
        [] => None,
        [one] if options.subprotocols.iter().any(|p| p == one) => Some(one.to_owned()),
        [one] => {
            return bad(format!(
                "the server chose subprotocol {one:?}, which was not offered"
            ))
        }
        _ => return bad(format!("the server chose several subprotocols: {chosen:?}")),
    };
    let extensions: Vec<&str> = headers.get_all("sec-websocket-extensions").collect();
    let deflate = match (&options.compression, extensions.is_empty()) {
        (_, true) => None,
        (None, false) => {
            return bad(format!(
                "the server accepted extensions that were not offered: {extensions:?}"
            ))
        }
        (Some(offer), false) => accept_response(&extensions, offer).map_err(|e| {
            WebSocketClientError::Handshake(format!("Sec-WebSocket-Extensions: {e}"))
        })?,
    };
    Ok((subprotocol, deflate))
}

/// A stream error during the handshake, as `http1`'s client reports it.
fn stream_error(e: StreamError, phase: Phase) -> WebSocketClientError {
    WebSocketClientError::Connect(match e {
        StreamError::Closed { source } => ClientError::ConnectionClosed { phase, source },
        other => ClientError::Stream(other),
    })
}

/// `N` bytes from the OS random source (the handshake key, mask keys).
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS generator does not fail on a supported system; a failure here is a broken
    // platform, not bad input.
    getrandom::getrandom(&mut bytes).expect("the OS random source");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::websocket::DeflateOptions;

    #[test]
    fn ws_urls_use_the_http_url_rules() {
        let url = parse_ws_url("WS://Example.com:8080/chat?room=1#top").unwrap();
        assert_eq!(
            (url.host(), url.port(), url.target()),
            ("example.com", 8080, "/chat?room=1")
        );
        let url = parse_ws_url("ws://[::1]/").unwrap();
        assert_eq!((url.host(), url.port()), ("[::1]", 80));
        let url = parse_ws_url("wss://example.com/chat").unwrap();
        assert_eq!(
            (url.scheme(), url.host(), url.port(), url.target()),
            ("https", "example.com", 443, "/chat")
        );
        assert!(matches!(
            parse_ws_url("ftp://example.com/"),
            Err(WebSocketClientError::UnsupportedScheme { .. })
        ));
        match parse_ws_url("ws://host:99999/") {
            Err(WebSocketClientError::Connect(ClientError::InvalidUrl { url, reason })) => {
                assert_eq!((url.as_str(), reason), ("ws://host:99999/", "invalid port"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_ws_url("example.com/"),
            Err(WebSocketClientError::Connect(
                ClientError::InvalidUrl { .. }
            ))
        ));
    }

    #[test]
    fn the_request_head_carries_the_offers_and_refuses_bad_fields() {
        let url = parse_ws_url("ws://h:81/p").unwrap();
        let options = WebSocketConnectOptions::default()
            .subprotocols(["a", "b"])
            .compression(Some(DeflateOptions {
                client_no_context_takeover: true,
                ..DeflateOptions::default()
            }))
            .header("Origin", "http://h:81");
        let head = request_head(&url, &options, "KEY").unwrap();
        assert_eq!(
            head,
            "GET /p HTTP/1.1\r\nHost: h:81\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: KEY\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: a, b\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; client_max_window_bits\r\n\
             Origin: http://h:81\r\n\r\n"
        );
        let bad = WebSocketConnectOptions::default().subprotocols(["a b"]);
        assert!(request_head(&url, &bad, "KEY").is_err());
        let bad = WebSocketConnectOptions::default().header("Bad Name", "v");
        assert!(request_head(&url, &bad, "KEY").is_err());
    }
}
