"""Helpers for callagent's integration tests (Python 3 stdlib + websockets 10).

Starting a server:
    with tempfile.TemporaryDirectory() as tmp:
        with start_server(tmp) as srv:          # $CALLAGENT_BIN serve --listen 127.0.0.1:0
            token = login(srv.url, srv.user, srv.password)
            room_url, room_id = create_room(srv.url, token)

    conformance_server(tmp) returns the server named by CALLAGENT_TEST_SERVER
    (+ CALLAGENT_TEST_USER, CALLAGENT_TEST_PASSWORD) when that is set, so the same
    expectations run against any implementation of the protocol (docs/protocol.md);
    else start_server().

HTTP: http_request(url, method, path, headers, body) -> Response (status,
    headers, body, header(), cookies()). No redirects are followed.
WebSocket (asyncio): ws_connect(), recv_json(), expect_silence(),
    expect_abnormal_close(); ws_url(base) turns http(s) into ws(s).
Cases: a tiny runner. Decorate functions with @case (sync or async), call
    run_cases(); each prints PASS/FAIL/SKIP with what was expected and what came,
    and the run ends with "N passed, N failed, N skipped". check()/check_eq()
    raise Failure.
Skips: skip(reason) prints the reason and exits 77 (meson's skip code); a case
    that cannot run here raises SkipCase(reason). Exit codes of run_cases():
    1 if any case failed; else 77 if any case skipped (the reasons listed: a
    run that left something out is not a pass); else 0. With
    CALLAGENT_TEST_NO_SKIP=1 (machines that must run everything) a skip is a
    failure (exit 1).
"""

import asyncio
import contextlib
import http.client
import inspect
import json
import os
import re
import select
import signal
import socket
import ssl
import subprocess
import sys
import time
import traceback
import urllib.parse
from datetime import datetime

SKIP = 77


def _no_skip():
    return os.environ.get("CALLAGENT_TEST_NO_SKIP", "") not in ("", "0")


def skip(reason):
    print(f"SKIP: {reason}", flush=True)
    if _no_skip():
        print("CALLAGENT_TEST_NO_SKIP is set: a skip is a failure here", flush=True)
        sys.exit(1)
    sys.exit(SKIP)


def _ensure_websockets():
    """Debian's python3-websockets lives in /usr/bin/python3's dist-packages.
    When another python3 (pyenv, venv) runs us, re-run with the system one."""
    try:
        import websockets  # noqa: F401
        return
    except ImportError:
        pass
    system = "/usr/bin/python3"
    if os.path.realpath(sys.executable) != os.path.realpath(system) and os.path.exists(system) \
            and not os.environ.get("CALLAGENT_HARNESS_REEXEC"):
        os.environ["CALLAGENT_HARNESS_REEXEC"] = "1"
        os.execv(system, [system] + sys.argv)
    skip("python3-websockets is not installed (apt-get install python3-websockets)")


_ensure_websockets()
import websockets  # noqa: E402
import websockets.exceptions  # noqa: E402

