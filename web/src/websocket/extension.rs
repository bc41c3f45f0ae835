//! permessage-deflate negotiation (RFC 7692 §5, §7.1) over `Sec-WebSocket-Extensions`.
//!
//! Server side ([`negotiate`]): the client's offers are read in order; an offer with an
//! unknown, repeated or badly valued parameter is declined and the next one considered
//! (RFC 7692 §5.1); the first acceptable one is answered. As in Tornado the response echoes
//! the offer's parameters, except a `client_max_window_bits` without a value (a mere "you may
//! limit me"), and adds the server's own limits from [`DeflateOptions`].
//!
//! Client side ([`client_offer`], [`accept_response`]): Tornado's offer,
//! `permessage-deflate; client_max_window_bits`, plus the options' parameters; the server's
//! response is checked strictly (one permessage-deflate, known parameters within what was
//! offered), since accepting a response we cannot honour would corrupt every message.

use std::fmt::Write;

use super::deflate::{Deflater, Inflater};
use super::frame::Role;

/// The compression settings of one endpoint (Tornado's `get_compression_options()`).
/// Tornado's `mem_level` has no counterpart: flate2 does not expose it (zlib's default, 8,
/// is used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeflateOptions {
    /// The zlib level, 0–9 (Tornado's default: 6, `GZipContentEncoding.GZIP_LEVEL`).
    pub compression_level: u32,
    /// Ask that the server's compressor forgets its window after each message.
    pub server_no_context_takeover: bool,
    /// Ask that the client's compressor forgets its window after each message.
    pub client_no_context_takeover: bool,
    /// Limit the server's window (8–15).
    pub server_max_window_bits: Option<u8>,
    /// Limit the client's window (8–15); a server can only impose it if the client offered
    /// `client_max_window_bits`.
    pub client_max_window_bits: Option<u8>,
}

impl Default for DeflateOptions {
    fn default() -> DeflateOptions {
        DeflateOptions {
            compression_level: 6,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
        }
    }
}

/// The agreed permessage-deflate parameters, as they appear in the server's response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeflateConfig {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// The server's window limit (`None`: 15).
    pub server_max_window_bits: Option<u8>,
    /// The client's window limit (`None`: 15).
    pub client_max_window_bits: Option<u8>,
}

impl DeflateConfig {
    /// The response's `Sec-WebSocket-Extensions` value.
    ///
    /// ```
    /// use web::websocket::DeflateConfig;
    ///
    /// let config = DeflateConfig { client_no_context_takeover: true, server_max_window_bits: Some(10), ..Default::default() };
    /// assert_eq!(config.header_value(), "permessage-deflate; client_no_context_takeover; server_max_window_bits=10");
    /// ```
    pub fn header_value(&self) -> String {
        let mut s = String::from("permessage-deflate");
        if self.server_no_context_takeover {
            s.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            s.push_str("; client_no_context_takeover");
        }
        if let Some(bits) = self.server_max_window_bits {
            let _ = write!(s, "; server_max_window_bits={bits}");
        }
        if let Some(bits) = self.client_max_window_bits {
            let _ = write!(s, "; client_max_window_bits={bits}");
        }
        s
    }

    /// The compressor for `role`'s outgoing messages.
    pub fn deflater(&self, role: Role, compression_level: u32) -> Deflater {
        let (no_takeover, bits) = self.side(role);
        Deflater::new(compression_level, bits, !no_takeover)
    }

    /// The decompressor for the messages `role` receives (compressed by the other side).
    pub fn inflater(&self, role: Role) -> Inflater {
        let peer = match role {
            Role::Server => Role::Client,
            Role::Client => Role::Server,
        };
        let (no_takeover, bits) = self.side(peer);
        Inflater::new(bits, !no_takeover)
    }

