//! TLS streams: our client against our server, and real clients (`openssl s_client`, curl,
//! Python's `ssl`) against our server, with certificates made by `openssl` in the test.
//! Each test skips with a message when a tool it needs is missing.

use std::future::Future;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use iostream::{IOStream, TcpClient, TcpServer, TlsAcceptor, TlsConnector, TlsServerConfig};
use reactor::Reactor;
use testkit::certs::{self, Certs};

/// Echoes whatever arrives until the peer ends.
async fn echo(stream: IOStream) {
    while let Ok(data) = stream.read_bytes(64 * 1024, true).await {
        if stream.write(&data).await.is_err() {
            break;
        }
    }
}

/// A tiny HTTP responder: one request, `Hello, World!`, then a close (with `close_notify`).
async fn hello(stream: IOStream) {
    if stream
        .read_until(b"\r\n\r\n", Some(64 * 1024))
        .await
        .is_ok()
    {
        let _ = stream
            .write(
                b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!",
            )
            .await;
    }
    stream.close();
}

fn localhost_config(c: &Certs) -> TlsServerConfig {
    let (cert, key) = c.localhost();
    TlsServerConfig::new(cert, key)
}

/// Starts a TLS server with `handler` on its own thread and reactor; returns its port. Each
/// connection's first-read error goes to the returned channel as text.
fn serve_in_thread<F, H>(config: TlsServerConfig, handler: H) -> u16
where
    H: Fn(IOStream) -> F + Send + 'static,
    F: Future<Output = ()> + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        Reactor::new().unwrap().block_on(async move {
            let acceptor = TlsAcceptor::new(config).unwrap();
            let server = TcpServer::with_tls(
                move |s: IOStream, _| {
                    reactor::spawn(handler(s));
                },
                acceptor,
            );
            let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
            tx.send(port).unwrap();
            std::future::pending::<()>().await;
        })
    });
    rx.recv().unwrap()
}

/// A TLS server on the current reactor.
fn serve<F: Future<Output = ()> + 'static>(
    acceptor: TlsAcceptor,
    handler: impl Fn(IOStream) -> F + 'static,
) -> (TcpServer, u16) {
    let server = TcpServer::with_tls(
        move |s: IOStream, _| {
            reactor::spawn(handler(s));
        },
        acceptor,
    );
    let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
    (server, port)
}

fn error_text(e: &iostream::StreamError) -> String {
    format!("{e}")
}

#[test]
fn round_trip_read_until_large_writes_and_shutdown() {
    let Some(c) = certs::make() else { return };
    let connector = TlsConnector::with_ca_file(c.ca()).unwrap();
    Reactor::new().unwrap().block_on(async {
        let acceptor = TlsAcceptor::new(localhost_config(&c)).unwrap();
        let (_server, port) = serve(acceptor, echo);
        let timeout = Some(Duration::from_secs(10));
        let client = TcpClient::connect_tls("localhost", port, &connector, timeout)
            .await
            .unwrap();
        assert!(client.is_tls());
        assert_eq!(client.alpn_protocol().as_deref(), Some(&b"http/1.1"[..]));
        assert_eq!(
            client.tls_version(),
            Some(iostream::rustls::ProtocolVersion::TLSv1_3)
        );

        client.write(b"hello\r\nworld\r\n").await.unwrap();
        assert_eq!(
            client.read_until(b"\r\n", None).await.unwrap(),
            b"hello\r\n"
        );
        assert_eq!(
            client.read_until(b"\r\n", None).await.unwrap(),
            b"world\r\n"
        );

        // 1 MiB each way at once: the writer queues, the echo pushes back, the reader drains.
        let big: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
        let writer = {
            let (client, big) = (client.clone(), big.clone());
            reactor::spawn(async move { client.write(&big).await })
        };
        let back = client.read_bytes(big.len(), false).await.unwrap();
        writer.await.unwrap().unwrap();
        assert!(back == big, "1 MiB came back changed");

        // Through the zero-copy layer too.
        client
            .write_buffer()
            .extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        client.flush().await.unwrap();
        let end = client.fill_until(b"\r\n\r\n", 1024).await.unwrap();
        assert_eq!(&client.buffered()[..end], b"GET / HTTP/1.1\r\n\r\n");
        client.consume(end);

        // shutdown_write: the echo reads EOF (close_notify), closes; we read the end.
        client.write(b"last").await.unwrap();
        client.shutdown_write().await.unwrap();
        assert_eq!(client.read_until_close().await.unwrap(), b"last");
        assert!(client.closed());
        assert!(client.error().is_none(), "{:?}", client.error());
    });
}

