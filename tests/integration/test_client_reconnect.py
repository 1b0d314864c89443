#!/usr/bin/env python3
"""`callagent chat` survives its server: the server is killed and a new one
started on the same port and database (which forgets every session token);
both chat clients reconnect, log in again, and can chat again. A server that
stops answering (SIGSTOP) is noticed by the keepalive watchdog. With
--no-reconnect a lost connection is fatal (69)."""

import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Failure, case, check, create_room, login, run_cases  # noqa: E402
from test_client_common import (  # noqa: E402
    Chat, FreezingProxy, chat_pair, client_env, free_port, start_server_on, stop_all)


class Ctx:
    pass


def setup():
    c = Ctx()
    c.tmp = tempfile.mkdtemp(prefix="callagent-client-reconnect-")
    c.db = os.path.join(c.tmp, "rooms.db")
    c.servers = []
    return c


def teardown(c, failed):
    if c is None:
        return
    for s in c.servers:
        if s.proc.poll() is None:
            s.proc.send_signal(signal.SIGCONT)
            s.stop()
    if failed:
        for s in c.servers:
            print(f"# server {s.url} stderr (tail):\n" + "\n".join(s.stderr().splitlines()[-20:]))
    shutil.rmtree(c.tmp, ignore_errors=True)


def start(c, port):
    s = start_server_on(c.tmp, port, c.db)
    c.servers.append(s)
    return s


def is_server_join(e):
    return e.get("event") == "join" and e.get("source") == "server"


def kill(srv):
    srv.proc.kill()
    srv.proc.wait()
    srv.proc.stdout.close()


@case
def server_restart_reconnects_logs_in_again_and_chat_works(c):
    port = free_port()
    srv = start(c, port)
    room_url, _ = create_room(srv.url, login(srv.url, srv.user, srv.password))
    env = client_env(c.tmp, srv)
    a, b, _ = chat_pair(c.tmp, srv, room_url, env=env)
    try:
        a.send("before")
        b.wait_event({"event": "chat", "text": "before"}, what="B receives A before the restart")
        ma, mb = a.mark(), b.mark()
        kill(srv)
        a.wait_event({"event": "disconnected"}, what="A notices the server is gone", start=ma)
        b.wait_event({"event": "disconnected"}, what="B notices the server is gone", start=mb)
        srv2 = start(c, port)
        check(srv2.url == srv.url, "the new server has the same URL", srv.url, srv2.url)
        a.wait_event({"event": "connected", "reconnected": True}, timeout=30, what="A reconnects", start=ma)
        b.wait_event({"event": "connected", "reconnected": True}, timeout=30, what="B reconnects", start=mb)
        # Both are back in the room once either sees the other's (server-made) join.
        deadline = time.monotonic() + 10
        while not (any(is_server_join(e) for e in list(a.events)[ma:]) or
                   any(is_server_join(e) for e in list(b.events)[mb:])):
            if time.monotonic() > deadline:
                raise Failure("neither client saw the other join after reconnecting" + a.describe() +
                              b.describe())
            time.sleep(0.05)
        for who in (a, b):
            err = who.stderr()
            check(err.count("logged in as") >= 2, f"[{who.name}] logged in again after the restart",
                  ">= 2 'logged in as' lines", err[-2000:])
            check("reconnect attempt" in err, f"[{who.name}] logs its reconnect attempts", "reconnect attempt…",
                  err[-2000:])
        a.send("after A")
        b.wait_event({"event": "chat", "text": "after A"}, what="B receives A after the restart")
        b.send("after B")
        a.wait_event({"event": "chat", "text": "after B"}, what="A receives B after the restart")
    finally:
        stop_all(a, b)


@case
def no_reconnect_makes_a_lost_connection_fatal_69(c):
    port = free_port()
    srv = start(c, port)
    room_url, _ = create_room(srv.url, login(srv.url, srv.user, srv.password))
    chat = Chat(c.tmp, room_url, client_env(c.tmp, srv), ["--no-reconnect"], name="once")
    try:
        chat.wait_event({"event": "connected"}, what="connected")
        kill(srv)
        e = chat.wait_event({"event": "error"}, what="an error event")
        check(e.get("code") == 69, "error code", 69, e.get("code"))
        chat.expect_exit(69, what="exit code after losing the server with --no-reconnect")
    finally:
        stop_all(chat)


