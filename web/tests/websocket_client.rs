//! `websocket_connect` against real servers: Python's `websockets` library (an echo server in
//! a subprocess: text, binary, 1 MiB, many small messages, permessage-deflate with each
//! context-takeover setting and window bits, subprotocols, extra headers, pings both ways, a
//! server close with a code) and small raw TCP servers for what no well-behaved server does
//! (a 200 instead of the 101, a wrong `Sec-WebSocket-Accept`, an extension parameter that was
//! not offered, no answer at all, no pongs, a protocol error after the handshake).
//!
//! The Python tests print "skipped: python3 websockets missing" and pass when the library is
//! not installed (`.ci/run` installs it).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use http1::client::testing::run_test_with_timeout;
use web::websocket::{
    accept_value, websocket_connect, ClientMessage, DeflateOptions, WebSocketClientError,
    WebSocketConnectOptions,
};

#[path = "../examples/ws_client.rs"]
mod ws_client;

/// The `websockets` echo server; its configuration is a JSON object (see `main` below).
const ECHO_SERVER: &str = r#"
import asyncio, json, ssl, sys
from websockets.asyncio.server import serve
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

cfg = json.loads(sys.argv[1])

async def handler(ws):
    path = ws.request.path
    if path.startswith("/close"):
        await ws.close(4001, "bye now")
        return
    if path.startswith("/headers"):
        await ws.send(json.dumps({k.lower(): v for k, v in ws.request.headers.raw_items()}))
    if path.startswith("/wait"):
        await asyncio.sleep(1.0)
        await ws.send("still here")
    if path.startswith("/hello"):
        await ws.send("hello " + path)
    async for message in ws:
        await ws.send(message)

async def main():
    kwargs = dict(compression=None, max_size=None,
                  ping_interval=cfg.get("ping_interval"), ping_timeout=cfg.get("ping_timeout"))
    if cfg.get("default_deflate"):
        kwargs["compression"] = "deflate"  # websockets' defaults: both windows 12 bits
    if cfg.get("deflate") is not None:
        kwargs["extensions"] = [ServerPerMessageDeflateFactory(**cfg["deflate"])]
    if cfg.get("subprotocols"):
        kwargs["subprotocols"] = cfg["subprotocols"]
    if cfg.get("certfile"):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cfg["certfile"], cfg["keyfile"])
        kwargs["ssl"] = context
    async with serve(handler, "127.0.0.1", 0, **kwargs) as server:
        print(list(server.sockets)[0].getsockname()[1], flush=True)
        await asyncio.Future()

asyncio.run(main())
"#;

/// A `websockets` server in a subprocess, killed on drop.
struct PyServer {
    child: Child,
    port: u16,
}

