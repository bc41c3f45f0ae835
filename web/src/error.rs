//! `HttpError`, the reason phrases, and the default error page (Tornado's `HTTPError`,
//! `httputil.responses` and `RequestHandler.write_error`).
//!
//! Any handler method may return `Err(HttpError)`; the request then ends with that status.
//! `log_message` is for the server log only (never shown to the client); `reason` overrides the
//! standard reason phrase on the status line and the error page.
//!
//! `?` works on the common errors of an application: `std::io::Error`, `serde_json::Error`,
//! `reactor::BlockingError` (a `run_in_executor` task that failed), template errors, and any
//! boxed `std::error::Error`; each becomes a 500 with the error as log message (logged, and
//! shown on the page in `debug` mode). For other error types, `.map_err(HttpError::internal)?`.
//!
//! ```
//! fn read_config(path: &str) -> web::Result<String> {
//!     Ok(std::fs::read_to_string(path)?)
//! }
//! let e = read_config("/no/such/file").unwrap_err();
//! assert_eq!(e.status, 500);
//! assert!(e.log_message.unwrap().starts_with("I/O error"));
//! ```

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

// ---- `?` on other errors: a 500 with the error in the log (and, with `debug`, the page) ----

impl HttpError {
    /// A 500 whose log message is `error` (for `.map_err(HttpError::internal)?` on an error
    /// type with no `From` conversion below).
    pub fn internal(error: impl fmt::Display) -> HttpError {
        HttpError::with_log(500, error.to_string())
    }
}

impl From<std::io::Error> for HttpError {
    /// A 500 with the I/O error in the log.
    fn from(e: std::io::Error) -> HttpError {
        HttpError::with_log(500, format!("I/O error: {e}"))
    }
}

impl From<serde_json::Error> for HttpError {
    /// A 500 with the JSON error in the log (for a client's malformed JSON, answer 400 with
    /// `map_err` instead).
    fn from(e: serde_json::Error) -> HttpError {
        HttpError::with_log(500, format!("JSON error: {e}"))
    }
}

impl From<reactor::BlockingError> for HttpError {
    /// A 500 for a `run_in_executor` task that panicked or could not run.
    fn from(e: reactor::BlockingError) -> HttpError {
        HttpError::with_log(500, format!("blocking task failed: {e}"))
    }
}

impl From<Box<dyn std::error::Error>> for HttpError {
    /// A 500 with the error in the log (any `std::error::Error`, boxed).
    fn from(e: Box<dyn std::error::Error>) -> HttpError {
        HttpError::internal(e)
    }
}

impl From<Box<dyn std::error::Error + Send + Sync>> for HttpError {
    /// A 500 with the error in the log (any `std::error::Error`, boxed).
    fn from(e: Box<dyn std::error::Error + Send + Sync>) -> HttpError {
        HttpError::internal(e)
    }
}

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
}
