//! The HTTP client's response-head parser (through `http1::fuzzing::parse_response_head`),
//! on the input cut at its first empty line (as the client cuts it). Checks, besides "no
//! panic": a status in 100..=999; the framing agrees with the headers (Transfer-Encoding ⇒
//! chunked, Content-Length ⇒ that length, neither ⇒ close-delimited or none; the status-based
//! "no body" of 1xx/204/304 and HEAD is applied by the caller); and it agrees
//! with `httparse` alone: httparse rejects ⇒ we reject.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The head as the client hands it over: up to and including the first empty line.
    let end = data
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| i + 2)
        .into_iter()
        .chain(data.windows(3).position(|w| w == b"\n\r\n").map(|i| i + 3))
        .min();
    let Some(end) = end else {
        return;
    };
    let head = &data[..end];
    let ours = http1::fuzzing::parse_response_head(head);

    let mut fields = [httparse::EMPTY_HEADER; 100];
    let mut theirs = httparse::Response::new(&mut fields);
    let parsed = theirs.parse(head);
    if parsed.is_err() {
        assert!(ours.is_err(), "httparse rejects but the client accepts");
    }
    if let Ok((resp, framing, _keep_alive)) = ours {
        assert!((100..=999).contains(&resp.code));
        assert_eq!(Some(resp.code), theirs.code);
        let te = resp.headers.contains("transfer-encoding");
        let cl = resp.headers.get("content-length");
        if te {
            assert_eq!(framing, "Chunked");
        } else if let Some(n) = cl {
            // (204/304/1xx and HEAD are made bodiless later, by the caller, not here.)
            let n: u64 = n.trim().parse().expect("accepted Content-Length is a number");
            assert_eq!(framing, format!("Length({n})"));
        } else {
            assert!(framing == "Close" || framing == "None", "{framing}");
        }
    }
});
