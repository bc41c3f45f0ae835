//! The same TCP echo server written with `spawn` and the readiness type `Registration`:
//! one task per connection, each awaiting readiness instead of registering callbacks.
//!
//! ```text
//! cargo run -p reactor --example echo_tasks -- 8888
//! printf 'hello\n' | nc -q1 127.0.0.1 8888
//! ```

use std::future::poll_fn;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;

use reactor::{Reactor, Registration};

fn main() -> std::io::Result<()> {
    let port = std::env::args().nth(1).unwrap_or_else(|| "8888".into());
    let listener = TcpListener::bind(format!("127.0.0.1:{port}"))?;
    listener.set_nonblocking(true)?;
    println!("echo (tasks) on {}", listener.local_addr()?);

    Reactor::current().block_on(async move {
        let accepting = Registration::new(listener.as_raw_fd())?;
        loop {
            let (stream, _) =
                poll_fn(|cx| accepting.poll_read_with(cx, || listener.accept())).await?;
            stream.set_nonblocking(true)?;
            reactor::spawn(async move {
                if let Err(e) = echo(stream).await {
                    eprintln!("client: {e}");
                }
            });
        }
    })
}

async fn echo(stream: TcpStream) -> std::io::Result<()> {
    let reg = Registration::new(stream.as_raw_fd())?;
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = poll_fn(|cx| reg.poll_read_with(cx, || (&stream).read(&mut buf))).await?;
        if n == 0 {
            return Ok(()); // `reg` drops (deregisters) before `stream` closes the fd
        }
        let mut data = &buf[..n];
        while !data.is_empty() {
            let w = poll_fn(|cx| reg.poll_write_with(cx, || (&stream).write(data))).await?;
            data = &data[w..];
        }
    }
}
