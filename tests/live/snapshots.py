#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: snapshot files, --load, --diff, --watch, --plot and --dot.

usage: snapshots.py --tool PATH --python LABEL

The target (below, standard library only) holds 1000 `Temp` instances in a
global list and an empty global list `leak`; on `grow` it appends 500 new
`Leaky` instances to `leak` and drops 100 `Temp` (`del temps[:100]`), then
answers `done`. Both classes set one attribute, so on 3.8-3.10 every
instance also has a `dict of` its class.

Checks:
  load-text, load-json, load-referrers, load-referrers-json
                   the live run with `-o FILE` and `--load FILE` print the
                   same bytes (partition text and JSON, --referrers text and
                   JSON)
  diff-live        `--diff A.pyheap PID --json` after one `grow`: Leaky +500
                   (500 new, 0 freed), Temp -100 (100 freed, 0 new), size
                   deltas equal to the new minus the freed objects' sizes; on
                   3.8-3.10 the same for their dicts
  diff-files       `--diff A.pyheap B.pyheap --json`: the same deltas
  diff-text        the text table lists those rows with the same numbers
  diff-held        `--diff A B` (JSON and text) says where the new objects of
                   the kinds that grew most are: the 500 new Leaky at
                   `__main__.leak[*]`, and no Temp (it shrank)
  diff-processes   `--diff PID2 PID` against a second target that never grew:
                   not the same process; where B holds its objects of the kinds
                   that grew most: its 500 Leaky at `__main__.leak[*]` (JSON, text)
  diff-referrers   `--diff A B --referrers Leaky`: the 500 new objects (and
                   what they hold: 500 references .i to ints), all
                   held through `__main__.leak[*]` (text and JSON)
  dot              `--referrers Leaky --dot FILE`: nodes __main__.Leaky (500 or
                   more), list, dict of module __main__; edges list -> Leaky and
                   dict of module __main__ -> list labelled key 'leak'
  corrupt          a few hundred truncated or damaged copies of a snapshot:
                   `--load` exits 10 with "read snapshot FILE: ... at offset N"
                   when the checksum cannot match, never by a signal; with the
                   checksum recomputed, exit 0 or 10 and never a signal
  watch            `--watch 1 --count 3 --save-dir DIR --plot FILE.svg` with a
                   `grow` after each of the first two snapshots: 3 files that
                   load, 3 tables, Leaky marked as grown in every interval with
                   +1000 objects, the last one followed by where they are
                   (1000 new at `__main__.leak[*]`); the SVG parses and has one series per top
                   growing kind (the top of `--diff` of the first and last
                   saved snapshot by count), each with 3 points
  watch-sigint     SIGINT during `--watch`: exit 0, target running
  usage            bad combinations exit 2
  healthy          the target answers ping afterwards
"""

import argparse
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

EXIT_SNAPSHOT = 10
EXIT_USAGE = 2
GROW, FREE = 500, 100

TARGET_CODE = r"""
import sys

class Leaky(object):
    def __init__(self, i):
        self.i = i

class Temp(object):
    def __init__(self, i):
        self.i = i

leak = []
temps = [Temp(i) for i in range(1000)]
sys.stdout.write("ready\n")
sys.stdout.flush()
while True:
    line = sys.stdin.readline()
    if not line or line.strip() == "exit":
        break
    cmd = line.strip()
    if cmd == "grow":
        leak.extend([Leaky(i) for i in range(500)])
        del temps[:100]
        sys.stdout.write("done\n")
    elif cmd == "ping":
        sys.stdout.write("pong\n")
    elif cmd == "version":
        sys.stdout.write("%d.%d\n" % sys.version_info[:2])
    sys.stdout.flush()
