//! `multipart/form-data` bodies (Tornado's `parse_multipart_form_data`): parts with a filename
//! become [`HttpFile`]s, the others become body arguments.
//!
//! Bounds: at most [`MAX_PARTS`] parts; the 101st is a 400 and parsing stops, so a hostile body
//! never costs unbounded work. Where Tornado logs a malformed part and skips it, we answer 400:
//! no final boundary, a part without headers or without `Content-Disposition: form-data; name=`,
//! a header block that is not UTF-8. (Field values are checked for UTF-8 when read.)

use memchr::memmem;

use crate::arguments::{Arguments, MAX_ARGUMENTS};
use crate::error::HttpError;

/// The most parts one multipart body may carry.
pub const MAX_PARTS: usize = 100;

/// An uploaded file: one part of a `multipart/form-data` body that has a `filename`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpFile {
    /// The form field name (`name=` of `Content-Disposition`).
    pub name: String,
    /// The client's file name (`filename=`, or the decoded `filename*=`).
    pub filename: String,
    /// The part's `Content-Type`, `application/unknown` when absent (as Tornado).
    pub content_type: String,
    /// The file's bytes.
    pub body: Vec<u8>,
}

/// The `boundary` parameter of a `multipart/form-data` Content-Type, or `None` if the header is
/// not multipart/form-data or has no boundary.
///
/// ```
/// use web::multipart::boundary;
/// assert_eq!(boundary("multipart/form-data; boundary=abc"), Some("abc".to_string()));
/// assert_eq!(boundary("multipart/form-data; boundary=\"a b\""), Some("a b".to_string()));
/// assert_eq!(boundary("text/plain"), None);
/// ```
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = parse_header(content_type);
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v)
        .filter(|b| !b.is_empty() && b.len() <= 70)
}

/// Parses `body` with `boundary`, appending fields to `arguments` and files to `files`.
///
/// ```
/// use web::{Arguments, multipart::parse_multipart_form_data};
/// let body = b"--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n\
///              --XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n\
///              Content-Type: text/plain\r\n\r\nhello\r\n--XX--\r\n";
/// let (mut args, mut files) = (Arguments::new(), Vec::new());
/// parse_multipart_form_data("XX", body, &mut args, &mut files).unwrap();
/// assert_eq!(args.get("a").unwrap(), Some("1"));
/// assert_eq!(files[0].filename, "x.txt");
/// assert_eq!(files[0].body, b"hello");
/// ```
pub fn parse_multipart_form_data(
    boundary: &str,
    body: &[u8],
    arguments: &mut Arguments,
    files: &mut Vec<HttpFile>,
) -> Result<(), HttpError> {
    let bad = |why: &'static str| HttpError::bad_request(why);
    let dash_boundary = [b"--", boundary.as_bytes()].concat();
    let delimiter = [b"\r\n--", boundary.as_bytes()].concat();
    let finder = memmem::Finder::new(&delimiter);

    // The first boundary: at the very start, or after a preamble that ends in CRLF.
    let mut pos = if body.starts_with(&dash_boundary) {
        dash_boundary.len()
    } else {
        finder
            .find(body)
            .map(|i| i + delimiter.len())
            .ok_or_else(|| bad("multipart: no boundary"))?
    };
    let mut parts = 0;
    loop {
        // After a delimiter: `--` closes the body; otherwise (padding) CRLF starts a part.
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            return Ok(());
        }
        let line_end =
            memmem::find(rest, b"\r\n").ok_or_else(|| bad("multipart: no final boundary"))?;
        if rest[..line_end].iter().any(|&b| b != b' ' && b != b'\t') {
            return Err(bad("multipart: garbage after boundary"));
        }
        let start = pos + line_end + 2;
        let len = finder
            .find(&body[start..])
            .ok_or_else(|| bad("multipart: no final boundary"))?;
        parts += 1;
        if parts > MAX_PARTS {
            return Err(bad("multipart: too many parts (more than 100)"));
        }
        parse_part(&body[start..start + len], arguments, files)?;
        pos = start + len + delimiter.len();
    }
}

