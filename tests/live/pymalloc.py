#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: pymalloc's arenas as the tool reads them from outside are what
the target's own sys._debugmallocstats() says, number for number (arenas,
bytes in blocks in use and in free blocks, free pools, pool headers,
quantization, arena alignment, and each size class's pools, blocks in use and
free blocks); after the target frees most of many small objects (keeping one
in 50, so that every arena keeps some), the header notes the fragmentation.

usage: pymalloc.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent)
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

log = common.log

# Commands on stdin (read with os.read: nothing is allocated while it waits):
#   stats PATH  sys._debugmallocstats() into PATH, then "done"
#   fragment    400,000 small tuples made, all but one in 50 freed, then "done"
#   pin         400,000 Pinned (one slot) made, all but one in 50 freed, then
#               "done" (tests/live/arenas.py)
# The stats are the last thing the target does before it waits for the next
# command: no object is made or freed between them and the tool's read.
TARGET = r"""
import os, sys
class Pinned:
    __slots__ = ("i",)
    def __init__(self, i):
        self.i = i
KEEP = []
os.write(1, b"ready\n")
while True:
    line = os.read(0, 4096)
    if not line or line.strip() == b"exit":
        break
    cmd = line.split()
    if cmd[0] == b"fragment":
        made = [(i, -i) for i in range(400000)]
        KEEP.append(made[::50])
        del made
        os.write(1, b"done\n")
    elif cmd[0] == b"pin":
        made = [Pinned(i) for i in range(400000)]
        KEEP.append(made[::50])
        del made
        os.write(1, b"done\n")
    elif cmd[0] == b"stats":
        fd = os.open(cmd[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        saved = os.dup(2)
        os.dup2(fd, 2)
        sys._debugmallocstats()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(fd)
        os.write(1, b"done\n")
    else:
        os.write(1, b"pong\n")
"""

TOTALS = {
    "arenas": r"# arenas allocated current\s*=\s*([\d,]+)",
    "allocated_bytes": r"# bytes in allocated blocks\s*=\s*([\d,]+)",
    "available_bytes": r"# bytes in available blocks\s*=\s*([\d,]+)",
    "free_pool_bytes": r"\d+ unused pools \* \d+ bytes\s*=\s*([\d,]+)",
    "headers": r"# bytes lost to pool headers\s*=\s*([\d,]+)",
    "quantization": r"# bytes lost to quantization\s*=\s*([\d,]+)",
    "alignment": r"# bytes lost to arena alignment\s*=\s*([\d,]+)",
}
DIFF_NOTE = re.compile(r"note: RSS grew by [0-9.]+ MiB while the Python objects grew by "
                       r"[^:]*: pymalloc's arenas grew by [0-9.]+ MiB and [0-9.]+ MiB of "
                       r"them is free [^\n]*fragmentation")
CLASS_ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$", re.M)


def truth_of(path):
    """The numbers of a sys._debugmallocstats() output."""
    with open(path) as f:
        text = f.read()
    truth = {}
    for key, pattern in TOTALS.items():
        m = re.search(pattern, text)
        if not m:
            raise common.TargetError("no %r in the target's stats:\n%s" % (key, text[:1500]))
        truth[key] = int(m.group(1).replace(",", ""))
    # The table of size classes, between its header and the first blank line.
    table = text.split("-----   ----", 1)[1].split("\n\n", 1)[0]
    truth["classes"] = [
        {"size": int(m.group(2)), "pools": int(m.group(3)), "blocks": int(m.group(4)),
         "free_blocks": int(m.group(5))}
        for m in CLASS_ROW.finditer(table)]
    return truth


def compare(what, got, truth, fails):
    """The tool's "pymalloc" object against the target's own stats."""
    if got is None:
        fails.append("%s: the tool gave no pymalloc numbers" % what)
        return
    mine = {
        "arenas": got["arenas"],
        "allocated_bytes": got["allocated_bytes"],
        "available_bytes": got["available_bytes"],
        "free_pool_bytes": got["free_pool_bytes"],
        # (The tool adds the three kinds of overhead up.)
        "overhead": got["overhead_bytes"],
    }
    want = dict((k, truth[k]) for k in mine if k in truth)
    want["overhead"] = truth["headers"] + truth["quantization"] + truth["alignment"]
    bad = [k for k in mine if mine[k] != want[k]]
    if got["unreadable"]:
        bad.append("unreadable %d" % got["unreadable"])
    if got["arena_bytes"] != sum(want[k] for k in ("allocated_bytes", "available_bytes",
                                                    "free_pool_bytes", "overhead")):
        bad.append("arena_bytes %d is not the sum of its parts" % got["arena_bytes"])
    if got["classes"] != truth["classes"]:
        diffs = [(a, b) for a, b in zip(got["classes"], truth["classes"]) if a != b]
        bad.append("classes (%d against %d; first differences, tool/target: %s)"
                   % (len(got["classes"]), len(truth["classes"]), diffs[:3]))
    if bad:
        fails.append("%s: differs from sys._debugmallocstats() in %s:\n  tool   %s\n  target %s"
                     % (what, ", ".join(bad), mine, want))
    else:
        log("PASS %s: %d arenas, %d bytes in blocks in use, %d free, %d in free pools, "
            "%d size classes: as sys._debugmallocstats() says"
            % (what, mine["arenas"], mine["allocated_bytes"], mine["available_bytes"],
               mine["free_pool_bytes"], len(got["classes"])))


