"""The live status line of `callagent join` on a real terminal (a pty of 80
columns) and its plain form when stderr is a file.

On the terminal, read back byte by byte and replayed on a small terminal
model: the status is redrawn in place ("\\r\\033[K" text "\\r"), never wraps
nor scrolls into the history, its numbers move; each log line printed while
it is shown first erases it and is followed by its redraw, so every line in
the history is a whole log line; at exit the cursor is at the start of an
empty line. With stderr a file: "status: ..." log lines every 5 s and no
escape sequence or carriage return.
"""

import fcntl
import os
import re
import shutil
import struct
import subprocess
import tempfile
import termios
import threading
import time

import callnet  # noqa: F401  (enters the network namespace first)
from callnet import LOOPBACK_ICE, Agent, casedir, new_room
from harness import (Failure, callagent_bin, case, check, check_eq, run_cases,
                     sealed_env, start_server)

COLS = 80
CLEAR = b"\r\x1b[K"
LOG_RE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} +(trace|debug|info|warning|error|critical) +\[[\w:.-]+\] ")
STATUS_RE = re.compile(r"^(-|idle|alone|negotiating|connected|finished)( \| .*)?$")
COLOR_RE = re.compile(r"\x1b\[[0-9;]*m")


class TtyAgent:
    """`callagent join` with stderr on a pty COLS wide; everything it writes
    there is collected (with ONLCR, as on a real terminal: \\n -> \\r\\n)."""

    def __init__(self, tmp, name, server, room, extra=(), cols=COLS):
        self.name = name
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
        env = sealed_env(os.path.join(tmp, f"env-{name}"))
        env["CALLAGENT_PASSWORD"] = server.password
        env["TERM"] = "xterm"
        args = [callagent_bin(), "join", room, "--user", server.user, "--video-source", "test",
                "--audio-source", "test", "--video", "480p"] + LOOPBACK_ICE + list(extra)
        self._out = open(os.path.join(tmp, f"{name}.stdout"), "w")
        self.proc = subprocess.Popen(args, stdout=self._out, stderr=slave, stdin=subprocess.DEVNULL,
                                     env=env, cwd=tmp)
        os.close(slave)
        self._master = master
        self._lock = threading.Lock()
        self._data = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        while True:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # EIO: the last writer closed the pty
                break
            if not chunk:
                break
            with self._lock:
                self._data += chunk

    def data(self):
        with self._lock:
            return bytes(self._data)

    def text(self):
        return self.data().decode(errors="replace")

    def wait_for(self, pattern, timeout=30, count=1):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(rx.findall(self.text())) >= count:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise Failure(f"{self.name}: {pattern!r} (x{count}) not seen on its terminal within {timeout} s "
                      f"(exit code {self.proc.poll()})\n{self.text()[-3000:]!r}")

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure(f"{self.name} did not exit within {timeout} s")
        self._reader.join(5)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)
        try:
            os.close(self._master)
        except OSError:
            pass
        self._out.close()


# ---- what the terminal received ------------------------------------------------------

def tokens(data):
    """The stream as [(kind, text)]: ("clear", ""), ("log", line) for text
    ended by \\r\\n, ("status", text) for text ended by a lone \\r, ("tail",
    text) for what is left unterminated at the end."""
    out = []
    i = 0
    while i < len(data):
        if data.startswith(CLEAR, i):
            out.append(("clear", ""))
            i += len(CLEAR)
            continue
        j = data.find(b"\r", i)
        if j < 0:
            out.append(("tail", data[i:].decode(errors="replace")))
            break
        text = data[i:j].decode(errors="replace")
        if data.startswith(b"\r\n", j):
            out.append(("log", text))
            i = j + 2
        else:
            out.append(("status", text))
            i = j + 1
    return out


