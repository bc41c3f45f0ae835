//! Incremental UTF-8 validation: a text message is checked as its bytes arrive, fragment by
//! fragment, and fails at the first byte that cannot start or continue a valid sequence
//! (RFC 6455 §8.1, Autobahn's "fail fast" cases). A code point cut by a fragment boundary is
//! kept (at most 3 bytes) until the next piece completes it or the message ends.
//!
//! The bulk of the work is `std::str::from_utf8`, which already tells "invalid here"
//! (`error_len() == Some(_)`) from "valid so far but cut short" (`error_len() == None`).

/// The validation state of one text message.
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {
    /// The start of a code point whose remaining bytes have not arrived yet.
    pending: [u8; 4],
    /// How many bytes of `pending` are in use (0 to 3).
    pending_len: usize,
}

/// Text that is not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidUtf8;

impl Utf8Validator {
    /// A validator at the start of a message.
    pub fn new() -> Utf8Validator {
        Utf8Validator::default()
    }

    /// Checks the next piece of the message; fails as soon as `bytes` holds a byte that no
    /// continuation could make valid.
    ///
    /// ```
    /// use web::websocket::utf8::Utf8Validator;
    ///
    /// let mut v = Utf8Validator::new();
    /// v.feed(&[0xE2, 0x82]).unwrap(); // the first two bytes of "€"
    /// v.feed(&[0xAC]).unwrap();
    /// v.finish().unwrap();
    /// assert!(Utf8Validator::new().feed(&[0xE2, 0x28]).is_err()); // fails before the end
    /// ```
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), InvalidUtf8> {
        if self.pending_len > 0 {
            let width = sequence_width(self.pending[0]);
            let take = (width - self.pending_len).min(bytes.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&bytes[..take]);
            let filled = self.pending_len + take;
            match std::str::from_utf8(&self.pending[..filled]) {
                Ok(_) => self.pending_len = 0,
                Err(e) if e.error_len().is_none() => {
                    self.pending_len = filled;
                    return Ok(());
                }
                Err(_) => return Err(InvalidUtf8),
            }
            bytes = &bytes[take..];
        }
        match std::str::from_utf8(bytes) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                let tail = &bytes[e.valid_up_to()..];
                self.pending[..tail.len()].copy_from_slice(tail);
                self.pending_len = tail.len();
                Ok(())
            }
            Err(_) => Err(InvalidUtf8),
        }
    }

    /// The message is complete: fails if it ends inside a code point. The validator is then
    /// ready for the next message.
    pub fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let complete = self.pending_len == 0;
        self.pending_len = 0;
        if complete {
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }

    /// Forgets any partial code point (a new message starts).
    pub fn reset(&mut self) {
        self.pending_len = 0;
    }
}

/// The length of the sequence a lead byte announces; 1 for bytes that cannot lead (`from_utf8`
/// then reports them as invalid).
fn sequence_width(lead: u8) -> usize {
    match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples of every sequence width, and the edges of the ranges with special second bytes
    /// (E0, ED, F0, F4).
    const VALID: &[&str] = &[
        "a",
        "\u{80}",
        "\u{7FF}",
        "\u{800}",
        "\u{D7FF}",
        "\u{E000}",
        "\u{FFFF}",
        "\u{10000}",
        "\u{10FFFF}",
        "κόσμε",
        "€𝄞ä",
    ];

    #[test]
    fn valid_text_split_at_every_byte_is_accepted() {
        for s in VALID {
            let text = format!("x{s}y{s}");
            let bytes = text.as_bytes();
            for cut in 0..=bytes.len() {
                let mut v = Utf8Validator::new();
                assert_eq!(v.feed(&bytes[..cut]), Ok(()), "{s:?} cut {cut}");
                assert_eq!(v.feed(&bytes[cut..]), Ok(()), "{s:?} cut {cut}");
                assert_eq!(v.finish(), Ok(()), "{s:?} cut {cut}");
            }
            // One byte per piece.
            let mut v = Utf8Validator::new();
            for b in bytes {
                v.feed(std::slice::from_ref(b)).unwrap();
            }
            v.finish().unwrap();
        }
    }

    #[test]
    fn a_message_that_ends_inside_a_code_point_fails_at_finish() {
        for s in VALID.iter().filter(|s| s.len() > 1) {
            let bytes = s.as_bytes();
            let mut v = Utf8Validator::new();
            v.feed(&bytes[..bytes.len() - 1]).unwrap();
            assert_eq!(v.finish(), Err(InvalidUtf8), "{s:?}");
            // The validator is reusable after finish.
            v.feed(b"ok").unwrap();
            v.finish().unwrap();
        }
    }

    #[test]
    fn invalid_sequences_fail_at_the_first_bad_byte_whatever_the_split() {
        // (bytes, index of the first byte after which no continuation can be valid)
        let cases: &[(&[u8], usize)] = &[
            (&[0x80], 0),                   // lone continuation byte
            (&[0xC0, 0x80], 0),             // overlong lead
            (&[0xC1, 0xBF], 0),             // overlong lead
            (&[0xF5, 0x80, 0x80, 0x80], 0), // beyond U+10FFFF
            (&[0xFF], 0),
            (&[0xE0, 0x80, 0x80], 1),       // overlong 3-byte
            (&[0xED, 0xA0, 0x80], 1),       // surrogate U+D800
            (&[0xF0, 0x80, 0x80, 0x80], 1), // overlong 4-byte
            (&[0xF4, 0x90, 0x80, 0x80], 1), // U+110000
            (&[0xE2, 0x82, 0x28], 2),       // cut by ASCII
            (
                &[
                    0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0,
                    0x80,
                ],
                12,
            ),
        ];
        for &(bytes, bad) in cases {
            for cut in 0..=bytes.len() {
                let mut v = Utf8Validator::new();
                let first = v.feed(&bytes[..cut]);
                if cut > bad {
                    assert_eq!(first, Err(InvalidUtf8), "{bytes:x?} cut {cut}");
                    continue;
                }
                // Everything up to the bad byte is a valid prefix: no error yet.
                assert_eq!(first, Ok(()), "{bytes:x?} cut {cut}");
                assert_eq!(
                    v.feed(&bytes[cut..]),
                    Err(InvalidUtf8),
                    "{bytes:x?} cut {cut}"
                );
            }
            // Byte by byte: the error comes exactly with the bad byte.
            let mut v = Utf8Validator::new();
            for (i, b) in bytes.iter().enumerate() {
                let r = v.feed(std::slice::from_ref(b));
                if i < bad {
                    assert_eq!(r, Ok(()), "{bytes:x?} byte {i}");
                } else {
                    assert_eq!(r, Err(InvalidUtf8), "{bytes:x?} byte {i}");
                    break;
                }
            }
        }
    }

    #[test]
    fn reset_drops_a_partial_code_point() {
        let mut v = Utf8Validator::new();
        v.feed(&[0xF0, 0x9F]).unwrap();
        v.reset();
        assert_eq!(v.feed(&[0x98]), Err(InvalidUtf8));
    }
}