def before_saved(step):
    """The first step also saves the snapshot the --diff starts from."""
    return step != "at start"


def stats(target, path):
    target.send("stats " + path)
    line = target.read_line(60)
    if line != "done":
        raise common.TargetError("stats: expected 'done', got %r" % line)
    if not target.wait_reading_stdin():
        raise common.TargetError("the target did not wait for its next command")
    return truth_of(path)


def core_step(tool, target, tmp, env, truth, fails):
    """A core of the waiting target (gdb's gcore: it runs on) gives the same
    numbers."""
    path = common.gcore(target.pid, tmp, fails)
    if not path:
        return
    doc = common.run_json(tool, ["--core", path], env, "--core", fails)
    os.unlink(path)
    if doc is not None:
        compare("a core of the target (gcore)", doc.get("pymalloc"), truth, fails)


def body(run):
    tool, target, tmp, env, fails = run.tool, run.target, run.tmp, run.env, run.fails
    args = run.args
    # Debian's stripped 3.11 knows its arena table (a static) only from its
    # separate debug file (python3.11-dbg); without it the tool says nothing.
    stripped_without_debug = False
    if args.python == common.DEBIAN_LABEL:
        r = common.run_tool(tool, ["--dump-layout", run.python])
        stripped_without_debug = r.rc != 0
    path = os.path.join(tmp, "stats.txt")
    before = os.path.join(tmp, "before.pyheap")
    for step in ("at start", "after freeing 98% of 400,000 tuples"):
        if step != "at start":
            target.send("fragment")
            if target.read_line(120) != "done":
                raise common.TargetError("fragment: no 'done'")
        truth = stats(target, path)
        doc = common.run_json(tool, [target.pid] if before_saved(step) else
                              ["-o", before, target.pid], env, step, fails)
        if doc is None:
            continue
        if stripped_without_debug:
            if doc.get("pymalloc") is not None:
                fails.append("%s: pymalloc numbers without the debug file: %s"
                             % (step, doc.get("pymalloc")))
            else:
                log("PASS %s: no pymalloc numbers without python3.11-dbg" % step)
            continue
        compare(step, doc.get("pymalloc"), truth, fails)
        if step == "at start":
            core_step(tool, target, tmp, env, truth, fails)
        else:
            # Within a memory budget (the walk while stopped, through a
            # bounded cache), the same.
            doc = common.run_json(tool, ["--read", "live", "--max-copy", "1", target.pid],
                                  env, step + ", --read live", fails)
            if doc is not None:
                compare(step + ", --read live --max-copy 1", doc.get("pymalloc"), truth, fails)
    # The text: the header's line and, now, the note.
    if not stripped_without_debug:
        truth = stats(target, path)
        r = common.run_tool(tool, [target.pid], env=env)
        out = r.stdout.decode("utf-8", "replace")
        line = re.search(r"^pymalloc: (\d+) arenas, .*$", out, re.M)
        note = re.search(r"^note: .* \((\d+)%\) of pymalloc's arenas is free: .*"
                         r"fragmentation", out, re.M)
        free = truth["available_bytes"] + truth["free_pool_bytes"]
        share = free * 100 // (truth["arenas"] * (1 << 20 if "3.8" not in args.python
                                                  and "3.9" not in args.python
                                                  else 1 << 18))
        if r.rc != 0 or not line or int(line.group(1)) != truth["arenas"]:
            fails.append("text: no pymalloc line with %d arenas (rc %s):\n%s"
                         % (truth["arenas"], r.rc, out[:1200]))
        elif not note or int(note.group(1)) != share:
            fails.append("text: no fragmentation note saying %d%% free:\n%s"
                         % (share, out[:1200]))
        else:
            log("PASS text: %s / %s" % (line.group(0), note.group(0)[:90]))
        # --diff from the snapshot saved at start: RSS grew, the
        # objects hardly; the note says it is pymalloc's arenas.
        doc = common.run_json(tool, ["--diff", before, target.pid], env, "--diff",
                              fails)
        if doc and (doc["b"].get("pymalloc") or {}).get("arenas") != truth["arenas"]:
            fails.append("--diff --json: B's pymalloc %s, the target has %d arenas"
                         % (doc["b"].get("pymalloc"), truth["arenas"]))
        common.expect_text(tool, ["--diff", before, target.pid], env, DIFF_NOTE,
                           "--diff across the fragmentation: no note on pymalloc's arenas",
                           fails)


if __name__ == "__main__":
    sys.exit(common.live_target_test(__doc__, "pymalloc test", TARGET, body))
