#!/usr/bin/env python3
"""`callagent serve --tls-cert --tls-key`: https and wss with a self-signed
certificate made here by `openssl req`. The cookie gets Secure, /create hands
out https:// URLs, and the WebSocket rules (relays, error frames, 1006) hold
over TLS too."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (  # noqa: E402
    bearer, callagent_bin, case, check, check_eq, create_room, expect_error_then_1006, http_request,
    join_pair, recv_json, run_cases, sealed_env, skip, start_server)


class Ctx:
    pass


def setup():
    if not shutil.which("openssl"):
        skip("openssl is not installed (apt-get install openssl): cannot make a test certificate")
    c = Ctx()
    c.tmp = tempfile.mkdtemp(prefix="callagent-tls-")
    c.cert = os.path.join(c.tmp, "cert.pem")
    c.key = os.path.join(c.tmp, "key.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", c.key, "-out", c.cert, "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       capture_output=True, text=True, env=sealed_env(c.tmp))
    if p.returncode != 0:
        raise SystemExit(f"openssl req failed: {p.stderr}")
    c.srv = start_server(c.tmp, ["--tls-cert", c.cert, "--tls-key", c.key])
    c.url = c.srv.url
    return c


def teardown(c, failed):
    if c is None:
        return
    rc = c.srv.stop()
    if failed:
        print("# server stderr (tail):\n" + "\n".join(c.srv.stderr().splitlines()[-30:]))
    if rc != 0:
        print(f"# server exit code {rc}")
    shutil.rmtree(c.tmp, ignore_errors=True)


def tls_login(c):
    r = http_request(c.url, "POST", "/login", cafile=c.cert,
                     body={"username": c.srv.user, "password": c.srv.password})
    check_eq(r.status, 200, "login over https")
    return r


@case
def serves_https(c):
    check(c.url.startswith("https://127.0.0.1:"), "the URL line says https", "https://127.0.0.1:PORT", c.url)


@case
def cookie_is_secure_over_tls(c):
    r = tls_login(c)
    token = r.json()["token"]
    check_eq(r.cookie(), f"auth_token={token}; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax; Secure",
             "Set-Cookie over TLS")


@case
def create_hands_out_https_urls(c):
    token = tls_login(c).json()["token"]
    room_url, room = create_room(c.url, token, cafile=c.cert)
    check_eq(room_url, f"{c.url}/room/{room}", "room URL")


@case
def untrusted_certificate_is_refused_by_clients(c):
    try:
        http_request(c.url, "GET", "/login")  # system CAs only
    except Exception as e:  # noqa: BLE001 - any TLS verification error will do
        check("CERTIFICATE_VERIFY_FAILED" in str(e) or "certificate" in str(e).lower(),
              "verification error", "certificate verify failed", str(e))
        return
    raise AssertionError("a self-signed certificate was trusted without --cafile")


@case
async def wss_relay_and_errors(c):
    token = tls_login(c).json()["token"]
    _, room = create_room(c.url, token, cafile=c.cert)
    a, b, a_id, b_id = await join_pair(c.url, token, room, cafile=c.cert)
    try:
        await a.send(json.dumps({"type": "offer", "data": "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}"}))
        got = await recv_json(b, what="offer over wss")
        check_eq(got, {"type": "offer", "data": "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}",
                       "room": room, "user": b_id}, "relayed offer")
        await expect_error_then_1006(c.url, token, "room full", room=room, cafile=c.cert)
    finally:
        await a.close()
        await b.close()
    await expect_error_then_1006(c.url, token, "room not found",
                                 room="00000000-0000-4000-8000-000000000000", cafile=c.cert)
    await expect_error_then_1006(c.url, token, "room ID missing", query="", cafile=c.cert)


@case
def bad_key_is_a_config_error(c):
    wrong = os.path.join(c.tmp, "wrong.pem")
    with open(wrong, "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    p = subprocess.run([callagent_bin(), "serve", "--listen", "127.0.0.1:0", "--tls-cert", c.cert,
                        "--tls-key", wrong, "--db", os.path.join(c.tmp, "x.db")],
                       env=sealed_env(c.tmp, {"CALLAGENT_PASSWORD": "x"}), capture_output=True,
                       text=True, timeout=10, stdin=subprocess.DEVNULL)
    check_eq(p.returncode, 78, f"exit code (stderr: {p.stderr.strip()})")


if __name__ == "__main__":
    run_cases(setup, teardown)
