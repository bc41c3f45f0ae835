//! The chat demo (`web/examples/chat`, Tornado's `demos/chat`) driven end to end with curl:
//! the page, XSRF on every POST, a long poll woken by a new message, the cursor, and the
//! open-redirect check on `next`. And long pollers that leave (FIN, RST) while they wait:
//! out of the condition's waiters at once, answered nothing, logged `499`, never `200`.

mod common;

#[allow(dead_code)]
#[path = "../examples/chat/main.rs"]
mod chat;

use std::cell::RefCell;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};
use testkit::sockets::{reset_on_close, within};

use common::{Client, JsonBody};

/// Runs curl with `args` against `addr` sharing cookie jar `jar`; returns (status, body).
fn curl(addr: SocketAddr, jar: &Path, path: &str, args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}", "-c"])
        .arg(jar)
        .arg("-b")
        .arg(jar)
        .args(args)
        .arg(format!("http://{addr}{path}"))
        .output()
        .expect("curl runs");
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_owned())
}

/// The `_xsrf` cookie's value in a curl cookie jar.
fn xsrf(jar: &Path) -> String {
    let jar = std::fs::read_to_string(jar).unwrap();
    let line = jar
        .lines()
        .find(|l| l.contains("\t_xsrf\t"))
        .expect("an _xsrf cookie");
    line.rsplit('\t').next().unwrap().to_owned()
}

fn has_curl() -> bool {
    Command::new("curl").arg("--version").output().is_ok()
}

fn jar(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("web-chat-{tag}-{}.jar", std::process::id()))
}

#[test]
fn chat_demo_end_to_end_with_curl() {
    if !has_curl() {
        println!("skipped: curl missing");
        return;
    }
    let addr = common::serve(|| chat::make_app(false));
    let jar = jar("e2e");
    let _ = std::fs::remove_file(&jar);

    let (status, page) = curl(addr, &jar, "/", &[]);
    assert_eq!(status, 200);
    assert!(page.contains("<title>Tornado Chat Demo</title>"), "{page}");
    assert!(page.contains("name=\"_xsrf\""), "{page}");
    assert!(page.contains("/static/chat.js?v="), "{page}");
    let token = xsrf(&jar);
    let (status, js) = curl(addr, &jar, "/static/chat.js", &[]);
    assert_eq!(status, 200);
    assert!(js.contains("/a/message/updates"));

    // Without the token, every POST is refused.
    let (status, _) = curl(addr, &jar, "/a/message/new", &["-d", "body=hi"]);
    assert_eq!(status, 403);

    // A long poller waits until a message arrives.
    let poll_jar = jar.clone();
    let poll_token = token.clone();
    let started = Instant::now();
    let poller = std::thread::spawn(move || {
        let data = format!("_xsrf={poll_token}");
        curl(addr, &poll_jar, "/a/message/updates", &["-d", &data])
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(!poller.is_finished(), "the poll waits for a message");
    let data = format!("_xsrf={token}&body=hello <b>you</b>");
    let (status, posted) = curl(addr, &jar, "/a/message/new", &["-d", &data]);
    assert_eq!(status, 200, "{posted}");
    let posted: serde_json::Value = serde_json::from_str(&posted).unwrap();
    assert_eq!(posted["body"], "hello <b>you</b>");
    let id = posted["id"].as_str().unwrap().to_owned();
    assert_eq!(
        posted["html"],
        format!("<div class=\"message\" id=\"m{id}\">hello &lt;b&gt;you&lt;/b&gt;</div>")
    );
    let (status, polled) = poller.join().unwrap();
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let polled: serde_json::Value = serde_json::from_str(&polled).unwrap();
    assert_eq!(polled["messages"][0]["id"], id.as_str());

    // With a cursor, only newer messages.
    let (_, second) = curl(
        addr,
        &jar,
        "/a/message/new",
        &["-d", &format!("_xsrf={token}&body=two")],
    );
    let data = format!("_xsrf={token}&cursor={id}");
    let (status, since) = curl(addr, &jar, "/a/message/updates", &["-d", &data]);
    assert_eq!(status, 200);
    let since: serde_json::Value = serde_json::from_str(&since).unwrap();
    let second: serde_json::Value = serde_json::from_str(&second).unwrap();
    assert_eq!(since["messages"].as_array().unwrap().len(), 1);
    assert_eq!(since["messages"][0]["id"], second["id"]);

    // The page shows the messages so far.
    let (_, page) = curl(addr, &jar, "/", &[]);
    assert!(
        page.contains(&format!("id=\"m{id}\">hello &lt;b&gt;you&lt;/b&gt;")),
        "{page}"
    );

    // `next` redirects to local paths only (no open redirect).
    let (status, _) = curl(
        addr,
        &jar,
        "/a/message/new",
        &["-d", &format!("_xsrf={token}&body=x&next=/")],
    );
    assert_eq!(status, 302);
    for next in ["//evil.example/", "https://evil.example/"] {
        let data = format!("_xsrf={token}&body=x&next={next}");
        let (status, _) = curl(addr, &jar, "/a/message/new", &["-d", &data]);
        assert_eq!(status, 400, "{next}");
    }
    // A message needs a body.
    let (status, _) = curl(
        addr,
        &jar,
        "/a/message/new",
        &["-d", &format!("_xsrf={token}")],
    );
    assert_eq!(status, 400);
    let _ = std::fs::remove_file(&jar);
}

/// The access log lines of this test binary.
static ACCESS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct AccessLog;

impl log::Log for AccessLog {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.target() == "web::access"
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            ACCESS.lock().unwrap().push(r.args().to_string());
        }
    }
    fn flush(&self) {}
}