impl PyServer {
    /// Starts one with `config` (JSON); `None` (after printing why) if Python's `websockets`
    /// is not installed.
    fn start(config: &str) -> Option<PyServer> {
        let available = Command::new("python3")
            .args(["-c", "import websockets.asyncio.server"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            println!("skipped: python3 websockets missing (pip install websockets)");
            return None;
        }
        let mut child = Command::new("python3")
            .args(["-c", ECHO_SERVER, config])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("the server prints its port");
        let port = line.trim().parse().expect("a port number");
        Some(PyServer { child, port })
    }

    fn url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The large message: 1 MiB.
const MIB: u32 = 1 << 20;

fn run<F: std::future::Future>(test: F) -> F::Output {
    run_test_with_timeout(Duration::from_secs(20), test)
}

/// Echoes a text, a binary, an empty and a `large`-byte message and 500 small ones written
/// back to back, on a connection made with `options`.
async fn echo_round(url: &str, options: WebSocketConnectOptions, large: u32) {
    let ws = websocket_connect(url, options).await.unwrap();
    ws.write_message("héllo", false).await.unwrap();
    assert_eq!(
        ws.read_message().await,
        Some(ClientMessage::Text("héllo".into()))
    );
    ws.write_message([0u8, 1, 2, 255], true).await.unwrap();
    assert_eq!(
        ws.read_message().await,
        Some(ClientMessage::Binary(vec![0, 1, 2, 255]))
    );
    ws.write_message("", false).await.unwrap();
    assert_eq!(
        ws.read_message().await,
        Some(ClientMessage::Text(String::new()))
    );

    let large: Vec<u8> = (0..large).map(|i: u32| (i % 251) as u8).collect();
    ws.write_message(&large, true).await.unwrap();
    assert_eq!(ws.read_message().await, Some(ClientMessage::Binary(large)));

    for i in 0..500 {
        ws.write_message(format!("message {i}"), false)
            .await
            .unwrap();
    }
    for i in 0..500 {
        assert_eq!(
            ws.read_message().await,
            Some(ClientMessage::Text(format!("message {i}")))
        );
    }
    ws.close(Some(1000), "done").await;
    assert!(ws.is_closed());
    assert_eq!(ws.close_code(), Some(1000), "the server echoes our close");
    assert_eq!(ws.read_message().await, None);
    assert!(matches!(
        ws.write_message("late", false).await,
        Err(WebSocketClientError::Closed)
    ));
}

#[test]
fn echo_without_compression() {
    let Some(server) = PyServer::start("{}") else {
        return;
    };
    run(async {
        let options = WebSocketConnectOptions::default();
        let ws = websocket_connect(&server.url("/hello?x=1"), options.clone())
            .await
            .unwrap();
        assert_eq!(ws.deflate(), None);
        assert_eq!(ws.selected_subprotocol(), None);
        assert_eq!(
            ws.read_message().await,
            Some(ClientMessage::Text("hello /hello?x=1".into())),
            "path and query reach the server"
        );
        echo_round(&server.url("/echo"), options, MIB).await;
    });
}

#[test]
fn echo_with_permessage_deflate_and_each_takeover_setting() {
    // (server's settings, what our client asks for, the agreed parameters). The first case
    // echoes a 1 MiB message, the others 128 KiB (compressing is slow in a debug build).
    let cases = [
        ("{}", DeflateOptions::default(), "permessage-deflate"),
        (
            r#"{"server_no_context_takeover": true}"#,
            DeflateOptions::default(),
            "permessage-deflate; server_no_context_takeover",
        ),
        (
            r#"{"client_no_context_takeover": true}"#,
            DeflateOptions::default(),
            "permessage-deflate; client_no_context_takeover",
        ),
        (
            "{}",
            DeflateOptions {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                ..DeflateOptions::default()
            },
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ),
        (
            r#"{"server_max_window_bits": 10, "client_max_window_bits": 9}"#,
            DeflateOptions::default(),
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
        ),
        (
            "{}",
            DeflateOptions {
                server_max_window_bits: Some(11),
                compression_level: 1,
                ..DeflateOptions::default()
            },
            "permessage-deflate; server_max_window_bits=11",
        ),
    ];
    // One server per case, the cases side by side (each starts a Python process).
    let threads: Vec<_> = cases
        .into_iter()
        .enumerate()
        .map(|(i, case)| {
            thread::spawn(move || deflate_case(case, if i == 0 { MIB } else { MIB / 8 }))
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

fn deflate_case((server_config, ours, agreed): (&str, DeflateOptions, &str), large: u32) {
    {
        let config = format!(r#"{{"deflate": {server_config}}}"#);
        let Some(server) = PyServer::start(&config) else {
            return;
        };
        run(async {
            let options = WebSocketConnectOptions::default().compression(Some(ours.clone()));
            let ws = websocket_connect(&server.url("/echo"), options.clone())
                .await
                .unwrap();
            let config = ws.deflate().expect("compression agreed");
            assert_eq!(config.header_value(), agreed, "{server_config} / {ours:?}");
            ws.close(None, "").await;
            echo_round(&server.url("/echo"), options, large).await;
        });
    }
}

#[test]
fn the_example_sends_its_arguments_and_prints_the_echoes() {
    let Some(server) = PyServer::start(r#"{"default_deflate": true}"#) else {
        return;
    };
    let mut out = Vec::new();
    let messages = ["hello".to_string(), "wörld".to_string()];
    ws_client::run(&server.url("/ws/echo"), &messages, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!(
            "connected to {} (compression: permessage-deflate; server_max_window_bits=12; \
             client_max_window_bits=12, subprotocol: none)\nhello\nwörld\n",
            server.url("/ws/echo")
        )
    );
    let err = ws_client::run("ftp://127.0.0.1:1/", &[], &mut Vec::new()).unwrap_err();
    assert!(err.contains("ftp:// is not a WebSocket scheme"), "{err}");
}

#[test]
fn compression_declined_by_the_server_runs_uncompressed() {
    let Some(server) = PyServer::start("{}") else {
        return;
    };
    run(async {
        let options =
            WebSocketConnectOptions::default().compression(Some(DeflateOptions::default()));
        let ws = websocket_connect(&server.url("/echo"), options.clone())
            .await
            .unwrap();
        assert_eq!(ws.deflate(), None);
        echo_round(&server.url("/echo"), options, MIB).await;
    });
}

#[test]
fn subprotocols_and_extra_headers() {
    let Some(server) = PyServer::start(r#"{"subprotocols": ["superchat", "chat"]}"#) else {
        return;
    };
    run(async {
        let options = WebSocketConnectOptions::default()
            .subprotocols(["chat", "superchat"])
            .header("Origin", "http://example.com")
            .header("Cookie", "session=abc");
        let ws = websocket_connect(&server.url("/headers"), options)
            .await
            .unwrap();
        // websockets picks by its own order of preference among the offers.
        assert_eq!(ws.selected_subprotocol(), Some("superchat"));
        let Some(ClientMessage::Text(headers)) = ws.read_message().await else {
            panic!("the headers as JSON")
        };
        for expected in [
            r#""origin": "http://example.com""#,
            r#""cookie": "session=abc""#,
            r#""sec-websocket-protocol": "chat, superchat""#,
        ] {
            assert!(headers.contains(expected), "{expected} in {headers}");
        }
        ws.close(Some(1000), "").await;

        // websockets refuses a client with none of its subprotocols: a clear rejection.
        let unsupported = WebSocketConnectOptions::default().subprotocols(["v9"]);
        let err = websocket_connect(&server.url("/echo"), unsupported)
            .await
            .unwrap_err();
        assert!(
            matches!(err, WebSocketClientError::Rejected { code: 400, .. }),
            "{err}"
        );
    });
}

#[test]
fn a_server_close_with_a_code_is_reported() {
    let Some(server) = PyServer::start("{}") else {
        return;
    };
    run(async {
        let ws = websocket_connect(&server.url("/close"), WebSocketConnectOptions::default())
            .await
            .unwrap();
        assert_eq!(ws.read_message().await, None);
        assert_eq!(ws.close_code(), Some(4001));
        assert_eq!(ws.close_reason().as_deref(), Some("bye now"));
        assert!(ws.is_closed());
        assert!(ws.write_message("x", false).await.is_err());
    });
}

#[test]
fn pings_both_ways() {
    // The server pings every 0.1 s and drops a client whose pong is 0.3 s late; our client
    // answers while it reads, and pings the server itself every 0.1 s.
    let Some(server) = PyServer::start(r#"{"ping_interval": 0.1, "ping_timeout": 0.3}"#) else {
        return;
    };
    run(async {
        let options = WebSocketConnectOptions::default()
            .ping_interval(Some(Duration::from_millis(100)))
            .ping_timeout(Some(Duration::from_millis(500)));
        let ws = websocket_connect(&server.url("/wait"), options)
            .await
            .unwrap();
        assert_eq!(
            ws.read_message().await,
            Some(ClientMessage::Text("still here".into())),
            "a second of pings both ways, answered"
        );
        ws.ping(b"explicit").await.unwrap();
        assert!(matches!(
            ws.ping(&[0; 126]).await,
            Err(WebSocketClientError::InvalidMessage(_))
        ));
        ws.write_message("after pings", false).await.unwrap();
        assert_eq!(
            ws.read_message().await,
            Some(ClientMessage::Text("after pings".into()))
        );
        ws.close(Some(1000), "").await;
        assert_eq!(ws.close_code(), Some(1000));
    });
}

#[test]
fn other_schemes_and_bad_urls_are_clear_errors() {
    run(async {
        let err = websocket_connect("ftp://example.com/", WebSocketConnectOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            WebSocketClientError::UnsupportedScheme { .. }
        ));
        assert!(
            err.to_string().contains("ftp:// is not a WebSocket scheme"),
            "{err}"
        );
        let err = websocket_connect("http://example.com/", WebSocketConnectOptions::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, WebSocketClientError::UnsupportedScheme { .. }),
            "{err}"
        );
        for bad in ["example.com/ws", "ws://", "ws://host:99999/"] {
            let err = websocket_connect(bad, WebSocketConnectOptions::default())
                .await
                .unwrap_err();
            assert!(
                matches!(err, WebSocketClientError::Connect(_)),
                "{bad}: {err}"
            );
        }
        let options = WebSocketConnectOptions::default().header("X-Bad", "a\r\nInjected: 1");
        let err = websocket_connect("ws://127.0.0.1:1/", options)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("invalid header field"), "{err}");
    });
}

#[test]
fn a_refused_connection_is_a_connect_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    run(async {
        let err = websocket_connect(
            &format!("ws://127.0.0.1:{port}/"),
            WebSocketConnectOptions::default(),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                err,
                WebSocketClientError::Connect(http1::ClientError::ConnectionRefused { .. })
            ),
            "{err}"
        );
    });
}

// ---------------------------------------------------------------- raw servers

/// A one-connection TCP server on a thread: reads the handshake request and hands it (and the
/// socket) to `serve`.
fn raw_server(
    serve: impl FnOnce(String, TcpStream) + Send + 'static,
) -> (u16, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        while !request.ends_with(b"\r\n\r\n") {
            if socket.read(&mut byte).unwrap_or(0) == 0 {
                return;
            }
            request.push(byte[0]);
        }
        serve(String::from_utf8(request).unwrap(), socket);
    });
    (port, handle)
}

