//! One request followed through the four layers, with the time spent in each step.
//!
//! ```text
//! cargo run -p web --example trace --features trace                  # debug build
//! cargo run --release -p web --example trace --features trace        # the real figures
//! cargo run --release -p web --example trace --features trace -- 0 1 # one cold first request
//! ```
//!
//! Arguments: `[WARM-UP REQUESTS] [TRACED REQUESTS]`, 100 and 200 by default.
//!
//! The server (an [`Application`] with one route) runs on this thread's reactor, on an
//! ephemeral port. A client thread, with a plain `std::net::TcpStream`, opens one keep-alive
//! connection, sends the warm-up requests, clears the server's trace, then sends the traced
//! requests one at a time, each after a 1 ms pause so that it finds the loop asleep in
//! `epoll_wait`. The steps the layers recorded with `reactor::trace_step!` (the `trace`
//! feature) are cut into one path per request; the request with the median round trip is
//! printed step by step, each step with the time since the previous one, which is charged to
//! the layer of the step that ends it. The client's own write and read open and close each
//! path (`Instant`s of one process compare across threads), so the total is the round trip as
//! the client sees it. Last, the median of each layer's share over all traced requests. See
//! ARCHITECTURE.md (repository root) for the path these steps follow.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use http1::{HTTP1ConnectionParameters, HTTPServer};
use reactor::trace::{self, Step};
use reactor::Reactor;
use web::{url, Application, Context, RequestHandler, Result};

#[derive(Default)]
struct HelloHandler;

impl RequestHandler for HelloHandler {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        cx.write("Hello, world!\n");
        Ok(())
    }
}

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

/// Requests traced after the warm-up (the recorder keeps the last `reactor::trace::CAPACITY`
/// steps, about 15 per request).
const SAMPLES: usize = 200;

/// What the client saw of one traced request.
struct Exchange {
    sent: Instant,
    received: Instant,
    response: Vec<u8>,
}

/// One step on the path: (layer, step, detail, when).
type Event = (&'static str, &'static str, Option<u64>, Instant);

fn main() {
    let mut args = std::env::args().skip(1).map(|a| {
        a.parse::<usize>()
            .expect("usage: trace [WARM-UP REQUESTS] [TRACED REQUESTS]")
    });
    let warmup = args.next().unwrap_or(100);
    let samples = args.next().unwrap_or(SAMPLES).clamp(1, SAMPLES);

    let reactor = Reactor::current();
    let app = Application::new(vec![url::<HelloHandler>("/")]);
    let server = HTTPServer::new(app, HTTP1ConnectionParameters::default());
    let port = server.listen(0, Some("127.0.0.1")).expect("listen")[0].port();

    let remote = reactor.remote();
    let client = thread::spawn(move || {
        let exchanges = client(port, warmup, samples, &remote);
        remote.stop();
        exchanges
    });
    reactor.run();
    let steps = trace::take();
    let exchanges = client.join().expect("the client thread panicked");
    drop(server);

    // Each request's path: the client's write, the server's steps through its send(2), the
    // client's read.
    let mut rest = &steps[..];
    let paths: Vec<Vec<Event>> = exchanges.iter().map(|x| path(x, &mut rest)).collect();
    let round_trip = |i: &usize| exchanges[*i].received - exchanges[*i].sent;
    let mut order: Vec<usize> = (0..exchanges.len()).collect();
    order.sort_by_key(round_trip);
    let median = order[order.len() / 2];

    let exchange = &exchanges[median];
    let head_end = exchange.response.windows(2).position(|w| w == b"\r\n");
    let status = String::from_utf8_lossy(&exchange.response[..head_end.unwrap_or(0)]);
    println!(
        "GET / on 127.0.0.1:{port} -> {status} ({} bytes), after {warmup} warm-up requests on the same connection",
        exchange.response.len()
    );
    println!(
        "The request with the median round trip of {} traced, step by step:",
        exchanges.len()
    );
    println!();
    print_path(exchange, &paths[median]);

    if exchanges.len() > 1 {
        let mut shares: Vec<[Duration; LAYERS.len()]> = paths
            .iter()
            .zip(&exchanges)
            .map(|(p, x)| by_layer(x, p))
            .collect();
        println!();
        println!(
            "Median over the {} traced requests (each layer's on its own):",
            exchanges.len()
        );
        for (i, layer) in LAYERS.iter().enumerate() {
            shares.sort_by_key(|s| s[i]);
            println!("  {layer:<9} {:>9}", micros(shares[shares.len() / 2][i]));
        }
        let total = round_trip(&median);
        println!(
            "  {:<9} {:>9}  (client write -> client read)",
            "total",
            micros(total)
        );
    }
}

