//! The message assembler (Tornado's `_receive_frame_loop` without the stream): frames in,
//! messages and control frames out. It keeps the rules that need memory of earlier frames:
//! fragments are joined into one message, a continuation needs an open message and a new
//! message needs none, control frames may arrive between fragments, text is validated as
//! UTF-8 as its bytes arrive (failing at the first bad byte), the message size is checked
//! against `max_message_size` before its bytes are buffered (and while it inflates), and
//! close frames are parsed.
//!
//! A data frame's payload is consumed as it arrives, so a text frame sent slowly fails at its
//! first invalid byte and a large frame never needs the whole frame in the read buffer. A
//! control frame is returned only once it is complete (at most 125 bytes). Payloads are
//! unmasked in place in the caller's buffer.
//!
//! **The common message is not copied.** A message of one uncompressed frame whose bytes have
//! all arrived is unmasked where it lies and handed out from the caller's buffer (its UTF-8
//! checked once, when the `&str` is made); only fragmented, compressed or partly arrived
//! messages are assembled in the reader's own buffer. [`MessageReader::decode`] says where the
//! event lies ([`Found`]) without borrowing the buffer, so that a connection can decode in its
//! stream's read buffer, then look at the event through a shared borrow while its handler runs
//! ([`MessageReader::event`]); [`MessageReader::read`] does both at once.

use std::ops::Range;

use super::close::{parse_close_payload, CloseFrame};
use super::deflate::Inflater;
use super::frame::{FrameDecoder, Opcode, Role};
use super::mask::apply_mask;
use super::utf8::Utf8Validator;
use super::ProtocolError;

/// Something complete that [`MessageReader::read`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A text message (validated UTF-8).
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
    /// A ping and its payload (answer with a pong of the same payload).
    Ping(&'a [u8]),
    /// A pong and its payload.
    Pong(&'a [u8]),
    /// A close frame (code [`NO_STATUS`](super::close::NO_STATUS) when it had no payload).
    Close(CloseFrame<'a>),
}

/// What one call to [`MessageReader::read`] did.
#[derive(Debug, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// Bytes of the buffer used up; the caller removes them before the next call.
    pub consumed: usize,
    /// `None`: everything usable was consumed; call again when more bytes arrive.
    pub event: Option<Event<'a>>,
}

/// Where the message or control frame that [`MessageReader::decode`] completed lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A data message of one uncompressed frame, unmasked in place at this range of the
    /// buffer given to `decode` (no copy).
    InBuffer {
        /// A text message (else binary).
        text: bool,
        /// The payload's bytes in the buffer.
        range: Range<usize>,
    },
    /// A data message assembled in the reader (fragmented, compressed, or arrived in
    /// pieces); it stays there until the next call to `decode`.
    Assembled {
        /// A text message (else binary).
        text: bool,
    },
    /// A control frame whose payload is at this range of the buffer, unmasked.
    Control {
        /// [`Opcode::Ping`], [`Opcode::Pong`] or [`Opcode::Close`].
        opcode: Opcode,
        /// The payload's bytes in the buffer.
        range: Range<usize>,
    },
}

/// What one call to [`MessageReader::decode`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Bytes of the buffer used up; the caller removes them once it is done with the event
    /// (an event [`Found::InBuffer`] or [`Found::Control`] lies in them).
    pub consumed: usize,
    /// `None`: everything usable was consumed; call again when more bytes arrive.
    pub found: Option<Found>,
}

/// The data frame whose payload is being consumed.
#[derive(Debug, Clone, Copy)]
struct PayloadInProgress {
    fin: bool,
    remaining: u64,
    mask: Option<[u8; 4]>,
    /// Payload bytes of this frame already consumed (the mask's phase).
    done: usize,
}

/// The data message being assembled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Binary,
}

