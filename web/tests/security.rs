//! Signed cookies, XSRF tokens, cross-origin protection, the `debug` setting's error pages,
//! and `RedirectHandler` / `ErrorHandler`, over real loopback sockets.

mod common;

use std::net::SocketAddr;
use std::sync::OnceLock;

use common::{Client, Response};
use web::signed_cookies::{create_signed_value, now_timestamp, CookieSecret};
use web::{
    url, Application, Context, ErrorHandler, HttpError, RedirectHandler, RequestHandler, Result,
    Settings,
};

const KEY_OLD: &str = "the old key, still accepted";
const KEY_NEW: &str = "the current key, signs new cookies";

fn secret() -> CookieSecret {
    CookieSecret::with_versions([(0, KEY_OLD), (1, KEY_NEW)], 1).unwrap()
}

/// `/set?v=..` sets signed cookie `user`; `/get` reads it (`none` if invalid);
/// `/get?days=N` with a maximum age.
#[derive(Default)]
struct Cookies;

impl RequestHandler for Cookies {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        if cx.request().path() == "/set" {
            let v = cx.get_argument("v", None)?.to_owned();
            return cx.set_signed_cookie("user", v);
        }
        let days: f64 = cx.get_argument("days", Some("31"))?.parse().unwrap_or(31.0);
        let v = cx.get_signed_cookie_max_age("user", days);
        cx.write(v.unwrap_or_else(|| "none".into()));
        Ok(())
    }
}

/// `/set_with?v=..` sets signed cookie `user` with `set_signed_cookie_with` (HttpOnly);
/// `&at=SECS` gives it an explicit `Expires` of that UNIX time.
#[derive(Default)]
struct CookiesWith;

impl RequestHandler for CookiesWith {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let v = cx.get_argument("v", None)?.to_owned();
        let mut cookie = web::Cookie::new("user", "").http_only(true);
        if let Ok(at) = cx.get_argument("at", Some(""))?.parse::<u64>() {
            cookie = cookie.expires(std::time::UNIX_EPOCH + std::time::Duration::from_secs(at));
        }
        cx.set_signed_cookie_with(cookie, v)
    }
}

/// A form page (GET) and its target (POST, PUT, DELETE, OPTIONS).
#[derive(Default)]
struct Form;

impl RequestHandler for Form {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let input = cx.xsrf_form_html()?;
        let again = cx.xsrf_token()?;
        cx.write(format!("{input}\n{again}"));
        Ok(())
    }
    async fn head(&mut self, cx: &mut Context<'_>) -> Result {
        self.get(cx).await
    }
    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        cx.write("posted");
        Ok(())
    }
    async fn put(&mut self, cx: &mut Context<'_>) -> Result {
        self.post(cx).await
    }
    async fn delete(&mut self, cx: &mut Context<'_>) -> Result {
        self.post(cx).await
    }
    async fn options(&mut self, cx: &mut Context<'_>) -> Result {
        self.post(cx).await
    }
}

/// Exempt from the XSRF check (an API authenticated otherwise).
#[derive(Default)]
struct Api;

impl RequestHandler for Api {
    fn check_xsrf_cookie(&mut self, _cx: &mut Context<'_>) -> Result {
        Ok(())
    }
    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        cx.write("api");
        Ok(())
    }
}

#[derive(Default)]
struct Panics;

impl RequestHandler for Panics {
    async fn get(&mut self, _cx: &mut Context<'_>) -> Result {
        panic!("secret panic detail 42");
    }
}

#[derive(Default)]
struct Fails;

impl RequestHandler for Fails {
    async fn get(&mut self, _cx: &mut Context<'_>) -> Result {
        Err(HttpError::with_log(418, "secret log detail <b>"))
    }
}

