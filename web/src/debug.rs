//! The `debug` setting's error pages (Tornado's `debug=True` `write_error`): the page shows
//! what went wrong — the panic message, or the `HttpError`'s log message — so that a developer
//! sees it in the browser. Off by default: in production the detail stays in the server log
//! and the client gets the plain `CODE: REASON` page.

use crate::response::Response;

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
    crate::escape::xhtml_escape_into(body, &reason);
    body.extend_from_slice(b"</title><body><h1>");
    body.extend_from_slice(code.as_bytes());
    body.extend_from_slice(b": ");
    crate::escape::xhtml_escape_into(body, &reason);
    body.extend_from_slice(b"</h1>");
    if let Some(detail) = detail {
        body.extend_from_slice(b"<pre>");
        crate::escape::xhtml_escape_into(body, detail);
        body.extend_from_slice(b"</pre>");
    }
    body.extend_from_slice(b"</body></html>");
}