/// Reassembles messages from frames for one role.
#[derive(Debug)]
pub struct MessageReader {
    decoder: FrameDecoder,
    max_message_size: usize,
    /// Boxed: zlib-rs's state handle is ~160 bytes inline, which a connection without
    /// compression should not carry.
    inflater: Option<Box<Inflater>>,
    /// The open message's type (`None` between messages).
    kind: Option<Kind>,
    /// The open message has RSV1 (permessage-deflate).
    compressed: bool,
    /// Compressed payload bytes received for the open message.
    compressed_len: u64,
    /// The data frame whose payload is arriving (`None` between frames).
    frame: Option<PayloadInProgress>,
    /// The open message's (inflated) bytes; kept between messages as a warm buffer.
    message: Vec<u8>,
    /// The open text message's UTF-8 state (a code point cut by a piece boundary).
    utf8: Utf8Validator,
    /// The last call returned a data message, still in `message`.
    delivered: bool,
}

/// A warm message buffer larger than this is released after its message (so that one large
/// message does not pin its memory to the connection).
const RETAINED_CAPACITY: usize = 64 * 1024;

impl MessageReader {
    /// A reader for `role`, without compression.
    pub fn new(role: Role, max_message_size: usize) -> MessageReader {
        MessageReader {
            decoder: FrameDecoder::new(role, false),
            max_message_size,
            inflater: None,
            kind: None,
            compressed: false,
            compressed_len: 0,
            frame: None,
            message: Vec::new(),
            utf8: Utf8Validator::new(),
            delivered: false,
        }
    }

    /// A reader for `role` with permessage-deflate negotiated: RSV1 marks a compressed
    /// message, which `inflater` inflates.
    pub fn with_deflate(role: Role, max_message_size: usize, inflater: Inflater) -> MessageReader {
        MessageReader {
            decoder: FrameDecoder::new(role, true),
            inflater: Some(Box::new(inflater)),
            ..MessageReader::new(role, max_message_size)
        }
    }

