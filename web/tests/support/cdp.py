"""A small driver for headless Chromium over the DevTools protocol (CDP), for the tests that
type into a demo's page (web/tests/chromium_demos.rs runs the scripts that use it).

Chromium starts with `--remote-debugging-port=0`; the port it picked and the browser's
WebSocket path are read from `DevToolsActivePort` in its fresh user-data dir. One `websockets`
connection to the browser carries every command; each page is a target attached with
`flatten`, its commands tagged with its session id.

    async with Chromium() as browser:
        page = await browser.new_page("http://127.0.0.1:8888/")
        await page.wait_for("document.readyState === 'complete'")
        await page.focus("#message")
        await page.insert_text("hello")
        await page.press_enter()
"""
import asyncio
import itertools
import json
import os
import shutil
import subprocess
import tempfile

from websockets.asyncio.client import connect

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
]


class CdpError(Exception):
    """A command failed, or a page's script threw."""


class Chromium:
    """A headless Chromium and its DevTools connection (an async context manager)."""

    def __init__(self, executable="chromium"):
        self.executable = executable
        self.ids = itertools.count(1)
        self.pending = {}
        self.profile = None
        self.process = None
        self.ws = None
        self.reader = None

    async def __aenter__(self):
        self.profile = tempfile.mkdtemp(prefix="cdp-profile-")
        self.process = subprocess.Popen(
            [self.executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port, path = await self._active_port()
        self.ws = await connect(f"ws://127.0.0.1:{port}{path}", max_size=None)
        self.reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc):
        if self.reader:
            self.reader.cancel()
        if self.ws:
            await self.ws.close()
        if self.process:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    async def _active_port(self, timeout=20):
        """The port and browser path Chromium wrote to `DevToolsActivePort`."""
        file = os.path.join(self.profile, "DevToolsActivePort")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self.process.poll() is not None:
                raise CdpError(f"chromium exited with {self.process.returncode}")
            try:
                with open(file) as f:
                    lines = f.read().split()
                if len(lines) >= 2:
                    return int(lines[0]), lines[1]
            except FileNotFoundError:
                pass
            await asyncio.sleep(0.05)
        raise CdpError("no DevToolsActivePort from chromium")

    async def _read(self):
        """Hands each command's answer to its waiter (events are not used)."""
        async for raw in self.ws:
            message = json.loads(raw)
            waiter = self.pending.pop(message.get("id"), None)
            if waiter and not waiter.done():
                waiter.set_result(message)

    async def send(self, method, session=None, timeout=10, **params):
        """Sends one command (to a page when `session` is given); returns its result."""
        id = next(self.ids)
        command = {"id": id, "method": method, "params": params}
        if session:
            command["sessionId"] = session
        waiter = asyncio.get_running_loop().create_future()
        self.pending[id] = waiter
        await self.ws.send(json.dumps(command))
        answer = await asyncio.wait_for(waiter, timeout)
        if "error" in answer:
            raise CdpError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    async def new_page(self, url):
        """Opens `url` in a new tab; returns its `Page`."""
        target = await self.send("Target.createTarget", url="about:blank")
        attached = await self.send(
            "Target.attachToTarget", targetId=target["targetId"], flatten=True
        )
        page = Page(self, attached["sessionId"])
        await page.send("Page.enable")
        await page.send("Runtime.enable")
        await page.send("Page.navigate", url=url)
        return page


class Page:
    """One tab: evaluate scripts in it, type into it."""

    def __init__(self, browser, session):
        self.browser = browser
        self.session = session

    async def send(self, method, **params):
        return await self.browser.send(method, session=self.session, **params)

    async def evaluate(self, expression):
        """The value of `expression` in the page (a promise is awaited)."""
        result = await self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise CdpError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression, timeout=10):
        """Waits until `expression` is truthy in the page; returns its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                value = await self.evaluate(expression)
            except CdpError:
                value = None  # the page may be navigating
            if value:
                return value
            if loop.time() > deadline:
                raise CdpError(f"timed out waiting for {expression}")
            await asyncio.sleep(0.05)

    async def focus(self, selector):
        """Brings the tab to the front and focuses the element `selector`."""
        await self.send("Page.bringToFront")
        await self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")

    async def insert_text(self, text):
        """Types `text` into the focused element, as an input method would."""
        await self.send("Input.insertText", text=text)

    async def press_enter(self):
        """Presses and releases Enter (a form with a submit button is submitted)."""
        key = dict(key="Enter", code="Enter", windowsVirtualKeyCode=13, nativeVirtualKeyCode=13)
        await self.send("Input.dispatchKeyEvent", type="keyDown", text="\r", **key)
        await self.send("Input.dispatchKeyEvent", type="keyUp", **key)