class Screen:
    """Just enough of a terminal: \r, \n, printable text with auto-wrap at
    `cols`, CSI K (erase to the end of the row), SGR colours ignored. Rows
    that scroll up go to the history; lines() joins the rows of a wrapped
    line again."""

    def __init__(self, cols=COLS):
        self.cols = cols
        self.history = []  # (row text, continues the row before it)
        self.row = []
        self.continued = False
        self.col = 0

    def feed(self, data):
        text = data.decode(errors="replace")
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\x1b":
                m = re.match(r"\x1b\[([0-9;]*)([A-Za-z])", text[i:])
                if not m:
                    raise Failure(f"unexpected escape sequence {text[i:i + 8]!r}")
                if m[2] == "K" and m[1] in ("", "0"):
                    del self.row[self.col:]
                elif m[2] != "m":
                    raise Failure(f"unexpected escape sequence {m[0]!r}")
                i += len(m[0])
                continue
            if ch == "\r":
                self.col = 0
            elif ch == "\n":
                self._scroll(wrapped=False)
            else:
                if self.col >= self.cols:
                    self._scroll(wrapped=True)
                    self.col = 0
                while len(self.row) < self.col:
                    self.row.append(" ")
                if self.col < len(self.row):
                    self.row[self.col] = ch
                else:
                    self.row.append(ch)
                self.col += 1
            i += 1

    def _scroll(self, wrapped):
        self.history.append(("".join(self.row).rstrip(), self.continued))
        self.row = []
        self.continued = wrapped

    def lines(self):
        out = []
        for text, cont in self.history:
            if cont and out:
                out[-1] += text
            else:
                out.append(text)
        return out

    def current(self):
        return "".join(self.row).rstrip()


def in_rate(status):
    """The incoming bit rate of a status line in kbit/s (None before media)."""
    m = re.search(r"\| in ([\d.]+) (Mbit/s|kbit/s)", status)
    if not m:
        return None
    return float(m[1]) * (1000 if m[2] == "Mbit/s" else 1)


def check_terminal(agent, cols=COLS):
    data = agent.data()
    toks = tokens(data)
    statuses = [t for k, t in toks if k == "status"]
    logs = [COLOR_RE.sub("", t) for k, t in toks if k == "log"]

    # Rewritten in place, one row: never longer than the terminal is wide.
    check(len(statuses) >= 8, "the status line was drawn (once a second)", ">= 8 draws", len(statuses))
    for s in statuses:
        check(STATUS_RE.match(s), "a status line", "state | in ... | out ...", s)
        check(len(s) <= cols - 1, f"status fits {cols} columns", f"<= {cols - 1} characters", (len(s), s))
    # Each draw starts by erasing the line.
    for n, (k, t) in enumerate(toks):
        if k == "status":
            check(n > 0 and toks[n - 1][0] == "clear", "every status draw starts with \\r\\033[K",
                  "clear before status", toks[max(0, n - 3):n + 1])

    # Its numbers move: nothing before the media, then a real incoming rate.
    rates = [in_rate(s) for s in statuses]
    check(any(r is None for r in rates[:3]), "the first status lines come before the media",
          "no 'in' field at first", statuses[:3])
    check(sum(1 for r in rates if r and r > 100) >= 4, "the status shows the incoming video",
          ">= 4 lines with 'in' > 100 kbit/s", statuses)
    check(len(set(statuses)) >= 4, "the status line changes", ">= 4 different lines", statuses)
    check(any(re.search(r" (2\d|3\d) fps 854x480", s) for s in statuses), "status shows fps and size",
          "'NN fps 854x480'", statuses)

    # Log lines while the status is shown: erased first, redrawn after.
    first = next(n for n, (k, _) in enumerate(toks) if k == "status")
    last = max(n for n, (k, _) in enumerate(toks) if k == "status")
    interleaved = 0
    for n in range(first + 1, last):
        if toks[n][0] != "log":
            continue
        interleaved += 1
        check(toks[n - 1][0] == "clear", "a log line while the status is shown erases it first",
              "clear, log", toks[n - 2:n + 1])
        check(toks[n + 1][0] == "clear" and toks[n + 2][0] in ("status", "log"),
              "after a log line the status is drawn again", "log, clear, status", toks[n:n + 3])
    check(interleaved >= 3, "log lines came while the status was shown", ">= 3", interleaved)

    # Replayed on a terminal: no wrap, every row in the history is one whole
    # log line (no status in the history, no status tail glued to a line).
    # (A log line longer than the terminal wraps, as it should; a status
    # line that wrapped would leave its first row in the history.)
    screen = Screen(cols)
    screen.feed(data)
    history = screen.lines()
    for line in history:
        check(LOG_RE.match(line), "every line in the terminal's history is a whole log line",
              "HH:MM:SS.mmm level [area] ...", line)
        check(" | in " not in line and " | out " not in line and not STATUS_RE.match(line),
              "no status text in the history", "", line)
    check_eq(len(history), len(logs), "lines in the history = log lines")
    # At exit: the status erased, the cursor at the start of an empty row.
    check_eq((screen.current(), screen.col), ("", 0), "the terminal at exit (current row, cursor column)")
    check(toks and toks[-1][0] in ("log", "clear"), "the output ends with a whole line", "log or clear",
          toks[-3:])
    return statuses, logs


