//! `WebSocket::render_string` (Tornado's `render_string` on a `WebSocketHandler`), driven by
//! our WebSocket client over loopback: a handler renders the application's templates from
//! `on_message`, with the same environment as the pages (template_path, the cache, debug-mode
//! reload, Tornado's `xhtml_escape` autoescape) and the application's namespace
//! (`static_url`, `reverse_url`, `settings`). A missing template, a syntax error or an
//! undefined variable is an `Err` naming the template (and the line) and the connection
//! keeps working; `request`, `xsrf_form_html()` and `current_user` fail saying why. Last, the
//! `websocket` demo's `html` field, escaped exactly as before.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use http1::client::testing::run_test_with_timeout;
use web::websocket::{
    websocket_connect, websocket_url, ClientMessage, Message, WebSocket, WebSocketClientConnection,
    WebSocketConnectOptions, WebSocketHandler,
};
use web::{url, Application, Context, RequestHandler, Result, Settings};

/// What the templates print for `body`: every character `xhtml_escape` changes, and `/`,
/// which it leaves (minijinja's own HTML escape would not).
const BODY: &str = "<b>&\"'/</b>";
const ESCAPED: &str = "&lt;b&gt;&amp;&quot;&#39;/&lt;/b&gt;";

/// Renders the template a text message names, with `body` = [`BODY`] (and `current_user`
/// when the message is `NAME as USER`); answers `ok:` and the text, or `err:` and the error.
#[derive(Default)]
struct Renderer;

impl WebSocketHandler for Renderer {
    async fn on_message(&mut self, ws: &WebSocket, message: Message<'_>) {
        let Message::Text(text) = message else { return };
        let rendered = match text.split_once(" as ") {
            Some((name, user)) => ws.render_string(
                name,
                minijinja::context! { body => BODY, current_user => user },
            ),
            None => ws.render_string(text, minijinja::context! { body => BODY }),
        };
        let reply = match rendered {
            Ok(text) => format!("ok:{text}"),
            Err(e) => format!("err:{e}"),
        };
        let _ = ws.write_message(reply, false).await;
    }
}

/// `GET /page?name=NAME`: the same template as a page, with the same `body`.
#[derive(Default)]
struct Page;

impl RequestHandler for Page {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let name = cx.argument("name")?.unwrap_or_default().to_owned();
        cx.render(&name, minijinja::context! { body => BODY })
    }
}

/// A named route for `reverse_url`.
#[derive(Default)]
struct Item;

impl RequestHandler for Item {}

