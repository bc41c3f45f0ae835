//! The demo server: the routes of Tornado's own test applications, for acceptance runs and
//! benchmarks.
//!
//! ```text
//! cargo run --release -p web --example demo -- --port 8888
//!     [--address ADDR] [--max-header-size BYTES] [--max-body-size BYTES]
//!     [--header-timeout S] [--body-timeout S] [--idle-connection-timeout S]
//!     [--decompress-request] [--no-keep-alive] [--access-log] [--shutdown-timeout S]
//!     [--workers N] [--xheaders] [--certfile PATH --keyfile PATH [--no-tls-resumption]]
//!     [--websocket-max-message-size BYTES]
//! ```
//!
//! `--workers N` serves on N threads, each with its own loop and its own `SO_REUSEPORT`
//! listener on the port (0: one per core; 1, the default: the main thread alone).
//! `--xheaders` trusts `X-Real-IP` / `X-Forwarded-For` / `X-Forwarded-Proto` (behind a proxy
//! only; see `docs/deploying.md`).
//!
//! `--certfile PATH --keyfile PATH` (Tornado's `ssl_options` names) serve HTTPS on `--port`
//! instead of HTTP: the PEM certificate chain (leaf first) and its private key; TLS 1.3 and
//! 1.2, ALPN `http/1.1`; `/whoami` then reports `"protocol": "https"`. SIGHUP re-reads both
//! files: new connections get the new certificate at once, open connections keep theirs
//! (nginx needs `nginx -s reload` for the same); unreadable files keep the old certificate
//! (an error is logged). Plain HTTP sent to the HTTPS port is answered 400 at once.
//! Session resumption (stateless tickets) is on; `--no-tls-resumption` turns it off (every
//! connection a full handshake: for handshake benchmarks).
//!
//! Sizes are bytes, timeouts seconds (fractions allowed; 0 turns a timeout off).
//! `--websocket-max-message-size` is Tornado's 10 MiB unless given (Autobahn's cases 9.1.6 and
//! 9.2.6 echo 16 MiB messages: run them with a larger limit).
//!
//! SIGINT or SIGTERM shuts down gracefully: no new connections, idle keep-alive connections
//! closed, in-flight requests finished (within `--shutdown-timeout`, 10 s by default); the exit
//! status is 0 when everything drained in time, 1 otherwise.
//!
//! Routes:
//! - `GET|POST|HEAD /` → `Hello, World!` (text/plain)
//! - `GET|POST|PUT /echo` → the raw request body
//! - `GET|POST /args` → JSON `{name: [values...]}` of query and body arguments, keys sorted
//! - `GET /path/(.*)` → JSON `{"path": <raw request path>, "arg": <decoded group>}`
//! - `GET /status/(\d+)` → that status; body `status N` unless 1xx/204/304
//! - `GET|HEAD /flush[?ms=N]` → writes `Hello `, flushes, (waits N ms,) writes `world`
//! - `GET /sleep?ms=N` → waits N ms on the reactor's timer, then `slept N`; a client that
//!   leaves meanwhile ends the wait at once (logged as `499`)
//! - `GET /blocking?ms=N` → sleeps N ms on a helper thread (`run_in_executor`) while the loop
//!   keeps serving, then `blocked N`
//! - `GET /panic` → the handler panics (a 500; the server goes on)
//! - `GET|HEAD /static/...` → the files of the demo's own folder (`web/examples`), with
//!   ranges, conditional requests and `sendfile`
//! - `GET /healthz` → 200 JSON `{"status": "ok"}` while serving, 503 `"draining"` once a
//!   shutdown has begun (readiness is the application's business)
//! - `GET /whoami` → JSON `{"remote_ip", "protocol", "connection", "worker"}`: what the
//!   handler sees of the client (through a proxy with `--xheaders`), the connection's number
//!   and the serving thread
//! - `POST /upload` → a `multipart/form-data` body streamed and parsed as it arrives (up to
//!   2 GiB, constant memory); JSON `{"parts": [{"name", "filename", "size"}...], "total_bytes"}`
//! - `GET /ws` → a page whose script tries `/ws/echo` from the browser (`ws_echo.html`)
//! - `GET /ws/echo` → a WebSocket that echoes every text and binary message unchanged (text
//!   as text), permessage-deflate offered
//! - `GET /ws/panic` → a WebSocket whose `on_message` panics (the connection is closed with
//!   1011; the server goes on)
//! - anything else → 404

