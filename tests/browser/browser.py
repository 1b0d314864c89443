"""Headless Chromium driven over the DevTools protocol (CDP), for tests that
put the messenger's call page (served by `callagent serve`) in a call with
`callagent join`.

    import callnet                       # private network namespace first
    from browser import Chromium, chromium_or_skip
    with Chromium(tmp) as chrome:        # Debian's /usr/bin/chromium, fresh profile
        page = chrome.new_page()
        page.set_auth_cookie(srv.url, token)
        page.goto(room_url + "?ice=none&video=480p")
        page.wait_for("window.callagentPage && callagentPage.state().connectedAt", 20)
        stats = page.evaluate("callagentPage.stats()")   # promises are awaited

Why CDP and not playwright: the tests already run in Python (harness.py,
callnet.py: servers, agents, the network namespace); Debian's
python3-websockets is all a CDP client needs, so nothing is downloaded from
a registry at test time and no browser build is ever fetched.

The DevTools endpoint listens on 127.0.0.1 inside the test's own network
namespace; the port comes from the profile's DevToolsActivePort file.
"""

import asyncio
import itertools
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request

from harness import Failure, sealed_env, skip

import websockets

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")

# The flags measured for loopback calls (docs/measurements.md, "ICE on
# loopback"): headless, fake camera/microphone granted without
# a prompt, candidates on loopback, nothing that talks to the internet.
BASE_FLAGS = [
    "--headless=new", "--no-sandbox",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-quic",
    "--disable-extensions", "--disable-default-apps", "--mute-audio",
    "--autoplay-policy=no-user-gesture-required",
    # Background tabs must not be throttled: two pages of one browser may
    # be in calls at once.
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
    "--remote-allow-origins=*",
    "--window-size=1280,800",
]


def chromium_path():
    env = os.environ.get("CALLAGENT_CHROMIUM")
    if env:
        return env if os.access(env, os.X_OK) else None
    for p in CHROMIUM_CANDIDATES:
        if os.access(p, os.X_OK):
            return p
    return shutil.which("chromium")


def chromium_or_skip():
    p = chromium_path()
    if not p:
        skip("chromium is not installed (apt-get install chromium): browser interop tests need it")
    return p


class _Loop:
    """One asyncio loop on a thread, shared by every CDP connection, so that
    the tests themselves stay plain synchronous code."""

    _instance = None

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    @classmethod
    def get(cls):
        if cls._instance is None:
            cls._instance = _Loop()
        return cls._instance

    def run(self, coro, timeout):
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result(timeout)
        except TimeoutError:
            fut.cancel()
            raise


class CdpError(Failure):
    pass


