//! The demo's WebSocket routes driven by a client we did not write: the Python `websockets`
//! library (`web/tests/websocket/client.py`): echo of text, binary, a 4 MiB message and a
//! fragmented one; permessage-deflate negotiated and used; ping/pong; close codes both ways;
//! bad frames (reserved bits and opcodes, a fragmented ping, an invalid close code, an
//! unmasked frame: 1002; invalid UTF-8: 1007; a message over 10 MiB: 1009); a panicking
//! `on_message` (1011) while the server goes on. Skipped, saying so, without `python3` or
//! `websockets` (`.ci/run` installs it).

mod common;

#[allow(dead_code)]
#[path = "../examples/demo.rs"]
mod demo;

#[test]
fn python_websockets_client() {
    let addr = common::serve(|| web::Application::new(demo::routes()));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/websocket/client.py");
    let Some(output) = testkit::python::run_script(script, [addr.port().to_string()]) else {
        return; // "skipped: ..." printed
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "client failed:\n{stdout}\n{stderr}"
    );
    let expected = [
        ("text", "True"),
        ("binary", "True"),
        ("large", "True"),
        ("fragmented", "True"),
        ("ping", "True"),
        ("close", "True"),
        ("deflate", "True"),
        ("deflate_echo", "True"),
        ("close_no_code", "1005"),
        ("reserved_bits", "1002"),
        ("reserved_opcode", "1002"),
        ("fragmented_ping", "1002"),
        ("bad_close_code", "1002"),
        ("invalid_utf8", "1007"),
        ("unmasked", "1002"),
        ("too_big", "1009"),
        ("panic", "1011"),
        ("after_panic", "True"),
    ];
    let lines: Vec<(&str, &str)> = stdout.lines().filter_map(|l| l.split_once(' ')).collect();
    assert_eq!(lines, expected, "\n{stdout}\n{stderr}");
}
