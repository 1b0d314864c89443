#!/usr/bin/python3
"""Calls through relays and blocked networks, in the network lab.

- agent <-> agent relayed through coturn over UDP, TCP and TLS
  (`--ice-transport-policy relay`, so no packet may go straight to the
  partner): the report names the path (relay candidate, the relay's
  transport), each side's recording of the partner reads back as VP8;
- with all UDP blocked on both sides the call still comes up (ICE-TCP);
- `--expect` on the path: the relayed calls assert `ice.local_type==relay`
  (and the relay's transport) through the agents' own expectations; an
  agent that expects `ice.local_type==host` on a relay-only call exits 1
  (expectation-failed) naming the path it measured;
- agent (relay only) <-> headless Chromium: the agent's every packet goes
  through coturn; Chromium itself uses host candidates;
- the page relay-only (`?turn=...&turn_user=..&turn_pass=..&relay=1`) <->
  the agent (host candidates): the page's selected pair is a relay
  candidate (getStats), coturn allocated for it, media flowed both ways;
- a peer that used TURN releases its allocations when it goes: coturn
  sees a Refresh with lifetime 0 for every allocation of the agent (UDP
  allocations would otherwise live on for their 10-minute lifetime) and
  libnice's "alive TURN refreshes" warning is gone from the agent's log.

Each call is a few seconds of 480p test media; the checks are on what
happened (path, frames, files, coturn's log), never on timings.
"""

import json
import os
import re
import shutil
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402  (re-executes this script inside a private lab)
from callnet import check_recording, probe  # noqa: E402
from harness import Failure, SkipCase, case, check, run_cases  # noqa: E402

CALL_S = 6          # each agent's --duration
VIDEO = "480p"      # 854x480: light enough for two agents on a busy 2-core machine
WIDTH, HEIGHT = 854, 480
TURN_WARNING = "alive TURN refreshes"


def setup():
    if not shutil.which("turnserver"):
        netlab.skip("coturn is not installed (apt-get install coturn)")
    lab = netlab.Lab(relay=True)
    return {"lab": lab, "turn": lab.turn()}


def teardown(ctx, failed):
    ctx["lab"].close(failed=bool(failed))


def turn_sessions(turn, since):
    """coturn's allocations since log offset `since`: (allocated, released)
    session ids -- released = refreshed to lifetime 0 (its verbose log keys
    lines by session, naming the client only when the session closes)."""
    text = turn.log()[since:]
    allocated = set(re.findall(r"session (\d+): realm <[^>]*> user <[^>]*>: incoming packet ALLOCATE "
                               r"processed, success", text))
    released = set(re.findall(r"session (\d+): refreshed, realm=<[^>]*>, username=<[^>]*>, lifetime=0\b", text))
    return allocated, released


def call(lab, name, a_args, b_args=None, b_side="b", codes=(0, 0)):
    """Agent a (first in the room) and agent b, CALL_S each, both recording
    the partner and writing a report; returns (a, b) after they exited with
    `codes` (0: ok, 1: an expectation failed)."""
    room = lab.new_room()
    common = ["--duration", f"{CALL_S}s", "--no-status", "--warm-up", "1s"]
    a = lab.agent("a", room, common + list(a_args) + ["--record", f"{name}-a.mkv", "--report", f"{name}-a.json"],
                  name=f"{name}-a", video=VIDEO)
    a.wait_for_log(r"\[ws\] connected to ws://", timeout=20)
    b = lab.agent(b_side, room, common + list(b_args if b_args is not None else a_args)
                  + ["--record", f"{name}-b.mkv", "--report", f"{name}-b.json"], name=f"{name}-b", video=VIDEO)
    try:
        for ag, code in zip((a, b), codes):
            rc = ag.wait(CALL_S + 40)
            check(rc == code, f"{ag.name} exit code", code, (rc, ag.tail()))
    finally:
        a.kill()
        b.kill()
    return a, b


def pair_of(agent, name):
    rep = agent.report(f"{name}.json")
    pair = rep["summary"]["candidate_pair"]
    check(pair is not None, f"{name}: the report names the candidate pair", "an object",
          (pair, agent.tail()))
    return pair


def check_recordings(lab, name):
    for side in ("a", "b"):
        check_recording(os.path.join(lab.tmp, f"{name}-{side}.mkv"), WIDTH, HEIGHT, 2.0, CALL_S + 1.0)


