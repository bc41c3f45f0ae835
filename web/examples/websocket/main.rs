//! Tornado's WebSocket chat demo (`demos/websocket/chatdemo.py`), ported: the same routes,
//! templates and JSON messages, `xsrf_cookies` on, permessage-deflate offered, the page's
//! script in plain JavaScript.
//!
//! `cargo run --release -p web --example websocket -- --port 8888`, then open
//! `http://localhost:8888/` in two browsers.
//!
//! - `GET /` renders `index.html` with the cached messages;
//! - `/chatsocket` is the WebSocket: each text message `{"body": ...}` becomes a chat
//!   `{"id", "body", "html"}` (`html` rendered from `message.html` by `ws.render_string`,
//!   Tornado's `self.render_string`, with the application's templates), kept in a cache of
//!   the last 200 and sent to every open socket. A newcomer's socket is first sent the cache
//!   (the page already shows it; the script shows each id once), which Tornado's demo leaves
//!   to the page alone. A message that is not JSON with a text `body` closes that socket with
//!   1008 (policy violation; a binary one with 1003), where Tornado's handler would raise and
//!   abort it; everyone else chats on.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use serde_json::{json, Value};
use web::websocket::{websocket_url_with, DeflateOptions, Message, WebSocket, WebSocketHandler};
use web::{url, Application, Context, HttpError, RequestHandler, Result, Settings};

/// How many messages the cache keeps.
const CACHE_SIZE: usize = 200;

/// The chat room: the open sockets and the last messages (the class attributes of Tornado's
/// `ChatSocketHandler`).
#[derive(Default)]
pub struct Room {
    waiters: RefCell<BTreeMap<u64, WebSocket>>,
    next_waiter: Cell<u64>,
    cache: RefCell<Vec<Value>>,
}

impl Room {
    /// How many sockets are open in the room.
    pub fn waiters(&self) -> usize {
        self.waiters.borrow().len()
    }

    /// Adds the last message to the cache, dropping the oldest past [`CACHE_SIZE`].
    fn update_cache(&self, chat: Value) {
        let mut cache = self.cache.borrow_mut();
        cache.push(chat);
        let extra = cache.len().saturating_sub(CACHE_SIZE);
        cache.drain(..extra);
    }

    /// Sends `chat` to every open socket, without waiting for any of them (a slow reader
    /// holds up only its own copy).
    fn send_updates(&self, chat: &Value) {
        let waiters: Vec<WebSocket> = self.waiters.borrow().values().cloned().collect();
        log::info!("sending message to {} waiters", waiters.len());
        let text: Rc<str> = chat.to_string().into();
        for waiter in waiters {
            let text = text.clone();
            reactor::spawn(async move {
                if let Err(e) = waiter.write_message(&*text, false).await {
                    log::error!("Error sending message: {e}");
                }
            });
        }
    }
}

/// `GET /`: the page with the cached messages.
#[derive(Default)]
struct MainHandler;

impl RequestHandler for MainHandler {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let messages = cx.state::<Rc<Room>>()?.cache.borrow().clone();
        cx.render("index.html", json!({ "messages": messages }))
    }
}

/// `/chatsocket`: one browser's socket in the room.
struct ChatSocketHandler {
    room: Rc<Room>,
    /// This socket's key among the room's waiters, once open.
    waiter: Option<u64>,
}

impl WebSocketHandler for ChatSocketHandler {
    fn get_compression_options(&self) -> Option<DeflateOptions> {
        // Some: compression with the default options (Tornado's `{}`).
        Some(DeflateOptions::default())
    }

    async fn open(&mut self, ws: &WebSocket, _args: &[String]) {
        let key = self.room.next_waiter.get();
        self.room.next_waiter.set(key + 1);
        self.room.waiters.borrow_mut().insert(key, ws.clone());
        self.waiter = Some(key);
        let cache = self.room.cache.borrow().clone();
        for chat in cache {
            if ws.write_message(chat.to_string(), false).await.is_err() {
                return;
            }
        }
    }

    fn on_close(&mut self, _close_code: Option<u16>, _close_reason: &str) {
        if let Some(key) = self.waiter.take() {
            self.room.waiters.borrow_mut().remove(&key);
        }
    }

    async fn on_message(&mut self, ws: &WebSocket, message: Message<'_>) {
        log::info!("got message {message:?}");
        let Message::Text(text) = message else {
            ws.close(Some(1003), "chat messages are JSON text");
            return;
        };
        let body = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|parsed| parsed.get("body")?.as_str().map(str::to_owned));
        let Some(body) = body else {
            log::warn!("malformed message {text:?}: closing the socket");
            ws.close(Some(1008), "expected JSON {\"body\": text}");
            return;
        };
        let Ok(id) = new_id() else {
            ws.close(Some(1011), "no random source");
            return;
        };
        let mut chat = json!({ "id": id, "body": body });
        match ws.render_string("message.html", json!({ "message": chat })) {
            Ok(html) => chat["html"] = html.into(),
            Err(e) => {
                log::error!("{e}");
                ws.close(Some(1011), "template error");
                return;
            }
        }
        self.room.update_cache(chat.clone());
        self.room.send_updates(&chat);
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

/// Where the demo's templates and static files are.
const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/websocket");

/// An empty room.
pub fn new_room() -> std::io::Result<Rc<Room>> {
    Ok(Rc::default())
}

/// The chat application (Tornado's `Application` subclass).
pub fn make_app() -> std::io::Result<Application> {
    make_app_with(new_room()?)
}

/// The chat application around `room` (the tests count its waiters).
pub fn make_app_with(room: Rc<Room>) -> std::io::Result<Application> {
    let (dir, templates) = (DIR, format!("{DIR}/templates"));
    let settings = Settings {
        cookie_secret: Some(web::CookieSecret::new(
            new_id().map_err(std::io::Error::other)?,
        )),
        template_path: Some(templates.into()),
        static_path: Some(format!("{dir}/static").into()),
        xsrf_cookies: true,
        ..Settings::default()
    };
    let sockets = room.clone();
    let routes = vec![
        url::<MainHandler>("/"),
        websocket_url_with("/chatsocket", move || ChatSocketHandler {
            room: sockets.clone(),
            waiter: None,
        }),
    ];
    Ok(Application::with_settings(routes, settings).with_state(room))
}

#[allow(dead_code)] // the tests include this file for `make_app` only
fn main() -> std::io::Result<()> {
    let env = env_logger::Env::default().default_filter_or("info");
    env_logger::Builder::from_env(env).init();
    let mut port = 8888;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(port),
            other => {
                eprintln!("usage: websocket [--port N] (unknown {other})");
                std::process::exit(2);
            }
        }
    }
    let _server = make_app()?.listen(port)?;
    log::info!("websocket chat demo on http://localhost:{port}/");
    reactor::Reactor::current().run();
    Ok(())
}
