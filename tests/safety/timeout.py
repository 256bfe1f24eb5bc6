#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Safety test: --timeout, and the watchdog behind it.

usage: timeout.py --tool PATH --fault-tool PATH --python LABEL [--runs 6]

  tiny     a target with ~100000 objects inspected with --timeout 1 (and 2, 3):
           exit 0 with a partial result, "truncated": true (its
           "truncated_reason" naming the time limit), and a pause that
           stays near the bound; the target is resumed, answers, data intact.
           On a fast machine the copy may finish within 2 or 3 ms: then the
           result is whole ("truncated": false) and the pause within the
           bound plus DONE_SLACK_MS; at least one run must be cut short
  watchdog the fault build sleeps 4 s while the target is stopped, with
           --timeout 200: the watchdog ends the tool at --timeout + 2 s with
           exit 1 and a message, and the kernel resumes the target
exit: 0 pass, 1 fail, 77 skip
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safety  # noqa: E402
from safety import common, log  # noqa: E402

# The pause may pass --timeout by the time one step of the copy or of the
# walk takes; past this slack the bound is not one.
SLACK_MS = 50.0
# A whole result (the copy done in time) pauses at most this much past the
# bound: stopping and resuming the threads around the copy.
DONE_SLACK_MS = 2.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--fault-tool", required=True)
    ap.add_argument("--python", required=True, metavar="LABEL")
    ap.add_argument("--runs", type=int, default=6)
    args = ap.parse_args()
    python = safety.pick_python(args.python)
    tool = common.require_tool(args.tool)
    ftool = common.require_tool(args.fault_tool)
    fig = safety.Figures("timeout-" + args.python)
    fails = []
    overshoot = 0.0
    cut_short = 0
    with safety.SafetyTarget(python, threads=2, objects=100000) as target:
        res = common.run_tool(tool, ["--json", target.pid])
        if res.rc != 0:
            log("FAIL: a normal run: %s" % res.describe())
            return common.EXIT_FAIL
        full = json.loads(res.stdout.decode())
        log("normal run: %d objects, pause %.1f ms" % (full["objects"], full["pause_ms"]))
        for i in range(args.runs):
            ms = (1, 1, 2, 3)[i % 4]
            res = common.run_tool(tool, ["--timeout", ms, "--json", target.pid])
            fig.add("runs")
            run_fails = []
            detail = ""
            if res.rc == 0:
                d = json.loads(res.stdout.decode())
                detail = "%d objects, truncated %s, pause %.1f ms" % (
                    d["objects"], d["truncated"], d["pause_ms"])
                if d["truncated"]:
                    cut_short += 1
                    if "time limit" not in (d.get("truncated_reason") or ""):
                        run_fails.append("truncated_reason %r does not name the time limit"
                                         % d.get("truncated_reason"))
                elif ms < 2 or d["pause_ms"] > ms + DONE_SLACK_MS:
                    run_fails.append("not marked truncated")
                else:
                    detail += " (copied within the bound)"
                overshoot = max(overshoot, d["pause_ms"] - ms)
                if d["pause_ms"] > ms + SLACK_MS:
                    run_fails.append("pause %.1f ms for --timeout %d" % (d["pause_ms"], ms))
            elif res.rc == safety.EXIT_OTHER and "did not stop within" in \
                    res.stderr.decode("utf-8", "replace"):
                detail = "could not stop every thread within %d ms (clear error)" % ms
            else:
                run_fails.append("%s: %s" % (res.describe(), res.stderr_excerpt(300)))
            ok, why = target.healthy()
            if not ok:
                if common.is_stopped_state(target.state() or ""):
                    fig.add("left_stopped")
                run_fails.append(why)
            log("tiny %d: --timeout %d -> %s%s" % (i + 1, ms, detail or "exit %s" % res.rc,
                                                    "   FAIL" if run_fails else ""))
            fails += ["tiny %d: %s" % (i + 1, f) for f in run_fails]
        log("largest pause past --timeout: %.1f ms" % overshoot)
        if args.runs and not cut_short:
            fails.append("no run was cut short by --timeout (the target copies within 3 ms)")

        # The watchdog: a pause stuck past --timeout + 2 s ends the tool.
        t0 = time.monotonic()
        proc = safety.run_tool_async([ftool, "--timeout", "200", "--json", str(target.pid)],
                                     env=safety.fault_env("stopped:1:sleep4000"))
        rc, _, err = safety.finish(proc)
        took = time.monotonic() - t0
        fig.add("runs")
        fig.add("faults_injected")
        wfails = []
        if rc != safety.EXIT_OTHER or "pause exceeded" not in err:
            wfails.append("%s: %s" % (safety.describe_rc(rc), err.strip()[-300:]))
        if not 2.1 <= took < 3.9:
            wfails.append("the tool ended after %.2f s (watchdog at 2.2 s)" % took)
        ok, why = target.healthy()
        if not ok:
            if common.is_stopped_state(target.state() or ""):
                fig.add("left_stopped")
            wfails.append(why)
        log("watchdog: stuck 4 s while stopped, --timeout 200 -> %s after %.2f s: %s%s" % (
            safety.describe_rc(rc), took, safety.message(err), "   FAIL" if wfails else ""))
        fails += ["watchdog: " + f for f in wfails]
    for f in fails:
        log("    " + f)
    fig.add("failures", len(fails))
    fig.emit()
    if fails:
        log("RESULT: FAIL")
        return common.EXIT_FAIL
    log("RESULT: PASS")
    return common.EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
