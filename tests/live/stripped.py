#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: interpreters without debug info (built-in tables, _Py_DebugOffsets).

usage: stripped.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter, strip or python3.11-dbg absent)

pyenv labels (3.8 .. 3.13): a copy of the build's executable and libpython,
stripped with `strip --strip-all`, in a temporary directory whose path has the
length of the original prefix (so that sys.executable and the environment
have the same sizes in both processes). The heap target runs twice: under the
original (LD_LIBRARY_PATH=<prefix>/lib, PYTHONHOME=<prefix>) and under the
copy (LD_LIBRARY_PATH=<copy>/lib, PYTHONHOME=<prefix>). Each tool run gets an
empty XDG_CACHE_HOME (the copy keeps its build-id, so a cache filled from the
DWARF run would hide a broken table) and DEBUGINFOD_URLS="". Checks:
  a  the original is read from DWARF, the copy from the tables ("tables 3.X";
     3.13: "_Py_DebugOffsets + tables 3.13"), with the same version string;
  b  --json kinds (count and size of every kind) of the copy equal the
     original's, and the target's signal handler is a root in the copy too
     (`signal.getsignal(12).__self__`: signalmodule.c's Handlers found
     without its symbol before 3.12);
  c  the same copy read again with its DWARF as separate debug info (a
     build-id directory pointing at the original library) gives the same
     kinds: tables vs DWARF on one heap;
  d  the table file itself through --layout FILE gives the same kinds, and
     copies of it with one wrong offset each are refused (exit 8, "layout
     check failed") by the cross-checks;
  e  every target still runs and answers ping;
  f  debuginfod (when libdebuginfod.so.1 is installed): a local server that
     serves the original library by build-id gives "separate debug info
     (..., debuginfod, ...)" and the same kinds; on 3.11 also a server that
     never answers: the tool gives up within its bound and uses the tables.
debian-3.11: /usr/bin/python3.11 (stripped, separate debug info in
python3.11-dbg): the tool with the debug info (separate debug info) and with
--debug-dir pointing at an empty directory (tables 3.11) gives the same
kinds, and the signal handler is a root with the tables too; corrupted
tables are refused as above.
"""

import argparse
import ctypes.util
import http.server
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

REPO = common.REPO
SYMBOLS = os.path.join(REPO, "symbols")
EXIT_NO_DEBUG_INFO = 8

# One wrong offset each: every copy must be refused by a cross-check. They
# cover the static type checks (flags, sizes, tp_members), the interpreter
# and thread state, the GC lists and the dict/str checks.
CORRUPTIONS = (
    ("tp_flags", 8),
    ("tp_basicsize", 8),
    ("tp_mro", -8),
    ("ht_sizeof", 8),
    ("tuple_item", 8),
    ("func_closure", 8),
    ("code_consts", 8),
    # +8 would read interpreters.main, the same pointer with one interpreter
    ("rt_interpreters_head", 16),
    # +8 reads threads.main on 3.13: a real thread state, and the head of the
    # list whenever the main thread is the only or newest one (seen flaky)
    ("is_threads_head", 16),
    ("ts_interp", 8),
    ("ts_next", 8),
    ("is_gc", 16),
    ("rt_gc", 16),
    ("gc_generations", 8),
    ("gchead_sizeof", 8),
    ("is_sysdict", 8),
    ("is_builtins", -8),
    ("dict_keys", 8),
    ("dk_nentries", 8),
    ("ascii_sizeof", 8),
)


class Skip(Exception):
    pass


def strip_copy(src, dst):
    shutil.copy2(src, dst)
    p = subprocess.run(["strip", "--strip-all", dst], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("strip --strip-all %s: %s" % (dst, p.stdout.decode()[:300]))


def build_id(path):
    p = subprocess.run(["readelf", "-n", path], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, timeout=60)
    m = re.search(r"Build ID: ([0-9a-f]+)", p.stdout.decode())
    return m.group(1) if m else None


def debug_dir_for(root, lib_with_dwarf):
    """A --debug-dir holding .build-id/xx/rest.debug -> lib_with_dwarf."""
    bid = build_id(lib_with_dwarf)
    if not bid:
        return None
    d = os.path.join(root, ".build-id", bid[:2])
    os.makedirs(d, exist_ok=True)
    os.symlink(lib_with_dwarf, os.path.join(d, bid[2:] + ".debug"))
    return root


def check_corruptions(tool, table, pid, tmp, env, fails):
    """Each corrupted copy of `table` must be refused with exit 8."""
    with open(table) as f:
        text = f.read()
    refused = 0
    for field, delta in CORRUPTIONS:
        m = re.search(r"^%s (-?\d+)$" % field, text, re.M)
        if not m or int(m.group(1)) < 0:
            continue  # absent in this version
        bad = text[:m.start(1)] + str(int(m.group(1)) + delta) + text[m.end(1):]
        path = os.path.join(tmp, "bad-%s.layout" % field)
        with open(path, "w") as f:
            f.write(bad)
        res = common.run_tool(tool, ["--json", "--layout", path, pid], env=env)
        err = res.stderr.decode("utf-8", "replace").strip()
        if res.rc != EXIT_NO_DEBUG_INFO or "layout check failed" not in err:
            fails.append("corrupted table (%s %+d) not refused: rc=%s, stderr %r"
                         % (field, delta, res.rc, err[:300]))
        else:
            refused += 1
            common.log("  refused %s %+d: %s" % (field, delta, err.split(": ", 1)[-1][:150]))
    common.log("  %d corrupted tables refused" % refused)
    if refused < 10:
        fails.append("only %d corrupted tables were tried/refused" % refused)


def check_header(tool, pid, env, want, fails, extra=()):
    """The text header names the layout source."""
    res = common.run_tool(tool, list(extra) + ["--limit", "1", pid], env=env)
    lines = res.stdout.decode("utf-8", "replace").splitlines()
    line = lines[1] if len(lines) > 1 else ""
    if res.rc != 0 or not line.startswith("layout: " + want):
        fails.append("header: expected 'layout: %s...', got %r (rc=%s)" % (want, line, res.rc))
    else:
        common.log("  header: %s" % line[:100])


class DebuginfodServer(object):
    """A debuginfod server on 127.0.0.1 serving one file for one build-id,
    or (hang=True) answering nothing until it is closed."""

    def __init__(self, build_id, path, hang=False):
        release = self.release = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if hang:
                    release.wait(60)
                    return
                if self.path != "/buildid/%s/debuginfo" % build_id:
                    self.send_response(404)
                    self.end_headers()
                    return
                with open(path, "rb") as f:
                    data = f.read()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def check_debuginfod(tool, label, pid, lib, base, tables_doc, fails):
    if not ctypes.util.find_library("debuginfod"):
        common.log("  f: skipped (libdebuginfod.so.1 is not installed)")
        return
    bid = build_id(lib)
    srv = DebuginfodServer(bid, lib)
    try:
        env = common.tool_env(os.path.join(base, "cache-dbgd"))
        os.mkdir(env["XDG_CACHE_HOME"])
        env["DEBUGINFOD_URLS"] = srv.url
        env["DEBUGINFOD_CACHE_PATH"] = os.path.join(base, "debuginfod-cache")
        doc = common.run_json(tool, [pid], env, "debuginfod %s" % srv.url, fails)
        if doc and not re.match(r"separate debug info \(build-id [0-9a-f]+, debuginfod, ",
                                str(doc.get("layout"))):
            fails.append("debuginfod: layout %r" % doc.get("layout"))
        elif doc and tables_doc:
            d = common.diff_kinds(common.kinds_of(doc), common.kinds_of(tables_doc), "debuginfod", "tables")
            fails.extend(d)
            if not d:
                common.log("  f: debuginfod DWARF: %d kinds equal" % len(doc["kinds"]))
    finally:
        srv.close()
    if label != "3.11":
        return
    srv = DebuginfodServer(bid, lib, hang=True)
    try:
        env = common.tool_env(os.path.join(base, "cache-hang"))
        os.mkdir(env["XDG_CACHE_HOME"])
        env["DEBUGINFOD_URLS"] = srv.url
        env["DEBUGINFOD_CACHE_PATH"] = os.path.join(base, "debuginfod-cache-hang")
        t0 = time.monotonic()
        doc = common.run_json(tool, [pid], env, "debuginfod that never answers", fails)
        took = time.monotonic() - t0
        if doc and doc.get("layout") != "tables " + label:
            fails.append("unanswered debuginfod: layout %r" % doc.get("layout"))
        if took > 20:
            fails.append("unanswered debuginfod: the tool took %.1f s" % took)
        else:
            common.log("  f: unanswered debuginfod: gave up, tables, %.1f s" % took)
    finally:
        srv.close()


def check_signal_root(tool, pid, env, extra, fails):
    """The target's signal handler is a root (signal.getsignal(SIGUSR2)), also
    where no symbol names the handler table (3.8-3.11 stripped)."""
    doc = common.run_json(tool, ["--referrers", "SignalHolder"] + list(extra) + [pid], env,
                          "--referrers SignalHolder", fails)
    if doc is None:
        return
    want = "signal.getsignal(%d).__self__" % signal.SIGUSR2
    paths = [p.get("path") for p in doc.get("paths", [])]
    if want not in paths:
        fails.append("the signal handler's object: paths %r, expected %r" % (paths, want))
    else:
        common.log("  the signal handler's object: %s" % want)


def run_pyenv(tool, label):
    prefix = common.pyenv_prefix(label)
    if not prefix:
        raise Skip("no pyenv %s build" % label)
    if not shutil.which("strip") or not shutil.which("readelf"):
        raise Skip("strip/readelf not installed")
    exe = os.path.join(prefix, "bin", "python" + label)
    lib = os.path.join(prefix, "lib", "libpython%s.so.1.0" % label)
    if not os.path.isfile(lib):
        raise Skip("%s is not a shared-library build" % prefix)
    fails = []
    base = tempfile.mkdtemp(prefix="pyheap-strip-")
    targets = []
    try:
        # A copy prefix as long as the original one: same string sizes.
        pad = len(prefix) - len(base) - 1
        copy_prefix = os.path.join(base, "p" * pad) if pad >= 1 else os.path.join(base, "p")
        same_length = len(copy_prefix) == len(prefix)
        os.makedirs(os.path.join(copy_prefix, "bin"))
        os.makedirs(os.path.join(copy_prefix, "lib"))
        exe_copy = os.path.join(copy_prefix, "bin", "python" + label)
        lib_copy = os.path.join(copy_prefix, "lib", "libpython%s.so.1.0" % label)
        strip_copy(exe, exe_copy)
        strip_copy(lib, lib_copy)
        caches = [os.path.join(base, "cache%d" % i) for i in range(6)]
        for c in caches:
            os.mkdir(c)
        empty = os.path.join(base, "empty")
        os.mkdir(empty)

        env = dict((k, v) for k, v in os.environ.items() if not k.startswith("PYTHON"))
        env_orig = dict(env, LD_LIBRARY_PATH=os.path.join(prefix, "lib"), PYTHONHOME=prefix)
        env_copy = dict(env, LD_LIBRARY_PATH=os.path.join(copy_prefix, "lib"), PYTHONHOME=prefix)
        orig = common.Target.heap(exe, env=env_orig, name="heap target (%s)" % exe)
        targets.append(orig)
        copy = common.Target.heap(exe_copy, env=env_copy, name="heap target (stripped copy)")
        targets.append(copy)
        with open("/proc/%d/maps" % copy.pid) as f:
            if lib_copy not in f.read():
                raise RuntimeError("the stripped libpython is not mapped in pid %d" % copy.pid)
        common.log("original pid %d (%s), stripped copy pid %d (%s)"
                   % (orig.pid, prefix, copy.pid, copy_prefix))

        # a: sources and versions.
        a = common.run_json(tool, [orig.pid], common.tool_env(caches[0]), "original", fails)
        b = common.run_json(tool, [copy.pid], common.tool_env(caches[1]), "stripped copy", fails)
        want = "_Py_DebugOffsets + tables 3.13" if label == "3.13" else "tables " + label
        want_kind = "debug_offsets" if label == "3.13" else "tables"
        if a and a.get("layout_source") != "dwarf":
            fails.append("original: layout_source %r, expected 'dwarf'" % a.get("layout_source"))
        if b and (b.get("layout_source") != want_kind or b.get("layout") != want):
            fails.append("stripped copy: layout %r (%r), expected %r (%r)"
                         % (b.get("layout"), b.get("layout_source"), want, want_kind))
        if a and b and a.get("python") != b.get("python"):
            fails.append("version: original %r, stripped copy %r" % (a.get("python"), b.get("python")))
        check_header(tool, copy.pid, common.tool_env(caches[2]), want, fails)

        # b: the two processes.
        if a and b:
            if same_length:
                d = common.diff_kinds(common.kinds_of(a), common.kinds_of(b), "original", "stripped")
                fails.extend(d)
                if not d:
                    common.log("  b: %d kinds equal (%d objects, %d bytes)"
                               % (len(a["kinds"]), a["objects"], a["size"]))
            else:
                common.log("  b: skipped (the temporary directory is longer than %s)" % prefix)
            check_signal_root(tool, copy.pid, common.tool_env(caches[1]), [], fails)

        # c: tables vs DWARF on the same process.
        dbg = debug_dir_for(os.path.join(base, "debug"), lib)
        c = common.run_json(tool, ["--debug-dir", dbg, copy.pid], common.tool_env(caches[3]),
                     "stripped copy + its DWARF by build-id", fails)
        if c and not str(c.get("layout")).startswith("separate debug info (build-id "):
            fails.append("with --debug-dir: layout %r, expected separate debug info" % c.get("layout"))
        if b and c:
            d = common.diff_kinds(common.kinds_of(c), common.kinds_of(b), "DWARF", "tables")
            fails.extend(d)
            if not d:
                common.log("  c: %d kinds equal on pid %d" % (len(b["kinds"]), copy.pid))

        # d: the table file, then corrupted copies of it.
        table = os.path.join(SYMBOLS, "cpython-%s.layout" % label)
        e = common.run_json(tool, ["--layout", table, copy.pid], common.tool_env(caches[4]),
                     "--layout %s" % os.path.basename(table), fails)
        if b and e:
            fails.extend(common.diff_kinds(common.kinds_of(e), common.kinds_of(b), "--layout FILE", "tables"))
        check_corruptions(tool, table, copy.pid, base, common.tool_env(caches[5]), fails)

        # f: debuginfod.
        check_debuginfod(tool, label, copy.pid, lib, base, b, fails)

        # e: the targets survived.
        for t in targets:
            ok, detail = t.check_healthy()
            if not ok:
                fails.append(detail)
    finally:
        for t in targets:
            t.stop()
        shutil.rmtree(base, ignore_errors=True)
    return fails


def run_debian(tool):
    python = common.find_interpreter(common.DEBIAN_LABEL)
    if not python:
        raise Skip("no %s" % common.DEBIAN_PYTHON)
    fails = []
    base = tempfile.mkdtemp(prefix="pyheap-debian-")
    target = None
    try:
        caches = [os.path.join(base, "cache%d" % i) for i in range(4)]
        for c in caches:
            os.mkdir(c)
        empty = os.path.join(base, "empty")
        os.mkdir(empty)
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith("PYTHON"))
        target = common.Target.heap(python, env=env, name="heap target (%s)" % python)
        common.log("pid %d (%s)" % (target.pid, python))
        a = common.run_json(tool, [target.pid], common.tool_env(caches[0]), "with python3.11-dbg", fails)
        if a and a.get("layout_source") != "dwarf":
            raise Skip("python3.11-dbg is not installed (layout %r)" % a.get("layout"))
        b = common.run_json(tool, ["--debug-dir", empty, target.pid], common.tool_env(caches[1]),
                     "--debug-dir (empty)", fails)
        if b and (b.get("layout_source"), b.get("layout")) != ("tables", "tables 3.11"):
            fails.append("with an empty --debug-dir: layout %r (%r), expected 'tables 3.11'"
                         % (b.get("layout"), b.get("layout_source")))
        if a and b:
            d = common.diff_kinds(common.kinds_of(a), common.kinds_of(b), "dbg", "tables")
            fails.extend(d)
            check_signal_root(tool, target.pid, common.tool_env(caches[1]),
                              ["--debug-dir", empty], fails)
            if not d:
                common.log("  %d kinds equal (%d objects, %d bytes)"
                           % (len(a["kinds"]), a["objects"], a["size"]))
        check_header(tool, target.pid, common.tool_env(caches[2]), "tables 3.11", fails,
                     ["--debug-dir", empty])
        check_corruptions(tool, os.path.join(SYMBOLS, "cpython-3.11.layout"), target.pid, base,
                          common.tool_env(caches[3]), fails)
        ok, detail = target.check_healthy()
        if not ok:
            fails.append(detail)
    finally:
        if target:
            target.stop()
        shutil.rmtree(base, ignore_errors=True)
    return fails


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--python", required=True, metavar="LABEL",
                    help="one of " + ", ".join(common.ALL_LABELS))
    args = ap.parse_args()
    tool = common.require_tool(args.tool)
    common.log("stripped test: %s" % args.python)
    try:
        if args.python == common.DEBIAN_LABEL:
            fails = run_debian(tool)
        elif args.python in common.PYENV_LABELS:
            fails = run_pyenv(tool, args.python)
        else:
            raise Skip("no stripped test for %s" % args.python)
    except Skip as e:
        common.log("SKIP: %s" % e)
        return common.EXIT_SKIP
    except (common.TargetError, RuntimeError, OSError) as e:
        fails = ["setup: %s" % e]
    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
