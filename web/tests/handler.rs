//! RequestHandler behaviour over real loopback sockets: cookies, header injection attempts,
//! errors and `write_error`, `prepare`, redirects, arguments, routing features.

mod common;

use std::net::SocketAddr;
use std::sync::OnceLock;

use common::{Client, JsonBody};
use web::{
    url, url_with, Application, Context, Cookie, HttpError, RequestHandler, Result, SameSite,
};

/// `/cookie/set?kind=...`: sets cookies, valid or not.
#[derive(Default)]
struct SetCookie;

impl RequestHandler for SetCookie {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        match cx.get_argument("kind", None)? {
            "plain" => cx.set_cookie("a", "1")?,
            "full" => cx.set_cookie_with(
                &Cookie::new("sid", "xyz")
                    .domain("example.com")
                    .path(Some("/app"))
                    .max_age(60)
                    .secure(true)
                    .http_only(true)
                    .same_site(SameSite::Strict),
            )?,
            "two" => {
                cx.set_cookie("a", "1")?;
                cx.set_cookie("b", "2")?;
            }
            "clear" => cx.clear_cookie("a")?,
            "bad-value" => cx.set_cookie("a", "x\r\nSet-Cookie: evil=1")?,
            "bad-semicolon" => cx.set_cookie("a", "x; Domain=evil.com")?,
            "bad-name" => cx.set_cookie("a b", "x")?,
            "bad-domain" => cx.set_cookie_with(&Cookie::new("a", "x").domain("e.com\r\nX: y"))?,
            "bad-path" => cx.set_cookie_with(&Cookie::new("a", "x").path(Some("/;Secure")))?,
            "bad-samesite" => {
                cx.set_cookie_with(&Cookie::new("a", "x").same_site(SameSite::None))?
            }
            _ => return Err(HttpError::new(400)),
        }
        cx.write("ok");
        Ok(())
    }
}

/// `/cookie/get?name=...`: echoes a request cookie.
#[derive(Default)]
struct GetCookie;

impl RequestHandler for GetCookie {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let name = cx.get_argument("name", None)?;
        let value = cx.get_cookie(name).unwrap_or("<none>");
        cx.write(value);
        Ok(())
    }
}

/// `/header?value=...&how=set|add|name`: tries to set a header from the query.
#[derive(Default)]
struct Header;

impl RequestHandler for Header {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let value = cx.get_query_argument("value", None)?;
        match cx.get_query_argument("how", Some("set"))? {
            "set" => cx.set_header("X-Test", value)?,
            "add" => cx.add_header("X-Test", value)?,
            "name" => cx.set_header(value, "v")?,
            "reason" => cx.set_status(200, Some(value))?,
            "redirect" => cx.redirect(value, false)?,
            _ => return Err(HttpError::new(400)),
        }
        cx.write("ok");
        Ok(())
    }
}

/// `/headers`: set, add, clear, numbers.
#[derive(Default)]
struct Headers;

impl RequestHandler for Headers {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        cx.set_header("X-Num", 42)?;
        cx.add_header("X-Multi", "a")?;
        cx.add_header("X-Multi", "b")?;
        cx.set_header("X-Gone", "soon")?;
        cx.clear_header("x-gone");
        cx.set_header("Content-Type", "text/plain; charset=UTF-8")?;
        cx.write("headers");
        Ok(())
    }
}

/// `/error/(\w+)`: the ways a request ends in an error.
#[derive(Default)]
struct Errors;

impl RequestHandler for Errors {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        cx.write("discarded");
        match cx.path_arg(0).unwrap_or("") {
            "http" => Err(HttpError::with_log(403, "not allowed here")),
            "reason" => Err(HttpError::new(409).reason("Try <Later>")),
            "send" => {
                self.send_error(cx, 503);
                Ok(())
            }
            "missing" => cx.get_argument("nope", None).map(|_| ()),
            "after-flush" => {
                cx.flush().await?;
                Err(HttpError::new(500))
            }
            _ => Ok(()),
        }
    }
}

/// `/custom-error`: overrides `write_error`.
#[derive(Default)]
struct CustomError;

impl RequestHandler for CustomError {
    async fn get(&mut self, _cx: &mut Context<'_>) -> Result {
        Err(HttpError::new(418))
    }

    fn write_error(&mut self, cx: &mut Context<'_>, status: u16, _error: &HttpError) {
        let _ = cx.set_header("Content-Type", "application/json; charset=UTF-8");
        let _ = cx.write_json(&serde_json::json!({"error": status}));
    }
}

