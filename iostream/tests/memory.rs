//! Memory, measured with a counting global allocator:
//! * idle streams: 10,000 TCP connections to an echo server, each after one request and
//!   response, all waiting in `read_until`; the heap they hold (buffers, stream state, reactor
//!   slot, the waiting task) must be at most 2 KiB each;
//! * the keep-alive path (`fill_until` / `buffered` / `consume` / `write_buffer` / `flush`)
//!   allocates nothing per request.
//!
//! A test binary of its own: it installs a global allocator and raises `RLIMIT_NOFILE`.

use std::cell::Cell;
use std::io::Write;
use std::net::TcpStream;
use std::rc::Rc;
use std::time::Duration;

use iostream::{Address, IOStream, TcpServer};
use reactor::Reactor;

/// The counters are process-wide: the tests here run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[global_allocator]
static GLOBAL: testkit::alloc::Counting = testkit::alloc::Counting;

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Raises the fd limit towards `want` (as far as the hard limit allows); returns the limit.
fn raise_nofile(want: u64) -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `r` is a valid rlimit to fill / read.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut r);
        let raised = libc::rlimit {
            rlim_cur: want.max(r.rlim_cur),
            rlim_max: want.max(r.rlim_max),
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
            return raised.rlim_cur;
        }
        r.rlim_cur = r.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &r);
    }
    r.rlim_cur
}

const STREAMS: usize = 10_000;
const REQUEST: &[u8] =
    b"GET /index.html HTTP/1.1 Host: example.com User-Agent: idle-test/1.0 Accept: */*\n";

/// Client mode (this binary re-run as a child process, so that the clients' fds do not count
/// against the server's fd limit): open the connections, send one request on each, then hold
/// them until stdin closes.
fn client_main(port: u16, n: usize) {
    use std::io::Read;
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.write_all(REQUEST).unwrap();
        clients.push(c);
    }
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

