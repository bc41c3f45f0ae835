//! `cargo run -p http1 --example fetch -- [--ca-file PATH] URL`: fetches URL and prints the
//! status line, the header fields and the body, like `curl -i`. Redirects are not followed (as
//! curl without `-L`); any status is printed. Exits with 1 on a client error.
//!
//! `https://` URLs are verified against the public web's roots, or with `--ca-file PATH`
//! against the CAs of that PEM file only (a private CA, as curl's `--cacert`).

use http1::client::{BlockingHTTPClient, HTTPRequest};
use std::io::Write;

fn usage() -> ! {
    eprintln!("usage: fetch [--ca-file PATH] URL");
    std::process::exit(2);
}

/// The example's entry point (`pub` so that the `tests` crate can build it as a binary).
pub fn main() {
    let mut url = None;
    let mut ca_file = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--ca-file" => ca_file = Some(args.next().unwrap_or_else(|| usage())),
            _ if arg.starts_with('-') => usage(),
            _ if url.is_none() => url = Some(arg),
            _ => usage(),
        }
    }
    let Some(url) = url else { usage() };
    let fail = |e: &dyn std::fmt::Display| -> ! {
        eprintln!("fetch: {e}");
        std::process::exit(1);
    };
    let mut client = BlockingHTTPClient::new().unwrap_or_else(|e| fail(&e));
    if let Some(path) = ca_file {
        let connector = iostream::TlsConnector::with_ca_file(&path)
            .unwrap_or_else(|e| fail(&format!("--ca-file {path}: {e}")));
        client = client.with_tls(connector);
    }
    let request = HTTPRequest::new(url)
        .follow_redirects(false)
        .raise_error(false);
    match client.fetch(request) {
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
        Err(e) => fail(&e),
    }
}
