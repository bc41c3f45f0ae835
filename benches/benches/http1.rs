//! The HTTP/1.1 layer: parsing a request head, and whole requests in process (client and
//! server on one thread, over loopback), next to bare `httparse`, hyper 1.x on tokio and a
//! raw-socket floor.
//!
//! Run: `cargo bench -p benches --bench http1`.

mod common;
mod e2e;

use std::hint::black_box;
use std::mem::MaybeUninit;

use common::Clock;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use http1::parse::{parse_request_head, MAX_HEADERS};
use http1::HTTP1ConnectionParameters;
use reactor::Reactor;

/// A browser-like request head (368 bytes, 9 lines), as in the iostream bench.
const BROWSER_HEAD: &[u8] = b"GET /plaintext?page=1 HTTP/1.1\r\n\
Host: localhost:8080\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Connection: keep-alive\r\n\
Cookie: session=0123456789abcdef0123456789abcdef; theme=dark\r\n\
\r\n";

/// Bytes to a `RequestHead` (syntax by httparse, then our RFC 9112 checks: Host, framing,
/// target split), next to httparse alone with the same uninitialised header array.
fn parse_head(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("http1/parse_head");
    let params = HTTP1ConnectionParameters::default();
    for (name, head) in [("wrk_40b", e2e::REQUEST), ("browser_368b", BROWSER_HEAD)] {
        g.throughput(Throughput::Bytes(head.len() as u64));
        g.bench_function(BenchmarkId::new("ours", name), |b| {
            b.iter(|| {
                let (head, len) = parse_request_head(black_box(head), &params)
                    .unwrap()
                    .unwrap();
                black_box(&head);
                len
            })
        });
        g.bench_function(BenchmarkId::new("httparse", name), |b| {
            let mut headers = [MaybeUninit::uninit(); MAX_HEADERS];
            b.iter(|| {
                let mut req = httparse::Request::new(&mut []);
                let status = req
                    .parse_with_uninit_headers(black_box(head), &mut headers)
                    .unwrap();
                black_box(&req);
                status.unwrap()
            })
        });
    }
    g.finish();
}

/// Requests in process: `depth` 1 is plain keep-alive, 16 is pipelined (time per batch).
fn e2e_group(c: &mut Criterion<Clock>, name: &str, depth: usize) {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(depth as u64));
    let r = Reactor::new().unwrap();
    g.bench_function("ours", |b| {
        b.iter_custom(|n| e2e::ours(&r, e2e::Hello, depth, n))
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    g.bench_function("hyper", |b| b.iter_custom(|n| e2e::hyper(&rt, depth, n)));
    g.bench_function("raw", |b| b.iter_custom(|n| e2e::raw(depth, n)));
    g.finish();
}

fn e2e_keepalive(c: &mut Criterion<Clock>) {
    e2e_group(c, "http1/e2e_keepalive", 1);
}

fn pipelined_16(c: &mut Criterion<Clock>) {
    e2e_group(c, "http1/pipelined_16", 16);
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = parse_head, e2e_keepalive, pipelined_16
}
criterion_main!(benches);
