//! Differential: our head parser against `httparse` alone on the same bytes. Ours adds rules
//! on top of httparse's syntax (Host, Content-Length, Transfer-Encoding, limits, HTTP/0.9), so
//! the relationship is one-sided:
//! - httparse rejects  => we reject;
//! - we accept a complete head => httparse accepts it, with the same length, method, target,
//!   version and header count;
//! - we wait for more bytes => httparse says partial too.
//! (httparse accepting what we reject is expected: that is our stricter meaning.)
#![no_main]

use http1::parse::{parse_request_head, MAX_HEADERS};
use http1::{HTTP1ConnectionParameters, Version};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let params = HTTP1ConnectionParameters::default();
    let ours = parse_request_head(data, &params);

    let mut theirs_fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut theirs_fields);
    let theirs = req.parse(data);

    match (&ours, &theirs) {
        (Ok(_), Err(e)) => panic!("httparse rejects ({e}) but we accept"),
        (Ok(Some((head, len))), Ok(httparse::Status::Complete(n))) => {
            assert_eq!(len, n);
            assert_eq!(Some(head.method), req.method);
            assert_eq!(Some(head.target), req.path);
            let v = match head.version {
                Version::Http10 => 0,
                Version::Http11 => 1,
            };
            assert_eq!(Some(v), req.version);
            assert_eq!(head.headers.len(), req.headers.len());
        }
        (Ok(Some(_)), Ok(httparse::Status::Partial)) => {
            panic!("we accept a head httparse calls partial")
        }
        (Ok(None), Ok(httparse::Status::Complete(_))) => {
            panic!("we wait on a head httparse calls complete")
        }
        _ => {}
    }
});
