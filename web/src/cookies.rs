//! Cookies: reading the `Cookie` request header and writing validated `Set-Cookie` values
//! (Tornado's `httputil.parse_cookie` and `RequestHandler.set_cookie`).
//!
//! Reading is lenient, as browsers and Tornado are: pairs are split on `;`, trimmed, and a
//! value in double quotes loses its quotes. Writing is strict (RFC 6265 §4.1.1): a bad name,
//! value or attribute is an error, never a header that could split or smuggle attributes.
//! Values that need other characters should be escaped first (for example with
//! [`url_escape`](crate::escape::url_escape)).

use std::time::SystemTime;

use crate::error::HttpError;

/// The pairs of one `Cookie` header, in order: `(name, value)`, borrowed.
///
/// ```
/// let pairs: Vec<_> = web::cookies::parse_cookie("a=1; b=\"two\";c ; =x").collect();
/// assert_eq!(pairs, [("a", "1"), ("b", "two"), ("", "c"), ("", "x")]);
/// ```
pub fn parse_cookie(header: &str) -> impl Iterator<Item = (&str, &str)> {
    header.split(';').filter_map(|chunk| {
        let (name, value) = match chunk.split_once('=') {
            Some((n, v)) => (n.trim(), v.trim()),
            None => ("", chunk.trim()),
        };
        if name.is_empty() && value.is_empty() {
            return None;
        }
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        Some((name, value))
    })
}

/// The `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Strict`
    Strict,
    /// `SameSite=Lax`
    Lax,
    /// `SameSite=None` (browsers require `Secure` with it, and so do we).
    None,
}

/// A cookie to send with `Set-Cookie`; built with chained setters, checked when formatted.
///
/// ```
/// use web::cookies::{Cookie, SameSite};
/// let c = Cookie::new("session", "abc123").http_only(true).same_site(SameSite::Lax).max_age(3600);
/// assert_eq!(c.to_header_value().unwrap(),
///            "session=abc123; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax");
/// assert!(Cookie::new("bad name", "v").to_header_value().is_err());
/// assert!(Cookie::new("n", "v\r\nSet-Cookie: x=y").to_header_value().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie<'a> {
    name: &'a str,
    value: &'a str,
    domain: Option<&'a str>,
    path: Option<&'a str>,
    expires: Option<SystemTime>,
    max_age: Option<u64>,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
}

impl<'a> Cookie<'a> {
    /// A cookie with `Path=/` (Tornado's default) and no other attributes.
    pub fn new(name: &'a str, value: &'a str) -> Cookie<'a> {
        Cookie {
            name,
            value,
            domain: None,
            path: Some("/"),
            expires: None,
            max_age: None,
            secure: false,
            http_only: false,
            same_site: None,
        }
    }

    /// A cookie that deletes `name`: empty value, `Max-Age=0` and an `Expires` in the past
    /// (Tornado's `clear_cookie`). Path and domain must match the cookie's to delete it.
    pub fn removal(name: &'a str) -> Cookie<'a> {
        Cookie::new(name, "")
            .max_age(0)
            .expires(SystemTime::UNIX_EPOCH)
    }

    /// `Domain=`.
    pub fn domain(mut self, domain: &'a str) -> Self {
        self.domain = Some(domain);
        self
    }

    /// `Path=`; `None` leaves the attribute out.
    pub fn path(mut self, path: Option<&'a str>) -> Self {
        self.path = path;
        self
    }

    /// `Expires=` (an IMF-fixdate).
    pub fn expires(mut self, when: SystemTime) -> Self {
        self.expires = Some(when);
        self
    }

    /// Whether `Expires=` is set.
    pub fn has_expires(&self) -> bool {
        self.expires.is_some()
    }

    /// `Expires=` that many days from now (Tornado's `expires_days`).
    pub fn expires_days(self, days: u64) -> Self {
        self.expires(SystemTime::now() + std::time::Duration::from_secs(days * 86_400))
    }

    /// `Max-Age=` in seconds.
    pub fn max_age(mut self, seconds: u64) -> Self {
        self.max_age = Some(seconds);
        self
    }

    /// `Secure`.
    pub fn secure(mut self, on: bool) -> Self {
        self.secure = on;
        self
    }

    /// `HttpOnly`.
    pub fn http_only(mut self, on: bool) -> Self {
        self.http_only = on;
        self
    }

    /// `SameSite=`.
    pub fn same_site(mut self, s: SameSite) -> Self {
        self.same_site = Some(s);
        self
    }

    /// The same cookie with another value (attributes kept).
    pub fn with_value(mut self, value: &'a str) -> Self {
        self.value = value;
        self
    }

    /// The cookie's name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// The `Set-Cookie` header value, or a 500 `HttpError` naming what is invalid (Tornado
    /// raises `ValueError`, which becomes a 500).
    pub fn to_header_value(&self) -> Result<String, HttpError> {
        let mut out = String::new();
        self.write_header_value(&mut out)?;
        Ok(out)
    }

    /// Validates and appends the `Set-Cookie` value to `out` (nothing appended on error).
    pub fn write_header_value(&self, out: &mut impl std::fmt::Write) -> Result<(), HttpError> {
        self.validate()?;
        let _ = write!(out, "{}={}", self.name, self.value);
        if let Some(d) = self.domain {
            let _ = write!(out, "; Domain={d}");
        }
        if let Some(t) = self.expires {
            let _ = write!(out, "; Expires={}", httpdate::fmt_http_date(t));
        }
        if let Some(m) = self.max_age {
            let _ = write!(out, "; Max-Age={m}");
        }
        if let Some(p) = self.path {
            let _ = write!(out, "; Path={p}");
        }
        if self.secure {
            let _ = out.write_str("; Secure");
        }
        if self.http_only {
            let _ = out.write_str("; HttpOnly");
        }
        if let Some(s) = self.same_site {
            let _ = out.write_str(match s {
                SameSite::Strict => "; SameSite=Strict",
                SameSite::Lax => "; SameSite=Lax",
                SameSite::None => "; SameSite=None",
            });
        }
        Ok(())
    }

    pub(crate) fn validate(&self) -> Result<(), HttpError> {
        let invalid = |what: &'static str| Err(HttpError::with_log(500, what));
        if self.name.is_empty() || !self.name.bytes().all(is_token_byte) {
            return invalid("invalid cookie name");
        }
        let v = self.value;
        let inner = match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            Some(inner) => inner,
            None => v,
        };
        if !inner.bytes().all(is_cookie_octet) {
            return invalid("invalid cookie value");
        }
        if let Some(d) = self.domain {
            let ok = !d.is_empty()
                && d.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
            if !ok {
                return invalid("invalid cookie domain");
            }
        }
        if let Some(p) = self.path {
            // av-octet: any CHAR except CTLs or ";".
            if !p.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b';') {
                return invalid("invalid cookie path");
            }
        }
        if self.same_site == Some(SameSite::None) && !self.secure {
            return invalid("SameSite=None cookies must be Secure");
        }
        if self.name.starts_with("__Secure-") && !self.secure {
            return invalid("__Secure- cookies must be Secure");
        }
        if self.name.starts_with("__Host-")
            && (!self.secure || self.domain.is_some() || self.path != Some("/"))
        {
            return invalid("__Host- cookies must be Secure, with Path=/ and no Domain");
        }
        Ok(())
    }
}