@case
def a_frozen_server_is_noticed_by_the_keepalive(c):
    port = free_port()
    srv = start(c, port)
    room_url, _ = create_room(srv.url, login(srv.url, srv.user, srv.password))
    chat = Chat(c.tmp, room_url, client_env(c.tmp, srv), ["--keepalive", "1"], name="watch")
    try:
        chat.wait_event({"event": "connected"}, what="connected")
        m = chat.mark()
        srv.proc.send_signal(signal.SIGSTOP)  # the TCP connection stays up, nothing answers
        try:
            e = chat.wait_event({"event": "disconnected"}, timeout=20, what="the watchdog gives up", start=m)
        finally:
            srv.proc.send_signal(signal.SIGCONT)
        check("no answer" in e.get("reason", ""), "the reason says the server went silent", "no answer…",
              e.get("reason"))
        chat.wait_event({"event": "connected", "reconnected": True}, timeout=40, what="reconnected", start=m)
        chat.signal(signal.SIGINT)
        chat.expect_exit(0)
    finally:
        stop_all(chat)


@case
def network_dies_under_a_client_room_full_is_retried_and_our_old_leave_is_not_the_peer(c):
    """A talks through a proxy that freezes: A's watchdog gives up, but the
    server still holds A's old connection, so A's reconnection finds the room
    full (two: A-old and B) and must keep retrying. Once B leaves, A gets
    in; when the server finally drops A-old, A must not report that leave as
    a peer leaving."""
    port = free_port()
    srv = start(c, port)
    room_url, room = create_room(srv.url, login(srv.url, srv.user, srv.password))
    proxy = FreezingProxy(port)
    env = client_env(c.tmp, srv)
    a = b = None
    try:
        a = Chat(c.tmp, room, env, ["--server", proxy.url, "--keepalive", "1"], name="A")
        a.wait_event({"event": "connected"}, what="A connected through the proxy")
        b = Chat(c.tmp, room_url, env, name="B")
        b.wait_event({"event": "connected"}, what="B connected")
        # B's own join, relayed to A, carries A's id (the relay quirk).
        a_old = a.wait_event({"event": "join", "source": "peer"}, what="B's join relayed to A").get("user")
        m = a.mark()
        check(proxy.freeze() >= 1, "the proxy froze A's connection", ">= 1", 0)
        a.wait_event(lambda e: e.get("event") == "disconnected" and "no answer" in e.get("reason", ""),
                     timeout=20, what="A's watchdog gives up", start=m)
        # Refused reconnections are retried quietly: only the log says so.
        deadline = time.monotonic() + 20
        while "the server refused the reconnection" not in a.stderr():
            if time.monotonic() > deadline:
                raise Failure("A's reconnection was not refused as 'room full'" + a.describe())
            time.sleep(0.05)
        check("full" in a.stderr(), "the refusal is 'room full' (A-old still holds a place)", "…full…",
              a.stderr()[-1500:])
        check(a.proc.poll() is None, "A keeps retrying after 'room full' while reconnecting", None,
              a.proc.poll())
        refused_connects = [e for e in list(a.events)[m:] if e.get("event") == "connected"]
        check(refused_connects == [], "a refused attempt is never reported as connected", [], refused_connects)
        b.close_stdin()
        b.expect_exit(0)
        a.wait_event({"event": "connected", "reconnected": True}, timeout=40,
                     what="A gets in once B has left", start=m)
        m2 = a.mark()
        proxy.cut_frozen()  # now the server notices A-old and tells the room
        deadline = time.monotonic() + 10
        while f"dropped our previous connection ({a_old})" not in a.stderr():
            if time.monotonic() > deadline:
                raise Failure("A did not report the server dropping its old connection" + a.describe())
            time.sleep(0.05)
        leaves = [e for e in list(a.events)[m2:] if e.get("event") == "leave"]
        check(leaves == [], "no leave event for A's own old connection", [], leaves)
        a.close_stdin()
        a.expect_exit(0)
    finally:
        stop_all(a, b)
        proxy.close()


if __name__ == "__main__":
    run_cases(setup, teardown)