#[test]
fn a_server_that_writes_first_handshakes_in_its_flush_with_a_reader_waiting() {
    let Some(c) = certs::make() else { return };
    let connector = TlsConnector::with_ca_file(c.ca()).unwrap();
    Reactor::new().unwrap().block_on(async {
        let acceptor = TlsAcceptor::new(localhost_config(&c)).unwrap();
        let (_server, port) = serve(acceptor, |s: IOStream| async move {
            // A reader and a writer start together, before any handshake byte arrived: each
            // may be the one the reactor wakes, and both must get through.
            let reader = {
                let s = s.clone();
                reactor::spawn(async move { s.read_until(b"\n", Some(1024)).await })
            };
            s.write(b"welcome\n").await.unwrap();
            let line = reader.await.unwrap().unwrap();
            s.write(&line).await.unwrap();
        });
        for _ in 0..20 {
            let client = TcpClient::connect_tls("localhost", port, &connector, None)
                .await
                .unwrap();
            assert_eq!(client.read_until(b"\n", None).await.unwrap(), b"welcome\n");
            client.write(b"thanks\n").await.unwrap();
            assert_eq!(client.read_until(b"\n", None).await.unwrap(), b"thanks\n");
        }
        // Our own client, started by hand: its first operation is a read, not a flush.
        for _ in 0..20 {
            let stream = TcpClient::connect("127.0.0.1", port, None).await.unwrap();
            stream.start_tls_client(&connector, "localhost").unwrap();
            assert_eq!(stream.read_until(b"\n", None).await.unwrap(), b"welcome\n");
            stream.write(b"read first\n").await.unwrap();
            assert_eq!(
                stream.read_until(b"\n", None).await.unwrap(),
                b"read first\n"
            );
        }
    });
}

#[test]
fn read_into_try_fill_and_sendfile_fall_back_under_tls() {
    let Some(c) = certs::make() else { return };
    let connector = TlsConnector::with_ca_file(c.ca()).unwrap();
    let path = c.path("file.bin");
    let content: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    Reactor::new().unwrap().block_on(async {
        let acceptor = TlsAcceptor::new(localhost_config(&c)).unwrap();
        let file_path = path.clone();
        let (_server, port) = serve(acceptor, move |s: IOStream| {
            let file_path = file_path.clone();
            async move {
                let mut cmd = [0u8; 4];
                if s.read_into(&mut cmd, false).await.is_ok() && &cmd == b"FILE" {
                    let file = std::fs::File::open(&file_path).unwrap();
                    s.write_buffer().extend_from_slice(b"> ");
                    s.sendfile(&file, 1000, 200_000).await.unwrap();
                    s.shutdown_write().await.unwrap();
                }
            }
        });
        let client = TcpClient::connect_tls("127.0.0.1", port, &connector, None)
            .await
            .unwrap();
        assert_eq!(client.try_fill().unwrap(), 0, "nothing sent yet");
        client.write(b"FILE").await.unwrap();
        let got = client.read_until_close().await.unwrap();
        assert_eq!(&got[..2], b"> ");
        assert!(got[2..] == content[1000..201_000], "file bytes differ");
    });
}

