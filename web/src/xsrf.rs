//! XSRF protection (Tornado's `xsrf_cookies`, `xsrf_token`, `xsrf_form_html`,
//! `check_xsrf_cookie`) and cross-origin protection from fetch metadata.
//!
//! # XSRF tokens
//! With the `xsrf_cookies` setting, every POST, PUT, PATCH and DELETE (anything but GET, HEAD
//! and OPTIONS) must carry a token, as the `_xsrf` argument (form field or query) or in an
//! `X-XSRFToken` or `X-CSRFToken` header, that matches the `_xsrf` cookie; otherwise the
//! request ends with 403 before `prepare` runs. A page puts the token in its forms with
//! [`Context::xsrf_form_html`], which also sets the cookie if the client has none.
//!
//! The secret is 16 random bytes. What goes in a page or cookie is *masked* (Tornado's
//! version 2 format, `2|mask|masked|timestamp` in hex): XORed with 4 fresh random bytes each
//! time, so the token in a page changes on every response (no BREACH-style compression
//! oracle), while any two masked forms of the same secret match. Comparison is constant-time.
//! Version 1 tokens (the plain hex secret) are accepted too, as Tornado does.
//!
//! # Cross-origin protection
//! With the `cross_origin_protection` setting, unsafe requests (not GET/HEAD/OPTIONS) that a
//! browser says come from another origin are refused with 403, with no token needed: the
//! browser's `Sec-Fetch-Site` header decides (`same-origin` and `none` pass, `same-site` and
//! `cross-site` do not); a request without it (older browsers) is judged by `Origin` against
//! `Host`; a request with neither is not from a browser and passes. Origins listed in the
//! `trusted_origins` setting always pass. This is the fetch-metadata algorithm of Tornado
//! 6.6's setting of that name (and of Go's `CrossOriginProtection`).

use crate::context::Context;
use crate::cookies::Cookie;
use crate::error::{HttpError, Result};

/// The cookie and argument name.
pub const XSRF_NAME: &str = "_xsrf";

/// Length of the secret token in bytes.
const TOKEN_LEN: usize = 16;

fn is_safe_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// The default `check_xsrf_cookie`: the `_xsrf` argument or `X-XSRFToken` / `X-CSRFToken`
/// header must match the `_xsrf` cookie (403 otherwise). Does nothing for GET, HEAD and
/// OPTIONS.
pub fn check_xsrf_cookie(cx: &mut Context<'_>) -> Result {
    let request = cx.request();
    if is_safe_method(request.method()) {
        return Ok(());
    }
    let sent = match cx.get_argument(XSRF_NAME, Some(""))? {
        "" => request
            .headers()
            .get("X-Xsrftoken")
            .or_else(|| request.headers().get("X-Csrftoken")),
        arg => Some(arg),
    };
    let Some(sent) = sent else {
        return Err(HttpError::with_log(
            403,
            "'_xsrf' argument missing from POST",
        ));
    };
    let Some(sent) = decode_token(sent) else {
        return Err(HttpError::with_log(
            403,
            "'_xsrf' argument has invalid format",
        ));
    };
    let Some(cookie) = request.cookie(XSRF_NAME).and_then(decode_token) else {
        return Err(HttpError::with_log(
            403,
            "'_xsrf' argument has no matching cookie",
        ));
    };
    if !constant_time_eq(&sent, &cookie) {
        return Err(HttpError::with_log(
            403,
            "XSRF cookie does not match POST argument",
        ));
    }
    Ok(())
}

/// Refuses (403) an unsafe request that a browser marks as cross-origin; see the module doc.
pub fn check_cross_origin(cx: &Context<'_>) -> Result {
    let request = cx.request();
    if is_safe_method(request.method()) {
        return Ok(());
    }
    let headers = request.headers();
    let origin = headers.get("Origin");
    let trusted = || {
        origin.is_some_and(|o| {
            cx.settings()
                .trusted_origins
                .iter()
                .any(|t| t.eq_ignore_ascii_case(o))
        })
    };
    match headers.get("Sec-Fetch-Site").map(str::trim) {
        Some(site)
            if site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none") =>
        {
            Ok(())
        }
        Some(_) if trusted() => Ok(()),
        Some(site) => Err(HttpError::with_log(
            403,
            format!("cross-origin request refused (Sec-Fetch-Site: {site})"),
        )),
        None => match origin {
            None => Ok(()), // not a browser (or a very old one): nothing to protect here
            Some(o) if origin_host(o).is_some_and(|h| h.eq_ignore_ascii_case(request.host())) => {
                Ok(())
            }
            Some(_) if trusted() => Ok(()),
            Some(o) => Err(HttpError::with_log(
                403,
                format!("cross-origin request refused (Origin: {o})"),
            )),
        },
    }
}

