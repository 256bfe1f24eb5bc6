#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: --duplicates finds the strs and bytes held in many copies of one
value. The target logs 20,000 requests, each with its own copy of 'GET', of
one of 7 paths and of one of 100 user names (made at run time, so never
shared), a host name interned with sys.intern() (one object per value: no
duplicate), a non-ASCII name, and a str with a NUL inside (its stored text is
cut there: compared by a hash of its value, not merged with 'x'). It also
holds values longer than the text the snapshot keeps, compared by a hash: 300
copies of a 5,013-character page, 200 of a 1,000-character str of 2 bytes per
character and 50 of 4, 150 copies of a 15,000-byte bytes, 100 strs of 1,000
characters that differ only in their last one (10 values of 10 copies), and
two that differ only in their middle one (not duplicates). The tool's rows
must give each value's copies and extra bytes as the target counts them
(sys.getsizeof), the paths of the copies, the same from a snapshot file, and
the text table; a snapshot file without the hashes (an older writer's) still
compares the short strs.

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
# Longer than the text a snapshot keeps (made at run time: no constant).
PAGE = ["".join(["<html>", "x" * 5000, "</html>"]) for i in range(300)]
WIDE = ["".join(["\u20ac", "w" * 999]) for i in range(200)]
ASTRAL = ["".join(["\U0001f600", "a" * 299]) for i in range(50)]
BLOBS = [b"".join([b"\x00\x01blob"] * 2500) for i in range(150)]
NEAR = ["".join(["n" * 999, str(i % 10)]) for i in range(100)]
MID = ["".join(["m" * 500, c, "m" * 499]) for c in "AB"]
def truth(path):
    # Each value's size, keyed by the values themselves (a literal here
    # would be one more copy, a constant of this code; a local is gone
    # when the tool reads).
    sizes = {}
    for r in LOG:
        for s in (r.method, r.path, r.user, r.name):
            sizes.setdefault(s, sys.getsizeof(s))
    # By preview (repr() of the first 40 characters, unquoted) and length:
    # the copies of each value (NEAR's ten values share theirs).
    long = {}
    for name in ("PAGE", "WIDE", "ASTRAL", "BLOBS", "NEAR", "MID", "CUT"):
        counts = {}
        for v in ([r.blob for r in LOG] if name == "CUT" else globals()[name]):
            counts[v] = counts.get(v, 0) + 1
        for v, c in counts.items():
            key = "%s/%d" % (repr(v[:40])[2 if name == "BLOBS" else 1:-1], len(v))
            row = long.setdefault(key, {"name": name, "size": sys.getsizeof(v),
                                        "copies": []})
            row["copies"].append(c)
    with open(path, "w") as f:
        json.dump({"short": sizes, "long": long}, f)
""" + common.TARGET_SERVE + """serve({"truth": truth})
"""

# value: (copies, attribute)
EXPECT = {"GET": (N, "method"), "/api/items/0": (2858, "path"),
          "/api/items/6": (2857, "path"), "user0": (200, "user"),
          "user99": (200, "user"), "caf\u00e9-0": (6667, "name"),
          "caf\u00e9-2": (6666, "name")}


def check_doc(what, doc, truth, fails):
    sizes = truth["short"]
    bad = []
    rows = dict((v["value"], v) for v in doc["values"] if v["value"] is not None)
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
    # The values compared by hash: each as the target counts it (its preview,
    # as repr() shows its first 40 characters, and its length name it).
    hashed = {}
    for v in doc["values"]:
        if v["value"] is None:
            hashed.setdefault("%s/%d" % (v["preview"], v["length"]), []).append(v)
    for key, t in sorted(truth["long"].items()):
        name, size = t["name"], t["size"]
        want = sorted(c for c in t["copies"] if c >= 2)
        rows = hashed.get(key, [])
        got = sorted(r["copies"] for r in rows)
        kinds = set(r["kind"] for r in rows)
        floor += sum((c - 1) * size for c in want)
        if got != want or any(r["extra_bytes"] != (r["copies"] - 1) * size for r in rows):
            bad.append("%s: rows of %s copies (%s extra bytes); the target made values "
                       "of %s copies of %d bytes" % (name, got[:12],
                                                     [r["extra_bytes"] for r in rows][:12],
                                                     want[:12], size))
        elif rows and kinds != set(["bytes" if name == "BLOBS" else "str"]):
            bad.append("%s: kinds %s" % (name, sorted(kinds)))
        elif name in ("PAGE", "BLOBS") and (
                not rows[0].get("paths") or
                rows[0]["paths"][0] != {"path": "__main__.%s[*]" % name,
                                        "objects": want[0]}):
            bad.append("%s: paths %s" % (name, rows[0].get("paths", "none")[:2]))
    if not doc["hashes"] or doc["bytes"] < 150 or doc["hashed_strs"] < 20000 + 650:
        bad.append("hashes %s, %d bytes and %d strs compared by hash"
                   % (doc["hashes"], doc["bytes"], doc["hashed_strs"]))
    if doc["extra_bytes"] < floor:
        bad.append("extra_bytes %d, below the %d of the values checked"
                   % (doc["extra_bytes"], floor))
    if bad:
        fails.append("%s: %s" % (what, "; ".join(bad)))
    else:
        log("PASS %s: %d short and %d long values checked (copies, extra bytes, paths); "
            "interned strs and near-duplicates not merged; %d extra copies, %d bytes in all"
            % (what, len(EXPECT), sum(len(t["copies"]) for t in truth["long"].values()),
               doc["extra_copies"], doc["extra_bytes"]))


def check_old(tool, env, snap, truth, fails):
    """A snapshot file without the values' hashes (section 71, VALUE_HASHES):
    the short strs are compared as before, the others counted apart."""
    old = snap + ".old"
    common.snapshot_without(snap, old, (71,))
    doc = common.run_json(tool, ["--duplicates", "--all", "--load", old], env,
                          "--duplicates on a file without hashes", fails)
    if doc is None:
        return
    get = dict((v["value"], v["copies"]) for v in doc["values"])
    longs = sum(sum(t["copies"]) for t in truth["long"].values() if t["name"] != "BLOBS")
    if (doc["hashes"] or doc["bytes"] or doc["hashed_strs"] or doc["other_strs"] < longs or
            get.get("GET") != N or any(v["value"] is None for v in doc["values"])):
        fails.append("--duplicates on a file without hashes: hashes %s, %d bytes, %d strs "
                     "by hash, %d others (at least %d), 'GET' %s copies"
                     % (doc["hashes"], doc["bytes"], doc["hashed_strs"], doc["other_strs"],
                        longs, get.get("GET")))
    else:
        log("PASS a file without hashes: 'GET' %d copies, %d strs not compared"
            % (N, doc["other_strs"]))


def body(run):
    tool, target, tmp, env, fails = run.tool, run.target, run.tmp, run.env, run.fails
    sizes = common.target_truth(target, os.path.join(tmp, "truth.json"))
    snap = os.path.join(tmp, "snap.pyheap")
    common.check_live_and_loaded(tool, ["--duplicates", "--all"], target.pid, env, snap,
                                 lambda what, doc: check_doc(what, doc, sizes, fails), fails)
    # Within a memory budget (the values read past the cache).
    doc = common.run_json(tool, ["--duplicates", "--all", "--read", "live", "--max-copy", "1",
                                 target.pid], env, "--duplicates --read live", fails)
    if doc is not None:
        check_doc("--duplicates --read live --max-copy 1", doc, sizes, fails)
    check_old(tool, env, snap, sizes, fails)
    page = [t for t in sizes["long"].values() if t["name"] == "PAGE"][0]
    common.expect_text(tool, ["--duplicates", target.pid], env,
                       re.compile(r"^ +300 +%d  '<html>x{34}'… \(5013 characters\)\n"
                                  r"(.|\n)*^ +%d +%d  'GET'\n(.|\n)*"
                                  r"^  'GET': %d copies \(\d+ bytes\)\n"
                                  r" +%d  __main__\.LOG\[\*\]\.method$"
                                  % (299 * page["size"], N, (N - 1) * sizes["short"]["GET"], N, N),
                                  re.M),
                       "--duplicates text: no page row, or no 'GET' row and path", fails)


if __name__ == "__main__":
    sys.exit(common.live_target_test(__doc__, "duplicates test", TARGET, body))
