//! One access-log line per request through the `log` facade (Tornado's `log_request`), and the
//! default handler (`Application::set_default_handler`).

mod common;

use std::sync::Mutex;

use web::{url, Application, Context, RequestHandler, Result, Settings};

static LINES: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.target() == "web::access"
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            LINES
                .lock()
                .unwrap()
                .push((r.level(), r.args().to_string()));
        }
    }
    fn flush(&self) {}
}

#[derive(Default)]
struct Ok200;

impl RequestHandler for Ok200 {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        cx.write("fine");
        Ok(())
    }
}

#[derive(Default)]
struct Fallback;

impl RequestHandler for Fallback {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        cx.set_status(404, Some("Nothing Here"))?;
        cx.write("custom not found");
        Ok(())
    }
}

#[test]
fn access_lines_and_default_handler() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Info);
    let addr = common::serve(|| {
        let mut app = Application::with_settings(vec![url::<Ok200>("/ok")], Settings::default());
        app.set_default_handler(web::HandlerTarget::new(Fallback::default));
        app
    });
    let mut c = common::Client::connect(addr);
    assert_eq!(c.get("/ok?x=1").text(), "fine");
    let r = c.get("/elsewhere");
    assert_eq!(
        (r.status, r.reason.as_str(), r.text()),
        (404, "Nothing Here", "custom not found")
    );
    assert_eq!(c.request("DELETE", "/ok", "", b"").status, 405);

    let lines = LINES.lock().unwrap().clone();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let check = |(level, line): &(log::Level, String), want_level, prefix: &str| {
        assert_eq!(*level, want_level, "{line}");
        assert!(line.starts_with(prefix), "{line}");
        assert!(line.ends_with("ms"), "{line}");
        let ms: f64 = line
            .rsplit(' ')
            .next()
            .unwrap()
            .trim_end_matches("ms")
            .parse()
            .unwrap();
        assert!((0.0..10_000.0).contains(&ms), "{line}");
    };
    check(&lines[0], log::Level::Info, "200 GET /ok?x=1 (127.0.0.1) ");
    check(
        &lines[1],
        log::Level::Warn,
        "404 GET /elsewhere (127.0.0.1) ",
    );
    check(&lines[2], log::Level::Warn, "405 DELETE /ok (127.0.0.1) ");
}
