#!/usr/bin/env python3
"""Outputs that cannot be created fail `callagent join` at once: exit 73
(cant-create), the option and the path named, before any login or media
(a partner never sees an agent that joins and then dies). Each output
option is tried with a path under a directory that does not exist, with a
directory where a file is wanted, and --pipeline-graph with a missing
directory; a writable path still makes a call that writes the file."""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import case, check, check_eq, create_room, login, run_cases, start_server  # noqa: E402
from test_client_common import client_env, run_cli  # noqa: E402


class Ctx:
    pass


def setup():
    c = Ctx()
    c.tmp = tempfile.mkdtemp(prefix="callagent-join-outputs-")
    c.srv = start_server(c.tmp)
    c.env = client_env(c.tmp, c.srv)
    token = login(c.srv.url, c.srv.user, c.srv.password)
    c.room, _ = create_room(c.srv.url, token)
    return c


def teardown(c, failed):
    if c is None:
        return
    c.srv.stop()
    shutil.rmtree(c.tmp, ignore_errors=True)


def join(c, extra, timeout=60):
    return run_cli(["join", c.room, "--video-source", "test", "--audio-source", "test", "--ice-ip", "127.0.0.1",
                    "--duration", "2s", "--no-status"] + extra, c.env, timeout=timeout)


def expect_cant_create(c, option, path, extra_value=None):
    rc, out, err = join(c, [option, extra_value or path])
    check_eq(rc, 73, f"{option} {path}: exit code (stderr {err[-600:]!r})")
    check(option in err and path in err, f"{option}: the error names the option and the path", f"{option} {path}",
          err[-600:])
    check("logged in" not in err, f"{option}: nothing was attempted before the check (no login)", "no login",
          err[-600:])


@case
def missing_directory_fails_each_output_with_73(c):
    for option, name in (("--record", "a.mkv"), ("--snapshot", "a.png"), ("--report", "r.json"),
                         ("--junit", "j.xml"), ("--stats-log", "s.jsonl")):
        expect_cant_create(c, option, f"/nonexistent/dir/{name}")


@case
def a_directory_where_a_file_is_wanted(c):
    d = os.path.join(c.tmp, "adir.mkv")
    os.makedirs(d, exist_ok=True)
    expect_cant_create(c, "--record", d)


@case
def pipeline_graph_directory_must_exist(c):
    expect_cant_create(c, "--pipeline-graph", "/nonexistent/graphs")
    f = os.path.join(c.tmp, "plainfile")
    open(f, "w").close()
    expect_cant_create(c, "--pipeline-graph", f)


@case
def writable_outputs_pass_the_check(c):
    # Nobody joins: the call ends with no-partner (its own code), but only
    # after the outputs were accepted and the agent logged in.
    rep = os.path.join(c.tmp, "ok", "r.json")
    os.makedirs(os.path.dirname(rep), exist_ok=True)
    rc, out, err = join(c, ["--report", rep, "--record", os.path.join(c.tmp, "ok", "a.mkv"),
                            "--wait-for-partner", "1s"])
    check(rc != 73, "writable outputs are accepted", "not 73", rc)
    check("logged in" in err, "the agent went on to log in", "logged in", err[-600:])
    check(os.path.exists(rep), "the report was written", rep, os.listdir(os.path.dirname(rep)))


if __name__ == "__main__":
    run_cases(setup, teardown)
