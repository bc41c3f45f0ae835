//! The file_upload demo (`web/examples/file_upload`, Tornado's `demos/file_upload`) driven
//! with curl as the uploader: a multipart POST of two files, and a streamed PUT larger than
//! the socket buffers. The log lines are the demo's output, checked here through a logger.

mod common;

#[allow(dead_code)]
#[path = "../examples/file_upload/main.rs"]
mod file_upload;

use std::process::Command;
use std::sync::Mutex;

/// Collects the demo's log lines.
struct Lines(Mutex<Vec<String>>);

impl log::Log for Lines {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.target().starts_with("file_upload")
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            self.0.lock().unwrap().push(r.args().to_string());
        }
    }
    fn flush(&self) {}
}

static LINES: Lines = Lines(Mutex::new(Vec::new()));

fn curl(args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl runs");
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_owned())
}

#[test]
fn receiver_takes_multipart_posts_and_streamed_puts() {
    if Command::new("curl").arg("--version").output().is_err() {
        println!("skipped: curl missing");
        return;
    }
    log::set_logger(&LINES).unwrap();
    log::set_max_level(log::LevelFilter::Info);
    let addr = common::serve(file_upload::make_app);
    let dir = std::env::temp_dir().join(format!("web-file-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let small = dir.join("a b.txt");
    std::fs::write(&small, "hello\n").unwrap();
    let big = dir.join("big.bin");
    std::fs::write(&big, vec![7u8; 3 << 20]).unwrap();

    let f1 = format!("file1=@{};type=text/plain", small.display());
    let f2 = format!("file2=@{}", big.display());
    let (status, body) = curl(&["-F", &f1, "-F", &f2, &format!("http://{addr}/post")]);
    assert_eq!((status, body.as_str()), (200, "OK"));

    let url = format!("http://{addr}/big%20file.bin");
    let (status, body) = curl(&[
        "-T",
        big.to_str().unwrap(),
        "-H",
        "Content-Type: application/x-demo",
        &url,
    ]);
    assert_eq!((status, body.as_str()), (200, "OK"));

    let lines = LINES.0.lock().unwrap().clone();
    assert!(
        lines.contains(&"POST \"a b.txt\" \"text/plain\" 6 bytes".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"POST \"big.bin\" \"application/octet-stream\" 3145728 bytes".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"PUT \"big file.bin\" \"application/x-demo\" 3145728 bytes".to_owned()),
        "{lines:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
