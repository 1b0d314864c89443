#!/usr/bin/env python3
"""`callagent serve`'s own protections, beyond the protocol: login rate
limiting, request body and frame size caps, the connection cap, the
cross-origin WebSocket guard, and dropping silent (dead) peers."""

import asyncio
import base64
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (  # noqa: E402
    Failure, bearer, case, check, check_eq, create_room, expect_silence, http_request, join_pair,
    login, raw_socket, recv_json, run_cases, start_server, websockets, ws_connect)


class Ctx:
    pass


def setup():
    c = Ctx()
    c.tmp = tempfile.mkdtemp(prefix="callagent-limits-")
    return c


def teardown(c, failed):
    shutil.rmtree(c.tmp, ignore_errors=True)


def server(c, *args, **kwargs):
    return start_server(c.tmp, extra_args=list(args), **kwargs)


def dump_on_failure(srv):
    """Context manager body helper: prints the server's stderr if the block fails."""
    class _D:
        def __enter__(self):
            return srv

        def __exit__(self, exc_type, exc, tb):
            if exc_type is not None:
                print("# server stderr (tail):\n" + "\n".join(srv.stderr().splitlines()[-30:]))
            return False
    return _D()


@case
def login_failures_are_rate_limited(c):
    with server(c) as srv, dump_on_failure(srv):
        bad = {"username": srv.user, "password": "wrong"}
        for i in range(10):
            r = http_request(srv.url, "POST", "/login", body=bad)
            check_eq(r.status, 401, f"failed attempt {i + 1} of 10")
        r = http_request(srv.url, "POST", "/login", body=bad)
        check_eq(r.status, 429, "the 11th failure within a minute")
        retry = r.header("Retry-After")
        check(retry is not None and retry.isdigit() and 1 <= int(retry) <= 60,
              "Retry-After in seconds", "1..60", retry)
        r = http_request(srv.url, "POST", "/login", body={"username": srv.user, "password": srv.password})
        check_eq(r.status, 429, "a blocked address is refused even with the right password")
        # Another client address (loopback has many) is not affected.
        r = http_request(srv.url, "POST", "/login", source_address=("127.0.0.2", 0),
                         body={"username": srv.user, "password": srv.password})
        check_eq(r.status, 200, "login from 127.0.0.2")
        # Malformed bodies don't count as failures, and sessions keep working.
        token = r.json()["token"]
        check_eq(http_request(srv.url, "GET", "/create", headers=bearer(token)).status, 200,
                 "an existing session is not rate limited")
        check_eq(srv.stop(), 0, "exit code")


def raw_post(url, path, head, body_parts, timeout=10):
    """Sends a request by hand (for chunked bodies) and returns the response text."""
    with raw_socket(url, timeout=timeout) as s:
        s.sendall((f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + head + "\r\n").encode())
        for part in body_parts:
            s.sendall(part)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data.decode(errors="replace")


def chunked(payload, size=4096):
    parts = [f"{len(payload[i:i + size]):x}\r\n".encode() + payload[i:i + size] + b"\r\n"
             for i in range(0, len(payload), size)]
    return parts + [b"0\r\n\r\n"]


@case
def oversized_bodies_refused(c):
    with server(c) as srv, dump_on_failure(srv):
        big = b"x" * (2 * 1024 * 1024)
        r = http_request(srv.url, "POST", "/login", body=big)
        check_eq((r.status, r.body.strip()), (400, "Invalid request"), "2 MiB login body")
        text = raw_post(srv.url, "/login", "Transfer-Encoding: chunked\r\n", chunked(big))
        check(text.startswith("HTTP/1.1 400") and text.rstrip().endswith("Invalid request"),
              "2 MiB chunked login body", "HTTP/1.1 400 … Invalid request", text[:60] + "…" + text[-40:])
        # A small chunked login is fine.
        creds = json.dumps({"username": srv.user, "password": srv.password}).encode()
        text = raw_post(srv.url, "/login", "Transfer-Encoding: chunked\r\n", chunked(creds, 7))
        check(text.startswith("HTTP/1.1 200"), "small chunked login", "HTTP/1.1 200", text[:60])
        # Other routes get 413.
        token = login(srv.url, srv.user, srv.password)
        r = http_request(srv.url, "POST", "/create", headers=bearer(token), body="x" * 100000)
        check_eq(r.status, 413, "big body elsewhere")
        # The server kept none of it.
        rss_kib = int(next(l for l in open(f"/proc/{srv.proc.pid}/status") if l.startswith("VmHWM"))
                      .split()[1])
        # AddressSanitizer's shadow memory and quarantine (scripts/test's
        # second pass sets ASAN_OPTIONS) put ~130 MiB under any process.
        limit_mib = 256 if os.environ.get("ASAN_OPTIONS") else 64
        check(rss_kib < limit_mib * 1024, "peak RSS stays small", f"< {limit_mib} MiB", f"{rss_kib} KiB")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


