//! Query and form decoding (`web::Arguments::parse_urlencoded`, `web::escape::url_unescape`):
//! no panic, at most 1,000 arguments, every decoded name/value no longer than its input,
//! and `url_unescape` of `url_escape` is the identity.
#![no_main]

use libfuzzer_sys::fuzz_target;
use web::escape::{url_escape, url_unescape};
use web::Arguments;

fuzz_target!(|data: &[u8]| {
    let mut args = Arguments::new();
    let r = args.parse_urlencoded(data);
    assert!(args.len() <= 1000);
    if r.is_ok() {
        let fields = data.split(|&b| b == b'&').filter(|f| !f.is_empty()).count();
        assert_eq!(args.len(), fields);
    }
    let decoded: usize = args.iter_bytes().map(|(n, v)| n.len() + v.len()).sum();
    assert!(decoded <= data.len());
    for item in args.iter() {
        let _ = item;
    }
    let _ = url_unescape(data, true);
    let _ = url_unescape(data, false);
    if let Ok(s) = std::str::from_utf8(data) {
        for plus in [true, false] {
            let escaped = url_escape(s, plus);
            assert_eq!(&*url_unescape(escaped.as_bytes(), plus), data);
        }
    }
});