    /// `(no_context_takeover, max_window_bits)` of the compressor of `role`.
    fn side(&self, role: Role) -> (bool, u8) {
        match role {
            Role::Server => (
                self.server_no_context_takeover,
                self.server_max_window_bits.unwrap_or(15),
            ),
            Role::Client => (
                self.client_no_context_takeover,
                self.client_max_window_bits.unwrap_or(15),
            ),
        }
    }
}

/// `client_max_window_bits` in an offer: absent, without a value, or with one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientBits {
    Absent,
    Any,
    Max(u8),
}

/// One well-formed permessage-deflate offer (or response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: ClientBits,
}

/// A `Sec-WebSocket-Extensions` value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionError(pub String);

impl std::fmt::Display for ExtensionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sec-WebSocket-Extensions: {}", self.0)
    }
}

impl std::error::Error for ExtensionError {}

/// One extension of a header: its name and `(parameter, value)` pairs.
type Extension<'a> = (&'a str, Vec<(&'a str, Option<String>)>);

/// Splits header values into extensions (`name; p1; p2=v, name2`), values unquoted. A syntax
/// error in one extension is reported for that extension only.
fn parse_extensions<'a>(values: &[&'a str]) -> Vec<Result<Extension<'a>, ExtensionError>> {
    let mut out = Vec::new();
    for value in values {
        for item in split_outside_quotes(value, ',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            out.push(parse_extension(item));
        }
    }
    out
}

fn parse_extension(item: &str) -> Result<Extension<'_>, ExtensionError> {
    let mut parts = split_outside_quotes(item, ';').into_iter().map(str::trim);
    let name = parts.next().unwrap_or("");
    if !is_token(name) {
        return Err(ExtensionError(format!("bad extension name {name:?}")));
    }
    let mut params = Vec::new();
    for part in parts {
        let (key, value) = match part.split_once('=') {
            Some((k, v)) => (k.trim(), Some(unquote(v.trim())?)),
            None => (part, None),
        };
        if !is_token(key) {
            return Err(ExtensionError(format!("bad parameter {part:?}")));
        }
        params.push((key, value));
    }
    Ok((name, params))
}

/// Splits on `sep` where it is not inside a quoted string.
fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut pieces = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                pieces.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&s[start..]);
    pieces
}

/// A token (RFC 9110 §5.6.2), or a quoted-string's contents.
fn unquote(v: &str) -> Result<String, ExtensionError> {
    if let Some(inner) = v.strip_prefix('"') {
        let inner = inner
            .strip_suffix('"')
            .ok_or_else(|| ExtensionError(format!("unterminated quote {v:?}")))?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            out.push(if c == '\\' {
                chars.next().unwrap_or('\\')
            } else {
                c
            });
        }
        Ok(out)
    } else if is_token(v) {
        Ok(v.to_string())
    } else {
        Err(ExtensionError(format!("bad value {v:?}")))
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Window bits: 1 or 2 digits, 8 to 15 (RFC 7692 §7.1.2).
fn window_bits(value: &str) -> Option<u8> {
    if value.is_empty() || value.len() > 2 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|bits| (8..=15).contains(bits))
}

/// Validates a permessage-deflate parameter list: known names, no repeats, valid values.
fn parse_params(params: &[(&str, Option<String>)]) -> Result<Params, ExtensionError> {
    let mut p = Params {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: None,
        client_max_window_bits: ClientBits::Absent,
    };
    let mut seen = Vec::with_capacity(params.len());
    for (name, value) in params {
        let name = name.to_ascii_lowercase();
        if seen.contains(&name) {
            return Err(ExtensionError(format!("repeated parameter {name}")));
        }
        let bad = || ExtensionError(format!("bad value for {name}: {value:?}"));
        match (name.as_str(), value.as_deref()) {
            ("server_no_context_takeover", None) => p.server_no_context_takeover = true,
            ("client_no_context_takeover", None) => p.client_no_context_takeover = true,
            ("server_max_window_bits", Some(v)) => {
                p.server_max_window_bits = Some(window_bits(v).ok_or_else(bad)?)
            }
            ("client_max_window_bits", None) => p.client_max_window_bits = ClientBits::Any,
            ("client_max_window_bits", Some(v)) => {
                p.client_max_window_bits = ClientBits::Max(window_bits(v).ok_or_else(bad)?)
            }
            (
                "server_no_context_takeover"
                | "client_no_context_takeover"
                | "server_max_window_bits",
                _,
            ) => return Err(bad()),
            _ => return Err(ExtensionError(format!("unknown parameter {name}"))),
        }
        seen.push(name);
    }
    Ok(p)
}

