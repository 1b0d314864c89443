#!/usr/bin/python3
"""Sender-side congestion control, for real: two agents (720p30 test
sources) through the network lab, side a's link capped at 2 Mbit/s shared
by both directions (both calls' directions take turns on one bottleneck
with a 100 ms drop-tail queue, like a loopback tbf).

  cap:  with --congestion-control on (the default) each sender must come
        down under the path's rate within a few seconds of connecting, and
        then the call must be watchable: received frame rate, residual loss
        and no long freeze (thresholds below, with what they stand for);
        the sent picture steps down the ladder, the receiver keeps decoding
        and the recording across the steps plays. Then the cap is lifted
        mid-call: the estimate climbs back near the preset's bitrate.
  off:  --congestion-control off on the same cap: the sender keeps the
        preset's rate and size (what fixed-rate tests rely on) and the
        report has no congestion block.
  cap_*chromium*: the agent and the project's call page in headless
        Chromium on the same cap, the agent offering or answering: agent ->
        page (the page's TWCC feedback drives our controller) and page ->
        agent (our feedback must make Chromium adapt), each judged on the
        same goals; the cap lifted after 25 s. Skips without Chromium.

Numbers come from each agent's --report (1 s intervals): the congestion
block (target, video rate, format, limiting input), video.out.bitrate
(what really left), video.in frames/packets. Times are relative to the
connection as each agent saw it.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402  (re-executes this script inside a private lab)
from callnet import probe  # noqa: E402
from harness import case, check, run_cases  # noqa: E402

CAP = 2_000_000          # bit/s, both directions together
PRESET_MAX = 2_628_000   # 720p30: 2500 kbit/s video + 128 kbit/s Opus
SETTLE_S = 5.0           # the sender is under the path's rate this long after connecting
CAPPED_S = 30.0          # how long the cap stays after the connection
LIFTED_S = 25.0          # the call goes on this long after the cap is lifted
RECOVER_S = 20.0         # back near the preset's rate within this

# What the capped call must give after SETTLE_S: the goal, what two
# browsers reach on this cap (>= 15 fps received each way, <= 2 % loss left
# after repair, no freeze longer than 1 s). Before the send path was fitted
# for a thin link (libvpx buffers, keyframe cap, loss from TWCC feedback)
# this measured 16-17 fps with freezes of 8.5-8.8 s (docs/measurements.md,
# "Sender on a thin link").
MIN_FPS = 15.0
MAX_LOSS_PCT = 2.0
MAX_FREEZE_MS = 1000.0
CUT_SHARE = 0.9          # the estimate went below this share of the preset's rate (off: never)


def connected_at(rep):
    """Seconds since the agent's start when the call connected."""
    ends = rep["warmup"]["ends_at_s"]
    check(ends is not None, "the call connected", "warmup.ends_at_s", rep["warmup"])
    return ends - rep["warmup"]["seconds"]


def window(rep, t0, t1):
    """Intervals that lie within [t0, t1] (seconds since the connection)."""
    c = connected_at(rep)
    return [i for i in rep["intervals"] if t0 <= i["t"] - i["interval"] - c and i["t"] - c <= t1]


def received(iv):
    """fps, residual loss % and the duration of the interval span."""
    if len(iv) < 2:
        return None, None, 0.0
    a, b = iv[0]["video"]["in"], iv[-1]["video"]["in"]
    span = iv[-1]["t"] - iv[0]["t"]
    fps = (b["frames_decoded"] - a["frames_decoded"]) / span if span > 0 else None
    got = b["packets"] - a["packets"]
    lost = max(0, b["packets_lost"] - a["packets_lost"])
    loss = 100.0 * lost / (got + lost) if got + lost > 0 else None
    return fps, loss, span


def sent_rate(iv):
    """Mean bit/s that really left (video + audio RTP)."""
    if not iv:
        return None
    return sum(i["video"]["out"]["bitrate"] + i["audio"]["out"]["bitrate"] for i in iv) / len(iv)


def start_pair(lab, name, extra_a=(), extra_b=(), seconds=60):
    room = lab.new_room()
    common = ["--duration", f"{seconds:.0f}s", "--warm-up", "2s", "--no-status", "--stats-interval", "1s"]
    a = lab.agent("a", room, common + ["--report", f"{name}-a.json"] + list(extra_a), name=f"{name}-a")
    time.sleep(1.0)
    b = lab.agent("b", room, common + ["--report", f"{name}-b.json"] + list(extra_b), name=f"{name}-b")
    b.wait_for_log("connected to the partner", 60)
    return a, b, time.monotonic()


