"""Restreaming to RTMP: a real nginx with its RTMP module on loopback records
what the agent pushes; the FLV is read back (H.264 + AAC, duration). The
RTMP server is then killed and restarted mid-call: the agent reconnects
without disturbing the call."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

import callnet  # noqa: F401  (enters the network namespace first)
from callnet import Agent, probe, teardown
from harness import Failure, case, check, check_eq, create_room, login, run_cases, skip, start_server

MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Nginx:
    def __init__(self, tmp, port, name):
        self.dir = os.path.join(tmp, name)
        self.rec = os.path.join(self.dir, "rec")
        os.makedirs(self.rec, exist_ok=True)
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
daemon off;
master_process off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log info;
load_module {MODULE};
events {{ worker_connections 64; }}
rtmp {{
  server {{
    listen 127.0.0.1:{port};
    application live {{
      live on;
      record all;
      record_path {self.rec};
      record_unique off;
    }}
  }}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-p", self.dir, "-e", f"{self.dir}/error.log", "-c", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise Failure(f"nginx exited: {self.proc.stderr.read().decode(errors='replace')}")
                time.sleep(0.05)
        raise Failure("nginx did not start listening")

    def stop(self, sig=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def setup():
    if not shutil.which("nginx") or not os.path.exists(MODULE):
        skip("nginx with the RTMP module is not installed (apt-get install nginx libnginx-mod-rtmp)")
    tmp = tempfile.mkdtemp(prefix="callagent-rtmp-")
    return {"tmp": tmp, "srv": start_server(tmp)}


def check_flv(path, min_seconds):
    info = probe(path)
    v = info["streams"].get("video")
    a = info["streams"].get("audio")
    check(v is not None and v["codec"] == "h264", f"{path}: H.264 video", "h264", info)
    check(a is not None and a["codec"] == "aac", f"{path}: AAC audio", "aac", info)
    check_eq((v["width"], v["height"]), (854, 480), f"{path}: video size")
    check(v["span"] >= min_seconds, f"{path}: video duration (s)", f">= {min_seconds}", v["span"])
    check(v["frames"] >= 0.5 * 30 * v["span"], f"{path}: video frames", f">= {0.5 * 30 * v['span']:.0f}",
          v["frames"])
    return info


@case
def restream_and_survive_rtmp_restart(ctx):
    tmp = ctx["tmp"]
    srv = ctx["srv"]
    port = free_port()
    ngx = Nginx(tmp, port, "nginx1")
    room = create_room(srv.url, login(srv.url, srv.user, srv.password))[0]
    # No --duration: the steps below take their own time on a loaded machine
    # (the agent's reconnect backoff doubles: 1, 2, 4 s); the agents are
    # stopped with SIGTERM once the second server has received enough.
    a = Agent(tmp, "a", srv, room, ["--rtmp", f"rtmp://127.0.0.1:{port}/live/test"])
    b = Agent(tmp, "b", srv, room, [])
    ngx2 = None
    try:
        a.wait_for_log(r"first remote video decoded", timeout=30)
        decoding_since = time.monotonic()
        time.sleep(4)
        ngx.stop()  # the RTMP server goes away mid-call (closes the stream and its recording)
        check_flv(os.path.join(ngx.rec, "test.flv"), 2.5)
        time.sleep(1.5)
        ngx2 = Nginx(tmp, port, "nginx2")
        flv2 = os.path.join(ngx2.rec, "test.flv")
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not (os.path.exists(flv2) and os.path.getsize(flv2) > 50000):
            time.sleep(0.2)
        check(os.path.exists(flv2), "the agent reconnected to the restarted RTMP server", flv2, a.tail(10))
        time.sleep(4)
        decoding_for = time.monotonic() - decoding_since
        check_eq(a.stop(), 0, "exit code of the restreaming agent after SIGTERM")
        check_eq(b.stop(), 0, "exit code of the partner after SIGTERM")
    finally:
        a.kill()
        b.kill()
        if ngx2:
            time.sleep(0.5)
            ngx2.stop()
        ngx.stop()
    s = a.summary()
    # The call itself went on undisturbed: 30 fps decoded all along.
    want = 0.7 * 30 * (decoding_for - 1)
    check(s["video_frames"] >= want, "the call kept decoding while RTMP was down",
          f">= {want:.0f} frames in {decoding_for:.1f} s", s)
    check("RTMP output failed" in a.log() and "retrying" in a.log(), "the agent logged its RTMP retry",
          "an 'RTMP output failed ... retrying' line", a.tail(20))
    check_flv(os.path.join(ngx2.rec, "test.flv"), 2.0)


if __name__ == "__main__":
    run_cases(setup, teardown)
