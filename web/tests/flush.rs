//! `Context::flush` sends: the bytes written before it reach the client while the handler is
//! still running (Tornado's `flush()`), not with the rest of the response at the end.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use web::{url, Application, Context, RequestHandler, Result};

#[derive(Default)]
struct Slow;

impl RequestHandler for Slow {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        cx.write("first ");
        cx.flush().await?;
        reactor::sleep(Duration::from_millis(600)).await;
        cx.write("second");
        cx.flush().await?;
        reactor::sleep(Duration::from_millis(600)).await;
        cx.write("end");
        Ok(())
    }
}

#[test]
fn each_flush_reaches_the_client_at_once() {
    let addr = common::serve(|| Application::new(vec![url::<Slow>("/")]));
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let t0 = Instant::now();
    std::io::Write::write_all(
        &mut s,
        b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut got = Vec::new();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).into_owned();
        for word in ["first ", "second", "end"] {
            if text.contains(word) && !seen.iter().any(|(w, _)| *w == word) {
                seen.push((word, t0.elapsed()));
            }
        }
    }
    let at = |w: &str| seen.iter().find(|(x, _)| *x == w).unwrap().1;
    // Each piece arrives a whole pause after the one before: it was on the wire while the
    // handler slept, not held until the end. (Gaps, not absolute times: a loaded machine may
    // delay any one arrival, but cannot make a flushed piece arrive a pause early.)
    let gap = |a: &str, b: &str| at(b).saturating_sub(at(a));
    assert!(
        gap("first ", "second") >= Duration::from_millis(400),
        "{seen:?}"
    );
    assert!(
        gap("second", "end") >= Duration::from_millis(400),
        "{seen:?}"
    );
    assert!(at("end") >= Duration::from_millis(1150), "{seen:?}");
}
