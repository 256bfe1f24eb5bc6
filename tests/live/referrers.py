#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: `pyheap-attach --referrers` on the classic leak stories
(tests/targets/leak_stories.py) against the truth the target computed
in-process with gc.get_referrers() and paths known by construction.

usage: referrers.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent)

Checks (one line each, PASS/FAIL):
  story:<select>   per story, `--referrers SELECT --json --paths 0`:
                   selected kind, object count, referrer kinds and counts,
                   their combinations, weak referrers (never in a path or
                   in the reference pattern), the expected path groups with their
                   counts (and nothing through a weak reference), the
                   number of unreachable objects
  pattern          the reference pattern of Request (list <- 300 objects,
                   dict of module __main__ via key 'memory_leak')
  text             the text report of Request
  ambiguous        `--referrers Twin`: exit 2, both candidates on stderr
  misspelt         `--referrers Requets`: exit 2, closest kind on stderr
  address          `--referrers 0xADDRESS` of one Request: 1 object,
                   path __main__.memory_leak[7] (or grouped [*])
  grouped path     each story's grouped paths (`__main__.sessions[*].event`,
                   `thread 0x… (MainThread) state dict['…'][*]`, `atexit
                   callbacks[*].func.__self__`…) pasted back as --referrers
                   PATH: the group is selected, its objects as many as the
                   story has there
  values           what an object of floats and bytes holds: each value as
                   repr() writes it in the target (shortest digits, 1e+16,
                   5e-324, -0.0, -inf, nan; b"it's…", b'say "hi"', a long
                   one cut after 40 bytes; bytearrays (empty, quotes, long,
                   one whose front was deleted); strs' quotes; datetime's dates,
                   times, datetimes and timedeltas; a bound method by its
                   function's qualified name; ints past 2^60, up to 2^210;
                   decimal.Decimal: plain, exponents, NaN, Infinity; complex
                   numbers (2j, (-0-1j), (1e+16+nanj)...); a str with what
                   repr() escapes past ASCII (NBSP, U+200B, U+2028, U+0085,
                   U+FEFF, U+2066, private use) beside what it prints; a cell
                   by its contents, an empty one; an enum's members, also
                   IntEnum's, IntFlag's and a str enum's; uuid.UUID; time
                   zones: timezone.utc, offsets with and without a name,
                   zoneinfo's by key, a tzinfo class of its own by kind
                   and address; a datetime
                   parsed with an offset retains its zone and the zone's
                   offset, which the gc module does not see),
                   JSON and text
  holds by reference  `--referrers Request`: what all the Requests hold, by
                   attribute (references, distinct objects, their sizes, as
                   the target counts them; the class once), by retained size
  holds            what that Request holds (JSON "holds" and the text's
                   "What it holds"): each attribute by label, address, kind,
                   size, repr() of a str or bytes, len() of a dict and what it alone
                   keeps, and its class; through 3.10 after the row of its
                   __dict__ (whose len() is the attributes'); the same
                   Request by its path (__main__.memory_leak[7]), the list by
                   its own (its len() the target's), the LocalOnly by its path
                   from the thread (`thread 0x… (sleeper) frame … local 'x'`),
                   the NativePayload by `<held by native code (1 ref
                   unaccounted)>.payload`;
                   every Request's headers by `__main__.memory_leak[*].headers`
                   (as many dicts, as many bytes as the target counts; what
                   they hold: their one key's strs, by that key)
  partition-text   plain partition: GC-disabled warning, cyclic garbage note
  partition-json   JSON partition: gc_enabled false, garbage.objects; --load of
                   the run's snapshot (-o) prints the same JSON (the garbage
                   counted from the graph alone)
  consistency      each story's objects and size equal its partition row;
                   `--referrers dict` the partition's dict kinds together
  limits           --paths 2 gives 2 path groups, --depth 1 a pattern of depth 1
  healthy          the target runs and answers ping after all of this

Referrer kinds: the tool's '<frame locals>' pseudo-kind (a reference from a
thread's frame stack that is not an object: 3.11+ _PyInterpreterFrame
locals) has no counterpart in gc.get_referrers(), which only reports GC
objects.  It is accepted only for the story whose objects are held by a
thread's local (LocalOnly), only when the truth has no row for a frame
object there, and only with the story's object count.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

TARGET_SCRIPT = os.path.join(common.REPO, "tests", "targets", "leak_stories.py")
FRAME_PSEUDO_KIND = "<frame locals>"
EXIT_USAGE = 2
JSON_KEYS = ("pid", "python", "type", "objects", "size", "referrers", "combinations",
             "weak_referrers", "pattern", "paths", "unreachable")


def start_target(python):
    tmp = tempfile.mkdtemp(prefix="pyheap-truth-")
    truth_path = os.path.join(tmp, "truth.json")
    try:
        target = common.Target([python] + list(common.TARGET_FLAGS)
                               + [TARGET_SCRIPT, truth_path],
                               name="leak stories (%s)" % python)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    target._truth_dir = tmp
    target.truth_path = truth_path
    return target


def cmdline(res):
    """The tool's command line, ready to paste into a shell."""
    return " ".join(shlex.quote(str(a)) for a in res.argv)


def rows(doc, key, name="kind"):
    """{name: count} of a JSON list of rows, plus problems."""
    out, problems = {}, []
    entries = doc.get(key)
    if not isinstance(entries, list):
        return out, ["JSON %r is not a list: %r" % (key, entries)]
    last = None
    for e in entries:
        try:
            k, c = e[name], int(e["count" if key != "paths" else "objects"])
        except (KeyError, TypeError, ValueError):
            problems.append("malformed %r entry: %r" % (key, e))
            continue
        if k in out:
            problems.append("%r: %r listed twice" % (key, k))
        out[k] = out.get(k, 0) + c
        if last is not None and c > last:
            problems.append("%r not sorted by count descending at %r" % (key, k))
        last = c
    return out, problems


def fmt_table(truth, tool):
    keys = sorted(set(truth) | set(tool), key=lambda k: (-max(truth.get(k, 0), tool.get(k, 0)), k))
    w = max([len(k) for k in keys] + [4])
    lines = ["    %-*s %7s %7s" % (w, "kind", "truth", "tool")]
    for k in keys:
        t, o = truth.get(k), tool.get(k)
        mark = "" if t == o else "   <-- differs"
        lines.append("    %-*s %7s %7s%s" % (w, k, "-" if t is None else t,
                                               "-" if o is None else o, mark))
    return "\n".join(lines)


class Checker(object):
    def __init__(self, tool, target, truth):
        self.tool = tool
        self.target = target
        self.truth = truth
        self.results = []   # (name, ok, [messages])
        self.details = []   # text shown for failures

    def record(self, name, fails, detail=None):
        self.results.append((name, not fails, fails))
        common.log("%s: %s" % ("PASS" if not fails else "FAIL", name))
        for f in fails:
            common.log("    - " + f)
        if fails and detail:
            common.log(detail)

    def run(self, *args):
        res = common.run_tool(self.tool, list(args) + [self.target.pid])
        return res

    def run_json(self, *args):
        """(doc or None, res, fails)."""
        res = self.run(*(list(args) + ["--json"]))
        fails = []
        if res.timed_out or res.rc != 0:
            fails.append("%s: %s" % (res.describe(), res.stderr_excerpt(800).strip()))
            return None, res, fails
        try:
            doc = json.loads(res.stdout.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            fails.append("%s: stdout is not JSON: %s" % (res.describe(), e))
            return None, res, fails
        if not isinstance(doc, dict):
            return None, res, ["JSON is not an object"]
        return doc, res, fails

    # -- one story ---------------------------------------------------------
    def story(self, st):
        name = "story:%s (%s)" % (st["select"], st["name"])
        doc, res, fails = self.run_json("--referrers", st["select"], "--paths", "0")
        if doc is None:
            self.record(name, fails)
            return
        for k in JSON_KEYS:
            if k not in doc:
                fails.append("JSON lacks %r" % k)
        if doc.get("pid") not in (None, self.target.pid):
            fails.append("JSON pid %r != %d" % (doc.get("pid"), self.target.pid))
        if doc.get("python") != self.truth["python"]:
            fails.append("python %r, target is %r" % (doc.get("python"), self.truth["python"]))
        if doc.get("type") != st["kind"]:
            fails.append("type %r, expected %r" % (doc.get("type"), st["kind"]))
        if doc.get("objects") != st["objects"]:
            fails.append("objects %r, truth %d" % (doc.get("objects"), st["objects"]))

        referrers, p1 = rows(doc, "referrers")
        weak, p2 = rows(doc, "weak_referrers")
        paths, p3 = rows(doc, "paths", name="path")
        fails.extend(p1 + p2 + p3)
        truth_refs = dict(st["referrers"])
        detail = ["    command: %s" % cmdline(res),
                  "    referrers (truth = gc.get_referrers in the target):",
                  fmt_table(truth_refs, referrers)]

        # Referrer kinds and counts.
        tool_refs = dict(referrers)
        frame = tool_refs.get(FRAME_PSEUDO_KIND)
        if frame is not None:
            if st.get("frame_story") and "frame" not in truth_refs and frame == st["objects"]:
                del tool_refs[FRAME_PSEUDO_KIND]       # see the module docstring
        if st.get("exact", True):
            for k in sorted(set(truth_refs) | set(tool_refs)):
                if truth_refs.get(k) != tool_refs.get(k):
                    fails.append("referrer kind %r: tool %s, truth %s"
                                 % (k, tool_refs.get(k, "-"), truth_refs.get(k, "-")))
        else:
            for k in st.get("holders", ()):
                if truth_refs.get(k) != tool_refs.get(k):
                    fails.append("holder kind %r: tool %s, truth %s"
                                 % (k, tool_refs.get(k, "-"), truth_refs.get(k, "-")))
        if st.get("frame_story"):
            # The local must show up somewhere: a frame object (<= 3.10) or
            # the pseudo-kind.
            if not (referrers.get(FRAME_PSEUDO_KIND) or referrers.get("frame")):
                fails.append("no frame referrer ('frame' or %r) for an object held by a "
                             "thread's local" % FRAME_PSEUDO_KIND)

        # Combinations of referrer kinds (the same '<frame locals>'
        # allowance: dropped from the tool's rows where it was accepted).
        combos, p4 = rows(doc, "combinations", name="kinds")
        fails.extend(p4)
        if FRAME_PSEUDO_KIND in referrers and FRAME_PSEUDO_KIND not in tool_refs:
            fixed = {}
            for k, n in combos.items():
                parts = [x for x in k.split(" | ") if x != FRAME_PSEUDO_KIND]
                k = " | ".join(parts) if parts else "<no referrers>"
                fixed[k] = fixed.get(k, 0) + n
            combos = fixed
        if st.get("exact", True) and combos != st["combinations"]:
            fails.append("combinations %r, truth %r" % (combos, st["combinations"]))

        # Weak referrers.
        if weak != st["weak_referrers"]:
            fails.append("weak_referrers %r, truth %r" % (weak, st["weak_referrers"]))
        for k in st["weak_referrers"]:
            if k in referrers:
                fails.append("weak referrer kind %r also listed as a strong referrer" % k)

        # Paths.
        for p, n in sorted(st["paths"].items()):
            if p not in paths:
                fails.append("path %r (%d objects) missing" % (p, n))
            elif paths[p] != n:
                fails.append("path %r: %d objects, expected %d" % (p, paths[p], n))
        if not st.get("partial_paths"):
            for p in sorted(set(paths) - set(st["paths"])):
                fails.append("unexpected path %r (%d objects)" % (p, paths[p]))
        for word in st.get("forbid_in_paths", ()):
            for p in paths:
                if word in p:
                    fails.append("path %r goes through a weak reference (%r)" % (p, word))
        pattern = doc.get("pattern") or []
        for word in st.get("forbid_in_pattern", ()):
            for e in pattern:
                if isinstance(e, dict) and word in str(e.get("kind")):
                    fails.append("reference pattern goes through a weak reference: %r" % (e,))
        want_unreach = st.get("unreachable", 0)
        if doc.get("unreachable") != want_unreach and (not st.get("partial_paths")
                                                        or want_unreach):
            fails.append("unreachable %r, expected %d" % (doc.get("unreachable"), want_unreach))
        if isinstance(doc.get("objects"), int) and isinstance(doc.get("unreachable"), int):
            if sum(paths.values()) + doc["unreachable"] != doc["objects"]:
                fails.append("paths cover %d objects + %d unreachable != %d objects"
                             % (sum(paths.values()), doc["unreachable"], doc["objects"]))
        shown = sorted(paths.items(), key=lambda kv: -kv[1])
        detail.append("    paths (tool, %d groups):" % len(shown))
        for p, n in shown[:12]:
            mark = "" if st["paths"].get(p) == n else ("   <-- expected %s" % st["paths"][p]
                                                       if p in st["paths"] else "")
            detail.append("    %6d  %s%s" % (n, p, mark))
        if len(shown) > 12:
            detail.append("    ... %d more" % (len(shown) - 12))
        missing = [p for p in st["paths"] if p not in paths]
        for p in missing:
            detail.append("    expected: %6d  %s" % (st["paths"][p], p))
        if weak or st["weak_referrers"]:
            detail.append("    weak referrers: tool %r truth %r" % (weak, st["weak_referrers"]))
        if not st.get("exact", True) and truth_refs != referrers:
            # Informational for a kind that selects the whole heap's lists.
            common.log("    note (%s): other referrer rows differ from the truth "
                       "(not checked):\n%s" % (st["select"], fmt_table(truth_refs, referrers)))
        self.record(name, fails, "\n".join(detail))
        return doc

    # -- the rest ----------------------------------------------------------
    def pattern(self, doc):
        fails = []
        pat = doc.get("pattern") if doc else None
        if not isinstance(pat, list) or not pat:
            self.record("pattern", ["no pattern in the Request JSON"])
            return
        want = [(0, 300, "__main__.Request", None),
                (1, 1, "list", "<- 300 objects"),
                (2, 1, "dict of module __main__", "via key 'memory_leak'")]
        got = [(e.get("depth"), e.get("count"), e.get("kind"), e.get("via")) for e in pat]
        for w in want:
            hit = [g for g in got if g[0] == w[0] and g[2] == w[2]]
            if not hit:
                fails.append("pattern lacks depth %d %r" % (w[0], w[2]))
                continue
            g = hit[0]
            if g[1] != w[1]:
                fails.append("pattern depth %d %r: count %r, expected %d" % (w[0], w[2], g[1], w[1]))
            if w[3] is not None and g[3] != w[3]:
                fails.append("pattern depth %d %r: via %r, expected %r" % (w[0], w[2], g[3], w[3]))
        self.record("pattern", fails, "    pattern: %r" % (got[:8],))

    def text(self):
        res = self.run("--referrers", "Request")
        out = res.stdout.decode("utf-8", "replace")
        fails = []
        if res.rc != 0:
            fails.append("%s: %s" % (res.describe(), res.stderr_excerpt(500)))
        for needle in ("300 objects of kind __main__.Request", "Referrers by kind",
                       "Reference pattern", "Shortest paths from roots",
                       "__main__.memory_leak[*]"):
            if needle not in out:
                fails.append("text lacks %r" % needle)
        if not re.search(r"^\s*300\s+__main__\.memory_leak\[\*\]\s*$", out, re.M):
            fails.append("text lacks the line '300  __main__.memory_leak[*]'")
        self.record("text", fails, "    command: %s\n%s" % (cmdline(res), out[:3000]))

    def ambiguous(self):
        a = self.truth["ambiguous"]
        res = self.run("--referrers", a["select"])
        err = res.stderr.decode("utf-8", "replace")
        fails = []
        if res.rc != EXIT_USAGE:
            fails.append("exit %s, expected %d" % (res.rc, EXIT_USAGE))
        for c in a["candidates"]:
            if c not in err:
                fails.append("stderr lacks candidate %r" % c)
        if res.stdout.strip():
            fails.append("stdout not empty on a usage error")
        self.record("ambiguous (%s)" % a["select"], fails,
                    "    command: %s\n    stderr: %s" % (cmdline(res), err.strip()))

    def misspelt(self):
        m = self.truth["misspelt"]
        res = self.run("--referrers", m["select"])
        err = res.stderr.decode("utf-8", "replace")
        fails = []
        if res.rc != EXIT_USAGE:
            fails.append("exit %s, expected %d" % (res.rc, EXIT_USAGE))
        if m["closest"] not in err:
            fails.append("stderr does not suggest %r" % m["closest"])
        elif "closest" not in err:
            fails.append("stderr does not say 'closest'")
        self.record("misspelt (%s)" % m["select"], fails,
                    "    command: %s\n    stderr: %s" % (cmdline(res), err.strip()))

    def address(self):
        addr = self.truth["request_address"]
        idx = self.truth["request_index"]
        doc, res, fails = self.run_json("--referrers", addr, "--paths", "0")
        if doc is not None:
            if doc.get("objects") != 1:
                fails.append("objects %r, expected 1" % doc.get("objects"))
            if self.truth["request_kind"] not in str(doc.get("type")):
                fails.append("type %r does not name %r" % (doc.get("type"),
                                                           self.truth["request_kind"]))
            paths, p = rows(doc, "paths", name="path")
            fails.extend(p)
            ok = ("__main__.memory_leak[%d]" % idx, "__main__.memory_leak[*]")
            if sorted(paths.items()) not in ([(ok[0], 1)], [(ok[1], 1)]):
                fails.append("paths %r, expected {%r or %r: 1}" % (paths, ok[0], ok[1]))
            refs, p = rows(doc, "referrers")
            fails.extend(p)
            if refs != {"list": 1}:
                fails.append("referrers %r, expected {'list': 1}" % refs)
        self.record("address (%s)" % addr, fails,
                    "    command: %s\n    stdout: %s" % (
                        cmdline(res), res.stdout.decode("utf-8", "replace")[:1500]))

    def values(self):
        """The values of floats and bytes in what one object holds, as repr()
        writes them in the target (the shortest digits that read back, the
        exponent's form, inf and nan, -0.0; bytes' escapes and quotes)."""
        want = self.truth["values"]
        doc, res, fails = self.run_json("--referrers", want["address"], "--paths", "0",
                                        "--limit", "100")
        if doc is not None:
            got = {r.get("label"): r for r in (doc.get("holds") or {}).get("references", [])}
            for w in want["rows"]:
                r = got.get(w["label"])
                if r is None:
                    fails.append("no row %r (rows %r)" % (w["label"], sorted(got)))
                    continue
                for k in ("address", "kind", "value", "retained"):
                    if k in w and r.get(k) != w[k]:
                        fails.append("%s: %s %r, expected %r" % (w["label"], k, r.get(k), w[k]))
        text = self.run("--referrers", want["address"], "--limit", "100")
        out = text.stdout.decode("utf-8", "replace")
        for w in want["rows"]:
            if w["value"] is None:
                continue
            if not re.search(r"^  %s +%s +%s +\d+ +\d+ +%s$" % (
                    re.escape(w["label"]), w["kind"], w["address"], re.escape(w["value"])),
                    out, re.M):
                fails.append("the text has no row '%s  %s  %s  …  %s'"
                             % (w["label"], w["kind"], w["address"], w["value"]))
        self.record("values of floats, bytes, strs, ints, datetimes and time zones, decimals, "
                    "cells, enums, UUIDs, a method (%s)" % want["address"], fails,
                    "    command: %s\n    stdout: %s" % (cmdline(text), out[-2500:]))

    def holds_by_reference(self):
        """What all the Requests hold, by attribute, as the target counts it."""
        doc, res, fails = self.run_json("--referrers", "Request", "--paths", "0")
        h = (doc or {}).get("holds_by_reference")
        if doc is not None and not isinstance(h, dict):
            fails.append("JSON lacks 'holds_by_reference'")
        elif doc is not None:
            got = {r.get("label"): r for r in h.get("rows", [])}
            for label, w in sorted(self.truth["request_refs"].items()):
                r = got.get(label)
                if r is None:
                    fails.append("no row %r (rows %r)" % (label, sorted(got)))
                    continue
                for k in ("refs", "objects", "size"):
                    if r.get(k) != w[k]:
                        fails.append("%s: %s %r, expected %r" % (label, k, r.get(k), w[k]))
            c = got.get(".__class__") or {}
            if c.get("objects") != 1 or c.get("refs") != doc.get("objects"):
                fails.append(".__class__: %r, expected 1 object, %r refs" % (c, doc.get("objects")))
            rets = [r.get("retained", 0) for r in h.get("rows", [])]
            if rets != sorted(rets, reverse=True):
                fails.append("rows not by retained size, descending: %r" % rets)
        text = self.run("--referrers", "Request")
        out = text.stdout.decode("utf-8", "replace")
        w = self.truth["request_refs"][".path"]
        if not re.search(r"^  \.path +str +%d +%d " % (w["refs"], w["objects"]), out, re.M):
            fails.append("the text has no row '.path  str  %d  %d …'" % (w["refs"], w["objects"]))
        self.record("holds by reference (Request)", fails,
                    "    command: %s\n    stdout: %s" % (cmdline(text), out[-1500:]))

    def holds(self):
        """What the one Request holds, as the target sees it."""
        addr = self.truth["request_address"]
        want = self.truth["request_holds"]
        doc, res, fails = self.run_json("--referrers", addr, "--paths", "0")
        h = (doc or {}).get("holds")
        if doc is not None and not isinstance(h, dict):
            fails.append("JSON lacks 'holds'")
        elif doc is not None:
            refs = h.get("references", [])
            got = {r.get("label"): r for r in refs}
            labels = [r.get("label") for r in refs]
            attrs = [w["label"] for w in want if w["label"] != ".__class__"]
            extra = [x for x in labels if x not in got or x not in [w["label"] for w in want]]
            if extra == [".__dict__"]:
                # (Through 3.10, or a dict object made: its row, then its entries.)
                d = got[".__dict__"]
                if d.get("len") != len(attrs) or labels.index(".__dict__") != 0 or \
                        sorted(labels[1:1 + len(attrs)]) != sorted(attrs):
                    fails.append("the __dict__ row %r is not followed by its %d entries: %r"
                                 % (d, len(attrs), labels))
            elif extra:
                fails.append("rows %r that the object does not hold" % extra)
            if h.get("total") != len(refs):
                fails.append("total %r, %d rows" % (h.get("total"), len(refs)))
            for w in want:
                r = got.get(w["label"])
                if r is None:
                    fails.append("no row %r (rows %r)" % (w["label"], labels))
                    continue
                for k in ("address", "kind", "size", "value", "len"):
                    if r.get(k) != w[k]:
                        fails.append("%s: %s %r, expected %r" % (w["label"], k, r.get(k), w[k]))
                if w["retained"] is not None and (r.get("retained") or {}).get("size") != w["retained"]:
                    fails.append("%s: retained %r, expected size %d"
                                 % (w["label"], r.get("retained"), w["retained"]))
        text = self.run("--referrers", addr)
        out = text.stdout.decode("utf-8", "replace")
        path = [w for w in want if w["label"] == ".path"][0]
        if "\nWhat it holds (" not in out:
            fails.append("the text has no 'What it holds' section")
        elif not re.search(r"^  \.path +str +%s +%d +%d +%s$" % (
                path["address"], path["size"], path["retained"], re.escape(path["value"])),
                out, re.M):
            fails.append("the text has no row '.path  str  %s  %d  %d  %s'"
                         % (path["address"], path["size"], path["retained"], path["value"]))
        self.record("holds (%s)" % addr, fails,
                    "    command: %s\n    stdout: %s" % (cmdline(text), out[-1500:]))
        # The same object by its path, as paths print it; its list; the
        # object only a thread's local holds, by its path from the thread.
        story = {st["select"]: st for st in self.truth["stories"]}
        for path, want_addr, want_kind in (
                ("__main__.memory_leak[%d]" % self.truth["request_index"], addr, "__main__.Request"),
                ("__main__.memory_leak", None, "list"),
                (list(story["LocalOnly"]["paths"])[0], None, "__main__.LocalOnly"),
                (list(story["NativePayload"]["paths"])[0], None, "__main__.NativePayload")):
            doc, res, fails = self.run_json("--referrers", path, "--paths", "0")
            if doc is not None:
                if doc.get("objects") != 1 or not str(doc.get("type")).startswith(want_kind + " at 0x"):
                    fails.append("selected %r (%r objects), expected one %s"
                                 % (doc.get("type"), doc.get("objects"), want_kind))
                elif want_addr and not str(doc.get("type")).endswith(" at " + want_addr):
                    fails.append("selected %r, expected the object at %s"
                                 % (doc.get("type"), want_addr))
                paths = [p.get("path") for p in doc.get("paths", [])]
                if paths != [path]:
                    fails.append("paths %r, expected [%r]" % (paths, path))
                h = doc.get("holds") or {}
                if want_addr and h.get("total") != len(doc.get("holds", {}).get("references", [])):
                    fails.append("holds %r" % h)
                if want_kind == "list" and h.get("len") != self.truth["memory_leak_len"]:
                    fails.append("holds len %r, expected len(memory_leak) = %d"
                                 % (h.get("len"), self.truth["memory_leak_len"]))
            self.record("holds by path (%s)" % path, fails, "    command: %s" % cmdline(res))
        # A grouped path: every Request's headers dict.
        path = "__main__.memory_leak[*].headers"
        doc, res, fails = self.run_json("--referrers", path, "--paths", "0")
        w = self.truth["request_refs"][".headers"]
        if doc is not None:
            if (doc.get("objects"), doc.get("size")) != (w["objects"], w["size"]):
                fails.append("%r objects, %r bytes; the target's Requests have %d headers "
                             "dicts, %d bytes" % (doc.get("objects"), doc.get("size"),
                                                  w["objects"], w["size"]))
            paths = [(p.get("path"), p.get("objects")) for p in doc.get("paths", [])]
            if paths != [(path, w["objects"])]:
                fails.append("paths %r, expected [(%r, %d)]" % (paths, path, w["objects"]))
            # What they hold: their one key's values, by that key.
            rows = {(r.get("label"), r.get("kind")): r.get("refs")
                    for r in (doc.get("holds_by_reference") or {}).get("rows", [])}
            if rows != {("['x-request-id']", "str"): w["refs"]}:
                fails.append("holds by reference %r, expected {(\"['x-request-id']\", 'str'): %d}"
                             % (rows, w["refs"]))
        self.record("objects by a grouped path (%s)" % path, fails,
                    "    command: %s" % cmdline(res))

    def grouped_paths(self):
        """Each story's grouped paths, pasted back: the objects selected
        include that group, as many as the story has there (with others
        the same items hold, such as None, under their own paths)."""
        for st in self.truth["stories"]:
            for path, count in sorted(st["paths"].items()):
                if "[*]" not in path or not st.get("exact"):
                    continue
                doc, res, fails = self.run_json("--referrers", path, "--paths", "0")
                if doc is not None:
                    got = [(p.get("path"), p.get("objects")) for p in doc.get("paths", [])]
                    if (path, count) not in got:
                        fails.append("paths %r lack (%r, %d)" % (got, path, count))
                self.record("grouped path (%s)" % path, fails, "    command: %s" % cmdline(res))

    def keys(self):
        """Dict values under keys that are no str or number: each object's
        path (one object selected by its address) names its key: a tuple, a
        class, a function, None, True, a frozenset by its address."""
        for k in self.truth["keyed"]:
            doc, res, fails = self.run_json("--referrers", k["address"], "--paths", "0")
            got = [p.get("path") for p in (doc or {}).get("paths", [])]
            if doc is not None and got != [k["path"]]:
                fails.append("paths %r, expected %r" % (got, [k["path"]]))
            self.record("key %s" % k["path"], fails, "    command: %s" % cmdline(res))

    def module_state(self):
        """Objects only C module states hold: a path through <module>.<state>."""
        held = self.truth.get("state_held", [])
        for h in held:
            doc, res, fails = self.run_json("--referrers", h["address"], "--paths", "0")
            if doc is not None:
                paths, p = rows(doc, "paths", name="path")
                fails.extend(p)
                # (3.8/3.9: the atexit module's state holds the callbacks,
                # which the tool reads as the atexit roots on every version.)
                atexit = h["module"] == "atexit"
                want = "atexit callbacks[" if atexit else h["module"] + ".<state>["
                kind = "<atexit callbacks>" if atexit else "module"
                if not any(k.startswith(want) for k in paths):
                    fails.append("paths %r: none starts with %r" % (paths, want))
                refs, p = rows(doc, "referrers")
                fails.extend(p)
                if kind not in refs:
                    fails.append("referrers %r lack the kind %r" % (refs, kind))
            self.record("module state (%s of %s)" % (h["address"], h["module"]), fails,
                        "    command: %s\n    stdout: %s" % (
                            cmdline(res), res.stdout.decode("utf-8", "replace")[:1500]))
        common.log("module state: %d object(s) only C module states hold" % len(held))

    def type_dicts(self):
        """The dicts of static types named through their type, the weak
        reference an ABC's cache keeps through the ABC."""
        for t in self.truth.get("type_dicts", []):
            doc, res, fails = self.run_json("--referrers", t["address"], "--paths", "0")
            if doc is not None:
                paths, p = rows(doc, "paths", name="path")
                fails.extend(p)
                if len(paths) != 1 or not list(paths)[0].endswith("." + t["suffix"]):
                    fails.append("paths %r, expected one ending with %r" % (paths, t["suffix"]))
            self.record("named (%s)" % t["suffix"], fails,
                        "    command: %s\n    stdout: %s" % (
                            cmdline(res), res.stdout.decode("utf-8", "replace")[:1500]))

    def partition(self):
        res = self.run()
        out = res.stdout.decode("utf-8", "replace") + res.stderr.decode("utf-8", "replace")
        fails = []
        if res.rc != 0:
            fails.append(res.describe())
        if "garbage collector is disabled" not in out:
            fails.append("no 'garbage collector is disabled' warning")
        m = re.search(r"note: (\d+) objects .*cyclic garbage", out, re.S)
        if not m:
            fails.append("no cyclic garbage note ('note: N objects ... cyclic garbage')")
        elif int(m.group(1)) < self.truth["garbage_min_objects"]:
            fails.append("garbage note says %s objects, the target left at least %d"
                         % (m.group(1), self.truth["garbage_min_objects"]))
        self.record("partition-text", fails, "    command: %s\n%s" % (cmdline(res),
                                                                      out[:1500]))

        snap = os.path.join(self.target._truth_dir, "partition.pyheap")
        doc, res, fails = self.run_json("-o", snap)
        if doc is not None:
            # The live run counts the garbage knowing which objects the
            # walk found from the roots; --load of its snapshot counts it
            # from the graph alone: the same numbers.
            lres = common.run_tool(self.tool, ["--load", snap, "--json"])
            try:
                ldoc = json.loads(lres.stdout.decode("utf-8")) if lres.rc == 0 else None
            except (UnicodeDecodeError, ValueError):
                ldoc = None
            if ldoc is None:
                fails.append("--load %s --json: %s" % (snap, lres.describe()))
            elif ldoc != doc:
                fails.append("--load of the snapshot prints another partition: garbage %r, "
                             "live %r" % (ldoc.get("garbage"), doc.get("garbage")))
            if doc.get("gc_enabled") is not False:
                fails.append("gc_enabled %r, expected false" % doc.get("gc_enabled"))
            g = doc.get("garbage")
            if not isinstance(g, dict) or not isinstance(g.get("objects"), int):
                fails.append("garbage %r is not {objects, size}" % (g,))
            elif g["objects"] < self.truth["garbage_min_objects"]:
                fails.append("garbage.objects %d < %d left by the target"
                             % (g["objects"], self.truth["garbage_min_objects"]))
            elif not isinstance(g.get("size"), int) or g["size"] <= 0:
                fails.append("garbage.size %r" % (g.get("size"),))
        self.record("partition-json", fails)

    def consistency(self, docs):
        """The selected objects' count and size equal the partition's row of
        their kind (same snapshot rules, two attaches of an idle heap)."""
        doc, res, fails = self.run_json("--all")
        if doc is not None:
            kinds = dict((e.get("kind"), e) for e in doc.get("kinds") or [])
            for st in self.truth["stories"]:
                d = docs.get(st["select"])
                if not d:
                    continue
                row = kinds.get(st["kind"])
                if row is None:
                    fails.append("kind %r absent from the partition" % st["kind"])
                    continue
                if (row.get("count"), row.get("size")) != (d.get("objects"), d.get("size")):
                    fails.append("%r: partition %s objects %s bytes, --referrers %s objects "
                                 "%s bytes" % (st["kind"], row.get("count"), row.get("size"),
                                               d.get("objects"), d.get("size")))
            # `--referrers dict`: every dict, the partition's dict kinds together.
            dicts = [e for k, e in kinds.items()
                     if k == "dict (no owner)" or (k or "").startswith("dict of ")]
            want = (sum(e.get("count") or 0 for e in dicts), sum(e.get("size") or 0 for e in dicts))
            d, res, f = self.run_json("--referrers", "dict", "--paths", "0")
            fails.extend("--referrers dict: " + x for x in f)
            if d is not None and (d.get("objects"), d.get("size")) != want:
                fails.append("--referrers dict: %s objects %s bytes; the partition's %d dict "
                             "kinds %d objects %d bytes" % (d.get("objects"), d.get("size"),
                                                             len(dicts), want[0], want[1]))
        self.record("consistency with the partition", fails)

    def limits(self):
        fails = []
        doc, res, f = self.run_json("--referrers", "list", "--paths", "2", "--depth", "1")
        fails.extend(f)
        if doc is not None:
            if not isinstance(doc.get("paths"), list) or len(doc["paths"]) != 2:
                fails.append("--paths 2: %d path groups in JSON"
                             % len(doc.get("paths") or []))
            depths = [e.get("depth") for e in doc.get("pattern") or []]
            if not depths or max(depths) != 1:
                fails.append("--depth 1: pattern depths %r" % sorted(set(depths)))
        self.record("limits (--paths 2 --depth 1)", fails)

    def healthy(self):
        ok, detail = self.target.check_healthy()
        self.record("healthy", [] if ok else [detail])


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

    common.log("referrers test: %s (%s)" % (args.python, python))
    try:
        target = start_target(python)
    except (common.TargetError, ValueError) as e:
        # (ValueError: common.Target's failure path reads the stderr file
        # after stop() closed it; the target's message is then lost.)
        common.log("FAIL: the target did not start: %r" % (e,))
        return common.EXIT_FAIL
    c = None
    failed = []
    try:
        truth = target.load_truth()
        common.log("target pid %d, python %s, %d stories"
                   % (target.pid, truth["python"], len(truth["stories"])))
        c = Checker(tool, target, truth)
        docs = {}
        for st in truth["stories"]:
            docs[st["select"]] = c.story(st)
        c.pattern(docs.get("Request"))
        c.text()
        c.ambiguous()
        c.misspelt()
        c.address()
        c.holds()
        c.values()
        c.holds_by_reference()
        c.grouped_paths()
        c.keys()
        c.module_state()
        c.type_dicts()
        c.partition()
        c.consistency(docs)
        c.limits()
        c.healthy()
        failed = [r for r in c.results if not r[1]]
        if failed:
            # Did the heap drift since "ready"?  Recompute the truth and list
            # the story rows that changed.
            try:
                after_path = target.truth_path + ".after"
                target.retruth(after_path)
                with open(after_path) as f:
                    after = json.load(f)
                drift = []
                for a, b in zip(truth["stories"], after["stories"]):
                    if a["referrers"] != b["referrers"] or a["objects"] != b["objects"]:
                        drift.append("%s: objects %d -> %d, referrers %r -> %r"
                                     % (a["select"], a["objects"], b["objects"],
                                        a["referrers"], b["referrers"]))
                common.log("heap drift since 'ready': %s"
                           % ("none in the stories" if not drift else "\n  " + "\n  ".join(drift)))
            except (common.TargetError, OSError, ValueError) as e:
                common.log("(could not recompute the truth for drift diagnostics: %s)" % e)
    finally:
        target.stop()

    common.log("")
    if c is None:
        common.log("RESULT: FAIL (%s): no checks ran" % args.python)
        return common.EXIT_FAIL
    common.log("%d checks, %d passed" % (len(c.results), len(c.results) - len(failed)))
    if failed:
        for name, _, fails in failed:
            common.log("FAIL: %s: %s" % (name, "; ".join(fails)))
        common.log("RESULT: FAIL (%s)" % args.python)
        return common.EXIT_FAIL
    common.log("RESULT: PASS (%s)" % args.python)
    return common.EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
