#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Safety test: other tracers, permissions, stopped targets.

usage: tracers.py --tool PATH --fault-tool PATH --python LABEL [--stop-races 10] [--seed N]

Sub-cases (each PASS/FAIL/SKIP):
  gdb          target under `gdb -p` (batch, waiting on a pipe) -> exit 5,
               "already traced by process N"; gdb still attached afterwards
  strace       target under `strace -p`                          -> exit 5
  strace-thread  only one of its threads under `strace -p TID`   -> exit 5, and
               the threads stopped before that one are resumed
  permission   run as a temporary unprivileged user (useradd; setpriv) against
               root's target -> exit 4, and the message says what to do
               (root / CAP_SYS_PTRACE / sudo); the same user against its own
               process -> exit 0
  stopped      target stopped with SIGSTOP -> inspected (exit 0) and left
               stopped (T); after SIGCONT it answers, data intact
  stop-taken   SIGSTOP sent to the target between PTRACE_SEIZE and
               PTRACE_INTERRUPT of its main thread (fault build), which takes
               it in a signal-delivery-stop: the detach must deliver it, so the
               target ends up stopped (T); then SIGCONT, it answers, data intact
  stop-race    SIGSTOP sent to the target at a random moment of a run: the
               stop must not be lost (the target ends up stopped), and after
               SIGCONT it answers, data intact
