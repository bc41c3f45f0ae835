//! `IOStream::buffered_mut` changes the read buffer in place, plain and TLS alike (the
//! plaintext of a TLS stream lands in the same buffer), and what it changed is what the next
//! read returns.

use std::time::Duration;

use iostream::{IOStream, TcpClient, TcpServer, TlsAcceptor, TlsConnector, TlsServerConfig};
use reactor::Reactor;
use testkit::certs;

/// Reads 8 bytes, flips their case where they lie, and echoes them from the buffer.
async fn flip_case(stream: IOStream) {
    while stream.fill(8).await.is_ok() {
        for b in stream.buffered_mut()[..8].iter_mut() {
            *b ^= 0x20;
        }
        let out = stream.buffered()[..8].to_vec();
        stream.consume(8);
        if stream.write(&out).await.is_err() {
            break;
        }
    }
}

#[test]
fn changed_in_place_on_a_plain_stream() {
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    Reactor::new().unwrap().block_on(async {
        let a = IOStream::new(a.into()).unwrap();
        let b = IOStream::new(b.into()).unwrap();
        reactor::spawn(flip_case(b));
        a.write(b"abcdefghIJKLMNOP").await.unwrap();
        assert_eq!(a.read_bytes(16, false).await.unwrap(), b"ABCDEFGHijklmnop");
    });
}

#[test]
fn changed_in_place_on_a_tls_stream() {
    let Some(c) = certs::make() else { return };
    let connector = TlsConnector::with_ca_file(c.ca()).unwrap();
    Reactor::new().unwrap().block_on(async {
        let (cert, key) = c.localhost();
        let acceptor = TlsAcceptor::new(TlsServerConfig::new(cert, key)).unwrap();
        let server = TcpServer::with_tls(
            |s: IOStream, _| {
                reactor::spawn(flip_case(s));
            },
            acceptor,
        );
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let client =
            TcpClient::connect_tls("localhost", port, &connector, Some(Duration::from_secs(10)))
                .await
                .unwrap();
        assert!(client.is_tls());
        client.write(b"abcdefghIJKLMNOP").await.unwrap();
        assert_eq!(
            client.read_bytes(16, false).await.unwrap(),
            b"ABCDEFGHijklmnop"
        );
    });
}