use std::collections::BTreeMap;
use std::process::exit;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http1::HTTP1ConnectionParameters;
use web::{url, Application, Context, HttpError, RequestHandler, Result, Settings};

/// `/`: the benchmark route.
#[derive(Default)]
struct Hello;

impl Hello {
    fn hello(cx: &mut Context<'_>) -> Result {
        cx.set_header("Content-Type", "text/plain")?;
        cx.write("Hello, World!");
        Ok(())
    }
}

impl RequestHandler for Hello {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        Hello::hello(cx)
    }
    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        Hello::hello(cx)
    }
    async fn head(&mut self, cx: &mut Context<'_>) -> Result {
        Hello::hello(cx)
    }
}

/// `/echo`: the body back.
#[derive(Default)]
struct Echo;

impl Echo {
    fn echo(cx: &mut Context<'_>) -> Result {
        cx.set_header("Content-Type", "application/octet-stream")?;
        let body = cx.request().body();
        cx.write(body);
        Ok(())
    }
}

impl RequestHandler for Echo {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        Echo::echo(cx)
    }
    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        Echo::echo(cx)
    }
    async fn put(&mut self, cx: &mut Context<'_>) -> Result {
        Echo::echo(cx)
    }
}

/// `/args`: every argument, as JSON.
#[derive(Default)]
struct Args;

impl Args {
    fn args(cx: &mut Context<'_>) -> Result {
        let request = cx.request();
        let mut all: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for pair in request
            .query_arguments()
            .iter()
            .chain(request.body_arguments().iter())
        {
            let (name, value) = pair?;
            all.entry(name).or_default().push(value);
        }
        cx.write_json(&all)
    }
}

impl RequestHandler for Args {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        Args::args(cx)
    }
    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        Args::args(cx)
    }
}

/// `/path/(.*)`: the raw path and the decoded group.
#[derive(Default)]
struct PathEcho;

impl RequestHandler for PathEcho {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let mut out = BTreeMap::new();
        out.insert("path", cx.request().path());
        out.insert("arg", cx.path_arg(0).unwrap_or(""));
        cx.write_json(&out)
    }
}

/// `/status/(\d+)`: any status.
#[derive(Default)]
struct Status;

impl RequestHandler for Status {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let code: u16 = cx
            .path_arg(0)
            .and_then(|s| s.parse().ok())
            .filter(|c| (100..=999).contains(c))
            .ok_or_else(|| HttpError::bad_request("status out of range"))?;
        cx.set_status(code, None)?;
        if !web::error::status_has_no_body(code) {
            cx.set_header("Content-Type", "text/plain")?;
            cx.write(format!("status {code}"));
        }
        Ok(())
    }
}

/// `/flush`: a response in two pieces.
#[derive(Default)]
struct Flush;

impl Flush {
    async fn flush(cx: &mut Context<'_>) -> Result {
        cx.set_header("Content-Type", "text/plain")?;
        let ms: u64 = cx
            .get_argument("ms", Some("0"))?
            .parse()
            .map_err(|_| HttpError::bad_request("ms must be a whole number"))?;
        cx.write("Hello ");
        cx.flush().await?;
        if ms > 0 {
            reactor::sleep(Duration::from_millis(ms)).await;
        }
        cx.write("world");
        Ok(())
    }
}

impl RequestHandler for Flush {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        Flush::flush(cx).await
    }
    async fn head(&mut self, cx: &mut Context<'_>) -> Result {
        Flush::flush(cx).await
    }
}

/// `/sleep?ms=N`: waits on the reactor's timer (or until the client leaves).
#[derive(Default)]
struct Sleep;