/// One part: headers, a blank line, the content.
fn parse_part(
    part: &[u8],
    arguments: &mut Arguments,
    files: &mut Vec<HttpFile>,
) -> Result<(), HttpError> {
    let bad = |why: &'static str| HttpError::bad_request(why);
    let (head, content) = if part.starts_with(b"\r\n") {
        (&b""[..], &part[2..])
    } else {
        let eoh =
            memmem::find(part, b"\r\n\r\n").ok_or_else(|| bad("multipart: missing headers"))?;
        (&part[..eoh], &part[eoh + 4..])
    };
    let PartInfo {
        name,
        filename,
        content_type,
    } = parse_part_head(head)?;
    match filename.filter(|f| !f.is_empty()) {
        Some(filename) => files.push(HttpFile {
            name,
            filename,
            content_type: content_type.unwrap_or_else(|| "application/unknown".to_owned()),
            body: content.to_vec(),
        }),
        None => {
            if arguments.len() >= MAX_ARGUMENTS {
                return Err(bad("too many arguments (more than 1000)"));
            }
            arguments.push(name.as_bytes(), content);
        }
    }
    Ok(())
}

/// The head of one part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    /// The form field name.
    pub name: String,
    /// The file name, for a file (from `filename*` or `filename`); `None` for a plain field.
    pub filename: Option<String>,
    /// The part's `Content-Type`, if given.
    pub content_type: Option<String>,
}

/// Parses a part's header block (`Content-Disposition: form-data; name=..`, `Content-Type`),
/// shared by the buffered parser here and the streaming one in [`crate::stream_multipart`].
pub(crate) fn parse_part_head(head: &[u8]) -> Result<PartInfo, HttpError> {
    let bad = |why: &'static str| HttpError::bad_request(why);
    let head = std::str::from_utf8(head).map_err(|_| bad("multipart: headers not UTF-8"))?;
    let mut disposition = None;
    let mut content_type = None;
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad("multipart: bad header"))?;
        if name.eq_ignore_ascii_case("content-disposition") {
            disposition = Some(value.trim());
        } else if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.trim().to_owned());
        }
    }
    let (kind, params) =
        parse_header(disposition.ok_or_else(|| bad("multipart: no Content-Disposition"))?);
    if !kind.eq_ignore_ascii_case("form-data") {
        return Err(bad("multipart: disposition is not form-data"));
    }
    let param = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    };
    let name = param("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad("multipart: part without a name"))?
        .to_owned();
    let filename = match param("filename*") {
        Some(ext) => Some(decode_ext_value(ext)?),
        None => param("filename").map(str::to_owned),
    };
    Ok(PartInfo {
        name,
        filename,
        content_type,
    })
}

/// RFC 5987/2231 extended value: `charset'lang'percent-encoded` (UTF-8 or ASCII only).
fn decode_ext_value(v: &str) -> Result<String, HttpError> {
    let mut it = v.splitn(3, '\'');
    let (charset, _lang, value) = match (it.next(), it.next(), it.next()) {
        (Some(c), Some(l), Some(v)) => (c, l, v),
        _ => return Err(HttpError::bad_request("multipart: bad filename*")),
    };
    if !charset.eq_ignore_ascii_case("utf-8") && !charset.eq_ignore_ascii_case("us-ascii") {
        return Err(HttpError::bad_request(
            "multipart: unsupported filename* charset",
        ));
    }
    Ok(crate::escape::url_unescape_str(value.as_bytes(), false)?.into_owned())
}

/// Splits a header value like `form-data; name="a"; filename="b"` into its main value and its
/// parameters (Tornado's `_parse_header`): parameters are split on `;` outside quotes, names
/// are trimmed, quoted values are unquoted (`\"` and `\\` unescaped).
pub(crate) fn parse_header(value: &str) -> (&str, Vec<(String, String)>) {
    let mut pieces = split_params(value);
    let main = pieces.next().unwrap_or("").trim();
    let params = pieces
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            Some((k.trim().to_string(), unquote(v.trim())))
        })
        .collect();
    (main, params)
}

/// `;`-separated pieces, not splitting inside double quotes.
fn split_params(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let s = rest?;
        let (mut quoted, mut escaped) = (false, false);
        for (i, c) in s.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                ';' if !quoted => {
                    rest = Some(&s[i + 1..]);
                    return Some(&s[..i]);
                }
                _ => {}
            }
        }
        rest = None;
        Some(s)
    })
}

