"""The WebSocket chat demo (web/examples/websocket) in headless Chromium, through the CDP driver
(cdp.py): a message typed into one page appears in another page and reaches a Python
`websockets` client. Run by web/tests/chromium_demos.rs with the server's port; prints one
`name result` line per check, or `skipped: ...`.
"""
import asyncio
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    from cdp import Chromium
    from websockets.asyncio.client import connect
except ImportError:
    print("skipped: python3 websockets missing (pip install websockets)")
    sys.exit(0)

PORT = int(sys.argv[1])
BASE = f"http://127.0.0.1:{PORT}"
TEXT = "typed in Chromium <3"


def check(name, ok):
    print(name, ok, flush=True)


def inbox_has(text):
    return f"document.getElementById('inbox').textContent.includes({json.dumps(text)})"


async def main():
    async with Chromium() as browser, connect(f"ws://127.0.0.1:{PORT}/chatsocket") as client:
        typer = await browser.new_page(BASE + "/")
        watcher = await browser.new_page(BASE + "/")
        for page in (typer, watcher):
            await page.wait_for("updater.socket && updater.socket.readyState === WebSocket.OPEN")
        await typer.focus("#message")
        await typer.insert_text(TEXT)
        await typer.press_enter()
        check("second_page", await watcher.wait_for(inbox_has(TEXT)))
        check("first_page", await typer.wait_for(inbox_has(TEXT)))
        message = json.loads(await asyncio.wait_for(client.recv(), 10))
        check("python_client", message["body"] == TEXT)
        check("input_cleared", await typer.evaluate("document.getElementById('message').value") == "")
        check("escaped", await watcher.evaluate("document.querySelector('#inbox b') === null"))


asyncio.run(main())
