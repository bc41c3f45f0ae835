//! The server side of WebSocket over raw sockets: `prepare` with the handshake request (a
//! cookie read, a 403, a redirect), the handshake's refusals (405, 400, 426 with
//! `Sec-WebSocket-Version`, 403 cross-origin), `select_subprotocol`, `open`'s path arguments,
//! `on_close` with the peer's code and reason (and without, when the peer just leaves), pings
//! on an interval closing a silent peer, and the bounded send queue: a client that never
//! reads holds up `write_message` instead of growing the server's memory.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use web::websocket::{websocket_url, Message, WebSocket, WebSocketHandler};
use web::{Application, Context, HttpError, Settings};

/// What the handlers saw, in order.
static EVENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// `write_message` calls completed by the flooding handler.
static FLOODED: AtomicUsize = AtomicUsize::new(0);

fn events() -> Vec<String> {
    EVENTS.lock().unwrap().clone()
}

fn wait_for_event(want: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if events().iter().any(|e| e == want) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no event {want:?} in {:?}", events());
}

#[derive(Default)]
struct Recorder;

impl WebSocketHandler for Recorder {
    async fn open(&mut self, _: &WebSocket, args: &[String]) {
        EVENTS
            .lock()
            .unwrap()
            .push(format!("open {}", args.join(",")));
    }

    async fn on_message(&mut self, ws: &WebSocket, message: Message<'_>) {
        if message == Message::Text("flood") {
            let chunk = vec![b'x'; 64 * 1024];
            for _ in 0..1000 {
                if ws.write_message(&chunk, true).await.is_err() {
                    EVENTS.lock().unwrap().push("flood refused".into());
                    return;
                }
                FLOODED.fetch_add(1, SeqCst);
            }
        }
    }

    fn on_close(&mut self, code: Option<u16>, reason: &str) {
        EVENTS
            .lock()
            .unwrap()
            .push(format!("close {code:?} {reason}"));
    }

    fn select_subprotocol(&self, offered: &[&str]) -> Option<String> {
        offered
            .iter()
            .find(|p| **p == "chat")
            .map(|p| p.to_string())
    }
}

/// Opens only for a `user` cookie, and greets that user: `prepare` sees the request.
#[derive(Default)]
struct Gate {
    user: String,
}

impl WebSocketHandler for Gate {
    async fn prepare(&mut self, cx: &mut Context<'_>) -> web::Result {
        match cx.get_cookie("user") {
            None => Err(HttpError::new(403)),
            Some("guest") => cx.redirect("/login", false),
            Some(user) => {
                self.user = user.to_owned();
                Ok(())
            }
        }
    }

    async fn open(&mut self, ws: &WebSocket, _: &[String]) {
        let _ = ws
            .write_message(format!("hello {}", self.user), false)
            .await;
    }

    async fn on_message(&mut self, _: &WebSocket, _: Message<'_>) {}
}

fn addr() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        common::serve(|| {
            let settings = Settings {
                websocket_ping_interval: Some(Duration::from_millis(200)),
                ..Settings::default()
            };
            let routes = vec![
                websocket_url::<Gate>("/ws/gate"),
                websocket_url::<Recorder>(r"/ws/(\w+)"),
            ];
            Application::with_settings(routes, settings)
        })
    })
}

/// Sends a handshake for `path` with `extra` header lines; returns the response head.
fn handshake(path: &str, extra: &str) -> (TcpStream, String) {
    let mut s = TcpStream::connect(addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            s.read(&mut byte).unwrap(),
            1,
            "closed in the head: {head:?}"
        );
        head.push(byte[0]);
    }
    (s, String::from_utf8(head).unwrap())
}

const V13: &str = "Sec-WebSocket-Version: 13\r\n";

/// A masked client frame.
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n => {
            out.push(0x80 | 126);
            out.extend((n as u16).to_be_bytes());
        }
    }
    let key = [7u8, 1, 2, 3];
    out.extend(key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// Reads one server frame: (opcode, payload).
fn read_frame(s: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    s.read_exact(&mut head).unwrap();
    assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
    let len = match head[1] & 0x7f {
        126 => {
            let mut ext = [0u8; 2];
            s.read_exact(&mut ext).unwrap();
            u16::from_be_bytes(ext) as usize
        }
        127 => {
            let mut ext = [0u8; 8];
            s.read_exact(&mut ext).unwrap();
            u64::from_be_bytes(ext) as usize
        }
        n => n as usize,
    };
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).unwrap();
    (head[0] & 0x0f, payload)
}

