//! The frame header (RFC 6455 §5.2), decoded from the front of a byte buffer: "need more
//! bytes", a [`FrameHeader`], or a [`ProtocolError`]. Only the rules that need no memory of
//! earlier frames live here (masking per role, reserved bits and opcodes, control frame
//! limits, the 64-bit length's top bit); fragmentation and message size are the
//! [`MessageReader`](super::MessageReader)'s.
//!
//! Payload lengths are not required to use their shortest encoding (a 5-byte payload sent
//! with a 16-bit length is accepted), as in Tornado.

use super::ProtocolError;

/// Which end of the connection this codec serves: a server reads masked frames and writes
/// unmasked ones, a client the reverse (RFC 6455 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The accepting end (`WebSocketHandler`).
    Server,
    /// The connecting end (`websocket_connect`).
    Client,
}

/// A frame's opcode (RFC 6455 §5.2); the reserved ones are rejected when decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// `0x0`: the next fragment of the open data message.
    Continuation,
    /// `0x1`: the first frame of a text message.
    Text,
    /// `0x2`: the first frame of a binary message.
    Binary,
    /// `0x8`: close, with an optional code and reason.
    Close,
    /// `0x9`: ping; the peer answers with a pong of the same payload.
    Ping,
    /// `0xA`: pong.
    Pong,
}

impl Opcode {
    /// The opcode for the low nibble `bits`, or `None` if RFC 6455 reserves it.
    pub fn from_bits(bits: u8) -> Option<Opcode> {
        match bits {
            0x0 => Some(Opcode::Continuation),
            0x1 => Some(Opcode::Text),
            0x2 => Some(Opcode::Binary),
            0x8 => Some(Opcode::Close),
            0x9 => Some(Opcode::Ping),
            0xA => Some(Opcode::Pong),
            _ => None,
        }
    }

    /// The 4-bit value on the wire.
    pub fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// Close, ping and pong: at most 125 bytes, never fragmented.
    pub fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// The largest payload of a control frame.
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// The longest frame header: 2 bytes, a 64-bit length, a 4-byte mask key.
pub const MAX_HEADER_LEN: usize = 14;

/// One decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The final fragment of its message (always set on control frames).
    pub fin: bool,
    /// RSV1: with permessage-deflate, "this message is compressed" (first frame only).
    pub rsv1: bool,
    /// What the frame carries.
    pub opcode: Opcode,
    /// The masking key (always present from a client, never from a server).
    pub mask: Option<[u8; 4]>,
    /// The payload length in bytes.
    pub payload_len: u64,
    /// The header's own length (2 to 14 bytes); the payload starts there.
    pub header_len: usize,
}

/// Decodes frame headers for one role, with or without permessage-deflate (which gives RSV1 a
/// meaning).
#[derive(Debug, Clone, Copy)]
pub struct FrameDecoder {
    role: Role,
    deflate: bool,
}

impl FrameDecoder {
    /// A decoder for `role`; `deflate` is whether permessage-deflate was negotiated.
    pub fn new(role: Role, deflate: bool) -> FrameDecoder {
        FrameDecoder { role, deflate }
    }

