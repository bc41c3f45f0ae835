"""RSS per idle WebSocket: opens N connections to a running server's /ws/echo (Python
`websockets`, no compression, no pings), echoes one message on each, waits a second, and prints
the server's `VmRSS` growth over N.

usage: python3 benches/ws_idle_rss.py PORT N PID   (PID: the server's; `ulimit -n` above N)
  target/release/examples/demo --port 8888 & python3 benches/ws_idle_rss.py 8888 2000 $!
"""
import asyncio
import sys

import websockets

PORT, N, PID = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])


def rss() -> int:
    """The server's resident set, in bytes."""
    with open(f"/proc/{PID}/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


async def main() -> None:
    before = rss()
    sockets = []
    for _ in range(N):
        ws = await websockets.connect(
            f"ws://127.0.0.1:{PORT}/ws/echo", compression=None, ping_interval=None
        )
        await ws.send("hello")
        assert await ws.recv() == "hello"
        sockets.append(ws)
    await asyncio.sleep(1)
    print(f"rss per idle websocket: {(rss() - before) / N:.0f} B ({N} connections)")
    for ws in sockets:
        await ws.close()


asyncio.run(main())
