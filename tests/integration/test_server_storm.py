#!/usr/bin/env python3
"""`callagent serve` under a connection storm, with its default limits.

The messenger's worst hour: 1000 clients, each with its own login session
(cookie), open their WebSockets at the same instant, two per room in 500
rooms. Every one must open, every one must get a frame from the server (the
first in a room the server-made join, then each its partner's relayed chat,
addressed to its own user id), and all must close again, leaving the server
with the descriptors it started with.

Timing is not asserted (the suite also runs under sanitizers on a loaded
machine); what a storm breaks is counted instead. A listen queue too short
for the burst makes the kernel drop handshakes (ListenOverflows /
ListenDrops in /proc/net/netstat), and clients then wait for SYN
retransmissions (1 s, 3 s, 7 s, ...) and time out: the test runs in its own
network namespace, so those counters are the storm's alone and must stay 0.

Also here: the open-files limit. The server raises its soft limit to the
hard one at start, and when even the hard limit is too low for
--max-connections it says so and refuses the WebSockets that would not fit
(503), and goes on accepting once some have closed.
"""

import asyncio
import json
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import callnet  # noqa: E402,F401  (re-runs us inside `unshare --net`, loopback up)
from harness import (  # noqa: E402
    Failure, callagent_bin, case, check, check_eq, cookie, create_room, login, run_cases, skip,
    start_server, websockets, ws_url)

CLIENTS = 1000
ROOMS = 500
# A safety net only: a healthy server opens all of them in a second or two.
OPEN_TIMEOUT = 45


class Ctx:
    pass


def setup():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = CLIENTS + 256
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            skip(f"this test opens {CLIENTS} sockets; the open-files hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    c = Ctx()
    c.tmp = tempfile.mkdtemp(prefix="callagent-storm-")
    return c


def teardown(c, failed):
    shutil.rmtree(c.tmp, ignore_errors=True)


def dump_on_failure(srv):
    class _D:
        def __enter__(self):
            return srv

        def __exit__(self, exc_type, exc, tb):
            if exc_type is not None:
                print("# server stderr (tail):\n" + "\n".join(srv.stderr().splitlines()[-30:]))
            return False
    return _D()


def netstat_counters():
    """TcpExt counters of this network namespace, e.g. ListenOverflows."""
    with open("/proc/net/netstat") as f:
        lines = f.read().splitlines()
    out = {}
    for names, values in zip(lines[::2], lines[1::2]):
        proto, names = names.split(":", 1)
        _, values = values.split(":", 1)
        for n, v in zip(names.split(), values.split()):
            out[f"{proto}.{n}"] = int(v)
    return out


LISTEN_COUNTERS = ("TcpExt.ListenOverflows", "TcpExt.ListenDrops", "TcpExt.TCPReqQFullDrop",
                   "TcpExt.TCPReqQFullDoCookies", "TcpExt.SyncookiesSent")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def proc_limits(pid):
    """(soft, hard) of "Max open files" in /proc/PID/limits."""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    raise Failure(f"no 'Max open files' in /proc/{pid}/limits")


async def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise Failure(f"waited {timeout} s for {what}")
        await asyncio.sleep(0.1)


async def connect(url, token, room, start=None):
    if start is not None:
        await start.wait()
    return await websockets.connect(ws_url(url) + "/ws?room=" + room, extra_headers=cookie(token),
                                    open_timeout=OPEN_TIMEOUT, close_timeout=5, compression=None,
                                    max_size=None, ping_interval=None)


async def frames_until_chat(ws, timeout):
    """Frames received until (and with) the first relayed chat."""
    got = []
    deadline = time.monotonic() + timeout
    while True:
        text = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic()))
        frame = json.loads(text)
        got.append(frame)
        if frame.get("type") == "chat":
            return got


def rooms_db(c, n):
    """A room database holding `n` rooms, as a server that has run for a
    while has it (creating them through /create costs a commit each: a
    minute on a slow disk)."""
    path = os.path.join(c.tmp, "storm-rooms.db")
    rooms = [str(uuid.uuid4()) for _ in range(n)]
    db = sqlite3.connect(path)
    with db:
        db.execute("CREATE TABLE rooms (id TEXT PRIMARY KEY NOT NULL, created_at INTEGER NOT NULL)")
        db.executemany("INSERT INTO rooms (id, created_at) VALUES (?, ?)",
                       [(r, int(time.time())) for r in rooms])
    db.close()
    return path, rooms


@case
def thousand_websockets_at_once(c):
    db, rooms = rooms_db(c, ROOMS)
    with start_server(c.tmp, db=db) as srv, dump_on_failure(srv):
        # Sessions first, as real clients have them: one login each.
        t0 = time.monotonic()
        tokens = [login(srv.url, srv.user, srv.password) for _ in range(CLIENTS)]
        check_eq(len(set(tokens)), CLIENTS, "one session per client")
        print(f"# {CLIENTS} logins in {time.monotonic() - t0:.1f} s", flush=True)
        # The harness gives an async case 60 s; the storm gets its own bound.
        asyncio.run(asyncio.wait_for(storm(srv, tokens, rooms), timeout=240))
        check_eq(srv.stop(), 0, "exit code")


