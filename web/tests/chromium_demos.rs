//! The chat demos' pages in headless Chromium, typed into through the DevTools protocol (the
//! driver is `web/tests/support/cdp.py`; its scenarios are the scripts next to it):
//! - `chat` (long polling): a message typed into one page reaches a Python long-poller and a
//!   second page, shown once in each;
//! - `websocket`: a message typed into one page appears in another page and reaches a Python
//!   `websockets` client.
//!
//! Skipped, saying so, without `chromium`, `python3` or the `websockets` package (`.ci/run`
//! installs all three).

mod common;

#[allow(dead_code)]
#[path = "../examples/chat/main.rs"]
mod chat;

#[allow(dead_code)]
#[path = "../examples/websocket/main.rs"]
mod websocket;

use std::net::SocketAddr;
use std::process::Command;

/// Runs `web/tests/support/<script>` against `addr`; its `name result` lines, or `None` when
/// a tool is missing (after printing "skipped: ...").
fn run_scenario(script: &str, addr: SocketAddr) -> Option<Vec<(String, String)>> {
    if Command::new("chromium").arg("--version").output().is_err() {
        println!("skipped: chromium missing");
        return None;
    }
    let path = format!("{}/tests/support/{script}", env!("CARGO_MANIFEST_DIR"));
    let output = testkit::python::run_script(path, [addr.port().to_string()])?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{stderr}"
    );
    let lines = stdout.lines().filter_map(|l| l.split_once(' '));
    Some(lines.map(|(a, b)| (a.to_owned(), b.to_owned())).collect())
}

fn all_true(names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .map(|n| (n.to_string(), "True".to_owned()))
        .collect()
}

#[test]
fn a_message_typed_in_the_chat_page_reaches_the_long_pollers() {
    let addr = common::serve(|| chat::make_app(false));
    let Some(lines) = run_scenario("chat_in_chromium.py", addr) else {
        return;
    };
    let expected = all_true(&[
        "long_poller",
        "second_page",
        "first_page",
        "input_cleared",
        "shown_once",
    ]);
    assert_eq!(lines, expected);
}

#[test]
fn a_message_typed_in_the_websocket_page_reaches_the_other_page() {
    let addr = common::serve(|| websocket::make_app().expect("the demo's templates"));
    let Some(lines) = run_scenario("websocket_in_chromium.py", addr) else {
        return;
    };
    let expected = all_true(&[
        "second_page",
        "first_page",
        "python_client",
        "input_cleared",
        "escaped",
    ]);
    assert_eq!(lines, expected);
}
