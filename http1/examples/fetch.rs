//! `cargo run -p http1 --example fetch -- URL`: fetches URL and prints the status line, the
//! header fields and the body, like `curl -i`. Redirects are not followed (as curl without
//! `-L`); any status is printed. Exits with 1 on a client error.

use http1::client::{fetch_blocking, HTTPRequest};
use std::io::Write;

fn main() {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: fetch URL");
        std::process::exit(2);
    };
    let request = HTTPRequest::new(url)
        .follow_redirects(false)
        .raise_error(false);
    match fetch_blocking(request) {
        Ok(response) => {
            let mut out = std::io::stdout().lock();
            let mut head = format!(
                "{} {} {}\r\n",
                response.version, response.code, response.reason
            );
            for (name, value) in response.headers.iter() {
                head.push_str(&format!("{name}: {}\r\n", String::from_utf8_lossy(value)));
            }
            head.push_str("\r\n");
            let _ = out.write_all(head.as_bytes());
            let _ = out.write_all(&response.body);
            let _ = out.flush();
        }
        Err(e) => {
            eprintln!("fetch: {e}");
            std::process::exit(1);
        }
    }
}