fn routes() -> Vec<web::UrlSpec<web::HandlerTarget>> {
    vec![
        url::<Cookies>("/set"),
        url::<Cookies>("/get"),
        url::<CookiesWith>("/set_with"),
        url::<Form>("/form"),
        url::<Api>("/api"),
        url::<Panics>("/panic"),
        url::<Fails>("/fail"),
        RedirectHandler::route(r"/old/(\d+)/(\w+)", "/new/{1}/{0}", true),
        RedirectHandler::route(r"/temp/(?P<id>\d+)", "/items?id={id}", false),
        ErrorHandler::route("/gone", 410),
    ]
}

/// XSRF and signed cookies; debug off.
fn xsrf_app() -> SocketAddr {
    static A: OnceLock<SocketAddr> = OnceLock::new();
    *A.get_or_init(|| {
        common::serve(|| {
            let settings = Settings {
                cookie_secret: Some(secret()),
                xsrf_cookies: true,
                ..Settings::default()
            };
            Application::with_settings(routes(), settings)
        })
    })
}

/// Cross-origin protection and debug pages, no XSRF tokens.
fn origin_app() -> SocketAddr {
    static A: OnceLock<SocketAddr> = OnceLock::new();
    *A.get_or_init(|| {
        common::serve(|| {
            let settings = Settings {
                cross_origin_protection: true,
                trusted_origins: vec!["https://trusted.example".into()],
                debug: true,
                ..Settings::default()
            };
            Application::with_settings(routes(), settings)
        })
    })
}

fn set_cookie_value<'a>(r: &'a Response, name: &str) -> &'a str {
    r.headers_named("Set-Cookie")
        .into_iter()
        .find_map(|v| v.strip_prefix(name)?.strip_prefix('='))
        .map(|v| v.split(';').next().unwrap())
        .unwrap_or_else(|| panic!("no Set-Cookie {name}: {:?}", r.headers))
}

fn get_with_cookie(value: &str) -> String {
    let mut c = Client::connect(xsrf_app());
    c.request("GET", "/get", &format!("Cookie: user={value}\r\n"), b"")
        .text()
        .to_owned()
}

#[test]
fn signed_cookie_round_trip() {
    let mut c = Client::connect(xsrf_app());
    let r = c.get("/set?v=alice");
    assert_eq!(r.status, 200);
    let set = r.headers_named("Set-Cookie")[0].to_owned();
    assert!(set.contains("Expires=") && set.contains("Path=/"), "{set}");
    let value = set_cookie_value(&r, "user").to_owned();
    assert!(
        value.starts_with("2|1:1|"),
        "signed with the current key version: {value}"
    );
    assert_eq!(get_with_cookie(&value), "alice");
    // Not set, or no cookie at all.
    assert_eq!(c.get("/get").text(), "none");
}

#[test]
fn tampered_signed_cookies_are_none() {
    let good = create_signed_value(&secret(), "user", b"alice", now_timestamp());
    assert_eq!(get_with_cookie(&good), "alice");
    // Another value with the old signature.
    let forged = good.replace("|8:YWxpY2U=|", "|8:bWFsbG9y|");
    assert_ne!(forged, good);
    assert_eq!(get_with_cookie(&forged), "none");
    // A flipped signature digit.
    let mut sig_flip = good.clone().into_bytes();
    let last = sig_flip.len() - 1;
    sig_flip[last] = if sig_flip[last] == b'0' { b'1' } else { b'0' };
    assert_eq!(
        get_with_cookie(&String::from_utf8(sig_flip).unwrap()),
        "none"
    );
    // A later timestamp with the old signature.
    let ts = now_timestamp().to_string();
    let shifted = good.replacen(&ts, &(now_timestamp() + 5).to_string(), 1);
    assert_eq!(get_with_cookie(&shifted), "none");
    // Signed for another cookie name, replayed as `user`.
    let other = create_signed_value(&secret(), "admin", b"alice", now_timestamp());
    assert_eq!(get_with_cookie(&other), "none");
    // Signed with a key the server does not have, and garbage.
    let stranger = create_signed_value(
        &CookieSecret::new("attacker"),
        "user",
        b"alice",
        now_timestamp(),
    );
    assert_eq!(get_with_cookie(&stranger), "none");
    for junk in ["", "alice", "2|", "2|1:1|x", "1|abc|def"] {
        assert_eq!(get_with_cookie(junk), "none", "{junk:?}");
    }
}

