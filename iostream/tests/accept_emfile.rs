//! Accept under fd exhaustion. This is a test binary of its own (one test), because it lowers
//! `RLIMIT_NOFILE` for the whole process: no other test shares the process.
//!
//! Connections wait in the backlog while every fd is taken: the server pauses accepting (on a
//! timer, not a busy loop, logging once), keeps running, and accepts them all once fds are
//! free again.

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::rc::Rc;
use std::time::Duration;

use iostream::{Address, IOStream, TcpServer};
use reactor::Reactor;

fn nofile() -> libc::rlimit {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `r` is a valid rlimit to fill.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) }, 0);
    r
}

fn set_nofile(r: &libc::rlimit) {
    // SAFETY: `r` is a valid rlimit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, r) }, 0);
}

/// Waits (a bounded number of loop turns, each a short timer) until `cond` holds.
async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if cond() {
            return;
        }
        reactor::sleep(Duration::from_millis(5)).await;
    }
    panic!("timed out waiting until {what}");
}

#[test]
fn accept_pauses_on_emfile_and_resumes_when_fds_are_free() {
    let original = nofile();
    Reactor::new().unwrap().block_on(async {
        let accepted: Rc<RefCell<Vec<IOStream>>> = Rc::default();
        let server = {
            let accepted = accepted.clone();
            TcpServer::new(move |s: IOStream, _: Address| accepted.borrow_mut().push(s))
        };
        server.set_accept_pause(Duration::from_millis(20));
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();

        // Three clients whose connections complete in the kernel and wait in the backlog.
        let mut clients: Vec<TcpStream> = (0..3)
            .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
            .collect();

        // Take every remaining fd under a low limit.
        let open_now = std::fs::read_dir("/proc/self/fd")
            .map(|d| d.count())
            .unwrap_or(64) as u64;
        set_nofile(&libc::rlimit {
            rlim_cur: open_now + 32,
            rlim_max: original.rlim_max,
        });
        let mut hogs = Vec::new();
        loop {
            match File::open("/dev/null") {
                Ok(f) => hogs.push(f),
                Err(e) if e.raw_os_error() == Some(libc::EMFILE) => break,
                Err(e) => panic!("{e}"),
            }
        }

        // The server hits EMFILE and pauses; nothing is accepted, the loop keeps running.
        wait_until("accepting pauses", || server.is_paused()).await;
        assert_eq!(accepted.borrow().len(), 0);
        let ticks = Rc::new(Cell::new(0));
        for _ in 0..10 {
            reactor::sleep(Duration::from_millis(10)).await; // several pause periods go by
            ticks.set(ticks.get() + 1);
        }
        assert_eq!(ticks.get(), 10);
        assert!(server.is_paused());
        assert_eq!(server.pause_episodes(), 1, "one episode, logged once");
        assert_eq!(accepted.borrow().len(), 0);

        // Free the fds: the next retry accepts all three.
        drop(hogs);
        set_nofile(&original);
        wait_until("all three are accepted", || accepted.borrow().len() == 3).await;
        assert!(!server.is_paused());
        assert_eq!(server.accepted(), 3);

        // The accepted streams work.
        for (i, c) in clients.iter_mut().enumerate() {
            c.write_all(format!("hi {i}\n").as_bytes()).unwrap();
        }
        let streams: Vec<IOStream> = accepted.borrow().clone();
        let mut lines = Vec::new();
        for s in &streams {
            let line = s.read_until(b"\n", None).await.unwrap();
            s.write(&line).await.unwrap();
            lines.push(String::from_utf8(line).unwrap());
        }
        lines.sort();
        assert_eq!(lines, ["hi 0\n", "hi 1\n", "hi 2\n"]);
        for c in &mut clients {
            let mut buf = [0u8; 5];
            c.read_exact(&mut buf).unwrap();
            assert!(buf.starts_with(b"hi "));
        }
        // And new connections are accepted too.
        let late = TcpStream::connect(("127.0.0.1", port)).unwrap();
        wait_until("a new connection is accepted", || {
            accepted.borrow().len() == 4
        })
        .await;
        drop(late);
        let _ = ErrorKind::Other;
        server.stop();
    });
}