def check_plain(agent):
    log = agent.log()
    check("\x1b" not in log and "\r" not in log, "no escape or carriage return when stderr is a file",
          "none", [l for l in log.splitlines() if "\x1b" in l or "\r" in l][:3])
    times = []
    for line in log.splitlines():
        m = re.match(r"^(\d\d):(\d\d):(\d\d\.\d{3}) +info +\[stats\] status: (.*)$", line)
        if m:
            check(STATUS_RE.match(m[4]), "a plain status line", "state | ...", m[4])
            times.append(int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]))
    check(len(times) >= 2, "plain status lines logged", ">= 2", len(times))
    gaps = [b - a for a, b in zip(times, times[1:])]
    check(all(4.5 <= g <= 7.5 for g in gaps), "plain status every 5 s", "gaps of ~5 s", gaps)
    return times


# ---- cases ----------------------------------------------------------------------------

def setup():
    tmp = tempfile.mkdtemp(prefix="callagent-status-")
    return {"tmp": tmp, "srv": start_server(tmp)}


def teardown(ctx, failed):
    ctx["srv"].stop()
    if failed:
        print(f"(logs and what the terminal received kept in {ctx['tmp']})")
    else:
        shutil.rmtree(ctx["tmp"], ignore_errors=True)


@case
def status_on_a_terminal_and_in_a_file(ctx):
    tmp = casedir(ctx, "call")
    room = new_room(ctx)
    tty = TtyAgent(tmp, "tty", ctx["srv"], room)
    plain = None
    try:
        tty.wait_for(r"connected to ws")
        plain = Agent(tmp, "plain", ctx["srv"], room, [])
        tty.wait_for(r"first remote video decoded")
        tty.wait_for(r" fps 854x480", count=7)
        tty.wait_for(r"\] peer \d+: \d+ video frames", timeout=15)  # the 10 s progress line
        check_eq(plain.stop(), 0, "exit code of the plain agent")
        tty.wait_for(r"partner \S+ left")
        tty.wait_for(r"\x1b\[Kalone\r", timeout=10)
        check_eq(tty.stop(), 0, "exit code of the terminal agent")
    finally:
        tty.kill()
        if plain:
            plain.kill()
    with open(os.path.join(tmp, "tty.terminal"), "wb") as f:
        f.write(tty.data())
    statuses, logs = check_terminal(tty)
    print(f"    terminal: {len(statuses)} status draws, {len(logs)} log lines; e.g. {statuses[-4]!r}",
          flush=True)
    times = check_plain(plain)
    print(f"    file: {len(times)} plain status lines", flush=True)


@case
def no_status_option_on_a_terminal(ctx):
    tmp = casedir(ctx, "no-status")
    tty = TtyAgent(tmp, "quiet", ctx["srv"], new_room(ctx), ["--no-status"])
    try:
        tty.wait_for(r"connected to ws")
        time.sleep(2.5)
        check_eq(tty.stop(), 0, "exit code")
    finally:
        tty.kill()
    toks = tokens(tty.data())
    check_eq([k for k, _ in toks if k != "log"], [], "only whole log lines with --no-status")


if __name__ == "__main__":
    run_cases(setup, teardown)
