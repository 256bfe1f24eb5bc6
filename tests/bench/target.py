# SPDX-License-Identifier: MIT
"""Benchmark target for pyheap-attach (standard library only, CPython 3.8+).

Usage:  python -I -S target.py N

Builds about N live objects reachable from the globals of __main__, mixed:
instances of a class with a __dict__ (every other one with its __dict__
materialised as a dict object), instances of a __slots__ class, dicts, lists,
tuples, strs, ints, floats, bytes and sets -- 10.5 objects per record. Then it
prints "ready <json>" on stdout and serves commands read on stdin, one per line:

  ping      -> "pong"
  rss       -> "rss <bytes>"  (VmRSS of this process)
  baseline  -> "baseline <json>": the in-process equivalent of the tool, timed
               here: gc.get_objects() closed under gc.get_referents(), with
               sys.getsizeof per object, grouped by type (what objgraph /
               pympler / Heapy-style scripts do).  The JSON has ms, objects,
               size (sum of sys.getsizeof = the Python heap size), kinds.
  guppy [DIR] -> "guppy <json>": hpy().heap() timed, when guppy (guppy3) is
               importable (from DIR first, if given); else {"ms": null,
               "why": ...}.
  exit / EOF -> exit 0
"""

import gc
import json
import sys
import time

gc.disable()   # building is faster without collections; re-enabled below


class Rec(object):
    def __init__(self, name, num, pair):
        self.name = name
        self.num = num
        self.pair = pair


class Slot(object):
    __slots__ = ("d", "l", "s")

    def __init__(self, d, l, s):
        self.d = d
        self.l = l
        self.s = s


# Per record: str, int, float, bytes, tuple, dict, list, set, Rec, Slot (10),
# plus the materialised __dict__ of every other Rec (0.5): 10.5 objects.
OBJECTS_PER_RECORD = 10.5


def build(n):
    keep = []
    app = keep.append
    for i in range(int(round(n / OBJECTS_PER_RECORD))):
        s = "s%d" % i                  # str
        num = 100000 + i               # int (never a cached small int)
        f = i + 0.5                    # float
        b = b"b%d" % i                 # bytes
        t = (s, num)                   # tuple
        d = {"k": num, "f": f}         # dict
        l = [f, b]                     # list
        st = {s, num}                  # set
        o = Rec(s, num, t)             # instance with __dict__
        if i & 1:
            o.__dict__                 # materialise the dict object (3.11+)
        p = Slot(d, l, st)             # instance with __slots__
        app(o)
        app(p)
    return keep


def vm_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def baseline():
    """Heapy/objgraph/pympler-style census, timed from start to the grouped,
    sorted result."""
    t0 = time.perf_counter()
    getsizeof = sys.getsizeof
    get_referents = gc.get_referents
    roots = gc.get_objects()
    seen = {id(roots)}
    stack = []
    push = stack.append
    for o in roots:
        i = id(o)
        if i not in seen:
            seen.add(i)
            push(o)
    del roots
    by_type = {}
    while stack:
        o = stack.pop()
        t = type(o)
        e = by_type.get(t)
        if e is None:
            e = by_type[t] = [0, 0]
        e[0] += 1
        e[1] += getsizeof(o)
        for r in get_referents(o):
            i = id(r)
            if i not in seen:
                seen.add(i)
                push(r)
    rows = sorted(((v[1], v[0], getattr(t, "__qualname__", t.__name__))
                   for t, v in by_type.items()), reverse=True)
    ms = (time.perf_counter() - t0) * 1000.0
    return {"ms": ms,
            "objects": sum(r[1] for r in rows),
            "size": sum(r[0] for r in rows),
            "kinds": [{"kind": r[2], "count": r[1], "size": r[0]} for r in rows[:20]]}


def guppy(path=None):
    if path and path not in sys.path:
        sys.path.insert(0, path)
    try:
        try:
            from guppy import hpy
        except ImportError:
            # Started with -S: look in site-packages without running site.py.
            import sysconfig
            for key in ("purelib", "platlib"):
                p = sysconfig.get_paths().get(key)
                if p and p not in sys.path:
                    sys.path.append(p)
            from guppy import hpy
    except Exception as e:   # ImportError, or a broken install
        return {"ms": None, "why": "%s: %s" % (type(e).__name__, e)}
    h = hpy()
    t0 = time.perf_counter()
    heap = h.heap()
    ms = (time.perf_counter() - t0) * 1000.0
    return {"ms": ms, "objects": heap.count, "size": heap.size}


def start_idle_threads(count):
    """Threads that wait forever, as a service's thread pool does: each one's
    stack is address space, mostly never touched."""
    import threading
    stop = threading.Event()
    for _ in range(count):
        threading.Thread(target=stop.wait, daemon=True).start()


def main():
    n = int(sys.argv[1])
    if len(sys.argv) > 2 and int(sys.argv[2]) > 0:
        start_idle_threads(int(sys.argv[2]))
    t0 = time.perf_counter()
    global KEEP
    KEEP = build(n)
    gc.enable()
    gc.collect()      # settle: untrack atomic tuples/dicts as a running app would
    build_ms = (time.perf_counter() - t0) * 1000.0
    out = sys.stdout
    out.write("ready " + json.dumps({"built": (len(KEEP) // 2) * 10 + len(KEEP) // 4,
                                     "build_ms": build_ms, "rss": vm_rss(),
                                     "python": sys.version.split()[0]}) + "\n")
    out.flush()
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "exit":
            break
        if cmd == "ping":
            reply = "pong"
        elif cmd == "rss":
            reply = "rss %d" % vm_rss()
        elif cmd == "baseline":
            reply = "baseline " + json.dumps(baseline())
        elif cmd == "guppy" or cmd.startswith("guppy "):
            reply = "guppy " + json.dumps(guppy(cmd[6:].strip() or None))
        else:
            reply = "error unknown command %r" % cmd
        out.write(reply + "\n")
        out.flush()


if __name__ == "__main__":
    main()