def finish(agents, seconds):
    for ag in agents:
        ag.wait(seconds + 60)


@case
def cap_then_lift():
    with netlab.Lab() as lab:
        lab.link("a", rate=CAP, shared=True)
        total = CAPPED_S + LIFTED_S + 5
        a, b, t_conn = start_pair(lab, "cap", extra_b=["--record", "cap-b.mkv"], seconds=total)
        time.sleep(max(0.0, t_conn + CAPPED_S - time.monotonic()))
        lab.clear("a")
        lifted_at = time.monotonic() - t_conn  # ~CAPPED_S, by the test's clock
        finish((a, b), total)
        reps = {"a": a.report("cap-a.json"), "b": b.report("cap-b.json")}
        for side, rep in reps.items():
            check(rep["exit"]["code"] == 0, f"{side} exits 0", 0, rep["exit"])
        m = {}
        for side, rep in reps.items():
            other = reps["b" if side == "a" else "a"]
            cc = [i["congestion"] for i in rep["intervals"] if i["congestion"]]
            capped = window(rep, SETTLE_S, lifted_at - 1.0)
            fps, loss, span = received(window(other, SETTLE_S, lifted_at - 1.0))
            freezes = [f for f in other["freezes"]["events"]
                       if SETTLE_S <= f["start_s"] - connected_at(other) <= lifted_at]
            after = window(rep, lifted_at, lifted_at + RECOVER_S)
            m[side] = {
                "blocks": len(cc),
                "targets": [i["congestion"]["target_bps"] for i in capped if i["congestion"]],
                "out": sent_rate(capped),
                "other_out": sent_rate(window(other, SETTLE_S, lifted_at - 1.0)),
                "fps": fps, "loss": loss, "span": span, "freezes": freezes,
                "longest": max([f["duration_ms"] for f in freezes], default=0.0),
                "steps": max([c["ladder_steps"] for c in cc], default=0),
                "formats": sorted({(c["width"], c["height"], c["fps"]) for c in cc}),
                "limited": sorted({c["limited_by"] for c in cc}),
                "recovered": max([i["congestion"]["target_bps"] for i in after if i["congestion"]], default=0),
            }
            x = m[side]
            print(f"{side}->{'b' if side == 'a' else 'a'} capped ({span:.0f} s): sent {(x['out'] or 0) / 1e3:.0f} "
                  f"kbit/s, target {min(x['targets'], default=0) / 1e3:.0f}-{max(x['targets'], default=0) / 1e3:.0f}"
                  f" kbit/s, received {fps or 0:.1f} fps, loss {loss or 0:.2f} %, freezes {len(freezes)} (longest "
                  f"{x['longest']:.0f} ms), ladder steps {x['steps']}, formats {x['formats']}, limited by "
                  f"{x['limited']}; lifted: target {x['recovered'] / 1e3:.0f} kbit/s within {RECOVER_S:.0f} s",
                  flush=True)
        for side, x in m.items():
            check(x["blocks"] > 0, f"{side}: the report has congestion blocks", "> 0", x["blocks"])
            # 1. The controller reacts to the cap: the estimate is cut well
            #    below the preset's rate, and the sender stays under the cap
            #    on average.
            check(x["targets"] and min(x["targets"]) < CUT_SHARE * PRESET_MAX,
                  f"{side}: target cut below {CUT_SHARE} of the preset on the cap",
                  f"< {CUT_SHARE * PRESET_MAX:.0f}", x["targets"])
            check(x["out"] is not None and x["other_out"] is not None and x["out"] + x["other_out"] < CAP,
                  f"{side}: both directions together send under the cap on average", f"< {CAP}",
                  (x["out"], x["other_out"]))
            # 2. The partner sees a moving picture (off: none at all).
            check(x["fps"] is not None and x["fps"] >= MIN_FPS,
                  f"{side}: partner receives >= {MIN_FPS} fps on the cap", f">= {MIN_FPS}", x["fps"])
            check(x["loss"] is not None and x["loss"] <= MAX_LOSS_PCT,
                  f"{side}: residual loss <= {MAX_LOSS_PCT} %", f"<= {MAX_LOSS_PCT}", x["loss"])
            check(x["longest"] <= MAX_FREEZE_MS, f"{side}: no freeze longer than {MAX_FREEZE_MS:.0f} ms on the cap",
                  f"<= {MAX_FREEZE_MS:.0f}", x["freezes"])
            # 3. The cap lifted: back near the preset's rate within RECOVER_S.
            check(x["recovered"] >= 0.9 * PRESET_MAX, f"{side}: target back near {PRESET_MAX} within {RECOVER_S} s",
                  f">= {0.9 * PRESET_MAX:.0f}", x["recovered"])
        # Ladder steps are printed above, not asserted: run 4 took none (the
        # estimate stayed above 720p's minimum).
        # 4. The ladder's steps did not break decoding or the recording: b
        #    decoded until the end and the file plays over the whole call.
        rb = reps["b"]
        # (The rate, not asserted: 1.7 fps in run 3 on a machine at load 20.)
        fps_end, _, _ = received(window(rb, lifted_at + RECOVER_S - 5, lifted_at + RECOVER_S))
        check(fps_end is not None and fps_end > 0.5, "b still decodes at the end", "> 0.5", fps_end)
        info = probe(os.path.join(lab.tmp, "cap-b.mkv"))
        v = info["streams"].get("video")
        check(v is not None and v["span"] >= 0.8 * (CAPPED_S + LIFTED_S),
              "the recording's video spans the call across the resolution steps",
              f">= {0.8 * (CAPPED_S + LIFTED_S):.0f} s", info)
        check(v["frames"] >= MIN_FPS * 0.8 * v["span"], "the recording has frames all along",
              f">= {MIN_FPS * 0.8 * v['span']:.0f}", v["frames"])


