//! Error pages: Tornado's default `CODE: REASON` page, and the `debug` setting's page
//! (Tornado's `debug=True` `write_error`), which shows what went wrong — the panic message, or
//! the `HttpError`'s log message — so that a developer sees it in the browser. The debug page
//! is off by default: in production the detail stays in the server log and the client gets
//! the plain page.

use crate::escape::xhtml_escape_into;
use crate::response::Response;

/// An error page of the application's own (what the [`write_error`](crate::Settings::write_error)
/// setting returns): its `Content-Type` and body.
///
/// ```
/// fn json_errors(status: u16, error: &web::HttpError, _debug: bool) -> web::ErrorPage {
///     web::ErrorPage::json(&serde_json::json!({ "error": error.reason_phrase(), "status": status }))
/// }
/// let settings = web::Settings { write_error: Some(json_errors), ..web::Settings::default() };
/// let page = (settings.write_error.unwrap())(404, &web::HttpError::new(404), false);
/// assert_eq!(page.content_type, "application/json; charset=UTF-8");
/// assert_eq!(page.body, br#"{"error":"Not Found","status":404}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPage {
    /// The `Content-Type` header.
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
}

impl ErrorPage {
    /// A JSON page (`application/json; charset=UTF-8`).
    pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> ErrorPage {
        ErrorPage {
            content_type: "application/json; charset=UTF-8".to_owned(),
            body: serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec()),
        }
    }

    /// An HTML page (`text/html; charset=UTF-8`).
    pub fn html(body: impl Into<String>) -> ErrorPage {
        ErrorPage {
            content_type: "text/html; charset=UTF-8".to_owned(),
            body: body.into().into_bytes(),
        }
    }
}

/// Appends Tornado's default error page,
/// `<html><title>CODE: REASON</title><body>CODE: REASON</body></html>`, to `out`.
/// The reason is HTML-escaped (a custom reason may carry user text).
///
/// ```
/// let mut page = Vec::new();
/// web::error_page::write_default_error_page(&mut page, 404, "Not Found");
/// assert_eq!(page, b"<html><title>404: Not Found</title><body>404: Not Found</body></html>");
/// ```
pub fn write_default_error_page(out: &mut Vec<u8>, status: u16, reason: &str) {
    let code = itoa_u16(status);
    let code = code.as_str();
    out.extend_from_slice(b"<html><title>");
    out.extend_from_slice(code.as_bytes());
    out.extend_from_slice(b": ");
    xhtml_escape_into(out, reason);
    out.extend_from_slice(b"</title><body>");
    out.extend_from_slice(code.as_bytes());
    out.extend_from_slice(b": ");
    xhtml_escape_into(out, reason);
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

/// Writes the debug error page for `status` with `detail` (HTML-escaped) to `response`'s
/// body, as HTML.
pub(crate) fn write_debug_page(response: &mut Response, status: u16, detail: Option<&str>) {
    let reason = response.reason().to_owned();
    let _ = response
        .headers_mut()
        .set("Content-Type", "text/html; charset=UTF-8");
    let body = &mut response.body;
    let code = status.to_string();
    body.extend_from_slice(b"<html><title>");
    body.extend_from_slice(code.as_bytes());
    body.extend_from_slice(b": ");
    xhtml_escape_into(body, &reason);
    body.extend_from_slice(b"</title><body><h1>");
    body.extend_from_slice(code.as_bytes());
    body.extend_from_slice(b": ");
    xhtml_escape_into(body, &reason);
    body.extend_from_slice(b"</h1>");
    if let Some(detail) = detail {
        body.extend_from_slice(b"<pre>");
        xhtml_escape_into(body, detail);
        body.extend_from_slice(b"</pre>");
    }
    body.extend_from_slice(b"</body></html>");
}

#[cfg(test)]
mod tests {
    use super::*;

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