/// The `host[:port]` of an origin `scheme://host[:port]`.
fn origin_host(origin: &str) -> Option<&str> {
    let (_, rest) = origin.split_once("://")?;
    Some(rest.trim_end_matches('/'))
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b)
        .map_err(|e| HttpError::with_log(500, format!("no random bytes for XSRF: {e}")))?;
    Ok(b)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() & 1 == 1 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The secret in a token: version 2 (`2|mask|masked|timestamp`) or version 1 (plain hex).
pub fn decode_token(token: &str) -> Option<Vec<u8>> {
    let token = token.trim().trim_matches('"');
    if let Some(rest) = token.strip_prefix("2|") {
        let mut parts = rest.split('|');
        let mask = unhex(parts.next()?)?;
        let masked = unhex(parts.next()?)?;
        let _timestamp = parts.next()?;
        if mask.len() != 4 || masked.is_empty() || parts.next().is_some() {
            return None;
        }
        Some(
            masked
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ mask[i % 4])
                .collect(),
        )
    } else {
        let secret = unhex(token)?;
        (!secret.is_empty()).then_some(secret)
    }
}

/// The version 2 form of `secret`, freshly masked.
fn encode_token(secret: &[u8], timestamp: u64) -> Result<String> {
    let mask: [u8; 4] = random_bytes()?;
    let masked: Vec<u8> = secret
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ mask[i % 4])
        .collect();
    Ok(format!("2|{}|{}|{}", hex(&mask), hex(&masked), timestamp))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Context<'_> {
    /// The XSRF token for this client, masked afresh (Tornado's `xsrf_token`): the secret of
    /// the `_xsrf` cookie, or a new secret, then set as the cookie. Calling it twice in one
    /// request keeps one secret.
    pub fn xsrf_token(&mut self) -> Result<String> {
        let now = crate::signed_cookies::now_timestamp();
        let secret = match self.xsrf_secret() {
            Some(secret) => secret,
            None => {
                let (secret, cookie_value) = new_xsrf_secret(now)?;
                self.set_cookie_with(&Cookie::new(XSRF_NAME, &cookie_value))?;
                secret
            }
        };
        encode_token(&secret, now)
    }

    /// The client's XSRF secret, if it has one: from the `_xsrf` cookie set in this response
    /// (one secret per response), else from the one the request carries.
    pub(crate) fn xsrf_secret(&self) -> Option<Vec<u8>> {
        let set_now = self
            .response()
            .headers()
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("Set-Cookie"))
            .filter_map(|(_, v)| std::str::from_utf8(v).ok()?.strip_prefix("_xsrf="))
            .filter_map(|v| decode_token(v.split(';').next().unwrap_or("")))
            .last();
        set_now.or_else(|| self.request().cookie(XSRF_NAME).and_then(decode_token))
    }

    /// `<input type="hidden" name="_xsrf" value="TOKEN"/>` for a form (Tornado's
    /// `xsrf_form_html`).
    pub fn xsrf_form_html(&mut self) -> Result<String> {
        Ok(form_html(&self.xsrf_token()?))
    }
}

/// A new XSRF secret, and the `_xsrf` cookie value that carries it.
pub(crate) fn new_xsrf_secret(now: u64) -> Result<(Vec<u8>, String)> {
    let secret: [u8; TOKEN_LEN] = random_bytes()?;
    let cookie_value = encode_token(&secret, now)?;
    Ok((secret.to_vec(), cookie_value))
}

/// A form field with `secret`, freshly masked.
pub(crate) fn form_field(secret: &[u8], now: u64) -> Result<String> {
    Ok(form_html(&encode_token(secret, now)?))
}

/// `<input type="hidden" name="_xsrf" value="TOKEN"/>`.
fn form_html(token: &str) -> String {
    let mut out = Vec::new();
    crate::escape::xhtml_escape_into(&mut out, token);
    format!(
        "<input type=\"hidden\" name=\"_xsrf\" value=\"{}\"/>",
        String::from_utf8_lossy(&out)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_tokens_match_and_differ() {
        let secret = [7u8; TOKEN_LEN];
        let a = encode_token(&secret, 1).unwrap();
        let b = encode_token(&secret, 1).unwrap();
        assert_eq!(decode_token(&a).unwrap(), secret);
        assert_eq!(decode_token(&b).unwrap(), secret);
        // Masks are random: the two forms almost surely differ.
        assert!(a != b || a.is_empty());
        assert_eq!(decode_token(&hex(&secret)).unwrap(), secret, "version 1");
        for bad in [
            "",
            "2|",
            "2|zz|00|1",
            "2|0000|00",
            "2|000000|0011|1|x",
            "xyz",
            "2|00000000||1",
        ] {
            assert_eq!(decode_token(bad), None, "{bad}");
        }
    }

    #[test]
    fn origin_hosts() {
        assert_eq!(
            origin_host("https://a.example:8443"),
            Some("a.example:8443")
        );
        assert_eq!(origin_host("null"), None);
    }
}
