//! Signed cookies (Tornado's `set_signed_cookie` / `get_signed_cookie`, `create_signed_value`
//! / `decode_signed_value`, format version 2).
//!
//! A signed value carries its name, a timestamp and the version of the key that signed it,
//! and ends with an HMAC-SHA256 over all of that:
//!
//! ```text
//! 2|1:0|10:1700000000|4:name|8:dmFsdWU=|<64 hex digits of HMAC-SHA256>
//!   key  timestamp    name   base64(value)
//! ```
//!
//! (each field is `length:text`, so no field can be confused with another; the same format as
//! Tornado's, so cookies can move between the two given the same secret). Reading checks the
//! signature in constant time, that the name is the one asked for (a value signed for one
//! cookie cannot be replayed as another), that the timestamp is not older than the maximum age
//! (31 days by default) nor from the future, and that the key version is known. Anything
//! else — tampered, truncated, expired, signed with a retired key — reads as `None`.
//!
//! Keys rotate with versions: [`CookieSecret::with_versions`] holds several keys and signs
//! with the current one; values signed with an older key still in the set verify until it is
//! dropped.
//!
//! ```
//! use web::signed_cookies::{create_signed_value, decode_signed_value, CookieSecret};
//! let secret = CookieSecret::new("a long random secret");
//! let now = 1_700_000_000;
//! let signed = create_signed_value(&secret, "user", b"alice", now);
//! assert_eq!(decode_signed_value(&secret, "user", &signed, 31.0, now).as_deref(), Some(&b"alice"[..]));
//! assert_eq!(decode_signed_value(&secret, "other", &signed, 31.0, now), None);
//! let later = now + 32 * 86_400;
//! assert_eq!(decode_signed_value(&secret, "user", &signed, 31.0, later), None);
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Default maximum age of a signed cookie when read, in days (Tornado's 31).
pub const DEFAULT_MAX_AGE_DAYS: f64 = 31.0;

/// Default lifetime of a signed cookie set by [`Context::set_signed_cookie`](crate::Context::set_signed_cookie), in days
/// (Tornado's `expires_days=30`).
pub const DEFAULT_EXPIRES_DAYS: u64 = 30;

/// The keys of signed cookies (Tornado's `cookie_secret`, a string or a dict of versions).
#[derive(Clone)]
pub struct CookieSecret {
    keys: BTreeMap<u32, Vec<u8>>,
    current: u32,
}

impl std::fmt::Debug for CookieSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the keys.
        f.debug_struct("CookieSecret")
            .field("versions", &self.keys.keys().collect::<Vec<_>>())
            .field("current", &self.current)
            .finish()
    }
}

impl CookieSecret {
    /// One key, version 0.
    pub fn new(key: impl AsRef<[u8]>) -> CookieSecret {
        CookieSecret {
            keys: BTreeMap::from([(0, key.as_ref().to_vec())]),
            current: 0,
        }
    }

    /// Several keys by version, signing with `current` (which must be among them). Values
    /// signed with any version in the set verify.
    ///
    /// ```
    /// use web::signed_cookies::{create_signed_value, decode_signed_value, CookieSecret};
    /// let old = CookieSecret::new("old key");
    /// let signed = create_signed_value(&old, "n", b"v", 1000);
    /// let rotated = CookieSecret::with_versions([(0, "old key"), (1, "new key")], 1).unwrap();
    /// assert!(decode_signed_value(&rotated, "n", &signed, 31.0, 1000).is_some());
    /// let retired = CookieSecret::with_versions([(1, "new key")], 1).unwrap();
    /// assert!(decode_signed_value(&retired, "n", &signed, 31.0, 1000).is_none());
    /// ```
    pub fn with_versions<K: AsRef<[u8]>>(
        keys: impl IntoIterator<Item = (u32, K)>,
        current: u32,
    ) -> Option<CookieSecret> {
        let keys: BTreeMap<u32, Vec<u8>> = keys
            .into_iter()
            .map(|(v, k)| (v, k.as_ref().to_vec()))
            .collect();
        keys.contains_key(&current)
            .then_some(CookieSecret { keys, current })
    }

    /// The version new values are signed with.
    pub fn current_version(&self) -> u32 {
        self.current
    }

    fn mac(&self, version: u32) -> Option<HmacSha256> {
        let key = self.keys.get(&version)?;
        HmacSha256::new_from_slice(key).ok()
    }
}

/// Seconds since the Unix epoch, now.
pub fn now_timestamp() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn push_field(out: &mut String, field: &str) {
    let _ = write!(out, "{}:{}|", field.len(), field);
}

