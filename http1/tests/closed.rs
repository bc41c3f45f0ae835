//! A client that leaves while its delegate waits is noticed at once: the server watches the
//! connection during `finish`, releases the fd on a FIN or RST, and calls
//! `on_connection_close`; pipelined bytes that arrive during the wait are kept and answered
//! in order. Clients are plain blocking sockets (a FIN is `close`, an RST `SO_LINGER` 0 then
//! `close`).

mod common;
use common::{connect, read_responses, start_with, Stats};
use http1::*;
use std::io::Write;
use std::net::TcpStream;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use testkit::sockets::{open_fds, reset_on_close, within};

static HEADERS: HeaderBlock = HeaderBlock::from_lines("Content-Type: text/plain\r\n");

thread_local! {
    /// What long polls wait on (never notified here: only a departure ends them).
    static NEWS: Rc<reactor::Condition> = Rc::new(reactor::Condition::new());
}

/// Counts on top of the shared `Stats`.
#[derive(Default)]
struct Counts {
    stats: Arc<Stats>,
    /// Delegates that saw `closed()` resolve while waiting.
    saw_close: AtomicUsize,
    /// Writes attempted after the close that sent something (must stay 0).
    late_writes_ok: AtomicUsize,
}

struct App(Arc<Counts>);

struct Msg {
    counts: Arc<Counts>,
    path: String,
}

impl HTTPServerConnectionDelegate for App {
    type Message = Msg;
    fn start_request(&self, _: &ConnectionContext) -> Msg {
        self.0.stats.started.fetch_add(1, Relaxed);
        Msg {
            counts: self.0.clone(),
            path: String::new(),
        }
    }
    fn on_close(&self, _: &ConnectionContext) {
        self.0.stats.server_closes.fetch_add(1, Relaxed);
    }
}

impl HTTPMessageDelegate for Msg {
    async fn headers_received(&mut self, head: &RequestHead<'_>, _: &mut HTTP1Connection<'_>) {
        self.path = head.target.to_owned();
    }

    async fn finish(&mut self, conn: &mut HTTP1Connection<'_>) {
        let body = if self.path == "/poll" {
            // A long poll: news, or the client leaving.
            let news = NEWS.with(|n| n.clone());
            if let reactor::Either::Right(()) = reactor::race(news.wait(), conn.closed()).await {
                self.counts.saw_close.fetch_add(1, Relaxed);
            }
            b"news".to_vec()
        } else if let Some(ms) = self.path.strip_prefix("/sleep?ms=") {
            let ms = ms.parse().unwrap();
            let _ = reactor::timeout(Duration::from_millis(ms), conn.closed()).await;
            format!("slept {ms}").into_bytes()
        } else {
            self.path.clone().into_bytes()
        };
        // The delegate runs on after a departure: this write goes nowhere.
        let left = conn.stream().closed();
        let r = conn
            .write_response(ResponseStartLine::OK, &HEADERS, &body)
            .await;
        if left && r.is_ok() {
            self.counts.late_writes_ok.fetch_add(1, Relaxed);
        }
        self.counts.stats.finished.fetch_add(1, Relaxed);
    }

    fn on_connection_close(&mut self) {
        self.counts.stats.connection_closes.fetch_add(1, Relaxed);
    }
}

/// The tests count this process's fds: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn start_app() -> (common::TestServer, Arc<Counts>) {
    let counts = Arc::new(Counts::default());
    let c = counts.clone();
    let srv = start_with(
        HTTP1ConnectionParameters::default(),
        move || App(c),
        counts.stats.clone(),
    );
    (srv, counts)
}

/// 100 clients start a long poll, then leave (by RST if `reset`, else FIN): every server fd
/// is released within a second, `on_connection_close` runs 100 times, no reply is sent.
fn hundred_leave(path: &str, reset: bool) {
    let _serial = serial();
    let (srv, counts) = start_app();
    let stats = &counts.stats;
    let before = open_fds();
    let clients: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = connect(srv.port);
            write!(s, "GET {path} HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
            s
        })
        .collect();
    assert!(
        within(Duration::from_secs(10), || stats.started.load(Relaxed)
            == 100)
        .is_some(),
        "not all requests arrived"
    );
    // Clients and server connections: 200 more fds.
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
        "server fds not released: {} open, {before} before",
        open_fds()
    );
    let all = within(Duration::from_secs(5), || {
        stats.connection_closes.load(Relaxed) == 100 && stats.server_closes.load(Relaxed) == 100
    });
    assert!(
        all.is_some(),
        "on_connection_close {} on_close {}",
        stats.connection_closes.load(Relaxed),
        stats.server_closes.load(Relaxed)
    );
    assert_eq!(stats.finished.load(Relaxed), 100);
    assert_eq!(counts.late_writes_ok.load(Relaxed), 0);
    if path == "/poll" {
        assert_eq!(counts.saw_close.load(Relaxed), 100);
    }
}

#[test]
fn hundred_clients_leaving_a_long_poll_by_fin_are_noticed() {
    hundred_leave("/poll", false);
}

#[test]
fn hundred_clients_leaving_a_long_poll_by_rst_are_noticed() {
    hundred_leave("/poll", true);
}

#[test]
fn hundred_clients_leaving_a_sleep_by_fin_are_noticed() {
    hundred_leave("/sleep?ms=20000", false);
}

#[test]
fn pipelined_requests_arriving_during_the_wait_are_kept_and_answered_in_order() {
    let _serial = serial();
    let (srv, counts) = start_app();
    let mut s = connect(srv.port);
    s.write_all(b"GET /sleep?ms=150 HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    // While the first waits: two more requests, the second in two pieces.
    s.write_all(b"GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /tw")
        .unwrap();
    std::thread::sleep(Duration::from_millis(20));
    s.write_all(b"o HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    let (rs, eof) = read_responses(&mut s, 3, false);
    assert!(!eof);
    let bodies: Vec<String> = rs.iter().map(|r| r.text().to_owned()).collect();
    assert_eq!(bodies, ["slept 150", "/one", "/two"]);
    assert_eq!(counts.stats.connection_closes.load(Relaxed), 0);
}

#[test]
fn prompt_answers_to_half_closed_clients_all_arrive() {
    // Request, then FIN at once, 200 times: whether the FIN is already known when the
    // connection closes after its answer is a matter of timing; the answer must arrive
    // either way (it was lost when the close probed for unread input before flushing).
    let _serial = serial();
    let (srv, _counts) = start_app();
    for i in 0..200 {
        let mut s = connect(srv.port);
        s.write_all(b"GET /now HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            .unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let (rs, _) = common::read_to_close(&mut s);
        assert_eq!(rs.len(), 1, "connection {i}: no answer");
        assert_eq!(rs[0].text(), "/now");
    }
}

#[test]
fn a_delegate_that_answers_at_once_is_not_watched() {
    // A FIN right after the request: the answer was ready before any wait, so it is sent
    // (a half-closed client still gets it).
    let _serial = serial();
    let (srv, counts) = start_app();
    let mut s = connect(srv.port);
    s.write_all(b"GET /now HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let (rs, _) = common::read_to_close(&mut s);
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].text(), "/now");
    assert_eq!(counts.stats.connection_closes.load(Relaxed), 0);
}
