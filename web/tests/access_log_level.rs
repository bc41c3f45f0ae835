//! The access log costs a request nothing when its level is off: whether the logger wants the
//! `web::access` lines is asked once (and again only when the logger or the maximum level
//! changes), not per request; and with only errors enabled, an error line still carries the
//! request's time.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use web::{url, Application, Context, HttpError, RequestHandler, Result};

/// How often the logger was asked about `web::access`.
static ASKED: AtomicUsize = AtomicUsize::new(0);
static LINES: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());

/// Keeps `web::access` lines at error level only (as `RUST_LOG=web::access=error` would).
struct ErrorsOnly;

impl log::Log for ErrorsOnly {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        if m.target() != "web::access" {
            return false;
        }
        ASKED.fetch_add(1, Ordering::Relaxed);
        m.level() <= log::Level::Error
    }
    fn log(&self, r: &log::Record<'_>) {
        if r.target() == "web::access" && r.level() <= log::Level::Error {
            LINES
                .lock()
                .unwrap()
                .push((r.level(), r.args().to_string()));
        }
    }
    fn flush(&self) {}
}

#[derive(Default)]
struct Page;

impl RequestHandler for Page {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        cx.write("fine");
        Ok(())
    }
}

/// Fails after 20 ms, so that its access line has a time to show.
#[derive(Default)]
struct SlowFailure;

impl RequestHandler for SlowFailure {
    async fn get(&mut self, _: &mut Context<'_>) -> Result {
        reactor::sleep(Duration::from_millis(20)).await;
        Err(HttpError::new(503))
    }
}

#[test]
fn the_logger_is_asked_once_not_per_request() {
    log::set_logger(&ErrorsOnly).unwrap();
    log::set_max_level(log::LevelFilter::Error);
    let addr =
        common::serve(|| Application::new(vec![url::<Page>("/"), url::<SlowFailure>("/fail")]));
    let mut c = common::Client::connect(addr);
    for _ in 0..50 {
        assert_eq!(c.get("/").text(), "fine");
    }
    assert_eq!(c.get("/fail").status, 503);
    let asked = ASKED.load(Ordering::Relaxed);
    assert!(
        asked <= 2,
        "the logger was asked {asked} times for 51 requests"
    );

    // The error line is written, with the time the request took.
    let lines = LINES.lock().unwrap().clone();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let (level, line) = &lines[0];
    assert_eq!(*level, log::Level::Error);
    assert!(line.starts_with("503 GET /fail (127.0.0.1) "), "{line}");
    let ms: f64 = line
        .rsplit(' ')
        .next()
        .unwrap()
        .trim_end_matches("ms")
        .parse()
        .unwrap();
    assert!((20.0..10_000.0).contains(&ms), "{line}");
}