#[test]
fn expired_signed_cookies_are_none() {
    let day = 86_400;
    let now = now_timestamp();
    let thirty = create_signed_value(&secret(), "user", b"bob", now - 30 * day);
    assert_eq!(get_with_cookie(&thirty), "bob");
    let old = create_signed_value(&secret(), "user", b"bob", now - 32 * day);
    assert_eq!(get_with_cookie(&old), "none");
    // A shorter maximum age asked by the handler.
    let two_days = create_signed_value(&secret(), "user", b"bob", now - 2 * day);
    let mut c = Client::connect(xsrf_app());
    let r = c.request(
        "GET",
        "/get?days=1",
        &format!("Cookie: user={two_days}\r\n"),
        b"",
    );
    assert_eq!(r.text(), "none");
    let r = c.request(
        "GET",
        "/get?days=3",
        &format!("Cookie: user={two_days}\r\n"),
        b"",
    );
    assert_eq!(r.text(), "bob");
    // From the future (a clock attack): refused.
    let future = create_signed_value(&secret(), "user", b"bob", now + 40 * day);
    assert_eq!(get_with_cookie(&future), "none");
}

#[test]
fn key_rotation() {
    let by_old = create_signed_value(
        &CookieSecret::new(KEY_OLD),
        "user",
        b"carol",
        now_timestamp(),
    );
    assert!(by_old.starts_with("2|1:0|"));
    assert_eq!(
        get_with_cookie(&by_old),
        "carol",
        "an older key in the set still verifies"
    );
    let unknown_version = create_signed_value(
        &CookieSecret::with_versions([(7, KEY_NEW)], 7).unwrap(),
        "user",
        b"carol",
        now_timestamp(),
    );
    assert_eq!(get_with_cookie(&unknown_version), "none");
}

/// GET /form: the `_xsrf` cookie and two masked tokens from the page.
fn xsrf_form() -> (String, String, String) {
    let mut c = Client::connect(xsrf_app());
    let r = c.get("/form");
    assert_eq!(r.status, 200);
    let cookie = set_cookie_value(&r, "_xsrf").to_owned();
    assert_eq!(
        r.headers_named("Set-Cookie").len(),
        1,
        "one cookie per response"
    );
    let text = r.text();
    let (input, again) = text.split_once('\n').unwrap();
    let token = input
        .split("value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert!(input.starts_with("<input type=\"hidden\" name=\"_xsrf\" value=\""));
    (cookie, token, again.to_owned())
}

fn post(path: &str, extra: &str, body: &str) -> u16 {
    let mut c = Client::connect(xsrf_app());
    let ct = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/x-www-form-urlencoded\r\n"
    };
    c.request("POST", path, &format!("{ct}{extra}"), body.as_bytes())
        .status
}

#[test]
fn xsrf_pass_paths() {
    let (cookie, token, again) = xsrf_form();
    assert_ne!(token, again, "masked afresh each time");
    assert_ne!(token, cookie);
    let enc = web::escape::url_escape(&token, true);
    let c = format!("Cookie: _xsrf={cookie}\r\n");
    assert_eq!(
        post("/form", &c, &format!("_xsrf={enc}")),
        200,
        "form field"
    );
    assert_eq!(
        post(&format!("/form?_xsrf={enc}"), &c, ""),
        200,
        "query argument"
    );
    assert_eq!(
        post("/form", &format!("{c}X-XSRFToken: {again}\r\n"), ""),
        200
    );
    assert_eq!(
        post("/form", &format!("{c}X-CSRFToken: {token}\r\n"), ""),
        200
    );
    // The cookie's own value works as a token too (same secret).
    assert_eq!(
        post("/form", &format!("{c}X-XSRFToken: {cookie}\r\n"), ""),
        200
    );
    // Version 1 tokens: the plain hex secret.
    let v1 = "00112233445566778899aabbccddeeff";
    assert_eq!(
        post(
            "/form",
            &format!("Cookie: _xsrf={v1}\r\nX-XSRFToken: {v1}\r\n"),
            ""
        ),
        200
    );
    // Safe methods need nothing; an exempt handler neither.
    let mut cl = Client::connect(xsrf_app());
    assert_eq!(cl.get("/form").status, 200);
    assert_eq!(cl.request("HEAD", "/form", "", b"").status, 200);
    assert_eq!(cl.request("OPTIONS", "/form", "", b"").status, 200);
    assert_eq!(post("/api", "", ""), 200);
    // A page for a client that already has the cookie keeps its secret (no new cookie).
    let r = Client::connect(xsrf_app()).request("GET", "/form", &c, b"");
    assert!(r.headers_named("Set-Cookie").is_empty());
    let page_token = r
        .text()
        .split("value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        post("/form", &format!("{c}X-XSRFToken: {page_token}\r\n"), ""),
        200
    );
}