/// Signs `value` for cookie `name` at `timestamp` (seconds since the epoch) with the current
/// key (Tornado's `create_signed_value`, version 2).
pub fn create_signed_value(
    secret: &CookieSecret,
    name: &str,
    value: &[u8],
    timestamp: u64,
) -> String {
    let mut out = String::from("2|");
    push_field(&mut out, &secret.current.to_string());
    push_field(&mut out, &timestamp.to_string());
    push_field(&mut out, name);
    push_field(&mut out, &STANDARD.encode(value));
    let mut mac = secret.mac(secret.current).expect("the current key exists");
    mac.update(out.as_bytes());
    for b in mac.finalize().into_bytes() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Reads one `length:text|` field at the start of `s`; the field and the rest.
fn take_field(s: &str) -> Option<(&str, &str)> {
    let (len, rest) = s.split_once(':')?;
    if len.is_empty() || len.len() > 10 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let len: usize = len.parse().ok()?;
    let field = rest.get(..len)?;
    let rest = rest.get(len..)?.strip_prefix('|')?;
    Some((field, rest))
}

/// Verifies a signed value for cookie `name` at time `now` (seconds since the epoch):
/// the value, or `None` if it is tampered with, for another name, signed with an unknown
/// key, older than `max_age_days`, or more than 31 days in the future (Tornado's
/// `decode_signed_value`, version 2).
pub fn decode_signed_value(
    secret: &CookieSecret,
    name: &str,
    signed: &str,
    max_age_days: f64,
    now: u64,
) -> Option<Vec<u8>> {
    let rest = signed.strip_prefix("2|")?;
    let (version, rest) = take_field(rest)?;
    let (timestamp, rest) = take_field(rest)?;
    let (cookie_name, rest) = take_field(rest)?;
    let (value, signature) = take_field(rest)?;
    let signed_part = &signed[..signed.len() - signature.len()];
    let version: u32 = version.parse().ok()?;
    let mut mac = secret.mac(version)?;
    mac.update(signed_part.as_bytes());
    let expected = decode_hex(signature)?;
    mac.verify_slice(&expected).ok()?;
    if cookie_name != name {
        return None;
    }
    let timestamp: u64 = timestamp.parse().ok()?;
    let max_age = (max_age_days * 86_400.0).max(0.0) as u64;
    if timestamp < now.saturating_sub(max_age) {
        return None; // expired
    }
    if timestamp > now + 31 * 86_400 {
        return None; // from the future: refuse (Tornado does the same)
    }
    STANDARD.decode(value).ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tornado_format() {
        let s = CookieSecret::new("secret");
        let v = create_signed_value(&s, "name", b"value", 1_300_000_000);
        assert!(
            v.starts_with("2|1:0|10:1300000000|4:name|8:dmFsdWU=|"),
            "{v}"
        );
        assert_eq!(v.len(), "2|1:0|10:1300000000|4:name|8:dmFsdWU=|".len() + 64);
    }

    #[test]
    fn every_tamper_is_none() {
        let s = CookieSecret::new("secret");
        let now = 1_700_000_000;
        let v = create_signed_value(&s, "n", b"hello", now);
        assert!(decode_signed_value(&s, "n", &v, 31.0, now).is_some());
        // Flip each character in turn.
        for i in 0..v.len() {
            let mut b = v.clone().into_bytes();
            b[i] = if b[i] == b'0' { b'1' } else { b'0' };
            let t = String::from_utf8(b).unwrap();
            assert_eq!(decode_signed_value(&s, "n", &t, 31.0, now), None, "{t}");
        }
        for t in ["", "2|", &v[..v.len() - 1], &format!("{v}0")] {
            assert_eq!(decode_signed_value(&s, "n", t, 31.0, now), None);
        }
        let other = CookieSecret::new("other");
        assert_eq!(decode_signed_value(&other, "n", &v, 31.0, now), None);
    }

    #[test]
    fn age_limits() {
        let s = CookieSecret::new("k");
        let now = 1_700_000_000;
        let old = create_signed_value(&s, "n", b"x", now - 2 * 86_400);
        assert!(decode_signed_value(&s, "n", &old, 3.0, now).is_some());
        assert!(decode_signed_value(&s, "n", &old, 1.0, now).is_none());
        let future = create_signed_value(&s, "n", b"x", now + 40 * 86_400);
        assert!(decode_signed_value(&s, "n", &future, 31.0, now).is_none());
    }
}
