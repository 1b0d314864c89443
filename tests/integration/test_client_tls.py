#!/usr/bin/env python3
"""The client over TLS, against `callagent serve --tls-cert/--tls-key` with a
self-signed certificate made here by `openssl req`: verified with --ca-file,
rejected without it (79, with a message naming --ca-file), accepted with
--insecure (with a warning), and chat over wss."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import case, check, check_eq, run_cases, sealed_env, skip, start_server  # noqa: E402
from test_client_common import Chat, client_env, run_cli, stop_all  # noqa: E402


class Ctx:
    pass


def make_cert(tmp, name, cn="localhost", san="IP:127.0.0.1,DNS:localhost"):
    cert = os.path.join(tmp, f"{name}.pem")
    key = os.path.join(tmp, f"{name}.key")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={cn}",
                        "-addext", f"subjectAltName={san}"],
                       capture_output=True, text=True, env=sealed_env(tmp))
    if p.returncode != 0:
        raise SystemExit(f"openssl req failed: {p.stderr}")
    return cert, key


def setup():
    if not shutil.which("openssl"):
        skip("openssl is not installed (apt-get install openssl): cannot make a test certificate")
    c = Ctx()
    c.tmp = tempfile.mkdtemp(prefix="callagent-client-tls-")
    c.cert, c.key = make_cert(c.tmp, "server")
    c.other_cert, _ = make_cert(c.tmp, "other")
    c.srv = start_server(c.tmp, ["--tls-cert", c.cert, "--tls-key", c.key])
    # Our own server was given a certificate: not serving TLS is a failure.
    check(c.srv.url.startswith("https://"), "the server serves TLS when given --tls-cert/--tls-key",
          "an https:// URL", c.srv.url)
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
def verified_with_ca_file(c):
    rc, out, err = run_cli(["create", "--server", c.srv.url, "--ca-file", c.cert], c.env)
    expect(rc, out, err, 0, "create --ca-file")
    check(out.startswith(c.srv.url + "/room/"), "an https room URL", f"{c.srv.url}/room/…", out)
    check_eq(len(out.splitlines()), 1, "one line on stdout")


@case
def relative_ca_file_path_works(c):
    env = dict(c.env)
    rel = os.path.relpath(c.cert, env["HOME"])
    rc, out, err = run_cli(["create", "--server", c.srv.url, "--ca-file", rel], env)
    expect(rc, out, err, 0, f"create --ca-file {rel} (relative to the working directory)")


@case
def rejected_without_ca_file_79(c):
    rc, out, err = run_cli(["create", "--server", c.srv.url], c.env)
    expect(rc, out, err, 79, "create without --ca-file")
    check("--ca-file" in err and "certificate" in err, "the message names the certificate and --ca-file",
          "…certificate…--ca-file…", err)
    check_eq(out, "", "nothing on stdout")


@case
def rejected_with_the_wrong_ca_79(c):
    rc, out, err = run_cli(["create", "--server", c.srv.url, "--ca-file", c.other_cert], c.env)
    expect(rc, out, err, 79, "create with another CA")


@case
def accepted_with_insecure_and_a_warning(c):
    rc, out, err = run_cli(["create", "--server", c.srv.url, "--insecure"], c.env)
    expect(rc, out, err, 0, "create --insecure")
    check("--insecure" in err and "warn" in err, "a warning says verification is off", "warning …--insecure…", err)


@case
def bad_ca_file_is_78(c):
    bad = os.path.join(c.tmp, "not-a-cert.pem")
    with open(bad, "w") as f:
        f.write("this is not PEM\n")
    rc, out, err = run_cli(["create", "--server", c.srv.url, "--ca-file", bad], c.env)
    expect(rc, out, err, 78, "create with an unreadable CA file")
    check("PEM" in err, "the message says what the file must hold", "…PEM…", err)


@case
def plain_http_to_the_tls_port_fails_with_a_hint(c):
    url = c.srv.url.replace("https://", "http://")
    rc, out, err = run_cli(["create", "--server", url], c.env)
    check(rc in (69, 76), f"exit code for http:// to a TLS port (stderr {err!r})", "69 or 76", rc)
    check("https://" in err, "the message suggests https://", "…https://…", err)


@case
def chat_over_wss(c):
    rc, out, err = run_cli(["create", "-q", "--server", c.srv.url, "--ca-file", c.cert], c.env)
    expect(rc, out, err, 0, "create")
    room = out.strip()
    a = Chat(c.tmp, room, c.env, ["--ca-file", c.cert], name="A")
    b = None
    try:
        a.wait_event({"event": "connected"}, what="A connected over wss")
        b = Chat(c.tmp, room, c.env, ["--insecure"], name="B")
        b.wait_event({"event": "connected"}, what="B connected over wss (--insecure)")
        a.wait_event({"event": "join", "source": "server"}, what="A sees B")
        a.send("secret hello")
        b.wait_event({"event": "chat", "text": "secret hello"}, what="B receives A over wss")
        b.close_stdin()
        a.wait_event({"event": "leave"}, what="A sees B leave")
        b.expect_exit(0)
    finally:
        stop_all(a, b)


@case
def chat_without_ca_is_79(c):
    rc, out, err = run_cli(["create", "-q", "--server", c.srv.url, "--ca-file", c.cert], c.env)
    room = out.strip()
    rc, out, err = run_cli(["chat", "--json", room], c.env)
    expect(rc, out, err, 79, "chat without --ca-file")


if __name__ == "__main__":
    run_cases(setup, teardown)
