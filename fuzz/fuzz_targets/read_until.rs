//! `IOStream::read_until` framing over a real socket pair: the input goes in one end (then
//! EOF), `read_until(delimiter, max_bytes)` reads it back in a loop with a small read chunk
//! size (so delimiters straddle reads). Every result is checked against a model: each chunk
//! ends at the *first* delimiter after the previous one; `Unsatisfiable` only when that
//! delimiter ends past `max_bytes` (or there is none within it); `Closed` only when no
//! complete delimiter is left. The first three input bytes choose the delimiter length,
//! `max_bytes` and the read chunk size.
#![no_main]

use iostream::{IOStream, StreamError};
use libfuzzer_sys::fuzz_target;
use std::io::Write;
use std::os::unix::net::UnixStream;

thread_local! {
    static REACTOR: reactor::Reactor = reactor::Reactor::new().expect("reactor");
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let dlen = (data[0] % 4 + 1) as usize;
    let max = match data[1] {
        0 => None,
        m => Some(m as usize * 3),
    };
    let chunk = (data[2] % 32 + 1) as usize;
    let Some(delim) = data.get(3..3 + dlen) else {
        return;
    };
    let input = &data[3 + dlen..];
    REACTOR.with(|r| {
        r.block_on(async {
            let (a, mut b) = UnixStream::pair().unwrap();
            b.write_all(input).unwrap();
            drop(b); // EOF after the input
            let s = IOStream::from_unix(a).unwrap();
            s.set_read_chunk_size(chunk);
            let mut pos = 0;
            loop {
                let rest = &input[pos..];
                let next = find(rest, delim).map(|i| i + dlen);
                match s.read_until(delim, max).await {
                    Ok(got) => {
                        let end = next.expect("read_until returned without a delimiter");
                        assert_eq!(got, &rest[..end], "not the first delimiter");
                        if let Some(m) = max {
                            assert!(end <= m, "chunk of {end} > max_bytes {m}");
                        }
                        pos += end;
                    }
                    Err(StreamError::Unsatisfiable { max_bytes }) => {
                        assert_eq!(Some(max_bytes), max);
                        match next {
                            Some(end) => assert!(end > max_bytes, "delimiter within max refused"),
                            None => assert!(rest.len() > max_bytes, "unsatisfiable within max"),
                        }
                        break;
                    }
                    Err(StreamError::Closed { .. }) => {
                        // EOF: fine when no delimiter is left (or, past max_bytes, either
                        // error may come first).
                        match (next, max) {
                            (None, _) => {}
                            (Some(end), Some(m)) if end > m => {}
                            (Some(_), _) => panic!("Closed with a delimiter still buffered"),
                        }
                        break;
                    }
                    Err(e) => panic!("unexpected error {e:?}"),
                }
            }
        })
    });
});