class _Connection:
    """A CDP WebSocket: numbered commands, answers matched by id, events kept."""

    def __init__(self, ws_url):
        self.loop = _Loop.get()
        self.ids = itertools.count(1)
        self.pending = {}
        self.events = []
        self.listeners = []
        self.ws = self.loop.run(self._open(ws_url), 15)

    async def _open(self, url):
        ws = await websockets.connect(url, max_size=None, ping_interval=None, open_timeout=10,
                                      close_timeout=2, compression=None)
        asyncio.ensure_future(self._reader(ws))
        return ws

    async def _reader(self, ws):
        try:
            async for text in ws:
                msg = json.loads(text)
                if "id" in msg:
                    fut = self.pending.pop(msg["id"], None)
                    if fut and not fut.done():
                        fut.set_result(msg)
                else:
                    self.events.append(msg)
                    if len(self.events) > 5000:
                        del self.events[:1000]
                    for fn in list(self.listeners):
                        fn(msg)
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(CdpError("DevTools connection closed"))
            self.pending.clear()

    async def _call(self, method, params, session):
        i = next(self.ids)
        fut = asyncio.get_running_loop().create_future()
        self.pending[i] = fut
        msg = {"id": i, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        await self.ws.send(json.dumps(msg))
        return await fut

    def call(self, method, params=None, timeout=15, session=None):
        try:
            msg = self.loop.run(self._call(method, params, session), timeout)
        except TimeoutError:
            raise CdpError(f"DevTools {method}: no answer within {timeout} s")
        if "error" in msg:
            raise CdpError(f"DevTools {method}: {msg['error']}")
        return msg.get("result", {})

    def close(self):
        try:
            self.loop.run(self.ws.close(), 5)
        except Exception:  # noqa: BLE001 - the browser may be gone already
            pass


class Page:
    """One tab, reached through its own DevTools WebSocket."""

    def __init__(self, chrome, target_id, ws_url):
        self.chrome = chrome
        self.target_id = target_id
        self.conn = _Connection(ws_url)
        self.console = []
        self.conn.listeners.append(self._on_event)
        self.conn.call("Runtime.enable")
        self.conn.call("Page.enable")
        self.conn.call("Network.enable")
        # A background tab defers media playback (no frames rendered, no
        # resize event): tests look at the page a person would be looking at.
        self.conn.call("Page.bringToFront")

    def _on_event(self, msg):
        m = msg.get("method")
        if m == "Runtime.consoleAPICalled":
            args = msg["params"].get("args", [])
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in args)
            self.console.append(f"{time.strftime('%H:%M:%S')} console.{msg['params'].get('type')}: {text}")
        elif m == "Runtime.exceptionThrown":
            d = msg["params"].get("exceptionDetails", {})
            self.console.append(f"{time.strftime('%H:%M:%S')} exception: "
                                f"{d.get('exception', {}).get('description', d.get('text'))}")

    def set_auth_cookie(self, base_url, token):
        """Logs the browser in as /login would (the auth_token cookie)."""
        u = urllib.parse.urlsplit(base_url)
        self.conn.call("Network.setCookie", {
            "name": "auth_token", "value": token, "domain": u.hostname, "path": "/",
            "httpOnly": True, "sameSite": "Lax"})

    def goto(self, url, timeout=20):
        r = self.conn.call("Page.navigate", {"url": url}, timeout=timeout)
        if r.get("errorText"):
            raise Failure(f"navigating to {url}: {r['errorText']}")
        self.wait_for("document.readyState === 'complete'", timeout, f"{url} loaded")

    def reload(self, timeout=20):
        self.conn.call("Page.reload", {"ignoreCache": True}, timeout=timeout)
        time.sleep(0.2)
        self.wait_for("document.readyState === 'complete'", timeout, "the reloaded page")

    def evaluate(self, expression, timeout=15):
        """The value of a JS expression (a promise is awaited)."""
        r = self.conn.call("Runtime.evaluate", {
            "expression": expression, "awaitPromise": True, "returnByValue": True,
            "timeout": int(timeout * 1000)}, timeout=timeout + 2)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise Failure(f"JS {expression!r} threw: "
                          f"{d.get('exception', {}).get('description', d.get('text'))}")
        return r.get("result", {}).get("value")

    def wait_for(self, expression, timeout=20, what=None, interval=0.1):
        """Polls a JS expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        last_err = None
        while time.monotonic() < deadline:
            try:
                v = self.evaluate(expression)
                if v:
                    return v
            except Failure as e:  # e.g. during a navigation
                last_err = e
            time.sleep(interval)
        raise Failure(f"page: {what or expression} not true within {timeout} s"
                      + (f" (last error: {last_err})" if last_err else "") + "\n" + self.diagnostics())

    def url(self):
        return self.evaluate("location.href")

    def screenshot(self, path):
        import base64
        r = self.conn.call("Page.captureScreenshot", {"format": "png"}, timeout=20)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def diagnostics(self):
        """The page's wire log and events, for failure messages."""
        try:
            data = self.evaluate("window.callagentPage ? JSON.stringify({state: callagentPage.state(), "
                                 "wire: callagentPage.wire, events: callagentPage.events}) : null")
        except Failure as e:
            return f"(no page diagnostics: {e})"
        if not data:
            return "(page has no callagentPage hook)\n" + "\n".join(self.console[-20:])
        d = json.loads(data)
        lines = [f"--- page state: {json.dumps(d['state'])}", "--- page timeline:"]
        t0 = None
        merged = [(w["t"], f"{w['dir']:>3} {w['type']:<13} {w['user']:<14} {w['summary'][:110]}")
                  for w in d["wire"]] + [(e["t"], f"  * {e['text']}") for e in d["events"]]
        for t, text in sorted(merged, key=lambda x: x[0])[-80:]:
            t0 = t0 or t
            lines.append(f"  {(t - t0) / 1000:7.3f} {text}")
        return "\n".join(lines)

    def close(self):
        try:
            self.conn.call("Page.close", timeout=5)
        except Failure:
            pass
        self.conn.close()


