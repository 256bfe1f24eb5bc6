#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: glibc malloc's arenas as the tool reads them from outside are what
the target's own mallinfo2() says (memory from the system, free bytes, free
chunks, fast bins, the main arena's top chunk), at start and after a burst of
48 KiB blocks in the main thread and in another thread (a second arena), nine
in ten freed, and small blocks freed last (the fast bins); the header notes
the free memory, and --diff from a snapshot taken at start names malloc's
free memory as the growth of RSS.

usage: cmalloc.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent)
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

log = common.log

# Commands on stdin (read with os.read: nothing is allocated while it waits):
#   stats PATH  mallinfo2() into PATH, then "done"
#   burst PATH  the burst, then mallinfo2() into PATH, then "done"
# mallinfo2() is the last thing the target does before it waits: no chunk is
# allocated or freed between it and the tool's read.
TARGET = r"""
import ctypes, os, threading
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
FIELDS = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
          "uordblks", "fordblks", "keepcost")
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in FIELDS]
libc.mallinfo2.restype = MallInfo2
KEEP = []

def burst():
    big = libc.malloc(1 << 20)  # (a chunk mapped apart)
    libc.memset(big, 1, 1 << 20)
    KEEP.append(big)
    blocks = [libc.malloc(48 << 10) for _ in range(2000)]
    for i, p in enumerate(blocks):
        libc.memset(p, 1, 48 << 10)
        if i % 10:
            libc.free(p)
        else:
            KEEP.append(p)

def stats(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # (50: the list's array stays pymalloc's; freeing a malloc chunk that
    # borders the top would consolidate the fast bins.)
    small = [libc.malloc(64) for _ in range(50)]
    for p in small:
        libc.free(p)  # (7 to the thread's cache, the others to a fast bin)
    del small, p
    m = libc.mallinfo2()
    os.write(fd, ("%s\n" % " ".join("%s=%d" % (n, getattr(m, n)) for n in FIELDS)).encode())
    os.close(fd)
    os.write(1, b"done\n")

os.write(1, b"ready\n")
while True:
    line = os.read(0, 200)  # (a small buffer: pymalloc's, not malloc's)
    if not line or line.strip() == b"exit":
        break
    cmd = line.split()
    if cmd[0] == b"burst":
        t = threading.Thread(target=burst)
        t.start()
        t.join()
        burst()
        stats(cmd[1])
    elif cmd[0] == b"stats":
        stats(cmd[1])
    else:
        os.write(1, b"pong\n")
"""

# The tool's field: mallinfo2()'s.
FIELDS = {"system_bytes": "arena", "free_bytes": "fordblks", "free_chunks": "ordblks",
          "fast_free_bytes": "fsmblks", "top_bytes": "keepcost", "mapped_chunks": "hblks",
          "mapped_bytes": "hblkhd"}
NOTE = re.compile(r"^note: .* \((\d+)%\) of what glibc's malloc took from the system is free",
                  re.M)
DIFF_NOTE = re.compile(r"note: RSS grew by [0-9.]+ MiB while the Python objects grew by [^:]*: "
                       r"the free memory in glibc malloc's arenas grew by [0-9.]+ MiB")


def command(target, what, path):
    target.send("%s %s" % (what, path))
    line = target.read_line(120)
    if line != "done":
        raise common.TargetError("%s: expected 'done', got %r" % (what, line))
    if not target.wait_reading_stdin():
        raise common.TargetError("the target did not wait for its next command")
    with open(path) as f:
        return dict((k, int(v)) for k, v in (w.split("=") for w in f.read().split()))


def compare(what, got, truth, fails):
    if got is None:
        fails.append("%s: the tool gave no malloc numbers (is libc6-dbg installed? "
                     ".ci/setup installs it)" % what)
        return
    bad = ["%s %d (mallinfo2 %s %d)" % (k, got[k], v, truth[v])
           for k, v in FIELDS.items() if got[k] != truth[v]]
    if got["unreadable"]:
        bad.append("unreadable %d" % got["unreadable"])
    if bad:
        fails.append("%s: differs from mallinfo2(): %s" % (what, ", ".join(bad)))
    else:
        log("PASS %s: %d arenas, %d bytes from the system, %d free in %d chunks (%d in "
            "fast bins), top %d, %d chunks mapped apart (%d bytes): as mallinfo2() says"
            % (what, got["arenas"], got["system_bytes"], got["free_bytes"],
               got["free_chunks"], got["fast_free_bytes"], got["top_bytes"],
               got["mapped_chunks"], got["mapped_bytes"]))


def body(run):
    tool, target, tmp, env, fails = run.tool, run.target, run.tmp, run.env, run.fails
    path = os.path.join(tmp, "mallinfo.txt")
    before = os.path.join(tmp, "before.pyheap")
    truth = command(target, "stats", path)
    doc = common.run_json(tool, ["-o", before, target.pid], env, "at start", fails)
    if doc is not None:
        compare("at start", doc.get("malloc"), truth, fails)
    # A core of the waiting target (gdb's gcore: it runs on), the same.
    core = common.gcore(target.pid, tmp, fails)
    if core:
        doc = common.run_json(tool, ["--core", core], env, "--core", fails)
        os.unlink(core)
        if doc is not None:
            compare("a core of the target (gcore)", doc.get("malloc"), truth, fails)
    truth = command(target, "burst", path)
    doc = common.run_json(tool, [target.pid], env, "after the burst", fails)
    if doc is not None:
        got = doc.get("malloc")
        compare("after the burst", got, truth, fails)
        if got and got["arenas"] < 2:
            fails.append("after the burst: %d arena(s): the thread's arena not read?"
                         % got["arenas"])
        if not truth["fsmblks"]:
            # (Not the tool's doing: malloc consolidated them before mallinfo2().)
            log("note: the fast bins were empty at mallinfo2(): their links not exercised")
    # Within a memory budget (the walk while stopped, through a bounded
    # cache), the same.
    doc = common.run_json(tool, ["--read", "live", "--max-copy", "1", target.pid], env,
                          "--read live", fails)
    if doc is not None:
        compare("after the burst, --read live --max-copy 1", doc.get("malloc"), truth, fails)
    r = common.run_tool(tool, [target.pid], env=env)
    out = r.stdout.decode("utf-8", "replace")
    m = NOTE.search(out)
    share = truth["fordblks"] * 100 // truth["arena"]
    if r.rc != 0 or not re.search(r"^malloc: \d+ arenas, ", out, re.M) or not m \
            or int(m.group(1)) != share:
        fails.append("text: no malloc line, or no note saying %d%% free (rc %s):\n%s"
                     % (share, r.rc, out[:1500]))
    else:
        log("PASS text: %s" % m.group(0))
    common.expect_text(tool, ["--diff", before, target.pid], env, DIFF_NOTE,
                       "--diff across the burst: no note on malloc's free memory", fails)


if __name__ == "__main__":
    sys.exit(common.live_target_test(__doc__, "malloc test", TARGET, body))
