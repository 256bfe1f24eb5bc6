#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Safety test: a walk recorded by this build replays exactly.

usage: record_replay.py --tool PATH --python LABEL --replay PATH
exit:  0 pass, 1 fail, 77 skip (interpreter absent)

Starts corpus_target.py (every kind of object the walker emulates, and every
kind of root), records its walk with `--dump-memory` twice: whole, from the
copy (the default), and within a 1 MiB budget (`--read live --max-copy 1`),
and replays each recording unmutated with `fuzz-replay --check`: the walk
must give exactly the recorded result, from the recorded memory and through
a cache of one block. A read that bypasses the cache's read tracking (the
recording then lacks bytes the walk used) fails here, before it could spoil
a re-recorded fuzz corpus.

Checks (one line each, PASS/FAIL): copy, budget (the recording and its
replay), resumed (the target runs, not stopped, afterwards).
"""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "live"))
import common  # noqa: E402

MODES = (("copy", []), ("budget", ["--read", "live", "--max-copy", "1"]))


def main():
    args, tool, python = common.live_test_args(
        __doc__, [("--replay", {"required": True, "help": "the fuzz-replay binary"})])
    if not python:
        return common.EXIT_SKIP
    fails = []
    target = common.Target([python, "-I", "-S", os.path.join(HERE, "corpus_target.py")],
                           name="corpus target (%s)" % args.python)
    try:
        with tempfile.TemporaryDirectory(prefix="pyheap-record-") as tmp:
            for name, extra in MODES:
                dump = os.path.join(tmp, name + ".dump")
                r = common.run_tool(tool, ["--dump-memory", dump, "--limit", "1"] + extra +
                                    [str(target.pid)])
                if r.rc != 0 or not os.path.isfile(dump):
                    fails.append("%s: recording: %s\n%s"
                                 % (name, r.describe(), r.stderr_excerpt()))
                    continue
                p = subprocess.run([args.replay, "--check", "--mutations", "0", dump],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   timeout=120)
                out = p.stdout.decode("utf-8", "replace")
                if p.returncode != 0 or " 0 failures" not in out:
                    fails.append("%s: replay exit %d\n%s" % (name, p.returncode, out[-2000:]))
                else:
                    last = [l for l in out.splitlines() if "walk ok" in l]
                    common.log("PASS %s: %s" % (name, last[0].split(": ", 1)[-1] if last
                                                 else "replayed"))
        # (The corpus target reads its stdin to the end: no ping; running
        # and not stopped is what is left to check.)
        ok, why = target.check_running()
        if not ok:
            fails.append("resumed: %s" % why)
        else:
            common.log("PASS resumed: %s" % why)
    finally:
        target.stop()
    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
