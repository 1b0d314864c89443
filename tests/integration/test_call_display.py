"""`callagent join --display` for real: an X server (Xvfb) inside the test's
network namespace, an agent showing its partner's video on it, and what a
person would see read back from the screen.

- while nobody is in the room the slate is on screen (its dark background,
  words in the middle: "Room ...", "waiting for someone to join"), full
  screen or in a 640x360 window (title "callagent");
- the partner's video comes: the slate goes, one window shows it;
  --fullscreen: the window covers the screen; --no-fullscreen: it has the
  video's size;
- a screenshot (ffmpeg x11grab) shows the partner's SMPTE colour bars,
  scaled to the window;
- the partner leaves: its window goes (the display sink belongs to the
  partner's peer connection) and the slate is back; a new partner that
  sends a plain orange picture comes: one window shows orange; the agent
  ran on throughout;
- the exit summary and the --report still count the decoded frames;
- alone in the room, the server killed and started again: the slate stays
  and says "The server is unreachable", then waits for someone again;
- --self-view bottom-right: the agent's own picture in that corner, over
  the slate and over the partner's video.

Skips (77) with the reason when Xvfb, xwininfo (x11-utils) or ffmpeg is
missing; scripts/install-deps installs them. Set CALLAGENT_TEST_SHOTS=DIR to
keep the screenshots (PNG) there.
"""

import json
import os
import re
import select
import shutil
import struct
import subprocess
import tempfile
import time
import zlib

import callnet  # noqa: F401  (enters the network namespace first)
from callnet import Agent, casedir, new_room
from harness import Failure, case, check, check_eq, create_room, login, run_cases, skip, start_server

SCREEN = (1280, 720)
VIDEO = (854, 480)  # --video 480p
# The test source: videotestsrc pattern=smpte, horizontal-speed=4 (it
# scrolls), top two thirds: seven 100 % bars in this (cyclic) order.
SMPTE_BARS = [("white", (255, 255, 255)), ("yellow", (255, 255, 0)), ("cyan", (0, 255, 255)),
              ("green", (0, 255, 0)), ("magenta", (255, 0, 255)), ("red", (255, 0, 0)),
              ("blue", (0, 0, 255))]
ORANGE = (224, 112, 32)  # the second partner's picture
SLATE_WINDOW = (640, 360)  # the slate's own window without full screen


# ---- the X server and what is on it ------------------------------------------------