@case
async def no_descriptor_leak(c):
    """HTTP requests, refused and accepted WebSockets must all give their
    sockets back (libsoup 3.2 keeps closed keep-alive connections forever
    unless the server closes them)."""
    with server(c) as srv, dump_on_failure(srv):
        token = login(srv.url, srv.user, srv.password)
        _, room = create_room(srv.url, token)
        await asyncio.sleep(0.3)
        base = open_fds(srv.proc.pid)
        for _ in range(30):
            create_room(srv.url, token)
            http_request(srv.url, "GET", "/", headers=bearer(token))
            http_request(srv.url, "GET", "/nope")
        with raw_socket(srv.url) as s:  # connects and says nothing
            pass
        for _ in range(5):
            a, b, _, _ = await join_pair(srv.url, token, room)
            try:
                x = await ws_connect(srv.url, token, room)  # room full
                await x.wait_closed()
            finally:
                await a.close()
                await b.close()
        deadline = time.monotonic() + 5
        while open_fds(srv.proc.pid) > base and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        check_eq(open_fds(srv.proc.pid), base, "open descriptors after 90 requests and 15 WebSockets")


@case
async def oversized_frame_closes_only_that_connection(c):
    with server(c) as srv, dump_on_failure(srv):
        token = login(srv.url, srv.user, srv.password)
        _, room = create_room(srv.url, token)
        a, b, a_id, b_id = await join_pair(srv.url, token, room)
        try:
            big = json.dumps({"type": "chat", "data": "x" * (300 * 1024)})
            await a.send(big)
            try:
                await asyncio.wait_for(a.recv(), 5)
                raise Failure("a 300 KiB frame was accepted")
            except websockets.exceptions.ConnectionClosed as e:
                check(e.code in (1009, 1006), "closed for size", "1009 (or 1006)", e.code)
            got = await recv_json(b, what="leave of the oversized sender")
            check_eq((got["type"], got["user"]), ("leave", a_id), "partner told")
            # Just under the cap is relayed.
            d = await ws_connect(srv.url, token, room)
            await recv_json(b, what="newcomer's join")
            ok = json.dumps({"type": "chat", "data": "y" * (250 * 1024)})
            await d.send(ok)
            got = await recv_json(b, what="a 250 KiB chat")
            check_eq(len(got["data"]), 250 * 1024, "relayed size")
            await d.close()
        finally:
            await a.close()
            await b.close()


@case
async def connection_cap_refuses_before_upgrade(c):
    with server(c, "--max-connections", "2") as srv, dump_on_failure(srv):
        token = login(srv.url, srv.user, srv.password)
        _, room = create_room(srv.url, token)
        _, room2 = create_room(srv.url, token)
        a, b, _, _ = await join_pair(srv.url, token, room)
        try:
            try:
                x = await ws_connect(srv.url, token, room2)
                await x.close()
                raise Failure("a third connection was accepted with --max-connections 2")
            except websockets.exceptions.InvalidStatusCode as e:
                check_eq(e.status_code, 503, "status")
        finally:
            await a.close()
            await b.close()
        await asyncio.sleep(0.3)
        x = await ws_connect(srv.url, token, room2)  # places free again
        await x.close()


@case
def room_cap_refuses_create(c):
    with server(c, "--max-rooms", "2", db=os.path.join(c.tmp, "cap.db")) as srv, dump_on_failure(srv):
        token = login(srv.url, srv.user, srv.password)
        create_room(srv.url, token)
        create_room(srv.url, token)
        r = http_request(srv.url, "GET", "/create", headers=bearer(token))
        check_eq((r.status, r.body.strip()), (503, "Too many rooms"), "third room")


@case
async def cross_origin_websocket_refused(c):
    with server(c) as srv, dump_on_failure(srv):
        token = login(srv.url, srv.user, srv.password)
        _, room = create_room(srv.url, token)
        try:
            x = await ws_connect(srv.url, token, room, headers={"Origin": "http://evil.example"})
            await x.close()
            raise Failure("a cross-origin WebSocket was accepted")
        except websockets.exceptions.InvalidStatusCode as e:
            check_eq(e.status_code, 403, "status")
        x = await ws_connect(srv.url, token, room, headers={"Origin": srv.url})
        await x.close()


def raw_ws_handshake(s, host, path, token):
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"Authorization: Bearer {token}\r\n\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    check(data.startswith(b"HTTP/1.1 101"), "raw handshake", "HTTP/1.1 101", data[:80])


@case
async def silent_peer_is_dropped_and_partner_told(c):
    with server(c, "--ws-keepalive", "1") as srv, dump_on_failure(srv):
        token = login(srv.url, srv.user, srv.password)
        _, room = create_room(srv.url, token)
        a = await ws_connect(srv.url, token, room)
        try:
            host = srv.url.split("://", 1)[1]
            with raw_socket(srv.url) as s:
                # A peer that completes the handshake, then never reads or
                # answers a ping again: a kiosk that lost power.
                raw_ws_handshake(s, host, f"/ws?room={room}", token)
                join = await recv_json(a, what="the silent peer's join")
                t0 = time.monotonic()
                leave = await recv_json(a, timeout=10, what="leave of the silent peer")
                waited = time.monotonic() - t0
                check_eq((leave["type"], leave["user"]), ("leave", join["user"]), "leave frame")
                check(2.5 <= waited <= 15, "dropped after ~3 silent keepalive periods", "2.5-15 s",
                      f"{waited:.1f} s")
            # A live client answers pings and stays.
            b = await ws_connect(srv.url, token, room)
            await recv_json(a, what="join of a live peer")
            await expect_silence(a, seconds=4.5, what="no leave for a peer that answers pings")
            await b.send(json.dumps({"type": "chat", "data": "alive"}))
            check_eq((await recv_json(a, what="chat"))["data"], "alive", "live peer still relays")
            await b.close()
        finally:
            await a.close()


if __name__ == "__main__":
    run_cases(setup, teardown)
