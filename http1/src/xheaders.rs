//! `xheaders`: behind a reverse proxy, take the client's address and scheme from the headers
//! the proxy adds (Tornado's `_HTTPRequestContext._apply_xheaders`).
//!
//! - address: `X-Real-IP` if present and valid, else the last hop of `X-Forwarded-For` that is
//!   not a `trusted_downstream` proxy (the hops before it are client-controlled);
//! - scheme: `X-Scheme`, else `X-Forwarded-Proto` (last element of a list); only `http` and
//!   `https` count.
//!
//! Invalid values are ignored (the peer address and the server's protocol stay). Nothing here
//! allocates.

use crate::headers::HTTPHeaders;
use std::net::IpAddr;

/// The client address according to the proxy headers, or `peer` if they say nothing valid.
///
/// ```
/// use http1::{xheaders::remote_ip, HTTPHeaders};
/// let h = HTTPHeaders::from_pairs(&[("X-Forwarded-For", "1.1.1.1, 2.2.2.2, 10.0.0.1")]);
/// let proxy: std::net::IpAddr = "10.0.0.1".parse().unwrap();
/// assert_eq!(remote_ip(&h, None, &[proxy]), Some("2.2.2.2".parse().unwrap()));
/// ```
pub fn remote_ip(
    headers: &HTTPHeaders<'_>,
    peer: Option<IpAddr>,
    trusted_downstream: &[IpAddr],
) -> Option<IpAddr> {
    if let Some(ip) = headers.get("X-Real-IP").and_then(parse_ip) {
        return Some(ip);
    }
    // All X-Forwarded-For lines form one list; walk it from the end.
    let mut last_untrusted = None;
    'lines: for (name, value) in headers.iter().rev() {
        if !name.eq_ignore_ascii_case("X-Forwarded-For") {
            continue;
        }
        for hop in value.rsplit(|&b| b == b',') {
            let hop = std::str::from_utf8(hop).ok().and_then(parse_ip);
            match hop {
                Some(ip) if trusted_downstream.contains(&ip) => continue,
                other => {
                    last_untrusted = Some(other);
                    break 'lines;
                }
            }
        }
    }
    match last_untrusted {
        Some(Some(ip)) => Some(ip),
        _ => peer,
    }
}

/// The scheme according to the proxy headers, or `default`.
///
/// ```
/// use http1::{xheaders::protocol, HTTPHeaders};
/// let h = HTTPHeaders::from_pairs(&[("X-Forwarded-Proto", "http, https")]);
/// assert_eq!(protocol(&h, "http"), "https");
/// ```
pub fn protocol(headers: &HTTPHeaders<'_>, default: &'static str) -> &'static str {
    let value = headers
        .get_bytes("X-Scheme")
        .or_else(|| headers.get_bytes("X-Forwarded-Proto"));
    let Some(value) = value else {
        return default;
    };
    let last = value
        .rsplit(|&b| b == b',')
        .next()
        .unwrap_or(b"")
        .trim_ascii();
    if last.eq_ignore_ascii_case(b"https") {
        "https"
    } else if last.eq_ignore_ascii_case(b"http") {
        "http"
    } else {
        default
    }
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    s.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn real_ip_wins_when_valid() {
        let h =
            HTTPHeaders::from_pairs(&[("X-Forwarded-For", "1.1.1.1"), ("X-Real-IP", "2.2.2.2")]);
        assert_eq!(remote_ip(&h, Some(ip("9.9.9.9")), &[]), Some(ip("2.2.2.2")));
        let h = HTTPHeaders::from_pairs(&[("X-Forwarded-For", "1.1.1.1"), ("X-Real-IP", "bogus")]);
        assert_eq!(remote_ip(&h, Some(ip("9.9.9.9")), &[]), Some(ip("1.1.1.1")));
    }

    #[test]
    fn forwarded_for_takes_last_untrusted_hop() {
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        let h =
            HTTPHeaders::from_pairs(&[("X-Forwarded-For", "6.6.6.6, 1.1.1.1 , 10.0.0.2,10.0.0.1")]);
        assert_eq!(remote_ip(&h, None, &trusted), Some(ip("1.1.1.1")));
        assert_eq!(remote_ip(&h, None, &[]), Some(ip("10.0.0.1")));
        // Several lines are one list, in order.
        let h = HTTPHeaders::from_pairs(&[
            ("X-Forwarded-For", "6.6.6.6, 1.1.1.1"),
            ("x-forwarded-for", "10.0.0.1"),
        ]);
        assert_eq!(remote_ip(&h, None, &trusted), Some(ip("1.1.1.1")));
        // Everything trusted: the peer stays.
        let h = HTTPHeaders::from_pairs(&[("X-Forwarded-For", "10.0.0.1")]);
        assert_eq!(
            remote_ip(&h, Some(ip("3.3.3.3")), &trusted),
            Some(ip("3.3.3.3"))
        );
        // The last untrusted hop is garbage: ignored, the peer stays.
        let h = HTTPHeaders::from_pairs(&[("X-Forwarded-For", "1.1.1.1, junk, 10.0.0.1")]);
        assert_eq!(
            remote_ip(&h, Some(ip("3.3.3.3")), &trusted),
            Some(ip("3.3.3.3"))
        );
        let h = HTTPHeaders::from_pairs(&[("X-Forwarded-For", "::1")]);
        assert_eq!(remote_ip(&h, None, &[]), Some(ip("::1")));
        assert_eq!(
            remote_ip(&HTTPHeaders::new(), Some(ip("3.3.3.3")), &[]),
            Some(ip("3.3.3.3"))
        );
    }

    #[test]
    fn scheme() {
        let h = HTTPHeaders::from_pairs(&[("X-Scheme", "HTTPS"), ("X-Forwarded-Proto", "http")]);
        assert_eq!(protocol(&h, "http"), "https");
        let h = HTTPHeaders::from_pairs(&[("X-Forwarded-Proto", "gopher")]);
        assert_eq!(protocol(&h, "http"), "http");
        assert_eq!(protocol(&HTTPHeaders::new(), "https"), "https");
    }
}
