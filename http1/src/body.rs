//! The one message-body reader of both roles (Tornado's `HTTP1Connection._read_body` and its
//! `_read_fixed_body`, `_read_chunked_body`, `_read_body_until_close` and
//! `_GzipMessageDelegate`): the server reads request bodies with it, the client response
//! bodies.
//!
//! The framing ([`Framing`], decided by [`crate::rules::body_framing`]) picks the loop:
//! - `Length(n)`: exactly `n` bytes; a declared length over `max_body_size` is refused before
//!   a byte is read ([`check_declared_length`]: 413);
//! - `Chunked`: through [`ChunkedDecoder`] (bad chunk lines 400, too large 413, a trailer
//!   section over its limit 431);
//! - `UntilClose` (responses only): everything up to the peer's end of file, within
//!   `max_body_size`;
//! - `None`: nothing.
//!
//! Each piece goes to a [`BodySink`] (the server's message delegate, the client's collector or
//! streaming callback) straight from the read buffer, at most `piece_size` bytes at a time,
//! gunzipped first when asked ([`GzipDecoder`], bounded by `max_body_size` too). A wait for
//! more bytes is bounded by the body deadline (the stream closes when it passes).

use crate::chunked::{ChunkedDecoder, Step};
use crate::connection::fill_within;
use crate::gzip::GzipDecoder;
use crate::rules::{Framing, RequestError, Role};
use iostream::{IOStream, StreamError};
use std::future::Future;
use std::time::Instant;

/// Where the decoded pieces of a body go.
pub(crate) trait BodySink {
    /// One decoded piece (never empty).
    fn data_received(&mut self, piece: &[u8]) -> impl Future<Output = ()>;
}

/// The bounds of one body read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BodyLimits {
    /// The most body bytes accepted (decoded bytes, when gunzipping).
    pub(crate) max_body_size: u64,
    /// The most bytes of a chunked body's trailer section.
    pub(crate) max_trailer_size: usize,
    /// The largest piece handed to the sink at once.
    pub(crate) piece_size: usize,
    /// When the whole body must have arrived by (`None`: no limit).
    pub(crate) deadline: Option<Instant>,
}

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The body breaks a rule or a limit: the status a server answers with (400, 413, 431).
    Invalid(RequestError),
    /// The stream closed (or the body deadline passed) before the body's end.
    Gone(StreamError),
}

impl From<RequestError> for BodyError {
    fn from(e: RequestError) -> Self {
        BodyError::Invalid(e)
    }
}

/// The answer to a declared length over the limit: 413, before reading any of it.
const TOO_LARGE: RequestError = RequestError {
    status: 413,
    detail: "request body too large",
};

/// Refuses a `Content-Length` body larger than `max_body_size` (413) before any of it is
/// read; any other framing is checked as its bytes arrive.
pub(crate) fn check_declared_length(
    framing: Framing,
    max_body_size: u64,
) -> Result<(), RequestError> {
    match framing {
        Framing::Length(n) if n > max_body_size => Err(TOO_LARGE),
        _ => Ok(()),
    }
}

/// Reads one body from `stream`; see the module doc.
pub(crate) struct BodyReader<'s> {
    stream: &'s IOStream,
    role: Role,
    limits: BodyLimits,
    /// Boxed: most bodies are not gzipped, and the reader is kept in the connection's future.
    gunzip: Option<Box<Gunzip>>,
    /// Body bytes taken from the stream (before gunzip).
    wire: u64,
}

/// The gzip decoder of one body and its output buffer.
struct Gunzip {
    decoder: GzipDecoder,
    out: Vec<u8>,
}

