"""Helpers for tests that make real calls: a private network namespace with
only loopback, `callagent join` processes, and reading recordings back.

    import callnet                      # re-executes the script inside `unshare --net`
    from harness import ...
    agent = callnet.Agent(tmp, "a", srv, room_url, ["--record", "a.mkv"])
    agent.wait_for_log("connected to the partner")
    rc = agent.stop()                   # SIGTERM, returns the exit code
    info = callnet.probe("a.mkv")       # codecs, size, frames, duration

Importing this module moves the process into a fresh network namespace
(`unshare --net`, then `ip link set lo up`) unless it is already in one, so
no packet of a call test can leave loopback. Where namespaces cannot be made
(no privileges), the test is skipped with the reason.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from harness import Failure, callagent_bin, check, create_room, login, sealed_env, skip

_MARK = "CALLAGENT_TEST_NETNS"


def _enter_netns():
    if os.environ.get(_MARK) == "1":
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        return
    unshare = shutil.which("unshare")
    if not unshare:
        skip("unshare (util-linux) is not installed: call tests need a private network namespace")
    probe = subprocess.run([unshare, "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        skip(f"cannot create a network namespace ({probe.stderr.strip()}): run as root")
    os.environ[_MARK] = "1"
    os.execv(unshare, [unshare, "--net", "--", sys.executable] + sys.argv)


_enter_netns()

# The flags every test agent uses: ICE on loopback only, no STUN.
LOOPBACK_ICE = ["--no-stun", "--ice-ip", "127.0.0.1"]
# The slate's background colour (src/media/slate.cpp, 0x1f2a36), as tests
# read it back from a screen or a recording.
SLATE_RGB = (31, 42, 54)


class Agent:
    """A `callagent join` process with test sources, ICE on loopback."""

    def __init__(self, tmp, name, server, room, extra=(), sources=("test", "test"),
                 video="480p", env=None):
        self.name = name
        self.tmp = tmp
        self.stderr_path = os.path.join(tmp, f"{name}.stderr")
        self.stdout_path = os.path.join(tmp, f"{name}.stdout")
        e = sealed_env(os.path.join(tmp, f"env-{name}"))
        e["CALLAGENT_PASSWORD"] = server.password
        if env:
            e.update(env)
        args = [callagent_bin(), "join"]
        if room:
            args.append(room)
        args += ["--user", server.user, "--video-source", sources[0], "--audio-source", sources[1],
                 "--video", video] + LOOPBACK_ICE + list(extra)
        self.args = args
        self._err = open(self.stderr_path, "w")
        self._out = open(self.stdout_path, "w")
        self.proc = subprocess.Popen(args, stdout=self._out, stderr=self._err,
                                     stdin=subprocess.DEVNULL, env=e, cwd=tmp)

    def log(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def stdout(self):
        with open(self.stdout_path, errors="replace") as f:
            return f.read()

    def wait_for_log(self, pattern, timeout=20, count=1):
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            if len(rx.findall(self.log())) >= count:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise Failure(f"agent {self.name}: '{pattern}' (x{count}) not seen within {timeout} s "
                      f"(exit code {self.proc.poll()})\n--- log of {self.name} ---\n{self.tail()}")

    def wait_for_stdout_line(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.stdout()
            if "\n" in out:
                return out.split("\n", 1)[0]
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise Failure(f"agent {self.name} printed no line on stdout\n{self.tail()}")

    def tail(self, lines=40):
        return "\n".join(self.log().splitlines()[-lines:])

    def wait(self, timeout=30):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure(f"agent {self.name} did not exit within {timeout} s\n{self.tail()}")
        finally:
            self._close()

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self):
        for f in (self._err, self._out):
            if not f.closed:
                f.close()

    def summary(self):
        """(video frames, audio buffers, width, height) from the exit summary."""
        m = re.search(r"summary: (\d+) partner connection\(s\), (\d+) video frames \((\d+)x(\d+)\), "
                      r"(\d+) audio buffers", self.log())
        if not m:
            raise Failure(f"agent {self.name} printed no summary\n{self.tail()}")
        return {"partners": int(m[1]), "video_frames": int(m[2]), "width": int(m[3]),
                "height": int(m[4]), "audio_buffers": int(m[5])}


def teardown(ctx, failed):
    """Stops the test's server; keeps ctx["tmp"] (logs, recordings) only
    when a case failed, or with CALLAGENT_TEST_KEEP=1."""
    ctx["srv"].stop()
    if failed or os.environ.get("CALLAGENT_TEST_KEEP") == "1":
        print(f"(logs kept in {ctx['tmp']})")
    else:
        shutil.rmtree(ctx["tmp"], ignore_errors=True)


def new_room(ctx):
    """A fresh room on the test's server (ctx["srv"])."""
    srv = ctx["srv"]
    return create_room(srv.url, login(srv.url, srv.user, srv.password))[0]


