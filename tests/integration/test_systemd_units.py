#!/usr/bin/env python3
"""The units in systemd/: `systemd-analyze verify` accepts them (ExecStart
pointed at the built binary, the template as an instance), they are
Type=notify with a watchdog, and `systemd-analyze security --offline` does
not rate them worse than they are now (serve 1.5, terminal 2.2 on Debian
12's systemd 252; the thresholds leave half a point)."""

import os
import re
import shutil
import subprocess
import tempfile

from harness import callagent_bin, case, check, check_eq, run_cases, skip

ROOT = os.environ.get("CALLAGENT_SOURCE_ROOT") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNITS = {  # file in systemd/ -> (name to verify it as, exposure threshold x10)
    "callagent-serve.service": ("callagent-serve.service", 20),
    "callagent-terminal@.service": ("callagent-terminal@lobby.service", 27),
}


def setup():
    if not shutil.which("systemd-analyze"):
        skip("systemd-analyze (package systemd) is not installed")
    tmp = tempfile.mkdtemp(prefix="callagent-units-")
    for src, (dst, _) in UNITS.items():
        with open(os.path.join(ROOT, "systemd", src)) as f:
            text = f.read()
        with open(os.path.join(tmp, dst), "w") as f:
            f.write(text.replace("/usr/local/bin/callagent", callagent_bin()))
    return tmp


def teardown(tmp, failed):
    shutil.rmtree(tmp, ignore_errors=True)


def analyze(args):
    p = subprocess.run(["systemd-analyze"] + args, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


@case
def units_verify(tmp):
    rc, out = analyze(["verify"] + [os.path.join(tmp, d) for d, _ in UNITS.values()])
    check_eq(rc, 0, f"systemd-analyze verify exit code; output:\n{out}")
    check(out.strip() == "", "systemd-analyze verify says nothing", "", out)


@case
def units_are_notify_with_watchdog(tmp):
    for dst, _ in UNITS.values():
        with open(os.path.join(tmp, dst)) as f:
            text = f.read()
        check(re.search(r"^Type=notify$", text, re.M), f"{dst}: Type=notify")
        check(re.search(r"^WatchdogSec=\d+s$", text, re.M), f"{dst}: WatchdogSec=")


@case
def units_keep_their_hardening(tmp):
    for dst, threshold in UNITS.values():
        rc, out = analyze(["security", "--offline=true", f"--threshold={threshold}", os.path.join(tmp, dst)])
        level = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out)
        check_eq(rc, 0, f"{dst}: exposure at most {threshold / 10} (got {level[1] if level else '?'})")


if __name__ == "__main__":
    run_cases(setup, teardown)