impl RequestHandler for Sleep {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let ms: u64 = cx
            .get_argument("ms", Some("0"))?
            .parse()
            .map_err(|_| HttpError::bad_request("ms must be a whole number"))?;
        // Ends early if the client leaves: nobody is waiting for the answer.
        if reactor::timeout(Duration::from_millis(ms), cx.closed())
            .await
            .is_ok()
        {
            return Ok(());
        }
        cx.set_header("Content-Type", "text/plain")?;
        cx.write(format!("slept {ms}"));
        Ok(())
    }
}

/// `/blocking?ms=N`: blocking work (a `thread::sleep` standing for a slow library call) run
/// on the reactor's helper pool with `run_in_executor`, so the loop keeps serving meanwhile.
#[derive(Default)]
struct Blocking;

impl RequestHandler for Blocking {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let ms: u64 = cx
            .get_argument("ms", Some("0"))?
            .parse()
            .map_err(|_| HttpError::bad_request("ms must be a whole number"))?;
        reactor::run_in_executor(move || std::thread::sleep(Duration::from_millis(ms)))
            .await
            .map_err(|e| HttpError::with_log(500, e.to_string()))?;
        cx.set_header("Content-Type", "text/plain")?;
        cx.write(format!("blocked {ms}"));
        Ok(())
    }
}

/// `/panic`: a handler bug.
#[derive(Default)]
struct Panic;

impl RequestHandler for Panic {
    async fn get(&mut self, _cx: &mut Context<'_>) -> Result {
        panic!("the /panic route panics on purpose");
    }
}

/// `/upload`: a streamed multipart upload, parsed piece by piece, never held in memory.
#[derive(Default)]
struct Upload {
    parser: Option<web::stream_multipart::MultipartStream>,
    /// (name, filename, size) of each part.
    parts: Vec<(String, Option<String>, u64)>,
    total: u64,
}

impl RequestHandler for Upload {
    const STREAM_REQUEST_BODY: bool = true;

    async fn prepare(&mut self, cx: &mut Context<'_>) -> Result {
        cx.set_max_body_size(2 << 30);
        if cx.request().method() == "POST" {
            let ctype = cx.request().headers().get("Content-Type").unwrap_or("");
            self.parser = Some(web::stream_multipart::MultipartStream::from_content_type(
                ctype,
            )?);
        }
        Ok(())
    }

    async fn data_received(&mut self, _cx: &mut Context<'_>, chunk: &[u8]) -> Result {
        use web::stream_multipart::Event;
        self.total += chunk.len() as u64;
        let Some(parser) = self.parser.as_mut() else {
            return Ok(());
        };
        parser.feed(chunk);
        while let Some(event) = parser.next_event()? {
            match event {
                Event::Part(p) => self.parts.push((p.name, p.filename, 0)),
                Event::Data(d) => {
                    if let Some(last) = self.parts.last_mut() {
                        last.2 += d.len() as u64;
                    }
                }
                Event::PartEnd => {}
            }
        }
        Ok(())
    }

    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        match &self.parser {
            Some(parser) => parser.finish()?,
            None => return Err(HttpError::new(400)),
        }
        let parts: Vec<_> = self
            .parts
            .iter()
            .map(|(name, filename, size)| {
                serde_json::json!({"name": name, "filename": filename, "size": size})
            })
            .collect();
        cx.write_json(&serde_json::json!({"parts": parts, "total_bytes": self.total}))
    }
}

/// Set when the shutdown begins (from the main thread, read by every worker's `/healthz`).
static DRAINING: AtomicBool = AtomicBool::new(false);

/// `/healthz`: readiness. A load balancer stops sending new requests once it says 503.
#[derive(Default)]
struct Healthz;

impl RequestHandler for Healthz {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let draining = DRAINING.load(Ordering::Relaxed);
        if draining {
            cx.set_status(503, None)?;
        }
        cx.set_header("Cache-Control", "no-store")?;
        let status = if draining { "draining" } else { "ok" };
        cx.write_json(&serde_json::json!({ "status": status }))
    }
}

/// `/whoami`: the client as the handler sees it (with `--xheaders`, as the proxy says).
#[derive(Default)]
struct WhoAmI;