/// The client thread: connect, warm up, clear the server's trace, send the traced requests.
fn client(port: u16, warmup: usize, samples: usize, remote: &reactor::Remote) -> Vec<Exchange> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    for _ in 0..warmup {
        stream.write_all(REQUEST).expect("write");
        read_response(&mut stream);
    }
    // Let the server go back to waiting (its read returned EAGAIN: the task sleeps until the
    // next readable event), then clear its trace from its own thread.
    thread::sleep(Duration::from_millis(50));
    let (cleared_tx, cleared) = mpsc::channel();
    remote.add_callback(move || {
        trace::take();
        let _ = cleared_tx.send(());
    });
    cleared.recv().expect("the server cleared its trace");

    (0..samples)
        .map(|_| {
            // Each request finds the loop asleep in epoll_wait, as the first one would.
            thread::sleep(Duration::from_millis(1));
            let sent = Instant::now();
            stream.write_all(REQUEST).expect("write");
            let response = read_response(&mut stream);
            let received = Instant::now();
            Exchange {
                sent,
                received,
                response,
            }
        })
        .collect()
}

/// The steps of the request `x`, taken from the front of `rest`: those from the client's write
/// through the response's `send(2) returned`, in time order, between the client's own two.
fn path(x: &Exchange, rest: &mut &[Step]) -> Vec<Event> {
    let mut events = vec![("client", "write(2) the request", None, x.sent)];
    let skip = rest.iter().take_while(|s| s.at < x.sent).count();
    *rest = &rest[skip..];
    while let Some((s, tail)) = rest.split_first() {
        *rest = tail;
        events.push((s.layer, s.step, s.detail, s.at));
        if s.layer == "iostream" && s.step.starts_with("send") && s.step.contains("returned") {
            break;
        }
    }
    // The client may have its response before the server's send(2) has returned: on loopback
    // the sender's system call delivers the bytes and wakes the reader. Keep time order.
    events.push(("client", "read(2) the whole response", None, x.received));
    events.sort_by_key(|e| e.3);
    events
}

const LAYERS: [&str; 5] = ["kernel", "reactor", "iostream", "http1", "web"];

/// The client's round trip shared out among the layers: each step's time (since the previous
/// step) is charged to the layer of the step that ends it, except that what ends at the first
/// server step or at the client's read is the kernel's (loopback delivery, waking the loop out
/// of epoll_wait, waking the client). Steps after the client's read are not charged.
fn by_layer(x: &Exchange, events: &[Event]) -> [Duration; LAYERS.len()] {
    let mut per_layer = [Duration::ZERO; LAYERS.len()];
    let mut previous = x.sent;
    for (n, &(layer, _, _, at)) in events.iter().enumerate() {
        if at <= x.received {
            let charged = if layer == "client" || n == 1 {
                "kernel"
            } else {
                layer
            };
            let i = LAYERS.iter().position(|l| *l == charged).unwrap_or(0);
            per_layer[i] += at - previous;
        }
        previous = at;
    }
    per_layer
}

/// Prints one request's path, each step with its time, and the time per layer.
fn print_path(x: &Exchange, events: &[Event]) {
    // The column titles, laid out as the rows below.
    let titles = ("#", "layer", "step", "detail", "+time", "since write");
    println!(
        "{:>2}  {:<9} {:<38} {:>8} {:>9} {:>11}  ARCHITECTURE.md",
        titles.0, titles.1, titles.2, titles.3, titles.4, titles.5
    );
    let mut previous = x.sent;
    for (n, &(layer, step, detail, at)) in events.iter().enumerate() {
        let detail = detail.map_or(String::new(), |d| d.to_string());
        println!(
            "{n:>2}  {layer:<9} {step:<38} {detail:>8} {:>9} {:>11}  {}",
            micros(at - previous),
            micros(at - x.sent),
            walkthrough_step(step)
        );
        previous = at;
    }
    let round_trip = x.received - x.sent;
    println!();
    println!(
        "The round trip by layer (each +time is charged to the layer of the step that ends it;"
    );
    println!("the kernel's share ends at the first server step and at the client's read):");
    for (layer, d) in LAYERS.iter().zip(by_layer(x, events)) {
        let share = d.as_secs_f64() / round_trip.as_secs_f64().max(f64::MIN_POSITIVE) * 100.0;
        println!("  {layer:<9} {:>9}  {share:>5.1}%", micros(d));
    }
    println!(
        "  {:<9} {:>9}  (client write -> client read)",
        "total",
        micros(round_trip)
    );
    if previous > x.received {
        println!(
            "  (the server's send(2) returned {} after the client had read the response)",
            micros(previous - x.received)
        );
    }
}

/// Reads one response with a `Content-Length` body.
fn read_response(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().expect("Content-Length"));
            if buf.len() >= end + 4 + length {
                return buf;
            }
        }
        let n = stream.read(&mut chunk).expect("read");
        assert!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Where ARCHITECTURE.md's walk-through describes the step (its numbered steps).
fn walkthrough_step(step: &str) -> &'static str {
    match step {
        "epoll_wait returned" => "step 1-2",
        "handler woke the reading task" | "handler woke the writing task" => "step 3",
        "task polled" | "read(2)" => "step 4",
        "head parsed" => "step 5",
        "route matched" => "step 7",
        s if s.starts_with("handler ran") => "step 7",
        "response head buffered" | "response done" => "step 8",
        s if s.starts_with("send") => "step 9",
        _ => "",
    }
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}
