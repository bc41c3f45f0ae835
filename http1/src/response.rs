//! Writing a response: the status line and headers into a reusable `Vec<u8>` (the stream's
//! write buffer), then the body with the right framing, and checking that the body matches
//! what the headers declared.
//!
//! Framing (Tornado's `HTTP1Connection.write_headers`, RFC 9112 §6):
//! - no body for a response to HEAD (body bytes are dropped, a declared length is kept), nor
//!   for 1xx, 204 and 304 (body bytes are an error);
//! - `Content-Length` from the delegate: exactly that many bytes must follow ([`ResponseWriter`]
//!   counts them; more is refused without writing, fewer is an error at `finish`);
//! - no length on an HTTP/1.1 request: `Transfer-Encoding: chunked`;
//! - no length on an HTTP/1.0 request: close-delimited (the connection closes after it).
//!
//! `Date` (cached, [`crate::date`]) and `Server` (if configured) are added unless present, and
//! `Connection: close` / `keep-alive` when the decision differs from the version's default.

use crate::header_block::HeaderBlock;
use crate::parse::RequestError;
use crate::request::Version;
use std::fmt;

/// The first line of a response: `HTTP/1.1 {code} {reason}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseStartLine<'a> {
    /// Status code, 100..=999.
    pub code: u16,
    /// Reason phrase; empty means the standard one for `code`.
    pub reason: &'a str,
}

impl ResponseStartLine<'static> {
    /// `200 OK`.
    pub const OK: ResponseStartLine<'static> = ResponseStartLine {
        code: 200,
        reason: "OK",
    };
}

/// A response that could not be written as asked; the connection is closed after it.
#[derive(Debug)]
pub enum HTTPOutputError {
    /// `write_headers` was called twice.
    HeadersAlreadyWritten,
    /// Body or `finish` before `write_headers`.
    HeadersNotWritten,
    /// Writing after `finish`.
    AlreadyFinished,
    /// More body bytes than the declared `Content-Length` (nothing of the excess was written).
    TooMuchData {
        /// The declared length.
        declared: u64,
    },
    /// `finish` before the declared `Content-Length` was written.
    TooLittleData {
        /// The declared length.
        declared: u64,
        /// Bytes actually written.
        written: u64,
    },
    /// Body bytes for a status that has no body (1xx, 204, 304).
    BodyNotAllowed(u16),
    /// The delegate set `Transfer-Encoding` (framing is http1's job), an invalid
    /// `Content-Length`, a status code out of range, or CR/LF inside a header.
    InvalidHeaders(&'static str),
    /// The stream failed while flushing.
    Stream(iostream::StreamError),
}

impl fmt::Display for HTTPOutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HTTPOutputError::HeadersAlreadyWritten => f.write_str("headers already written"),
            HTTPOutputError::HeadersNotWritten => f.write_str("headers not written yet"),
            HTTPOutputError::AlreadyFinished => f.write_str("response already finished"),
            HTTPOutputError::TooMuchData { declared } => {
                write!(
                    f,
                    "tried to write more data than Content-Length ({declared})"
                )
            }
            HTTPOutputError::TooLittleData { declared, written } => write!(
                f,
                "response finished after {written} of {declared} bytes of Content-Length"
            ),
            HTTPOutputError::BodyNotAllowed(code) => write!(f, "a {code} response has no body"),
            HTTPOutputError::InvalidHeaders(why) => write!(f, "invalid response headers: {why}"),
            HTTPOutputError::Stream(e) => write!(f, "stream error: {e}"),
        }
    }
}

impl std::error::Error for HTTPOutputError {}

impl From<iostream::StreamError> for HTTPOutputError {
    fn from(e: iostream::StreamError) -> Self {
        HTTPOutputError::Stream(e)
    }
}

/// What the response is answering (taken from the request head).
#[derive(Clone, Copy, Debug)]
pub struct RequestInfo {
    /// The request was `HEAD`.
    pub head: bool,
    /// The request's version.
    pub version: Version,
    /// The connection may stay open after this response (request and server settings).
    pub keep_alive: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// No body on the wire; `drop_body`: body bytes are silently dropped (HEAD).
    NoBody {
        drop_body: bool,
        code: u16,
    },
    Length {
        declared: u64,
    },
    Chunked,
    CloseDelimited,
}

/// The state of one response being written: framing, bytes written, keep-alive decision.
#[derive(Debug, Clone)]
pub struct ResponseWriter {
    framing: Framing,
    written: u64,
    keep_alive: bool,
    finished: bool,
}

