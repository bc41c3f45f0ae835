//! fd exhaustion: the demo runs with a small `RLIMIT_NOFILE`; more clients connect than it
//! has fds for. It keeps serving the connections it has, pauses accepting instead of dying or
//! spinning, and accepts the waiting clients once fds free up.

use std::time::{Duration, Instant};

use tests::{Client, Server, Spawn};

const DEMO: &str = env!("CARGO_BIN_EXE_demo");
const NOFILE: u64 = 40;
const CLIENTS: usize = 60;

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn fd_exhaustion_keeps_serving_and_recovers() {
    let mut server = Server::start_with(
        DEMO,
        &[],
        Spawn {
            nofile: Some(NOFILE),
        },
    );
    let addr = server.addr;
    let mut existing = Client::connect(addr).unwrap();
    assert_eq!(existing.get("/").unwrap().status, 200);
    let base = open_fds(server.pid());

    // More clients than fds: each sends a request at once.
    let mut clients: Vec<Client> = (0..CLIENTS)
        .map(|_| {
            let mut c = Client::connect(addr).unwrap();
            c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
            c
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut served = Vec::new();
    let mut waiting = Vec::new();
    for mut c in clients.drain(..) {
        c.stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        match c.read_response() {
            Ok(r) => {
                assert_eq!(r.status, 200);
                served.push(c)
            }
            Err(_) => waiting.push(c),
        }
    }
    let at_limit = open_fds(server.pid());
    server.assert_alive();
    assert!(
        !waiting.is_empty(),
        "no client had to wait: the limit was not reached"
    );
    assert!(!served.is_empty());

    // The server keeps serving the connection it already has, while out of fds.
    for _ in 0..20 {
        assert_eq!(existing.get("/").unwrap().status, 200);
    }

    // Free fds: the served clients hang up. The waiting ones are then accepted and answered
    // (each hangs up after its answer, making room for the next).
    let n_served = served.len();
    let n_waiting = waiting.len();
    drop(served);
    let t = Instant::now();
    for (i, mut c) in waiting.into_iter().enumerate() {
        c.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let r = c
            .read_response()
            .unwrap_or_else(|e| panic!("waiting client {i} never served: {e}"));
        assert_eq!(r.status, 200);
    }
    let recovered = t.elapsed();
    assert_eq!(existing.get("/").unwrap().status, 200);
    assert_eq!(tests::get(addr, "/").unwrap().status, 200);
    server.assert_alive();
    tests::report(&format!(
        "fd exhaustion: RLIMIT_NOFILE {NOFILE} (server used {base} fds idle, {at_limit} at the limit); \
         {CLIENTS} clients: {n_served} served at once, {n_waiting} waited and were all served \
         {:.0} ms after fds freed; the existing connection was served throughout",
        recovered.as_secs_f64() * 1e3
    ));
}
