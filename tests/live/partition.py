#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: the tool's heap partition of a real CPython process against the
ground truth the target computed in-process.

usage: partition.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent)
"""

import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

EXACT_KINDS = (
    "__main__.Plain",
    "__main__.Slotted",
    "__main__.Materialised",
    "dict of __main__.Materialised",
    "__main__.Node",
    "__main__.ThreadLocalThing",
    "complex",
    "__main__.Backlog",
    "collections.deque",
    "functools._lru_list_elem",
    "_io.BytesIO",
    "_io.BufferedReader",
    "array.array",
    "itertools.product",
    "itertools.combinations",
    "itertools.combinations_with_replacement",
    "itertools.permutations",
    "itertools.groupby",
    "itertools._grouper",
    "odict_iterator",
    "_thread._local",
    "collections.OrderedDict",
    "__main__.LRUCache",
    "xml.etree.ElementTree.Element",
    "_pickle.Pickler",
    "typing.TypeVar",
    "dict of typing.TypeVar",
    "Struct",           # 3.8
    "_struct.Struct",   # 3.9+
    "memoryview",
    "managedbuffer",
    "bytearray",
    "_io.TextIOWrapper",
    "_io.IncrementalNewlineDecoder",
    "StgDict",                  # 3.8 - 3.12: a ctypes type's dict
    "_ctypes.PyCStructType",    # 3.13+: ctypes types, their storage info inside
    "_ctypes.PyCSimpleType",
    "_ctypes.PyCArrayType",
    "_ctypes.PyCPointerType",
    "_ctypes.PyCFuncPtrType",
    "_ctypes.UnionType",
)
# Counts the target builds (sanity of the truth itself, every version).
EXPECTED_TRUTH_COUNTS = {
    "__main__.Plain": 1000,
    "__main__.Slotted": 700,
    "__main__.Materialised": 300,
    "dict of __main__.Materialised": 300,
    "__main__.Node": 50,
    "__main__.ThreadLocalThing": 3,
    "complex": 747,
    "__main__.Backlog": 1,
}
TOTAL_TOLERANCE = 0.01
KIND_TOLERANCE = 0.02
KIND_MIN_OBJECTS = 100
TABLE_ROWS = 25


def rel(a, b):
    """Relative difference of tool value a against truth value b."""
    if b == 0:
        return 0.0 if a == 0 else float("inf")
    return abs(a - b) / float(b)


def parse_tool_json(stdout):
    """(doc, kinds{kind: (count, size)}, problems[])"""
    problems = []
    try:
        doc = json.loads(stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        return None, {}, ["tool stdout is not valid JSON: %s" % e]
    if not isinstance(doc, dict):
        return None, {}, ["tool JSON is not an object"]
    for key in ("pid", "python", "objects", "size", "kinds"):
        if key not in doc:
            problems.append("tool JSON lacks %r" % key)
    kinds = {}
    entries = doc.get("kinds") or []
    if not isinstance(entries, list):
        return doc, {}, problems + ["tool JSON 'kinds' is not a list"]
    last_size = None
    for e in entries:
        try:
            k, c, s = e["kind"], int(e["count"]), int(e["size"])
        except (KeyError, TypeError, ValueError):
            problems.append("malformed kinds entry: %r" % (e,))
            continue
        if k in kinds:
            problems.append("kind %r listed twice" % k)
            c, s = c + kinds[k][0], s + kinds[k][1]
        kinds[k] = (c, s)
        if last_size is not None and s > last_size:
            problems.append("kinds not sorted by size descending at %r" % k)
        last_size = s
    return doc, kinds, problems


def diff_table(truth_kinds, tool_kinds, always=()):
    rows = []
    for k in set(truth_kinds) | set(tool_kinds):
        tc, ts = truth_kinds.get(k, (0, 0))
        oc, os_ = tool_kinds.get(k, (0, 0))
        if (tc, ts) == (oc, os_) and k not in always:
            continue
        rows.append((k, tc, oc, ts, os_))
    # worst first: absolute size difference, then count difference
    rows.sort(key=lambda r: (-(r[0] in always), -abs(r[4] - r[3]), -abs(r[2] - r[1]), r[0]))
    shown = [r for r in rows if r[0] in always]
    shown += [r for r in rows if r[0] not in always][:TABLE_ROWS]
    w = max([len(r[0]) for r in shown] + [4])
    w = min(w, 60)
    lines = ["%-*s %9s %9s %8s %12s %12s %10s %8s" % (
        w, "kind", "truth#", "tool#", "d#", "truth bytes", "tool bytes", "d bytes", "d%")]
    for k, tc, oc, ts, os_ in shown:
        r = rel(os_, ts)
        lines.append("%-*s %9d %9d %+8d %12d %12d %+10d %7s%%" % (
            w, k[:w], tc, oc, oc - tc, ts, os_, os_ - ts,
            "inf" if r == float("inf") else "%.2f" % (100 * r)))
    hidden = len(rows) - len(shown)
    if hidden > 0:
        lines.append("... %d more differing kinds not shown" % hidden)
    return "\n".join(lines)


def compare(truth, doc, tool_kinds):
    """List of failure messages (empty = pass). @tool_kinds: the tool's
    kinds without what it found in pymalloc's blocks alone
    (common.without_pools())."""
    fails = []
    truth_kinds = dict((k, (v[0], v[1])) for k, v in truth["kinds"].items())
    # (@tool_kinds without_pools(); the totals alike: what the tool found in
    # pymalloc's blocks alone, which no gc census sees, apart.)
    pool = doc.get("found_in_pools") or {}

    for k, n in EXPECTED_TRUTH_COUNTS.items():
        got = truth_kinds.get(k, (0, 0))[0]
        if got != n:
            fails.append("TARGET BUG: truth has %d objects of %r, expected %d" % (got, k, n))

    if doc.get("python") != truth["python"]:
        fails.append("python version: tool says %r, target is %r"
                     % (doc.get("python"), truth["python"]))

    for k in EXACT_KINDS:
        t = truth_kinds.get(k, (0, 0))
        o = tool_kinds.get(k, (0, 0))
        if t[0] != o[0]:
            fails.append("exact kind %r: count %d, truth %d" % (k, o[0], t[0]))
        if t[1] != o[1]:
            fails.append("exact kind %r: size %d, truth %d" % (k, o[1], t[1]))

    for name in ("objects", "size"):
        try:
            got = int(doc.get(name)) - int(pool.get(name, 0))
        except (TypeError, ValueError):
            fails.append("tool %r is not a number: %r" % (name, doc.get(name)))
            continue
        want = truth[name]
        if rel(got, want) > TOTAL_TOLERANCE:
            fails.append("total %s: tool %d, truth %d (%.2f%% off, limit %.0f%%)"
                         % (name, got, want, 100 * rel(got, want), 100 * TOTAL_TOLERANCE))

    for k, (tc, ts) in sorted(truth_kinds.items()):
        if tc < KIND_MIN_OBJECTS or k in EXACT_KINDS:
            continue
        if k not in tool_kinds:
            fails.append("kind %r (%d objects in truth) missing from tool output" % (k, tc))
            continue
        oc, os_ = tool_kinds[k]
        if rel(oc, tc) > KIND_TOLERANCE:
            fails.append("kind %r: count %d, truth %d (%.2f%% off, limit %.0f%%)"
                         % (k, oc, tc, 100 * rel(oc, tc), 100 * KIND_TOLERANCE))
        if rel(os_, ts) > KIND_TOLERANCE:
            fails.append("kind %r: size %d, truth %d (%.2f%% off, limit %.0f%%)"
                         % (k, os_, ts, 100 * rel(os_, ts), 100 * KIND_TOLERANCE))
    return fails


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--python", required=True, metavar="LABEL",
                    help="one of " + ", ".join(common.ALL_LABELS))
    args = ap.parse_args()

    python = common.find_interpreter(args.python)
    if not python:
        common.log("SKIP: interpreter %s not found" % args.python)
        return common.EXIT_SKIP
    tool = common.require_tool(args.tool)

    common.log("partition test: %s (%s)" % (args.python, python))
    try:
        target = common.Target.heap(python)
    except common.TargetError as e:
        common.log("FAIL: %s" % e)
        return common.EXIT_FAIL

    fails = []
    try:
        truth = target.load_truth()
        common.log("target pid %d: truth %d objects, %d bytes, %d kinds"
                   % (target.pid, truth["objects"], truth["size"], len(truth["kinds"])))

        res = common.run_tool(tool, ["--json", target.pid])
        common.log(res.describe())
        if res.stderr:
            common.log("tool stderr:\n" + res.stderr_excerpt())

        # The tool has exited: the target must be running and responsive.
        ok, detail = target.check_healthy()
        if not ok:
            fails.append("after the tool: " + detail)

        if res.timed_out or res.rc != 0:
            fails.append("tool failed: rc=%s%s" % (res.rc, " (timeout)" if res.timed_out else ""))
        else:
            doc, tool_kinds, problems = parse_tool_json(res.stdout)
            fails.extend(problems)
            if doc is None:
                common.log("tool stdout (start):\n"
                           + res.stdout[:1000].decode("utf-8", "replace"))
            if doc is not None:
                if doc.get("pid") not in (None, target.pid):
                    fails.append("tool JSON pid %r != %d" % (doc.get("pid"), target.pid))
                common.log("tool: python %s, layout %s, pause %s ms, %s objects, %s bytes, "
                           "%s unreadable, %d kinds"
                           % (doc.get("python"), doc.get("layout_source"), doc.get("pause_ms"),
                              doc.get("objects"), doc.get("size"), doc.get("unreadable"),
                              len(tool_kinds)))
                fails.extend(compare(truth, doc, common.without_pools(doc, tool_kinds)))
                truth_kinds = dict((k, tuple(v)) for k, v in truth["kinds"].items())
                common.log("")
                common.log("totals: objects tool %s truth %d | bytes tool %s truth %d"
                           % (doc.get("objects"), truth["objects"], doc.get("size"), truth["size"]))
                common.log(diff_table(truth_kinds, tool_kinds, always=EXACT_KINDS))

                # Walking while stopped (--read live) must see the same heap as
                # walking the copy made while stopped (the default); so must a
                # live walk within a memory budget of 1 MiB (the target's heap is
                # larger: blocks are dropped and read again, and the tool holds
                # no more of the target's memory than the budget plus what one
                # object spans).
                unbounded_blocks = None
                for extra in (["--read", "live"], ["--read", "live", "--max-copy", "1"]):
                    what = " ".join(extra)
                    live = common.run_tool(tool, ["--json", "--stats"] + extra + [target.pid])
                    if live.rc != 0:
                        fails.append("%s failed: rc=%s" % (what, live.rc))
                        continue
                    ldoc, live_kinds, lproblems = parse_tool_json(live.stdout)
                    fails.extend(lproblems)
                    # The ping in between may leave a bytes object or two.
                    differ = sorted(k for k in set(live_kinds) | set(tool_kinds)
                                    if abs(live_kinds.get(k, (0, 0))[0]
                                           - tool_kinds.get(k, (0, 0))[0]) > 2)
                    if ldoc is not None and differ:
                        fails.append("%s differs from --read copy in %d kinds: %s"
                                     % (what, len(differ), ", ".join(
                                         "%s %s/%s" % (k, live_kinds.get(k), tool_kinds.get(k))
                                         for k in differ[:5])))
                    elif ldoc is not None:
                        common.log("%s: %d kinds, matching --read copy (pause %s ms)"
                                   % (what, len(live_kinds), ldoc.get("pause_ms")))
                    stats = live.stderr.decode("utf-8", "replace")
                    m = re.search(r"memory: copy [0-9.]+ MiB \((\d+) blocks", stats)
                    if m:
                        unbounded_blocks = int(m.group(1))
                    if "--max-copy" in extra:
                        m = re.search(r"cache ([0-9.]+) MiB \((\d+) blocks of 64 KiB at most, "
                                      r"(\d+) dropped", stats)
                        if not m:
                            fails.append("%s: --stats shows no bounded cache: %s"
                                         % (what, live.stderr_excerpt()))
                        else:
                            common.log("%s: cache at most %s MiB, %s blocks dropped and read "
                                       "again (unbounded: %s blocks)"
                                       % (what, m.group(1), m.group(3), unbounded_blocks))
                            # 16 blocks, plus what the roots and one object span
                            # (and never near what the whole heap takes)
                            limit = 64 if unbounded_blocks is None else min(
                                64, unbounded_blocks // 2)
                            if int(m.group(2)) > limit:
                                fails.append("%s: the cache held %s blocks of 64 KiB (budget 16, "
                                             "at most %d allowed; unbounded: %s)"
                                             % (what, m.group(2), limit, unbounded_blocks))

        if fails:
            # Diagnostics: did the heap itself drift since the truth?
            try:
                drift_path = target.truth_path + ".after"
                target.retruth(drift_path)
                with open(drift_path) as f:
                    after = json.load(f)
                common.log("")
                common.log("heap drift since 'ready' (target recomputed its truth): "
                           "objects %+d, bytes %+d"
                           % (after["objects"] - truth["objects"], after["size"] - truth["size"]))
            except (common.TargetError, OSError, ValueError) as e:
                common.log("(could not recompute truth for drift diagnostics: %s)" % e)
    finally:
        target.stop()

    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
