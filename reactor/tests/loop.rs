//! The poll loop: handlers, stale tokens, callbacks, remote callbacks, stop, EINTR, panics.

use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reactor::{Interest, Reactor};

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

#[test]
fn pingpong_100k_through_handlers() {
    const ROUNDS: usize = 100_000;
    let reactor = Reactor::new().unwrap();
    let (a, b) = pair();
    let a = Rc::new(a);
    let b = Rc::new(b);
    let count = Rc::new(Cell::new(0usize));

    // `b` echoes every byte back; `a` counts round trips and sends the next ping.
    let bb = b.clone();
    let echo = reactor
        .add_handler(b.as_raw_fd(), Interest::READABLE, move |ready| {
            assert!(ready.is_readable());
            let mut buf = [0u8; 64];
            let n = (&*bb).read(&mut buf).unwrap();
            (&*bb).write_all(&buf[..n]).unwrap();
        })
        .unwrap();
    let (aa, c, r) = (a.clone(), count.clone(), reactor.clone());
    let pinger = reactor
        .add_handler(a.as_raw_fd(), Interest::READABLE, move |_| {
            let mut buf = [0u8; 64];
            let n = (&*aa).read(&mut buf).unwrap();
            c.set(c.get() + n);
            if c.get() == ROUNDS {
                r.stop();
            } else {
                (&*aa).write_all(b"p").unwrap();
            }
        })
        .unwrap();
    (&*a).write_all(b"p").unwrap();
    reactor.run();
    assert_eq!(count.get(), ROUNDS);
    reactor.remove_handler(echo).unwrap();
    reactor.remove_handler(pinger).unwrap();
}

#[test]
fn update_handler_switches_interest() {
    let reactor = Reactor::new().unwrap();
    let (a, _b) = pair();
    let writable = Rc::new(Cell::new(0));
    let (w, r) = (writable.clone(), reactor.clone());
    let id = reactor
        .add_handler(a.as_raw_fd(), Interest::READABLE, move |ready| {
            assert!(ready.is_writable());
            w.set(w.get() + 1);
            r.stop();
        })
        .unwrap();
    // Nothing to read: the handler must not run. Switch to writable: it must.
    let r = reactor.clone();
    reactor.call_later(Duration::from_millis(20), move || r.stop());
    reactor.run();
    assert_eq!(writable.get(), 0);
    reactor.update_handler(id, Interest::WRITABLE).unwrap();
    reactor.run();
    assert_eq!(writable.get(), 1);
    reactor.remove_handler(id).unwrap();
    assert!(
        reactor.remove_handler(id).is_err(),
        "removing twice must fail"
    );
    assert!(reactor.update_handler(id, Interest::BOTH).is_err());
}

#[test]
fn stale_token_is_never_delivered_to_a_reused_slot() {
    let reactor = Reactor::new().unwrap();
    let (a1, a2) = pair();
    let (b1, b2) = pair();
    // Both fds readable: the first wait returns an event for each.
    (&a2).write_all(b"x").unwrap();
    (&b2).write_all(b"x").unwrap();

    type Ids = Rc<RefCell<Vec<Option<reactor::HandlerId>>>>;
    let ids: Ids = Rc::new(RefCell::new(vec![None, None]));
    let fds = Rc::new(RefCell::new(vec![Some(a1), Some(b1)]));
    let stranger_calls = Rc::new(Cell::new(0));
    let keep = Rc::new(RefCell::new(Vec::new()));
    let replaced = Rc::new(Cell::new(false));

    for me in 0..2 {
        let other = 1 - me;
        let (ids2, fds2, calls, keep2, replaced2, r) = (
            ids.clone(),
            fds.clone(),
            stranger_calls.clone(),
            keep.clone(),
            replaced.clone(),
            reactor.clone(),
        );
        let fd = fds.borrow()[me].as_ref().unwrap().as_raw_fd();
        let id = reactor
            .add_handler(fd, Interest::READABLE, move |_| {
                if replaced2.replace(true) {
                    return;
                }
                // The other handler's event is already in this turn's batch. Remove it, close
                // its fd, and put a new handler on a new fd in the same slot.
                let old = ids2.borrow_mut()[other].take().unwrap();
                r.remove_handler(old).unwrap();
                let old_fd = fds2.borrow_mut()[other].take().unwrap();
                let old_raw = old_fd.as_raw_fd();
                drop(old_fd);
                let (n1, n2) = pair();
                let calls = calls.clone();
                let new_id = r
                    .add_handler(n1.as_raw_fd(), Interest::READABLE, move |_| {
                        calls.set(calls.get() + 1)
                    })
                    .unwrap();
                assert_eq!(
                    n1.as_raw_fd(),
                    old_raw,
                    "test setup: the fd number was reused"
                );
                keep2.borrow_mut().push((n1, n2, new_id));
                let r2 = r.clone();
                r.call_later(Duration::from_millis(30), move || r2.stop());
            })
            .unwrap();
        ids.borrow_mut()[me] = Some(id);
    }
    reactor.run();
    assert!(replaced.get());
    assert_eq!(
        stranger_calls.get(),
        0,
        "a stale event reached the new handler"
    );
}

