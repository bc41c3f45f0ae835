//! Tornado's long-polling chat demo (`demos/chat/chatdemo.py`), ported: the same routes, form
//! fields and templates, `xsrf_cookies` on, the page's script in plain JavaScript.
//!
//! `cargo run --release -p web --example chat -- --port 8888 [--debug]`, then open
//! `http://localhost:8888/` in two browsers.
//!
//! - `GET /` renders `index.html` with the messages so far;
//! - `POST /a/message/new` (`body`, optional `next`) adds a message, its HTML rendered from
//!   `message.html`, and answers it as JSON (or redirects to `next`, a local path only);
//! - `POST /a/message/updates` (optional `cursor`, the id of the last message seen) answers
//!   the newer messages, waiting on a `Condition` until there are some (a long poll). A
//!   poller whose client leaves stops waiting at once and answers nothing (Tornado cancels
//!   the wait in `on_connection_close`; here the wait races `cx.closed()`).

use std::cell::RefCell;
use std::rc::Rc;

use reactor::{race, Condition, Either};
use serde_json::{json, Value};
use web::{url, Application, Context, HttpError, RequestHandler, Result, Settings};

/// The last messages, and a condition notified when one is added (Tornado's `MessageBuffer`).
#[derive(Default)]
pub struct MessageBuffer {
    /// Notified whenever the message cache is updated; its waiters are the long polls.
    pub cond: Condition,
    cache: RefCell<Vec<Value>>,
}

/// How many messages the buffer keeps.
const CACHE_SIZE: usize = 200;

impl MessageBuffer {
    /// The messages after the one whose id is `cursor` (all of them if it is not found).
    fn messages_since(&self, cursor: Option<&str>) -> Vec<Value> {
        let cache = self.cache.borrow();
        let newer = cache
            .iter()
            .rev()
            .take_while(|m| cursor.is_none() || m["id"].as_str() != cursor);
        let mut messages: Vec<Value> = newer.cloned().collect();
        messages.reverse();
        messages
    }

    fn add_message(&self, message: Value) {
        let mut cache = self.cache.borrow_mut();
        cache.push(message);
        let extra = cache.len().saturating_sub(CACHE_SIZE);
        cache.drain(..extra);
        drop(cache);
        self.cond.notify_all();
    }
}

/// `GET /`: the page with the messages so far.
#[derive(Default)]
struct MainHandler;

impl RequestHandler for MainHandler {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let messages = cx.state::<Rc<MessageBuffer>>()?.cache.borrow().clone();
        cx.render("index.html", json!({ "messages": messages }))
    }
}

/// `POST /a/message/new`: posts a new message to the chat room.
#[derive(Default)]
struct MessageNewHandler;

impl RequestHandler for MessageNewHandler {
    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        let mut message = json!({ "id": new_id()?, "body": cx.required_argument("body")? });
        let html = cx.render_string("message.html", json!({ "message": message }))?;
        message["html"] = html.into();
        if let Some(next) = cx.argument("next")? {
            // Absolute URLs are not allowed: that would be an open redirect (CWE-601).
            if next.starts_with("//") || !next.starts_with('/') {
                return Err(HttpError::new(400));
            }
            cx.redirect(next, false)?;
        } else {
            cx.write_json(&message)?;
        }
        cx.state::<Rc<MessageBuffer>>()?.add_message(message);
        Ok(())
    }
}

/// `POST /a/message/updates`: a long poll for new messages; answers once there are some.
#[derive(Default)]
struct MessageUpdatesHandler;

impl RequestHandler for MessageUpdatesHandler {
    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        let cursor = cx.argument("cursor")?;
        let buffer = cx.state::<Rc<MessageBuffer>>()?;
        let mut messages = buffer.messages_since(cursor);
        while messages.is_empty() {
            // Tornado saves the wait's future to cancel it in `on_connection_close`. Here the
            // wait races the client's departure; the loser is dropped, so a poller that left
            // is out of the condition's waiters at once and never gets the next message.
            if let Either::Right(()) = race(buffer.cond.wait(), cx.closed()).await {
                return Ok(());
            }
            messages = buffer.messages_since(cursor);
        }
        if cx.client_left() {
            return Ok(());
        }
        cx.write_json(&json!({ "messages": messages }))
    }
}

/// A random message id, as Tornado's `str(uuid.uuid4())`: a version 4 UUID.
fn new_id() -> Result<String> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).map_err(HttpError::internal)?;
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let hex: String = b.iter().map(|b| format!("{b:02x}")).collect();
    let parts = [
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..],
    ];
    Ok(parts.join("-"))
}

/// The chat application (`debug` as Tornado's `--debug`).
pub fn make_app(debug: bool) -> Application {
    make_app_with(debug, Rc::default())
}

/// The chat application around `buffer` (the tests watch its condition's waiters).
pub fn make_app_with(debug: bool, buffer: Rc<MessageBuffer>) -> Application {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/chat");
    let settings = Settings {
        cookie_secret: Some(web::CookieSecret::new(random_secret())),
        template_path: Some(format!("{dir}/templates").into()),
        static_path: Some(format!("{dir}/static").into()),
        xsrf_cookies: true,
        debug,
        ..Settings::default()
    };
    let routes = vec![
        url::<MainHandler>("/"),
        url::<MessageNewHandler>("/a/message/new"),
        url::<MessageUpdatesHandler>("/a/message/updates"),
    ];
    Application::with_settings(routes, settings).with_state(buffer)
}

/// A fresh cookie secret per run (Tornado's demo leaves a placeholder to replace).
fn random_secret() -> String {
    new_id().unwrap_or_else(|_| "chat demo secret".to_owned())
}

#[allow(dead_code)] // the tests include this file for `make_app` only
fn main() -> std::io::Result<()> {
    let env = env_logger::Env::default().default_filter_or("info");
    env_logger::Builder::from_env(env).init();
    let mut port = 8888;
    let mut debug = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(port),
            "--debug" => debug = true,
            other => {
                eprintln!("usage: chat [--port N] [--debug] (unknown {other})");
                std::process::exit(2);
            }
        }
    }
    let app = make_app(debug);
    let _server = app.listen(port)?;
    log::info!("chat demo on http://localhost:{port}/");
    reactor::Reactor::current().run();
    Ok(())
}
