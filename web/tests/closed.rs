//! A client that leaves while its handler waits (Tornado's long-polling chat, ported): the
//! server notices at once, releases the fd, `Context::closed()` resolves so the long poll
//! ends, `RequestHandler::on_connection_close` runs once, what the handler still writes is
//! dropped, and the access log says `499` (nginx's "client closed request"), not 200.
//! Clients are plain blocking sockets: a FIN is `close`, an RST `SO_LINGER` 0 then `close`.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;
use testkit::sockets::{open_fds, reset_on_close, within};

use reactor::{race, Either};
use web::{url, Application, Context, RequestHandler, Result};

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.target() == "web::access"
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            LINES.lock().unwrap().push(r.args().to_string());
        }
    }
    fn flush(&self) {}
}

static STARTED: AtomicUsize = AtomicUsize::new(0);
static CONNECTION_CLOSES: AtomicUsize = AtomicUsize::new(0);
static SAW_CLOSED: AtomicUsize = AtomicUsize::new(0);
static FLUSH_ERRORS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The chat's new-message condition (never notified here: only departures end polls).
    static NEWS: Rc<reactor::Condition> = Rc::new(reactor::Condition::new());
}

/// `/poll`: the chat's long poll, ending when its client leaves.
#[derive(Default)]
struct Poll_;

impl RequestHandler for Poll_ {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        STARTED.fetch_add(1, Relaxed);
        let news = NEWS.with(|n| n.clone());
        if let Either::Right(()) = race(news.wait(), cx.closed()).await {
            SAW_CLOSED.fetch_add(1, Relaxed);
            assert!(cx.client_left());
        }
        // Written after the client left: dropped, no error.
        cx.write("news");
        if cx.flush().await.is_err() {
            FLUSH_ERRORS.fetch_add(1, Relaxed);
        }
        Ok(())
    }
    fn on_connection_close(&mut self) {
        CONNECTION_CLOSES.fetch_add(1, Relaxed);
    }
}

/// `/sleep?ms=`: waits without looking at `closed()`; its late answer goes nowhere.
#[derive(Default)]
struct Sleep;

impl RequestHandler for Sleep {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        STARTED.fetch_add(1, Relaxed);
        let ms: u64 = cx.get_argument("ms", None)?.parse().unwrap();
        reactor::sleep(Duration::from_millis(ms)).await;
        cx.write(format!("slept {ms}"));
        Ok(())
    }
    fn on_connection_close(&mut self) {
        CONNECTION_CLOSES.fetch_add(1, Relaxed);
    }
}

/// 100 clients send `GET target` and leave (RST if `reset`): all server fds are released
/// within a second and `on_connection_close` runs 100 times, by the time `done` holds.
fn hundred_leave(addr: std::net::SocketAddr, target: &str, reset: bool) {
    let before = open_fds();
    let (started, closes) = (STARTED.load(Relaxed), CONNECTION_CLOSES.load(Relaxed));
    let clients: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            write!(s, "GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
            s
        })
        .collect();
    let arrived = within(Duration::from_secs(10), || {
        STARTED.load(Relaxed) == started + 100
    });
    assert!(arrived.is_some(), "not all requests reached their handler");
    assert!(open_fds() >= before + 200);
    for s in clients {
        if reset {
            reset_on_close(&s);
        }
        drop(s);
    }
    let took = within(Duration::from_secs(5), || open_fds() <= before);
    assert!(
        took.is_some_and(|t| t < Duration::from_secs(1)),
        "{target}: server fds not released: {} open, {before} before",
        open_fds()
    );
    let all = within(Duration::from_secs(5), || {
        CONNECTION_CLOSES.load(Relaxed) == closes + 100
    });
    assert!(
        all.is_some(),
        "{target}: on_connection_close ran {} times",
        CONNECTION_CLOSES.load(Relaxed) - closes
    );
}

#[test]
fn clients_leaving_during_a_handler_wait_are_noticed_and_logged_as_gone() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Info);
    let addr =
        common::serve(|| Application::new(vec![url::<Poll_>("/poll"), url::<Sleep>("/sleep")]));

    // Long polls ended by FIN, then by RST: each handler sees `closed()` resolve.
    hundred_leave(addr, "/poll", false);
    hundred_leave(addr, "/poll", true);
    assert_eq!(SAW_CLOSED.load(Relaxed), 200);
    assert_eq!(
        FLUSH_ERRORS.load(Relaxed),
        0,
        "a flush after the close failed"
    );

    // Handlers that ignore `closed()`: the fds go at once all the same, the handlers finish
    // later (300 ms), and only then `on_connection_close` runs.
    hundred_leave(addr, "/sleep?ms=300", false);
    hundred_leave(addr, "/sleep?ms=300", true);

    let lines = LINES.lock().unwrap().clone();
    assert_eq!(lines.len(), 400, "{lines:?}");
    assert!(
        lines.iter().all(|l| l.starts_with("499 GET /")),
        "a departed client logged with another status: {:?}",
        lines.iter().find(|l| !l.starts_with("499 "))
    );

    // A client that stays gets its answer, logged as 200.
    let mut c = common::Client::connect(addr);
    assert_eq!(c.get("/sleep?ms=10").text(), "slept 10");
    let last = within(Duration::from_secs(5), || {
        LINES.lock().unwrap().len() == 401
    });
    assert!(last.is_some());
    assert!(LINES.lock().unwrap()[400].starts_with("200 GET /sleep?ms=10"));
}
