//! Support for the end-to-end reliability tests in `tests/tests/*.rs`: starting a server binary
//! of this package as a child process on a loopback port, a small blocking HTTP/1.1 client that
//! reads responses exactly as framed (`testkit`'s, re-exported), fd limits, signals and latency
//! percentiles.
//!
//! Every test file is its own process (cargo runs them one after another), so a test that
//! changes `RLIMIT_NOFILE` or installs something process-wide affects only its own file.
//! Everything is over 127.0.0.1 and bounded in connections and time (the crate runs in about
//! a minute). Each test prints its figures (`FIGURE ...` with `--nocapture`) and appends them
//! to `target/reliability-figures.txt`.
//!
//! | file | server | what |
//! |---|---|---|
//! | `slowloris.rs` | demo, header timeout 1 s | 1,000 conns x 1 byte / 100 ms are cut; a good client's p99 < 50 ms |
//! | `idle.rs` | memserver, idle timeout 4 s | 10,000 idle keep-alive conns: heap and RSS per conn; all reclaimed; no leak over 2 rounds |
//! | `pipelining.rs` | memserver | pipelining without reading: heap growth bounded (< 1 MiB); every request answered in order |
//! | `hostile.rs` | demo | slow uploads; disconnect mid-body / mid-response; RST after a request; half-close |
//! | `fd_exhaustion.rs` | demo, `RLIMIT_NOFILE` 40 | serves existing conns while out of fds; accepts again when fds free up |
//! | `shutdown.rs` | demo | SIGTERM mid 100 slow requests: all complete, idle conns closed, exit 0; SIGINT; deadline → exit 1 |
//! | `panic.rs` | demo | `/panic` mixed with `/` from 4 clients: every `/` succeeds |
//! | `soak.rs` | memserver | `SOAK_SECS` (15) s of mixed load: 0 errors, heap and RSS flat; plus `wrk` if installed |
//!
//! `TESTS_SERVER_DIR=target/release` runs the tests against release builds of the servers
//! (after `cargo build --release -p tests --bins`).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Raises the soft `RLIMIT_NOFILE` of this process to at least `want` (capped by the hard
/// limit); returns the soft limit now in force. Children inherit it.
pub use testkit::sockets::raise_nofile;

/// The server binary to run: `built` (a `CARGO_BIN_EXE_*` path), or the binary of the same
/// name in `$TESTS_SERVER_DIR` when that is set (e.g. `target/release` after
/// `cargo build --release -p tests --bins`, to measure an optimised server).
pub fn server_bin(built: &str) -> String {
    match std::env::var_os("TESTS_SERVER_DIR") {
        Some(dir) => {
            let name = std::path::Path::new(built)
                .file_name()
                .expect("binary name");
            std::path::Path::new(&dir)
                .join(name)
                .to_string_lossy()
                .into_owned()
        }
        None => built.to_string(),
    }
}

/// A server binary running as a child process, killed when dropped.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

/// "debug" or "release (TESTS_SERVER_DIR)": how the server under test was built, for figures.
pub fn server_build() -> &'static str {
    if std::env::var_os("TESTS_SERVER_DIR").is_some() {
        "server from TESTS_SERVER_DIR"
    } else if cfg!(debug_assertions) {
        "debug build"
    } else {
        "release build"
    }
}

/// Options for [`Server::start_with`].
#[derive(Default)]
pub struct Spawn {
    /// Soft `RLIMIT_NOFILE` for the child (set between fork and exec).
    pub nofile: Option<u64>,
}

impl Server {
    /// Starts `bin --port P args...` on a free loopback port and waits until it listens.
    pub fn start(bin: &str, args: &[&str]) -> Server {
        Server::start_with(bin, args, Spawn::default())
    }

