//! What an application needs beyond routing: one state value for every handler, `?` on
//! common errors as logged 500s, one application-wide `write_error`, and arguments whose
//! optional/required nature reads at a glance; over real loopback sockets.

mod common;

use std::cell::RefCell;

use common::{Client, JsonBody};
use web::{url, Application, Context, ErrorPage, HttpError, RequestHandler, Result, Settings};

/// The application's state: a list of notes.
#[derive(Default)]
struct Notes(RefCell<Vec<String>>);

/// `POST /notes` adds `text`, `GET /notes` lists them (from the application state).
#[derive(Default)]
struct NotesHandler;

impl RequestHandler for NotesHandler {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let notes = cx.state::<Notes>()?.0.borrow().clone();
        cx.write_json(&notes)
    }
    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        let text = cx.required_argument("text")?.to_owned();
        cx.state::<Notes>()?.0.borrow_mut().push(text);
        Ok(())
    }
}

/// Each path fails with `?` on another kind of error.
#[derive(Default)]
struct Failing;

impl RequestHandler for Failing {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        match cx.path_arg(0).unwrap_or("") {
            "io" => {
                std::fs::read("/no/such/file/here")?;
            }
            "json" => {
                let _: serde_json::Value = serde_json::from_str("{not json")?;
            }
            "blocking" => {
                reactor::run_in_executor(|| panic!("the task broke")).await?;
            }
            "boxed" => {
                let e: Box<dyn std::error::Error + Send + Sync> = "a boxed failure".into();
                Err(e)?;
            }
            "internal" => {
                "x".parse::<u32>().map_err(HttpError::internal)?;
            }
            "state" => {
                cx.state::<String>()?;
            }
            _ => return Err(HttpError::new(418)),
        }
        Ok(())
    }
}

/// Its own `write_error` wins over the setting.
#[derive(Default)]
struct OwnErrors;

impl RequestHandler for OwnErrors {
    async fn get(&mut self, _cx: &mut Context<'_>) -> Result {
        Err(HttpError::new(409))
    }
    fn write_error(&mut self, cx: &mut Context<'_>, status: u16, _error: &HttpError) {
        cx.write(format!("own {status}"));
    }
}

/// `/args?...`: the three argument accessors.
#[derive(Default)]
struct Args;

impl RequestHandler for Args {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let optional = cx.argument("opt")?.unwrap_or("(none)").to_owned();
        let defaulted = cx.argument_or("page", "1")?.to_owned();
        let required = cx.required_argument("q")?.to_owned();
        cx.write(format!("{optional} {defaulted} {required}"));
        Ok(())
    }
    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        let v = cx.argument("v")?.unwrap_or("(none)").to_owned();
        cx.write(v);
        Ok(())
    }
}

fn json_errors(status: u16, error: &HttpError, debug: bool) -> ErrorPage {
    let detail = if debug {
        error.log_message.as_deref()
    } else {
        None
    };
    ErrorPage::json(&serde_json::json!({
        "status": status,
        "error": error.reason_phrase(),
        "detail": detail,
    }))
}

fn routes() -> Vec<web::UrlSpec<web::HandlerTarget>> {
    vec![
        url::<NotesHandler>("/notes"),
        url::<Failing>("/fail/(.*)"),
        url::<OwnErrors>("/own"),
        url::<Args>("/args"),
    ]
}

fn app(settings: Settings) -> Application {
    Application::with_settings(routes(), settings).with_state(Notes::default())
}

#[test]
fn every_handler_reaches_the_application_state() {
    let addr = common::serve(|| app(Settings::default()));
    let mut c = Client::connect(addr);
    let form = "Content-Type: application/x-www-form-urlencoded\r\n";
    assert_eq!(c.request("POST", "/notes", form, b"text=one").status, 200);
    assert_eq!(c.request("POST", "/notes", form, b"text=two").status, 200);
    assert_eq!(c.request("POST", "/notes", form, b"").status, 400);
    assert_eq!(c.get("/notes").json(), serde_json::json!(["one", "two"]));
    // Another connection sees the same state.
    assert_eq!(
        Client::connect(addr).get("/notes").json(),
        serde_json::json!(["one", "two"])
    );
}

