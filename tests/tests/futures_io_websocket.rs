//! (iostream's `futures-io` feature, end to end.) A `futures-io` consumer we did not write, over our `IOStream`: `async-tungstenite` (its
//! futures-io flavour, no tokio) as a WebSocket client against our own WebSocket server (web's
//! `WebSocketHandler`), on a plain and on a TLS stream: text and binary echoes, a message
//! larger than any buffer on the way, the close handshake started by either side.

use std::cell::RefCell;
use std::net::TcpListener;
use std::time::Duration;

use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::protocol::CloseFrame;
use async_tungstenite::tungstenite::Message as Ws;
use async_tungstenite::{client_async, WebSocketStream};
use futures_util::{SinkExt, StreamExt};
use http1::HTTPServer;
use iostream::{IOStream, TcpClient, TlsAcceptor, TlsConnector, TlsServerConfig};
use web::websocket::{websocket_url, Message, WebSocket, WebSocketHandler};
use web::Application;

thread_local! {
    /// The close codes our server's handlers saw, in order.
    static CLOSED: RefCell<Vec<Option<u16>>> = const { RefCell::new(Vec::new()) };
}

/// Echoes text as text and binary as binary; "bye" makes the server close with 4000.
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

    fn on_close(&mut self, close_code: Option<u16>, _reason: &str) {
        CLOSED.with(|c| c.borrow_mut().push(close_code));
    }
}

/// Our server on the current reactor, plain or TLS; its port.
fn serve(tls: Option<TlsAcceptor>) -> (HTTPServer, u16) {
    let app = Application::new(vec![websocket_url::<Echo>("/ws/echo")]);
    let server = match tls {
        Some(tls) => app.https_server(tls),
        None => HTTPServer::new(app, Default::default()),
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    server.add_sockets(vec![listener]).unwrap();
    (server, port)
}

/// Echoes both kinds of message, then the client closes (1000) and the server answers.
async fn echo_then_client_closes(mut ws: WebSocketStream<IOStream>) {
    ws.send(Ws::Text("héllo".into())).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Ws::Text("héllo".into()));
    let large: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    ws.send(Ws::Binary(large.clone())).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Ws::Binary(large));
    for i in 0..20 {
        ws.feed(Ws::Text(format!("message {i}"))).await.unwrap();
    }
    ws.flush().await.unwrap();
    for i in 0..20 {
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Ws::Text(format!("message {i}"))
        );
    }
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "done".into(),
    }))
    .await
    .unwrap();
    // The server echoes the close; then the stream ends.
    match ws.next().await {
        Some(Ok(Ws::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Normal),
        other => panic!("expected the server's close, got {other:?}"),
    }
    assert!(ws.next().await.is_none());
}

/// The server closes (4000 "as asked"); the client sees the code and the end.
async fn server_closes(mut ws: WebSocketStream<IOStream>) {
    ws.send(Ws::Text("bye".into())).await.unwrap();
    match ws.next().await {
        Some(Ok(Ws::Close(Some(frame)))) => {
            assert_eq!(frame.code, CloseCode::from(4000));
            assert_eq!(frame.reason, "as asked");
        }
        other => panic!("expected the server's close, got {other:?}"),
    }
    // tungstenite answers the close; the server then ends the connection.
    while let Some(m) = ws.next().await {
        assert!(m.is_ok(), "{m:?}");
    }
}

fn run(f: impl std::future::Future<Output = ()>) {
    reactor::Reactor::new().unwrap().block_on(async {
        reactor::timeout(Duration::from_secs(30), f)
            .await
            .expect("the test took more than 30 s");
    });
}

#[test]
fn async_tungstenite_client_against_our_server() {
    CLOSED.with(|c| c.borrow_mut().clear());
    run(async {
        let (_server, port) = serve(None);
        let url = format!("ws://127.0.0.1:{port}/ws/echo");
        let stream = TcpClient::connect("127.0.0.1", port, None).await.unwrap();
        let (ws, response) = client_async(&url, stream).await.unwrap();
        assert_eq!(response.status(), 101);
        echo_then_client_closes(ws).await;

        let stream = TcpClient::connect("127.0.0.1", port, None).await.unwrap();
        let (ws, _) = client_async(&url, stream).await.unwrap();
        server_closes(ws).await;
        reactor::sleep(Duration::from_millis(50)).await;
    });
    let closed = CLOSED.with(|c| c.borrow().clone());
    assert_eq!(closed, vec![Some(1000), Some(4000)], "what our server saw");
}

#[test]
fn async_tungstenite_client_over_our_tls_stream() {
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    let (cert, key) = certs.localhost();
    let connector = TlsConnector::with_ca_file(certs.ca()).unwrap();
    run(async {
        let tls = TlsAcceptor::new(TlsServerConfig::new(cert, key)).unwrap();
        let (_server, port) = serve(Some(tls));
        let url = format!("wss://localhost:{port}/ws/echo");
        let stream = TcpClient::connect_tls("localhost", port, &connector, None)
            .await
            .unwrap();
        let (ws, response) = client_async(&url, stream).await.unwrap();
        assert_eq!(response.status(), 101);
        echo_then_client_closes(ws).await;

        let stream = TcpClient::connect_tls("localhost", port, &connector, None)
            .await
            .unwrap();
        let (ws, _) = client_async(&url, stream).await.unwrap();
        server_closes(ws).await;
    });
}
