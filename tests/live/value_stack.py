#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: an object only a running frame's value stack holds (the
iterator of the for loop the frame waits in) is named by that frame:
`<held by native code (1 ref unaccounted): the value stack of thread 0xID
frame serve() value_stack_target.py:LINE>`.

usage: value_stack.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent)

The target (tests/targets/value_stack_target.py) iterates over a generator
in serve() and waits for stdin inside the loop; the generator's local
'items' holds ITEMS Item objects, serve()'s local 'kept' KEPT Kept objects.
CPython keeps a running frame's stack depth in a register, and no object
refers to the generator: before, the tool said only `<held by native code
(1 ref unaccounted)>`.

Checks (one line each, PASS/FAIL):
  held      `--referrers Item --json --paths 0`: ITEMS objects, the one path
            group "<held by native code (1 ref unaccounted): the value stack
            of thread 0xID frame serve() value_stack_target.py:LINE>" then
            " local 'items'[*]" (3.11+: the generator's frame is inside it)
            or ".gi_frame local 'items'[*]" (up to 3.10); ID and LINE as the
            target says (threading.get_ident(), the line of its readline())
  kept      `--referrers Kept`: "thread 0xID frame serve() …:LINE local
            'kept'[*]" — a path from the roots wins (the list also sits in a
            slot above the stack's top, popped when it was stored)
  file      the held path from a snapshot file (-o, --load: section 73)
  core      the held path from a core file of the target (gcore, --core)
  healthy   the target runs and answers ping afterwards
"""

import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from threads import TruthFirst  # noqa: E402

TARGET = os.path.join(common.REPO, "tests", "targets", "value_stack_target.py")


def check(tool, source, what, count, pattern, fails, tag):
    """`--referrers WHAT` over @source: @count objects in one path group that
    matches @pattern (a regular expression) whole."""
    r, doc = common.referrers_json(tool, what, source)
    paths = common.paths_of(doc)
    ok = (r.rc == 0 and doc and doc.get("objects") == count and len(paths) == 1 and
          re.fullmatch(pattern, next(iter(paths))) and next(iter(paths.values())) == count)
    if not ok:
        fails.append("%s: exit %s, objects %s (want %d), paths %r (want one group of %d "
                     "matching %r)\n%s" % (tag, r.rc, (doc or {}).get("objects"), count, paths,
                                           count, pattern, r.stderr_excerpt()))
    else:
        common.log("PASS %s: %d, %s" % (tag, count, next(iter(paths))))


def main():
    args, tool, python = common.live_test_args(__doc__)
    if not python:
        return common.EXIT_SKIP
    fails = []
    tmp = tempfile.mkdtemp(prefix="pyheap-stack-")
    try:
        with TruthFirst([python, "-I", TARGET], name="value stack target (%s)" % python) as t:
            truth = t.truth
            common.log("truth %r" % truth)
            frame = r"thread %s(?: \(MainThread\))? frame serve\(\) value_stack_target\.py:%d" % (
                re.escape(truth["thread"]), truth["line"])
            into = r" local 'items'\[\*\]" if truth["version"] >= [3, 11] else \
                r"\.gi_frame local 'items'\[\*\]"
            held = r"<held by native code \(1 ref unaccounted\): the value stack of %s>%s" % (
                frame, into)
            check(tool, [str(t.pid)], "Kept", truth["kept"], frame + r" local 'kept'\[\*\]",
                  fails, "kept")
            for tag, src in common.each_source(tool, t.pid, tmp, fails, first="held"):
                check(tool, src, "Item", truth["items"], held, fails, tag)
            common.check_healthy(t, fails)
    except common.TargetError as e:
        fails.append(str(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
