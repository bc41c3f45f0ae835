//! Close frames (RFC 6455 §5.5.1, §7.4): the payload is empty, or a 2-byte status code
//! followed by a UTF-8 reason. Which codes may appear on the wire, the parsing of a received
//! payload, and the encoding of one to send.

use super::ProtocolError;

/// 1000: normal closure.
pub const NORMAL: u16 = 1000;
/// 1001: the endpoint is going away (server shutdown, page navigation).
pub const GOING_AWAY: u16 = 1001;
/// 1002: protocol error.
pub const PROTOCOL_ERROR: u16 = 1002;
/// 1003: a data type the endpoint cannot accept.
pub const UNSUPPORTED_DATA: u16 = 1003;
/// 1005: no status code was present (reported locally, never sent).
pub const NO_STATUS: u16 = 1005;
/// 1006: the connection closed without a close frame (reported locally, never sent).
pub const ABNORMAL: u16 = 1006;
/// 1007: data inconsistent with its type (e.g. invalid UTF-8 in text).
pub const INVALID_PAYLOAD: u16 = 1007;
/// 1008: a message violating the endpoint's policy.
pub const POLICY_VIOLATION: u16 = 1008;
/// 1009: a message too big to process (`max_message_size`).
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// 1010: the client expected an extension the server did not negotiate.
pub const MANDATORY_EXTENSION: u16 = 1010;
/// 1011: the server hit an unexpected condition.
pub const INTERNAL_ERROR: u16 = 1011;

/// Whether `code` may be sent in a close frame: 1000–1003 and 1007–1011 (defined by RFC 6455),
/// 3000–4999 (registered and private use). Everything else is refused with 1002: below 1000,
/// 1004–1006 and 1015 (reserved, or local-only), 1012–2999 (unassigned by RFC 6455; the
/// later IANA entries 1012–1014 included, as Autobahn's case 7.9 expects), 5000 and up.
///
/// ```
/// use web::websocket::close::is_valid_code;
///
/// assert!(is_valid_code(1000) && is_valid_code(4999));
/// assert!(!is_valid_code(1005) && !is_valid_code(2000));
/// ```
pub fn is_valid_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999)
}

/// A received close frame's contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseFrame<'a> {
    /// The status code; [`NO_STATUS`] (1005) when the payload was empty.
    pub code: u16,
    /// The reason, possibly empty.
    pub reason: &'a str,
}

/// Parses a close frame's (unmasked) payload: empty, or a valid code and a UTF-8 reason.
///
/// ```
/// use web::websocket::close::parse_close_payload;
///
/// let frame = parse_close_payload(b"\x03\xe8bye").unwrap();
/// assert_eq!((frame.code, frame.reason), (1000, "bye"));
/// assert_eq!(parse_close_payload(b"").unwrap().code, 1005);
/// ```
pub fn parse_close_payload(payload: &[u8]) -> Result<CloseFrame<'_>, ProtocolError> {
    match payload {
        [] => Ok(CloseFrame {
            code: NO_STATUS,
            reason: "",
        }),
        [_] => Err(ProtocolError::CloseFrameOneByte),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !is_valid_code(code) {
                return Err(ProtocolError::InvalidCloseCode(code));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| ProtocolError::InvalidUtf8)?;
            Ok(CloseFrame { code, reason })
        }
    }
}

/// Appends a close payload for `code` and `reason` to `out`; the reason is cut (at a
/// character boundary) so that the payload fits a control frame's 125 bytes.
///
/// ```
/// let mut payload = Vec::new();
/// web::websocket::close::encode_close_payload(&mut payload, 1001, "bye");
/// assert_eq!(payload, b"\x03\xe9bye");
/// ```
pub fn encode_close_payload(out: &mut Vec<u8>, code: u16, reason: &str) {
    let mut end = reason.len().min(super::frame::MAX_CONTROL_PAYLOAD - 2);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(&reason.as_bytes()[..end]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_of_close_code() {
        let valid = [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
        ];
        for code in valid {
            assert!(is_valid_code(code), "{code}");
            let payload = code.to_be_bytes();
            assert_eq!(parse_close_payload(&payload).unwrap().code, code);
        }
        let invalid = [
            0, 1, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000,
            5001, 65535,
        ];
        for code in invalid {
            assert!(!is_valid_code(code), "{code}");
            let err = parse_close_payload(&code.to_be_bytes()).unwrap_err();
            assert_eq!(err, ProtocolError::InvalidCloseCode(code));
            assert_eq!(err.close_code(), 1002);
        }
        // The whole range, against the rule as stated.
        for code in 0..=u16::MAX {
            let expected = (1000..=1003).contains(&code)
                || (1007..=1011).contains(&code)
                || (3000..5000).contains(&code);
            assert_eq!(is_valid_code(code), expected, "{code}");
        }
    }

    #[test]
    fn payload_shapes() {
        assert_eq!(
            parse_close_payload(b""),
            Ok(CloseFrame {
                code: 1005,
                reason: ""
            })
        );
        assert_eq!(
            parse_close_payload(b"\x03"),
            Err(ProtocolError::CloseFrameOneByte)
        );
        assert_eq!(ProtocolError::CloseFrameOneByte.close_code(), 1002);
        assert_eq!(
            parse_close_payload(b"\x03\xe8"),
            Ok(CloseFrame {
                code: 1000,
                reason: ""
            })
        );
        let mut payload = vec![0x03, 0xe8];
        payload.extend_from_slice("κόσμε".as_bytes());
        assert_eq!(parse_close_payload(&payload).unwrap().reason, "κόσμε");
    }

    #[test]
    fn invalid_utf8_in_the_reason_is_1007() {
        let err = parse_close_payload(b"\x03\xe8\xce\xba\xed\xa0\x80").unwrap_err();
        assert_eq!(err, ProtocolError::InvalidUtf8);
        assert_eq!(err.close_code(), 1007);
    }

    #[test]
    fn encoding_cuts_long_reasons_at_a_char_boundary() {
        let mut out = Vec::new();
        encode_close_payload(&mut out, 1000, "");
        assert_eq!(out, [0x03, 0xe8]);
        out.clear();
        let long = "é".repeat(100); // 200 bytes
        encode_close_payload(&mut out, 4000, &long);
        assert_eq!(out.len(), 124); // 2 + 122: 123 would split an "é"
        assert_eq!(parse_close_payload(&out).unwrap().reason, "é".repeat(61));
    }
}