/// `/prepare?stop=1`: `prepare` may finish the request.
#[derive(Default)]
struct Prepare {
    prepared: bool,
}

impl RequestHandler for Prepare {
    async fn prepare(&mut self, cx: &mut Context<'_>) -> Result {
        self.prepared = true;
        match cx.get_argument("stop", Some(""))? {
            "finish" => {
                cx.write("stopped in prepare");
                cx.finish();
            }
            "error" => return Err(HttpError::new(401)),
            _ => {}
        }
        Ok(())
    }

    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        assert!(self.prepared);
        cx.write("reached get");
        Ok(())
    }
}

/// `/redirect/(perm|temp)`.
#[derive(Default)]
struct Redirect;

impl RequestHandler for Redirect {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let permanent = cx.path_arg(0) == Some("perm");
        let target = cx.reverse_url("user", &["bob smith", "7"])?;
        cx.redirect(&target, permanent)
    }
}

/// `/user/(?P<name>[^/]+)/(?P<id>\d+)`: named groups.
#[derive(Default)]
struct User;

impl RequestHandler for User {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let name = cx.path_kwarg("name").unwrap_or("");
        let id = cx.path_kwarg("id").unwrap_or("");
        let positional = cx.path_args().len();
        cx.write(format!("{name}/{id}/{positional}"));
        Ok(())
    }
}

/// `/arg`: get_argument and friends.
#[derive(Default)]
struct Arg;

impl RequestHandler for Arg {
    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        let out = serde_json::json!({
            "arg": cx.get_argument("a", Some("default"))?,
            "all": cx.get_arguments("a")?,
            "query": cx.get_query_argument("a", Some("-"))?,
            "queries": cx.get_query_arguments("a")?,
            "body": cx.get_body_argument("a", Some("-"))?,
            "bodies": cx.get_body_arguments("a")?,
            "files": cx.request().files().iter().map(|f| {
                serde_json::json!([f.name, f.filename, f.content_type, String::from_utf8_lossy(&f.body)])
            }).collect::<Vec<_>>(),
        });
        cx.write_json(&out)
    }
}

/// `/configured`: a factory with initialization arguments, fresh state per request.
struct Configured {
    greeting: String,
    calls: u32,
}

impl RequestHandler for Configured {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        self.calls += 1;
        cx.write(format!("{} {}", self.greeting, self.calls));
        Ok(())
    }
}

/// `/json`: `</` is escaped.
#[derive(Default)]
struct Json;

impl RequestHandler for Json {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        cx.write_json(&serde_json::json!({"html": "</script>"}))
    }
}

/// `/host`: which host group served.
struct Named(&'static str);

impl RequestHandler for Named {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        cx.write(self.0);
        Ok(())
    }
}

static CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `/stream`: flushes until the client goes away.
#[derive(Default)]
struct Stream;

impl RequestHandler for Stream {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let block = vec![b'x'; 64 * 1024];
        for _ in 0..10_000 {
            cx.write(&block);
            cx.flush().await?;
        }
        Ok(())
    }

    fn on_connection_close(&mut self) {
        CLOSED.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

fn app() -> Application {
    let mut app = Application::new(vec![
        url::<SetCookie>("/cookie/set"),
        url::<GetCookie>("/cookie/get"),
        url::<Header>("/header"),
        url::<Headers>("/headers"),
        url::<Errors>(r"/error/([\w-]+)"),
        url::<CustomError>("/custom-error"),
        url::<Prepare>("/prepare"),
        url::<Redirect>("/redirect/(perm|temp)"),
        url::<User>(r"/user/(?P<name>[^/]+)/(?P<id>\d+)").name("user"),
        url::<Arg>("/arg"),
        url_with("/configured", || Configured {
            greeting: "hi".to_string(),
            calls: 0,
        }),
        url::<Json>("/json"),
        url_with("/host", || Named("any")),
        url::<Stream>("/stream"),
    ]);
    app.add_handlers(
        r"api\.example\.com",
        vec![url_with("/host", || Named("api"))],
    );
    app
}

fn addr() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| common::serve(app))
}

fn client() -> Client {
    Client::connect(addr())
}

#[test]
fn set_cookie_formats() {
    let mut c = client();
    let r = c.get("/cookie/set?kind=plain");
    assert_eq!(r.headers_named("Set-Cookie"), ["a=1; Path=/"]);
    let r = c.get("/cookie/set?kind=full");
    assert_eq!(
        r.headers_named("Set-Cookie"),
        ["sid=xyz; Domain=example.com; Max-Age=60; Path=/app; Secure; HttpOnly; SameSite=Strict"]
    );
    let r = c.get("/cookie/set?kind=two");
    assert_eq!(
        r.headers_named("Set-Cookie"),
        ["a=1; Path=/", "b=2; Path=/"]
    );
    let r = c.get("/cookie/set?kind=clear");
    assert_eq!(
        r.headers_named("Set-Cookie"),
        ["a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"]
    );
}

