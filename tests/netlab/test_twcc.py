#!/usr/bin/python3
"""Transport-wide congestion control feedback (TWCC) in real calls, inside
the network lab (netlab.py): agent <-> agent on a clean link and with 5 %
random loss, agent <-> headless Chromium with the agent offering and
answering.

What is checked, from both ends:
- the offer and the answer carry the transport-cc extmap (one id, the same
  on every m-line and in both) and `a=rtcp-fb:PT transport-cc`: the
  agents log the descriptions they apply (-vv), the page's are read from
  its RTCPeerConnection;
- each agent receives feedback (the report's `twcc` block): the packets it
  reports as arrived match the packets the partner agent received (with a
  browser: the packets reported on match the packets we sent), and the
  share reported lost is ~0 on a clean link and ~5 % under 5 % loss;
- each agent sends feedback; when Chromium offers, its send-side estimate
  (availableOutgoingBitrate of its candidate pair) climbs beyond what it
  reaches without feedback (see CHROMIUM_BEYOND).

Open (measured, not yet understood): when Chromium answers our offer, it
receives our feedback (the agent counts ~11 feedback packets/s sent, the
answer has the extmap and rtcp-fb) but its estimate stays at 0.3-0.53
Mbit/s, where it reaches 1.9-3.7 Mbit/s within 1-2 s when it offers. That
case checks everything else and prints the estimate; it does not assert it.

Tolerances are from calls measured on the loaded 2-core machine; no
timing is asserted.
"""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402  (re-executes this script inside a private lab)
from harness import Failure, SkipCase, case, check, check_eq, run_cases  # noqa: E402

TWCC_URI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
CALL = "10s"
PAGE_QUERY = "?ice=none&video=480p&fps=30"
# Packets reported on vs. RTP packets sent (outbound-rtp, media and
# retransmissions): feedback covers every packet but those of the last
# ~100 ms and of lost feedback; retransmissions are numbered too.
REPORTED_MIN, REPORTED_MAX = 0.85, 1.15
# Between two agents the feedback is checked against what the partner
# RECEIVED (packets reported as arrived / the partner's inbound packets):
# against what we sent, a partner that starts receiving later or stops
# earlier than we send (a starved sanitized agent on a loaded machine: one
# CI run's partner received 1182 packets where its peer sent 1818, and
# reported on 0.68 of them) fails a check that is about the feedback, not
# about the call's length. The partner's count has no retransmissions
# (their SSRC is not an inbound stream), which are numbered and reported.
# With 5 % loss each way the feedback itself is lost too: each lost message
# takes ~20 packets' reports with it, and a 10 s call sends ~90 messages, of
# which 4.5 +- 2 are lost, up to ~10 (2.5 sigma): 0.10 less coverage. Seen:
# 0.889 with 8 of 90 messages lost.
REPORTED_MIN_LOSS5 = REPORTED_MIN - 0.10
# Chromium starved of CPU (load average 35 on 2 cores) reported on only
# 0.81 and 0.35 of our packets (feedback seconds late, then none); 0.94
# and 0.97 at a lighter load. Below 0.3 something else is wrong.
REPORTED_MIN_CHROMIUM = 0.3
# Loss as the partner's feedback reports it.
CLEAN_LOSS_MAX = 0.01
LOSS5_MIN, LOSS5_MAX = 0.025, 0.085
# libwebrtc starts at 300 kbit/s; without transport feedback its estimate
# grows by at most 8 %/s (loss-based): 300 kbit/s x 1.08^t, ~0.65 Mbit/s
# after 10 s. Its start-up probes (0.9 and 1.8 Mbit/s) reach beyond that in
# a second or two, but only when the feedback about them arrives, and how
# far depends on how evenly the probe's packets seem to arrive: through the
# lab's userspace forwarder on a loaded machine one probe result was 0.5
# Mbit/s, on a quiet one 1.8-3.7 Mbit/s. What is asserted is what feedback
# alone can cause: at some second t (counted from one second before the
# first sample, the connection) the estimate is CHROMIUM_BEYOND x the
# loss-based bound.
CHROMIUM_START_BPS = 300_000
CHROMIUM_BEYOND = 1.3


