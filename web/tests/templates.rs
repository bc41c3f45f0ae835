//! Templates through minijinja (`cx.render`, `cx.render_string`): inheritance, includes,
//! macros, autoescape by extension, Tornado's namespace, errors with the template's name and
//! line, the cache and debug-mode reloading; over real loopback sockets.

mod common;

use std::path::PathBuf;

use common::Client;
use web::{url, Application, Context, RequestHandler, Result, Settings};

fn template_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/templates")
}

/// `/page?name=..`, `/plain?name=..`, `/namespace`, `/broken`, `/string`, `/file?name=..`.
#[derive(Default)]
struct Pages;

impl RequestHandler for Pages {
    async fn get_current_user(&mut self, cx: &mut Context<'_>) -> Result<Option<String>> {
        Ok(cx.argument("user")?.map(str::to_owned))
    }

    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let name = cx.argument_or("name", "world")?.to_owned();
        match cx.request().path() {
            "/page" => cx.render(
                "page.html",
                minijinja::context! {
                    name,
                    entries => vec![minijinja::context!{ title => "<b>one</b>" }, minijinja::context!{ title => "two" }],
                    html => "<i>trusted</i>",
                },
            ),
            "/plain" => cx.render("plain.txt", minijinja::context! { name }),
            "/namespace" => cx.render("namespace.html", ()),
            "/broken" => cx.render("broken.html", ()),
            "/string" => {
                let text = cx.render_string("plain.txt", minijinja::context! { name })?;
                cx.write(text.to_uppercase());
                Ok(())
            }
            _ => cx.render(&name, ()),
        }
    }
}

#[derive(Default)]
struct Entry;
impl RequestHandler for Entry {}

fn app(settings: Settings) -> Application {
    let routes = vec![
        url::<Pages>("/page"),
        url::<Pages>("/plain"),
        url::<Pages>("/namespace"),
        url::<Pages>("/broken"),
        url::<Pages>("/string"),
        url::<Pages>("/file"),
        url::<Entry>("/entry/([^/]+)").name("entry"),
    ];
    Application::with_settings(routes, settings)
}

fn settings(dir: PathBuf, debug: bool) -> Settings {
    Settings {
        template_path: Some(dir),
        static_path: Some(template_dir()),
        debug,
        ..Settings::default()
    }
}

#[test]
fn extends_include_macros_and_html_autoescape() {
    let addr = common::serve(|| app(settings(template_dir(), false)));
    let r = Client::connect(addr).get("/page?name=%3Cscript%3E");
    assert_eq!(r.status, 200);
    let body = r.text();
    assert!(
        body.contains("<title>Page &lt;script&gt;</title>"),
        "{body}"
    );
    assert!(body.contains("<h2>&lt;b&gt;one&lt;/b&gt;</h2>"), "{body}");
    assert!(body.contains("<h2>two</h2>"), "{body}");
    assert!(body.contains("raw:<i>trusted</i>"), "{body}");
    assert!(body.contains("<footer>/page</footer>"), "{body}");
}

#[test]
fn text_templates_are_not_escaped_and_render_string_returns_text() {
    let addr = common::serve(|| app(settings(template_dir(), false)));
    let mut c = Client::connect(addr);
    assert_eq!(c.get("/plain?name=%3Cb%3E").text(), "text <b>");
    assert_eq!(c.get("/string?name=x").text(), "TEXT X");
}

#[test]
fn the_xsrf_cookie_is_set_only_by_a_page_with_a_form() {
    // Tornado sets `_xsrf` when a template asks for `xsrf_form_html()`, not on every page (an
    // Atom feed, a page without a form).
    let addr = common::serve(|| {
        let mut s = settings(template_dir(), false);
        s.xsrf_cookies = true;
        app(s)
    });
    let mut c = Client::connect(addr);
    let r = c.get("/page?name=x");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Set-Cookie"), None, "no form, no cookie");
    let r = c.get("/namespace?q=x&user=u");
    let cookie = r.header("Set-Cookie").expect("a form: the cookie");
    let secret = cookie
        .strip_prefix("_xsrf=")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    let secret = web::xsrf::decode_token(secret).unwrap();
    // The form's token carries the cookie's secret (masked afresh).
    let body = r.text();
    let token = body.split("name=\"_xsrf\" value=\"").nth(1).unwrap();
    let token = token.split('"').next().unwrap();
    assert_eq!(web::xsrf::decode_token(token).unwrap(), secret);
    // A client that has the cookie gets a token for its secret, and no new cookie.
    let sent = format!("Cookie: {}\r\n", cookie.split(';').next().unwrap());
    let r = c.request("GET", "/namespace?q=x&user=u", &sent, b"");
    assert_eq!(r.header("Set-Cookie"), None);
    let body = r.text();
    let token = body.split("name=\"_xsrf\" value=\"").nth(1).unwrap();
    let token = token.split('"').next().unwrap();
    assert_eq!(web::xsrf::decode_token(token).unwrap(), secret);
}

