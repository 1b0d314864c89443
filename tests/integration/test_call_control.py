"""Control of a running `callagent join` (docs/control.md): its --control
Unix socket, `callagent ctl`, --events and --script, inside a private
network namespace with the built-in server.

- socket_file_rules: a PATH that is a regular file is refused (73) and left
  alone; a stale socket is replaced; the mode is 0600 (0660 with
  --control-mode 0660); the file is removed at exit; a bad --script line is
  a usage error (64) naming FILE:LINE before any login.
- bad_input_never_stalls: not JSON, unknown command, bad args, a line over
  64 KiB (error reply, then dropped), a client that never reads (dropped
  when its queue is full); the agent answers `status` after each; ctl's
  exit codes for a refused command (4), a missing socket (69), an agent
  that never replies (5).
- control_during_a_call: a real 360p agent <-> agent call: status and
  stats replies, chat both ways (ctl and --script), mute/unmute seen by the
  partner (its decoded audio level, the black of its snapshot), keyframe,
  set (480p at 15 fps: the partner decodes the new size and its recording
  decodes at both sizes; set audio low; bad values refused, nothing
  changed), source (a black file and a silent one, then the test sources:
  b's snapshot and audio level follow; a missing file refused), hangup
  rejoin (the partner sees leave, join and a second connection),
  quit (exit 0, socket removed); --events - on stdout and --events FILE.
"""

import json
import os
import re
import socket
import stat
import struct
import subprocess
import tempfile
import time
import zlib

import callnet  # noqa: F401  (enters the network namespace first)
from callnet import Agent, casedir, new_room, teardown
from harness import Failure, callagent_bin, case, check, check_eq, run_cases, sealed_env, start_server


def setup():
    tmp = tempfile.mkdtemp(prefix="callagent-control-")
    srv = start_server(tmp)
    return {"tmp": tmp, "srv": srv}


def ctl(path, *words, timeout=20):
    """`callagent ctl --control PATH --json WORDS...`: (exit code, reply or None, stderr)."""
    p = subprocess.run([callagent_bin(), "ctl", "--control", path, "--json"] + list(words),
                       capture_output=True, text=True, timeout=timeout)
    reply = None
    for line in p.stdout.splitlines():
        try:
            reply = json.loads(line)
        except ValueError:
            pass
    return p.returncode, reply, p.stderr


def ctl_ok(path, *words):
    rc, reply, err = ctl(path, *words)
    check(rc == 0 and reply and reply.get("ok") is True, f"ctl {' '.join(words)}", "exit 0, ok", (rc, reply, err))
    return reply