/// The request's `Sec-WebSocket-Key`.
fn key_of(request: &str) -> String {
    request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .expect("a key")
        .trim()
        .to_owned()
}

fn switching(accept: &str, extra: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n{extra}\r\n"
    )
}

/// Connects to a raw server that answers with `response(key)` and returns the error.
fn handshake_error(
    response: impl FnOnce(&str) -> String + Send + 'static,
    options: WebSocketConnectOptions,
) -> WebSocketClientError {
    let (port, server) = raw_server(move |request, mut socket| {
        let _ = socket.write_all(response(&key_of(&request)).as_bytes());
        thread::sleep(Duration::from_millis(200));
    });
    let err = run(async {
        websocket_connect(&format!("ws://127.0.0.1:{port}/ws"), options)
            .await
            .unwrap_err()
    });
    server.join().unwrap();
    err
}

#[test]
fn the_request_is_a_valid_upgrade_with_a_fresh_random_key() {
    let mut keys = Vec::new();
    for _ in 0..2 {
        let (tx, rx) = std::sync::mpsc::channel();
        let (port, server) = raw_server(move |request, _socket| tx.send(request).unwrap());
        run(async {
            let options = WebSocketConnectOptions::default()
                .request_timeout(Some(Duration::from_millis(300)))
                .compression(Some(DeflateOptions::default()));
            let _ = websocket_connect(&format!("ws://127.0.0.1:{port}/chat?room=1"), options).await;
        });
        server.join().unwrap();
        let request = rx.recv().unwrap();
        let headers: Vec<_> = request.split("\r\n").collect();
        assert_eq!(headers[0], "GET /chat?room=1 HTTP/1.1");
        let headers: Vec<_> = headers.iter().skip(1).copied().collect();
        let port_header = format!("Host: 127.0.0.1:{port}");
        for expected in [
            port_header.as_str(),
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
        ] {
            assert!(headers.contains(&expected), "{expected} in {request}");
        }
        let key = key_of(&request);
        let check = web::websocket::check_upgrade_request(
            "GET",
            (1, 1),
            request
                .split("\r\n")
                .skip(1)
                .filter_map(|l| l.split_once(": "))
                .map(|(n, v)| (n, v.as_bytes())),
        );
        assert!(
            check.is_ok(),
            "our request passes the server's checks: {request}"
        );
        keys.push(key);
    }
    assert_ne!(keys[0], keys[1], "a fresh key per connection");
}

