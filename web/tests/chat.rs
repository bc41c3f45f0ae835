//! The chat demo (`web/examples/chat`, Tornado's `demos/chat`) driven end to end with curl:
//! the page, XSRF on every POST, a long poll woken by a new message, the cursor, and the
//! open-redirect check on `next`.

mod common;

#[allow(dead_code)]
#[path = "../examples/chat/main.rs"]
mod chat;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs curl with `args` against `addr` sharing cookie jar `jar`; returns (status, body).
fn curl(addr: SocketAddr, jar: &Path, path: &str, args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}", "-c"])
        .arg(jar)
        .arg("-b")
        .arg(jar)
        .args(args)
        .arg(format!("http://{addr}{path}"))
        .output()
        .expect("curl runs");
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_owned())
}

/// The `_xsrf` cookie's value in a curl cookie jar.
fn xsrf(jar: &Path) -> String {
    let jar = std::fs::read_to_string(jar).unwrap();
    let line = jar
        .lines()
        .find(|l| l.contains("\t_xsrf\t"))
        .expect("an _xsrf cookie");
    line.rsplit('\t').next().unwrap().to_owned()
}

fn has_curl() -> bool {
    Command::new("curl").arg("--version").output().is_ok()
}

fn jar(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("web-chat-{tag}-{}.jar", std::process::id()))
}

#[test]
fn chat_demo_end_to_end_with_curl() {
    if !has_curl() {
        println!("skipped: curl missing");
        return;
    }
    let addr = common::serve(|| chat::make_app(false));
    let jar = jar("e2e");
    let _ = std::fs::remove_file(&jar);

    let (status, page) = curl(addr, &jar, "/", &[]);
    assert_eq!(status, 200);
    assert!(page.contains("<title>Tornado Chat Demo</title>"), "{page}");
    assert!(page.contains("name=\"_xsrf\""), "{page}");
    assert!(page.contains("/static/chat.js?v="), "{page}");
    let token = xsrf(&jar);
    let (status, js) = curl(addr, &jar, "/static/chat.js", &[]);
    assert_eq!(status, 200);
    assert!(js.contains("/a/message/updates"));

    // Without the token, every POST is refused.
    let (status, _) = curl(addr, &jar, "/a/message/new", &["-d", "body=hi"]);
    assert_eq!(status, 403);

    // A long poller waits until a message arrives.
    let poll_jar = jar.clone();
    let poll_token = token.clone();
    let started = Instant::now();
    let poller = std::thread::spawn(move || {
        let data = format!("_xsrf={poll_token}");
        curl(addr, &poll_jar, "/a/message/updates", &["-d", &data])
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(!poller.is_finished(), "the poll waits for a message");
    let data = format!("_xsrf={token}&body=hello <b>you</b>");
    let (status, posted) = curl(addr, &jar, "/a/message/new", &["-d", &data]);
    assert_eq!(status, 200, "{posted}");
    let posted: serde_json::Value = serde_json::from_str(&posted).unwrap();
    assert_eq!(posted["body"], "hello <b>you</b>");
    let id = posted["id"].as_str().unwrap().to_owned();
    assert_eq!(
        posted["html"],
        format!("<div class=\"message\" id=\"m{id}\">hello &lt;b&gt;you&lt;/b&gt;</div>")
    );
    let (status, polled) = poller.join().unwrap();
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let polled: serde_json::Value = serde_json::from_str(&polled).unwrap();
    assert_eq!(polled["messages"][0]["id"], id.as_str());

    // With a cursor, only newer messages.
    let (_, second) = curl(
        addr,
        &jar,
        "/a/message/new",
        &["-d", &format!("_xsrf={token}&body=two")],
    );
    let data = format!("_xsrf={token}&cursor={id}");
    let (status, since) = curl(addr, &jar, "/a/message/updates", &["-d", &data]);
    assert_eq!(status, 200);
    let since: serde_json::Value = serde_json::from_str(&since).unwrap();
    let second: serde_json::Value = serde_json::from_str(&second).unwrap();
    assert_eq!(since["messages"].as_array().unwrap().len(), 1);
    assert_eq!(since["messages"][0]["id"], second["id"]);

    // The page shows the messages so far.
    let (_, page) = curl(addr, &jar, "/", &[]);
    assert!(
        page.contains(&format!("id=\"m{id}\">hello &lt;b&gt;you&lt;/b&gt;")),
        "{page}"
    );

    // `next` redirects to local paths only (no open redirect).
    let (status, _) = curl(
        addr,
        &jar,
        "/a/message/new",
        &["-d", &format!("_xsrf={token}&body=x&next=/")],
    );
    assert_eq!(status, 302);
    for next in ["//evil.example/", "https://evil.example/"] {
        let data = format!("_xsrf={token}&body=x&next={next}");
        let (status, _) = curl(addr, &jar, "/a/message/new", &["-d", &data]);
        assert_eq!(status, 400, "{next}");
    }
    // A message needs a body.
    let (status, _) = curl(
        addr,
        &jar,
        "/a/message/new",
        &["-d", &format!("_xsrf={token}")],
    );
    assert_eq!(status, 400);
    let _ = std::fs::remove_file(&jar);
}
