"""A recording bot stopped by SIGTERM (the file is complete) and killed by
SIGKILL (the file is still playable up to the last moment; see the numbers
in src/media/recorder.h). The partner keeps sending throughout."""

import os
import signal
import tempfile
import time

import callnet  # noqa: F401  (enters the network namespace first)
from callnet import Agent, check_recording, teardown
from harness import case, check_eq, create_room, login, run_cases, start_server


def setup():
    tmp = tempfile.mkdtemp(prefix="callagent-recsig-")
    return {"tmp": tmp, "srv": start_server(tmp)}


def record_then(ctx, name, sig):
    tmp = os.path.join(ctx["tmp"], name)
    os.makedirs(tmp)
    srv = ctx["srv"]
    room = create_room(srv.url, login(srv.url, srv.user, srv.password))[0]
    rec = Agent(tmp, "rec", srv, room, ["--record", "rec.mkv"], sources=("none", "none"))
    sender = Agent(tmp, "sender", srv, room, [])
    try:
        rec.wait_for_log(r"first remote video decoded", timeout=30)
        t0 = time.monotonic()
        time.sleep(5)
        rec.proc.send_signal(sig)
        elapsed = time.monotonic() - t0
        rc = rec.wait(20)
    finally:
        rec.kill()
        sender.kill()
    return tmp, rc, elapsed


@case
def sigterm_completes_the_recording(ctx):
    tmp, rc, elapsed = record_then(ctx, "term", signal.SIGTERM)
    check_eq(rc, 0, "exit code after SIGTERM")
    check_recording(os.path.join(tmp, "rec.mkv"), 854, 480, elapsed - 1.0, elapsed + 1.0)


@case
def sigkill_leaves_a_playable_recording(ctx):
    tmp, rc, elapsed = record_then(ctx, "kill", signal.SIGKILL)
    check_eq(rc, -signal.SIGKILL, "killed by SIGKILL")
    # No index and no duration after a kill, but every frame up to about
    # the kill must decode: we allow 1 s of loss (measured: ~50 ms).
    info = check_recording(os.path.join(tmp, "rec.mkv"), 854, 480, elapsed - 1.0, elapsed + 1.0,
                           need_duration=False)
    print(f"  SIGKILL after {elapsed:.2f} s of media: video span {info['streams']['video']['span']:.2f} s, "
          f"{info['streams']['video']['frames']} frames")


if __name__ == "__main__":
    run_cases(setup, teardown)