USER_ID_RE = re.compile(r"^user_[0-9a-f]{8}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# ---- failures and the case runner --------------------------------------------

class Failure(AssertionError):
    pass


class SkipCase(Exception):
    """Raised by a case that cannot run here: counted and printed as a skip,
    never as a pass."""


def check(cond, what, expected=None, got=None):
    if not cond:
        msg = what
        if expected is not None or got is not None:
            msg += f"\n    expected: {expected!r}\n    got:      {got!r}"
        raise Failure(msg)


def check_eq(got, expected, what):
    check(got == expected, what, expected, got)


def check_match(pattern, got, what):
    check(isinstance(got, str) and re.fullmatch(pattern, got) is not None, what,
          f"a string matching /{pattern}/", got)


_CASES = []


def case(fn):
    """Registers a test case (a plain or an async function)."""
    _CASES.append(fn)
    return fn


def run_cases(setup=None, teardown=None, cases=None):
    """Runs the registered cases in order. `setup()` may return a context passed
    to cases that take one argument; `teardown(ctx, failed)` runs at the end.
    Exits with 1 if any case failed, else 77 if any case skipped, else 0.

    CALLAGENT_TEST_CASES=name,name,... runs only those cases (a developer's
    filter while working on one of them; an unknown name is an error)."""
    try:
        ctx = setup() if setup else None
    except Failure as e:
        print(f"FAIL setup: {e}", flush=True)
        sys.exit(1)
    passed = failed = skipped = 0
    skips = []
    selected = list(cases or _CASES)
    only = [n for n in os.environ.get("CALLAGENT_TEST_CASES", "").split(",") if n]
    if only:
        unknown = sorted(set(only) - {fn.__name__ for fn in selected})
        if unknown:
            print(f"FAIL CALLAGENT_TEST_CASES names no case here: {', '.join(unknown)}", flush=True)
            sys.exit(1)
        selected = [fn for fn in selected if fn.__name__ in only]
    try:
        for fn in selected:
            name = fn.__name__
            t0 = time.monotonic()
            try:
                args = [ctx] if len(inspect.signature(fn).parameters) == 1 else []
                result = fn(*args)
                if inspect.iscoroutine(result):
                    asyncio.run(asyncio.wait_for(result, timeout=60))
                passed += 1
                print(f"PASS {name} ({time.monotonic() - t0:.2f} s)", flush=True)
            except SkipCase as e:
                skipped += 1
                skips.append((name, str(e)))
                print(f"SKIP {name}: {e}", flush=True)
            except Failure as e:
                failed += 1
                print(f"FAIL {name}: {e}", flush=True)
            except Exception:  # noqa: BLE001 - report and go on with the next case
                failed += 1
                print(f"FAIL {name}: unexpected exception\n{traceback.format_exc()}", flush=True)
    finally:
        if teardown:
            teardown(ctx, failed)
    print(f"{passed} passed, {failed} failed, {skipped} skipped", flush=True)
    if failed:
        sys.exit(1)
    if skips:
        print("not run here (so this test is a SKIP, not a pass):", flush=True)
        for name, reason in skips:
            print(f"  SKIP {name}: {reason}", flush=True)
        if _no_skip():
            print("CALLAGENT_TEST_NO_SKIP is set: a skip is a failure here", flush=True)
            sys.exit(1)
        sys.exit(SKIP)
    if not passed:
        print("FAIL: no case ran", flush=True)
        sys.exit(1)
    sys.exit(0)


# ---- the server under test ----------------------------------------------------

def callagent_bin():
    b = os.environ.get("CALLAGENT_BIN")
    if not b:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        b = os.path.join(root, "build", "callagent")
    if not os.access(b, os.X_OK):
        raise SystemExit(f"CALLAGENT_BIN '{b}' is not an executable (build it first)")
    return b


def warm_registry(path):
    """Makes a GStreamer registry at `path` (GST_REGISTRY) and returns the
    path: one registry for every agent of a run. Each agent has a HOME of
    its own (sealed_env), and a registry rebuilt per process costs 0.5-0.8 s
    of plugin scanning, which is not what a user's start costs."""
    subprocess.run(["gst-inspect-1.0", "webrtcbin"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=dict(os.environ, GST_REGISTRY=path), timeout=120)
    return path


def log_line_time(text, needle, day):
    """Wall-clock time (s since the epoch) of the first line of an agent's
    log that holds `needle` (lines start with the local time HH:MM:SS.mmm,
    on `day`); ValueError when there is none."""
    for line in text.splitlines():
        if needle in line:
            t = datetime.strptime(line.split(" ", 1)[0], "%H:%M:%S.%f").time()
            return datetime.combine(day, t).timestamp()
    raise ValueError(f"no log line with '{needle}'")


def sealed_env(tmpdir, extra=None):
    """An environment with HOME and the XDG dirs inside tmpdir, and no
    CALLAGENT_* settings leaking in from the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLAGENT_")}
    home = os.path.join(tmpdir, "home")
    dirs = {
        "HOME": home,
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
        "XDG_STATE_HOME": os.path.join(home, ".local", "state"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "XDG_RUNTIME_DIR": os.path.join(tmpdir, "run"),
        "TMPDIR": os.path.join(tmpdir, "tmp"),
    }
    for d in dirs.values():
        os.makedirs(d, mode=0o700, exist_ok=True)
    env.update(dirs)
    env.pop("http_proxy", None)
    env.pop("https_proxy", None)
    env.pop("HTTP_PROXY", None)
    env.pop("HTTPS_PROXY", None)
    env["NO_PROXY"] = "*"
    if extra:
        env.update(extra)
    return env


class Server:
    """A running server: url (e.g. http://127.0.0.1:34567), proc (None when
    external), user, password, and where its stderr goes."""

    def __init__(self, url, proc, user, password, stderr_path=None, stdout_lines=None):
        self.url = url
        self.proc = proc
        self.user = user
        self.password = password
        self.stderr_path = stderr_path
        self.stdout_lines = stdout_lines or []

    @property
    def external(self):
        return self.proc is None

    @property
    def ws(self):
        return ws_url(self.url)

    def stderr(self):
        if not self.stderr_path:
            return ""
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signals the server and returns its exit code (kills it after `timeout`)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure(f"server did not exit within {timeout} s of signal {sig}")
        if self.proc.stdout:
            self.proc.stdout.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        return False


def _read_line(stream, deadline):
    buf = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        ch = os.read(stream.fileno(), 1)
        if not ch:
            break
        if ch == b"\n":
            return buf.decode()
        buf += ch
    return None


def start_server(tmpdir, extra_args=(), env=None, user="admin", password="test-password-1",
                 db=None, stdout_lines=1, timeout=10, name="server"):
    """Starts `callagent serve --listen 127.0.0.1:0` in a sealed environment
    (password in CALLAGENT_PASSWORD unless None) and waits for its URL, the
    first line of its stdout. Reads `stdout_lines` lines in all."""
    full_env = sealed_env(tmpdir)
    if password is not None:
        full_env["CALLAGENT_PASSWORD"] = password
    if env:
        full_env.update(env)
    args = [callagent_bin(), "serve", "--listen", "127.0.0.1:0", "--user", user]
    if db is not False:
        args += ["--db", db or os.path.join(tmpdir, "rooms.db")]
    args += list(extra_args)
    stderr_path = os.path.join(tmpdir, f"{name}-{int(time.monotonic() * 1000)}.stderr")
    errf = open(stderr_path, "w")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=errf, stdin=subprocess.DEVNULL,
                            env=full_env, cwd=tmpdir)
    errf.close()
    deadline = time.monotonic() + timeout
    lines = []
    for _ in range(stdout_lines):
        line = _read_line(proc.stdout, deadline)
        if line is None:
            break
        lines.append(line)
    if not lines or not re.match(r"^https?://", lines[0]):
        proc.kill()
        proc.wait()
        with open(stderr_path, errors="replace") as f:
            err = f.read()
        raise Failure(f"server did not print its URL (exit code {proc.returncode})\n"
                      f"    args: {args}\n    stdout: {lines}\n    stderr:\n{err}")
    return Server(lines[0].strip(), proc, user, password, stderr_path, lines)


def conformance_server(tmpdir, **kwargs):
    """The server named by CALLAGENT_TEST_SERVER, or a fresh one of ours."""
    url = os.environ.get("CALLAGENT_TEST_SERVER")
    if url:
        return Server(url.rstrip("/"), None, os.environ.get("CALLAGENT_TEST_USER", "admin"),
                      os.environ.get("CALLAGENT_TEST_PASSWORD", ""))
    return start_server(tmpdir, **kwargs)


# ---- HTTP -----------------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body        # str

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def cookie(self, name="auth_token"):
        """The Set-Cookie line that sets `name`, or None."""
        for v in self.all("Set-Cookie"):
            if v.split("=", 1)[0].strip() == name:
                return v
        return None

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.headers} {self.body[:200]!r}>"


def _ssl_context(cafile=None):
    ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
    return ctx


def http_request(url, method, path, headers=None, body=None, cafile=None, timeout=10,
                 source_address=None):
    """One request on a fresh connection. `body` may be str, bytes or a
    JSON-able dict/list. `source_address` ("127.0.0.2", 0) poses as another
    client on loopback."""
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=timeout,
                                           context=_ssl_context(cafile),
                                           source_address=source_address)
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout,
                                          source_address=source_address)
    hdrs = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        hdrs.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode()
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read().decode(errors="replace")
        return Response(r.status, r.getheaders(), data)
    finally:
        conn.close()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def cookie(token):
    return {"Cookie": f"auth_token={token}"}


def login(url, user, password, headers=None, cafile=None):
    """POST /login; returns the token (raises Failure when login fails)."""
    r = http_request(url, "POST", "/login", headers=headers,
                     body={"username": user, "password": password}, cafile=cafile)
    check_eq(r.status, 200, f"POST /login as {user!r}: status (body {r.body!r})")
    data = r.json()
    check(data.get("success") is True and isinstance(data.get("token"), str) and data["token"],
          "POST /login answer", '{"success":true,"token":"…"}', r.body)
    return data["token"]


def create_room(url, token, headers=None, cafile=None):
    """GET /create; returns (room_url, room_id)."""
    h = bearer(token)
    h.update(headers or {})
    r = http_request(url, "GET", "/create", headers=h, cafile=cafile)
    check_eq(r.status, 200, f"GET /create: status (body {r.body!r})")
    room_url = r.body.strip()
    check("/room/" in room_url, "GET /create answer is a room URL", "…/room/<uuid>", room_url)
    return room_url, room_url.rsplit("/room/", 1)[1]


# ---- WebSocket --------------------------------------------------------------------

def ws_url(base):
    return re.sub(r"^http", "ws", base)


async def ws_connect(base_url, token=None, room=None, query=None, headers=None, cafile=None,
                     use_cookie=False):
    """Opens /ws?room=<room> (or /ws<query> when `query` is given, e.g. "" or
    "?room="). Auth with Bearer, or the cookie when use_cookie."""
    if query is None:
        query = "" if room is None else "?room=" + urllib.parse.quote(room)
    hdrs = dict(headers or {})
    if token:
        hdrs.update(cookie(token) if use_cookie else bearer(token))
    kwargs = {}
    if base_url.startswith("https"):
        kwargs["ssl"] = _ssl_context(cafile)
    return await websockets.connect(ws_url(base_url) + "/ws" + query, extra_headers=hdrs,
                                    open_timeout=10, close_timeout=2, compression=None,
                                    max_size=None, ping_interval=None, **kwargs)


async def recv_json(ws, timeout=5, what="a frame"):
    try:
        text = await asyncio.wait_for(ws.recv(), timeout)
    except asyncio.TimeoutError:
        raise Failure(f"waited {timeout} s for {what}, nothing came")
    except websockets.exceptions.ConnectionClosed as e:
        raise Failure(f"waited for {what}, the connection closed instead (code {e.code})")
    try:
        return json.loads(text)
    except ValueError:
        raise Failure(f"{what} is not JSON: {text!r}")


async def expect_silence(ws, seconds=0.4, what="no frame"):
    try:
        text = await asyncio.wait_for(ws.recv(), seconds)
    except asyncio.TimeoutError:
        return
    except websockets.exceptions.ConnectionClosed as e:
        raise Failure(f"expected {what}, the connection closed (code {e.code})")
    raise Failure(f"expected {what}\n    got: {text!r}")


async def expect_abnormal_close(ws, timeout=5, what="the connection"):
    """Expects the TCP connection to end without a close frame (code 1006)."""
    try:
        extra = await asyncio.wait_for(ws.recv(), timeout)
        raise Failure(f"expected {what} to be dropped (1006)\n    got another frame: {extra!r}")
    except asyncio.TimeoutError:
        raise Failure(f"expected {what} to be dropped (1006) within {timeout} s; it stayed open")
    except websockets.exceptions.ConnectionClosed as e:
        check(e.rcvd is None and e.code == 1006,
              f"{what} must end without a close frame", "code 1006, no close frame",
              f"code {e.code}, close frame {e.rcvd}")


async def expect_error_then_1006(base_url, token, expected_error, **connect_kwargs):
    ws = await ws_connect(base_url, token, **connect_kwargs)
    try:
        frame = await recv_json(ws, what=f'{{"error":"{expected_error}"}}')
        check_eq(frame, {"error": expected_error}, "error frame")
        await expect_abnormal_close(ws)
    finally:
        await ws.close()


async def join_pair(base_url, token, room, cafile=None):
    """Connects A then B to `room`. Returns (a, b, a_id, b_id): B's id from
    the server-made join A receives, A's id from the join B then sends (the
    relayed copy carries the receiver's id)."""
    a = await ws_connect(base_url, token, room, cafile=cafile)
    b = await ws_connect(base_url, token, room, cafile=cafile)
    server_join = await recv_json(a, what="the server-made join")
    b_id = server_join.get("user")
    await b.send(json.dumps({"type": "join", "room": room}))
    relayed = await recv_json(a, what="the relayed join")
    a_id = relayed.get("user")
    return a, b, a_id, b_id


@contextlib.contextmanager
def raw_socket(url, timeout=5):
    u = urllib.parse.urlsplit(url)
    s = socket.create_connection((u.hostname, u.port), timeout=timeout)
    try:
        yield s
    finally:
        s.close()