def beyond_loss_based(rates):
    """max over the once-a-second samples of estimate / (300k x 1.08^t)."""
    return max((r / (CHROMIUM_START_BPS * 1.08 ** (i + 1)) for i, r in enumerate(rates)), default=0.0)

LOGLINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} ")

# Records the page's peer connections (the page keeps its own private).
PC_HOOK = """(() => {
  const Native = window.RTCPeerConnection;
  if (!Native || window.__twccTest) return;
  window.__twccTest = {pcs: []};
  const Wrapped = function (...args) {
    const pc = new Native(...args);
    window.__twccTest.pcs.push(pc);
    return pc;
  };
  Wrapped.prototype = Native.prototype;
  Object.setPrototypeOf(Wrapped, Native);
  window.RTCPeerConnection = Wrapped;
})();"""

PC_STATE = """(async () => {
  const pcs = window.__twccTest ? window.__twccTest.pcs : [];
  const pc = pcs[pcs.length - 1];
  if (!pc || pc.connectionState !== 'connected') return null;
  const out = {local: pc.localDescription ? pc.localDescription.sdp : null,
               localType: pc.localDescription ? pc.localDescription.type : null,
               remote: pc.remoteDescription ? pc.remoteDescription.sdp : null,
               availableOutgoingBitrate: null, packetsSent: 0};
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' &&
        s.availableOutgoingBitrate !== undefined)
      out.availableOutgoingBitrate = s.availableOutgoingBitrate;
    if (s.type === 'outbound-rtp') out.packetsSent += s.packetsSent || 0;
  });
  return out;
})()"""


