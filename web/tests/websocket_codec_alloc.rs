//! Heap allocations of the WebSocket codec on warm buffers: a counting global allocator
//! (counting only on the test's thread) around reading and writing small messages, both
//! roles. The budget is 0 per message, fragmented or not, pings included; and 0 with
//! permessage-deflate when context takeover keeps the compressor (without takeover the
//! state is created per message by design: see `web/src/websocket/deflate.rs`).

use web::websocket::{
    Deflater, Event, FrameEncoder, Inflater, MessageReader, MessageWriter, Opcode, Role,
};

#[global_allocator]
static GLOBAL: testkit::alloc::Counting = testkit::alloc::Counting;

/// Allocations made on this thread while `f` runs.
fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = testkit::alloc::thread_allocations();
    f();
    testkit::alloc::thread_allocations() - before
}

/// One echo round: the client writes a text message, a fragmented binary message with a ping
/// between its fragments; the server reads them and writes each message back; the client reads
/// the echoes. Returns how many messages and control frames each side saw.
struct Pair {
    client_writer: MessageWriter<fn() -> [u8; 4]>,
    client_frames: FrameEncoder<fn() -> [u8; 4]>,
    server_reader: MessageReader,
    server_writer: MessageWriter,
    client_reader: MessageReader,
    to_server: Vec<u8>,
    to_client: Vec<u8>,
}

fn key() -> [u8; 4] {
    [0x37, 0xfa, 0x21, 0x3d]
}

impl Pair {
    fn new(deflate: bool) -> Pair {
        let deflater = || deflate.then(|| Deflater::new(6, 15, true));
        let reader = |role| match deflate {
            true => MessageReader::with_deflate(role, 1 << 20, Inflater::new(15, true)),
            false => MessageReader::new(role, 1 << 20),
        };
        Pair {
            client_writer: MessageWriter::client(key as fn() -> [u8; 4], deflater()),
            client_frames: FrameEncoder::client(key as fn() -> [u8; 4]),
            server_reader: reader(Role::Server),
            server_writer: MessageWriter::server(deflater()),
            client_reader: reader(Role::Client),
            to_server: Vec::with_capacity(4096),
            to_client: Vec::with_capacity(4096),
        }
    }

    fn round(&mut self) -> usize {
        self.to_server.clear();
        self.client_writer
            .write_message(&mut self.to_server, false, b"Hello, WebSocket");
        self.client_frames.encode(
            &mut self.to_server,
            Opcode::Binary,
            false,
            false,
            b"\x00\x01",
        );
        self.client_writer
            .write_ping(&mut self.to_server, b"ping")
            .unwrap();
        self.client_frames.encode(
            &mut self.to_server,
            Opcode::Continuation,
            true,
            false,
            b"\x02",
        );

        self.to_client.clear();
        let mut seen = 0;
        let mut pos = 0;
        loop {
            let decoded = self.server_reader.read(&mut self.to_server[pos..]).unwrap();
            pos += decoded.consumed;
            match decoded.event {
                None => break,
                Some(Event::Text(text)) => {
                    self.server_writer
                        .write_message(&mut self.to_client, false, text.as_bytes())
                }
                Some(Event::Binary(data)) => {
                    self.server_writer
                        .write_message(&mut self.to_client, true, data)
                }
                Some(Event::Ping(payload)) => self
                    .server_writer
                    .write_pong(&mut self.to_client, payload)
                    .unwrap(),
                Some(other) => panic!("unexpected {other:?}"),
            }
            seen += 1;
        }
        let mut pos = 0;
        loop {
            let decoded = self.client_reader.read(&mut self.to_client[pos..]).unwrap();
            pos += decoded.consumed;
            match decoded.event {
                None => break,
                Some(Event::Text(text)) => assert_eq!(text, "Hello, WebSocket"),
                Some(Event::Binary(data)) => assert_eq!(data, b"\x00\x01\x02"),
                Some(Event::Pong(payload)) => assert_eq!(payload, b"ping"),
                Some(other) => panic!("unexpected {other:?}"),
            }
            seen += 1;
        }
        seen
    }
}

#[test]
fn small_messages_on_warm_buffers_allocate_nothing() {
    let mut pair = Pair::new(false);
    for _ in 0..3 {
        assert_eq!(pair.round(), 6);
    }
    let allocations = allocations_during(|| {
        for _ in 0..1000 {
            assert_eq!(pair.round(), 6);
        }
    });
    assert_eq!(
        allocations, 0,
        "allocations in 1000 rounds of 3 messages each way"
    );
}

#[test]
fn compressed_messages_with_context_takeover_allocate_nothing_after_warm_up() {
    let mut pair = Pair::new(true);
    for _ in 0..3 {
        assert_eq!(pair.round(), 6);
    }
    let allocations = allocations_during(|| {
        for _ in 0..1000 {
            assert_eq!(pair.round(), 6);
        }
    });
    assert_eq!(allocations, 0, "allocations in 1000 compressed rounds");
}

#[test]
fn the_counter_sees_allocations() {
    // The instrument itself: a cold reader allocates its message buffer for a fragmented
    // message (a whole one-frame message is handed out from the wire's bytes, not copied).
    let mut reader = MessageReader::new(Role::Client, 100);
    let mut wire = *b"\x02\x01a\x80\x02bc";
    let n = allocations_during(|| {
        assert!(reader.read(&mut wire).unwrap().event.is_some());
    });
    assert!(n >= 1, "{n}");
}
