//! The demo's routes plus `GET /heap`, behind a counting global allocator: the tests read the
//! server's live heap bytes over HTTP while attacking it (idle connections, pipelining flood,
//! soak). One server thread, like the demo.
//!
//! ```text
//! memserver --port N [--idle S] [--header-timeout S] [--body-timeout S]
//! ```
//! `GET /heap` answers `live=<bytes> allocs=<count> rss_kib=<KiB>`; `GET /heap?sizes=1` adds
//! ` <size>:<live count>` for every allocation size with live blocks (4096 = 4096 and above).

#[allow(dead_code)]
#[path = "../../../web/examples/demo.rs"]
mod demo;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use web::{url, Application, Context, RequestHandler, Result, Settings};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
/// Live allocations by exact size (sizes >= HIST go in the last slot): `GET /heap?sizes=1`
/// lists them, so a test can tell which allocations an idle connection holds.
const HIST: usize = 4096;
static BY_SIZE: [AtomicIsize; HIST + 1] = [const { AtomicIsize::new(0) }; HIST + 1];

fn note(size: usize, delta: isize) {
    LIVE.fetch_add(size as isize * delta, Relaxed);
    BY_SIZE[size.min(HIST)].fetch_add(delta, Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract is exactly `System`'s; the counters are atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            note(layout.size(), 1);
            ALLOCS.fetch_add(1, Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            note(layout.size(), 1);
            ALLOCS.fetch_add(1, Relaxed);
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            note(layout.size(), -1);
            note(new_size, 1);
            ALLOCS.fetch_add(1, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(layout.size(), -1);
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// `GET /heap`: the live heap and RSS of this process.
#[derive(Default)]
struct Heap;

impl RequestHandler for Heap {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let rss = tests::proc_status_kib(std::process::id(), "VmRSS:");
        let sizes = cx.get_argument("sizes", Some(""))?.to_string();
        cx.set_header("Content-Type", "text/plain")?;
        let mut out = format!(
            "live={} allocs={} rss_kib={rss}",
            LIVE.load(Relaxed),
            ALLOCS.load(Relaxed)
        );
        if !sizes.is_empty() {
            for (size, n) in BY_SIZE.iter().enumerate() {
                let n = n.load(Relaxed);
                if n != 0 {
                    out.push_str(&format!(" {size}:{n}"));
                }
            }
        }
        cx.write(out);
        Ok(())
    }
}

fn main() {
    let mut port = 0u16;
    let mut params = http1::HTTP1ConnectionParameters::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().expect("flag value");
        let secs = || Some(Duration::from_secs_f64(value.parse().expect("seconds")));
        match flag.as_str() {
            "--port" => port = value.parse().expect("port"),
            "--idle" => params.idle_connection_timeout = secs(),
            "--header-timeout" => params.header_timeout = secs(),
            "--body-timeout" => params.body_timeout = secs(),
            other => panic!("memserver: unknown flag {other}"),
        }
    }
    let mut routes = demo::routes();
    routes.push(url::<Heap>("/heap"));
    let settings = Settings {
        http: params,
        ..Settings::default()
    };
    let app = Application::with_settings(routes, settings);
    let _server = match app.listen_on(port, Some("127.0.0.1")) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("memserver: cannot listen on port {port}: {e}");
            std::process::exit(1);
        }
    };
    eprintln!("memserver listening on 127.0.0.1:{port}");
    reactor::Reactor::current().run();
}
