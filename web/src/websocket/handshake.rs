//! The opening handshake's pure parts (RFC 6455 §4): `Sec-WebSocket-Accept` computed from the
//! client's key, the checks of a client's upgrade request in Tornado's order (with the status
//! a failed check is answered with), and the `Sec-WebSocket-Protocol` list.

use base64::Engine;

/// The GUID RFC 6455 §1.3 appends to the key before hashing.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64 of SHA-1 of the key and the GUID
/// (Tornado's `compute_accept_value`).
///
/// ```
/// use web::websocket::accept_value;
///
/// assert_eq!(accept_value("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); // RFC 6455 §1.3
/// ```
pub fn accept_value(key: &str) -> String {
    let mut sha1 = sha1_smol::Sha1::new();
    sha1.update(key.as_bytes());
    sha1.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha1.digest().bytes())
}

/// A valid upgrade request: what the response needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeRequest<'h> {
    /// The `Sec-WebSocket-Accept` value to send with the 101.
    pub accept: String,
    /// The subprotocols offered, in order (for `select_subprotocol`).
    pub subprotocols: Vec<&'h str>,
    /// The `Sec-WebSocket-Extensions` values, in order (for
    /// [`negotiate`](super::extension::negotiate)).
    pub extensions: Vec<&'h str>,
    /// `Origin` (or the older `Sec-WebSocket-Origin`), for `check_origin`.
    pub origin: Option<&'h str>,
}

/// Why an upgrade request is refused, and how to answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpgradeRejection {
    /// The response status: 400, 405 or 426.
    pub status: u16,
    /// A short explanation (the response body and the debug log, as in Tornado).
    pub reason: &'static str,
    /// Headers the response must carry (426: `Sec-WebSocket-Version: 13`).
    pub headers: &'static [(&'static str, &'static str)],
}

impl UpgradeRejection {
    fn new(status: u16, reason: &'static str) -> UpgradeRejection {
        UpgradeRejection {
            status,
            reason,
            headers: &[],
        }
    }
}

