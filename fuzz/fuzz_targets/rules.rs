//! The field rules of both roles (`http1::rules`) against a plain model written from RFC 9110
//! and RFC 9112: each input line is one field value, its first byte picks the field
//! (`Content-Length`, `Transfer-Encoding` or `Connection`). Checks: `ContentLength` accepts
//! exactly plain-digit values of one number; `TransferCodings` refuses a coding after
//! `chunked` when it is added and accepts exactly "only `chunked`, last"; the framing of both
//! roles follows from those; `Connection` tokens are whole list elements.
#![no_main]

use http1::rules::{body_framing, ConnectionTokens, ContentLength, Framing, Role, TransferCodings};
use libfuzzer_sys::fuzz_target;

/// The list elements of a value, as RFC 9110 §5.6.1 reads them.
fn elements(value: &[u8]) -> Vec<Vec<u8>> {
    value
        .split(|&b| b == b',')
        .map(|e| e.trim_ascii().to_vec())
        .filter(|e| !e.is_empty())
        .collect()
}

fn coding_name(coding: &[u8]) -> Vec<u8> {
    let name = coding.split(|&b| b == b';').next().unwrap_or(b"");
    name.trim_ascii().to_ascii_lowercase()
}

fuzz_target!(|data: &[u8]| {
    let (mut cl, mut te, mut conn) = (
        ContentLength::default(),
        TransferCodings::default(),
        ConnectionTokens::default(),
    );
    // The model's view of the same fields.
    let mut lengths: Vec<&[u8]> = Vec::new();
    let mut codings: Vec<Vec<u8>> = Vec::new();
    let (mut te_present, mut te_refused) = (false, false);
    let mut tokens: Vec<Vec<u8>> = Vec::new();
    let mut cl_refused = false;
    for line in data.split(|&b| b == b'\n') {
        let Some((&kind, value)) = line.split_first() else {
            continue;
        };
        match kind % 3 {
            0 if !cl_refused => {
                lengths.push(value);
                let plain =
                    !value.is_empty() && value.len() <= 19 && value.iter().all(u8::is_ascii_digit);
                let n = |v: &[u8]| v.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
                let agree = plain
                    && lengths.iter().all(|v| {
                        v.len() <= 19 && v.iter().all(u8::is_ascii_digit) && n(v) == n(value)
                    });
                let ours = cl.add(value);
                assert_eq!(ours.is_ok(), agree, "{lengths:?}");
                if ours.is_err() {
                    cl_refused = true;
                } else {
                    assert_eq!(cl.value(), Some(n(value)));
                }
            }
            1 if !te_refused => {
                te_present = true;
                let before = codings.len();
                codings.extend(elements(value).iter().map(|c| coding_name(c)));
                let after_chunked = codings[..codings.len().saturating_sub(1)]
                    .iter()
                    .any(|c| c == b"chunked")
                    && codings.len() > before;
                let ours = te.add(value);
                assert_eq!(ours.is_err(), after_chunked, "{codings:?}");
                te_refused = ours.is_err();
            }
            2 => {
                conn.add(value);
                tokens.extend(elements(value).iter().map(|t| t.to_ascii_lowercase()));
            }
            _ => {}
        }
    }
    // Connection: whole tokens only.
    let has = |t: &[u8]| tokens.iter().any(|x| x == t);
    assert_eq!(conn.close, has(b"close"));
    assert_eq!(conn.keep_alive, has(b"keep-alive"));
    assert_eq!(conn.upgrade, has(b"upgrade"));
    if cl_refused || te_refused {
        return;
    }
    assert_eq!(te.is_present(), te_present);
    // Transfer-Encoding: chunked once, last, nothing else.
    if te_present {
        let last_chunked = codings.last().is_some_and(|c| c == b"chunked");
        let only_chunked = codings.iter().all(|c| c == b"chunked");
        match te.check() {
            Ok(()) => assert!(last_chunked && only_chunked, "{codings:?}"),
            Err(e) if e.status == 501 => assert!(last_chunked && !only_chunked),
            Err(e) => assert!(e.status == 400 && !last_chunked, "{codings:?}"),
        }
    }
    // Framing, both roles, both versions.
    for http10 in [false, true] {
        let server = body_framing(Role::Server, http10, cl, te);
        let client = body_framing(Role::Client, http10, cl, te);
        match (te_present, cl.value()) {
            (true, _) => {
                assert_eq!(server, client, "CL/TE rules are the same for both roles");
                let ok = cl.value().is_none() && !http10 && te.check().is_ok();
                assert_eq!(server.is_ok(), ok);
                if ok {
                    assert_eq!(server, Ok(Framing::Chunked));
                }
            }
            (false, Some(0)) => {
                assert_eq!(server, Ok(Framing::None));
                assert_eq!(client, Ok(Framing::Length(0)));
            }
            (false, Some(n)) => {
                assert_eq!(server, Ok(Framing::Length(n)));
                assert_eq!(client, Ok(Framing::Length(n)));
            }
            (false, None) => {
                assert_eq!(server, Ok(Framing::None));
                assert_eq!(client, Ok(Framing::UntilClose));
            }
        }
    }
});
