//! `HttpError`, the reason phrases, and the default error page (Tornado's `HTTPError`,
//! `httputil.responses` and `RequestHandler.write_error`).
//!
//! Any handler method may return `Err(HttpError)`; the request then ends with that status.
//! `log_message` is for the server log only (never shown to the client); `reason` overrides the
//! standard reason phrase on the status line and the error page.

use std::borrow::Cow;
use std::fmt;

/// An HTTP error that ends the current request with `status`.
///
/// ```
/// use web::HttpError;
/// let e = HttpError::new(404);
/// assert_eq!(e.status, 404);
/// assert_eq!(e.reason_phrase(), "Not Found");
/// let e = HttpError::with_log(400, "missing argument `name`").reason("Bad Name");
/// assert_eq!(e.reason_phrase(), "Bad Name");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    /// The status code to answer with.
    pub status: u16,
    /// A message for the server log; never sent to the client.
    pub log_message: Option<Cow<'static, str>>,
    /// A custom reason phrase; `None` uses the standard one for `status`.
    pub reason: Option<Cow<'static, str>>,
}

impl HttpError {
    /// An error with `status` and no log message.
    pub const fn new(status: u16) -> HttpError {
        HttpError {
            status,
            log_message: None,
            reason: None,
        }
    }

    /// An error with `status` and a message for the server log.
    pub fn with_log(status: u16, log_message: impl Into<Cow<'static, str>>) -> HttpError {
        HttpError {
            status,
            log_message: Some(log_message.into()),
            reason: None,
        }
    }

    /// Replaces the reason phrase (builder style).
    pub fn reason(mut self, reason: impl Into<Cow<'static, str>>) -> HttpError {
        self.reason = Some(reason.into());
        self
    }

    /// The reason phrase for the status line: the custom one, the standard one, or `Unknown`.
    pub fn reason_phrase(&self) -> &str {
        match &self.reason {
            Some(r) => r,
            None => reason_phrase(self.status).unwrap_or("Unknown"),
        }
    }

    /// 400 Bad Request with a log message: the common case of malformed input.
    pub fn bad_request(log_message: impl Into<Cow<'static, str>>) -> HttpError {
        HttpError::with_log(400, log_message)
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}: {}", self.status, self.reason_phrase())?;
        if let Some(m) = &self.log_message {
            write!(f, " ({m})")?;
        }
        Ok(())
    }
}

impl std::error::Error for HttpError {}

/// The result type of handler methods.
pub type Result<T = ()> = std::result::Result<T, HttpError>;

/// The standard reason phrase of a status code (RFC 9110 and friends), as Tornado's
/// `httputil.responses` has them.
///
/// ```
/// assert_eq!(web::reason_phrase(200), Some("OK"));
/// assert_eq!(web::reason_phrase(599), None);
/// ```
pub fn reason_phrase(status: u16) -> Option<&'static str> {
    http1::response::standard_reason(status)
}

/// Whether a response with this status never has a body (1xx, 204, 304; RFC 9112 §6.3).
pub fn status_has_no_body(status: u16) -> bool {
    (100..200).contains(&status) || status == 204 || status == 304
}

/// Appends Tornado's default error page,
/// `<html><title>CODE: REASON</title><body>CODE: REASON</body></html>`, to `out`.
/// The reason is HTML-escaped (a custom reason may carry user text).
///
/// ```
/// let mut page = Vec::new();
/// web::error::write_default_error_page(&mut page, 404, "Not Found");
/// assert_eq!(page, b"<html><title>404: Not Found</title><body>404: Not Found</body></html>");
/// ```
pub fn write_default_error_page(out: &mut Vec<u8>, status: u16, reason: &str) {
    let code = itoa_u16(status);
    let code = code.as_str();
    out.extend_from_slice(b"<html><title>");
    out.extend_from_slice(code.as_bytes());
    out.extend_from_slice(b": ");
    crate::escape::xhtml_escape_into(out, reason);
    out.extend_from_slice(b"</title><body>");
    out.extend_from_slice(code.as_bytes());
    out.extend_from_slice(b": ");
    crate::escape::xhtml_escape_into(out, reason);
    out.extend_from_slice(b"</body></html>");
}

/// Three-digit (or shorter) status codes as text, without allocating.
pub(crate) struct SmallNum {
    buf: [u8; 5],
    start: usize,
}

impl SmallNum {
    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.buf[self.start..]).unwrap_or("0")
    }
}

/// Formats a `u16` in decimal on the stack.
pub(crate) fn itoa_u16(mut n: u16) -> SmallNum {
    let mut buf = [b'0'; 5];
    let mut i = 5;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    SmallNum { buf, start: i }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons() {
        assert_eq!(reason_phrase(404), Some("Not Found"));
        assert_eq!(reason_phrase(431), Some("Request Header Fields Too Large"));
        assert_eq!(HttpError::new(299).reason_phrase(), "Unknown");
        assert_eq!(HttpError::new(500).reason("Oops").reason_phrase(), "Oops");
    }

    #[test]
    fn display_includes_log_message() {
        let e = HttpError::with_log(400, "bad thing");
        assert_eq!(e.to_string(), "HTTP 400: Bad Request (bad thing)");
        assert_eq!(
            HttpError::new(405).to_string(),
            "HTTP 405: Method Not Allowed"
        );
    }

    #[test]
    fn no_body_statuses() {
        for s in [100, 101, 199, 204, 304] {
            assert!(status_has_no_body(s), "{s}");
        }
        for s in [200, 201, 205, 301, 404, 500] {
            assert!(!status_has_no_body(s), "{s}");
        }
    }

    #[test]
    fn error_page_escapes_reason() {
        let mut out = Vec::new();
        write_default_error_page(&mut out, 400, "<b>&");
        assert_eq!(
            out,
            b"<html><title>400: &lt;b&gt;&amp;</title><body>400: &lt;b&gt;&amp;</body></html>"
        );
    }

    #[test]
    fn small_numbers() {
        assert_eq!(itoa_u16(0).as_str(), "0");
        assert_eq!(itoa_u16(7).as_str(), "7");
        assert_eq!(itoa_u16(200).as_str(), "200");
        assert_eq!(itoa_u16(65535).as_str(), "65535");
    }
}
