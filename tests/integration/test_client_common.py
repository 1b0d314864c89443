"""Shared helpers for the client tests (test_client_*.py); not a test itself.

Chat(...) runs `callagent chat --json` as a child process: stdin is a pipe
(send() writes a line, close_stdin() is the end of input), stdout is read by a
thread into a list of JSON events, stderr goes to a file. wait_event() polls
that list with a deadline and, on failure, prints what came instead and the
tail of the process's stderr.

run_cli() runs a short command (create, chat that is expected to fail) and
returns (exit code, stdout, stderr).
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (  # noqa: E402
    Failure, Server, _read_line, callagent_bin, check, sealed_env)

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def client_env(tmpdir, srv=None, password=None, extra=None):
    """A sealed environment for a client; CALLAGENT_PASSWORD is the server's
    password (or `password`; "" leaves it unset)."""
    env = sealed_env(tmpdir)
    pw = password if password is not None else (srv.password if srv else None)
    if pw:
        env["CALLAGENT_PASSWORD"] = pw
    if extra:
        env.update(extra)
    return env


def run_cli(args, env, timeout=30, stdin_data=None):
    p = subprocess.run([callagent_bin()] + list(args), env=env, capture_output=True, text=True,
                       timeout=timeout, input=stdin_data if stdin_data is not None else "",
                       cwd=env.get("HOME"))
    return p.returncode, p.stdout, p.stderr


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server_on(tmpdir, port, db, password="test-password-1", user="admin", extra_args=(),
                    timeout=15, name="server"):
    """Like harness.start_server, on a fixed port (to restart a server in
    place). Retries the bind for a while: the old one may still hold it."""
    env = sealed_env(tmpdir)
    env["CALLAGENT_PASSWORD"] = password
    args = [callagent_bin(), "serve", "--listen", f"127.0.0.1:{port}", "--user", user, "--db", db]
    args += list(extra_args)
    deadline = time.monotonic() + timeout
    last_err = ""
    while time.monotonic() < deadline:
        stderr_path = os.path.join(tmpdir, f"{name}-{int(time.monotonic() * 1000)}.stderr")
        with open(stderr_path, "w") as errf:
            proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=errf,
                                    stdin=subprocess.DEVNULL, env=env, cwd=tmpdir)
        line = _read_line(proc.stdout, min(deadline, time.monotonic() + 5))
        if line and re.match(r"^https?://", line):
            return Server(line.strip(), proc, user, password, stderr_path, [line])
        proc.kill()
        proc.wait()
        proc.stdout.close()
        with open(stderr_path, errors="replace") as f:
            last_err = f.read()
        time.sleep(0.2)
    raise Failure(f"server did not start on port {port}\n    stderr:\n{last_err}")


class Chat:
    """`callagent chat --json ROOM` as a child process."""

    def __init__(self, tmpdir, room, env, extra_args=(), name="chat"):
        self.name = name
        self.stderr_path = os.path.join(tmpdir, f"{name}-{int(time.monotonic() * 1000)}.stderr")
        args = [callagent_bin(), "chat", "--json"] + list(extra_args) + [room]
        with open(self.stderr_path, "w") as errf:
            self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=errf, env=env, cwd=env.get("HOME"))
        self.events = []
        self.raw_lines = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            with self._cond:
                self.raw_lines.append(line)
                try:
                    self.events.append(json.loads(line))
                except ValueError:
                    self.events.append({"event": "<not json>", "line": line})
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    # ---- input ----------------------------------------------------------------

    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def close_stdin(self):
        if not self.proc.stdin.closed:
            self.proc.stdin.close()

    def signal(self, sig):
        self.proc.send_signal(sig)

    # ---- output ---------------------------------------------------------------

    def stderr(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def describe(self):
        with self._cond:
            lines = list(self.raw_lines)
        tail = "\n".join(self.stderr().splitlines()[-25:])
        return (f"\n    [{self.name}] stdout so far:\n      " + "\n      ".join(lines or ["(nothing)"]) +
                f"\n    [{self.name}] stderr (tail):\n{tail}")

    def wait_event(self, pred, timeout=10, what="an event", start=0):
        """The first event from index `start` on that satisfies pred (a dict
        of expected members or a function); raises Failure after `timeout`."""
        if isinstance(pred, dict):
            want = pred
            pred = lambda e: all(e.get(k) == v for k, v in want.items())  # noqa: E731
            what = f"{what} {want}"
        deadline = time.monotonic() + timeout
        i = start
        with self._cond:
            while True:
                while i < len(self.events):
                    if pred(self.events[i]):
                        return self.events[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    break
                self._cond.wait(min(left, 0.2))
        raise Failure(f"[{self.name}] waited {timeout} s for {what}; it did not come"
                      f" (exit code {self.proc.poll()})" + self.describe())

    def mark(self):
        """An index for wait_event(start=...): only events after now."""
        with self._cond:
            return len(self.events)

    def wait_exit(self, timeout=10, what="exit"):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"[{self.name}] did not {what} within {timeout} s" + self.describe())
        self._reader.join(timeout=5)
        return rc

    def expect_exit(self, code, timeout=10, what="exit code"):
        rc = self.wait_exit(timeout)
        check(rc == code, f"[{self.name}] {what}" + (self.describe() if rc != code else ""), code, rc)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.close_stdin()
        self._reader.join(timeout=5)


def stop_all(*chats):
    for c in chats:
        if c is not None:
            c.kill()


def chat_pair(tmp, srv, room, extra_args=(), env=None):
    """A joins, then B; returns (a, b, b_id) once A has seen B's server-made join."""
    env = env or client_env(tmp, srv)
    a = Chat(tmp, room, env, extra_args, name="A")
    try:
        a.wait_event({"event": "connected", "reconnected": False}, what="A connected")
        b = Chat(tmp, room, env, extra_args, name="B")
    except BaseException:
        a.kill()
        raise
    try:
        b.wait_event({"event": "connected", "reconnected": False}, what="B connected")
        join = a.wait_event({"event": "join", "source": "server"}, what="A sees B join (server)")
        # B sends `join` like the page; A gets the relayed copy (stamped with A's own id).
        a.wait_event({"event": "join", "source": "peer"}, what="A sees B's own join frame")
    except BaseException:
        stop_all(a, b)
        raise
    return a, b, join.get("user")