class Xvfb:
    """Xvfb on the first free display number (-displayfd), started inside
    this namespace. (Abstract unix sockets are per network namespace: from
    another namespace libxcb's connect to @/tmp/.X11-unix/XN is refused and
    it falls back to the /tmp/.X11-unix/XN file, which works. Started in
    here, both work.)"""

    def __init__(self, tmp, size=SCREEN):
        self.log_path = os.path.join(tmp, "xvfb.log")
        r, w = os.pipe()
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                ["Xvfb", "-displayfd", str(w), "-screen", "0", f"{size[0]}x{size[1]}x24",
                 "-nolisten", "tcp", "-noreset"],
                pass_fds=(w,), stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        os.close(w)
        number = b""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not number.endswith(b"\n"):
            ready, _, _ = select.select([r], [], [], 0.2)
            if ready:
                chunk = os.read(r, 16)
                if not chunk:
                    break
                number += chunk
            elif self.proc.poll() is not None:
                break
        os.close(r)
        if not number.strip().isdigit():
            self.stop()
            with open(self.log_path, errors="replace") as f:
                raise Failure(f"Xvfb did not start\n{f.read()}")
        self.display = ":" + number.decode().strip()
        self.size = size

    def env(self):
        return {"DISPLAY": self.display}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def windows(self):
        """The top-level windows that are mapped: [{id, name, w, h, x, y}]."""
        out = subprocess.run(["xwininfo", "-display", self.display, "-root", "-children"],
                             capture_output=True, text=True, timeout=10)
        if out.returncode != 0:
            raise Failure(f"xwininfo -root: {out.stderr.strip()}")
        found = []
        rx = re.compile(r'^\s+(0x[0-9a-f]+) (?:"(.*)"|\(has no name\)): \(.*\)\s+(\d+)x(\d+)\+(-?\d+)\+(-?\d+)')
        for line in out.stdout.splitlines():
            m = rx.match(line)
            if not m:
                continue
            info = subprocess.run(["xwininfo", "-display", self.display, "-id", m[1]],
                                  capture_output=True, text=True, timeout=10).stdout
            if "IsViewable" not in info:
                continue
            found.append({"id": m[1], "name": m[2], "w": int(m[3]), "h": int(m[4]),
                          "x": int(m[5]), "y": int(m[6])})
        return found

    def wait_for_screen(self, pick, want, what, timeout=20):
        """Screenshots until pick(windows) names the windows to look at (a
        tuple, or None while the mapped windows are not those) and
        want(shot, *those) says (True, seen); returns (those, shot)."""
        deadline = time.monotonic() + timeout
        while True:
            ws = self.windows()
            wins = pick(ws)
            shot = None
            if wins:
                shot = self.screenshot()
                ok, seen = want(shot, *wins)
                if ok:
                    return wins, shot
            else:
                seen = f"{len(ws)} windows: {ws}"
            if time.monotonic() > deadline:
                if shot:
                    keep(shot, "failed-" + re.sub(r"\W+", "-", what))
                raise Failure(f"{what}: not on screen within {timeout} s\n    saw: {seen}")
            time.sleep(0.3)

    def wait_for_one_window(self, want, what, timeout=20):
        """Exactly one window mapped, showing `want` (a function of the shot
        and the window returning (ok, seen));
        returns (window, shot). The slate's window and the partner's overlap
        for a moment when one replaces the other."""
        (win,), shot = self.wait_for_screen(lambda ws: tuple(ws) if len(ws) == 1 else None, want, what, timeout)
        return win, shot

    def wait_for_no_window(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ws = self.windows()
            if not ws:
                return
            time.sleep(0.2)
        raise Failure(f"windows still on screen after {timeout} s: {ws}")

    def screenshot(self):
        """The whole screen as (width, height, RGB bytes), through ffmpeg's x11grab."""
        w, h = self.size
        out = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "x11grab",
                              "-draw_mouse", "0", "-video_size", f"{w}x{h}", "-i", f"{self.display}+0,0", "-frames:v", "1",
                              "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                             capture_output=True, timeout=30)
        if out.returncode != 0 or len(out.stdout) != w * h * 3:
            raise Failure(f"ffmpeg x11grab of {self.display}: exit {out.returncode}, "
                          f"{len(out.stdout)} bytes\n{out.stderr.decode(errors='replace')}")
        return Shot(w, h, out.stdout)


class Shot:
    def __init__(self, w, h, rgb):
        self.w, self.h, self.rgb = w, h, rgb

    def pixel(self, x, y):
        i = (y * self.w + x) * 3
        return tuple(self.rgb[i:i + 3])

    def mean(self, x, y, r=4):
        """Mean colour of the (2r+1)² square around (x, y)."""
        acc = [0, 0, 0]
        n = 0
        for yy in range(max(0, y - r), min(self.h, y + r + 1)):
            for xx in range(max(0, x - r), min(self.w, x + r + 1)):
                p = self.pixel(xx, yy)
                for c in range(3):
                    acc[c] += p[c]
                n += 1
        return tuple(round(a / n) for a in acc)

    def brightness(self, win, step=16):
        """Mean brightness (0..255) inside the window."""
        vals = [sum(self.pixel(x, y)) / 3 for y in range(win["y"], win["y"] + win["h"], step)
                for x in range(win["x"], win["x"] + win["w"], step)]
        return sum(vals) / len(vals)

    def save_png(self, path):
        raw = b"".join(b"\x00" + self.rgb[y * self.w * 3:(y + 1) * self.w * 3] for y in range(self.h))

        def chunk(kind, data):
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

        with open(path, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0))
                    + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def close(c, want, tol=40):
    return all(abs(a - b) <= tol for a, b in zip(c, want))