fn unquote(v: &str) -> String {
    match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                out.push(if c == '\\' {
                    chars.next().unwrap_or('\\')
                } else {
                    c
                });
            }
            out
        }
        None => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &[u8]) -> Result<(Arguments, Vec<HttpFile>), HttpError> {
        let (mut a, mut f) = (Arguments::new(), Vec::new());
        parse_multipart_form_data("1234", body, &mut a, &mut f)?;
        Ok((a, f))
    }

    fn field(name: &str, value: &str) -> String {
        format!("--1234\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
    }

    #[test]
    fn fields_and_files() {
        let body = format!(
            "{}--1234\r\nContent-Disposition: form-data; name=\"files\"; filename=\"ab.txt\"\r\n\r\nFoo\r\n--1234--\r\n",
            field("a", "1\r\n2")
        );
        let (a, f) = parse(body.as_bytes()).unwrap();
        assert_eq!(a.get("a").unwrap(), Some("1\r\n2"));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].name, "files");
        assert_eq!(f[0].filename, "ab.txt");
        assert_eq!(f[0].content_type, "application/unknown");
        assert_eq!(f[0].body, b"Foo");
    }

    #[test]
    fn quoted_and_extended_filenames() {
        let body = b"--1234\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\\\"b;c.txt\"\r\nContent-Type: text/csv\r\n\r\nx\r\n\
                     --1234\r\nContent-Disposition: form-data; name=\"g\"; filename*=UTF-8''caf%C3%A9.txt\r\n\r\ny\r\n--1234--";
        let (_, f) = parse(body).unwrap();
        assert_eq!(f[0].filename, "a\"b;c.txt");
        assert_eq!(f[0].content_type, "text/csv");
        assert_eq!(f[1].filename, "café.txt");
    }

    #[test]
    fn binary_file_body_kept_exactly() {
        let mut body =
            b"--1234\r\nContent-Disposition: form-data; name=\"f\"; filename=\"b\"\r\n\r\n"
                .to_vec();
        body.extend_from_slice(b"\x00\xff\r\n--123\r\n");
        body.extend_from_slice(b"\r\n--1234--\r\n");
        let (_, f) = parse(&body).unwrap();
        assert_eq!(f[0].body, b"\x00\xff\r\n--123\r\n");
    }

    #[test]
    fn preamble_is_ignored() {
        let body = format!("preamble\r\n{}--1234--", field("a", "v"));
        assert_eq!(
            parse(body.as_bytes()).unwrap().0.get("a").unwrap(),
            Some("v")
        );
    }

    #[test]
    fn malformed_is_400() {
        for body in [
            "".to_string(),
            field("a", "1"),                               // no final boundary
            "--1234\r\n\r\nvalue\r\n--1234--".to_string(), // no disposition
            "--1234\r\nContent-Disposition: form-data\r\n\r\nv\r\n--1234--".to_string(), // no name
            "--1234\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--1234--"
                .to_string(),
            "--1234\r\nContent-Disposition: form-data; name=\"a\"\r\nv\r\n--1234--".to_string(), // no blank line
            "--1234junk\r\n".to_string(),
        ] {
            assert_eq!(parse(body.as_bytes()).unwrap_err().status, 400, "{body:?}");
        }
        // A field that is not UTF-8 is a 400 when it is read.
        let bad_utf8 =
            b"--1234\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xff\r\n--1234--";
        assert_eq!(parse(bad_utf8).unwrap().0.get("a").unwrap_err().status, 400);
    }

    #[test]
    fn at_most_a_hundred_parts() {
        let ok = format!("{}--1234--\r\n", field("a", "1").repeat(100));
        assert_eq!(parse(ok.as_bytes()).unwrap().0.len(), 100);
        let too_many = format!("{}--1234--\r\n", field("a", "1").repeat(101));
        let err = parse(too_many.as_bytes()).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(err.log_message.unwrap().contains("too many parts"));
    }

    #[test]
    fn boundaries() {
        assert_eq!(boundary("Multipart/Form-Data;boundary=x"), Some("x".into()));
        assert_eq!(boundary("multipart/form-data"), None);
        assert_eq!(boundary("multipart/form-data; boundary="), None);
        assert_eq!(boundary("multipart/mixed; boundary=x"), None);
    }

    #[test]
    fn header_params() {
        let (main, p) = parse_header(r#"form-data; name="a;b"; filename="c\\d""#);
        assert_eq!(main, "form-data");
        assert_eq!(
            p,
            [
                ("name".into(), "a;b".into()),
                ("filename".into(), r"c\d".into())
            ]
        );
    }
}
