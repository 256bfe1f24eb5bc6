#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: error exits of the tool.

usage: errors.py --tool PATH
Sub-cases (one line each, PASS/FAIL/SKIP):
  a  PID that does not exist           -> exit 3, "no such process"
  b  `sleep 1000`                      -> exit 6, "not a Python process"
  c  Python target already traced      -> exit 5, "already traced"
  d  Python 3.7 target                 -> exit 7, "unsupported"
  e  stripped 3.11 interpreter + lib,
     read with the 3.10 table forced    -> exit 8, "layout check failed"
     (without --layout it now works from the built-in tables: see
     stripped.py; a wrong table must be refused, not give garbage)
After each sub-case with a target, the target must still run (state not
t/T) and answer ping.
exit: 0 all ran sub-cases pass, 1 any failure, 77 every sub-case skipped.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

EXIT_NO_SUCH_PROCESS = 3
EXIT_ALREADY_TRACED = 5
EXIT_NOT_PYTHON = 6
EXIT_UNSUPPORTED = 7
EXIT_NO_DEBUG_INFO = 8


class Skip(Exception):
    pass


def check_result(res, rc, words):
    """Failure messages for a tool result expected to exit `rc` with `words`
    in stderr (case-insensitive)."""
    fails = []
    if res.timed_out:
        fails.append("tool timed out")
    elif res.rc != rc:
        fails.append("exit %s, expected %d" % (res.rc, rc))
    err = res.stderr.decode("utf-8", "replace")
    if words.lower() not in err.lower():
        fails.append("stderr lacks %r" % words)
    if fails and err.strip():
        fails.append("stderr was: " + err.strip()[:500])
    return fails


def any_python():
    for label in (common.DEBIAN_LABEL,) + tuple(reversed(common.PYENV_LABELS)):
        p = common.find_interpreter(label)
        if p:
            return p
    return None


# ---------------------------------------------------------------------------

def case_a(tool):
    pid = common.free_pid()
    res = common.run_tool(tool, ["--json", pid])
    return "pid %d" % pid, check_result(res, EXIT_NO_SUCH_PROCESS, "no such process")


def case_b(tool):
    sleeper = subprocess.Popen(["sleep", "1000"], stdin=subprocess.DEVNULL)
    try:
        # Once it sleeps: Popen returns when the exec began, and a process
        # still in its exec is "a process that started another program"
        # (dying.py tests that), not this case.
        def asleep():
            try:
                with open("/proc/%d/syscall" % sleeper.pid) as f:
                    return f.read().split()[0] in ("35", "230")  # (clock_)nanosleep
            except (OSError, IndexError):
                return False
        common.poll_until(asleep, 10, interval=0.001)
        res = common.run_tool(tool, ["--json", sleeper.pid])
        fails = check_result(res, EXIT_NOT_PYTHON, "not a Python process")
        ok, state = common.state_not_stopped(sleeper.pid)
        if sleeper.poll() is not None:
            fails.append("sleep exited (status %s)" % sleeper.returncode)
        elif not ok:
            fails.append("sleep left stopped: state %r" % state)
        return "sleep pid %d" % sleeper.pid, fails
    finally:
        common.kill_process(sleeper)


