#!/usr/bin/env python3
"""Operations of a long-running agent and server: the systemd notification
protocol and the Prometheus endpoint, for real.

Each process gets NOTIFY_SOCKET (a datagram socket of this test's) and
WATCHDOG_USEC; the test sees READY=1 only once the agent is in the room (and
the server listens), STATUS= lines that follow the call, WATCHDOG=1 again and
again, STOPPING=1 at the end. `--metrics` is scraped twice during a real
agent <-> agent call on the built-in server, and on `serve`: every line is a
valid sample or comment, every family has HELP and TYPE, counters do not go
back between the scrapes, and docs/metrics.md lists exactly the families
served.
"""

import os
import re
import shutil
import socket
import tempfile
import subprocess
import threading
import time
import urllib.error
import urllib.request

import callnet  # noqa: F401  (enters the network namespace first)
from callnet import Agent, new_room
from harness import (Failure, callagent_bin, case, check, check_eq, login, run_cases, sealed_env,
                     start_server)

WATCHDOG_USEC = 600000  # pings every 300 ms
SOURCE_ROOT = os.environ.get("CALLAGENT_SOURCE_ROOT") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class NotifySocket:
    """A service manager's notification socket: collects (time, fields)."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []
        self._lock = threading.Lock()
        self._stop = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while not self._stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            with self._lock:
                self.messages.append((time.monotonic(), fields))

    def env(self):
        return {"NOTIFY_SOCKET": self.path, "WATCHDOG_USEC": str(WATCHDOG_USEC)}

    def all(self):
        with self._lock:
            return list(self.messages)

    def wait_for(self, key, value_re=".*", timeout=20):
        deadline = time.monotonic() + timeout
        rx = re.compile(value_re)
        while time.monotonic() < deadline:
            for t, f in self.all():
                if key in f and rx.search(f[key]):
                    return t, f
            time.sleep(0.05)
        raise Failure(f"no {key}={value_re} on the notification socket within {timeout} s; got "
                      f"{[f for _, f in self.all() if 'WATCHDOG' not in f]}")

    def close(self):
        self._stop = True
        self._thread.join()
        self.sock.close()


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})?'
                    r' (-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?|NaN|[+-]Inf)$')


def scrape(url):
    """Parses one scrape: {"name{labels}": value}, {family: type}. Fails on a
    line that is neither a valid sample nor a HELP/TYPE comment, on a sample
    whose family has no TYPE (or no HELP) before it, on a counter without
    `_total`, and on a family typed twice."""
    with urllib.request.urlopen(url, timeout=10) as r:
        check_eq(r.status, 200, "GET /metrics status")
        ctype = r.headers.get("Content-Type", "")
        check(ctype.startswith("text/plain; version=0.0.4"), "Content-Type", "text/plain; version=0.0.4", ctype)
        text = r.read().decode()
    check(text.endswith("\n"), "the exposition ends with a newline", "\\n", text[-20:])
    types, helps, samples = {}, set(), {}
    for line in text.splitlines():
        m = re.match(r"^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$", line)
        if m:
            if m[1] == "HELP":
                helps.add(m[2])
            else:
                check(m[2] not in types, f"family {m[2]} typed once", "one TYPE", line)
                check(m[3] in ("counter", "gauge"), f"TYPE of {m[2]}", "counter|gauge", m[3])
                types[m[2]] = m[3]
            continue
        m = SAMPLE.match(line)
        check(m is not None, "every line is a sample or a HELP/TYPE comment", "a valid line", line)
        name = m[1]
        check(name in types and name in helps, f"{name} has HELP and TYPE before its samples", "both", line)
        check(name.startswith("callagent_"), "the callagent_ prefix", "callagent_*", name)
        if types[name] == "counter":
            check(name.endswith("_total"), "a counter's name ends in _total", "*_total", name)
        samples[name + (m[2] or "")] = float(m[3])
    return samples, types


def check_monotonic(first, second, types):
    for key, v in first.items():
        name = key.split("{", 1)[0]
        if types.get(name) == "counter":
            check(key in second and second[key] >= v, f"counter {key} does not go back", f">= {v}",
                  second.get(key))


def documented_families():
    """The families in docs/metrics.md's tables: the first column, `callagent_...`."""
    with open(os.path.join(SOURCE_ROOT, "docs", "metrics.md")) as f:
        return set(re.findall(r"^\| `(callagent_[a-z0-9_]+)`", f.read(), re.M))