#[test]
fn refused_handshakes() {
    let (_, head) = handshake("/ws/a", "");
    assert!(head.starts_with("HTTP/1.1 426 "), "{head}");
    assert!(head.contains("Sec-WebSocket-Version: 13\r\n"), "{head}");
    let (_, head) = handshake(
        "/ws/a",
        "Sec-WebSocket-Version: 13\r\nOrigin: http://evil.example\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 403 "), "{head}");
    let mut s = TcpStream::connect(addr()).unwrap();
    s.write_all(
        b"POST /ws/a HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 405 "), "{text}");
    let mut s = TcpStream::connect(addr()).unwrap();
    s.write_all(b"GET /ws/a HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 400 "), "{text}");
}

#[test]
fn prepare_sees_the_request_and_may_refuse_or_answer() {
    let (mut s, head) = handshake("/ws/gate", &format!("{V13}Cookie: user=ada\r\n"));
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert_eq!(read_frame(&mut s), (1, b"hello ada".to_vec()));
    let (_, head) = handshake("/ws/gate", V13);
    assert!(head.starts_with("HTTP/1.1 403 "), "{head}");
    let (_, head) = handshake("/ws/gate", &format!("{V13}Cookie: user=guest\r\n"));
    assert!(head.starts_with("HTTP/1.1 302 "), "{head}");
    assert!(head.contains("\r\nLocation: /login\r\n"), "{head}");
}

#[test]
fn same_origin_subprotocol_and_path_args() {
    let extra = format!("{V13}Origin: http://localhost\r\nSec-WebSocket-Protocol: x, chat\r\n");
    let (_s, head) = handshake("/ws/room7", &extra);
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{head}"
    );
    assert!(
        head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
        "{head}"
    );
    assert!(head.contains("Sec-WebSocket-Protocol: chat\r\n"), "{head}");
    assert!(
        !head.contains("Sec-WebSocket-Extensions"),
        "no compression unless asked: {head}"
    );
    wait_for_event("open room7");
}

#[test]
fn on_close_gets_the_peers_code_and_the_close_is_echoed() {
    let (mut s, _) = handshake("/ws/closer", V13);
    let mut payload = 4002u16.to_be_bytes().to_vec();
    payload.extend(b"why");
    s.write_all(&frame(0x8, &payload)).unwrap();
    let (opcode, echoed) = loop {
        let f = read_frame(&mut s);
        if f.0 != 0x9 {
            break f; // pings may come first
        }
    };
    assert_eq!((opcode, &echoed[..2]), (0x8, &4002u16.to_be_bytes()[..]));
    wait_for_event("close Some(4002) why");
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "the server closes after the echo");
}

#[test]
fn a_peer_that_leaves_gets_on_close_too() {
    let (s, _) = handshake("/ws/leaver", V13);
    wait_for_event("open leaver");
    let before = events().iter().filter(|e| *e == "close None ").count();
    drop(s);
    let start = Instant::now();
    while events().iter().filter(|e| *e == "close None ").count() == before {
        assert!(start.elapsed() < Duration::from_secs(5), "{:?}", events());
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn pings_on_an_interval_and_a_silent_peer_is_closed() {
    let (mut s, _) = handshake("/ws/pinged", V13);
    let start = Instant::now();
    let (opcode, _) = read_frame(&mut s);
    assert_eq!(opcode, 0x9, "a ping");
    // Answered: the connection stays.
    s.write_all(&frame(0xA, b"")).unwrap();
    assert_eq!(read_frame(&mut s).0, 0x9, "the next ping");
    assert!(start.elapsed() >= Duration::from_millis(300));
    // Not answered: closed within the timeout (the interval).
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_client_that_never_reads_holds_up_write_message() {
    let (mut s, _) = handshake("/ws/flood", V13);
    s.write_all(&frame(0x1, b"flood")).unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    let queued = FLOODED.load(SeqCst);
    // 64 KiB each: the socket buffers and the 64 KiB queue hold a few MiB, not 64.
    assert!(
        queued > 0 && queued < 200,
        "{queued} messages of 64 KiB queued"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(FLOODED.load(SeqCst), queued, "still held up");
    drop(s);
    wait_for_event("flood refused");
}
