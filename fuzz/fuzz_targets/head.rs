//! The request head parser and its framing decision (`http1::parse::parse_request_head`),
//! under the default limits and under small ones. Checks, besides "no panic": the head length
//! is within the input, the borrowed parts are the request's own bytes, and the framing agrees
//! with the headers it came from.
#![no_main]

use http1::parse::parse_request_head;
use http1::{BodyFraming, HTTP1ConnectionParameters, Version};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn small() -> &'static HTTP1ConnectionParameters {
    static P: OnceLock<HTTP1ConnectionParameters> = OnceLock::new();
    P.get_or_init(|| HTTP1ConnectionParameters {
        max_header_size: 256,
        max_target_size: 64,
        ..Default::default()
    })
}

fn default() -> &'static HTTP1ConnectionParameters {
    static P: OnceLock<HTTP1ConnectionParameters> = OnceLock::new();
    P.get_or_init(HTTP1ConnectionParameters::default)
}

fn check(data: &[u8], params: &HTTP1ConnectionParameters) {
    match parse_request_head(data, params) {
        Ok(None) => assert!(data.len() < params.max_header_size + 1),
        Ok(Some((head, len))) => {
            assert!(len <= data.len() && len <= params.max_header_size);
            assert!(head.target.len() <= params.max_target_size);
            assert!(!head.method.is_empty());
            assert!(head.target.ends_with(head.query) || head.query.is_empty());
            let cl = head.headers.get_all("content-length").count();
            let te = head.headers.contains("transfer-encoding");
            match head.framing {
                BodyFraming::Chunked => assert!(te && cl == 0 && head.version == Version::Http11),
                BodyFraming::Length(n) => {
                    assert!(!te && cl > 0);
                    assert_eq!(head.content_length(), Some(n));
                }
                BodyFraming::None => assert!(!te),
            }
            if head.version == Version::Http11 {
                assert_eq!(head.headers.get_all("host").count(), 1);
            }
        }
        Err(e) => assert!(
            matches!(e.status, 400 | 413 | 414 | 431 | 501 | 505),
            "{e:?}"
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    check(data, default());
    check(data, small());
});
