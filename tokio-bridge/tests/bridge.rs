//! The bridge on its own: outputs come back to our loop while it keeps serving, panics are
//! errors, dropping our future aborts the tokio task, dropping the bridge cancels, and a
//! tokio-only client (`tokio::net::TcpStream`) talks to our own server on our loop.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use iostream::{IOStream, TcpServer};
use reactor::Reactor;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio_bridge::{Bridge, BridgeError};

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    Reactor::new().unwrap().block_on(async {
        reactor::timeout(Duration::from_secs(30), f)
            .await
            .expect("the test took more than 30 s")
    })
}

/// Sets its flag when dropped: tells whether a tokio task's future was dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Waits on our loop until `flag` is set, for at most 5 s.
async fn wait_for(flag: &AtomicBool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !flag.load(Ordering::SeqCst) && Instant::now() < deadline {
        reactor::sleep(Duration::from_millis(2)).await;
    }
    flag.load(Ordering::SeqCst)
}

#[test]
fn the_output_comes_back_while_the_loop_keeps_serving() {
    let bridge = Bridge::new().unwrap();
    run(async {
        // Our loop ticks while the tokio future sleeps on tokio's timer.
        let ticks = Rc::new(Cell::new(0u32));
        let ticker = {
            let ticks = ticks.clone();
            reactor::spawn(async move {
                loop {
                    reactor::sleep(Duration::from_millis(5)).await;
                    ticks.set(ticks.get() + 1);
                }
            })
        };
        let (value, thread) = bridge
            .run(async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                (42, std::thread::current().name().map(str::to_owned))
            })
            .await
            .unwrap();
        assert_eq!(value, 42);
        assert_eq!(
            thread.as_deref(),
            Some("tokio-bridge"),
            "ran on the runtime"
        );
        assert!(
            ticks.get() >= 5,
            "the loop ticked only {} times",
            ticks.get()
        );
        drop(ticker);
    });
}

#[test]
fn many_bridged_futures_at_once_all_come_back() {
    let bridge = Bridge::with_threads(2).unwrap();
    run(async {
        let futures: Vec<_> = (0..2000u64)
            .map(|i| {
                let f = bridge.run(async move {
                    tokio::task::yield_now().await;
                    i * 2
                });
                reactor::spawn(f)
            })
            .collect();
        let mut sum = 0;
        for f in futures {
            sum += f.await.unwrap().unwrap();
        }
        assert_eq!(sum, 2 * (0..2000).sum::<u64>());
    });
}

#[test]
fn a_panic_is_an_error_and_the_bridge_goes_on() {
    let bridge = Bridge::new().unwrap();
    run(async {
        let err = bridge
            .run(async { panic!("bad input {}", 7) })
            .await
            .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.panic_message(), Some("bad input 7"));
        assert_eq!(err.to_string(), "bridged future panicked: bad input 7");
        assert_eq!(bridge.run(async { 1 + 1 }).await.unwrap(), 2);
    });
}

#[test]
fn dropping_our_future_aborts_the_tokio_task() {
    let bridge = Bridge::new().unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicBool::new(false));
    run(async {
        let f = {
            let (flag, finished) = (DropFlag(dropped.clone()), finished.clone());
            bridge.run(async move {
                let _flag = flag;
                tokio::time::sleep(Duration::from_secs(60)).await;
                finished.store(true, Ordering::SeqCst);
            })
        };
        // Our side gives up after 20 ms: the tokio task is aborted, its future dropped.
        assert!(reactor::timeout(Duration::from_millis(20), f)
            .await
            .is_err());
        assert!(wait_for(&dropped).await, "the tokio task was not aborted");
        assert!(!finished.load(Ordering::SeqCst));

        // detach() instead lets it run to its end.
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        bridge
            .run(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                d.store(true, Ordering::SeqCst);
            })
            .detach();
        assert!(wait_for(&done).await, "a detached task did not finish");
    });
}