def metrics_url(log):
    m = re.search(r"metrics on (http://127\.0\.0\.1:\d+/metrics)", log)
    if not m:
        raise Failure(f"no 'metrics on URL' in the log:\n{log[-3000:]}")
    return m[1]


def check_notify_order(ns, what):
    msgs = ns.all()
    ready = [t for t, f in msgs if f.get("READY") == "1"]
    stopping = [t for t, f in msgs if f.get("STOPPING") == "1"]
    check_eq(len(ready), 1, f"{what}: READY=1 sent once")
    check_eq(len(stopping), 1, f"{what}: STOPPING=1 sent once")
    check(ready[0] < stopping[0], f"{what}: READY=1 before STOPPING=1")
    # Pinged every 300 ms from the main loop over a run of several seconds:
    # how many exactly depends on the machine's load, not on the program;
    # that they keep coming is what counts (a ping before READY and one
    # after it show that the pings come from the running loop).
    pings = [t for t, f in msgs if f.get("WATCHDOG") == "1"]
    check(len(pings) >= 5, f"{what}: WATCHDOG=1 repeatedly", ">= 5", len(pings))
    check(any(t > ready[0] for t in pings), f"{what}: WATCHDOG=1 after READY=1")


def setup():
    tmp = tempfile.mkdtemp(prefix="callagent-ops-")
    return {"tmp": tmp, "srv": start_server(tmp)}


def teardown(ctx, failed):
    ctx["srv"].stop()
    if failed:
        print(f"(logs kept in {ctx['tmp']})")
    else:
        shutil.rmtree(ctx["tmp"], ignore_errors=True)


@case
def join_notifies_systemd_and_serves_metrics(ctx):
    tmp, srv = ctx["tmp"], ctx["srv"]
    room = new_room(ctx)
    room_id = room.rsplit("/", 1)[1]
    ns = NotifySocket(os.path.join(tmp, "join.notify"))
    a = b = None
    try:
        a = Agent(tmp, "a", srv, room, ["--metrics", "127.0.0.1:0", "--record", "a.mkv"], env=ns.env())
        url = None
        deadline = time.monotonic() + 40
        while url is None and time.monotonic() < deadline:
            try:
                url = metrics_url(a.log())
            except Failure:
                time.sleep(0.1)
        url = url or metrics_url(a.log())
        # Alone in the room: READY=1 with the room in STATUS.
        _, ready = ns.wait_for("READY", "1", timeout=40)
        check_eq(ready.get("STATUS"), f"in room {room_id}, waiting for a partner", "STATUS at READY")
        alone, types = scrape(url)
        check_eq(alone['callagent_call_state{state="alone"}'], 1.0, "state alone")
        check_eq(alone["callagent_partner_present"], 0.0, "no partner yet")
        check_eq(alone["callagent_signaling_connected"], 1.0, "signaling up")

        b = Agent(tmp, "b", srv, room, env={})
        ns.wait_for("STATUS", r"^connected to (user_[0-9a-f]{8}|the partner) in room .*Mbit/s in", timeout=60)
        # Two scrapes a few stats intervals apart, with media flowing.
        time.sleep(3)
        first, types = scrape(url)
        time.sleep(2.5)
        second, types2 = scrape(url)
        check_eq(types, types2, "the same families in both scrapes")
        check_monotonic(first, second, types)
        for key in ('callagent_call_state{state="connected"}', "callagent_partner_present",
                    "callagent_partner_connections_total"):
            check_eq(second[key], 1.0, key)
        for key in ('callagent_bitrate_bits_per_second{direction="in",kind="video"}',
                    'callagent_bitrate_bits_per_second{direction="out",kind="video"}',
                    'callagent_video_frames_per_second{direction="in"}',
                    "callagent_congestion_target_bits_per_second",
                    "callagent_recording_bytes"):
            check(second.get(key, 0) > 0, f"{key} during the call", "> 0", second.get(key))
        check(second['callagent_packets_total{direction="in",kind="video"}'] >
              first['callagent_packets_total{direction="in",kind="video"}'], "packets keep coming in")
        check_eq(second["callagent_recording_files_total"], 1.0, "one recording")
        docs = {n for n in documented_families() if not n.startswith("callagent_server_")}
        docs.discard("callagent_build_info")
        served = set(types) - {"callagent_build_info"}
        check_eq(sorted(served), sorted(docs), "docs/metrics.md lists the join families served")
        # Anything but GET /metrics.
        for path, code in (("/", 404), ("/metrics/x", 404)):
            try:
                urllib.request.urlopen(url.replace("/metrics", path), timeout=5)
                raise Failure(f"GET {path}: expected {code}, got 200")
            except urllib.error.HTTPError as e:
                check_eq(e.code, code, f"GET {path}")
        req = urllib.request.Request(url, data=b"x", method="POST")
        try:
            urllib.request.urlopen(req, timeout=5)
            raise Failure("POST /metrics: expected 405, got 200")
        except urllib.error.HTTPError as e:
            check_eq(e.code, 405, "POST /metrics")

        check_eq(a.stop(), 0, "agent a exit code")
        _, stop = ns.wait_for("STOPPING", "1", timeout=5)
        check(stop.get("STATUS", "").startswith("leaving the call"), "STATUS at STOPPING", "leaving the call…",
              stop.get("STATUS"))
        check_notify_order(ns, "join")
    finally:
        ns.close()
        for x in (a, b):
            if x:
                x.kill()