After each case the target is not left in a ptrace stop (t).
exit: 0 all ran sub-cases pass, 1 any failure, 77 every sub-case skipped.
"""
import argparse
import os
import pwd
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safety  # noqa: E402
from safety import common, log  # noqa: E402


class Skip(Exception):
    pass


def check_rc(rc, err, want, words):
    fails = []
    if rc != want:
        fails.append("%s, expected exit %d" % (safety.describe_rc(rc), want))
    for w in words:
        if w.lower() not in err.lower():
            fails.append("message lacks %r" % w)
    if fails:
        fails.append("stderr: " + err.strip()[-400:])
    return fails


def wait_tracer(pid, tracer, timeout=20.0):
    return common.poll_until(lambda: common.tracer_pid(pid) == tracer, timeout)


def traced_case(tool, python, argv_of, what):
    """Target under another tracer (argv_of(pid) starts it)."""
    exe = shutil.which(argv_of(0)[0])
    if not exe:
        raise Skip("%s not installed" % argv_of(0)[0])
    with safety.SafetyTarget(python, threads=2) as target:
        tracer = subprocess.Popen(argv_of(target.pid), stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if not wait_tracer(target.pid, tracer.pid):
                raise Skip("%s did not attach (TracerPid %s)" % (
                    what, common.tracer_pid(target.pid)))
            res = common.run_tool(tool, ["--json", target.pid])
            fails = check_rc(res.rc, res.stderr.decode("utf-8", "replace"), safety.EXIT_TRACED,
                             ["already traced by process %d" % tracer.pid])
            if common.tracer_pid(target.pid) != tracer.pid:
                fails.append("%s is no longer the tracer" % what)
        finally:
            # Let the tracer detach cleanly: gdb ends its batch when the shell
            # command reading our pipe returns; strace detaches on SIGTERM.
            # (Killing gdb with SIGKILL while it attaches would leave its
            # PTRACE_ATTACH SIGSTOPs pending: the target would stop.)
            try:
                tracer.stdin.write(b"\n")
                tracer.stdin.close()
                tracer.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                pass
            common.kill_process(tracer, signal.SIGTERM, timeout=30)
        ok, detail = target.healthy()
        if not ok:
            fails.append("after %s left: %s" % (what, detail))
        return fails


def case_gdb(tool, python):
    # gdb -p stops the target and runs a shell command that waits on its
    # stdin (a pipe we hold open): it stays attached until we write a line.
    return traced_case(tool, python,
                       lambda pid: ["gdb", "-q", "-nx", "-batch", "-p", str(pid),
                                    "-ex", "shell read line"], "gdb")


def case_strace(tool, python):
    return traced_case(tool, python,
                       lambda pid: ["strace", "-q", "-o", "/dev/null", "-p", str(pid)], "strace")


def case_strace_thread(tool, python):
    if not shutil.which("strace"):
        raise Skip("strace not installed")
    with safety.SafetyTarget(python, threads=3) as target:
        tids = sorted(int(t) for t in os.listdir("/proc/%d/task" % target.pid))
        tid = tids[-1]                       # a thread, not the leader
        tracer = subprocess.Popen(["strace", "-q", "-o", "/dev/null", "-p", str(tid)],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            if not common.poll_until(lambda: read_tracer(target.pid, tid) == tracer.pid, 20):
                raise Skip("strace did not attach to thread %d" % tid)
            res = common.run_tool(tool, ["--json", target.pid])
            fails = check_rc(res.rc, res.stderr.decode("utf-8", "replace"), safety.EXIT_TRACED,
                             ["already traced"])
            # The threads seized before that one were all let go.
            for t in tids:
                if t != tid and read_tracer(target.pid, t) not in (0, None):
                    fails.append("thread %d still traced by %s" % (t, read_tracer(target.pid, t)))
        finally:
            common.kill_process(tracer, signal.SIGTERM, timeout=30)
        ok, detail = target.healthy()
        if not ok:
            fails.append(detail)
        return fails


def read_tracer(pid, tid):
    try:
        with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def case_permission(tool, python):
    if os.geteuid() != 0:
        raise Skip("needs root (to create a user and own the target)")
    useradd, setpriv = shutil.which("useradd"), shutil.which("setpriv")
    userdel = shutil.which("userdel")
    if not useradd or not setpriv:
        raise Skip("useradd or setpriv missing")
    name = "pyheap-safety-%d" % os.getpid()
    r = subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise Skip("useradd failed: %s" % r.stdout.decode("utf-8", "replace").strip())
    fails = []
    tmp = tempfile.mkdtemp(prefix="pyheap-perm-")
    try:
        pw = pwd.getpwnam(name)
        # A copy of the tool the user can run, wherever the build tree is.
        copy = os.path.join(tmp, "pyheap-attach")
        shutil.copy(tool, copy)
        os.chmod(tmp, 0o755)
        os.chmod(copy, 0o755)
        as_user = [setpriv, "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                   "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"]
        env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "XDG_CACHE_HOME": tmp}
        with safety.SafetyTarget(python, threads=1) as target:
            res = common.run_tool(as_user[0], as_user[1:] + [copy, "--json", target.pid], env=env)
            err = res.stderr.decode("utf-8", "replace")
            fails += check_rc(res.rc, err, safety.EXIT_PERMISSION, [])
            if not any(w in err for w in ("CAP_SYS_PTRACE", "sudo", "root")):
                fails.append("the permission error does not say what to do: %s" % err.strip())
            log("    as %s against root's pid %d: exit %s: %s" % (
                name, target.pid, res.rc, safety.message(err)))
            ok, detail = target.healthy()
            if not ok:
                fails.append(detail)
        # The same user against its own process works (no Yama here, or
        # ptrace_scope 0), unless Yama forbids it: then the message says so.
        # (An interpreter the user can run: pyenv's live under /root.)
        own_python = python if os.access(python, os.X_OK) and not python.startswith("/root/") \
            else common.find_interpreter(common.DEBIAN_LABEL)
        if not own_python:
            return fails
        own = subprocess.Popen(as_user + [own_python, "-I", "-S", "-c", common.IDLE_CODE],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        try:
            if own.stdout.readline().strip() != b"ready":
                fails.append("the user's own target did not start")
            else:
                res = common.run_tool(as_user[0], as_user[1:] + [copy, "--json", own.pid],
                                      env=env)
                err = res.stderr.decode("utf-8", "replace")
                scope = read_int("/proc/sys/kernel/yama/ptrace_scope")
                if scope in (None, 0):
                    fails += check_rc(res.rc, err, 0, [])
                else:
                    fails += check_rc(res.rc, err, safety.EXIT_PERMISSION, ["ptrace_scope"])
                log("    as %s against its own pid %d: exit %s" % (name, own.pid, res.rc))
        finally:
            own.stdin.close()
            common.kill_process(own)
    finally:
        subprocess.run([userdel, name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    return fails


def read_int(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def wait_state(pid, states, timeout=5.0):
    return common.poll_until(lambda: common.proc_state(pid) in states, timeout)


def case_stopped(tool, python):
    fails = []
    with safety.SafetyTarget(python, threads=2) as target:
        os.kill(target.pid, signal.SIGSTOP)
        if not wait_state(target.pid, ("T",)):
            raise Skip("target did not stop (state %r)" % target.state())
        for n in range(3):
            res = common.run_tool(tool, ["--json", target.pid])
            if res.rc != 0:
                fails.append("run %d: %s: %s" % (n + 1, res.describe(), res.stderr_excerpt(300)))
            # Left in its group-stop: T, not t (ptrace stop), not running.
            time.sleep(0.05)  # ok: lets a wrong detach show (a t or R state); not a readiness wait
            states = set(common.proc_state(target.pid) for _ in range(3))
            tstates = set(task_states(target.pid))
            if states != {"T"} or tstates != {"T"}:
                fails.append("run %d: state after the run %s, threads %s (want T)" % (
                    n + 1, sorted(states), sorted(tstates)))
            if common.tracer_pid(target.pid):
                fails.append("run %d: still traced" % (n + 1))
        os.kill(target.pid, signal.SIGCONT)
        ok, detail = target.healthy()
        if not ok:
            fails.append("after SIGCONT: " + detail)
    return fails


def task_states(pid):
    out = []
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, t)) as f:
                out.append(f.read().rsplit(")", 1)[1].split()[0])
        except OSError:
            pass
    return out


def case_stop_taken(ftool, python, fig):
    fails = []
    with safety.SafetyTarget(python, threads=2) as target:
        for n in range(3):
            proc = safety.run_tool_async([ftool, "--json", str(target.pid)],
                                         env=safety.fault_env("seized:1:stop-target"))
            rc, _, err = safety.finish(proc)
            fig.add("runs")
            if safety.injected(err):
                fig.add("faults_injected")
            if rc != 0:
                fails.append("run %d: %s: %s" % (n + 1, safety.describe_rc(rc), err[-300:]))
            if not wait_state(target.pid, ("T",), 2.0):
                fails.append("run %d: the SIGSTOP was lost: state %r" % (n + 1, target.state()))
            os.kill(target.pid, signal.SIGCONT)
            ok, detail = target.healthy()
            if not ok:
                fails.append("run %d: %s" % (n + 1, detail))
    return fails


def case_stop_race(tool, python, runs, rng, fig):
    fails = []
    with safety.SafetyTarget(python, threads=2) as target:
        normal = safety.calibrate(tool, target.pid, runs=3)
        if normal is None:
            return ["a normal run failed"]
        for n in range(runs):
            delay = rng.uniform(0.0, normal)
            proc = safety.run_tool_async([tool, "--json", str(target.pid)])
            time.sleep(delay)  # fault injection: a SIGSTOP at a random point of the run
            os.kill(target.pid, signal.SIGSTOP)
            rc, _, err = safety.finish(proc)
            fig.add("runs")
            fig.add("faults_injected")
            run_fails = []
            if rc != 0:
                run_fails.append("%s: %s" % (safety.describe_rc(rc), err.strip()[-300:]))
            # The SIGSTOP must take effect: neither lost nor left as a ptrace stop.
            if not wait_state(target.pid, ("T",), 5.0):
                run_fails.append("SIGSTOP lost: state %r" % target.state())
            os.kill(target.pid, signal.SIGCONT)
            ok, detail = target.healthy()
            if not ok:
                if common.is_stopped_state(target.state() or ""):
                    fig.add("left_stopped")
                run_fails.append(detail)
            log("    stop-race %2d: SIGSTOP after %4.1f ms -> %s%s" % (
                n + 1, delay * 1000, safety.describe_rc(rc), "   FAIL" if run_fails else ""))
            fails += ["run %d: %s" % (n + 1, f) for f in run_fails]
            if not target.alive():
                break
    return fails


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--fault-tool", required=True)
    ap.add_argument("--python", required=True, metavar="LABEL")
    ap.add_argument("--stop-races", type=int, default=10)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    python = safety.pick_python(args.python)
    tool = common.require_tool(args.tool)
    ftool = common.require_tool(args.fault_tool)
    seed = safety.seed_from(args)
    rng = random.Random(seed)
    fig = safety.Figures("tracers-" + args.python)
    log("tracers test: %s (%s), seed %d" % (args.python, python, seed))
    cases = [
        ("gdb", lambda: case_gdb(tool, python)),
        ("strace", lambda: case_strace(tool, python)),
        ("strace-thread", lambda: case_strace_thread(tool, python)),
        ("permission", lambda: case_permission(tool, python)),
        ("stopped", lambda: case_stopped(tool, python)),
        ("stop-taken", lambda: case_stop_taken(ftool, python, fig)),
        ("stop-race", lambda: case_stop_race(tool, python, args.stop_races, rng, fig)),
    ]
    failed = ran = 0
    for name, fn in cases:
        try:
            fails = fn()
        except Skip as e:
            log("SKIP %-14s %s" % (name, e))
            continue
        except common.TargetError as e:
            fails = [str(e)]
        ran += 1
        if fails:
            failed += 1
            log("FAIL %s" % name)
            for f in fails:
                log("     " + f)
        else:
            log("PASS %s" % name)
    fig.add("failures", failed)
    fig.emit()
    if failed:
        log("RESULT: FAIL (seed %d)" % seed)
        return common.EXIT_FAIL
    if not ran:
        return common.EXIT_SKIP
    log("RESULT: PASS")
    return common.EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
