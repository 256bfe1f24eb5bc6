#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: --duplicates finds the strs held in many copies of one value.
The target logs 20,000 requests, each with its own copy of 'GET', of one of 7
paths and of one of 100 user names (made at run time, so never shared), a
host name interned with sys.intern() (one object per value: no duplicate), a
non-ASCII name, and a str with a NUL inside (its stored text is cut there: it
must not be merged with others). The tool's rows must give each value's copies
and extra bytes as the target counts them (sys.getsizeof), the paths of the
copies, the same from a snapshot file, and the text table.

usage: duplicates.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent)
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

log = common.log

N = 20000
# Commands on stdin: "truth PATH": the values made and their sizes, as JSON.
TARGET = r"""
import json, os, sys
class Req:
    def __init__(self, i):
        self.method = "".join(["G", "E", "T"])
        self.path = "/api/items/%d" % (i % 7)
        self.user = "user%d" % (i % 100)
        self.host = sys.intern("host%d" % (i % 10))
        self.name = "caf\u00e9-%d" % (i % 3)
        self.blob = "x\x00y%d" % (i % 2)
LOG = [Req(i) for i in range(20000)]
def truth(path):
    # Each value's size, keyed by the values themselves (a literal here
    # would be one more copy, a constant of this code; a local is gone
    # when the tool reads).
    sizes = {}
    for r in LOG:
        for s in (r.method, r.path, r.user, r.name):
            sizes.setdefault(s, sys.getsizeof(s))
    with open(path, "w") as f:
        json.dump(sizes, f)
""" + common.TARGET_SERVE + """serve({"truth": truth})
"""

# value: (copies, attribute)
EXPECT = {"GET": (N, "method"), "/api/items/0": (2858, "path"),
          "/api/items/6": (2857, "path"), "user0": (200, "user"),
          "user99": (200, "user"), "caf\u00e9-0": (6667, "name"),
          "caf\u00e9-2": (6666, "name")}


def check_doc(what, doc, sizes, fails):
    bad = []
    rows = dict((v["value"], v) for v in doc["values"])
    for value, (copies, attr) in sorted(EXPECT.items()):
        size = sizes[value]
        row = rows.get(value)
        if not row:
            bad.append("no row for %r" % value)
        elif row["copies"] != copies or row["extra_bytes"] != (copies - 1) * size:
            bad.append("%r: %d copies, %d extra bytes; the target made %d of %d bytes"
                       % (value, row["copies"], row["extra_bytes"], copies, size))
        elif "paths" in row and (not row["paths"] or row["paths"][0]["path"] !=
                                 "__main__.LOG[*].%s" % attr or
                                 row["paths"][0]["objects"] != copies):
            bad.append("%r: paths %s" % (value, row["paths"][:2]))
    if "paths" not in rows.get("GET", {}):
        bad.append("no paths for 'GET'")
    # One object per interned value; a text cut at a NUL merges nothing (a
    # few genuine 'x' may exist: 3.11's deep-frozen modules have their own).
    for value in ("host0", "host9"):
        if value in rows:
            bad.append("%r reported with %d copies" % (value, rows[value]["copies"]))
    if rows.get("x", {}).get("copies", 0) >= N // 2:
        bad.append("'x' (the strs cut at their NUL) reported with %d copies"
                   % rows["x"]["copies"])
    floor = sum((c - 1) * sizes[v] for v, (c, _) in EXPECT.items())
    if doc["extra_bytes"] < floor:
        bad.append("extra_bytes %d, below the %d of the values checked"
                   % (doc["extra_bytes"], floor))
    if bad:
        fails.append("%s: %s" % (what, "; ".join(bad)))
    else:
        log("PASS %s: %d values checked (copies, extra bytes, paths); interned and "
            "NUL-cut strs not merged; %d extra copies, %d bytes in all"
            % (what, len(EXPECT), doc["extra_copies"], doc["extra_bytes"]))


def body(run):
    tool, target, tmp, env, fails = run.tool, run.target, run.tmp, run.env, run.fails
    sizes = common.target_truth(target, os.path.join(tmp, "truth.json"))
    snap = os.path.join(tmp, "snap.pyheap")
    common.check_live_and_loaded(tool, ["--duplicates", "--all"], target.pid, env, snap,
                                 lambda what, doc: check_doc(what, doc, sizes, fails), fails)
    common.expect_text(tool, ["--duplicates", target.pid], env,
                       re.compile(r"^ +%d +%d  'GET'\n(.|\n)*^  'GET': %d copies \(\d+ bytes\)\n"
                                  r" +%d  __main__\.LOG\[\*\]\.method$"
                                  % (N, (N - 1) * sizes["GET"], N, N), re.M),
                       "--duplicates text: no 'GET' row and path", fails)


if __name__ == "__main__":
    sys.exit(common.live_target_test(__doc__, "duplicates test", TARGET, body))
