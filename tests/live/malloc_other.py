#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: a process whose malloc is not glibc's (jemalloc or tcmalloc
preloaded, as services do for fragmentation) is said to be so: the header's
malloc line names the allocator and its file instead of glibc's empty arenas,
JSON's malloc_other says it is in use (and each line of --watch --json), and
--diff names its memory as where a
growth outside Python objects is. Without a preload, malloc_other is null;
with tcmalloc loaded later (ctypes: it takes no malloc but its own callers'),
glibc's line stays, with a note that tcmalloc is loaded as well.

usage: malloc_other.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent)
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

log = common.log
LIBDIR = "/usr/lib/x86_64-linux-gnu"
JEMALLOC = os.path.join(LIBDIR, "libjemalloc.so.2")
TCMALLOC = os.path.join(LIBDIR, "libtcmalloc_minimal.so.4")

# 'native': 64 MiB from the process's malloc, written (resident).
TARGET = r"""
import ctypes, os
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
POINTERS = []
os.write(1, b"ready\n")
while True:
    line = os.read(0, 4096).strip()
    if not line or line == b"exit":
        break
    if line == b"native":
        for _ in range(64):
            p = libc.malloc(1 << 20)
            libc.memset(p, 1, 1 << 20)
            POINTERS.append(p)
        os.write(1, b"done\n")
    elif line.startswith(b"load "):
        POINTERS.append(ctypes.CDLL(line[5:].decode()))
        os.write(1, b"done\n")
    else:
        os.write(1, b"pong\n")
"""
LINE = re.compile(r"^malloc: (\w+) \(([^)]+)\), not glibc's: its memory is not read", re.M)
GLIBC_LINE = re.compile(r"^malloc: \d+ arenas?, ", re.M)
NOTE = re.compile(r"note: RSS grew by [0-9.]+ MiB while the Python objects grew by [^\n]*"
                  r"outside the objects pyheap counts and pymalloc's arenas — in jemalloc's "
                  r"memory \(the process's malloc, not read\)")


def check_other(what, tool, pid, env, name, file_prefix, fails):
    doc = common.run_json(tool, [pid], env, what, fails)
    if doc is None:
        return
    other = doc.get("malloc_other")
    glibc = doc.get("malloc")
    if not other or other.get("name") != name or not other.get("file", "").startswith(
            file_prefix) or other.get("in_use") is not True:
        fails.append("%s: malloc_other %s, expected %s in use" % (what, other, name))
    elif glibc is not None and glibc["system_bytes"]:
        fails.append("%s: glibc's arenas took %d bytes with %s preloaded"
                     % (what, glibc["system_bytes"], name))
    else:
        log("PASS %s: malloc_other %s (glibc's arenas: %s)"
            % (what, other, glibc and glibc["system_bytes"]))
    r = common.run_tool(tool, [pid], env=env)
    out = r.stdout.decode("utf-8", "replace")
    m = LINE.search(out)
    if r.rc != 0 or not m or m.group(1) != name or GLIBC_LINE.search(out):
        fails.append("%s, text: no line naming %s (rc %s):\n%s" % (what, name, r.rc, out[:800]))
    else:
        log("PASS %s, text: %s" % (what, m.group(0)))


def before(run):
    missing = [p for p in (JEMALLOC, TCMALLOC) if not os.path.exists(p)]
    if missing:
        raise common.TargetError("%s not installed: .ci/setup installs libjemalloc2 and "
                                 "libtcmalloc-minimal4" % ", ".join(missing))


def body(run):
    tool, target, tmp, env, fails = run.tool, run.target, run.tmp, run.env, run.fails
    check_other("jemalloc preloaded", tool, target.pid, env, "jemalloc", "libjemalloc.so", fails)
    r = common.run_tool(tool, ["--watch", "0.1", "--count", "2", "--json", target.pid], env=env)
    lines = [json.loads(x) for x in r.stdout.decode("utf-8", "replace").splitlines() if x]
    if r.rc != 0 or len(lines) != 2 or any(x.get("malloc_other") != "jemalloc" for x in lines):
        fails.append("--watch --json: rc %s, malloc_other %s"
                     % (r.rc, [x.get("malloc_other") for x in lines]))
    else:
        log("PASS --watch --json: malloc_other jemalloc in each line")
    # What grows in jemalloc's memory: --diff says where it is.
    a = os.path.join(tmp, "a.pyheap")
    r = common.run_tool(tool, ["-o", a, target.pid], env=env)
    if r.rc != 0:
        fails.append("-o a.pyheap: rc %s %s" % (r.rc, r.stderr_excerpt(300)))
        return
    target.send("native")
    if target.read_line(60) != "done":
        raise common.TargetError("native: no 'done'")
    target.wait_reading_stdin()
    common.expect_text(tool, ["--diff", a, target.pid], env, NOTE,
                       "--diff after 64 MiB from jemalloc: no note naming its memory", fails)
    # tcmalloc, and no preload at all.
    for what, preload, name in (("tcmalloc preloaded", TCMALLOC, "tcmalloc"),
                                ("no preload", None, None)):
        penv = dict(os.environ)
        penv.pop("LD_PRELOAD", None)
        if preload:
            penv["LD_PRELOAD"] = preload
        with common.Target([run.python, "-I", "-S", "-c", TARGET], env=penv,
                           name=what) as t:
            t.wait_reading_stdin()
            if name:
                check_other(what, tool, t.pid, env, name, "libtcmalloc", fails)
                continue
            doc = common.run_json(tool, [t.pid], env, what, fails)
            if doc is not None and doc.get("malloc_other") is not None:
                fails.append("%s: malloc_other %s" % (what, doc.get("malloc_other")))
            elif doc is not None:
                log("PASS %s: malloc_other null" % what)
            t.send("load " + TCMALLOC)
            if t.read_line(60) != "done":
                raise common.TargetError("load: no 'done'")
            t.wait_reading_stdin()
            doc = common.run_json(tool, [t.pid], env, "tcmalloc loaded later", fails)
            other = doc and doc.get("malloc_other")
            r = common.run_tool(tool, [t.pid], env=env)
            out = r.stdout.decode("utf-8", "replace")
            note = re.search(r"^note: tcmalloc \(libtcmalloc_minimal\.so[.0-9]*\) is loaded as "
                             r"well: what it allocates is not counted above$", out, re.M)
            if not other or other.get("in_use") is not False or \
                    (doc.get("malloc") is not None and not GLIBC_LINE.search(out)) or \
                    (doc.get("malloc") is not None and not note):
                fails.append("tcmalloc loaded later: malloc_other %s; text:\n%s"
                             % (other, out[:800]))
            else:
                log("PASS tcmalloc loaded later: in_use false, glibc's line%s"
                    % (" and the note" if note else " unknown (no libc6-dbg)"))


if __name__ == "__main__":
    sys.exit(common.live_target_test(__doc__, "malloc_other test", TARGET, body, before=before,
                                     target_env={"LD_PRELOAD": JEMALLOC}))
