//! The `compress_response` output transform (Tornado's `GZipContentEncoding`): decides, from
//! the request and the response's headers, whether a response is gzipped, and applies
//! [`crate::gzip`] to it, whole at `finish` or piece by piece at each `flush`.

use crate::gzip::{accepts_gzip, is_compressible, GzipStream, MIN_LENGTH};
use crate::request::Request;
use crate::response::{Response, CONTENT_ENCODING, VARY};
use crate::settings::Settings;

/// Adds `Accept-Encoding` to `Vary` (appended to an existing value).
fn add_vary(response: &mut Response) {
    let headers = response.headers_mut();
    match headers.get("Vary") {
        Some(v)
            if v.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("Accept-Encoding")) => {}
        Some(v) => {
            let value = format!("{v}, Accept-Encoding");
            let _ = headers.set("Vary", value);
        }
        None => headers.push_static(VARY, b"Accept-Encoding"),
    }
}

/// The checks that do not depend on the body's size.
fn eligible(request: &Request, response: &Response) -> bool {
    let status = response.status();
    if crate::error::status_has_no_body(status) || status == 206 {
        return false;
    }
    let headers = response.headers();
    !headers.contains("Content-Encoding")
        && headers.get("Content-Type").is_some_and(is_compressible)
        && request
            .headers()
            .get_all("Accept-Encoding")
            .any(accepts_gzip)
}

/// A response sent in one piece (at `finish`): compresses the whole body if it qualifies.
/// Returns whether it did (the caller then sets `Content-Length` to the new size; any
/// length set before is removed here).
pub(crate) fn transform_final(
    settings: &Settings,
    request: &Request,
    response: &mut Response,
) -> bool {
    if !settings.compress_response {
        return false;
    }
    add_vary(response);
    if response.body.len() < MIN_LENGTH || !eligible(request, response) {
        return false;
    }
    let Some(compressed) = crate::gzip::compress(&response.body) else {
        return false;
    };
    response.body = compressed;
    let headers = response.headers_mut();
    headers.remove("Content-Length");
    headers.push_static(CONTENT_ENCODING, b"gzip");
    true
}

/// A flush: the first one decides (and sets the headers); each compresses what was written
/// since the last and ends with a sync flush.
pub(crate) fn transform_flush(settings: &Settings, request: &Request, response: &mut Response) {
    if !settings.compress_response {
        return;
    }
    if !response.headers_written {
        add_vary(response);
        if eligible(request, response) {
            let headers = response.headers_mut();
            headers.remove("Content-Length");
            headers.push_static(CONTENT_ENCODING, b"gzip");
            response.gzip = Some(GzipStream::new());
        }
    }
    let Some(gz) = &mut response.gzip else {
        return;
    };
    if response.body.is_empty() && response.headers_written {
        return;
    }
    gz.compress_flush(&mut response.body);
}

/// The end of a flushed response: compresses what is left and adds the gzip trailer.
pub(crate) fn transform_last(response: &mut Response) {
    if let Some(gz) = response.gzip.take() {
        gz.finish(&mut response.body);
    }
}
