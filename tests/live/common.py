# SPDX-License-Identifier: MIT
"""Shared helpers for the pyheap-attach live tests (standard library only).

Conventions:
  exit 0 = pass, 1 = fail, 77 = skip (interpreter or prerequisite absent).
Readiness is always awaited with select() on the target's stdout pipe and a
deadline, never with fixed sleeps.
"""

import argparse
import glob
import json
import os
import re
import select
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_SKIP = 77

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TARGET_SCRIPT = os.path.join(REPO, "tests", "targets", "heap_target.py")

# Labels accepted by --python.  "3.X" -> newest pyenv build of 3.X.
PYENV_LABELS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
DEBIAN_LABEL = "debian-3.11"
DEBIAN_PYTHON = "/usr/bin/python3.11"
# Debian's debug build (python3.11-dbg: Py_DEBUG, pymalloc's debug hooks on,
# its own DWARF), a separate interpreter beside the stripped one.
DEBIAN_DEBUG_LABEL = "debian-3.11d"
DEBIAN_DEBUG_PYTHON = "/usr/bin/python3.11d"
ALL_LABELS = PYENV_LABELS + (DEBIAN_LABEL, DEBIAN_DEBUG_LABEL)

# Flags for the heap target: -I ignores PYTHON* variables and the user site,
# -S skips site.py so no .pth file of the machine changes the measured heap
# (or starts threads that would mutate it).
TARGET_FLAGS = ("-I", "-S")

READY_TIMEOUT = 60.0
PING_TIMEOUT = 10.0
TOOL_TIMEOUT = 60.0

# A minimal target (ping/pong over stdin/stdout) that runs on any Python.
IDLE_CODE = r"""
import sys
sys.stdout.write("ready\n")
sys.stdout.flush()
while True:
    line = sys.stdin.readline()
    if not line or line.strip() == "exit":
        break
    if line.strip() == "ping":
        sys.stdout.write("pong\n")
        sys.stdout.flush()
"""


def log(msg=""):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------------------
# Interpreters
# ---------------------------------------------------------------------------

def pyenv_root():
    root = os.environ.get("PYENV_ROOT")
    if root:
        return root
    exe = shutil.which("pyenv")
    if exe:
        try:
            out = subprocess.run([exe, "root"], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, timeout=20,
                                 check=True).stdout.decode().strip()
            if out:
                return out
        except (OSError, subprocess.SubprocessError):
            pass
    return os.path.expanduser("~/.pyenv")


def pyenv_builds(minor):
    """[(version tuple, prefix)] of plain pyenv builds of `minor` ("3.11"),
    newest first.  Free-threaded ("t") and dev builds are ignored."""
    pat = re.compile(r"^%s\.(\d+)$" % re.escape(minor))
    found = []
    for prefix in glob.glob(os.path.join(pyenv_root(), "versions", minor + ".*")):
        m = pat.match(os.path.basename(prefix))
        exe = os.path.join(prefix, "bin", "python" + minor)
        if m and os.path.isfile(exe) and os.access(exe, os.X_OK):
            found.append((int(m.group(1)), prefix))
    found.sort(reverse=True)
    return found


def find_interpreter(label):
    """Path of the interpreter for `label`, or None when absent.
    Labels: "3.6".."3.13" (pyenv builds), "debian-3.11" and "debian-3.11d"."""
    if label in (DEBIAN_LABEL, DEBIAN_DEBUG_LABEL):
        path = DEBIAN_PYTHON if label == DEBIAN_LABEL else DEBIAN_DEBUG_PYTHON
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
        return None
    if not re.match(r"^\d+\.\d+$", label):
        raise ValueError("unknown interpreter label %r (expected one of %s)"
                         % (label, ", ".join(ALL_LABELS)))
    builds = pyenv_builds(label)
    if not builds:
        return None
    return os.path.join(builds[0][1], "bin", "python" + label)


def pyenv_prefix(label):
    builds = pyenv_builds(label)
    return builds[0][1] if builds else None


def available_interpreters():
    """{label: path} for every label of ALL_LABELS that resolves."""
    out = {}
    for label in ALL_LABELS:
        path = find_interpreter(label)
        if path:
            out[label] = path
    return out


# ---------------------------------------------------------------------------
# Tool
# ---------------------------------------------------------------------------