/// What a response head is written from: the delegate's status line and headers, what the
/// request allows, and, for a response whose whole body is known, its length.
#[derive(Clone, Copy, Debug)]
pub struct ResponseParts<'a> {
    /// The status line.
    pub start_line: ResponseStartLine<'a>,
    /// The delegate's headers.
    pub headers: &'a HeaderBlock,
    /// The request answered.
    pub request: RequestInfo,
    /// The `Server` header to add unless `headers` have one (`None`: none added).
    pub server: Option<&'a str>,
    /// The length of the whole body, when it is known now: unless the headers declare a
    /// `Content-Length`, one is added (where a body is allowed), so the response is
    /// length-framed rather than chunked or close-delimited.
    pub body_len: Option<u64>,
}

impl ResponseWriter {
    /// Writes the status line and headers to `out` and decides the framing. Nothing is
    /// written when an error is returned.
    ///
    /// ```
    /// use http1::response::{RequestInfo, ResponseParts, ResponseStartLine, ResponseWriter};
    /// use http1::{HeaderBlock, Version};
    /// let mut out = Vec::new();
    /// let request = RequestInfo { head: false, version: Version::Http11, keep_alive: true };
    /// let headers = HeaderBlock::from_lines("Content-Type: text/plain\r\n");
    /// let head = ResponseParts {
    ///     start_line: ResponseStartLine::OK,
    ///     headers: &headers,
    ///     request,
    ///     server: None,
    ///     body_len: None,
    /// };
    /// let mut w = ResponseWriter::start(&mut out, head).unwrap();
    /// w.write(&mut out, b"hi").unwrap();
    /// w.finish(&mut out).unwrap();
    /// let text = String::from_utf8(out).unwrap();
    /// assert!(text.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: "));
    /// assert!(text.ends_with("\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"));
    ///
    /// // The whole body known: length-framed, so HTTP/1.0 keep-alive survives.
    /// let mut out = Vec::new();
    /// let request = RequestInfo { version: Version::Http10, ..request };
    /// let none = HeaderBlock::new();
    /// let head = ResponseParts { headers: &none, request, body_len: Some(2), ..head };
    /// let mut w = ResponseWriter::start(&mut out, head).unwrap();
    /// w.write(&mut out, b"hi").unwrap();
    /// w.finish(&mut out).unwrap();
    /// let text = String::from_utf8(out).unwrap();
    /// assert!(text.contains("\r\nContent-Length: 2\r\n") && text.ends_with("\r\n\r\nhi"));
    /// assert!(w.keep_alive());
    /// ```
    pub fn start(
        out: &mut Vec<u8>,
        response: ResponseParts<'_>,
    ) -> Result<ResponseWriter, HTTPOutputError> {
        let ResponseParts {
            start_line,
            headers,
            request,
            server,
            body_len,
        } = response;
        let code = start_line.code;
        if !(100..=999).contains(&code) {
            return Err(HTTPOutputError::InvalidHeaders("status code out of range"));
        }
        // The fields were checked as they were pushed; what they say to the framing is known.
        let facts = headers.facts();
        if let Some(why) = facts.invalid {
            return Err(HTTPOutputError::InvalidHeaders(why));
        }
        let (declared, has_date, conn_close) =
            (facts.content_length, facts.has_date, facts.conn_close);
        let has_server = facts.has_server || server.is_none();
        let mut keep_alive = request.keep_alive && !conn_close;
        let framing = if request.head || code < 200 || code == 204 || code == 304 {
            Framing::NoBody {
                drop_body: request.head,
                code,
            }
        } else if let Some(declared) = declared.or(body_len) {
            Framing::Length { declared }
        } else if request.version == Version::Http11 {
            Framing::Chunked
        } else {
            keep_alive = false;
            Framing::CloseDelimited
        };

        push_status_line(out, start_line)?;
        push_fields(out, headers);
        if !has_date {
            crate::date::push_header_line(out);
        }
        if let (false, Some(server)) = (has_server, server) {
            out.extend_from_slice(b"Server: ");
            out.extend_from_slice(server.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        match framing {
            Framing::Chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
            Framing::Length { declared: n } if declared.is_none() => {
                push_content_length_line(out, n);
            }
            _ => {}
        }
        if !keep_alive && !conn_close {
            out.extend_from_slice(b"Connection: close\r\n");
        } else if keep_alive && request.version == Version::Http10 {
            out.extend_from_slice(b"Connection: keep-alive\r\n");
        }
        out.extend_from_slice(b"\r\n");
        Ok(ResponseWriter {
            framing,
            written: 0,
            keep_alive,
            finished: false,
        })
    }

    /// Whether the connection may serve another request after this response.
    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// Body bytes accepted so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// True after [`finish`](Self::finish).
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// Forces `Connection: close` semantics for the rest of the connection (after an error).
    pub fn set_close(&mut self) {
        self.keep_alive = false;
    }

    /// Appends a piece of body, framed. Nothing is written when an error is returned.
    pub fn write(&mut self, out: &mut Vec<u8>, chunk: &[u8]) -> Result<(), HTTPOutputError> {
        if self.begin_piece(out, chunk.len())? {
            out.extend_from_slice(chunk);
            self.end_piece(out, chunk.len());
        }
        Ok(())
    }

    /// Frames a piece of `len` body bytes that the caller sends itself (to avoid copying a
    /// large piece): writes the framing that goes before it to `out` and returns whether the
    /// bytes must be sent (not for HEAD, nor when `len` is 0). Then send them, then call
    /// [`end_piece`](Self::end_piece). Nothing is written when an error is returned.
    pub fn begin_piece(&mut self, out: &mut Vec<u8>, len: usize) -> Result<bool, HTTPOutputError> {
        if self.finished {
            return Err(HTTPOutputError::AlreadyFinished);
        }
        let send = match self.framing {
            Framing::NoBody {
                drop_body: true, ..
            } => false,
            Framing::NoBody { code, .. } => {
                if len > 0 {
                    return Err(HTTPOutputError::BodyNotAllowed(code));
                }
                false
            }
            Framing::Length { declared } => {
                if len as u64 > declared - self.written {
                    self.keep_alive = false;
                    return Err(HTTPOutputError::TooMuchData { declared });
                }
                len > 0
            }
            Framing::Chunked => {
                if len > 0 {
                    push_hex(out, len as u64);
                    out.extend_from_slice(b"\r\n");
                }
                len > 0
            }
            Framing::CloseDelimited => len > 0,
        };
        self.written += len as u64;
        Ok(send)
    }

    /// The framing after a piece sent by the caller (see [`begin_piece`](Self::begin_piece)).
    pub fn end_piece(&mut self, out: &mut Vec<u8>, len: usize) {
        if self.framing == Framing::Chunked && len > 0 {
            out.extend_from_slice(b"\r\n");
        }
    }

    /// Ends the body: the last chunk for chunked framing; an error if a declared length was
    /// not reached (the connection must then be closed: the client would wait for the rest).
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), HTTPOutputError> {
        if self.finished {
            return Err(HTTPOutputError::AlreadyFinished);
        }
        self.finished = true;
        match self.framing {
            Framing::Length { declared } if self.written != declared => {
                self.keep_alive = false;
                Err(HTTPOutputError::TooLittleData {
                    declared,
                    written: self.written,
                })
            }
            Framing::Chunked => {
                out.extend_from_slice(b"0\r\n\r\n");
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// Appends `HTTP/1.1 {code} {reason}` CRLF; the standard reason when `reason` is empty.
fn push_status_line(
    out: &mut Vec<u8>,
    start_line: ResponseStartLine<'_>,
) -> Result<(), HTTPOutputError> {
    let code = start_line.code;
    if code == 200 && matches!(start_line.reason, "" | "OK") {
        // The usual status line, as one constant.
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        return Ok(());
    }
    let reason = match start_line.reason {
        "" => reason_phrase(code),
        reason => reason,
    };
    // A reason may not hold CR or LF: it would split the response.
    if reason.bytes().any(|b| b == b'\r' || b == b'\n') {
        return Err(HTTPOutputError::InvalidHeaders("CR or LF in reason"));
    }
    // The code is 100..=999: three digits.
    let digits = [
        b'0' + (code / 100) as u8,
        b'0' + (code / 10 % 10) as u8,
        b'0' + (code % 10) as u8,
    ];
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(&digits);
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// Appends the delegate's fields, in wire form already: one copy.
fn push_fields(out: &mut Vec<u8>, headers: &HeaderBlock) {
    out.extend_from_slice(headers.as_bytes());
}

/// Writes the complete response for a refused request (`Connection: close`, a short text body).
pub fn write_error_response(out: &mut Vec<u8>, error: &RequestError) {
    out.extend_from_slice(b"HTTP/1.1 ");
    push_decimal(out, u64::from(error.status));
    out.push(b' ');
    out.extend_from_slice(reason_phrase(error.status).as_bytes());
    out.extend_from_slice(b"\r\nDate: ");
    out.extend_from_slice(&crate::date::now());
    out.extend_from_slice(
        b"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ",
    );
    push_decimal(out, error.detail.len() as u64 + 1);
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(error.detail.as_bytes());
    out.push(b'\n');
}

/// `HTTP/1.1 100 Continue`, sent when the body of an `Expect: 100-continue` request is read.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Appends `n` in decimal ASCII digits.
pub(crate) fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends `Content-Length: n` CRLF.
pub(crate) fn push_content_length_line(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(b"Content-Length: ");
    push_decimal(out, n);
    out.extend_from_slice(b"\r\n");
}

fn push_hex(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 16];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b"0123456789abcdef"[(n & 15) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

pub use crate::rules::{reason_phrase, standard_reason};

#[cfg(test)]
mod tests {
    use super::*;

    const GET11: RequestInfo = RequestInfo {
        head: false,
        version: Version::Http11,
        keep_alive: true,
    };

    /// The fields in a block (the first one refused, if any).
    fn block(fields: &[(&str, &str)]) -> Result<HeaderBlock, crate::InvalidField> {
        let mut h = HeaderBlock::new();
        for (name, value) in fields {
            h.push(*name, *value)?;
        }
        Ok(h)
    }

    /// A head without a known body length.
    fn head<'a>(
        start_line: ResponseStartLine<'a>,
        headers: &'a HeaderBlock,
        request: RequestInfo,
        server: Option<&'a str>,
    ) -> ResponseParts<'a> {
        ResponseParts {
            start_line,
            headers,
            request,
            server,
            body_len: None,
        }
    }

    fn respond(
        code: u16,
        headers: &[(&str, &str)],
        req: RequestInfo,
        body: &[&[u8]],
    ) -> (String, Result<(), HTTPOutputError>, bool) {
        let mut out = Vec::new();
        let h = block(headers).unwrap();
        let line = ResponseStartLine { code, reason: "" };
        let mut w = ResponseWriter::start(&mut out, head(line, &h, req, Some("t"))).unwrap();
        let mut res = Ok(());
        for b in body {
            res = res.and(w.write(&mut out, b));
        }
        let res = res.and_then(|()| w.finish(&mut out));
        let text = String::from_utf8(out).unwrap();
        // Replace the date so tests compare exact bytes.
        let generated = text
            .find("Date: ")
            .filter(|&i| text[i + 6..].find("\r\n") == Some(crate::date::DATE_LEN));
        let text = match generated {
            Some(i) => format!("{}Date: D{}", &text[..i], &text[i + 35..]),
            None => text,
        };
        (text, res, w.keep_alive())
    }

    #[test]
    fn content_length_framing_counts_bytes() {
        let (t, r, ka) = respond(200, &[("Content-Length", "5")], GET11, &[b"he", b"llo"]);
        assert_eq!(
            t,
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nDate: D\r\nServer: t\r\n\r\nhello"
        );
        assert!(r.is_ok() && ka);
        let (t, r, ka) = respond(200, &[("Content-Length", "3")], GET11, &[b"he", b"llo"]);
        assert!(matches!(
            r,
            Err(HTTPOutputError::TooMuchData { declared: 3 })
        ));
        assert!(
            t.ends_with("\r\n\r\nhe"),
            "the excess is not written: {t:?}"
        );
        assert!(!ka);
        let (_, r, ka) = respond(200, &[("Content-Length", "3")], GET11, &[b"he"]);
        assert!(matches!(
            r,
            Err(HTTPOutputError::TooLittleData {
                declared: 3,
                written: 2
            })
        ));
        assert!(!ka);
    }

    #[test]
    fn chunked_on_11_close_delimited_on_10() {
        let (t, r, ka) = respond(200, &[], GET11, &[b"abc", b"", &[b'x'; 26]]);
        assert!(r.is_ok() && ka);
        assert!(t.ends_with("Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1a\r\nxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n0\r\n\r\n"), "{t}");
        let req10 = RequestInfo {
            version: Version::Http10,
            ..GET11
        };
        let (t, r, ka) = respond(200, &[], req10, &[b"abc"]);
        assert!(r.is_ok() && !ka);
        assert!(t.ends_with("Connection: close\r\n\r\nabc"), "{t}");
        let (t, _, ka) = respond(200, &[("Content-Length", "1")], req10, &[b"a"]);
        assert!(ka && t.ends_with("Connection: keep-alive\r\n\r\na"), "{t}");
    }

    #[test]
    fn no_body_statuses_and_head() {
        for code in [204, 304, 101] {
            let (t, r, _) = respond(code, &[], GET11, &[]);
            assert!(r.is_ok());
            assert!(!t.contains("chunked") && t.ends_with("\r\n\r\n"), "{t}");
            let (_, r, _) = respond(code, &[], GET11, &[b"x"]);
            assert!(matches!(r, Err(HTTPOutputError::BodyNotAllowed(c)) if c == code));
        }
        let head = RequestInfo {
            head: true,
            ..GET11
        };
        let (t, r, ka) = respond(200, &[("Content-Length", "5")], head, &[b"hello"]);
        assert!(r.is_ok() && ka);
        assert!(
            t.ends_with("Content-Length: 5\r\nDate: D\r\nServer: t\r\n\r\n"),
            "{t}"
        );
        let (t, _, _) = respond(200, &[], head, &[b"hello"]);
        assert!(!t.contains("chunked") && t.ends_with("\r\n\r\n"));
    }

    #[test]
    fn connection_close_and_given_date_server() {
        let (t, _, ka) = respond(
            200,
            &[("Connection", "Close"), ("Date", "x"), ("Server", "s")],
            GET11,
            &[],
        );
        assert!(!ka);
        assert_eq!(
            t,
            "HTTP/1.1 200 OK\r\nConnection: Close\r\nDate: x\r\nServer: s\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        );
        let not_ka = RequestInfo {
            keep_alive: false,
            ..GET11
        };
        let (t, _, ka) = respond(200, &[("Content-Length", "0")], not_ka, &[]);
        assert!(!ka && t.contains("Connection: close\r\n"));
    }

    #[test]
    fn refuses_bad_headers() {
        let mut out = Vec::new();
        for bad in [
            &[("Transfer-Encoding", "chunked")][..],
            &[("X", "a\r\nInjected: 1")],
            &[("X", "a\nInjected: 1")],
            &[("X", "a\rb")],
            &[("Ok", "fine"), ("X", "trailing\r")],
            &[("X\r\nY", "a")],
            &[("X:Y", "a")],
            &[("", "a")],
            &[("Content-Length", "x")],
            &[("Content-Length", "1"), ("Content-Length", "2")],
        ] {
            // A field with CR, LF or a bad name is refused when pushed; fields that would
            // frame the response badly, when it starts.
            if let Ok(h) = block(bad) {
                let r =
                    ResponseWriter::start(&mut out, head(ResponseStartLine::OK, &h, GET11, None));
                assert!(
                    matches!(r, Err(HTTPOutputError::InvalidHeaders(_))),
                    "{bad:?}"
                );
            }
            assert!(out.is_empty(), "nothing written on error: {bad:?}");
        }
        let h = HeaderBlock::new();
        let line = ResponseStartLine {
            code: 1000,
            reason: "",
        };
        let r = ResponseWriter::start(&mut out, head(line, &h, GET11, None));
        assert!(r.is_err());
        assert!(out.is_empty(), "nothing written on error");
        for reason in ["O\r\nX-Injected: 1", "Bad\n", "\r"] {
            let line = ResponseStartLine { code: 200, reason };
            let r = ResponseWriter::start(&mut out, head(line, &h, GET11, None));
            assert!(
                matches!(r, Err(HTTPOutputError::InvalidHeaders(_))),
                "{reason:?}"
            );
            assert!(out.is_empty(), "nothing written for {reason:?}");
        }
    }

    #[test]
    fn error_response_and_numbers() {
        let mut out = Vec::new();
        write_error_response(&mut out, &RequestError::bad_request("nope"));
        let t = String::from_utf8(out).unwrap();
        assert!(t.starts_with("HTTP/1.1 400 Bad Request\r\nDate: "));
        assert!(t.ends_with("Connection: close\r\nContent-Length: 5\r\n\r\nnope\n"));
        for p in 0..20 {
            let ten = 10u64.pow(p);
            for n in [ten - 1, ten, ten + 1] {
                let mut d = b"x".to_vec();
                push_decimal(&mut d, n);
                assert_eq!(d, format!("x{n}").as_bytes());
            }
        }
        let mut v = Vec::new();
        push_decimal(&mut v, 0);
        push_decimal(&mut v, u64::MAX);
        push_hex(&mut v, 0);
        push_hex(&mut v, u64::MAX);
        assert_eq!(
            v,
            b"018446744073709551615"
                .iter()
                .chain(b"0ffffffffffffffff")
                .copied()
                .collect::<Vec<_>>()
        );
        assert_eq!(reason_phrase(431), "Request Header Fields Too Large");
    }
}
