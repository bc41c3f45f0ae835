//! `StaticFileHandler` (Tornado's), [`Context::send_file`] and [`Context::static_url`].
//!
//! # Which file
//! The route's first group is the path below the root folder. It is refused unless it names
//! a file inside the root: an absolute path, a `..` component (however it was encoded in the
//! URL: the router decodes `%2e%2e` and `%2f` before this sees them), a backslash or a NUL is
//! a 403; then the path is canonicalized (symlinks resolved) and must still lie under the
//! canonical root (a symlink out of the root is a 403); a missing file is a 404. A directory
//! is served through the default file name (e.g. `index.html`) if one is configured, after a
//! redirect that adds the trailing slash; otherwise it is a 403.
//!
//! # What goes out
//! `Content-Type` from the extension (`mime_guess`, `application/octet-stream` if unknown);
//! `Last-Modified` from the file's mtime; an `Etag` made of the mtime, size and inode (the
//! file is never read to compute it); `Accept-Ranges: bytes`. `If-None-Match` (or, without
//! it, `If-Modified-Since`) may answer 304. One `Range` (`bytes=a-b`, `bytes=a-`,
//! `bytes=-n`), honoured unless an `If-Range` no longer matches, answers 206 with
//! `Content-Range`; a range that starts past the end answers 416 with
//! `Content-Range: bytes */LENGTH`; several ranges are answered with the whole file (RFC 9110
//! allows it). HEAD gets the same headers and no body. A request with a `v` query argument
//! (as [`Context::static_url`] writes) gets `Cache-Control: max-age=31536000` and an
//! `Expires` a year ahead: the URL changes when the file does.
//!
//! # How the bytes go out
//! Files up to [`SMALL_FILE`] bytes are read into the response body (one `pread`; such
//! responses may then be gzipped by `compress_response`, up to [`MAX_GZIP_FILE`] for
//! compressible types). Larger ones go with [`Context::send_file`]: the headers are written,
//! then `http1` frames the bytes and `iostream` sends them with `sendfile(2)`, so they
//! never pass through this process's memory.
//!
//! ```no_run
//! use web::static_files::StaticFileHandler;
//! let app = web::Application::new(vec![
//!     StaticFileHandler::new("./public").default_filename("index.html").route(r"/static/(.*)"),
//! ]);
//! let _server = app.listen(8888).unwrap();
//! reactor::Reactor::current().run();
//! ```

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read as _};
use std::os::unix::fs::{FileExt as _, MetadataExt as _};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest as _, Sha256};

use crate::context::Context;
use crate::error::{HttpError, Result};
use crate::handler::RequestHandler;
use crate::routing::UrlSpec;
use crate::target::{url_with, HandlerTarget};

/// Files up to this size are read into the response body instead of sent with `sendfile`.
pub const SMALL_FILE: u64 = 64 * 1024;
/// Compressible files up to this size are read into memory for `compress_response` when the
/// client accepts gzip (larger ones are sent as they are, with `sendfile`).
pub const MAX_GZIP_FILE: u64 = 1024 * 1024;
/// `Cache-Control: max-age` of versioned URLs: one year.
pub const VERSIONED_MAX_AGE: u64 = 365 * 24 * 3600;

struct Config {
    /// The root as given (for messages).
    root: PathBuf,
    /// The root, canonical; `None` if it does not exist (every request is then a 404).
    canonical_root: Option<PathBuf>,
    default_filename: Option<String>,
}

/// Serves the files under a root folder (Tornado's `StaticFileHandler`); see the module doc.
#[derive(Clone)]
pub struct StaticFileHandler {
    config: Rc<Config>,
}

impl std::fmt::Debug for StaticFileHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticFileHandler")
            .field("root", &self.config.root)
            .field("default_filename", &self.config.default_filename)
            .finish()
    }
}

/// Where a request leads.
enum Target {
    File(PathBuf),
    /// A directory asked for without its trailing slash.
    AddSlash,
}

impl StaticFileHandler {
    /// A handler for the files under `root`.
    pub fn new(root: impl Into<PathBuf>) -> StaticFileHandler {
        let root = root.into();
        let canonical_root = root.canonicalize().ok();
        if canonical_root.is_none() {
            log::warn!(target: "web::general", "static root {} does not exist", root.display());
        }
        StaticFileHandler {
            config: Rc::new(Config {
                root,
                canonical_root,
                default_filename: None,
            }),
        }
    }

