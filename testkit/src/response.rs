//! One HTTP/1.x response as a test sees it, and the parser that takes it off the front of a
//! byte buffer exactly as framed.

/// A parsed response: the head as sent and the body with its framing removed.
#[derive(Debug, Clone)]
pub struct Response {
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// The status code.
    pub status: u16,
    /// The reason phrase (empty if none was sent).
    pub reason: String,
    /// The header fields in order, values without the surrounding whitespace.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
    /// The body came with `Transfer-Encoding: chunked`.
    pub chunked: bool,
    /// The head as received, from the status line to the empty line (`\r\n\r\n` included).
    pub head: String,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers_named(name).into_iter().next()
    }

    /// Every value of header `name` (case-insensitive), in order.
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as text; panics if it is not UTF-8 (a test that reads text expects text).
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or_else(|e| {
            panic!(
                "the {} response's body is not UTF-8 ({e}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// Parses one response from the front of `buf`.
///
/// `Ok(Some((response, length)))` once it is complete (`length` bytes of `buf` hold it),
/// `Ok(None)` while more bytes are needed, `Err` if it is malformed (a bad status line or header
/// line, a bad chunk, both `Content-Length` and `Transfer-Encoding`). `eof`: the connection is
/// closed, so a body framed by neither header ends at the end of `buf`. `head_request`: the
/// response answers a HEAD request and has no body whatever its headers say (nor has a 1xx,
/// 204 or 304).
pub fn parse_response(
    buf: &[u8],
    eof: bool,
    head_request: bool,
) -> Result<Option<(Response, usize)>, String> {
    let Some(end) = find(buf, b"\r\n\r\n").map(|i| i + 4) else {
        return Ok(None);
    };
    let head =
        std::str::from_utf8(&buf[..end]).map_err(|e| format!("response head is not UTF-8: {e}"))?;
    let mut lines = head[..end - 4].split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let status = parts.next().and_then(|s| s.parse::<u16>().ok());
    let (true, Some(status)) = (version.starts_with("HTTP/1."), status) else {
        return Err(format!("bad status line {status_line:?}"));
    };
    let mut headers = Vec::new();
    for line in lines {
        match line.split_once(':') {
            Some((name, value)) if is_token(name) => {
                headers.push((name.to_string(), value.trim().to_string()));
            }
            _ => return Err(format!("bad header line {line:?}")),
        }
    }
    let mut response = Response {
        version: version.to_string(),
        status,
        reason: parts.next().unwrap_or_default().to_string(),
        headers,
        body: Vec::new(),
        chunked: false,
        head: head.to_string(),
    };
    if head_request || status < 200 || status == 204 || status == 304 {
        return Ok(Some((response, end)));
    }
    let length = response.header("Content-Length");
    if response.header("Transfer-Encoding").is_some() {
        if length.is_some() {
            return Err("both Content-Length and Transfer-Encoding".to_string());
        }
        response.chunked = true;
        let mut pos = end;
        loop {
            let Some(line_end) = find(&buf[pos..], b"\r\n").map(|i| pos + i) else {
                return Ok(None);
            };
            let size = std::str::from_utf8(&buf[pos..line_end])
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|s| usize::from_str_radix(s, 16).ok())
                .ok_or_else(|| {
                    let line = String::from_utf8_lossy(&buf[pos..line_end]);
                    format!("bad chunk size line {line:?}")
                })?;
            pos = line_end + 2;
            if buf.len() < pos + size + 2 {
                return Ok(None);
            }
            response.body.extend_from_slice(&buf[pos..pos + size]);
            if &buf[pos + size..pos + size + 2] != b"\r\n" {
                return Err(format!("chunk of {size} bytes not followed by CRLF"));
            }
            pos += size + 2;
            if size == 0 {
                return Ok(Some((response, pos)));
            }
        }
    }
    if let Some(length) = length {
        let n: usize = length
            .parse()
            .map_err(|_| format!("bad Content-Length {length:?}"))?;
        if buf.len() < end + n {
            return Ok(None);
        }
        response.body = buf[end..end + n].to_vec();
        return Ok(Some((response, end + n)));
    }
    if !eof {
        return Ok(None);
    }
    response.body = buf[end..].to_vec();
    Ok(Some((response, buf.len())))
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A header name: one or more token characters (RFC 9110), so no whitespace before the colon.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(wire: &[u8]) -> (Response, usize) {
        parse_response(wire, false, false)
            .expect("well-formed")
            .expect("complete")
    }

    #[test]
    fn a_content_length_body_and_the_head_as_sent() {
        let wire =
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length:  5 \r\n\r\nhello+next";
        let (r, used) = complete(wire);
        assert_eq!(used, wire.len() - "+next".len());
        assert_eq!(
            (r.version.as_str(), r.status, r.reason.as_str()),
            ("HTTP/1.1", 200, "OK")
        );
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert_eq!(r.header("Content-Length"), Some("5"));
        assert_eq!(r.header("Etag"), None);
        assert_eq!(r.text(), "hello");
        assert!(!r.chunked);
        assert_eq!(
            r.head,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length:  5 \r\n\r\n"
        );
    }

    #[test]
    fn a_chunked_body_is_joined() {
        let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\none,\r\na\r\ntwo,three!\r\n0\r\n\r\n";
        let (r, used) = complete(wire);
        assert_eq!(used, wire.len());
        assert!(r.chunked);
        assert_eq!(r.text(), "one,two,three!");
    }

    #[test]
    fn incomplete_input_asks_for_more() {
        let wire: &[u8] =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\none,\r\n0\r\n\r\n";
        for cut in 0..wire.len() {
            assert!(
                matches!(parse_response(&wire[..cut], false, false), Ok(None)),
                "{cut}"
            );
        }
        let fixed: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab";
        assert!(matches!(parse_response(fixed, true, false), Ok(None)));
    }

    #[test]
    fn without_length_the_body_ends_at_the_close() {
        let wire = b"HTTP/1.0 200 OK\r\n\r\nuntil the end";
        assert!(matches!(parse_response(wire, false, false), Ok(None)));
        let (r, used) = parse_response(wire, true, false).unwrap().unwrap();
        assert_eq!((r.text(), used), ("until the end", wire.len()));
    }

    #[test]
    fn no_body_for_head_1xx_204_and_304() {
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
        let (r, used) = parse_response(head, false, true).unwrap().unwrap();
        assert_eq!((r.body.len(), used), (0, head.len()));
        for status in ["100 Continue", "204 No Content", "304 Not Modified"] {
            let wire = format!("HTTP/1.1 {status}\r\nContent-Length: 5\r\n\r\nhello");
            let (r, used) = complete(wire.as_bytes());
            assert_eq!((r.body.len(), used), (0, wire.len() - 5), "{status}");
        }
    }

    #[test]
    fn every_value_of_a_repeated_header() {
        let (r, _) =
            complete(b"HTTP/1.1 204 \r\nSet-Cookie: a=1\r\nX: y\r\nset-cookie: b=2\r\n\r\n");
        assert_eq!(r.headers_named("Set-Cookie"), ["a=1", "b=2"]);
        assert_eq!(r.header("Set-Cookie"), Some("a=1"));
        assert_eq!(r.reason, "");
    }

    #[test]
    fn malformed_responses_are_errors() {
        for wire in [
            &b"HTTP/1.1 abc OK\r\n\r\n"[..],
            b"HTTP/2 200 OK\r\n\r\n",
            b"ICY 200 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nName : space before the colon\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: five\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext\r\nabc\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTrailer: x\r\n\r\n",
        ] {
            assert!(
                parse_response(wire, true, false).is_err(),
                "{:?}",
                String::from_utf8_lossy(wire)
            );
        }
    }

    #[test]
    #[should_panic(expected = "body is not UTF-8")]
    fn text_refuses_a_body_that_is_not_utf8() {
        let (r, _) = complete(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n\xff\xfe");
        let _ = r.text();
    }
}