#[test]
fn invalid_cookies_are_500_never_injected() {
    let mut c = client();
    for kind in [
        "bad-value",
        "bad-semicolon",
        "bad-name",
        "bad-domain",
        "bad-path",
        "bad-samesite",
    ] {
        let r = c.get(&format!("/cookie/set?kind={kind}"));
        assert_eq!(r.status, 500, "{kind}");
        assert!(
            r.headers_named("Set-Cookie").is_empty(),
            "{kind}: {:?}",
            r.head
        );
        assert!(!r.head.contains("evil"), "{kind}");
    }
    assert_eq!(c.get("/cookie/set?kind=plain").status, 200);
}

#[test]
fn get_cookie_parses_the_header() {
    let mut c = client();
    let r = c.request(
        "GET",
        "/cookie/get?name=b",
        "Cookie: a=1; b=\"two\"\r\n",
        b"",
    );
    assert_eq!(r.text(), "two");
    let r = c.request(
        "GET",
        "/cookie/get?name=c",
        "Cookie: a=1\r\nCookie: c=3\r\n",
        b"",
    );
    assert_eq!(r.text(), "3");
    assert_eq!(c.get("/cookie/get?name=a").text(), "<none>");
}

#[test]
fn header_injection_attempts_fail() {
    let mut c = client();
    for (how, value) in [
        ("set", "a%0D%0ASet-Cookie:%20evil=1"),
        ("set", "a%0ASet-Cookie:%20evil=1"),
        ("set", "a%0DSet-Cookie:%20evil=1"),
        ("add", "a%0D%0AX-Evil:%201"),
        ("set", "a%00b"),
        ("name", "X-Evil%3A%201%0D%0AX-A"),
        ("name", "Bad%20Name"),
        ("name", ""),
        ("reason", "OK%0D%0AX-Evil:%201"),
        ("redirect", "/x%0D%0ASet-Cookie:%20evil=1"),
    ] {
        let r = c.get(&format!("/header?how={how}&value={value}"));
        assert_eq!(r.status, 500, "{how} {value}");
        assert!(
            !r.head.to_lowercase().contains("evil"),
            "{how} {value}: {}",
            r.head
        );
        assert!(r.header("X-Test").is_none());
    }
    let r = c.get("/header?how=set&value=fine%09value");
    assert_eq!((r.status, r.header("X-Test")), (200, Some("fine\tvalue")));
}

#[test]
fn headers_set_add_clear() {
    let mut c = client();
    let r = c.get("/headers");
    assert_eq!(r.header("X-Num"), Some("42"));
    assert_eq!(r.headers_named("X-Multi"), ["a", "b"]);
    assert!(r.header("X-Gone").is_none());
    assert_eq!(
        r.headers_named("Content-Type"),
        ["text/plain; charset=UTF-8"]
    );
}

#[test]
fn errors_become_error_pages() {
    let mut c = client();
    let r = c.get("/error/http");
    assert_eq!((r.status, r.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        r.text(),
        "<html><title>403: Forbidden</title><body>403: Forbidden</body></html>"
    );
    let r = c.get("/error/reason");
    assert_eq!((r.status, r.reason.as_str()), (409, "Try <Later>"));
    assert_eq!(
        r.text(),
        "<html><title>409: Try &lt;Later&gt;</title><body>409: Try &lt;Later&gt;</body></html>"
    );
    let r = c.get("/error/send");
    assert_eq!(r.status, 503);
    assert!(r.text().contains("503: Service Unavailable"));
    let r = c.get("/error/missing");
    assert_eq!(
        (r.status, r.reason.as_str()),
        (400, "Missing argument nope")
    );
    let r = c.get("/error/none");
    assert_eq!((r.status, r.text()), (200, "discarded"));
    let r = c.get("/custom-error");
    assert_eq!(r.status, 418);
    assert_eq!(r.json(), serde_json::json!({"error": 418}));
    // An error after the headers went out cannot be a page: the response stays incomplete (no
    // last chunk) and the connection is closed.
    let mut c2 = client();
    c2.send(b"GET /error/after-flush HTTP/1.1\r\nHost: x\r\n\r\n");
    let raw = c2.read_to_close();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("Transfer-Encoding: chunked"), "{text}");
    assert!(text.contains("discarded"), "{text}");
    assert!(!text.ends_with("0\r\n\r\n"), "{text}");
    assert_eq!(client().get("/headers").status, 200);
}

