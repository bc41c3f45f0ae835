//! The demo behind a real nginx, configured by the repository's own `docs/nginx.conf`:
//! `xheaders` end to end (the handler sees the client's address and scheme, not nginx's),
//! chunked uploads and streamed responses through the proxy, and nginx's upstream keep-alive
//! connections reused.
//!
//! Needs `nginx` (skipped, with a message, where it is not installed; `NGINX=path` picks the
//! binary), `openssl` (a throwaway
//! certificate for the HTTPS listener) and `curl` (the HTTPS client, and a client bound to
//! another loopback address). CI: `apt-get install -y nginx openssl curl`.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tests::{Client, Server};

const SITE: &str = include_str!("../../docs/nginx.conf");

/// Where the nginx binary is, if installed (`NGINX=/path/to/nginx` chooses one; a path that
/// does not exist shows the skip).
fn find_nginx() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("NGINX") {
        let bin = PathBuf::from(bin);
        return bin.is_file().then_some(bin);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
}

/// Says so on the real stderr (not the test harness's captured one).
fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

fn need(tool: &str) {
    let ok = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        || Command::new(tool)
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        ok,
        "nginx is installed but `{tool}` is not: apt-get install -y nginx openssl curl"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An nginx master process in the foreground, stopped (with its workers) when dropped.
struct Nginx {
    child: Child,
    prefix: PathBuf,
    http: SocketAddr,
    https: SocketAddr,
}

impl Nginx {
    /// Starts nginx with `docs/nginx.conf` as its only site, proxying to `upstream`.
    fn start(bin: &Path, upstream: SocketAddr) -> Nginx {
        let prefix = std::env::temp_dir().join(format!("nginx-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&prefix);
        std::fs::create_dir_all(prefix.join("tmp")).unwrap();
        // Run as root, nginx's workers switch to `nobody`: they must be able to use tmp/.
        std::fs::set_permissions(prefix.join("tmp"), std::fs::Permissions::from_mode(0o777))
            .unwrap();
        let (cert, key) = (prefix.join("cert.pem"), prefix.join("key.pem"));
        let openssl = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=localhost", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run openssl");
        assert!(openssl.success(), "openssl could not make a certificate");

        let (http_port, https_port) = (free_port(), free_port());
        let site = SITE
            .replace("{{UPSTREAM}}", &upstream.to_string())
            .replace("{{HTTP_LISTEN}}", &format!("127.0.0.1:{http_port}"))
            .replace("{{HTTPS_LISTEN}}", &format!("127.0.0.1:{https_port}"))
            .replace("{{SERVER_NAME}}", "localhost")
            .replace("{{CERT}}", cert.to_str().unwrap())
            .replace("{{KEY}}", key.to_str().unwrap());
        let left = site
            .lines()
            .any(|l| !l.trim_start().starts_with('#') && l.contains("{{"));
        assert!(!left, "a placeholder is left:\n{site}");
        std::fs::write(prefix.join("site.conf"), site).unwrap();
        let p = prefix.display();
        let main = format!(
            "worker_processes 2;\n\
             pid {p}/nginx.pid;\n\
             error_log {p}/error.log warn;\n\
             events {{ worker_connections 512; }}\n\
             http {{\n\
             \x20   access_log {p}/access.log;\n\
             \x20   client_body_temp_path {p}/tmp/body;\n\
             \x20   proxy_temp_path {p}/tmp/proxy;\n\
             \x20   fastcgi_temp_path {p}/tmp/fastcgi;\n\
             \x20   uwsgi_temp_path {p}/tmp/uwsgi;\n\
             \x20   scgi_temp_path {p}/tmp/scgi;\n\
             \x20   include {p}/site.conf;\n\
             }}\n"
        );
        std::fs::write(prefix.join("nginx.conf"), main).unwrap();

        let child = Command::new(bin)
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(prefix.join("nginx.conf"))
            .arg("-e")
            .arg(prefix.join("error.log"))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nginx");
        let mut nginx = Nginx {
            child,
            prefix,
            http: SocketAddr::from(([127, 0, 0, 1], http_port)),
            https: SocketAddr::from(([127, 0, 0, 1], https_port)),
        };
        let end = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(nginx.http).is_err() || TcpStream::connect(nginx.https).is_err() {
            if let Some(status) = nginx.child.try_wait().unwrap() {
                panic!("nginx exited ({status}):\n{}", nginx.error_log());
            }
            assert!(
                Instant::now() < end,
                "nginx never listened:\n{}",
                nginx.error_log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.prefix.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: nginx's fast shutdown; the master takes its workers down with it.
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let end = Instant::now() + Duration::from_secs(5);
        while self.child.try_wait().unwrap().is_none() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.prefix);
    }
}

/// `curl -s [args] url` → the body as JSON.
fn curl_json(args: &[&str], url: &str) -> serde_json::Value {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .arg(url)
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{url}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// The demo with two workers and `--xheaders`, nginx in front of it.
fn setup() -> Option<(Server, Nginx)> {
    let Some(bin) = find_nginx() else {
        note(
            "SKIPPED tests/tests/nginx.rs: nginx is not installed \
             (apt-get install -y nginx openssl curl)",
        );
        return None;
    };
    need("openssl");
    need("curl");
    let demo = Server::start(
        env!("CARGO_BIN_EXE_demo"),
        &["--xheaders", "--workers", "2"],
    );
    let nginx = Nginx::start(&bin, demo.addr);
    Some((demo, nginx))
}

#[test]
fn behind_nginx() {
    let Some((mut demo, nginx)) = setup() else {
        return;
    };
    let check = |name: &str, f: &dyn Fn()| {
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err() {
            panic!(
                "{name} failed; nginx error.log:\n{}\ndemo stderr:\n{}",
                nginx.error_log(),
                demo.stderr()
            );
        }
    };
    check("client address and scheme", &|| {
        client_address_and_scheme(&nginx)
    });
    check("chunked upload", &|| chunked_upload(&nginx));
    check("streamed response", &|| streamed_response(&nginx));
    check("upstream keep-alive", &|| upstream_keepalive(&nginx));
    demo.assert_alive();
}

/// The handler sees the client's address (from another loopback address than nginx's own
/// upstream connections, which come from 127.0.0.1) and the scheme it used; the address and
/// scheme headers a client sends itself do not get through.
fn client_address_and_scheme(nginx: &Nginx) {
    // What a client might send to pass for someone else, or for HTTPS over plain HTTP.
    let forged = [
        "-H",
        "X-Real-IP: 6.6.6.6",
        "-H",
        "X-Forwarded-For: 6.6.6.6",
        "-H",
        "X-Scheme: https",
        "-H",
        "X-Forwarded-Proto: https",
    ];
    let http = format!("http://{}/whoami", nginx.http);
    let mut args = vec!["--interface", "127.0.0.2"];
    args.extend(forged);
    let v = curl_json(&args, &http);
    assert_eq!(v["remote_ip"], "127.0.0.2", "{v}");
    assert_eq!(v["protocol"], "http", "{v}");

    let https = format!("https://localhost:{}/whoami", nginx.https.port());
    let resolve = format!("localhost:{}:127.0.0.1", nginx.https.port());
    let mut args = vec!["-k", "--resolve", &resolve, "--interface", "127.0.0.3"];
    args.extend(forged);
    let v = curl_json(&args, &https);
    assert_eq!(v["remote_ip"], "127.0.0.3", "{v}");
    assert_eq!(v["protocol"], "https", "{v}");
    note(&format!(
        "nginx: https client 127.0.0.3 seen by the handler as {v}"
    ));
}

/// A chunked upload through nginx arrives whole (nginx streams it on as chunked).
fn chunked_upload(nginx: &Nginx) {
    let body: Vec<u8> = (0..1_500_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let mut c = Client::connect(nginx.http).unwrap();
    c.send(b"POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    let mut sizes = [1usize, 7, 4096, 65_536, 100_000, 333].iter().cycle();
    let mut rest = &body[..];
    while !rest.is_empty() {
        let n = (*sizes.next().unwrap()).min(rest.len());
        c.send(format!("{n:x}\r\n").as_bytes()).unwrap();
        c.send(&rest[..n]).unwrap();
        c.send(b"\r\n").unwrap();
        rest = &rest[n..];
    }
    c.send(b"0\r\n\r\n").unwrap();
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body.len(), body.len());
    assert!(r.body == body, "the echoed body differs");

    // A streamed multipart upload, chunked, to the route that parses it as it arrives.
    let boundary = "XyZ";
    let mut mp = Vec::new();
    mp.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.bin\"\r\n\r\n"
        )
        .as_bytes(),
    );
    mp.extend_from_slice(&body);
    mp.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut c = Client::connect(nginx.http).unwrap();
    c.send(
        format!(
            "POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\
             Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n"
        )
        .as_bytes(),
    )
    .unwrap();
    for piece in mp.chunks(50_000) {
        c.send(format!("{:x}\r\n", piece.len()).as_bytes()).unwrap();
        c.send(piece).unwrap();
        c.send(b"\r\n").unwrap();
    }
    c.send(b"0\r\n\r\n").unwrap();
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["parts"][0]["size"], body.len(), "{v}");
    assert_eq!(v["total_bytes"], mp.len(), "{v}");
}

/// A response flushed in two pieces a second apart reaches the client in two pieces.
fn streamed_response(nginx: &Nginx) {
    let mut s = TcpStream::connect(nginx.http).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let t0 = Instant::now();
    s.write_all(b"GET /flush?ms=1000 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut first = None;
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&got);
        if first.is_none() && text.contains("Hello ") {
            first = Some(t0.elapsed());
        }
    }
    let all = t0.elapsed();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("world"), "{text}");
    let first = first.unwrap();
    assert!(
        first < Duration::from_millis(700) && all >= Duration::from_millis(950),
        "first piece after {first:?}, all after {all:?}: nginx held the flushed piece back"
    );
}

/// Sequential requests, each on a new client connection to nginx, travel over the same few
/// upstream connections: nginx's keep-alive pool is used and our server keeps them open.
fn upstream_keepalive(nginx: &Nginx) {
    let mut upstream = BTreeSet::new();
    let n = 60;
    for _ in 0..n {
        let mut c = Client::connect(nginx.http).unwrap();
        c.send(b"GET /whoami HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .unwrap();
        let r = c.read_response().unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        upstream.insert((
            v["worker"].as_str().unwrap().to_owned(),
            v["connection"].as_u64().unwrap(),
        ));
    }
    note(&format!(
        "nginx: {n} client connections -> {} upstream connections {upstream:?}",
        upstream.len()
    ));
    // Two nginx workers, each with its own pool: two connections, a few more if a request
    // came in while another was being served.
    assert!(upstream.len() <= 4, "{upstream:?}");
}
