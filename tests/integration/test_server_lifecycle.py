#!/usr/bin/env python3
"""`callagent serve` start-up, configuration and shutdown: the URL line,
password sources and --demo, start-up errors and their exit codes, clean
exit on SIGTERM/SIGINT, rooms that outlive a restart while sessions do not,
the default database location, and no secrets in the logs."""

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (  # noqa: E402
    bearer, callagent_bin, case, check, check_eq, create_room, http_request, join_pair, login,
    recv_json, run_cases, sealed_env, start_server, websockets, ws_connect)


class Ctx:
    pass


def setup():
    c = Ctx()
    c.tmp = tempfile.mkdtemp(prefix="callagent-lifecycle-")
    return c


def teardown(c, failed):
    shutil.rmtree(c.tmp, ignore_errors=True)


def run_serve(c, args, env=None, timeout=10):
    """Runs `callagent serve ARGS` expecting it to exit by itself; returns
    (exit code, stdout, stderr)."""
    full_env = sealed_env(c.tmp, env)
    p = subprocess.run([callagent_bin(), "serve"] + args, env=full_env, cwd=c.tmp,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


@case
def url_is_first_stdout_line(c):
    with start_server(c.tmp) as srv:
        check(re.fullmatch(r"http://127\.0\.0\.1:\d+", srv.url) is not None, "first line",
              "http://127.0.0.1:PORT", srv.url)
        check(int(srv.url.rsplit(":", 1)[1]) > 0, "--listen 127.0.0.1:0 picked a port", "> 0", srv.url)
        check_eq(srv.stop(), 0, "exit code on SIGTERM")
        rest = srv.proc.stdout.read().decode() if srv.proc.stdout and not srv.proc.stdout.closed else ""
        check_eq(rest, "", "nothing else on stdout (logs go to stderr)")


@case
async def sigterm_closes_connections_and_exits_0(c):
    for sig in (signal.SIGTERM, signal.SIGINT):
        with start_server(c.tmp) as srv:
            token = login(srv.url, srv.user, srv.password)
            _, room = create_room(srv.url, token)
            a, b, _, _ = await join_pair(srv.url, token, room)
            srv.proc.send_signal(sig)
            for name, ws in (("A", a), ("B", b)):
                try:
                    await asyncio.wait_for(ws.recv(), 5)
                    raise AssertionError("expected the connection to close")
                except websockets.exceptions.ConnectionClosed as e:
                    check_eq(e.code, 1001, f"{name}'s close code on {sig.name} (going away)")
            rc = await asyncio.get_running_loop().run_in_executor(None, lambda: srv.proc.wait(10))
            check_eq(rc, 0, f"exit code on {sig.name} with open connections")
            check("stopped" in srv.stderr(), "logs say it stopped", "… stopped", srv.stderr()[-300:])


@case
def password_from_file_and_env(c):
    pw_file = os.path.join(c.tmp, "pw")
    with open(pw_file, "w") as f:
        f.write("from-the-file\n")
    os.chmod(pw_file, 0o600)
    with start_server(c.tmp, ["--password-file", pw_file], password="from-env",
                      user="operator") as srv:
        login(srv.url, "operator", "from-the-file")
        r = http_request(srv.url, "POST", "/login", body={"username": "operator", "password": "from-env"})
        check_eq(r.status, 401, "the file wins over CALLAGENT_PASSWORD")
        r = http_request(srv.url, "POST", "/login", body={"username": "admin", "password": "from-the-file"})
        check_eq(r.status, 401, "only the configured --user")
        srv.stop()
    with start_server(c.tmp, password="from-env") as srv:
        login(srv.url, "admin", "from-env")
        srv.stop()


@case
def demo_prints_password_once(c):
    with start_server(c.tmp, ["--demo", "-v"], password=None, stdout_lines=2) as srv:
        check(re.fullmatch(r"http://127\.0\.0\.1:\d+", srv.url) is not None, "URL first", "URL",
              srv.stdout_lines)
        m = re.search(r"password '([^']+)'", srv.stdout_lines[1])
        check(m is not None, "second line names the password", "… password '…' …", srv.stdout_lines[1])
        pw = m.group(1)
        check(len(pw) >= 16, "a long random password", ">= 16 chars", pw)
        token = login(srv.url, "admin", pw)
        http_request(srv.url, "GET", "/create", headers=bearer(token))
        srv.stop()
        err = srv.stderr()
        check(pw not in err, "the demo password is not in the logs", "absent", "present")
        check(token not in err, "the token is not in the logs", "absent", "present")
        check(token[:4] + "…" in err, "logs name a token prefix only", token[:4] + "…", err[-400:])


@case
def startup_errors_have_exit_codes(c):
    rc, out, err = run_serve(c, ["--listen", "127.0.0.1:0", "--db", os.path.join(c.tmp, "e.db")])
    check_eq(rc, 64, "no password: usage error")
    check("CALLAGENT_PASSWORD" in err and "--demo" in err, "the error says how to give one",
          "mentions CALLAGENT_PASSWORD and --demo", err)
    check_eq(out, "", "nothing on stdout")

    rc, _, err = run_serve(c, ["--listen", "127.0.0.1:0", "--password-file", os.path.join(c.tmp, "nope")])
    check_eq(rc, 66, "missing password file")

    rc, _, err = run_serve(c, ["--listen", "not an address"], env={"CALLAGENT_PASSWORD": "x"})
    check_eq(rc, 64, "bad --listen")

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        rc, _, err = run_serve(c, ["--listen", f"127.0.0.1:{port}", "--db", os.path.join(c.tmp, "e.db")],
                               env={"CALLAGENT_PASSWORD": "x"})
        check_eq(rc, 69, f"port {port} in use")
        check(str(port) in err, "the error names the address", f"…{port}…", err)

    bad_db = os.path.join(c.tmp, "notadb")
    with open(bad_db, "w") as f:
        f.write("garbage " * 100)
    rc, _, err = run_serve(c, ["--listen", "127.0.0.1:0", "--db", bad_db], env={"CALLAGENT_PASSWORD": "x"})
    check_eq(rc, 73, "a file that is not a database")

    rc, _, err = run_serve(c, ["--listen", "127.0.0.1:0", "--tls-cert", os.path.join(c.tmp, "missing.pem"),
                               "--tls-key", os.path.join(c.tmp, "missing.pem")],
                           env={"CALLAGENT_PASSWORD": "x"})
    check_eq(rc, 64, "missing TLS files")


@case
async def rooms_outlive_restart_sessions_do_not(c):
    db = os.path.join(c.tmp, "persist.db")
    with start_server(c.tmp, db=db) as srv:
        token = login(srv.url, srv.user, srv.password)
        _, room = create_room(srv.url, token)
        check_eq(srv.stop(), 0, "exit code")
    with start_server(c.tmp, db=db) as srv:
        r = http_request(srv.url, "GET", "/create", headers=bearer(token))
        check_eq(r.status, 401, "a token from before the restart")
        token2 = login(srv.url, srv.user, srv.password)
        a, b, _, _ = await join_pair(srv.url, token2, room)
        await a.send(json.dumps({"type": "chat", "data": "still here"}))
        check_eq((await recv_json(b))["data"], "still here", "the old room works after a restart")
        await a.close()
        await b.close()
        check_eq(srv.stop(), 0, "exit code")


@case
def default_database_under_xdg_state_home(c):
    with start_server(c.tmp, db=False) as srv:
        token = login(srv.url, srv.user, srv.password)
        create_room(srv.url, token)
        srv.stop()
    path = os.path.join(c.tmp, "home", ".local", "state", "callagent", "rooms.db")
    check(os.path.exists(path), "rooms.db in $XDG_STATE_HOME/callagent", path, os.listdir(c.tmp))


@case
async def no_secrets_in_debug_logs(c):
    with start_server(c.tmp, ["-v"], password="Very-Secret-Pw-42") as srv:
        token = login(srv.url, srv.user, srv.password)
        http_request(srv.url, "POST", "/login", body={"username": "admin", "password": "Wrong-Guess-99"})
        _, room = create_room(srv.url, token)
        a = await ws_connect(srv.url, token, room, use_cookie=True)
        await a.close()
        http_request(srv.url, "GET", "/logout", headers=bearer(token))
        srv.stop()
        err = srv.stderr()
        for secret, what in [("Very-Secret-Pw-42", "password"), ("Wrong-Guess-99", "a wrong guess"),
                             (token, "token"), (token[:12], "a long token prefix")]:
            check(secret not in err, f"{what} not in the debug log", "absent", "present")
        check("debug" in err, "debug logging was on", "debug lines", err[:200])


if __name__ == "__main__":
    run_cases(setup, teardown)