    /// Reads from `buf` (the bytes received and not yet consumed) until one message or control
    /// frame is complete, or the bytes run out. Unmasks payloads in place. After an error the
    /// connection must be failed with the error's close code; the reader is not usable again.
    ///
    /// ```
    /// use web::websocket::{Event, MessageReader, Role};
    ///
    /// let mut reader = MessageReader::new(Role::Client, 1024);
    /// let mut wire = b"\x01\x03Hel\x89\x02hi\x80\x02lo".to_vec(); // a ping between fragments
    /// let first = reader.read(&mut wire).unwrap();
    /// assert_eq!((first.consumed, first.event), (9, Some(Event::Ping(b"hi"))));
    /// let second = reader.read(&mut wire[9..]).unwrap();
    /// assert_eq!(second.event, Some(Event::Text("Hello")));
    /// ```
    pub fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Result<Decoded<'a>, ProtocolError> {
        let Located { consumed, found } = self.decode(buf)?;
        let event = match found {
            Some(found) => Some(self.event(buf, &found)?),
            None => None,
        };
        Ok(Decoded { consumed, event })
    }

    /// Like [`read`](Self::read), but says where the event lies instead of borrowing `buf`
    /// for it: look at it with [`event`](Self::event) on the same bytes (the first
    /// `consumed` of them stay as they are until then).
    ///
    /// ```
    /// use web::websocket::{Event, Found, MessageReader, Role};
    ///
    /// let mut reader = MessageReader::new(Role::Server, 1024);
    /// let mut wire = vec![0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2];
    /// let located = reader.decode(&mut wire).unwrap();
    /// let found = located.found.unwrap();
    /// assert_eq!(found, Found::InBuffer { text: true, range: 6..8 }); // unmasked in place
    /// assert_eq!(reader.event(&wire, &found), Ok(Event::Text("hi")));
    /// ```
    pub fn decode(&mut self, buf: &mut [u8]) -> Result<Located, ProtocolError> {
        if self.delivered {
            self.delivered = false;
            self.message.clear();
            if self.message.capacity() > RETAINED_CAPACITY {
                self.message = Vec::new();
            }
        }
        let mut pos = 0;
        let step = loop {
            match self.step(&mut buf[pos..])? {
                Step::Progress(n) => pos += n,
                other => break other,
            }
        };
        Ok(match step {
            Step::NeedMore(n) => Located {
                consumed: pos + n,
                found: None,
            },
            Step::Message(n, kind) => {
                self.delivered = true;
                Located {
                    consumed: pos + n,
                    found: Some(Found::Assembled {
                        text: kind == Kind::Text,
                    }),
                }
            }
            Step::Whole(n, kind, start) => Located {
                consumed: pos + n,
                found: Some(Found::InBuffer {
                    text: kind == Kind::Text,
                    range: pos + start..pos + n,
                }),
            },
            Step::Control(n, opcode, start) => Located {
                consumed: pos + n,
                found: Some(Found::Control {
                    opcode,
                    range: pos + start..pos + n,
                }),
            },
            Step::Progress(_) => unreachable!("the loop only stops on other steps"),
        })
    }

    /// The event [`decode`](Self::decode) found, looked at in `buf` (the bytes `decode` was
    /// given) or in the reader. Text is checked as UTF-8 here, in the one pass that makes the
    /// `&str` (the earlier pieces of an assembled message were checked as they came), and a
    /// close frame's payload is parsed here.
    pub fn event<'a>(&'a self, buf: &'a [u8], found: &Found) -> Result<Event<'a>, ProtocolError> {
        let text = |bytes| std::str::from_utf8(bytes).map_err(|_| ProtocolError::InvalidUtf8);
        Ok(match found {
            Found::InBuffer { text: true, range } => Event::Text(text(&buf[range.clone()])?),
            Found::InBuffer { text: false, range } => Event::Binary(&buf[range.clone()]),
            Found::Assembled { text: true } => Event::Text(text(&self.message)?),
            Found::Assembled { text: false } => Event::Binary(&self.message),
            Found::Control { opcode, range } => {
                let payload = &buf[range.clone()];
                match opcode {
                    Opcode::Ping => Event::Ping(payload),
                    Opcode::Pong => Event::Pong(payload),
                    _ => Event::Close(parse_close_payload(payload)?),
                }
            }
        })
    }

    /// Whether a data message is open (some of its frames received, not the last one).
    pub fn in_message(&self) -> bool {
        self.kind.is_some()
    }

    /// Frees the warm buffer (e.g. when the connection goes idle); the next message allocates
    /// again.
    pub fn release_memory(&mut self) {
        if self.kind.is_none() {
            self.message = Vec::new();
            self.delivered = false;
        }
    }

    /// One unit of work at the front of `buf`.
    fn step(&mut self, buf: &mut [u8]) -> Result<Step, ProtocolError> {
        if let Some(frame) = self.frame {
            return self.consume_payload(frame, buf);
        }
        let Some(header) = self.decoder.decode_header(buf)? else {
            return Ok(Step::NeedMore(0));
        };
        if header.opcode.is_control() {
            // At most 125 bytes: wait for all of it.
            let end = header.header_len + header.payload_len as usize;
            if buf.len() < end {
                return Ok(Step::NeedMore(0));
            }
            if let Some(key) = header.mask {
                apply_mask(&mut buf[header.header_len..end], key, 0);
            }
            return Ok(Step::Control(end, header.opcode, header.header_len));
        }
        match (header.opcode, self.kind) {
            (Opcode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (Opcode::Text | Opcode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation)
            }
            (Opcode::Text | Opcode::Binary, None) => {
                let kind = match header.opcode {
                    Opcode::Text => Kind::Text,
                    _ => Kind::Binary,
                };
                let end = header.header_len as u64 + header.payload_len;
                if header.fin && !header.rsv1 && end <= buf.len() as u64 {
                    // The whole message is here: unmasked where it lies, not copied.
                    if header.payload_len > self.max_message_size as u64 {
                        return Err(ProtocolError::MessageTooBig);
                    }
                    let end = end as usize;
                    if let Some(key) = header.mask {
                        apply_mask(&mut buf[header.header_len..end], key, 0);
                    }
                    return Ok(Step::Whole(end, kind, header.header_len));
                }
                self.start_message(kind, header.rsv1);
            }
            _ => {}
        }
        // The size check comes before any byte of this frame is buffered.
        let size_so_far = if self.compressed {
            self.compressed_len
        } else {
            self.message.len() as u64
        };
        if size_so_far.saturating_add(header.payload_len) > self.max_message_size as u64 {
            return Err(ProtocolError::MessageTooBig);
        }
        if self.compressed {
            self.compressed_len += header.payload_len;
        }
        self.frame = Some(PayloadInProgress {
            fin: header.fin,
            remaining: header.payload_len,
            mask: header.mask,
            done: 0,
        });
        Ok(Step::Progress(header.header_len))
    }

    fn start_message(&mut self, kind: Kind, compressed: bool) {
        self.kind = Some(kind);
        self.compressed = compressed;
        self.compressed_len = 0;
        self.message.clear();
        self.utf8.reset();
    }

    /// Takes what `buf` holds of the current frame's payload.
    fn consume_payload(
        &mut self,
        mut frame: PayloadInProgress,
        buf: &mut [u8],
    ) -> Result<Step, ProtocolError> {
        let n = frame.remaining.min(buf.len() as u64) as usize;
        let chunk = &mut buf[..n];
        if let Some(key) = frame.mask {
            apply_mask(chunk, key, frame.done);
        }
        let before = self.message.len();
        match (&mut self.inflater, self.compressed) {
            (Some(inflater), true) => {
                inflater.inflate(chunk, &mut self.message, self.max_message_size)?
            }
            _ => self.message.extend_from_slice(chunk),
        }
        frame.remaining -= n as u64;
        frame.done += n;
        let completes_message = frame.fin && frame.remaining == 0;
        // Text is checked piece by piece while more is to come; the piece that completes the
        // message is checked by the whole-message pass in `event` that makes the `&str` (the
        // same moment, and a single pass for the common one-frame message).
        if self.kind == Some(Kind::Text) && !completes_message {
            self.utf8
                .feed(&self.message[before..])
                .map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        if frame.remaining > 0 {
            self.frame = Some(frame);
            return Ok(Step::NeedMore(n));
        }
        self.frame = None;
        if !frame.fin {
            return Ok(Step::Progress(n));
        }
        if self.compressed {
            let inflater = self
                .inflater
                .as_mut()
                .expect("RSV1 is only accepted with deflate");
            inflater.finish_message(&mut self.message, self.max_message_size)?;
        }
        let kind = self.kind.take().expect("a data frame belongs to a message");
        Ok(Step::Message(n, kind))
    }
}

