//! Tornado's `demos/file_upload/file_uploader.py`, ported to the `http1` client: uploads the
//! files given on the command line to the receiver (`main.rs` in this directory), without
//! concurrency. Either one multipart-form-encoded `POST /post` holding every file, or, with
//! `--put`, one raw `PUT /<file name>` per file (better for large files: the server can stream
//! the data instead of buffering it). Both bodies are streamed from the files, 16 KiB at a time,
//! by a body producer (chunked on the wire).
//!
//! `cargo run --release -p web --example file_uploader -- [--port 8888] [--put] a.txt b.png`

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use http1::client::{BodyWriter, ClientError, HTTPClient, HTTPRequest, HTTPResponse};

/// The size of each piece read from a file and written to the request.
const PIECE: usize = 16 * 1024;

/// Writes each file as one part of a `multipart/form-data` body separated by `boundary`
/// (Tornado's `multipart_producer`): the field name and the file name are the path as given.
async fn multipart_producer(
    boundary: &str,
    filenames: &[PathBuf],
    w: &BodyWriter,
) -> Result<(), ClientError> {
    for filename in filenames {
        let name = filename.to_string_lossy();
        let mtype = mime_guess::from_path(filename).first_or_octet_stream();
        let head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; \
             filename=\"{name}\"\r\nContent-Type: {mtype}\r\n\r\n"
        );
        w.write(head.as_bytes()).await?;
        raw_producer(filename, w).await?;
        w.write(b"\r\n").await?;
    }
    w.write(format!("--{boundary}--\r\n").as_bytes()).await
}

/// Writes the file's bytes, 16 KiB at a time (Tornado's `raw_producer`).
async fn raw_producer(filename: &Path, w: &BodyWriter) -> Result<(), ClientError> {
    let unreadable = |e: std::io::Error| {
        ClientError::InvalidRequest(format!("cannot read {}: {e}", filename.display()))
    };
    let mut file = File::open(filename).map_err(unreadable)?;
    let mut piece = vec![0; PIECE];
    loop {
        let n = file.read(&mut piece).map_err(unreadable)?;
        if n == 0 {
            return Ok(());
        }
        w.write(&piece[..n]).await?;
    }
}

/// Uploads `filenames` in one multipart `POST {base}/post` (Tornado's `post`).
pub async fn post(base: &str, filenames: &[PathBuf]) -> Result<HTTPResponse, ClientError> {
    let boundary = random_hex();
    let files = filenames.to_vec();
    let request = HTTPRequest::new(format!("{base}/post"))
        .method("POST")
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body_producer(move |w| {
            let (boundary, files) = (boundary.clone(), files.clone());
            async move { multipart_producer(&boundary, &files, &w).await }
        });
    HTTPClient::new().fetch(request).await
}

/// Uploads each file with a raw `PUT {base}/<its name, percent-encoded>` (Tornado's `put`).
pub async fn put(base: &str, filenames: &[PathBuf]) -> Result<Vec<HTTPResponse>, ClientError> {
    let client = HTTPClient::new();
    let mut responses = Vec::new();
    for filename in filenames {
        let mtype = mime_guess::from_path(filename).first_or_octet_stream();
        let name = filename.file_name().unwrap_or_default().to_string_lossy();
        let url_path = web::escape::url_escape(&name, false);
        let file = filename.clone();
        let request = HTTPRequest::new(format!("{base}/{url_path}"))
            .method("PUT")
            .header("Content-Type", mtype.to_string())
            .body_producer(move |w| {
                let file = file.clone();
                async move { raw_producer(&file, &w).await }
            });
        responses.push(client.fetch(request).await?);
    }
    Ok(responses)
}

/// 32 random hex digits (Tornado's `uuid4().hex`), for the multipart boundary.
fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).expect("the OS random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Tornado's `print(response)`, shortened: the status and the body.
fn show(response: &HTTPResponse) {
    println!(
        "{} {} {}: {}",
        response.code,
        response.reason,
        response.effective_url,
        response.text()
    );
}

#[allow(dead_code)] // the tests include this file for `post` and `put` only
fn main() {
    let mut port = 8888;
    let mut use_put = false;
    let mut filenames = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--put" => use_put = true,
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(port),
            _ => filenames.push(PathBuf::from(arg)),
        }
    }
    if filenames.is_empty() {
        eprintln!("Provide a list of filenames to upload.");
        std::process::exit(1);
    }
    let base = format!("http://localhost:{port}");
    let reactor = reactor::Reactor::current();
    let result = reactor.block_on(async {
        if use_put {
            put(&base, &filenames)
                .await
                .map(|rs| rs.iter().for_each(show))
        } else {
            post(&base, &filenames).await.map(|r| show(&r))
        }
    });
    if let Err(e) = result {
        eprintln!("upload failed: {e}");
        std::process::exit(1);
    }
}
