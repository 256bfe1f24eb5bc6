#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: objects a C extension keeps in static variables are named by
where: `<held by native code (1 ref unaccounted): static data of FILE+0xOFFSET>`,
OFFSET the variable's address as nm gives it.

usage: native_statics.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent, or no C compiler or no
       Python headers to build the extension with)

The test builds tests/targets/static_holder.c for the interpreter (cc, the
interpreter's include directory), reads the addresses of its static variables
kept_list and remembered with nm, and starts a target that appends HELD Held
objects to kept_list (only that static variable holds the list) and stores a
Config object, which __main__.CONFIG also holds, in remembered. The target
prints what it built (counts from gc.get_objects(), the list's id) before
"ready".

Checks (one line each, PASS/FAIL):
  held      `--referrers Held --json --paths 0`: HELD objects, the one path
            group "<held by native code (1 ref unaccounted): static data of
            static_holder…so+0xKEPT>[*]" (KEPT: nm's kept_list)
  list      `--referrers 0xID` of the list: the same place, without [*]
  python    `--referrers Config`: "__main__.CONFIG" (a path from the roots
            wins; the static variable names nothing then)
  leaked    the target also passes LEAKED strs, bytes and floats, tuples
            and dicts of such values (untracked by the GC: gc.is_tracked()
            False after a collection), and strs and bytes over 512 bytes
            (malloc's, not pymalloc's: in its main arena, in the arena of a
            worker thread that made them, and mapped apart past a fixed
            MALLOC_MMAP_THRESHOLD_ of 128 KiB; the target reads each chunk's
            flags, and each place must hold some), to leak(), which takes a reference
            it never gives back, and drops its own: alive, in no GC list,
            referred to by nothing. `--referrers 0xID` of the second and
            third of each kind: 1 object,
            "<held by native code (1 ref unaccounted)>" (3.8, 3.9: a dict
            made from the interpreter's free list may be named by the
            list's stale slot, ": static data of libpython3.8…+0x…"); the
            partition's note
            "N objects … found in pymalloc's or malloc's blocks alone" with N >= 7 x LEAKED
            (before: no object at that address), and at most 8 ints among
            them (3.9, 3.10: the interpreter's small ints are pymalloc's)
            and at most 20 strs besides those leaked, where DYNAMIC names
            made at run time were looked up on a class (getattr()): 3.10+,
            its type cache holds them (the target counts them by their
            reference counts: at least half)
            (each also read live within 1 MiB: --read live --max-copy 1)
  leaked-debug-hooks  the same in a second target run with -X dev, which
            installs the allocators' debug hooks (each object 16 bytes into its
            block, 32 in malloc's chunks, behind their headers; a debug build has
            them in the first target already)
  file      the same path from a snapshot file (-o, --load: section 72)
  core      the same path from a core file of the target (gcore, --core)
  healthy   the target runs and answers ping afterwards
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from threads import TruthFirst  # noqa: E402

HELD = 120
LEAKED = 40
MAPPED = 3
MMAP_THRESHOLD = 128 * 1024
MAX_NATIVE_INTS = 8
DYNAMIC = 200
MAX_NATIVE_STRS = 20
# Dicts only native code holds, besides the target's: on 3.8 two. (The
# map of errno values to OSError's subclasses is the interpreter's, left out as
# its interned strings' dicts are: 3.10+ in its state, before a static variable.)
MAX_NATIVE_DICTS = 2
WHERE = {"main": "", "thread": " in a thread's arena", "mapped": " mapped apart"}
SOURCE = os.path.join(common.REPO, "tests", "targets", "static_holder.c")

TARGET = r"""
import gc, json, sys
sys.path.insert(0, %r)
import static_holder

class Held:
    pass

class Config:
    pass

for _ in range(%d):
    static_holder.keep(Held())
CONFIG = Config()
static_holder.remember(CONFIG)
lst = static_holder.kept()
# References leaked: strs, bytes and floats kept alive by nothing, and tuples
# and dicts of such values, which the GC untracks (in no GC list then).
leaked, made = [], []
for i in range(%d):
    for o in ("leaked str %%d " %% i * 3, b"leaked bytes %%d" %% i, i * 1.5 + 1000.25,
              ("leaked tuple %%d" %% i, i, i * 0.5), {"leaked dict": i, "n": "d%%d" %% i},
              # (over 512 bytes: malloc's)
              "long leaked str %%d " %% i * 200, b"long leaked bytes %%d " %% i * 300):
        static_holder.leak(o)
        made.append(o)
# In a worker thread: over 512 bytes, in that thread's malloc arena.
def work():
    for i in range(%d):
        for o in ("thread leaked str %%d " %% i * 200, b"thread leaked bytes %%d " %% i * 300):
            static_holder.leak(o)
            made.append(o)
import threading
t = threading.Thread(target=work)
t.start()
t.join()
# Over malloc's threshold (MALLOC_MMAP_THRESHOLD_ set): chunks mapped apart.
for i in range(%d):
    for o in ("mapped leaked str %%d " %% i * 20000, b"mapped leaked bytes %%d " %% i * 30000):
        static_holder.leak(o)
        made.append(o)
# Names made at run time and looked up on a class: the interpreter's type
# cache keeps each (a reference no object accounts for), misses included.
names = ["dynamic_attr_%%d" %% i for i in range(%d)]
for n in names:
    getattr(CONFIG, n, None)
cached_names = sum(1 for n in names if sys.getrefcount(n) > 3)
del names, n
gc.collect()  # (untracks the tuples)
try:
    import ctypes
except ImportError:
    ctypes = None
def chunk(o):
    # Where malloc put an object over 512 bytes (its chunk's size word, before
    # it: IS_MMAPPED 2, NON_MAIN_ARENA 4); None: not malloc's, or unknown.
    if ctypes is None or sys.getsizeof(o) <= 512 or gc.is_tracked(o):
        return None
    at = id(o) - 8
    for _ in range(2):
        if ctypes.c_size_t.from_address(at).value >> 8 == 0xfdfdfdfdfdfdfd:
            at -= 16  # (behind a header of the debug hooks: -X dev, a debug build)
    flags = ctypes.c_size_t.from_address(at).value & 7
    return "mapped" if flags & 2 else "thread" if flags & 4 else "main"
for o in made:
    leaked.append({"address": "0x%%x" %% id(o), "kind": type(o).__name__,
                   "size": sys.getsizeof(o), "tracked": gc.is_tracked(o), "chunk": chunk(o)})
del made, o
truth = {"list": "0x%%x" %% id(lst), "held": sum(1 for o in gc.get_objects() if type(o) is Held),
         "kept": len(lst), "leaked": leaked, "debug": hasattr(sys, "gettotalrefcount"),
         "cached_names": cached_names,
         "version": list(sys.version_info[:2])}
del lst
sys.stdout.write("truth " + json.dumps(truth) + "\n")
""" + common.IDLE_CODE


def build(python, tmp):
    """The extension built for @python in @tmp: (its path, {symbol: address}),
    or None (said why)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    nm = shutil.which("nm")
    lines = common.build_paths(python)
    if not cc or not nm or not lines:
        common.log("SKIP: no C compiler, nm or Python.h for %s" % python)
        return None
    so = os.path.join(tmp, "static_holder" + lines[1])
    r = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-I" + lines[0], SOURCE, "-o", so],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        common.log("SKIP: the extension does not build:\n%s" % r.stdout.decode()[-1500:])
        return None
    syms = {}
    for line in subprocess.run([nm, so], stdout=subprocess.PIPE).stdout.decode().splitlines():
        f = line.split()
        if len(f) == 3:
            syms[f[2]] = int(f[0], 16)
    return so, syms


def check(tool, source, what, count, want, fails, tag):
    r, doc = common.referrers_json(tool, what, source)
    paths = common.paths_of(doc)
    if r.rc != 0 or not doc or doc.get("objects") != count or paths != want:
        fails.append("%s: exit %s, objects %s (want %d), paths %r (want %r)\n%s"
                     % (tag, r.rc, (doc or {}).get("objects"), count, paths, want,
                        r.stderr_excerpt()))
    else:
        common.log("PASS %s: %d, %s" % (tag, count, ", ".join(paths)))


# 3.8 and 3.9 keep their free list of dicts in the interpreter's static data,
# an array whose slots past its count still hold the addresses of the dicts
# taken from it since: a leaked dict made so is named by that slot.
STALE_FREE_LIST = re.compile(r"<held by native code \(1 ref unaccounted\): static data of "
                             r"(libpython|python)3\.[89][^ +]*\+0x[0-9a-f]+>$")


def leaked(tool, pid, objs, fails, version, tag="leaked", cached_names=0):
    """Objects whose references the extension leaked: each found, of its kind
    and size, held by native code (one reference no object accounts for);
    the partition's note counts them."""
    bad = ["%s %s: tracked by the GC in the target" % (o["kind"], o["address"])
           for o in objs if o["tracked"]]
    def group(o):
        return o["kind"] + (" over 512 bytes" if o["size"] > 512 else "") + WHERE.get(
            o.get("chunk"), "")
    kinds = sorted(set(group(o) for o in objs))
    # (Where malloc put them, as the target saw it: each place, strs and bytes.)
    if any(o.get("chunk") for o in objs):
        for where in WHERE.values():
            for kind in ("str", "bytes"):
                if not any(group(o) == kind + " over 512 bytes" + where for o in objs):
                    bad.append("target: no %s over 512 bytes%s (malloc put them elsewhere)"
                               % (kind, where))
    for o in [o for k in kinds for o in [o for o in objs if group(o) == k][1:3]]:
        # (of each kind, the second and third made)
        r, doc = common.referrers_json(tool, o["address"], [str(pid)])
        paths = common.paths_of(doc)
        want = {"<held by native code (1 ref unaccounted)>": 1}
        if (o["kind"] == "dict" and version < [3, 10] and len(paths) == 1 and
                STALE_FREE_LIST.match(list(paths)[0])):
            want = paths
        if r.rc != 0 or not doc or doc.get("objects") != 1 or paths != want:
            bad.append("%s %s: exit %s, objects %s, paths %r"
                       % (o["kind"], o["address"], r.rc, (doc or {}).get("objects"), paths))
        # (Read live within a budget too: pools read through the cache,
        # pool by pool; of malloc's chunks, the pages the process touched.)
        r, doc = common.referrers_json(tool, o["address"],
                                       ["--read", "live", "--max-copy", "1", str(pid)])
        paths = common.paths_of(doc)
        if r.rc != 0 or not doc or doc.get("objects") != 1 or paths != want:
            bad.append("%s %s read live within 1 MiB: exit %s, objects %s, paths %r"
                       % (o["kind"], o["address"], r.rc, (doc or {}).get("objects"),
                          paths))
    r = common.run_tool(tool, [str(pid)])
    text = r.stdout.decode("utf-8", "replace")
    m = re.search(r"^note: (\d+) objects? \(.*\) found in pymalloc's or malloc's blocks alone",
                  text, re.M)
    # (Hardly an int among them: the target leaked none. On 3.9 and 3.10 the
    # interpreter's 262 small ints are in pymalloc's blocks, held by its array
    # of them: about 125 that no object refers to, not leaked. One int, 8192,
    # is held by native code on every version.)
    # (Nor the names the type cache holds, 3.10+: the target's strs, leaked,
    # and a few the interpreter keeps. 3.8, 3.9: the cache is static data.)
    # (Nor, 3.12+, the dicts of the static types only the interpreter's state
    # holds: each a dict of __doc__ alone, about 10 on an idle 3.13; nor the
    # errno map.)
    # The largest of them is listed, with its address, in the text and in the
    # JSON: the target's largest leak.
    r = common.run_tool(tool, ["--json", str(pid)])
    leaked_strs = sum(1 for o in objs if o["kind"] == "str")
    leaked_dicts = sum(1 for o in objs if o["kind"] == "dict")
    most = max(o["size"] for o in objs)
    largest = {int(o["address"], 16): o for o in objs if o["size"] == most}  # (ties)
    try:
        found = json.loads(r.stdout.decode("utf-8"))["found_in_pools"]
        kinds = found["kinds"]
        ints, strs = kinds.get("int"), kinds.get("str", [0, 0])
        dicts = kinds.get("dict (no owner)", [0, 0])
        if ints and ints[0] <= MAX_NATIVE_INTS:
            ints = None
        if strs[0] <= leaked_strs + MAX_NATIVE_STRS:
            strs = None
        if dicts[0] <= leaked_dicts + MAX_NATIVE_DICTS:
            dicts = None
        top = found["largest"][0]
        want = largest.get(int(top["address"], 16))
        if not want or top["size"] != want["size"] or top["kind"] != want["kind"]:
            bad.append("the largest found in blocks alone: %r, the target's largest leaks: %r"
                       % (top, sorted(largest.values(), key=lambda o: o["address"])))
        listed = re.findall(r"^  (0x[0-9a-f]+) +(\d+)  (.+)$", text, re.M)
        if not any(int(a, 16) in largest and int(n) == most for a, n, _ in listed):
            bad.append("the note does not list one of the largest leaks (%d bytes): %r"
                       % (most, listed[:5]))
    except (ValueError, KeyError, TypeError, IndexError) as e:
        ints = strs = dicts = "no found_in_pools (%s): exit %s" % (e, r.rc)
    if dicts:
        bad.append("dicts found in blocks alone (count, size): %r, the target leaked %d"
                   % (dicts, leaked_dicts))
    if ints:
        bad.append("ints found in blocks alone (count, size), the target leaked none: %r"
                   % (ints,))
    if strs:
        bad.append("strs found in blocks alone (count, size): %r, the target leaked %d "
                   "(and its type cache holds %d names)" % (strs, leaked_strs, cached_names))
    if cached_names < DYNAMIC // 2:
        bad.append("target: its type cache holds %d of the %d names looked up"
                   % (cached_names, DYNAMIC))
    if bad or not m or int(m.group(1)) < len(objs):
        fails.append("%s: %s; note %r (want >= %d objects)"
                     % (tag, "; ".join(bad), m.group(0) if m else None, len(objs)))
    else:
        common.log("PASS %s: %s whose references leaked, each held by native code; %s"
                   % (tag, ", ".join(kinds), m.group(0)))


def main():
    args, tool, python = common.live_test_args(__doc__)
    if not python:
        return common.EXIT_SKIP
    fails = []
    tmp = tempfile.mkdtemp(prefix="pyheap-statics-")
    try:
        built = build(python, tmp)
        if not built:
            return common.EXIT_SKIP
        so, syms = built
        if "kept_list" not in syms or "remembered" not in syms:
            fails.append("nm gives no kept_list or remembered in %s: %r" % (so, sorted(syms)))
            return common.report(fails, args.python)
        # (A fixed threshold: malloc raises it past each chunk mapped apart
        # that is freed otherwise.)
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(MMAP_THRESHOLD))
        with TruthFirst([python, "-I", "-c", TARGET % (tmp, HELD, LEAKED, LEAKED, MAPPED, DYNAMIC)],
                        name="static holder (%s)" % python, env=env) as t:
            truth = t.truth
            common.log("truth %s; kept_list at 0x%x" % (json.dumps(truth), syms["kept_list"]))
            if truth["held"] != HELD or truth["kept"] != HELD:
                fails.append("target: not the state built: %r" % truth)
            where = "<held by native code (1 ref unaccounted): static data of %s+0x%x>" % (
                os.path.basename(so), syms["kept_list"])
            src = [str(t.pid)]
            check(tool, src, truth["list"], 1, {where: 1}, fails, "list")
            check(tool, src, "Config", 1, {"__main__.CONFIG": 1}, fails, "python")
            # (A debug build: behind the debug hooks' header in each block.)
            leaked(tool, t.pid, truth["leaked"], fails, truth["version"],
                   cached_names=truth["cached_names"])
            for tag, src in common.each_source(tool, t.pid, tmp, fails, first="held"):
                check(tool, src, "Held", truth["held"], {where + "[*]": truth["held"]}, fails,
                      tag)
            common.check_healthy(t, fails)
            debug = truth["debug"]
        if not debug:
            # The same leaks behind the debug hooks of a release build (-X
            # dev installs them; -I ignores PYTHONMALLOC).
            with TruthFirst([python, "-I", "-X", "dev", "-c",
                             TARGET % (tmp, HELD, LEAKED, LEAKED, MAPPED, DYNAMIC)],
                            name="static holder, -X dev (%s)" % python, env=env) as t:
                leaked(tool, t.pid, t.truth["leaked"], fails, t.truth["version"],
                       "leaked-debug-hooks", t.truth["cached_names"])
                common.check_healthy(t, fails)
    except common.TargetError as e:
        fails.append(str(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