@case
def off_keeps_the_rate():
    with netlab.Lab() as lab:
        lab.link("a", rate=CAP, shared=True)
        off = ["--congestion-control", "off"]
        a, b, _ = start_pair(lab, "off", extra_a=off, extra_b=off, seconds=15)
        finish((a, b), 15)
        reps = {"a": a.report("off-a.json"), "b": b.report("off-b.json")}
        best = {}
        for side, rep in reps.items():
            other = reps["b" if side == "a" else "a"]
            check(rep["options"].get("congestion_control") == "off", f"{side}: the report says off", "off",
                  rep["options"].get("congestion_control"))
            check(all(i["congestion"] is None for i in rep["intervals"]), f"{side}: no congestion block",
                  None, [i["congestion"] for i in rep["intervals"] if i["congestion"]])
            # On this cap get-stats may stop answering on one side (its
            # intervals end early): judge the sides that have numbers.
            iv = window(rep, 2.0, 12.0) if rep["warmup"]["ends_at_s"] is not None else []
            if not iv:
                continue
            widths = {i["video"]["out"]["width"] for i in iv}
            check(widths == {1280}, f"{side}: the sent width stays the preset's", {1280}, widths)
            best[side] = max(i["video"]["out"]["bitrate"] for i in iv)
            fps, loss, _ = received(window(other, 2.0, 12.0)) if other["warmup"]["ends_at_s"] is not None \
                else (None, None, 0)
            print(f"{side} off: sent {sent_rate(iv) / 1e3:.0f} kbit/s (best second {best[side] / 1e3:.0f}) on "
                  f"the {CAP / 1e6:.0f} Mbit/s cap; the partner received {fps or 0:.1f} fps, loss {loss or 0:.1f} %",
                  flush=True)
        check(best, "at least one side has stats on the cap", "a or b", reps.keys())
        # Nothing cuts the encoder: vp8enc's CBR target stays the preset's,
        # and seconds of it leave at that rate (measured 2.3-2.7 Mbit/s).
        check(max(best.values()) >= 0.8 * 2_500_000, "the fixed rate is sent", f">= {0.8 * 2_500_000:.0f}",
              best)


# ---- agent <-> Chromium on the same cap ------------------------------------------
#
# The agent on side a (capped), the project's call page in Chromium on side
# b; both send 720p30. Agent -> page: the page's feedback (TWCC) drives our
# controller, judged on the page's inbound video. Page -> agent: our
# feedback must make Chromium adapt, judged on the agent's report and the
# page's outbound rate. Stats are sampled every 0.5 s; a freeze's length
# is bounded by the page's totalFreezesDuration growth in one sample.

