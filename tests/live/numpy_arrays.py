#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: numpy arrays, a third-party C type, sized and linked as in-process.

usage: numpy_arrays.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent, or numpy not importable in it:
       Debian's python3-numpy serves debian-3.11)

A service's arrays hold their data outside the object: sys.getsizeof() of an
array that owns its data counts them, and a view (a slice, a transpose) keeps
the array it was cut from alive through its `base`, which numpy does not report
to the GC. The target holds owned arrays (C and Fortran order, 0-d, empty,
int8, structured, complex, an ndarray subclass) and views of a 1M-element
array that only the views hold; it computes in-process the closure of
gc.get_objects() under gc.get_referents() plus each array's base, and the count
and sys.getsizeof() total of its arrays by kind. Checks:
  a  each array the target made, the base included: found, with the size
     sys.getsizeof() gives (before, the data of every array was left out, and
     the 8 MB base held only by views was not found at all); the kinds
     numpy.ndarray and __main__.Tagged: as many objects and bytes as
     in-process, the arrays that only numpy's own Cython objects hold included
     (numpy.random's SeedSequence keeps its pool in a typed field, not a
     declared member: the build before found none of them);
  b  --referrers of the base array (by its address): a shortest path through
     a view's `base`;
  c  the target still answers ping;
  d  --referrers of the pool of a SeedSequence the target holds: the shortest
     path `__main__.SEQ.pool` (a Cython typed field, held by a word of the
     struct and named by the machine code of its property's getter);
  e  object arrays (dtype=object: their elements are references, which numpy
     reports to no one): `--referrers Row`, ROWS Row objects in a 1-d array
     that __main__.ROWS holds (a view of every other one, __main__.EVERY_OTHER,
     holds no reference of its own): one path group `__main__.ROWS[*]`, and
     the 7th by its address `__main__.ROWS[7]`; `--referrers Cell`, the cells
     of a 3x4 Fortran-order array: `__main__.GRID[*]` (before: `<held by
     native code (1 ref unaccounted)>`).
"""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

KINDS = ("numpy.ndarray", "__main__.Tagged")

TARGET = r"""
import gc, json, sys
import numpy as np


class Tagged(np.ndarray):
    pass


big = np.arange(1000000)
BASE = id(big)
views = [big[::1000], big.reshape(1000, 1000).T, big[10:20]]
del big
arrays = [np.zeros(100000), np.zeros((30, 40), order="F"), np.array(5.0), np.zeros(0),
          np.ones((3, 0)), np.zeros(7, dtype=np.int8),
          np.zeros(5, dtype=[("a", "i4"), ("b", "f8")]), np.zeros(3, dtype=complex),
          np.arange(12).view(Tagged)]
SEQ = np.random.SeedSequence(2 ** 100)


class Row(object):
    pass


class Cell(object):
    pass


ROWS = np.empty(150, dtype=object)
for i in range(len(ROWS)):
    ROWS[i] = Row()
EVERY_OTHER = ROWS[::2]
GRID = np.empty((3, 4), dtype=object, order="F")
for i in range(3):
    for j in range(4):
        GRID[i, j] = Cell()


def closure(blind):
    # (blind: not through the referents of numpy.random's Cython objects)
    objs = gc.get_objects()
    seen = {}
    for o in objs:
        seen[id(o)] = o
    stack = list(seen.values())
    while stack:
        o = stack.pop()
        if blind and type(o).__module__.startswith("numpy.random"):
            continue
        refs = list(gc.get_referents(o))
        if isinstance(o, np.ndarray) and o.base is not None:
            refs.append(o.base)
        for r in refs:
            if id(r) not in seen:
                seen[id(r)] = r
                stack.append(r)
    kinds = {}
    for o in seen.values():
        if isinstance(o, np.ndarray):
            t = type(o)
            name = t.__module__ + "." + t.__qualname__
            k = kinds.setdefault(name, [0, 0])
            k[0] += 1
            k[1] += sys.getsizeof(o)
    return kinds


def truth():
    kinds, visible = closure(False), closure(True)
    hidden = dict((k, [v[0] - visible.get(k, [0, 0])[0], v[1] - visible.get(k, [0, 0])[1]])
                  for k, v in kinds.items())
    return kinds, hidden


gc.collect()
gc.disable()
truth()                     # (a dry run: caches it fills exist before the real one)
gc.collect()
kinds, hidden = truth()
mine = {"0x%x" % BASE: sys.getsizeof(views[0].base)}
for a in views + arrays:
    mine["0x%x" % id(a)] = sys.getsizeof(a)
with open(sys.argv[1], "w") as f:
    json.dump({"kinds": kinds, "hidden": hidden, "base": "0x%x" % BASE, "mine": mine,
               "pool": "0x%x" % id(SEQ.pool), "rows": len(ROWS), "row7": "0x%x" % id(ROWS[7]),
               "cells": GRID.size}, f)
del a
""" + common.SERVE


def main():
    args, tool, python = common.live_test_args(__doc__)
    if not python:
        return common.EXIT_SKIP
    rc, started = common.module_target(python, TARGET, "numpy", "python3-numpy", "numpy target")
    if rc is not None:
        return rc
    target, tmp, truth = started
    fails = []
    try:
        tenv = common.tool_env(os.path.join(tmp, "cache"))
        # a: the target's own arrays one by one, then the kinds.
        snap = os.path.join(tmp, "s.pyheap")
        doc = common.run_json(tool, ["--all", "-o", snap, target.pid], tenv, "partition",
                              fails)
        if doc is not None:
            objects = common.snapshot_objects(snap)
            bad = [(a, size, objects.get(int(a, 16))) for a, size in truth["mine"].items()
                   if objects.get(int(a, 16)) != size]
            if bad:
                fails.append("a: arrays missing or of another size (address, "
                             "sys.getsizeof, tool): %s" % bad)
            else:
                common.log("PASS a: the target's %d arrays, each of its sys.getsizeof() "
                           "size (%d bytes in all)" % (len(truth["mine"]),
                                                        sum(truth["mine"].values())))
            tool_kinds = common.kinds_of(doc)
            for k in KINDS:
                want = truth["kinds"].get(k, [0, 0])
                hidden = truth["hidden"].get(k, [0, 0])
                got = tool_kinds.get(k, (0, 0))
                if tuple(got) != tuple(want):
                    fails.append("a %s: tool %d objects, %d bytes; in-process %d, %d, of "
                                 "which numpy's Cython objects alone hold %d, %d"
                                 % (k, got[0], got[1], want[0], want[1], hidden[0],
                                    hidden[1]))
                else:
                    common.log("PASS a %s: %d objects, %d bytes, as in-process (%d of them "
                               "only numpy's Cython objects hold)" % (k, got[0], got[1],
                                                                     hidden[0]))
        # b: the base that only views hold, and the path to it.
        doc = common.run_json(tool, ["--referrers", truth["base"], "--paths", "0", target.pid],
                              tenv, "referrers of the base", fails)
        if doc is not None:
            paths = [p.get("path", "") for p in doc.get("paths", [])]
            if not any(p.endswith(".base") and "__main__.views[" in p for p in paths):
                fails.append("b: no shortest path through a view's base to %s: %s"
                             % (truth["base"], paths[:5]))
            else:
                common.log("PASS b: %s" % [p for p in paths if p.endswith(".base")][0])
        # d: an array only a Cython object's typed field holds.
        doc = common.run_json(tool, ["--referrers", truth["pool"], "--paths", "0", target.pid],
                              tenv, "referrers of the pool", fails)
        if doc is not None:
            paths = [p.get("path", "") for p in doc.get("paths", [])]
            if "__main__.SEQ.pool" not in paths:
                fails.append("d: no shortest path __main__.SEQ.pool to the pool %s: %s"
                             % (truth["pool"], paths[:5]))
            else:
                common.log("PASS d: %s" % [p for p in paths if "SEQ" in p][0])
        # e: object arrays' elements.
        for what, count, want in (("Row", truth["rows"], {"__main__.ROWS[*]": truth["rows"]}),
                                  (truth["row7"], 1, {"__main__.ROWS[7]": 1}),
                                  ("Cell", truth["cells"], {"__main__.GRID[*]": truth["cells"]})):
            r, doc = common.referrers_json(tool, what, [str(target.pid)], env=tenv)
            paths = common.paths_of(doc)
            if r.rc != 0 or not doc or doc.get("objects") != count or paths != want:
                fails.append("e %s: exit %s, objects %s (want %d), paths %r (want %r)\n%s"
                             % (what, r.rc, (doc or {}).get("objects"), count, paths, want,
                                r.stderr_excerpt()))
            else:
                common.log("PASS e %s: %d, %s" % (what, count, ", ".join(paths)))
        common.check_healthy(target, fails)
    finally:
        target.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
