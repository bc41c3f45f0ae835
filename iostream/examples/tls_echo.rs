//! The echo server over TLS, with its certificate reloaded on SIGHUP.
//!
//! ```text
//! cargo run -p iostream --example tls_echo -- --certfile cert.pem --keyfile key.pem --port 8443
//! openssl s_client -connect 127.0.0.1:8443 -servername localhost
//! kill -HUP <pid>      # renewed files serve the next connections; open ones go on
//! ```
//!
//! The handler is the plain echo's, word for word: a TLS stream is an `IOStream`. Only the
//! server differs (`TcpServer::with_tls`). A failed handshake shows up as the first read's
//! error, printed once.

use iostream::{Address, IOStream, TcpServer, TlsAcceptor, TlsServerConfig};
use reactor::{Reactor, Signals, SIGHUP};

/// The value after `--name` on the command line.
fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args().skip_while(|a| a != name);
    args.next()?;
    args.next()
}

fn main() -> std::io::Result<()> {
    let (Some(certfile), Some(keyfile)) = (arg("--certfile"), arg("--keyfile")) else {
        eprintln!("usage: tls_echo --certfile PATH --keyfile PATH [--port N]");
        std::process::exit(2);
    };
    let port: u16 = arg("--port").and_then(|p| p.parse().ok()).unwrap_or(8443);
    Reactor::new()?.block_on(async move {
        let tls = TlsAcceptor::new(TlsServerConfig::new(certfile, keyfile))?;
        let handler = |stream: IOStream, address: Address| {
            reactor::spawn(async move {
                loop {
                    match stream.read_bytes(64 * 1024, true).await {
                        Ok(data) => {
                            if stream.write(&data).await.is_err() {
                                break;
                            }
                        }
                        Err(e) if stream.error().is_some() => {
                            eprintln!("{address}: {e}");
                            break;
                        }
                        Err(_) => break,
                    }
                }
            });
        };
        let server = TcpServer::with_tls(handler, tls.clone());
        for addr in server.listen(port, Some("127.0.0.1"))? {
            eprintln!("TLS echo server on {addr} (pid {})", std::process::id());
        }
        let mut hangups = Signals::new(&[SIGHUP])?;
        loop {
            hangups.recv().await?;
            match tls.reload() {
                Ok(()) => eprintln!("certificates reloaded for new connections"),
                Err(e) => eprintln!("reload failed, the old certificates stay: {e}"),
            }
        }
    })
}