def check_released(turn, since, agents, at_least):
    """Every allocation made since log offset `since` was refreshed to
    lifetime 0 when its agent left, and libnice warned about no live
    refresh."""
    allocated, released = turn_sessions(turn, since)
    check(len(allocated) >= at_least, "coturn allocated for the agents", f">= {at_least}", sorted(allocated))
    check(allocated <= released, "every allocation released (Refresh with lifetime 0)", sorted(allocated),
          (sorted(released), turn.log()[since:][-4000:]))
    for agent in agents:
        log = agent.log()
        check(TURN_WARNING not in log, f"{agent.name}: no '{TURN_WARNING}' warning", "absent",
              [line for line in log.splitlines() if TURN_WARNING in line])
        check("TURN allocations released" in log, f"{agent.name}: logs that its ICE agent closed", "a line",
              agent.tail())


def relayed_call(ctx, transport, failing_b=False):
    """Both agents relay-only over TURN/`transport`, asserting the path
    themselves (what a CI job would do: a failing expectation exits 1).
    With `failing_b`, b also expects a host path: that expectation must fail
    (exit 1), naming the measured path, while the rest pass."""
    lab, turn = ctx["lab"], ctx["turn"]
    lab.clear()
    name = f"relay-{transport}"
    path = ["--expect", "ice.local_type==relay", "--expect", "ice.remote_type==relay",
            "--expect", "ice.protocol==udp", "--expect", f"ice.relay_protocol=={transport}"]
    args = turn.agent_args(transport) + ["--ice-transport-policy", "relay"] + path
    b_args = args + (["--expect", "ice.local_type==host"] if failing_b else [])
    since = len(turn.log())
    a, b = call(lab, name, args, b_args, codes=(0, 1 if failing_b else 0))
    for ag, side in ((a, "a"), (b, "b")):
        pair = pair_of(ag, f"{name}-{side}")
        check(pair["local_type"] == "relay", f"{ag.name}: local candidate", "relay", pair)
        check(pair["remote_type"] == "relay", f"{ag.name}: remote candidate (the partner is relay-only too)",
              "relay", pair)
        check(pair["protocol"] == "udp", f"{ag.name}: the relayed leg", "udp", pair)
        check(pair["relay_protocol"] == transport, f"{ag.name}: the relay's transport", transport, pair)
        check(pair["local_address"].startswith(turn.host + ":"), f"{ag.name}: relayed address on coturn",
              turn.host, pair)
        check(re.search(rf"ICE path relay/udp \(TURN over {transport}\)", ag.log()),
              f"{ag.name}: the log names the path", f"relay/udp (TURN over {transport})", ag.tail())
    check_recordings(lab, name)
    check_released(turn, since, (a, b), 2)
    for ag, side in ((a, "a"), (b, "b")):
        ex = [e for e in ag.report(f"{name}-{side}.json")["expectations"] if e["expr"] != "ice.local_type==host"]
        check(len(ex) == 4 and all(e["passed"] for e in ex), f"{ag.name}: the path expectations passed",
              "4 passed", ex)
    if failing_b:
        rep, e = expectation(b, f"{name}-b.json", "ice.local_type==host")
        check(not e["passed"] and e["measured"] == "relay", "b: ice.local_type==host failed, measured 'relay'",
              "failed", e)
        check(e["message"] == "ice.local_type = relay, expected == host", "b: the message names the path",
              "ice.local_type = relay, expected == host", e["message"])
        check(rep["exit"]["code"] == 1 and rep["exit"]["name"] == "expectation-failed",
              "b: exit 1 (expectation-failed)", 1, rep["exit"])
        check("expectation FAILED: ice.local_type==host: ice.local_type = relay, expected == host" in b.log(),
              "b: the log names the failed expectation", "a line", b.tail())
        rep, e = expectation(a, f"{name}-a.json", "ice.local_type==relay")
        check(e["passed"] and e["measured"] == "relay" and e["threshold"] == "relay" and e["op"] == "==",
              "a: ice.local_type==relay passed, measured 'relay'", "passed", e)
        check(rep["exit"]["code"] == 0 and rep["exit"]["name"] == "ok", "a: exit ok", 0, rep["exit"])


