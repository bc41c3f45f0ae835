//! A panicking handler under load: `/panic` mixed with `/` from several clients; every `/`
//! succeeds, every `/panic` is a 500, the server lives on.

use tests::{Client, Server};

const DEMO: &str = env!("CARGO_BIN_EXE_demo");

#[test]
fn panicking_handler_under_load() {
    let mut server = Server::start(DEMO, &[]);
    let addr = server.addr;
    let workers: Vec<_> = (0..4)
        .map(|w| {
            std::thread::spawn(move || {
                let (mut ok, mut panics, mut reconnects) = (0, 0, 0);
                let mut c = Client::connect(addr).unwrap();
                for i in 0..300 {
                    let panic = (i + w) % 4 == 0;
                    let target = if panic { "/panic" } else { "/" };
                    let r = match c.get(target) {
                        Ok(r) => r,
                        Err(_) => {
                            // Only a request after a 500 may find the connection closed.
                            reconnects += 1;
                            c = Client::connect(addr).unwrap();
                            c.get(target).expect("request on a fresh connection")
                        }
                    };
                    if panic {
                        assert_eq!(r.status, 500);
                        panics += 1;
                    } else {
                        assert_eq!((r.status, r.text()), (200, "Hello, World!"));
                        ok += 1;
                    }
                    if r.header("Connection")
                        .is_some_and(|v| v.eq_ignore_ascii_case("close"))
                    {
                        c = Client::connect(addr).unwrap();
                    }
                }
                (ok, panics, reconnects)
            })
        })
        .collect();
    let (mut ok, mut panics) = (0, 0);
    for w in workers {
        let (o, p, _r) = w.join().unwrap();
        ok += o;
        panics += p;
    }
    server.assert_alive();
    assert_eq!((ok, panics), (900, 300));
    assert_eq!(tests::get(addr, "/").unwrap().status, 200);
}
