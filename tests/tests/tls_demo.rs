//! The demo serving HTTPS (`--certfile`/`--keyfile`), driven by real TLS clients: curl with
//! `--cacert` (keep-alive, a 100 kB POST), Python's `http.client` with an `ssl` context
//! (keep-alive, 100 kB), `openssl s_client` (TLS 1.3 and 1.2 accepted with ALPN `http/1.1`,
//! TLS 1.1 refused); plain HTTP sent to the TLS port answered 400 at once; a silent client
//! (and one that stops mid-hello) cut by the header timeout; SIGHUP reloading the certificate
//! for a new connection while an open one keeps serving with its own.
//!
//! Certificates are made by the `openssl` CLI (`testkit::certs`). A missing tool skips its
//! test with "skipped: <tool> missing". CI: `apt-get install -y openssl curl python3`.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tests::Server;

const DEMO: &str = env!("CARGO_BIN_EXE_demo");

/// Says so on the real stderr (not the test harness's captured one).
fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// Whether `tool` runs; prints the skip otherwise.
fn have(tool: &str, arg: &str) -> bool {
    let ok = Command::new(tool)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        note(&format!("skipped: {tool} missing"));
    }
    ok
}

/// The demo over HTTPS with `cert`/`key`, a 1 s header timeout, and `more` flags.
fn demo_https_with(cert: &Path, key: &Path, more: &[&str]) -> Server {
    let mut args = vec![
        "--certfile",
        cert.to_str().unwrap(),
        "--keyfile",
        key.to_str().unwrap(),
        "--header-timeout",
        "1",
    ];
    args.extend_from_slice(more);
    Server::start(DEMO, &args)
}

/// The demo over HTTPS with `cert`/`key`, a 1 s header timeout.
fn demo_https(cert: &Path, key: &Path) -> Server {
    demo_https_with(cert, key, &[])
}

#[test]
fn curl_keep_alive_and_a_100k_post() {
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    if !have("curl", "--version") {
        return;
    }
    let (cert, key) = certs.localhost();
    let server = demo_https(&cert, &key);
    let port = server.addr.port();
    let body = "x".repeat(100_000);
    let body_file = certs.path("body.txt");
    std::fs::write(&body_file, &body).unwrap();
    let url = |path: &str| format!("https://localhost:{port}{path}");
    // Two transfers on one curl command: the second reuses the connection ("Re-using").
    let out = Command::new("curl")
        .args(["-sS", "-v", "--max-time", "10", "--cacert"])
        .arg(certs.ca())
        .args([&url("/whoami"), "--next", "-sS", "-v", "--cacert"])
        .arg(certs.ca())
        .arg("--data-binary")
        .arg(format!("@{}", body_file.display()))
        .arg(url("/echo"))
        .output()
        .expect("run curl");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "curl: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(r#""protocol":"https""#), "{stdout}");
    assert!(stdout.ends_with(&body), "the 100 kB body came back whole");
    assert!(
        stderr.contains("Re-using existing connection") || stderr.contains("Reusing existing"),
        "keep-alive over TLS: {stderr}"
    );
    assert!(
        stderr.contains("ALPN") && stderr.contains("http/1.1"),
        "{stderr}"
    );
    // The certificate is checked: curl without the CA refuses.
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", &url("/")])
        .output()
        .unwrap();
    assert!(!out.status.success(), "curl trusted an unknown CA");
}

/// Python's `http.client` over an `ssl` context: three requests on one connection (GET, a
/// 100 kB POST echoed, GET), printing what it saw.
const PYTHON_CLIENT: &str = r#"
import http.client, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
conn = http.client.HTTPSConnection("localhost", int(sys.argv[2]), context=ctx, timeout=10)
conn.request("GET", "/")
r = conn.getresponse(); first = r.read()
sock = conn.sock
body = b"y" * 100000
conn.request("POST", "/echo", body=body)
r = conn.getresponse(); echoed = r.read()
conn.request("GET", "/whoami")
r = conn.getresponse(); who = r.read().decode()
print(first.decode(), echoed == body, conn.sock is sock, sock.version(), sock.selected_alpn_protocol(), who)
"#;