/// The result of one step: bytes used, and what they completed.
enum Step {
    /// Used `n` bytes; more may follow at once.
    Progress(usize),
    /// Used `n` bytes; nothing more until more bytes arrive.
    NeedMore(usize),
    /// Used `n` bytes, completing a data message (in the reader's buffer).
    Message(usize, Kind),
    /// Used `n` bytes: a whole one-frame message whose payload starts at the offset.
    Whole(usize, Kind, usize),
    /// Used `n` bytes: a whole control frame whose payload starts at the offset.
    Control(usize, Opcode, usize),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::websocket::{Deflater, FrameEncoder};

    /// An owned copy of an event, to compare across calls.
    #[derive(Debug, PartialEq, Eq)]
    enum Owned {
        Text(String),
        Binary(Vec<u8>),
        Ping(Vec<u8>),
        Pong(Vec<u8>),
        Close(u16, String),
    }

    fn own(event: Event<'_>) -> Owned {
        match event {
            Event::Text(s) => Owned::Text(s.to_string()),
            Event::Binary(b) => Owned::Binary(b.to_vec()),
            Event::Ping(b) => Owned::Ping(b.to_vec()),
            Event::Pong(b) => Owned::Pong(b.to_vec()),
            Event::Close(c) => Owned::Close(c.code, c.reason.to_string()),
        }
    }