def wait_socket(path, agent, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and stat.S_ISSOCK(os.lstat(path).st_mode):
            return
        if agent.proc.poll() is not None:
            break
        time.sleep(0.05)
    raise Failure(f"control socket {path} did not appear\n{agent.tail()}")


def wait_status(path, pred, what, timeout=30):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        rc, last, _ = ctl(path, "status")
        if rc == 0 and last and pred(last):
            return last
        time.sleep(0.3)
    raise Failure(f"{what}: not within {timeout} s; last status {last}")


class Client:
    """A raw client of the socket: send lines, read replies and events."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(path)
        self.buf = b""
        self.events = []

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self, timeout=10):
        self.s.settimeout(timeout)
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, obj, timeout=10):
        self.send(json.dumps(obj) + "\n")
        while True:
            msg = self.line(timeout)
            if msg is None or "event" not in msg:
                return msg
            self.events.append(msg)

    def wait_event(self, name, pred=lambda e: True, timeout=20):
        for e in self.events:
            if e["event"] == name and pred(e):
                self.events.remove(e)
                return e
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.line(max(0.1, deadline - time.monotonic()))
            except socket.timeout:
                break
            if msg is None:
                break
            if "event" in msg and msg["event"] == name and pred(msg):
                return msg
            if "event" in msg:
                self.events.append(msg)
        raise Failure(f"event {name} not pushed within {timeout} s (others: {[e['event'] for e in self.events]})")

    def closed(self, timeout=10):
        """True when the agent closed this connection (reads what is left)."""
        self.s.settimeout(timeout)
        try:
            while True:
                chunk = self.s.recv(1 << 20)
                if not chunk:
                    return True
        except (socket.timeout, OSError) as e:
            return isinstance(e, ConnectionResetError)

    def close(self):
        self.s.close()


def read_events(path):
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    out.append(json.loads(line))
    return out


def wait_events(read, pred, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        evs = read()
        if pred(evs):
            return evs
        time.sleep(0.2)
    raise Failure(f"{what}: not within {timeout} s; events {[e.get('event') for e in read()]}")


def agent_args(sock, *extra):
    return ["--control", sock, "--stats-interval", "1s", "--no-status"] + list(extra)


# ---- socket file rules ---------------------------------------------------------------

@case
def socket_file_rules(ctx):
    tmp = casedir(ctx, "rules")
    room = new_room(ctx)
    # A regular file at PATH: refused, untouched.
    plain = os.path.join(tmp, "plain.sock")
    with open(plain, "w") as f:
        f.write("keep me")
    a = Agent(tmp, "plain", ctx["srv"], room, agent_args(plain), video="360p")
    rc = a.wait(20)
    check_eq(rc, 73, "exit code when PATH is a regular file")
    check("not a socket" in a.log(), "the message says why", "not a socket", a.tail(5))
    with open(plain) as f:
        check_eq(f.read(), "keep me", "the file is left alone")

    # A stale socket (bound, never listened on, left behind): replaced.
    stale = os.path.join(tmp, "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stale)
    s.close()
    b = Agent(tmp, "stale", ctx["srv"], room, agent_args(stale), video="360p")
    c = Agent(tmp, "group", ctx["srv"], new_room(ctx),
              agent_args(os.path.join(tmp, "group.sock"), "--control-mode", "0660"), video="360p")
    try:
        # The stale file is there from the start: wait_socket alone would
        # return before the agent replaced it. The "control socket:" line is
        # logged after the new one is bound and has its mode.
        b.wait_for_log("replacing the stale control socket")
        b.wait_for_log(re.escape(f"control socket: {stale} (mode"))
        wait_socket(stale, b)
        check_eq(stat.S_IMODE(os.lstat(stale).st_mode), 0o600, "default socket mode")
        # The socket exists before the main loop runs (plugin checks): retry.
        wait_status(stale, lambda st: st["state"] in ("idle", "alone"), "status of an agent alone")
        group = os.path.join(tmp, "group.sock")
        wait_socket(group, c)
        check_eq(stat.S_IMODE(os.lstat(group).st_mode), 0o660, "--control-mode 0660")
        # A second agent on a live socket: refused.
        d = Agent(tmp, "second", ctx["srv"], room, agent_args(stale), video="360p")
        check_eq(d.wait(20), 73, "exit code when another agent listens on PATH")
        check("another process is listening" in d.log(), "the message says why", "listening", d.tail(5))
        check_eq(b.stop(), 0, "exit code after SIGTERM")
        check(not os.path.exists(stale), "socket removed at exit", "absent", os.path.exists(stale))
        check_eq(c.stop(), 0, "exit code after SIGTERM (0660)")
        check(not os.path.exists(group), "socket removed at exit (0660)", "absent", os.path.exists(group))
    finally:
        b.kill()
        c.kill()

    # A bad --script: usage error naming the line, before any login (no server there).
    scene = os.path.join(tmp, "bad.scene")
    with open(scene, "w") as f:
        f.write("# a comment\n5s mute audio\nsoon quit\n")
    e = Agent(tmp, "badscript", ctx["srv"], "http://127.0.0.1:9/room/nothing", ["--script", scene], video="360p")
    # 64, not 69: nothing listens on port 9, so a login would have failed first.
    check_eq(e.wait(20), 64, "exit code of a bad --script")
    check(f"{scene}:3:" in e.log(), "the message names FILE:LINE", f"{scene}:3:", e.tail(5))


# ---- bad input ---------------------------------------------------------------------

@case
def bad_input_never_stalls(ctx):
    tmp = casedir(ctx, "bad")
    sock = os.path.join(tmp, "a.sock")
    a = Agent(tmp, "a", ctx["srv"], new_room(ctx), agent_args(sock), video="360p")
    try:
        wait_socket(sock, a)
        c = Client(sock)
        r = c.request({"command": "status", "id": 1}, timeout=60)  # before the main loop runs
        check(r["ok"] and r["id"] == 1, "status reply", "ok, id 1", r)
        c.send("this is not json\n")
        r = c.line()
        check(r["ok"] is False and "not JSON" in r["error"], "a line that is no JSON", "error reply", r)
        r = c.request({"command": "fly", "id": "x"})
        check(r == {"id": "x", "ok": False, "error": 'unknown command "fly"'}, "unknown command", "error reply", r)
        r = c.request({"command": "mute", "args": {"audio": "yes"}, "id": 3})
        check(r["ok"] is False and r["id"] == 3 and "true or false" in r["error"], "bad args", "error reply", r)
        r = c.request({"command": "mute", "args": {"loud": True}, "id": 4})
        check(r["ok"] is False and "unknown argument" in r["error"], "unknown argument", "error reply", r)
        r = c.request({"command": "keyframe", "id": 5})
        check(r["ok"] is False and "partner" in r["error"], "keyframe with nobody there", "error reply", r)
        r = c.request({"command": "subscribe", "args": {"events": ["nope"]}, "id": 6})
        check(r["ok"] is False, "subscribe to an unknown event", "error reply", r)
        # The same client goes on working after errors.
        r = c.request({"command": "status", "id": 7})
        check(r["ok"] is True, "status after errors", "ok", r)

        # A line over 64 KiB: an error reply, then the agent closes.
        big = Client(sock)
        big.send('{"command":"chat","args":{"text":"' + "x" * (70 * 1024) + '"}}\n')
        r = big.line()
        check(r is not None and r["ok"] is False and "too long" in r["error"], "a line over 64 KiB",
              "error reply", r)
        check(big.closed(), "the client of the long line is dropped", "closed", False)
        big.close()

        # A client that sends and never reads: its queue is bounded, then it is dropped.
        flood = Client(sock)
        burst = (json.dumps({"command": "status"}) + "\n").encode() * 4000
        try:
            flood.s.settimeout(20)
            flood.s.sendall(burst)
        except OSError:
            pass  # the agent may drop it while we still send: also what we test
        deadline = time.monotonic() + 20
        dropped = False
        while time.monotonic() < deadline and not dropped:
            dropped = "dropped (it does not read" in a.log()
            time.sleep(0.2)
        check(dropped, "a client that does not read is dropped", "log line", a.tail(10))
        flood.close()

        r = c.request({"command": "status", "id": 8})
        check(r and r["ok"] is True, "the agent still answers", "ok", r)
        c.close()

        # ctl's exit codes.
        rc, reply, err = ctl(sock, "keyframe")
        check(rc == 4 and reply and reply["ok"] is False, "ctl: a refused command exits 4", 4, (rc, reply, err))
        rc, _, err = ctl(os.path.join(tmp, "none.sock"), "status")
        check_eq(rc, 69, "ctl: a missing socket exits 69")
        rc, _, err = ctl(sock, "mute", "loudly")
        check_eq(rc, 64, "ctl: bad words exit 64")
        mute = subprocess.run([callagent_bin(), "ctl", "--control", sock, "status"], capture_output=True, text=True)
        check(mute.returncode == 0 and "room: " in mute.stdout, "ctl: human output", "room: ...", mute.stdout)
        silent = os.path.join(tmp, "silent.sock")
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(silent)
        ls.listen(1)
        t0 = time.monotonic()
        rc, _, err = ctl(silent, "--timeout", "1s", "status")
        check_eq(rc, 5, "ctl: no reply in time exits 5")
        check(time.monotonic() - t0 < 10, "ctl gave up near its timeout", "< 10 s", time.monotonic() - t0)
        ls.close()
        check(a.proc.poll() is None, "the agent is still running", "running", a.proc.poll())
        check_eq(a.stop(), 0, "exit code after SIGTERM")
    finally:
        a.kill()


# ---- a real call -------------------------------------------------------------------

def read_png(path):
    """A small PNG reader (8-bit RGB/RGBA/gray, no interlace): (w, h, pixels)."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is a PNG", "PNG signature", data[:8])
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    check(depth == 8 and interlace == 0 and ctype in (0, 2, 6), "PNG format supported", "8-bit", (depth, ctype))
    bpp = {0: 1, 2: 3, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        ft = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, rows, bpp


def mean_brightness(path):
    w, h, rows, bpp = read_png(path)
    total = n = 0
    for r in rows[::4]:
        for x in range(0, w * bpp, bpp * 4):
            total += sum(r[x:x + min(bpp, 3)]) / min(bpp, 3)
            n += 1
    return total / n


def audio_level(sock):
    st = ctl_ok(sock, "stats")["stats"]
    return (st["audio"]["in"] or {}).get("level_dbfs")


def wait_level(sock, pred, what, timeout=15):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        lv = audio_level(sock)
        seen.append(lv)
        if pred(lv):
            return lv
        time.sleep(1.0)
    raise Failure(f"{what}: partner's audio level not so within {timeout} s: {seen}")


@case
def control_during_a_call(ctx):
    tmp = casedir(ctx, "call")
    room = new_room(ctx)
    a_sock, b_sock = os.path.join(tmp, "a.sock"), os.path.join(tmp, "b.sock")
    b_events = os.path.join(tmp, "b-events.jsonl")
    scene = os.path.join(tmp, "b.scene")
    with open(scene, "w") as f:
        f.write("# b's scenario\n1s chat hello from the script\n")
    a = Agent(tmp, "a", ctx["srv"], room, agent_args(a_sock, "--events", "-"), video="360p")
    time.sleep(0.5)
    b = Agent(tmp, "b", ctx["srv"], room,
              agent_args(b_sock, "--events", b_events, "--script", scene, "--snapshot",
                         os.path.join(tmp, "b.png"), "--record", os.path.join(tmp, "b.mkv")), video="360p")

    def a_events():
        return [json.loads(l) for l in a.stdout().splitlines() if l.startswith("{")]

    try:
        wait_socket(a_sock, a)
        wait_socket(b_sock, b)
        sub = Client(a_sock)
        r = sub.request({"command": "subscribe", "args": {"events": ["chat", "muted", "partner-left",
                                                                        "partner-joined", "connected"]}, "id": 1},
                        timeout=60)  # the socket is up before the main loop (plugin checks)
        check(r["ok"] and r["events"] == sorted(["chat", "muted", "partner-left", "partner-joined", "connected"]),
              "subscribe reply", "the events", r)

        # Status: connected, with the partner, the ICE path (after a stats interval), presets, outputs.
        st = wait_status(a_sock, lambda s: s["state"] == "connected" and s.get("ice"), "a connected")
        check(st["room"] and st["room"] in room, "status: room", room, st["room"])
        check(st["partner"] != "", "status: partner", "an id", st)
        check_eq(st["ice"]["local_type"], "host", "status: ICE path on loopback")
        check_eq((st["video"]["width"], st["video"]["height"]), (640, 360), "status: the video sent")
        check_eq((st["audio_muted"], st["video_muted"]), (False, False), "status: nothing muted")
        check("recordings" in st["outputs"], "status: outputs", "recordings", st["outputs"])
        wait_status(b_sock, lambda s: s["state"] == "connected", "b connected")
        stats = ctl_ok(a_sock, "stats")["stats"]
        check("video" in stats and "audio" in stats and "recovery" in stats, "stats: the --stats-log fields",
              "video, audio, recovery", stats.keys())

        # Chat both ways: the script's (b -> a) and ctl's (a -> b).
        e = sub.wait_event("chat", lambda e: e["text"] == "hello from the script")
        check(e["from"] != "", "chat event names the sender", "an id", e)
        ctl_ok(a_sock, "chat", "hello", "from", "a")
        wait_events(lambda: read_events(b_events),
                    lambda evs: any(x["event"] == "chat" and x["text"] == "hello from a" for x in evs),
                    "b's --events file has a's chat")

        # Mute: b hears silence and sees black; unmute brings both back.
        wait_level(b_sock, lambda lv: lv is not None and lv > -40, "sound before mute")
        r = ctl_ok(a_sock, "mute", "audio", "video")
        check_eq((r["audio_muted"], r["video_muted"]), (True, True), "mute reply")
        # One event per change: audio first, then both.
        e = sub.wait_event("muted", lambda e: e["audio"] and not e["video"])
        e = sub.wait_event("muted")
        check_eq((e["audio"], e["video"]), (True, True), "muted events")
        wait_level(b_sock, lambda lv: lv is None or lv < -60, "silence while muted")
        time.sleep(1.0)  # a few black frames decoded
        snap = ctl_ok(b_sock, "snapshot", os.path.join(tmp, "muted.png"))
        dark = mean_brightness(snap["path"])
        check(dark < 40, "b's snapshot of a muted partner is black", "< 40", dark)
        ctl_ok(a_sock, "unmute", "both")
        wait_level(b_sock, lambda lv: lv is not None and lv > -40, "sound after unmute")
        time.sleep(1.0)
        bright = mean_brightness(ctl_ok(b_sock, "snapshot", os.path.join(tmp, "unmuted.png"))["path"])
        check(bright > 60, "b's snapshot after unmute shows the pattern", "> 60", bright)

        # Keyframe: b asks a; a's encoder is asked for one.
        before = ctl_ok(b_sock, "stats")["stats"]["recovery"]["keyframes_requested"]
        ctl_ok(b_sock, "keyframe")
        deadline = time.monotonic() + 10
        after = before
        while time.monotonic() < deadline and after <= before:
            time.sleep(1.0)
            after = ctl_ok(b_sock, "stats")["stats"]["recovery"]["keyframes_requested"]
        check(after > before, "b's keyframe request was sent (PLI)", f"> {before}", after)

        # Set mid-call: a sends 480p at 15 fps, then the audio preset's bitrate; b decodes
        # the new size (and still hears a), a bad value changes nothing.
        r = ctl_ok(a_sock, "set", "video", "480p", "fps", "15")
        check_eq((r["video"]["width"], r["video"]["height"], r["video"]["fps"]), (854, 480, 15),
                 "set reply: the video sent now")
        rc, reply, _ = ctl(a_sock, "set", "video", "8k")
        check(rc == 4 and reply and "8k" in reply.get("error", ""), "set video 8k is refused, naming it",
              "exit 4", (rc, reply))
        rc, _, _ = ctl(a_sock, "set", "fps", "7")
        check_eq(rc, 4, "set fps 7 is refused")
        check_eq(ctl_ok(a_sock, "status")["video"]["height"], 480, "status after the refusals: still 480p")
        deadline = time.monotonic() + 15
        seen = []
        while time.monotonic() < deadline:
            vin = ctl_ok(b_sock, "stats")["stats"]["video"]["in"] or {}
            seen.append((vin.get("width"), vin.get("height"), vin.get("fps")))
            if seen[-1][:2] == (854, 480) and (vin.get("fps") or 0) > 5:
                break
            time.sleep(1.0)
        check(seen and seen[-1][:2] == (854, 480), "b decodes a's new size", "854x480", seen)
        r = ctl_ok(a_sock, "set", "audio", "low")
        check_eq(r["audio"]["kbps"], 32, "set audio low: the Opus bitrate")
        wait_level(b_sock, lambda lv: lv is not None and lv > -40, "sound after set audio low")
        set_at = time.monotonic()

        # Source mid-call: a's video from a black file, a's audio from a silent one, then
        # the test sources again; b sees and hears each; a missing file changes nothing.
        black, quiet = os.path.join(tmp, "black.webm"), os.path.join(tmp, "quiet.wav")
        for desc, path in ((["videotestsrc", "pattern=black", "num-buffers=30", "!", "video/x-raw,width=320,height=180,"
                             "framerate=30/1", "!", "vp8enc", "!", "webmmux"], black),
                           (["audiotestsrc", "wave=silence", "num-buffers=50", "!", "wavenc"], quiet)):
            subprocess.run(["gst-launch-1.0", "-q"] + desc + ["!", "filesink", f"location={path}"], check=True,
                           timeout=60, capture_output=True)
        rc, reply, _ = ctl(a_sock, "source", "video", "file:/nonexistent/clip.webm")
        check(rc == 4 and reply and "/nonexistent/clip.webm" in reply.get("error", ""),
              "a missing file is refused, naming it", "exit 4", (rc, reply))
        check_eq(ctl_ok(a_sock, "status")["video"]["source"], "test", "status after the refusal: still the test source")
        r = ctl_ok(a_sock, "source", "video", f"file:{black},loop", "audio", f"file:{quiet},loop")
        check_eq((r["video"]["source"], r["audio"]["source"]), (f"file:{black},loop", f"file:{quiet},loop"),
                 "source reply: the sources now")
        wait_level(b_sock, lambda lv: lv is None or lv < -60, "silence from the silent file")
        time.sleep(1.0)
        dark = mean_brightness(ctl_ok(b_sock, "snapshot", os.path.join(tmp, "black.png"))["path"])
        check(dark < 40, "b sees the black file", "< 40", dark)
        ctl_ok(a_sock, "source", "video", "test", "audio", "test")
        wait_level(b_sock, lambda lv: lv is not None and lv > -40, "sound from the test source again")
        time.sleep(1.0)
        bright = mean_brightness(ctl_ok(b_sock, "snapshot", os.path.join(tmp, "test-again.png"))["path"])
        check(bright > 60, "b sees the test pattern again", "> 60", bright)

        # Hangup + rejoin: a sees b leave and come back, a second connection.
        ctl_ok(b_sock, "hangup", "rejoin")
        sub.wait_event("partner-left")
        sub.events = [x for x in sub.events if x["event"] != "partner-joined"]  # the first visit's
        sub.wait_event("partner-joined")
        e = sub.wait_event("connected", lambda e: e["connections"] >= 2, timeout=30)
        check(e["peer"] >= 2, "a second connection: a new peer", ">= 2", e)
        st = wait_status(b_sock, lambda s: s["state"] == "connected", "b connected again")
        check(st["connections"] >= 2, "b counts two connections", ">= 2", st)
        evs = read_events(b_events)
        names = [x["event"] for x in evs]
        check("disconnected" in names and names.count("connected") >= 2, "b's events: disconnected, connected x2",
              "both", names)

        # Quit: like SIGTERM; the socket goes away.
        ctl_ok(b_sock, "quit")
        check_eq(b.wait(30), 0, "b's exit code after quit")
        # b's first visit's recording plays across a's change to 480p (the
        # visit ended with the hangup, some seconds after the set).
        info = callnet.probe(os.path.join(tmp, "b.mkv"))
        v = info["streams"].get("video")
        check(v is not None and v["frames"] > 0 and v["span"] > 2.0, "b's recording across the size change plays",
              "video frames", (info, time.monotonic() - set_at))
        fr = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=width,height",
                             "-of", "csv=p=0", os.path.join(tmp, "b.mkv")], capture_output=True, text=True, timeout=60)
        sizes = [tuple(int(x) for x in l.split(",")[:2]) for l in fr.stdout.splitlines() if l.count(",") >= 1]
        check(fr.returncode == 0 and (640, 360) in sizes and sizes.count((854, 480)) >= 15,
              "b's recording decodes at 360p and then at 480p", "both sizes, >= 15 frames at 480p",
              (fr.returncode, sorted(set(sizes)), sizes.count((854, 480)), fr.stderr[-500:]))
        check(not os.path.exists(b_sock), "b's socket removed", "absent", True)
        sub.wait_event("partner-left")
        sub.close()
        check_eq(a.stop(), 0, "a's exit code")
        names = [x["event"] for x in a_events()]
        for n in ("partner-joined", "connected", "chat", "muted", "disconnected", "partner-left"):
            check(n in names, f"a's --events - has {n}", n, names)
        check("stats" in names, "a's --events - has stats intervals", "stats", names)
    finally:
        a.kill()
        b.kill()


if __name__ == "__main__":
    run_cases(setup, teardown)
