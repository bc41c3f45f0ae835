//! `compress_response`: gzip output (Tornado's `GZipContentEncoding` output transform).
//!
//! With the setting on, every response gets `Vary: Accept-Encoding`, and a response is
//! gzipped when the client's `Accept-Encoding` allows `gzip`, its `Content-Type` is text
//! (`text/*`), JSON, JavaScript, XML or SVG, it has no `Content-Encoding` yet, and it is not a
//! partial (206) or bodiless response. A response sent in one piece must be at least
//! [`MIN_LENGTH`] bytes (smaller ones are not worth it); its `Content-Length` is the
//! compressed size. A response sent with `flush()` is compressed as it goes: each flush
//! ends with a gzip sync flush, so the client can decode what it has received so far, and
//! the gzip trailer goes out with the last piece.

use std::io::Write as _;

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::application::AppShared;
use crate::request::Request;
use crate::response::Response;

/// Responses sent in one piece are compressed from this many bytes on (Tornado's
/// `MIN_LENGTH`).
pub const MIN_LENGTH: usize = 1024;

/// The gzip level (Tornado's `GZIP_LEVEL`).
const LEVEL: u32 = 6;

/// The compressor of a flushed response, kept between flushes.
pub(crate) struct GzipStream(GzEncoder<Vec<u8>>);

impl std::fmt::Debug for GzipStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GzipStream")
    }
}

/// Whether `content_type` (parameters allowed) is worth compressing.
///
/// ```
/// use web::gzip::is_compressible;
/// assert!(is_compressible("text/html; charset=UTF-8"));
/// assert!(is_compressible("application/json"));
/// assert!(is_compressible("image/svg+xml"));
/// assert!(!is_compressible("image/png"));
/// ```
pub fn is_compressible(content_type: &str) -> bool {
    let main = content_type.split(';').next().unwrap_or("").trim();
    let main = main.to_ascii_lowercase();
    main.starts_with("text/")
        || main.ends_with("+json")
        || main.ends_with("+xml")
        || matches!(
            main.as_str(),
            "application/javascript"
                | "application/x-javascript"
                | "application/ecmascript"
                | "application/json"
                | "application/xml"
                | "image/svg+xml"
        )
}

/// Whether an `Accept-Encoding` value allows gzip (`gzip` or `*`, and not with `q=0`).
///
/// ```
/// use web::gzip::accepts_gzip;
/// assert!(accepts_gzip("gzip, deflate, br"));
/// assert!(accepts_gzip("br;q=1.0, gzip;q=0.8"));
/// assert!(!accepts_gzip("gzip;q=0, br"));
/// assert!(!accepts_gzip("identity"));
/// ```
pub fn accepts_gzip(accept_encoding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        if !(coding.eq_ignore_ascii_case("gzip") || coding == "*") {
            return false;
        }
        !parts.any(|p| {
            let p = p.trim();
            p.strip_prefix("q=")
                .or_else(|| p.strip_prefix("Q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        })
    })
}

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
        None => headers.push_static(crate::response::VARY, b"Accept-Encoding"),
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

fn encoder() -> GzEncoder<Vec<u8>> {
    GzEncoder::new(Vec::new(), Compression::new(LEVEL))
}

/// A response sent in one piece (at `finish`): compresses the whole body if it qualifies.
/// Returns whether it did (the caller then sets `Content-Length` to the new size; any
/// length set before is removed here).
pub(crate) fn transform_final(app: &AppShared, request: &Request, response: &mut Response) -> bool {
    if !app.settings.compress_response {
        return false;
    }
    add_vary(response);
    if response.body.len() < MIN_LENGTH || !eligible(request, response) {
        return false;
    }
    let mut gz = encoder();
    if gz.write_all(&response.body).is_err() {
        return false;
    }
    let Ok(compressed) = gz.finish() else {
        return false;
    };
    response.body = compressed;
    let headers = response.headers_mut();
    headers.remove("Content-Length");
    headers.push_static(crate::response::CONTENT_ENCODING, b"gzip");
    true
}

/// A flush: the first one decides (and sets the headers); each compresses what was written
/// since the last and ends with a sync flush.
pub(crate) fn transform_flush(app: &AppShared, request: &Request, response: &mut Response) {
    if !app.settings.compress_response {
        return;
    }
    if !response.headers_written {
        add_vary(response);
        if eligible(request, response) {
            let headers = response.headers_mut();
            headers.remove("Content-Length");
            headers.push_static(crate::response::CONTENT_ENCODING, b"gzip");
            response.gzip = Some(GzipStream(encoder()));
        }
    }
    let Some(GzipStream(gz)) = &mut response.gzip else {
        return;
    };
    if response.body.is_empty() && response.headers_written {
        return;
    }
    if gz.write_all(&response.body).is_ok() && gz.flush().is_ok() {
        // The compressed bytes become the body; the old body's buffer is the next output.
        std::mem::swap(gz.get_mut(), &mut response.body);
        gz.get_mut().clear();
    }
}

/// The end of a flushed response: compresses what is left and adds the gzip trailer.
pub(crate) fn transform_last(response: &mut Response) {
    let Some(GzipStream(mut gz)) = response.gzip.take() else {
        return;
    };
    if gz.write_all(&response.body).is_ok() {
        if let Ok(out) = gz.finish() {
            response.body = out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_forms() {
        assert!(accepts_gzip("GZIP"));
        assert!(accepts_gzip("*"));
        assert!(accepts_gzip("deflate, gzip;q=0.5"));
        assert!(!accepts_gzip("gzip;q=0.0"));
        assert!(!accepts_gzip("x-gzip2"));
        assert!(!accepts_gzip(""));
    }

    #[test]
    fn types() {
        for t in [
            "text/plain",
            "TEXT/CSS",
            "application/javascript",
            "application/xml",
            "application/ld+json",
            "application/atom+xml",
        ] {
            assert!(is_compressible(t), "{t}");
        }
        for t in [
            "image/jpeg",
            "application/octet-stream",
            "video/mp4",
            "application/zip",
            "",
        ] {
            assert!(!is_compressible(t), "{t}");
        }
    }
}