@case
def serve_notifies_systemd_and_serves_metrics(ctx):
    tmp = ctx["tmp"]
    ns = NotifySocket(os.path.join(tmp, "serve.notify"))
    d = os.path.join(tmp, "serve2")
    os.makedirs(d)
    srv = start_server(d, ["--metrics", "0"], env=ns.env(), name="serve2")
    try:
        _, ready = ns.wait_for("READY", "1", timeout=10)
        check(ready.get("STATUS", "").startswith(f"listening on {srv.url}"), "STATUS at READY",
              f"listening on {srv.url}…", ready.get("STATUS"))
        url = metrics_url(srv.stderr())
        first, types = scrape(url)
        login(srv.url, srv.user, srv.password)
        try:
            login(srv.url, srv.user, "wrong password")
        except Failure:
            pass
        time.sleep(1.5)
        second, types2 = scrape(url)
        check_eq(types, types2, "the same families in both scrapes")
        check_monotonic(first, second, types)
        check_eq(second["callagent_server_logins_total"] - first["callagent_server_logins_total"], 1.0,
                 "one more login")
        key = 'callagent_server_rejected_logins_total{reason="invalid_credentials"}'
        check_eq(second[key] - first[key], 1.0, "one more rejected login")
        check(second.get('callagent_server_http_requests_total{code="401"}', 0) >= 1, "a 401 counted")
        check(second.get('callagent_server_http_requests_total{code="200"}', 0) >= 1, "a 200 counted")
        check_eq(second["callagent_server_connections"], 0.0, "no WebSocket")
        served = set(types) - {"callagent_build_info"}
        docs = {n for n in documented_families() if n.startswith("callagent_server_")}
        check_eq(sorted(served), sorted(docs), "docs/metrics.md lists the serve families served")
        time.sleep(1)
        check_eq(srv.stop(), 0, "serve exit code")
        ns.wait_for("STOPPING", "1", timeout=5)
        check_notify_order(ns, "serve")
    finally:
        ns.close()
        srv.stop()


@case
def metrics_address_rules(ctx):
    """A non-loopback address is served but warned about; a bad one is a usage error."""
    tmp = ctx["tmp"]
    d = os.path.join(tmp, "serve3")
    os.makedirs(d)
    srv = start_server(d, ["--metrics", "0.0.0.0:0"], name="serve3")
    try:
        deadline = time.monotonic() + 5
        while "metrics on" not in srv.stderr() and time.monotonic() < deadline:
            time.sleep(0.05)
        check(re.search(r"warn.*metrics on 0\.0\.0\.0:0 \(not loopback\)", srv.stderr()) is not None,
              "a warning names the non-loopback address", "warning", srv.stderr()[-1500:])
    finally:
        srv.stop()
    env = sealed_env(os.path.join(tmp, "bad"))
    env["CALLAGENT_PASSWORD"] = "x"
    p = subprocess.run([callagent_bin(), "serve", "--listen", "127.0.0.1:0", "--metrics", "example.com:9"],
                       capture_output=True, text=True, env=env, timeout=20)
    check_eq(p.returncode, 64, f"--metrics example.com:9 exit code (stderr {p.stderr[-500:]!r})")
    check("is not an IP address" in p.stderr, "the error says why", "is not an IP address", p.stderr[-500:])


if __name__ == "__main__":
    run_cases(setup, teardown)
