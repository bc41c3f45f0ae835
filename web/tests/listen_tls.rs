//! `Application::listen_tls` (Tornado's `listen(port, ssl_options=...)`): the handler sees
//! `protocol() == "https"` and an `https://` `full_url()`; files that cannot be loaded are an
//! error before listening; `reload` through the returned server swaps the certificate for the
//! next connection. Driven by our own client (`http1::client`) over TLS.

use http1::client::testing::run_test;
use http1::client::HTTPClient;
use iostream::TlsConnector;
use web::{url, Application, Context, RequestHandler, Result, TlsServerConfig};

#[derive(Default)]
struct Where;
impl RequestHandler for Where {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let line = format!("{} {}", cx.request().protocol(), cx.request().full_url());
        cx.write(line);
        Ok(())
    }
}

#[test]
fn handlers_see_https_and_reload_applies_to_new_connections() {
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    let (cert, key) = certs.localhost();
    let live = (certs.path("live.pem"), certs.path("live.key"));
    std::fs::copy(&cert, &live.0).unwrap();
    std::fs::copy(&key, &live.1).unwrap();
    run_test(async {
        let app = Application::new(vec![url::<Where>("/where")]);
        // Missing files: an error, nothing listens.
        let missing = TlsServerConfig::new(certs.path("nope.pem"), &live.1);
        assert!(app.listen_tls(0, Some("127.0.0.1"), missing).is_err());

        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        let server = app
            .listen_tls(
                port,
                Some("127.0.0.1"),
                TlsServerConfig::new(&live.0, &live.1),
            )
            .unwrap();
        let ca1 = HTTPClient::new().with_tls(TlsConnector::with_ca_file(certs.ca()).unwrap());
        let r = ca1
            .fetch(format!("https://localhost:{port}/where?x=1"))
            .await
            .unwrap();
        assert_eq!(
            r.text(),
            format!("https https://localhost:{port}/where?x=1")
        );

        // New files signed by the second CA, reloaded: a new connection needs that CA, the
        // pooled one (still open) goes on with the first certificate.
        let (cert2, key2) = certs.localhost_ca2();
        std::fs::copy(&cert2, &live.0).unwrap();
        std::fs::copy(&key2, &live.1).unwrap();
        server.tls().unwrap().reload().unwrap();
        let ca2 = HTTPClient::new().with_tls(TlsConnector::with_ca_file(certs.ca2()).unwrap());
        let r = ca2
            .fetch(format!("https://localhost:{port}/where"))
            .await
            .unwrap();
        assert_eq!(r.code, 200);
        let r = ca1
            .fetch(format!("https://localhost:{port}/where"))
            .await
            .unwrap();
        assert_eq!(r.code, 200);
        assert_eq!(
            ca1.connections_opened(),
            1,
            "the open connection kept its certificate"
        );
        ca1.close();
        let e = ca1
            .fetch(format!("https://localhost:{port}/where"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("UnknownIssuer"), "{e}");
    });
}
