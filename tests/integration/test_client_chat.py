#!/usr/bin/env python3
"""`callagent chat` against a real `callagent serve`: two chat clients talk
both ways, join/leave events, leaving cleanly on end of input and on signals,
the room's refusals (not found 67, full 75), bad credentials (77), and a
page-like raw WebSocket peer to check what chat puts on the wire."""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (  # noqa: E402
    USER_ID_RE, callagent_bin, case, check, check_eq, create_room, login, recv_json, run_cases, start_server,
    ws_connect)
from test_client_common import Chat, chat_pair, client_env, run_cli, stop_all  # noqa: E402


class Ctx:
    pass


def setup():
    c = Ctx()
    c.tmp = tempfile.mkdtemp(prefix="callagent-client-chat-")
    c.srv = start_server(c.tmp)
    c.env = client_env(c.tmp, c.srv)
    c.token = login(c.srv.url, c.srv.user, c.srv.password)
    return c


def teardown(c, failed):
    if c is None:
        return
    c.srv.stop()
    if failed:
        print("# server stderr (tail):\n" + "\n".join(c.srv.stderr().splitlines()[-30:]))
    shutil.rmtree(c.tmp, ignore_errors=True)


def new_room(c):
    return create_room(c.srv.url, c.token)[0]


@case
def chat_both_ways(c):
    room = new_room(c)
    a, b, b_id = chat_pair(c.tmp, c.srv, room)
    try:
        check(USER_ID_RE.match(b_id or "") is not None, "the join names B's user id", "user_xxxxxxxx", b_id)
        a.send("hello from A")
        got = b.wait_event({"event": "chat", "text": "hello from A"}, what="B receives A's line")
        check(isinstance(got.get("ts"), (int, float)), "events carry a numeric ts", "a number", got.get("ts"))
        b.send("héllo from B ✓")
        a.wait_event({"event": "chat", "text": "héllo from B ✓"}, what="A receives B's line (UTF-8)")
        # Quotes, backslashes and JSON-looking text survive both encodings.
        tricky = 'say "hi" \\ {"type":"offer"}'
        a.send(tricky)
        b.wait_event({"event": "chat", "text": tricky}, what="B receives the tricky line")
        # Blank lines are not sent.
        mark = b.mark()
        a.send("")
        a.send("after blank")
        e = b.wait_event({"event": "chat"}, what="the next chat after a blank line", start=mark)
        check_eq(e.get("text"), "after blank", "the blank line was skipped")
    finally:
        stop_all(a, b)


@case
def end_of_input_leaves_cleanly_and_the_peer_sees_leave(c):
    room = new_room(c)
    a, b, b_id = chat_pair(c.tmp, c.srv, room)
    try:
        b.send("last words")
        b.close_stdin()
        # The last line is written before the close: A must get it, then the leave.
        a.wait_event({"event": "chat", "text": "last words"}, what="A receives B's last line")
        a.wait_event({"event": "leave", "user": b_id}, what="A sees B leave")
        b.wait_event({"event": "left", "reason": "end of input"}, what="B reports leaving")
        b.expect_exit(0, what="exit code after end of input")
    finally:
        stop_all(a, b)


@case
def sigterm_and_sigint_leave_cleanly(c):
    room = new_room(c)
    a, b, b_id = chat_pair(c.tmp, c.srv, room)
    try:
        b.signal(signal.SIGTERM)
        a.wait_event({"event": "leave", "user": b_id}, what="A sees B leave after SIGTERM")
        b.expect_exit(0, what="exit code after SIGTERM")
        a.signal(signal.SIGINT)
        a.wait_event({"event": "left"}, what="A reports leaving after SIGINT")
        a.expect_exit(0, what="exit code after SIGINT")
    finally:
        stop_all(a, b)


@case
def unknown_room_is_67(c):
    missing = str(uuid.uuid4())
    chat = Chat(c.tmp, missing, c.env, ["--server", c.srv.url], name="lost")
    try:
        e = chat.wait_event({"event": "error"}, what="an error event")
        check_eq(e.get("code"), 67, "error event code")
        check_eq(e.get("name"), "room-not-found", "error event name")
        chat.expect_exit(67, what="exit code for an unknown room")
        check([e for e in chat.events if e.get("event") == "connected"] == [],
              "a refused room is never reported as connected", "no connected event", chat.events)
        check("does not exist" in chat.stderr(), "stderr says the room does not exist", "…does not exist…",
              chat.stderr())
    finally:
        stop_all(chat)