def interrupt(chat, sig=signal.SIGINT):
    chat.signal(sig)


class FreezingProxy:
    """A TCP proxy 127.0.0.1:<port> -> 127.0.0.1:<target_port>, run by a thread.

    freeze() stops forwarding on every connection open at that moment while
    keeping its sockets open: to the client that is a network that died
    without a reset, and the server still holds the connection. Connections
    made later are forwarded normally. cut_frozen() then closes the frozen
    ones (the server sees the close)."""

    def __init__(self, target_port):
        self.target_port = target_port
        self._lsock = socket.socket()
        self._lsock.bind(("127.0.0.1", 0))
        self._lsock.listen(16)
        self.port = self._lsock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._conns = []  # [client_sock, server_sock, frozen]
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        import select
        while not self._stop:
            with self._lock:
                live = [c for c in self._conns if not c[2] and c[0].fileno() >= 0 and c[1].fileno() >= 0]
            socks = [self._lsock] + [s for c in live for s in c[:2]]
            try:
                readable, _, _ = select.select(socks, [], [], 0.05)
            except (OSError, ValueError):
                continue
            for s in readable:
                if s is self._lsock:
                    client, _ = self._lsock.accept()
                    try:
                        server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                    except OSError:
                        client.close()
                        continue
                    with self._lock:
                        self._conns.append([client, server, False])
                    continue
                with self._lock:
                    conn = next((c for c in live if s in c[:2]), None)
                    if conn is None or conn[2]:
                        continue
                other = conn[1] if s is conn[0] else conn[0]
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    self._close(conn)
                    continue
                try:
                    other.sendall(data)
                except OSError:
                    self._close(conn)

    def _close(self, conn):
        with self._lock:
            if conn in self._conns:
                self._conns.remove(conn)
        for s in conn[:2]:
            try:
                s.close()
            except OSError:
                pass

    def freeze(self):
        with self._lock:
            for c in self._conns:
                c[2] = True
            return sum(1 for c in self._conns if c[2])

    def cut_frozen(self):
        with self._lock:
            frozen = [c for c in self._conns if c[2]]
        for c in frozen:
            self._close(c)
        return len(frozen)

    def close(self):
        self._stop = True
        self._thread.join(timeout=2)
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            self._close(c)
        self._lsock.close()
