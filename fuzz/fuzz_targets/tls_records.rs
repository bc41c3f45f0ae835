//! A server-side TLS stream fed garbage: the input arrives on the client end of a socket
//! pair (then EOF), and the server stream (`IOStream` with rustls, as `TcpServer::with_tls`
//! makes it) reads until the end, answering what the handshake asks for. Whatever the bytes
//! (records cut short, lengths out of range, a ClientHello followed by junk, plain text), the
//! stream must end with an error or EOF: never a panic, never a hang. Seeds: real ClientHellos
//! (TLS 1.3, TLS 1.2, with and without ALPN), plain HTTP, alerts and broken records.
#![no_main]

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::OnceLock;

use iostream::{IOStream, StreamError, TlsAcceptor, TlsServerConfig};
use libfuzzer_sys::fuzz_target;

/// A self-signed certificate for `localhost` (EC P-256, made with the openssl CLI; the
/// server never verifies its own certificate, so its dates do not matter).
const CERT: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBlDCCATugAwIBAgIUFo8r4TD2J0D1jU+FZIQ2Bn82Dc0wCgYIKoZIzj0EAwIw\n\
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwNjIwMTYzMFoYDzIxMjYxMTEy\n\
MjAxNjMwWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO\n\
PQMBBwNCAAT9HUf+DDmmQ0IpndIyZrrYTk/O1/xuTCGCaDrbv+ot8m99PIejSfjh\n\
lWgkZ48uOKBij5LTW7gFTWfGp4xGqN60o2kwZzAdBgNVHQ4EFgQUe2vvriT7QLSh\n\
0QqlQN+vGgRcWpgwHwYDVR0jBBgwFoAUe2vvriT7QLSh0QqlQN+vGgRcWpgwDwYD\n\
VR0TAQH/BAUwAwEB/zAUBgNVHREEDTALgglsb2NhbGhvc3QwCgYIKoZIzj0EAwID\n\
RwAwRAIgDXTmvnceR+u0nLVy+P/4ow2BqitCCDaR0QNPhHs1DNMCIFzfIXRCgjqH\n\
eHr6KNLBYByhz9I1HwSq0EhGvlXEB5p2\n\
-----END CERTIFICATE-----\n";
const KEY: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKbU0xBqJ7Y5+2yYn\n\
2s+E/0q9WYK9CdJfLInaDkFI/L+hRANCAAT9HUf+DDmmQ0IpndIyZrrYTk/O1/xu\n\
TCGCaDrbv+ot8m99PIejSfjhlWgkZ48uOKBij5LTW7gFTWfGp4xGqN60\n\
-----END PRIVATE KEY-----\n";

thread_local! {
    static REACTOR: reactor::Reactor = reactor::Reactor::new().expect("reactor");
}

/// The certificate files, written once per process.
fn config() -> TlsServerConfig {
    static FILES: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    let (cert, key) = FILES.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("fuzz-tls-records-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, CERT).unwrap();
        std::fs::write(&key, KEY).unwrap();
        (cert, key)
    });
    TlsServerConfig::new(cert, key)
}

fuzz_target!(|data: &[u8]| {
    REACTOR.with(|r| {
        r.block_on(async {
            thread_local! {
                static ACCEPTOR: TlsAcceptor = TlsAcceptor::new(config()).expect("acceptor");
            }
            let (server, mut client) = UnixStream::pair().unwrap();
            client.write_all(data).unwrap();
            client.shutdown(std::net::Shutdown::Write).unwrap();
            let stream = IOStream::from_unix(server).unwrap();
            ACCEPTOR.with(|a| stream.start_tls_server(a)).unwrap();
            match stream.read_until_close().await {
                // No handshake can finish against a peer that has already ended: the input
                // cannot hold the client's Finished made for this server's random.
                Ok(plaintext) => assert!(plaintext.is_empty(), "plaintext from garbage"),
                Err(StreamError::Closed { .. }) => {}
                Err(e) => panic!("unexpected error {e:?}"),
            }
            assert!(stream.closed());
            drop(client);
        })
    });
});
