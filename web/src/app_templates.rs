//! `AppTemplates`: an application's templates, one per application (Tornado's template
//! `Loader` with the application's `autoescape`): the minijinja environment, loading from the
//! `template_path` setting, compiling each template once and caching it (in `debug` mode a
//! template whose file changed is reloaded), autoescaping `.html`, `.htm` and `.xml` with
//! Tornado's `xhtml_escape`, strict about undefined variables; and the application's part of
//! the template namespace, which needs no request.
//!
//! Pages render through it with their request's part of the namespace
//! ([`Context::render_string`](crate::Context::render_string), `template.rs`, which makes it
//! from the settings); a [`WebSocket`](crate::websocket::WebSocket) keeps an `Rc` of it and
//! renders without a request
//! ([`WebSocket::render_string`](crate::websocket::WebSocket::render_string)).

use std::path::Path;

use minijinja::value::Value;
use minijinja::{context, AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde::Serialize;

use crate::error::{HttpError, Result};

/// The application's templates: the environment (in `debug` mode it checks each template's
/// file, modification time and size, and reloads a changed one), the part of Tornado's
/// namespace that needs no request (`static_url`, `reverse_url`, `settings`), and what a
/// WebSocket's templates see instead of the request's names. One per application, made at
/// its first render or WebSocket, in its [`AppData`](crate::AppData).
pub(crate) struct AppTemplates {
    /// The environment; `None` without the `template_path` setting (rendering is an error).
    environment: Option<Environment<'static>>,
    /// `static_url`, `reverse_url` and `settings`.
    namespace: Value,
    /// `request`, `xsrf_form_html` and `current_user` as errors saying why they are missing.
    without_request: Value,
}

impl AppTemplates {
    /// Templates loaded from `path` (none: rendering is an error), reloaded when changed if
    /// `debug`, with the application's `namespace`; nothing is loaded yet.
    pub(crate) fn new(path: Option<&Path>, debug: bool, namespace: Value) -> AppTemplates {
        AppTemplates {
            environment: path.map(|path| new_environment(path, debug)),
            namespace,
            without_request: without_request(),
        }
    }

    /// Renders template `name` with `context` (whose values win), then `namespace`, then the
    /// application's namespace. A template error is a 500 naming the template and the line.
    pub(crate) fn render<S: Serialize>(
        &self,
        name: &str,
        context: S,
        namespace: Value,
    ) -> Result<String> {
        let environment = self.environment.as_ref().ok_or_else(|| {
            HttpError::with_log(
                500,
                "the template_path setting is needed to render templates",
            )
        })?;
        let template = environment.get_template(name)?;
        let app = self.namespace.clone();
        let context =
            context! { ..Value::from(minijinja::value::Serde(&context)), ..namespace, ..app };
        Ok(template.render(context)?)
    }

    /// Renders template `name` with `context` outside a request (for a WebSocket, after its
    /// handshake): the names bound to a request (`request`, `xsrf_form_html`, `current_user`)
    /// fail with an error saying so, unless `context` gives them.
    pub(crate) fn render_without_request<S: Serialize>(
        &self,
        name: &str,
        context: S,
    ) -> Result<String> {
        self.render(name, context, self.without_request.clone())
    }
}

/// The request's names for a template rendered without one: each an error saying why.
fn without_request() -> Value {
    let missing = |what: &str| {
        minijinja::Error::new(
            ErrorKind::InvalidOperation,
            format!("{what} is not available after a WebSocket's handshake (there is no request)"),
        )
    };
    context! {
        request => Value::from(missing("`request`")),
        xsrf_form_html => Value::from_function(move || -> std::result::Result<Value, minijinja::Error> {
            Err(missing("xsrf_form_html()"))
        }),
        current_user => Value::from(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            "`current_user` is not kept after a WebSocket's handshake: keep it in `prepare` \
             and pass it in the context",
        )),
    }
}

/// An environment loading from `path`, autoescaping `.html`, `.htm` and `.xml`, strict about
/// undefined variables, reloading changed files if `reload`.
fn new_environment(path: &Path, reload: bool) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_loader(minijinja::path_loader(path));
    env.set_auto_reload(reload);
    env.set_auto_escape_callback(|name| match name.rsplit('.').next() {
        Some("html" | "htm" | "xml") => AutoEscape::Html,
        _ => AutoEscape::None,
    });
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_formatter(tornado_escape);
    env
}

/// Writes `value`, escaped as Tornado's `xhtml_escape` in an autoescaped template (`&`, `<`,
/// `>`, `"`, `'`; minijinja's default would also turn `/` into `&#x2f;`).
fn tornado_escape(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &Value,
) -> std::result::Result<(), minijinja::Error> {
    if *state.auto_escape() != AutoEscape::Html || value.is_safe() || value.is_none() {
        return minijinja::escape_formatter(out, state, value);
    }
    let mut escaped = Vec::new();
    crate::escape::xhtml_escape_into(&mut escaped, &value.to_string());
    out.write_str(&String::from_utf8_lossy(&escaped))
        .map_err(|e| minijinja::Error::new(ErrorKind::WriteFailure, e.to_string()))
}