#[test]
fn a_200_instead_of_101_is_a_clear_error() {
    let err = handshake_error(
        |_| "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi".into(),
        WebSocketConnectOptions::default(),
    );
    assert!(
        matches!(err, WebSocketClientError::Rejected { code: 200, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("200 OK instead of 101"), "{err}");
}

#[test]
fn a_wrong_accept_value_is_a_clear_error() {
    let err = handshake_error(
        |_| switching(&accept_value("AAAAAAAAAAAAAAAAAAAAAA=="), ""),
        WebSocketConnectOptions::default(),
    );
    assert!(matches!(err, WebSocketClientError::Handshake(_)), "{err}");
    assert!(err.to_string().contains("Sec-WebSocket-Accept"), "{err}");
    let err = handshake_error(
        |key| {
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                accept_value(key)
            )
        },
        WebSocketConnectOptions::default(),
    );
    assert!(err.to_string().contains("Upgrade: websocket"), "{err}");
}

#[test]
fn answers_we_did_not_offer_fail_the_handshake() {
    // An extension answer with a parameter that was not offered.
    let err = handshake_error(
        |key| {
            switching(
                &accept_value(key),
                "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12\r\n",
            )
        },
        WebSocketConnectOptions::default().compression(Some(DeflateOptions {
            server_max_window_bits: Some(10),
            ..DeflateOptions::default()
        })),
    );
    assert!(
        err.to_string()
            .contains("server_max_window_bits=12 over the offer"),
        "{err}"
    );
    // Compression accepted although it was not offered.
    let err = handshake_error(
        |key| {
            switching(
                &accept_value(key),
                "Sec-WebSocket-Extensions: permessage-deflate\r\n",
            )
        },
        WebSocketConnectOptions::default(),
    );
    assert!(err.to_string().contains("not offered"), "{err}");
    // A subprotocol that was not offered.
    let err = handshake_error(
        |key| switching(&accept_value(key), "Sec-WebSocket-Protocol: evil\r\n"),
        WebSocketConnectOptions::default().subprotocols(["chat"]),
    );
    assert!(
        err.to_string().contains("\"evil\", which was not offered"),
        "{err}"
    );
}

#[test]
fn a_server_that_never_answers_times_out() {
    let (port, server) = raw_server(|_request, _socket| thread::sleep(Duration::from_millis(800)));
    let started = Instant::now();
    let err = run(async {
        let options =
            WebSocketConnectOptions::default().request_timeout(Some(Duration::from_millis(300)));
        websocket_connect(&format!("ws://127.0.0.1:{port}/"), options)
            .await
            .unwrap_err()
    });
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(
            &err,
            WebSocketClientError::Connect(http1::ClientError::Timeout {
                kind: http1::client::TimeoutKind::Request,
                phase: http1::client::Phase::AwaitingResponse,
                ..
            })
        ),
        "{err}"
    );
    server.join().unwrap();
}

