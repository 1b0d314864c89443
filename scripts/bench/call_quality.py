#!/usr/bin/env python3
"""Call-quality benchmarks between two `callagent join` processes through
`callagent serve` on loopback (ICE on 127.0.0.1 only), test sources:

  latency   glass-to-glass video delay (--latency-probe) at 720p30, median
            and p95 over the call after the warm-up, for --jitter-buffer
            60 (our default) and 200 (GStreamer's default)
  stats     CPU of one agent (both send and receive 720p30) with stats
            polling off, every 1 s and every 100 ms; and get-stats' own
            answer time (poll_ms)
  setup     call setup, agent <-> agent, 720p30, BENCH_SETUP_CALLS calls
            (default 10), one GStreamer registry shared by the agents: the
            second agent's process start -> its first decoded remote video
            frame (its log line), and the first agent's partner join -> its
            first decoded frame (median, p90), then the median of each
            phase of the second agent's setup timeline

Usage: scripts/bench/call_quality.py BUILD_DIR [latency|stats|setup ...]
Run by scripts/bench/call. Numbers are for THIS machine right now: the
load average is printed with them.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(root, "tests", "integration"))
build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
os.environ["CALLAGENT_BIN"] = os.path.join(build, "callagent")
parts = sys.argv[2:] or ["latency", "stats", "setup"]

from harness import create_room, log_line_time, login, sealed_env, start_server, warm_registry  # noqa: E402

TCK = os.sysconf("SC_CLK_TCK")


def agent(tmp, name, srv, room, extra, video="720p", registry=None):
    env = sealed_env(os.path.join(tmp, f"env-{name}"))
    env["CALLAGENT_PASSWORD"] = srv.password
    if registry:
        env["GST_REGISTRY"] = registry
    args = [os.environ["CALLAGENT_BIN"], "join", room, "--user", srv.user, "--video-source", "test",
            "--audio-source", "test", "--video", video, "--no-stun", "--ice-ip", "127.0.0.1"] + extra
    err = open(os.path.join(tmp, f"{name}.stderr"), "w")
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL, env=env,
                            cwd=tmp)


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def call(srv, tmp, a_extra, b_extra, seconds, measure=None):
    room = create_room(srv.url, login(srv.url, srv.user, srv.password))[0]
    a = agent(tmp, "a", srv, room, ["--duration", f"{seconds}s"] + a_extra)
    time.sleep(0.5)
    b = agent(tmp, "b", srv, room, ["--duration", f"{seconds}s"] + b_extra)
    result = measure(a) if measure else None
    for p in (a, b):
        try:
            p.wait(timeout=seconds + 40)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return result


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def bench_latency(srv, base):
    print("glass-to-glass latency, 720p30 VP8, loopback, decoder output as 'render' (no display):")
    for jb in (60, 200):
        meds, p95s = [], []
        for rep in range(2):
            tmp = tempfile.mkdtemp(dir=base)
            call(srv, tmp, ["--latency-probe", "--jitter-buffer", str(jb), "--report", "a.json"],
                 ["--latency-probe", "--jitter-buffer", str(jb)], 15)
            with open(os.path.join(tmp, "a.json")) as f:
                lat = json.load(f)["latency"]
            meds.append(lat["median_ms"])
            p95s.append(lat["p95_ms"])
        print(f"  --jitter-buffer {jb:>3}: median {', '.join(f'{m:.0f}' for m in meds)} ms, "
              f"p95 {', '.join(f'{p:.0f}' for p in p95s)} ms (2 calls; load {load()})")


def bench_stats(srv, base):
    print("CPU of one agent (720p30 send + receive) by stats polling interval:")
    window = 12
    results = {}
    for rep in range(3):
        for interval in ("0", "1s", "100ms"):
            tmp = tempfile.mkdtemp(dir=base)

            def measure(a):
                time.sleep(5)
                t1 = cpu_ticks(a.pid)
                time.sleep(window)
                return (cpu_ticks(a.pid) - t1) * 100.0 / (window * TCK)
            extra = ["--stats-interval", interval, "--report", "a.json"]
            cpu = call(srv, tmp, extra, [], window + 8, measure)
            polls = []
            with open(os.path.join(tmp, "a.json")) as f:
                polls = [i["poll_ms"] for i in json.load(f)["intervals"] if i["poll_ms"] > 0]
            results.setdefault(interval, []).append((cpu, polls))
    for interval, runs in results.items():
        cpus = [c for c, _ in runs]
        polls = sorted(p for _, ps in runs for p in ps)
        med = polls[len(polls) // 2] if polls else 0
        print(f"  --stats-interval {interval:>5}: CPU {', '.join(f'{c:.1f}' for c in cpus)} % of a core "
              f"(3 calls){f', get-stats answers in {med:.1f} ms (median of {len(polls)})' if polls else ''}")
    print(f"  (load {load()})")


def quantile(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def wait_for_line(path, needle, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(path) as f:
                if needle in f.read():
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.02)
    return False


def bench_setup(srv, base):
    """The second agent's clock starts at its process start (Popen) and
    stops at its log line 'first remote video decoded'. Every agent shares
    one GStreamer registry, made before the first call (warm_registry)."""
    from datetime import date
    calls = int(os.environ.get("BENCH_SETUP_CALLS", "10"))
    registry = warm_registry(os.path.join(base, "gst-registry.bin"))
    print(f"call setup, agent <-> agent, 720p30 VP8, loopback ({calls} calls):")
    second, first, phases, failed = [], [], {}, 0
    for rep in range(calls):
        tmp = tempfile.mkdtemp(dir=base)
        room = create_room(srv.url, login(srv.url, srv.user, srv.password))[0]
        a = agent(tmp, "a", srv, room, ["--duration", "6s", "--report", "a.json"], registry=registry)
        if not wait_for_line(os.path.join(tmp, "a.stderr"), "connected to ws", 20):
            print(f"  call {rep + 1}: the first agent did not get into the room", flush=True)
        time.sleep(0.3)  # the first agent idle, as a terminal waiting in its room
        day = date.today()
        t_b = time.time()
        b = agent(tmp, "b", srv, room, ["--duration", "3s", "--report", "b.json"], registry=registry)
        for p in (a, b):
            try:
                p.wait(timeout=40)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        try:
            with open(os.path.join(tmp, "a.json")) as f:
                sa = json.load(f)["setup"]
            with open(os.path.join(tmp, "b.json")) as f:
                sb = json.load(f)["setup"]
            with open(os.path.join(tmp, "b.stderr"), errors="replace") as f:
                t_first = log_line_time(f.read(), "first remote video decoded", day)
            second.append((t_first - t_b) * 1000.0)
            first.append(sa["first_video_ms"] - sa["partner_join_ms"])
            # The timeline's zero is the session's start (after gst_init and
            # the media engine): what comes before it is the process's start.
            zero_ms = (t_first - t_b) * 1000.0 - sb["first_video_ms"]
            phases.setdefault("process start -> session", []).append(zero_ms)
            prev = 0.0
            for key in ("login_ms", "ws_open_ms", "offer_ms", "answer_ms", "ice_connected_ms",
                        "dtls_connected_ms", "first_video_ms"):
                if sb.get(key) is None:
                    continue
                phases.setdefault(f"-> {key[:-3]}", []).append(sb[key] - prev)
                prev = sb[key]
        except (OSError, KeyError, TypeError, ValueError) as e:
            failed += 1
            print(f"  call {rep + 1}: no setup figures ({e!r}); files in {tmp}", flush=True)
    if second:
        print(f"  second agent, process start -> first decoded frame: median {statistics.median(second):.0f} ms, "
              f"p90 {quantile(second, 0.9):.0f} ms ({len(second)} calls{f', {failed} failed' if failed else ''})")
        print(f"  first agent, partner join -> first decoded frame: median {statistics.median(first):.0f} ms, "
              f"p90 {quantile(first, 0.9):.0f} ms")
        print("  second agent's phases (median ms): " +
              ", ".join(f"{k} {statistics.median(v):.0f}" for k, v in phases.items()))
    print(f"  (load {load()})")


def main():
    base = tempfile.mkdtemp(prefix="callagent-bench-quality-")
    srv = start_server(base)
    try:
        if "latency" in parts:
            bench_latency(srv, base)
        if "stats" in parts:
            bench_stats(srv, base)
        if "setup" in parts:
            bench_setup(srv, base)
    finally:
        srv.stop()
    subprocess.run(["rm", "-rf", base])


if __name__ == "__main__":
    main()