"""


class Checks(object):
    def __init__(self, tool, target, tmp):
        self.tool = tool
        self.target = target
        self.tmp = tmp
        self.results = []

    def record(self, name, fails):
        self.results.append((name, not fails, fails))
        common.log("%s: %s" % ("PASS" if not fails else "FAIL", name))
        for f in fails:
            common.log("    - " + f)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def run(self, *args, **kw):
        return common.run_tool(self.tool, list(args), **kw)

    def ok(self, res, fails):
        if res.timed_out or res.rc != 0:
            fails.append("%s: %s" % (res.describe(), res.stderr_excerpt(800).strip()))
            return False
        return True

    def command(self, cmd, reply):
        self.target.send(cmd)
        line = self.target.read_line(30)
        if line != reply:
            raise common.TargetError("%s: expected %r, got %r" % (cmd, reply, line))

    # -- --load reproduces the live output ----------------------------------
    def load_same(self, name, args):
        fails = []
        snap = self.path(name + ".pyheap")
        live = self.run(*(list(args) + ["-o", snap, self.target.pid]))
        if self.ok(live, fails):
            if not os.path.isfile(snap):
                fails.append("-o %s wrote no file" % snap)
            else:
                loaded = self.run(*(list(args) + ["--load", snap]))
                if self.ok(loaded, fails) and loaded.stdout != live.stdout:
                    a = live.stdout.decode("utf-8", "replace").splitlines()
                    b = loaded.stdout.decode("utf-8", "replace").splitlines()
                    first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]),
                                 min(len(a), len(b)))
                    fails.append("--load output differs from the live output at line %d:\n"
                                 "      live: %r\n      load: %r"
                                 % (first + 1, a[first] if first < len(a) else "<end>",
                                    b[first] if first < len(b) else "<end>"))
                if not live.stdout.strip():
                    fails.append("the live run printed nothing")
        self.record(name, fails)
        return snap

    # -- the diff after one grow -------------------------------------------
    def check_deltas(self, doc, old_dicts, fails, what):
        kinds = {k["kind"]: k for k in doc.get("kinds", [])}

        def expect(kind, delta, new, freed):
            k = kinds.get(kind)
            if k is None:
                fails.append("%s: no row for %s" % (what, kind))
                return
            got = (k["count_delta"], k["new"], k["freed"])
            if got != (delta, new, freed):
                fails.append("%s: %s count_delta/new/freed %r, expected %r"
                             % (what, kind, got, (delta, new, freed)))
            # The instances that stay keep their size: the size delta is
            # what the new ones add and the freed ones took.
            if k["size_delta"] != k["new_size"] - k["freed_size"] or \
                    (delta > 0) != (k["size_delta"] > 0):
                fails.append("%s: %s size_delta %d, new_size %d, freed_size %d"
                             % (what, kind, k["size_delta"], k["new_size"], k["freed_size"]))
            if (k["count_b"] - k["count_a"]) != k["count_delta"]:
                fails.append("%s: %s count_b - count_a != count_delta" % (what, kind))

        expect("__main__.Leaky", GROW, GROW, 0)
        expect("__main__.Temp", -FREE, 0, FREE)
        if old_dicts:
            expect("dict of __main__.Leaky", GROW, GROW, 0)
            expect("dict of __main__.Temp", -FREE, 0, FREE)
        sizes = [k["size_delta"] for k in doc.get("kinds", [])]
        if sizes != sorted(sizes, reverse=True):
            fails.append("%s: kinds not sorted by size delta, descending" % what)
        return kinds

    def diff_json(self, name, a, b, old_dicts):
        fails = []
        res = self.run("--diff", a, b, "--json")
        doc = None
        if self.ok(res, fails):
            try:
                doc = json.loads(res.stdout.decode())
            except ValueError as e:
                fails.append("not JSON: %s" % e)
        if doc is not None:
            for key in ("a", "b", "objects_delta", "size_delta", "new", "freed", "kinds"):
                if key not in doc:
                    fails.append("JSON lacks %r" % key)
            self.check_deltas(doc, old_dicts, fails, name)
            if doc.get("same_process") is not True:
                fails.append("same_process is not true")
        self.record(name, fails)
        return doc

    def diff_text(self, a, b, doc):
        fails = []
        res = self.run("--diff", a, b, "--all")
        if self.ok(res, fails) and doc:
            text = res.stdout.decode()
            for kind in ("__main__.Leaky", "__main__.Temp"):
                k = next((k for k in doc["kinds"] if k["kind"] == kind), None)
                if not k:
                    continue
                want = "%d %d %+d %d %d %+d %d %d %s" % (
                    k["count_a"], k["count_b"], k["count_delta"], k["size_a"], k["size_b"],
                    k["size_delta"], k["new"], k["freed"], kind)
                rows = [" ".join(l.split()[1:]) for l in text.splitlines()
                        if l.endswith(" " + kind)]
                if want not in rows:
                    fails.append("no text row %r; rows: %r" % (want, rows))
        self.record("diff-text", fails)

    def diff_held(self, a, b, doc):
        fails = []
        held = dict((h.get("kind"), h) for h in (doc or {}).get("new_held", []))
        leaky = held.get("__main__.Leaky")
        if not leaky:
            fails.append("new_held has no __main__.Leaky: %r" % sorted(held))
        else:
            paths = [(p["path"], p["objects"]) for p in leaky.get("paths", [])]
            if leaky.get("new") != GROW or paths != [("__main__.leak[*]", GROW)]:
                fails.append("new_held Leaky: %r new at %r, expected %d at __main__.leak[*]"
                             % (leaky.get("new"), paths, GROW))
        if "__main__.Temp" in held:
            fails.append("new_held names __main__.Temp, which shrank")
        res = self.run("--diff", a, b)
        if self.ok(res, fails):
            text = res.stdout.decode().split("Where the new objects are", 1)
            if len(text) < 2 or not re.search(
                    r"^  __main__\.Leaky: %d new \(\d+ bytes\)\n\s+%d  __main__\.leak\[\*\]$"
                    % (GROW, GROW), text[1], re.M):
                fails.append("text: no '__main__.Leaky: %d new' then '%d  __main__.leak[*]' "
                             "under 'Where the new objects are':\n%s"
                             % (GROW, GROW, text[-1][-1500:]))
        self.record("diff-held", fails)

    def diff_processes(self, python):
        """--diff between a second target (never grown) and this one: every
        object of B counts as new; where B holds its objects of the kinds that
        grew most is still said (JSON and text)."""
        fails = []
        other = common.Target([python] + list(common.TARGET_FLAGS) + ["-c", TARGET_CODE],
                              name="second target (%s)" % python)
        try:
            res = self.run("--diff", other.pid, self.target.pid, "--json")
            if self.ok(res, fails):
                doc = json.loads(res.stdout.decode())
                held = dict((h.get("kind"), h) for h in doc.get("new_held", []))
                paths = [(p["path"], p["objects"])
                         for p in held.get("__main__.Leaky", {}).get("paths", [])]
                if doc.get("same_process") is not False or paths != [("__main__.leak[*]",
                                                                      GROW)]:
                    fails.append("same_process %r, Leaky at %r; expected %d at "
                                 "__main__.leak[*]" % (doc.get("same_process"), paths, GROW))
            res = self.run("--diff", other.pid, self.target.pid)
            if self.ok(res, fails) and not re.search(
                    r"^Where B holds its objects of the kinds that grew most(.|\n)*"
                    r"^  __main__\.Leaky: %d in B \(\d+ bytes\)\n\s+%d  __main__\.leak\[\*\]$"
                    % (GROW, GROW), res.stdout.decode(), re.M):
                fails.append("text: no 'Where B holds…' with '__main__.Leaky: %d in B':\n%s"
                             % (GROW, res.stdout.decode()[-1500:]))
        finally:
            other.stop()
        self.record("diff-processes", fails)

    def diff_referrers(self, a, b):
        fails = []
        res = self.run("--diff", a, b, "--referrers", "Leaky", "--json")
        if self.ok(res, fails):
            doc = json.loads(res.stdout.decode())
            refs = doc.get("new_referrers") or {}
            if refs.get("objects") != GROW:
                fails.append("new_referrers.objects %r, expected %d" % (refs.get("objects"), GROW))
            paths = [(p["path"], p["objects"]) for p in refs.get("paths", [])]
            if paths != [("__main__.leak[*]", GROW)]:
                fails.append("new objects' paths %r, expected [('__main__.leak[*]', %d)]"
                             % (paths, GROW))
            # What the new ones hold: their attribute i, an int each.
            rows = {(r["label"], r["kind"]): r["refs"]
                    for r in (refs.get("holds_by_reference") or {}).get("rows", [])}
            if rows.get((".i", "int")) != GROW:
                fails.append("new objects' references %r, expected ('.i', 'int'): %d"
                             % (rows, GROW))
        res = self.run("--diff", a, b, "--referrers", "Leaky")
        if self.ok(res, fails):
            text = res.stdout.decode()
            if not re.search(r"^\s+%d\s+__main__\.leak\[\*\]$" % GROW, text, re.M):
                fails.append("text: no line '%d  __main__.leak[*]':\n%s" % (GROW, text[-1500:]))
            if "What they hold, by reference (of %d objects" % GROW not in text:
                fails.append("text: no 'What they hold, by reference (of %d objects'" % GROW)
        self.record("diff-referrers", fails)

    # -- dot ----------------------------------------------------------------
    def dot(self):
        fails = []
        path = self.path("leaky.dot")
        res = self.run("--referrers", "Leaky", "--dot", path, self.target.pid)
        if self.ok(res, fails):
            with open(path) as f:
                text = f.read()
            if not text.startswith("digraph ") or not text.rstrip().endswith("}"):
                fails.append("not a digraph: %r" % text[:80])
            nodes = {}
            for m in re.finditer(r'^\s+(n\d+) \[label="((?:[^"\\]|\\.)*)"', text, re.M):
                kind, _, count = m.group(2).partition("\\n")
                nodes[kind] = (m.group(1), count)
            for kind in ("__main__.Leaky", "list", "dict of module __main__"):
                if kind not in nodes:
                    fails.append("no node %r (nodes: %r)" % (kind, sorted(nodes)))
            if "__main__.Leaky" in nodes:
                n = int(nodes["__main__.Leaky"][1].split()[0])
                if n < GROW:
                    fails.append("node __main__.Leaky has %d objects, expected >= %d" % (n, GROW))
            if "list" in nodes and "__main__.Leaky" in nodes:
                if not re.search(r"^\s+%s -> %s \[" % (nodes["list"][0], nodes["__main__.Leaky"][0]),
                                 text, re.M):
                    fails.append("no edge list -> __main__.Leaky")
            if "list" in nodes and "dict of module __main__" in nodes:
                if not re.search(r"^\s+%s -> %s \[label=\"key 'leak'\"\]"
                                 % (nodes["dict of module __main__"][0], nodes["list"][0]),
                                 text, re.M):
                    fails.append("no edge dict of module __main__ -> list labelled key 'leak'")
        self.record("dot", fails)

    # -- damaged files --------------------------------------------------------
    def corrupt(self, snap):
        with open(snap, "rb") as f:
            data = f.read()
        rnd = random.Random(4)
        variants = []
        for _ in range(120):
            variants.append(("truncated", data[:rnd.randrange(len(data))], True))
        for _ in range(120):
            b = bytearray(data)
            for _ in range(rnd.randint(1, 3)):
                b[rnd.randrange(len(b))] ^= rnd.randint(1, 255)
            variants.append(("damaged", bytes(b), True))
        for _ in range(60):
            # Payload damaged, checksum recomputed: only validation remains.
            b = bytearray(data)
            for _ in range(rnd.randint(1, 3)):
                b[rnd.randrange(24, len(b) - 4)] = rnd.randrange(256)
            b[-4:] = (zlib.crc32(bytes(b[:-4])) & 0xffffffff).to_bytes(4, "little")
            variants.append(("damaged, checksum fixed", bytes(b), False))
        fails = []
        path = self.path("damaged.pyheap")
        accepted = 0
        t0 = time.monotonic()
        for what, blob, must_refuse in variants:
            if len(fails) > 5:
                break
            with open(path, "wb") as f:
                f.write(blob)
            res = self.run("--load", path, timeout=30)
            desc = "%s (%d bytes): %s" % (what, len(blob), res.describe())
            if res.timed_out or res.rc is None or res.rc < 0:
                fails.append("%s: killed by a signal or hung" % desc)
                continue
            err = res.stderr.decode("utf-8", "replace")
            if res.rc == EXIT_SNAPSHOT:
                if not re.match(r"pyheap-attach: read snapshot %s: .+ at offset \d+\n$"
                                % re.escape(path), err):
                    fails.append("%s: unclear error %r" % (desc, err))
            elif res.rc == 0 and not must_refuse:
                accepted += 1
            else:
                fails.append("%s: exit %s, expected %d%s; stderr %r"
                             % (desc, res.rc, EXIT_SNAPSHOT, "" if must_refuse else " or 0",
                                err[-300:]))
        common.log("    %d damaged files in %.1f s (%d decoded after a checksum fix)"
                   % (len(variants), time.monotonic() - t0, accepted))
        self.record("corrupt", fails)

    # -- watch -----------------------------------------------------------------
    def watch(self):
        fails = []
        save = self.path("watch")
        svg = self.path("plot.svg")
        argv = [self.tool, "--watch", "1", "--count", "3", "--save-dir", save, "--plot", svg,
                str(self.target.pid)]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        out = b""
        try:
            fd = proc.stdout.fileno()
            deadline = time.monotonic() + 40
            grown = 0
            # After each of the first two tables (a blank line ends one), grow.
            while time.monotonic() < deadline:
                r, _, _ = select.select([fd], [], [], 1)
                if r:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        break
                    out += chunk
                if out.count(b"\n\n") > grown and grown < 2:
                    self.command("grow", "done")
                    grown += 1
            proc.wait(timeout=20)
        except (subprocess.TimeoutExpired, common.TargetError) as e:
            fails.append("watch: %s" % e)
        finally:
            common.kill_process(proc)
        err = proc.stderr.read().decode("utf-8", "replace")
        text = out.decode("utf-8", "replace")
        if proc.returncode != 0:
            fails.append("watch exit %s: %s" % (proc.returncode, err[-500:]))
        headers = re.findall(r"^\[(\d+) of 3\]", text, re.M)
        if headers != ["1", "2", "3"]:
            fails.append("tables %r, expected [1, 2, 3]:\n%s" % (headers, text[-2000:]))
        last = text.split("[3 of 3]")[-1]
        m = re.search(r"^\s+\d+\s+(\d+)\s+\+(\d+)\s+\d+\s+\+\d+\s+(\+?)\s+__main__\.Leaky$",
                      last, re.M)
        if not m:
            fails.append("no __main__.Leaky row in the last table:\n%s" % last)
        elif (int(m.group(2)), m.group(3)) != (2 * GROW, "+"):
            fails.append("Leaky row: +%s objects, mark %r; expected +%d and '+'"
                         % (m.group(2), m.group(3), 2 * GROW))
        where = last.split("Where the objects new since the first snapshot are", 1)
        if len(where) < 2 or not re.search(
                r"^  __main__\.Leaky: %d new \(\d+ bytes\)\n\s+%d  __main__\.leak\[\*\]$"
                % (2 * GROW, 2 * GROW), where[1], re.M):
            fails.append("the last table is not followed by '__main__.Leaky: %d new' then "
                         "'%d  __main__.leak[*]' under 'Where the objects new since the first "
                         "snapshot are':\n%s" % (2 * GROW, 2 * GROW, last))
        files = sorted(os.listdir(save)) if os.path.isdir(save) else []
        want = ["snapshot-001.pyheap", "snapshot-002.pyheap", "snapshot-003.pyheap"]
        if files != want:
            fails.append("--save-dir holds %r, expected %r" % (files, want))
        for f in files:
            res = self.run("--load", os.path.join(save, f), "--json")
            self.ok(res, fails)
        # The plot: one series per top kind by count growth, 3 points each.
        series = []
        try:
            root = ET.parse(svg).getroot()
            ns = "{http://www.w3.org/2000/svg}"
            if root.tag != ns + "svg":
                fails.append("SVG root is %r" % root.tag)
            for pl in root.iter(ns + "polyline"):
                if pl.get("class") == "series":
                    series.append(pl.get("data-name"))
                    if len(pl.get("points", "").split()) != 3:
                        fails.append("series %r has %d points, expected 3"
                                     % (pl.get("data-name"), len(pl.get("points", "").split())))
            if not root.findall(ns + "title") or not list(root.iter(ns + "text")):
                fails.append("SVG has no title or no text")
        except (OSError, ET.ParseError) as e:
            fails.append("the SVG does not parse: %s" % e)
        if len(series) != len(set(series)):
            fails.append("series listed twice: %r" % series)
        if "__main__.Leaky" not in series:
            fails.append("no series for __main__.Leaky: %r" % series)
        if len(files) == 3:
            res = self.run("--diff", os.path.join(save, files[0]), os.path.join(save, files[2]),
                           "--json")
            if self.ok(res, fails):
                kinds = [k for k in json.loads(res.stdout.decode())["kinds"]
                         if k["count_delta"] > 0]
                key = {k["kind"]: (k["count_delta"], k["size_delta"]) for k in kinds}
                top = sorted(key.values(), reverse=True)[:8]
                if len(series) != len(top):
                    fails.append("%d series, %d kinds grew in count (top 8: %r)"
                                 % (len(series), len(kinds), top))
                elif sorted((key.get(s, (0, 0)) for s in series), reverse=True) != top:
                    fails.append("series %r are not the top growing kinds %r"
                                 % (series, sorted(key.items(), key=lambda kv: kv[1],
                                                   reverse=True)[:8]))
        self.record("watch", fails)

    def watch_sigint(self):
        fails = []
        argv = [self.tool, "--watch", "0.5", str(self.target.pid)]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            fd = proc.stdout.fileno()
            out = b""
            deadline = time.monotonic() + 30
            while b"[2]" not in out and time.monotonic() < deadline:
                r, _, _ = select.select([fd], [], [], 1)
                if r:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        break
                    out += chunk
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=20)
            if proc.returncode != 0:
                fails.append("exit %s after SIGINT, expected 0: %s"
                             % (proc.returncode, proc.stderr.read().decode()[-300:]))
        except subprocess.TimeoutExpired:
            fails.append("the watch did not stop within 20 s of SIGINT")
        finally:
            common.kill_process(proc)
        ok, detail = self.target.check_healthy()
        if not ok:
            fails.append(detail)
        self.record("watch-sigint", fails)

    def usage(self, snap):
        fails = []
        for args in (["--load", snap, self.target.pid], ["--diff", snap],
                     ["--dot", self.path("x.dot"), self.target.pid],
                     ["--count", "3", self.target.pid],
                     ["--watch", "1", "-o", snap, self.target.pid],
                     ["--load", snap, "--diff", snap, snap]):
            res = self.run(*args)
            if res.rc != EXIT_USAGE:
                fails.append("%s: exit %s, expected %d" % (res.describe(), res.rc, EXIT_USAGE))
        res = self.run("--load", self.path("missing.pyheap"))
        if res.rc != EXIT_SNAPSHOT or b"read snapshot" not in res.stderr:
            fails.append("missing file: %s %r" % (res.describe(), res.stderr_excerpt(200)))
        self.record("usage", fails)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--python", required=True, metavar="LABEL",
                    help="interpreter label (%s)" % ", ".join(common.ALL_LABELS))
    args = ap.parse_args()
    tool = common.require_tool(args.tool)
    python = common.find_interpreter(args.python)
    if not python:
        common.log("SKIP: no interpreter for %s" % args.python)
        return common.EXIT_SKIP
    tmp = tempfile.mkdtemp(prefix="pyheap-snapshots-")
    try:
        target = common.Target([python] + list(common.TARGET_FLAGS) + ["-c", TARGET_CODE],
                               name="growth target (%s)" % python)
    except (common.TargetError, ValueError) as e:
        common.log("FAIL: the target did not start: %r" % (e,))
        shutil.rmtree(tmp, ignore_errors=True)
        return common.EXIT_FAIL
    c = Checks(tool, target, tmp)
    try:
        target.send("version")
        version = tuple(int(x) for x in target.read_line(10).split("."))
        old_dicts = version < (3, 11)
        common.log("target pid %d, python %s" % (target.pid, ".".join(map(str, version))))
        a = c.load_same("load-text", [])
        c.load_same("load-json", ["--json"])
        c.load_same("load-referrers", ["--referrers", "Temp"])
        c.load_same("load-referrers-json", ["--referrers", "Temp", "--json"])
        c.command("grow", "done")
        b = c.path("b.pyheap")
        res = c.run("-o", b, "--json", target.pid)
        if res.rc != 0:
            c.record("snapshot B", ["%s: %s" % (res.describe(), res.stderr_excerpt(500))])
        c.diff_json("diff-live", a, str(target.pid), old_dicts)
        doc = c.diff_json("diff-files", a, b, old_dicts)
        c.diff_text(a, b, doc)
        c.diff_held(a, b, doc)
        c.diff_processes(python)
        c.diff_referrers(a, b)
        c.dot()
        c.corrupt(a)
        c.usage(a)
        c.watch()
        c.watch_sigint()
        ok, detail = target.check_healthy()
        c.record("healthy", [] if ok else [detail])
    except common.TargetError as e:
        c.record("target", [str(e)])
    finally:
        target.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    failed = [r for r in c.results if not r[1]]
    common.log("")
    common.log("%d checks, %d passed" % (len(c.results), len(c.results) - len(failed)))
    if failed:
        common.log("RESULT: FAIL (%s): %s" % (args.python, ", ".join(r[0] for r in failed)))
        return common.EXIT_FAIL
    common.log("RESULT: PASS (%s)" % args.python)
    return common.EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