    /// [`start`](Self::start) with options.
    pub fn start_with(bin: &str, args: &[&str], opts: Spawn) -> Server {
        let bin = &server_bin(bin);
        for _attempt in 0..5 {
            // A free port: bind 0, read it, release it (the child binds it right after).
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut cmd = Command::new(bin);
            cmd.arg("--port").arg(port.to_string());
            if !args.contains(&"--address") && bin.ends_with("demo") {
                cmd.args(["--address", "127.0.0.1"]);
            }
            // No backtraces for the handler panics the tests provoke: with RUST_BACKTRACE=1 the
            // first panic loads the symbol tables (tens of MiB in a debug build), which is std's
            // cache, not the server's memory.
            cmd.args(args)
                .env("RUST_BACKTRACE", "0")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            if let Some(n) = opts.nofile {
                use std::os::unix::process::CommandExt;
                // SAFETY: the closure runs between fork and exec and calls only setrlimit,
                // which is async-signal-safe; it touches no locks and allocates nothing.
                unsafe {
                    cmd.pre_exec(move || {
                        let r = libc::rlimit {
                            rlim_cur: n as libc::rlim_t,
                            rlim_max: n as libc::rlim_t,
                        };
                        if libc::setrlimit(libc::RLIMIT_NOFILE, &r) != 0 {
                            return Err(io::Error::last_os_error());
                        }
                        Ok(())
                    });
                }
            }
            let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
            let stderr = Arc::new(Mutex::new(String::new()));
            let (tx, rx) = std::sync::mpsc::channel();
            {
                let mut pipe = child.stderr.take().unwrap();
                let stderr = stderr.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let mut told = false;
                    while let Ok(n) = pipe.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        let mut s = stderr.lock().unwrap();
                        s.push_str(&String::from_utf8_lossy(&buf[..n]));
                        if !told && s.contains("listening") {
                            told = true;
                            let _ = tx.send(true);
                        }
                        if s.len() > 1 << 20 {
                            let cut = s.len() - (1 << 19);
                            s.drain(..cut);
                        }
                    }
                    let _ = tx.send(false);
                });
            }
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(true) => {
                    // It printed "listening": it has bound and is about to run its loop.
                    let server = Server {
                        child,
                        addr,
                        stderr,
                    };
                    wait_connectable(addr);
                    return server;
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let err = stderr.lock().unwrap().clone();
                    if !err.contains("cannot listen") {
                        panic!("{bin} did not start: {err}");
                    }
                    // The port was taken in between: try another.
                }
            }
        }
        panic!("{bin}: no free port after 5 attempts");
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the child wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Whether the child is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Panics (with the child's stderr) unless the child is still running.
    pub fn assert_alive(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("server exited ({status}); stderr:\n{}", self.stderr());
        }
    }

    /// Sends `signal` to the child.
    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        assert_eq!(rc, 0, "kill: {}", io::Error::last_os_error());
    }

    /// Waits for the child to exit, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + limit;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The child's resident set size in KiB (from /proc).
    pub fn rss_kib(&self) -> u64 {
        proc_status_kib(self.child.id(), "VmRSS:")
    }

    /// CPU time (user + system) the child has used so far.
    pub fn cpu_time(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<u64> = after
            .split_whitespace()
            .map(|x| x.parse().unwrap_or(0))
            .collect();
        // SAFETY: sysconf has no memory effects.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
        Duration::from_millis(ticks * 1000 / hz)
    }

    /// `memserver` only: its live heap bytes (`GET /heap` on a fresh connection).
    pub fn heap(&self) -> Heap {
        self.heap_at("/heap")
    }

    /// `memserver` only: live allocations by size, `(size, count)`.
    pub fn heap_sizes(&self) -> Vec<(usize, i64)> {
        let r = get(self.addr, "/heap?sizes=1").expect("GET /heap?sizes=1");
        String::from_utf8_lossy(&r.body)
            .split_whitespace()
            .filter_map(|kv| {
                let (k, v) = kv.split_once(':')?;
                Some((k.parse().ok()?, v.parse().ok()?))
            })
            .collect()
    }

    fn heap_at(&self, target: &str) -> Heap {
        let r = get(self.addr, target).expect("GET /heap");
        let text = String::from_utf8_lossy(&r.body).into_owned();
        let field = |k: &str| -> i64 {
            text.split_whitespace()
                .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('=')?.parse().ok())
                .unwrap_or_else(|| panic!("no {k} in {text:?}"))
        };
        Heap {
            live: field("live"),
            allocs: field("allocs") as u64,
            rss_kib: field("rss_kib") as u64,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `memserver`'s memory figures.
#[derive(Debug, Clone, Copy)]
pub struct Heap {
    /// Live heap bytes.
    pub live: i64,
    /// Allocations so far.
    pub allocs: u64,
    /// Resident set size, KiB.
    pub rss_kib: u64,
}

/// The figure in KiB after `key` (`"VmRSS:"`, `"VmHWM:"`) in `/proc/PID/status`; 0 if absent.
pub fn proc_status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn wait_connectable(addr: SocketAddr) {
    let end = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err() {
        assert!(Instant::now() < end, "{addr} never accepted a connection");
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub use testkit::{request_bytes, Client, Response};

/// `GET target` on a fresh connection.
pub fn get(addr: SocketAddr, target: &str) -> io::Result<Response> {
    Client::connect(addr)?.get(target)
}

/// The `p`-th percentile (0..=100) of `samples` (sorted in place).
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    assert!(!samples.is_empty());
    samples.sort();
    let i = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[i.min(samples.len() - 1)]
}

/// Prints a figure for the test log (`cargo test -p tests -- --nocapture` shows it; the
/// figures also go to `target/reliability-figures.txt`).
pub fn report(line: &str) {
    let line = &format!("{line} [{}]", server_build());
    println!("FIGURE {line}");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("reliability-figures.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}
