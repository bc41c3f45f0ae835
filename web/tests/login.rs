//! Login: `get_current_user` (async, here through `run_in_executor` into a user table held
//! as application state), `current_user`, `authenticated` per handler and per method, the
//! `login_url` setting; over real loopback sockets.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::Client;
use web::signed_cookies::{create_signed_value, now_timestamp, CookieSecret};
use web::{url, Application, Context, RequestHandler, Result, Settings};

const KEY: &str = "a key for the login tests";

/// The "database": signed user ids to names, read on a helper thread.
struct Users(Arc<HashMap<String, String>>);

/// Looks the user of the `user` signed cookie up in the database, off the loop.
async fn lookup_user(cx: &mut Context<'_>) -> Result<Option<String>> {
    let Some(id) = cx.get_signed_cookie("user") else {
        return Ok(None);
    };
    let users = Arc::clone(&cx.state::<Users>()?.0);
    let name = reactor::run_in_executor(move || users.get(&id).cloned()).await?;
    Ok(name)
}

/// Every method needs a user.
#[derive(Default)]
struct Private;

impl RequestHandler for Private {
    async fn get_current_user(&mut self, cx: &mut Context<'_>) -> Result<Option<String>> {
        lookup_user(cx).await
    }
    fn authenticated(&self, _method: &str) -> bool {
        true
    }
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let name = cx.current_user().unwrap_or("?").to_owned();
        cx.write(format!("hello {name}"));
        Ok(())
    }
    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        cx.write("posted");
        Ok(())
    }
}

/// Only POST needs a user.
#[derive(Default)]
struct Guestbook;

impl RequestHandler for Guestbook {
    async fn get_current_user(&mut self, cx: &mut Context<'_>) -> Result<Option<String>> {
        lookup_user(cx).await
    }
    fn authenticated(&self, method: &str) -> bool {
        method == "POST"
    }
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let who = cx.current_user().unwrap_or("anonymous").to_owned();
        cx.write(who);
        Ok(())
    }
    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        cx.write("signed");
        Ok(())
    }
}

fn app(login_url: Option<&str>) -> Application {
    let settings = Settings {
        cookie_secret: Some(CookieSecret::new(KEY)),
        login_url: login_url.map(str::to_owned),
        ..Settings::default()
    };
    let users = HashMap::from([("7".to_owned(), "ann".to_owned())]);
    Application::with_settings(
        vec![url::<Private>("/private"), url::<Guestbook>("/book")],
        settings,
    )
    .with_state(Users(Arc::new(users)))
}

fn cookie(id: &str) -> String {
    let value = create_signed_value(
        &CookieSecret::new(KEY),
        "user",
        id.as_bytes(),
        now_timestamp(),
    );
    format!("Cookie: user={value}\r\n")
}

#[test]
fn authenticated_get_without_user_redirects_to_login_url_with_next() {
    let addr = common::serve(|| app(Some("/login")));
    let mut c = Client::connect(addr);
    let r = c.get("/private?a=1&b=x%20y");
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("Location"),
        Some("/login?next=%2Fprivate%3Fa%3D1%26b%3Dx%2520y")
    );
    let r = c.request("HEAD", "/private", "", b"");
    assert_eq!(r.status, 302);
    // An unknown user id is nobody too.
    assert_eq!(c.request("GET", "/private", &cookie("8"), b"").status, 302);
}

#[test]
fn an_absolute_login_url_gets_the_full_url_as_next() {
    let addr = common::serve(|| app(Some("https://auth.example/login")));
    let r = Client::connect(addr).get("/private");
    assert_eq!(
        r.header("Location"),
        Some("https://auth.example/login?next=http%3A%2F%2Flocalhost%2Fprivate")
    );
}

#[test]
fn authenticated_post_without_user_is_403() {
    let addr = common::serve(|| app(Some("/login")));
    let r = Client::connect(addr).request("POST", "/private", "", b"");
    assert_eq!(r.status, 403);
}

#[test]
fn a_user_found_through_run_in_executor_passes() {
    let addr = common::serve(|| app(Some("/login")));
    let mut c = Client::connect(addr);
    let r = c.request("GET", "/private", &cookie("7"), b"");
    assert_eq!((r.status, r.text()), (200, "hello ann"));
    let r = c.request("POST", "/private", &cookie("7"), b"");
    assert_eq!((r.status, r.text()), (200, "posted"));
    // A tampered cookie is nobody.
    let good = cookie("7");
    let last = if good.ends_with("0\r\n") {
        "1\r\n"
    } else {
        "0\r\n"
    };
    let forged = format!("{}{last}", &good[..good.len() - 3]);
    assert_eq!(c.request("GET", "/private", &forged, b"").status, 302);
}

#[test]
fn authenticated_can_cover_one_method() {
    let addr = common::serve(|| app(Some("/login")));
    let mut c = Client::connect(addr);
    assert_eq!(c.get("/book").text(), "anonymous");
    assert_eq!(c.request("GET", "/book", &cookie("7"), b"").text(), "ann");
    assert_eq!(c.request("POST", "/book", "", b"").status, 403);
    assert_eq!(
        c.request("POST", "/book", &cookie("7"), b"").text(),
        "signed"
    );
}

#[test]
fn authenticated_without_login_url_is_a_500() {
    let addr = common::serve(|| app(None));
    assert_eq!(Client::connect(addr).get("/private").status, 500);
}

/// A streaming upload that needs a user: refused before its body is read.
#[derive(Default)]
struct Upload {
    bytes: usize,
}

impl RequestHandler for Upload {
    const STREAM_REQUEST_BODY: bool = true;
    async fn get_current_user(&mut self, cx: &mut Context<'_>) -> Result<Option<String>> {
        lookup_user(cx).await
    }
    fn authenticated(&self, _method: &str) -> bool {
        true
    }
    async fn data_received(&mut self, _cx: &mut Context<'_>, chunk: &[u8]) -> Result {
        self.bytes += chunk.len();
        Ok(())
    }
    async fn put(&mut self, cx: &mut Context<'_>) -> Result {
        cx.write(format!("{} bytes", self.bytes));
        Ok(())
    }
}

#[test]
fn authenticated_streaming_handlers_refuse_before_the_body() {
    let addr = common::serve(|| {
        let mut app = app(Some("/login"));
        app.add_handlers(".*", vec![url::<Upload>("/upload")]);
        app
    });
    let mut c = Client::connect(addr);
    assert_eq!(c.request("PUT", "/upload", "", b"0123456789").status, 403);
    let mut c = Client::connect(addr);
    let r = c.request("PUT", "/upload", &cookie("7"), b"0123456789");
    assert_eq!((r.status, r.text()), (200, "10 bytes"));
}
