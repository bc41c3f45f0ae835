//! The multipart/form-data parser (`web::multipart`): the first line of the input is the
//! Content-Type header value, the rest the body. No panic; at most 100 parts; every file body
//! is a slice of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use web::multipart::{boundary, parse_multipart_form_data, MAX_PARTS};
use web::Arguments;

fuzz_target!(|data: &[u8]| {
    let (ct, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let Ok(ct) = std::str::from_utf8(ct) else {
        return;
    };
    // Through the header parser, and with a boundary taken as is.
    let b = boundary(ct);
    if let Some(b) = &b {
        assert!(!b.is_empty() && b.len() <= 70);
    }
    for boundary in b.iter().map(String::as_str).chain([ct]) {
        if boundary.is_empty() {
            continue;
        }
        let (mut args, mut files) = (Arguments::new(), Vec::new());
        let r = parse_multipart_form_data(boundary, body, &mut args, &mut files);
        assert!(files.len() + args.len() <= MAX_PARTS + 1000);
        if r.is_ok() {
            assert!(files.len() <= MAX_PARTS);
        }
        let total: usize = files.iter().map(|f| f.body.len()).sum();
        assert!(total <= body.len());
    }
});