fn access_lines(containing: &str) -> Vec<String> {
    let lines = ACCESS.lock().unwrap();
    lines
        .iter()
        .filter(|l| l.contains(containing))
        .cloned()
        .collect()
}

thread_local! {
    /// The server thread's message buffer (set where the app is made).
    static BUFFER: RefCell<Option<Rc<chat::MessageBuffer>>> = const { RefCell::new(None) };
}

/// The chat demo on its own thread; returns its address and a way to count the long polls
/// waiting on its condition (asked on the server's loop, through its `Remote`).
fn serve_counting() -> (SocketAddr, impl Fn() -> usize) {
    let (tx, rx) = mpsc::channel();
    let addr = common::serve(move || {
        let buffer = Rc::new(chat::MessageBuffer::default());
        BUFFER.with(|b| *b.borrow_mut() = Some(buffer.clone()));
        tx.send(reactor::Reactor::current().remote()).unwrap();
        chat::make_app_with(false, buffer)
    });
    let remote = rx.recv().unwrap();
    let waiters = move || {
        let (tx, rx) = mpsc::channel();
        remote.add_callback(move || {
            let n = BUFFER.with(|b| b.borrow().as_ref().unwrap().cond.waiters());
            tx.send(n).unwrap();
        });
        rx.recv_timeout(Duration::from_secs(5)).unwrap()
    };
    (addr, waiters)
}

/// A long poll's request, tagged in its query so that its access log line can be told apart.
fn poll_request(tag: &str, token: &str) -> Vec<u8> {
    let body = format!("_xsrf={token}");
    format!(
        "POST /a/message/updates?who={tag} HTTP/1.1\r\nHost: localhost\r\nCookie: _xsrf={token}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn a_long_poller_that_leaves_stops_waiting_at_once() {
    let _ = log::set_logger(&AccessLog);
    log::set_max_level(log::LevelFilter::Info);
    let (addr, waiters) = serve_counting();
    let page = Client::connect(addr).get("/");
    let cookie = page.header("Set-Cookie").expect("an _xsrf cookie");
    let token = cookie["_xsrf=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    let mut stay = Client::connect(addr);
    stay.send(&poll_request("stay", &token));
    let mut leavers = Vec::new();
    for tag in ["fin", "rst"] {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(&poll_request(tag, &token)).unwrap();
        leavers.push(s);
    }
    assert!(
        within(Duration::from_secs(5), || waiters() == 3).is_some(),
        "three long polls wait"
    );

    // One leaves with a FIN, then one with an RST: each is out of the waiters at once,
    // answered nothing, and logged 499.
    for (tag, s) in ["fin", "rst"].into_iter().zip(leavers) {
        let before = waiters();
        if tag == "rst" {
            reset_on_close(&s);
        }
        drop(s);
        let took = within(Duration::from_secs(5), || waiters() == before - 1);
        let took =
            took.unwrap_or_else(|| panic!("{tag}: the poll still waits ({} waiters)", waiters()));
        assert!(
            took < Duration::from_secs(1),
            "{tag}: left the waiters after {took:?}"
        );
        let logged = within(Duration::from_secs(5), || {
            !access_lines(&format!("?who={tag} ")).is_empty()
        });
        assert!(logged.is_some(), "{tag}: no access log line");
        let lines = access_lines(&format!("?who={tag} "));
        assert!(lines[0].starts_with("499 POST"), "{lines:?}");
    }
    assert_eq!(waiters(), 1);

    // The next message goes to the poller that stayed, and to nobody else.
    let mut poster = Client::connect(addr);
    let body = format!("_xsrf={token}&body=still+here");
    let cookie =
        format!("Cookie: _xsrf={token}\r\nContent-Type: application/x-www-form-urlencoded\r\n");
    let posted = poster.request("POST", "/a/message/new", &cookie, body.as_bytes());
    assert_eq!(posted.status, 200);
    let answer = stay.read_response(false);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["messages"][0]["body"], "still here");
    assert_eq!(waiters(), 0);
    std::thread::sleep(Duration::from_millis(100));
    for tag in ["fin", "rst"] {
        let lines = access_lines(&format!("?who={tag} "));
        assert_eq!(lines.len(), 1, "{tag}: {lines:?}");
        assert!(!lines[0].starts_with("200"), "{tag}: {lines:?}");
    }
    let stayed = access_lines("?who=stay ");
    assert_eq!(stayed.len(), 1, "{stayed:?}");
    assert!(stayed[0].starts_with("200 POST"), "{stayed:?}");
}
