//! Templates (Tornado's `tornado.template`, `render` and `render_string`) through
//! [minijinja](https://docs.rs/minijinja): Jinja syntax, loaded at run time from the
//! `template_path` setting, compiled once and cached (in `debug` mode a template whose file
//! changed is reloaded, so edits show at once). Autoescape is on for `.html`, `.htm` and `.xml`
//! templates (Tornado's `autoescape="xhtml_escape"`), off for others.
//!
//! Pages render with [`Context::render`] and [`Context::render_string`]; a WebSocket handler,
//! whose request is gone after the handshake, with
//! [`WebSocket::render_string`](crate::websocket::WebSocket::render_string) (Tornado's
//! `render_string` in `on_message`): the same environment and cache, the same autoescape.
//! Every template sees, besides the values it is given (which win over these), Tornado's
//! namespace, all of it in a page and the application's part in a WebSocket's template:
//!
//! | name | what | page | WebSocket |
//! |---|---|---|---|
//! | `static_url(path)` | the versioned URL of a file under `static_path` | yes | yes |
//! | `reverse_url(name, args...)` | the path of a named route | yes | yes |
//! | `settings` | `debug`, `xsrf_cookies`, `login_url`, `static_url_prefix`, `static_path`, `template_path`, `compress_response` (never `cookie_secret`) | yes | yes |
//! | `xsrf_form_html()` | the hidden `_xsrf` input (with the `xsrf_cookies` setting; as in Tornado, the `_xsrf` cookie is set only by a page that calls it) | yes | an error |
//! | `current_user` | what `get_current_user` answered (`none` if nobody) | yes | an error: pass it in the context |
//! | `request` | `method`, `uri`, `path`, `query`, `host`, `host_name`, `protocol`, `remote_ip`, `arguments` (name → list of values, query then body) and `cookies` | yes | an error |
//!
//! In a WebSocket's template, using a name marked "an error" (printing it, its attributes, or
//! testing it with `if`) fails the render with an error saying it is not available after the
//! handshake. A WebSocket keeps no copy of the handshake's `current_user`: a handler that
//! needs it keeps it in `prepare` and passes it in the context.
//!
//! A variable that is not defined is an error (as Tornado's `NameError`); test for it with
//! `{% if x is defined %}`. A template error (syntax, a missing template, an undefined
//! variable) is a 500 [`HttpError`] whose log message names the template and the line and
//! shows the source around it; with `debug` on, a page's error page shows that message.
//!
//! ## Tornado → minijinja
//!
//! | Tornado | minijinja |
//! |---|---|
//! | `{{ x }}`, `{{ f(x) }}` | same |
//! | `{% if a %}…{% elif b %}…{% else %}…{% end %}` | `… {% endif %}` |
//! | `{% for x in xs %}…{% end %}` | `… {% endfor %}` (and `loop.index`, `{% else %}`) |
//! | `{% while c %}…{% end %}` | no `while`: a `for` over a list |
//! | `{% extends "base.html" %}`, `{% block b %}…{% end %}` | `… {% endblock %}` |
//! | `{% include "x.html" %}` | same |
//! | `{% module Entry(e) %}` (a UI module) | a macro: `{% from "modules.html" import entry %}{{ entry(e) }}` |
//! | `{% module Template("m.html", message=m) %}` | `{% with message = m %}{% include "m.html" %}{% endwith %}` |
//! | `{% module xsrf_form_html() %}` | `{{ xsrf_form_html() }}` |
//! | `{% raw x %}` | `{{ x\|safe }}` |
//! | `{% set x = 1 %}` | same |
//! | `{% apply f %}…{% end %}` | `{% filter f %}…{% endfilter %}` |
//! | `{% autoescape None %}` | `{% autoescape false %}…{% endautoescape %}` |
//! | `{# comment #}` | same |
//! | `{% try %}`, `{% import %}`, `{% from x import y %}` (Python) | none: compute values in the handler |
//! | `escape(x)` / `xhtml_escape(x)` | `x\|e` |
//! | `url_escape(x)` | `x\|urlencode` |
//! | `json_encode(x)` | `x\|tojson` |
//! | `squeeze(x)` | `x\|trim` (no inner squeeze) |
//! | `linkify(x)` | none |
//!
//! ```no_run
//! use web::{Context, RequestHandler, Result};
//!
//! #[derive(Default)]
//! struct Home;
//!
//! impl RequestHandler for Home {
//!     async fn get(&mut self, cx: &mut Context<'_>) -> Result {
//!         // templates/home.html: <h1>Hello, {{ name }}</h1>{{ xsrf_form_html() }}
//!         cx.render("home.html", minijinja::context! { name => "<World>" })
//!     }
//! }
//!
//! let settings = web::Settings {
//!     template_path: Some("templates".into()),
//!     ..web::Settings::default()
//! };
//! let app = web::Application::with_settings(vec![web::url::<Home>("/")], settings);
//! # drop(app);
//! ```

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use minijinja::value::{Rest, Value};
use minijinja::{context, ErrorKind};
use serde::Serialize;

use crate::app_templates::AppTemplates;
use crate::context::Context;
use crate::error::{HttpError, Result};
use crate::settings::Settings;

