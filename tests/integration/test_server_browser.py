#!/usr/bin/env python3
"""The server's pages in a real browser (headless Chromium, driven over the
DevTools protocol): / sends a browser to /login, the login form logs in and
the HttpOnly cookie carries the session, the home page's create button makes
a room and opens its call page, which joins the room over /ws, and /logout
ends the session. Skips (77) when Chromium is missing."""

import asyncio
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (  # noqa: E402
    Failure, case, check, check_eq, run_cases, sealed_env, skip, start_server, websockets)


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """Just enough of the DevTools protocol: evaluate JS in one page."""

    def __init__(self, ws):
        self.ws = ws
        self.ids = itertools.count(1)

    async def call(self, method, **params):
        msg_id = next(self.ids)
        await self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            reply = json.loads(await asyncio.wait_for(self.ws.recv(), 15))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise Failure(f"DevTools {method}: {reply['error']}")
                return reply.get("result", {})

    async def eval(self, expression):
        r = await self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                            awaitPromise=True)
        if "exceptionDetails" in r:
            raise Failure(f"JS error in {expression!r}: {r['exceptionDetails']}")
        return r["result"].get("value")

    async def wait_for(self, expression, what, timeout=10):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = await self.eval(expression)
                if last:
                    return last
            except Failure:
                pass  # the page is navigating
            await asyncio.sleep(0.1)
        raise Failure(f"waited {timeout} s for {what} ({expression}); last value {last!r}")

    async def goto(self, url):
        await self.call("Page.navigate", url=url)
        await asyncio.sleep(0.3)
        await self.wait_for("document.readyState === 'complete'", f"{url} to load")


class Ctx:
    pass


def setup():
    chromium = find_chromium()
    if not chromium:
        skip("Chromium is not installed (apt-get install chromium)")
    c = Ctx()
    c.tmp = tempfile.mkdtemp(prefix="callagent-browser-")
    c.srv = start_server(c.tmp)
    env = sealed_env(c.tmp)
    c.chrome = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", "--disable-background-networking", "--disable-sync",
         "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
         f"--user-data-dir={os.path.join(c.tmp, 'chrome')}", "about:blank"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 30
    c.devtools = None
    while time.monotonic() < deadline and c.devtools is None:
        line = c.chrome.stderr.readline().decode(errors="replace")
        if not line and c.chrome.poll() is not None:
            break
        m = re.search(r"DevTools listening on (ws://127\.0\.0\.1:(\d+)/\S+)", line)
        if m:
            c.devtools = int(m.group(2))
    if c.devtools is None:
        c.chrome.kill()
        raise SystemExit("Chromium did not start its DevTools endpoint")
    return c


def teardown(c, failed):
    if c is None:
        return
    c.chrome.terminate()
    try:
        c.chrome.wait(10)
    except subprocess.TimeoutExpired:
        c.chrome.kill()
        c.chrome.wait()
    rc = c.srv.stop()
    if failed or rc != 0:
        print(f"# server exit code {rc}; stderr (tail):\n" + "\n".join(c.srv.stderr().splitlines()[-30:]))
    shutil.rmtree(c.tmp, ignore_errors=True)


@case
async def login_create_room_logout_in_a_browser(c):
    targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{c.devtools}/json/list", timeout=10))
    page = next(t for t in targets if t.get("type") == "page")
    async with websockets.connect(page["webSocketDebuggerUrl"], max_size=None, ping_interval=None,
                                  compression=None) as ws:
        b = Browser(ws)
        await b.call("Page.enable")
        await b.goto(c.srv.url + "/")
        check_eq(await b.eval("location.pathname"), "/login", "/ without a session sends a browser to")

        await b.eval(f"""(() => {{
            const f = document.getElementById('login');
            f.username.value = {json.dumps(c.srv.user)};
            f.password.value = 'wrong';
            f.requestSubmit(); }})()""")
        msg = await b.wait_for("document.getElementById('error').textContent", "the error text")
        check_eq(msg, "Invalid credentials", "a wrong password shows the server's message")

        await b.eval(f"""(() => {{
            const f = document.getElementById('login');
            f.password.value = {json.dumps(c.srv.password)};
            f.requestSubmit(); }})()""")
        await b.wait_for("location.pathname === '/' && !!document.getElementById('create')",
                         "the home page after login")
        check_eq(await b.eval("document.cookie"), "", "the session cookie is HttpOnly (not visible to JS)")

        await b.eval("document.getElementById('create').click()")
        path = await b.wait_for("location.pathname.startsWith('/room/') && location.pathname",
                                "a room page after create")
        check(re.fullmatch(r"/room/[0-9a-f-]{36}", path) is not None, "room page path",
              "/room/<uuid>", path)
        # The call page opens its WebSocket to the room (the server logs the join).
        room = path.rsplit("/", 1)[1]
        deadline = time.monotonic() + 15
        while f"joined room {room}" not in c.srv.stderr() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        check(f"joined room {room}" in c.srv.stderr(), "the room page joins its room over /ws",
              f"server log: … joined room {room}", c.srv.stderr()[-500:])

        await b.goto(c.srv.url + "/logout")
        check_eq(await b.eval("location.pathname"), "/login", "logout lands on")
        await b.goto(c.srv.url + "/")
        check_eq(await b.eval("location.pathname"), "/login", "after logout / sends the browser to")


if __name__ == "__main__":
    run_cases(setup, teardown)
