//! A WebSocket client on the command line: connects to a URL, sends each further argument as a
//! text message and prints what comes back (Tornado's `websocket_connect` in a few lines).
//!
//! ```text
//! cargo run -p web --example ws_client -- ws://127.0.0.1:8888/ws/echo hello world
//! ```
//!
//! permessage-deflate is offered; the agreed parameters and subprotocol are printed first.

use std::io::Write;
use std::process::ExitCode;

use web::websocket::{websocket_connect, ClientMessage, DeflateOptions, WebSocketConnectOptions};

#[allow(dead_code)] // the test includes this file and calls `run` only
fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(url) = args.next() else {
        eprintln!("usage: ws_client ws://host:port/path [message ...]");
        return ExitCode::from(2);
    };
    let messages: Vec<String> = args.collect();
    match run(&url, &messages, &mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Connects to `url`, sends each message and writes the answers (one line each) to `out`.
pub fn run(url: &str, messages: &[String], out: &mut dyn Write) -> Result<(), String> {
    let reactor = reactor::Reactor::new().map_err(|e| format!("cannot start the reactor: {e}"))?;
    reactor.block_on(async {
        let options =
            WebSocketConnectOptions::default().compression(Some(DeflateOptions::default()));
        let ws = websocket_connect(url, options)
            .await
            .map_err(|e| e.to_string())?;
        let compression = ws.deflate().map(|d| d.header_value());
        let print = |out: &mut dyn Write, line: String| {
            writeln!(out, "{line}").map_err(|e| format!("cannot print: {e}"))
        };
        print(
            out,
            format!(
                "connected to {url} (compression: {}, subprotocol: {})",
                compression.as_deref().unwrap_or("none"),
                ws.selected_subprotocol().unwrap_or("none")
            ),
        )?;
        for message in messages {
            ws.write_message(message, false)
                .await
                .map_err(|e| format!("send failed: {e}"))?;
            match ws.read_message().await {
                Some(ClientMessage::Text(text)) => print(out, text)?,
                Some(ClientMessage::Binary(bytes)) => {
                    print(out, format!("<{} binary bytes>", bytes.len()))?
                }
                None => {
                    return Err(format!(
                        "the server closed the connection (code {:?}, reason {:?})",
                        ws.close_code(),
                        ws.close_reason()
                    ))
                }
            }
        }
        ws.close(Some(1000), "").await;
        Ok(())
    })
}
