//! Headless Chromium loading a page from the demo over HTTPS, trusting the test certificate by
//! its public key (`--ignore-certificate-errors-spki-list`, Chromium's way to pin a key without
//! a system CA store), and refusing the page without it; and the demo's WebSocket echo page
//! (`web/examples/ws_echo.html`), whose script talks to `/ws/echo` over `wss://`.
//!
//! Needs `chromium` (skipped with "skipped: chromium missing" where it is not installed; CI:
//! `apt-get install -y chromium`) and `openssl` (the certificates and the key's hash).

use std::path::Path;
use std::process::{Command, Stdio};

use tests::Server;

const DEMO: &str = env!("CARGO_BIN_EXE_demo");

/// The base64 SHA-256 of the certificate's public key (SubjectPublicKeyInfo, DER).
fn spki_hash(cert: &Path) -> String {
    let pubkey = Command::new("openssl")
        .args(["x509", "-pubkey", "-noout", "-in"])
        .arg(cert)
        .output()
        .unwrap();
    let run = |args: &[&str], input: &[u8]| {
        use std::io::Write;
        let mut child = Command::new("openssl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap().stdout
    };
    let der = run(&["pkey", "-pubin", "-outform", "der"], &pubkey.stdout);
    let digest = run(&["dgst", "-sha256", "-binary"], &der);
    let b64 = run(&["base64", "-A"], &digest);
    String::from_utf8(b64).unwrap().trim().to_owned()
}

/// `chromium --headless --dump-dom url` with `extra` flags: the DOM it printed.
fn dump_dom(profile: &Path, url: &str, extra: &[String]) -> String {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .args(["--timeout=10000", "--dump-dom", url])
        .stderr(Stdio::null())
        .output()
        .expect("run chromium");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The demo over TLS with throwaway certificates, or `None` (after "skipped: ...") when
/// chromium or openssl is missing.
fn demo_over_tls() -> Option<(testkit::certs::Certs, Server)> {
    if Command::new("chromium").arg("--version").output().is_err() {
        eprintln!("skipped: chromium missing");
        return None;
    }
    let certs = testkit::certs::make()?;
    let (cert, key) = certs.localhost();
    let args = [
        "--certfile",
        cert.to_str().unwrap(),
        "--keyfile",
        key.to_str().unwrap(),
    ];
    let server = Server::start(DEMO, &args);
    Some((certs, server))
}

#[test]
fn chromium_loads_a_page_over_https() {
    let Some((certs, server)) = demo_over_tls() else {
        return;
    };
    let (cert, _) = certs.localhost();
    let url = format!("https://localhost:{}/whoami", server.addr.port());
    let pin = format!("--ignore-certificate-errors-spki-list={}", spki_hash(&cert));
    let page = dump_dom(&certs.path("profile"), &url, &[pin]);
    assert!(page.contains(r#""protocol":"https""#), "{page}");
    // Without the pin the test CA is unknown to Chromium: no page from the demo.
    let page = dump_dom(&certs.path("profile2"), &url, &[]);
    assert!(!page.contains("protocol"), "{page}");
}

#[test]
fn chromium_echoes_through_wss() {
    let Some((certs, server)) = demo_over_tls() else {
        return;
    };
    let (cert, _) = certs.localhost();
    let url = format!("https://localhost:{}/ws", server.addr.port());
    let pin = format!("--ignore-certificate-errors-spki-list={}", spki_hash(&cert));
    let page = dump_dom(
        &certs.path("profile"),
        &url,
        &[pin, "--virtual-time-budget=5000".into()],
    );
    assert!(page.contains("echo: héllo from the page"), "{page}");
}
