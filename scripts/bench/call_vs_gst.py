#!/usr/bin/python3
"""One `callagent join` in a real agent<->agent call vs the floor of this
stack: a gst-launch-1.0 pipeline doing the same encode + decode (VP8 +
Opus, test sources, same preset), measured in the same run, so the ratios
mean something on a shared, noisy machine.

Per preset: time from the second agent's start to its first decoded remote
video frame; CPU share (utime+stime over a window) and peak RSS (VmHWM) of
that agent; the same CPU and RSS for the gst-launch pipeline; the ratios.
Runs in a private network namespace (loopback only), like the call tests.
With BENCH_MEMORY=1 it also prints where each process's resident memory
is at the end of the window (from /proc/PID/smaps): the heap and other
anonymous memory, thread stacks, and the libraries mapped (the largest
by name), with its thread count.

    scripts/bench/call_vs_gst.py [BUILD_DIR] [PRESETS...]   (default build 480p 720p)
"""
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build")
presets = sys.argv[2:] or ["480p", "720p"]
os.environ.setdefault("CALLAGENT_BIN", os.path.join(os.path.abspath(build), "callagent"))
sys.path.insert(0, os.path.join(root, "tests", "integration"))
import callnet  # noqa: E402,F401  (enters a network namespace)
from callnet import Agent  # noqa: E402
from harness import create_room, log_line_time, login, start_server, warm_registry  # noqa: E402

SIZES = {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080)}
KBPS = {"480p": 1200, "720p": 2500, "1080p": 4500}
WINDOW = 10.0
TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def hwm_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
    return int(m[1]) / 1024


MEMORY = os.environ.get("BENCH_MEMORY") == "1"


def memory_kinds(pid):
    """Resident kB of a process by kind of mapping: {"heap+anon", "stacks",
    "files"}, and {library name: kB} for the file-backed ones."""
    kinds = {"heap+anon": 0, "stacks": 0, "files": 0}
    libs = {}
    name = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                name = head[5] if len(head) > 5 else ""
                start, end = (int(x, 16) for x in head[0].split("-"))
                size_kb = (end - start) // 1024
                continue
            if head[0] != "Rss:":
                continue
            kb = int(head[1])
            if name.startswith("/"):
                kinds["files"] += kb
                lib = os.path.basename(name)
                libs[lib] = libs.get(lib, 0) + kb
            elif name == "[stack]" or (not name and size_kb in (8192, 8196)):
                # the main stack, and glibc's default 8 MiB thread stacks
                kinds["stacks"] += kb
            else:
                kinds["heap+anon"] += kb
    return kinds, libs


def print_memory(label, pid):
    kinds, libs = memory_kinds(pid)
    top = sorted(libs.items(), key=lambda kv: -kv[1])[:6]
    with open(f"/proc/{pid}/status") as f:
        threads = re.search(r"Threads:\s+(\d+)", f.read())[1]
    print(f"  {label}: {threads} threads, {len(libs)} files; "
          + ", ".join(f"{k} {v / 1024:.1f} MB" for k, v in kinds.items())
          + "; largest files: " + ", ".join(f"{n} {v / 1024:.1f}" for n, v in top), flush=True)


def measure(pid, label=None):
    t1 = cpu_ticks(pid)
    time.sleep(WINDOW)
    t2 = cpu_ticks(pid)
    if MEMORY and label:
        print_memory(label, pid)
    return 100.0 * (t2 - t1) / (TCK * WINDOW), hwm_mb(pid)


def agent_run(tmp, srv, preset, registry):
    room = create_room(srv.url, login(srv.url, srv.user, srv.password))[0]
    args = ["--fps", "30", "--duration", f"{WINDOW + 6:.0f}s"]
    env = {"GST_REGISTRY": registry}
    a = Agent(tmp, f"a-{preset}", srv, room, args, video=preset, env=env)
    a.wait_for_log(r"\[ws\] connected", timeout=20)
    time.sleep(0.5)
    t0 = datetime.now()
    b = Agent(tmp, f"b-{preset}", srv, room, args, video=preset, env=env)
    b.wait_for_log(r"first remote video decoded", timeout=30)
    setup_ms = (log_line_time(b.log(), "first remote video decoded", t0.date()) - t0.timestamp()) * 1000
    time.sleep(1.0)
    cpu, rss = measure(b.proc.pid, f"agent {preset}")
    a.wait(30)
    b.wait(30)
    return setup_ms, cpu, rss


def gst_run(preset):
    w, h = SIZES[preset]
    pipeline = (f"videotestsrc is-live=true pattern=ball ! video/x-raw,width={w},height={h},framerate=30/1 "
                f"! vp8enc deadline=1 cpu-used=4 threads=1 end-usage=cbr target-bitrate={KBPS[preset] * 1000} "
                f"error-resilient=default keyframe-max-dist=3000 ! vp8dec ! fakesink sync=false "
                f"audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=48000,channels=2 "
                f"! opusenc bitrate=128000 inband-fec=true ! opusdec ! fakesink sync=false")
    p = subprocess.Popen(["gst-launch-1.0", "-q"] + pipeline.split(), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(2.0)
    cpu, rss = measure(p.pid, f"gst-launch {preset}")
    p.terminate()
    p.wait()
    return cpu, rss


def main():
    tmp = tempfile.mkdtemp(prefix="callagent-bench-")
    srv = start_server(tmp)
    registry = warm_registry(os.path.join(tmp, "gst-registry.bin"))  # one for the agents
    try:
        print(f"{'preset':7} {'setup ms':>9} {'agent CPU%':>10} {'agent MB':>9} {'gst CPU%':>9} {'gst MB':>7} "
              f"{'CPU x':>6} {'RSS x':>6}   load")
        for preset in presets:
            setup, acpu, arss = agent_run(tmp, srv, preset, registry)
            gcpu, grss = gst_run(preset)
            load = open("/proc/loadavg").read().split()[:3]
            print(f"{preset:7} {setup:9.0f} {acpu:10.1f} {arss:9.1f} {gcpu:9.1f} {grss:7.1f} "
                  f"{acpu / gcpu if gcpu else 0:6.2f} {arss / grss if grss else 0:6.2f}   {' '.join(load)}",
                  flush=True)
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