class Chromium:
    """A headless Chromium with a fresh profile and its own HOME/XDG dirs."""

    name = "chromium"

    def __init__(self, tmp, name="chromium", extra_flags=(), drop_flags=()):
        self.path = chromium_or_skip()
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.profile = os.path.join(self.dir, "profile")
        os.makedirs(self.profile, exist_ok=True)
        # A profile reused by a second browser must not hand it the first
        # one's DevTools port.
        try:
            os.unlink(os.path.join(self.profile, "DevToolsActivePort"))
        except FileNotFoundError:
            pass
        env = sealed_env(self.dir)
        flags = [f for f in BASE_FLAGS if f not in drop_flags] + list(extra_flags)
        self.args = [self.path] + flags + [f"--user-data-dir={self.profile}", "about:blank"]
        self.log_path = os.path.join(self.dir, "chromium.log")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, cwd=self.dir,
                                     start_new_session=True)
        self.port = self._wait_port()
        self.pages = []

    def _wait_port(self, timeout=30):
        f = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with open(f) as fh:
                    lines = fh.read().split("\n")
                if len(lines) >= 2 and lines[0].strip().isdigit() and lines[1].strip():
                    self.browser_path = lines[1].strip()
                    return int(lines[0])
            except OSError:
                pass
            time.sleep(0.05)
        self.close()
        with open(self.log_path, errors="replace") as fh:
            log = fh.read()[-3000:]
        raise Failure(f"chromium did not start its DevTools endpoint (exit code {self.proc.poll()})\n{log}")

    def _http(self, method, path):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read().decode())

    def new_page(self, url="about:blank"):
        t = self._http("PUT", "/json/new?" + urllib.parse.quote(url, safe=":/?&=%"))
        p = Page(self, t["id"], t["webSocketDebuggerUrl"])
        self.pages.append(p)
        return p

    def browser_connection(self):
        """The browser-wide DevTools session (permissions, targets)."""
        if getattr(self, "_browser_conn", None) is None:
            self._browser_conn = _Connection(f"ws://127.0.0.1:{self.port}{self.browser_path}")
        return self._browser_conn

    def pids(self):
        """The browser's whole process tree (for the benchmark)."""
        out = subprocess.run(["ps", "-e", "-o", "pid=,sid="], capture_output=True, text=True).stdout
        return [int(p) for p, s in (line.split() for line in out.splitlines())
                if int(s) == self.proc.pid]

    def close(self):
        for p in getattr(self, "pages", []):
            p.conn.close()
        if getattr(self, "_browser_conn", None) is not None:
            self._browser_conn.close()
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # Children of the session that outlived the browser process.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if not self._log.closed:
            self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# ---- Firefox ----------------------------------------------------------------
#
# Debian's Firefox ESR driven over WebDriver BiDi, the W3C protocol it
# speaks on --remote-debugging-port (the same WebSocket client as CDP: no
# geckodriver, nothing downloaded). What a loopback-only namespace needs,
# measured: camera and microphone allowed by pref (without that permission
# Firefox gathers no ICE candidate at all here), loopback candidates on,
# fake media streams, a HOME of its own.

FIREFOX_CANDIDATES = ("/usr/bin/firefox-esr", "/usr/bin/firefox")

FIREFOX_PREFS = {
    "permissions.default.camera": 1,
    "permissions.default.microphone": 1,
    "media.navigator.permission.disabled": True,
    "media.navigator.streams.fake": True,
    "media.peerconnection.ice.loopback": True,
    "media.autoplay.default": 0,
    "media.volume_scale": "0.0",
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.enabled": False,
    "app.update.auto": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "extensions.update.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "dom.min_background_timeout_value": 4,
}


def firefox_path():
    for p in FIREFOX_CANDIDATES:
        if os.access(p, os.X_OK):
            return p
    return None


def firefox_or_skip():
    p = firefox_path()
    if not p:
        skip("no firefox-esr (apt-get install firefox-esr)")
    return p


def _from_remote(v):
    """A BiDi RemoteValue as the plain JSON value CDP's returnByValue gives."""
    t = v.get("type")
    if t in ("undefined", "null"):
        return None
    if t in ("string", "boolean"):
        return v["value"]
    if t == "number":
        n = v["value"]
        return None if isinstance(n, str) else n  # NaN, Infinity, -0 come as strings
    if t == "bigint":
        return int(v["value"])
    if t in ("array", "set"):
        return [_from_remote(x) for x in v.get("value", [])]
    if t in ("object", "map"):
        out = {}
        for k, x in v.get("value", []):
            out[k if isinstance(k, str) else json.dumps(_from_remote(k))] = _from_remote(x)
        return out
    if t == "date":
        return v["value"]
    return None  # functions, nodes, windows: not values


