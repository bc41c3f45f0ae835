"""Python `websockets` clients of the WebSocket chat demo (web/examples/websocket, Tornado's
demos/websocket), run by web/tests/websocket_chat_demo.rs with the server's port. Prints one
`name result` line per check (the Rust test compares them), or `skipped: ...` if `websockets`
is not installed.
"""
import asyncio
import html
import json
import sys
import urllib.request

try:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed
except ImportError:
    print("skipped: python3 websockets missing (pip install websockets)")
    sys.exit(0)

PORT = int(sys.argv[1])
URL = f"ws://127.0.0.1:{PORT}/chatsocket"


def connect_chat():
    # No bound on unread messages: `a` never reads the 205 it sends, and a paused reader
    # would not see the close handshake's answer (websockets then waits 10 s).
    return connect(URL, max_queue=None)


def check(name, ok):
    print(name, ok, flush=True)


async def receive(ws):
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def main():
    async with connect_chat() as a, connect_chat() as b:
        check("deflate", [e.name for e in a.protocol.extensions] == ["permessage-deflate"])
        # A message from one reaches both, with the same id and html.
        await a.send(json.dumps({"body": "hello <b>you</b>", "_xsrf": "ignored"}))
        got_a, got_b = await receive(a), await receive(b)
        check("same_message", got_a == got_b)
        check("body", got_a["body"] == "hello <b>you</b>")
        check(
            "html",
            got_a["html"]
            == f'<div class="message" id="m{got_a["id"]}">hello &lt;b&gt;you&lt;/b&gt;</div>',
        )
        check("uuid4", len(got_a["id"]) == 36 and got_a["id"][14] == "4")

        # A newcomer is sent the cache first.
        async with connect_chat() as c:
            check("newcomer_gets_cache", await receive(c) == got_a)

            # A malformed message closes that socket only, with 1008.
            async with connect_chat() as bad:
                await bad.send("this is not JSON")
                try:
                    await receive(bad)  # the cache
                    await asyncio.wait_for(bad.recv(), 5)
                    check("malformed_closed", "no close")
                except ConnectionClosed as e:
                    check("malformed_closed", e.rcvd.code if e.rcvd else None)
            async with connect_chat() as bad:
                await receive(bad)
                await bad.send(json.dumps({"text": "no body"}))
                try:
                    await asyncio.wait_for(bad.recv(), 5)
                    check("no_body_closed", "no close")
                except ConnectionClosed as e:
                    check("no_body_closed", e.rcvd.code if e.rcvd else None)

            async with connect_chat() as bad:
                await receive(bad)
                await bad.send(b'{"body": "binary"}')
                try:
                    await asyncio.wait_for(bad.recv(), 5)
                    check("binary_closed", "no close")
                except ConnectionClosed as e:
                    check("binary_closed", e.rcvd.code if e.rcvd else None)

            # Everyone else chats on.
            await b.send(json.dumps({"body": "still here"}))
            got = [await receive(ws) for ws in (a, b, c)]
            check("others_keep_working", all(g["body"] == "still here" for g in got) and got[0] == got[1] == got[2])

        # The page shows the cache too (Tornado's way), escaped.
        page = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/", timeout=5).read().decode()
        check("page_shows_cache", f'id="m{got_a["id"]}">{html.escape("hello <b>you</b>", quote=False)}' in page)

        # The cache keeps the last 200 messages.
        for i in range(205):
            await a.send(json.dumps({"body": f"n{i}"}))
        for _ in range(205):
            last = await receive(b)
        check("all_delivered", last["body"] == "n204")
        async with connect_chat() as late:
            cached = [await receive(late) for _ in range(200)]
            check("cache_is_last_200", [m["body"] for m in cached] == [f"n{i}" for i in range(5, 205)])
            try:
                extra = await asyncio.wait_for(late.recv(), 0.3)
                check("nothing_more", extra)
            except asyncio.TimeoutError:
                check("nothing_more", True)


asyncio.run(main())