def live_test_args(doc, extra=()):
    """The arguments every live test takes (--tool PATH --python LABEL, and
    @extra: (flag, kwargs) pairs): (args, tool, python); python is None, a
    SKIP logged, when the interpreter is absent."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--python", required=True, metavar="LABEL")
    for flag, kwargs in extra:
        ap.add_argument(flag, **kwargs)
    args = ap.parse_args()
    tool = require_tool(args.tool)
    python = find_interpreter(args.python)
    if not python:
        log("SKIP: interpreter %s not found" % args.python)
    return args, tool, python


def check_healthy(target, fails):
    """Logs PASS healthy, or adds the reason @target is not to @fails."""
    ok, why = target.check_healthy()
    if ok:
        log("PASS healthy")
    else:
        fails.append("healthy: %s" % why)


# The end of a target given as source (python -c): "ready", then each "ping"
# answered "pong" until "exit" or EOF. (The source must import sys.)
# (A target may set READY to say more on its ready line: "ready {json}".)
SERVE = r"""
sys.stdout.write(globals().get("READY", "ready") + "\n")
sys.stdout.flush()
for line in sys.stdin:
    if line.strip() == "ping":
        sys.stdout.write("pong\n")
        sys.stdout.flush()
    elif line.strip() == "exit":
        break
"""


def make_cgroup(controller, v1_files, v2_files):
    """A new cgroup of this test (root only) with @controller's files set:
    @v1_files in cgroup v1's hierarchy of @controller, else @v2_files in the
    unified hierarchy (its controller enabled below the top); its directory,
    or None where none can be made."""
    name = "pyheap-test-%d-%s" % (os.getpid(), controller)
    try:
        with open("/proc/self/mountinfo") as fh:
            mounts = [line.split() for line in fh]
    except OSError:
        return None
    for m in mounts:
        if "-" not in m:
            continue
        i = m.index("-")
        if i + 3 >= len(m) or m[3] != "/":
            continue
        if m[i + 1] == "cgroup" and controller in m[i + 3].split(","):
            files = v1_files
        elif m[i + 1] == "cgroup2":
            files = v2_files
            try:
                with open(os.path.join(m[4], "cgroup.controllers")) as fh:
                    if controller not in fh.read().split():
                        continue
                with open(os.path.join(m[4], "cgroup.subtree_control"), "w") as fh:
                    fh.write("+" + controller)
            except OSError:
                continue
        else:
            continue
        d = os.path.join(m[4], name)
        try:
            os.mkdir(d)
        except OSError:
            continue
        try:
            for f, v in files.items():
                with open(os.path.join(d, f), "w") as fh:
                    fh.write(v)
            return d
        except OSError:
            os.rmdir(d)
    return None


def run_in_cgroup(d, tool, args):
    """run_tool() with the tool in cgroup @d."""
    return run_tool("/bin/sh", ["-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', d, tool] +
                    list(args))


def remove_cgroup(d, fails):
    """Removes cgroup @d (its processes have exited), or says why not."""
    try:
        os.rmdir(d)
    except OSError as e:
        fails.append("cannot remove the cgroup %s: %s" % (d, e))


def require_tool(tool):
    """Exit 1 with a clear message when the tool binary is unusable."""
    if not tool:
        log("FAIL: no --tool given")
        sys.exit(EXIT_FAIL)
    if not os.path.isfile(tool):
        log("FAIL: tool binary not found: %s (build it first)" % tool)
        sys.exit(EXIT_FAIL)
    if not os.access(tool, os.X_OK):
        log("FAIL: tool binary is not executable: %s" % tool)
        sys.exit(EXIT_FAIL)
    return os.path.abspath(tool)


class ToolResult(object):
    def __init__(self, argv, rc, stdout, stderr, seconds, timed_out):
        self.argv = argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.timed_out = timed_out

    def describe(self):
        s = "%s -> rc=%s in %.2fs" % (" ".join(self.argv), self.rc, self.seconds)
        if self.timed_out:
            s += " (TIMED OUT, killed)"
        return s

    def stderr_excerpt(self, limit=2000):
        text = self.stderr.decode("utf-8", "replace")
        return text if len(text) <= limit else text[:limit] + "\n[...]"


def run_tool(tool, args, timeout=TOOL_TIMEOUT, env=None):
    argv = [tool] + [str(a) for a in args]
    # $PYHEAP_TOOL_WRAPPER (e.g. "valgrind --error-exitcode=99") runs the tool
    # under a checker; the tool's exit code is then the checker's.
    wrapper = os.environ.get("PYHEAP_TOOL_WRAPPER")
    if wrapper:
        argv = shlex.split(wrapper) + argv
        timeout *= 20
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, env=env)
        return ToolResult(argv, p.returncode, p.stdout, p.stderr,
                          time.monotonic() - t0, False)
    except subprocess.TimeoutExpired as e:
        return ToolResult(argv, None, e.stdout or b"", e.stderr or b"",
                          time.monotonic() - t0, True)


# ---------------------------------------------------------------------------
# Comparing results
# ---------------------------------------------------------------------------

def without_pools(doc, kinds):
    """@kinds ({kind: (count, size)} of the --json partition @doc) without
    the objects the tool found in pymalloc's blocks alone (held by native
    code, leaked references) and what it found through them (doc's
    found_in_pools.with_what_they_hold), which no gc census sees, and which
    need pymalloc's arena table (before 3.12, the symbol table)."""
    kinds = dict(kinds)
    found = (doc.get("found_in_pools") or {}).get("with_what_they_hold") or {}
    for k, (c, sz) in (found.get("kinds") or {}).items():
        if k in kinds:
            kinds[k] = (kinds[k][0] - c, kinds[k][1] - sz)
            if not kinds[k][0]:
                del kinds[k]  # (a kind found only there: a type they hold)
    return kinds


