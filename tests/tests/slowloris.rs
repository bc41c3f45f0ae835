//! Slowloris: 1,000 connections each send one header byte every 100 ms (and reconnect when
//! cut). The server (the demo with a 1 s header timeout) cuts each within the timeout, and a
//! well-behaved client keeps getting answers with p99 under 50 ms throughout.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tests::{Client, Server};

const DEMO: &str = env!("CARGO_BIN_EXE_demo");
const ATTACKERS: usize = 1000;
const ATTACK: Duration = Duration::from_secs(4);
const HEADER_TIMEOUT_S: &str = "1";

struct Loris {
    stream: TcpStream,
    born: Instant,
    sent: usize,
}

fn loris(addr: std::net::SocketAddr) -> Loris {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_nonblocking(true).unwrap();
    Loris {
        stream,
        born: Instant::now(),
        sent: 0,
    }
}

/// One attack on a fresh server; `Err` says which property failed.
fn attack_once() -> Result<(), String> {
    tests::raise_nofile(ATTACKERS as u64 + 512);
    let mut server = Server::start(DEMO, &["--header-timeout", HEADER_TIMEOUT_S]);
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(AtomicBool::new(false));

    let attacker = {
        let stop = stop.clone();
        let start = start.clone();
        std::thread::spawn(move || {
            while !start.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(5));
            }
            // An endless head: a request line, then one header byte at a time.
            const HEAD: &[u8] = b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ";
            // Connections open over the first second (100 per 100 ms), as an attacker ramping
            // up would; a cut one reconnects at once.
            let mut conns: Vec<Loris> = Vec::with_capacity(ATTACKERS);
            let mut lifetimes = Vec::new();
            // Each connection sends a byte every 100 ms; the connections are spread over that
            // period (20 slices, one every 5 ms), as independent clients would be.
            const SLICES: usize = 20;
            let mut slice = 0;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                for _ in 0..(ATTACKERS / 10 / SLICES).min(ATTACKERS - conns.len()) {
                    conns.push(loris(addr));
                }
                for c in conns.iter_mut().skip(slice).step_by(SLICES) {
                    let byte = HEAD.get(c.sent).copied().unwrap_or(b'a');
                    c.sent += 1;
                    let mut cut = matches!(c.stream.write(&[byte]), Err(e) if e.kind() != ErrorKind::WouldBlock);
                    let mut buf = [0u8; 512];
                    match c.stream.read(&mut buf) {
                        Ok(_) => cut = true, // EOF (or an error response): the server ended it
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                        Err(_) => cut = true,
                    }
                    if cut {
                        lifetimes.push(c.born.elapsed());
                        *c = loris(addr);
                    }
                }
                slice = (slice + 1) % SLICES;
                if let Some(rest) =
                    Duration::from_millis(100 / SLICES as u64).checked_sub(t.elapsed())
                {
                    std::thread::sleep(rest);
                }
            }
            let alive: Vec<Duration> = conns.iter().map(|c| c.born.elapsed()).collect();
            (lifetimes, alive)
        })
    };

    // The well-behaved client: one keep-alive connection and a fresh one every 10th request.
    // First without the attack (the baseline on this machine), then during it.
    let well_behaved = |d: Duration| -> Vec<Duration> {
        let mut keep = Client::connect(addr).unwrap();
        let began = Instant::now();
        let mut latencies = Vec::new();
        let mut i = 0;
        while began.elapsed() < d {
            let t = Instant::now();
            let r = if i % 10 == 0 {
                tests::get(addr, "/")
            } else {
                keep.get("/")
            }
            .expect("well-behaved request failed");
            latencies.push(t.elapsed());
            assert_eq!(r.status, 200);
            i += 1;
            std::thread::sleep(Duration::from_millis(5));
        }
        latencies
    };
    let mut baseline = well_behaved(Duration::from_millis(1500));
    let base_p99 = tests::percentile(&mut baseline, 99.0);
    let cpu0 = server.cpu_time();
    let attack_started = Instant::now();
    start.store(true, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(300));
    let mut latencies = Vec::new();
    let mut slowest: Vec<(Duration, f64, bool)> = Vec::new();
    // How late this thread's own 5 ms sleeps wake: the machine's scheduling noise.
    let mut oversleep = Vec::new();
    let mut keep = Client::connect(addr).unwrap();
    let began = Instant::now();
    let mut i = 0;
    while began.elapsed() < ATTACK {
        let t = Instant::now();
        let r = if i % 10 == 0 {
            tests::get(addr, "/")
        } else {
            keep.get("/")
        }
        .expect("well-behaved request failed");
        latencies.push(t.elapsed());
        slowest.push((t.elapsed(), began.elapsed().as_secs_f64(), i % 10 == 0));
        assert_eq!(r.status, 200);
        i += 1;
        let z = Instant::now();
        std::thread::sleep(Duration::from_millis(5));
        oversleep.push(z.elapsed().saturating_sub(Duration::from_millis(5)));
    }
    stop.store(true, Ordering::Relaxed);
    let cpu = (server.cpu_time() - cpu0).as_secs_f64() / attack_started.elapsed().as_secs_f64();
    let (lifetimes, alive) = attacker.join().unwrap();
    server.assert_alive();

    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    println!(
        "slowest (latency, at s, fresh connection): {:?}",
        &slowest[..5.min(slowest.len())]
    );
    let over_p99 = tests::percentile(&mut oversleep, 99.0);
    println!(
        "client sleep(5 ms) overshoot: p99 {over_p99:?} max {:?}",
        oversleep.last().unwrap()
    );
    let p50 = tests::percentile(&mut latencies, 50.0);
    let p99 = tests::percentile(&mut latencies, 99.0);
    let max = *latencies.last().unwrap();
    let mut cut = lifetimes.clone();
    let cut_max = cut.iter().max().copied().unwrap_or_default();
    let cut_p50 = if cut.is_empty() {
        Duration::ZERO
    } else {
        tests::percentile(&mut cut, 50.0)
    };
    let alive_max = alive.iter().max().copied().unwrap_or_default();
    tests::report(&format!(
        "slowloris: {ATTACKERS} conns x 1 byte/100 ms for {:.1} s, header timeout {HEADER_TIMEOUT_S} s: \
         {} cut (lifetime p50 {:.0} ms, max {:.0} ms); well-behaved {} requests p50 {:.2} ms p99 {:.2} ms max {:.2} ms \
         (baseline without attack: p99 {:.2} ms; server CPU during attack {:.0}% of a core)",
        ATTACK.as_secs_f64() + 0.3,
        lifetimes.len(),
        cut_p50.as_secs_f64() * 1e3,
        cut_max.as_secs_f64() * 1e3,
        latencies.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        base_p99.as_secs_f64() * 1e3,
        cpu * 100.0,
    ));
    // Every first-wave attacker was cut, each within the timeout (+ slack for a busy CI box).
    if lifetimes.len() < ATTACKERS {
        return Err(format!("only {} cut", lifetimes.len()));
    }
    if cut_max >= Duration::from_millis(2500) {
        return Err(format!("a slow client lived {cut_max:?}"));
    }
    if alive_max >= Duration::from_millis(2500) {
        return Err(format!("a slow client lives on: {alive_max:?}"));
    }
    if p99 >= Duration::from_millis(50) {
        return Err(format!("well-behaved p99 {p99:?}"));
    }
    Ok(())
}

/// Timing on a shared machine: a load spike from outside can starve the server and the
/// clients alike (then the baseline and the client's own sleeps show it). One retry on a
/// fresh server tells such a spike from a regression, which fails both attempts.
#[test]
fn slowloris_is_cut_and_others_are_served() {
    tests::raise_nofile(ATTACKERS as u64 + 512);
    let first = attack_once();
    if let Err(why) = &first {
        println!("slowloris attempt 1 failed ({why}); retrying once");
        if let Err(again) = attack_once() {
            panic!("slowloris failed twice: {why}; then {again}");
        }
    }
}
