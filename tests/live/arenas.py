#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: --arenas says what keeps pymalloc's mostly free arenas. The
target makes 400,000 small instances of a class of its own and keeps one in
50: the arenas they filled stay, each nearly free. The tool's arenas, one by
one, add up to what the target's own sys._debugmallocstats() counts (arenas,
bytes in blocks in use); the objects in the arenas at most 25% in use are the
kept instances and their ints, whose blocks are the blocks in use there; the
paths say where they are held (__main__.KEEP[0][*]); the same from a snapshot
file (--load); the text's table, and the header's note that points to it.

usage: arenas.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent)
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import pymalloc  # noqa: E402

log = common.log

KEPT = 8000          # 400,000 made, one in 50 kept
SMALL_INTS = 6       # 0, 50, ..., 250: cached, not in the arenas
ALIGNMENT = 16       # pymalloc's block sizes on 64-bit, 3.8+


def block(size):
    return (size + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def check_doc(what, doc, truth, fails):
    """The --arenas --json document against the target's stats and what it
    kept."""
    bad = []
    bands = doc["bands"]
    arenas = sum(b["arenas"] for b in bands)
    used = sum(b["used_bytes"] for b in bands)
    if arenas != truth["arenas"] or doc["arenas"] != truth["arenas"]:
        bad.append("%d arenas listed (%d by use), the target has %d"
                   % (doc["arenas"], arenas, truth["arenas"]))
    if used != truth["allocated_bytes"]:
        bad.append("the arenas' blocks in use add up to %d bytes, the target says %d"
                   % (used, truth["allocated_bytes"]))
    sparse = doc["sparse"]
    kinds = dict((k["kind"], k) for k in sparse["kinds"])
    pinned = kinds.get("__main__.Pinned", {"count": 0, "size": 0})
    ints = kinds.get("int", {"count": 0, "size": 0})
    if not KEPT * 9 // 10 <= pinned["count"] <= KEPT:
        bad.append("%d __main__.Pinned in the sparse arenas, %d kept"
                   % (pinned["count"], KEPT))
    if not (KEPT - SMALL_INTS) * 9 // 10 <= ints["count"] <= KEPT - SMALL_INTS:
        bad.append("%d ints in the sparse arenas, %d kept" % (ints["count"], KEPT - SMALL_INTS))
    # (Startup's objects left in an arena freed around them are there too.)
    if pinned["count"] + ints["count"] < sparse["objects"] * 95 // 100:
        bad.append("the sparse arenas hold %d objects, only %d of them the kept ones: %s"
                   % (sparse["objects"], pinned["count"] + ints["count"], sparse["kinds"][:5]))
    # The kept objects' blocks are nearly all the blocks in use there: each
    # arena's use and the objects found in it agree.
    blocks = sum(k["count"] * block(k["size"] // k["count"]) for k in (pinned, ints)
                 if k["count"] and k["size"] % k["count"] == 0)
    if not sparse["used_bytes"] * 9 // 10 <= blocks <= sparse["used_bytes"]:
        bad.append("the kept objects' blocks take %d bytes, the sparse arenas' blocks in use "
                   "%d" % (blocks, sparse["used_bytes"]))
    if sparse["arenas"] * 10 < arenas * 7:
        bad.append("only %d of %d arenas at most 25%% in use" % (sparse["arenas"], arenas))
    held = dict((h["kind"], h) for h in doc.get("held", []))
    paths = held.get("__main__.Pinned", {}).get("paths", [])
    if not paths or paths[0]["path"] != "__main__.KEEP[0][*]" or \
            paths[0]["objects"] != pinned["count"]:
        bad.append("the kept instances' paths: %s" % paths[:3])
    if bad:
        fails.append("%s: %s" % (what, "; ".join(bad)))
    else:
        log("PASS %s: %d arenas (%d bytes in use) as the target counts them; %d of them at "
            "most 25%% in use hold %d __main__.Pinned and %d ints (their blocks %d of %d "
            "bytes in use there), at %s"
            % (what, arenas, used, sparse["arenas"], pinned["count"], ints["count"], blocks,
               sparse["used_bytes"], paths[0]["path"]))


def body(run):
    tool, target, tmp, env, fails = run.tool, run.target, run.tmp, run.env, run.fails
    if run.args.python == common.DEBIAN_LABEL:
        # Stripped: without python3.11-dbg (here: debug files looked for in an
        # empty directory) the arena table (a static) is not known; --arenas
        # says so, and what to install.
        empty = os.path.join(tmp, "no-debug")
        os.mkdir(empty)
        r = common.run_tool(tool, ["--arenas", "--no-cache", "--debug-dir", empty, target.pid],
                            env=env)
        err = r.stderr.decode("utf-8", "replace")
        if r.rc != 8 or "python3.11-dbg" not in err:
            fails.append("--arenas without the arena table: rc %s, %s" % (r.rc, err[:400]))
        else:
            log("PASS --arenas without python3.11-dbg: %s" % err.strip()[:200])
        if common.run_tool(tool, ["--dump-layout", run.python]).rc != 0:
            return  # (python3.11-dbg is not installed)
    target.send("pin")
    if target.read_line(120) != "done":
        raise common.TargetError("pin: no 'done'")
    truth = pymalloc.stats(target, os.path.join(tmp, "stats.txt"))
    snap = os.path.join(tmp, "snap.pyheap")
    doc = common.run_json(tool, ["--arenas", "-o", snap, target.pid], env, "--arenas", fails)
    if doc is not None:
        check_doc("--arenas", doc, truth, fails)
    doc = common.run_json(tool, ["--arenas", "--load", snap], env, "--arenas --load", fails)
    if doc is not None:
        check_doc("--arenas --load (the snapshot file)", doc, truth, fails)
    # A file without the arena list (section 67: as a writer before it wrote
    # them) is read, and --arenas says it lacks the list (exit 10).
    common.expect_old_snapshot(tool, env, snap, 67, "--arenas", "not listed one by one", fails)
    # The text: the header's note points to --arenas, which shows the table,
    # the kinds and the paths.
    r = common.run_tool(tool, [target.pid], env=env)
    out = r.stdout.decode("utf-8", "replace")
    note = re.search(r"^note: .*fragmentation.*\. (\d+) arenas at most 25% in use hold "
                     r"[0-9.]+ MiB not in use: --arenas shows the objects that keep them$",
                     out, re.M)
    if r.rc != 0 or not note:
        fails.append("text: no note pointing to --arenas (rc %s):\n%s" % (r.rc, out[:1500]))
    else:
        log("PASS text: the header's note: ...%s" % note.group(0)[-110:])
    r = common.run_tool(tool, ["--arenas", target.pid], env=env)
    out = r.stdout.decode("utf-8", "replace")
    want = [r"^pymalloc's arenas by the share of them in use \(\d+ arenas of ",
            r"^  <= 10% +\d+ ",
            r"^The objects in the \d+ arenas at most 25% in use",
            r"^ +0 +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ (__main__\.Pinned|int)$",
            r"^  __main__\.Pinned: \d+ in those arenas \(\d+ bytes\)$",
            r"^ +\d+  __main__\.KEEP\[0\]\[\*\]$"]
    missing = [w for w in want if not re.search(w, out, re.M)]
    if r.rc != 0 or missing:
        fails.append("--arenas text: rc %s, missing %s:\n%s" % (r.rc, missing, out[:2500]))
    else:
        log("PASS --arenas text: the table, the kinds and the paths")
    # Without pymalloc (PYTHONMALLOC=malloc; not with -I, which ignores the
    # environment): no arenas, said so.
    penv = dict(os.environ, PYTHONMALLOC="malloc")
    with common.Target([run.python, "-s", "-S", "-c", pymalloc.TARGET], env=penv,
                       name="PYTHONMALLOC=malloc") as t:
        t.wait_reading_stdin()
        doc = common.run_json(tool, ["--arenas", t.pid], env, "--arenas, PYTHONMALLOC=malloc",
                              fails)
        if doc is not None and (doc["arenas"] or doc["sparse"]["objects"] or
                                doc["outside_objects"] < 1000):
            fails.append("PYTHONMALLOC=malloc: %d arenas, %d objects in sparse ones, %d "
                         "outside" % (doc["arenas"], doc["sparse"]["objects"],
                                      doc["outside_objects"]))
        common.expect_text(tool, ["--arenas", t.pid], env,
                           re.compile(r"^pymalloc has no arenas: the objects come from malloc "
                                      r"\(PYTHONMALLOC=malloc\)$", re.M),
                           "--arenas, PYTHONMALLOC=malloc: no line saying there are no arenas",
                           fails)


if __name__ == "__main__":
    # (pymalloc.py's target: "pin" makes the Pinned instances, "stats" writes
    # sys._debugmallocstats().)
    sys.exit(common.live_target_test(__doc__, "arenas test", pymalloc.TARGET, body))
