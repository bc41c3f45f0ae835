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
//!
//! This file holds the codec and the checks on header values; applying them to a response
//! is `compress.rs`.

use std::io::Write as _;

use flate2::write::GzEncoder;
use flate2::Compression;

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

impl GzipStream {
    /// A compressor at the gzip level.
    pub(crate) fn new() -> GzipStream {
        GzipStream(encoder())
    }

    /// Compresses `body` in place, ending with a sync flush (the client can decode everything
    /// so far). Left as it was if compression fails.
    pub(crate) fn compress_flush(&mut self, body: &mut Vec<u8>) {
        let gz = &mut self.0;
        if gz.write_all(body).is_ok() && gz.flush().is_ok() {
            // The compressed bytes become the body; the old body's buffer is the next output.
            std::mem::swap(gz.get_mut(), body);
            gz.get_mut().clear();
        }
    }

    /// Compresses the rest, `body`, in place and adds the gzip trailer.
    pub(crate) fn finish(mut self, body: &mut Vec<u8>) {
        if self.0.write_all(body).is_ok() {
            if let Ok(out) = self.0.finish() {
                *body = out;
            }
        }
    }
}

fn encoder() -> GzEncoder<Vec<u8>> {
    GzEncoder::new(Vec::new(), Compression::new(LEVEL))
}

/// `data` gzipped whole; `None` if compression fails.
pub(crate) fn compress(data: &[u8]) -> Option<Vec<u8>> {
    let mut gz = encoder();
    gz.write_all(data).ok()?;
    gz.finish().ok()
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