/// Reads one client frame from `socket` and unmasks it: (first byte, payload).
fn read_client_frame(socket: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    socket.read_exact(&mut head).unwrap();
    assert!(head[1] & 0x80 != 0, "client frames are masked");
    let len = match head[1] & 0x7f {
        126 => {
            let mut l = [0u8; 2];
            socket.read_exact(&mut l).unwrap();
            u16::from_be_bytes(l) as usize
        }
        n => n as usize,
    };
    let mut key = [0u8; 4];
    socket.read_exact(&mut key).unwrap();
    let mut payload = vec![0u8; len];
    socket.read_exact(&mut payload).unwrap();
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
    (head[0], payload)
}

#[test]
fn a_protocol_error_from_the_server_closes_with_its_code() {
    // (what the server sends after the 101, the close code our client must answer with).
    let cases: [(&[u8], u16); 4] = [
        (b"\xc1\x02hi", 1002),       // RSV1 without permessage-deflate
        (b"\x83\x00", 1002),         // a reserved opcode
        (b"\x81\x02\xc3\x28", 1007), // invalid UTF-8 in a text message
        (b"\x82\x7e\x04\x00", 1009), // 1024 bytes announced, max_message_size 100
    ];
    for (frame, code) in cases {
        let (tx, rx) = std::sync::mpsc::channel();
        let (port, server) = raw_server(move |request, mut socket| {
            let mut out = switching(&accept_value(&key_of(&request)), "").into_bytes();
            out.extend_from_slice(frame);
            socket.write_all(&out).unwrap();
            tx.send(read_client_frame(&mut socket)).unwrap();
        });
        run(async {
            let options = WebSocketConnectOptions::default().max_message_size(100);
            let ws = websocket_connect(&format!("ws://127.0.0.1:{port}/"), options)
                .await
                .unwrap();
            assert_eq!(ws.read_message().await, None);
            assert_eq!(ws.close_code(), Some(code));
        });
        server.join().unwrap();
        let (first, payload) = rx.recv().unwrap();
        assert_eq!(first, 0x88, "a close frame");
        assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), code);
    }
}

