//! The chunked request-body decoder (RFC 9112 §7.1), a state machine over the read buffer.
//!
//! The decoder never copies body bytes: [`ChunkedDecoder::decode`] says which bytes of the buffer
//! are framing to skip and which are body data to hand to the delegate, then the caller consumes
//! them from the stream. It uses `httparse::parse_chunk_size` for the size line and guards what
//! that helper lets through:
//! - an empty size line (httparse reads it as 0, which would end the body early): rejected;
//! - sizes near `u64::MAX`: refused against `max_body_size` before any arithmetic (413);
//! - bare LF, stray CR or control characters in a size line (extensions are otherwise ignored):
//!   rejected; chunk data must be followed by exactly CRLF;
//! - size lines and trailers are bounded in size (trailer fields are read and ignored).

use crate::parse::RequestError;

/// The longest chunk-size line accepted (size plus extensions).
pub const MAX_CHUNK_LINE: usize = 4096;

/// What the next bytes of the buffer are; see [`ChunkedDecoder::decode`].
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Step {
    /// `buf[..skip]` is framing, `buf[skip..skip + len]` is body data (`len > 0`). Hand the data
    /// on, then consume `skip + len` bytes.
    Data {
        /// Framing bytes before the data.
        skip: usize,
        /// Body bytes.
        len: usize,
    },
    /// `buf[..skip]` is framing; consume it and call again with more input.
    NeedMore {
        /// Framing bytes to consume.
        skip: usize,
    },
    /// The body (with its trailers) ends after `skip` bytes; consume them.
    Done {
        /// Framing bytes to consume.
        skip: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Size,
    Data { remaining: u64 },
    DataCrlf,
    Trailer,
    Done,
}

/// Decodes one chunked body.
///
/// ```
/// use http1::chunked::{ChunkedDecoder, Step};
/// let mut d = ChunkedDecoder::new(1024, 1024);
/// let buf = b"5;ext=1\r\nhello\r\n0\r\n\r\n";
/// assert_eq!(d.decode(buf), Ok(Step::Data { skip: 9, len: 5 }));
/// assert_eq!(d.decode(&buf[14..]), Ok(Step::Done { skip: 7 }));
/// ```
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    total: u64,
    max_body_size: u64,
    trailer_bytes: usize,
    max_trailer_size: usize,
}

impl ChunkedDecoder {
    /// A decoder for a body of at most `max_body_size` bytes whose trailer section is at most
    /// `max_trailer_size` bytes.
    pub fn new(max_body_size: u64, max_trailer_size: usize) -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size,
            total: 0,
            max_body_size,
            trailer_bytes: 0,
            max_trailer_size,
        }
    }

    /// Body bytes seen so far.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// True once the last chunk and the trailers were read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Reads framing from the start of `buf` up to the next body data, the end of the input, or
    /// the end of the body. The caller must consume what the returned step says before calling
    /// again.
    pub fn decode(&mut self, buf: &[u8]) -> Result<Step, RequestError> {
        let mut pos = 0;
        loop {
            let rest = &buf[pos..];
            match self.state {
                State::Done => return Ok(Step::Done { skip: pos }),
                State::Size => match self.size_line(rest)? {
                    None => return Ok(Step::NeedMore { skip: pos }),
                    Some((n, 0)) => {
                        pos += n;
                        self.state = State::Trailer;
                    }
                    Some((n, size)) => {
                        pos += n;
                        self.total += size;
                        self.state = State::Data { remaining: size };
                    }
                },
                State::Data { remaining } => {
                    if rest.is_empty() {
                        return Ok(Step::NeedMore { skip: pos });
                    }
                    let len = remaining.min(rest.len() as u64);
                    let left = remaining - len;
                    self.state = if left == 0 {
                        State::DataCrlf
                    } else {
                        State::Data { remaining: left }
                    };
                    return Ok(Step::Data {
                        skip: pos,
                        len: len as usize,
                    });
                }
                State::DataCrlf => {
                    if rest.len() < 2 {
                        if rest.first().is_some_and(|&b| b != b'\r') {
                            return Err(RequestError::bad_request(
                                "chunk data not followed by CRLF",
                            ));
                        }
                        return Ok(Step::NeedMore { skip: pos });
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(RequestError::bad_request("chunk data not followed by CRLF"));
                    }
                    pos += 2;
                    self.state = State::Size;
                }
                State::Trailer => {
                    let Some(nl) = memchr::memchr(b'\n', rest) else {
                        if self.trailer_bytes + rest.len() > self.max_trailer_size {
                            return Err(trailers_too_large());
                        }
                        return Ok(Step::NeedMore { skip: pos });
                    };
                    let line = &rest[..=nl];
                    self.trailer_bytes += line.len();
                    if self.trailer_bytes > self.max_trailer_size {
                        return Err(trailers_too_large());
                    }
                    if !strict_line(line) {
                        return Err(RequestError::bad_request("bare LF or CR in trailer"));
                    }
                    pos += line.len();
                    if line.len() == 2 {
                        self.state = State::Done;
                    } else if memchr::memchr(b':', line).is_none() {
                        return Err(RequestError::bad_request("invalid trailer field"));
                    }
                }
            }
        }
    }

    /// Parses a chunk-size line: `Ok(None)` if incomplete, else `(line length, size)`.
    fn size_line(&self, rest: &[u8]) -> Result<Option<(usize, u64)>, RequestError> {
        const BAD: RequestError = RequestError::bad_request("invalid chunk size line");
        // Guard: httparse reads an empty line (or leading whitespace) as size 0.
        if rest.first().is_some_and(|b| !b.is_ascii_hexdigit()) {
            return Err(BAD);
        }
        match httparse::parse_chunk_size(rest) {
            Ok(httparse::Status::Partial) => {
                if rest.len() > MAX_CHUNK_LINE {
                    return Err(RequestError::bad_request("chunk size line too long"));
                }
                // A bare LF anywhere in an incomplete line is already an error.
                if memchr::memchr(b'\n', rest).is_some() {
                    return Err(BAD);
                }
                Ok(None)
            }
            Ok(httparse::Status::Complete((n, size))) => {
                let line = &rest[..n];
                if n > MAX_CHUNK_LINE || !strict_line(line) {
                    return Err(BAD);
                }
                // Guard: sizes near u64::MAX; compare before adding.
                if size > self.max_body_size - self.total {
                    return Err(RequestError {
                        status: 413,
                        detail: "request body too large",
                    });
                }
                Ok(Some((n, size)))
            }
            Err(_) => Err(BAD),
        }
    }
}

