#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: what Cython classes hold in their typed fields (pandas, lxml).

usage: cython_fields.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent, or pandas not importable in it:
       Debian's python3-pandas and python3-lxml serve debian-3.11)

A service caches DataFrames: their data are numpy arrays that pandas' blocks
(Cython classes) hold in typed fields, which are not declared members; an lxml
element holds its document the same way. The target holds 8 DataFrames in a
dict, and lxml elements of 5 documents (the documents only through them); it
computes in-process the closure of gc.get_objects() under gc.get_referents()
plus each array's base, and its arrays' count and sys.getsizeof() total. Checks:
  a  the kind numpy.ndarray: as many objects and bytes as in-process (the build
     before found none of the blocks' arrays: 85 arrays of 135, 10 KB of 400 KB);
  b  --referrers of one frame's block array (by its address): the shortest path
     `__main__.CACHE[3]._mgr.blocks[0].values` (the field named by its
     property's getter);
  c  --referrers of lxml.etree._Document: a shortest path from `__main__.KEEP[`
     through an element's struct (the build before: held by native code; lxml
     absent: skipped); the text report's note on what `.<field +N>` means;
  d  the target still answers ping;
  e  --referrers of a str of one frame's object column "c" (by its address;
     only the column holds it): the shortest path
     `__main__.CACHE[5]._mgr.blocks[B].values[K]`, B the object block's index
     and K the str's place in the block array's memory, as the target finds
     them (numpy reports an object array's elements to no one: the build
     before did not find the column's strs at all).
"""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

TARGET = r"""
import gc, json, sys
import numpy as np
import pandas as pd
try:
    import lxml.etree as et
except ImportError:
    et = None

CACHE = {i: pd.DataFrame({"a": np.arange(2000, dtype=float) + i, "b": np.arange(2000) * i,
                          "c": ["row %d" % j for j in range(2000)]})
         for i in range(8)}
ARRAY = id(CACHE[3]._mgr.blocks[0].values)


def column_str():
    # (Where the 8th str of frame 5's column "c" is: its block, and its place
    # in the memory of the array that owns the block's data.)
    import ctypes
    blocks = CACHE[5]._mgr.blocks
    b = [k for k, blk in enumerate(blocks) if blk.dtype == object][0]
    values = blocks[b].values
    addr = id(CACHE[5]["c"].iloc[7])
    words = (ctypes.c_uint64 * values.size).from_address(values.ctypes.data)
    place = [k for k in range(values.size) if words[k] == addr]
    return {"str": "0x%x" % addr, "block": b, "place": place[0] if place else -1,
            "owner": bool(values.flags["OWNDATA"])}


COLUMN = column_str()
KEEP = []
if et is not None:
    for i in range(5):
        root = et.Element("root", n=str(i))
        for j in range(10):
            et.SubElement(root, "child").text = "t%d" % j
        KEEP.append(root[4])
    del root


def closure():
    seen = {}
    for o in gc.get_objects():
        seen[id(o)] = o
    stack = list(seen.values())
    while stack:
        o = stack.pop()
        refs = list(gc.get_referents(o))
        if isinstance(o, np.ndarray) and o.base is not None:
            refs.append(o.base)
        for r in refs:
            if id(r) not in seen:
                seen[id(r)] = r
                stack.append(r)
    arrays = [0, 0]
    for o in seen.values():
        if type(o) is np.ndarray:
            arrays[0] += 1
            arrays[1] += sys.getsizeof(o)
    return arrays


gc.collect()
gc.disable()
closure()                   # (a dry run: caches it fills exist before the real one)
gc.collect()
arrays = closure()
with open(sys.argv[1], "w") as f:
    json.dump({"arrays": arrays, "array": "0x%x" % ARRAY, "lxml": et is not None,
               "column": COLUMN}, f)
""" + common.SERVE


def main():
    args, tool, python = common.live_test_args(__doc__)
    if not python:
        return common.EXIT_SKIP
    rc, started = common.module_target(python, TARGET, "pandas", "python3-pandas", "pandas target")
    if rc is not None:
        return rc
    target, tmp, truth = started
    fails = []
    try:
        tenv = common.tool_env(os.path.join(tmp, "cache"))
        # a: the arrays, as the in-process census counts them.
        doc = common.run_json(tool, ["--all", target.pid], tenv, "partition", fails)
        if doc is not None:
            got = common.kinds_of(doc).get("numpy.ndarray", (0, 0))
            want = tuple(truth["arrays"])
            if tuple(got) != want:
                fails.append("a numpy.ndarray: tool %d objects, %d bytes; in-process %d, %d"
                             % (got[0], got[1], want[0], want[1]))
            else:
                common.log("PASS a numpy.ndarray: %d objects, %d bytes, as in-process"
                           % (got[0], got[1]))
        # b: the path to a frame's block array.
        doc = common.run_json(tool, ["--referrers", truth["array"], "--paths", "0",
                                     target.pid], tenv, "referrers of a block array", fails)
        if doc is not None:
            paths = [p.get("path", "") for p in doc.get("paths", [])]
            want = "__main__.CACHE[3]._mgr.blocks[0].values"
            if want not in paths:
                fails.append("b: no shortest path %s to %s: %s" % (want, truth["array"],
                                                                   paths[:5]))
            else:
                common.log("PASS b: %s" % want)
        # e: a str of an object column, held only by the block's array.
        col = truth["column"]
        want = "__main__.CACHE[5]._mgr.blocks[%d].values[%d]" % (col["block"], col["place"])
        doc = common.run_json(tool, ["--referrers", col["str"], "--paths", "0", target.pid],
                              tenv, "referrers of a column's str", fails)
        if doc is not None:
            paths = [p.get("path", "") for p in doc.get("paths", [])]
            if not col["owner"] or col["place"] < 0 or paths != [want]:
                fails.append("e: paths %s to the str %s (want [%s]; the block array owns "
                             "its data: %s)" % (paths[:5], col["str"], want, col["owner"]))
            else:
                common.log("PASS e: %s" % want)
        # c: lxml documents, held by their elements' structs.
        if not truth["lxml"]:
            common.log("SKIP c: lxml is not importable (Debian: python3-lxml)")
        else:
            doc = common.run_json(tool, ["--referrers", "lxml.etree._Document", "--paths", "0",
                                         target.pid], tenv, "referrers of the documents", fails)
            if doc is not None:
                paths = [p.get("path", "") for p in doc.get("paths", [])]
                if not any(p.startswith("__main__.KEEP[") for p in paths):
                    fails.append("c: no shortest path from __main__.KEEP to the lxml "
                                 "documents: %s" % paths[:5])
                else:
                    common.log("PASS c: %s" % [p for p in paths
                                               if p.startswith("__main__.KEEP[")][0])
            # The text report says what an unnamed field's label means.
            r = common.run_tool(tool, ["--referrers", "lxml.etree._Document", target.pid],
                                env=tenv)
            text = r.stdout.decode("utf-8", "replace")
            if r.rc != 0 or ".<field +" not in text or "note: .<field +N> is" not in text:
                fails.append("c: the text report has no .<field +N> path with its note "
                             "(%s):\n%s" % (r.describe(), text[-1500:]))
            else:
                common.log("PASS c: the text report explains .<field +N>")
        common.check_healthy(target, fails)
    finally:
        target.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