/// A fresh folder of templates (and the static file `app.css`) for one test.
fn template_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("web-ws-templates-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let files = [
        ("message.html", "<div>{{ body }}</div>"),
        ("message.txt", "{{ body }}"),
        (
            "base.html",
            "<main>{% block content %}{% endblock %}</main>",
        ),
        (
            "child.html",
            "{% extends \"base.html\" %}{% block content %}{{ body }}{% endblock %}",
        ),
        (
            "links.html",
            "{{ static_url(\"app.css\") }} {{ reverse_url(\"item\", \"a b\") }} \
             {{ settings.debug }} {{ settings.static_url_prefix }}",
        ),
        ("request.html", "line one\n{{ request.path }}"),
        ("form.html", "<form>{{ xsrf_form_html() }}</form>"),
        ("user.html", "user={{ current_user }}"),
        ("syntax.html", "line one\n{% if %}\n"),
        (
            "undefined.html",
            "line one\nline two\n{{ missing_variable }}",
        ),
        ("t.txt", "one"),
        ("app.css", "body { color: red }\n"),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

/// The application: the renderer at `/ws`, pages at `/page`, a named route; templates and
/// static files from `dir`.
fn app(dir: &Path, debug: bool) -> Application {
    let settings = Settings {
        template_path: Some(dir.into()),
        static_path: Some(dir.into()),
        xsrf_cookies: true,
        debug,
        ..Settings::default()
    };
    let routes = vec![
        websocket_url::<Renderer>("/ws"),
        url::<Page>("/page"),
        url::<Item>("/item/([^/]+)").name("item"),
    ];
    Application::with_settings(routes, settings)
}

/// Sends `request` and returns the text answer.
async fn ask(ws: &WebSocketClientConnection, request: &str) -> String {
    ws.write_message(request, false).await.unwrap();
    match ws.read_message().await {
        Some(ClientMessage::Text(text)) => text,
        other => panic!("no text answer to {request:?}: {other:?}"),
    }
}

/// Runs `test` with a client connected to `/ws` of the server at `addr`.
fn with_socket<F: std::future::Future<Output = ()>>(
    addr: std::net::SocketAddr,
    test: impl FnOnce(WebSocketClientConnection) -> F,
) {
    let url = format!("ws://{addr}/ws");
    run_test_with_timeout(Duration::from_secs(30), async move {
        let ws = websocket_connect(&url, WebSocketConnectOptions::default())
            .await
            .unwrap();
        test(ws).await;
    });
}

#[test]
fn on_message_renders_the_applications_templates_with_autoescape() {
    let dir = template_dir("render");
    let served = dir.clone();
    let addr = common::serve(move || app(&served, false));
    let version = web::static_files::static_version(&dir, "app.css").unwrap();
    with_socket(addr, |ws| async move {
        assert_eq!(
            ask(&ws, "message.html").await,
            format!("ok:<div>{ESCAPED}</div>")
        );
        assert_eq!(
            ask(&ws, "message.txt").await,
            format!("ok:{BODY}"),
            "a text template is not escaped"
        );
        assert_eq!(
            ask(&ws, "child.html").await,
            format!("ok:<main>{ESCAPED}</main>"),
            "extends"
        );
        assert_eq!(
            ask(&ws, "links.html").await,
            format!("ok:/static/app.css?v={version} /item/a%20b False /static/")
        );
        ws.close(Some(1000), "").await;
    });
    // The page renders the same template to the same text.
    let page = common::Client::connect(addr).get("/page?name=message.html");
    assert_eq!(page.status, 200);
    assert_eq!(page.text(), format!("<div>{ESCAPED}</div>"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn template_errors_are_errs_naming_the_template_and_the_socket_stays_open() {
    let dir = template_dir("errors");
    let served = dir.clone();
    let addr = common::serve(move || app(&served, false));
    with_socket(addr, |ws| async move {
        let missing = ask(&ws, "nope.html").await;
        assert!(missing.starts_with("err:HTTP 500"), "{missing}");
        assert!(missing.contains("nope.html"), "{missing}");
        let syntax = ask(&ws, "syntax.html").await;
        assert!(syntax.contains("template syntax.html, line 2"), "{syntax}");
        let undefined = ask(&ws, "undefined.html").await;
        assert!(
            undefined.contains("template undefined.html, line 3"),
            "{undefined}"
        );
        assert!(undefined.contains("missing_variable"), "{undefined}");
        // The connection still renders (and echoes) after the errors.
        assert_eq!(ask(&ws, "message.txt").await, format!("ok:{BODY}"));
        ws.close(Some(1000), "").await;
    });
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn without_template_path_a_render_is_an_err() {
    let addr = common::serve(|| Application::new(vec![websocket_url::<Renderer>("/ws")]));
    with_socket(addr, |ws| async move {
        let answer = ask(&ws, "message.html").await;
        assert!(
            answer.starts_with("err:HTTP 500") && answer.contains("template_path"),
            "{answer}"
        );
        ws.close(Some(1000), "").await;
    });
}

#[test]
fn request_bound_names_fail_clearly_unless_given() {
    let dir = template_dir("request");
    let served = dir.clone();
    let addr = common::serve(move || app(&served, false));
    with_socket(addr, |ws| async move {
        let request = ask(&ws, "request.html").await;
        assert!(
            request.contains("template request.html, line 2"),
            "{request}"
        );
        assert!(
            request.contains("`request` is not available after a WebSocket's handshake"),
            "{request}"
        );
        let form = ask(&ws, "form.html").await;
        assert!(form.contains("template form.html, line 1"), "{form}");
        assert!(
            form.contains("xsrf_form_html() is not available after a WebSocket's handshake"),
            "{form}"
        );
        let user = ask(&ws, "user.html").await;
        assert!(
            user.contains("`current_user` is not kept after a WebSocket's handshake"),
            "{user}"
        );
        // A value given in the context wins over the namespace.
        assert_eq!(ask(&ws, "user.html as ann").await, "ok:user=ann");
        ws.close(Some(1000), "").await;
    });
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn pages_and_sockets_share_one_cache_reloaded_in_debug_mode() {
    for debug in [false, true] {
        let dir = template_dir(&format!("cache-{debug}"));
        let served = dir.clone();
        let addr = common::serve(move || app(&served, debug));
        assert_eq!(
            common::Client::connect(addr).get("/page?name=t.txt").text(),
            "one"
        );
        std::fs::write(dir.join("t.txt"), "two!").unwrap();
        let expected = match debug {
            true => "ok:two!", // reloaded, as pages are
            false => "ok:one", // the page's cached template
        };
        with_socket(addr, |ws| async move {
            assert_eq!(ask(&ws, "t.txt").await, expected, "debug={debug}");
            ws.close(Some(1000), "").await;
        });
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[allow(dead_code)]
#[path = "../examples/websocket/main.rs"]
mod websocket;

/// The demo's chat `html` for a body full of characters to escape, byte for byte what the
/// demo's own environment (with its copy of `xhtml_escape`) rendered before.
#[test]
fn the_websocket_demos_html_is_escaped_as_before() {
    let addr = common::serve(|| websocket::make_app().unwrap());
    let url = format!("ws://{addr}/chatsocket");
    run_test_with_timeout(Duration::from_secs(30), async move {
        let options = WebSocketConnectOptions::default();
        let ws = websocket_connect(&url, options).await.unwrap();
        let body = "<script>alert('x & \"y\"')</script> a/b";
        let message = serde_json::json!({ "body": body }).to_string();
        ws.write_message(message, false).await.unwrap();
        let Some(ClientMessage::Text(chat)) = ws.read_message().await else {
            panic!("no chat");
        };
        let chat: serde_json::Value = serde_json::from_str(&chat).unwrap();
        let id = chat["id"].as_str().unwrap();
        assert_eq!(
            chat["html"],
            format!(
                "<div class=\"message\" id=\"m{id}\">&lt;script&gt;alert(&#39;x &amp; \
                 &quot;y&quot;&#39;)&lt;/script&gt; a/b</div>"
            )
        );
        ws.close(Some(1000), "").await;
    });
}
