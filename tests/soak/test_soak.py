"""A kiosk stays up for months: a partner that comes and goes must not
grow the agent.

Agent A (test sources, 360p at 15 fps) stays in a room of `callagent
serve`, inside a private network namespace (loopback only); agent B visits
40 times (connects, ~2 s of media after the connection, leaves). After
each visit A's VmRSS is read. The first visits fill caches, buffer pools
and allocator arenas; after that the memory must stay flat: the median
VmRSS of visits 36-40 may exceed that of visits 6-10 by at most
MAX_GROWTH_MIB. Threads and open fds must come back to what they were.

Measured on this 2-core machine (load average 15-40, other builds and
tests running), median of visits 36-40 minus median of visits 6-10:
before the heap trim after each retired peer +9.2 MiB (slope +297 KiB per
visit); with it +0.2 MiB (slope +9 KiB per visit, 311 s) and +2.0 MiB
(+50 KiB per visit, 145 s) in two runs of this test, and +2.4 MiB at visit
23 of a bench run with two more soak runs in parallel (samples that catch a
peer still being torn down add 2-4 MiB). MAX_GROWTH_MIB lies between: it
passes that noise and fails the growth before the fix. Two full runs, not
three, fitted in the session that wrote it: re-measure with more runs
(scripts/bench/soak) before tightening it.
"""

import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import callnet  # noqa: F401  (enters the network namespace first)
from callnet import teardown
from harness import case, check, run_cases, start_server

import soak

VISITS = 40
MAX_GROWTH_MIB = 4.0
# The sanitized build (scripts/test, ASAN_OPTIONS set) runs on ASan's own
# allocator, where malloc_trim gives nothing back and size classes fill
# differently: with its quarantine off (soak.run_visits) it measured
# +3.6 MiB (slope +115 KiB per visit, visits 6..40, an idle machine); the
# growth this test exists to catch was +9.2 MiB on the plain build (and
# +140 MiB under ASan with its quarantine on).
if os.environ.get("ASAN_OPTIONS") is not None:
    MAX_GROWTH_MIB = 6.0


def setup():
    tmp = tempfile.mkdtemp(prefix="callagent-soak-")
    return {"tmp": tmp, "srv": start_server(tmp)}


@case
def forty_visits_keep_rss_flat(ctx):
    def show(s):
        print(f"visit {s['visit']:2}: VmRSS {s['VmRSS'] / 1024:.1f} MiB, RssAnon {s['RssAnon'] / 1024:.1f} MiB, "
              f"{s['Threads']} threads, {s['fds']} fds, visitor decoded {s['b_frames']} frames", flush=True)

    samples = soak.run_visits(ctx["tmp"], ctx["srv"], visits=VISITS, on_sample=show)
    # Every visit connected (its exit code and a's count of partner
    # connections say so). Video must have flowed in a good part of them:
    # under a load average of 30 on 2 cores the first frame of a short
    # visit often comes after it ended (seen: 10 of 16 visits with frames).
    with_video = [s["visit"] for s in samples if s["b_frames"] > 0]
    check(len(with_video) >= VISITS // 4, "visits in which the visitor decoded video from agent a",
          f">= {VISITS // 4} of {VISITS}", len(with_video))
    early = soak.median_rss_mib(samples, 6, 10)
    late = soak.median_rss_mib(samples, VISITS - 4, VISITS)
    slope = soak.slope_kib(samples, first=6)
    print(f"median VmRSS visits 6-10: {early:.1f} MiB, visits {VISITS - 4}-{VISITS}: {late:.1f} MiB "
          f"({late - early:+.1f}); slope over visits 6..{VISITS}: {slope:+.1f} KiB/visit", flush=True)
    check(late - early <= MAX_GROWTH_MIB,
          f"agent a's VmRSS stays flat over {VISITS} partner visits (median of the last 5 minus median "
          f"of visits 6-10, MiB)", f"<= {MAX_GROWTH_MIB}", round(late - early, 2))
    # Threads and fds: each visit's own (webrtcbin, libnice, queues, sockets)
    # go with its peer. A sample can catch a peer still being torn down on a
    # loaded machine (a few more of both), so the least of the last five
    # visits is compared: one thread or fd kept per visit would put it 30
    # above the early visits.
    for key in ("Threads", "fds"):
        first = [s[key] for s in samples if 6 <= s["visit"] <= 10]
        last = [s[key] for s in samples if s["visit"] > VISITS - 5]
        check(min(last) <= max(first), f"agent a's {key} after the last visits (least of the last 5) "
              f"vs visits 6-10 (most)", f"<= {max(first)}", last)


if __name__ == "__main__":
    run_cases(setup, teardown)
