#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: retained sizes (--retained N), as Eclipse MAT's "retained heap".

usage: retained.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent)

The target holds a registry (a __slots__ class, whose size is sys.getsizeof's
on every version) of 50 sessions, each with a payload list of 200 unique
strs; one payload is also held by a module global, so the registry does not
retain it. It writes on its ready line what the registry retains by
construction: itself, its dict, the sessions and the 49 payloads with their
strs (the dict's keys are small ints, shared), in objects and in
sys.getsizeof() bytes. Checks:
  a  --retained 40 --json: an entry whose path is __main__.REG, retaining
     exactly those objects and bytes, and __main__.REG.sessions the same but
     the registry itself;
     what the registry keeps by kind is what it was built of (1
     __main__.Registry, 1 dict (no owner), 50 __main__.Session, 49 list,
     9,800 str: counts and sys.getsizeof() bytes), and __main__.REG.sessions
     is within __main__.REG's row;
  s  --referrers Session --json: the 50 sessions retain together what the
     registry does but itself and its dict (and the text report says so);
  t  --retained --json lists among the roots that alone hold the most the
     frame of a thread's function whose local holds a list of 1,000 unique
     bytes: it retains them (the frame object too, 3.8-3.10, where frames
     are objects), and the text report lists that list with its path,
     thread 0x… (holder) frame hold() <string>:N local 'batch' (3.8-3.10:
     within the row of the frame object);
  h  a thread (sharer) whose two frames both hold a list of 700 unique bytes
     (outer()'s local 'data', passed to inner(), where it blocks): --retained
     --json lists the thread among "threads" retaining the list (and at most
     8 objects, 4,000 bytes more: its frame objects through 3.10), while no
     one root of it does; the text report's threads table has its row;
  k  --threads --json: the sharer thread's stack, innermost first, is the one
     the target reads with sys._getframe() (each frame's function and line:
     inner() at its os.read(), outer(), threading's), its frames #0 and #1
     both hold the list in local 'data' (kind, len, the same address, its
     retained objects and bytes as built); the holder's frame #0 is hold(),
     its local 'batch' retaining what was built; the text report has the
     sharer's line, its frame #0 and the local's row;
  l  --referrers list: the largest list is __main__.BIG (a list of 50,000
     slots), with its sys.getsizeof() size, in JSON and in the text report;
  b  the text report lists __main__.REG with its retained size, and the
     kinds it keeps (9800 str);
  c  the target still answers ping.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

TARGET = r"""
import gc, json, os, sys, threading


class Session(object):
    __slots__ = ("id", "payload")

    def __init__(self, i):
        self.id = i
        self.payload = [("row-%d-%d-" % (i, j)) * 3 for j in range(200)]


class Registry(object):
    __slots__ = ("sessions",)

    def __init__(self):
        self.sessions = dict((i, Session(i)) for i in range(50))


def hold(ready):
    batch = [bytes([i % 256]) * 1000 + str(i).encode() for i in range(1000)]
    HOLD.update(objects=1 + len(batch),
                size=sys.getsizeof(batch) + sum(sys.getsizeof(b) for b in batch))
    ready.set()
    os.read(PIPE[0], 1)   # blocks in C: hold() is the thread's innermost frame


def outer():
    data = [bytes([i % 256]) * 500 + str(i).encode() for i in range(700)]
    SHARE.update(objects=1 + len(data),
                 size=sys.getsizeof(data) + sum(sys.getsizeof(b) for b in data))
    inner(data)


def inner(data):
    f = sys._getframe()
    SHARE["stack"] = [[f.f_code.co_name, f.f_lineno + 6]]   # (this line; +6: os.read())
    f = f.f_back
    while f is not None:
        SHARE["stack"].append([f.f_code.co_name, f.f_lineno])
        f = f.f_back
    SHARED_READY.set()
    os.read(PIPE[0], 1)   # both frames hold data: neither alone, the thread does


HOLD = {}
SHARE = {}
PIPE = os.pipe()
ev = threading.Event()
threading.Thread(target=hold, args=(ev,), name="holder", daemon=True).start()
ev.wait()
del ev
SHARED_READY = threading.Event()
threading.Thread(target=outer, name="sharer", daemon=True).start()
SHARED_READY.wait()
REG = Registry()
SHARED = REG.sessions[7].payload
BIG = [None] * 50000
gc.collect()
objs = [REG, REG.sessions]
for s in REG.sessions.values():
    objs.append(s)
    if s.payload is not SHARED:
        objs.append(s.payload)
        objs.extend(s.payload)
kinds = {}
for o in objs:
    t = type(o)
    k = ("dict (no owner)" if t is dict else t.__name__ if t.__module__ == "builtins"
         else t.__module__ + "." + t.__qualname__)
    c = kinds.setdefault(k, [0, 0])
    c[0] += 1
    c[1] += sys.getsizeof(o)
truth = {"objects": len(objs), "size": sum(sys.getsizeof(o) for o in objs),
         "reg": sys.getsizeof(REG), "sessions": sys.getsizeof(REG.sessions),
         "big": sys.getsizeof(BIG), "hold": HOLD, "share": SHARE,
         "kinds": kinds}
del objs, s, o, t, k, c
READY = "ready " + json.dumps(truth)
""" + common.SERVE


def check_threads(tool, target, truth, doc, fails):
    """h: what a thread's frames alone keep together (the sharer's list, which
    two of its frames hold: no one frame alone)."""
    want = truth["share"]
    threads = dict((t.get("label", "").split(" ", 2)[-1], t) for t in doc.get("threads", []))
    got = threads.get("(sharer)", {})
    extra = (got.get("retained_objects", 0) - want["objects"], got.get("retained", 0) - want["size"])
    # (The thread's other frames' objects: through 3.10 its five frame
    # objects; the locals of threading's own frames, a few.)
    if not 0 <= extra[0] <= 8 or not 0 <= extra[1] <= 4000:
        fails.append("h: the sharer thread retains %r; its list: %d objects, %d bytes (threads: %r)"
                     % (got, want["objects"], want["size"], sorted(threads)))
    else:
        common.log("PASS h: %s retains %d objects, %d bytes (its list: %d, %d)"
                   % (got["label"], got["retained_objects"], got["retained"], want["objects"],
                      want["size"]))
    alone = [r for r in doc.get("roots", []) if "(sharer)" in r.get("root", "")
             and r.get("retained_objects", 0) >= want["objects"]]
    if alone:
        fails.append("h: a root of the sharer thread alone retains its list: %r" % alone)
    r = common.run_tool(tool, ["--retained", "5", target.pid])
    text = r.stdout.decode("utf-8", "replace")
    row = r"^ +%d +\d+ +%d  thread 0x[0-9a-f]+ \(sharer\)$" % (got.get("retained", -1),
                                                              got.get("retained_objects", -1))
    if r.rc != 0 or "Threads by what they alone keep alive" not in text or \
            not re.search(row, text, re.M):
        fails.append("h: the text report has no row for the sharer thread (%s):\n%s"
                     % (r.describe(), text))
    else:
        common.log("PASS h: the text report's threads list the sharer with %d bytes"
                   % got["retained"])


def check_stacks(tool, target, truth, fails):
    """k: --threads: the sharer's stack as the target sees it, with its list in
    both frames; the holder's list in its frame."""
    doc = common.run_json(tool, ["--threads", target.pid], None, "threads", fails)
    if doc is None:
        return
    threads = dict((t.get("label", "").split(" ", 2)[-1], t) for t in doc.get("threads", []))
    sharer, holder = threads.get("(sharer)", {}), threads.get("(holder)", {})
    frames = sharer.get("frames", [])
    got = [[(f.get("function") or "?").split(".")[-1], f.get("line")] for f in frames]
    share, hold = truth["share"], truth["hold"]
    check = "k: the sharer's stack %r, as the target sees it %r" % (got, share["stack"])
    if got != share["stack"]:
        fails.append(check)
    else:
        common.log("PASS " + check)

    def local(frame, name):
        rows = [r for r in frame.get("locals", []) if r.get("label") == "local '%s'" % name]
        return rows[0] if rows else {}

    want = {"objects": share["objects"], "size": share["size"]}
    rows = [local(f, "data") for f in frames[:2]]
    if len(rows) != 2 or any(r.get("kind") != "list" or r.get("len") != share["objects"] - 1 or
                             r.get("retained") != want for r in rows) or \
            rows[0].get("address") != rows[1].get("address"):
        fails.append("k: the sharer's frames #0 and #1 do not both hold its list (len %d, "
                     "retained %r) in local 'data': %r" % (share["objects"] - 1, want, rows))
    else:
        common.log("PASS k: frames #0 and #1 of the sharer hold its list %s in local 'data', "
                   "retained %r" % (rows[0]["address"], want))
    hf = (holder.get("frames") or [{}])[0]
    row = local(hf, "batch")
    if (hf.get("function"), row.get("len"), row.get("retained")) != \
            ("hold", hold["objects"] - 1, {"objects": hold["objects"], "size": hold["size"]}):
        fails.append("k: the holder's frame #0 %r, local 'batch' %r (built: %r)"
                     % (hf.get("function"), row, hold))
    else:
        common.log("PASS k: the holder's frame #0 hold() keeps %d bytes in local 'batch'"
                   % hold["size"])
    r = common.run_tool(tool, ["--threads", target.pid])
    text = r.stdout.decode("utf-8", "replace")
    line = share["stack"][0][1]
    if r.rc != 0 or not re.search(r"^thread 0x[0-9a-f]+ \(sharer\): retained %d bytes"
                                  % sharer.get("retained", {}).get("size", -1), text, re.M) \
            or not re.search(r"^  #0 inner\(\) <string>:%d(  \(retained|$)" % line, text, re.M) \
            or not re.search(r"^ +local 'data' +list +0x[0-9a-f]+ +\d+ +%d  len %d$"
                             % (share["size"], share["objects"] - 1), text, re.M):
        fails.append("k: the text report lacks the sharer's thread, its frame #0 inner() at "
                     "line %d or its local 'data' (%s):\n%s" % (line, r.describe(), text[:3000]))
    else:
        common.log("PASS k: the text report shows the sharer's stack and its local 'data'")


def main():
    args, tool, python = common.live_test_args(__doc__)
    if not python:
        return common.EXIT_SKIP
    fails = []
    try:
        target = common.Target([python, "-c", TARGET], name="registry target")
    except common.TargetError as e:
        common.log("FAIL: %s" % e)
        return common.EXIT_FAIL
    try:
        truth = json.loads(target.ready_line.split(" ", 1)[1])
        doc = common.run_json(tool, ["--retained", "40", target.pid], None, "retained", fails)
        if doc is not None:
            rows = dict((r.get("path"), r) for r in doc.get("retained", []))
            for path, objects, size in (
                    ("__main__.REG", truth["objects"], truth["size"]),
                    ("__main__.REG.sessions", truth["objects"] - 1,
                     truth["size"] - truth["reg"])):
                r = rows.get(path)
                if r is None:
                    fails.append("a: no entry for %s among %s" % (path, sorted(rows)[:12]))
                elif (r.get("retained_objects"), r.get("retained")) != (objects, size):
                    fails.append("a %s: retains %s objects, %s bytes; by construction %d, %d"
                                 % (path, r.get("retained_objects"), r.get("retained"),
                                    objects, size))
                else:
                    common.log("PASS a %s: retains %d objects, %d bytes, as built"
                               % (path, objects, size))
            entries = doc.get("retained", [])
            reg = [k for k, r in enumerate(entries) if r.get("path") == "__main__.REG"]
            r = rows.get("__main__.REG")
            if r is not None:
                got = dict((k.get("kind"), [k.get("count"), k.get("size")])
                           for k in r.get("kinds", []))
                if got != truth["kinds"]:
                    fails.append("a: __main__.REG keeps by kind %s; built of %s"
                                 % (got, truth["kinds"]))
                else:
                    common.log("PASS a: __main__.REG keeps by kind %s, as built" % got)
            r = rows.get("__main__.REG.sessions")
            if r is not None and reg:
                if r.get("within") != reg[0]:
                    fails.append("a: __main__.REG.sessions is within row %s, not %d "
                                 "(__main__.REG's)" % (r.get("within"), reg[0]))
                else:
                    common.log("PASS a: __main__.REG.sessions is within row %d, "
                               "__main__.REG's" % reg[0])
        doc = common.run_json(tool, ["--referrers", "Session", target.pid], None,
                              "referrers", fails)
        want = {"objects": truth["objects"] - 2,
                "size": truth["size"] - truth["reg"] - truth["sessions"]}
        if doc is not None:
            if doc.get("retained") != want:
                fails.append("s: the 50 sessions retain %r; by construction %r"
                             % (doc.get("retained"), want))
            else:
                common.log("PASS s: the 50 sessions retain %d objects, %d bytes, as built"
                           % (want["objects"], want["size"]))
        r = common.run_tool(tool, ["--referrers", "Session", target.pid])
        text = r.stdout.decode("utf-8", "replace")
        if r.rc != 0 or ("Retained: %d objects" % want["objects"]) not in text:
            fails.append("s: the text report does not say 'Retained: %d objects' (%s):\n%s"
                         % (want["objects"], r.describe(), text[:1500]))
        doc = common.run_json(tool, ["--retained", "5", target.pid], None, "roots", fails)
        if doc is not None:
            held = [r for r in doc.get("roots", [])
                    if "(holder) frame hold()" in r.get("root", "")]
            want = truth["hold"]
            got = held[0] if held else {}
            extra = (got.get("retained_objects", 0) - want["objects"],
                     got.get("retained", 0) - want["size"])
            # (3.8-3.10: the frame object too, a few hundred bytes.)
            if not held or extra[0] not in (0, 1) or not 0 <= extra[1] <= 1000 or \
                    (extra[0] == 0) != (extra[1] == 0):
                fails.append("t: no root for the holder thread's frame retaining %d objects, "
                             "%d bytes: %r" % (want["objects"], want["size"],
                                               doc.get("roots")))
            else:
                common.log("PASS t: %s retains %d objects, %d bytes (its list: %d, %d)"
                           % (got["root"], got["retained_objects"], got["retained"],
                              want["objects"], want["size"]))
            r = common.run_tool(tool, ["--retained", "5", target.pid])
            text = r.stdout.decode("utf-8", "replace")
            if r.rc != 0 or not re.search(r"^ +\d+ +%d +\d+ +\d+ +1001 +(-|\d+) +list: thread 0x[0-9a-f]+ "
                                          r"\(holder\) frame hold\(\) <string>:\d+ local 'batch'$"
                                          % truth["hold"]["size"], text, re.M):
                fails.append("t: the text report has no row for the list the holder frame "
                             "keeps in its local 'batch' (%s):\n%s" % (r.describe(), text))
            check_threads(tool, target, truth, doc, fails)
        check_stacks(tool, target, truth, fails)
        doc = common.run_json(tool, ["--referrers", "list", target.pid], None, "largest",
                              fails)
        if doc is not None:
            big = (doc.get("largest") or [{}])[0]
            if (big.get("path"), big.get("size")) != ("__main__.BIG", truth["big"]):
                fails.append("l: the largest list is %r; built: __main__.BIG, %d bytes"
                             % (big, truth["big"]))
            else:
                common.log("PASS l: the largest list is %s, %s, %d bytes"
                           % (big["address"], big["path"], big["size"]))
            r = common.run_tool(tool, ["--referrers", "list", target.pid])
            line = "%s %10d  __main__.BIG" % (big.get("address"), truth["big"])
            if r.rc != 0 or line not in r.stdout.decode("utf-8", "replace"):
                fails.append("l: the text report has no line %r (%s)" % (line, r.describe()))
        r = common.run_tool(tool, ["--retained", "10", target.pid])
        text = r.stdout.decode("utf-8", "replace")
        line = [l for l in text.splitlines() if l.endswith(": __main__.REG")]
        index = line[0].split()[0] if line else None
        keeps = [l for l in text.split("What they keep", 1)[-1].splitlines()
                 if index and l.split()[:1] == [index]]
        if r.rc != 0 or not line or str(truth["size"]) not in line[0]:
            fails.append("b: the text report has no line for __main__.REG retaining %d "
                         "bytes (%s):\n%s" % (truth["size"], r.describe(), text[-1500:]))
        elif not keeps or "9800 str" not in keeps[0]:
            fails.append("b: the text report does not say that row %s keeps 9800 str:\n%s"
                         % (index, text[-2500:]))
        else:
            common.log("PASS b: %s" % line[0].strip())
            common.log("PASS b: %s" % keeps[0].strip())
        common.check_healthy(target, fails)
    finally:
        target.stop()
    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
