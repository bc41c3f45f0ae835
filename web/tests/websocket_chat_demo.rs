//! The WebSocket chat demo (`web/examples/websocket`, Tornado's `demos/websocket`) driven by
//! Python `websockets` clients (`web/tests/support/websocket_chat_clients.py`): a message from
//! one client reaches every client with the same id and html; a newcomer is sent the cache
//! (which keeps the last 200); a malformed message closes that socket with 1008 and the others
//! chat on; the page shows the cache; permessage-deflate is negotiated. Skipped, saying so,
//! without `python3` or `websockets` (`.ci/run` installs it).

mod common;

#[allow(dead_code)]
#[path = "../examples/websocket/main.rs"]
mod websocket;

use std::process::Command;

#[test]
fn python_clients_chat_through_the_demo() {
    let addr = common::serve(|| websocket::make_app().expect("the demo's templates"));
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/websocket_chat_clients.py"
    );
    let output = match Command::new("python3")
        .arg(script)
        .arg(addr.port().to_string())
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("skipped: python3 missing");
            return;
        }
        Err(e) => panic!("cannot start python3: {e}"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stdout.starts_with("skipped:") {
        println!("{stdout}");
        return;
    }
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
        ("others_keep_working", "True"),
        ("page_shows_cache", "True"),
        ("all_delivered", "True"),
        ("cache_is_last_200", "True"),
        ("nothing_more", "True"),
    ];
    let lines: Vec<(&str, &str)> = stdout.lines().filter_map(|l| l.split_once(' ')).collect();
    assert_eq!(lines, expected, "\n{stdout}\n{stderr}");
}
