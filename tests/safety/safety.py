# SPDX-License-Identifier: MIT
"""Shared helpers of the safety tests (tests/safety/README.md).

Every test prints one line "FIGURES {json}" at the end (runs, faults
injected, targets left stopped, crashes, hangs...) that tests/safety/run-long
adds up for the README's Safety section.
exit: 0 pass, 1 fail, 77 skip.
"""
import json
import os
import shlex
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "live"))
import common  # noqa: E402,F401  (re-exported)

TARGET_SCRIPT = os.path.join(HERE, "target.py")
TOOL_TIMEOUT = 30.0 * (20 if os.environ.get("PYHEAP_TOOL_WRAPPER") else 1)
log = common.log

# Exit codes of pyheap-attach (README).
EXIT_OK, EXIT_OTHER, EXIT_USAGE, EXIT_NO_PROCESS, EXIT_PERMISSION, EXIT_TRACED = 0, 1, 2, 3, 4, 5
EXIT_NOT_PYTHON, EXIT_LAYOUT, EXIT_READ, EXIT_INTERRUPTED = 6, 8, 9, 130

# Signals a crash of the tool would end with (never acceptable).
CRASH_SIGNALS = (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGFPE, signal.SIGILL,
                 signal.SIGTRAP, signal.SIGSYS)


def describe_rc(rc):
    if rc is None:
        return "hung"
    if rc < 0:
        return "killed by %s" % signal.Signals(-rc).name
    return "exit %d" % rc


class SafetyTarget(common.Target):
    """tests/safety/target.py: "ready CHECKSUM", ping, check, exec, exit-in."""

    def __init__(self, python, threads=0, busy=0, objects=20000, name=None):
        argv = [python] + list(common.TARGET_FLAGS) + [
            TARGET_SCRIPT, "--threads", str(threads), "--busy", str(busy),
            "--objects", str(objects)]
        self.checksum = None
        super(SafetyTarget, self).__init__(
            argv, name=name or "safety target (%s)" % os.path.basename(python))

    # common.Target.__init__ expects exactly "ready": accept "ready SUM".
    def read_line(self, timeout):
        line = super(SafetyTarget, self).read_line(timeout)
        if line.startswith("ready "):
            self.checksum = line.split()[1]
            return "ready"
        return line

    def check(self, timeout=30):
        """(ok, detail, iterations, failures): the checksum of its data is
        unchanged and its consistency checks found nothing."""
        try:
            self.send("check")
            line = self.read_line(timeout)
        except common.TargetError as e:
            return False, str(e), 0, 0
        parts = line.split()
        if len(parts) != 4 or parts[0] != "ok":
            return False, "unexpected reply %r" % line, 0, 0
        it, fails = int(parts[2]), int(parts[3])
        if parts[1] != self.checksum:
            return False, "checksum of its data changed: %s -> %s" % (
                self.checksum, parts[1]), it, fails
        if fails:
            return False, "its consistency checks failed %d times" % fails, it, fails
        return True, "checksum unchanged", it, fails

    def healthy(self):
        """(ok, detail): running (not t/T), answers ping, data intact."""
        ok, detail = self.check_healthy()
        if not ok:
            return ok, detail
        ok, detail, _, _ = self.check()
        return ok, detail


class Figures(object):
    """What a test counts, printed as "FIGURES {json}"."""

    def __init__(self, test):
        self.d = {"test": test, "runs": 0, "faults_injected": 0, "left_stopped": 0,
                  "crashes": 0, "hangs": 0, "failures": 0}

    def add(self, key, n=1):
        self.d[key] = self.d.get(key, 0) + n

    def emit(self):
        log("FIGURES " + json.dumps(self.d, sort_keys=True))


def run_tool_async(argv, env=None):
    # Under $PYHEAP_TOOL_WRAPPER (e.g. valgrind) as common.run_tool() does.
    wrapper = os.environ.get("PYHEAP_TOOL_WRAPPER")
    if wrapper:
        argv = shlex.split(wrapper) + list(argv)
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)


def finish(proc, timeout=TOOL_TIMEOUT):
    """(rc or None if it hung (then killed), stdout, stderr)."""
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return None, out, err.decode("utf-8", "replace")


def calibrate(tool, pid, runs=5):
    """Seconds a normal `tool --json PID` run takes (median), or None (logged)."""
    times = []
    for _ in range(runs):
        t0 = time.monotonic()
        proc = run_tool_async([tool, "--json", str(pid)])
        rc, _, err = finish(proc)
        times.append(time.monotonic() - t0)
        if rc != 0:
            log("FAIL: a normal run: %s\n%s" % (describe_rc(rc), err[-1000:]))
            return None
    times.sort()
    log("a normal run takes %.1f ms" % (times[len(times) // 2] * 1000))
    return times[len(times) // 2]


def fault_env(spec=None, extra=None):
    env = dict(os.environ)
    env.pop("PYHEAP_FAULT", None)
    if spec:
        env["PYHEAP_FAULT"] = spec
    if extra:
        env.update(extra)
    return env


def injected(stderr):
    return "fault injected:" in stderr


def message(stderr):
    """The tool's own error line (not the fault-injection notice)."""
    lines = [l for l in stderr.splitlines()
             if l.startswith("pyheap-attach:") and "fault injected:" not in l]
    return lines[-1] if lines else ""


def seed_from(args):
    return args.seed if args.seed is not None else int(time.time() * 1000) & 0xffffffff


def pick_python(label):
    python = common.find_interpreter(label)
    if not python:
        log("SKIP: interpreter %s not found" % label)
        sys.exit(common.EXIT_SKIP)
    return python
