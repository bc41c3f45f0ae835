//! The chunked body decoder (`http1::chunked::ChunkedDecoder`), driven the way the connection
//! drives it: the input arrives in pieces (sizes taken from the first bytes), the caller
//! consumes what each step says. Checks: the decoded body and the verdict do not depend on how
//! the input was split (compared with one whole-buffer pass), the body never exceeds
//! `max_body_size`, and `total()` counts exactly the bytes delivered.
#![no_main]

use http1::chunked::{ChunkedDecoder, Step};
use libfuzzer_sys::fuzz_target;

const MAX_BODY: u64 = 4096;
const MAX_TRAILER: usize = 512;

/// Decodes `input` arriving `piece` bytes at a time. Returns (body, Ok(done) | Err(status)).
fn run(input: &[u8], piece: usize) -> (Vec<u8>, Result<bool, u16>) {
    let mut d = ChunkedDecoder::new(MAX_BODY, MAX_TRAILER);
    let mut buf: Vec<u8> = Vec::new(); // the connection's read buffer
    let mut fed = 0;
    let mut body = Vec::new();
    loop {
        match d.decode(&buf) {
            Err(e) => return (body, Err(e.status)),
            Ok(Step::Data { skip, len }) => {
                assert!(len > 0 && skip + len <= buf.len());
                body.extend_from_slice(&buf[skip..skip + len]);
                buf.drain(..skip + len);
            }
            Ok(Step::NeedMore { skip }) => {
                assert!(skip <= buf.len());
                buf.drain(..skip);
                if fed == input.len() {
                    return (body, Ok(false)); // the input ended first
                }
                let n = piece.min(input.len() - fed);
                buf.extend_from_slice(&input[fed..fed + n]);
                fed += n;
            }
            Ok(Step::Done { skip }) => {
                assert!(skip <= buf.len());
                assert!(d.is_done());
                assert_eq!(d.total(), body.len() as u64);
                return (body, Ok(true));
            }
        }
        assert!(body.len() as u64 <= MAX_BODY);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, input)) = data.split_first() else {
        return;
    };
    let whole = run(input, input.len().max(1));
    let pieces = run(input, (split as usize % 17) + 1);
    let bytewise = run(input, 1);
    // Same verdict (done / error status / ran out) and same body, however it was split; a
    // decoder that errors may have delivered less, but never different, data before.
    for other in [&pieces, &bytewise] {
        match (&whole.1, &other.1) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b, "verdict differs by split");
                if *a {
                    assert_eq!(whole.0, other.0, "body differs by split");
                }
            }
            (Err(a), Err(b)) => assert_eq!(a, b),
            // Input that ends early may hide an error seen later in a bigger piece: only a
            // whole-buffer error vs a piecewise "ran out" would be legitimate, never the reverse.
            (Err(_), Ok(false)) | (Ok(false), Err(_)) => {}
            (a, b) => panic!("whole {a:?} vs pieces {b:?}"),
        }
        let n = whole.0.len().min(other.0.len());
        assert_eq!(whole.0[..n], other.0[..n]);
    }
});
