//! Hostile WebSocket peers (issue 18): 10,000 idle WebSockets with server-side pings on one
//! server thread, and a client that floods pings and never reads.
//!
//! The 10,000 connections need 10,000 fds on each side, so the server runs in a child process
//! (this test binary again, told by an environment variable to serve) and the clients here.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

use web::websocket::{websocket_url, Message, WebSocket, WebSocketHandler};
use web::{Application, Settings};

#[global_allocator]
static GLOBAL: testkit::alloc::Counting = testkit::alloc::Counting;

#[derive(Default)]
struct Echo;

impl WebSocketHandler for Echo {
    async fn on_message(&mut self, ws: &WebSocket, message: Message<'_>) {
        let _ = match message {
            Message::Text(text) => ws.write_message(text, false).await,
            Message::Binary(bytes) => ws.write_message(bytes, true).await,
        };
    }
}

/// The echo application, pinging every `ping_interval` (no pong within it closes).
fn app(ping_interval: Option<Duration>) -> Application {
    let settings = Settings {
        websocket_ping_interval: ping_interval,
        ..Settings::default()
    };
    Application::with_settings(vec![websocket_url::<Echo>("/echo")], settings)
}

/// Opens a WebSocket on `/echo`.
fn open(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(
        b"GET /echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .unwrap();
    let mut head = [0u8; 256];
    let mut len = 0;
    while !head[..len].ends_with(b"\r\n\r\n") {
        assert_eq!(
            s.read(&mut head[len..len + 1]).unwrap(),
            1,
            "closed in the head"
        );
        len += 1;
    }
    assert!(head.starts_with(b"HTTP/1.1 101 "));
    s
}

/// A masked client frame (payload < 126 bytes).
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [7u8, 1, 2, 3];
    let mut out = vec![0x80 | opcode, 0x80 | payload.len() as u8];
    out.extend(key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// Reads one server frame (payload < 126 bytes): (opcode, payload).
fn read_frame(s: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    s.read_exact(&mut head).unwrap();
    assert!(head[1] < 126, "a small unmasked frame: {head:?}");
    let mut payload = vec![0u8; head[1] as usize];
    s.read_exact(&mut payload).unwrap();
    (head[0] & 0x0f, payload)
}

const CONNS: usize = 10_000;
const SERVER_ENV: &str = "WS_HOSTILE_SERVE";

/// Kills the server child when the test ends, however it ends.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits at most `timeout_ms` for pings on `conns` (`poll(2)`), answers each with a pong and
/// counts it in `pings`. The server sends nothing else: each ping is the two bytes `89 00`.
fn answer_pings(conns: &mut [TcpStream], pings: &mut [u32], timeout_ms: i32) {
    use std::os::fd::AsRawFd;
    let mut fds: Vec<libc::pollfd> = conns
        .iter()
        .map(|s| libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: `fds` is a valid array of `fds.len()` pollfd structs, alive for the call.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    assert!(n >= 0, "poll: {}", std::io::Error::last_os_error());
    let pong = frame(0xA, b"");
    for (i, pfd) in fds.iter().enumerate() {
        if pfd.revents == 0 {
            continue;
        }
        let s = &mut conns[i];
        let mut buf = [0u8; 64];
        let mut len = s.read(&mut buf).unwrap();
        assert!(
            len > 0,
            "conn {i} closed by the server after {} pings",
            pings[i]
        );
        if len % 2 == 1 {
            s.read_exact(&mut buf[len..len + 1]).unwrap();
            len += 1;
        }
        for ping in buf[..len].chunks(2) {
            assert_eq!(ping, [0x89, 0x00], "conn {i}: a ping");
            s.write_all(&pong).unwrap();
            pings[i] += 1;
        }
    }
}

fn fds_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

#[test]
fn ten_thousand_idle_websockets_answer_pings_on_one_thread() {
    if std::env::var_os(SERVER_ENV).is_some() {
        // The child: serve on one thread until killed.
        testkit::sockets::raise_nofile(CONNS as u64 + 500);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        println!("port {}", listener.local_addr().unwrap().port());
        std::io::stdout().flush().unwrap();
        let server = http1::HTTPServer::new(
            app(Some(Duration::from_secs(1))),
            http1::HTTP1ConnectionParameters::default(),
        );
        server.add_sockets(vec![listener]).unwrap();
        reactor::Reactor::current().run();
        return;
    }
    let limit = testkit::sockets::raise_nofile(CONNS as u64 + 500);
    if limit < CONNS as u64 + 500 {
        println!(
            "skipped: RLIMIT_NOFILE hard limit {limit} < {}",
            CONNS + 500
        );
        return;
    }
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "ten_thousand_idle_websockets_answer_pings_on_one_thread",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SERVER_ENV, "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = ChildGuard(child);
    let pid = child.0.id();
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let port: u16 = loop {
        let line = lines.next().expect("the server printed its port").unwrap();
        // The harness may have started the line ("test ... "): the port ends it.
        if let Some((_, port)) = line.split_once("port ") {
            break port.trim().parse().unwrap();
        }
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let fds_idle = fds_of(pid);

    // Opening takes longer than a ping interval: pings already due are answered every 500
    // connections.
    let start = Instant::now();
    let mut conns: Vec<TcpStream> = Vec::with_capacity(CONNS);
    let mut pings = vec![0u32; CONNS];
    while conns.len() < CONNS {
        conns.push(open(addr));
        if conns.len().is_multiple_of(500) {
            answer_pings(&mut conns, &mut pings, 0);
        }
    }
    let opened = start.elapsed();
    let fds_open = fds_of(pid);
    assert!(
        fds_open >= fds_idle + CONNS,
        "the server holds every connection: {fds_open} fds, {fds_idle} before"
    );

    // Three rounds of pings on every connection, each answered.
    while pings.iter().any(|&n| n < 3) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "pings answered: {} connections short of 3",
            pings.iter().filter(|&&n| n < 3).count()
        );
        answer_pings(&mut conns, &mut pings, 1000);
    }
    let pong = frame(0xA, b"");
    let pinged = start.elapsed();
    // All still open: each echoes a message (answering a ping that comes first).
    let text = frame(0x1, b"still here");
    for (i, s) in conns.iter_mut().enumerate() {
        s.write_all(&text).unwrap();
        loop {
            match read_frame(s) {
                (0x9, _) => s.write_all(&pong).unwrap(),
                (opcode, payload) => {
                    assert_eq!(
                        (opcode, &payload[..]),
                        (0x1, &b"still here"[..]),
                        "conn {i}"
                    );
                    break;
                }
            }
        }
    }
    println!(
        "{CONNS} WebSockets opened in {opened:.1?}, 3 ping rounds answered by {pinged:.1?}, \
         all echoing at {:.1?}; server fds {fds_idle} idle, {fds_open} with the connections",
        start.elapsed()
    );

    // The clients go: the server frees every fd.
    drop(conns);
    let gone = Instant::now();
    while fds_of(pid) > fds_idle + 2 {
        assert!(
            gone.elapsed() < Duration::from_secs(10),
            "{} fds still open 10 s after the clients left ({fds_idle} before)",
            fds_of(pid)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "server fds back to {} in {:.1?}",
        fds_of(pid),
        gone.elapsed()
    );
}

/// An in-process server (for the tests that count the server's heap).
fn serve_here() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let server =
                http1::HTTPServer::new(app(None), http1::HTTP1ConnectionParameters::default());
            server.add_sockets(vec![listener]).unwrap();
            testkit::alloc::count_this_thread();
            reactor::Reactor::current().run();
        });
        rx.recv().unwrap()
    })
}

