#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: memory that grows outside Python objects (a C library's
malloc, as in the ssl leak of tests' seed 003) is named as such by --diff and
--watch, and memory that Python objects take is not.

usage: native_growth.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent)
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

log = common.log
MIB = 1 << 20

# 'native': 64 MiB from libc's malloc, written (resident), held by no object
# (one block: malloc maps it apart, outside its arenas); 'native-small': the
# same in 1,024 blocks of 64 KiB (in malloc's main arena);
# 'python': 64 MiB of bytes objects in a global list.
TARGET = r"""
import ctypes, sys
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
POINTERS = []
KEEP = []
sys.stdout.write("ready\n")
sys.stdout.flush()
while True:
    line = sys.stdin.readline().strip()
    if not line or line == "exit":
        break
    if line == "native":
        p = libc.malloc(64 << 20)
        libc.memset(p, 1, 64 << 20)
        POINTERS.append(p)
    elif line == "native-small":
        for _ in range(1024):
            p = libc.malloc(64 << 10)
            libc.memset(p, 1, 64 << 10)
            POINTERS.append(p)
    elif line == "python":
        KEEP.append([bytes(4096 - 33) for _ in range(16384)])
    sys.stdout.write("done\n" if line != "ping" else "pong\n")
    sys.stdout.flush()
"""
NOTE = re.compile(r"note: RSS grew by ([0-9.]+) (MiB|GiB) while the Python objects grew by "
                  r"-?([0-9.]+ ?[KMG]?i?B)[^\n]*outside the objects pyheap counts")


MAPPED = re.compile(r"the chunks glibc's malloc mapped apart grew by (6[0-9]|70)\.[0-9] MiB")
INUSE = re.compile(r"the memory in use in glibc malloc's arenas grew by (6[0-9]|70)\.[0-9] MiB")


def command(target, what):
    target.send(what)
    line = target.read_line(60)
    if line != "done":
        raise common.TargetError("%s: expected 'done', got %r" % (what, line))
    target.wait_reading_stdin()


def body(run):
    tool, target, tmp, env, fails = run.tool, run.target, run.tmp, run.env, run.fails
    a = os.path.join(tmp, "a.pyheap")
    r = common.run_tool(tool, ["-o", a, target.pid], env=env)
    if r.rc != 0:
        fails.append("-o a.pyheap: rc %s %s" % (r.rc, r.stderr_excerpt(300)))
        return
    command(target, "native")
    r = common.run_tool(tool, ["--diff", a, target.pid], env=env)
    out = r.stdout.decode("utf-8", "replace")
    m = NOTE.search(out)
    if r.rc != 0 or not m:
        fails.append("--diff after 64 MiB of malloc: no note (rc %s):\n%s"
                     % (r.rc, out[:800]))
    else:
        grew = float(m.group(1)) * (1024 if m.group(2) == "GiB" else 1)
        if not 60 <= grew <= 80:
            fails.append("--diff: RSS grew by %s MiB, the target added 64" % grew)
        elif not MAPPED.search(out):
            fails.append("--diff after one block of 64 MiB: the note does not say that "
                         "malloc's chunks mapped apart grew by it:\n%s" % out[:800])
        else:
            log("PASS --diff after 64 MiB of malloc: %s" % m.group(0))
    c = os.path.join(tmp, "c.pyheap")
    r = common.run_tool(tool, ["-o", c, target.pid], env=env)
    command(target, "native-small")
    r = common.run_tool(tool, ["--diff", c, target.pid], env=env)
    out = r.stdout.decode("utf-8", "replace")
    m = NOTE.search(out)
    if r.rc != 0 or not m or not INUSE.search(out):
        fails.append("--diff after 1,024 blocks of 64 KiB: no note that the memory in use "
                     "in malloc's arenas grew (rc %s):\n%s" % (r.rc, out[:800]))
    else:
        log("PASS --diff after 1,024 blocks of 64 KiB: %s" % INUSE.search(out).group(0))
    b = os.path.join(tmp, "b.pyheap")
    r = common.run_tool(tool, ["-o", b, target.pid], env=env)
    command(target, "python")
    r = common.run_tool(tool, ["--diff", b, target.pid], env=env)
    out = r.stdout.decode("utf-8", "replace")
    if r.rc != 0 or "note: RSS grew" in out or "+16384" not in out:
        fails.append("--diff after 64 MiB of bytes objects: rc %s, a note or no "
                     "+16384 bytes:\n%s" % (r.rc, out[:800]))
    else:
        log("PASS --diff after 64 MiB of bytes objects: no note, +16384 bytes")

    # --watch: the note from the first snapshot on.
    rc, text, err, _ = common.watch_with(
        tool, ["--watch", "2", "--count", "2", target.pid], env,  # (time to reply)
        b"first snapshot", lambda: command(target, "native"))
    m = NOTE.search(text)
    if rc != 0 or not m:
        fails.append("--watch with 64 MiB of malloc in between: rc %s, no note:\n%s%s"
                     % (rc, text[:800], err[:300]))
    else:
        log("PASS --watch: %s" % m.group(0))


if __name__ == "__main__":
    sys.exit(common.live_target_test(__doc__, "native growth test", TARGET, body))
