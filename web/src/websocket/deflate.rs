//! permessage-deflate's data path (RFC 7692 §7.2): a message is compressed as raw DEFLATE
//! ending with a sync flush, whose trailing `00 00 ff ff` is left off the wire; the receiver
//! appends it back before inflating. Inflation is bounded: a message that would inflate past
//! `max_message_size` fails with 1009 without producing more than that.
//!
//! Context takeover: when it is on, one compressor (or decompressor) lives as long as the
//! connection and each message may refer to the previous ones. When it is off, the state is
//! created when a message starts and dropped when it ends (not reset and kept): zlib's state is
//! tens of KiB (deflate's window and hash tables are ~256 KiB at the default memory level), and
//! an idle connection should hold none of it. The cost is one state allocation per message.
//!
//! Window bits: RFC 7692 allows 8 to 15. zlib (and zlib-rs) refuse 8 for a raw stream; 9 is
//! used instead, which still satisfies a peer limited to 8 because deflate never emits a
//! distance over `window - 262` (250 bytes for 9 bits), and inflating with a larger window
//! than the peer's is always safe.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::ProtocolError;

/// The four bytes a sync flush ends with; stripped when sending, appended when receiving.
const SYNC_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The window bits zlib accepts for a raw stream, for an RFC 7692 value (8 to 15).
fn zlib_window_bits(bits: u8) -> u8 {
    bits.clamp(9, 15)
}

/// Compresses outgoing messages.
#[derive(Debug)]
pub struct Deflater {
    level: Compression,
    window_bits: u8,
    context_takeover: bool,
    state: Option<Compress>,
}

impl Deflater {
    /// A compressor at `level` (0–9; Tornado's default is 6) using at most `window_bits`
    /// (8–15), keeping its window between messages when `context_takeover`.
    pub fn new(level: u32, window_bits: u8, context_takeover: bool) -> Deflater {
        Deflater {
            level: Compression::new(level.min(9)),
            window_bits: zlib_window_bits(window_bits),
            context_takeover,
            state: None,
        }
    }

    /// Appends the compressed form of the whole message `data` to `out` (without the sync
    /// flush's `00 00 ff ff`).
    ///
    /// ```
    /// use web::websocket::Deflater;
    ///
    /// let mut out = Vec::new();
    /// Deflater::new(6, 15, false).compress(b"Hello", &mut out);
    /// assert_eq!(out, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]); // RFC 7692 §7.2.3.1
    /// ```
    pub fn compress(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let (level, window_bits) = (self.level, self.window_bits);
        let state = self
            .state
            .get_or_insert_with(|| Compress::new_with_window_bits(level, false, window_bits));
        let start = out.len();
        let mut consumed = 0;
        loop {
            // Deflate's worst case is a few bytes per 16 KiB block over the input's size.
            out.reserve(data.len() - consumed + 64);
            let before = state.total_in();
            state
                .compress_vec(&data[consumed..], out, FlushCompress::Sync)
                .expect("deflate with valid parameters does not fail");
            consumed += (state.total_in() - before) as usize;
            // Done when all input is in and the flush had room to finish.
            if consumed == data.len() && out.len() < out.capacity() {
                break;
            }
        }
        if out[start..].ends_with(&SYNC_TAIL) {
            out.truncate(out.len() - SYNC_TAIL.len());
        } else if out.len() == start {
            // zlib skips a sync flush right after another one: an empty message following a
            // message on a kept context produces nothing. Send the empty stored block's
            // header byte, as RFC 7692 §7.2.3.6 does for an empty message.
            out.push(0x00);
        }
        if !self.context_takeover {
            self.state = None;
        }
    }

    /// Whether compressor state is held right now (only between messages with context
    /// takeover).
    pub fn holds_state(&self) -> bool {
        self.state.is_some()
    }
}

/// Decompresses incoming messages, piece by piece as their frames arrive.
#[derive(Debug)]
pub struct Inflater {
    window_bits: u8,
    context_takeover: bool,
    state: Option<Decompress>,
    /// The message's DEFLATE stream ended (a block with BFINAL): the rest of the message,
    /// tail included, is ignored and the next message starts a fresh stream.
    ended: bool,
}

impl Inflater {
    /// A decompressor for a peer using at most `window_bits` (8–15), keeping the window
    /// between messages when `context_takeover`.
    pub fn new(window_bits: u8, context_takeover: bool) -> Inflater {
        Inflater {
            window_bits: zlib_window_bits(window_bits),
            context_takeover,
            state: None,
            ended: false,
        }
    }