class FirefoxPage:
    """One tab (a top-level browsing context), the Page API of the tests."""

    def __init__(self, ff, context):
        self.browser = ff
        self.conn = ff.conn
        self.context = context
        self.console = []
        ff.listeners[context] = self._on_event
        self.conn.call("browsingContext.activate", {"context": context})

    def _on_event(self, msg):
        if msg.get("method") == "log.entryAdded":
            p = msg["params"]
            self.console.append(f"{time.strftime('%H:%M:%S')} {p.get('type')}.{p.get('level')}: {p.get('text')}")

    def set_auth_cookie(self, base_url, token):
        u = urllib.parse.urlsplit(base_url)
        self.conn.call("storage.setCookie", {"cookie": {
            "name": "auth_token", "value": {"type": "string", "value": token}, "domain": u.hostname,
            "path": "/", "httpOnly": True, "sameSite": "lax"}})

    def goto(self, url, timeout=20):
        self.conn.call("browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"},
                       timeout=timeout)

    def reload(self, timeout=20):
        self.conn.call("browsingContext.reload", {"context": self.context, "wait": "complete"},
                       timeout=timeout)

    def evaluate(self, expression, timeout=15):
        r = self.conn.call("script.evaluate", {
            "expression": expression, "target": {"context": self.context}, "awaitPromise": True,
            "resultOwnership": "none", "serializationOptions": {"maxObjectDepth": 32}}, timeout=timeout + 2)
        if r.get("type") == "exception":
            d = r.get("exceptionDetails", {})
            raise Failure(f"JS {expression!r} threw: {d.get('text')}")
        return _from_remote(r.get("result", {}))

    wait_for = Page.wait_for
    url = Page.url
    diagnostics = Page.diagnostics

    def screenshot(self, path):
        import base64
        r = self.conn.call("browsingContext.captureScreenshot", {"context": self.context}, timeout=20)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def close(self):
        self.browser.listeners.pop(self.context, None)
        try:
            self.conn.call("browsingContext.close", {"context": self.context}, timeout=5)
        except Failure:
            pass


class Firefox:
    """A headless Firefox ESR with a fresh profile and its own HOME/XDG dirs."""

    name = "firefox"

    def __init__(self, tmp, name="firefox", prefs=None):
        self.path = firefox_or_skip()
        self.dir = os.path.join(tmp, name)
        self.profile = os.path.join(self.dir, "profile")
        os.makedirs(self.profile, exist_ok=True)
        with open(os.path.join(self.profile, "user.js"), "w") as f:
            for k, v in {**FIREFOX_PREFS, **(prefs or {})}.items():
                f.write(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n")
        env = sealed_env(self.dir)
        env["MOZ_HEADLESS"] = "1"
        self.args = [self.path, "--headless", "--no-remote", "--profile", self.profile,
                     "--remote-debugging-port", "0", "about:blank"]
        self.log_path = os.path.join(self.dir, "firefox.log")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, cwd=self.dir, start_new_session=True)
        self.conn = None
        self.listeners = {}
        self.pages = []
        url = self._wait_endpoint()
        self.conn = _Connection(url + "/session")
        self.conn.listeners.append(self._dispatch)
        self.conn.call("session.new", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": True}}}, timeout=60)
        self.conn.call("session.subscribe", {"events": ["log.entryAdded"]})
        tree = self.conn.call("browsingContext.getTree", {"maxDepth": 0})
        # The window's first tab stays open (closing the last would quit).
        self.first_context = tree["contexts"][0]["context"]

    def _wait_endpoint(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            with open(self.log_path, errors="replace") as fh:
                for line in fh:
                    if "WebDriver BiDi listening on " in line:
                        return line.split("listening on ", 1)[1].strip()
            time.sleep(0.1)
        self.close()
        with open(self.log_path, errors="replace") as fh:
            log = fh.read()[-3000:]
        raise Failure(f"firefox did not start its WebDriver BiDi endpoint (exit code {self.proc.poll()})\n{log}")

    def _dispatch(self, msg):
        ctx = msg.get("params", {}).get("source", {}).get("context")
        fn = self.listeners.get(ctx)
        if fn:
            fn(msg)

    def new_page(self, url="about:blank"):
        r = self.conn.call("browsingContext.create", {"type": "tab"})
        p = FirefoxPage(self, r["context"])
        if url != "about:blank":
            p.goto(url)
        self.pages.append(p)
        return p

    def pids(self):
        out = subprocess.run(["ps", "-e", "-o", "pid=,sid="], capture_output=True, text=True).stdout
        return [int(p) for p, s in (line.split() for line in out.splitlines()) if int(s) == self.proc.pid]

    def close(self):
        if self.conn is not None:
            try:
                self.conn.call("browser.close", {}, timeout=5)
            except Failure:
                pass
            self.conn.close()
        if self.proc.poll() is None:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        if not self._log.closed:
            self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