impl RequestHandler for WhoAmI {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let r = cx.request();
        let out = serde_json::json!({
            "remote_ip": r.remote_ip().map(|ip| ip.to_string()),
            "protocol": r.protocol(),
            "connection": r.connection_id(),
            "worker": std::thread::current().name().unwrap_or("?"),
        });
        cx.write_json(&out)
    }
}

/// `/ws/echo`: a WebSocket echoing each message as it came (text as text).
#[derive(Default)]
struct WsEcho;

impl web::websocket::WebSocketHandler for WsEcho {
    async fn on_message(
        &mut self,
        ws: &web::websocket::WebSocket,
        message: web::websocket::Message<'_>,
    ) {
        let _ = match message {
            web::websocket::Message::Text(text) => ws.write_message(text, false).await,
            web::websocket::Message::Binary(bytes) => ws.write_message(bytes, true).await,
        };
    }

    fn get_compression_options(&self) -> Option<web::websocket::DeflateOptions> {
        Some(web::websocket::DeflateOptions::default())
    }
}

/// `GET /ws`: a page whose script opens `/ws/echo` on the same origin (`wss://` when the page
/// came over `https://`), sends one message and shows the echo (`ws_echo.html`).
#[derive(Default)]
struct WsPage;

impl RequestHandler for WsPage {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        cx.set_header("Content-Type", "text/html; charset=UTF-8")?;
        cx.write(include_str!("ws_echo.html"));
        Ok(())
    }
}

/// `/ws/panic`: a WebSocket whose `on_message` panics.
#[derive(Default)]
struct WsPanic;

impl web::websocket::WebSocketHandler for WsPanic {
    async fn on_message(&mut self, _: &web::websocket::WebSocket, _: web::websocket::Message<'_>) {
        panic!("on_message panics on purpose");
    }
}

/// The demo's routes (also used by the tests).
pub fn routes() -> Vec<web::UrlSpec<web::HandlerTarget>> {
    vec![
        url::<Hello>("/"),
        url::<Echo>("/echo"),
        url::<Args>("/args"),
        url::<PathEcho>("/path/(.*)"),
        url::<Status>(r"/status/(\d+)"),
        url::<Flush>("/flush"),
        url::<Sleep>("/sleep"),
        url::<Blocking>("/blocking"),
        url::<Panic>("/panic"),
        web::StaticFileHandler::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples"))
            .route("/static/(.*)"),
        url::<Upload>("/upload"),
        url::<Healthz>("/healthz"),
        url::<WhoAmI>("/whoami"),
        url::<WsPage>("/ws"),
        web::websocket::websocket_url::<WsEcho>("/ws/echo"),
        web::websocket::websocket_url::<WsPanic>("/ws/panic"),
    ]
}

fn usage(msg: &str) -> ! {
    eprintln!("demo: {msg}");
    eprintln!(
        "usage: demo --port N [--address A] [--max-header-size B] [--max-body-size B] \
         [--header-timeout S] [--body-timeout S] [--idle-connection-timeout S] \
         [--decompress-request] [--no-keep-alive] [--access-log] [--shutdown-timeout S] \
         [--workers N] [--xheaders] [--certfile PATH --keyfile PATH [--no-tls-resumption]]\n\
         [--websocket-max-message-size B]"
    );
    exit(2);
}

