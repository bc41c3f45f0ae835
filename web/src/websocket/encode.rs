//! Frames out: the header for any payload length (7, 16 or 64 bits), the mask key when the
//! role requires one (a client's frames, RFC 6455 §5.3), and the payload, appended to a
//! `Vec<u8>` (the connection's write buffer). Nothing is allocated beyond that vector's growth.

use super::frame::{Opcode, MAX_HEADER_LEN};
use super::mask::apply_mask;

/// Where a client's mask keys come from. RFC 6455 §5.3 asks for a fresh, unpredictable key
/// per frame; the caller supplies the source (the OS random generator, or a fixed key in
/// tests). A server uses [`NoMask`].
pub trait MaskSource {
    /// The key for the next frame, or `None` to send it unmasked.
    fn next_key(&mut self) -> Option<[u8; 4]>;
}

/// The server's mask source: its frames are never masked.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMask;

impl MaskSource for NoMask {
    fn next_key(&mut self) -> Option<[u8; 4]> {
        None
    }
}

impl<F: FnMut() -> [u8; 4]> MaskSource for F {
    fn next_key(&mut self) -> Option<[u8; 4]> {
        Some(self())
    }
}

/// Writes frames for one role.
///
/// ```
/// use web::websocket::{FrameEncoder, Opcode};
///
/// let mut out = Vec::new();
/// FrameEncoder::server().encode(&mut out, Opcode::Text, true, false, b"Hello");
/// assert_eq!(out, b"\x81\x05Hello");
///
/// out.clear();
/// let mut client = FrameEncoder::client(|| [0x37, 0xfa, 0x21, 0x3d]);
/// client.encode(&mut out, Opcode::Text, true, false, b"Hello");
/// assert_eq!(out, [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// ```
#[derive(Debug, Clone)]
pub struct FrameEncoder<K = NoMask> {
    keys: K,
}

impl FrameEncoder<NoMask> {
    /// The server's encoder: no masking.
    pub fn server() -> FrameEncoder<NoMask> {
        FrameEncoder { keys: NoMask }
    }
}

impl<K: FnMut() -> [u8; 4]> FrameEncoder<K> {
    /// The client's encoder: every frame masked with the next key from `keys`.
    pub fn client(keys: K) -> FrameEncoder<K> {
        FrameEncoder { keys }
    }
}

impl<K: MaskSource> FrameEncoder<K> {
    /// An encoder over any key source.
    pub fn with_keys(keys: K) -> FrameEncoder<K> {
        FrameEncoder { keys }
    }

    /// Appends one frame to `out`: `fin` ends the message, `rsv1` marks a compressed message
    /// (first frame only). The caller keeps control frames within 125 bytes and unfragmented.
    pub fn encode(
        &mut self,
        out: &mut Vec<u8>,
        opcode: Opcode,
        fin: bool,
        rsv1: bool,
        payload: &[u8],
    ) {
        let mask = self.keys.next_key();
        out.reserve(MAX_HEADER_LEN + payload.len());
        encode_header(out, opcode, fin, rsv1, payload.len() as u64, mask);
        let start = out.len();
        out.extend_from_slice(payload);
        if let Some(key) = mask {
            apply_mask(&mut out[start..], key, 0);
        }
    }
}

/// Appends a frame header to `out`: the shortest length encoding, then the mask key if any.
///
/// ```
/// let mut out = Vec::new();
/// web::websocket::encode::encode_header(&mut out, web::websocket::Opcode::Binary, true, false, 256, None);
/// assert_eq!(out, [0x82, 0x7E, 0x01, 0x00]);
/// ```
pub fn encode_header(
    out: &mut Vec<u8>,
    opcode: Opcode,
    fin: bool,
    rsv1: bool,
    payload_len: u64,
    mask: Option<[u8; 4]>,
) {
    let b0 = (u8::from(fin) << 7) | (u8::from(rsv1) << 6) | opcode.bits();
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload_len {
        0..=125 => out.extend_from_slice(&[b0, mask_bit | payload_len as u8]),
        126..=0xFFFF => {
            out.extend_from_slice(&[b0, mask_bit | 126]);
            out.extend_from_slice(&(payload_len as u16).to_be_bytes());
        }
        _ => {
            out.extend_from_slice(&[b0, mask_bit | 127]);
            out.extend_from_slice(&payload_len.to_be_bytes());
        }
    }
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::websocket::{FrameDecoder, Role};

    #[test]
    fn rfc6455_section_5_7_examples_byte_for_byte() {
        let mut server = FrameEncoder::server();
        let mut out = Vec::new();
        server.encode(&mut out, Opcode::Text, true, false, b"Hello");
        assert_eq!(out, [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);

        out.clear();
        server.encode(&mut out, Opcode::Text, false, false, b"Hel");
        server.encode(&mut out, Opcode::Continuation, true, false, b"lo");
        assert_eq!(out, [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]);

        out.clear();
        server.encode(&mut out, Opcode::Ping, true, false, b"Hello");
        assert_eq!(out, [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);

        out.clear();
        let mut client = FrameEncoder::client(|| [0x37, 0xfa, 0x21, 0x3d]);
        client.encode(&mut out, Opcode::Pong, true, false, b"Hello");
        assert_eq!(
            out,
            [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );

        out.clear();
        server.encode(&mut out, Opcode::Binary, true, false, &[7; 256]);
        assert_eq!(out[..4], [0x82, 0x7E, 0x01, 0x00]);
        assert_eq!(out.len(), 4 + 256);

        out.clear();
        server.encode(&mut out, Opcode::Binary, true, false, &vec![7; 65536]);
        assert_eq!(out[..10], [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(out.len(), 10 + 65536);
    }

    #[test]
    fn every_length_class_decodes_back() {
        let mut keys = 0u8;
        let mut client = FrameEncoder::client(move || {
            keys = keys.wrapping_add(1);
            [keys, 2, 3, 4]
        });
        let decoder = FrameDecoder::new(Role::Server, true);
        for len in [0usize, 1, 125, 126, 127, 0xFFFF, 0x10000, 100_000] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut out = b"kept".to_vec();
            client.encode(&mut out, Opcode::Binary, len % 2 == 0, true, &payload);
            assert_eq!(&out[..4], b"kept", "appends");
            let h = decoder.decode_header(&out[4..]).unwrap().unwrap();
            assert_eq!(
                (h.payload_len, h.fin, h.rsv1),
                (len as u64, len % 2 == 0, true)
            );
            let body = &mut out[4 + h.header_len..];
            apply_mask(body, h.mask.unwrap(), 0);
            assert_eq!(body, &payload[..]);
        }
    }

    #[test]
    fn the_header_uses_the_shortest_length() {
        for (len, header_len) in [
            (125u64, 2),
            (126, 4),
            (0xFFFF, 4),
            (0x10000, 10),
            (u64::MAX >> 1, 10),
        ] {
            let mut out = Vec::new();
            encode_header(&mut out, Opcode::Binary, true, false, len, None);
            assert_eq!(out.len(), header_len, "{len}");
            let h = FrameDecoder::new(Role::Client, false)
                .decode_header(&out)
                .unwrap()
                .unwrap();
            assert_eq!(h.payload_len, len);
        }
    }
}
