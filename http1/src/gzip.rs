//! Decompressing `Content-Encoding: gzip` request bodies (Tornado's `_GzipMessageDelegate`),
//! bounded by `max_body_size` so that a gzip bomb gets `413` instead of the server's memory.
//!
//! The gzip member header (RFC 1952) is parsed here byte by byte; the deflate data goes through
//! `flate2::Decompress` into a fixed output buffer, so one call never produces more than that
//! buffer, whatever the compression ratio; the CRC-32 and length trailer are checked.
//! Concatenated members are decoded one after the other.

use crate::parse::RequestError;
use flate2::{Crc, Decompress, FlushDecompress, Status};

const FTEXT_RESERVED: u8 = 0xE0;
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the 10 fixed header bytes; `n` read so far.
    Fixed {
        n: usize,
    },
    ExtraLen {
        n: usize,
        len: usize,
    },
    Extra {
        remaining: usize,
    },
    Name,
    Comment,
    HeaderCrc {
        n: usize,
    },
    Deflate,
    Trailer {
        n: usize,
    },
    /// A member ended; more input starts another member.
    Done,
}

/// A streaming gzip decoder with a total-size limit.
///
/// ```
/// use http1::gzip::GzipDecoder;
/// use std::io::Write;
/// let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
/// enc.write_all(b"hello hello hello").unwrap();
/// let gz = enc.finish().unwrap();
/// let mut dec = GzipDecoder::new(1000);
/// let mut out = [0u8; 64];
/// let (mut pos, mut body) = (0, Vec::new());
/// loop {
///     let (used, data) = dec.feed(&gz[pos..], &mut out).unwrap();
///     if used == 0 && data.is_empty() {
///         break;
///     }
///     pos += used;
///     body.extend_from_slice(data); // data_received(data) in the connection
/// }
/// assert_eq!(body, b"hello hello hello");
/// dec.finish().unwrap();
/// ```
pub struct GzipDecoder {
    state: State,
    fixed: [u8; 10],
    trailer: [u8; 8],
    inflate: Decompress,
    crc: Crc,
    member_out: u64,
    total_out: u64,
    max_size: u64,
}

impl GzipDecoder {
    /// A decoder that refuses more than `max_size` decompressed bytes.
    pub fn new(max_size: u64) -> GzipDecoder {
        GzipDecoder {
            state: State::Fixed { n: 0 },
            fixed: [0; 10],
            trailer: [0; 8],
            inflate: Decompress::new(false),
            crc: Crc::new(),
            member_out: 0,
            total_out: 0,
            max_size,
        }
    }

    /// Decompressed bytes produced so far.
    pub fn total_out(&self) -> u64 {
        self.total_out
    }

    /// Decodes from `input` into `out`: returns the input bytes used and the output produced
    /// (at most `out.len()`). Call again while either is non-zero.
    pub fn feed<'o>(
        &mut self,
        input: &[u8],
        out: &'o mut [u8],
    ) -> Result<(usize, &'o [u8]), RequestError> {
        let mut pos = 0;
        while pos < input.len() || self.state == State::Deflate {
            let b = input.get(pos).copied();
            match self.state {
                State::Deflate => {
                    let (used, produced, end) = self.inflate(&input[pos..], out)?;
                    pos += used;
                    if end {
                        self.state = State::Trailer { n: 0 };
                    }
                    if produced > 0 {
                        return Ok((pos, &out[..produced]));
                    }
                    if used == 0 && !end {
                        break;
                    }
                    continue;
                }
                _ if b.is_none() => break,
                _ => {}
            }
            let b = b.expect("checked above");
            pos += 1;
            self.state = match self.state {
                State::Done => {
                    // Another member follows.
                    self.inflate.reset(false);
                    self.crc.reset();
                    self.member_out = 0;
                    self.fixed[0] = b;
                    State::Fixed { n: 1 }
                }
                State::Fixed { n } => {
                    self.fixed[n] = b;
                    if n + 1 < 10 {
                        State::Fixed { n: n + 1 }
                    } else {
                        self.check_fixed()?;
                        self.after_fixed(FEXTRA)
                    }
                }
                State::ExtraLen { n: 0, .. } => State::ExtraLen {
                    n: 1,
                    len: usize::from(b),
                },
                State::ExtraLen { len, .. } => {
                    let len = len | usize::from(b) << 8;
                    if len == 0 {
                        self.after_fixed(FNAME)
                    } else {
                        State::Extra { remaining: len }
                    }
                }
                State::Extra { remaining: 1 } => self.after_fixed(FNAME),
                State::Extra { remaining } => State::Extra {
                    remaining: remaining - 1,
                },
                State::Name if b == 0 => self.after_fixed(FCOMMENT),
                State::Name => State::Name,
                State::Comment if b == 0 => self.after_fixed(FHCRC),
                State::Comment => State::Comment,
                State::HeaderCrc { n: 0 } => State::HeaderCrc { n: 1 },
                State::HeaderCrc { .. } => State::Deflate,
                State::Trailer { n } => {
                    self.trailer[n] = b;
                    if n + 1 < 8 {
                        State::Trailer { n: n + 1 }
                    } else {
                        self.check_trailer()?;
                        State::Done
                    }
                }
                State::Deflate => unreachable!("handled above"),
            };
        }
        Ok((pos, &out[..0]))
    }

    /// Checks that the input ended at the end of a member.
    pub fn finish(&self) -> Result<(), RequestError> {
        if self.state == State::Done {
            Ok(())
        } else {
            Err(RequestError::bad_request("truncated gzip body"))
        }
    }

    fn check_fixed(&self) -> Result<(), RequestError> {
        let f = &self.fixed;
        if f[0] != 0x1f || f[1] != 0x8b || f[2] != 8 || f[3] & FTEXT_RESERVED != 0 {
            return Err(RequestError::bad_request("invalid gzip header"));
        }
        Ok(())
    }

    /// The next header part whose flag is set, starting with `from`.
    fn after_fixed(&self, from: u8) -> State {
        let flags = self.fixed[3];
        for flag in [FEXTRA, FNAME, FCOMMENT, FHCRC] {
            if flag_order(flag) < flag_order(from) || flags & flag == 0 {
                continue;
            }
            return match flag {
                FEXTRA => State::ExtraLen { n: 0, len: 0 },
                FNAME => State::Name,
                FCOMMENT => State::Comment,
                _ => State::HeaderCrc { n: 0 },
            };
        }
        State::Deflate
    }

    fn inflate(
        &mut self,
        input: &[u8],
        out: &mut [u8],
    ) -> Result<(usize, usize, bool), RequestError> {
        const BAD: RequestError = RequestError::bad_request("invalid gzip data");
        let (in0, out0) = (self.inflate.total_in(), self.inflate.total_out());
        let status = self
            .inflate
            .decompress(input, out, FlushDecompress::None)
            .map_err(|_| BAD)?;
        let used = (self.inflate.total_in() - in0) as usize;
        let produced = (self.inflate.total_out() - out0) as usize;
        self.crc.update(&out[..produced]);
        self.member_out += produced as u64;
        self.total_out += produced as u64;
        if self.total_out > self.max_size {
            return Err(RequestError {
                status: 413,
                detail: "decompressed request body too large",
            });
        }
        Ok((used, produced, status == Status::StreamEnd))
    }

    fn check_trailer(&self) -> Result<(), RequestError> {
        let t = &self.trailer;
        let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let size = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        if crc != self.crc.sum() || size != self.member_out as u32 {
            return Err(RequestError::bad_request("gzip checksum mismatch"));
        }
        Ok(())
    }
}

