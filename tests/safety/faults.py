#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Safety test: signals and faults in every phase of a run.

usage: faults.py --tool PATH --fault-tool PATH --python LABEL [--runs 40] [--seed N]

Target: tests/safety/target.py with 3 idle threads and ~20000 objects of data
whose checksum it computes itself.  Each run is one of:
  * delay: the real tool gets SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT or
    SIGKILL after a random delay in [0, 1.2 x the duration of a normal run];
  * point: the fault-injection build (PYHEAP_FAULT=POINT:K:ACTION) acts at the
    K-th pass (K random) of one point of maps / seize / wait / stopped / read /
    detach / resumed / lateread: one of those signals, or an error of the
    operation there (EPERM or ESRCH from PTRACE_SEIZE, a thread that does not
    stop, EFAULT / EIO / ESRCH from a read).
Last, one run writes to a pipe whose reader is gone (a real SIGPIPE/EPIPE).
After every run: the tool exited (no hang) with the exit code the fault calls
for and a message, never by a crash; the target is not stopped (t/T in
/proc/PID/stat), answers ping, has no tracer, and its data checksum is
unchanged.  SIGKILL is the case the kernel handles alone: a target seized with
PTRACE_SEIZE is resumed when its tracer dies.
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
import safety  # noqa: E402
from safety import common, log  # noqa: E402

SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGPIPE", "SIGQUIT", "SIGKILL")
# point -> (K range, extra actions that make sense there)
POINTS = {
    "maps": ((1, 1), ()),
    "seize": ((1, 4), ("EPERM", "ESRCH")),
    "wait": ((1, 4), ("ETIMEDOUT",)),
    "stopped": ((1, 1), ()),
    "read": ((1, 6), ("EFAULT", "EIO", "ESRCH")),
    "detach": ((1, 4), ()),
    "resumed": ((1, 1), ()),
    "lateread": ((1, 40), ("EFAULT", "ESRCH")),
}
TOTAL_BUDGET = 150.0


def expected(point, k, action, fired, live=False):
    """Exit codes the run may end with (@live: the walk reads while stopped)."""
    if not fired:
        return {0}
    if action == "SIGKILL":
        return {-signal.SIGKILL}
    if action.startswith("SIG"):
        return {safety.EXIT_INTERRUPTED}
    if action == "EPERM":
        return {safety.EXIT_PERMISSION}
    if action == "ESRCH" and point == "seize":
        # The leader gone is the process gone; another thread is just skipped.
        return {safety.EXIT_NO_PROCESS} if k == 1 else {0}
    if action == "ETIMEDOUT":
        return {safety.EXIT_OTHER}
    if action == "ESRCH":
        return {safety.EXIT_READ, safety.EXIT_NO_PROCESS}
    # EFAULT / EIO: that memory is unreadable, the rest of the walk goes on.
    # Walking live, the first reads are the layout checks': a field they need
    # unreadable says the layout does not fit (exit 8), as it would be for a
    # real target.
    if live and point == "read":
        return {0, safety.EXIT_READ, safety.EXIT_LAYOUT}
    return {0, safety.EXIT_READ}


