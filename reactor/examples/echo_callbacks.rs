//! A TCP echo server written with raw `add_handler` callbacks only: the bottom layer alone,
//! the way Tornado's docs show `IOLoop.add_handler`.
//!
//! ```text
//! cargo run -p reactor --example echo_callbacks -- 8888
//! printf 'hello\n' | nc -q1 127.0.0.1 8888
//! ```

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::rc::Rc;

use reactor::{HandlerId, Interest, Reactor, Ready};

/// One client: its socket and the bytes not yet echoed back.
struct Client {
    stream: TcpStream,
    pending: Vec<u8>,
}

type Clients = Rc<RefCell<HashMap<HandlerId, Client>>>;

fn main() -> std::io::Result<()> {
    let port = std::env::args().nth(1).unwrap_or_else(|| "8888".into());
    let listener = TcpListener::bind(format!("127.0.0.1:{port}"))?;
    listener.set_nonblocking(true)?;
    println!("echo (callbacks) on {}", listener.local_addr()?);

    let reactor = Reactor::current();
    let clients: Clients = Rc::default();
    let r = reactor.clone();
    reactor.add_handler(listener.as_raw_fd(), Interest::READABLE, move |_| loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(true).unwrap();
                let fd = stream.as_raw_fd();
                let id = Rc::new(std::cell::Cell::new(None));
                let (r2, c2, id2) = (r.clone(), clients.clone(), id.clone());
                let handler = r
                    .add_handler(fd, Interest::READABLE, move |ready| {
                        on_client(&r2, &c2, id2.get().unwrap(), ready)
                    })
                    .unwrap();
                id.set(Some(handler));
                let pending = Vec::new();
                clients
                    .borrow_mut()
                    .insert(handler, Client { stream, pending });
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => {
                eprintln!("accept: {e}");
                break;
            }
        }
    })?;
    reactor.run();
    Ok(())
}

/// Reads what is there and writes it back; waits for writability when the socket is full.
fn on_client(reactor: &Reactor, clients: &Clients, id: HandlerId, ready: Ready) {
    let mut map = clients.borrow_mut();
    let Some(client) = map.get_mut(&id) else {
        return;
    };
    let mut eof = false;
    let mut failed = false;
    if ready.is_readable() || ready.is_hangup() {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match client.stream.read(&mut buf) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => client.pending.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
    }
    while !failed && !client.pending.is_empty() {
        match client.stream.write(&client.pending) {
            Ok(n) => drop(client.pending.drain(..n)),
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(_) => failed = true,
        }
    }
    // Close on error, or once the peer finished and everything is echoed back.
    if failed || (eof && client.pending.is_empty()) {
        let _ = reactor.remove_handler(id); // deregister first, then close (drop) the socket
        map.remove(&id);
        return;
    }
    // Wait for writability only while there is something left to write.
    let interest = if client.pending.is_empty() && !eof {
        Interest::READABLE
    } else {
        Interest::WRITABLE
    };
    let _ = reactor.update_handler(id, interest);
}