#[test]
fn xsrf_fail_paths() {
    let (cookie, token, _) = xsrf_form();
    let (other_cookie, other_token, _) = xsrf_form();
    let c = format!("Cookie: _xsrf={cookie}\r\n");
    assert_eq!(post("/form", "", ""), 403, "nothing");
    assert_eq!(post("/form", &c, ""), 403, "cookie, no token");
    assert_eq!(
        post("/form", &format!("X-XSRFToken: {token}\r\n"), ""),
        403,
        "token, no cookie"
    );
    assert_eq!(
        post("/form", &format!("{c}X-XSRFToken: {other_token}\r\n"), ""),
        403,
        "another secret"
    );
    assert_eq!(
        post(
            "/form",
            &format!("Cookie: _xsrf={other_cookie}\r\nX-XSRFToken: {token}\r\n"),
            ""
        ),
        403
    );
    for junk in ["x", "2|zz|00|1", "2|00000000|1234", "", "%00"] {
        assert_eq!(
            post("/form", &format!("{c}X-XSRFToken: {junk}\r\n"), ""),
            403,
            "{junk:?}"
        );
    }
    let mut cl = Client::connect(xsrf_app());
    assert_eq!(cl.request("PUT", "/form", "", b"").status, 403);
    assert_eq!(cl.request("DELETE", "/form", "", b"").status, 403);
    // The handler never ran: the 403 page is the default one.
    let r = cl.request("POST", "/form", "", b"");
    assert_eq!(
        r.text(),
        "<html><title>403: Forbidden</title><body>403: Forbidden</body></html>"
    );
}

fn origin_post(extra: &str) -> u16 {
    Client::connect(origin_app())
        .request("POST", "/form", extra, b"")
        .status
}

#[test]
fn cross_origin_protection() {
    assert_eq!(origin_post(""), 200, "no browser headers: not a browser");
    assert_eq!(origin_post("Sec-Fetch-Site: same-origin\r\n"), 200);
    assert_eq!(origin_post("Sec-Fetch-Site: none\r\n"), 200);
    assert_eq!(origin_post("Sec-Fetch-Site: cross-site\r\n"), 403);
    assert_eq!(origin_post("Sec-Fetch-Site: same-site\r\n"), 403);
    assert_eq!(
        origin_post("Sec-Fetch-Site: cross-site\r\nOrigin: https://trusted.example\r\n"),
        200
    );
    // Older browsers: Origin against Host.
    assert_eq!(origin_post("Origin: http://localhost\r\n"), 200);
    assert_eq!(origin_post("Origin: http://evil.example\r\n"), 403);
    assert_eq!(origin_post("Origin: null\r\n"), 403);
    assert_eq!(origin_post("Origin: https://trusted.example\r\n"), 200);
    // Safe methods pass.
    let mut c = Client::connect(origin_app());
    let r = c.request("GET", "/form", "Sec-Fetch-Site: cross-site\r\n", b"");
    assert_eq!(r.status, 200);
}