def casedir(ctx, name):
    """A directory of the case's own under ctx["tmp"]."""
    d = os.path.join(ctx["tmp"], name)
    os.makedirs(d, exist_ok=True)
    return d


def probe(path):
    """Reads a media file back with ffprobe: per-stream codec, size, decoded
    frame count and the last packet time (works on files without an index)."""
    check(os.path.exists(path), f"recording {path} exists")
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_entries",
         "stream=index,codec_type,codec_name,width,height,nb_read_frames:format=duration,format_name",
         "-of", "json", path], capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, f"ffprobe reads {path}", "exit code 0", (out.returncode, out.stderr))
    data = json.loads(out.stdout)
    pk = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "packet=stream_index,pts_time",
                         "-of", "csv=p=0", path], capture_output=True, text=True, timeout=60)
    last = {}
    first = {}
    for line in pk.stdout.splitlines():
        parts = line.split(",")
        if len(parts) < 2 or parts[1] in ("", "N/A"):
            continue
        idx, t = int(parts[0]), float(parts[1])
        last[idx] = max(last.get(idx, t), t)
        first[idx] = min(first.get(idx, t), t)
    streams = {}
    for s in data.get("streams", []):
        kind = s.get("codec_type")
        idx = s.get("index")
        streams[kind] = {
            "codec": s.get("codec_name"),
            "width": s.get("width"),
            "height": s.get("height"),
            "frames": int(s.get("nb_read_frames") or 0),
            "span": (last.get(idx, 0.0) - first.get(idx, 0.0)) if idx in last else 0.0,
        }
    fmt = data.get("format", {})
    dur = fmt.get("duration")
    return {"streams": streams, "duration": float(dur) if dur not in (None, "N/A") else None,
            "format": fmt.get("format_name", "")}


def check_recording(path, width, height, min_seconds, max_seconds, fps=30, need_duration=True,
                    video_codec="vp8"):
    """A recording of the remote side: VP8 video at the size, Opus audio,
    plausible frame count for its span."""
    info = probe(path)
    v = info["streams"].get("video")
    a = info["streams"].get("audio")
    check(v is not None, f"{path} has a video stream", "video", info)
    check(a is not None, f"{path} has an audio stream", "audio", info)
    check(v["codec"] == video_codec, f"{path} video codec", video_codec, v["codec"])
    check(a["codec"] == "opus", f"{path} audio codec", "opus", a["codec"])
    check((v["width"], v["height"]) == (width, height), f"{path} resolution", (width, height),
          (v["width"], v["height"]))
    span = v["span"]
    check(min_seconds <= span <= max_seconds, f"{path} video span (s)",
          f"{min_seconds}..{max_seconds}", span)
    # The test source runs at `fps`; the real-time encoder drops frames when
    # the (shared, 2-core) machine is busy: seen down to ~75 %.
    check(v["frames"] >= 0.6 * fps * span, f"{path} video frames for {span:.2f} s",
          f">= {0.6 * fps * span:.0f}", v["frames"])
    check(a["frames"] >= 0.8 * 50 * span, f"{path} Opus frames (20 ms) for {span:.2f} s",
          f">= {0.8 * 50 * span:.0f}", a["frames"])
    if need_duration:
        check(info["duration"] is not None and info["duration"] > 0, f"{path} has a duration (complete)",
              "a duration", info["duration"])
    return info
