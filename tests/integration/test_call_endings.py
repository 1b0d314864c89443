"""Every way a recording bot's call ends finalizes its recording, and an
output that fails during the call stops only itself.

Endings (each: a recorder and a sender on loopback, the file read back with
ffprobe: a duration (index written), frames for the time recorded, decoded
to the end without errors): the partner leaves with --leave-when-alone,
--duration, SIGINT, the server gone for good (--no-reconnect: a fatal
signaling error). SIGTERM and SIGKILL are in test_call_recording_signals.py,
the connect timeout in test_call_connect_timeout.py.

Output failures: a recording on a full disk (a 300 KiB tmpfs in a private
mount namespace) and a recording whose file is removed during the call:
logged with the path, stopped, the call goes on (no new peer connection, no
FILE-2), the exit code says it (74 io-error) unless --output-errors ignore,
and the report lists it; --output-errors fail ends the call at once.

A camera that fails mid-call (a stand-in device element that errors every
4 s) ends neither the call nor the partner's recording: black frames in
its place, the device opened again, `source` events lost / back.
"""

import ctypes
import json
import os
import re
import signal
import subprocess
import tempfile
import time

import callnet  # noqa: F401  (enters the network namespace first)
from callnet import Agent, check_recording, probe, teardown
from harness import Failure, case, check, check_eq, create_room, login, run_cases, skip, start_server

CLONE_NEWNS = 0x00020000


