#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: within a container's memory limit, the tool is not killed.

usage: memory_limit.py --tool PATH --python LABEL

A target holds 30,000 strs of 2,100 bytes (a heap of about 63 MiB). As root,
where a cgroup with a memory limit can be made (cgroup v1's memory hierarchy,
or v2 with its memory controller), the tool runs in one limited to 64 MiB:
copying the heap (the default when the machine has the memory) would take
more than the limit, and the kernel would kill a process of the cgroup (in a
container, maybe the target). By default the tool takes half of what the
limit leaves instead (--max-copy), so:

  completes     the tool exits 0 (not killed), and `--stats` says the heap
                was walked while stopped (through a bounded cache)
  same          the same objects and total size as the run outside the
                cgroup (copy mode)
  healthy       the target answers ping afterwards
  partial       a target of 900k small objects, whose snapshot alone would
                take more than a 24 MiB limit leaves: the tool exits 0 with
                a partial result that names the memory limit (it was
                killed before); the target answers ping afterwards
  watch         `--watch` of the same idle target, three samples in a cgroup
                limited to 48 MiB: each partial, none with fewer than 90% of
                the objects of another (the memory of one snapshot is given
                back before the next; the second had 279k objects against
                393k before)
  cache         the same target in a cgroup limited to 160 MiB that holds
                100 MiB of a file's page cache (written from inside it, to a
                disk, then synced): all objects, the same as outside (the
                kernel reclaims that cache first; before, 442k objects)
  fits          the same target in a cgroup limited to 144 MiB, where its
                snapshot fits (the tool takes about 100 MiB): the whole of
                it, the same objects and size as outside the cgroup (a
                bound of 96 bytes per object, before, cut it at 740k
                objects); the cgroup's peak usage stays below the limit

Skipped (exit 77) where no such cgroup can be made (not root, no memory
controller).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

TARGET = r"""
import sys
KEEP = [("%06d" % i) * 350 for i in range(30000)]
""" + common.SERVE
LIMIT = 64 << 20
# Many small objects: their snapshot alone (about 60 bytes each) takes more
# than the smaller limit leaves.
SMALL_TARGET = r"""
import sys
KEEP = [(i, str(i)) for i in range(100000, 400000)]
""" + common.SERVE
SMALL_LIMIT = 24 << 20
WATCH_LIMIT = 48 << 20
CACHE_LIMIT = 160 << 20
CACHE_BYTES = 100 << 20
FITS_LIMIT = 144 << 20


def main():
    args, tool, python = common.live_test_args(__doc__)
    if not python:
        return common.EXIT_SKIP
    fails = []
    with common.Target([python, "-I", "-S", "-c", TARGET], name="str target") as t:
        free = common.run_tool(tool, ["--json", str(t.pid)])
        if free.rc != 0:
            fails.append("outside the cgroup: %s: %s" % (free.describe(), free.stderr_excerpt()))
            return common.report(fails, args.python)
        ref = json.loads(free.stdout)
        if ref["size"] < LIMIT * 3 // 4:
            fails.append("the target's heap is %d bytes, not near the limit's %d"
                         % (ref["size"], LIMIT))
        r, _ = limited(LIMIT, tool, ["--stats", "--json", str(t.pid)], fails)
        if not r:
            common.log("SKIP: no cgroup with a memory limit can be made here")
            return common.EXIT_SKIP
        err = r.stderr.decode("utf-8", "replace")
        if r.rc != 0:
            fails.append("completes: in a cgroup limited to %d MiB: %s: %s"
                         % (LIMIT >> 20, r.describe(), r.stderr_excerpt()))
        elif "walked while stopped" not in err:
            fails.append("completes: --stats does not say the heap was walked while stopped: %s"
                         % err.strip()[:300])
        else:
            common.log("PASS completes: limited to %d MiB, walked while stopped" % (LIMIT >> 20))
            got = json.loads(r.stdout)
            if (got["objects"], got["size"]) != (ref["objects"], ref["size"]):
                fails.append("same: %d objects, %d bytes in the cgroup; %d, %d outside"
                             % (got["objects"], got["size"], ref["objects"], ref["size"]))
            else:
                common.log("PASS same: %d objects, %d bytes" % (got["objects"], got["size"]))
        common.check_healthy(t, fails)
    with common.Target([python, "-I", "-S", "-c", SMALL_TARGET], name="small objects") as t:
        r, _ = limited(SMALL_LIMIT, tool, [str(t.pid)], fails)
        if not r:
            fails.append("partial: the second cgroup could not be made")
            return common.report(fails, args.python)
        out = r.stdout.decode("utf-8", "replace")
        if r.rc != 0 or "memory limit of the tool's cgroup" not in out:
            fails.append("partial: 900k objects in a cgroup limited to %d MiB: %s; the output "
                         "%s the memory limit"
                         % (SMALL_LIMIT >> 20, r.describe(),
                            "names" if "memory limit" in out else "does not name"))
        else:
            common.log("PASS partial: limited to %d MiB, a partial result that names the limit"
                       % (SMALL_LIMIT >> 20))
        common.check_healthy(t, fails)
        r, _ = limited(WATCH_LIMIT, tool, ["--watch", "0.1", "--count", "3", "--json",
                                           str(t.pid)], fails)
        lines = [json.loads(x) for x in r.stdout.decode().splitlines() if x.strip()] \
            if r and r.rc == 0 else []
        counts = [x.get("objects") for x in lines]
        if len(lines) != 3:
            fails.append("watch: %s: %s" % (r.describe() if r else "no cgroup",
                                            r.stderr_excerpt() if r else ""))
        elif not all(x.get("truncated") for x in lines) or min(counts) < 0.9 * max(counts):
            fails.append("watch: samples of %s objects (partial: %s) in a cgroup limited to "
                         "%d MiB" % (counts, [x.get("truncated") for x in lines],
                                     WATCH_LIMIT >> 20))
        else:
            common.log("PASS watch: limited to %d MiB, three partial samples of %s objects"
                       % (WATCH_LIMIT >> 20, counts))
        # (Outside the cgroup right before: the target's last command, the
        # ping, is an object of its heap.)
        free = common.run_tool(tool, ["--json", str(t.pid)])
        ref = json.loads(free.stdout) if free.rc == 0 else None
        if not ref:
            fails.append("outside the cgroup (small objects): %s: %s"
                         % (free.describe(), free.stderr_excerpt()))
        cached(tool, t, ref, fails)
        r, peak = limited(FITS_LIMIT, tool, ["--json", str(t.pid)], fails)
        if not r:
            fails.append("fits: the third cgroup could not be made")
            return common.report(fails, args.python)
        got = json.loads(r.stdout) if r.rc == 0 else None
        if not got:
            fails.append("fits: in a cgroup limited to %d MiB: %s: %s"
                         % (FITS_LIMIT >> 20, r.describe(), r.stderr_excerpt()))
        elif ref and (got["truncated"] or (got["objects"], got["size"]) !=
                      (ref["objects"], ref["size"])):
            fails.append("fits: %d objects, %d bytes%s in a cgroup limited to %d MiB; %d, %d "
                         "outside" % (got["objects"], got["size"],
                                      " (partial)" if got["truncated"] else "",
                                      FITS_LIMIT >> 20, ref["objects"], ref["size"]))
        elif peak is not None and peak >= FITS_LIMIT:
            fails.append("fits: the cgroup's peak usage %d reached its limit" % peak)
        elif ref:
            common.log("PASS fits: limited to %d MiB, all %d objects (peak %s)"
                       % (FITS_LIMIT >> 20, got["objects"],
                          "%.1f MiB" % (peak / 2**20) if peak is not None else "unknown"))
        common.check_healthy(t, fails)
    return common.report(fails, args.python)