def bars_in(shot, win, samples=91):
    """The bar colours along a row a third of the way down the window, left
    to right, each run of one colour once (unclassified pixels skipped)."""
    y = win["y"] + win["h"] // 3
    seq = []
    for i in range(samples):
        c = shot.mean(win["x"] + int((i + 0.5) * win["w"] / samples), y, 2)
        name = next((n for n, want in SMPTE_BARS if close(c, want, 60)), None)
        if name and (not seq or seq[-1] != name):
            seq.append(name)
    return seq


def smpte_bars(shot, win):
    """All seven bars, each followed by the next one in the pattern's order
    (it scrolls: where the row starts does not matter)."""
    seq = bars_in(shot, win)
    order = [n for n, _ in SMPTE_BARS]
    ok = set(seq) == set(order) and all(order[(order.index(a) + 1) % 7] == b for a, b in zip(seq, seq[1:]))
    return ok, seq


def all_orange(shot, win):
    seen = [shot.mean(win["x"] + win["w"] * i // 4, win["y"] + win["h"] * j // 4) for i in (1, 2, 3)
            for j in (1, 2, 3)]
    return all(close(c, ORANGE, 24) for c in seen), seen


def slate(shot, win):
    """The slate: its background over most of the window, and words (light
    pixels) in its middle band."""
    pts = [(win["x"] + win["w"] * i // 24, win["y"] + win["h"] * j // 24) for i in range(1, 24) for j in range(1, 24)]
    bg = sum(1 for x, y in pts if close(shot.pixel(x, y), callnet.SLATE_RGB, 14)) / len(pts)
    band = [shot.pixel(win["x"] + win["w"] * i // 200, win["y"] + win["h"] * j // 40)
            for i in range(20, 180) for j in range(14, 26)]
    light = sum(1 for c in band if min(c) > 170)
    return bg > 0.8 and light > 20, f"background share {bg:.2f}, light pixels in the middle {light}"


def keep(shot, name):
    """Saves the screenshot beside the logs (and in $CALLAGENT_TEST_SHOTS)."""
    path = os.path.join(CTX["tmp"], name + ".png")
    shot.save_png(path)
    dest = os.environ.get("CALLAGENT_TEST_SHOTS")
    if dest:
        os.makedirs(dest, exist_ok=True)
        shutil.copy(path, dest)
    print(f"    screenshot: {path}", flush=True)
    return path


# ---- the call -----------------------------------------------------------------------

CTX = {}


def setup():
    for tool, pkg in (("Xvfb", "xvfb"), ("xwininfo", "x11-utils"), ("ffmpeg", "ffmpeg")):
        if not shutil.which(tool):
            skip(f"{tool} is not installed (apt-get install {pkg}; scripts/install-deps does)")
    tmp = tempfile.mkdtemp(prefix="callagent-display-")
    CTX["tmp"] = tmp
    CTX["xvfb"] = Xvfb(tmp)
    CTX["srv"] = start_server(tmp)
    # The second partner's picture: plain orange, VP8 in WebM, looped.
    CTX["orange"] = os.path.join(tmp, "orange.webm")
    out = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                          "color=c=0x%02x%02x%02x:s=%dx%d:r=30:d=4" % (ORANGE + VIDEO),
                          "-c:v", "libvpx", "-b:v", "300k", "-y", CTX["orange"]],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit(f"ffmpeg could not make the orange clip: {out.stderr}")
    return CTX


def teardown(ctx, failed):
    ctx["xvfb"].stop()
    callnet.teardown(ctx, failed)  # logs and screenshots kept in ctx["tmp"] on failure


def report_frames(path):
    """Decoded frames per peer connection, from the report's intervals."""
    with open(path) as f:
        rep = json.load(f)
    per_peer = {}
    for iv in rep["intervals"]:
        if iv.get("peer"):
            vin = iv["video"]["in"]
            per_peer[iv["peer"]] = max(per_peer.get(iv["peer"], 0), vin.get("frames_decoded") or 0)
    return rep, per_peer


def display_call(ctx, name, display_args, expect_fullscreen, rejoin):
    tmp = casedir(ctx, name)
    xv = ctx["xvfb"]
    room = new_room(ctx)
    xv.wait_for_no_window(5)
    shown = Agent(tmp, "shown", ctx["srv"], room,
                  ["--display", "--audio-sink", "fakesink", "--report", "report.json"] + display_args,
                  env=xv.env())
    partners = []
    try:
        shown.wait_for_log(r"connected to ws", timeout=20)
        # Nobody in the room: the slate says so.
        swin, shot = xv.wait_for_one_window(slate, "the slate while nobody is in the room")
        keep(shot, f"{name}-slate")
        check_eq(swin["name"], "callagent", "the slate's window title")
        sgot = (swin["x"], swin["y"], swin["w"], swin["h"]) if expect_fullscreen else (swin["w"], swin["h"])
        check_eq(sgot, (0, 0) + SCREEN if expect_fullscreen else SLATE_WINDOW, "the slate's window geometry")
        shown.wait_for_log(r"slate.*: Waiting for someone to join / room ", timeout=10)

        partners.append(Agent(tmp, "bars", ctx["srv"], room, []))
        shown.wait_for_log("first remote video decoded", timeout=30)
        # The slate goes, the partner's window stays.
        win, shot = xv.wait_for_one_window(smpte_bars, "the partner's SMPTE bars")
        check_eq(win["name"], "callagent", "window title")
        want = (0, 0) + SCREEN if expect_fullscreen else VIDEO
        got = (win["x"], win["y"], win["w"], win["h"]) if expect_fullscreen else (win["w"], win["h"])
        check_eq(got, want, "window geometry " + ("(covers the screen)" if expect_fullscreen else
                                                  "(the video's size)"))
        keep(shot, f"{name}-bars")
        check(shot.brightness(win) > 80, "the window is not black", "mean brightness > 80", shot.brightness(win))
        if not expect_fullscreen:
            # Outside the window the root stays black.
            outside = shot.mean(min(SCREEN[0] - 5, win["x"] + win["w"] + 100), SCREEN[1] - 20)
            check(close(outside, (0, 0, 0), 10), "outside the window: the black root", (0, 0, 0), outside)

        if rejoin:
            time.sleep(3.0)  # a few stats intervals with this partner's video
            check_eq(partners[0].stop(), 0, "exit code of the first partner")
            shown.wait_for_log(r"partner \S+ left", timeout=20)
            # The window belongs to the partner's peer connection: it goes
            # with it, and the slate is back.
            shown.wait_for_log(r"slate.*: Waiting for someone to join / room ", timeout=10, count=2)
            _, shot = xv.wait_for_one_window(slate, "the slate after the partner left", timeout=15)
            keep(shot, f"{name}-slate-again")
            check(shown.proc.poll() is None, "the displaying agent runs on after its partner left",
                  "running", shown.proc.poll())
            partners.append(Agent(tmp, "orange", ctx["srv"], room, [],
                                  sources=(f"file:{ctx['orange']},loop", "test")))
            shown.wait_for_log("first remote video decoded", timeout=30, count=2)
            win2, shot = xv.wait_for_one_window(all_orange, "the second partner's orange picture")
            got = (win2["x"], win2["y"], win2["w"], win2["h"]) if expect_fullscreen else (win2["w"], win2["h"])
            check_eq(got, want, "second window geometry")
            keep(shot, f"{name}-orange")
            # A new window: the first one was destroyed in between (X may
            # give the new one the same id: it reuses a closed client's ids).
            print(f"    second partner: a new window {win2['id']} (the first, {win['id']}, was destroyed "
                  "when its partner left)", flush=True)

        time.sleep(2.0)  # a few more stats intervals with video
        check(shown.proc.poll() is None, "the displaying agent is still running", "running", shown.proc.poll())
        check_eq(shown.stop(), 0, "exit code of the displaying agent after SIGTERM")
        for p in partners:
            p.stop()
    finally:
        shown.kill()
        for p in partners:
            p.kill()
    s = shown.summary()
    check_eq(s["partners"], len(partners), "partner connections of the displaying agent")
    check(s["video_frames"] > 60 * len(partners), "the displaying agent decoded the video",
          f"> {60 * len(partners)} frames", s)
    rep, per_peer = report_frames(os.path.join(tmp, "report.json"))
    check_eq(len(per_peer), len(partners), "peers in the report's intervals")
    check(all(n > 30 for n in per_peer.values()), "the report counts decoded frames for every partner",
          "> 30 per peer", per_peer)
    shown_counts = [(int(a), int(b)) for a, b in
                    re.findall(r"display: (\d+) frames shown, (\d+) dropped as late", shown.log())]
    check(len(shown_counts) == len(partners) and all(a > 30 for a, _ in shown_counts),
          "the display sink rendered the frames (its own count, logged per partner)",
          f"{len(partners)} x '> 30 frames shown'", shown_counts)
    total = rep["summary"]["metrics"]["video.in.frames_decoded"]["total"]
    check(total and total > 30 * len(partners), "report summary video.in.frames_decoded",
          f"> {30 * len(partners)}", total)
    check("error" not in [l.split()[1] for l in shown.log().splitlines() if len(l.split()) > 1],
          "no error logged by the displaying agent", "no error", shown.tail(20))
    return shown


@case
def ximagesink_fullscreen_partner_comes_back(ctx):
    display_call(ctx, "ximagesink-fullscreen", ["--video-sink", "ximagesink", "--fullscreen"],
                 expect_fullscreen=True, rejoin=True)


@case
def autovideosink_window_of_the_video_size(ctx):
    shown = display_call(ctx, "auto-window", ["--no-fullscreen"], expect_fullscreen=False, rejoin=False)
    check(re.search(r"autovideosink (chose|uses) (xvimagesink|ximagesink)", shown.log()),
          "the log names the sink autovideosink chose", "autovideosink chose ximagesink", shown.tail(30))


@case
def autovideosink_fullscreen_by_default(ctx):
    display_call(ctx, "auto-fullscreen", [], expect_fullscreen=True, rejoin=False)


@case
def slate_through_a_server_restart(ctx):
    """Alone in the room, the server goes away and comes back: the slate
    stays on screen and says so, then waits for someone again."""
    from test_client_common import free_port, start_server_on
    tmp = casedir(ctx, "restart")
    xv = ctx["xvfb"]
    xv.wait_for_no_window(5)
    port = free_port()
    db = os.path.join(tmp, "rooms.db")
    srv = start_server_on(tmp, port, db)
    servers = [srv]
    shown = None
    try:
        room = create_room(srv.url, login(srv.url, srv.user, srv.password))[0]
        shown = Agent(tmp, "shown", srv, room, ["--display", "--video-sink", "ximagesink", "--audio-sink", "fakesink"],
                      env=xv.env())
        wait = r"slate.*: Waiting for someone to join / room "
        shown.wait_for_log(wait, timeout=20)
        srv.proc.kill()
        srv.proc.wait()
        shown.wait_for_log(r"slate: The server is unreachable: trying again / room ", timeout=20)
        _, shot = xv.wait_for_one_window(slate, "the slate while the server is gone")
        keep(shot, "restart-unreachable")
        servers.append(start_server_on(tmp, port, db))
        shown.wait_for_log(wait, timeout=30, count=2)
        check(shown.proc.poll() is None, "the agent runs on", "running", shown.proc.poll())
        check_eq(len(xv.windows()), 1, "one window (the slate) throughout")
        check_eq(shown.stop(), 0, "exit code after SIGTERM")
    finally:
        if shown:
            shown.kill()
        for s in servers:
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()


def self_view_and_one(ws):
    """(the self-view window, the one other window), or None."""
    own = [w for w in ws if w["name"] == "callagent self-view"]
    rest = [w for w in ws if w["name"] != "callagent self-view"]
    return (own[0], rest[0]) if len(own) == 1 and len(rest) == 1 else None


@case
def self_view_in_a_corner(ctx):
    """--self-view bottom-right: the agent's own (orange) video in a small
    window in that corner, over the slate and then over the partner's
    colour bars."""
    tmp = casedir(ctx, "self-view")
    xv = ctx["xvfb"]
    xv.wait_for_no_window(5)
    room = new_room(ctx)
    shown = Agent(tmp, "shown", ctx["srv"], room,
                  ["--display", "--video-sink", "ximagesink", "--audio-sink", "fakesink", "--self-view", "bottom-right"],
                  env=xv.env(), sources=(f"file:{ctx['orange']},loop", "test"))
    partner = None

    def corner_orange(shot, own):
        pts = [shot.mean(own["x"] + own["w"] * i // 4, own["y"] + own["h"] * j // 4) for i in (1, 2, 3) for j in (1, 2, 3)]
        return all(close(c, ORANGE, 30) for c in pts), pts

    def both(in_corner, on_main):
        def want(shot, own, main):
            (a, sa), (b, sb) = in_corner(shot, own), on_main(shot, main)
            return a and b, (sa, sb)
        return want

    try:
        (own, _), shot = xv.wait_for_screen(self_view_and_one, both(corner_orange, slate), "the self-view over the slate")
        keep(shot, "self-view-slate")
        w, h = SCREEN[0] // 4, SCREEN[0] // 4 * 9 // 16
        check(abs(own["w"] - w) <= 2 and abs(own["h"] - h) <= 2, "the self-view is a quarter of the screen's width",
              (w, h), (own["w"], own["h"]))
        check(own["x"] + own["w"] > SCREEN[0] - 40 and own["y"] + own["h"] > SCREEN[1] - 40,
              "the self-view is in the bottom-right corner", "within 40 px of it", own)
        partner = Agent(tmp, "bars", ctx["srv"], room, [])
        shown.wait_for_log("first remote video decoded", timeout=30)
        _, shot = xv.wait_for_screen(self_view_and_one, both(corner_orange, smpte_bars),
                                     "the self-view over the partner's colour bars")
        keep(shot, "self-view-bars")
        check_eq(shown.stop(), 0, "exit code after SIGTERM")
        partner.stop()
    finally:
        shown.kill()
        if partner:
            partner.kill()
    check("self-view: the local video" in shown.log(), "the log says where the self-view is", "self-view: ...",
          shown.tail(20))


@case
def sink_that_cannot_open_here_call_goes_on(ctx):
    # Xvfb has no XVideo: xvimagesink cannot open. The call goes on, the
    # video decoded and counted without a display, and the log says why.
    tmp = casedir(ctx, "xv")
    room = new_room(ctx)
    shown = Agent(tmp, "shown", ctx["srv"], room,
                  ["--display", "--video-sink", "xvimagesink", "--audio-sink", "fakesink"],
                  env=ctx["xvfb"].env())
    partner = None
    try:
        shown.wait_for_log(r"connected to ws", timeout=20)
        partner = Agent(tmp, "bars", ctx["srv"], room, [])
        shown.wait_for_log("first remote video decoded", timeout=30)
        time.sleep(2.0)
        check_eq(ctx["xvfb"].windows(), [], "no window (neither the slate nor the video)")
        check_eq(shown.stop(), 0, "exit code")
        partner.stop()
    finally:
        shown.kill()
        if partner:
            partner.kill()
    check(re.search(r"xvimagesink cannot open its output here", shown.log()), "the log names the sink",
          "xvimagesink cannot open its output here", shown.tail(30))
    check(re.search(r"cannot show the remote video on 'xvimagesink'; decoding it without a display",
                    shown.log()), "the log says the call goes on without a display", "", shown.tail(30))
    check(shown.summary()["video_frames"] > 30, "video decoded without the display", "> 30 frames",
          shown.summary())


if __name__ == "__main__":
    run_cases(setup, teardown)