#[test]
fn a_client_that_floods_pings_and_never_reads_cannot_grow_the_server() {
    let addr = serve_here();
    let mut s = open(addr);
    std::thread::sleep(Duration::from_millis(100));
    let heap_before = testkit::alloc::counted_live_bytes() as i64;
    // 125-byte pings, as many as the server takes, never reading a pong.
    let ping = frame(0x9, &[b'p'; 125]);
    let batch: Vec<u8> = ping
        .iter()
        .copied()
        .cycle()
        .take(ping.len() * 512)
        .collect();
    s.set_nonblocking(true).unwrap();
    const CAP: usize = 96 << 20;
    let (mut sent, mut blocked_since) = (0usize, None::<Instant>);
    while sent < CAP {
        match s.write(&batch[sent % batch.len()..]) {
            Ok(n) => {
                sent += n;
                blocked_since = None;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let since = *blocked_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_secs(1) {
                    break; // the server stopped reading
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("{e}"),
        }
    }
    let grown = (testkit::alloc::counted_live_bytes() as i64) - heap_before;
    println!(
        "ping flood: the server took {:.1} MiB of pings, then stopped reading; its heap grew \
         {:.0} KiB",
        sent as f64 / (1 << 20) as f64,
        grown as f64 / 1024.0
    );
    // The socket buffers on both sides hold some MiB; the server's own send buffer is bounded
    // (64 KiB plus one frame). Answering every ping would queue as many bytes as were sent.
    assert!(sent < CAP, "the server kept reading pings: {sent} bytes");
    assert!(grown < 1 << 20, "the server's heap grew {grown} bytes");
    // Everyone else is still served.
    let mut other = open(addr);
    other.write_all(&frame(0x1, b"hello")).unwrap();
    assert_eq!(read_frame(&mut other), (0x1, b"hello".to_vec()));
}
