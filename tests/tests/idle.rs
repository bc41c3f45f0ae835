//! 10,000 idle keep-alive connections on one server thread: the server's heap per idle
//! connection (counting allocator in `memserver`), its RSS per connection, and the idle
//! timeout reclaiming them all. Done twice: the heap after the second round equals the heap
//! after the first (what stays is the high-water capacity of tables, not a leak).

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use tests::{Client, Heap, Server};

const MEMSERVER: &str = env!("CARGO_BIN_EXE_memserver");
const CONNS: usize = 10_000;
const IDLE_S: f64 = 4.0;

fn open_idle(addr: SocketAddr) -> (Vec<TcpStream>, Duration) {
    let t = Instant::now();
    let threads = 4;
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                (0..CONNS / threads)
                    .map(|_| {
                        let mut c = Client::connect(addr).unwrap();
                        let r = c.get("/").unwrap();
                        assert_eq!(r.status, 200);
                        c.stream
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let conns: Vec<_> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(conns.len(), CONNS);
    (conns, t.elapsed())
}

/// Waits until the server has closed every connection; returns how many it left open.
fn wait_reclaimed(mut conns: Vec<TcpStream>) -> (usize, Duration) {
    for c in &conns {
        c.set_nonblocking(true).unwrap();
    }
    let t = Instant::now();
    let deadline = Duration::from_secs_f64(IDLE_S * 2.0 + 5.0);
    loop {
        conns.retain_mut(|c| {
            let mut b = [0u8; 64];
            matches!(c.read(&mut b), Err(e) if e.kind() == ErrorKind::WouldBlock)
        });
        if conns.is_empty() || t.elapsed() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (conns.len(), t.elapsed())
}

fn settle(server: &Server) -> Heap {
    std::thread::sleep(Duration::from_millis(300));
    server.heap()
}

#[test]
fn ten_thousand_idle_keep_alive_connections() {
    let limit = tests::raise_nofile(CONNS as u64 + 1024);
    assert!(
        limit >= CONNS as u64 + 100,
        "RLIMIT_NOFILE hard limit too low: {limit}"
    );
    let mut server = Server::start(MEMSERVER, &["--idle", &IDLE_S.to_string()]);
    let addr = server.addr;
    // Warm up (the Date ticker, per-thread scratch buffers, the handler pool...).
    for _ in 0..50 {
        assert_eq!(tests::get(addr, "/").unwrap().status, 200);
    }
    let before = settle(&server);
    let sizes_before: BTreeMap<usize, i64> = server.heap_sizes().into_iter().collect();

    let (conns, established) = open_idle(addr);
    let during = settle(&server);
    let sizes_during = server.heap_sizes();
    server.assert_alive();
    assert!(
        established.as_secs_f64() < IDLE_S,
        "establishing took {established:?}: some may have timed out before the measurement"
    );
    let heap_per = (during.live - before.live) as f64 / CONNS as f64;
    let rss_per = (during.rss_kib as f64 - before.rss_kib as f64) * 1024.0 / CONNS as f64;
    // Which allocations each idle connection holds: sizes whose live count grew by ~CONNS.
    let mut per_conn = Vec::new();
    for (size, n) in sizes_during {
        let grew = n - sizes_before.get(&size).copied().unwrap_or(0);
        if grew >= CONNS as i64 / 2 {
            per_conn.push(format!("{size} B x {:.2}", grew as f64 / CONNS as f64));
        }
    }

    let (left_open, took) = wait_reclaimed(conns);
    assert_eq!(
        left_open, 0,
        "{left_open} connections outlived the idle timeout"
    );
    let after1 = settle(&server);
    let sizes_after1: BTreeMap<usize, i64> = server.heap_sizes().into_iter().collect();

    // Round two: same load, and the heap comes back to the same level.
    let (conns, _) = open_idle(addr);
    let (left_open2, _) = wait_reclaimed(conns);
    assert_eq!(left_open2, 0);
    let after2 = settle(&server);
    server.assert_alive();
    let sizes_after2: BTreeMap<usize, i64> = server.heap_sizes().into_iter().collect();
    let diff = |a: &BTreeMap<usize, i64>, b: &BTreeMap<usize, i64>| -> Vec<(usize, i64)> {
        let mut keys: Vec<usize> = a.keys().chain(b.keys()).copied().collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .map(|k| {
                (
                    k,
                    b.get(&k).copied().unwrap_or(0) - a.get(&k).copied().unwrap_or(0),
                )
            })
            .filter(|&(_, d)| d != 0)
            .collect()
    };
    println!(
        "retained after round 1 (size, count): {:?}",
        diff(&sizes_before, &sizes_after1)
    );
    println!(
        "round 2 vs round 1 (size, count): {:?}",
        diff(&sizes_after1, &sizes_after2)
    );

    tests::report(&format!(
        "idle: {CONNS} idle keep-alive connections on one thread (opened in {:.1} s): server heap {:.0} B/conn \
         (live {} -> {} B), RSS {:.0} B/conn ({} -> {} KiB); per-connection blocks: [{}]; \
         idle timeout {IDLE_S} s closed all in {:.1} s; heap after round 1 {} B, after round 2 {} B",
        established.as_secs_f64(),
        heap_per,
        before.live,
        during.live,
        rss_per,
        before.rss_kib,
        during.rss_kib,
        per_conn.join(", "),
        took.as_secs_f64(),
        after1.live,
        after2.live,
    ));
    // No leak: a second round ends where the first did. Compared in blocks under 4 KiB (what
    // a connection allocates); the big blocks are tables whose capacity may double again.
    let small =
        |d: Vec<(usize, i64)>| -> i64 { d.iter().filter(|(s, _)| *s < 4096).map(|(_, n)| n).sum() };
    let leaked_blocks = small(diff(&sizes_after1, &sizes_after2));
    assert!(
        leaked_blocks.abs() < 100,
        "{leaked_blocks} more small blocks live after round 2 than after round 1"
    );
    // The goal: at most 2 KiB of heap per idle connection, everything included.
    assert!(
        heap_per <= 2048.0,
        "{heap_per:.0} B of heap per idle connection (goal: 2 KiB)"
    );
}