    /// Serves `name` (e.g. `index.html`) for a directory.
    pub fn default_filename(self, name: &str) -> StaticFileHandler {
        let config = Config {
            root: self.config.root.clone(),
            canonical_root: self.config.canonical_root.clone(),
            default_filename: Some(name.to_owned()),
        };
        StaticFileHandler {
            config: Rc::new(config),
        }
    }

    /// A route: `pattern` must have one group, the path below the root (e.g.
    /// `r"/static/(.*)"`).
    pub fn route(self, pattern: &str) -> UrlSpec<HandlerTarget> {
        url_with(pattern, move || self.clone())
    }

    /// Maps the decoded path below the root to a file; 403 for anything that would leave the
    /// root, 404 for what does not exist.
    fn resolve(&self, rel: &str, request_path: &str) -> Result<Target> {
        let forbidden = |why: &str| HttpError::with_log(403, format!("{why}: {rel:?}"));
        let root = self
            .config
            .canonical_root
            .as_deref()
            .ok_or_else(|| HttpError::new(404))?;
        if rel.starts_with('/') || rel.contains(['\\', '\0']) {
            return Err(forbidden("absolute or malformed static path"));
        }
        if rel.split('/').any(|c| c == "..") {
            return Err(forbidden("'..' in static path"));
        }
        let path = root.join(rel).canonicalize().map_err(not_found)?;
        if !path.starts_with(root) {
            return Err(forbidden("static path outside the root"));
        }
        if path.is_dir() {
            let Some(default) = &self.config.default_filename else {
                return Err(forbidden("static path is a directory"));
            };
            if !request_path.ends_with('/') {
                return Ok(Target::AddSlash);
            }
            let file = path.join(default).canonicalize().map_err(not_found)?;
            if !file.starts_with(root) {
                return Err(forbidden("default file outside the root"));
            }
            return Ok(Target::File(file));
        }
        Ok(Target::File(path))
    }

    async fn serve(&mut self, cx: &mut Context<'_>, include_body: bool) -> Result {
        let rel = cx.path_arg(0).unwrap_or("");
        let path = match self.resolve(rel, cx.request().path())? {
            Target::File(p) => p,
            Target::AddSlash => {
                let mut to = format!("{}/", cx.request().path());
                if !cx.request().query().is_empty() {
                    to.push('?');
                    to.push_str(cx.request().query());
                }
                return cx.redirect(&to, true);
            }
        };
        let file = File::open(&path).map_err(not_found)?;
        let meta = file.metadata().map_err(not_found)?;
        if !meta.is_file() {
            return Err(HttpError::with_log(
                403,
                format!("{} is not a file", path.display()),
            ));
        }
        let size = meta.len();
        let mtime = meta.modified().unwrap_or(UNIX_EPOCH);
        let mtime_secs = mtime.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mtime_nanos = mtime.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let etag = format!("\"{mtime_nanos:x}-{size:x}-{:x}\"", meta.ino());
        let last_modified = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(mtime_secs));
        let content_type = mime_guess::from_path(&path)
            .first_raw()
            .unwrap_or("application/octet-stream");

        cx.set_header("Etag", &etag)?;
        cx.set_header("Last-Modified", &last_modified)?;
        cx.set_header("Accept-Ranges", "bytes")?;
        cx.set_header("Content-Type", content_type)?;
        if cx
            .request()
            .query_arguments()
            .get("v")
            .ok()
            .flatten()
            .is_some()
        {
            cx.set_header(
                "Cache-Control",
                format_args!("max-age={VERSIONED_MAX_AGE}, public"),
            )?;
            let expires = SystemTime::now() + Duration::from_secs(VERSIONED_MAX_AGE);
            cx.set_header("Expires", httpdate::fmt_http_date(expires))?;
        }

        if not_modified(cx, &etag, mtime_secs) {
            cx.set_status(304, None)?;
            return Ok(());
        }

