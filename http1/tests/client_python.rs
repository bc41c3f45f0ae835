//! The client against servers we did not write: `python3 -m http.server` (HTTP/1.0, one
//! request per connection) and a Python `BaseHTTPRequestHandler` that sends a close-delimited
//! body (no Content-Length). Skipped, with a message, only if `python3` is missing.

use http1::client::testing::run_test;
use http1::client::{ClientError, HTTPClient, HTTPRequest};
use http1::Version;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A Python child process, killed when dropped.
struct Python {
    child: Child,
    port: u16,
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Python {
    /// Starts `python3 -u <args>` and reads the port from the first line it prints
    /// (`... port NNNN ...`, or just the number).
    fn start(args: &[&str]) -> Option<Python> {
        let mut child = match Command::new("python3")
            .arg("-u")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("SKIPPED: python3 is not installed");
                return None;
            }
            Err(e) => panic!("cannot start python3: {e}"),
        };
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|w| w.len() >= 2)
            .filter_map(|w| w.parse::<u16>().ok())
            .find(|&p| p > 1000)
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Some(Python { child, port })
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }
}

#[test]
fn python_http_server() {
    let dir = std::env::temp_dir().join(format!("http1-client-python-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let content = "hello from a server we did not write\n".repeat(1000);
    std::fs::write(dir.join("hello.txt"), &content).unwrap();
    let Some(py) = Python::start(&[
        "-m",
        "http.server",
        "0",
        "--bind",
        "127.0.0.1",
        "--directory",
        dir.to_str().unwrap(),
    ]) else {
        return;
    };
    run_test(async {
        let client = HTTPClient::new();
        for _ in 0..3 {
            let r = client.fetch(py.url("/hello.txt")).await.unwrap();
            assert_eq!(r.code, 200);
            assert_eq!(r.version, Version::Http10);
            assert_eq!(r.text(), content);
            assert!(r.headers.get("Server").unwrap().contains("Python"));
        }
        assert_eq!(
            client.connections_opened(),
            3,
            "HTTP/1.0 without keep-alive: a connection per request"
        );
        let r = client.fetch(py.url("/")).await.unwrap();
        assert!(r.text().contains("hello.txt"), "{}", r.text());
        let r = client
            .fetch(HTTPRequest::new(py.url("/hello.txt")).method("HEAD"))
            .await
            .unwrap();
        assert_eq!(r.body.len(), 0);
        assert_eq!(
            r.headers.get("Content-Length"),
            Some(content.len().to_string().as_str())
        );
        let e = client.fetch(py.url("/missing")).await.unwrap_err();
        assert!(matches!(e, ClientError::Http { code: 404, .. }), "{e:?}");
        // A directory without its slash: a 301 to "/sub/", followed.
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let r = client.fetch(py.url("/sub")).await.unwrap();
        assert_eq!((r.code, r.redirects), (200, 1));
        assert_eq!(r.effective_url, py.url("/sub/"));
    });
    drop(py);
    let _ = std::fs::remove_dir_all(&dir);
}

const CLOSE_DELIMITED: &str = r#"
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        for i in range(100):
            self.wfile.write(b"%04d:" % i + b"x" * 995)
            self.wfile.flush()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

#[test]
fn python_close_delimited_body() {
    let Some(py) = Python::start(&["-c", CLOSE_DELIMITED]) else {
        return;
    };
    run_test(async {
        let client = HTTPClient::new();
        for _ in 0..2 {
            let r = client.fetch(py.url("/")).await.unwrap();
            assert_eq!((r.code, r.version), (200, Version::Http10));
            assert_eq!(r.headers.get("Content-Length"), None);
            assert_eq!(r.body.len(), 100 * 1000);
            assert!(r.text().starts_with("0000:xxx"));
            assert!(r.text()[99_000..].starts_with("0099:"));
        }
        assert_eq!(client.connections_opened(), 2);
    });
}