#[test]
fn tornado_namespace_is_in_every_template() {
    let addr = common::serve(|| {
        let mut s = settings(template_dir(), false);
        s.xsrf_cookies = true;
        app(s)
    });
    let r = Client::connect(addr).get("/namespace?q=%20hi%20&user=ann");
    assert_eq!(r.status, 200);
    let body = r.text();
    let version = web::static_files::static_version(&template_dir(), "app.css").unwrap();
    assert!(
        body.contains(&format!("static=/static/app.css?v={version}")),
        "{body}"
    );
    assert!(
        body.contains("form=<input type=\"hidden\" name=\"_xsrf\" value=\""),
        "{body}"
    );
    assert!(r.header("Set-Cookie").unwrap().starts_with("_xsrf="));
    assert!(body.contains("reverse=/entry/a%20b"), "{body}");
    assert!(body.contains("user=ann"), "{body}");
    assert!(
        body.contains("method=GET uri=/namespace?q=%20hi%20&amp;user=ann q=hi"),
        "{body}"
    );
    assert!(body.contains("debug=False prefix=/static/"), "{body}");
    // static_path registered /static/ and serves the file static_url points at.
    let css = Client::connect(addr).get(&format!("/static/app.css?v={version}"));
    assert_eq!(css.status, 200);
    assert_eq!(css.text(), "body { color: red }\n");
}

#[test]
fn a_template_error_is_a_500_naming_template_and_line() {
    let addr = common::serve(|| app(settings(template_dir(), false)));
    let r = Client::connect(addr).get("/broken");
    assert_eq!(r.status, 500);
    assert!(
        !r.text().contains("broken.html"),
        "no details without debug"
    );
    let missing = Client::connect(addr).get("/file?name=nope.html");
    assert_eq!(missing.status, 500);

    let addr = common::serve(|| app(settings(template_dir(), true)));
    let r = Client::connect(addr).get("/broken");
    assert_eq!(r.status, 500);
    let body = r.text();
    assert!(body.contains("template broken.html, line 2"), "{body}");
    assert!(body.contains("missing_variable"), "{body}");
}

#[test]
fn render_without_template_path_is_a_500() {
    let addr = common::serve(|| {
        app(Settings {
            debug: true,
            ..Settings::default()
        })
    });
    let r = Client::connect(addr).get("/plain");
    assert_eq!(r.status, 500);
    assert!(r.text().contains("template_path"), "{}", r.text());
}

/// A copy of `plain.txt` in a fresh folder, to change under the server.
fn scratch_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("web-templates-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("t.txt"), "one").unwrap();
    dir
}

#[test]
fn templates_are_cached_unless_debug() {
    let cached = scratch_dir("cached");
    let dir = cached.clone();
    let addr = common::serve(move || app(settings(dir, false)));
    let mut c = Client::connect(addr);
    assert_eq!(c.get("/file?name=t.txt").text(), "one");
    std::fs::write(cached.join("t.txt"), "two!").unwrap();
    assert_eq!(c.get("/file?name=t.txt").text(), "one", "cached");

    let reloaded = scratch_dir("debug");
    let dir = reloaded.clone();
    let addr = common::serve(move || app(settings(dir, true)));
    let mut c = Client::connect(addr);
    assert_eq!(c.get("/file?name=t.txt").text(), "one");
    std::fs::write(reloaded.join("t.txt"), "two!").unwrap();
    assert_eq!(
        c.get("/file?name=t.txt").text(),
        "two!",
        "reloaded in debug mode"
    );
    let _ = std::fs::remove_dir_all(cached);
    let _ = std::fs::remove_dir_all(reloaded);
}
