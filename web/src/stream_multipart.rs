//! A streaming `multipart/form-data` parser: each part's bytes are handed over as they
//! arrive, so an upload of any size is parsed in constant memory (what Tornado's users asked
//! for in its issues #1842 and #2582; Tornado itself buffers the whole body).
//!
//! Feed it the body piece by piece ([`MultipartStream::feed`], e.g. from
//! [`RequestHandler::data_received`](crate::RequestHandler::data_received)) and pull
//! [`Event`]s until it needs more input: a part's start (its name, filename and content
//! type), its content in slices, its end. The parser keeps at most one piece of input plus a
//! partial delimiter (under 80 bytes) or a partial part head (at most
//! [`MAX_PART_HEADER_SIZE`]): its memory does not grow with the body. Tornado's bounds hold:
//! at most [`crate::multipart::MAX_PARTS`] parts; a malformed body is a 400.
//!
//! ```
//! use web::stream_multipart::{Event, MultipartStream};
//!
//! let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nhello world\r\n--XyZ--\r\n";
//! let mut parser = MultipartStream::from_content_type("multipart/form-data; boundary=XyZ").unwrap();
//! let mut size = 0;
//! for piece in body.chunks(7) {
//!     parser.feed(piece);
//!     while let Some(event) = parser.next_event().unwrap() {
//!         match event {
//!             Event::Part(info) => assert_eq!(info.filename.as_deref(), Some("a.txt")),
//!             Event::Data(bytes) => size += bytes.len(),
//!             Event::PartEnd => {}
//!         }
//!     }
//! }
//! parser.finish().unwrap();
//! assert_eq!(size, 11);
//! ```

use memchr::memmem;

use crate::error::HttpError;
pub use crate::multipart::PartInfo;
use crate::multipart::{boundary, parse_part_head, MAX_PARTS};

/// The most bytes of one part's head (its header lines).
pub const MAX_PART_HEADER_SIZE: usize = 16 * 1024;

/// What the parser found.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A part begins.
    Part(PartInfo),
    /// Content of the current part (in order; a part's content may come in many slices).
    Data(&'a [u8]),
    /// The current part ended.
    PartEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter (a preamble is skipped).
    Preamble,
    /// Just after a delimiter: `--` ends the body, CRLF starts a part.
    AfterDelimiter,
    /// Reading a part's header lines.
    Headers,
    /// Reading a part's content.
    Body,
    /// After the closing delimiter (an epilogue is ignored).
    Done,
}

/// The parser; see the module doc.
#[derive(Debug)]
pub struct MultipartStream {
    /// `\r\n--boundary`.
    delimiter: Vec<u8>,
    buf: Vec<u8>,
    pos: usize,
    state: State,
    parts: usize,
}

fn bad(why: &'static str) -> HttpError {
    HttpError::bad_request(why)
}

impl MultipartStream {
    /// A parser for `boundary` (without the leading `--`).
    pub fn new(boundary: &str) -> MultipartStream {
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        MultipartStream {
            delimiter,
            // The first delimiter may open the body without a CRLF before it: supply one.
            buf: b"\r\n".to_vec(),
            pos: 0,
            state: State::Preamble,
            parts: 0,
        }
    }

    /// A parser for a `multipart/form-data; boundary=...` content type (400 otherwise).
    pub fn from_content_type(content_type: &str) -> Result<MultipartStream, HttpError> {
        let main = content_type.split(';').next().unwrap_or("").trim();
        if !main.eq_ignore_ascii_case("multipart/form-data") {
            return Err(bad("not a multipart/form-data body"));
        }
        let b = boundary(content_type).ok_or_else(|| bad("multipart: no boundary"))?;
        if b.is_empty() || b.len() > 70 {
            return Err(bad("multipart: bad boundary"));
        }
        Ok(MultipartStream::new(&b))
    }

    /// Adds the next piece of the body. Pull the events it completes with
    /// [`next_event`](Self::next_event) before feeding more.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.state == State::Done {
            return;
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// Bytes held now (for memory checks: bounded by one piece plus a part head).
    pub fn buffered(&self) -> usize {
        self.buf.capacity()
    }