#[test]
fn callbacks_run_in_order_and_those_added_during_a_batch_wait() {
    let reactor = Reactor::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    for i in 0..3 {
        let (l, r) = (log.clone(), reactor.clone());
        reactor.add_callback(move || {
            l.borrow_mut().push(i);
            let l2 = l.clone();
            r.add_callback(move || l2.borrow_mut().push(10 + i));
        });
    }
    let r = reactor.clone();
    reactor.call_later(Duration::from_millis(5), move || r.stop());
    reactor.run();
    assert_eq!(*log.borrow(), vec![0, 1, 2, 10, 11, 12]);
}

#[test]
fn remote_callbacks_from_four_threads_run_once_each_on_the_loop_thread() {
    const THREADS: usize = 4;
    const CALLS: usize = 10_000;
    let reactor = Reactor::new().unwrap();
    let loop_thread = std::thread::current().id();
    let seen: Arc<Vec<AtomicUsize>> =
        Arc::new((0..THREADS * CALLS).map(|_| AtomicUsize::new(0)).collect());
    let done = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    for t in 0..THREADS {
        let (remote, seen, done) = (reactor.remote(), seen.clone(), done.clone());
        threads.push(std::thread::spawn(move || {
            for i in 0..CALLS {
                let (seen, done, stop) = (seen.clone(), done.clone(), remote.clone());
                remote.add_callback(move || {
                    assert_eq!(std::thread::current().id(), loop_thread);
                    seen[t * CALLS + i].fetch_add(1, Ordering::Relaxed);
                    if done.fetch_add(1, Ordering::Relaxed) + 1 == THREADS * CALLS {
                        stop.stop();
                    }
                });
            }
        }));
    }
    reactor.run();
    for t in threads {
        t.join().unwrap();
    }
    assert!(seen.iter().all(|n| n.load(Ordering::Relaxed) == 1));
}

#[test]
fn stop_from_a_callback_and_from_another_thread() {
    let reactor = Reactor::new().unwrap();
    let r = reactor.clone();
    reactor.add_callback(move || r.stop());
    reactor.run();

    let remote = reactor.remote();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        remote.stop();
    });
    let start = Instant::now();
    reactor.run(); // blocks with nothing to do until the other thread stops it
    assert!(start.elapsed() >= Duration::from_millis(15));
    t.join().unwrap();

    // stop() before run(): run returns at once.
    reactor.stop();
    reactor.run();
}

#[test]
fn a_panicking_handler_callback_or_timer_does_not_kill_the_loop() {
    let reactor = Reactor::new().unwrap();
    let (a, b) = pair();
    (&b).write_all(b"x").unwrap();
    let calls = Rc::new(Cell::new(0));
    let (c, r) = (calls.clone(), reactor.clone());
    let id = reactor
        .add_handler(a.as_raw_fd(), Interest::READABLE, move |_| {
            c.set(c.get() + 1);
            if c.get() == 3 {
                r.stop();
            }
            panic!("handler boom");
        })
        .unwrap();
    reactor.add_callback(|| panic!("callback boom"));
    reactor.call_later(Duration::ZERO, || panic!("timer boom"));
    reactor.run();
    // Level-triggered and still readable: the handler was kept and called again.
    assert!(calls.get() >= 2, "handler calls: {}", calls.get());
    reactor.remove_handler(id).unwrap();
}

extern "C" fn on_sigusr1(_: libc::c_int) {}

#[test]
fn a_signal_interrupting_the_wait_changes_nothing() {
    // SAFETY: installs a do-nothing handler for SIGUSR1 without SA_RESTART, so the blocked
    // epoll_wait/kevent returns EINTR; the handler is async-signal-safe (it does nothing).
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigusr1 as *const () as usize;
        action.sa_flags = 0;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
            0
        );
    }
    // SAFETY: pthread_self has no preconditions.
    let me = unsafe { libc::pthread_self() } as usize;
    let reactor = Reactor::new().unwrap();
    let signaller = std::thread::spawn(move || {
        for _ in 0..5 {
            std::thread::sleep(Duration::from_millis(10));
            // SAFETY: `me` is the test thread, alive until this thread is joined.
            unsafe { libc::pthread_kill(me as libc::pthread_t, libc::SIGUSR1) };
        }
    });
    let start = Instant::now();
    let fired = Rc::new(Cell::new(false));
    let (f, r) = (fired.clone(), reactor.clone());
    reactor.call_later(Duration::from_millis(100), move || {
        f.set(true);
        r.stop();
    });
    reactor.run();
    signaller.join().unwrap();
    assert!(fired.get());
    assert!(
        start.elapsed() >= Duration::from_millis(100),
        "timer fired early"
    );
}