def cached(tool, t, ref, fails):
    """The `cache` check: the tool in a cgroup that holds a file's page cache."""
    where = os.path.join(common.REPO, "build")
    where = where if os.path.isdir(where) else common.REPO
    fs = ""
    with open("/proc/self/mounts") as fh:
        best = ""
        for line in fh:
            f = line.split()
            if len(f) > 2 and (where + "/").startswith(f[1].rstrip("/") + "/") and \
                    len(f[1]) >= len(best):
                best, fs = f[1], f[2]
    if fs in ("tmpfs", "ramfs", "overlay") or not ref:
        common.log("cache: skipped (%s)" % ("%s is on %s: no page cache to reclaim"
                                            % (where, fs) if ref else "no reference run"))
        return
    d = common.make_cgroup("memory", {"memory.limit_in_bytes": str(CACHE_LIMIT)},
                           {"memory.max": str(CACHE_LIMIT)})
    if not d:
        fails.append("cache: the cgroup could not be made")
        return
    path = os.path.join(where, "pyheap-cache-test-%d" % os.getpid())
    try:
        fill = common.run_tool("/bin/sh", [
            "-c", 'echo $$ > "$0/cgroup.procs" && dd if=/dev/zero of="$1" bs=1M count=%d '
            'status=none && sync "$1"' % (CACHE_BYTES >> 20), d, path])
        usage = None
        for name in ("memory.usage_in_bytes", "memory.current"):
            try:
                with open(os.path.join(d, name)) as fh:
                    usage = int(fh.read())
                break
            except (OSError, ValueError):
                continue
        r = common.run_in_cgroup(d, tool, ["--json", str(t.pid)])
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
        common.remove_cgroup(d, fails)
    if fill.rc != 0:
        fails.append("cache: writing %s: %s" % (path, fill.describe()))
        return
    if usage is None or usage < CACHE_BYTES * 9 // 10:
        common.log("cache: inconclusive (the cgroup held %s bytes, not the file's cache)"
                   % usage)
        return
    got = json.loads(r.stdout) if r.rc == 0 else None
    if not got:
        fails.append("cache: %s: %s" % (r.describe(), r.stderr_excerpt()))
    elif got["truncated"] or got["objects"] != ref["objects"]:
        fails.append("cache: %d objects%s in a cgroup limited to %d MiB holding %d MiB of "
                     "page cache; %d outside" % (got["objects"],
                                                 " (partial)" if got["truncated"] else "",
                                                 CACHE_LIMIT >> 20, usage >> 20, ref["objects"]))
    else:
        common.log("PASS cache: limited to %d MiB with %d MiB of page cache, all %d objects"
                   % (CACHE_LIMIT >> 20, usage >> 20, got["objects"]))


def limited(limit, tool, args, fails):
    """The tool run with @args in a new cgroup whose memory is limited to
    @limit bytes, and the cgroup's peak usage (None: unknown); (None, None)
    where no such cgroup can be made."""
    d = common.make_cgroup("memory", {"memory.limit_in_bytes": str(limit)},
                           {"memory.max": str(limit)})
    if not d:
        return None, None
    try:
        r = common.run_in_cgroup(d, tool, args)
        peak = cgroup_peak(d)
    finally:
        common.remove_cgroup(d, fails)
    return r, peak


def cgroup_peak(d):
    """The peak memory usage of cgroup @d (v1 memory.max_usage_in_bytes, v2
    memory.peak where the kernel has it), or None."""
    for name in ("memory.max_usage_in_bytes", "memory.peak"):
        try:
            with open(os.path.join(d, name)) as fh:
                return int(fh.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return None


if __name__ == "__main__":
    sys.exit(main())
