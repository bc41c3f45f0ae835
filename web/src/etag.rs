//! Entity tags (Tornado's `compute_etag` and `check_etag_header`): an `Etag` for every 200
//! response to GET or HEAD, and a 304 when the request's `If-None-Match` matches it.
//!
//! The tag is a 64-bit hash of the body (`foldhash` with a fixed seed: a short body costs a
//! few multiplications, where std's SipHash costs about a hundred instructions), in hex,
//! quoted.
//! It only has to change when the body changes; it is not a security feature. Matching uses the
//! weak comparison of RFC 9110 §13.1.2, as Tornado does: `W/"x"` matches `"x"`; `*` matches any.

use std::hash::{BuildHasher, Hasher};

use http1::header_block::hex8;

/// A computed entity tag, `"0123456789abcdef"`, kept on the stack.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Etag([u8; 18]);

impl Etag {
    /// The tag's bytes, quotes included (ASCII).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The tag as header text, quotes included.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits and quotes are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("\"\"")
    }
}

impl std::fmt::Debug for Etag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The entity tag of a response body.
///
/// ```
/// let a = web::etag::compute_etag(b"Hello, World!");
/// assert_eq!(a.as_str().len(), 18);
/// assert_eq!(a, web::etag::compute_etag(b"Hello, World!"));
/// assert_ne!(a, web::etag::compute_etag(b"Hello, World?"));
/// ```
pub fn compute_etag(body: &[u8]) -> Etag {
    Etag::from_hash(etag_hash(body))
}

/// The 64-bit hash an entity tag shows (in hex, quoted): a fixed seed, so a body has one tag
/// for the life of the binary (another foldhash release may pick other tags: only a
/// revalidation).
pub(crate) fn etag_hash(body: &[u8]) -> u64 {
    let mut h = foldhash::fast::FixedState::with_seed(0).build_hasher();
    h.write(body);
    h.finish()
}

impl Etag {
    /// The tag showing `hash`: `"` + 16 lowercase hex digits + `"`.
    pub(crate) fn from_hash(hash: u64) -> Etag {
        let mut out = [b'"'; 18];
        out[1..9].copy_from_slice(&hex8((hash >> 32) as u32));
        out[9..17].copy_from_slice(&hex8(hash as u32));
        Etag(out)
    }
}

/// Whether an `If-None-Match` header value matches `etag` (so the answer is 304).
///
/// ```
/// use web::etag::etag_matches;
/// assert!(etag_matches("\"abc\"", "\"abc\""));
/// assert!(etag_matches("W/\"abc\"", "\"abc\""));
/// assert!(etag_matches("\"x\", W/\"abc\"", "\"abc\""));
/// assert!(etag_matches("*", "\"abc\""));
/// assert!(!etag_matches("\"abd\"", "\"abc\""));
/// ```
pub fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    if etag.is_empty() {
        return false;
    }
    let ours = strip_weak(etag);
    let mut first = true;
    for tag in tags(if_none_match) {
        if first && tag == "*" {
            return true;
        }
        first = false;
        if tag != "*" && strip_weak(tag) == ours {
            return true;
        }
    }
    false
}

fn strip_weak(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// The tags of a header value: each `*` or `W/"..."` or `"..."`, anything else skipped
/// (the regex `\*|(?:W/)?"[^"]*"` that Tornado scans with).
fn tags(value: &str) -> impl Iterator<Item = &str> {
    let bytes = value.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let start = i;
            if bytes[i] == b'*' {
                i += 1;
                return Some(&value[start..i]);
            }
            let quote = if bytes[i..].starts_with(b"W/\"") {
                i + 2
            } else if bytes[i] == b'"' {
                i
            } else {
                i += 1;
                continue;
            };
            match bytes[quote + 1..].iter().position(|&b| b == b'"') {
                Some(len) => {
                    i = quote + 1 + len + 1;
                    return Some(&value[start..i]);
                }
                None => {
                    i = bytes.len();
                    return None;
                }
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_is_the_hash_in_hex() {
        for body in [&b""[..], b"Hello, World!", &[0xff; 1000]] {
            let mut h = foldhash::fast::FixedState::with_seed(0).build_hasher();
            h.write(body);
            assert_eq!(
                compute_etag(body).as_str(),
                format!("\"{:016x}\"", h.finish())
            );
        }
    }

    #[test]
    fn bodies_get_distinct_tags() {
        let mut bodies: Vec<Vec<u8>> = (0..2000u32).map(|i| i.to_string().into_bytes()).collect();
        bodies.extend((0..40).map(|n| vec![0; n])); // lengths alone must tell them apart
        let tags: std::collections::HashSet<_> = bodies.iter().map(|b| compute_etag(b)).collect();
        assert_eq!(tags.len(), bodies.len());
    }

    #[test]
    fn tag_shape() {
        let t = compute_etag(b"");
        let s = t.as_str();
        assert!(s.starts_with('"') && s.ends_with('"'));
        assert!(s[1..17].bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn scanning() {
        let v: Vec<_> = tags(r#" "a" ,W/"b",junk, *, "c,d" "unterminated"#).collect();
        assert_eq!(v, [r#""a""#, r#"W/"b""#, "*", r#""c,d""#]);
    }

    #[test]
    fn matching() {
        assert!(etag_matches(r#""a", "b""#, r#""b""#));
        assert!(etag_matches(r#""a""#, r#"W/"a""#));
        assert!(etag_matches(r#"W/"a""#, r#"W/"a""#));
        assert!(!etag_matches("", r#""a""#));
        assert!(!etag_matches(r#""a""#, ""));
        assert!(!etag_matches("a", r#""a""#), "unquoted is not a tag");
        // `*` counts only as the first (Tornado's rule).
        assert!(!etag_matches(r#""x", *"#, r#""a""#));
        assert!(etag_matches(" *", r#""a""#));
    }
}