#[test]
fn debug_pages_only_when_asked() {
    let mut quiet = Client::connect(xsrf_app());
    let r = quiet.get("/panic");
    assert_eq!(r.status, 500);
    assert!(!r.text().contains("secret"), "{}", r.text());
    let r = quiet.get("/fail");
    assert_eq!(r.status, 418);
    assert!(!r.text().contains("secret"), "{}", r.text());

    let mut debug = Client::connect(origin_app());
    let r = debug.get("/panic");
    assert_eq!(r.status, 500);
    assert!(r.text().contains("secret panic detail 42"), "{}", r.text());
    let r = debug.get("/fail");
    assert_eq!(r.status, 418);
    assert!(
        r.text().contains("secret log detail &lt;b&gt;"),
        "escaped: {}",
        r.text()
    );
    // The server goes on.
    assert_eq!(debug.get("/gone").status, 410);
}

#[test]
fn redirects_and_error_handler() {
    let mut c = Client::connect(origin_app());
    let r = c.get("/old/7/abc?q=1&r=2");
    assert_eq!(r.status, 301);
    assert_eq!(r.header("Location"), Some("/new/abc/7?q=1&r=2"));
    let r = c.get("/old/8/x");
    assert_eq!(r.header("Location"), Some("/new/x/8"));
    let r = c.get("/temp/5?page=2");
    assert_eq!(r.status, 302);
    assert_eq!(r.header("Location"), Some("/items?id=5&page=2"));
    let r = c.request("HEAD", "/temp/5", "", b"");
    assert_eq!(r.status, 302);
    assert_eq!(c.get("/gone").status, 410);
    assert_eq!(c.request("POST", "/gone", "", b"").status, 410);
    assert_eq!(c.request("POST", "/old/1/a", "", b"").status, 405);
}

/// An unknown path is answered by the application's `ErrorHandler`, which, as Tornado's, is
/// exempt from the XSRF check, and a malformed body is answered before the check: the client
/// gets the real error, not a 403.
#[test]
fn xsrf_does_not_hide_routing_and_body_errors() {
    assert_eq!(post("/nowhere", "", ""), 404, "unknown path");
    assert_eq!(
        post("/nowhere", "", "a=1"),
        404,
        "unknown path, form body, no token"
    );
    let mut c = Client::connect(xsrf_app());
    let r = c.request(
        "POST",
        "/form",
        "Content-Type: multipart/form-data\r\n",
        b"--x\r\n\r\n--x--\r\n",
    );
    assert_eq!(r.status, 400, "multipart without a boundary: {}", r.text());
    // The routes themselves still check.
    assert_eq!(post("/form", "", "a=1"), 403);
}

/// `set_signed_cookie_with` keeps `set_signed_cookie`'s 30-day expiry unless the cookie sets
/// its own `Expires`.
#[test]
fn signed_cookie_with_attributes_expires() {
    let mut c = Client::connect(xsrf_app());
    let r = c.get("/set_with?v=bob");
    assert_eq!(r.status, 200);
    let set = r.headers_named("Set-Cookie")[0].to_owned();
    assert!(set.contains("HttpOnly"), "{set}");
    let expires = set
        .split("; ")
        .find_map(|a| a.strip_prefix("Expires="))
        .unwrap_or_else(|| panic!("no Expires: {set}"));
    let year = |s: &str| -> u32 { s.split(' ').nth(3).unwrap().parse().unwrap() };
    let now_year = 1970 + (now_timestamp() / (365 * 86_400 + 86_400 / 4)) as u32;
    assert!((now_year..=now_year + 1).contains(&year(expires)), "{set}");
    assert_eq!(get_with_cookie(set_cookie_value(&r, "user")), "bob");
    // An explicit Expires wins: 2001-09-09.
    let r = c.get("/set_with?v=bob&at=1000000000");
    let set = r.headers_named("Set-Cookie")[0].to_owned();
    assert!(
        set.contains("Expires=Sun, 09 Sep 2001 01:46:40 GMT"),
        "{set}"
    );
    assert_eq!(set.matches("Expires=").count(), 1, "{set}");
}