#[test]
fn frames_are_masked_with_fresh_keys_and_pings_are_answered() {
    let (tx, rx) = std::sync::mpsc::channel();
    let (port, server) = raw_server(move |request, mut socket| {
        let mut out = switching(&accept_value(&key_of(&request)), "").into_bytes();
        out.extend_from_slice(b"\x89\x04ping\x81\x02go");
        socket.write_all(&out).unwrap();
        let frames: Vec<_> = (0..3).map(|_| read_client_frame(&mut socket)).collect();
        socket.write_all(b"\x88\x02\x03\xe8").unwrap();
        let close = read_client_frame(&mut socket);
        tx.send((frames, close)).unwrap();
    });
    run(async {
        let ws = websocket_connect(
            &format!("ws://127.0.0.1:{port}/"),
            WebSocketConnectOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(
            ws.read_message().await,
            Some(ClientMessage::Text("go".into()))
        );
        ws.write_message("same", false).await.unwrap();
        ws.write_message("same", false).await.unwrap();
        assert_eq!(ws.read_message().await, None, "the server closed");
        assert_eq!(
            (ws.close_code(), ws.close_reason().as_deref()),
            (Some(1000), Some(""))
        );
    });
    server.join().unwrap();
    let (frames, close) = rx.recv().unwrap();
    assert_eq!(
        frames[0],
        (0x8a, b"ping".to_vec()),
        "the pong carries the ping's payload"
    );
    assert_eq!(frames[1], (0x81, b"same".to_vec()));
    assert_eq!(frames[2], (0x81, b"same".to_vec()));
    assert_eq!(
        close,
        (0x88, vec![0x03, 0xe8]),
        "the close echoed with its code"
    );
}

#[test]
fn a_server_that_stops_answering_pings_is_closed_after_the_ping_timeout() {
    let (tx, rx) = std::sync::mpsc::channel();
    let (port, server) = raw_server(move |request, mut socket| {
        let out = switching(&accept_value(&key_of(&request)), "");
        socket.write_all(out.as_bytes()).unwrap();
        // Read the pings and never answer; then the close.
        let mut seen = Vec::new();
        loop {
            let frame = read_client_frame(&mut socket);
            seen.push(frame.0);
            if frame.0 == 0x88 {
                tx.send((seen, frame.1)).unwrap();
                return;
            }
        }
    });
    let started = Instant::now();
    run(async {
        let options = WebSocketConnectOptions::default()
            .ping_interval(Some(Duration::from_millis(50)))
            .ping_timeout(Some(Duration::from_millis(200)));
        let ws = websocket_connect(&format!("ws://127.0.0.1:{port}/"), options)
            .await
            .unwrap();
        assert_eq!(ws.read_message().await, None);
        assert_eq!(ws.close_code(), Some(1001));
        assert_eq!(ws.close_reason().as_deref(), Some("ping timed out"));
    });
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    server.join().unwrap();
    let (seen, close) = rx.recv().unwrap();
    assert!(
        seen.iter().filter(|&&b| b == 0x89).count() >= 2,
        "pings every interval: {seen:?}"
    );
    assert_eq!(&close[..2], &1001u16.to_be_bytes());
}

#[test]
fn close_waits_for_the_server_only_until_close_timeout() {
    let (port, server) = raw_server(move |request, mut socket| {
        let out = switching(&accept_value(&key_of(&request)), "");
        socket.write_all(out.as_bytes()).unwrap();
        let (first, _) = read_client_frame(&mut socket);
        assert_eq!(first, 0x88);
        // Never answer the close; the client gives up and closes the fd.
        let mut rest = Vec::new();
        let _ = socket.read_to_end(&mut rest);
    });
    let started = Instant::now();
    run(async {
        let options = WebSocketConnectOptions::default().close_timeout(Duration::from_millis(200));
        let ws = websocket_connect(&format!("ws://127.0.0.1:{port}/"), options)
            .await
            .unwrap();
        ws.close(Some(1000), "bye").await;
        assert!(ws.is_closed());
        assert_eq!(ws.close_code(), None, "the server never answered");
    });
    assert!(started.elapsed() < Duration::from_secs(2));
    server.join().unwrap();
}

#[test]
fn one_task_reads_while_another_writes_and_closes() {
    let Some(server) = PyServer::start("{}") else {
        return;
    };
    run(async {
        let ws = websocket_connect(&server.url("/echo"), WebSocketConnectOptions::default())
            .await
            .unwrap();
        let reader = ws.clone();
        let received = reactor::spawn(async move {
            let mut texts = Vec::new();
            while let Some(message) = reader.read_message().await {
                texts.push(message);
            }
            texts
        });
        for i in 0..100 {
            ws.write_message(format!("{i}"), false).await.unwrap();
        }
        // Give the echoes time to arrive, then close from this task: the reader sees the
        // server's close and ends.
        reactor::sleep(Duration::from_millis(300)).await;
        ws.close(Some(1000), "enough").await;
        let texts = received.await.unwrap();
        let expected: Vec<_> = (0..100)
            .map(|i| ClientMessage::Text(format!("{i}")))
            .collect();
        assert_eq!(texts, expected);
        assert_eq!(ws.close_code(), Some(1000));
    });
}

#[test]
fn a_server_that_does_not_read_makes_the_writer_wait() {
    let (port, server) = raw_server(move |request, mut socket| {
        let out = switching(&accept_value(&key_of(&request)), "");
        socket.write_all(out.as_bytes()).unwrap();
        thread::sleep(Duration::from_millis(1500)); // reads nothing meanwhile
    });
    run(async {
        let options = WebSocketConnectOptions::default().max_write_buffer_size(256 * 1024);
        let ws = websocket_connect(&format!("ws://127.0.0.1:{port}/"), options)
            .await
            .unwrap();
        let chunk = vec![7u8; 64 * 1024];
        let mut sent = 0usize;
        loop {
            match reactor::timeout(Duration::from_millis(300), ws.write_message(&chunk, true)).await
            {
                Ok(result) => result.unwrap(),
                Err(_) => break, // blocked: the backpressure
            }
            sent += chunk.len();
            assert!(sent < 256 << 20, "writes never wait");
        }
    });
    server.join().unwrap();
}

#[test]
fn connect_errors_say_which_step_failed() {
    run(async {
        // A name that cannot resolve (RFC 6761 reserves `.invalid`).
        let options =
            WebSocketConnectOptions::default().connect_timeout(Some(Duration::from_secs(5)));
        let err = websocket_connect("ws://no-such-host.invalid/ws", options)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                WebSocketClientError::Connect(
                    http1::ClientError::Dns { .. }
                        | http1::ClientError::Timeout {
                            kind: http1::client::TimeoutKind::Connect,
                            ..
                        }
                )
            ),
            "{err}"
        );
        // An address nothing answers from (TEST-NET-1, RFC 5737): the connect timeout, or an
        // unreachable network (or a refusal, as some sandboxes answer); never a hang.
        let started = Instant::now();
        let options =
            WebSocketConnectOptions::default().connect_timeout(Some(Duration::from_millis(200)));
        let err = websocket_connect("ws://192.0.2.1:9/ws", options)
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(
            matches!(
                err,
                WebSocketClientError::Connect(
                    http1::ClientError::Timeout {
                        kind: http1::client::TimeoutKind::Connect,
                        ..
                    } | http1::ClientError::Connect { .. }
                        | http1::ClientError::ConnectionRefused { .. }
                )
            ),
            "{err}"
        );
    });
}

