//! What can be wrong with what a peer sent, and the close code each error is answered with
//! (RFC 6455 §7.4.1): 1002 for a broken protocol rule, 1007 for data that is not what its type
//! says (invalid UTF-8, undecodable deflate), 1009 for a message over `max_message_size`.

use std::fmt;

use super::close;

/// A peer broke a rule of RFC 6455 / RFC 7692; the connection must be failed with
/// [`close_code`](ProtocolError::close_code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// RSV2 or RSV3 set, or RSV1 set without permessage-deflate, or on a frame other than the
    /// first of a data message.
    ReservedBits,
    /// An opcode RFC 6455 reserves (3–7, 11–15).
    ReservedOpcode(u8),
    /// A server received an unmasked frame.
    UnmaskedFrame,
    /// A client received a masked frame.
    MaskedFrame,
    /// A control frame with a payload over 125 bytes.
    ControlFrameTooLong,
    /// A control frame without FIN.
    FragmentedControlFrame,
    /// A 64-bit payload length with its most significant bit set.
    LengthOverflow,
    /// A continuation frame with no data message to continue.
    UnexpectedContinuation,
    /// A text or binary frame while a fragmented message is still open.
    ExpectedContinuation,
    /// A close frame with a one-byte payload.
    CloseFrameOneByte,
    /// A close code RFC 6455 §7.4 does not allow on the wire.
    InvalidCloseCode(u16),
    /// Text (a message or a close reason) that is not UTF-8.
    InvalidUtf8,
    /// A compressed message that does not inflate.
    InvalidDeflate,
    /// A message over `max_message_size` (before or after inflation).
    MessageTooBig,
}

impl ProtocolError {
    /// The close code to send when failing the connection for this error.
    pub fn close_code(&self) -> u16 {
        match self {
            ProtocolError::InvalidUtf8 | ProtocolError::InvalidDeflate => close::INVALID_PAYLOAD,
            ProtocolError::MessageTooBig => close::MESSAGE_TOO_BIG,
            _ => close::PROTOCOL_ERROR,
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::ReservedBits => f.write_str("reserved bits set"),
            ProtocolError::ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            ProtocolError::UnmaskedFrame => f.write_str("unmasked frame from a client"),
            ProtocolError::MaskedFrame => f.write_str("masked frame from a server"),
            ProtocolError::ControlFrameTooLong => f.write_str("control frame over 125 bytes"),
            ProtocolError::FragmentedControlFrame => f.write_str("fragmented control frame"),
            ProtocolError::LengthOverflow => f.write_str("payload length with the top bit set"),
            ProtocolError::UnexpectedContinuation => f.write_str("continuation without a message"),
            ProtocolError::ExpectedContinuation => {
                f.write_str("new message inside a fragmented one")
            }
            ProtocolError::CloseFrameOneByte => f.write_str("close frame with a 1-byte payload"),
            ProtocolError::InvalidCloseCode(code) => write!(f, "invalid close code {code}"),
            ProtocolError::InvalidUtf8 => f.write_str("invalid UTF-8 in text"),
            ProtocolError::InvalidDeflate => f.write_str("compressed message does not inflate"),
            ProtocolError::MessageTooBig => f.write_str("message over max_message_size"),
        }
    }
}

impl std::error::Error for ProtocolError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_maps_to_its_close_code() {
        assert_eq!(ProtocolError::ReservedBits.close_code(), 1002);
        assert_eq!(ProtocolError::ReservedOpcode(3).close_code(), 1002);
        assert_eq!(ProtocolError::UnmaskedFrame.close_code(), 1002);
        assert_eq!(ProtocolError::MaskedFrame.close_code(), 1002);
        assert_eq!(ProtocolError::ControlFrameTooLong.close_code(), 1002);
        assert_eq!(ProtocolError::FragmentedControlFrame.close_code(), 1002);
        assert_eq!(ProtocolError::LengthOverflow.close_code(), 1002);
        assert_eq!(ProtocolError::UnexpectedContinuation.close_code(), 1002);
        assert_eq!(ProtocolError::ExpectedContinuation.close_code(), 1002);
        assert_eq!(ProtocolError::CloseFrameOneByte.close_code(), 1002);
        assert_eq!(ProtocolError::InvalidCloseCode(1005).close_code(), 1002);
        assert_eq!(ProtocolError::InvalidUtf8.close_code(), 1007);
        assert_eq!(ProtocolError::InvalidDeflate.close_code(), 1007);
        assert_eq!(ProtocolError::MessageTooBig.close_code(), 1009);
        assert_eq!(
            ProtocolError::InvalidCloseCode(5000).to_string(),
            "invalid close code 5000"
        );
    }
}