#[test]
fn wrong_ca_wrong_name_and_not_tls_are_clear_errors() {
    let Some(c) = certs::make() else { return };
    Reactor::new().unwrap().block_on(async {
        // The server's only certificate is for second.test.
        let (cert, key) = c.second();
        let acceptor = TlsAcceptor::new(TlsServerConfig::new(cert, key)).unwrap();
        let (_server, port) = serve(acceptor, echo);
        let timeout = Some(Duration::from_secs(5));

        let wrong_ca = TlsConnector::with_ca_file(c.ca2()).unwrap();
        let e = TcpClient::connect_tls("localhost", port, &wrong_ca, timeout)
            .await
            .unwrap_err();
        let text = error_text(&e);
        assert!(
            text.contains("TLS handshake failed") && text.contains("UnknownIssuer"),
            "{text}"
        );

        let right_ca = TlsConnector::with_ca_file(c.ca()).unwrap();
        let e = TcpClient::connect_tls("localhost", port, &right_ca, timeout)
            .await
            .unwrap_err();
        let text = error_text(&e);
        assert!(
            text.contains("TLS handshake failed") && text.contains("not valid for name"),
            "{text}"
        );

        // A plain server that answers in plain text.
        let plain = TcpServer::new(|s: IOStream, _| {
            reactor::spawn(async move {
                let _ = s.read_bytes(1, true).await;
                let _ = s.write(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
                s.close();
            });
        });
        let plain_port = plain.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let started = Instant::now();
        let e = TcpClient::connect_tls("127.0.0.1", plain_port, &right_ca, timeout)
            .await
            .unwrap_err();
        let text = error_text(&e);
        assert!(text.contains("not TLS"), "{text}");
        assert!(started.elapsed() < Duration::from_secs(2));

        // A plain server that waits for a request and says nothing: the timeout ends it.
        let silent = TcpServer::new(|s: IOStream, _| {
            reactor::spawn(async move {
                let _ = s.read_until(b"\r\n\r\n", None).await;
            });
        });
        let silent_port = silent.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let short = Some(Duration::from_millis(300));
        let e = TcpClient::connect_tls("127.0.0.1", silent_port, &right_ca, short)
            .await
            .unwrap_err();
        let kind = e.os_error().map(|e| e.kind());
        assert_eq!(kind, Some(std::io::ErrorKind::TimedOut), "{e}");

        // A plain server that closes at once.
        let closer = TcpServer::new(|s: IOStream, _| s.close());
        let closer_port = closer.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let e = TcpClient::connect_tls("127.0.0.1", closer_port, &right_ca, timeout)
            .await
            .unwrap_err();
        let text = error_text(&e);
        assert!(text.contains("TLS handshake failed"), "{text}");
    });
}

#[test]
fn plain_http_to_the_tls_port_gets_400_at_once() {
    let Some(c) = certs::make() else { return };
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let port = serve_in_thread(localhost_config(&c), move |s: IOStream| {
        let tx = tx.clone();
        async move {
            if let Err(e) = s.read_until(b"\r\n\r\n", Some(65536)).await {
                let _ = tx.send(e.to_string());
            }
        }
    });
    let started = Instant::now();
    let mut plain = TcpStream::connect(("127.0.0.1", port)).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    plain.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(answer.contains("Connection: close"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let error = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(error.contains("not TLS"), "{error}");

    // Binary garbage (not a letter): closed at once, no answer.
    let mut junk = TcpStream::connect(("127.0.0.1", port)).unwrap();
    junk.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    junk.write_all(&[0x00, 0xff, 0x13, 0x37]).unwrap();
    let mut answer = Vec::new();
    let _ = junk.read_to_end(&mut answer);
    assert!(answer.is_empty());
    let error = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(error.contains("not TLS"), "{error}");
}

#[test]
fn a_silent_client_is_cut_by_the_first_read_deadline_and_blocks_no_one() {
    let Some(c) = certs::make() else { return };
    let connector = TlsConnector::with_ca_file(c.ca()).unwrap();
    Reactor::new().unwrap().block_on(async {
        let acceptor = TlsAcceptor::new(localhost_config(&c)).unwrap();
        let (_server, port) = serve(acceptor, |s: IOStream| async move {
            // The layer above's header timeout: the handshake happens inside this read.
            let head =
                reactor::timeout(Duration::from_millis(300), s.read_until(b"\n", Some(1024))).await;
            match head {
                Ok(Ok(line)) => {
                    let _ = s.write(&line).await;
                }
                _ => s.close(),
            }
        });
        // A client that connects and never says hello.
        let silent = TcpClient::connect("127.0.0.1", port, None).await.unwrap();
        // Others are served meanwhile.
        let started = Instant::now();
        let client = TcpClient::connect_tls("localhost", port, &connector, None)
            .await
            .unwrap();
        client.write(b"ping\n").await.unwrap();
        assert_eq!(client.read_until(b"\n", None).await.unwrap(), b"ping\n");
        assert!(started.elapsed() < Duration::from_millis(300));
        // And the silent one is cut when the deadline passes.
        let rest = reactor::timeout(Duration::from_secs(5), silent.read_until_close())
            .await
            .expect("the silent connection is closed by the server");
        assert_eq!(rest.unwrap(), b"");
    });
}

#[test]
fn reload_swaps_the_certificate_for_new_connections_only() {
    let Some(c) = certs::make() else { return };
    let ca1 = TlsConnector::with_ca_file(c.ca()).unwrap();
    let ca2 = TlsConnector::with_ca_file(c.ca2()).unwrap();
    Reactor::new().unwrap().block_on(async {
        let acceptor = TlsAcceptor::new(localhost_config(&c)).unwrap();
        let (_server, port) = serve(acceptor.clone(), echo);
        let old = TcpClient::connect_tls("localhost", port, &ca1, None)
            .await
            .unwrap();
        old.write(b"one\n").await.unwrap();
        assert_eq!(old.read_until(b"\n", None).await.unwrap(), b"one\n");

        let (cert, key) = c.localhost_ca2();
        acceptor
            .set_config(TlsServerConfig::new(cert, key))
            .unwrap();
        let e = TcpClient::connect_tls("localhost", port, &ca1, None)
            .await
            .unwrap_err();
        assert!(error_text(&e).contains("UnknownIssuer"), "{e}");
        let new = TcpClient::connect_tls("localhost", port, &ca2, None)
            .await
            .unwrap();
        new.write(b"two\n").await.unwrap();
        assert_eq!(new.read_until(b"\n", None).await.unwrap(), b"two\n");
        // The open connection keeps its session.
        old.write(b"three\n").await.unwrap();
        assert_eq!(old.read_until(b"\n", None).await.unwrap(), b"three\n");

        // A reload that cannot read its files keeps the config in use.
        let missing = TlsServerConfig::new(c.path("missing.pem"), c.path("missing.key"));
        assert!(acceptor.set_config(missing).is_err());
        assert!(TcpClient::connect_tls("localhost", port, &ca2, None)
            .await
            .is_ok());
        // `reload` reads the current files again.
        acceptor.reload().unwrap();
        assert!(TcpClient::connect_tls("localhost", port, &ca2, None)
            .await
            .is_ok());
    });
}

#[test]
fn sni_picks_the_certificate_for_the_name_asked() {
    let Some(c) = certs::make() else { return };
    let connector = TlsConnector::with_ca_file(c.ca()).unwrap();
    Reactor::new().unwrap().block_on(async {
        let (cert, key) = c.second();
        let config = localhost_config(&c).with_sni_certificate("Second.Test", cert, key);
        let names = Rc::new(std::cell::RefCell::new(Vec::new()));
        let seen = names.clone();
        let (_server, port) = serve(TlsAcceptor::new(config).unwrap(), move |s: IOStream| {
            let seen = seen.clone();
            async move {
                if let Ok(line) = s.read_until(b"\n", Some(1024)).await {
                    assert!(!s.is_tls_handshaking());
                    seen.borrow_mut().push(s.tls_server_name());
                    let _ = s.write(&line).await;
                }
            }
        });
        for name in ["second.test", "localhost"] {
            let stream = TcpClient::connect("127.0.0.1", port, None).await.unwrap();
            // Verification for `name` passes only if the server chose that name's certificate.
            stream.start_tls_client(&connector, name).unwrap();
            stream.handshake().await.unwrap();
            stream.write(b"hi\n").await.unwrap();
            assert_eq!(stream.read_until(b"\n", None).await.unwrap(), b"hi\n");
        }
        // No SNI at all (an IP address): the default certificate, valid for 127.0.0.1.
        let stream = TcpClient::connect_tls("127.0.0.1", port, &connector, None)
            .await
            .unwrap();
        stream.write(b"ip\n").await.unwrap();
        assert_eq!(stream.read_until(b"\n", None).await.unwrap(), b"ip\n");
        assert_eq!(
            *names.borrow(),
            [
                Some("second.test".to_string()),
                Some("localhost".to_string()),
                None
            ]
        );
    });
}

#[test]
fn mutual_tls_refuses_a_client_without_a_certificate() {
    let Some(c) = certs::make() else { return };
    let (cert, key) = c.client();
    let with_cert = TlsConnector::with_client_certificate(c.ca(), cert, key).unwrap();
    let without = TlsConnector::with_ca_file(c.ca()).unwrap();
    Reactor::new().unwrap().block_on(async {
        let config = localhost_config(&c).with_client_ca(c.ca());
        let errors = Rc::new(std::cell::RefCell::new(Vec::new()));
        let seen = errors.clone();
        let (_server, port) = serve(TlsAcceptor::new(config).unwrap(), move |s: IOStream| {
            let seen = seen.clone();
            async move {
                match s.read_until(b"\n", Some(1024)).await {
                    Ok(line) => {
                        let _ = s.write(&line).await;
                    }
                    Err(e) => {
                        assert!(s.is_tls_handshaking(), "the handshake did not complete");
                        seen.borrow_mut().push(e.to_string())
                    }
                }
            }
        });
        let ok = TcpClient::connect_tls("localhost", port, &with_cert, None)
            .await
            .unwrap();
        ok.write(b"mtls\n").await.unwrap();
        assert_eq!(ok.read_until(b"\n", None).await.unwrap(), b"mtls\n");

        // Under TLS 1.3 the client finishes its side first; the refusal arrives as an alert.
        let refused = async {
            let s = TcpClient::connect_tls("localhost", port, &without, None).await?;
            s.write(b"no cert\n").await?;
            s.read_until(b"\n", None).await
        };
        let e = refused.await.unwrap_err();
        let text = error_text(&e);
        assert!(
            text.contains("CertificateRequired") || text.contains("certificate"),
            "{text}"
        );
        reactor::sleep(Duration::from_millis(50)).await;
        let server_side = errors.borrow().join("; ");
        assert!(
            server_side.contains("TLS handshake failed"),
            "{server_side}"
        );
    });
}

#[test]
fn api_odds_and_ends() {
    let Some(c) = certs::make() else { return };
    let connector = TlsConnector::with_ca_file(c.ca()).unwrap();
    Reactor::new().unwrap().block_on(async {
        // An acceptor from a rustls config: no files to reload, but the config can be swapped.
        let from_files = TlsAcceptor::new(localhost_config(&c)).unwrap();
        let acceptor = TlsAcceptor::from_rustls(from_files.rustls_config());
        let e = acceptor.reload().unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::Unsupported);
        acceptor.set_rustls_config(from_files.rustls_config());
        let handler: Rc<dyn iostream::StreamHandler> = Rc::new(|s: IOStream, _| {
            reactor::spawn(echo(s));
        });
        let server = TcpServer::from_rc_with_tls(handler, acceptor);
        assert!(server.tls().is_some());
        assert!(TcpServer::new(|_: IOStream, _| {}).tls().is_none());
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();

        // A connector from a rustls config, and `TlsConnector::connect`.
        let same = TlsConnector::from_rustls(connector.rustls_config());
        let stream = same.connect("localhost", port, None).await.unwrap();
        stream.write(b"x\n").await.unwrap();
        assert_eq!(stream.read_until(b"\n", None).await.unwrap(), b"x\n");
        assert!(format!("{stream:?}").contains("tls: true"));

        // The built-in public roots do not trust a private CA.
        let e = TlsConnector::new()
            .connect("localhost", port, None)
            .await
            .unwrap_err();
        assert!(error_text(&e).contains("UnknownIssuer"), "{e}");

        // start_tls refuses a stream that is already TLS, or has bytes buffered.
        let e = stream
            .start_tls_client(&connector, "localhost")
            .unwrap_err();
        assert!(error_text(&e).contains("already TLS"), "{e}");
        let plain = TcpServer::new(|s: IOStream, _| {
            reactor::spawn(async move {
                let _ = s.write(b"early").await;
                let _ = s.read_until_close().await;
            });
        });
        let plain_port = plain.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let early = TcpClient::connect("127.0.0.1", plain_port, None)
            .await
            .unwrap();
        assert!(!early.is_tls());
        assert_eq!(early.alpn_protocol(), None);
        assert_eq!(early.tls_version(), None);
        early.handshake().await.unwrap(); // nothing to do on a plain stream
        early.fill(5).await.unwrap();
        let e = early.start_tls_client(&connector, "localhost").unwrap_err();
        assert!(error_text(&e).contains("bytes buffered"), "{e}");
    });
}

// ------------------------------------------------------------------ real clients

fn run_with_timeout(cmd: &mut Command) -> std::process::Output {
    cmd.stdin(Stdio::null()).output().expect("run the client")
}

#[test]
fn openssl_s_client_tls12_and_13_accepted_11_refused_alpn_shown() {
    let Some(c) = certs::make() else { return };
    let port = serve_in_thread(localhost_config(&c), echo);
    let connect = format!("127.0.0.1:{port}");
    let ca = c.ca();
    let s_client = |extra: &[&str]| {
        let mut cmd = Command::new("timeout");
        cmd.args(["10", "openssl", "s_client", "-connect", &connect]);
        cmd.args([
            "-servername",
            "localhost",
            "-verify_return_error",
            "-CAfile",
        ]);
        cmd.arg(&ca).args(extra);
        let out = run_with_timeout(&mut cmd);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    for (flag, name) in [("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")] {
        let (ok, out) = s_client(&[flag, "-alpn", "http/1.1"]);
        assert!(ok, "{flag}: {out}");
        assert!(out.contains(&format!("New, {name}")), "{flag}: {out}");
        assert!(out.contains("ALPN protocol: http/1.1"), "{flag}: {out}");
        assert!(out.contains("Verify return code: 0 (ok)"), "{flag}: {out}");
    }
    let (ok, out) = s_client(&["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]);
    assert!(!ok, "TLS 1.1 was accepted: {out}");
    assert!(!out.contains("New, TLSv1.1"), "{out}");
}

#[test]
fn curl_fetches_through_a_tls_responder() {
    let Some(c) = certs::make() else { return };
    if !certs::have("curl", "--version") {
        eprintln!("skipped: curl is not installed");
        return;
    }
    let port = serve_in_thread(localhost_config(&c), hello);
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--http1.1", "--cacert"])
        .arg(c.ca())
        .arg(format!("https://localhost:{port}/"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"Hello, World!");
}

#[test]
fn python_ssl_client_round_trips() {
    let Some(c) = certs::make() else { return };
    if !certs::have("python3", "--version") {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let port = serve_in_thread(localhost_config(&c), echo);
    let script = r#"
import socket, ssl, sys
for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
    ctx = ssl.create_default_context(cafile=sys.argv[1])
    ctx.maximum_version = version
    ctx.set_alpn_protocols(["http/1.1"])
    with socket.create_connection(("localhost", int(sys.argv[2])), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            body = bytes(range(256)) * 400
            s.sendall(body)
            got = b""
            while len(got) < len(body):
                got += s.recv(65536)
            assert got == body, "echo differs"
            print(s.version(), s.selected_alpn_protocol(), len(got))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(c.ca())
        .arg(port.to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "TLSv1.3 http/1.1 102400\nTLSv1.2 http/1.1 102400"
    );
}