PAGE_JS = """(async () => {
  const s = await callagentPage.rawStats();
  const vin = s.filter((x) => x.type === 'inbound-rtp' && x.kind === 'video')
               .sort((x, y) => (y.packetsReceived || 0) - (x.packetsReceived || 0))[0] || {};
  const vout = s.filter((x) => x.type === 'outbound-rtp' && x.kind === 'video');
  const pair = s.filter((x) => x.type === 'candidate-pair' && x.nominated)[0] || {};
  const sum = (xs, k) => xs.reduce((n, x) => n + (x[k] || 0), 0);
  return {t: performance.now() / 1000, ssrc: vin.ssrc || 0, frames: vin.framesDecoded || 0,
          freezes: vin.freezeCount || 0, freezeS: vin.totalFreezesDuration || 0,
          packets: vin.packetsReceived || 0, lost: vin.packetsLost || 0,
          bytesSent: sum(vout, 'bytesSent'), framesSent: sum(vout, 'framesSent'),
          outgoing: pair.availableOutgoingBitrate || 0};
})()"""

PAGE_CAPPED_S = 25.0
PAGE_LIFTED_S = 22.0


def page_window(samples, t0, t1):
    return [x for x in samples if t0 <= x["rel"] <= t1]


def chromium_cap(ctx_name, agent_first):
    with netlab.Lab() as lab:
        fake = "--use-fake-device-for-media-stream"
        chrome = lab.chromium("b", extra_flags=[f"{fake}=fps=30"], drop_flags=(fake,))
        srv = lab.server()
        room = lab.new_room()
        lab.link("a", rate=CAP, shared=True)
        total = PAGE_CAPPED_S + PAGE_LIFTED_S + 8
        page = chrome.new_page()
        args = ["--duration", f"{total:.0f}s", "--warm-up", "2s", "--no-status", "--stats-interval", "1s",
                "--report", f"{ctx_name}.json"]
        page.set_auth_cookie(srv.url, lab.token())
        url = room + "?ice=none&video=720p&fps=30"
        if agent_first:
            agent = lab.agent("a", room, args, name=ctx_name)
            agent.wait_for_log(r"connected to ws", 20)
            time.sleep(1.2)
            page.goto(url)
        else:
            page.goto(url)
            page.wait_for("window.callagentPage && callagentPage.state().initiator", 15)
            agent = lab.agent("a", room, args, name=ctx_name)
        page.wait_for("callagentPage.state().connectedAt", 30, "page connected")
        t_conn = time.monotonic()
        samples = []
        lifted_at = None
        while time.monotonic() - t_conn < PAGE_CAPPED_S + PAGE_LIFTED_S:
            x = page.evaluate(PAGE_JS)
            x["rel"] = time.monotonic() - t_conn
            samples.append(x)
            if lifted_at is None and x["rel"] >= PAGE_CAPPED_S:
                lab.clear("a")
                lifted_at = time.monotonic() - t_conn
            time.sleep(0.5)
        agent.wait(total + 40)
        rep = agent.report(f"{ctx_name}.json")
        page.close()
        # The page's samples next to the agent's report (kept with CALLAGENT_LAB_KEEP=1).
        with open(os.path.join(lab.tmp, f"{ctx_name}-page.json"), "w") as f:
            json.dump(samples, f)
    check(rep["exit"]["code"] == 0, f"{ctx_name}: the agent exits 0", 0, rep["exit"])

    # Agent -> page.
    cc = [i["congestion"] for i in rep["intervals"] if i["congestion"]]
    capped = window(rep, SETTLE_S, lifted_at - 1.0)
    after = window(rep, lifted_at, lifted_at + RECOVER_S)
    w = page_window(samples, SETTLE_S, lifted_at - 1.0)
    check(len(w) >= 4, f"{ctx_name}: page samples on the cap", ">= 4", len(w))
    # The stream the page received longest (it may have made a new one).
    ssrcs = [x["ssrc"] for x in w if x["ssrc"]]
    check(ssrcs, f"{ctx_name}: the page receives video on the cap", "an inbound-rtp video stream", w[-1])
    ssrc = max(set(ssrcs), key=ssrcs.count)
    w = [x for x in w if x["ssrc"] == ssrc]
    span = w[-1]["t"] - w[0]["t"]
    check(span > 0, f"{ctx_name}: page samples of one stream span the cap", "> 0 s", len(w))
    page_fps = (w[-1]["frames"] - w[0]["frames"]) / span if span > 0 else 0
    got = w[-1]["packets"] - w[0]["packets"]
    lost = max(0, w[-1]["lost"] - w[0]["lost"])
    page_loss = 100.0 * lost / (got + lost) if got + lost > 0 else None
    longest = 0.0
    for p, q in zip(w, w[1:]):
        if q["freezes"] > p["freezes"]:
            longest = max(longest, (q["freezeS"] - p["freezeS"]) * 1000)
    out = sent_rate(capped)
    recovered = max([i["congestion"]["target_bps"] for i in after if i["congestion"]], default=0)
    # Page -> agent.
    fps, loss, aspan = received(capped)
    freezes = [f for f in rep["freezes"]["events"] if SETTLE_S <= f["start_s"] - connected_at(rep) <= lifted_at]
    a_longest = max([f["duration_ms"] for f in freezes], default=0.0)
    page_out = (w[-1]["bytesSent"] - w[0]["bytesSent"]) * 8 / span if span > 0 else None
    lw = page_window(samples, lifted_at, lifted_at + RECOVER_S)
    page_after = max([x["outgoing"] for x in lw], default=0)
    print(f"{ctx_name}: agent -> page capped ({span:.0f} s): agent sent {(out or 0) / 1e3:.0f} kbit/s, target "
          f"{min([c['target_bps'] for c in cc], default=0) / 1e3:.0f}-{max([c['target_bps'] for c in cc], default=0) / 1e3:.0f}"
          f" kbit/s, page received {page_fps:.1f} fps, loss {page_loss or 0:.2f} %, longest freeze <= {longest:.0f} ms, "
          f"ladder steps {max([c['ladder_steps'] for c in cc], default=0)}, limited by "
          f"{sorted({c['limited_by'] for c in cc})}, REMB {cc[-1]['remb_bps'] if cc else None}; lifted: target {recovered / 1e3:.0f} kbit/s within {RECOVER_S:.0f} s",
          flush=True)
    print(f"{ctx_name}: page -> agent capped ({aspan:.0f} s): page sent {(page_out or 0) / 1e3:.0f} kbit/s "
          f"(its estimate {min([x['outgoing'] for x in w]) / 1e3:.0f}-{max([x['outgoing'] for x in w]) / 1e3:.0f}"
          f" kbit/s), agent received {fps or 0:.1f} fps, loss {loss or 0:.2f} %, freezes {len(freezes)} (longest "
          f"{a_longest:.0f} ms); lifted: page estimate {page_after / 1e3:.0f} kbit/s", flush=True)
    check(cc, f"{ctx_name}: the agent's report has congestion blocks", "> 0", len(cc))
    # "delay" exists only once transport-wide feedback reached the estimator.
    check("delay" in {c["limited_by"] for c in cc}, f"{ctx_name}: the page's TWCC feedback drives the controller",
          "delay among the limits", sorted({c["limited_by"] for c in cc}))
    check(out is not None and page_out is not None and out + page_out < CAP,
          f"{ctx_name}: both directions together send under the cap", f"< {CAP}", (out, page_out))
    check(page_fps >= MIN_FPS, f"{ctx_name}: the page receives >= {MIN_FPS} fps", f">= {MIN_FPS}", page_fps)
    check(page_loss is not None and page_loss <= MAX_LOSS_PCT, f"{ctx_name}: the page's loss",
          f"<= {MAX_LOSS_PCT}", page_loss)
    check(longest <= MAX_FREEZE_MS, f"{ctx_name}: no freeze over {MAX_FREEZE_MS:.0f} ms at the page",
          f"<= {MAX_FREEZE_MS:.0f}", longest)
    check(recovered >= 0.9 * PRESET_MAX, f"{ctx_name}: the agent's target back near the preset after the lift",
          f">= {0.9 * PRESET_MAX:.0f}", recovered)
    check(fps is not None and fps >= MIN_FPS, f"{ctx_name}: the agent receives >= {MIN_FPS} fps", f">= {MIN_FPS}",
          fps)
    check(loss is not None and loss <= MAX_LOSS_PCT, f"{ctx_name}: the agent's loss", f"<= {MAX_LOSS_PCT}", loss)
    check(a_longest <= MAX_FREEZE_MS, f"{ctx_name}: no freeze over {MAX_FREEZE_MS:.0f} ms at the agent",
          f"<= {MAX_FREEZE_MS:.0f}", freezes)


@case
def cap_agent_offers_to_chromium():
    chromium_cap("chromium-answers", agent_first=True)


@case
def cap_chromium_offers_to_agent():
    chromium_cap("chromium-offers", agent_first=False)


if __name__ == "__main__":
    run_cases()
