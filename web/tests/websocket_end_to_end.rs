//! Our WebSocket client against our WebSocket server, in both protocols (`ws://` and, with a
//! private CA, `wss://`): text and binary echoes, a large message, permessage-deflate with and
//! without context takeover, and the close handshake with the server's code.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::time::Duration;

use http1::client::testing::run_test_with_timeout;
use web::websocket::{
    websocket_connect, websocket_url, ClientMessage, DeflateOptions, Message, WebSocket,
    WebSocketConnectOptions, WebSocketHandler,
};
use web::{Application, TlsServerConfig};

/// Echoes every message as it came (text as text); "bye" closes with 4000.
#[derive(Default)]
struct Echo;

impl WebSocketHandler for Echo {
    async fn on_message(&mut self, ws: &WebSocket, message: Message<'_>) {
        let _ = match message {
            Message::Text("bye") => {
                ws.close(Some(4000), "as asked");
                return;
            }
            Message::Text(text) => ws.write_message(text.as_bytes(), false).await,
            Message::Binary(bytes) => ws.write_message(bytes, true).await,
        };
    }

    fn get_compression_options(&self) -> Option<DeflateOptions> {
        Some(DeflateOptions::default())
    }
}

fn app() -> Application {
    Application::new(vec![websocket_url::<Echo>("/echo")])
}

/// The server over TLS on its own thread, with the certificate `certfile`/`keyfile`.
fn serve_tls(certfile: std::path::PathBuf, keyfile: std::path::PathBuf) -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let tls = web::TlsAcceptor::new(TlsServerConfig::new(certfile, keyfile)).unwrap();
        let server = app().https_server(tls);
        server.add_sockets(vec![listener]).unwrap();
        tx.send(addr).unwrap();
        reactor::Reactor::current().run();
    });
    rx.recv().unwrap()
}

/// One round of echoes and the close handshake on a connection made with `options`.
async fn round(url: &str, options: WebSocketConnectOptions) {
    let ws = websocket_connect(url, options).await.unwrap();
    ws.write_message("héllo", false).await.unwrap();
    assert_eq!(
        ws.read_message().await,
        Some(ClientMessage::Text("héllo".into()))
    );
    let large: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    ws.write_message(large.clone(), true).await.unwrap();
    assert_eq!(ws.read_message().await, Some(ClientMessage::Binary(large)));
    for i in 0..50 {
        ws.write_message(format!("message {i}"), false)
            .await
            .unwrap();
    }
    for i in 0..50 {
        assert_eq!(
            ws.read_message().await,
            Some(ClientMessage::Text(format!("message {i}")))
        );
    }
    ws.write_message("bye", false).await.unwrap();
    assert_eq!(ws.read_message().await, None);
    assert_eq!(ws.close_code(), Some(4000));
    assert_eq!(ws.close_reason().as_deref(), Some("as asked"));
}

#[test]
fn our_client_and_our_server_over_ws() {
    let addr = common::serve(app);
    let url = format!("ws://{addr}/echo");
    run_test_with_timeout(Duration::from_secs(30), async {
        round(&url, WebSocketConnectOptions::default()).await;
        let takeover = DeflateOptions::default();
        let ws = websocket_connect(
            &url,
            WebSocketConnectOptions::default().compression(Some(takeover.clone())),
        )
        .await
        .unwrap();
        assert!(ws.deflate().is_some(), "permessage-deflate agreed");
        ws.close(Some(1000), "").await;
        round(
            &url,
            WebSocketConnectOptions::default().compression(Some(takeover)),
        )
        .await;
        let no_takeover = DeflateOptions {
            client_no_context_takeover: true,
            server_no_context_takeover: true,
            ..DeflateOptions::default()
        };
        round(
            &url,
            WebSocketConnectOptions::default().compression(Some(no_takeover)),
        )
        .await;
    });
}

#[test]
fn our_client_and_our_server_over_wss() {
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    let (cert, key) = certs.localhost();
    let addr = serve_tls(cert, key);
    let url = format!("wss://localhost:{}/echo", addr.port());
    let ca = certs.ca();
    run_test_with_timeout(Duration::from_secs(30), async move {
        let connector = iostream::TlsConnector::with_ca_file(&ca).unwrap();
        round(
            &url,
            WebSocketConnectOptions::default().tls(connector.clone()),
        )
        .await;
        round(
            &url,
            WebSocketConnectOptions::default()
                .tls(connector)
                .compression(Some(DeflateOptions::default())),
        )
        .await;
    });
}