#[test]
fn ten_thousand_idle_streams_fit_in_two_kib_each() {
    if let Ok(port) = std::env::var("IOSTREAM_IDLE_CLIENT_PORT") {
        let n = std::env::var("IOSTREAM_IDLE_CLIENTS")
            .unwrap()
            .parse()
            .unwrap();
        return client_main(port.parse().unwrap(), n);
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    // 10,000 unless the fd limit (hard limit included) is lower on this machine.
    let n = STREAMS.min(raise_nofile(STREAMS as u64 + 256).saturating_sub(256) as usize);
    assert!(n >= 1000, "fd limit too low to measure");
    Reactor::new().unwrap().block_on(async move {
        let echoed = Rc::new(Cell::new(0usize));
        let server = {
            let echoed = echoed.clone();
            TcpServer::new(move |stream: IOStream, _: Address| {
                let echoed = echoed.clone();
                reactor::spawn(async move {
                    while let Ok(line) = stream.read_until(b"\n", Some(64 * 1024)).await {
                        if stream.write(&line).await.is_err() {
                            break;
                        }
                        echoed.set(echoed.get() + 1);
                    }
                });
            })
        };
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        // Warm up (thread-local scratch, the first slab pages) before the baseline.
        reactor::sleep(Duration::from_millis(1)).await;
        let (heap0, rss0) = (testkit::alloc::live_bytes(), rss_bytes());

        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "ten_thousand_idle_streams_fit_in_two_kib_each",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("IOSTREAM_IDLE_CLIENT_PORT", port.to_string())
            .env("IOSTREAM_IDLE_CLIENTS", n.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..30_000 {
            if echoed.get() >= n {
                break;
            }
            reactor::sleep(Duration::from_millis(2)).await;
        }
        assert_eq!(echoed.get(), n, "every client got its echo");
        // Let every stream reach its idle wait.
        reactor::sleep(Duration::from_millis(20)).await;
        let (heap1, rss1) = (testkit::alloc::live_bytes(), rss_bytes());
        let heap_per = (heap1 - heap0) as f64 / n as f64;
        let rss_per = rss1.saturating_sub(rss0) as f64 / n as f64;
        println!(
            "idle streams: {n}; heap held per idle stream: {heap_per:.0} bytes; \
             RSS growth per idle stream (incl. allocator overhead): {rss_per:.0} bytes"
        );
        drop(child.stdin.take());
        let _ = child.wait();
        assert!(heap_per <= 2048.0, "{heap_per} bytes per idle stream");
        server.stop();
    });
}

/// Allocations made so far by this thread (the reactor runs on it).
fn allocs() -> usize {
    testkit::alloc::thread_allocations() as usize
}

#[test]
fn keep_alive_path_allocates_nothing_per_request() {
    use std::os::unix::net::UnixStream;
    const REQ: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";
    const RESP: &[u8] =
        b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!";
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    Reactor::new().unwrap().block_on(async {
        let (a, mut peer) = UnixStream::pair().unwrap();
        let s = IOStream::from_unix(a).unwrap();
        let mut sink = [0u8; 4096];
        use std::io::Read;
        // One request and response, as http1's keep-alive loop does them.
        let round_trip = |s: &IOStream| {
            let s = s.clone();
            async move {
                let end = s.fill_until(b"\r\n\r\n", 8192).await.unwrap();
                assert_eq!(&s.buffered()[..end], REQ);
                s.consume(end);
                s.write_buffer().extend_from_slice(RESP);
                s.flush().await.unwrap();
            }
        };
        // Warm up: buffers reach their steady size.
        for _ in 0..10 {
            peer.write_all(REQ).unwrap();
            round_trip(&s).await;
            peer.read_exact(&mut sink[..RESP.len()]).unwrap();
        }
        let before = allocs();
        for _ in 0..1000 {
            peer.write_all(REQ).unwrap();
            let s2 = s.clone(); // the future of round_trip holds a clone: no allocation
            let end = s2.fill_until(b"\r\n\r\n", 8192).await.unwrap();
            assert_eq!(&s2.buffered()[..end], REQ);
            s2.consume(end);
            s2.write_buffer().extend_from_slice(RESP);
            s2.flush().await.unwrap();
            peer.read_exact(&mut sink[..RESP.len()]).unwrap();
        }
        let count = allocs() - before; // read before println!, which may allocate
        println!(
            "allocations per keep-alive request (inline path): {}",
            count as f64 / 1000.0
        );
        assert_eq!(count, 0);

        // Pipelined requests: two per read, the second found in the buffer with no syscall.
        // One warm-up round first: the write buffer grows once to hold two responses.
        let mut before = allocs();
        for round in 0..=500 {
            if round == 1 {
                before = allocs();
            }
            peer.write_all(&[REQ, REQ].concat()[..]).unwrap_or(());
            for _ in 0..2 {
                let end = s.fill_until(b"\r\n\r\n", 8192).await.unwrap();
                s.consume(end);
                s.write_buffer().extend_from_slice(RESP);
            }
            s.flush().await.unwrap();
            peer.read_exact(&mut sink[..2 * RESP.len()]).unwrap();
        }
        // (The concat above is the test's own allocation: one per round.)
        assert_eq!(allocs() - before, 500);
    });
}

#[test]
fn ping_pong_through_the_reactor_allocates_nothing_per_request() {
    // Both ends on the loop: every request makes the server wait for readability (EAGAIN, the
    // reactor, the wake), which must not allocate either.
    use std::os::unix::net::UnixStream;
    const REQ: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    const RESP: &[u8] = b"HTTP/1.1 204 No Content\r\n\r\n";
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    Reactor::new().unwrap().block_on(async {
        let (a, b) = UnixStream::pair().unwrap();
        let server = IOStream::from_unix(a).unwrap();
        let client = IOStream::from_unix(b).unwrap();
        let serve = reactor::spawn(async move {
            while let Ok(end) = server.fill_until(b"\r\n\r\n", 8192).await {
                server.consume(end);
                server.write_buffer().extend_from_slice(RESP);
                if server.flush().await.is_err() {
                    break;
                }
            }
        });
        let mut measured = 0;
        for i in 0..1100 {
            if i == 100 {
                measured = allocs();
            }
            client.write(REQ).await.unwrap();
            let end = client.fill_until(b"\r\n\r\n", 8192).await.unwrap();
            client.consume(end);
        }
        let per_request = (allocs() - measured) as f64 / 1000.0;
        println!("allocations per request through the reactor: {per_request}");
        client.close();
        serve.await.unwrap();
        assert_eq!(per_request, 0.0);
    });
}
