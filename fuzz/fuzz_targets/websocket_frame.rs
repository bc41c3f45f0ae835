//! The WebSocket frame decoder and message assembler (`web::websocket::MessageReader`), fed
//! arbitrary bytes as the connection would feed them: in pieces (sizes from the first bytes),
//! consumed as each call says, in both roles, with and without permessage-deflate (window
//! bits and context takeover from the first byte). Checks: no panic; `consumed` never passes
//! the buffer; control payloads ≤ 125 bytes and messages ≤ `max_message_size`; a close code is
//! valid; the events and the verdict do not depend on how the input was split (compared with
//! one whole-buffer pass; with deflate, two faults in one inflated piece may be found in
//! either order).
#![no_main]

use libfuzzer_sys::fuzz_target;
use web::websocket::close::is_valid_code;
use web::websocket::{Event, Inflater, MessageReader, ProtocolError, Role};

const MAX_MESSAGE: usize = 64 * 1024;

/// An event, owned, to compare the runs.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, String),
}

fn reader(config: u8) -> MessageReader {
    let role = if config & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    if config & 2 == 0 {
        return MessageReader::new(role, MAX_MESSAGE);
    }
    let takeover = config & 4 != 0;
    let window_bits = 8 + (config >> 3) % 8;
    MessageReader::with_deflate(role, MAX_MESSAGE, Inflater::new(window_bits, takeover))
}

/// Reads `input` arriving `piece` bytes at a time: the events, then the error if one ended it.
fn run(config: u8, input: &[u8], piece: usize) -> (Vec<Seen>, Option<ProtocolError>) {
    let mut reader = reader(config);
    let mut buf: Vec<u8> = Vec::new(); // the connection's read buffer
    let mut fed = 0;
    let mut seen = Vec::new();
    loop {
        let len = buf.len();
        let decoded = match reader.read(&mut buf) {
            Ok(decoded) => decoded,
            Err(e) => return (seen, Some(e)),
        };
        assert!(decoded.consumed <= len);
        let consumed = decoded.consumed;
        let event = decoded.event.map(|event| match event {
            Event::Text(text) => {
                assert!(text.len() <= MAX_MESSAGE);
                Seen::Text(text.to_string())
            }
            Event::Binary(data) => {
                assert!(data.len() <= MAX_MESSAGE);
                Seen::Binary(data.to_vec())
            }
            Event::Ping(payload) => {
                assert!(payload.len() <= 125);
                Seen::Ping(payload.to_vec())
            }
            Event::Pong(payload) => {
                assert!(payload.len() <= 125);
                Seen::Pong(payload.to_vec())
            }
            Event::Close(close) => {
                assert!(close.code == 1005 || is_valid_code(close.code));
                assert!(close.reason.len() <= 123);
                Seen::Close(close.code, close.reason.to_string())
            }
        });
        buf.drain(..consumed);
        match event {
            Some(event) => seen.push(event),
            None if fed == input.len() => return (seen, None),
            None => {
                let n = piece.min(input.len() - fed);
                buf.extend_from_slice(&input[fed..fed + n]);
                fed += n;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [config, split, input @ ..] = data else {
        return;
    };
    let piece = usize::from(*split).max(1);
    let whole = run(*config, input, input.len().max(1));
    let pieces = run(*config, input, piece);
    assert_eq!(whole.0, pieces.0, "events, split into pieces of {piece}");
    match (whole.1, pieces.1) {
        (a, b) if a == b => {}
        // One compressed piece can hold two faults (bad UTF-8 in its output, then an
        // undecodable block or too much output): which is found first depends on where the
        // piece ends. Both fail the connection.
        (Some(a), Some(b)) if *config & 2 != 0 && inflation_fault(a) && inflation_fault(b) => {}
        (a, b) => panic!("verdicts differ: whole {a:?}, pieces of {piece} {b:?}"),
    }
    if let Some(e) = whole.1 {
        assert!(matches!(e.close_code(), 1002 | 1007 | 1009));
    }
});

fn inflation_fault(e: ProtocolError) -> bool {
    matches!(
        e,
        ProtocolError::InvalidUtf8 | ProtocolError::InvalidDeflate | ProtocolError::MessageTooBig
    )
}
