#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: --fill finds the dicts and sets that deletions left mostly empty.
The target fills a cache dict with 300,000 str keys and deletes all but 3, an
id dict of 100,000 int keys down to 40, a set of 100,000 ints down to 12 and
one of 50 down to 2 (its copy fits the set's own small table), 100 instances
of a dict subclass down to no entry; beside them a dict and a set that only
grew, a dict with a tenth of its entries deleted, and a frozenset, none of
which is mostly empty. Each reported table's entries, size and the size of a
copy must be what the target measures (len, sys.getsizeof of it and of
dict(d) / set(s) / type(d)(d)), with its path; none of the others reported;
the same from a snapshot file; a file without the section read, --fill on it
refused (exit 10); the header's note and the text table.

usage: fill.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent)
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

log = common.log

# Commands on stdin: "truth PATH": each table's length and sizes, as JSON.
TARGET = r"""
import json, os, sys
class Registry(dict):
    pass
CACHE = {}
for i in range(300000):
    CACHE["k%d" % i] = i
for i in range(3, 300000):
    del CACHE["k%d" % i]
IDS = dict.fromkeys(range(100000))
for i in range(40, 100000):
    del IDS[i]
PENDING = set(range(100000))
for i in range(12, 100000):
    PENDING.discard(i)
FEW = set(range(50))
for i in range(2, 50):
    FEW.discard(i)
REGISTRIES = []
for j in range(100):
    r = Registry((i, i) for i in range(200))
    for i in range(200):
        del r[i]
    REGISTRIES.append(r)
GROWN = {i: str(i) for i in range(1000)}
GROWN_SET = set(range(1000))
TRIMMED = {i: i for i in range(1000)}
for i in range(100):
    del TRIMMED[i]
FROZEN = frozenset(range(1000))
def truth(path):
    out = {}
    for name in ("CACHE", "IDS", "PENDING", "FEW", "GROWN", "GROWN_SET", "TRIMMED", "FROZEN"):
        t = globals()[name]
        out[name] = [len(t), sys.getsizeof(t), sys.getsizeof(type(t)(t))]
    out["REGISTRIES"] = [[len(r), sys.getsizeof(r), sys.getsizeof(Registry(r))]
                         for r in REGISTRIES]
    with open(path, "w") as f:
        json.dump(out, f)
""" + common.TARGET_SERVE + """serve({"truth": truth})
"""

SPARSE = {"CACHE": "dict (no owner)", "IDS": "dict (no owner)", "PENDING": "set",
          "FEW": "set"}
NOT_SPARSE = ("GROWN", "GROWN_SET", "TRIMMED", "FROZEN")


def check_doc(what, doc, truth, fails):
    bad = []
    rows = dict((r["path"], r) for r in doc["largest"] if r.get("path"))
    for name, kind in sorted(SPARSE.items()):
        n, size, copy = truth[name]
        row = rows.get("__main__." + name)
        if not row:
            bad.append("no row for %s" % name)
        elif (row["kind"], row["entries"], row["size"], row["copy_size"], row["free"]) != \
                (kind, n, size, copy, size - copy) or row["room"] < 10 * n:
            bad.append("%s: %s; the target: %s, %d entries, %d bytes, a copy %d"
                       % (name, row, kind, n, size, copy))
    for name in NOT_SPARSE:
        if "__main__." + name in rows:
            bad.append("%s reported: %s" % (name, rows["__main__." + name]))
    regs = [r for r in doc["largest"] if r["kind"] == "__main__.Registry"]
    want = truth["REGISTRIES"]
    free = sum(size - copy for _, size, copy in want)
    kinds = dict((k["kind"], k) for k in doc["kinds"])
    reg = kinds.get("__main__.Registry")
    if len(regs) != len(want) or any(
            (r["entries"], r["size"], r["copy_size"]) != tuple(want[0]) for r in regs):
        bad.append("%d registries listed (the target has %d), e.g. %s against %s"
                   % (len(regs), len(want), regs[:1], want[0]))
    elif not reg or (reg["count"], reg["size"], reg["free"]) != \
            (len(want), sum(w[1] for w in want), free):
        bad.append("kind __main__.Registry: %s; the target: %d, %d bytes, %d to free"
                   % (reg, len(want), sum(w[1] for w in want), free))
    # Where the kinds are held, grouped: the registries by their list (the
    # last one by the loop's variable, r, as well).
    held = dict((h["kind"], h) for h in doc.get("held", []))
    paths = dict((p["path"], p["objects"]) for p in held.get("__main__.Registry",
                                                              {}).get("paths", []))
    if paths.get("__main__.REGISTRIES[*]", 0) + paths.get("__main__.r", 0) != len(want):
        bad.append("held: the registries' paths %s" % paths)
    floor = free + sum(truth[n][1] - truth[n][2] for n in SPARSE)
    if doc["free"] < floor or doc["tables"] < len(SPARSE) + len(want):
        bad.append("%d tables, %d bytes to free: below the %d tables, %d bytes made"
                   % (doc["tables"], doc["free"], len(SPARSE) + len(want), floor))
    if bad:
        fails.append("%s: %s" % (what, "; ".join(bad)))
    else:
        log("PASS %s: %d tables checked (entries, sizes, copies' sizes, paths, grouped "
            "paths), %d not "
            "reported; %d tables, %d bytes to free in all"
            % (what, len(SPARSE) + len(want), len(NOT_SPARSE), doc["tables"], doc["free"]))


def body(run):
    tool, target, tmp, env, fails = run.tool, run.target, run.tmp, run.env, run.fails
    truth = common.target_truth(target, os.path.join(tmp, "truth.json"))
    snap = os.path.join(tmp, "snap.pyheap")
    common.check_live_and_loaded(tool, ["--fill", "--all"], target.pid, env, snap,
                                 lambda what, doc: check_doc(what, doc, truth, fails), fails)
    # A file without the tables (section 69: as a writer before it wrote
    # them) is read, and --fill says it lacks them (exit 10).
    common.expect_old_snapshot(tool, env, snap, 69, "--fill", "older pyheap-attach", fails)
    # The text: the header's note, the kinds, the largest with their paths.
    n, size, copy = truth["CACHE"]
    common.expect_text(tool, [target.pid], env,
                       re.compile(r"^note: \d+ dicts and sets are mostly empty .*: see --fill$",
                                  re.M), "text: no note pointing to --fill", fails)
    common.expect_text(tool, ["--fill", target.pid], env,
                       re.compile(r"^ +\d+ +%d +\d+ +\d+  __main__\.Registry$(.|\n)*"
                                  r"^  0x[0-9a-f]+ +%d +\d+ +[0-9.]+ [KM]iB +%d B  "
                                  r"dict \(no owner\): __main__\.CACHE$"
                                  % (len(truth["REGISTRIES"]), n, copy), re.M),
                       "--fill text: no Registry row or CACHE line", fails)


if __name__ == "__main__":
    sys.exit(common.live_target_test(__doc__, "fill test", TARGET, body))
