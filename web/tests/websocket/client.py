"""The Python `websockets` library as a client of the demo's /ws/echo and /ws/panic.

Run by web/tests/websocket_python.rs with the server's port; prints one `name result` line per
check (the Rust test compares them), or `skipped: ...` if `websockets` is not installed.
"""
import asyncio
import os
import sys

try:
    import websockets
    from websockets.asyncio.client import connect
except ImportError:
    print("skipped: python3 websockets missing (pip install websockets)")
    sys.exit(0)

PORT = int(sys.argv[1])
URL = f"ws://127.0.0.1:{PORT}/ws/echo"


def mask(payload: bytes, key: bytes = b"\x01\x02\x03\x04") -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def frame(opcode: int, payload: bytes, fin: bool = True, rsv: int = 0) -> bytes:
    """A masked client frame written by hand (payload < 126 bytes)."""
    assert len(payload) < 126
    return bytes([(0x80 if fin else 0) | rsv | opcode, 0x80 | len(payload)]) + b"\x01\x02\x03\x04" + mask(payload)


async def closed_with(raw: bytes) -> str:
    """Sends raw bytes on an open connection; returns the close code the server sent."""
    async with connect(URL, compression=None) as ws:
        ws.transport.write(raw)
        try:
            await asyncio.wait_for(ws.recv(), 5)
            return "no close"
        except websockets.ConnectionClosed as e:
            return str(e.rcvd.code) if e.rcvd else "no close frame"


async def main() -> None:
    async with connect(URL, compression=None, max_size=None) as ws:
        await ws.send("héllo, wörld")
        print("text", repr(await ws.recv()) == repr("héllo, wörld"))
        await ws.send(b"\x00\xffbinary")
        got = await ws.recv()
        print("binary", isinstance(got, bytes) and got == b"\x00\xffbinary")
        big = os.urandom(4 << 20)
        await ws.send(big)
        print("large", await ws.recv() == big)
        await ws.send(["frag", "mented ", "text"])
        print("fragmented", await ws.recv() == "fragmented text")
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 5)
        print("ping", True)
        await ws.close(4001, "done")
        print("close", ws.close_code == 4001)
    async with connect(URL, compression="deflate", max_size=None) as ws:
        ext = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        print("deflate", ext.startswith("permessage-deflate"))
        text = "compressible " * 10000
        await ws.send(text)
        first = await ws.recv()
        await ws.send(text)
        print("deflate_echo", first == text and await ws.recv() == text)
    # An empty close frame is echoed empty (websockets reports that as 1005).
    print("close_no_code", await closed_with(frame(0x8, b"")))
    # Bad frames: each closed with the codec's code.
    print("reserved_bits", await closed_with(frame(0x1, b"x", rsv=0x40)))
    print("reserved_opcode", await closed_with(frame(0x3, b"x")))
    print("fragmented_ping", await closed_with(frame(0x9, b"x", fin=False)))
    print("bad_close_code", await closed_with(frame(0x8, b"\x03\xec")))  # 1004
    print("invalid_utf8", await closed_with(frame(0x1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80")))
    print("unmasked", await closed_with(b"\x81\x01x"))
    async with connect(URL, compression=None, max_size=None) as ws:
        try:
            await ws.send(b"x" * (10 * 1024 * 1024 + 1))
            await asyncio.wait_for(ws.recv(), 10)
            print("too_big", "no close")
        except websockets.ConnectionClosed as e:
            print("too_big", e.rcvd.code if e.rcvd else "no close frame")
    async with connect(f"ws://127.0.0.1:{PORT}/ws/panic") as ws:
        await ws.send("boom")
        try:
            await asyncio.wait_for(ws.recv(), 5)
            print("panic", "no close")
        except websockets.ConnectionClosed as e:
            print("panic", e.rcvd.code if e.rcvd else "no close frame")
    async with connect(URL) as ws:
        await ws.send("still serving")
        print("after_panic", await ws.recv() == "still serving")


asyncio.run(main())