/// RFC 9110 `tchar`: the characters of a token (cookie names, header names).
pub(crate) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 6265 `cookie-octet`: visible ASCII except `"`, `,`, `;` and `\`.
fn is_cookie_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn parse_lenient() {
        let v: Vec<_> = parse_cookie("  ; a = 1 ;b=;;c=\"x y\"; d=\"").collect();
        assert_eq!(v, [("a", "1"), ("b", ""), ("c", "x y"), ("d", "\"")]);
        let v: Vec<_> = parse_cookie("k=v=w").collect();
        assert_eq!(v, [("k", "v=w")]);
    }

    #[test]
    fn all_attributes() {
        let when = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        let c = Cookie::new("n", "v")
            .domain("example.com")
            .path(Some("/app"))
            .expires(when)
            .max_age(10)
            .secure(true)
            .http_only(true)
            .same_site(SameSite::None);
        assert_eq!(
            c.to_header_value().unwrap(),
            "n=v; Domain=example.com; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=10; \
             Path=/app; Secure; HttpOnly; SameSite=None"
        );
        assert_eq!(
            Cookie::new("n", "v").path(None).to_header_value().unwrap(),
            "n=v"
        );
    }

    #[test]
    fn removal() {
        assert_eq!(
            Cookie::removal("sid").to_header_value().unwrap(),
            "sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"
        );
    }

    #[test]
    fn rejects_injection_and_bad_syntax() {
        let bad = [
            Cookie::new("", "v"),
            Cookie::new("a b", "v"),
            Cookie::new("a=b", "v"),
            Cookie::new("a;b", "v"),
            Cookie::new("a\r\nX: y", "v"),
            Cookie::new("n", "a;b"),
            Cookie::new("n", "a b"),
            Cookie::new("n", "a,b"),
            Cookie::new("n", "a\\b"),
            Cookie::new("n", "a\"b"),
            Cookie::new("n", "a\rb"),
            Cookie::new("n", "a\nb"),
            Cookie::new("n", "a\0b"),
            Cookie::new("n", "é"),
            Cookie::new("n", "v").domain("a.com; Secure"),
            Cookie::new("n", "v").domain(""),
            Cookie::new("n", "v").domain("a.com\r\n"),
            Cookie::new("n", "v").path(Some("/a;b")),
            Cookie::new("n", "v").path(Some("/a\nb")),
            Cookie::new("n", "v").same_site(SameSite::None),
            Cookie::new("__Secure-n", "v"),
            Cookie::new("__Host-n", "v").secure(true).domain("a.com"),
            Cookie::new("__Host-n", "v").secure(true).path(Some("/x")),
        ];
        for c in bad {
            let e = c.to_header_value().unwrap_err();
            assert_eq!(e.status, 500, "{c:?}");
            let mut out = String::from("keep");
            assert!(c.write_header_value(&mut out).is_err());
            assert_eq!(out, "keep", "nothing appended on error");
        }
    }

    #[test]
    fn accepts_quoted_and_special_but_legal() {
        assert!(Cookie::new("n", "\"quoted\"").to_header_value().is_ok());
        assert!(Cookie::new("n", "").to_header_value().is_ok());
        assert!(Cookie::new("n!#$", "a=b/c?d:e").to_header_value().is_ok());
        assert!(Cookie::new("__Host-n", "v")
            .secure(true)
            .to_header_value()
            .is_ok());
        assert!(Cookie::new("n", "v")
            .domain(".a-b.com")
            .to_header_value()
            .is_ok());
    }
}
