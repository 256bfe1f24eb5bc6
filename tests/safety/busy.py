#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Safety test: repeated inspections of a busy multi-threaded target.

usage: busy.py --tool PATH --python LABEL [--runs 30] [--workers 3] [--seed N]

The target (tests/safety/target.py --busy W --threads 2) allocates and frees,
mutates a ledger, a dict and a list under a lock with invariants it checks on
every iteration, starts and ends threads and runs gc.collect(), all the time.
It is inspected RUNS times (`--json`; one run in four with a random
--timeout of 1 to 20 ms).  Every inspection must end within 30 s with a
result (exit 0, valid JSON; torn GC lists show as "unreadable", a cut walk as
"truncated") or a clear error (exit 9 with a message, or with a --timeout of a
few ms exit 1 "did not stop within N ms"); never a crash.  After
every inspection the target is not stopped and answers; its workers keep
making progress (no deadlock); at the end its data checksum is unchanged and
its consistency checks never failed.
exit: 0 pass, 1 fail, 77 skip
"""
import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safety  # noqa: E402
from safety import common, log  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--python", required=True, metavar="LABEL")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--budget", type=float, default=150.0, help="seconds")
    args = ap.parse_args()
    python = safety.pick_python(args.python)
    tool = common.require_tool(args.tool)
    seed = safety.seed_from(args)
    rng = random.Random(seed)
    fig = safety.Figures("busy-" + args.python)
    log("busy test: %s (%s), %d runs, %d workers, seed %d" % (
        args.python, python, args.runs, args.workers, seed))
    try:
        target = safety.SafetyTarget(python, threads=2, busy=args.workers)
    except common.TargetError as e:
        log("FAIL: %s" % e)
        return common.EXIT_FAIL
    fails = []
    stats = {"ok": 0, "errors": 0, "truncated": 0, "with_unreadable": 0, "unreadable": 0}
    last_it = -1
    started = time.monotonic()
    try:
        for i in range(args.runs):
            if time.monotonic() - started > args.budget:
                log("time budget of %.0f s used after %d runs" % (args.budget, i))
                break
            argv = [tool, "--json", str(target.pid)]
            if rng.random() < 0.25:
                argv[1:1] = ["--timeout", str(rng.randint(1, 20))]
            proc = safety.run_tool_async(argv)
            rc, out, err = safety.finish(proc)
            fig.add("runs")
            run_fails = []
            detail = ""
            if rc is None:
                fig.add("hangs")
                run_fails.append("the tool did not exit within %.0f s" % safety.TOOL_TIMEOUT)
            elif rc < 0:
                fig.add("crashes")
                run_fails.append("the tool died: %s" % safety.describe_rc(rc))
            elif rc == 0:
                try:
                    d = json.loads(out.decode("utf-8"))
                    stats["ok"] += 1
                    stats["truncated"] += bool(d.get("truncated"))
                    stats["with_unreadable"] += d.get("unreadable", 0) > 0
                    stats["unreadable"] += d.get("unreadable", 0)
                    detail = "%d objects, %d unreadable%s, pause %.1f ms" % (
                        d["objects"], d.get("unreadable", 0),
                        ", truncated" if d.get("truncated") else "", d.get("pause_ms", 0))
                    if d["objects"] <= 0:
                        run_fails.append("no objects")
                except (ValueError, KeyError) as e:
                    run_fails.append("invalid JSON: %s" % e)
            elif (rc == safety.EXIT_READ or
                  (rc == safety.EXIT_OTHER and "--timeout" in argv and
                   "did not stop within" in err)) and safety.message(err):
                # A clear error; with a --timeout of a few ms, stopping every
                # thread may take longer than that (then nothing is read).
                stats["errors"] += 1
                detail = safety.message(err)
            else:
                run_fails.append("%s: %s" % (safety.describe_rc(rc), err.strip()[-300:]))
            ok, why = target.check_healthy()
            if not ok:
                if common.is_stopped_state(target.state() or ""):
                    fig.add("left_stopped")
                run_fails.append(why)
            else:
                ok, why, it, _ = target.check()
                if not ok:
                    run_fails.append(why)
                elif it <= last_it:
                    run_fails.append("the workers made no progress (%d iterations)" % it)
                last_it = it
            log("run %3d: %-28s -> %s %s%s" % (i + 1, " ".join(argv[1:-1]),
                                               safety.describe_rc(rc), detail,
                                               "   FAIL" if run_fails else ""))
            for f in run_fails:
                log("         " + f)
                fails.append("run %d: %s" % (i + 1, f))
            if not target.alive() or common.is_stopped_state(target.state() or "t"):
                break
        ok, why, it, failures = target.check()
        log("target: %s; %d worker iterations, %d consistency failures" % (why, it, failures))
        if not ok:
            fails.append("at the end: " + why)
    finally:
        target.stop()
    log("inspections: %(ok)d results (%(truncated)d truncated, %(with_unreadable)d with "
        "unreadable references, %(unreadable)d in all), %(errors)d clear errors" % stats)
    fig.add("failures", len(fails))
    for k in ("truncated", "with_unreadable", "errors"):
        fig.add(k, stats[k])
    fig.emit()
    if fails:
        log("RESULT: FAIL (%s, seed %d)" % (args.python, seed))
        return common.EXIT_FAIL
    log("RESULT: PASS (%s)" % args.python)
    return common.EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