    /// Decodes the header at the start of `buf`: `Ok(None)` if `buf` does not hold the whole
    /// header yet (nothing is consumed; call again with more bytes).
    ///
    /// ```
    /// use web::websocket::{FrameDecoder, Opcode, Role};
    ///
    /// let client = FrameDecoder::new(Role::Client, false);
    /// let header = client.decode_header(b"\x81\x05Hello").unwrap().unwrap();
    /// assert_eq!((header.opcode, header.fin, header.payload_len), (Opcode::Text, true, 5));
    /// assert_eq!(client.decode_header(b"\x81").unwrap(), None);
    /// ```
    pub fn decode_header(&self, buf: &[u8]) -> Result<Option<FrameHeader>, ProtocolError> {
        let [b0, b1, ..] = *buf else {
            return Ok(None);
        };
        let fin = b0 & 0x80 != 0;
        let rsv1 = b0 & 0x40 != 0;
        if b0 & 0x30 != 0 {
            return Err(ProtocolError::ReservedBits);
        }
        let opcode =
            Opcode::from_bits(b0 & 0x0F).ok_or(ProtocolError::ReservedOpcode(b0 & 0x0F))?;
        // RSV1 marks a compressed message, so it belongs on a message's first frame only.
        if rsv1 && !(self.deflate && matches!(opcode, Opcode::Text | Opcode::Binary)) {
            return Err(ProtocolError::ReservedBits);
        }
        let masked = b1 & 0x80 != 0;
        match (self.role, masked) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        let len7 = b1 & 0x7F;
        if opcode.is_control() {
            if !fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if usize::from(len7) > MAX_CONTROL_PAYLOAD {
                return Err(ProtocolError::ControlFrameTooLong);
            }
        }
        let (payload_len, mut header_len) = match len7 {
            126 => match buf.get(2..4) {
                Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
                None => return Ok(None),
            },
            127 => match buf.get(2..10) {
                Some(b) => {
                    let len = u64::from_be_bytes(b.try_into().expect("8 bytes"));
                    if len >> 63 != 0 {
                        return Err(ProtocolError::LengthOverflow);
                    }
                    (len, 10)
                }
                None => return Ok(None),
            },
            n => (u64::from(n), 2),
        };
        let mask = if masked {
            let Some(key) = buf.get(header_len..header_len + 4) else {
                return Ok(None);
            };
            header_len += 4;
            Some(key.try_into().expect("4 bytes"))
        } else {
            None
        };
        Ok(Some(FrameHeader {
            fin,
            rsv1,
            opcode,
            mask,
            payload_len,
            header_len,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: FrameDecoder = FrameDecoder {
        role: Role::Server,
        deflate: false,
    };
    const CLIENT: FrameDecoder = FrameDecoder {
        role: Role::Client,
        deflate: false,
    };

    #[test]
    fn rfc6455_section_5_7_headers() {
        // A single-frame unmasked text message.
        let h = CLIENT.decode_header(b"\x81\x05Hello").unwrap().unwrap();
        assert_eq!(
            h,
            FrameHeader {
                fin: true,
                rsv1: false,
                opcode: Opcode::Text,
                mask: None,
                payload_len: 5,
                header_len: 2
            }
        );
        // A single-frame masked text message.
        let wire = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let h = SERVER.decode_header(&wire).unwrap().unwrap();
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!((h.header_len, h.payload_len), (6, 5));
        // A fragmented unmasked text message.
        let h = CLIENT
            .decode_header(&[0x01, 0x03, b'H', b'e', b'l'])
            .unwrap()
            .unwrap();
        assert_eq!((h.fin, h.opcode, h.payload_len), (false, Opcode::Text, 3));
        let h = CLIENT
            .decode_header(&[0x80, 0x02, b'l', b'o'])
            .unwrap()
            .unwrap();
        assert_eq!(
            (h.fin, h.opcode, h.payload_len),
            (true, Opcode::Continuation, 2)
        );
        // Unmasked ping, masked pong.
        let h = CLIENT.decode_header(b"\x89\x05Hello").unwrap().unwrap();
        assert_eq!(h.opcode, Opcode::Ping);
        let pong = [
            0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        assert_eq!(
            SERVER.decode_header(&pong).unwrap().unwrap().opcode,
            Opcode::Pong
        );
        // 256 bytes binary in one unmasked frame, and 64 KiB.
        let h = CLIENT
            .decode_header(&[0x82, 0x7E, 0x01, 0x00])
            .unwrap()
            .unwrap();
        assert_eq!((h.payload_len, h.header_len), (256, 4));
        let h = CLIENT
            .decode_header(&[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0])
            .unwrap()
            .unwrap();
        assert_eq!((h.payload_len, h.header_len), (65536, 10));
    }

    #[test]
    fn a_partial_header_needs_more_bytes_at_every_cut() {
        let wire = [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4];
        for cut in 0..wire.len() {
            assert_eq!(SERVER.decode_header(&wire[..cut]), Ok(None), "cut {cut}");
        }
        let h = SERVER.decode_header(&wire).unwrap().unwrap();
        assert_eq!(
            (h.payload_len, h.header_len, h.mask),
            (65536, 14, Some([1, 2, 3, 4]))
        );
    }

    #[test]
    fn masking_is_required_from_clients_and_refused_from_servers() {
        assert_eq!(
            SERVER.decode_header(b"\x81\x00"),
            Err(ProtocolError::UnmaskedFrame)
        );
        assert_eq!(
            CLIENT.decode_header(b"\x81\x80\x01\x02\x03\x04"),
            Err(ProtocolError::MaskedFrame)
        );
    }

    #[test]
    fn reserved_bits() {
        let with_deflate = FrameDecoder::new(Role::Client, true);
        // RSV2 and RSV3: always errors, with or without deflate.
        for b0 in [0xA1, 0x91, 0xE1, 0xB1] {
            assert_eq!(
                CLIENT.decode_header(&[b0, 0]),
                Err(ProtocolError::ReservedBits)
            );
            assert_eq!(
                with_deflate.decode_header(&[b0, 0]),
                Err(ProtocolError::ReservedBits)
            );
        }
        // RSV1 without deflate: an error on every opcode.
        for op in [0x0, 0x1, 0x2, 0x8, 0x9, 0xA] {
            let b0 = 0x80 | 0x40 | op;
            assert_eq!(
                CLIENT.decode_header(&[b0, 0]),
                Err(ProtocolError::ReservedBits)
            );
        }
        // RSV1 with deflate: allowed on text and binary (a message's first frame), never on
        // a continuation or a control frame.
        for op in [0x1, 0x2] {
            let h = with_deflate
                .decode_header(&[0x40 | op, 0])
                .unwrap()
                .unwrap();
            assert!(h.rsv1);
        }
        for op in [0x0, 0x8, 0x9, 0xA] {
            let b0 = 0x80 | 0x40 | op;
            assert_eq!(
                with_deflate.decode_header(&[b0, 0]),
                Err(ProtocolError::ReservedBits)
            );
        }
    }

    #[test]
    fn reserved_opcodes() {
        for op in (0x3..=0x7).chain(0xB..=0xF) {
            assert_eq!(
                CLIENT.decode_header(&[0x80 | op, 0]),
                Err(ProtocolError::ReservedOpcode(op))
            );
        }
    }

    #[test]
    fn control_frames_are_short_and_final() {
        for op in [0x8, 0x9, 0xA] {
            assert!(CLIENT.decode_header(&[0x80 | op, 125]).unwrap().is_some());
            assert_eq!(
                CLIENT.decode_header(&[0x80 | op, 126, 0, 126]),
                Err(ProtocolError::ControlFrameTooLong)
            );
            assert_eq!(
                CLIENT.decode_header(&[0x80 | op, 127]),
                Err(ProtocolError::ControlFrameTooLong)
            );
            assert_eq!(
                CLIENT.decode_header(&[op, 0]),
                Err(ProtocolError::FragmentedControlFrame)
            );
        }
    }

    #[test]
    fn a_64_bit_length_with_the_top_bit_set_is_refused() {
        let wire = [0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            CLIENT.decode_header(&wire),
            Err(ProtocolError::LengthOverflow)
        );
        let wire = [0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        assert_eq!(
            CLIENT.decode_header(&wire).unwrap().unwrap().payload_len,
            u64::MAX >> 1
        );
    }

    #[test]
    fn opcode_bits_round_trip() {
        for bits in 0..16 {
            if let Some(op) = Opcode::from_bits(bits) {
                assert_eq!(op.bits(), bits);
                assert_eq!(op.is_control(), bits >= 8);
            }
        }
    }
}
