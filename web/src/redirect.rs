//! `RedirectHandler` and `ErrorHandler` (Tornado's handlers of the same names).
//!
//! ```
//! use web::redirect::{ErrorHandler, RedirectHandler};
//! let app = web::Application::new(vec![
//!     // /pictures/7?size=large → 301 /photos/7?size=large
//!     RedirectHandler::route(r"/pictures/(\d+)", "/photos/{0}", true),
//!     ErrorHandler::route("/gone", 410),
//! ]);
//! # drop(app);
//! ```

use std::rc::Rc;

use crate::context::Context;
use crate::error::{HttpError, Result};
use crate::handler::RequestHandler;
use crate::routing::UrlSpec;
use crate::target::{url_with, HandlerTarget};

/// Redirects every GET and HEAD to a URL template (Tornado's `RedirectHandler`).
///
/// In the template, `{0}`, `{1}`, ... are the route's positional groups and `{name}` its
/// named groups (decoded); `{{` and `}}` are literal braces. The request's query string is
/// appended (after `?`, or after `&` if the target already has a query).
#[derive(Clone, Debug)]
pub struct RedirectHandler {
    url: Rc<str>,
    permanent: bool,
}

impl RedirectHandler {
    /// A redirect to `url` (a template), 301 if `permanent` else 302.
    pub fn new(url: &str, permanent: bool) -> RedirectHandler {
        RedirectHandler {
            url: Rc::from(url),
            permanent,
        }
    }

    /// A route from `pattern` to a redirect.
    pub fn route(pattern: &str, url: &str, permanent: bool) -> UrlSpec<HandlerTarget> {
        let handler = RedirectHandler::new(url, permanent);
        url_with(pattern, move || handler.clone())
    }

    /// The target for this request: the template filled with the path arguments, plus the
    /// query string.
    pub fn target(&self, cx: &Context<'_>) -> Result<String> {
        let mut out = expand(&self.url, cx)?;
        let query = cx.request().query();
        if !query.is_empty() {
            out.push(if out.contains('?') { '&' } else { '?' });
            out.push_str(query);
        }
        Ok(out)
    }
}

/// Fills `{0}` / `{name}` placeholders from the path arguments.
fn expand(template: &str, cx: &Context<'_>) -> Result<String> {
    let bad = || HttpError::with_log(500, format!("bad redirect template {template:?}"));
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let c = rest.as_bytes()[i];
        rest = &rest[i + 1..];
        if rest.as_bytes().first() == Some(&c) {
            out.push(c as char);
            rest = &rest[1..];
            continue;
        }
        if c == b'}' {
            return Err(bad());
        }
        let end = rest.find('}').ok_or_else(bad)?;
        let key = &rest[..end];
        rest = &rest[end + 1..];
        let value = match key.parse::<usize>() {
            Ok(i) => cx.path_arg(i),
            Err(_) => cx.path_kwarg(key),
        };
        out.push_str(value.unwrap_or(""));
    }
    out.push_str(rest);
    Ok(out)
}

impl RequestHandler for RedirectHandler {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let to = self.target(cx)?;
        cx.redirect(&to, self.permanent)
    }

    async fn head(&mut self, cx: &mut Context<'_>) -> Result {
        self.get(cx).await
    }
}

/// Answers every request with one error (Tornado's `ErrorHandler`), through the normal
/// error page (`write_error`). The application answers unmatched paths (404) and requests
/// that fail before routing (a malformed body: 400) with one too.
#[derive(Clone, Debug)]
pub struct ErrorHandler {
    error: HttpError,
}

impl ErrorHandler {
    /// A handler answering `status`.
    pub fn new(status: u16) -> ErrorHandler {
        ErrorHandler::from_error(HttpError::new(status))
    }

    /// A handler answering `error` (its status, reason and log message).
    pub fn from_error(error: HttpError) -> ErrorHandler {
        ErrorHandler { error }
    }

    /// The status it answers.
    pub fn status(&self) -> u16 {
        self.error.status
    }

    /// A route whose every request gets `status`.
    pub fn route(pattern: &str, status: u16) -> UrlSpec<HandlerTarget> {
        let handler = ErrorHandler::new(status);
        url_with(pattern, move || handler.clone())
    }
}

impl RequestHandler for ErrorHandler {
    async fn prepare(&mut self, _cx: &mut Context<'_>) -> Result {
        Err(self.error.clone())
    }

    fn check_xsrf_cookie(&mut self, _cx: &mut Context<'_>) -> Result {
        Ok(()) // the answer is an error anyway
    }
}
