//! One message out: a text or binary message as a single frame (compressed, with RSV1, when
//! permessage-deflate is on), and the control frames (ping, pong, close). Tornado's
//! `write_message`, `write_ping` and `close` framing, into the connection's write buffer.

use super::close::encode_close_payload;
use super::deflate::Deflater;
use super::encode::{FrameEncoder, MaskSource, NoMask};
use super::frame::{Opcode, MAX_CONTROL_PAYLOAD};
use super::ProtocolError;

/// Writes whole messages for one role.
///
/// ```
/// use web::websocket::{Deflater, MessageWriter};
///
/// let mut out = Vec::new();
/// let mut plain = MessageWriter::server(None);
/// plain.write_message(&mut out, false, b"Hello");
/// assert_eq!(out, b"\x81\x05Hello");
///
/// out.clear();
/// let mut compressed = MessageWriter::server(Some(Deflater::new(6, 15, false)));
/// compressed.write_message(&mut out, false, b"Hello");
/// assert_eq!(out, [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]); // RFC 7692 §7.2.3.1
/// ```
#[derive(Debug)]
pub struct MessageWriter<K = NoMask> {
    encoder: FrameEncoder<K>,
    /// Boxed: zlib-rs's state handle is ~150 bytes inline, which a connection without
    /// compression should not carry.
    deflater: Option<Box<Deflater>>,
    /// The compressed form of the message being written (a warm buffer).
    scratch: Vec<u8>,
}

impl MessageWriter<NoMask> {
    /// The server's writer; `deflater` when permessage-deflate was negotiated.
    pub fn server(deflater: Option<Deflater>) -> MessageWriter<NoMask> {
        MessageWriter::with_encoder(FrameEncoder::server(), deflater)
    }
}

impl<K: FnMut() -> [u8; 4]> MessageWriter<K> {
    /// The client's writer, masking every frame with a key from `keys`.
    pub fn client(keys: K, deflater: Option<Deflater>) -> MessageWriter<K> {
        MessageWriter::with_encoder(FrameEncoder::client(keys), deflater)
    }
}

impl<K: MaskSource> MessageWriter<K> {
    /// A writer over any frame encoder.
    pub fn with_encoder(encoder: FrameEncoder<K>, deflater: Option<Deflater>) -> MessageWriter<K> {
        MessageWriter {
            encoder,
            deflater: deflater.map(Box::new),
            scratch: Vec::new(),
        }
    }

    /// Appends a text (`binary == false`; `payload` must then be UTF-8) or binary message.
    pub fn write_message(&mut self, out: &mut Vec<u8>, binary: bool, payload: &[u8]) {
        let opcode = if binary { Opcode::Binary } else { Opcode::Text };
        match &mut self.deflater {
            Some(deflater) => {
                self.scratch.clear();
                deflater.compress(payload, &mut self.scratch);
                self.encoder.encode(out, opcode, true, true, &self.scratch);
            }
            None => self.encoder.encode(out, opcode, true, false, payload),
        }
    }

    /// Frees the warm buffer of compressed bytes (e.g. when the connection goes idle); the
    /// next compressed message allocates it again.
    pub fn release_memory(&mut self) {
        self.scratch = Vec::new();
    }

    /// Appends a ping; its payload is at most 125 bytes.
    pub fn write_ping(&mut self, out: &mut Vec<u8>, payload: &[u8]) -> Result<(), ProtocolError> {
        self.write_control(out, Opcode::Ping, payload)
    }

    /// Appends a pong (the answer to a ping, with its payload).
    pub fn write_pong(&mut self, out: &mut Vec<u8>, payload: &[u8]) -> Result<(), ProtocolError> {
        self.write_control(out, Opcode::Pong, payload)
    }

    /// Appends a close frame: with no payload for `None`, else the code and the reason (cut to
    /// fit 125 bytes).
    pub fn write_close(&mut self, out: &mut Vec<u8>, code: Option<u16>, reason: &str) {
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let len = match code {
            None => 0,
            Some(code) => {
                self.scratch.clear();
                encode_close_payload(&mut self.scratch, code, reason);
                payload[..self.scratch.len()].copy_from_slice(&self.scratch);
                self.scratch.len()
            }
        };
        self.encoder
            .encode(out, Opcode::Close, true, false, &payload[..len]);
    }

    fn write_control(
        &mut self,
        out: &mut Vec<u8>,
        opcode: Opcode,
        payload: &[u8],
    ) -> Result<(), ProtocolError> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(ProtocolError::ControlFrameTooLong);
        }
        self.encoder.encode(out, opcode, true, false, payload);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::websocket::{Event, Inflater, MessageReader, Role};

    #[test]
    fn control_frames() {
        let mut writer = MessageWriter::server(None);
        let mut out = Vec::new();
        writer.write_ping(&mut out, b"Hello").unwrap();
        writer.write_pong(&mut out, b"").unwrap();
        writer.write_close(&mut out, None, "ignored");
        writer.write_close(&mut out, Some(1000), "bye");
        assert_eq!(out, b"\x89\x05Hello\x8a\x00\x88\x00\x88\x05\x03\xe8bye");
        assert_eq!(
            writer.write_ping(&mut out, &[0; 126]),
            Err(ProtocolError::ControlFrameTooLong)
        );
        assert_eq!(
            writer.write_pong(&mut out, &[0; 126]),
            Err(ProtocolError::ControlFrameTooLong)
        );
        writer.write_ping(&mut out, &[0; 125]).unwrap();
        out.clear();
        writer.write_close(&mut out, Some(1001), &"x".repeat(200));
        assert_eq!(out.len(), 2 + 125);
    }

    #[test]
    fn a_client_writer_is_read_by_a_server_reader_with_and_without_deflate() {
        for deflate in [false, true] {
            let mut writer =
                MessageWriter::client(|| [9, 8, 7, 6], deflate.then(|| Deflater::new(6, 15, true)));
            let mut reader = match deflate {
                true => MessageReader::with_deflate(Role::Server, 1 << 20, Inflater::new(15, true)),
                false => MessageReader::new(Role::Server, 1 << 20),
            };
            for (binary, payload) in [
                (false, "κόσμε".as_bytes()),
                (true, &[0, 1, 2][..]),
                (false, b""),
            ] {
                let mut wire = Vec::new();
                writer.write_message(&mut wire, binary, payload);
                assert_eq!(wire[0] & 0x40 != 0, deflate, "RSV1 when compressed");
                let len = wire.len();
                let decoded = reader.read(&mut wire).unwrap();
                assert_eq!(decoded.consumed, len);
                match decoded.event.unwrap() {
                    Event::Text(t) => assert_eq!((binary, t.as_bytes()), (false, payload)),
                    Event::Binary(b) => assert_eq!((binary, b), (true, payload)),
                    other => panic!("{other:?}"),
                }
            }
            let mut wire = Vec::new();
            writer.write_close(&mut wire, Some(4000), "done");
            let decoded = reader.read(&mut wire).unwrap();
            assert!(
                matches!(decoded.event, Some(Event::Close(c)) if c.code == 4000 && c.reason == "done")
            );
        }
    }
}
