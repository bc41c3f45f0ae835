//! A client pipelines requests without reading the responses: the server stops reading once
//! its buffer of unsent responses is full, so its memory stays under a fixed bound however
//! much the client sends; other clients are still served; and when the client finally reads,
//! every request it sent is answered, in order.

use std::io::{ErrorKind, Write};
use std::time::{Duration, Instant};

use tests::{Client, Server};

const MEMSERVER: &str = env!("CARGO_BIN_EXE_memserver");
/// The bound asserted on the server's heap growth during the flood.
const BOUND: i64 = 1024 * 1024;

#[test]
fn pipelining_flood_without_reading_is_bounded() {
    let mut server = Server::start(MEMSERVER, &[]);
    let addr = server.addr;
    for _ in 0..20 {
        tests::get(addr, "/").unwrap();
    }
    let before = server.heap();

    const REQ: &[u8] = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n";
    let batch: Vec<u8> = REQ.repeat(1000);
    let mut flood = Client::connect(addr).unwrap();
    flood.stream.set_nonblocking(true).unwrap();
    let mut sent: usize = 0;
    let mut peak = before;
    let t = Instant::now();
    let mut stalled_since: Option<Instant> = None;
    let mut samples = 0;
    // Write until the server has stopped reading for 500 ms (or 64 MiB went in).
    while sent < 64 << 20 {
        let off = sent % batch.len();
        match flood.stream.write(&batch[off..]) {
            Ok(n) => {
                sent += n;
                stalled_since = None;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let since = *stalled_since.get_or_insert_with(Instant::now);
                // While the flood connection is stuck, others are served, and we sample.
                let h = server.heap();
                samples += 1;
                if h.live > peak.live {
                    peak = h;
                }
                if since.elapsed() > Duration::from_millis(500) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("flood write failed: {e}"),
        }
    }
    let flood_time = t.elapsed();
    let growth = peak.live - before.live;
    server.assert_alive();

    // Finish the last partial request, then read every response.
    flood.stream.set_nonblocking(false).unwrap();
    let whole = sent.div_ceil(REQ.len());
    let rest = whole * REQ.len() - sent;
    let writer = {
        let mut s = flood.stream.try_clone().unwrap();
        let tail = REQ[REQ.len() - rest..].to_vec();
        std::thread::spawn(move || s.write_all(&tail))
    };
    let t = Instant::now();
    for i in 0..whole {
        let r = flood
            .read_response()
            .unwrap_or_else(|e| panic!("response {i} of {whole}: {e}"));
        assert_eq!((r.status, r.body.as_slice()), (200, &b"Hello, World!"[..]));
    }
    writer.join().unwrap().unwrap();
    let read_time = t.elapsed();
    tests::report(&format!(
        "pipelining flood: {} requests ({:.1} MiB) sent without reading in {:.1} s; server heap growth peak {} B \
         ({samples} samples, bound asserted {} B); then all {} answered in order in {:.1} s",
        whole,
        sent as f64 / (1 << 20) as f64,
        flood_time.as_secs_f64(),
        growth,
        BOUND,
        whole,
        read_time.as_secs_f64()
    ));
    assert!(samples > 0, "the server never stopped reading");
    assert!(
        growth < BOUND,
        "server heap grew {growth} B under the flood"
    );
}
