//! Cookie parsing (`web::cookies::parse_cookie`) and Set-Cookie writing (`Cookie`): no
//! panic; parsed names and values are trimmed pieces of the header; a Set-Cookie value that is
//! accepted can never split the header or smuggle an attribute.
#![no_main]

use libfuzzer_sys::fuzz_target;
use web::cookies::parse_cookie;
use web::Cookie;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let mut count = 0;
    for (name, value) in parse_cookie(header) {
        assert_eq!(name, name.trim());
        assert!(!name.contains(';') && !value.contains(';'));
        assert!(!name.contains('='));
        // (A chunk `""` gives ("", ""): kept as Tornado keeps it, the empty check comes
        // before unquoting.)
        assert!(header.contains(name) && header.contains(value));
        count += 1;
    }
    assert!(count <= header.len());

    // Writing: split the input into name / value / domain / path at the first three '\0's.
    let mut parts = header.splitn(4, '\0');
    let (name, value) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (domain, path) = (parts.next(), parts.next());
    let mut c = Cookie::new(name, value);
    if let Some(d) = domain {
        c = c.domain(d);
    }
    c = c.path(path);
    if let Ok(v) = c.to_header_value() {
        assert!(!v.contains('\r') && !v.contains('\n') && !v.contains('\0'));
        // Exactly the attributes we set: `name=value` then `; Attr` pieces, none smuggled.
        let attrs = v.split("; ").skip(1).count();
        assert!(
            attrs <= 2 + usize::from(domain.is_some()) + usize::from(path.is_some()) + 4,
            "{v}"
        );
        assert!(v.starts_with(name));
    }
});