        let headers = cx.request().headers();
        let range = match headers.get("Range") {
            Some(r) if if_range_holds(headers.get("If-Range"), &etag, &last_modified) => {
                parse_range(r, size)
            }
            _ => ByteRange::Whole,
        };
        let (start, len) = match range {
            ByteRange::Whole => (0, size),
            ByteRange::Part(start, end) => {
                cx.set_status(206, None)?;
                cx.set_header(
                    "Content-Range",
                    format_args!("bytes {start}-{}/{size}", end - 1),
                )?;
                (start, end - start)
            }
            ByteRange::Unsatisfiable => {
                cx.set_status(416, None)?;
                cx.set_header("Content-Range", format_args!("bytes */{size}"))?;
                cx.set_header("Content-Type", "text/plain")?;
                return Ok(());
            }
        };

        if !include_body {
            // HEAD: the same headers, no body (http1 keeps the declared length).
            cx.set_header("Content-Length", len)?;
            return Ok(());
        }
        let gzip_candidate = cx.settings().compress_response
            && len >= crate::gzip::MIN_LENGTH as u64
            && crate::gzip::is_compressible(content_type)
            && headers
                .get_all("Accept-Encoding")
                .any(crate::gzip::accepts_gzip);
        let in_memory = len <= SMALL_FILE || (gzip_candidate && len <= MAX_GZIP_FILE);
        if in_memory {
            let mut buf = vec![0; len as usize];
            file.read_exact_at(&mut buf, start).map_err(|e| {
                HttpError::with_log(500, format!("reading {}: {e}", path.display()))
            })?;
            cx.write(buf);
            return Ok(());
        }
        cx.set_header("Content-Length", len)?;
        cx.send_file(&file, start, len).await
    }
}

impl RequestHandler for StaticFileHandler {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        self.serve(cx, true).await
    }

    async fn head(&mut self, cx: &mut Context<'_>) -> Result {
        self.serve(cx, false).await
    }
}

/// Opening errors: a 404 (never say more about the file system).
fn not_found(e: io::Error) -> HttpError {
    HttpError::with_log(404, format!("static file: {e}"))
}

/// Tornado's `should_return_304`: `If-None-Match` decides if present, else
/// `If-Modified-Since`.
fn not_modified(cx: &Context<'_>, etag: &str, mtime_secs: u64) -> bool {
    let headers = cx.request().headers();
    if headers.contains("If-None-Match") {
        return headers
            .get_all("If-None-Match")
            .any(|v| crate::etag::etag_matches(v, etag));
    }
    headers
        .get("If-Modified-Since")
        .and_then(|v| httpdate::parse_http_date(v.trim()).ok())
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .is_some_and(|since| mtime_secs <= since.as_secs())
}

/// `If-Range`: the range applies only if the validator still matches (an entity tag, strong
/// comparison, or the exact `Last-Modified` date).
fn if_range_holds(if_range: Option<&str>, etag: &str, last_modified: &str) -> bool {
    match if_range.map(str::trim) {
        None => true,
        Some(v) if v.starts_with('"') || v.starts_with("W/") => v == etag,
        Some(v) => v == last_modified,
    }
}

/// The answer to a `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// Ignore it: the whole file (absent, malformed, another unit, or several ranges).
    Whole,
    /// `start..end` (end exclusive, at most the file size).
    Part(u64, u64),
    /// 416: the range starts past the end (or asks for the last 0 bytes).
    Unsatisfiable,
}

/// Parses one `Range` header for a file of `size` bytes.
///
/// ```
/// use web::static_files::{parse_range, ByteRange};
/// assert_eq!(parse_range("bytes=0-99", 1000), ByteRange::Part(0, 100));
/// assert_eq!(parse_range("bytes=900-", 1000), ByteRange::Part(900, 1000));
/// assert_eq!(parse_range("bytes=-100", 1000), ByteRange::Part(900, 1000));
/// assert_eq!(parse_range("bytes=500-5000", 1000), ByteRange::Part(500, 1000));
/// assert_eq!(parse_range("bytes=1000-", 1000), ByteRange::Unsatisfiable);
/// assert_eq!(parse_range("bytes=0-1,5-6", 1000), ByteRange::Whole);
/// assert_eq!(parse_range("items=0-1", 1000), ByteRange::Whole);
/// ```
pub fn parse_range(header: &str, size: u64) -> ByteRange {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return ByteRange::Whole;
    };
    if spec.contains(',') {
        return ByteRange::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return ByteRange::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let number = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    if first.is_empty() {
        let Some(n) = number(last) else {
            return ByteRange::Whole;
        };
        if n == 0 || size == 0 {
            return ByteRange::Unsatisfiable;
        }
        return ByteRange::Part(size.saturating_sub(n), size);
    }
    let Some(start) = number(first) else {
        return ByteRange::Whole;
    };
    let end = if last.is_empty() {
        size
    } else {
        match number(last) {
            Some(l) if l >= start => l.saturating_add(1).min(size),
            _ => return ByteRange::Whole,
        }
    };
    if start >= size {
        return ByteRange::Unsatisfiable;
    }
    ByteRange::Part(start, end)
}