#[test]
fn python_http_client_keep_alive_100k() {
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    if !have("python3", "--version") {
        return;
    }
    let (cert, key) = certs.localhost();
    let server = demo_https(&cert, &key);
    let out = Command::new("python3")
        .args(["-c", PYTHON_CLIENT])
        .arg(certs.ca())
        .arg(server.addr.port().to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Python offers no ALPN unless asked: None.
    assert!(
        stdout.starts_with("Hello, World! True True TLSv1.3 None"),
        "{stdout}"
    );
    assert!(stdout.contains(r#""protocol":"https""#), "{stdout}");
}

/// `openssl s_client` with `args`; (exit success, stdout + stderr).
fn s_client(port: u16, ca: &Path, args: &[&str]) -> (bool, String) {
    s_client_sending(port, ca, args, b"")
}

/// [`s_client`] writing `input` to the connection; with input it waits (`-ign_eof`) until the
/// server closes.
fn s_client_sending(port: u16, ca: &Path, args: &[&str], input: &[u8]) -> (bool, String) {
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .arg("-CAfile")
        .arg(ca)
        .args(["-servername", "localhost", "-alpn", "http/1.1"])
        .args(if input.is_empty() {
            &[][..]
        } else {
            &["-ign_eof"][..]
        })
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn openssl_s_client_versions_and_alpn() {
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    let (cert, key) = certs.localhost();
    let server = demo_https(&cert, &key);
    let port = server.addr.port();
    for (flag, shown) in [("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")] {
        let (ok, text) = s_client(port, &certs.ca(), &[flag]);
        assert!(ok, "{flag}: {text}");
        assert!(text.contains(&format!("New, {shown}")), "{flag}: {text}");
        assert!(text.contains("ALPN protocol: http/1.1"), "{flag}: {text}");
        assert!(
            text.contains("Verify return code: 0 (ok)"),
            "{flag}: {text}"
        );
    }
    // TLS 1.1 (allowed on the client side by security level 0) is refused by the server.
    let (ok, text) = s_client(
        port,
        &certs.ca(),
        &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
    );
    assert!(!ok, "TLS 1.1 accepted: {text}");
    assert!(text.contains("no peer certificate available"), "{text}");
    assert!(text.contains("alert"), "the server said why: {text}");
}

#[test]
fn plain_http_to_the_tls_port_is_answered_400_at_once() {
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    let (cert, key) = certs.localhost();
    let mut server = demo_https(&cert, &key);
    let started = Instant::now();
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(answer.contains("HTTPS port"), "{answer}");
    // Well before the 1 s header timeout: answered, not timed out.
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
    server.assert_alive();
}

#[test]
fn silent_tls_clients_are_cut_by_the_header_timeout() {
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    let (cert, key) = certs.localhost();
    let mut server = demo_https(&cert, &key);
    // One says nothing; one starts a handshake record and stops.
    let silent = TcpStream::connect(server.addr).unwrap();
    let mut partial = TcpStream::connect(server.addr).unwrap();
    partial
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .unwrap();
    let started = Instant::now();
    for mut s in [silent, partial] {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        // EOF (or a reset), not our 5 s read timeout.
        let mut rest = Vec::new();
        if let Err(e) = s.read_to_end(&mut rest) {
            assert_eq!(
                e.kind(),
                std::io::ErrorKind::ConnectionReset,
                "not cut: {e}"
            );
        }
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "cut after {took:?} (header timeout 1 s)"
    );
    server.assert_alive();
}

/// Python: one connection fetches `/` and prints its certificate's issuer, waits for a line
/// on stdin, fetches again on the same connection and prints the issuer it still has.
const PYTHON_HOLD: &str = r#"
import http.client, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
conn = http.client.HTTPSConnection("localhost", int(sys.argv[2]), context=ctx, timeout=10)
def issuer():
    return dict(x[0] for x in conn.sock.getpeercert()["issuer"])["commonName"]
conn.request("GET", "/"); conn.getresponse().read(); sock = conn.sock
print("before", issuer(), flush=True)
sys.stdin.readline()
conn.request("GET", "/"); body = conn.getresponse().read().decode()
print("after", issuer(), conn.sock is sock, body, flush=True)
"#;

/// The issuer CN a new connection sees (through `openssl s_client`).
fn issuer_of_new_connection(port: u16, ca: &Path) -> String {
    let (ok, text) = s_client(port, ca, &[]);
    assert!(ok, "{text}");
    text.lines()
        .find_map(|l| l.trim().strip_prefix("issuer="))
        .unwrap_or_else(|| panic!("no issuer: {text}"))
        .to_owned()
}

#[test]
fn sighup_reloads_for_new_connections_while_open_ones_keep_theirs() {
    sighup_reload(&[]);
}

#[test]
fn sighup_reloads_every_worker() {
    sighup_reload(&["--workers", "2"]);
}

fn sighup_reload(flags: &[&str]) {
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    if !have("python3", "--version") {
        return;
    }
    // The served files, replaced in place later; clients trust both CAs.
    let (live_cert, live_key) = (certs.path("live.pem"), certs.path("live.key"));
    let (cert, key) = certs.localhost();
    std::fs::copy(&cert, &live_cert).unwrap();
    std::fs::copy(&key, &live_key).unwrap();
    let both = certs.path("both.pem");
    let cas = std::fs::read_to_string(certs.ca()).unwrap()
        + &std::fs::read_to_string(certs.ca2()).unwrap();
    std::fs::write(&both, cas).unwrap();
    let mut server = demo_https_with(&live_cert, &live_key, flags);
    let port = server.addr.port();
    assert!(issuer_of_new_connection(port, &both).contains("testkit test ca"));

    let mut held = Command::new("python3")
        .args(["-c", PYTHON_HOLD])
        .arg(&both)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(held.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert_eq!(first.trim(), "before testkit test ca", "{first}");

    // New files, SIGHUP: new connections get the certificate of the second CA.
    let (cert2, key2) = certs.localhost_ca2();
    std::fs::copy(&cert2, &live_cert).unwrap();
    std::fs::copy(&key2, &live_key).unwrap();
    server.signal(libc::SIGHUP);
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let issuer = issuer_of_new_connection(port, &both);
        if issuer.contains("testkit test ca2") {
            break;
        }
        assert!(
            Instant::now() < end,
            "not reloaded: {issuer}; stderr: {}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Every worker reloaded (new connections land on any of them).
    for _ in 0..6 {
        assert!(issuer_of_new_connection(port, &both).contains("testkit test ca2"));
    }

    // The open connection still serves, with the certificate it started with.
    held.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(held.wait().unwrap().success());
    assert_eq!(rest.trim(), "after testkit test ca True Hello, World!");

    // Unreadable files keep the current certificate (and the server serving).
    std::fs::write(&live_key, "not a key").unwrap();
    server.signal(libc::SIGHUP);
    std::thread::sleep(Duration::from_millis(200));
    assert!(issuer_of_new_connection(port, &both).contains("testkit test ca2"));
    server.assert_alive();
    assert!(
        server.stderr().contains("TLS reload failed"),
        "{}",
        server.stderr()
    );
}

/// Whether a second `openssl s_client` connection (`flag`: `-tls1_3` or `-tls1_2`) resumes the
/// session of the first.
fn resumes(port: u16, ca: &Path, flag: &str, session: &Path) -> bool {
    let session = session.to_str().unwrap();
    // A request answered before the close: the session tickets (sent after the handshake)
    // have arrived by then.
    let request = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let (ok, text) = s_client_sending(port, ca, &[flag, "-sess_out", session], request);
    assert!(ok, "{text}");
    let (ok, text) = s_client(port, ca, &[flag, "-sess_in", session]);
    assert!(ok, "{text}");
    assert!(text.contains("New,") || text.contains("Reused,"), "{text}");
    text.contains("Reused,")
}

#[test]
fn session_resumption_is_on_and_can_be_turned_off() {
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    let (cert, key) = certs.localhost();
    let on = demo_https(&cert, &key);
    let off = demo_https_with(&cert, &key, &["--no-tls-resumption"]);
    for flag in ["-tls1_3", "-tls1_2"] {
        let session = certs.path(&format!("session{flag}"));
        assert!(
            resumes(on.addr.port(), &certs.ca(), flag, &session),
            "{flag}: on"
        );
        assert!(
            !resumes(off.addr.port(), &certs.ca(), flag, &session),
            "{flag}: off"
        );
    }
}

#[test]
fn the_fetch_example_trusts_a_ca_file() {
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    let (cert, key) = certs.localhost();
    let server = demo_https(&cert, &key);
    let url = format!("https://localhost:{}/", server.addr.port());
    let fetch = env!("CARGO_BIN_EXE_fetch");
    let out = Command::new(fetch)
        .arg("--ca-file")
        .arg(certs.ca())
        .arg(&url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("HTTP/1.1 200 OK\r\n"), "{stdout}");
    assert!(stdout.ends_with("\r\n\r\nHello, World!"), "{stdout}");
    // Without the CA file: the built-in roots refuse the test CA, exit 1 with the reason.
    let out = Command::new(fetch).arg(&url).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("TLS") && stderr.contains("UnknownIssuer"),
        "{stderr}"
    );
    // A CA file that cannot be read: said so.
    let out = Command::new(fetch)
        .args(["--ca-file", "/nonexistent/ca.pem", &url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--ca-file /nonexistent/ca.pem"), "{stderr}");
}
