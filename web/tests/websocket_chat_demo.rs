//! The WebSocket chat demo (`web/examples/websocket`, Tornado's `demos/websocket`) driven by
//! Python `websockets` clients (`web/tests/support/websocket_chat_clients.py`): a message from
//! one client reaches every client with the same id and html; a newcomer is sent the cache
//! (which keeps the last 200); a malformed message closes that socket with 1008 (a binary one
//! with 1003) and the others chat on; the page shows the cache; permessage-deflate is
//! negotiated. Once they have all gone, the room has no socket left. Skipped, saying so,
//! without `python3` or `websockets` (`.ci/run` installs it).

mod common;

#[allow(dead_code)]
#[path = "../examples/websocket/main.rs"]
mod websocket;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

thread_local! {
    /// The server thread's room (set where the app is made).
    static ROOM: RefCell<Option<Rc<websocket::Room>>> = const { RefCell::new(None) };
}

#[test]
fn python_clients_chat_through_the_demo() {
    let (tx, rx) = mpsc::channel();
    let addr = common::serve(move || {
        let room = websocket::new_room().expect("the demo's templates");
        ROOM.with(|r| *r.borrow_mut() = Some(room.clone()));
        tx.send(reactor::Reactor::current().remote()).unwrap();
        websocket::make_app_with(room).unwrap()
    });
    let remote = rx.recv().unwrap();
    // The open sockets in the room, counted on the server's loop.
    let waiters = move || {
        let (tx, rx) = mpsc::channel();
        remote.add_callback(move || {
            let n = ROOM.with(|r| r.borrow().as_ref().unwrap().waiters());
            tx.send(n).unwrap();
        });
        rx.recv_timeout(Duration::from_secs(5)).unwrap()
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/websocket_chat_clients.py"
    );
    let Some(output) = testkit::python::run_script(script, [addr.port().to_string()]) else {
        return; // "skipped: ..." printed
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "clients failed:\n{stdout}\n{stderr}"
    );
    let expected = [
        ("deflate", "True"),
        ("same_message", "True"),
        ("body", "True"),
        ("html", "True"),
        ("uuid4", "True"),
        ("newcomer_gets_cache", "True"),
        ("malformed_closed", "1008"),
        ("no_body_closed", "1008"),
        ("binary_closed", "1003"),
        ("others_keep_working", "True"),
        ("page_shows_cache", "True"),
        ("all_delivered", "True"),
        ("cache_is_last_200", "True"),
        ("nothing_more", "True"),
    ];
    let lines: Vec<(&str, &str)> = stdout.lines().filter_map(|l| l.split_once(' ')).collect();
    assert_eq!(lines, expected, "\n{stdout}\n{stderr}");
    // Every client has gone: each socket left the room as it closed (Tornado's `on_close`).
    let t = Instant::now();
    while waiters() != 0 && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(waiters(), 0);
}
