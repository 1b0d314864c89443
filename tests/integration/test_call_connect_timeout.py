"""ICE that never connects ends the call with exit 3 within the connect
budget, naming the phase, instead of renegotiating for ever.

In the network lab (tests/netlab), side a lets only the signaling port
through: both agents see each other in the room and exchange offer and
answer, and every ICE check between them is dropped. Agent a
(--connect-timeout 20s) exits 3 (call-failed) by itself when its budget runs
out, its log and its report (exit.connect_failure) say "ice-checks", and the
report counts the attempts; its recording (no media) is still finalized.
Agent b, a kiosk (--connect-timeout 0), never gives up by itself and
leaves with a (--leave-when-alone).
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "netlab"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import netlab  # noqa: E402  (re-executes this script inside a private lab)
from harness import case, check, check_eq, run_cases  # noqa: E402

# Offer creation alone (the DTLS certificate) took up to 6.4 s on this
# loaded 2-core machine: the budget leaves room for the ICE checks.
BUDGET_S = 20


@case
def ice_that_never_connects_fails_within_the_budget():
    with netlab.Lab() as lab:
        srv = lab.server()
        lab.link("a", allow=[("tcp", srv.port)])
        room = lab.new_room()
        # a is first in the room: its budget starts when the server
        # announces b. b is a kiosk (no budget): it retries until a leaves.
        a = lab.agent("a", room, ["--connect-timeout", f"{BUDGET_S}s", "--report", "a.json", "--record", "a.mkv"],
                      video="480p")
        a.wait_for_log(r"\[ws\] connected", timeout=30)
        b = lab.agent("b", room, ["--connect-timeout", "0", "--leave-when-alone", "--report", "b.json"],
                      video="480p")
        try:
            a.wait_for_log(r"partner .* joined", timeout=30)
            t0 = time.monotonic()
            rc_a = a.wait(BUDGET_S + 40)
            took = time.monotonic() - t0
            rc_b = b.wait(30)
        finally:
            a.kill()
            b.kill()
        log = a.log()
        check_eq(rc_a, 3, "agent a: exit code (call-failed)")
        check(re.search(rf"could not connect to the partner within {BUDGET_S} s \(--connect-timeout\): failed in "
                        r"ICE checks \(ice-checks\) after \d+ attempt", log),
              "agent a: the log names the budget and the phase", "ICE checks", a.tail(15))
        check("connected to the partner" not in log, "agent a: never connected", "no connection", a.tail(15))
        check(BUDGET_S - 1 <= took < BUDGET_S + 15, "agent a gave up when its budget ran out (plus teardown)",
              f"{BUDGET_S}..{BUDGET_S + 15} s", round(took, 1))
        r = a.report("a.json")
        check_eq((r["exit"]["code"], r["exit"]["name"]), (3, "call-failed"), "a.json: exit")
        cf = r["exit"]["connect_failure"]
        check(cf is not None, "a.json: exit.connect_failure is set", "an object", r["exit"])
        check_eq(cf["phase"], "ice-checks", "a.json: the phase that never completed")
        check_eq(cf["timeout_s"], BUDGET_S, "a.json: the budget")
        check(cf["attempts"] >= 1, "a.json: attempts counted", ">= 1", cf["attempts"])
        # The kiosk had no budget: it kept trying until a left, then left too.
        check_eq(rc_b, 0, "agent b (--connect-timeout 0, --leave-when-alone): exit code")
        check("--connect-timeout" not in b.log(), "agent b never gave up by itself", "no budget", b.tail(10))
        check_eq(b.report("b.json")["exit"]["connect_failure"], None, "b.json: no connect failure")
        # a's recording (made when b's description came) is finalized: the
        # muxer got its EOS before the agent exited.
        if os.path.exists(os.path.join(lab.tmp, "a.mkv")):
            check(re.search(r"recording \S*a\.mkv complete", log), "the empty recording was finalized",
                  "recording ... complete", a.tail(15))


if __name__ == "__main__":
    run_cases()