#[test]
fn prepare_can_finish_early() {
    let mut c = client();
    assert_eq!(c.get("/prepare").text(), "reached get");
    assert_eq!(c.get("/prepare?stop=finish").text(), "stopped in prepare");
    assert_eq!(c.get("/prepare?stop=error").status, 401);
    // Methods not implemented after prepare are still 405.
    assert_eq!(c.request("POST", "/prepare", "", b"").status, 405);
}

#[test]
fn redirect_and_reverse_url() {
    let mut c = client();
    let r = c.get("/redirect/temp");
    assert_eq!(r.status, 302);
    assert_eq!(r.header("Location"), Some("/user/bob%20smith/7"));
    let r = c.get("/redirect/perm");
    assert_eq!(r.status, 301);
    let r = c.get("/user/bob%20smith/7");
    assert_eq!(r.text(), "bob smith/7/0");
    assert_eq!(c.get("/user/x/y").status, 404);
}

#[test]
fn argument_accessors() {
    let mut c = client();
    let r = c.request(
        "POST",
        "/arg?a=q1&a=%20q2%20",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        b"a=b1&a=b2+",
    );
    assert_eq!(
        r.json(),
        serde_json::json!({
            "arg": "b2", "all": ["q1", "q2", "b1", "b2"],
            "query": "q2", "queries": ["q1", "q2"],
            "body": "b2", "bodies": ["b1", "b2"],
            "files": [],
        })
    );
    let r = c.request("POST", "/arg", "", b"");
    assert_eq!(r.json()["arg"], "default");
    assert_eq!(r.json()["all"], serde_json::json!([]));
    // Multipart with a file.
    let body = b"--xx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nfield\r\n\
                 --xx\r\nContent-Disposition: form-data; name=\"up\"; filename=\"r.txt\"\r\n\
                 Content-Type: text/plain\r\n\r\nfile body\r\n--xx--\r\n";
    let r = c.request(
        "POST",
        "/arg",
        "Content-Type: multipart/form-data; boundary=xx\r\n",
        body,
    );
    assert_eq!(r.json()["body"], "field");
    assert_eq!(
        r.json()["files"],
        serde_json::json!([["up", "r.txt", "text/plain", "file body"]])
    );
}

#[test]
fn fresh_handler_per_request() {
    let mut c = client();
    assert_eq!(c.get("/configured").text(), "hi 1");
    assert_eq!(c.get("/configured").text(), "hi 1");
}

#[test]
fn json_escapes_script_close() {
    let r = client().get("/json");
    assert_eq!(r.text(), r#"{"html":"<\/script>"}"#);
}

#[test]
fn host_groups_route_by_host() {
    let mut c = client();
    let r = c.request("GET", "/host", "", b"");
    assert_eq!(r.text(), "any");
    c.send(b"GET /host HTTP/1.1\r\nHost: API.example.com:8080\r\n\r\n");
    assert_eq!(c.read_response(false).text(), "api");
    // Routes absent from the host group fall through to the any-host group.
    c.send(b"GET /headers HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
    assert_eq!(c.read_response(false).status, 200);
}

#[test]
fn on_connection_close_when_the_client_goes_away() {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr()).unwrap();
    std::io::Write::write_all(&mut s, b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut first = [0u8; 1024];
    assert!(s.read(&mut first).unwrap() > 0);
    drop(s);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !CLOSED.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(
            std::time::Instant::now() < deadline,
            "on_connection_close was not called"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // The server goes on.
    assert_eq!(client().get("/headers").status, 200);
}

/// A body that cannot be parsed does not fail before routing: an unknown path is still a 404,
/// and a route's own `write_error` answers the 400.
#[test]
fn malformed_bodies_are_answered_by_the_route() {
    let mut c = client();
    let no_boundary = "Content-Type: multipart/form-data\r\n";
    let r = c.request("POST", "/nowhere", no_boundary, b"--x\r\n\r\n--x--\r\n");
    assert_eq!(r.status, 404);
    let r = c.request(
        "POST",
        "/custom-error",
        no_boundary,
        b"--x\r\n\r\n--x--\r\n",
    );
    assert_eq!((r.status, r.text()), (400, r#"{"error":400}"#));
    let too_many = "a=1&".repeat(1001);
    let r = c.request(
        "POST",
        "/custom-error",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        too_many.as_bytes(),
    );
    assert_eq!((r.status, r.text()), (400, r#"{"error":400}"#));
}