def expectation(agent, report, expr):
    rep = agent.report(report)
    found = [e for e in rep["expectations"] if e["expr"] == expr]
    check(len(found) == 1, f"{agent.name}: the report lists '{expr}'", "one entry", rep["expectations"])
    return rep, found[0]


@case
def relayed_over_udp(ctx):
    """Also `--expect` on the path: b's `ice.local_type==host` fails (exit 1,
    the measured path named in the log and the report)."""
    relayed_call(ctx, "udp", failing_b=True)


@case
def relayed_over_tcp(ctx):
    relayed_call(ctx, "tcp")


@case
def relayed_over_tls(ctx):
    relayed_call(ctx, "tls")


@case
def all_udp_blocked_comes_up_over_tcp(ctx):
    lab = ctx["lab"]
    name = "udp-blocked"
    lab.clear()
    lab.reset_stats()
    lab.link("a", block=["udp"])
    lab.link("b", block=["udp"])
    try:
        a, b = call(lab, name, ["--expect", "ice.protocol==tcp", "--expect", "ice.local_type!=relay"])
        stats = lab.stats()["stats"]
    finally:
        lab.clear()
    for ag, side in ((a, "a"), (b, "b")):
        pair = pair_of(ag, f"{name}-{side}")
        check(pair["protocol"] == "tcp", f"{ag.name}: ICE-TCP with UDP blocked", "tcp", pair)
        # The active side's TCP port is an ephemeral one its partner first
        # learns from the connection: peer-reflexive there.
        check(pair["local_type"] in ("host", "prflx") and pair["remote_type"] in ("host", "prflx"),
              f"{ag.name}: no relay, the sides' own addresses", "host|prflx", pair)
        check(pair["remote_address"].startswith(lab.addr("b" if side == "a" else "a") + ":"),
              f"{ag.name}: straight to the partner's address", lab.addr("b" if side == "a" else "a"), pair)
        check(re.search(r"ICE path (host|prflx)/tcp ", ag.log()), f"{ag.name}: the log names the path",
              "host/tcp", ag.tail())
    check_recordings(lab, name)
    # The block really was on: UDP was tried and dropped.
    filtered = sum(d.get("udp", {}).get("filtered", 0) for s in ("a", "b")
                   for d in (stats.get(s, {}).get("up", {}), stats.get(s, {}).get("down", {})))
    check(filtered > 0, "UDP packets were dropped by the block", "> 0", json.dumps(stats)[:2000])


@case
def agent_relay_only_with_chromium(ctx):
    lab, turn = ctx["lab"], ctx["turn"]
    try:
        from browser import chromium_or_skip
        chromium_or_skip()
    except SystemExit as e:
        raise SkipCase(f"no Chromium ({e})")
    lab.clear()
    name = "relay-chromium"
    srv = lab.server()
    room = lab.new_room()
    chrome = lab.chromium("b")
    page = chrome.new_page()
    page.set_auth_cookie(srv.url, lab.token())
    since = len(turn.log())
    a = lab.agent("a", room, ["--no-status", "--warm-up", "1s", "--ice-transport-policy", "relay",
                              "--record", f"{name}.mkv", "--report", f"{name}.json"] + turn.agent_args("udp"),
                  name=name, video=VIDEO)
    try:
        a.wait_for_log(r"\[ws\] connected to ws://", timeout=20)
        page.goto(room + "?ice=none&video=480p&fps=30")
        # Chromium is slow to start sending on a busy machine: the call
        # lasts from its first decoded frame, then the agent is stopped.
        a.wait_for_log("first remote video decoded", timeout=40)
        time.sleep(4)
        state = json.loads(page.evaluate("JSON.stringify(callagentPage.state())"))
        check(state.get("connectedAt"), "the page connected", "connectedAt", state)
        rc = a.stop()
        check(rc == 0, f"{name} exit code after SIGTERM", 0, (rc, a.tail()))
    finally:
        a.kill()
        chrome.close()
    pair = pair_of(a, name)
    check(pair["local_type"] == "relay" and pair["relay_protocol"] == "udp", "agent: relay over UDP",
          "relay/udp", pair)
    check(pair["remote_type"] in ("host", "prflx") and pair["remote_address"].startswith(lab.addr("b") + ":"),
          "agent: Chromium's own address on the far end", lab.addr("b"), pair)
    info = probe(os.path.join(lab.tmp, f"{name}.mkv"))
    v = info["streams"].get("video")
    check(v is not None and v["codec"] == "vp8", "recording of Chromium: VP8 video", "vp8", info)
    check(v["frames"] > 0, "recording of Chromium: frames", "> 0", info)
    check(info["duration"] is not None and 2.0 <= info["duration"] <= CALL_S + 3.0,
          "recording of Chromium: a duration (finalized) that fits the call", f"2..{CALL_S + 3}", info)
    check_released(turn, since, (a,), 1)


