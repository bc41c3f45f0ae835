//! An async echo server: every byte a client sends comes straight back.
//!
//! ```text
//! cargo run -p iostream --example echo -- 8888
//! nc 127.0.0.1 8888
//! ```
//!
//! Each connection is one task: `read_bytes(64 KiB, partial)` returns whatever arrived, and
//! `write` sends it back (straight from the buffer when the socket takes it at once).

use iostream::{Address, IOStream, TcpServer};
use reactor::Reactor;

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8888);
    let reactor = Reactor::new()?;
    reactor.block_on(async {
        let server = TcpServer::new(|stream: IOStream, address: Address| {
            eprintln!("{address} connected");
            reactor::spawn(async move {
                while let Ok(data) = stream.read_bytes(64 * 1024, true).await {
                    if stream.write(&data).await.is_err() {
                        break;
                    }
                }
                eprintln!("{address} gone");
            });
        });
        for addr in server.listen(port, Some("127.0.0.1"))? {
            eprintln!("echo server on {addr}");
        }
        std::future::pending::<()>().await;
        Ok(())
    })
}
