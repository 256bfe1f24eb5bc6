#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: the tool is interrupted by signals while attached.

usage: signals.py --tool PATH --python LABEL [--runs 20] [--seed N]
Runs `PATH --json PID` against a heap target RUNS times; each run gets
SIGINT, SIGTERM or SIGHUP (in turn) after a random 0-30 ms delay (fault
injection).  After each run, once the tool has exited, the target must not be
stopped (t/T in /proc/PID/stat) and must answer ping.  A tool that hangs or
dies from a signal other than the one sent (e.g. SIGSEGV) also fails.
exit: 0 pass, 1 fail, 77 skip (interpreter absent)
"""

import argparse
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
MAX_DELAY = 0.030
TOOL_EXIT_TIMEOUT = 20.0
TOTAL_BUDGET = 50.0


def describe_rc(rc):
    if rc is None:
        return "hung"
    if rc < 0:
        return "killed by %s" % signal.Signals(-rc).name
    return "exit %d" % rc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--python", required=True, metavar="LABEL")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()

    python = common.find_interpreter(args.python)
    if not python:
        common.log("SKIP: interpreter %s not found" % args.python)
        return common.EXIT_SKIP
    tool = common.require_tool(args.tool)

    seed = args.seed if args.seed is not None else int(time.time() * 1000) & 0xffffffff
    rng = random.Random(seed)
    common.log("signals test: %s (%s), %d runs, seed %d" % (args.python, python, args.runs, seed))

    try:
        target = common.Target.heap(python)
    except common.TargetError as e:
        common.log("FAIL: %s" % e)
        return common.EXIT_FAIL

    fails = []
    outcomes = {}
    started = time.monotonic()
    try:
        for i in range(args.runs):
            if time.monotonic() - started > TOTAL_BUDGET:
                fails.append("time budget of %.0f s exhausted after %d runs" % (TOTAL_BUDGET, i))
                break
            sig = SIGNALS[i % len(SIGNALS)]
            delay = rng.uniform(0.0, MAX_DELAY)
            proc = subprocess.Popen([tool, "--json", str(target.pid)],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            time.sleep(delay)                 # fault injection, not readiness
            sent = proc.poll() is None
            if sent:
                proc.send_signal(sig)
            try:
                _, err = proc.communicate(timeout=TOOL_EXIT_TIMEOUT)
                rc = proc.returncode
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
                rc = None
            line = "run %2d: %-7s after %4.1f ms%s -> %s" % (
                i + 1, sig.name, delay * 1000, "" if sent else " (tool already done)",
                describe_rc(rc))
            key = (sig.name if sent else "none", describe_rc(rc))
            outcomes[key] = outcomes.get(key, 0) + 1

            run_fails = []
            if rc is None:
                run_fails.append("tool did not exit within %.0f s after %s" % (TOOL_EXIT_TIMEOUT, sig.name))
            elif rc < 0 and -rc != sig:
                run_fails.append("tool died from %s" % signal.Signals(-rc).name)
            ok, detail = target.check_healthy()
            if not ok:
                run_fails.append(detail)
            common.log(line + ("" if not run_fails else "   FAIL"))
            for f in run_fails:
                common.log("         " + f)
                fails.append("run %d (%s): %s" % (i + 1, sig.name, f))
            if run_fails and err:
                common.log("         tool stderr: " + err.decode("utf-8", "replace").strip()[:500])
            if not target.alive() or common.is_stopped_state(target.state() or "t"):
                break       # nothing more to learn from a dead/stopped target
    finally:
        target.stop()

    common.log("outcomes: " + ", ".join("%s/%s x%d" % (k[0], k[1], n)
                                         for k, n in sorted(outcomes.items())))
    if fails:
        common.log("RESULT: FAIL (%s, seed %d)" % (args.python, seed))
        return common.EXIT_FAIL
    common.log("RESULT: PASS (%s)" % args.python)
    return common.EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