def setup():
    lab = netlab.Lab()
    # One GStreamer registry for every agent: each has its own HOME, and a
    # registry rebuilt per agent costs many seconds on a loaded machine.
    registry = os.path.join(lab.tmp, "gst-registry.bin")
    subprocess.run(["gst-inspect-1.0", "webrtcbin"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=dict(os.environ, GST_REGISTRY=registry), timeout=180)
    lab.server()
    return {"lab": lab, "chromium": None, "env": {"GST_REGISTRY": registry}}


def teardown(ctx, failed):
    ctx["lab"].close(failed=failed)


# ---- reading SDP ------------------------------------------------------------

def remote_sdps(log):
    """[(type, sdp)] that an agent applied, in order (logged at -vv)."""
    out, kind = [], None
    lines = log.splitlines()
    i = 0
    while i < len(lines):
        m = re.search(r"applying remote (offer|answer)", lines[i])
        if m:
            kind = m[1]
        if lines[i].endswith("remote SDP:"):
            j, body = i + 1, []
            while j < len(lines) and not LOGLINE.match(lines[j]):
                body.append(lines[j])
                j += 1
            out.append((kind, "\n".join(body)))
            i = j
            continue
        i += 1
    return out


def twcc_per_mline(sdp):
    """[(kind, extmap id or None, payload types with rtcp-fb transport-cc)]."""
    out = []
    for sec in re.split(r"\r?\nm=", "\n" + sdp.replace("\r\n", "\n"))[1:]:
        kind = sec.split(" ", 1)[0]
        if kind not in ("audio", "video"):
            continue
        ids = re.findall(r"^a=extmap:(\d+)(?:/\w+)? " + re.escape(TWCC_URI) + r"\s*$", sec, re.M)
        fb = re.findall(r"^a=rtcp-fb:(\d+) transport-cc\s*$", sec, re.M)
        out.append((kind, int(ids[0]) if ids else None, fb))
    return out


def check_negotiated(offer, answer, what):
    """The offer and the answer agree on one transport-cc id for every m-line."""
    o, a = twcc_per_mline(offer), twcc_per_mline(answer)
    check(o, f"{what}: the offer has audio/video m-lines", "some", offer)
    check_eq(len(a), len(o), f"{what}: m-lines of the answer")
    ids = set()
    for (kind, oid, ofb), (akind, aid, afb) in zip(o, a):
        check(oid is not None, f"{what}: offer's {kind} m-line has the transport-cc extmap", "an id", offer)
        check(aid is not None, f"{what}: answer's {akind} m-line has the transport-cc extmap", "an id", answer)
        check_eq(aid, oid, f"{what}: transport-cc id of the {kind} m-line, answer vs offer")
        check(ofb and afb, f"{what}: {kind} a=rtcp-fb transport-cc in offer and answer", "both",
              (ofb, afb))
        ids.add(oid)
    check_eq(len(ids), 1, f"{what}: one transport-cc id on every m-line ({sorted(ids)})")


# ---- reading the agents' reports --------------------------------------------

def twcc_of(report):
    """The interval with the most feedback (counters are cumulative per peer),
    with the RTP packets sent by then."""
    best = None
    for iv in report["intervals"]:
        t = iv["twcc"]
        if best is None or t["packets_reported"] > best["twcc"]["packets_reported"]:
            best = iv
    check(best is not None, "the report has intervals", "some", report["intervals"])
    t = dict(best["twcc"])
    t["sent"] = best["video"]["out"]["packets"] + best["audio"]["out"]["packets"]
    last = report["intervals"][-1]
    t["received"] = max(iv["video"]["in"]["packets"] + iv["audio"]["in"]["packets"] for iv in report["intervals"])
    check(t["received"] > 0, "the partner's media reached the agent (else the call failed, not TWCC)",
          "> 0 packets", last)
    return t


def check_feedback(t, who, loss_range, reported_min=REPORTED_MIN, partner=None):
    """`partner`: the partner agent's own figures (twcc_of), whose inbound
    packets the feedback is checked against; without it (a browser) the
    packets we sent."""
    print(f"  {who}: {json.dumps(t)}", flush=True)
    check(t["feedback_received"] > 0, f"{who} received TWCC feedback", "> 0 messages", t)
    check(t["feedback_sent"] > 0, f"{who} sent TWCC feedback", "> 0 messages", t)
    if partner is None:
        ratio = t["packets_reported"] / max(t["sent"], 1)
        what = "packets reported on / RTP packets sent"
    else:
        ratio = (t["packets_reported"] - t["packets_lost"]) / max(partner["received"], 1)
        what = "packets reported as arrived / packets the partner received"
    check(reported_min <= ratio <= REPORTED_MAX, f"{who}: {what}",
          f"{reported_min}..{REPORTED_MAX}", f"{ratio:.3f} ({t}; partner {partner})")
    lost = t["packets_lost"] / max(t["packets_reported"], 1)
    check(loss_range[0] <= lost <= loss_range[1], f"{who}: share of packets the feedback reports lost",
          f"{loss_range[0]}..{loss_range[1]}", f"{lost:.4f} ({t})")


def run_agents(ctx, tag):
    lab = ctx["lab"]
    room = lab.new_room()
    extra = ["--duration", CALL, "-vv"]
    a = lab.agent("a", room, extra + ["--report", f"{tag}-a.json"], name=f"{tag}-a", video="480p", env=ctx["env"])
    a.wait_for_log(r"connected to ws", 60)
    b = lab.agent("b", room, extra + ["--report", f"{tag}-b.json"], name=f"{tag}-b", video="480p", env=ctx["env"])
    for ag in (a, b):
        rc = ag.wait(40)
        check_eq(rc, 0, f"exit code of agent {ag.name}")
    return a, b


def check_agent_pair(a, b, tag):
    sdps = {ag.name: remote_sdps(ag.log()) for ag in (a, b)}
    offers = [s for ag in sdps.values() for k, s in ag if k == "offer"]
    answers = [s for ag in sdps.values() for k, s in ag if k == "answer"]
    check(len(offers) == 1 and len(answers) == 1, f"{tag}: one offer and one answer applied", "1 + 1",
          {k: [t for t, _ in v] for k, v in sdps.items()})
    check_negotiated(offers[0], answers[0], tag)
    return twcc_of(a.report(f"{tag}-a.json")), twcc_of(b.report(f"{tag}-b.json"))


@case
def agents_clean_link(ctx):
    lab = ctx["lab"]
    lab.clear()
    a, b = run_agents(ctx, "clean")
    ta, tb = check_agent_pair(a, b, "clean")
    check_feedback(ta, "agent a", (0.0, CLEAN_LOSS_MAX), partner=tb)
    check_feedback(tb, "agent b", (0.0, CLEAN_LOSS_MAX), partner=ta)


@case
def agents_5pct_loss(ctx):
    lab = ctx["lab"]
    lab.clear()
    lab.link("b", loss=5)  # a -> b and b -> a both cross b's link
    try:
        a, b = run_agents(ctx, "loss5")
    finally:
        lab.clear()
    ta, tb = check_agent_pair(a, b, "loss5")
    check_feedback(ta, "agent a", (LOSS5_MIN, LOSS5_MAX), REPORTED_MIN_LOSS5, partner=tb)
    check_feedback(tb, "agent b", (LOSS5_MIN, LOSS5_MAX), REPORTED_MIN_LOSS5, partner=ta)


def chromium(ctx):
    if ctx["chromium"] is None:
        from browser import chromium_path
        if not chromium_path():
            raise SkipCase("chromium is not installed (apt-get install chromium)")
        ctx["chromium"] = ctx["lab"].chromium("b")
    return ctx["chromium"]


def open_page(ctx, room):
    lab = ctx["lab"]
    page = chromium(ctx).new_page()
    page.conn.call("Page.addScriptToEvaluateOnNewDocument", {"source": PC_HOOK})
    page.set_auth_cookie(lab.server().url, lab.token())
    page.goto(room + PAGE_QUERY)
    page.wait_for("window.callagentPage && callagentPage.state().joinSentAt", 15, "the page sent its join")
    return page


def agent_with_page(ctx, tag, agent_offers):
    lab = ctx["lab"]
    lab.clear()
    room = lab.new_room()
    extra = ["--duration", "15s", "-vv", "--report", f"{tag}.json"]
    page = agent = None
    try:
        if agent_offers:
            agent = lab.agent("a", room, extra, name=tag, video="480p", env=ctx["env"])
            agent.wait_for_log(r"connected to ws", 60)
            page = open_page(ctx, room)
        else:
            page = open_page(ctx, room)
            page.wait_for("callagentPage.state().initiator", 8, "the page became initiator")
            agent = lab.agent("a", room, extra, name=tag, video="480p", env=ctx["env"])
        st = page.wait_for(PC_STATE, 60, "the page connected")
        rates = []
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            st = page.evaluate(PC_STATE) or st
            if st.get("availableOutgoingBitrate") is not None:
                rates.append(st["availableOutgoingBitrate"])
            time.sleep(1)
        rc = agent.wait(40)
        check_eq(rc, 0, f"exit code of agent {agent.name}")
    except Failure as e:
        diag = page.diagnostics() if page else ""
        tail = agent.tail(40) if agent else ""
        raise Failure(f"{e}\n{diag}\n--- agent log tail:\n{tail}") from None
    finally:
        if page:
            page.close()
            if page in chromium(ctx).pages:
                chromium(ctx).pages.remove(page)
        lab.clear()
    want_page = "answer" if agent_offers else "offer"
    check_eq(st["localType"], want_page, f"{tag}: the page's description")
    offer, answer = (st["remote"], st["local"]) if agent_offers else (st["local"], st["remote"])
    check_negotiated(offer, answer, tag)
    applied = [k for k, _ in remote_sdps(agent.log())]
    check_eq(applied, ["answer" if agent_offers else "offer"], f"{tag}: what the agent applied")
    t = twcc_of(agent.report(f"{tag}.json"))
    check_feedback(t, f"agent ({tag})", (0.0, CLEAN_LOSS_MAX), REPORTED_MIN_CHROMIUM)
    print(f"  chromium availableOutgoingBitrate (bit/s, once a second): {[int(r) for r in rates]}", flush=True)
    if not agent_offers:
        ratio = beyond_loss_based(rates)
        check(ratio >= CHROMIUM_BEYOND,
              f"{tag}: Chromium's send-side estimate climbs on our feedback (estimate / loss-based bound)",
              f">= {CHROMIUM_BEYOND}", f"{ratio:.2f} ({[int(r) for r in rates]})")
    else:
        print("  (open: Chromium answering our offer does not act on our feedback; see the docstring)",
              flush=True)


@case
def agent_offers_to_chromium(ctx):
    agent_with_page(ctx, "agent-offers", agent_offers=True)


@case
def chromium_offers_to_agent(ctx):
    agent_with_page(ctx, "chromium-offers", agent_offers=False)


if __name__ == "__main__":
    run_cases(setup, teardown)
