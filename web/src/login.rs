//! Login: the current user (Tornado's `get_current_user` / `current_user`) and the
//! `authenticated` guard (Tornado's `@tornado.web.authenticated`) with the `login_url`
//! setting.
//!
//! A handler answers [`RequestHandler::get_current_user`](crate::RequestHandler::get_current_user), an `async fn` (it may look the
//! user up in a database through `reactor::run_in_executor`); it runs once per request,
//! after the XSRF checks and before `prepare`, and [`Context::current_user`] gives its answer
//! (to the handler and, as `current_user`, to templates). The user is a string (a name or an
//! id, often a signed cookie's value); a handler that loads a richer record keeps it in its
//! own fields. Put the lookup in a trait of your own, or a function, to share it between
//! handlers.
//!
//! [`RequestHandler::authenticated`](crate::RequestHandler::authenticated) names the methods that need a user: without one, a GET
//! or HEAD is redirected to `login_url?next=<uri>`, other methods answer 403.
//!
//! ```
//! use web::{Context, RequestHandler, Result};
//!
//! #[derive(Default)]
//! struct Profile;
//!
//! impl RequestHandler for Profile {
//!     async fn get_current_user(&mut self, cx: &mut Context<'_>) -> Result<Option<String>> {
//!         Ok(cx.get_signed_cookie("user"))
//!     }
//!
//!     fn authenticated(&self, _method: &str) -> bool {
//!         true // every method
//!     }
//!
//!     async fn get(&mut self, cx: &mut Context<'_>) -> Result {
//!         let name = cx.current_user().unwrap_or_default().to_owned();
//!         cx.write(format!("Hello, {name}"));
//!         Ok(())
//!     }
//! }
//! # drop(web::url::<Profile>("/profile"));
//! ```

use crate::context::Context;
use crate::error::{HttpError, Result};

impl Context<'_> {
    /// The user [`RequestHandler::get_current_user`](crate::RequestHandler::get_current_user) found for this request (Tornado's
    /// `current_user`); `None` when nobody is logged in.
    pub fn current_user(&self) -> Option<&str> {
        self.current_user.as_deref()
    }

    /// Replaces the current user for the rest of this request (Tornado's
    /// `self.current_user = ...`), e.g. right after a login form was accepted.
    pub fn set_current_user(&mut self, user: Option<String>) {
        *self.current_user = user;
    }
}

/// The `authenticated` check before the method: `Ok(true)` if the request was answered
/// (redirected to the login page), a 403 error for an unsafe method without a user.
/// `needed` is the handler's `authenticated(method)`.
pub(crate) fn require_user(cx: &mut Context<'_>, needed: bool) -> Result<bool> {
    let method = cx.request.method();
    if cx.current_user.is_some() || !needed {
        return Ok(false);
    }
    if method != "GET" && method != "HEAD" {
        return Err(HttpError::new(403));
    }
    let url = login_redirect(cx)?;
    cx.redirect(&url, false)?;
    Ok(true)
}

/// `login_url` with `next=` the request's URI (its full URL when `login_url` is absolute),
/// unless `login_url` already has a query (Tornado's `authenticated`).
fn login_redirect(cx: &Context<'_>) -> Result<String> {
    let login_url = cx.settings.login_url.as_deref().ok_or_else(|| {
        HttpError::with_log(
            500,
            "the login_url setting is needed for authenticated handlers",
        )
    })?;
    if login_url.contains('?') {
        return Ok(login_url.to_owned());
    }
    let next = if login_url.contains("://") {
        cx.request.full_url()
    } else {
        cx.request.uri().to_owned()
    };
    Ok(format!(
        "{login_url}?next={}",
        crate::escape::url_escape(&next, true)
    ))
}