@case
def third_client_gets_room_full_75(c):
    room = new_room(c)
    a, b, _ = chat_pair(c.tmp, c.srv, room)
    third = None
    try:
        third = Chat(c.tmp, room, c.env, name="third")
        e = third.wait_event({"event": "error"}, what="an error event")
        check_eq(e.get("code"), 75, "error event code")
        third.expect_exit(75, what="exit code for a full room")
        check([e for e in third.events if e.get("event") == "connected"] == [],
              "a refused room is never reported as connected", "no connected event", third.events)
        check("full" in third.stderr(), "stderr says the room is full", "…full…", third.stderr())
        # The two inside are not disturbed.
        a.send("still here")
        b.wait_event({"event": "chat", "text": "still here"}, what="B still receives A")
    finally:
        stop_all(a, b, third)


@case
def bad_password_is_77(c):
    room = new_room(c)
    rc, out, err = run_cli(["chat", "--json", room], client_env(c.tmp, password="nope-nope"))
    check_eq(rc, 77, f"exit code (stderr {err!r})")
    check("refused" in err, "stderr says the login was refused", "…refused…", err)
    events = [json.loads(line) for line in out.splitlines()]
    check(any(e.get("event") == "error" and e.get("code") == 77 for e in events),
          "an error event with code 77 on stdout", "{'event':'error','code':77}", events)


async def _page_like_peer(c):
    room_url, room = create_room(c.srv.url, c.token)
    ws = await ws_connect(c.srv.url, c.token, room)
    chat = Chat(c.tmp, room_url, c.env, name="chat")
    try:
        server_join = await recv_json(ws, what="the server-made join for chat")
        check_eq(server_join.get("type"), "join", "first frame type")
        chat_id = server_join.get("user")
        relayed = await recv_json(ws, what="chat's own join frame")
        check_eq(relayed.get("type"), "join", "chat sends join like the page")
        check(relayed.get("data") is None, "its data is null/absent, as the page sends", None, relayed.get("data"))
        check_eq(relayed.get("room"), room, "room of the relayed join")
        # Media frames are ignored, a chat frame is printed.
        await ws.send(json.dumps({"type": "offer", "room": room,
                                  "data": json.dumps({"type": "offer", "sdp": "v=0\r\n"})}))
        await ws.send(json.dumps({"type": "ice-candidate", "room": room,
                                  "data": json.dumps({"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host",
                                                      "sdpMid": "0", "sdpMLineIndex": 0})}))
        await ws.send(json.dumps({"type": "chat", "room": room, "data": "from the page"}))
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: chat.wait_event({"event": "chat", "text": "from the page"}, what="the page's chat"))
        # chat -> page: data is the text itself, as the page sends it.
        chat.send("to the page")
        frame = await recv_json(ws, what="chat's chat frame")
        check_eq(frame.get("type"), "chat", "frame type")
        check_eq(frame.get("data"), "to the page", "chat data is the text (a JSON string)")
        chat.close_stdin()
        leave = await recv_json(ws, what="leave after chat's end of input")
        check_eq((leave.get("type"), leave.get("user")), ("leave", chat_id), "leave frame")
        await asyncio.get_running_loop().run_in_executor(None, lambda: chat.expect_exit(0))
    finally:
        stop_all(chat)
        await ws.close()


@case
def page_like_peer_sees_join_and_chat_frames(c):
    asyncio.run(asyncio.wait_for(_page_like_peer(c), 45))


@case
def text_mode_is_readable_and_neutralizes_control_characters(c):
    room = new_room(c)
    a = Chat(c.tmp, room, c.env, name="A")
    b = None
    try:
        a.wait_event({"event": "connected"}, what="A connected")
        # B prints text, not JSON: read its stdout raw.
        b = subprocess.Popen([callagent_bin(), "chat", "--no-input", room], env=c.env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=c.env["HOME"])
        a.wait_event({"event": "join", "source": "server"}, what="A sees B")
        a.send("plain \x1b[31mred\x1b[0m text")
        a.close_stdin()
        a.expect_exit(0)
        b.send_signal(signal.SIGTERM)
        out, _ = b.communicate(timeout=10)
        text = out.decode()
        check_eq(b.returncode, 0, "text-mode exit code")
        lines = text.splitlines()
        check(any(" * connected to room " in line for line in lines), "a connected line", "HH:MM:SS * connected…",
              lines)
        chat_lines = [line for line in lines if "<peer>" in line]
        check_eq(len(chat_lines), 1, f"one chat line (all: {lines})")
        check("\x1b" not in text, "no escape character reaches the terminal", "no ESC", repr(text))
        check(chat_lines[0].endswith("<peer> plain \ufffd[31mred\ufffd[0m text"),
              "the chat line, controls replaced", "HH:MM:SS <peer> plain \ufffd[31mred…", chat_lines[0])
        check(any(line.endswith(" left") for line in lines), "a leave line", "HH:MM:SS * user_x left", lines)
    finally:
        stop_all(a)
        if b is not None and b.poll() is None:
            b.kill()
            b.wait()


if __name__ == "__main__":
    run_cases(setup, teardown)