    /// The next event from the input fed so far; `Ok(None)` when more input is needed.
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>, HttpError> {
        let dlen = self.delimiter.len();
        loop {
            let avail = &self.buf[self.pos..];
            match self.state {
                State::Preamble => match memmem::find(avail, &self.delimiter) {
                    Some(i) => {
                        self.pos += i + dlen;
                        self.state = State::AfterDelimiter;
                    }
                    None => {
                        self.pos += avail.len().saturating_sub(dlen - 1);
                        return Ok(None);
                    }
                },
                State::AfterDelimiter => {
                    // Transport padding (spaces, tabs) may follow a delimiter.
                    let skip = avail
                        .iter()
                        .take_while(|&&b| b == b' ' || b == b'\t')
                        .count();
                    self.pos += skip;
                    let avail = &self.buf[self.pos..];
                    if avail.len() < 2 {
                        return Ok(None);
                    }
                    if avail.starts_with(b"--") {
                        self.state = State::Done;
                        self.pos = self.buf.len();
                        return Ok(None);
                    }
                    if !avail.starts_with(b"\r\n") {
                        return Err(bad("multipart: bad delimiter line"));
                    }
                    self.pos += 2;
                    self.state = State::Headers;
                }
                State::Headers => {
                    let (head_len, skip) = if avail.starts_with(b"\r\n") {
                        (0, 2)
                    } else {
                        match memmem::find(avail, b"\r\n\r\n") {
                            Some(i) => (i, i + 4),
                            None if avail.len() > MAX_PART_HEADER_SIZE => {
                                return Err(bad("multipart: part head too large"))
                            }
                            None => return Ok(None),
                        }
                    };
                    if head_len > MAX_PART_HEADER_SIZE {
                        return Err(bad("multipart: part head too large"));
                    }
                    self.parts += 1;
                    if self.parts > MAX_PARTS {
                        return Err(bad("multipart: too many parts (more than 100)"));
                    }
                    let info = parse_part_head(&avail[..head_len])?;
                    self.pos += skip;
                    self.state = State::Body;
                    return Ok(Some(Event::Part(info)));
                }
                State::Body => {
                    let start = self.pos;
                    match memmem::find(avail, &self.delimiter) {
                        Some(0) => {
                            self.pos += dlen;
                            self.state = State::AfterDelimiter;
                            return Ok(Some(Event::PartEnd));
                        }
                        Some(i) => {
                            self.pos += i;
                            return Ok(Some(Event::Data(&self.buf[start..start + i])));
                        }
                        None => {
                            // Keep what could be the start of a delimiter.
                            let safe = avail.len().saturating_sub(dlen - 1);
                            if safe == 0 {
                                return Ok(None);
                            }
                            self.pos += safe;
                            return Ok(Some(Event::Data(&self.buf[start..start + safe])));
                        }
                    }
                }
                State::Done => {
                    self.pos = self.buf.len();
                    return Ok(None);
                }
            }
        }
    }

    /// Whether the closing delimiter has been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Call at the end of the body: a 400 if the closing delimiter never came.
    pub fn finish(&self) -> Result<(), HttpError> {
        if self.is_done() {
            Ok(())
        } else {
            Err(bad("multipart: body ended before the closing boundary"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (name, filename, content) of each part.
    type Parts = Vec<(String, Option<String>, Vec<u8>)>;

    /// Parses `body` fed in pieces of `step` bytes: (name, filename, content) per part.
    fn parse(body: &[u8], step: usize) -> Result<Parts, HttpError> {
        let mut p = MultipartStream::new("b0und");
        let mut out: Parts = Vec::new();
        for piece in body.chunks(step.max(1)) {
            p.feed(piece);
            while let Some(e) = p.next_event()? {
                match e {
                    Event::Part(i) => out.push((i.name, i.filename, Vec::new())),
                    Event::Data(d) => out.last_mut().unwrap().2.extend_from_slice(d),
                    Event::PartEnd => {}
                }
            }
        }
        p.finish()?;
        Ok(out)
    }

    const BODY: &[u8] = b"preamble\r\n--b0und\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b0\r\n--b0und  \r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''%C3%A9.txt\r\nContent-Type: text/plain\r\n\r\n\r\n--b0unX\r\n--b0und--\r\nepilogue";

    #[test]
    fn every_split_gives_the_same_parts() {
        let whole = parse(BODY, BODY.len()).unwrap();
        assert_eq!(whole.len(), 2);
        assert_eq!(whole[0], ("a".into(), None, b"1\r\n--b0".to_vec()));
        assert_eq!(
            whole[1],
            ("f".into(), Some("é.txt".into()), b"\r\n--b0unX".to_vec())
        );
        for step in 1..40 {
            assert_eq!(parse(BODY, step).unwrap(), whole, "step {step}");
        }
    }

    #[test]
    fn errors() {
        assert!(parse(
            b"--b0und\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx",
            5
        )
        .is_err());
        assert!(parse(b"--b0und\r\nX: y\r\n\r\nx\r\n--b0und--", 5).is_err());
        assert!(parse(b"--b0undZZ", 5).is_err());
        let many: Vec<u8> = (0..101)
            .flat_map(|_| {
                b"--b0und\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n".to_vec()
            })
            .chain(b"--b0und--".to_vec())
            .collect();
        assert_eq!(parse(&many, 1000).unwrap_err().status, 400);
        assert!(MultipartStream::from_content_type("text/plain").is_err());
        assert!(MultipartStream::from_content_type("multipart/form-data").is_err());
    }
}