    /// Inflates the next piece of a compressed message's payload, appending to `out`; fails
    /// with [`ProtocolError::MessageTooBig`] as soon as `out` would pass `limit` bytes.
    pub fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ProtocolError> {
        if self.ended {
            return Ok(());
        }
        let window_bits = self.window_bits;
        let state = self
            .state
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, window_bits));
        let result = inflate_into(state, input, out, limit);
        if result == Ok(Inflated::StreamEnd) {
            self.ended = true;
            self.state = None;
        }
        result.map(|_| ())
    }

    /// Ends the message: inflates the sync flush's tail (RFC 7692 §7.2.2), then keeps or drops
    /// the state per context takeover.
    ///
    /// ```
    /// use web::websocket::Inflater;
    ///
    /// let mut text = Vec::new();
    /// let mut inflater = Inflater::new(15, true);
    /// inflater.inflate(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], &mut text, 100).unwrap();
    /// inflater.finish_message(&mut text, 100).unwrap();
    /// assert_eq!(text, b"Hello");
    /// ```
    pub fn finish_message(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), ProtocolError> {
        let result = self.inflate(&SYNC_TAIL, out, limit);
        if !self.context_takeover || result.is_err() {
            self.state = None;
        }
        self.ended = false;
        result
    }

    /// Whether decompressor state is held right now (during a message, or between messages
    /// with context takeover).
    pub fn holds_state(&self) -> bool {
        self.state.is_some()
    }
}

/// How [`inflate_into`] stopped.
#[derive(Debug, PartialEq, Eq)]
enum Inflated {
    /// All input used; the stream goes on.
    NeedsInput,
    /// The stream ended with a BFINAL block; any input after it was not used.
    StreamEnd,
}

