#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Benchmark of pyheap-attach: pause vs. the copy limit vs. in-process tools.

    python3 tests/bench/bench.py [--sizes 100000,1000000,3000000] [--python PATH]
                                 [--reps 3] [--build DIR] [--tool PATH]
                                 [--copylimit PATH] [--json FILE] [--profile]

For each size N it starts a target (tests/bench/target.py, standard library
only) holding about N live objects, waits for its "ready" line on a pipe, then,
on that same target, alternates --reps runs of

  * `pyheap-attach --stats --json PID` (pause and phase times from --stats,
    whole-run wall time from spawn to exit, peak RSS from wait4's rusage), and
  * `copylimit PID` (tests/bench/copylimit.c: the same ptrace stop, then one
    pass of process_vm_readv over all writable anonymous mappings and [heap]),
    and `copylimit --keep --threads 1|2 PID` timed from spawn to exit (a
    reader that only copies the target's memory into its own and exits: what
    any copying reader takes at least, before it has found one object),

takes medians, and finally asks the target to time the in-process baseline
(gc.get_objects() closed under gc.get_referents(), sys.getsizeof per object,
grouped by type) and hpy().heap() when guppy is importable.  It prints a
table, the phase breakdown, the goal checks of issue 3 and the machine.
With --profile, one more (unmeasured) tool run per size is recorded with
`perf record` and the hottest functions are printed.

Not part of `meson test`; exit status 0 when every measurement was made
(whatever the goal checks say), 1 on a measurement error.  Needs ptrace
rights over its own children (root, or kernel.yama.ptrace_scope <= 1).
See tests/bench/README.md for the meaning of each column.
"""

import argparse
import json
import os
import platform
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TARGET = os.path.join(HERE, "target.py")
DEFAULT_PYTHON = "/root/.pyenv/versions/3.11.7/bin/python3.11"
DEFAULT_SIZES = "100000,1000000,3000000"

# Goals of issue 3.
GOAL_PAUSE_COPY_RATIO = 3.0       # pause <= 3x copy limit (at 1M)
GOAL_PAUSE_MS_1M = 250.0          # pause < 250 ms (at 1M)
GOAL_WHOLE_MS_PER_M = 1000.0      # whole run <= 1 s per million objects
GOAL_SPEEDUP = 10.0               # >= 10x faster than in-process
NOISY = 1.5                       # max/min across reps above this: flagged as noisy
FLAT_STEP = 1.25                  # per-object cost may grow at most 25% per size step

STATS_RE = re.compile(
    r"stats: symbols (?P<symbols>[\d.]+) ms, (?:reserve (?P<reserve>[\d.]+) ms, )?"
    r"stop (?P<stop>[\d.]+) ms, "
    r"read (?P<read>[\d.]+) ms, resume (?P<resume>[\d.]+) ms, "
    r"(?:walk (?P<walk>[\d.]+) ms, )?"
    r"analysis (?P<analysis>[\d.]+) ms; pause (?P<pause>[\d.]+) ms; "
    r"read (?P<bytes>\d+) bytes in (?P<calls>\d+) calls \((?P<blocks>\d+) blocks[^)]*\); "
    r"(?P<objects>\d+) objects, (?P<edges>\d+) edges, (?P<types>\d+) types")
COPY_RE = re.compile(r"(\w+) ([\d.]+)")


class BenchError(Exception):
    pass


def log(msg=""):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# Target
# ---------------------------------------------------------------------------

class Target(object):
    """tests/bench/target.py N, spoken to over stdin/stdout lines."""

    def __init__(self, python, n, timeout, threads=0):
        self.tmp = tempfile.mkdtemp(prefix="pyheap-bench-")
        self.errpath = os.path.join(self.tmp, "target.stderr")
        self._err = open(self.errpath, "wb")
        self._buf = b""
        self.proc = subprocess.Popen([python, "-I", "-S", TARGET, str(n), str(threads)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._err, close_fds=True)
        self.pid = self.proc.pid
        word, info = self.reply(timeout)
        if word != "ready":
            raise BenchError("target: expected 'ready', got %r" % word)
        self.info = json.loads(info)

    def reply(self, timeout):
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError("target: no reply within %.0f s" % timeout)
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise BenchError("target exited (status %s): %s"
                                 % (self.proc.poll(), self.stderr_text()))
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        word, _, rest = line.decode("utf-8", "replace").partition(" ")
        return word, rest

    def ask(self, cmd, timeout, expect=None):
        self.proc.stdin.write(cmd.encode() + b"\n")
        self.proc.stdin.flush()
        word, rest = self.reply(timeout)
        if word != (expect or cmd):
            raise BenchError("target: %r -> %r %r" % (cmd, word, rest[:200]))
        return rest

    def stderr_text(self):
        self._err.flush()
        with open(self.errpath, "rb") as f:
            return f.read()[-2000:].decode("utf-8", "replace")

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"exit\n")
                self.proc.stdin.flush()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()          # our own child, by its pid
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self._err):
            try:
                f.close()
            except OSError:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# Running a measured child: wall time and peak RSS through wait4
# ---------------------------------------------------------------------------

def run_measured(argv, timeout):
    """(rc, stdout bytes, stderr bytes, wall ms, peak RSS bytes)."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                            close_fds=True)
    killed = []

    def kill():
        killed.append(True)
        try:
            os.kill(proc.pid, signal.SIGKILL)   # our own child, by its pid
        except OSError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        while True:
            try:
                _, status, ru = os.wait4(proc.pid, 0)
                break
            except InterruptedError:
                continue
    finally:
        timer.cancel()
    wall_ms = (time.monotonic() - t0) * 1000.0
    proc.returncode = os.waitstatus_to_exitcode(status) if hasattr(
        os, "waitstatus_to_exitcode") else (status >> 8)
    out.seek(0)
    err.seek(0)
    o, e = out.read(), err.read()
    out.close()
    err.close()
    if killed:
        raise BenchError("%s timed out after %.0f s" % (" ".join(argv), timeout))
    return proc.returncode, o, e, wall_ms, ru.ru_maxrss * 1024


def run_tool(tool, pid, timeout, extra=()):
    argv = [tool, "--stats", "--json", "--timeout", str(int(timeout * 1000))] + list(extra) + \
        [str(pid)]
    rc, out, err, wall_ms, maxrss = run_measured(argv, timeout + 30)
    text = err.decode("utf-8", "replace")
    if rc != 0:
        raise BenchError("%s -> exit %s: %s" % (" ".join(argv), rc, text[-1500:]))
    m = STATS_RE.search(text)
    if not m:
        raise BenchError("no 'stats:' line in the tool's stderr: %r" % text[-500:])
    stats = {k: float(v or 0) for k, v in m.groupdict().items()}
    doc = json.loads(out.decode("utf-8"))
    return {"wall_ms": wall_ms, "maxrss": maxrss, "stats": stats,
            "objects": doc.get("objects"), "size": doc.get("size"),
            "rss": doc.get("rss"), "pause_ms": doc.get("pause_ms"),
            "truncated": doc.get("truncated"), "unreadable": doc.get("unreadable")}


def profile_tool(tool, pid, timeout, top=12):
    """[(percent, symbol)] of the hottest functions (self time) of one tool run."""
    tmp = tempfile.mkdtemp(prefix="pyheap-perf-")
    data = os.path.join(tmp, "perf.data")
    try:
        rc, _, err, _, _ = run_measured(
            ["perf", "record", "-q", "-F", "4000", "-o", data, "--", tool, "--json",
             "--timeout", str(int(timeout * 1000)), str(pid)], timeout + 30)
        if rc != 0:
            return [(0.0, "perf record failed: %s" % err.decode("utf-8", "replace")[-300:])]
        rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                              "--sort", "dso,symbol", "--percent-limit", "0.5"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             timeout=120).stdout.decode("utf-8", "replace")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = []
    for line in rep.splitlines():
        m = re.match(r"^\s+([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*?)\s*$", line)
        if m:
            sym = re.sub(r"(\s+-)+$", "", m.group(4))   # empty IPC columns
            rows.append((float(m.group(1)), "%s (%s)" % (sym, m.group(2))))
    return rows[:top]


