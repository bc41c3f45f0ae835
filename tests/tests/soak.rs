//! A short soak: mixed load (keep-alive and fresh connections, pipelined bursts, bodies,
//! errors, panics) against `memserver` for `SOAK_SECS` (default 15) seconds: zero errors, and
//! the server's heap flat (measured quiescent before and after; RSS sampled throughout).
//! When `wrk` is on PATH a wrk phase runs too (`GET /`, 0 socket errors, 0 non-2xx).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tests::{Client, Server};

const MEMSERVER: &str = env!("CARGO_BIN_EXE_memserver");

fn soak_secs() -> u64 {
    std::env::var("SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15)
}

/// One client's mixed load until `stop`; returns (requests, errors).
fn mixed_client(
    addr: std::net::SocketAddr,
    seed: u64,
    stop: Arc<AtomicBool>,
) -> (u64, u64, Vec<String>) {
    let mut rng = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let (mut requests, mut errors) = (0u64, 0u64);
    let mut notes = Vec::new();
    let mut c = Client::connect(addr).unwrap();
    while !stop.load(Relaxed) {
        let pick = next() % 100;
        let mut check =
            |c: &mut Client, target: &str, body: &[u8], want: u16, want_body: Option<&[u8]>| {
                let method = if body.is_empty() { "GET" } else { "POST" };
                match c.request(method, target, body) {
                    Ok(r) if r.status == want && want_body.is_none_or(|b| r.body == b) => {}
                    Ok(r) => {
                        errors += 1;
                        notes.push(format!("{target}: {} ({} bytes)", r.status, r.body.len()));
                    }
                    Err(e) => {
                        errors += 1;
                        notes.push(format!("{target}: {e}"));
                    }
                }
                requests += 1;
            };
        match pick {
            0..=49 => check(&mut c, "/", b"", 200, Some(b"Hello, World!")),
            50..=64 => {
                let body = vec![b'a' + (next() % 26) as u8; (next() % 65536) as usize + 1];
                check(&mut c, "/echo", &body, 200, Some(&body));
            }
            65..=74 => check(
                &mut c,
                "/args?a=1&b=2&a=3",
                b"",
                200,
                Some(br#"{"a":["1","3"],"b":["2"]}"#),
            ),
            75..=79 => check(&mut c, "/status/404", b"", 404, None),
            80..=81 => check(&mut c, "/nope", b"", 404, None),
            82 => {
                check(&mut c, "/panic", b"", 500, None);
                c = Client::connect(addr).unwrap();
            }
            83..=89 => {
                // A pipelined burst of 10.
                let burst = tests::request_bytes("GET", "/", b"").repeat(10);
                if c.send(&burst).is_err() {
                    errors += 1;
                }
                for _ in 0..10 {
                    match c.read_response() {
                        Ok(r) if r.status == 200 => {}
                        other => {
                            errors += 1;
                            notes.push(format!("pipelined: {:?}", other.map(|r| r.status)));
                        }
                    }
                    requests += 1;
                }
            }
            90..=94 => check(&mut c, "/flush", b"", 200, Some(b"Hello world")),
            _ => {
                // A fresh connection.
                c = Client::connect(addr).unwrap();
                check(&mut c, "/", b"", 200, Some(b"Hello, World!"));
            }
        }
    }
    (requests, errors, notes)
}

#[test]
fn soak_mixed_load_no_errors_memory_flat() {
    let secs = soak_secs();
    let mut server = Server::start(MEMSERVER, &[]);
    let addr = server.addr;

    // Warm-up round, then the quiescent baseline.
    let run = |d: Duration| -> (u64, u64, Vec<String>) {
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..3)
            .map(|i| {
                let stop = stop.clone();
                std::thread::spawn(move || mixed_client(addr, i + 1, stop))
            })
            .collect();
        std::thread::sleep(d);
        stop.store(true, Relaxed);
        workers.into_iter().map(|w| w.join().unwrap()).fold(
            (0, 0, Vec::new()),
            |mut a, (r, e, n)| {
                a.0 += r;
                a.1 += e;
                a.2.extend(n);
                a
            },
        )
    };
    let warm = run(Duration::from_secs(2));
    assert_eq!(warm.1, 0, "errors during warm-up: {:?}", warm.2);
    std::thread::sleep(Duration::from_millis(300));
    let base = server.heap();

    // The soak, sampling RSS every second.
    let rss_max = Arc::new(AtomicU64::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (rss_max, sampling) = (rss_max.clone(), sampling.clone());
        let pid = server.pid();
        std::thread::spawn(move || {
            let mut series = Vec::new();
            while sampling.load(Relaxed) {
                let kib = tests::proc_status_kib(pid, "VmRSS:");
                rss_max.fetch_max(kib, Relaxed);
                series.push(kib);
                std::thread::sleep(Duration::from_secs(1));
            }
            series
        })
    };
    let t = Instant::now();
    let (requests, errors, notes) = run(Duration::from_secs(secs));
    let elapsed = t.elapsed();

    let mut wrk_note = String::from("wrk not installed: skipped");
    if std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok()
    {
        let out = std::process::Command::new("wrk")
            .args([
                "-t2",
                "-c32",
                "-d5s",
                "--timeout",
                "10s",
                &format!("http://{addr}/"),
            ])
            .output()
            .expect("run wrk");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "wrk failed: {text}");
        assert!(
            !text.contains("Socket errors"),
            "wrk saw socket errors:\n{text}"
        );
        assert!(
            !text.contains("Non-2xx"),
            "wrk saw non-2xx responses:\n{text}"
        );
        let rps = text
            .lines()
            .find(|l| l.starts_with("Requests/sec"))
            .unwrap_or("Requests/sec: ?")
            .trim()
            .to_string();
        wrk_note = format!("wrk -t2 -c32 -d5s --timeout 10s GET /: 0 errors, {rps}");
    }

    sampling.store(false, Relaxed);
    let series = sampler.join().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let end = server.heap();
    server.assert_alive();
    let growth = end.live - base.live;
    tests::report(&format!(
        "soak: {requests} mixed requests in {:.1} s from 3 clients, {errors} errors; quiescent heap {} -> {} B \
         (growth {growth} B); RSS KiB per second {:?} (max {}); {wrk_note}",
        elapsed.as_secs_f64(),
        base.live,
        end.live,
        series,
        rss_max.load(Relaxed),
    ));
    assert_eq!(errors, 0, "errors: {:?}", &notes[..notes.len().min(10)]);
    assert!(
        growth.abs() < 256 * 1024,
        "heap not flat: {} -> {}",
        base.live,
        end.live
    );
}