/// Inflates `input` into `out` in steps of a small stack buffer, so that `out` never grows
/// past `limit` (an inflation bomb stops at `limit` bytes).
fn inflate_into(
    state: &mut Decompress,
    mut input: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<Inflated, ProtocolError> {
    let mut chunk = [0u8; 4096];
    loop {
        let (in_before, out_before) = (state.total_in(), state.total_out());
        let status = state
            .decompress(input, &mut chunk, FlushDecompress::Sync)
            .map_err(|_| ProtocolError::InvalidDeflate)?;
        let read = (state.total_in() - in_before) as usize;
        let written = (state.total_out() - out_before) as usize;
        input = &input[read..];
        if out.len() + written > limit {
            return Err(ProtocolError::MessageTooBig);
        }
        out.extend_from_slice(&chunk[..written]);
        match status {
            // A final block (BFINAL) ends the stream.
            Status::StreamEnd => return Ok(Inflated::StreamEnd),
            // A full chunk may mean more output is waiting, even with no input left.
            _ if written == chunk.len() => continue,
            _ if input.is_empty() || (read == 0 && written == 0) => {
                return Ok(Inflated::NeedsInput)
            }
            _ => continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate_message(
        inflater: &mut Inflater,
        compressed: &[u8],
        limit: usize,
    ) -> Result<Vec<u8>, ProtocolError> {
        let mut out = Vec::new();
        inflater.inflate(compressed, &mut out, limit)?;
        inflater.finish_message(&mut out, limit)?;
        Ok(out)
    }

    #[test]
    fn rfc7692_section_7_2_3_examples() {
        // 7.2.3.1: "Hello", compressed.
        let mut deflater = Deflater::new(6, 15, true);
        let mut out = Vec::new();
        deflater.compress(b"Hello", &mut out);
        assert_eq!(out, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
        // 7.2.3.2: the same message again, sharing the LZ77 window.
        out.clear();
        deflater.compress(b"Hello", &mut out);
        assert_eq!(out, [0xf2, 0x00, 0x11, 0x00, 0x00]);

        let mut inflater = Inflater::new(15, true);
        let first = inflate_message(
            &mut inflater,
            &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
            100,
        );
        assert_eq!(first.unwrap(), b"Hello");
        let second = inflate_message(&mut inflater, &[0xf2, 0x00, 0x11, 0x00, 0x00], 100);
        assert_eq!(second.unwrap(), b"Hello");

        // 7.2.3.3: a stored (uncompressed) DEFLATE block.
        let stored = [
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ];
        assert_eq!(
            inflate_message(&mut Inflater::new(15, false), &stored, 100).unwrap(),
            b"Hello"
        );
        // 7.2.3.4: a block with BFINAL set.
        let bfinal = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
        assert_eq!(
            inflate_message(&mut Inflater::new(15, false), &bfinal, 100).unwrap(),
            b"Hello"
        );
        // 7.2.3.5: two DEFLATE blocks in one message.
        let two = [
            0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
        ];
        assert_eq!(
            inflate_message(&mut Inflater::new(15, false), &two, 100).unwrap(),
            b"Hello"
        );
        // 7.2.3.6: an empty message is a single 0x00.
        out.clear();
        Deflater::new(6, 15, false).compress(b"", &mut out);
        assert_eq!(out, [0x00]);
        assert_eq!(
            inflate_message(&mut Inflater::new(15, false), &[0x00], 100).unwrap(),
            b""
        );
    }

    #[test]
    fn a_bfinal_block_with_context_takeover_leaves_a_usable_inflater() {
        let mut inflater = Inflater::new(15, true);
        let bfinal = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
        assert_eq!(
            inflate_message(&mut inflater, &bfinal, 100).unwrap(),
            b"Hello"
        );
        let next = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(
            inflate_message(&mut inflater, &next, 100).unwrap(),
            b"Hello"
        );
    }

    fn sample(len: usize) -> Vec<u8> {
        // Compressible but not trivial: words from a small vocabulary.
        let words = ["tornado ", "websocket ", "deflate ", "frame ", "κόσμε "];
        let mut s = Vec::new();
        let mut i = 0usize;
        while s.len() < len {
            s.extend_from_slice(words[(i * 7 + i / 3) % words.len()].as_bytes());
            i += 1;
        }
        s.truncate(len);
        s
    }

    #[test]
    fn round_trips_with_every_takeover_and_window_setting() {
        for bits in 8..=15u8 {
            for takeover in [true, false] {
                let mut deflater = Deflater::new(6, bits, takeover);
                let mut inflater = Inflater::new(bits, takeover);
                for (n, len) in [0usize, 1, 100, 5000, 70_000, 100].into_iter().enumerate() {
                    let message = sample(len + n);
                    let mut wire = Vec::new();
                    deflater.compress(&message, &mut wire);
                    assert_eq!(deflater.holds_state(), takeover);
                    // Inflate in uneven pieces, as frames would deliver it.
                    let mut out = Vec::new();
                    for piece in wire.chunks(333) {
                        inflater.inflate(piece, &mut out, 1 << 20).unwrap();
                    }
                    inflater.finish_message(&mut out, 1 << 20).unwrap();
                    assert_eq!(inflater.holds_state(), takeover);
                    assert_eq!(out, message, "bits {bits} takeover {takeover} len {len}");
                }
            }
        }
    }

    #[test]
    fn context_takeover_compresses_a_repeated_message_smaller() {
        let message = sample(2000);
        let sizes = |takeover| {
            let mut deflater = Deflater::new(6, 15, takeover);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            deflater.compress(&message, &mut a);
            deflater.compress(&message, &mut b);
            (a.len(), b.len())
        };
        let (first, second) = sizes(true);
        assert!(second < first / 2, "{first} {second}");
        let (first, second) = sizes(false);
        assert_eq!(first, second);
    }

    #[test]
    fn without_takeover_a_message_cannot_refer_to_the_previous_one() {
        // Compressed with takeover, the second message refers to the first: an inflater
        // without takeover has forgotten it and cannot rebuild the text.
        let mut deflater = Deflater::new(6, 15, true);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let message = sample(3000);
        deflater.compress(&message, &mut a);
        deflater.compress(&message, &mut b);
        let mut inflater = Inflater::new(15, false);
        assert_eq!(
            inflate_message(&mut inflater, &a, 1 << 20).unwrap(),
            message
        );
        assert!(!inflater.holds_state());
        assert_ne!(inflate_message(&mut inflater, &b, 1 << 20), Ok(message));
    }

    #[test]
    fn inflation_bombs_stop_at_the_limit() {
        let bomb = vec![0u8; 50 << 20];
        let mut wire = Vec::new();
        Deflater::new(9, 15, false).compress(&bomb, &mut wire);
        assert!(wire.len() < 100 << 10, "{}", wire.len());
        let limit = 10 << 20;
        let mut inflater = Inflater::new(15, false);
        let mut out = Vec::new();
        let err = inflater.inflate(&wire, &mut out, limit).unwrap_err();
        assert_eq!(err, ProtocolError::MessageTooBig);
        assert_eq!(err.close_code(), 1009);
        assert!(out.len() <= limit);
        // Exactly at the limit is fine; one byte over is not.
        let exact = vec![b'a'; 1000];
        let mut wire = Vec::new();
        Deflater::new(6, 15, false).compress(&exact, &mut wire);
        assert_eq!(
            inflate_message(&mut Inflater::new(15, false), &wire, 1000).unwrap(),
            exact
        );
        assert_eq!(
            inflate_message(&mut Inflater::new(15, false), &wire, 999),
            Err(ProtocolError::MessageTooBig)
        );
    }

    #[test]
    fn garbage_does_not_inflate() {
        let err = inflate_message(
            &mut Inflater::new(15, false),
            &[0xff, 0xff, 0xff, 0xff],
            100,
        )
        .unwrap_err();
        assert_eq!(err, ProtocolError::InvalidDeflate);
        assert_eq!(err.close_code(), 1007);
    }
}
