"""The long-polling chat demo (web/examples/chat) in headless Chromium, through the CDP driver
(cdp.py): a message typed into one page reaches a Python long-poller and a second page (by its
own long poll). Run by web/tests/chromium_demos.rs with the server's port; prints one
`name result` line per check, or `skipped: ...`.
"""
import asyncio
import http.cookiejar
import json
import os
import sys
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    from cdp import Chromium
except ImportError:
    print("skipped: python3 websockets missing (pip install websockets)")
    sys.exit(0)

BASE = f"http://127.0.0.1:{int(sys.argv[1])}"
TEXT = "typed in Chromium <3"


def check(name, ok):
    print(name, ok, flush=True)


def long_poll():
    """Tornado's way: the page's cookie, then POST /a/message/updates until news comes."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(BASE + "/", timeout=10).read()
    xsrf = next(c.value for c in jar if c.name == "_xsrf")
    data = urllib.parse.urlencode({"_xsrf": xsrf}).encode()
    return json.loads(opener.open(BASE + "/a/message/updates", data, timeout=30).read())


def inbox_has(text):
    return f"document.getElementById('inbox').textContent.includes({json.dumps(text)})"


async def main():
    poller = asyncio.create_task(asyncio.to_thread(long_poll))
    async with Chromium() as browser:
        typer = await browser.new_page(BASE + "/")
        watcher = await browser.new_page(BASE + "/")
        for page in (typer, watcher):
            await page.wait_for("document.readyState === 'complete'")
        await typer.focus("#message")
        await typer.insert_text(TEXT)
        await typer.press_enter()
        answer = await asyncio.wait_for(poller, 20)
        check("long_poller", answer["messages"][-1]["body"] == TEXT)
        check("second_page", await watcher.wait_for(inbox_has(TEXT)))
        check("first_page", await typer.wait_for(inbox_has(TEXT)))
        check("input_cleared", await typer.evaluate("document.getElementById('message').value") == "")
        # Shown once, though the typing page got it both from its POST and from its poll.
        count = "document.querySelectorAll('#inbox .message').length"
        check("shown_once", await typer.evaluate(count) == 1 and await watcher.evaluate(count) == 1)


asyncio.run(main())
