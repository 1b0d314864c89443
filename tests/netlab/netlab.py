"""A network lab for call tests and benchmarks: sides in their own network
namespaces, joined by a userspace router that impairs each side's link
(loss, delay and jitter, rate caps, blocked protocols or ports), a
signaling server, coturn, and processes (agents, headless Chromium) on any
side. Everything is torn down with the test, even when it is killed.

    import netlab                         # re-executes the script in a private lab (see "Isolation")
    with netlab.Lab(relay=True) as lab:
        lab.link("a", loss=5)                                   # both directions of a's link
        lab.link("b", delay_ms=100, jitter_ms=20, up={"loss": 2})
        lab.link("a", rate="2mbit", shared=True)                # one 2 Mbit/s for up + down
        lab.link("a", block=["udp"])                            # ICE/TURN over TCP only
        lab.link("a", allow=[("tcp", lab.server().port)])       # only the signaling port
        srv = lab.server()                                      # callagent serve on the core
        room = lab.new_room()
        turn = lab.turn()                                       # coturn on the relay side
        a = lab.agent("a", room, ["--duration", "20s"] + turn.agent_args("tcp"))
        b = lab.agent("b", room, ["--report", "b.json"])
        chrome = lab.chromium("b")                              # browser.Chromium in side b
        s = lab.udp_socket("a")                                 # a socket living in side a
        lab.stats()                                             # what the router did, per side

## Topology
The test runs in the lab's own network namespace, the *core* (10.77.0.1):
the signaling server listens there and the test drives everything from
there. Each side (`a`, `b`, ..., and `relay` for coturn) is a child
namespace with one address, 10.77.N.2 (N = 1, 2, ...; `lab.addr(side)`).
Every namespace, the core included, has one TUN device `lab0` with a route
to 10.77.0.0/16; forwarder.py holds all those devices and moves every
packet between them, so a packet from a to b crosses a's link *up* and
then b's link *down*; a packet from a to the server crosses a's link up
only. Nothing else is reachable: no address of this machine exists in the
lab. The test's own connections to Chromium's DevTools port are relayed
in-process (never through the router): impairments never touch the
driving of the test.

## The link model
Each side has one link with two directions: `up` (packets leaving the
side) and `down` (packets arriving). Per direction, in order:
  1. `allow` (only matching packets pass) and `block` (matching packets
     are dropped): rules "udp", "tcp", "icmp", "any", or (proto, port)
     where port is the far end's (destination port going up, source port
     coming down) -- like a firewall that drops silently. E.g. UDP blocked
     except TURN's port: allow=["tcp", "icmp", ("udp", 3478)];
  2. `loss` in %: independent random drops;
  3. `rate` (bit/s, or "2mbit", "500kbit"): a serializing bottleneck with
     a drop-tail queue of `queue_ms` (default 100 ms, like tbf's latency).
     `shared=True` makes up and down take turns on one bottleneck (both
     directions of a call share the rate, as on one loopback tbf);
  4. `delay_ms` +- `jitter_ms` (uniform): one-way, per direction. Packets
     keep their order unless `reorder=True` (then each packet is delayed
     independently and later ones may overtake).
`lab.link(side, **both, up={...}, down={...})` replaces the side's whole
link setting (omitted = perfect); it applies at once, also during a call
(e.g. lifting a cap after 10 s). Keyword arguments apply to both
directions; `up`/`down` entries override them per direction.

## Processes in sides
`lab.popen(side, argv)` runs anything in a side (`ip netns exec`);
`lab.agent(side, room, extra)` is callnet.Agent there, with
`--no-stun --ice-ip <side address>`; `lab.chromium(side)` is
browser.Chromium there (started through a wrapper script named by
CALLAGENT_CHROMIUM), without loopback candidates, with the lab's server
treated as a secure origin (plain http on 10.77.0.1 gets the camera); its
DevTools port is reached through an in-process relay. `lab.turn()` is
coturn on the relay side: `turn.url("udp"|"tcp"|"tls")` and
`turn.agent_args(...)` give `callagent join --turn` arguments,
`turn.ice_servers()` an RTCPeerConnection iceServers list (the messenger's
page takes `?ice=URL` without credentials, so it cannot use it today).
`lab.udp_socket(side)`/`lab.tcp_socket(side)` are sockets living in a side,
for measuring the network itself.

## Isolation
Importing this module re-executes the script as
`unshare --net --mount --pid --fork --mount-proc --kill-child=SIGTERM`:
its own network namespace, a private /run/netns (tmpfs) for the sides'
names, and its own PID namespace in which the script is process 1. When
the script ends -- normally, by an exception, by SIGTERM (a meson timeout)
or by SIGKILL of the `unshare` parent -- the kernel kills every process of
the lab (agents, Chromium, coturn, the router) and the namespaces, their
devices and their addresses vanish with them. The first SIGTERM/SIGHUP
becomes SystemExit so `with` blocks still stop things in order and remove
their temp dirs; later ones are ignored until that cleanup is over. Where namespaces cannot be made (not root), the test is
skipped with the reason.
"""

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
for _d in (os.path.join(TESTS, "integration"), os.path.join(TESTS, "browser")):
    if _d not in sys.path:
        sys.path.insert(0, _d)