def kinds_of(doc):
    """{kind: (count, size)} of a --json partition, without_pools()."""
    return without_pools(doc, dict((k["kind"], (int(k["count"]), int(k["size"])))
                                   for k in doc["kinds"]))


def diff_kinds(a, b, name_a, name_b, limit=20):
    rows = [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    if not rows:
        return []
    out = ["%d kinds differ between %s and %s:" % (len(rows), name_a, name_b)]
    for k, x, y in rows[:limit]:
        out.append("    %-50s %s: %s  %s: %s" % (k[:50], name_a, x, name_b, y))
    if len(rows) > limit:
        out.append("    ... %d more" % (len(rows) - limit))
    return out


def module_target(python, code, module, package, name):
    """Starts `python -c code TRUTH` for a test that needs @module importable
    in @python (Debian's package: @package), without the caller's PYTHON*
    variables. Returns (exit code, None) when it cannot (skip: no module; fail:
    the target did not start), else (None, (target, tmp, truth)): the target,
    a temporary directory the caller removes, and the JSON the target wrote to
    TRUTH (in tmp) before it said ready."""
    probe = subprocess.run([python, "-c", "import " + module], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    if probe.returncode != 0:
        log("SKIP: %s is not importable in %s (Debian: %s)" % (module, python, package))
        return EXIT_SKIP, None
    tmp = tempfile.mkdtemp(prefix="pyheap-%s-" % module)
    truth_path = os.path.join(tmp, "truth.json")
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("PYTHON"))
    try:
        target = Target([python, "-c", code, truth_path], env=env, name=name, ready_timeout=120)
    except TargetError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        log("FAIL: %s" % e)
        return EXIT_FAIL, None
    try:
        with open(truth_path) as f:
            truth = json.load(f)
    except (OSError, ValueError) as e:
        target.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        log("FAIL: %s: its census %s: %s" % (name, truth_path, e))
        return EXIT_FAIL, None
    return None, (target, tmp, truth)


def tool_env(cache_dir):
    """The environment for a tool run: its own layout cache, no debuginfod."""
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = cache_dir
    env["DEBUGINFOD_URLS"] = ""  # never the network in a test
    return env


class LiveRun(object):
    """What a live test's body gets (live_target_test())."""

    def __init__(self, args, tool, python, target, tmp, env, fails):
        self.args, self.tool, self.python = args, tool, python
        self.target, self.tmp, self.env, self.fails = target, tmp, env, fails


def live_target_test(doc, title, code, body, before=None, target_env=None):
    """A live test on one interpreter (--tool, --python; skipped when absent):
    starts `python -I -S -c CODE` (a target that says "ready" and waits for
    commands), runs body(run) (a LiveRun) once it waits, then checks that the
    target is healthy; a temporary directory and a tool environment with its
    own layout cache, removed after. before(run), if given, runs first, with no
    target yet. @target_env: variables added to the target's environment.
    Returns the exit code."""
    args, tool, python = live_test_args(doc)
    if not python:
        return EXIT_SKIP
    log("%s: %s (%s)" % (title, args.python, python))
    tmp = tempfile.mkdtemp(prefix="pyheap-live-")
    run = LiveRun(args, tool, python, None, tmp, tool_env(os.path.join(tmp, "cache")), [])
    try:
        if before:
            before(run)
        env = dict(os.environ, **target_env) if target_env else None
        with Target([python, "-I", "-S", "-c", code], env=env, name="target") as target:
            target.wait_reading_stdin()
            run.target = target
            body(run)
            check_healthy(target, run.fails)
    except TargetError as e:
        run.fails.append(str(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report(run.fails, args.python)


def gcore(pid, tmp, fails):
    """A core of the running process @pid by gdb's gcore (the process runs on):
    its path, or None (a failure recorded)."""
    exe = shutil.which("gcore")
    if not exe:
        fails.append("gcore (gdb) is not installed: .ci/setup installs gdb")
        return None
    prefix = os.path.join(tmp, "core")
    res = run_tool("/bin/sh", ["-c", "%s -o %s %d >/dev/null 2>&1" % (exe, prefix, pid)],
                   timeout=120)
    path = "%s.%d" % (prefix, pid)
    if res.rc != 0 or not os.path.exists(path):
        fails.append("gcore failed: rc=%s" % res.rc)
        return None
    return path


def each_source(tool, pid, tmp, fails, first="live"):
    """The sources a check reads the same target from, as (tag, source):
    (@first, [PID]) the process itself, ("file", ["--load", FILE]) a snapshot
    file written of it (-o), ("core", ["--core", FILE]) a gcore core of it.
    A source that cannot be made is left out, its failure recorded."""
    yield first, [str(pid)]
    snap = os.path.join(tmp, "s.pyheap")
    r = run_tool(tool, ["-o", snap, str(pid)])
    if r.rc != 0:
        fails.append("file: -o failed (exit %s)\n%s" % (r.rc, r.stderr_excerpt()))
    else:
        yield "file", ["--load", snap]
    core = gcore(pid, tmp, fails)
    if core:
        yield "core", ["--core", core]


def expect_text(tool, args, env, pattern, what, fails):
    """Runs the tool; its text output must match @pattern (a compiled regular
    expression): the match, logged as a PASS, or None with a failure naming
    @what recorded."""
    r = run_tool(tool, args, env=env)
    out = r.stdout.decode("utf-8", "replace")
    m = pattern.search(out)
    if r.rc != 0 or not m:
        fails.append("%s (rc %s):\n%s" % (what, r.rc, out[:1500]))
        return None
    log("PASS %s" % m.group(0)[:200])
    return m


# The end of a target's code (run with python -I -S -c): serve(COMMANDS) says
# "ready", then runs each command read on stdin, one per line ("NAME ARG..."),
# as COMMANDS[NAME](ARG...) and answers "done" (an unknown one: "pong"), until
# "exit" or EOF.
TARGET_SERVE = r"""
def serve(commands):
    os.write(1, b"ready\n")
    while True:
        line = os.read(0, 4096)
        if not line or line.strip() == b"exit":
            break
        cmd = line.decode().split()
        if cmd and cmd[0] in commands:
            commands[cmd[0]](*cmd[1:])
            os.write(1, b"done\n")
        else:
            os.write(1, b"pong\n")
"""


def target_truth(target, path, timeout=60):
    """Sends "truth PATH" to @target, which writes its own count of what the
    test checks there as JSON and says "done"; returns that JSON."""
    target.send("truth " + path)
    if target.read_line(timeout) != "done":
        raise TargetError("truth: no 'done'")
    with open(path) as f:
        return json.load(f)


def expect_old_snapshot(tool, env, snap, tag, option, message, fails):
    """A copy of the snapshot file @snap without section @tag (as a writer
    before it wrote it) must still be read (--load), and @option on it must
    exit 10 with @message in its error."""
    old = snap + ".old"
    snapshot_without(snap, old, (tag,))
    r = run_tool(tool, ["--load", old], env=env)
    r2 = run_tool(tool, [option, "--load", old], env=env)
    err = r2.stderr.decode("utf-8", "replace")
    if r.rc != 0 or r2.rc != 10 or message not in err:
        fails.append("a snapshot without section %d: --load rc %s; %s --load rc %s, %s"
                     % (tag, r.rc, option, r2.rc, err[:300]))
    else:
        log("PASS a snapshot without section %d: read; %s: %s"
            % (tag, option, err.strip()[:150]))


def check_live_and_loaded(tool, args, pid, env, snap, check, fails):
    """Runs the tool with --json @args on @pid, writing its snapshot to @snap,
    then the same on that file (--load): check(what, doc) on each document."""
    what = " ".join(a for a in args if a.startswith("--"))
    doc = run_json(tool, list(args) + ["-o", snap, pid], env, what, fails)
    if doc is not None:
        check(what, doc)
    doc = run_json(tool, list(args) + ["--load", snap], env, what + " --load", fails)
    if doc is not None:
        check(what + " --load", doc)


def watch_with(tool, args, env, first, between):
    """Runs the tool with @args (a --watch of two samples or more), calls
    between() once its output holds @first (bytes: the first sample's
    report), and returns (exit code, whole stdout as text, stderr as text,
    the time.time() when between() returned)."""
    p = subprocess.Popen([tool] + [str(a) for a in args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    text, deadline = b"", time.monotonic() + 60
    while first not in text and time.monotonic() < deadline:
        ready, _, _ = select.select([p.stdout], [], [], 1)
        chunk = os.read(p.stdout.fileno(), 4096) if ready else b""
        if ready and not chunk:
            break
        text += chunk
    between()
    done = time.time()
    try:
        rest, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        rest, err = p.communicate()
    return (p.returncode, (text + rest).decode("utf-8", "replace"),
            err.decode("utf-8", "replace"), done)


def referrers_json(tool, what, source, env=None):
    """`--referrers WHAT --json --paths 0` over @source (["PID"], ["--load",
    FILE], ["--core", FILE]): (the ToolResult, the document or None)."""
    r = run_tool(tool, ["--referrers", what, "--json", "--paths", "0"] + list(source), env=env)
    try:
        return r, json.loads(r.stdout.decode("utf-8"))
    except ValueError:
        return r, None


def paths_of(doc):
    """A --referrers document's path groups: {path: objects}."""
    return dict((p["path"], p["objects"]) for p in (doc or {}).get("paths", []))


def build_paths(python):
    """(include directory, extension suffix) of @python, for building a C
    extension for it; None when it does not say or has no Python.h."""
    r = subprocess.run([python, "-I", "-c", "import sysconfig; print(sysconfig.get_paths()"
                        "['include']); print(sysconfig.get_config_var('EXT_SUFFIX'))"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    lines = r.stdout.decode().split()
    if r.returncode != 0 or len(lines) != 2 or \
            not os.path.exists(os.path.join(lines[0], "Python.h")):
        return None
    return lines[0], lines[1]


def run_json(tool, args, env, what, fails):
    """The tool's JSON document, or None (with a failure recorded)."""
    res = run_tool(tool, ["--json"] + list(args), env=env)
    log("  %s: %s" % (what, res.describe()))
    if res.timed_out or res.rc != 0:
        fails.append("%s: tool failed (rc=%s): %s" % (what, res.rc, res.stderr_excerpt(600)))
        return None
    try:
        return json.loads(res.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        fails.append("%s: tool stdout is not JSON: %s" % (what, e))
        return None


# Snapshot files (README, "Snapshot files")

def varint(buf, pos):
    v, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        v |= (b & 0x7f) << shift
        if not b & 0x80:
            return v, pos
        shift += 7


def snapshot_sections(path):
    """{tag: body} of a snapshot file (README, "Snapshot files")."""
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:8] != b"\x89PYHEAP\n":
        raise ValueError("%s: not a snapshot" % path)
    length = struct.unpack_from("<Q", buf, 16)[0]
    pos, end, out = 24, 24 + length, {}
    while pos < end:
        tag, pos = varint(buf, pos)
        n, pos = varint(buf, pos)
        out[tag] = buf[pos:pos + n]
        pos += n
    return out


def snapshot_without(src, dst, tags):
    """Writes @src's snapshot file to @dst without its sections of @tags (as
    a writer that did not know them), the checksum recomputed."""
    with open(src, "rb") as f:
        buf = f.read()
    body = b"".join(put_varint(tag) + put_varint(len(b)) + b
                    for tag, b in snapshot_sections(src).items() if tag not in tags)
    head = buf[:16] + struct.pack("<Q", len(body))
    with open(dst, "wb") as f:
        f.write(head + body + struct.pack("<I", zlib.crc32(head + body) & 0xffffffff))


def put_varint(v):
    out = bytearray()
    while True:
        out.append((v & 0x7f) | (0x80 if v > 0x7f else 0))
        v >>= 7
        if not v:
            return bytes(out)


def snapshot_objects(path):
    """{address: size} of the objects of a snapshot file (its OBJECTS section:
    the address deltas, then the sizes)."""
    body = snapshot_sections(path)[3]
    n, pos = varint(body, 0)
    addrs, a = [], 0
    for _ in range(n):
        v, pos = varint(body, pos)
        a += (v >> 1) ^ -(v & 1)
        addrs.append(a)
    sizes = []
    for _ in range(n):
        v, pos = varint(body, pos)
        sizes.append(v)
    return dict(zip(addrs, sizes))


# ---------------------------------------------------------------------------
# /proc helpers
# ---------------------------------------------------------------------------

def proc_state(pid):
    """Single-letter state from /proc/PID/stat, or None if gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    return data.rsplit(")", 1)[1].split()[0]


def is_stopped_state(state):
    return state in ("t", "T")


def tracer_pid(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def poll_until(predicate, timeout, interval=0.01):
    """Bounded poll of a /proc condition (10 ms steps).  Returns the last
    value of predicate() (truthy on success)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        select.select([], [], [], interval)


def state_not_stopped(pid, grace=0.5):
    """(ok, state): ok when the process exists and /proc/PID/stat is not
    t/T.  A t/T state is re-read for up to `grace` seconds (the kernel may
    need a moment to resume a tracee right after its tracer exited)."""
    def settled():
        s = proc_state(pid)
        return None if s is not None and is_stopped_state(s) else (s or "gone")

    state = poll_until(settled, grace)
    if state is None:
        return False, proc_state(pid)
    if state == "gone":
        return False, None
    return True, state


def free_pid():
    """A PID that no process or thread uses (searching down from pid_max)."""
    try:
        with open("/proc/sys/kernel/pid_max") as f:
            pid_max = int(f.read().strip())
    except (OSError, ValueError):
        pid_max = 32768
    for pid in range(pid_max - 1, 1, -1):
        if not os.path.exists("/proc/%d" % pid):
            return pid
    raise RuntimeError("no free pid found")


# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------

class TargetError(Exception):
    pass


class Target(object):
    """A child process speaking the ready/ping/pong/exit line protocol."""

    def __init__(self, argv, env=None, name="target", ready_timeout=READY_TIMEOUT,
                 preexec_fn=None):
        self.argv = list(argv)
        self.name = name
        self.tmpdir = tempfile.mkdtemp(prefix="pyheap-live-")
        self.stderr_path = os.path.join(self.tmpdir, "target.stderr")
        self._stderr = open(self.stderr_path, "wb")
        self._buf = b""
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._stderr,
                                     env=env, close_fds=True, preexec_fn=preexec_fn)
        self.pid = self.proc.pid
        try:
            line = self.read_line(ready_timeout)
        except TargetError as e:
            self.stop()
            raise TargetError("%s did not become ready: %s\n%s"
                              % (self.name, e, self.stderr_text()))
        if line.split(" ", 1)[0] != "ready":  # (the benchmark's target: "ready {json}")
            self.stop()
            raise TargetError("%s: expected 'ready', got %r\n%s"
                              % (self.name, line, self.stderr_text()))
        self.ready_line = line

    # -- construction helpers ------------------------------------------------
    @classmethod
    def heap(cls, python, ready_timeout=READY_TIMEOUT, env=None, name=None):
        """The heap target; its truth JSON is in .truth_path after ready."""
        tmp = tempfile.mkdtemp(prefix="pyheap-truth-")
        truth_path = os.path.join(tmp, "truth.json")
        try:
            target = cls([python] + list(TARGET_FLAGS) + [TARGET_SCRIPT, truth_path], env=env,
                         name=name or "heap target (%s)" % python, ready_timeout=ready_timeout)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        target._truth_dir = tmp
        target.truth_path = truth_path
        return target

    @classmethod
    def idle(cls, python, env=None, ready_timeout=READY_TIMEOUT):
        return cls([python, "-c", IDLE_CODE], env=env,
                   name="idle target (%s)" % python, ready_timeout=ready_timeout)

    # -- protocol ------------------------------------------------------------
    def read_line(self, timeout):
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TargetError("timed out after %.0fs waiting for a line" % timeout)
            r, _, _ = select.select([fd], [], [], remaining)
            if not r:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                raise TargetError("target closed stdout (exit status %s)"
                                  % self.proc.poll())
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode("utf-8", "replace").strip()

    def send(self, text):
        try:
            self.proc.stdin.write(text.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError) as e:
            raise TargetError("cannot write to %s: %s" % (self.name, e))

    def ping(self, timeout=PING_TIMEOUT):
        """(ok, detail)."""
        try:
            self.send("ping")
            line = self.read_line(timeout)
        except TargetError as e:
            return False, str(e)
        if line != "pong":
            return False, "expected 'pong', got %r" % line
        return True, "pong"

    def retruth(self, path, timeout=60):
        """Ask the heap target to recompute its truth into `path` (diagnostics)."""
        self.send("truth " + path)
        line = self.read_line(timeout)
        if line != "done":
            raise TargetError("expected 'done', got %r" % line)

    def load_truth(self):
        with open(self.truth_path) as f:
            return json.load(f)

    def state(self):
        return proc_state(self.pid)

    def alive(self):
        return self.proc.poll() is None

    def wait_reading_stdin(self, timeout=10):
        """Waits (a bounded poll of /proc/PID/syscall) until the target's main
        thread is blocked in read(0, ...): after its "ready" or "pong" it
        still runs a little (and may make or free objects) before it waits
        for the next line.  True once it is there."""
        def reading():
            try:
                with open("/proc/%d/syscall" % self.pid) as f:
                    words = f.read().split()
            except OSError:
                return False
            return len(words) >= 2 and words[0] == "0" and int(words[1], 16) == 0

        return bool(poll_until(reading, timeout, interval=0.001))

    def check_running(self):
        """(ok, message): still running and not stopped (t/T)."""
        if not self.alive():
            return False, "%s exited (status %s)" % (self.name, self.proc.returncode)
        ok, state = state_not_stopped(self.pid)
        if not ok:
            return False, "%s is stopped: /proc/%d/stat state %r" % (self.name, self.pid, state)
        return True, "state %s" % state

    def check_healthy(self):
        """(ok, message): not stopped (t/T), still running, answers ping."""
        ok, why = self.check_running()
        if not ok:
            return False, why
        ok, detail = self.ping()
        if not ok:
            return False, "%s does not answer ping: %s (state %r)" % (
                self.name, detail, self.state())
        state = self.state()
        if state is None or is_stopped_state(state):
            return False, "%s state after ping: %r" % (self.name, state)
        return True, "state %s, answers ping" % state

    def stderr_text(self, limit=4000):
        try:
            if not self._stderr.closed:
                self._stderr.flush()
            with open(self.stderr_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        if len(text) > limit:
            text = "[...]\n" + text[-limit:]
        return text

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            if is_stopped_state(self.state() or ""):
                # A stopped (T/t) target never reads "exit"; SIGKILL works.
                self.proc.kill()
            else:
                try:
                    self.send("exit")
                except TargetError:
                    pass
        try:
            self.proc.stdin.close()
        except (OSError, ValueError):
            pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)
        try:
            self.proc.stdout.close()
        except OSError:
            pass
        self._stderr.close()
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        d = getattr(self, "_truth_dir", None)
        if d:
            shutil.rmtree(d, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def kill_process(proc, sig=signal.SIGTERM, timeout=10):
    """Terminate a Popen we started (by its pid only)."""
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
        except OSError:
            pass


def report(fails, label):
    """Logs the failures and the result line; returns the exit code."""
    log("")
    if fails:
        for f in fails:
            log("FAIL: " + f)
        log("RESULT: FAIL (%s)" % label)
        return EXIT_FAIL
    log("RESULT: PASS (%s)" % label)
    return EXIT_PASS