def case_c(tool):
    strace = shutil.which("strace")
    if not strace:
        raise Skip("strace not installed")
    python = any_python()
    if not python:
        raise Skip("no Python interpreter")
    fails = []
    with common.Target.idle(python) as target:
        tracer = subprocess.Popen([strace, "-p", str(target.pid), "-o", os.devnull],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            if not common.poll_until(lambda: common.tracer_pid(target.pid), 10.0):
                return "setup", ["strace did not attach within 10 s (TracerPid still 0)"]
            res = common.run_tool(tool, ["--json", target.pid])
            fails += check_result(res, EXIT_ALREADY_TRACED, "already traced")
            if common.tracer_pid(target.pid) != tracer.pid:
                fails.append("TracerPid changed to %s while strace (%d) was attached"
                             % (common.tracer_pid(target.pid), tracer.pid))
        finally:
            common.kill_process(tracer)
        if not common.poll_until(lambda: common.tracer_pid(target.pid) == 0, 10.0):
            fails.append("target still traced after strace exited")
        ok, detail = target.check_healthy()
        if not ok:
            fails.append(detail)
        return "%s pid %d traced by strace" % (python, target.pid), fails


def case_d(tool):
    python = common.find_interpreter("3.7")
    if not python:
        raise Skip("no pyenv 3.7 interpreter")
    with common.Target.idle(python) as target:
        res = common.run_tool(tool, ["--json", target.pid])
        fails = check_result(res, EXIT_UNSUPPORTED, "unsupported")
        ok, detail = target.check_healthy()
        if not ok:
            fails.append(detail)
        return "%s pid %d" % (python, target.pid), fails


def case_e(tool):
    prefix = common.pyenv_prefix("3.11")
    if not prefix:
        raise Skip("no pyenv 3.11 build")
    strip = shutil.which("strip")
    if not strip:
        raise Skip("strip not installed")
    exe = os.path.join(prefix, "bin", "python3.11")
    lib = os.path.join(prefix, "lib", "libpython3.11.so.1.0")
    if not os.path.isfile(lib):
        raise Skip("%s is not a shared-library build" % prefix)
    tmp = tempfile.mkdtemp(prefix="pyheap-stripped-")
    try:
        os.mkdir(os.path.join(tmp, "bin"))
        os.mkdir(os.path.join(tmp, "lib"))
        os.mkdir(os.path.join(tmp, "cache"))          # empty XDG_CACHE_HOME
        exe_copy = os.path.join(tmp, "bin", "python3.11")
        lib_copy = os.path.join(tmp, "lib", "libpython3.11.so.1.0")
        shutil.copy2(exe, exe_copy)
        shutil.copy2(lib, lib_copy)
        for path in (exe_copy, lib_copy):
            p = subprocess.run([strip, "--strip-all", path], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=120)
            if p.returncode != 0:
                return "setup", ["strip failed on %s: %s" % (path, p.stdout.decode()[:300])]

        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = os.path.join(tmp, "lib")
        env["PYTHONHOME"] = prefix
        with common.Target.idle(exe_copy, env=env) as target:
            fails = []
            with open("/proc/%d/maps" % target.pid) as f:
                maps = f.read()
            if lib_copy not in maps:
                return "setup", ["the stripped copy of libpython is not mapped in pid %d "
                                 "(loader picked another library)" % target.pid]
            tool_env = dict(os.environ)
            tool_env["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")
            # no network lookups of debug info for a private build
            tool_env["DEBUGINFOD_URLS"] = ""
            res = common.run_tool(tool, ["--json", "--layout", "3.10", target.pid], env=tool_env)
            fails += check_result(res, EXIT_NO_DEBUG_INFO, "layout check failed")
            ok, detail = target.check_healthy()
            if not ok:
                fails.append(detail)
            return "stripped copy of %s, pid %d" % (prefix, target.pid), fails
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


CASES = (
    ("a", "nonexistent pid -> 3", case_a),
    ("b", "sleep 1000 -> 6", case_b),
    ("c", "already traced -> 5", case_c),
    ("d", "Python 3.7 -> 7", case_d),
    ("e", "stripped interpreter, wrong table -> 8", case_e),
)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--only", default="", help="run only these sub-cases, e.g. 'ac'")
    args = ap.parse_args()
    tool = common.require_tool(args.tool)

    failed = ran = 0
    for key, title, fn in CASES:
        if args.only and key not in args.only:
            continue
        try:
            what, fails = fn(tool)
        except Skip as e:
            common.log("SKIP (%s) %s: %s" % (key, title, e))
            continue
        except common.TargetError as e:
            what, fails = "target", [str(e)]
        ran += 1
        if fails:
            failed += 1
            common.log("FAIL (%s) %s [%s]" % (key, title, what))
            for f in fails:
                common.log("      " + f)
        else:
            common.log("PASS (%s) %s [%s]" % (key, title, what))
    if failed:
        common.log("RESULT: FAIL (%d of %d sub-cases)" % (failed, ran))
        return common.EXIT_FAIL
    if not ran:
        common.log("RESULT: SKIP (no sub-case could run)")
        return common.EXIT_SKIP
    common.log("RESULT: PASS (%d sub-cases)" % ran)
    return common.EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
