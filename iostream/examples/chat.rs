//! A line-based chat server: each line a client sends is broadcast to every connected client.
//!
//! ```text
//! cargo run -p iostream --example chat -- 8889
//! nc 127.0.0.1 8889     # in two terminals; type lines
//! ```
//!
//! The room is a list of streams shared by the connection tasks (`Rc<RefCell<..>>`: one
//! thread, one loop). A line is queued on every member with `write_owned` + `flush` in a task of
//! its own, so one slow reader never holds up the others; a member whose write queue is over
//! its limit (`BufferFull`) is dropped from the room instead of buffering without bound.

use std::cell::RefCell;
use std::rc::Rc;

use iostream::{Address, IOStream, StreamError, TcpServer};
use reactor::Reactor;

/// The connected clients.
#[derive(Default)]
struct Room {
    members: RefCell<Vec<IOStream>>,
}

impl Room {
    fn join(&self, s: &IOStream) {
        self.members.borrow_mut().push(s.clone());
    }

    /// Forgets the members that have closed.
    fn leave_closed(&self) {
        self.members.borrow_mut().retain(|m| !m.closed());
    }

    /// Sends `line` to everyone.
    fn broadcast(&self, line: &[u8]) {
        let members: Vec<IOStream> = self.members.borrow().clone();
        for m in members {
            match m.write_owned(line.to_vec()) {
                Ok(()) => {
                    reactor::spawn(async move {
                        let _ = m.flush().await;
                    });
                }
                Err(StreamError::BufferFull) => m.close(), // too slow: drop it
                Err(_) => {}
            }
        }
    }
}

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8889);
    let room = Rc::new(Room::default());
    Reactor::new()?.block_on(async move {
        let server = TcpServer::new(move |stream: IOStream, address: Address| {
            let room = room.clone();
            stream.set_max_write_buffer_size(1 << 20);
            room.join(&stream);
            room.broadcast(format!("* {address} joined\n").as_bytes());
            reactor::spawn(async move {
                while let Ok(line) = stream.read_until(b"\n", Some(4096)).await {
                    let mut msg = format!("{address}: ").into_bytes();
                    msg.extend_from_slice(&line);
                    room.broadcast(&msg);
                }
                stream.close();
                room.leave_closed();
                room.broadcast(format!("* {address} left\n").as_bytes());
            });
        });
        for addr in server.listen(port, Some("127.0.0.1"))? {
            eprintln!("chat server on {addr}");
        }
        std::future::pending::<()>().await;
        Ok(())
    })
}
