#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Safety test: the target dies or changes while it is inspected.

usage: dying.py --tool PATH --fault-tool PATH --python LABEL [--runs 24] [--seed N]

Each run starts a small target (tests/safety/target.py, 2 threads) and one of:
  * killed-at: the fault-injection build sends SIGKILL to the target at a
    random point (preparation, seize K, stopped, read K, detach K, resumed,
    read K after the resume);
  * killed: the test sends SIGKILL to the target after a random delay;
  * exits: the target ends itself (os._exit) after a random delay;
  * execs: the target replaces itself (execv of the same command) after a
    random delay;
  * execs-window: the target execs while the tool is between reading its
    maps and stopping it (the fault build sleeps there).
The tool must exit within 30 s (no hang), never by a crash, with a result
(exit 0) or a clear error: exit 3 (no such process) or 9 (memory unreadable /
the process exited) with a message.  A target that exec'd must not be stopped,
must answer ping and have its data intact.
exit: 0 pass, 1 fail, 77 skip
"""
import argparse
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safety  # noqa: E402
from safety import common, log  # noqa: E402

KILL_POINTS = ("maps:1", "seize:1", "seize:2", "stopped:1", "read:1", "read:2", "read:3",
               "detach:1", "detach:2", "resumed:1", "lateread:1", "lateread:10")
MODES = ("killed-at", "killed", "exits", "execs", "execs-window")
ALLOWED = {0, safety.EXIT_NO_PROCESS, safety.EXIT_READ}
# After an exec the stale description may also make the new image look like
# no Python of the version read before.
ALLOWED_EXEC = ALLOWED | {safety.EXIT_NOT_PYTHON, 7}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--fault-tool", required=True)
    ap.add_argument("--python", required=True, metavar="LABEL")
    ap.add_argument("--runs", type=int, default=24)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--budget", type=float, default=150.0, help="seconds")
    args = ap.parse_args()
    python = safety.pick_python(args.python)
    tool = common.require_tool(args.tool)
    ftool = common.require_tool(args.fault_tool)
    seed = safety.seed_from(args)
    rng = random.Random(seed)
    fig = safety.Figures("dying-" + args.python)
    log("dying test: %s (%s), %d runs, seed %d" % (args.python, python, args.runs, seed))

    def new_target():
        return safety.SafetyTarget(python, threads=2, objects=3000)

    # How long a normal run takes, for the random delays.
    t = new_target()
    try:
        normal = safety.calibrate(tool, t.pid)
    finally:
        t.stop()
    if normal is None:
        return common.EXIT_FAIL

    fails = []
    started = time.monotonic()
    for i in range(args.runs):
        if time.monotonic() - started > args.budget:
            log("time budget of %.0f s used after %d runs" % (args.budget, i))
            break
        mode = MODES[i % len(MODES)] if i < len(MODES) else rng.choice(MODES)
        try:
            target = new_target()
        except common.TargetError as e:
            fails.append("run %d: %s" % (i + 1, e))
            continue
        run_fails = []
        allowed = ALLOWED
        fired = True
        try:
            delay = rng.uniform(0.0, normal * 1.2)
            if mode == "killed-at":
                spec = rng.choice(KILL_POINTS) + ":kill-target"
                what = spec
                proc = safety.run_tool_async([ftool, "--json", str(target.pid)],
                                             env=safety.fault_env(spec))
                rc, _, err = safety.finish(proc)
                fired = safety.injected(err)
            elif mode in ("killed", "exits", "execs"):
                what = "%s after %.1f ms" % (mode, delay * 1000)
                if mode == "exits":
                    # The target's own timer; the tool starts right after.
                    target.send("exit-in %.1f" % (delay * 1000))
                    target.read_line(10)
                proc = safety.run_tool_async([tool, "--json", str(target.pid)])
                if mode != "exits":
                    time.sleep(delay)         # fault injection, not readiness
                    if mode == "killed":
                        os.kill(target.pid, signal.SIGKILL)
                    else:
                        target.send("exec")
                rc, _, err = safety.finish(proc)
                fired = True
            else:  # execs-window
                spec = "maps:1:sleep400"
                what = "exec while the tool sleeps after reading the maps"
                proc = safety.run_tool_async([ftool, "--json", str(target.pid)],
                                             env=safety.fault_env(spec))
                time.sleep(0.15)  # ok: lands inside the tool's injected 400 ms window (fault injection)
                target.send("exec")
                rc, _, err = safety.finish(proc)
                fired = safety.injected(err)
            if mode.startswith("execs"):
                allowed = ALLOWED_EXEC
            fig.add("runs")
            if fired:
                fig.add("faults_injected")
            if rc is None:
                fig.add("hangs")
                run_fails.append("the tool did not exit within %.0f s" % safety.TOOL_TIMEOUT)
            elif rc < 0 and -rc in safety.CRASH_SIGNALS:
                fig.add("crashes")
                run_fails.append("the tool crashed: %s" % safety.describe_rc(rc))
            elif rc not in allowed:
                run_fails.append("%s, expected one of %s" % (safety.describe_rc(rc),
                                                              sorted(allowed)))
            elif rc != 0 and not safety.message(err):
                run_fails.append("%s without a message" % safety.describe_rc(rc))
            if mode.startswith("execs"):
                # The new image prints "ready CHECKSUM" again.
                try:
                    line = target.read_line(30)
                    if line != "ready":
                        run_fails.append("after exec: expected ready, got %r" % line)
                    else:
                        ok, detail = target.healthy()
                        if not ok:
                            if common.is_stopped_state(target.state() or ""):
                                fig.add("left_stopped")
                            run_fails.append("after exec: " + detail)
                except common.TargetError as e:
                    run_fails.append("after exec: %s" % e)
            else:
                # Dead (or about to be): never left stopped.
                state = common.poll_until(
                    lambda: target.proc.poll() is not None or
                    not common.is_stopped_state(target.state() or ""), 5.0)
                if not state:
                    fig.add("left_stopped")
                    run_fails.append("target left stopped: %r" % target.state())
            log("run %3d: %-12s %-40s -> %s%s" % (
                i + 1, mode, what, safety.describe_rc(rc), "   FAIL" if run_fails else ""))
            if rc not in (0, None) and not run_fails:
                log("         " + safety.message(err))
        except common.TargetError as e:
            run_fails.append(str(e))
            err = ""
        finally:
            if target.alive() and common.is_stopped_state(target.state() or ""):
                os.kill(target.pid, signal.SIGCONT)
            target.stop()
        for f in run_fails:
            log("         " + f)
            fails.append("run %d (%s): %s" % (i + 1, mode, f))
        if run_fails and err.strip():
            log("         tool stderr: " + err.strip()[-500:])
    fig.add("failures", len(fails))
    fig.emit()
    if fails:
        log("RESULT: FAIL (%s, seed %d)" % (args.python, seed))
        return common.EXIT_FAIL
    log("RESULT: PASS (%s)" % args.python)
    return common.EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