/// Checks a client's opening handshake (RFC 6455 §4.2.1) from its method, HTTP version
/// `(major, minor)` and header fields, in Tornado's order: method GET (else 405), HTTP/1.1 or
/// later (400), `Upgrade: websocket` in any case (400), a `Connection` with the `upgrade`
/// token (400), `Sec-WebSocket-Version: 13` (else 426 with `Sec-WebSocket-Version: 13`), a
/// `Host` (400) and a `Sec-WebSocket-Key` that decodes to 16 bytes (400). Header names match
/// in any case; repeated `Connection`, `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions`
/// fields are combined.
///
/// ```
/// use web::websocket::check_upgrade_request;
///
/// let headers: [(&str, &[u8]); 5] = [
///     ("Host", b"example.com"),
///     ("Upgrade", b"websocket"),
///     ("Connection", b"keep-alive, Upgrade"),
///     ("Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ=="),
///     ("Sec-WebSocket-Version", b"13"),
/// ];
/// let request = check_upgrade_request("GET", (1, 1), headers).unwrap();
/// assert_eq!(request.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
///
/// let rejection = check_upgrade_request("GET", (1, 1), [("Upgrade", &b"websocket"[..])]).unwrap_err();
/// assert_eq!(rejection.status, 400);
/// ```
pub fn check_upgrade_request<'h>(
    method: &str,
    version: (u8, u8),
    headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
) -> Result<UpgradeRequest<'h>, UpgradeRejection> {
    if method != "GET" {
        return Err(UpgradeRejection::new(
            405,
            "A WebSocket handshake is a GET.",
        ));
    }
    if version < (1, 1) {
        return Err(UpgradeRejection::new(
            400,
            "A WebSocket handshake needs HTTP/1.1.",
        ));
    }
    let mut upgrade_ok = false;
    let mut connection_ok = false;
    let (mut host, mut key, mut ws_version, mut origin, mut legacy_origin) =
        (false, None, None, None, None);
    let mut subprotocols = Vec::new();
    let mut extensions = Vec::new();
    for (name, value) in headers {
        // Every field used here is ASCII; a value that is not UTF-8 counts as absent.
        let Ok(value) = std::str::from_utf8(value) else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("upgrade") {
            upgrade_ok |= value.eq_ignore_ascii_case("websocket");
        } else if name.eq_ignore_ascii_case("connection") {
            connection_ok |= value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
        } else if name.eq_ignore_ascii_case("host") {
            host = !value.is_empty();
        } else if name.eq_ignore_ascii_case("sec-websocket-key") {
            key = Some(value);
        } else if name.eq_ignore_ascii_case("sec-websocket-version") {
            ws_version = Some(value);
        } else if name.eq_ignore_ascii_case("origin") {
            origin = Some(value);
        } else if name.eq_ignore_ascii_case("sec-websocket-origin") {
            legacy_origin = Some(value);
        } else if name.eq_ignore_ascii_case("sec-websocket-protocol") {
            subprotocols.extend(parse_subprotocols(value));
        } else if name.eq_ignore_ascii_case("sec-websocket-extensions") {
            extensions.push(value);
        }
    }
    if !upgrade_ok {
        return Err(UpgradeRejection::new(
            400,
            "Can \"Upgrade\" only to \"WebSocket\".",
        ));
    }
    if !connection_ok {
        return Err(UpgradeRejection::new(
            400,
            "\"Connection\" must be \"Upgrade\".",
        ));
    }
    if ws_version != Some("13") {
        return Err(UpgradeRejection {
            status: 426,
            reason: "Upgrade Required",
            headers: &[("Sec-WebSocket-Version", "13")],
        });
    }
    let key = key.filter(|k| is_valid_key(k));
    let (true, Some(key)) = (host, key) else {
        return Err(UpgradeRejection::new(
            400,
            "Missing/Invalid WebSocket headers",
        ));
    };
    Ok(UpgradeRequest {
        accept: accept_value(key),
        subprotocols,
        extensions,
        origin: origin.or(legacy_origin),
    })
}

/// A `Sec-WebSocket-Key` is base64 of 16 bytes (RFC 6455 §4.1).
fn is_valid_key(key: &str) -> bool {
    let mut decoded = [0u8; 18];
    matches!(
        base64::engine::general_purpose::STANDARD.decode_slice(key, &mut decoded),
        Ok(16)
    )
}