#[test]
fn a_compressed_message_over_max_message_size_after_inflation_closes_with_1009() {
    // 20 bytes on the wire, 10,000 once inflated; the limit is 1,000.
    let mut compressed = Vec::new();
    web::websocket::Deflater::new(6, 15, true).compress(&[b'a'; 10_000], &mut compressed);
    assert!(compressed.len() < 125);
    let (tx, rx) = std::sync::mpsc::channel();
    let (port, server) = raw_server(move |request, mut socket| {
        let mut out = switching(
            &accept_value(&key_of(&request)),
            "Sec-WebSocket-Extensions: permessage-deflate\r\n",
        )
        .into_bytes();
        out.extend_from_slice(&[0xc2, compressed.len() as u8]); // FIN, RSV1, binary
        out.extend_from_slice(&compressed);
        socket.write_all(&out).unwrap();
        tx.send(read_client_frame(&mut socket)).unwrap();
    });
    run(async {
        let options = WebSocketConnectOptions::default()
            .compression(Some(DeflateOptions::default()))
            .max_message_size(1000);
        let ws = websocket_connect(&format!("ws://127.0.0.1:{port}/"), options)
            .await
            .unwrap();
        assert!(ws.deflate().is_some());
        assert_eq!(ws.read_message().await, None);
        assert_eq!(ws.close_code(), Some(1009));
    });
    server.join().unwrap();
    let (first, payload) = rx.recv().unwrap();
    assert_eq!((first, &payload[..2]), (0x88, &1009u16.to_be_bytes()[..]));
}

