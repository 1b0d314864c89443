#!/usr/bin/env python3
"""`callagent create` against a real `callagent serve`, and how both client
commands fail: bad password (77), token-only auth, server unreachable (69),
unknown host (68), and command-line mistakes (64) with messages that say what
to do."""

import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (  # noqa: E402
    case, check, check_eq, expect_silence, login, run_cases, start_server, ws_connect)
from test_client_common import UUID, client_env, free_port, run_cli  # noqa: E402


class Ctx:
    pass


def setup():
    c = Ctx()
    c.tmp = tempfile.mkdtemp(prefix="callagent-client-create-")
    c.srv = start_server(c.tmp)
    c.env = client_env(c.tmp, c.srv)
    return c


def teardown(c, failed):
    if c is None:
        return
    c.srv.stop()
    if failed:
        print("# server stderr (tail):\n" + "\n".join(c.srv.stderr().splitlines()[-30:]))
    shutil.rmtree(c.tmp, ignore_errors=True)


def expect(rc, out, err, code, what):
    check(rc == code, f"{what}: exit code\n    stdout: {out!r}\n    stderr: {err!r}", code, rc)


@case
def create_prints_exactly_one_room_url(c):
    rc, out, err = run_cli(["create", "--server", c.srv.url], c.env)
    expect(rc, out, err, 0, "create")
    lines = out.splitlines()
    check_eq(len(lines), 1, f"stdout has exactly one line (stdout {out!r})")
    check(re.fullmatch(re.escape(c.srv.url) + "/room/" + UUID, lines[0]) is not None,
          "the line is the room URL", f"{c.srv.url}/room/<uuid>", lines[0])
    check(out.endswith("\n"), "the line ends with a newline", "…\\n", out)
    check(c.srv.password not in err, "the password never appears in the logs", "no password", err)


async def _room_exists(c, room_url):
    token = login(c.srv.url, c.srv.user, c.srv.password)
    ws = await ws_connect(c.srv.url, token, room_url.rsplit("/room/", 1)[1])
    try:
        await expect_silence(ws, 0.5, "no error frame (the room exists)")
    finally:
        await ws.close()


@case
async def created_room_exists(c):
    rc, out, err = run_cli(["create", "-q", "--server", c.srv.url + "/"], c.env)
    expect(rc, out, err, 0, "create")
    check_eq(err, "", "-q: nothing on stderr")
    await _room_exists(c, out.strip())


@case
def password_file_works(c):
    pw = os.path.join(c.tmp, "pw.txt")
    with open(pw, "w") as f:
        f.write(c.srv.password + "\n")
    env = client_env(c.tmp, password="")
    rc, out, err = run_cli(["create", "--server", c.srv.url, "--password-file", pw], env)
    expect(rc, out, err, 0, "create --password-file")
    check("/room/" in out, "a room URL", "…/room/…", out)


@case
def bad_password_is_77_with_a_clear_message(c):
    env = client_env(c.tmp, password="wrong-password-xyz")
    rc, out, err = run_cli(["create", "--server", c.srv.url], env)
    expect(rc, out, err, 77, "create with a bad password")
    check_eq(out, "", "nothing on stdout")
    check("refused" in err and "password" in err, "the message says the login was refused and what to check",
          "…refused…password…", err)
    check("wrong-password-xyz" not in err, "the password never appears in the logs", "no password", err)


@case
def token_only_auth_works_and_a_stale_token_is_77(c):
    token = login(c.srv.url, c.srv.user, c.srv.password)
    env = client_env(c.tmp, password="", extra={"CALLAGENT_TOKEN": token})
    rc, out, err = run_cli(["create", "--server", c.srv.url], env)
    expect(rc, out, err, 0, "create with CALLAGENT_TOKEN")
    check(token not in err, "the full token never appears in the logs", "no token", err)
    rc, out, err = run_cli(["create", "--server", c.srv.url, "--token", "bogus-token-value"],
                           client_env(c.tmp, password=""))
    expect(rc, out, err, 77, "create with a token the server does not know")
    check("token" in err and ("password" in err), "the message says the token was rejected and to give a password",
          "…token…password…", err)


@case
def stale_token_with_password_logs_in_again(c):
    rc, out, err = run_cli(["create", "--server", c.srv.url, "--token", "bogus-token-value"], c.env)
    expect(rc, out, err, 0, "create with a stale token and a password")
    check("logged in" in err, "it logged in after the 401", "…logged in…", err)


@case
def unreachable_server_is_69(c):
    port = free_port()
    for cmd in (["create", "--server", f"http://127.0.0.1:{port}"],
                ["chat", "--server", f"http://127.0.0.1:{port}", "abc"]):
        rc, out, err = run_cli(cmd, c.env)
        expect(rc, out, err, 69, " ".join(cmd[:1]) + " against a closed port")
        check("refused" in err, "the message says the connection was refused", "…refused…", err)


@case
def unknown_host_is_68(c):
    rc, out, err = run_cli(["create", "--server", "http://callagent-test.invalid"], c.env)
    if rc == 69 and "in time" in err:
        print("# note: DNS did not answer in time here; accepting 69")
        return
    expect(rc, out, err, 68, "create against an unknown host name")
    check("resolve" in err, "the message says the name did not resolve", "…resolve…", err)


@case
def usage_errors_are_64_and_say_what_to_do(c):
    cases = [
        (["create"], "--server"),
        (["create", "--server", "127.0.0.1:8080"], "http://"),
        (["create", "--server", "ws://127.0.0.1:8080"], "WebSocket"),
        (["chat", "abc"], "--server"),
        (["chat", "ws://127.0.0.1:8080/ws?room=abc"], "WebSocket"),
        (["chat", "http://127.0.0.1:8080/rooms/abc"], "not a room URL"),
        (["chat", "--server", "http://127.0.0.1:1", "a/b"], "room"),
    ]
    for args, hint in cases:
        rc, out, err = run_cli(args, c.env)
        expect(rc, out, err, 64, " ".join(args))
        check(hint in err, f"{' '.join(args)}: the message mentions {hint!r}", hint, err)
        check_eq(out, "", f"{' '.join(args)}: nothing on stdout")


@case
def no_credentials_is_64(c):
    rc, out, err = run_cli(["create", "--server", c.srv.url], client_env(c.tmp, password=""))
    expect(rc, out, err, 64, "create without any credentials")
    check("CALLAGENT_PASSWORD" in err, "the message says how to give a password", "…CALLAGENT_PASSWORD…", err)


@case
def help_has_examples(c):
    for cmd in ("create", "chat"):
        rc, out, err = run_cli([cmd, "--help"], c.env)
        expect(rc, out, err, 0, f"{cmd} --help")
        check("Examples:" in out, f"{cmd} --help shows examples", "Examples:", out)


if __name__ == "__main__":
    run_cases(setup, teardown)