def broken_pipe(tool, target, fig):
    """`pyheap-attach PID | true`: the output goes to a pipe nobody reads."""
    r, w = os.pipe()
    os.close(r)
    try:
        proc = subprocess.Popen([tool, "--all", str(target.pid)], stdin=subprocess.DEVNULL,
                                stdout=w, stderr=subprocess.PIPE)
    finally:
        os.close(w)
    rc, _, err = safety.finish(proc)
    fig.add("runs")
    fig.add("faults_injected")
    fails = []
    if rc != safety.EXIT_INTERRUPTED or not safety.message(err):
        fails.append("broken pipe: %s, expected exit 130 with a message: %s" % (
            safety.describe_rc(rc), err.strip()[-300:]))
    ok, detail = target.healthy()
    if not ok:
        fails.append("broken pipe: " + detail)
    log("broken pipe: -> %s %s%s" % (safety.describe_rc(rc), safety.message(err),
                                      "   FAIL" if fails else ""))
    return fails


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--fault-tool", required=True)
    ap.add_argument("--python", required=True, metavar="LABEL")
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--budget", type=float, default=TOTAL_BUDGET, help="seconds")
    args = ap.parse_args()
    python = safety.pick_python(args.python)
    tool = common.require_tool(args.tool)
    ftool = common.require_tool(args.fault_tool)
    seed = safety.seed_from(args)
    rng = random.Random(seed)
    fig = safety.Figures("faults-" + args.python)
    log("faults test: %s (%s), %d runs, seed %d" % (args.python, python, args.runs, seed))

    try:
        target = safety.SafetyTarget(python, threads=3)
    except common.TargetError as e:
        log("FAIL: %s" % e)
        return common.EXIT_FAIL
    fails = []
    try:
        normal = safety.calibrate(tool, target.pid)
        if normal is None:
            return common.EXIT_FAIL
        # K beyond the passes a run makes injects nothing: learn the bound.
        kmax = {p: POINTS[p][0][1] for p in POINTS}
        started = time.monotonic()
        for i in range(args.runs):
            if time.monotonic() - started > args.budget:
                log("time budget of %.0f s used after %d runs" % (args.budget, i))
                break
            sig = rng.choice(SIGNALS)
            # A third of the runs walk live within a memory budget of 1 MiB
            # (the target is larger: blocks dropped and read again, headers
            # read in batches), the walk that runs while the target is stopped.
            budget = rng.random() < 1.0 / 3
            mode_args = ["--read", "live", "--max-copy", "1"] if budget else []
            if rng.random() < 0.4:
                mode = "delay"
                delay = rng.uniform(0.0, normal * 1.2)
                proc = safety.run_tool_async([tool, "--json"] + mode_args + [str(target.pid)])
                time.sleep(delay)             # fault injection, not readiness
                fired = proc.poll() is None
                if fired:
                    proc.send_signal(getattr(signal, sig))
                rc, _, err = safety.finish(proc)
                signo = getattr(signal, sig)
                allowed = {safety.EXIT_INTERRUPTED, -signo} if fired else {0}
                if fired:
                    # It may also have finished just before the signal came.
                    allowed.add(0)
                what = "%s after %.1f ms" % (sig, delay * 1000)
            else:
                mode = "point"
                point = rng.choice(sorted(POINTS))
                (klo, _), extra = POINTS[point]
                k = rng.randint(klo, kmax[point])
                action = rng.choice(SIGNALS + extra) if extra and rng.random() < 0.5 \
                    else sig
                spec = "%s:%d:%s" % (point, k, action)
                proc = safety.run_tool_async([ftool, "--json"] + mode_args + [str(target.pid)],
                                             env=safety.fault_env(spec))
                rc, _, err = safety.finish(proc)
                fired = safety.injected(err)
                if not fired and not budget:
                    kmax[point] = max(1, k - 1)
                allowed = expected(point, k, action, fired, live=budget)
                what = spec
            fig.add("runs")
            if fired:
                fig.add("faults_injected")
            run_fails = []
            if rc is None:
                fig.add("hangs")
                run_fails.append("the tool did not exit within %.0f s" % safety.TOOL_TIMEOUT)
            elif rc < 0 and -rc in safety.CRASH_SIGNALS and rc not in allowed:
                fig.add("crashes")
                run_fails.append("the tool crashed: %s" % safety.describe_rc(rc))
            elif rc not in allowed:
                run_fails.append("%s, expected %s" % (
                    safety.describe_rc(rc), " or ".join(safety.describe_rc(a)
                                                       for a in sorted(allowed))))
            elif rc > 0 and not safety.message(err):
                run_fails.append("%s without a message" % safety.describe_rc(rc))
            ok, detail = target.healthy()
            if not ok:
                if common.is_stopped_state(target.state() or ""):
                    fig.add("left_stopped")
                run_fails.append(detail)
            tracer = common.tracer_pid(target.pid)
            if tracer:
                run_fails.append("still traced by %d" % tracer)
            if budget:
                what += " (budget)"
            log("run %3d: %-5s %-24s%s -> %s%s" % (
                i + 1, mode, what, "" if fired else " (no fault: done before)",
                safety.describe_rc(rc), "   FAIL" if run_fails else ""))
            for f in run_fails:
                log("         " + f)
                fails.append("run %d (%s): %s" % (i + 1, what, f))
            if run_fails and err.strip():
                log("         tool stderr: " + err.strip()[-500:])
            if not target.alive() or common.is_stopped_state(target.state() or "t"):
                break
        else:
            fails += broken_pipe(tool, target, fig)
    finally:
        target.stop()
    fig.add("failures", len(fails))
    fig.emit()
    if fails:
        log("RESULT: FAIL (%s, seed %d)" % (args.python, seed))
        return common.EXIT_FAIL
    log("RESULT: PASS (%s)" % args.python)
    return common.EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