/// `wss://`: the TLS handshake with the certificate checked against a private CA, then the
/// same WebSocket traffic; the public roots (the default) refuse the same server with a TLS
/// error rather than a hang.
#[test]
fn wss_through_tls_with_a_private_ca() {
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    let (cert, key) = certs.localhost();
    let config = format!(
        r#"{{"certfile": {:?}, "keyfile": {:?}}}"#,
        cert.display().to_string(),
        key.display().to_string()
    );
    let Some(server) = PyServer::start(&config) else {
        return;
    };
    let url = format!("wss://localhost:{}/", server.port);
    run(async {
        let connector = iostream::TlsConnector::with_ca_file(certs.ca()).unwrap();
        let options = WebSocketConnectOptions::default().tls(connector);
        let ws = websocket_connect(&url, options).await.unwrap();
        ws.write_message("over tls", false).await.unwrap();
        assert_eq!(
            ws.read_message().await,
            Some(ClientMessage::Text("over tls".into()))
        );
        ws.write_message(vec![7u8; 100_000], true).await.unwrap();
        assert_eq!(
            ws.read_message().await,
            Some(ClientMessage::Binary(vec![7u8; 100_000]))
        );
        ws.close(Some(1000), "").await;

        let refused = websocket_connect(&url, WebSocketConnectOptions::default())
            .await
            .unwrap_err();
        let text = refused.to_string();
        assert!(text.contains("TLS"), "{text}");
    });
}