impl Context<'_> {
    /// Renders template `name` with `context` (any `Serialize` value that is a map, such as
    /// `minijinja::context!{..}` or a struct) and Tornado's namespace, writes it and finishes
    /// the response (Tornado's `render`). A template error is a 500 (see the module doc).
    pub fn render<S: Serialize>(&mut self, name: &str, context: S) -> Result {
        let html = self.render_string(name, context)?;
        self.write(html);
        self.finish();
        Ok(())
    }

    /// Renders template `name` with `context` and Tornado's namespace, and returns the text
    /// (Tornado's `render_string`).
    pub fn render_string<S: Serialize>(&mut self, name: &str, context: S) -> Result<String> {
        let templates = app_templates(self.settings);
        let xsrf = Arc::new(Mutex::new(LazyXsrf {
            secret: None,
            new_cookie: None,
        }));
        let namespace = self.namespace(&xsrf);
        let text = templates.render(name, context, namespace)?;
        // A template that made a new XSRF secret: its cookie goes with the page.
        let new_cookie = lock(&xsrf).new_cookie.take();
        if let Some(cookie) = new_cookie {
            self.set_cookie_with(&crate::Cookie::new(crate::xsrf::XSRF_NAME, &cookie))?;
        }
        Ok(text)
    }

    /// The request's part of Tornado's template namespace (see the module doc; the rest is
    /// the application's, `app_namespace`). `xsrf_form_html()` reads the client's
    /// XSRF secret, or makes one (and the cookie to set, kept in `xsrf`), only when the
    /// template calls it: as in Tornado, a page without a form sets no cookie.
    fn namespace(&mut self, xsrf: &Arc<Mutex<LazyXsrf>>) -> Value {
        let xsrf = match self.settings.xsrf_cookies {
            true => {
                lock(xsrf).secret = self.xsrf_secret();
                Some(Arc::clone(xsrf))
            }
            false => None,
        };
        context! {
            xsrf_form_html => Value::from_function(move || match &xsrf {
                Some(xsrf) => lock(xsrf).form_html().map(Value::from_safe_string),
                None => Err(minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    "xsrf_form_html() needs the xsrf_cookies setting",
                )),
            }),
            current_user => self.current_user().map(str::to_owned),
            request => self.request_value(),
        }
    }

    /// The request as templates see it.
    fn request_value(&self) -> Value {
        let r = self.request;
        let mut arguments: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in r.arguments() {
            arguments
                .entry(String::from_utf8_lossy(name).into_owned())
                .or_default()
                .push(String::from_utf8_lossy(value).trim().to_owned());
        }
        let cookies: BTreeMap<String, String> = r
            .cookies()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        context! {
            method => r.method().to_owned(),
            uri => r.uri().to_owned(),
            path => r.path().to_owned(),
            query => r.query().to_owned(),
            host => r.host().to_owned(),
            host_name => r.host_name().to_owned(),
            protocol => r.protocol(),
            remote_ip => r.remote_ip().map(|ip| ip.to_string()),
            arguments => arguments,
            cookies => cookies,
        }
    }
}

/// The XSRF secret of a render: the client's (read before the render), or one made by the
/// first `xsrf_form_html()` call, with the cookie value the response must then set.
struct LazyXsrf {
    secret: Option<Vec<u8>>,
    new_cookie: Option<String>,
}

impl LazyXsrf {
    /// The hidden `_xsrf` field, making the secret first if there is none.
    fn form_html(&mut self) -> std::result::Result<String, minijinja::Error> {
        let now = crate::signed_cookies::now_timestamp();
        let failed =
            |e: HttpError| minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string());
        if self.secret.is_none() {
            let (secret, cookie) = crate::xsrf::new_xsrf_secret(now).map_err(failed)?;
            self.secret = Some(secret);
            self.new_cookie = Some(cookie);
        }
        let secret = self.secret.as_deref().unwrap_or_default();
        crate::xsrf::form_field(secret, now).map_err(failed)
    }
}

/// Locks `m`; nothing panics under these locks, so a poisoned one is still sound.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The settings as templates see them (never the cookie secret).
fn settings_value(s: &Settings) -> Value {
    let path = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string());
    context! {
        debug => s.debug,
        xsrf_cookies => s.xsrf_cookies,
        login_url => s.login_url.clone(),
        static_url_prefix => s.static_url_prefix.clone(),
        static_path => path(&s.static_path),
        template_path => path(&s.template_path),
        compress_response => s.compress_response,
    }
}

/// The application's templates (see `app_templates.rs`), made at the first call from its
/// settings (`template_path`, `debug`, and the application's part of the namespace) and kept
/// in its `AppData`.
pub(crate) fn app_templates(settings: &Settings) -> Rc<AppTemplates> {
    let mut cache = settings.app_data.templates.borrow_mut();
    let made = || {
        let namespace = app_namespace(settings);
        AppTemplates::new(settings.template_path.as_deref(), settings.debug, namespace)
    };
    Rc::clone(cache.get_or_insert_with(|| Rc::new(made())))
}

/// The application's part of Tornado's template namespace (see the module doc): the one a
/// WebSocket's templates see too.
fn app_namespace(settings: &Settings) -> Value {
    let routes = Arc::clone(&settings.app_data.routes);
    let static_path = settings.static_path.clone();
    let prefix = settings.static_url_prefix.clone();
    context! {
        static_url => Value::from_function(move |path: &str| {
            match static_path.as_deref().and_then(|root| crate::static_files::static_version(root, path)) {
                Some(v) => format!("{prefix}{path}?v={v}"),
                None => format!("{prefix}{path}"),
            }
        }),
        reverse_url => Value::from_function(move |name: &str, args: Rest<String>| {
            let args: Vec<&str> = args.0.iter().map(String::as_str).collect();
            routes.reverse_url(name, &args).map_err(|e| {
                minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string())
            })
        }),
        settings => settings_value(settings),
    }
}

impl From<minijinja::Error> for HttpError {
    /// A 500 naming the template and the line, with the source around the error.
    fn from(e: minijinja::Error) -> HttpError {
        let name = e.name().unwrap_or("<unknown>").to_owned();
        let line = e.line().map_or(String::new(), |l| format!(", line {l}"));
        HttpError::with_log(
            500,
            format!("template {name}{line}: {e}\n{}", e.display_debug_info()),
        )
    }
}
