#!/usr/bin/python3
"""Loss repair on a lossy network, through the network lab: NACK + RTX both
ways, keyframe requests (PLI) only when a frame cannot be repaired, and no
retransmission of audio.

Side a's link drops packets at random (both directions, so every packet of
the call crosses one lossy hop). Cases:
  - agent <-> agent, 5 % loss;
  - agent <-> agent, 1 % loss: every loss is repaired in time, so no
    freeze at all;
  - agent <-> agent, 100 +- 20 ms one way (RTT ~200 ms) + 2 % loss: the
    jitter buffer must grow to 2 x RTT + 50 ms or no repair arrives in time;
  - agent -> Chromium (the agent offers) and Chromium -> agent (the page
    offers), 5 % loss, with the project's call page;
  - the same two with Chromium at 100 +- 20 ms one way + 2 % loss.
Each receiver must keep >= 90 % of the sent frame rate with little frozen
time, NACK must actually be used (requests made, packets recovered), the
loss left after retransmission must stay small and keyframe requests few;
audio is never NACKed (the agent's audio jitter buffer makes no requests,
Chromium retransmits no audio). The bounds are the goals of loss repair
(a browser pair meets them on a quiet machine); before NACK worked, the
agent received 1.4-5 fps at 5 % loss. On 2 cores loaded by other builds
(load average ~20) this test does not pass yet: docs/measurements.md,
section 11, has the numbers.

Calls are 16 s from the connection with a 3 s warm-up; numbers are over
the rest (frame rates from the report's intervals after the warm-up).
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402  (re-executes this script inside a private lab)
from harness import Failure, case, check, run_cases  # noqa: E402

DURATION = 16
WARMUP = 3
FPS_RATIO = 0.9          # received / sent frame rate
MAX_FROZEN_MS = 1000     # frozen time after the warm-up
MAX_RESIDUAL_PCT = 0.5   # lost after retransmission / expected
MAX_PLI = 5              # keyframe requests after the warm-up
# A long path: 100 +- 20 ms each way on side a's link (RTT ~200 ms), 2 % loss.
LONG_PATH = {"delay_ms": 100, "jitter_ms": 20, "loss": 2}
MIN_LONG_PATH_JB_MS = 400  # 2 x RTT + 50 ms, with the RTT at its lowest (~180 ms)


def setup():
    lab = netlab.Lab()
    lab.server()
    return {"lab": lab}


def teardown(ctx, failed):
    ctx["lab"].close(failed=bool(failed))


def metric(rep, name, agg="after_warmup"):
    m = rep["summary"]["metrics"].get(name) or {}
    return m.get(agg)


def recovery_delta(rep, key):
    """The increase of an interval's recovery counter after the warm-up.
    The counters are the current peer's: when the partner leaves first
    (it started a second earlier), the last intervals read 0, a reset,
    not a decrease."""
    ends = rep["warmup"]["ends_at_s"]
    iv = [i["recovery"][key] for i in rep["intervals"] if ends is not None and i["t"] >= ends - 0.01 and "recovery" in i]
    if len(iv) < 2:
        return None
    return sum(b - a if b >= a else b for a, b in zip(iv, iv[1:]))


def fps_after_warmup(rep, direction):
    """Frames decoded ("in") or sent ("out") per second after the warm-up,
    from the report's 1 s intervals. The warm-up starts when the call
    connected (ICE and DTLS), so a slow handshake on the lossy link (one
    lost DTLS flight costs 1-2 s, seen up to 15 s) shortens the window but
    does not count as frames missing; a call average (the summary's "avg")
    would. The counters are the current peer's: the window ends at the
    first decrease (the partner left first and the counters reset)."""
    ends = rep["warmup"]["ends_at_s"]
    if ends is None:
        return None
    key = "frames_decoded" if direction == "in" else "frames_sent"
    iv = [(i["t"], i["video"][direction].get(key)) for i in rep["intervals"] if i["t"] >= ends - 0.01]
    iv = [(t, n) for t, n in iv if n is not None]
    for k in range(1, len(iv)):
        if iv[k][1] < iv[k - 1][1]:
            iv = iv[:k]
            break
    if len(iv) < 2 or iv[-1][0] <= iv[0][0]:
        return None
    return (iv[-1][1] - iv[0][1]) / (iv[-1][0] - iv[0][0])


def agent_receiver(rep, sent_fps, who, max_frozen_ms=MAX_FROZEN_MS):
    """Checks one agent's receiving side; returns its numbers."""
    fps = fps_after_warmup(rep, "in")
    frozen = metric(rep, "video.in.freeze_time") or 0
    packets = metric(rep, "video.in.packets") or 0
    lost_net = recovery_delta(rep, "lost_before_recovery")
    residual = recovery_delta(rep, "lost_after_recovery")
    nack = recovery_delta(rep, "nack_requests")
    recovered = recovery_delta(rep, "rtx_recovered")
    pli = recovery_delta(rep, "keyframes_requested")
    wire_pli = metric(rep, "video.in.pli")
    audio_nack = rep["intervals"][-1]["recovery"]["audio_nack_requests"] if rep["intervals"] else None
    # Media packets the sender sent in the window: received + lost on the
    # network (both counted before repair).
    expected = packets + max(0, lost_net or 0)
    res_pct = 100.0 * residual / expected if residual is not None and expected > 0 else None
    n = {"fps": fps, "sent_fps": sent_fps, "frozen_ms": frozen, "packets": packets, "lost_by_network": lost_net,
         "nack_requests": nack, "rtx_recovered": recovered, "lost_after_recovery": residual,
         "residual_pct": res_pct, "pli": pli, "pli_on_wire": wire_pli,
         "audio_nack_requests": audio_nack,
         "jitter_buffer_ms_max": metric(rep, "recovery.jitter_buffer", "max")}
    print(f"  {who} receives: {json.dumps(n)}", flush=True)
    check(fps is not None and sent_fps and fps >= FPS_RATIO * sent_fps,
          f"{who}: received fps >= {FPS_RATIO:g} x sent", f">= {FPS_RATIO * (sent_fps or 0):.1f}", fps)
    check(frozen <= max_frozen_ms, f"{who}: frozen time after the warm-up (ms)", f"<= {max_frozen_ms}", frozen)
    check(lost_net is not None and lost_net > 0, f"{who}: the network took packets (loss before repair)", "> 0",
          lost_net)
    check(nack is not None and nack > 0 and recovered > 0, f"{who}: NACK is used (requests, packets recovered)",
          "> 0", (nack, recovered))
    check(res_pct is not None and res_pct <= MAX_RESIDUAL_PCT, f"{who}: loss left after retransmission (%)",
          f"<= {MAX_RESIDUAL_PCT}", res_pct)
    check(pli is not None and pli <= MAX_PLI, f"{who}: keyframe requests after the warm-up", f"<= {MAX_PLI}", pli)
    check(wire_pli is not None and wire_pli <= MAX_PLI, f"{who}: PLIs on the wire after the warm-up",
          f"<= {MAX_PLI}", wire_pli)
    check(audio_nack == 0, f"{who}: audio is never NACKed", 0, audio_nack)
    return n


def agent_pair(lab, name, link, extra=(), max_frozen_ms=MAX_FROZEN_MS):
    lab.link("a", **link)
    room = lab.new_room()
    common = ["--duration", f"{DURATION}s", "--warm-up", f"{WARMUP}s", "--no-status"] + list(extra)
    a = lab.agent("a", room, common + ["--report", f"{name}-a.json"], name=f"{name}-a")
    time.sleep(1.0)
    b = lab.agent("b", room, common + ["--report", f"{name}-b.json"], name=f"{name}-b")
    try:
        for ag in (a, b):
            ag.wait(DURATION + 40)
        reps = {s: ag.report(f"{name}-{s}.json") for s, ag in (("a", a), ("b", b))}
    except (Failure, OSError, ValueError) as e:
        raise Failure(f"{name}: the call did not complete: {e}\n--- a:\n{a.log()[-2000:]}\n--- b:\n{b.log()[-2000:]}")
    finally:
        lab.clear("a")
    for s, rep in reps.items():
        check(rep["exit"]["code"] == 0, f"{name}: agent {s} exits 0", 0, rep["exit"])
    for rx, tx in (("a", "b"), ("b", "a")):
        agent_receiver(reps[rx], fps_after_warmup(reps[tx], "out"), f"agent {rx}", max_frozen_ms)
    return reps


@case
def agents_5_percent_loss(ctx):
    agent_pair(ctx["lab"], "loss5", {"loss": 5})


@case
def agents_1_percent_loss(ctx):
    agent_pair(ctx["lab"], "loss1", {"loss": 1}, max_frozen_ms=0)


@case
def agents_200ms_rtt_2_percent_loss(ctx):
    reps = agent_pair(ctx["lab"], "rtt200", LONG_PATH)
    for s, rep in reps.items():
        check_long_path_jitter_buffer(rep, f"agent {s}")


def check_long_path_jitter_buffer(rep, who):
    jb = metric(rep, "recovery.jitter_buffer", "max")
    check(jb is not None and jb >= MIN_LONG_PATH_JB_MS, f"{who}: the jitter buffer grew to 2 x RTT + 50 ms",
          f">= {MIN_LONG_PATH_JB_MS} ms", jb)


# ---- agent <-> Chromium -------------------------------------------------------------

PAGE_JS = """(async (ssrc) => {
  const s = await callagentPage.rawStats();
  const vin = s.filter((x) => x.type === 'inbound-rtp' && x.kind === 'video' && (!ssrc || x.ssrc === ssrc))
               .sort((x, y) => (y.packetsReceived || 0) - (x.packetsReceived || 0))[0] || {};
  const aout = s.filter((x) => x.type === 'outbound-rtp' && x.kind === 'audio');
  const vout = s.filter((x) => x.type === 'outbound-rtp' && x.kind === 'video');
  const sum = (xs, k) => xs.reduce((n, x) => n + (x[k] || 0), 0);
  return {t: performance.now() / 1000, ssrc: vin.ssrc || 0, frames: vin.framesDecoded || 0, freezeS: vin.totalFreezesDuration || 0,
          packets: vin.packetsReceived || 0, lost: vin.packetsLost || 0, nack: vin.nackCount || 0,
          pli: vin.pliCount || 0, rtxIn: vin.retransmittedPacketsReceived || 0,
          audioRtxSent: sum(aout, 'retransmittedPacketsSent'), videoRtxSent: sum(vout, 'retransmittedPacketsSent'),
          videoNackIn: sum(vout, 'nackCount'), framesSent: sum(vout, 'framesSent'),
          freezes: vin.freezeCount || 0, jbDelayS: vin.jitterBufferDelay || 0, jbTargetS: vin.jitterBufferTargetDelay || 0,
          jbEmitted: vin.jitterBufferEmittedCount || 0};
})(%s)"""


def chromium_call(ctx, name, agent_first, link=None):
    lab = ctx["lab"]
    if "chrome" not in ctx:
        fake = "--use-fake-device-for-media-stream"
        ctx["chrome"] = lab.chromium("b", extra_flags=[f"{fake}=fps=30"], drop_flags=(fake,))
    chrome = ctx["chrome"]
    srv = lab.server()
    room = lab.new_room()
    lab.link("a", **(link or {"loss": 5}))
    page = chrome.new_page()
    agent = None
    args = ["--duration", f"{DURATION + 4}s", "--warm-up", f"{WARMUP + 2}s", "--no-status",
            "--report", f"{name}.json"]
    try:
        page.set_auth_cookie(srv.url, lab.token())
        url = room + "?ice=none&video=720p&fps=30"
        if agent_first:
            agent = lab.agent("a", room, args, name=name)
            agent.wait_for_log(r"connected to ws", 20)
            time.sleep(1.2)
            page.goto(url)
        else:
            page.goto(url)
            page.wait_for("window.callagentPage && callagentPage.state().initiator", 15)
            agent = lab.agent("a", room, args, name=name)
        page.wait_for("callagentPage.state().connectedAt", 30, "page connected")
        agent.wait_for_log(r"(creating offer|applying remote offer)", 20)
        role = "offer" if "creating offer" in agent.log() else "answer"
        check(role == ("offer" if agent_first else "answer"), f"{name}: the agent {'offers' if agent_first else 'answers'}",
              "offer" if agent_first else "answer", role)
        time.sleep(WARMUP + 2)
        s0 = page.evaluate(PAGE_JS % "0")
        time.sleep(DURATION - WARMUP - 4)
        # The same received stream (the page may have made a new one).
        s1 = page.evaluate(PAGE_JS % s0["ssrc"])
        agent.wait(40)
        rep = agent.report(f"{name}.json")
    except (Failure, OSError, ValueError) as e:
        tail = agent.log()[-3000:] if agent else ""
        raise Failure(f"{name}: {e}\n--- agent:\n{tail}")
    finally:
        lab.clear("a")
        page.close()
        if page in chrome.pages:
            chrome.pages.remove(page)
    dt = s1["t"] - s0["t"]
    d = {k: s1[k] - s0[k] for k in s0 if k not in ("t", "ssrc")}
    page_fps = d["frames"] / dt
    sent_fps = fps_after_warmup(rep, "out")
    expected = d["packets"] + d["lost"]
    print(f"  page receives: fps {page_fps:.1f} (agent sends {sent_fps}), {json.dumps(d)}", flush=True)
    check(sent_fps and page_fps >= FPS_RATIO * sent_fps, f"{name}: the page's fps >= {FPS_RATIO:g} x the agent's",
          f">= {FPS_RATIO * (sent_fps or 0):.1f}", page_fps)
    check(d["freezeS"] * 1000 <= MAX_FROZEN_MS, f"{name}: the page's frozen time (ms)", f"<= {MAX_FROZEN_MS}",
          d["freezeS"] * 1000)
    check(d["nack"] > 0 and d["rtxIn"] > 0, f"{name}: the page NACKs and the agent retransmits",
          "> 0", (d["nack"], d["rtxIn"]))
    check(d["pli"] <= MAX_PLI, f"{name}: the page's keyframe requests", f"<= {MAX_PLI}", d["pli"])
    check(d["audioRtxSent"] == 0, f"{name}: the page retransmits no audio (the agent never NACKs audio)", 0,
          d["audioRtxSent"])
    check(d["videoNackIn"] > 0 and d["videoRtxSent"] > 0, f"{name}: the agent NACKs the page's video and gets RTX",
          "> 0", (d["videoNackIn"], d["videoRtxSent"]))
    check(expected > 0, f"{name}: the page received video", "> 0", expected)
    # The agent's side: the page's fake camera sends what its bandwidth
    # estimate allows; what arrives must be decoded with little loss left.
    agent_receiver(rep, _page_sent_fps(d, dt), f"{name}: agent")
    return rep


def _page_sent_fps(d, dt):
    return d["framesSent"] / dt if dt > 0 else None


@case
def agent_offers_to_chromium_5_percent_loss(ctx):
    chromium_call(ctx, "chromium-answers", agent_first=True)


@case
def chromium_offers_to_agent_5_percent_loss(ctx):
    chromium_call(ctx, "chromium-offers", agent_first=False)


# With Chromium on the long path, one call may be tried twice, and only
# for its frame-rate and frozen-time checks. There a repair round that is
# lost costs a whole round trip: a NACK lost on its way (2 %) is sent again
# by Chromium one RTT later, and the frame waits 0.3-0.45 s (freezes seen:
# 0.295, 0.435 s each, the page's jitter buffer target being ~RTT). A 9 s
# window holds ~55 NACKs, ~1.1 of them lost on average: 3 or more, i.e.
# ~1 s frozen, in ~10 % of calls (Poisson), on either side, whatever the
# sender does (a Chromium pair loses the same NACKs). Measured, loaded
# 2-core machine: the page's frozen time 0, 0, 0, 0.295, 0.298, 0.589,
# 0.605, 0.87 and once 1.062 s; the agent's own once 0.8 s (fps 28.8 of
# 29.9). A second failure in a row fails the case.
ROUND_TRIP_BOUND = ("frozen time", "fps >=")


def long_path_call(ctx, name, agent_first):
    for attempt in (1, 2):
        try:
            rep = chromium_call(ctx, name if attempt == 1 else f"{name}-2", agent_first, link=LONG_PATH)
            check_long_path_jitter_buffer(rep, f"{name}: agent")
            return
        except Failure as e:
            first = str(e).splitlines()[0] if str(e) else ""
            if attempt == 2 or not any(k in first for k in ROUND_TRIP_BOUND):
                raise
            print(f"  {name}: first call failed ({first}); once more (see ROUND_TRIP_BOUND)", flush=True)


@case
def agent_offers_to_chromium_200ms_rtt_2_percent_loss(ctx):
    long_path_call(ctx, "chromium-answers-rtt200", agent_first=True)


@case
def chromium_offers_to_agent_200ms_rtt_2_percent_loss(ctx):
    long_path_call(ctx, "chromium-offers-rtt200", agent_first=False)


if __name__ == "__main__":
    run_cases(setup=setup, teardown=teardown)
