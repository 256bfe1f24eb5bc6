#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: a target with many idle threads (a service's thread pool).

usage: threads.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent)

The target starts THREADS threads that wait on an Event (each holds a
Marker in a local and a Kept in a threading.local), reports its own truth (threads, markers, VmRSS) and
idles.  Each thread's stack is megabytes of address space with a few pages
in use: the tool must copy what is in memory, not the address space.

Checks (one line each, PASS/FAIL):
  threads   the header counts THREADS + 1 threads
  markers   `--referrers Marker`: THREADS objects, each held by a thread's
            frame local 'marker' (THREADS path groups, one per thread)
  local     `--referrers Kept`: THREADS objects, each only in a threading.local's
            per-thread dict, named by its thread: "__main__.LOCAL.localdicts[thread
            0x… (NAME)]['kept']" for each thread's id and name as the target
            gives them (before: "localdicts[?]", the thread's key unnamed)
  thread-local  `--threads --json`: each thread's "others" has a row
            "threading.local __main__.LOCAL", its dict's address as the thread
            reads id(LOCAL.__dict__), retaining it and its Kept (2 objects,
            at least their getsizeof()); and "threading.local
            __main__.SESSION" (a subclass of threading.local) at the address of
            id(SESSION.__dict__)
  copy      --stats: the bytes read are at most 2 x the target's VmRSS
            (before the fix: every stack's full size, 28 x VmRSS here)
  copy-after-reader  the same after tests/bench/copylimit (given with
            --copylimit) read every writable page, which maps the shared zero
            page over the untouched stack pages (skipped unless the tool can
            see page frames: root or CAP_SYS_ADMIN)
  healthy   the target runs and answers ping afterwards
"""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

THREADS = 48

TARGET = r"""
import json, sys, threading
class Marker:
    pass
class Kept:
    pass
LOCAL = threading.local()
class Session(threading.local):
    pass
class User:
    pass
SESSION = Session()
stop = threading.Event()
started = []
names = {}
storage = {}
def work():
    marker = Marker()
    LOCAL.kept = Kept()
    SESSION.user = User()
    names[threading.get_ident()] = threading.current_thread().name
    storage[threading.get_ident()] = {"address": id(LOCAL.__dict__), "size": sys.getsizeof(
        LOCAL.__dict__) + sys.getsizeof(LOCAL.kept), "session": id(SESSION.__dict__)}
    started.append(1)
    stop.wait()
    return marker
threads = [threading.Thread(target=work, daemon=True) for _ in range(%d)]
for t in threads:
    t.start()
while len(started) < len(threads):
    stop.wait(0.01)
rss = 0
with open("/proc/self/status") as f:
    for line in f:
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
sys.stdout.write("truth " + json.dumps({"threads": threading.active_count(), "rss": rss,
                                        "names": names, "storage": storage}) + "\n")
""" % THREADS + common.IDLE_CODE


class TruthFirst(common.Target):
    """The target prints a truth line before 'ready'."""

    def __init__(self, argv, name, env=None):
        self.truth = None
        super().__init__(argv, env=env, name=name)

    def read_line(self, timeout):
        line = super().read_line(timeout)
        if line.startswith("truth ") and self.truth is None:
            self.truth = json.loads(line[6:])
            return super().read_line(timeout)
        return line


def main():
    args, tool, python = common.live_test_args(
        __doc__, [("--copylimit", {"default": None, "help": "tests/bench/copylimit binary"})])
    if not python:
        return common.EXIT_SKIP
    fails = []
    with TruthFirst([python, "-I", "-c", TARGET], name="threads target (%s)" % python) as t:
        truth = t.truth
        r = common.run_tool(tool, ["--stats", str(t.pid)])
        header = r.stdout.decode("utf-8", "replace")
        m = re.search(r"threads (\d+)", header)
        got = int(m.group(1)) if m else None
        if r.rc != 0 or got != truth["threads"]:
            fails.append("threads: tool %s (exit %d), truth %d\n%s"
                         % (got, r.rc, truth["threads"], r.stderr_excerpt()))
        else:
            common.log("PASS threads: %d" % got)
        m = re.search(r"read (\d+) bytes", r.stderr.decode("utf-8", "replace"))
        read = int(m.group(1)) if m else None
        if read is None or read > 2 * truth["rss"]:
            fails.append("copy: read %s bytes, target VmRSS %d (limit 2 x)" % (read, truth["rss"]))
        else:
            common.log("PASS copy: read %d bytes, target VmRSS %d (%.2f x)"
                       % (read, truth["rss"], read / float(truth["rss"])))
        if args.copylimit and os.geteuid() == 0:
            c = subprocess.run([args.copylimit, str(t.pid)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60)
            r = common.run_tool(tool, ["--stats", str(t.pid)])
            m = re.search(r"read (\d+) bytes", r.stderr.decode("utf-8", "replace"))
            read = int(m.group(1)) if m else None
            if c.returncode != 0 or read is None or read > 2 * truth["rss"]:
                fails.append("copy-after-reader: copylimit exit %d; read %s bytes, target "
                             "VmRSS %d (limit 2 x)" % (c.returncode, read, truth["rss"]))
            else:
                common.log("PASS copy-after-reader: read %d bytes (%.2f x VmRSS)"
                           % (read, read / float(truth["rss"])))
        else:
            common.log("SKIP copy-after-reader: %s"
                       % ("no --copylimit" if not args.copylimit else "page frames hidden (not root)"))
        r = common.run_tool(tool, ["--referrers", "Marker", "--json", "--paths", "0",
                                   str(t.pid)])
        try:
            doc = json.loads(r.stdout.decode("utf-8"))
        except ValueError:
            doc = None
        paths = (doc or {}).get("paths") or []
        held = sum(p.get("objects", 0) for p in paths
                   if "frame work()" in p.get("path", "") and "local 'marker'" in p["path"])
        if r.rc != 0 or not doc or doc.get("objects") != THREADS or held != THREADS:
            fails.append("markers: exit %d, objects %s, held by a thread's local 'marker': %d "
                         "(want %d)\n%s" % (r.rc, (doc or {}).get("objects"), held, THREADS,
                                            r.stderr_excerpt()))
        else:
            common.log("PASS markers: %d, each in a thread's frame" % THREADS)
        r, doc = common.referrers_json(tool, "Kept", [str(t.pid)])
        paths = common.paths_of(doc)
        want = dict(("__main__.LOCAL.localdicts[thread 0x%x (%s)]['kept']" % (int(i), n), 1)
                    for i, n in truth["names"].items())
        if r.rc != 0 or not doc or doc.get("objects") != THREADS or paths != want:
            fails.append("local: exit %d, objects %s (want %d), paths %r (want %r)\n%s"
                         % (r.rc, (doc or {}).get("objects"), THREADS, sorted(paths)[:3],
                            sorted(want)[:3], r.stderr_excerpt()))
        else:
            common.log("PASS local: %d, each named by its thread: %s, ..."
                       % (THREADS, sorted(paths)[0]))
        # Each thread's storage in the threading.local, a row of its own.
        r = common.run_tool(tool, ["--threads", "--json", "--limit", "1000", str(t.pid)])
        try:
            doc = json.loads(r.stdout.decode("utf-8"))
        except ValueError:
            doc = None
        rows, sessions = {}, {}
        for th in (doc or {}).get("threads") or []:
            for o in th.get("others") or []:
                if o.get("label") == "threading.local __main__.LOCAL":
                    rows[int(th.get("thread", "0"), 16)] = o
                if o.get("label") == "threading.local __main__.SESSION":
                    sessions[int(th.get("thread", "0"), 16)] = o
        bad = []
        for ident, want in truth["storage"].items():
            o = sessions.get(int(ident))
            if not o or o.get("address") != "0x%x" % want["session"]:
                bad.append("thread 0x%x: SESSION row %r, want its dict at 0x%x"
                           % (int(ident), o, want["session"]))
            o = rows.get(int(ident))
            ret = (o or {}).get("retained") or {}
            if (not o or o.get("address") != "0x%x" % want["address"]
                    or o.get("kind") != "dict (no owner)" or ret.get("objects") != 2
                    or ret.get("size", 0) < want["size"]):
                bad.append("thread 0x%x: %r, want its dict at 0x%x retaining 2 objects, "
                           ">= %d bytes" % (int(ident), o, want["address"], want["size"]))
        # (The main thread has one too: threading.local() makes the storage
        # of the thread that creates it.)
        if r.rc != 0 or bad or len(rows) != THREADS + 1:
            fails.append("thread-local: exit %d, %d rows (want %d): %s\n%s"
                         % (r.rc, len(rows), THREADS + 1, "; ".join(bad[:3]),
                            r.stderr_excerpt()))
        else:
            common.log("PASS thread-local: each of %d threads' storage in LOCAL is a row of "
                       "its own (its dict's address, 2 objects retained)" % THREADS)
        common.check_healthy(t, fails)
    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