from harness import (Failure, Server, _read_line, callagent_bin, create_room, login,  # noqa: E402
                     sealed_env, skip)

_MARK = "CALLAGENT_NETLAB"
PREFIX = "10.77"
CORE_ADDR = f"{PREFIX}.0.1"


def _enter():
    if os.environ.get(_MARK) == "1":
        return
    unshare = shutil.which("unshare")
    if not unshare:
        skip("unshare (util-linux) is not installed: the network lab needs namespaces")
    probe = subprocess.run([unshare, "--net", "--mount", "--pid", "--fork", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        skip(f"cannot create namespaces ({probe.stderr.strip()}): the network lab needs root")
    for tool in ("ip",):
        if not shutil.which(tool):
            skip(f"'{tool}' (iproute2) is not installed")
    if not os.path.exists("/dev/net/tun"):
        skip("/dev/net/tun is missing: the lab's router needs TUN devices")
    os.environ[_MARK] = "1"
    # callnet.py (if imported later) must not move us again.
    os.environ["CALLAGENT_TEST_NETNS"] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(unshare, [unshare, "--net", "--mount", "--pid", "--fork", "--mount-proc",
                       "--kill-child=SIGTERM", "--", sys.executable] + sys.argv)


def _inside():
    """Runs once in the fresh namespaces: loopback up, private /run/netns,
    signals that end the script through its `finally` blocks."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    os.makedirs("/run/netns", exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "netlab", "/run/netns"], check=True)

    # Only the first signal ends the script. A SIGTERM to the process group
    # reaches `unshare` too, and its death sends this process a second
    # SIGTERM (--kill-child) while the first one's `finally` blocks are
    # still stopping things: raising again there would cut the cleanup short
    # and leave the lab's temp dir behind.
    ending = []

    def _exit(signum, _frame):
        if ending:
            return
        ending.append(signum)
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGHUP, _exit)


_enter()
_inside()

import callnet  # noqa: E402  (stays in this namespace: the mark above)

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def parse_rate(rate):
    """bit/s from 2000000, "2mbit", "2Mbit/s", "500kbit", "64kbps" (bits)."""
    if rate is None or isinstance(rate, (int, float)):
        return rate
    s = rate.strip().lower().replace("/s", "").replace("bps", "bit")
    for suffix, mul in (("gbit", 1e9), ("mbit", 1e6), ("kbit", 1e3), ("bit", 1)):
        if s.endswith(suffix):
            return float(s[:-len(suffix)]) * mul
    return float(s)


def _rules(rules):
    out = []
    for r in rules:
        if isinstance(r, str):
            out.append({"proto": r})
        elif isinstance(r, dict):
            out.append(r)
        else:
            out.append({"proto": r[0], "port": None if r[1] is None else int(r[1])})
    return out


def link_config(loss=0.0, delay_ms=0.0, jitter_ms=0.0, rate=None, shared=False, queue_ms=100,
                reorder=False, block=(), allow=None, up=None, down=None):
    """The forwarder's link setting for Lab.link()'s arguments."""
    both = {"loss": loss, "delay_ms": delay_ms, "jitter_ms": jitter_ms, "reorder": reorder,
            "queue_ms": queue_ms, "block": list(block), "allow": allow}
    if rate is not None and not shared:
        both["rate"] = rate
    cfg = {"queue_ms": queue_ms}
    if rate is not None and shared:
        cfg["shared_rate_bps"] = parse_rate(rate)
    for name, over in (("up", up), ("down", down)):
        d = dict(both)
        d.update(over or {})
        r = d.pop("rate", None)
        if r is not None:
            d["rate_bps"] = parse_rate(r)
        d["block"] = _rules(d.get("block") or [])
        if d.get("allow") is not None:
            d["allow"] = _rules(d["allow"])
        else:
            d.pop("allow", None)
        cfg[name] = d
    return cfg


def in_netns(path, fn):
    """Runs fn() on a thread that entered the network namespace at `path`;
    returns its result. Sockets made there stay in that namespace."""
    box = {}

    def run():
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns({path})")
            finally:
                os.close(fd)
            box["v"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            box["e"] = e
    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "e" in box:
        raise box["e"]
    return box["v"]


class _Relay:
    """A TCP port in the core that reaches 127.0.0.1:port inside a side
    (for Chromium's DevTools, which listens on the side's loopback)."""

    def __init__(self, netns, port):
        self.netns = netns
        self.port_in_side = port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._pump, args=(c,), daemon=True).start()

    def _pump(self, c):
        import select
        try:
            s = in_netns(self.netns, lambda: socket.create_connection(("127.0.0.1", self.port_in_side), 10))
        except OSError:
            c.close()
            return
        pair = {c: s, s: c}
        try:
            while not self.closed:
                r, _, _ = select.select(list(pair), [], [], 1.0)
                for x in r:
                    data = x.recv(65536)
                    if not data:
                        return
                    pair[x].sendall(data)
        except OSError:
            pass
        finally:
            c.close()
            s.close()

    def close(self):
        self.closed = True
        self.sock.close()


class Agent(callnet.Agent):
    """callnet.Agent (test sources, same helpers: wait_for_log, stop,
    summary, ...) run in a side, ICE on that side's address only."""

    def __init__(self, lab, side, name, room, extra=(), sources=("test", "test"), video="720p",
                 env=None):
        self.name = name
        self.side = side
        self.tmp = lab.tmp
        self.stderr_path = os.path.join(lab.tmp, f"{name}.stderr")
        self.stdout_path = os.path.join(lab.tmp, f"{name}.stdout")
        srv = lab.server()
        e = sealed_env(os.path.join(lab.tmp, f"env-{name}"))
        e["CALLAGENT_PASSWORD"] = srv.password
        if env:
            e.update(env)
        args = [callagent_bin(), "join"]
        if room:
            args.append(room)
        args += ["--user", srv.user, "--video-source", sources[0], "--audio-source", sources[1],
                 "--video", video, "--no-stun", "--ice-ip", lab.addr(side)] + list(extra)
        # CALLAGENT_LAB_AGENT_ARGS="-v": a developer's extra options for every agent.
        args += os.environ.get("CALLAGENT_LAB_AGENT_ARGS", "").split()
        self.args = args
        self._err = open(self.stderr_path, "w")
        self._out = open(self.stdout_path, "w")
        self.proc = subprocess.Popen(lab.wrap(side, args), stdout=self._out, stderr=self._err,
                                     stdin=subprocess.DEVNULL, env=e, cwd=lab.tmp)
        lab._agents.append(self)

    def report(self, path):
        with open(os.path.join(self.tmp, path)) as f:
            return json.load(f)


class Turn:
    """coturn on the relay side: long-term credentials, UDP and TCP on
    `port`, TLS on `tls_port` (a self-signed certificate made here)."""

    def __init__(self, lab, side="relay", port=3478, tls_port=5349, user="netlab",
                 password="netlab-turn-pass", realm="netlab"):
        self.lab = lab
        self.side = side
        self.host = lab.addr(side)
        self.port = port
        self.tls_port = tls_port
        self.user = user
        self.password = password
        self.realm = realm
        d = os.path.join(lab.tmp, "turn")
        os.makedirs(d, exist_ok=True)
        self.cert = os.path.join(d, "turn.crt")
        key = os.path.join(d, "turn.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                        "-keyout", key, "-out", self.cert, "-subj", "/CN=netlab-turn",
                        "-addext", f"subjectAltName=IP:{self.host}"],
                       check=True, capture_output=True)
        conf = os.path.join(d, "turnserver.conf")
        with open(conf, "w") as f:
            f.write("\n".join([
                f"listening-ip={self.host}", f"relay-ip={self.host}",
                f"listening-port={port}", f"tls-listening-port={tls_port}",
                # Alternate ports (RFC 5780) are not used: keep one of each.
                "no-rfc5780", "no-dtls",
                "lt-cred-mech", f"user={user}:{password}", f"realm={realm}",
                f"cert={self.cert}", f"pkey={key}",
                "fingerprint", "no-cli", "no-multicast-peers",
                f"allowed-peer-ip={PREFIX}.0.0-{PREFIX}.255.255",
                f"userdb={os.path.join(d, 'turndb')}", f"pidfile={os.path.join(d, 'turnserver.pid')}",
                # verbose: one line per request (ALLOCATE, REFRESH with its
                # lifetime, session closed), what tests read back.
                "log-file=stdout", "simple-log", "verbose", "no-software-attribute",
                "min-port=49152", "max-port=49999", ""]))
        self.log_path = os.path.join(d, "turnserver.log")
        self._log = open(self.log_path, "w")
        self.proc = lab.popen(side, ["turnserver", "-c", conf], stdout=self._log,
                              stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                s = self.lab.tcp_socket("core")
                s.settimeout(1)
                s.connect((self.host, self.port))
                s.close()
                s = self.lab.tcp_socket("core")
                s.settimeout(1)
                s.connect((self.host, self.tls_port))
                s.close()
                return
            except OSError:
                time.sleep(0.1)
        raise Failure(f"turnserver did not listen on {self.host}:{self.port} within {timeout} s "
                      f"(exit code {self.proc.poll()})\n{self.log()[-3000:]}")

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def url(self, transport="udp"):
        """The URL `callagent join --turn` takes: transport udp, tcp or tls."""
        cred = f"{self.user}:{self.password}@"
        if transport == "tls":
            return f"turns://{cred}{self.host}:{self.tls_port}"
        return f"turn://{cred}{self.host}:{self.port}?transport={transport}"

    def agent_args(self, *transports):
        return [a for t in (transports or ("udp",)) for a in ("--turn", self.url(t))]

    def ice_servers(self):
        """RTCPeerConnection iceServers (for a page that takes credentials)."""
        return [{"urls": [f"turn:{self.host}:{self.port}?transport=udp",
                          f"turn:{self.host}:{self.port}?transport=tcp",
                          f"turns:{self.host}:{self.tls_port}?transport=tcp"],
                 "username": self.user, "credential": self.password}]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self._log.closed:
            self._log.close()


class Lab:
    def __init__(self, sides=("a", "b"), relay=False, tmp=None, keep_tmp_on_failure=True):
        self.sides = list(sides) + (["relay"] if relay else [])
        self.index = {"core": 0}
        for i, s in enumerate(self.sides, 1):
            self.index[s] = i
        self._own_tmp = tmp is None
        self.tmp = tmp or tempfile.mkdtemp(prefix="netlab-")
        self.keep_tmp_on_failure = keep_tmp_on_failure
        self._procs = []
        self._agents = []
        self._browsers = []
        self._relays = []
        self._server = None
        self._turn = None
        self._fwd = None
        self._fwd_lock = threading.Lock()
        self._links = {}
        try:
            self._build()
        except BaseException:
            self.close(failed=True)
            raise

    # ---- topology -------------------------------------------------------------
    def addr(self, side):
        return CORE_ADDR if side == "core" else f"{PREFIX}.{self.index[side]}.2"

    def netns_path(self, side):
        return f"/proc/{os.getpid()}/ns/net" if side == "core" else f"/run/netns/{side}"

    def wrap(self, side, args):
        """argv that runs `args` in `side`."""
        return list(args) if side == "core" else ["ip", "netns", "exec", side] + list(args)

    def _sh(self, side, script):
        r = subprocess.run(self.wrap(side, ["sh", "-ec", script]), capture_output=True, text=True)
        if r.returncode != 0:
            raise Failure(f"lab setup in {side} failed: {script}\n{r.stderr}")

    def _build(self):
        for side in self.sides:
            subprocess.run(["ip", "netns", "add", side], check=True)
        for side in ["core"] + self.sides:
            self._sh(side, f"""
                ip link set lo up
                sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
                ip tuntap add dev lab0 mode tun
                ip link set lab0 mtu 1500 up
                ip addr add {self.addr(side)}/32 dev lab0
                ip route add {PREFIX}.0.0/16 dev lab0
            """)
        args = [sys.executable, os.path.join(HERE, "forwarder.py")]
        args += [f"{s}={self.netns_path(s)}=lab0={self.index[s]}" for s in ["core"] + self.sides]
        self._fwd_err = open(os.path.join(self.tmp, "forwarder.stderr"), "w")
        self._fwd = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._fwd_err, text=True, bufsize=1)
        line = self._fwd.stdout.readline()
        if not line or not json.loads(line).get("ready"):
            raise Failure(f"the lab's forwarder did not start: {line!r}\n{self._read(self._fwd_err.name)}")

    @staticmethod
    def _read(path):
        with open(path, errors="replace") as f:
            return f.read()

    def _ctl(self, msg):
        with self._fwd_lock:
            if self._fwd.poll() is not None:
                raise Failure(f"the lab's forwarder exited ({self._fwd.returncode})\n"
                              f"{self._read(self._fwd_err.name)[-3000:]}")
            self._fwd.stdin.write(json.dumps(msg) + "\n")
            self._fwd.stdin.flush()
            ans = json.loads(self._fwd.stdout.readline())
        if not ans.get("ok"):
            raise Failure(f"forwarder: {msg} -> {ans}")
        return ans

    # ---- impairments ------------------------------------------------------------
    def link(self, side, **kwargs):
        """Sets `side`'s link (see "The link model"); no arguments: perfect."""
        cfg = link_config(**kwargs)
        self._links[side] = kwargs
        self._ctl({"cmd": "set", "side": side, "link": cfg})
        return cfg

    def clear(self, *sides):
        for s in sides or ["core"] + self.sides:
            self.link(s)

    def stats(self):
        """Per side, per direction, per protocol: in/out/lost/queue_drop/filtered
        packets (and *_bytes) since the start or the last reset_stats()."""
        return self._ctl({"cmd": "stats"})

    def reset_stats(self):
        self._ctl({"cmd": "reset-stats"})

    # ---- sockets and processes in sides -------------------------------------------
    def socket(self, side, family=socket.AF_INET, kind=socket.SOCK_DGRAM):
        return in_netns(self.netns_path(side), lambda: socket.socket(family, kind))

    def udp_socket(self, side, port=0):
        s = self.socket(side, kind=socket.SOCK_DGRAM)
        s.bind((self.addr(side), port))
        return s

    def tcp_socket(self, side):
        return self.socket(side, kind=socket.SOCK_STREAM)

    def popen(self, side, args, **kwargs):
        """subprocess.Popen of `args` in `side`, stopped by close()."""
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(self.wrap(side, args), **kwargs)
        self._procs.append(p)
        return p

    # ---- services -------------------------------------------------------------------
    def server(self, password="netlab-password-1", user="admin"):
        """`callagent serve` on the core address (started on first use)."""
        if self._server is None:
            env = sealed_env(os.path.join(self.tmp, "server"))
            env["CALLAGENT_PASSWORD"] = password
            args = [callagent_bin(), "serve", "--listen", f"{CORE_ADDR}:0", "--user", user,
                    "--db", os.path.join(self.tmp, "rooms.db")]
            err_path = os.path.join(self.tmp, "server.stderr")
            with open(err_path, "w") as err:
                proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err,
                                        stdin=subprocess.DEVNULL, env=env, cwd=self.tmp)
            line = _read_line(proc.stdout, time.monotonic() + 10)
            if not line or not line.startswith("http"):
                proc.kill()
                raise Failure(f"server did not print its URL\n{self._read(err_path)}")
            self._server = Server(line.strip(), proc, user, password, err_path, [line])
            self._server.port = int(line.strip().rsplit(":", 1)[1].split("/")[0])
        return self._server

    def new_room(self):
        srv = self.server()
        return create_room(srv.url, login(srv.url, srv.user, srv.password))[0]

    def token(self):
        srv = self.server()
        return login(srv.url, srv.user, srv.password)

    def turn(self, **kwargs):
        if self._turn is None:
            if "relay" not in self.index:
                raise Failure("Lab(relay=True) is needed for coturn")
            self._turn = Turn(self, **kwargs)
        return self._turn

    def agent(self, side, room, extra=(), name=None, **kwargs):
        return Agent(self, side, name or side, room, extra, **kwargs)

    def chromium(self, side, name=None, extra_flags=(), drop_flags=()):
        """A browser.Chromium running in `side`: loopback candidates off,
        the lab's server treated as a secure origin (camera allowed)."""
        from browser import Chromium, chromium_or_skip
        real = chromium_or_skip()
        name = name or f"chromium-{side}"
        wrapper = os.path.join(self.tmp, f"{name}.sh")
        with open(wrapper, "w") as f:
            f.write(f"#!/bin/sh\nexec {' '.join(self.wrap(side, [real]))} \"$@\"\n")
        os.chmod(wrapper, 0o755)
        lab = self
        netns = self.netns_path(side)

        class SideChromium(Chromium):
            def _wait_port(self, timeout=30):
                port = super()._wait_port(timeout)
                relay = _Relay(netns, port)
                lab._relays.append(relay)
                return relay.port

        flags = [f"--unsafely-treat-insecure-origin-as-secure={self.server().url}"] + list(extra_flags)
        old = os.environ.get("CALLAGENT_CHROMIUM")
        os.environ["CALLAGENT_CHROMIUM"] = wrapper
        try:
            c = SideChromium(self.tmp, name, extra_flags=flags,
                             drop_flags=("--allow-loopback-in-peer-connection",) + tuple(drop_flags))
        finally:
            if old is None:
                os.environ.pop("CALLAGENT_CHROMIUM", None)
            else:
                os.environ["CALLAGENT_CHROMIUM"] = old
        self._browsers.append(c)
        return c

    # ---- teardown ---------------------------------------------------------------------
    def close(self, failed=False):
        for c in self._browsers:
            c.close()
        for a in self._agents:
            a.kill()
        for r in self._relays:
            r.close()
        if self._turn:
            self._turn.stop()
        for p in self._procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        if self._server:
            self._server.stop()
        if self._fwd and self._fwd.poll() is None:
            self._fwd.kill()
            self._fwd.wait()
        if self._fwd:
            self._fwd_err.close()
        for side in self.sides:
            subprocess.run(["ip", "netns", "del", side], capture_output=True)
        # The core's device (the sides' went with their namespaces).
        subprocess.run(["ip", "link", "del", "lab0"], capture_output=True)
        if self._own_tmp:
            # CALLAGENT_LAB_KEEP=1: a developer keeps every lab's files.
            if (failed and self.keep_tmp_on_failure) or os.environ.get("CALLAGENT_LAB_KEEP") == "1":
                print(f"(lab files kept in {self.tmp})", flush=True)
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *_):
        self.close(failed=exc_type is not None)
        return False