def _private_mounts():
    """Our own mount namespace (children inherit it): a tmpfs mounted here
    is seen by nobody else and goes with the test."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        skip(f"cannot make a mount namespace (errno {ctypes.get_errno()}): run as root")
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)


def setup():
    _private_mounts()
    tmp = tempfile.mkdtemp(prefix="callagent-endings-")
    return {"tmp": tmp, "srv": start_server(tmp)}


def room_of(srv):
    return create_room(srv.url, login(srv.url, srv.user, srv.password))[0]


def casedir(ctx, name):
    d = os.path.join(ctx["tmp"], name)
    os.makedirs(d)
    return d


def decodes_cleanly(path):
    """ffmpeg decodes the whole file with no error, and its muxer sees no
    timestamp going back (a sync correction made in one step used to move
    audio back by 20-200 ms in the middle of a recording). In the file's
    own time base (`-enc_time_base -1`): by default ffmpeg re-times the
    frames to 1/frame-rate, and two frames the jitter buffer released closer
    than 33 ms (distinct in the file) would collide there."""
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-enc_time_base", "-1", "-f", "null", "-"],
                         capture_output=True, text=True, timeout=120)
    errors = [l for l in out.stderr.splitlines() if l.strip()]
    check(out.returncode == 0 and not errors, f"{path} decodes without errors", "no errors",
          (out.returncode, errors[-10:]))


def recording_after(rec, path, elapsed):
    """The recording holds what was received, in a complete file."""
    check_recording(path, 854, 480, elapsed - 1.5, elapsed + 1.5)
    decodes_cleanly(path)
    check(re.search(r"recording \S*rec\.mkv complete", rec.log()), "the log says the recording is complete",
          "recording ... complete", rec.tail(15))


def start_pair(tmp, srv, rec_extra, sender_extra=()):
    room = room_of(srv)
    rec = Agent(tmp, "rec", srv, room, ["--record", "rec.mkv"] + list(rec_extra), sources=("none", "none"))
    sender = Agent(tmp, "sender", srv, room, list(sender_extra))
    try:
        rec.wait_for_log(r"first remote video decoded", timeout=40)
    except Failure:
        rec.kill()
        sender.kill()
        raise
    return rec, sender


@case
def leave_when_alone_finalizes_the_recording(ctx):
    tmp = casedir(ctx, "alone")
    rec, sender = start_pair(tmp, ctx["srv"], ["--leave-when-alone"])
    try:
        t0 = time.monotonic()
        time.sleep(4)
        check_eq(sender.stop(), 0, "the partner's exit code")
        elapsed = time.monotonic() - t0
        rc = rec.wait(30)
    finally:
        rec.kill()
        sender.kill()
    check_eq(rc, 0, "exit code after the partner left (--leave-when-alone)")
    check("the partner left (--leave-when-alone)" in rec.log(), "the log says why it ended", "partner left",
          rec.tail(10))
    recording_after(rec, os.path.join(tmp, "rec.mkv"), elapsed)


@case
def duration_finalizes_the_recording(ctx):
    tmp = casedir(ctx, "duration")
    rec, sender = start_pair(tmp, ctx["srv"], ["--duration", "4s"])
    try:
        rc = rec.wait(40)
    finally:
        rec.kill()
        sender.kill()
    check_eq(rc, 0, "exit code after --duration")
    # --duration counts from the connection, a little before the first frame.
    recording_after(rec, os.path.join(tmp, "rec.mkv"), 3.5)


@case
def sigint_finalizes_the_recording(ctx):
    tmp = casedir(ctx, "sigint")
    rec, sender = start_pair(tmp, ctx["srv"], [])
    try:
        t0 = time.monotonic()
        time.sleep(4)
        rec.proc.send_signal(signal.SIGINT)
        elapsed = time.monotonic() - t0
        rc = rec.wait(30)
    finally:
        rec.kill()
        sender.kill()
    check_eq(rc, 0, "exit code after SIGINT")
    recording_after(rec, os.path.join(tmp, "rec.mkv"), elapsed)


@case
def server_gone_for_good_finalizes_the_recording(ctx):
    tmp = casedir(ctx, "server-gone")
    srv = start_server(tmp, name="own-server")
    rec, sender = start_pair(tmp, srv, ["--no-reconnect"])
    try:
        t0 = time.monotonic()
        time.sleep(4)
        srv.proc.kill()  # gone, no close handshake
        srv.proc.wait()
        elapsed = time.monotonic() - t0
        rc = rec.wait(30)
    finally:
        rec.kill()
        sender.kill()
        srv.stop()
    check(rc not in (0, None), "a fatal signaling error ends the call with an error code", "non-zero", rc)
    check("call ended" in rec.log(), "the agent says why it ended", "call ended: ...", rec.tail(10))
    # The media keeps flowing until the signaling error is noticed: up to
    # the end of the call, not the kill.
    info = probe(os.path.join(tmp, "rec.mkv"))
    check(info["duration"] is not None, "the recording is complete (has a duration)", "a duration", info)
    recording_after(rec, os.path.join(tmp, "rec.mkv"), max(elapsed, info["streams"]["video"]["span"]))


@case
def lost_camera_is_replaced_and_tried_again(ctx):
    """A camera that fails mid-call does not end it. The sender's "v4l2"
    device is the test's stand-in element, which fails after 120 frames
    (4 s) every time it is opened: the agent sends the slate instead,
    opens the device again (after 1 s, then 2 s, ...), says it is back once
    it ran 3 s, loses it again. The partner decodes throughout (one
    resolution, no long freeze) and its recording plays to the end."""
    tmp = casedir(ctx, "lost-camera")
    room = room_of(ctx["srv"])
    cam = ("videotestsrc is-live=true pattern=ball ! video/x-raw,width=854,height=480,framerate=30/1"
           " ! identity error-after=120")
    rec = Agent(tmp, "rec", ctx["srv"], room, ["--record", "rec.mkv", "--duration", "10s", "--report", "report.json"],
                sources=("none", "none"))
    sender = Agent(tmp, "sender", ctx["srv"], room, ["--test-device-element", cam, "--events", "events.jsonl", "--report", "sender.json"],
                   sources=("v4l2:/dev/video9", "test"))
    try:
        rec.wait_for_log(r"first remote video decoded", timeout=40)
        t0 = time.monotonic()
        rc = rec.wait(60)
        elapsed = time.monotonic() - t0
        check_eq(sender.stop(), 0, "the sender's exit code (its camera failed, its call did not)")
    finally:
        rec.kill()
        sender.kill()
    check_eq(rc, 0, "the partner's exit code")
    with open(os.path.join(tmp, "events.jsonl")) as f:
        events = [json.loads(line) for line in f if line.strip()]
    src = [(e.get("state"), e.get("source")) for e in events if e.get("event") == "source"]
    check(("lost", "v4l2:/dev/video9") in src and ("back", "v4l2:/dev/video9") in src,
          "source events: the camera lost, then back", "lost and back", src)
    check(re.search(r"camera v4l2:/dev/video9 lost \(.*\): sending the slate", sender.log()) and
          "camera v4l2:/dev/video9 is back" in sender.log(), "the sender's log says so",
          "lost ... black frames, is back", sender.tail(20))
    # Each swap keeps the frame rate: the chain does not take a new source's
    # segment for a new stream (videorate once filled it from 0: 330 extra
    # frames in a burst, and the partner's recording went back in time).
    with open(os.path.join(tmp, "sender.json")) as f:
        sent = [i["video"]["out"]["fps"] for i in json.load(f)["intervals"]]
    check(sent and max(sent) <= 40, "the sender's frame rate across the swaps", "<= 40 fps each second", sent)
    r = report_of(tmp)
    long_freezes = [f for f in r["freezes"]["events"] if f["duration_ms"] >= 1000]
    check(not long_freezes, "the partner's video never froze for 1 s (the slate is sent meanwhile)", [],
          r["freezes"]["events"])
    # The sender's start is ~1 s before the first frame reached rec.
    recording_after(rec, os.path.join(tmp, "rec.mkv"), elapsed)
    # While the camera was gone the partner got the slate ("Camera
    # unavailable"), not black: the camera is lost after 4 s and its first
    # retry comes 1 s later, so at least ~3 frames in 4 a second.
    n = slate_frames(os.path.join(tmp, "rec.mkv"))
    print(f"    slate frames in the recording: {n} (4 a second)", flush=True)
    check(n >= 3, "the recording shows the slate while the camera was gone", ">= 3 frames (4 a second)", n)


def slate_frames(path):
    """Frames of the recording (4 a second, scaled to 32x18) that are the
    slate: most pixels its background, a few light ones (the words)."""
    out = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", path, "-vf",
                          "fps=4,scale=32:18", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, timeout=120)
    check_eq(out.returncode, 0, "ffmpeg decodes the recording to raw frames")
    size = 32 * 18 * 3
    n = 0
    for off in range(0, len(out.stdout) - size + 1, size):
        px = [tuple(out.stdout[off + i:off + i + 3]) for i in range(0, size, 3)]
        bg = sum(1 for p in px if all(abs(a - b) <= 20 for a, b in zip(p, callnet.SLATE_RGB))) / len(px)
        light = sum(1 for p in px if min(p) > 120)
        n += bg > 0.6 and light > 0
    return n


def tmpfs(path, size="300k"):
    os.makedirs(path)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path], check=True)


def report_of(tmp):
    with open(os.path.join(tmp, "report.json")) as f:
        return json.load(f)


def disk_full_call(ctx, name, extra, stop_after=4):
    """A recording into a 300 KiB tmpfs: full after ~2 s at 480p."""
    tmp = casedir(ctx, name)
    disk = os.path.join(tmp, "disk")
    tmpfs(disk)
    try:
        room = room_of(ctx["srv"])
        rec = Agent(tmp, "rec", ctx["srv"], room,
                    ["--record", os.path.join(disk, "rec.mkv"), "--report", "report.json"] + list(extra),
                    sources=("test", "test"))
        sender = Agent(tmp, "sender", ctx["srv"], room, [])
        try:
            rec.wait_for_log(r"first remote video decoded", timeout=40)
            rec.wait_for_log(r"recording .* failed", timeout=30)
            deadline = time.monotonic() + stop_after
            while time.monotonic() < deadline and rec.proc.poll() is None:
                time.sleep(0.2)
            if rec.proc.poll() is None:
                rc = rec.stop()
            else:
                rc = rec.wait(10)
            check_eq(sender.stop(), 0, "the partner's exit code (it saw a normal call)")
        finally:
            rec.kill()
            sender.kill()
        return tmp, disk, rec, rc
    finally:
        subprocess.run(["umount", "-l", disk], check=False)


@case
def disk_full_stops_the_recording_not_the_call(ctx):
    tmp, disk, rec, rc = disk_full_call(ctx, "disk-full", [])
    log = rec.log()
    path = os.path.join(disk, "rec.mkv")
    check(f"recording {path} failed" in log and "No space left" in log,
          "the log names the recording, its path and why", path, rec.tail(20))
    check_eq(rc, 74, "exit code: io-error (the recording failed), after a normal end")
    s = rec.summary()
    check_eq(s["partners"], 1, "one peer connection: the failure did not fail the peer")
    check("rec-2.mkv" not in log, "no second recording (no renegotiation)", "no rec-2.mkv", rec.tail(20))
    # The call went on after the failure: frames kept coming (the summary
    # counts about 6 s of 30 fps; the disk was full after ~2 s, the call
    # stopped 4 s after the failure was logged).
    check(s["video_frames"] >= 90, "video kept flowing after the recording failed", ">= 90 frames",
          s["video_frames"])
    r = report_of(tmp)
    check_eq(len(r["output_errors"]), 1, "the report lists the failed output")
    e = r["output_errors"][0]
    check_eq((e["output"], e["path"], e["code"], e["name"]), ("recording", path, 74, "io-error"),
             "the report's output error")
    check_eq(r["exit"]["code"], 74, "the report's exit code")
    check_eq(r["exit"]["connect_failure"], None, "no connect failure")


@case
def disk_full_ignored_on_request(ctx):
    tmp, disk, rec, rc = disk_full_call(ctx, "disk-full-ignore", ["--output-errors", "ignore"], stop_after=3)
    check_eq(rc, 0, "exit code with --output-errors ignore")
    check_eq(len(report_of(tmp)["output_errors"]), 1, "the report still lists the failed output")


@case
def disk_full_fails_the_call_on_request(ctx):
    tmp, disk, rec, rc = disk_full_call(ctx, "disk-full-fail", ["--output-errors", "fail"], stop_after=20)
    check_eq(rc, 74, "exit code with --output-errors fail")
    check("--output-errors fail" in rec.log(), "the call ended because of the output", "--output-errors fail",
          rec.tail(10))
    check("SIGTERM" not in rec.log(), "it ended by itself, not by the test's signal", "no SIGTERM", rec.tail(10))


@case
def removed_recording_is_an_output_error(ctx):
    tmp = casedir(ctx, "removed")
    rec, sender = start_pair(tmp, ctx["srv"], [])
    try:
        time.sleep(2)
        os.unlink(os.path.join(tmp, "rec.mkv"))
        rec.wait_for_log(r"recording .*rec.mkv was removed", timeout=10)
        time.sleep(2)
        rc = rec.stop()
    finally:
        rec.kill()
        sender.kill()
    check_eq(rc, 74, "exit code: io-error (the recording was lost)")
    check_eq(rec.summary()["partners"], 1, "one peer connection: the call went on")


if __name__ == "__main__":
    run_cases(setup, teardown)
