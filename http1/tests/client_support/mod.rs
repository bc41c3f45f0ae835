//! Raw-socket fake servers for the client tests: a std `TcpListener` on a thread, one thread
//! per connection, each request head (and Content-Length body) read and recorded, and the
//! response written by the test's script byte for byte.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the script does after answering.
pub enum Next {
    /// Read the next request on this connection.
    KeepOpen,
    /// Close the connection.
    Close,
}

/// One request seen by the fake server.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The head, as sent.
    pub head: String,
    /// The body (Content-Length or chunked, decoded).
    pub body: Vec<u8>,
    /// Which connection (0, 1, ...) carried it.
    pub conn: usize,
}

impl Seen {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }

    /// The request line.
    pub fn request_line(&self) -> &str {
        self.head.lines().next().unwrap_or("")
    }
}

/// A fake server.
pub struct Fake {
    pub port: u16,
    pub accepts: Arc<AtomicUsize>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    /// `http://127.0.0.1:{port}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Starts a fake server; `script(stream, request, n)` answers the `n`-th request overall.
pub fn fake<F>(script: F) -> Fake
where
    F: Fn(&mut TcpStream, &Seen, usize) -> Next + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepts = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(script);
    let (a, s) = (accepts.clone(), seen.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let conn = a.fetch_add(1, Ordering::SeqCst);
            let (s, script) = (s.clone(), script.clone());
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let mut buf = Vec::new();
                while let Some(req) = read_request(&mut stream, &mut buf, conn) {
                    let n = {
                        let mut s = s.lock().unwrap();
                        s.push(req.clone());
                        s.len() - 1
                    };
                    match script(&mut stream, &req, n) {
                        Next::KeepOpen => {}
                        Next::Close => return,
                    }
                }
            });
        }
    });
    Fake {
        port,
        accepts,
        seen,
    }
}

/// Reads one request (head, then a Content-Length or chunked body); `None` at end of file.
fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>, conn: usize) -> Option<Seen> {
    let end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        fill(stream, buf)?;
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    buf.drain(..end);
    let mut seen = Seen {
        head,
        body: Vec::new(),
        conn,
    };
    if seen
        .header("Expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").ok()?;
    }
    if let Some(n) = seen.header("Content-Length") {
        let n: usize = n.parse().ok()?;
        while buf.len() < n {
            fill(stream, buf)?;
        }
        seen.body = buf.drain(..n).collect();
    } else if seen.header("Transfer-Encoding").is_some() {
        loop {
            let line_end = loop {
                if let Some(i) = find(buf, b"\r\n") {
                    break i;
                }
                fill(stream, buf)?;
            };
            let size =
                usize::from_str_radix(std::str::from_utf8(&buf[..line_end]).ok()?, 16).ok()?;
            buf.drain(..line_end + 2);
            while buf.len() < size + 2 {
                fill(stream, buf)?;
            }
            seen.body.extend(buf.drain(..size));
            buf.drain(..2);
            if size == 0 {
                break;
            }
        }
    }
    Some(seen)
}

fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 16 * 1024];
    match stream.read(&mut chunk) {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Some(())
        }
    }
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// Writes `bytes` (ignoring errors: the client may have gone).
pub fn send(stream: &mut TcpStream, bytes: &[u8]) {
    let _ = stream.write_all(bytes);
    let _ = stream.flush();
}

/// A fake server that answers every request with `response` and keeps the connection open.
pub fn fixed(response: &'static [u8]) -> Fake {
    fake(move |s, _, _| {
        send(s, response);
        Next::KeepOpen
    })
}

/// A fake server that answers every request with `response` and closes.
pub fn fixed_close(response: &'static [u8]) -> Fake {
    fake(move |s, _, _| {
        send(s, response);
        Next::Close
    })
}

/// Runs `f` on a fresh reactor with a 5 s limit.
pub fn run<F: std::future::Future>(f: F) -> F::Output {
    http1::client::testing::run_test(f)
}
