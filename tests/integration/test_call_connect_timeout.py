"""ICE that never connects ends the call with exit 3 within the connect
budget, naming the phase, instead of renegotiating for ever.

In the network lab (tests/netlab), side a lets only the signaling port
through: both agents see each other in the room and exchange offer and
answer, and every ICE check between them is dropped. With
--connect-timeout 8s each agent exits 3 (call-failed) by itself, its log and
its report (exit.connect_failure) say "ice-checks", and the report counts
the attempts. A recording agent among them still leaves a finalized file
behind (no media: nothing but the header, and complete).
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "netlab"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import netlab  # noqa: E402  (re-executes this script inside a private lab)
from harness import case, check, check_eq, run_cases  # noqa: E402

BUDGET_S = 8


@case
def ice_that_never_connects_fails_within_the_budget():
    with netlab.Lab() as lab:
        srv = lab.server()
        lab.link("a", allow=[("tcp", srv.port)])
        room = lab.new_room()
        common = ["--connect-timeout", f"{BUDGET_S}s", "--wait-for-partner", "60s"]
        a = lab.agent("a", room, common + ["--report", "a.json", "--record", "a.mkv"], video="480p")
        b = lab.agent("b", room, common + ["--report", "b.json"], video="480p")
        try:
            a.wait_for_log(r"partner .* joined|offering|answer", timeout=30)
            t0 = time.monotonic()
            rc_a = a.wait(BUDGET_S + 40)
            rc_b = b.wait(BUDGET_S + 40)
            took = time.monotonic() - t0
        finally:
            a.kill()
            b.kill()
        for agent, rc in ((a, rc_a), (b, rc_b)):
            log = agent.log()
            check_eq(rc, 3, f"agent {agent.name}: exit code (call-failed)")
            check(re.search(r"could not connect to the partner within 8 s \(--connect-timeout\): failed in ICE "
                            r"checks \(ice-checks\)", log),
                  f"agent {agent.name}: the log names the budget and the phase", "ICE checks", agent.tail(15))
            check("dtls_connected" not in log and "connected to the partner" not in log,
                  f"agent {agent.name}: never connected", "no connection", agent.tail(15))
        # Both budgets started within a second or so of each other; on this
        # busy machine allow generous slack, but no endless retrying.
        check(took < BUDGET_S + 30, "both agents gave up within the budget (plus teardown)",
              f"< {BUDGET_S + 30} s", round(took, 1))
        for agent, name in ((a, "a.json"), (b, "b.json")):
            r = agent.report(name)
            check_eq(r["exit"]["code"], 3, f"{name}: exit code")
            check_eq(r["exit"]["name"], "call-failed", f"{name}: exit name")
            cf = r["exit"]["connect_failure"]
            check(cf is not None, f"{name}: exit.connect_failure is set", "an object", r["exit"])
            check_eq(cf["phase"], "ice-checks", f"{name}: the phase that never completed")
            check_eq(cf["timeout_s"], BUDGET_S, f"{name}: the budget")
            check(cf["attempts"] >= 1, f"{name}: attempts counted", ">= 1", cf["attempts"])
        # The recorder's file (if the partner's description made one) is
        # finalized: the muxer got its EOS before the agent exited.
        rec = os.path.join(lab.tmp, "a.mkv")
        if os.path.exists(rec):
            check(re.search(r"recording \S*a\.mkv complete", a.log()), "the empty recording was finalized",
                  "recording ... complete", a.tail(15))


if __name__ == "__main__":
    run_cases()