/// A line ending in CRLF with no other CR or LF and no control bytes except HTAB.
fn strict_line(line: &[u8]) -> bool {
    let Some(body) = line.strip_suffix(b"\r\n") else {
        return false;
    };
    body.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

fn trailers_too_large() -> RequestError {
    RequestError {
        status: 431,
        detail: "trailer section too large",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `piece` bytes, like a stream would, and collects the body.
    fn decode_all(input: &[u8], piece: usize, max: u64) -> Result<(Vec<u8>, usize), RequestError> {
        let mut d = ChunkedDecoder::new(max, 1024);
        let mut buf: Vec<u8> = Vec::new();
        let mut fed = 0;
        let mut body = Vec::new();
        loop {
            match d.decode(&buf)? {
                Step::Data { skip, len } => {
                    body.extend_from_slice(&buf[skip..skip + len]);
                    buf.drain(..skip + len);
                }
                Step::NeedMore { skip } => {
                    buf.drain(..skip);
                    if fed == input.len() {
                        return Err(RequestError::bad_request("eof"));
                    }
                    let n = piece.min(input.len() - fed);
                    buf.extend_from_slice(&input[fed..fed + n]);
                    fed += n;
                }
                Step::Done { skip } => {
                    buf.drain(..skip);
                    assert!(d.is_done());
                    return Ok((body, input.len() - fed + buf.len()));
                }
            }
        }
    }

    #[test]
    fn decodes_in_any_split() {
        let input = b"4\r\nWiki\r\n5;name=value;x\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        for piece in 1..input.len() {
            let (body, left) = decode_all(input, piece, 1000).unwrap();
            assert_eq!(body, b"Wikipedia in\r\n\r\nchunks.", "piece {piece}");
            assert_eq!(left, 4, "the next request stays unread");
        }
    }

    #[test]
    fn uppercase_and_leading_zero_sizes() {
        let (body, _) = decode_all(b"0A\r\n0123456789\r\n0000\r\n\r\n", 100, 100).unwrap();
        assert_eq!(body.len(), 10);
    }

    #[test]
    fn empty_size_line_is_not_zero() {
        assert_eq!(decode_all(b"\r\n\r\n", 100, 100).unwrap_err().status, 400);
        assert_eq!(
            decode_all(b"3\r\nabc\r\n\r\n", 100, 100)
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            decode_all(b" 3\r\nabc\r\n0\r\n\r\n", 100, 100)
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn overflowing_and_oversized_chunks() {
        let e = decode_all(b"ffffffffffffffff\r\n", 100, 1 << 40).unwrap_err();
        assert_eq!(e.status, 413, "near u64::MAX is refused by the body limit");
        let e = decode_all(
            b"ffffffffffffffff\r\nab\r\nffffffffffffffff\r\n",
            100,
            u64::MAX - 1,
        );
        assert_eq!(e.unwrap_err().status, 413);
        assert_eq!(
            decode_all(b"10000000000000000\r\n", 100, u64::MAX)
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(decode_all(b"b\r\n", 100, 10).unwrap_err().status, 413);
        let e = decode_all(b"5\r\nhello\r\n6\r\nhello!\r\n0\r\n\r\n", 100, 10).unwrap_err();
        assert_eq!(e.status, 413, "the total counts");
        assert!(decode_all(b"5\r\nhello\r\n5\r\nhello\r\n0\r\n\r\n", 100, 10).is_ok());
    }

    #[test]
    fn bare_lf_and_stray_cr_rejected() {
        for bad in [
            &b"3\nabc\r\n0\r\n\r\n"[..],
            b"3\r\nabc\n0\r\n\r\n",
            b"3\r\nabcX\r\n0\r\n\r\n",
            b"3;a\nb\r\nabc\r\n0\r\n\r\n",
            b"3;a\rb\r\nabc\r\n0\r\n\r\n",
            b"3;a\0\r\nabc\r\n0\r\n\r\n",
            b"3\r\nabc\r\n0\r\n\n",
            b"3\r\nabc\r\n0\r\nX: 1\n\r\n",
            b"3\r\nabc\r\n0\r\nno-colon\r\n\r\n",
            b"x\r\n",
            b"-3\r\n",
        ] {
            for piece in [1, 3, 100] {
                assert_eq!(
                    decode_all(bad, piece, 100).unwrap_err().status,
                    400,
                    "{:?} piece {piece}",
                    String::from_utf8_lossy(bad)
                );
            }
        }
    }

    #[test]
    fn lines_and_trailers_are_bounded() {
        let mut long = b"1;".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_CHUNK_LINE + 10));
        assert_eq!(decode_all(&long, 64, 100).unwrap_err().status, 400);
        let mut trailers = b"0\r\n".to_vec();
        for _ in 0..200 {
            trailers.extend_from_slice(b"X-Trailer: 0123456789\r\n");
        }
        assert_eq!(decode_all(&trailers, 64, 100).unwrap_err().status, 431);
    }
}