/// Header parts come in this order: FEXTRA, FNAME, FCOMMENT, FHCRC.
fn flag_order(flag: u8) -> u8 {
    match flag {
        FEXTRA => 0,
        FNAME => 1,
        FCOMMENT => 2,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn gunzip(
        input: &[u8],
        piece: usize,
        max: u64,
        out_size: usize,
    ) -> Result<Vec<u8>, RequestError> {
        let mut dec = GzipDecoder::new(max);
        let mut out = vec![0u8; out_size];
        let mut result = Vec::new();
        for part in input.chunks(piece) {
            let mut pos = 0;
            loop {
                let (used, data) = dec.feed(&part[pos..], &mut out)?;
                assert!(data.len() <= out_size);
                result.extend_from_slice(data);
                pos += used;
                if used == 0 && data.is_empty() {
                    break;
                }
            }
            assert_eq!(pos, part.len());
        }
        dec.finish()?;
        Ok(result)
    }

    #[test]
    fn roundtrip_in_any_split() {
        let data: Vec<u8> = (0..20000u32).map(|i| (i * 7 % 251) as u8).collect();
        let gz = gzip(&data);
        for piece in [1, 7, 100, gz.len()] {
            for out_size in [1, 100, 65536] {
                assert_eq!(gunzip(&gz, piece, 1 << 20, out_size).unwrap(), data);
            }
        }
    }

    #[test]
    fn header_fields_and_members() {
        let mut enc = flate2::GzBuilder::new()
            .filename("name.txt")
            .comment("a comment")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"first ").unwrap();
        let mut gz = enc.finish().unwrap();
        gz.extend(gzip(b"second"));
        for piece in [1, 3, 1000] {
            assert_eq!(gunzip(&gz, piece, 100, 16).unwrap(), b"first second");
        }
    }

    #[test]
    fn header_crc_is_skipped() {
        let mut gz = gzip(b"abc");
        gz[3] |= FHCRC;
        gz.splice(10..10, [0xAA, 0xBB]);
        assert_eq!(gunzip(&gz, 1, 100, 16).unwrap(), b"abc");
    }

    #[test]
    fn bomb_is_stopped_by_the_limit() {
        let gz = gzip(&vec![0u8; 10 << 20]);
        assert!(gz.len() < 20_000);
        let e = gunzip(&gz, 4096, 1 << 20, 65536).unwrap_err();
        assert_eq!(e.status, 413);
    }

    #[test]
    fn corrupt_or_truncated() {
        let gz = gzip(b"hello world");
        assert_eq!(
            gunzip(&gz[..gz.len() - 3], 5, 100, 16).unwrap_err().status,
            400
        );
        let mut bad_crc = gz.clone();
        let n = bad_crc.len();
        bad_crc[n - 8] ^= 1;
        assert_eq!(gunzip(&bad_crc, 5, 100, 16).unwrap_err().status, 400);
        assert_eq!(
            gunzip(b"not gzip at all", 5, 100, 16).unwrap_err().status,
            400
        );
        let mut reserved = gz.clone();
        reserved[3] = 0x80;
        assert_eq!(gunzip(&reserved, 5, 100, 16).unwrap_err().status, 400);
        assert_eq!(gunzip(b"", 5, 100, 16).unwrap_err().status, 400);
    }
}