#[test]
fn question_mark_turns_errors_into_logged_500s() {
    let addr = common::serve(|| {
        app(Settings {
            debug: true,
            ..Settings::default()
        })
    });
    let mut c = Client::connect(addr);
    for (path, detail) in [
        ("io", "I/O error"),
        ("json", "JSON error"),
        ("blocking", "the task broke"),
        ("boxed", "a boxed failure"),
        ("internal", "invalid digit"),
        (
            "state",
            "no application state of type alloc::string::String",
        ),
    ] {
        let r = c.get(&format!("/fail/{path}"));
        assert_eq!(r.status, 500, "{path}");
        assert!(r.text().contains(detail), "{path}: {}", r.text());
    }
    // Without debug, the detail stays in the log.
    let addr = common::serve(|| app(Settings::default()));
    let r = Client::connect(addr).get("/fail/io");
    assert_eq!(r.status, 500);
    assert!(!r.text().contains("I/O error"), "{}", r.text());
}

#[test]
fn one_write_error_setting_serves_every_handler() {
    let addr = common::serve(|| {
        app(Settings {
            write_error: Some(json_errors),
            ..Settings::default()
        })
    });
    let mut c = Client::connect(addr);
    let r = c.get("/fail/other");
    assert_eq!(r.status, 418);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/json; charset=UTF-8")
    );
    assert_eq!(
        r.json(),
        serde_json::json!({"status": 418, "error": "I'm a Teapot", "detail": null})
    );
    // Unknown paths and missing arguments too.
    let r = c.get("/nowhere");
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (404, "Not Found".into())
    );
    let r = c.get("/args");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "Missing argument q");
    // A handler's own write_error still wins.
    assert_eq!(c.get("/own").text(), "own 409");
}

#[test]
fn arguments_say_optional_or_required() {
    let addr = common::serve(|| app(Settings::default()));
    let mut c = Client::connect(addr);
    assert_eq!(c.get("/args?q=%20x%20").text(), "(none) 1 x");
    assert_eq!(c.get("/args?q=x&opt=o&page=3").text(), "o 3 x");
    let r = c.get("/args?opt=o");
    assert_eq!((r.status, r.reason.as_str()), (400, "Missing argument q"));
    assert_eq!(c.get("/args?q=%FF").status, 400, "not UTF-8");
    // The body wins over the query, as Tornado's get_argument.
    let form = "Content-Type: application/x-www-form-urlencoded\r\n";
    assert_eq!(
        c.request("POST", "/args?v=query", form, b"v=body").text(),
        "body"
    );
    assert_eq!(
        c.request("POST", "/args?v=query", form, b"").text(),
        "query"
    );
    assert_eq!(c.request("POST", "/args", form, b"").text(), "(none)");
}

#[test]
fn static_path_registers_the_static_prefix_after_the_routes() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/templates");
    let addr = common::serve(move || {
        let mut routes = routes();
        routes.push(url::<Args>("/assets/args"));
        Application::with_settings(
            routes,
            Settings {
                static_path: Some(root),
                static_url_prefix: "/assets/".to_owned(),
                ..Settings::default()
            },
        )
    });
    let mut c = Client::connect(addr);
    let r = c.get("/assets/app.css");
    assert_eq!((r.status, r.text()), (200, "body { color: red }\n"));
    assert_eq!(c.get("/assets/../Cargo.toml").status, 403, "no traversal");
    assert_eq!(c.get("/assets/missing.css").status, 404);
    // An application's own route under the prefix wins.
    assert_eq!(c.get("/assets/args?q=mine").text(), "(none) 1 mine");
    assert_eq!(
        c.get("/static/app.css").status,
        404,
        "only the configured prefix"
    );
}