@case
def page_relay_only_with_agent(ctx):
    """The messenger's page forced through coturn (`turn=`, `turn_user=`,
    `turn_pass=`, `relay=1`) and an agent with its host candidates only."""
    lab, turn = ctx["lab"], ctx["turn"]
    try:
        from browser import chromium_or_skip
        chromium_or_skip()
    except SystemExit as e:
        raise SkipCase(f"no Chromium ({e})")
    lab.clear()
    name = "page-relay"
    srv = lab.server()
    room = lab.new_room()
    chrome = lab.chromium("b", name="chromium-page-relay")
    page = chrome.new_page()
    page.set_auth_cookie(srv.url, lab.token())
    since = len(turn.log())
    a = lab.agent("a", room, ["--no-status", "--warm-up", "1s", "--record", f"{name}.mkv",
                              "--report", f"{name}.json", "--expect", "ice.remote_type==relay",
                              "--expect", "ice.local_type==host", "--expect", "video.in.frames_decoded>0"],
                  name=name, video=VIDEO)
    query = urllib.parse.urlencode({"ice": "none", "turn": f"turn:{turn.host}:{turn.port}?transport=udp",
                                    "turn_user": turn.user, "turn_pass": turn.password, "relay": "1",
                                    "video": "480p", "fps": "30"})
    try:
        a.wait_for_log(r"\[ws\] connected to ws://", timeout=20)
        page.goto(f"{room}?{query}")
        a.wait_for_log("first remote video decoded", timeout=40)
        page.wait_for("callagentPage.state().firstFrameAt", 30, "the page decoded the agent's video")
        time.sleep(4)
        stats = page.evaluate("callagentPage.stats()")
        rc = a.stop()
        check(rc == 0, f"{name}: agent exit code after SIGTERM (its expectations passed)", 0, (rc, a.tail()))
    finally:
        a.kill()
        chrome.close()
    print(f"  page stats: {json.dumps(stats)}", flush=True)
    pair = stats.get("selectedPair") or {}
    check(pair.get("localType") == "relay" and pair.get("relayProtocol") == "udp",
          "page: its selected pair is a relay candidate (TURN over udp)", "relay/udp", pair)
    check((pair.get("remote") or "").startswith(lab.addr("a") + ":"), "page: the far end is the agent's address",
          lab.addr("a"), pair)
    vin, vout = stats.get("inboundVideo") or {}, stats.get("outboundVideo") or {}
    check(vin.get("framesDecoded", 0) > 0, "page: decoded the agent's video", "> 0", vin)
    check(vout.get("framesEncoded", 0) > 0, "page: sent video", "> 0", vout)
    rep_pair = pair_of(a, name)
    check(rep_pair["remote_type"] == "relay" and rep_pair["remote_address"].startswith(turn.host + ":"),
          "agent: the page's relayed address on coturn", f"relay {turn.host}", rep_pair)
    check(rep_pair["local_type"] == "host", "agent: its own host candidate", "host", rep_pair)
    ex = a.report(f"{name}.json")["expectations"]
    check(len(ex) == 3 and all(e["passed"] for e in ex), "agent: its expectations passed", "3 passed", ex)
    allocated, _ = turn_sessions(turn, since)
    check(len(allocated) >= 1, "coturn allocated for the page", ">= 1", turn.log()[since:][-3000:])
    info = probe(os.path.join(lab.tmp, f"{name}.mkv"))
    v = info["streams"].get("video")
    check(v is not None and v["codec"] == "vp8" and v["frames"] > 0, "agent's recording of the page: VP8 frames",
          "vp8, > 0 frames", info)


if __name__ == "__main__":
    run_cases(setup, teardown)