/// The subprotocols of a `Sec-WebSocket-Protocol` value: comma-separated, trimmed, empty
/// entries dropped (Tornado's `[s.strip() for s in header.split(",")]`).
///
/// ```
/// use web::websocket::handshake::parse_subprotocols;
///
/// let list: Vec<_> = parse_subprotocols(" chat, superchat ,,v2.json").collect();
/// assert_eq!(list, ["chat", "superchat", "v2.json"]);
/// ```
pub fn parse_subprotocols(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"dGhlIHNhbXBsZSBub25jZQ==";

    fn good() -> Vec<(&'static str, &'static [u8])> {
        vec![
            ("Host", b"server.example.com"),
            ("Upgrade", b"websocket"),
            ("Connection", b"Upgrade"),
            ("Sec-WebSocket-Key", KEY),
            ("Sec-WebSocket-Version", b"13"),
        ]
    }

    fn with(replaced: &str, value: Option<&'static [u8]>) -> Vec<(&'static str, &'static [u8])> {
        let mut h: Vec<_> = good().into_iter().filter(|(n, _)| *n != replaced).collect();
        if let Some(v) = value {
            h.push((Box::leak(replaced.to_string().into_boxed_str()), v));
        }
        h
    }

    fn status(method: &str, version: (u8, u8), headers: Vec<(&'static str, &'static [u8])>) -> u16 {
        match check_upgrade_request(method, version, headers) {
            Ok(_) => 101,
            Err(r) => r.status,
        }
    }

    #[test]
    fn the_rfc_example_is_accepted() {
        let mut headers = good();
        headers.push(("Origin", b"http://example.com"));
        headers.push(("Sec-WebSocket-Protocol", b"chat, superchat"));
        headers.push(("Sec-WebSocket-Extensions", b"permessage-deflate"));
        headers.push(("sec-websocket-protocol", b"v3"));
        let r = check_upgrade_request("GET", (1, 1), headers).unwrap();
        assert_eq!(r.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(r.subprotocols, ["chat", "superchat", "v3"]);
        assert_eq!(r.extensions, ["permessage-deflate"]);
        assert_eq!(r.origin, Some("http://example.com"));
    }

    #[test]
    fn method_and_version() {
        assert_eq!(status("POST", (1, 1), good()), 405);
        assert_eq!(status("get", (1, 1), good()), 405);
        assert_eq!(status("GET", (1, 0), good()), 400);
        assert_eq!(status("GET", (2, 0), good()), 101);
    }

    #[test]
    fn upgrade_and_connection() {
        assert_eq!(
            status("GET", (1, 1), with("Upgrade", Some(b"WebSocket"))),
            101
        );
        assert_eq!(status("GET", (1, 1), with("Upgrade", Some(b"h2c"))), 400);
        assert_eq!(status("GET", (1, 1), with("Upgrade", None)), 400);
        assert_eq!(
            status(
                "GET",
                (1, 1),
                with("Connection", Some(b"keep-alive, UPGRADE"))
            ),
            101
        );
        assert_eq!(
            status("GET", (1, 1), with("Connection", Some(b"keep-alive"))),
            400
        );
        assert_eq!(
            status("GET", (1, 1), with("Connection", Some(b"upgraded"))),
            400
        );
        assert_eq!(status("GET", (1, 1), with("Connection", None)), 400);
        let mut two = with("Connection", Some(b"keep-alive"));
        two.push(("connection", b"upgrade"));
        assert_eq!(status("GET", (1, 1), two), 101);
    }

    #[test]
    fn version_13_else_426() {
        for v in [&b"8"[..], b"7", b"14", b"", b"13, 8"] {
            let r = check_upgrade_request("GET", (1, 1), with("Sec-WebSocket-Version", Some(v)))
                .unwrap_err();
            assert_eq!(
                (r.status, r.headers),
                (426, &[("Sec-WebSocket-Version", "13")][..])
            );
        }
        assert_eq!(
            status("GET", (1, 1), with("Sec-WebSocket-Version", None)),
            426
        );
    }

    #[test]
    fn host_and_key() {
        assert_eq!(status("GET", (1, 1), with("Host", None)), 400);
        assert_eq!(status("GET", (1, 1), with("Sec-WebSocket-Key", None)), 400);
        for bad in [
            &b"dGhlIHNhbXBsZSBub25jZQ"[..],
            b"dGhlIHNhbXBsZSBub25jZXg=",
            b"AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            b"!!!",
            b"",
        ] {
            assert_eq!(
                status("GET", (1, 1), with("Sec-WebSocket-Key", Some(bad))),
                400,
                "{bad:?}"
            );
        }
        assert_eq!(
            status(
                "GET",
                (1, 1),
                with("Sec-WebSocket-Key", Some(b"AAAAAAAAAAAAAAAAAAAAAA=="))
            ),
            101
        );
    }

    #[test]
    fn the_legacy_origin_header_is_used_when_origin_is_absent() {
        let mut headers = good();
        headers.push(("Sec-WebSocket-Origin", b"http://old.example"));
        assert_eq!(
            check_upgrade_request("GET", (1, 1), headers)
                .unwrap()
                .origin,
            Some("http://old.example")
        );
        assert_eq!(
            check_upgrade_request("GET", (1, 1), good()).unwrap().origin,
            None
        );
    }
}
