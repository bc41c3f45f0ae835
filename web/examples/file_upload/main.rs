//! Tornado's `demos/file_upload/file_receiver.py`, ported: a server that receives a
//! multipart-form-encoded set of files in an HTTP POST to `/post`, or streams in the raw data
//! of a single file in an HTTP PUT to `/<filename>`, logging each and answering `OK`.
//!
//! `cargo run --release -p web --example file_upload -- --port 8888`, then upload with the
//! uploader next to it (`uploader.rs`, Tornado's `file_uploader.py`):
//! `cargo run --release -p web --example file_uploader -- --port 8888 [--put] a.txt b.png`,
//! or with curl: `curl -F file=@a.txt localhost:8888/post` or `curl -T a.txt localhost:8888/a.txt`.

use web::{url, Application, Context, RequestHandler, Result};

/// `POST /post`: logs every file of the multipart body.
#[derive(Default)]
struct PostHandler;

impl RequestHandler for PostHandler {
    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        for file in cx.request().files() {
            let (name, mtype, size) = (&file.filename, &file.content_type, file.body.len());
            log::info!("POST \"{name}\" \"{mtype}\" {size} bytes");
        }
        cx.write("OK");
        Ok(())
    }
}

/// `PUT /<filename>`: counts the body's bytes as they stream in (never buffered).
#[derive(Default)]
struct PutHandler {
    bytes_read: usize,
}

impl RequestHandler for PutHandler {
    const STREAM_REQUEST_BODY: bool = true;

    async fn data_received(&mut self, _cx: &mut Context<'_>, chunk: &[u8]) -> Result {
        self.bytes_read += chunk.len();
        Ok(())
    }

    async fn put(&mut self, cx: &mut Context<'_>) -> Result {
        let filename = cx.path_arg(0).unwrap_or_default();
        let mtype = cx.request().headers().get("Content-Type").unwrap_or("None");
        log::info!("PUT \"{filename}\" \"{mtype}\" {} bytes", self.bytes_read);
        cx.write("OK");
        Ok(())
    }
}

/// The receiver's routes (Tornado's `make_app`).
pub fn make_app() -> Application {
    Application::new(vec![
        url::<PostHandler>("/post"),
        url::<PutHandler>("/(.*)"),
    ])
}

#[allow(dead_code)] // the tests include this file for `make_app` only
fn main() -> std::io::Result<()> {
    let env = env_logger::Env::default().default_filter_or("info");
    env_logger::Builder::from_env(env).init();
    let mut args = std::env::args().skip(1);
    let port = match (args.next().as_deref(), args.next()) {
        (Some("--port"), Some(p)) => p.parse().unwrap_or(8888),
        _ => 8888,
    };
    let _server = make_app().listen(port)?;
    reactor::Reactor::current().run();
    Ok(())
}