def run_copylimit(copylimit, pid, timeout):
    rc, out, err, _, _ = run_measured([copylimit, str(pid)], timeout)
    if rc != 0:
        raise BenchError("copylimit %d -> exit %s: %s"
                         % (pid, rc, err.decode("utf-8", "replace")[-500:]))
    line = out.decode().strip()
    vals = {}
    toks = line.split()
    # "copylimit: pid P threads T mappings M bytes B ... stop S ms copy X ms ..."
    for i in range(1, len(toks) - 1):
        if re.match(r"^[a-z]+$", toks[i]) and re.match(r"^[\d.]+$", toks[i + 1]):
            vals[toks[i]] = float(toks[i + 1])
    for k in ("bytes", "copy", "pause", "stop"):
        if k not in vals:
            raise BenchError("cannot parse copylimit output: %r" % line)
    return vals


def run_floor(copylimit, pid, timeout, threads):
    """Spawn-to-exit ms of `copylimit --keep --threads T PID`: a reader that only
    stops the target, copies its memory into its own and exits."""
    argv = [copylimit, "--keep", "--threads", str(threads), str(pid)]
    rc, _, err, wall_ms, _ = run_measured(argv, timeout)
    if rc != 0:
        raise BenchError("%s -> exit %s: %s"
                         % (" ".join(argv), rc, err.decode("utf-8", "replace")[-500:]))
    return wall_ms