async def storm(srv, tokens, rooms):
    """All clients open at once, each says something, each must hear its
    partner; then all close."""
    await asyncio.sleep(0.3)
    fds_before = open_fds(srv.proc.pid)
    counters_before = netstat_counters()
    t0 = time.monotonic()

    start = asyncio.Event()
    tasks = [asyncio.create_task(connect(srv.url, tokens[i], rooms[i % ROOMS], start))
             for i in range(CLIENTS)]
    await asyncio.sleep(0.2)  # every task waits on the event
    start.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    clients = [r for r in results if not isinstance(r, BaseException)]
    print(f"# {len(clients)}/{CLIENTS} open after {time.monotonic() - t0:.1f} s", flush=True)
    try:
        errors = [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
        check(not errors, f"all {CLIENTS} WebSockets open", "0 failures",
              f"{len(errors)} failed, e.g. {sorted(set(errors))[:3]}")
        counters = netstat_counters()
        dropped = {k: counters.get(k, 0) - counters_before.get(k, 0) for k in LISTEN_COUNTERS}
        check(not any(dropped.values()), "the kernel dropped no handshake (listen queue long enough)",
              {k: 0 for k in LISTEN_COUNTERS}, dropped)

        # Each says something; each must hear its partner, addressed to
        # itself, and the first in each room the server-made join first.
        await asyncio.gather(*[ws.send(json.dumps({"type": "chat", "data": f"from {i}"}))
                               for i, ws in enumerate(clients)])
        heard = await asyncio.gather(*[frames_until_chat(ws, 30) for ws in clients],
                                     return_exceptions=True)
        lost = [i for i, h in enumerate(heard) if isinstance(h, BaseException)]
        check(not lost, "every client hears from the server", "0 without a frame",
              f"{len(lost)} heard nothing, e.g. clients {lost[:5]} ({heard[lost[0]]!r})" if lost else "")
        for r in range(ROOMS):
            a, b = r, r + ROOMS  # the two clients of room r
            ha, hb = heard[a], heard[b]
            check_eq(ha[-1]["data"], f"from {b}", f"room {r}: client {a} hears its partner")
            check_eq(hb[-1]["data"], f"from {a}", f"room {r}: client {b} hears its partner")
            a_id, b_id = ha[-1]["user"], hb[-1]["user"]
            check(a_id != b_id, f"room {r}: two user ids", "two ids", (a_id, b_id))
            joins = [(who, f) for who, h in (("a", ha), ("b", hb)) for f in h[:-1]]
            check_eq(len(joins), 1, f"room {r}: exactly one server-made join, to the first in")
            who, join = joins[0]
            check_eq(join, {"type": "join", "data": {"message": "joined the call"},
                            "room": rooms[r], "user": b_id if who == "a" else a_id},
                     f"room {r}: the server-made join names the newcomer")
        print(f"# every client heard its partner after {time.monotonic() - t0:.1f} s", flush=True)
    finally:
        await asyncio.gather(*[ws.close() for ws in clients], return_exceptions=True)
    print(f"# all closed after {time.monotonic() - t0:.1f} s", flush=True)
    check(all(ws.close_code == 1000 for ws in clients), "every close answered with 1000",
          "1000", sorted({ws.close_code for ws in clients}))
    await wait_until(lambda: open_fds(srv.proc.pid) <= fds_before, 30,
                     f"the server to give its {CLIENTS} sockets back "
                     f"(had {fds_before} fds before, {open_fds(srv.proc.pid)} now)")


def start_limited(c, soft, hard):
    """start_server() with the server's open-files limit starting at
    (soft, hard): through a wrapper that sets it and execs the real binary
    (same pid)."""
    real = callagent_bin()
    wrapper = os.path.join(c.tmp, f"nofile-{soft}-{hard}.sh")
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\nulimit -Sn {soft} && ulimit -Hn {hard} && exec "{real}" "$@"\n')
    os.chmod(wrapper, 0o755)
    os.environ["CALLAGENT_BIN"] = wrapper
    try:
        return start_server(c.tmp)
    finally:
        os.environ["CALLAGENT_BIN"] = real


@case
def soft_limit_raised_to_hard_limit(c):
    hard = 4096
    with start_limited(c, 256, hard) as srv, dump_on_failure(srv):
        check_eq(proc_limits(srv.proc.pid), (hard, hard), "the server's open-files limit (soft, hard)")
        line = f"open files: soft limit raised from 256 to {hard} (the hard limit)"
        check(line in srv.stderr(), "the raise is logged", line, srv.stderr()[-600:])
        check_eq(srv.stop(), 0, "exit code")


@case
async def low_hard_limit_caps_connections(c):
    """Hard limit 200: room for 136 WebSockets (64 descriptors are kept for
    the rest). The server says so, refuses the 137th with 503 instead of
    running out of descriptors (after which libsoup would never accept a
    connection again), and accepts again once one has closed."""
    with start_limited(c, 200, 200) as srv, dump_on_failure(srv):
        check("refusing more than 136 WebSocket connections" in srv.stderr(),
              "the cap is logged", "'… refusing more than 136 WebSocket connections …'",
              srv.stderr()[-800:])
        token = login(srv.url, srv.user, srv.password)
        rooms = [create_room(srv.url, token)[1] for _ in range(70)]
        clients = []
        try:
            for i in range(136):
                clients.append(await connect(srv.url, token, rooms[i // 2]))
            try:
                extra = await connect(srv.url, token, rooms[69])
                await extra.close()
                raise Failure("the 137th WebSocket was accepted; expected 503")
            except websockets.exceptions.InvalidStatusCode as e:
                check_eq(e.status_code, 503, "the 137th WebSocket is refused")
            await clients.pop().close()
            await wait_until(lambda: "left room" in srv.stderr(), 10, "the server to see the close")
            await asyncio.sleep(0.2)
            clients.append(await connect(srv.url, token, rooms[67]))
            check(clients[-1].open, "a WebSocket after one closed", True, clients[-1].open)
        finally:
            await asyncio.gather(*[ws.close() for ws in clients], return_exceptions=True)
        check_eq(srv.stop(), 0, "exit code")


if __name__ == "__main__":
    run_cases(setup, teardown)