/// The server's answer to a client's `Sec-WebSocket-Extensions` (all of its values, in
/// order): the configuration to use and to send back, or `None` to run uncompressed.
///
/// ```
/// use web::websocket::extension::negotiate;
/// use web::websocket::DeflateOptions;
///
/// let offer = ["permessage-deflate; client_max_window_bits"];
/// let agreed = negotiate(&offer, &DeflateOptions::default()).unwrap();
/// assert_eq!(agreed.header_value(), "permessage-deflate");
/// assert_eq!(negotiate(&["x-webkit-deflate-frame"], &DeflateOptions::default()), None);
/// ```
pub fn negotiate(offers: &[&str], options: &DeflateOptions) -> Option<DeflateConfig> {
    parse_extensions(offers)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|(name, _)| name.eq_ignore_ascii_case("permessage-deflate"))
        .find_map(|(_, params)| parse_params(&params).ok())
        .map(|offer| answer(offer, options))
}

/// The response to one acceptable offer.
fn answer(offer: Params, options: &DeflateOptions) -> DeflateConfig {
    let server_max_window_bits =
        match (offer.server_max_window_bits, options.server_max_window_bits) {
            (Some(asked), Some(ours)) => Some(asked.min(ours)),
            (asked, ours) => asked.or(ours),
        };
    let client_max_window_bits = match offer.client_max_window_bits {
        ClientBits::Absent => None,
        ClientBits::Any => options.client_max_window_bits,
        ClientBits::Max(bits) => Some(
            options
                .client_max_window_bits
                .map_or(bits, |ours| ours.min(bits)),
        ),
    };
    DeflateConfig {
        server_no_context_takeover: offer.server_no_context_takeover
            || options.server_no_context_takeover,
        client_no_context_takeover: offer.client_no_context_takeover
            || options.client_no_context_takeover,
        server_max_window_bits,
        client_max_window_bits,
    }
}

/// The client's `Sec-WebSocket-Extensions` offer for `options`. `client_max_window_bits` is
/// always offered (as Tornado does: the server may then limit our window).
///
/// ```
/// use web::websocket::extension::client_offer;
/// use web::websocket::DeflateOptions;
///
/// assert_eq!(client_offer(&DeflateOptions::default()), "permessage-deflate; client_max_window_bits");
/// ```
pub fn client_offer(options: &DeflateOptions) -> String {
    let mut s = String::from("permessage-deflate");
    if options.server_no_context_takeover {
        s.push_str("; server_no_context_takeover");
    }
    if options.client_no_context_takeover {
        s.push_str("; client_no_context_takeover");
    }
    if let Some(bits) = options.server_max_window_bits {
        let _ = write!(s, "; server_max_window_bits={bits}");
    }
    match options.client_max_window_bits {
        Some(bits) => {
            let _ = write!(s, "; client_max_window_bits={bits}");
        }
        None => s.push_str("; client_max_window_bits"),
    }
    s
}

