//! TLS between nginx and us, both ways: nginx proxying to the demo as an HTTPS upstream
//! (`proxy_pass https://...` with `proxy_ssl_verify on` against the test CA: curl → nginx →
//! demo, a 100 kB body through, the demo seeing `https`), and our client fetching from nginx
//! serving TLS (OpenSSL on the other end), with keep-alive, and refusing nginx's certificate
//! when the name or the CA is wrong.
//!
//! Needs `nginx` (skipped, with "skipped: nginx missing", where it is not installed;
//! `NGINX=path` picks the binary), `openssl` and `curl`. CI: `apt-get install -y nginx openssl
//! curl`.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http1::client::testing::run_test;
use http1::client::{ClientError, HTTPClient, HTTPRequest};
use iostream::TlsConnector;
use tests::Server;

const DEMO: &str = env!("CARGO_BIN_EXE_demo");

/// Says so on the real stderr (not the test harness's captured one).
fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// Where the nginx binary is, if installed (`NGINX=/path/to/nginx` chooses one).
fn find_nginx() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("NGINX") {
        let bin = PathBuf::from(bin);
        return bin.is_file().then_some(bin);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file());
    if found.is_none() {
        note("skipped: nginx missing");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One nginx process (no master, no daemon) with `servers` as its `http` block's servers,
/// stopped when dropped.
struct Nginx {
    child: Child,
    dir: PathBuf,
}

impl Nginx {
    fn start(bin: &Path, dir: &Path, servers: &str, ports: &[u16]) -> Nginx {
        let d = dir.display();
        let conf = format!(
            "master_process off; daemon off; worker_processes 1;\n\
             error_log {d}/error.log warn; pid {d}/nginx.pid;\n\
             events {{ worker_connections 256; }}\n\
             http {{ access_log off; client_body_temp_path {d}; proxy_temp_path {d};\n\
             fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};\n\
             {servers}\n}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = Command::new(bin)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nginx");
        let mut nginx = Nginx {
            child,
            dir: dir.to_owned(),
        };
        let end = Instant::now() + Duration::from_secs(10);
        while ports
            .iter()
            .any(|p| TcpStream::connect(("127.0.0.1", *p)).is_err())
        {
            if let Some(status) = nginx.child.try_wait().unwrap() {
                panic!("nginx exited ({status}):\n{}", nginx.error_log());
            }
            assert!(Instant::now() < end, "nginx never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn nginx_proxies_to_our_https_upstream() {
    let Some(bin) = find_nginx() else { return };
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    let (cert, key) = certs.localhost();
    let demo = Server::start(
        DEMO,
        &[
            "--certfile",
            cert.to_str().unwrap(),
            "--keyfile",
            key.to_str().unwrap(),
        ],
    );
    let port = free_port();
    let servers = format!(
        "upstream ours {{ server {up}; keepalive 4; }}\n\
         server {{ listen 127.0.0.1:{port};\n\
           location / {{ proxy_pass https://ours; proxy_http_version 1.1;\n\
             proxy_set_header Connection \"\"; proxy_set_header Host localhost;\n\
             proxy_ssl_trusted_certificate {ca}; proxy_ssl_verify on;\n\
             proxy_ssl_name localhost; proxy_ssl_server_name on;\n\
             proxy_ssl_session_reuse on; }} }}",
        up = demo.addr,
        ca = certs.ca().display(),
    );
    let nginx = Nginx::start(&bin, &certs.dir, &servers, &[port]);
    let body = certs.path("body.txt");
    std::fs::write(&body, "q".repeat(100_000)).unwrap();
    let curl = |args: &[&str]| {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "10"])
            .args(args)
            .output()
            .expect("run curl (apt-get install -y curl)");
        assert!(
            out.status.success(),
            "curl: {}\nnginx: {}",
            String::from_utf8_lossy(&out.stderr),
            nginx.error_log()
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let whoami = curl(&[&format!("http://127.0.0.1:{port}/whoami")]);
    assert!(whoami.contains(r#""protocol":"https""#), "{whoami}");
    let echoed = curl(&[
        "--data-binary",
        &format!("@{}", body.display()),
        &format!("http://127.0.0.1:{port}/echo"),
    ]);
    assert_eq!(echoed.len(), 100_000);
    assert!(echoed.bytes().all(|b| b == b'q'));
    // nginx kept its upstream TLS connection: the same connection number answers again.
    let again = curl(&[&format!("http://127.0.0.1:{port}/whoami")]);
    let conn = |s: &str| {
        s.split(r#""connection":"#)
            .nth(1)
            .map(|r| r[..2].to_owned())
    };
    assert_eq!(conn(&whoami), conn(&again), "{whoami} / {again}");
}

#[test]
fn our_client_against_nginx_over_tls() {
    let Some(bin) = find_nginx() else { return };
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    let (cert, key) = certs.localhost();
    let (second_cert, second_key) = certs.second();
    let (port, second_port) = (free_port(), free_port());
    let servers = format!(
        "server {{ listen 127.0.0.1:{port} ssl; ssl_certificate {c}; ssl_certificate_key {k};\n\
           ssl_protocols TLSv1.2 TLSv1.3;\n\
           location / {{ default_type text/plain; return 200 \"nginx $ssl_protocol $ssl_server_name\"; }} }}\n\
         server {{ listen 127.0.0.1:{second_port} ssl; ssl_certificate {c2}; ssl_certificate_key {k2};\n\
           location / {{ return 200 \"second\"; }} }}",
        c = cert.display(),
        k = key.display(),
        c2 = second_cert.display(),
        k2 = second_key.display(),
    );
    let _nginx = Nginx::start(&bin, &certs.dir, &servers, &[port, second_port]);
    run_test(async {
        let client = HTTPClient::new().with_tls(TlsConnector::with_ca_file(certs.ca()).unwrap());
        for _ in 0..3 {
            let r = client
                .fetch(format!("https://localhost:{port}/"))
                .await
                .unwrap();
            assert_eq!(r.text(), "nginx TLSv1.3 localhost");
        }
        let r = client
            .fetch(
                HTTPRequest::new(format!("https://localhost:{port}/"))
                    .method("POST")
                    .body(vec![b'p'; 100_000]),
            )
            .await
            .unwrap();
        assert_eq!(r.code, 200);
        assert_eq!(client.connections_opened(), 1, "keep-alive with nginx");
        // nginx's certificate for another name; then the right one with the wrong CA.
        let e = client
            .fetch(format!("https://localhost:{second_port}/"))
            .await
            .unwrap_err();
        assert!(matches!(e, ClientError::Tls { .. }), "{e:?}");
        assert!(e.to_string().contains("not valid for name"), "{e}");
        let wrong_ca = HTTPClient::new().with_tls(TlsConnector::with_ca_file(certs.ca2()).unwrap());
        let e = wrong_ca
            .fetch(format!("https://localhost:{port}/"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("UnknownIssuer"), "{e}");
    });
}