    /// Feeds `wire` in pieces of `piece` bytes (a growing receive buffer, drained as the
    /// reader consumes), collecting events until the first error.
    fn run(
        reader: &mut MessageReader,
        wire: &[u8],
        piece: usize,
    ) -> (Vec<Owned>, Option<ProtocolError>) {
        let mut events = Vec::new();
        let mut buf = Vec::new();
        let mut fed = 0;
        loop {
            match reader.read(&mut buf) {
                Err(e) => return (events, Some(e)),
                Ok(Decoded { consumed, event }) => {
                    let got = event.map(own);
                    buf.drain(..consumed);
                    match got {
                        Some(event) => events.push(event),
                        None if fed == wire.len() => return (events, None),
                        None => {
                            let end = (fed + piece).min(wire.len());
                            buf.extend_from_slice(&wire[fed..end]);
                            fed = end;
                        }
                    }
                }
            }
        }
    }

    /// Client frames (masked), as a server receives them.
    fn client_frames(frames: &[(Opcode, bool, bool, &[u8])]) -> Vec<u8> {
        let mut n = 0u8;
        let mut encoder = FrameEncoder::client(move || {
            n = n.wrapping_add(37);
            [n, 0x5a, n ^ 0xff, 0x13]
        });
        let mut wire = Vec::new();
        for &(opcode, fin, rsv1, payload) in frames {
            encoder.encode(&mut wire, opcode, fin, rsv1, payload);
        }
        wire
    }

    fn server_reader() -> MessageReader {
        MessageReader::new(Role::Server, 1 << 20)
    }