/// Checks the server's `Sec-WebSocket-Extensions` response (all its values) against the
/// offer made from `options`: `Ok(None)` when the server declined compression, an error when
/// the response names anything else or parameters that were not offered.
pub fn accept_response(
    values: &[&str],
    options: &DeflateOptions,
) -> Result<Option<DeflateConfig>, ExtensionError> {
    let mut agreed = None;
    for extension in parse_extensions(values) {
        let (name, params) = extension?;
        if !name.eq_ignore_ascii_case("permessage-deflate") {
            return Err(ExtensionError(format!("unsupported extension {name}")));
        }
        if agreed.is_some() {
            return Err(ExtensionError("permessage-deflate accepted twice".into()));
        }
        let p = parse_params(&params)?;
        let client_max_window_bits = match p.client_max_window_bits {
            ClientBits::Absent => None,
            ClientBits::Any => {
                return Err(ExtensionError(
                    "client_max_window_bits without a value".into(),
                ))
            }
            ClientBits::Max(bits)
                if options
                    .client_max_window_bits
                    .is_some_and(|ours| bits > ours) =>
            {
                return Err(ExtensionError(format!(
                    "client_max_window_bits={bits} over the offer"
                )))
            }
            ClientBits::Max(bits) => Some(bits),
        };
        if let (Some(bits), Some(ours)) = (p.server_max_window_bits, options.server_max_window_bits)
        {
            if bits > ours {
                return Err(ExtensionError(format!(
                    "server_max_window_bits={bits} over the offer"
                )));
            }
        }
        agreed = Some(DeflateConfig {
            server_no_context_takeover: p.server_no_context_takeover,
            client_no_context_takeover: p.client_no_context_takeover,
            server_max_window_bits: p.server_max_window_bits,
            client_max_window_bits,
        });
    }
    Ok(agreed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(offers: &[&str]) -> Option<String> {
        negotiate(offers, &DeflateOptions::default()).map(|c| c.header_value())
    }

    #[test]
    fn the_first_acceptable_offer_wins() {
        assert_eq!(
            server(&["permessage-deflate"]).as_deref(),
            Some("permessage-deflate")
        );
        assert_eq!(
            server(&[
                "permessage-deflate; unknown_param, permessage-deflate; server_no_context_takeover"
            ])
            .as_deref(),
            Some("permessage-deflate; server_no_context_takeover")
        );
        // Offers split across header lines count in order.
        assert_eq!(
            server(&[
                "foo, permessage-deflate; client_max_window_bits=20",
                "permessage-deflate; server_max_window_bits=10"
            ])
            .as_deref(),
            Some("permessage-deflate; server_max_window_bits=10")
        );
        assert_eq!(server(&["deflate-frame", "x-webkit-deflate-frame"]), None);
        assert_eq!(server(&[]), None);
        assert_eq!(server(&[""]), None);
    }

    #[test]
    fn every_parameter_with_and_without_a_value() {
        let all = "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                   server_max_window_bits=9; client_max_window_bits=12";
        assert_eq!(
            negotiate(&[all], &DeflateOptions::default()),
            Some(DeflateConfig {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                server_max_window_bits: Some(9),
                client_max_window_bits: Some(12),
            })
        );
        // client_max_window_bits without a value is not echoed (Tornado).
        assert_eq!(
            server(&["permessage-deflate; client_max_window_bits"]).as_deref(),
            Some("permessage-deflate")
        );
        // Quoted values and any case in names are accepted.
        assert_eq!(
            server(&["Permessage-Deflate; Server_Max_Window_Bits=\"10\""]).as_deref(),
            Some("permessage-deflate; server_max_window_bits=10")
        );
        for bits in 8..=15 {
            let offer = format!("permessage-deflate; server_max_window_bits={bits}");
            assert_eq!(
                negotiate(&[&offer], &DeflateOptions::default())
                    .unwrap()
                    .server_max_window_bits,
                Some(bits)
            );
        }
    }

    #[test]
    fn duplicates_and_bad_values_decline_the_offer() {
        let bad = [
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
            "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=010",
            "permessage-deflate; server_max_window_bits=+9",
            "permessage-deflate; server_max_window_bits=ten",
            "permessage-deflate; client_max_window_bits=0",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; client_no_context_takeover=\"\"",
            "permessage-deflate; mystery",
            "permessage-deflate; server_max_window_bits=\"10",
            "permessage-deflate; =10",
        ];
        for offer in bad {
            assert_eq!(server(&[offer]), None, "{offer}");
            // The next offer is considered instead.
            assert_eq!(
                server(&[offer, "permessage-deflate"]).as_deref(),
                Some("permessage-deflate"),
                "{offer}"
            );
        }
    }

    #[test]
    fn the_servers_options_add_limits() {
        let options = DeflateOptions {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: Some(11),
            client_max_window_bits: Some(10),
            ..DeflateOptions::default()
        };
        let agreed = negotiate(&["permessage-deflate; client_max_window_bits"], &options).unwrap();
        assert_eq!(
            agreed.header_value(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=11; client_max_window_bits=10"
        );
        // The smaller of the two limits; no client limit when the client did not offer one.
        let agreed =
            negotiate(&["permessage-deflate; server_max_window_bits=9"], &options).unwrap();
        assert_eq!(
            (agreed.server_max_window_bits, agreed.client_max_window_bits),
            (Some(9), None)
        );
        let agreed =
            negotiate(&["permessage-deflate; client_max_window_bits=12"], &options).unwrap();
        assert_eq!(agreed.client_max_window_bits, Some(10));
    }

    #[test]
    fn the_client_side_of_the_negotiation() {
        let options = DeflateOptions::default();
        assert_eq!(
            client_offer(&options),
            "permessage-deflate; client_max_window_bits"
        );
        let limited = DeflateOptions {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: Some(10),
            client_max_window_bits: Some(9),
            ..DeflateOptions::default()
        };
        let offer = client_offer(&limited);
        assert_eq!(
            offer,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=9"
        );
        // What a server answers to our offer is what we accept.
        let answer = negotiate(&[&offer], &DeflateOptions::default()).unwrap();
        let accepted = accept_response(&[&answer.header_value()], &limited).unwrap();
        assert_eq!(accepted, Some(answer));

        assert_eq!(accept_response(&[], &options), Ok(None));
        let ok = accept_response(
            &["permessage-deflate; client_max_window_bits=10; server_no_context_takeover"],
            &options,
        );
        assert_eq!(
            ok.unwrap(),
            Some(DeflateConfig {
                server_no_context_takeover: true,
                client_max_window_bits: Some(10),
                ..DeflateConfig::default()
            })
        );
        for bad in [
            "x-webkit-deflate-frame",
            "permessage-deflate, permessage-deflate",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; unknown",
            "permessage-deflate; server_max_window_bits=16",
        ] {
            assert!(accept_response(&[bad], &options).is_err(), "{bad}");
        }
        // Limits over what we offered.
        assert!(
            accept_response(&["permessage-deflate; client_max_window_bits=10"], &limited).is_err()
        );
        assert!(
            accept_response(&["permessage-deflate; server_max_window_bits=11"], &limited).is_err()
        );
    }

    #[test]
    fn configs_build_matching_compressors() {
        let config = DeflateConfig {
            server_no_context_takeover: true,
            client_no_context_takeover: false,
            server_max_window_bits: Some(9),
            client_max_window_bits: None,
        };
        let mut server_out = config.deflater(Role::Server, 6);
        let mut client_in = config.inflater(Role::Client);
        let mut client_out = config.deflater(Role::Client, 6);
        let mut server_in = config.inflater(Role::Server);
        for _ in 0..3 {
            let (mut wire, mut text) = (Vec::new(), Vec::new());
            server_out.compress(b"to the client, to the client", &mut wire);
            assert!(!server_out.holds_state(), "server_no_context_takeover");
            client_in.inflate(&wire, &mut text, 100).unwrap();
            client_in.finish_message(&mut text, 100).unwrap();
            assert_eq!(text, b"to the client, to the client");

            let (mut wire, mut text) = (Vec::new(), Vec::new());
            client_out.compress(b"to the server", &mut wire);
            assert!(client_out.holds_state(), "client keeps its context");
            server_in.inflate(&wire, &mut text, 100).unwrap();
            server_in.finish_message(&mut text, 100).unwrap();
            assert_eq!(text, b"to the server");
        }
    }
}
