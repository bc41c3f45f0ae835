//! Memory of TLS streams, measured with a counting global allocator:
//! * idle TLS connections (handshake done, one request and response, then waiting in
//!   `read_until`): the heap each holds on the server side, everything included (rustls's
//!   connection state, this crate's stream state, the reactor's slot, the waiting task);
//!   the clients are Python's `ssl` in another process, so that only the server is counted;
//! * a peer that never reads: the heap stays bounded by the write buffer limit plus rustls's
//!   [`TLS_BUFFER_LIMIT`], however much the server tries to write.
//!
//! A test binary of its own: it installs a global allocator.

use std::cell::Cell;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::Duration;

use iostream::{
    IOStream, StreamError, TcpClient, TcpServer, TlsAcceptor, TlsConnector, TlsServerConfig,
    TLS_BUFFER_LIMIT,
};
use reactor::Reactor;
use testkit::certs;

/// The counters are process-wide: the tests here run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[global_allocator]
static GLOBAL: testkit::alloc::Counting = testkit::alloc::Counting;

const IDLE: usize = 200;

/// Opens `n` TLS connections, sends a line on each and reads it back, prints `ready`, then
/// holds them until stdin closes.
const PYTHON_CLIENTS: &str = r#"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
conns = []
for i in range(int(sys.argv[3])):
    raw = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    s.sendall(b"GET /index.html HTTP/1.1 Host: example.com Accept: */*\n")
    got = b""
    while not got.endswith(b"\n"):
        got += s.recv(4096)
    conns.append(s)
print("ready", flush=True)
sys.stdin.read()
"#;

#[test]
fn idle_tls_connections_heap_per_connection() {
    let Some(c) = certs::make() else { return };
    if !certs::have("python3", "--version") {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (cert, key) = c.localhost();
    Reactor::new().unwrap().block_on(async {
        let acceptor = TlsAcceptor::new(TlsServerConfig::new(cert, key)).unwrap();
        let echoed = Rc::new(Cell::new(0usize));
        let counted = echoed.clone();
        let server = TcpServer::with_tls(
            move |stream: IOStream, _| {
                let counted = counted.clone();
                reactor::spawn(async move {
                    while let Ok(line) = stream.read_until(b"\n", Some(64 * 1024)).await {
                        if stream.write(&line).await.is_err() {
                            break;
                        }
                        counted.set(counted.get() + 1);
                    }
                });
            },
            acceptor,
        );
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        reactor::sleep(Duration::from_millis(1)).await;
        let before = testkit::alloc::live_bytes();
        let mut python = Command::new("python3")
            .args(["-c", PYTHON_CLIENTS])
            .arg(c.ca())
            .arg(port.to_string())
            .arg(IDLE.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut waited = 0;
        while echoed.get() < IDLE {
            reactor::sleep(Duration::from_millis(10)).await;
            waited += 1;
            assert!(waited < 3000, "only {} of {IDLE} echoed", echoed.get());
        }
        // Let the last responses leave and every stream go back to waiting.
        reactor::sleep(Duration::from_millis(200)).await;
        let after = testkit::alloc::live_bytes();
        let per = (after - before) as f64 / IDLE as f64;
        println!(
            "idle TLS connection (TLS 1.3, after one request; server side, all included): \
             {per:.0} bytes of heap each ({IDLE} connections)"
        );
        let mut ready = String::new();
        BufReader::new(python.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        assert_eq!(ready.trim(), "ready");
        drop(python.stdin.take());
        python.wait().unwrap();
        // rustls's connection state is most of it; this bound catches a buffer kept by mistake
        // (a 16 KiB record buffer or a 64 KiB chunk per connection would exceed it).
        assert!(
            per < 12.0 * 1024.0,
            "{per:.0} bytes per idle TLS connection"
        );
        server.stop();
    });
}

#[test]
fn a_peer_that_never_reads_cannot_grow_memory() {
    let Some(c) = certs::make() else { return };
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (cert, key) = c.localhost();
    let connector = TlsConnector::with_ca_file(c.ca()).unwrap();
    const LIMIT: usize = 256 * 1024;
    Reactor::new().unwrap().block_on(async {
        let acceptor = TlsAcceptor::new(TlsServerConfig::new(cert, key)).unwrap();
        let peak = Rc::new(Cell::new(0isize));
        let result = Rc::new(Cell::new(None));
        let (seen_peak, seen_result) = (peak.clone(), result.clone());
        let server = TcpServer::with_tls(
            move |stream: IOStream, _| {
                let (peak, result) = (seen_peak.clone(), seen_result.clone());
                reactor::spawn(async move {
                    stream.set_max_write_buffer_size(LIMIT);
                    let _ = stream.read_until(b"\n", None).await;
                    let base = testkit::alloc::live_bytes();
                    let piece = vec![b'x'; 32 * 1024];
                    // Try to send 64 MiB to a peer that reads nothing.
                    for _ in 0..2048 {
                        let queued =
                            reactor::timeout(Duration::from_millis(20), stream.write(&piece)).await;
                        peak.set(peak.get().max(testkit::alloc::live_bytes() - base));
                        match queued {
                            Ok(Ok(())) => {}
                            Ok(Err(StreamError::BufferFull)) => {
                                result.set(Some(true));
                                return;
                            }
                            Ok(Err(_)) => break,
                            Err(_) => {} // still blocked: keep queueing
                        }
                    }
                    result.set(Some(false));
                });
            },
            acceptor,
        );
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let client = TcpClient::connect_tls("localhost", port, &connector, None)
            .await
            .unwrap();
        client.write(b"start\n").await.unwrap();
        while result.get().is_none() {
            reactor::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(result.get(), Some(true), "the write queue never filled");
        let bound = (LIMIT + TLS_BUFFER_LIMIT + 64 * 1024) as isize;
        println!(
            "non-reading peer: heap grew by at most {} KiB (bound {} KiB)",
            peak.get() / 1024,
            bound / 1024
        );
        assert!(peak.get() <= bound, "{} > {bound}", peak.get());
        drop(client);
        server.stop();
    });
}