/// The demo's entry point (`pub` so that the `tests` crate can build it as a binary).
pub fn main() {
    let mut port: u16 = 8888;
    let mut shutdown_timeout = Duration::from_secs(10);
    let mut address: Option<String> = None;
    let mut access = false;
    let mut workers: usize = 1;
    let mut certfile: Option<String> = None;
    let mut keyfile: Option<String> = None;
    let mut resumption = true;
    let mut params = HTTP1ConnectionParameters::default();
    let mut ws_max_message_size = web::websocket::DEFAULT_MAX_MESSAGE_SIZE;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| usage(&format!("{name} needs a value")))
        };
        let seconds = |v: String| -> Option<Duration> {
            let s: f64 = v.parse().unwrap_or_else(|_| usage("bad number of seconds"));
            (s > 0.0).then(|| Duration::from_secs_f64(s))
        };
        let bytes =
            |v: String| -> u64 { v.parse().unwrap_or_else(|_| usage("bad number of bytes")) };
        match flag.as_str() {
            "--port" => {
                port = value("--port")
                    .parse()
                    .unwrap_or_else(|_| usage("bad port"))
            }
            "--address" => address = Some(value("--address")),
            "--max-header-size" => params.max_header_size = bytes(value(&flag)) as usize,
            "--max-body-size" => params.max_body_size = bytes(value(&flag)),
            "--header-timeout" => params.header_timeout = seconds(value(&flag)),
            "--body-timeout" => params.body_timeout = seconds(value(&flag)),
            "--idle-connection-timeout" => params.idle_connection_timeout = seconds(value(&flag)),
            "--decompress-request" => params.decompress = true,
            "--no-keep-alive" => params.no_keep_alive = true,
            "--xheaders" => params.xheaders = true,
            "--websocket-max-message-size" => ws_max_message_size = bytes(value(&flag)) as usize,
            "--workers" => {
                workers = value(&flag)
                    .parse()
                    .unwrap_or_else(|_| usage("bad number of workers"))
            }
            "--certfile" => certfile = Some(value(&flag)),
            "--keyfile" => keyfile = Some(value(&flag)),
            "--no-tls-resumption" => resumption = false,
            "--access-log" => access = true,
            "--shutdown-timeout" => {
                shutdown_timeout = seconds(value(&flag)).unwrap_or(Duration::ZERO)
            }
            "-h" | "--help" => usage("help"),
            other => usage(&format!("unknown option {other}")),
        }
    }
    let tls = match (certfile, keyfile) {
        (Some(cert), Some(key)) => Some(match resumption {
            true => web::TlsServerConfig::new(cert, key),
            false => web::TlsServerConfig::new(cert, key).without_resumption(),
        }),
        (None, None) => None,
        _ => usage("--certfile and --keyfile go together"),
    };
    // `RUST_LOG` chooses what is logged (env_logger); by default warnings and errors, and the
    // access log in Tornado's format (`200 GET / (127.0.0.1) 0.52ms`) only with `--access-log`
    // (off, it costs a request nothing: not even the clock read for its time).
    let default_filter = if access {
        "warn,web::access=info"
    } else {
        "warn,web::access=off"
    };
    let env = env_logger::Env::default().default_filter_or(default_filter);
    let _ = env_logger::Builder::from_env(env).try_init();
    let workers = web::workers(workers)
        .shutdown_timeout(shutdown_timeout)
        .on_shutdown(|signal| {
            DRAINING.store(true, Ordering::Relaxed);
            match signal {
                Some(signal) => eprintln!("demo: signal {signal}: shutting down"),
                None => eprintln!("demo: shutting down"),
            }
        })
        .listen(port, address.as_deref());
    let workers = match workers {
        Ok(w) => w,
        Err(e) => {
            eprintln!("demo: cannot listen on port {port}: {e}");
            exit(1);
        }
    };
    let port = workers.local_addrs().first().map_or(port, |a| a.port());
    eprintln!(
        "demo listening on {}://{}:{port} ({} worker{})",
        if tls.is_some() { "https" } else { "http" },
        address.as_deref().unwrap_or("*"),
        workers.count(),
        if workers.count() == 1 { "" } else { "s" }
    );
    // Each worker builds its own application (handlers need not be `Send`).
    let app = |_worker| {
        let settings = Settings {
            http: params.clone(),
            websocket_max_message_size: ws_max_message_size,
            ..Settings::default()
        };
        Application::with_settings(routes(), settings)
    };
    let exit_status = match tls {
        Some(tls) => web::serve_workers_tls(workers, tls, app),
        None => web::serve_workers(workers, app),
    };
    let exit_status = match exit_status {
        Ok(s) => s,
        Err(e) => {
            eprintln!("demo: {e}");
            exit(1);
        }
    };
    eprintln!(
        "demo: {} connections were open at shutdown",
        exit_status.open_at_shutdown
    );
    if !exit_status.drained {
        eprintln!("demo: connections still open after {shutdown_timeout:?}");
        exit(1);
    }
    eprintln!("demo: all connections closed");
}
