//! The `trace` feature. Off, `trace_step!` expands to nothing; on, the loop records the steps
//! of a readable event: the poll that returned it, the handler that woke the task, the task
//! being polled. (`cargo test -p reactor --features trace` runs the second test.)

#[cfg(not(feature = "trace"))]
#[test]
fn off_a_step_is_no_code() {
    // The arguments are not even compiled in: the macro expands to nothing.
    reactor::trace_step!("test", "never recorded", unreachable!("evaluated"));
}

#[cfg(feature = "trace")]
#[test]
fn on_a_readable_event_is_recorded_from_poll_to_task() {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    let (mut a, b) = UnixStream::pair().unwrap();
    b.set_nonblocking(true).unwrap();
    let reactor = reactor::Reactor::new().unwrap();
    let got = reactor.block_on(async move {
        reactor::spawn(async move {
            let reg = reactor::Registration::new(b.as_raw_fd()).unwrap();
            let writer = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                a.write_all(b"x").unwrap();
                a
            });
            let mut buf = [0u8; 1];
            let n = std::future::poll_fn(|cx| reg.poll_read_with(cx, || (&b).read(&mut buf)))
                .await
                .unwrap();
            drop(writer.join());
            n
        })
        .await
        .unwrap()
    });
    assert_eq!(got, 1);
    let steps: Vec<&str> = reactor::trace::take().iter().map(|s| s.step).collect();
    let path = [
        "epoll_wait returned",
        "handler woke the reading task",
        "task polled",
    ];
    assert!(
        steps.windows(3).any(|w| w == path),
        "{path:?} not found in {steps:?}"
    );
}
