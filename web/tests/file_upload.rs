//! The file_upload demo (`web/examples/file_upload`, Tornado's `demos/file_upload`) driven
//! with curl as the uploader: a multipart POST of two files, and a streamed PUT larger than
//! the socket buffers; then with the demo's own uploader (`uploader.rs`, Tornado's
//! `file_uploader.py` on our http1 client), both ways. The log lines are the demo's output,
//! checked here through a logger.

mod common;

#[allow(dead_code)]
#[path = "../examples/file_upload/main.rs"]
mod file_upload;

#[allow(dead_code)]
#[path = "../examples/file_upload/uploader.rs"]
mod uploader;

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

fn capture_logs() {
    let _ = log::set_logger(&LINES);
    log::set_max_level(log::LevelFilter::Info);
}

#[test]
fn receiver_takes_multipart_posts_and_streamed_puts() {
    if Command::new("curl").arg("--version").output().is_err() {
        println!("skipped: curl missing");
        return;
    }
    capture_logs();
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

#[test]
fn the_uploader_posts_and_puts_files_to_the_receiver() {
    capture_logs();
    let addr = common::serve(file_upload::make_app);
    let base = format!("http://{addr}");
    let dir = std::env::temp_dir().join(format!("web-file-uploader-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let small = dir.join("notes 1.txt");
    std::fs::write(&small, "hello uploader\n").unwrap();
    let big = dir.join("pixels.png");
    // Larger than one 16 KiB piece and than the socket buffers, not a multiple of the piece.
    let data: Vec<u8> = (0..(1 << 20) + 12345).map(|i| (i % 251) as u8).collect();
    std::fs::write(&big, &data).unwrap();
    let files = vec![small.clone(), big.clone()];

    let reactor = reactor::Reactor::new().unwrap();
    let response = reactor
        .block_on(uploader::post(&base, &files))
        .expect("the multipart POST");
    assert_eq!((response.code, response.text().as_ref()), (200, "OK"));
    let responses = reactor
        .block_on(uploader::put(&base, &files))
        .expect("the PUTs");
    assert_eq!(responses.len(), 2);
    for r in &responses {
        assert_eq!((r.code, r.text().as_ref()), (200, "OK"));
    }
    assert_eq!(responses[0].effective_url, format!("{base}/notes%201.txt"));

    // What the receiver logged: each file with its name, type and size.
    let lines = LINES.0.lock().unwrap().clone();
    let size = data.len();
    let expected = [
        format!("POST \"{}\" \"text/plain\" 15 bytes", small.display()),
        format!("POST \"{}\" \"image/png\" {size} bytes", big.display()),
        "PUT \"notes 1.txt\" \"text/plain\" 15 bytes".to_owned(),
        format!("PUT \"pixels.png\" \"image/png\" {size} bytes"),
    ];
    for line in &expected {
        assert!(lines.contains(line), "{line} not in {lines:?}");
    }

    // A file that cannot be read fails the upload with its name; the receiver serves on.
    let missing = dir.join("missing.txt");
    let err = reactor
        .block_on(uploader::put(&base, &[missing]))
        .expect_err("an unreadable file");
    assert!(err.to_string().contains("missing.txt"), "{err}");
    let again = reactor.block_on(uploader::put(&base, &[small])).unwrap();
    assert_eq!(again[0].code, 200);
    let _ = std::fs::remove_dir_all(dir);
}
