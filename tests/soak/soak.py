"""Partner visits against one long-lived agent, and its memory after each.

The kiosk case: agent A stays in a room; agent B joins, exchanges media
for a short while and leaves, again and again. After every visit (B has
exited and A has seen it leave and retired its peer connection) A's
/proc status is sampled: VmRSS, RssAnon, threads, open fds.

    import soak                          # callnet: inside `unshare --net`
    samples = soak.run_visits(tmp, srv, visits=40)
    soak.slope_kib(samples, first=6)     # least squares, KiB per visit

Used by tests/soak/test_soak.py and scripts/bench/soak, so the test and
the benchmark measure the same thing.
"""

import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import callnet  # noqa: F401  (enters the network namespace first)
from callnet import Agent, new_room
from harness import Failure, check_eq

# Small video: the growth under test is per visit, not per second of media.
VIDEO = "360p"
FPS = 15


def proc_status(pid):
    """VmRSS, RssAnon, RssFile (KiB), Threads, and the open fd count of pid."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, val = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "Threads"):
                out[key] = int(val.split()[0])
    out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return out


def slope_kib(samples, first=6):
    """Least-squares slope of VmRSS (KiB per visit) over visits first..N."""
    pts = [(s["visit"], s["VmRSS"]) for s in samples if s["visit"] >= first]
    if len(pts) < 2:
        return 0.0
    mx = statistics.fmean(p[0] for p in pts)
    my = statistics.fmean(p[1] for p in pts)
    num = sum((x - mx) * (y - my) for x, y in pts)
    den = sum((x - mx) ** 2 for x, _ in pts)
    return num / den


def median_rss_mib(samples, lo, hi):
    """Median VmRSS (MiB) of visits lo..hi (inclusive)."""
    return statistics.median(s["VmRSS"] for s in samples if lo <= s["visit"] <= hi) / 1024.0


def run_visits(tmp, srv, visits=40, visit_seconds=2, a_env=None, a_args=(), on_sample=None,
               settle=0.5, video=VIDEO, fps=FPS, after_visit=None):
    """Runs agent A in a new room and `visits` visits of a B agent that
    stays `visit_seconds` after it connected. Returns one sample per visit:
    {"visit", "VmRSS", "RssAnon", "RssFile", "Threads", "fds",
    "b_frames"}; A is stopped at the end (it must exit 0). `on_sample(s)`
    is called after each visit (progress output), `after_visit(agent_a)`
    before the sample is taken."""
    room = new_room({"srv": srv})
    common = ["--fps", str(fps)]
    asan = os.environ.get("ASAN_OPTIONS")
    if asan is not None:
        # The sanitized build (scripts/test): ASan keeps freed memory in a
        # 256 MB quarantine before reusing it, so A's RSS rose ~18 MiB per
        # visit until the quarantine was full (visits 1-16), then stayed
        # flat. Without the quarantine the test measures the agent, not the
        # sanitizer; every other ASan check stays on.
        a_env = dict(a_env or {})
        a_env["ASAN_OPTIONS"] = asan + ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
    a = Agent(tmp, "a", srv, room, common + list(a_args), video=video, env=a_env)
    samples = []
    try:
        a.wait_for_log(r"media engine running", timeout=60)
        for visit in range(1, visits + 1):
            # One name, so one sealed HOME for every visitor: GStreamer's
            # plugin registry is built once, not at each visit.
            b = Agent(tmp, "b", srv, room, common + ["--duration", f"{visit_seconds}s"], video=video)
            try:
                check_eq(b.wait(120), 0, f"exit code of visitor {visit}")
                frames = b.summary()["video_frames"]
            finally:
                b.kill()
            # A has retired the visitor's peer connection (its destruction
            # is posted right after "removing peerN").
            a.wait_for_log(r"partner \S+ left", timeout=30, count=visit)
            a.wait_for_log(r"removing peer\d+", timeout=30, count=visit)
            time.sleep(settle)
            if after_visit:
                after_visit(a)
            if a.proc.poll() is not None:
                raise Failure(f"agent a exited during visit {visit}\n{a.tail()}")
            s = proc_status(a.proc.pid)
            s["visit"] = visit
            s["b_frames"] = frames
            samples.append(s)
            if on_sample:
                on_sample(s)
        check_eq(a.stop(), 0, "exit code of agent a after SIGTERM")
    finally:
        a.kill()
    m = re.search(r"summary: (\d+) partner connection", a.log())
    if m:
        check_eq(int(m[1]), visits, "partner connections of agent a")
    return samples
