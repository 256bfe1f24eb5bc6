#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Safety test: replays the fuzz corpus (tests/fuzz/corpus/*.dump.xz) with the
ASan+UBSan build of the library: each recording must give exactly its
recorded result, and MUTATIONS random mutations of each must end without a
crash, a sanitizer report, an allocation over 256 MiB or a hang (10 s per
walk).  Then every input in tests/fuzz/regressions/ (inputs the fuzzer once
found a bug with) must end the same way.

usage: run_replay.py REPLAY-BINARY [--mutations N] [--seed S] [--corpus DIR]
exit: 0 pass, 1 fail, 77 skip (no corpus)"""
import argparse
import glob
import lzma
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("replay")
    ap.add_argument("--mutations", type=int, default=300)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--corpus", default=os.path.join(HERE, "corpus"))
    ap.add_argument("--regressions", default=os.path.join(HERE, "regressions"))
    args = ap.parse_args()
    def inputs(d):
        return sorted(glob.glob(os.path.join(d, "*.dump.xz")) + glob.glob(os.path.join(d, "*.dump")))
    files = inputs(args.corpus)
    regressions = inputs(args.regressions)
    if not files:
        print("SKIP: no recordings in %s" % args.corpus)
        return 77
    seed = args.seed if args.seed is not None else int(time.time()) & 0xffffffff
    with tempfile.TemporaryDirectory(prefix="pyheap-replay-") as tmp:
        def unpack(names):
            paths = []
            for f in names:
                if f.endswith(".xz"):
                    out = os.path.join(tmp, os.path.basename(f)[:-3])
                    with lzma.open(f) as src, open(out, "wb") as dst:
                        dst.write(src.read())
                    paths.append(out)
                else:
                    paths.append(f)
            return paths
        env = dict(os.environ)
        # The inputs hold a few MiB of memory: an allocation of 256 MiB is a
        # hostile count trusted (a failure, not a NULL to cope with).
        env["ASAN_OPTIONS"] = ("abort_on_error=1:detect_leaks=1:max_allocation_size_mb=256:"
                               "allocator_may_return_null=0:" + env.get("ASAN_OPTIONS", ""))
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        argv = [args.replay, "--check", "--mutations", str(args.mutations),
                "--seed", str(seed)] + unpack(files)
        print(" ".join(argv))
        sys.stdout.flush()
        rc = subprocess.call(argv, env=env)
        if rc == 0 and regressions:
            argv = [args.replay] + unpack(regressions)
            print(" ".join(argv))
            sys.stdout.flush()
            rc = subprocess.call(argv, env=env)
    if rc != 0:
        print("RESULT: FAIL (replay exit %d, seed %d; reproduce one input with "
              "--seed %d --only K)" % (rc, seed, seed))
        return 1
    print("RESULT: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
