//! The web layer: routing among 50 patterns, and whole requests through an `Application`
//! next to the same requests answered by a bare `http1` delegate (the web layer's own cost),
//! one at a time and 16 pipelined.
//!
//! Run: `cargo bench -p benches --bench web`.

mod common;
mod e2e;

use std::hint::black_box;

use common::Clock;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use reactor::Reactor;
use web::routing::{PathArgs, Router, UrlSpec};

const RESOURCES: [&str; 10] = [
    "users", "posts", "comments", "tags", "orders", "items", "carts", "reviews", "sessions",
    "files",
];

/// 50 routes, five per resource, as a REST application declares them: a literal, one and two
/// numeric groups, a dated archive, a named search group.
fn patterns() -> Vec<String> {
    RESOURCES
        .iter()
        .flat_map(|r| {
            [
                format!("/api/{r}"),
                format!(r"/api/{r}/([0-9]+)"),
                format!(r"/api/{r}/([0-9]+)/edit"),
                format!(r"/api/{r}/([0-9]+)/history/([0-9]{{4}})-([0-9]{{2}})"),
                format!(r"/api/{r}/search/(?P<query>[^/]+)"),
            ]
        })
        .collect()
}

/// `Router::find` for the first route, the last route (every pattern tried), and a miss (a
/// 404: every pattern tried, nothing found). No peer: `regex::RegexSet` over the same 50
/// patterns (one automaton, which route matched but no groups) is shown for scale.
fn route_50(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("web/route_50");
    let pats = patterns();
    assert_eq!(pats.len(), 50);
    let router = Router::new(
        pats.iter()
            .enumerate()
            .map(|(i, p)| UrlSpec::new(p, i))
            .collect(),
    );
    let mut args = PathArgs::default();
    let cases = [
        ("first", "/api/users", Some(0)),
        ("last", "/api/files/search/rust%20lang", Some(49)),
        ("miss", "/api/nothing/here", None),
    ];
    for (name, path, want) in cases {
        assert_eq!(
            router.find("localhost", path, &mut args).unwrap(),
            want.as_ref()
        );
        g.bench_function(BenchmarkId::new("ours", name), |b| {
            b.iter(|| {
                router
                    .find("localhost", black_box(path), &mut args)
                    .unwrap()
                    .copied()
            })
        });
    }
    let set = regex::RegexSet::new(pats.iter().map(|p| format!("^(?:{p})$"))).unwrap();
    g.bench_function(BenchmarkId::new("regex_set", "last"), |b| {
        b.iter(|| {
            set.matches(black_box("/api/files/search/rust%20lang"))
                .iter()
                .next()
        })
    });
    g.finish();
}

/// One keep-alive request in process through `Application` (routing to `e2e::WebHello`, its
/// `prepare`/`get`/`on_finish`, the response building) vs the bare `http1` delegate.
fn e2e_keepalive(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("web/e2e_keepalive");
    let r = Reactor::new().unwrap();
    g.bench_function("ours_web", |b| {
        b.iter_custom(|n| {
            let app = e2e::web_app();
            e2e::ours(&r, app, 1, n)
        })
    });
    g.bench_function("ours_http1", |b| {
        b.iter_custom(|n| e2e::ours(&r, e2e::Hello, 1, n))
    });
    g.finish();
}

/// The same with 16 pipelined requests per batch, where the syscalls are shared by 16
/// requests and the layers' own work shows.
fn pipelined_16(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("web/pipelined_16");
    g.throughput(criterion::Throughput::Elements(16));
    let r = Reactor::new().unwrap();
    g.bench_function("ours_web", |b| {
        b.iter_custom(|n| {
            let app = e2e::web_app();
            e2e::ours(&r, app, 16, n)
        })
    });
    g.bench_function("ours_http1", |b| {
        b.iter_custom(|n| e2e::ours(&r, e2e::Hello, 16, n))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = route_50, e2e_keepalive, pipelined_16
}
criterion_main!(benches);
