"""Calls between two callagent processes through `callagent serve`, inside a
private network namespace: both directions recorded and read back, both
join orders, simultaneous joins, a partner that comes back, and the
lifetime options (--duration, --wait-for-partner, --leave-when-alone,
--create)."""

import os
import tempfile
import time

import callnet  # noqa: F401  (enters the network namespace first)
from callnet import Agent, casedir, check_recording, new_room, teardown
from harness import case, check, check_eq, run_cases, start_server


def setup():
    tmp = tempfile.mkdtemp(prefix="callagent-calls-")
    srv = start_server(tmp)
    return {"tmp": tmp, "srv": srv}


def run_pair(ctx, tmp, room, first, second, delay=1.0):
    """Starts agent `first` = (name, args, video), then `second` after
    `delay` s; both must exit 0. Returns the Agents in start order."""
    agents = []
    try:
        for i, (name, args, video) in enumerate((first, second)):
            if i and delay:
                time.sleep(delay)
            agents.append(Agent(tmp, name, ctx["srv"], room, args, video=video))
        for ag in agents:
            check_eq(ag.wait(40), 0, f"exit code of agent {ag.name}")
    finally:
        for ag in agents:
            ag.kill()
    return agents


def two_way(ctx, name, video, size, delay=1.0):
    tmp = casedir(ctx, name)
    a, b = run_pair(ctx, tmp, new_room(ctx), ("a", ["--duration", "5s", "--record", "a.mkv"], video),
                    ("b", ["--duration", "5s", "--record", "b.mkv"], video), delay)
    for ag in (a, b):
        s = ag.summary()
        check(s["video_frames"] > 90, f"agent {ag.name} decoded remote video", "> 90 frames", s)
        check(s["audio_buffers"] > 100, f"agent {ag.name} decoded remote audio", "> 100 buffers", s)
        check_eq((s["width"], s["height"]), size, f"agent {ag.name} remote resolution")
    check_recording(os.path.join(tmp, "a.mkv"), size[0], size[1], 3.5, 6.5)
    check_recording(os.path.join(tmp, "b.mkv"), size[0], size[1], 3.5, 6.5)


@case
def call_480p_first_joiner_records(ctx):
    two_way(ctx, "480p", "480p", (854, 480))


@case
def call_720p_other_order(ctx):
    # b's role is now played first by the recorder "a" joining second.
    tmp = casedir(ctx, "720p")
    run_pair(ctx, tmp, new_room(ctx), ("b", ["--duration", "5s", "--record", "b.mkv"], "720p"),
             ("a", ["--duration", "5s", "--record", "a.mkv"], "720p"))
    check_recording(os.path.join(tmp, "a.mkv"), 1280, 720, 3.5, 6.5)
    check_recording(os.path.join(tmp, "b.mkv"), 1280, 720, 3.5, 6.5)


@case
def call_simultaneous_joins(ctx):
    two_way(ctx, "simultaneous", "480p", (854, 480), delay=0)


def other_codec(ctx, codec):
    tmp = casedir(ctx, codec)
    args = ["--duration", "6s", "--video-codec", codec]
    a, b = run_pair(ctx, tmp, new_room(ctx), ("a", args + ["--record", "a.mkv"], "480p"), ("b", args, "480p"))
    for ag in (a, b):
        s = ag.summary()
        check(s["video_frames"] > 60, f"agent {ag.name} decoded remote {codec} video", "> 60 frames", s)
    check_recording(os.path.join(tmp, "a.mkv"), 854, 480, 3.5, 7.5, video_codec=codec)


@case
def call_vp9(ctx):
    other_codec(ctx, "vp9")


@case
def call_h264(ctx):
    other_codec(ctx, "h264")


@case
def partner_comes_back_three_times(ctx):
    tmp = casedir(ctx, "comeback")
    room = new_room(ctx)
    a = Agent(tmp, "a", ctx["srv"], room, ["--record", "a.mkv"])
    try:
        for visit in range(1, 4):
            b = Agent(tmp, f"b{visit}", ctx["srv"], room, ["--duration", "3s"])
            check_eq(b.wait(40), 0, f"exit code of visitor {visit}")
            s = b.summary()
            check(s["video_frames"] > 40, f"visitor {visit} got video", "> 40 frames", s)
            a.wait_for_log(r"partner \S+ left", count=visit)
        check_eq(a.stop(), 0, "exit code of agent a after SIGTERM")
    finally:
        a.kill()
    check_eq(a.summary()["partners"], 3, "agent a connected three partners")
    for name in ("a.mkv", "a-2.mkv", "a-3.mkv"):
        check_recording(os.path.join(tmp, name), 854, 480, 1.8, 4.5)


@case
def wait_for_partner_times_out(ctx):
    tmp = casedir(ctx, "nobody")
    a = Agent(tmp, "a", ctx["srv"], new_room(ctx), ["--wait-for-partner", "2s"])
    t0 = time.monotonic()
    check_eq(a.wait(20), 2, "exit code when nobody comes (--wait-for-partner)")
    check(1.5 < time.monotonic() - t0 < 10, "exits after about 2 s", "~2 s", time.monotonic() - t0)
    check("nobody joined" in a.log(), "says why", "nobody joined", a.tail(5))


@case
def leave_when_alone_and_create(ctx):
    tmp = casedir(ctx, "create")
    a = Agent(tmp, "a", ctx["srv"], None, ["--create", "--server", ctx["srv"].url, "--leave-when-alone"])
    url = a.wait_for_stdout_line()
    check(url.startswith(ctx["srv"].url + "/room/"), "join --create prints the room URL first",
          ctx["srv"].url + "/room/<id>", url)
    b = Agent(tmp, "b", ctx["srv"], url, ["--duration", "2s"])
    try:
        check_eq(b.wait(40), 0, "exit code of the visitor")
        check_eq(a.wait(20), 0, "exit code of --leave-when-alone after the partner left")
    finally:
        a.kill()
        b.kill()
    check_eq(a.summary()["partners"], 1, "the creator had one partner")


if __name__ == "__main__":
    run_cases(setup, teardown)