impl Context<'_> {
    /// Sends `len` bytes of `file` from `offset` as (part of) the body, after what is
    /// written so far: the status line and headers first if they have not gone out. Set
    /// `Content-Length` before, or the body is chunked (HTTP/1.1). The bytes go with
    /// `sendfile(2)` (never through this process's memory) and are not gzipped.
    pub async fn send_file(&mut self, file: &File, offset: u64, len: u64) -> Result {
        let response = &mut *self.response;
        if response.gzip.is_some() {
            return Err(HttpError::with_log(
                500,
                "send_file after a compressed flush",
            ));
        }
        if response.aborted {
            return Err(HttpError::with_log(500, "send_file on a closed connection"));
        }
        let sent = if !response.headers_written {
            response.headers_written = true;
            let (line, headers, body) = response.head();
            self.sink
                .send_head(line, headers, (!body.is_empty()).then_some(body))
                .await
        } else if !response.body.is_empty() {
            self.sink.send(&response.body).await
        } else {
            Ok(())
        };
        response.body.clear();
        let sent = match sent {
            Ok(()) => self.sink.send_file(file, offset, len).await,
            e => e,
        };
        sent.map_err(|e| {
            response.aborted = true;
            response.connection_lost = true;
            HttpError::with_log(500, format!("send_file failed: {e}"))
        })
    }

    /// The URL of static file `path` (below the `static_path` setting) with a version query
    /// (`{static_url_prefix}{path}?v=HASH`, Tornado's `static_url`): a short hash of the
    /// file's contents, computed once per file and cached, so the URL changes when the file
    /// does and can be cached for a year. Without `static_path`, or for a missing file, the
    /// URL has no version.
    pub fn static_url(&self, path: &str) -> String {
        let settings = self.settings();
        let prefix = &settings.static_url_prefix;
        match settings
            .static_path
            .as_deref()
            .and_then(|root| static_version(root, path))
        {
            Some(v) => format!("{prefix}{path}?v={v}"),
            None => format!("{prefix}{path}"),
        }
    }
}

/// The version of `root/path`: the first 16 hex digits of the SHA-256 of its contents,
/// computed once per file (read in 64 KiB pieces) and cached for the life of the process
/// (Tornado's `get_version` with its class-level cache). `None` if it cannot be read.
pub fn static_version(root: &Path, path: &str) -> Option<String> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Option<String>>>> = OnceLock::new();
    let full = root.join(path.trim_start_matches('/'));
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().ok()?.get(&full) {
        return v.clone();
    }
    let version = hash_file(&full).ok();
    if version.is_none() {
        log::error!(target: "web::general", "could not open static file {}", full.display());
    }
    cache.lock().ok()?.insert(full, version.clone());
    version
}

fn hash_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=-0", 10), ByteRange::Unsatisfiable);
        assert_eq!(parse_range("bytes=-20", 10), ByteRange::Part(0, 10));
        assert_eq!(parse_range("bytes=5-4", 10), ByteRange::Whole);
        assert_eq!(parse_range("bytes=x-4", 10), ByteRange::Whole);
        assert_eq!(parse_range("bytes=0-0", 10), ByteRange::Part(0, 1));
        assert_eq!(parse_range("bytes=0-", 0), ByteRange::Unsatisfiable);
        assert_eq!(parse_range("bytes=+1-2", 10), ByteRange::Whole);
    }

    #[test]
    fn if_range() {
        assert!(if_range_holds(None, "\"a\"", "d"));
        assert!(if_range_holds(Some("\"a\""), "\"a\"", "d"));
        assert!(!if_range_holds(Some("\"b\""), "\"a\"", "d"));
        assert!(!if_range_holds(Some("W/\"a\""), "\"a\"", "d"));
        assert!(if_range_holds(Some("d"), "\"a\"", "d"));
    }
}
