#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: the walk on two threads gives the snapshot of the walk on one.

usage: walk_threads.py --tool PATH --python LABEL

On two CPUs the objects phase of the walk runs as a pipeline (one thread
processes objects, the other looks up their edges' targets and adds the new
objects); objects must get the same indices, edges the same order, and every
count must be the same as on one thread. Four idle targets: an interpreter
with nothing loaded (`-I -S`: the default walks it on one thread), the heap
target (tests/targets/heap_target.py), the fuzz corpus target (one or two objects
of every kind the walker emulates) and the benchmark's target with 300,000
objects (lists of 10,000 items: far more edges in flight than the pipeline's
ring holds, so that the threads wait on each other; and enough that the
default picks two threads for it).

Checks, for each target:
  same-snapshot  `--walk-threads 1 -o A`, `--walk-threads 2 -o B` and
                 `--walk-threads 2 --read live -o C` (the walk while stopped:
                 its arrays grow from small, while both threads run) and the
                 default (no --walk-threads): every section of the files but
                 META byte for byte equal, and META's counts (unreadable, GC
                 objects, interpreters, threads, flags) equal
  two-threads    with two CPUs, `--stats` of the second run says the objects
                 phase ran on two threads (and the first run's does not)
  default        with two CPUs, the default run's `--stats` says two threads
                 for a copy of about 80k objects or more (7.5 MiB: the heap,
                 corpus and bench targets) and one below it (an idle
                 interpreter, 3-4 MiB; the corpus target cut to 5,000
                 objects by --max-objects)
  healthy        the target answers ping afterwards (the corpus target: is
                 running, not stopped)

The corpus target is also compared with --max-objects 5000 on every run
(a partial snapshot: the same objects refused on one thread and on two).
A fifth target holds 300,000 lists in reference cycles that nothing
reaches (garbage, the collector disabled), one in ten with a str only it
holds: the processing thread adds the lists itself, from the GC lists, and
with `--read live` (arrays grown from small) moves the object arrays while
the resolver idles; the resolver then adds the strs (it once wrote them into
the arrays' old place: a different snapshot, or a crash).
A sixth target is a linked list of 20,000 nodes with a list of 200,000
tuples at its far end: two threads go back to one for the list's narrow
part (each node brings one new node, and two threads would hand each over
between the cores: ten times slower, and far slower on a busy machine) and
to two again for the tuples, `--stats` says so (`narrow`), and the snapshot
is the same; on the other targets two threads stay two (a wait for a few
objects after the GC lists' expansion, or on a busy machine, is not narrow).
By default, two threads also go back to one when the CPUs are busy with
other work (`--stats`: "the CPUs were busy"), `--walk-threads 2` never.
Where a cgroup with a CPU quota can be made (root; cgroup v1's cpu
hierarchy, or v2 with its cpu controller), the bench target is walked in
one with a quota of one CPU: one thread (`--stats` names the quota), the
same snapshot.
"""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS_TARGET = os.path.join(HERE, "..", "fuzz", "corpus_target.py")
BENCH_TARGET = os.path.join(HERE, "..", "bench", "target.py")
GARBAGE_TARGET = r"""
import gc, sys
gc.disable()
for i in range(300000):
    x = []
    x.append(x)
    if i % 10 == 0:
        x.append("s%d" % i * 3)
del x
""" + common.SERVE
CHAIN_TARGET = r"""
import sys
class Node(object):
    __slots__ = ("next", "val")
    def __init__(self, next, val):
        self.next = next
        self.val = val
# A linked list of 20,000 nodes (each with an int), and at its far end a
# list of 200,000 tuples: narrow, then wide.
head = Node(None, [("t%d" % i, 100000 + i) for i in range(200000)])
for i in range(20000):
    head = Node(head, 300000 + i)
""" + common.SERVE
TWO = "objects on two threads"
NARROW = "narrow part"
BUSY = "the CPUs were busy"


def meta_counts(body):
    """META's counts after its strings and times: unreadable, GC objects,
    interpreters, threads, flags."""
    pos = common.varint(body, 0)[1]  # pid
    for _ in range(4):  # version, path, layout source, layout kind
        n, pos = common.varint(body, pos)
        pos += n
    for _ in range(3):  # time, pause, rss
        pos = common.varint(body, pos)[1]
    counts = []
    for _ in range(5):
        v, pos = common.varint(body, pos)
        counts.append(v)
    return counts


def compare(tool, target, name, tmp, fails, common_args=(), default_two=False, narrow=False):
    files, stats = [], []
    # The same heap for every run: the target waiting for its next line.
    if not target.wait_reading_stdin():
        fails.append("%s: the target is not waiting in read(0) after 10 s" % name)
        return
    runs = (["--walk-threads", "1"], ["--walk-threads", "2"],
            ["--walk-threads", "2", "--read", "live"], [])
    for k, extra in enumerate(runs):
        path = os.path.join(tmp, "%s-%d.pyheap" % (name, k))
        r = common.run_tool(tool, extra + list(common_args) +
                            ["--stats", "-o", path, str(target.pid)])
        if r.rc != 0:
            fails.append("%s: %s: %s" % (name, r.describe(), r.stderr_excerpt()))
            return
        files.append(path)
        stats.append(r.stderr.decode("utf-8", "replace"))
    a = common.snapshot_sections(files[0])
    for k in (1, 2, 3):
        b = common.snapshot_sections(files[k])
        differ = sorted(t for t in set(a) | set(b) if t != 1 and a.get(t) != b.get(t))
        ma, mb = meta_counts(a[1]), meta_counts(b[1])
        what = "%s same-snapshot (%s)" % (name, " ".join(runs[k]) or "default")
        if differ or ma != mb:
            fails.append("%s: sections %s differ from one thread's; META counts %r vs %r"
                         % (what, differ, ma, mb))
        else:
            common.log("PASS %s: %d sections equal, %d bytes of objects"
                       % (what, len(a), len(a.get(3, b""))))
    if len(os.sched_getaffinity(0)) >= 2:
        if TWO not in stats[1] or TWO not in stats[2] or TWO in stats[0]:
            fails.append("%s two-threads: --stats of --walk-threads 2 %s '%s', of 1 %s it"
                         % (name, "lacks" if TWO not in stats[1] else "has", TWO,
                            "has" if TWO in stats[0] else "lacks"))
        else:
            common.log("PASS %s two-threads" % name)
        if (TWO in stats[3]) != default_two:
            fails.append("%s default: --stats of the default run %s '%s' (expected %s)"
                         % (name, "has" if TWO in stats[3] else "lacks", TWO,
                            "two threads" if default_two else "one thread"))
        else:
            common.log("PASS %s default: %s thread%s" % (name, "two" if default_two else "one",
                                                        "s" if default_two else ""))
        # Two threads go back to one where the walk is narrow, and only there
        # (the default also when the CPUs are busy: then maybe before).
        said = [NARROW in stats[k] for k in (1, 2, 3)]
        expect = [narrow, narrow, narrow and default_two]
        if narrow and default_two and not said[2] and BUSY in stats[3]:
            said[2] = True
        if said != expect or BUSY in stats[1] + stats[2]:
            fails.append("%s narrow: '%s' in --stats of --walk-threads 2, of --walk-threads "
                         "2 --read live and of the default run: %s (expected %s)%s"
                         % (name, NARROW, said, expect,
                            "; '%s' in a forced run's" % BUSY if BUSY in stats[1] + stats[2]
                            else ""))
        else:
            common.log("PASS %s narrow: %s%s" % (
                name, "back to one thread for the narrow part" if narrow
                else "no narrow part", " (the default: the CPUs busy)" if BUSY in stats[3]
                else ""))
    else:
        common.log("one CPU: the walk runs on one thread (two-threads not checked)")


def check_quota(tool, target, tmp, fails):
    """The default run with a CPU quota of one CPU: one thread (two would be
    throttled in turn), and --stats says why; the same snapshot as one
    thread's."""
    d = common.make_cgroup("cpu", {"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "100000"},
                           {"cpu.max": "100000 100000"})
    if not d:
        common.log("no cgroup with a CPU quota could be made here (quota not checked)")
        return
    try:
        ref = os.path.join(tmp, "bulk-0.pyheap")
        path = os.path.join(tmp, "bulk-quota.pyheap")
        r = common.run_in_cgroup(d, tool, ["--stats", "-o", path, str(target.pid)])
        if r.rc != 0:
            fails.append("bulk quota: %s: %s" % (r.describe(), r.stderr_excerpt()))
            return
        err = r.stderr.decode("utf-8", "replace")
        a, b = common.snapshot_sections(ref), common.snapshot_sections(path)
        differ = sorted(t for t in set(a) | set(b) if t != 1 and a.get(t) != b.get(t))
        if TWO in err or "CPU quota: 1.00 CPUs (1 thread" not in err or differ:
            fails.append("bulk quota: with a quota of one CPU, --stats %s '%s' and %s the "
                         "quota; sections %s differ from one thread's"
                         % ("has" if TWO in err else "lacks", TWO,
                            "names" if "CPU quota: 1.00" in err else "does not name", differ))
        else:
            common.log("PASS bulk quota: one thread under a quota of one CPU, the same snapshot")
    finally:
        common.remove_cgroup(d, fails)


def main():
    args, tool, python = common.live_test_args(__doc__)
    if not python:
        return common.EXIT_SKIP
    fails = []
    tmp = tempfile.mkdtemp(prefix="pyheap-threads-")
    try:
        with common.Target.heap(python) as t:
            compare(tool, t, "heap", tmp, fails, default_two=True)
            common.check_healthy(t, fails)
        with common.Target([python, "-I", CORPUS_TARGET], name="corpus target") as t:
            compare(tool, t, "corpus", tmp, fails, default_two=True)
            # Cut short by --max-objects (the resolver refuses the objects
            # past the limit): the same partial snapshot.
            compare(tool, t, "corpus-limited", tmp, fails, ["--max-objects", "5000"])
            ok, why = t.check_running()
            if not ok:
                fails.append("corpus healthy: %s" % why)
        with common.Target([python, "-I", "-S", "-c", "import sys\n" + common.SERVE],
                           name="idle target") as t:
            compare(tool, t, "idle", tmp, fails)
            common.check_healthy(t, fails)
        with common.Target([python, "-I", "-S", BENCH_TARGET, "300000"],
                           name="bench target", ready_timeout=120) as t:
            compare(tool, t, "bulk", tmp, fails, default_two=True)
            check_quota(tool, t, tmp, fails)
            common.check_healthy(t, fails)
        with common.Target([python, "-I", "-S", "-c", GARBAGE_TARGET],
                           name="garbage target", ready_timeout=120) as t:
            compare(tool, t, "garbage", tmp, fails, default_two=True)
            common.check_healthy(t, fails)
        with common.Target([python, "-I", "-S", "-c", CHAIN_TARGET],
                           name="chain target", ready_timeout=120) as t:
            compare(tool, t, "chain", tmp, fails, default_two=True, narrow=True)
            common.check_healthy(t, fails)
    finally:
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