#[test]
fn dropping_the_bridge_cancels_what_runs_there() {
    let bridge = Bridge::new().unwrap();
    run(async move {
        // (An `async` block: tokio's `sleep` must be made inside the runtime.)
        let f = bridge.run(async { tokio::time::sleep(Duration::from_secs(60)).await });
        let clone = bridge.clone();
        drop(bridge);
        assert!(!f.is_finished(), "a clone keeps the runtime");
        drop(clone); // the last handle: the runtime shuts down in the background
        match f.await {
            Err(BridgeError::Cancelled) => {}
            other => panic!("expected Cancelled, got {other:?}"),
        }
    });
}

#[test]
fn spawn_runs_on_its_own() {
    let bridge = Bridge::new().unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    bridge.spawn(async move { d.store(true, Ordering::SeqCst) });
    run(async { assert!(wait_for(&done).await) });
}

/// A line echo server on our loop (call it inside `run`): keep the server while it serves.
fn line_echo_server() -> (TcpServer, u16) {
    let server = TcpServer::new(|s: IOStream, _| {
        reactor::spawn(async move {
            while let Ok(line) = s.read_until(b"\n", Some(1024)).await {
                if s.write(&line).await.is_err() {
                    break;
                }
            }
        });
    });
    let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
    (server, port)
}

/// A tokio client of the echo server on `port`: writes [`echoes`]`(i)` a line at a time,
/// reading each echo before the next; returns what came back.
async fn tokio_line_client(port: u16, i: usize) -> std::io::Result<Vec<String>> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut got = Vec::new();
    for line in echoes(i) {
        write.write_all(format!("{line}\n").as_bytes()).await?;
        got.push(lines.next_line().await?.unwrap_or_default());
    }
    Ok(got)
}

/// Client `i`'s lines.
fn echoes(i: usize) -> Vec<String> {
    (0..3).map(|j| format!("{i}.{j}")).collect()
}

#[test]
fn tokio_tcp_stream_to_our_own_server_on_our_loop() {
    let bridge = Bridge::new().unwrap();
    run(async {
        // A line echo server on our loop...
        let (_server, port) = line_echo_server();
        // ...and tokio clients on the runtime, awaited here: the loop serves them meanwhile.
        let clients: Vec<_> = (0..10)
            .map(|i| bridge.run(tokio_line_client(port, i)))
            .collect();
        for (i, c) in clients.into_iter().enumerate() {
            assert_eq!(c.await.unwrap().unwrap(), echoes(i));
        }
    });
}

#[test]
fn run_here_polls_on_our_loop_with_the_runtime_entered() {
    let bridge = Bridge::new().unwrap();
    run(async {
        let ticks = Rc::new(Cell::new(0u32));
        let ticker = {
            let ticks = ticks.clone();
            reactor::spawn(async move {
                loop {
                    reactor::sleep(Duration::from_millis(5)).await;
                    ticks.set(ticks.get() + 1);
                }
            })
        };
        let here = std::thread::current().id();
        let not_send = Rc::new(Cell::new(0)); // a `run` future could not hold this
        let (thread, value) = bridge
            .run_here(async {
                tokio::time::sleep(Duration::from_millis(100)).await; // tokio's timer
                not_send.set(42);
                (std::thread::current().id(), not_send.get())
            })
            .await;
        assert_eq!(thread, here, "polled on our loop's thread");
        assert_eq!(value, 42);
        assert!(
            ticks.get() >= 5,
            "the loop ticked only {} times",
            ticks.get()
        );
        drop(ticker);

        // Dropping it drops the future at once (inside the runtime's context).
        let dropped = Arc::new(AtomicBool::new(false));
        let flag = DropFlag(dropped.clone());
        let f = bridge.run_here(async move {
            let _flag = flag;
            tokio::time::sleep(Duration::from_secs(60)).await;
        });
        assert!(reactor::timeout(Duration::from_millis(10), f)
            .await
            .is_err());
        assert!(dropped.load(Ordering::SeqCst));
    });
}

#[test]
fn run_here_tokio_tcp_stream_to_our_own_server() {
    let bridge = Bridge::new().unwrap();
    run(async {
        let (_server, port) = line_echo_server();
        let clients: Vec<_> = (0..10)
            .map(|i| reactor::spawn(bridge.run_here(tokio_line_client(port, i))))
            .collect();
        for (i, c) in clients.into_iter().enumerate() {
            assert_eq!(c.await.unwrap().unwrap(), echoes(i));
        }
    });
}