# ---------------------------------------------------------------------------
# Machine
# ---------------------------------------------------------------------------

def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        ncpu = len(os.sched_getaffinity(0))
    except AttributeError:
        ncpu = os.cpu_count()
    rev = "?"
    try:
        rev = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             timeout=10).stdout.decode().strip() or "?"
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        load = "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        load = "?"
    return {"nproc": ncpu, "cpu": cpu, "kernel": platform.release(), "mem": mem,
            "load": load,
            "git": rev, "date": time.strftime("%Y-%m-%d %H:%M %Z")}


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------

def mib(b):
    return "%.1f MiB" % (b / 1048576.0) if b is not None else "n/a"


def fmt_ms(v):
    if v is None:
        return "n/a"
    return "%.1f" % v if v < 1000 else "%.0f" % v


def table(headers, rows):
    w = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(str(h).rjust(w[i]) for i, h in enumerate(headers)),
             "  ".join("-" * x for x in w)]
    for r in rows:
        lines.append("  ".join(str(c).rjust(w[i]) for i, c in enumerate(r)))
    return "\n".join(lines)


def median(xs):
    return statistics.median(xs)


# ---------------------------------------------------------------------------
# One size
# ---------------------------------------------------------------------------

def bench_size(args, n):
    scale = max(1.0, n / 1e6)
    log("== %d objects: starting the target" % n)
    t = Target(args.python, n, timeout=60 + 60 * scale, threads=args.threads)
    try:
        res = {"n": n, "built": t.info["built"], "build_ms": t.info["build_ms"],
               "python": t.info["python"], "pid": t.pid}
        res["target_rss"] = int(t.ask("rss", 30))
        tool_runs, copy_runs, floor_runs = [], [], {1: [], 2: []}
        for r in range(args.reps):
            tool_runs.append(run_tool(args.tool, t.pid, timeout=60 + 120 * scale))
            copy_runs.append(run_copylimit(args.copylimit, t.pid, timeout=60 + 30 * scale))
            for threads in (1, 2):
                floor_runs[threads].append(run_floor(args.copylimit, t.pid,
                                                     60 + 30 * scale, threads))
            log("   rep %d: tool pause %.1f ms, whole %.1f ms, peak RSS %s; copy %.1f ms; "
                "copy-only reader %.1f / %.1f ms (1 / 2 threads)"
                % (r + 1, tool_runs[-1]["stats"]["pause"], tool_runs[-1]["wall_ms"],
                   mib(tool_runs[-1]["maxrss"]), copy_runs[-1]["copy"],
                   floor_runs[1][-1], floor_runs[2][-1]))
        res["tool_runs"] = tool_runs
        res["floor_runs"] = floor_runs
        budget_runs = []
        if args.budget:
            # The live walk within a memory budget (--max-copy): what the tool
            # does for a heap larger than the budget.
            extra = ["--read", "live", "--max-copy", str(args.budget)]
            for r in range(min(args.reps, 3)):
                budget_runs.append(run_tool(args.tool, t.pid, timeout=60 + 120 * scale,
                                            extra=extra))
                log("   budget %d MiB, rep %d: pause %.1f ms, whole %.1f ms, peak RSS %s"
                    % (args.budget, r + 1, budget_runs[-1]["stats"]["pause"],
                       budget_runs[-1]["wall_ms"], mib(budget_runs[-1]["maxrss"])))
        res["budget_runs"] = budget_runs
        if args.profile:
            res["profile"] = profile_tool(args.tool, t.pid, timeout=60 + 120 * scale)
        res["copy_runs"] = copy_runs
        t.ask("ping", 30, expect="pong")   # the target runs again after the tool
        # Repeated like the tool: one run of it moves by a quarter or more.
        base_runs = []
        for r in range(args.baseline_reps):
            log("   in-process baseline, rep %d ..." % (r + 1))
            base_runs.append(json.loads(t.ask("baseline", 120 + 120 * scale)))
            log("   in-process baseline: %.0f ms, %d objects"
                % (base_runs[-1]["ms"], base_runs[-1]["objects"]))
        res["baseline_runs"] = [b["ms"] for b in base_runs]
        res["baseline"] = dict(base_runs[0], ms=median(res["baseline_runs"]))
        if args.no_guppy:
            res["guppy"] = {"ms": None, "why": "--no-guppy"}
        else:
            cmd = "guppy " + args.guppy_path if args.guppy_path else "guppy"
            res["guppy"] = json.loads(t.ask(cmd, 300 + 300 * scale, expect="guppy"))
    finally:
        t.close()

    try:
        res["load_after"] = "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        res["load_after"] = "?"
    st = lambda k: median([x["stats"][k] for x in tool_runs])
    res["pause_ms"] = st("pause")
    res["phases"] = {k: st(k) for k in ("symbols", "reserve", "stop", "read", "resume", "walk",
                                        "analysis")}
    res["bytes_read"] = int(st("bytes"))
    res["calls"] = int(st("calls"))
    res["blocks"] = int(st("blocks"))
    res["edges"] = int(st("edges"))
    res["whole_ms"] = median([x["wall_ms"] for x in tool_runs])
    res["tool_maxrss"] = int(median([x["maxrss"] for x in tool_runs]))
    res["tool_objects"] = tool_runs[-1]["objects"]
    res["tool_size"] = tool_runs[-1]["size"]
    res["truncated"] = any(x["truncated"] for x in tool_runs)
    res["copy_ms"] = median([c["copy"] for c in copy_runs])
    res["copy_pause_ms"] = median([c["pause"] for c in copy_runs])
    res["copy_bytes"] = int(median([c["bytes"] for c in copy_runs]))
    # The faster of the copy-only readers (one thread, two), median of each.
    res["floor_ms"], res["floor_threads"] = min(
        (median(floor_runs[k]), k) for k in (1, 2))
    res["heap"] = res["baseline"]["size"]
    res["objects"] = res["baseline"]["objects"]
    res["ratio"] = res["pause_ms"] / res["copy_ms"] if res["copy_ms"] > 0 else None
    res["speedup"] = res["baseline"]["ms"] / res["whole_ms"]
    res["pause_ns_obj"] = res["pause_ms"] * 1e6 / res["objects"]
    res["whole_ns_obj"] = res["whole_ms"] * 1e6 / res["objects"]
    res["rss_b_obj"] = res["tool_maxrss"] / float(res["objects"])
    if budget_runs:
        b = res["budget"] = {}
        b["pause_ms"] = median([x["stats"]["pause"] for x in budget_runs])
        b["whole_ms"] = median([x["wall_ms"] for x in budget_runs])
        b["maxrss"] = int(median([x["maxrss"] for x in budget_runs]))
        b["objects"] = budget_runs[-1]["objects"]
        b["size"] = budget_runs[-1]["size"]
        b["bytes_read"] = int(median([x["stats"]["bytes"] for x in budget_runs]))
        b["calls"] = int(median([x["stats"]["calls"] for x in budget_runs]))
        b["speedup"] = res["baseline"]["ms"] / b["whole_ms"]
        b["rss_b_obj"] = b["maxrss"] / float(res["objects"])
    return res


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def report(results, mach, args):
    out = []
    p = out.append
    p("pyheap-attach benchmark (issue 3)   tool %s   python %s (%s)%s"
      % (mach["git"], results[0]["python"], args.python,
         "   targets with %d idle threads" % args.threads if args.threads else ""))
    p("")
    rows = []
    for r in results:
        rows.append([r["objects"], fmt_ms(r["pause_ms"]), fmt_ms(r["copy_ms"]),
                     "%.1fx" % r["ratio"] if r["ratio"] else "n/a",
                     fmt_ms(r["whole_ms"]), fmt_ms(r["floor_ms"]), fmt_ms(r["baseline"]["ms"]),
                     fmt_ms(r["guppy"]["ms"]) if r["guppy"].get("ms") is not None else "n/a",
                     "%.1fx" % r["speedup"], mib(r["tool_maxrss"]), mib(r["heap"]),
                     mib(r["target_rss"]), "%.0f" % r["pause_ns_obj"],
                     "%.0f" % r["whole_ns_obj"]])
    p(table(["objects", "pause ms", "copy-limit ms", "pause/copy", "whole-run ms",
             "copy-only ms", "in-process ms", "hpy ms", "speed-up", "tool peak RSS", "target heap",
             "target RSS", "pause ns/obj", "whole ns/obj"], rows))
    p("")
    p("Where the tool's time goes (medians of %d runs, from --stats):" % args.reps)
    rows = []
    for r in results:
        ph = r["phases"]
        rows.append([r["objects"], fmt_ms(ph["symbols"]), fmt_ms(ph["reserve"]), fmt_ms(ph["stop"]),
                     fmt_ms(ph["read"]), fmt_ms(ph["resume"]), fmt_ms(ph["walk"]), fmt_ms(ph["analysis"]),
                     mib(r["bytes_read"]), r["calls"], r["blocks"],
                     mib(r["copy_bytes"]),
                     "%.2f" % (r["bytes_read"] / 1e6 / ph["read"]) if ph["read"] else "n/a",
                     "%.2f" % (r["copy_bytes"] / 1e6 / r["copy_ms"]) if r["copy_ms"] else "n/a",
                     r["tool_objects"], r["edges"]])
    p(table(["objects", "symbols", "reserve", "stop", "read", "resume", "walk", "analysis", "bytes read",
             "calls", "blocks", "copy bytes", "read GB/s", "copy GB/s", "tool objects",
             "edges"], rows))
    if any("budget" in r for r in results):
        p("")
        p("Within a memory budget (--read live --max-copy %d: the walk while stopped, holding at "
          "most %d MiB of the target's memory; what the tool does when the heap is larger "
          "than --max-copy; medians of %d runs):" % (args.budget, args.budget, min(args.reps, 3)))
        rows = []
        for r in results:
            b = r["budget"]
            rows.append([r["objects"], fmt_ms(b["pause_ms"]), fmt_ms(b["whole_ms"]),
                         "%.1fx" % b["speedup"], mib(b["maxrss"]), mib(r["heap"]),
                         "%.2f" % (b["maxrss"] / float(r["heap"])), mib(b["bytes_read"]),
                         b["calls"], b["objects"], r["tool_objects"]])
        p(table(["objects", "pause ms", "whole-run ms", "speed-up", "tool peak RSS",
                 "target heap", "RSS/heap", "bytes read", "calls", "tool objects",
                 "(copy mode)"], rows))
    if any("profile" in r for r in results):
        for r in results:
            p("")
            p("perf profile at %d objects (self time, one extra run):" % r["objects"])
            for pct, sym in r.get("profile", []):
                p("  %5.1f%%  %s" % (pct, sym))
    notes = []
    for r in results:
        if r["truncated"]:
            notes.append("%d: the tool's result was TRUNCATED (--timeout)" % r["n"])
        d = r["tool_objects"] - r["objects"]
        if abs(d) > 0.02 * r["objects"]:
            notes.append("%d: tool counts %d objects, in-process %d (%+d; the tool also "
                         "follows dict keys and code/type fields, see the README)"
                         % (r["n"], r["tool_objects"], r["objects"], d))
        pauses = [x["stats"]["pause"] for x in r["tool_runs"]]
        copies = [c["copy"] for c in r["copy_runs"]]
        if len(pauses) > 1 and (
                (max(pauses) > NOISY * min(pauses) and max(pauses) - min(pauses) > 10) or
                (max(copies) > NOISY * min(copies) and max(copies) - min(copies) > 5)):
            notes.append("%d: NOISY, spread across reps: pause %.0f-%.0f ms, copy %.1f-%.1f ms "
                         "(load average after: %s); another process competes for the CPUs"
                         % (r["n"], min(pauses), max(pauses), min(copies), max(copies),
                            r["load_after"]))
        base = r.get("baseline_runs", [])
        if len(base) > 1:
            wholes = sorted(x["wall_ms"] for x in r["tool_runs"])
            notes.append("%d: in-process %s ms (median %.0f), tool whole run %.0f-%.0f ms: "
                         "speed-up %.1f-%.1fx across the reps"
                         % (r["n"], "/".join("%.0f" % b for b in base), r["baseline"]["ms"],
                            wholes[0], wholes[-1], min(base) / wholes[-1],
                            max(base) / wholes[0]))
        if r["guppy"].get("ms") is None and r is results[0]:
            notes.append("hpy().heap(): n/a (%s)" % r["guppy"].get("why", "?"))
        elif r["guppy"].get("ms") is not None:
            g = r["guppy"]
            notes.append("%d: hpy().heap() %.0f ms (%d objects, %s): the tool's whole run is "
                         "%.0fx faster" % (r["n"], g["ms"], g.get("objects", 0),
                                           mib(g.get("size", 0)), g["ms"] / r["whole_ms"]))
    if notes:
        p("")
        for n in notes:
            p("note: " + n)

    # Goal checks.
    p("")
    p("Goals (issue 3):")
    checks = []

    def check(ok, text):
        checks.append(ok)
        p("%s  %s" % ("PASS" if ok else "MISS", text))

    one = [r for r in results if r["n"] == 1000000]
    if one:
        r = one[0]
        check(r["ratio"] is not None and r["ratio"] <= GOAL_PAUSE_COPY_RATIO,
              "pause <= %.0fx copy limit at 1M: %.1f ms / %.1f ms = %.1fx"
              % (GOAL_PAUSE_COPY_RATIO, r["pause_ms"], r["copy_ms"], r["ratio"]))
        check(r["pause_ms"] < GOAL_PAUSE_MS_1M,
              "pause < %.0f ms at 1M: %.1f ms" % (GOAL_PAUSE_MS_1M, r["pause_ms"]))
    else:
        p("n/a   pause goals are stated at 1M objects; add 1000000 to --sizes")
    for r in results:
        limit = GOAL_WHOLE_MS_PER_M * r["objects"] / 1e6
        check(r["whole_ms"] <= limit,
              "whole run <= 1 s per million objects at %d: %.1f ms (limit %.1f ms)"
              % (r["objects"], r["whole_ms"], limit))
    for r in results:
        allowed = r["baseline"]["ms"] / GOAL_SPEEDUP
        check(r["speedup"] >= GOAL_SPEEDUP,
              ">= %.0fx faster than in-process at %d: %.0f ms / %.1f ms = %.1fx "
              "(it allows %.1f ms; a reader that only copies the target's memory and "
              "exits takes %.1f ms, %.0f%% of it)"
              % (GOAL_SPEEDUP, r["objects"], r["baseline"]["ms"], r["whole_ms"],
                 r["speedup"], allowed, r["floor_ms"], 100.0 * r["floor_ms"] / allowed))
    for r in results:
        check(r["tool_maxrss"] <= r["heap"],
              "tool peak RSS <= target heap at %d: %s vs %s"
              % (r["objects"], mib(r["tool_maxrss"]), mib(r["heap"])))
    for r in results:
        if "budget" in r:
            b = r["budget"]
            check(b["maxrss"] <= r["heap"],
                  "tool peak RSS <= target heap at %d within a budget (--read live --max-copy %d; "
                  "pause %.0f ms): %s vs %s"
                  % (r["objects"], args.budget, b["pause_ms"], mib(b["maxrss"]), mib(r["heap"])))
            check(b["objects"] == r["tool_objects"],
                  "the same objects within the budget at %d: %s vs %s (copy mode)"
                  % (r["objects"], b["objects"], r["tool_objects"]))
    if len(results) > 1:
        for key, what in (("pause_ns_obj", "pause ns/object"),
                          ("whole_ns_obj", "whole-run ns/object"),
                          ("rss_b_obj", "tool peak RSS bytes/object")):
            steps = []
            ok = True
            for a, b in zip(results, results[1:]):
                growth = b[key] / a[key] if a[key] else float("inf")
                steps.append("%.0f -> %.0f (x%.2f)" % (a[key], b[key], growth))
                ok = ok and growth <= FLAT_STEP
            check(ok, "flat %s (each size step <= x%.2f): %s"
                  % (what, FLAT_STEP, ", ".join(steps)))
        if all("budget" in r for r in results):
            steps = []
            ok = True
            for a, b in zip(results, results[1:]):
                growth = b["budget"]["rss_b_obj"] / a["budget"]["rss_b_obj"]
                steps.append("%.0f -> %.0f (x%.2f)" % (a["budget"]["rss_b_obj"],
                                                        b["budget"]["rss_b_obj"], growth))
                ok = ok and growth <= FLAT_STEP
            check(ok, "flat tool peak RSS bytes/object within the budget (each size step <= "
                  "x%.2f): %s" % (FLAT_STEP, ", ".join(steps)))
    p("%d of %d goal checks pass" % (sum(checks), len(checks)))
    p("")
    p("Machine: %d CPUs, %s, kernel %s, %.1f GiB RAM; load average at start %s; %s"
      % (mach["nproc"], mach["cpu"], mach["kernel"], mach["mem"] / 2.0 ** 30, mach["load"],
         mach["date"]))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(
        description="Benchmark pyheap-attach against the copy limit and in-process tools.")
    ap.add_argument("--sizes", default=DEFAULT_SIZES,
                    help="comma-separated object counts (default %s)" % DEFAULT_SIZES)
    ap.add_argument("--python", default=None,
                    help="target interpreter (default %s, else python3 on PATH)"
                    % DEFAULT_PYTHON)
    ap.add_argument("--reps", type=int, default=5,
                    help="tool and copylimit runs per size; medians are reported (default 5)")
    ap.add_argument("--baseline-reps", type=int, default=3,
                    help="in-process baseline runs per size; the median is reported (default 3)")
    ap.add_argument("--build", default=os.path.join(REPO, "build"),
                    help="meson build directory (default %(default)s)")
    ap.add_argument("--tool", default=None, help="pyheap-attach binary (default BUILD/cmd/...)")
    ap.add_argument("--copylimit", default=None,
                    help="copylimit binary (default BUILD/tests/copylimit)")
    ap.add_argument("--no-guppy", action="store_true", help="skip the hpy().heap() baseline")
    ap.add_argument("--guppy-path", metavar="DIR",
                    help="a directory holding the guppy package (guppy3 built for the targets' "
                         "interpreter), put first on the targets' sys.path")
    ap.add_argument("--threads", type=int, default=0,
                    help="idle threads in each target besides the main one (default 0)")
    ap.add_argument("--json", default=None, help="also write all measurements to this file")
    ap.add_argument("--budget", type=int, default=16, metavar="MIB",
                    help="also run the live walk within this memory budget (--read live "
                         "--max-copy MIB), up to 3 times per size; 0: not (default 16)")
    ap.add_argument("--profile", action="store_true",
                    help="one extra tool run per size under `perf record`; print hot functions")
    args = ap.parse_args()

    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        ap.error("--sizes: expected comma-separated integers")
    if not sizes or min(sizes) < 1000:
        ap.error("--sizes: each size must be >= 1000")
    if args.reps < 1 or args.baseline_reps < 1:
        ap.error("--reps and --baseline-reps must be >= 1")
    if args.profile and not shutil.which("perf"):
        ap.error("--profile needs perf (apt-get install linux-perf)")
    if args.python is None:
        args.python = DEFAULT_PYTHON if os.access(DEFAULT_PYTHON, os.X_OK) else \
            shutil.which("python3")
    if not args.python or not os.access(args.python, os.X_OK):
        ap.error("no usable --python")
    args.tool = args.tool or os.path.join(args.build, "cmd", "pyheap-attach")
    args.copylimit = args.copylimit or os.path.join(args.build, "tests", "copylimit")
    for what, path in (("pyheap-attach", args.tool), ("copylimit", args.copylimit)):
        if not os.access(path, os.X_OK):
            ap.error("%s not found at %s: build first (ninja -C %s)" % (what, path, args.build))

    mach = machine()
    results = []
    t0 = time.monotonic()
    try:
        for n in sizes:
            results.append(bench_size(args, n))
    except BenchError as e:
        log("bench: error: %s" % e)
        return 1
    log("== done in %.0f s" % (time.monotonic() - t0))
    text = report(results, mach, args)
    sys.stdout.write(text + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": mach, "python": args.python, "tool": args.tool,
                       "results": results, "report": text}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