    #[test]
    fn rfc6455_section_5_7_messages() {
        let mut client = MessageReader::new(Role::Client, 1 << 20);
        let wire = [
            0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f, // unmasked "Hello"
            0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f, // fragmented "Hello"
            0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f, // ping "Hello"
        ];
        let (events, err) = run(&mut client, &wire, wire.len());
        assert_eq!(err, None);
        assert_eq!(
            events,
            [
                Owned::Text("Hello".into()),
                Owned::Text("Hello".into()),
                Owned::Ping(b"Hello".to_vec())
            ]
        );
        let mut server = server_reader();
        let wire = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51,
            0x58, // masked "Hello"
            0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58, // masked pong
        ];
        let (events, err) = run(&mut server, &wire, 3);
        assert_eq!(err, None);
        assert_eq!(
            events,
            [Owned::Text("Hello".into()), Owned::Pong(b"Hello".to_vec())]
        );
        let mut wire = vec![0x82, 0x7E, 0x01, 0x00];
        wire.extend([9u8; 256]);
        wire.extend([0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]);
        wire.extend(vec![8u8; 65536]);
        let (events, err) = run(&mut client, &wire, 1000);
        assert_eq!(err, None);
        assert_eq!(
            events,
            [Owned::Binary(vec![9; 256]), Owned::Binary(vec![8; 65536])]
        );
    }

    #[test]
    fn fragments_with_control_frames_between_them_at_every_piece_size() {
        let wire = client_frames(&[
            (Opcode::Text, false, false, "κό".as_bytes()),
            (Opcode::Ping, true, false, b"p1"),
            (Opcode::Continuation, false, false, b""),
            (Opcode::Pong, true, false, b""),
            (Opcode::Continuation, false, false, "σμε".as_bytes()),
            (Opcode::Ping, true, false, b"p2"),
            (Opcode::Continuation, true, false, b"!"),
            (Opcode::Binary, false, false, b"\x00\x01"),
            (Opcode::Ping, true, false, b""),
            (Opcode::Continuation, true, false, b"\x02"),
            (Opcode::Close, true, false, b"\x03\xe8done"),
        ]);
        for piece in 1..=wire.len() {
            let (events, err) = run(&mut server_reader(), &wire, piece);
            assert_eq!(err, None, "piece {piece}");
            assert_eq!(
                events,
                [
                    Owned::Ping(b"p1".to_vec()),
                    Owned::Pong(vec![]),
                    Owned::Ping(b"p2".to_vec()),
                    Owned::Text("κόσμε!".into()),
                    Owned::Ping(vec![]),
                    Owned::Binary(vec![0, 1, 2]),
                    Owned::Close(1000, "done".into()),
                ],
                "piece {piece}"
            );
        }
    }

    #[test]
    fn fragmentation_errors() {
        let wire = client_frames(&[(Opcode::Continuation, true, false, b"x")]);
        assert_eq!(
            run(&mut server_reader(), &wire, 100).1,
            Some(ProtocolError::UnexpectedContinuation)
        );
        for opcode in [Opcode::Text, Opcode::Binary] {
            let wire = client_frames(&[
                (Opcode::Text, false, false, b"a"),
                (opcode, true, false, b"b"),
            ]);
            let err = run(&mut server_reader(), &wire, 100).1.unwrap();
            assert_eq!(
                (err, err.close_code()),
                (ProtocolError::ExpectedContinuation, 1002)
            );
        }
        // After a complete message, a continuation is unexpected again.
        let wire = client_frames(&[
            (Opcode::Text, true, false, b"a"),
            (Opcode::Continuation, true, false, b"b"),
        ]);
        let (events, err) = run(&mut server_reader(), &wire, 100);
        assert_eq!(
            (events, err),
            (
                vec![Owned::Text("a".into())],
                Some(ProtocolError::UnexpectedContinuation)
            )
        );
    }

    #[test]
    fn utf8_split_at_every_byte_across_fragments() {
        let text = "a€𝄞κόσμεz";
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            let wire = client_frames(&[
                (Opcode::Text, false, false, &bytes[..cut]),
                (Opcode::Ping, true, false, b""),
                (Opcode::Continuation, true, false, &bytes[cut..]),
            ]);
            let (events, err) = run(&mut server_reader(), &wire, 5);
            assert_eq!(err, None, "cut {cut}");
            assert_eq!(
                events,
                [Owned::Ping(vec![]), Owned::Text(text.into())],
                "cut {cut}"
            );
        }
    }

    #[test]
    fn invalid_utf8_fails_fast_before_the_message_ends() {
        // The bad byte is in the first fragment; the final fragment never arrives.
        let mut wire = client_frames(&[(Opcode::Text, false, false, b"ok\xed\xa0\x80rest")]);
        let (events, err) = run(&mut server_reader(), &wire, 1);
        assert_eq!((events, err), (vec![], Some(ProtocolError::InvalidUtf8)));
        // Within one frame whose end has not arrived: 2 + 4 header, then "ok", 0xF5.
        wire = client_frames(&[(Opcode::Text, true, false, b"ok\xf5 and much more to come")]);
        let mut reader = server_reader();
        let mut partial = wire[..6 + 3].to_vec();
        assert_eq!(reader.read(&mut partial), Err(ProtocolError::InvalidUtf8));
        // A code point cut at the end of the message fails at the end.
        let wire = client_frames(&[
            (Opcode::Text, false, false, b"ok\xe2\x82"),
            (Opcode::Continuation, true, false, b""),
        ]);
        let err = run(&mut server_reader(), &wire, 100).1.unwrap();
        assert_eq!((err, err.close_code()), (ProtocolError::InvalidUtf8, 1007));
        // Binary messages are not checked.
        let wire = client_frames(&[(Opcode::Binary, true, false, b"\xff\xfe")]);
        assert_eq!(
            run(&mut server_reader(), &wire, 100),
            (vec![Owned::Binary(vec![0xff, 0xfe])], None)
        );
    }

    #[test]
    fn close_frames() {
        let cases: &[(&[u8], Result<Owned, ProtocolError>)] = &[
            (b"", Ok(Owned::Close(1005, String::new()))),
            (b"\x03", Err(ProtocolError::CloseFrameOneByte)),
            (b"\x03\xe8", Ok(Owned::Close(1000, String::new()))),
            (b"\x0b\xb8why", Ok(Owned::Close(3000, "why".into()))),
            (b"\x03\xed", Err(ProtocolError::InvalidCloseCode(1005))),
            (b"\x03\xe8\xff", Err(ProtocolError::InvalidUtf8)),
        ];
        for (payload, expected) in cases {
            let wire = client_frames(&[(Opcode::Close, true, false, payload)]);
            let (events, err) = run(&mut server_reader(), &wire, 2);
            match expected {
                Ok(event) => assert_eq!((&events[..], err), (std::slice::from_ref(event), None)),
                Err(e) => assert_eq!((events, err), (vec![], Some(*e))),
            }
        }
    }

    #[test]
    fn max_message_size_is_checked_before_buffering() {
        // A frame header announcing too much fails before any payload arrives.
        let mut reader = MessageReader::new(Role::Server, 100);
        let mut header = vec![0x82, 0xFE, 0x00, 101, 1, 2, 3, 4];
        assert_eq!(reader.read(&mut header), Err(ProtocolError::MessageTooBig));
        // Tornado's default: 10 MiB passes the header check, one byte more does not.
        let mut reader =
            MessageReader::new(Role::Client, crate::websocket::DEFAULT_MAX_MESSAGE_SIZE);
        let mut header = [0x82, 0x7F, 0, 0, 0, 0, 0, 0xA0, 0, 0];
        let decoded = reader.read(&mut header).unwrap();
        assert_eq!((decoded.consumed, decoded.event), (10, None));
        let mut reader =
            MessageReader::new(Role::Client, crate::websocket::DEFAULT_MAX_MESSAGE_SIZE);
        let mut header = [0x82, 0x7F, 0, 0, 0, 0, 0, 0xA0, 0, 1];
        assert_eq!(reader.read(&mut header), Err(ProtocolError::MessageTooBig));
        // Exactly the limit passes, across fragments too.
        let wire = client_frames(&[
            (Opcode::Binary, false, false, &[1; 60]),
            (Opcode::Continuation, true, false, &[2; 40]),
        ]);
        let (events, err) = run(&mut MessageReader::new(Role::Server, 100), &wire, 7);
        assert_eq!((events.len(), err), (1, None));
        // One byte more fails at the second header.
        let wire = client_frames(&[
            (Opcode::Binary, false, false, &[1; 60]),
            (Opcode::Continuation, true, false, &[2; 41]),
        ]);
        let err = run(&mut MessageReader::new(Role::Server, 100), &wire, 7)
            .1
            .unwrap();
        assert_eq!(
            (err, err.close_code()),
            (ProtocolError::MessageTooBig, 1009)
        );
        // Control frames do not count against a message in progress.
        let wire = client_frames(&[
            (Opcode::Binary, false, false, &[1; 100]),
            (Opcode::Ping, true, false, &[0; 125]),
            (Opcode::Continuation, true, false, b""),
        ]);
        let (events, err) = run(&mut MessageReader::new(Role::Server, 100), &wire, 50);
        assert_eq!((events.len(), err), (2, None));
    }

    #[test]
    fn frame_rules_reach_the_reader() {
        let unmasked = [0x81, 0x01, b'a'];
        assert_eq!(
            run(&mut server_reader(), &unmasked, 3).1,
            Some(ProtocolError::UnmaskedFrame)
        );
        let masked = client_frames(&[(Opcode::Text, true, false, b"a")]);
        let mut client = MessageReader::new(Role::Client, 100);
        assert_eq!(
            run(&mut client, &masked, 3).1,
            Some(ProtocolError::MaskedFrame)
        );
        // RSV1 without deflate.
        let rsv1 = client_frames(&[(Opcode::Text, true, true, b"a")]);
        assert_eq!(
            run(&mut server_reader(), &rsv1, 3).1,
            Some(ProtocolError::ReservedBits)
        );
    }

    fn deflate_reader(takeover: bool, limit: usize) -> MessageReader {
        MessageReader::with_deflate(Role::Server, limit, Inflater::new(15, takeover))
    }

    #[test]
    fn rfc7692_section_7_2_3_messages() {
        // Unmasked, as a client receives them.
        let client = || MessageReader::with_deflate(Role::Client, 1000, Inflater::new(15, true));
        let cases: &[&[u8]] = &[
            &[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
            &[
                0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00,
            ],
            &[
                0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
            ],
            &[0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
            &[
                0xc1, 0x0d, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07,
                0x00,
            ],
        ];
        for wire in cases {
            for piece in 1..=wire.len() {
                assert_eq!(
                    run(&mut client(), wire, piece),
                    (vec![Owned::Text("Hello".into())], None),
                    "{wire:x?}"
                );
            }
        }
        // 7.2.3.2: two messages sharing the window.
        let wire = [
            0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xc1, 0x05, 0xf2, 0x00, 0x11,
            0x00, 0x00,
        ];
        let events = run(&mut client(), &wire, 4).0;
        assert_eq!(
            events,
            [Owned::Text("Hello".into()), Owned::Text("Hello".into())]
        );
        // 7.2.3.6: the empty message.
        assert_eq!(
            run(&mut client(), &[0xc1, 0x01, 0x00], 1).0,
            [Owned::Text(String::new())]
        );
        // An uncompressed message (no RSV1) on a deflate connection.
        assert_eq!(
            run(&mut client(), b"\x81\x02hi", 1).0,
            [Owned::Text("hi".into())]
        );
    }

    #[test]
    fn compressed_messages_in_both_takeover_modes_with_interleaved_pings() {
        for takeover in [true, false] {
            let mut deflater = Deflater::new(6, 15, takeover);
            let mut frames: Vec<(Opcode, bool, bool, Vec<u8>)> = Vec::new();
            for text in ["first κόσμε message", "first κόσμε message", ""] {
                let mut c = Vec::new();
                deflater.compress(text.as_bytes(), &mut c);
                let (a, b) = c.split_at(c.len() / 2);
                frames.push((Opcode::Text, false, true, a.to_vec()));
                frames.push((Opcode::Ping, true, false, b"x".to_vec()));
                frames.push((Opcode::Continuation, true, false, b.to_vec()));
            }
            let borrowed: Vec<_> = frames
                .iter()
                .map(|(o, f, r, p)| (*o, *f, *r, &p[..]))
                .collect();
            let wire = client_frames(&borrowed);
            let (events, err) = run(&mut deflate_reader(takeover, 1000), &wire, 3);
            assert_eq!(err, None);
            let texts: Vec<_> = events
                .into_iter()
                .filter(|e| !matches!(e, Owned::Ping(_)))
                .collect();
            assert_eq!(
                texts,
                [
                    Owned::Text("first κόσμε message".into()),
                    Owned::Text("first κόσμε message".into()),
                    Owned::Text(String::new())
                ]
            );
        }
    }

    #[test]
    fn inflation_past_max_message_size_is_1009() {
        let mut compressed = Vec::new();
        Deflater::new(6, 15, false).compress(&vec![b'a'; 100_000], &mut compressed);
        assert!(compressed.len() < 1000);
        let wire = client_frames(&[(Opcode::Binary, true, true, &compressed)]);
        let err = run(&mut deflate_reader(false, 10_000), &wire, 64)
            .1
            .unwrap();
        assert_eq!(
            (err, err.close_code()),
            (ProtocolError::MessageTooBig, 1009)
        );
        // Compressed frames are also bounded before inflation.
        let wire = client_frames(&[(Opcode::Binary, true, true, &compressed)]);
        let err = run(&mut deflate_reader(false, compressed.len() - 1), &wire, 64).1;
        assert_eq!(err, Some(ProtocolError::MessageTooBig));
        // Invalid UTF-8 that only shows after inflation.
        let mut bad = Vec::new();
        Deflater::new(6, 15, false).compress(b"ok\xc0\xaf", &mut bad);
        let wire = client_frames(&[(Opcode::Text, true, true, &bad)]);
        assert_eq!(
            run(&mut deflate_reader(false, 100), &wire, 64).1,
            Some(ProtocolError::InvalidUtf8)
        );
    }

    #[test]
    fn the_warm_buffer_is_reused_and_large_ones_released() {
        let mut reader = server_reader();
        let wire = client_frames(&[
            (Opcode::Binary, true, false, &[1; 200_000]),
            (Opcode::Text, true, false, b"small"),
        ]);
        let (events, err) = run(&mut reader, &wire, 100_000);
        assert_eq!((events.len(), err), (2, None));
        assert!(reader.message.capacity() <= RETAINED_CAPACITY);
        assert!(!reader.in_message());
        reader.release_memory();
        assert_eq!(reader.message.capacity(), 0);
    }
}