impl<'s> BodyReader<'s> {
    /// A reader for a body of `role`'s peer on `stream`; `gunzip` decompresses it (a
    /// `Content-Encoding: gzip` body that the caller chose to decode).
    pub(crate) fn new(
        stream: &'s IOStream,
        role: Role,
        limits: BodyLimits,
        gunzip: bool,
    ) -> BodyReader<'s> {
        let limits = BodyLimits {
            piece_size: limits.piece_size.max(1),
            ..limits
        };
        BodyReader {
            stream,
            role,
            limits,
            gunzip: gunzip.then(|| {
                Box::new(Gunzip {
                    decoder: GzipDecoder::new(limits.max_body_size),
                    out: vec![0; limits.piece_size],
                })
            }),
            wire: 0,
        }
    }

    /// Reads the body framed by `framing`, handing each piece to `sink`, then checks that a
    /// gzip body ended where its last member does. A client accepts an empty body as an empty
    /// gzip body (a server may send `Content-Encoding: gzip` with nothing to decode); a
    /// request's empty gzip body is truncated (400).
    ///
    /// One loop for every framing: each turn asks what the buffered bytes are (framing to
    /// skip, then body data; or a need for more; or the end), hands the data on, consumes it.
    // The pieces borrow the read buffer (`IOStream::buffered`) across the sink's await: that
    // is the zero-copy path. It is sound because the read buffer is only borrowed mutably by
    // reads (`fill`, `try_fill`, `consume`), which this reader alone makes and never while
    // such a borrow is alive, and `IOStream::close` leaves it alone.
    #[allow(clippy::await_holding_refcell_ref)]
    pub(crate) async fn read<S: BodySink>(
        &mut self,
        framing: Framing,
        sink: &mut S,
    ) -> Result<(), BodyError> {
        check_declared_length(framing, self.limits.max_body_size)?;
        let stream = self.stream;
        let mut remaining = match framing {
            Framing::Length(n) => n,
            _ => 0,
        };
        let mut chunks = (framing == Framing::Chunked)
            .then(|| ChunkedDecoder::new(self.limits.max_body_size, self.limits.max_trailer_size));
        loop {
            let step = {
                let buf = stream.buffered();
                match (framing, &mut chunks) {
                    (_, Some(decoder)) => decoder.decode(&buf)?,
                    (Framing::Length(_), _) if remaining == 0 => Step::Done { skip: 0 },
                    (Framing::Length(_), _) if !buf.is_empty() => Step::Data {
                        skip: 0,
                        len: remaining.min(buf.len() as u64) as usize,
                    },
                    (Framing::UntilClose, _) => {
                        if self.wire + buf.len() as u64 > self.limits.max_body_size {
                            return Err(BodyError::Invalid(TOO_LARGE));
                        }
                        match buf.len() {
                            0 => Step::NeedMore { skip: 0 },
                            len => Step::Data { skip: 0, len },
                        }
                    }
                    (Framing::None, _) => Step::Done { skip: 0 },
                    _ => Step::NeedMore { skip: 0 },
                }
            };
            match step {
                Step::Data { skip, len } => {
                    {
                        let buf = stream.buffered();
                        for piece in buf[skip..skip + len].chunks(self.limits.piece_size) {
                            self.wire += piece.len() as u64;
                            let Some(g) = &mut self.gunzip else {
                                sink.data_received(piece).await;
                                continue;
                            };
                            let mut pos = 0;
                            loop {
                                let (used, out) = g.decoder.feed(&piece[pos..], &mut g.out)?;
                                pos += used;
                                if !out.is_empty() {
                                    sink.data_received(out).await;
                                } else if used == 0 {
                                    break;
                                }
                            }
                        }
                    }
                    stream.consume(skip + len);
                    remaining = remaining.saturating_sub(len as u64);
                }
                Step::NeedMore { skip } => {
                    stream.consume(skip);
                    let have = stream.buffered().len();
                    let deadline = self.limits.deadline;
                    let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
                    match fill_within(stream, have + 1, left).await {
                        Ok(_) => {}
                        Err(StreamError::Closed { source: None })
                            if framing == Framing::UntilClose =>
                        {
                            break;
                        }
                        Err(e) => return Err(BodyError::Gone(e)),
                    }
                }
                Step::Done { skip } => {
                    stream.consume(skip);
                    break;
                }
            }
        }
        match &self.gunzip {
            Some(_) if self.wire == 0 && self.role == Role::Client => Ok(()),
            Some(g) => Ok(g.decoder.finish()?),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    /// Collects the pieces it is handed.
    #[derive(Default)]
    struct Pieces(Vec<Vec<u8>>);

    impl BodySink for Pieces {
        async fn data_received(&mut self, piece: &[u8]) {
            assert!(!piece.is_empty());
            self.0.push(piece.to_vec());
        }
    }

    impl Pieces {
        fn joined(&self) -> Vec<u8> {
            self.0.concat()
        }
    }

    const LIMITS: BodyLimits = BodyLimits {
        max_body_size: 1024,
        max_trailer_size: 1024,
        piece_size: 4,
        deadline: None,
    };

    /// Reads a body sent as `wire` (the peer closes after it unless `keep_open`); returns the
    /// result, the pieces and the bytes left in the read buffer.
    fn read_with(
        wire: &[u8],
        keep_open: bool,
        role: Role,
        framing: Framing,
        limits: BodyLimits,
        gunzip: bool,
    ) -> (Result<(), BodyError>, Pieces, Vec<u8>) {
        reactor::Reactor::new().unwrap().block_on(async {
            let (ours, mut theirs) = UnixStream::pair().unwrap();
            theirs.write_all(wire).unwrap();
            let peer = keep_open.then_some(theirs);
            let stream = IOStream::from_unix(ours).unwrap();
            let mut sink = Pieces::default();
            let mut reader = BodyReader::new(&stream, role, limits, gunzip);
            let r = reader.read(framing, &mut sink).await;
            drop(peer);
            let rest = stream.buffered().to_vec();
            (r, sink, rest)
        })
    }

    fn read(wire: &[u8], role: Role, framing: Framing) -> (Result<(), BodyError>, Pieces, Vec<u8>) {
        read_with(wire, true, role, framing, LIMITS, false)
    }

    fn status(r: Result<(), BodyError>) -> u16 {
        match r {
            Err(BodyError::Invalid(e)) => e.status,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn fixed_length_in_pieces_leaving_what_follows() {
        for role in [Role::Server, Role::Client] {
            let (r, sink, rest) = read(b"hello worldNEXT", role, Framing::Length(11));
            assert!(r.is_ok());
            assert_eq!(sink.0, [&b"hell"[..], b"o wo", b"rld"]);
            assert_eq!(rest, b"NEXT");
        }
    }

    #[test]
    fn declared_length_over_the_limit_is_refused_unread() {
        assert_eq!(
            check_declared_length(Framing::Length(1025), 1024),
            Err(TOO_LARGE)
        );
        assert_eq!(check_declared_length(Framing::Length(1024), 1024), Ok(()));
        assert_eq!(check_declared_length(Framing::Chunked, 0), Ok(()));
        for role in [Role::Server, Role::Client] {
            let (r, sink, rest) = read(b"abc", role, Framing::Length(2000));
            assert_eq!(status(r), 413);
            assert!(sink.0.is_empty());
            assert_eq!(rest, b"", "nothing consumed, nothing read");
        }
    }

    #[test]
    fn a_short_body_is_a_closed_stream() {
        let (r, sink, _) = read_with(
            b"abc",
            false,
            Role::Client,
            Framing::Length(5),
            LIMITS,
            false,
        );
        assert!(matches!(r, Err(BodyError::Gone(_))), "{r:?}");
        assert_eq!(sink.joined(), b"abc");
    }

    #[test]
    fn chunked_body_and_its_errors() {
        for role in [Role::Server, Role::Client] {
            let (r, sink, rest) = read(
                b"5;x=1\r\nhello\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\nNEXT",
                role,
                Framing::Chunked,
            );
            assert!(r.is_ok());
            assert_eq!(sink.joined(), b"helloabc");
            assert_eq!(rest, b"NEXT");
            assert_eq!(
                status(read(b"3\nabc\r\n0\r\n\r\n", role, Framing::Chunked).0),
                400
            );
            assert_eq!(status(read(b"\r\n", role, Framing::Chunked).0), 400);
            let big = b"10000000000000001\r\nx\r\n0\r\n\r\n";
            assert_eq!(status(read(big, role, Framing::Chunked).0), 400);
            assert_eq!(status(read(b"401\r\n", role, Framing::Chunked).0), 413);
        }
    }

    #[test]
    fn until_close_reads_to_the_end_of_file_within_the_limit() {
        let (r, sink, _) = read_with(
            b"all of it",
            false,
            Role::Client,
            Framing::UntilClose,
            LIMITS,
            false,
        );
        assert!(r.is_ok());
        assert_eq!(sink.joined(), b"all of it");
        let small = BodyLimits {
            max_body_size: 5,
            ..LIMITS
        };
        let (r, _, _) = read_with(
            b"all of it",
            false,
            Role::Client,
            Framing::UntilClose,
            small,
            false,
        );
        assert_eq!(status(r), 413);
    }

    #[test]
    fn no_body_reads_nothing() {
        let (r, sink, rest) = read(b"NEXT", Role::Server, Framing::None);
        assert!(r.is_ok() && sink.0.is_empty());
        assert_eq!(rest, b"", "not even read from the socket");
    }

    #[test]
    fn gunzip_in_both_roles_bounded_by_the_limit() {
        let data = b"hello hello hello hello".repeat(10);
        let gz = gzip(&data);
        for role in [Role::Server, Role::Client] {
            let framing = Framing::Length(gz.len() as u64);
            let (r, sink, _) = read_with(&gz, true, role, framing, LIMITS, true);
            assert!(r.is_ok(), "{r:?}");
            assert_eq!(sink.joined(), data);
            // Truncated: the decoder sees no end of member.
            let cut = Framing::Length(gz.len() as u64 - 4);
            let (r, _, _) = read_with(&gz[..gz.len() - 4], true, role, cut, LIMITS, true);
            assert_eq!(status(r), 400);
            // Decoded bytes count against the limit.
            let small = BodyLimits {
                max_body_size: 100,
                ..LIMITS
            };
            let (r, _, _) = read_with(&gz, true, role, framing, small, true);
            assert_eq!(status(r), 413);
        }
    }

    #[test]
    fn an_empty_gzip_body_is_accepted_from_a_server_only() {
        let (r, _, _) = read_with(b"", true, Role::Client, Framing::Length(0), LIMITS, true);
        assert!(r.is_ok(), "{r:?}");
        let (r, _, _) = read_with(
            b"0\r\n\r\n",
            true,
            Role::Server,
            Framing::Chunked,
            LIMITS,
            true,
        );
        assert_eq!(status(r), 400);
    }

    #[test]
    fn the_body_deadline_closes_the_stream() {
        let limits = BodyLimits {
            deadline: Some(Instant::now() + Duration::from_millis(50)),
            ..LIMITS
        };
        let (r, sink, _) = read_with(b"ab", true, Role::Server, Framing::Length(5), limits, false);
        match r {
            Err(BodyError::Gone(StreamError::Closed { source: Some(e) })) => {
                assert_eq!(e.kind(), std::io::ErrorKind::TimedOut)
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(sink.joined(), b"ab");
    }
}
