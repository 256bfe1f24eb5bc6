#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: a target with a subinterpreter alive.

usage: subinterp.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent, or no subinterpreter module)

The target creates a subinterpreter (_xxsubinterpreters, _interpreters from
3.13) that keeps SUB objects of its own class SubMarker in sys.keep, reports
the address of int's __dict__ in the main interpreter, and idles.

Checks (one line each, PASS/FAIL):
  interpreters  the JSON partition counts 2 interpreters
  submarkers    `--referrers SubMarker`: SUB objects, held by sys.keep of the
                subinterpreter ("sys.keep[*]")
  int-dict      `--referrers 0xADDRESS` of the main interpreter's int.__dict__:
                "builtins.int.__dict__" (3.12+ keep static builtin types' dicts
                per interpreter; the list's head is the newest interpreter, the
                main one is the runtime's interpreters.main)
  healthy       the target runs and answers ping afterwards
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from threads import TruthFirst  # noqa: E402

SUB = 7

TARGET = r"""
import gc, json, sys
try:
    import _interpreters as I
except ImportError:
    try:
        import _xxsubinterpreters as I
    except ImportError:
        sys.stdout.write("truth null\n")
        I = None
if I is not None:
    sid = I.create()
    I.run_string(sid, "import sys\nclass SubMarker:\n    pass\n"
                      "sys.keep = [SubMarker() for _ in range(%d)]\n")
    d = gc.get_referents(int.__dict__)[0]
    sys.stdout.write("truth " + json.dumps({"int_dict": "0x%%x" %% id(d)}) + "\n")
    del d
""" % SUB + common.IDLE_CODE


def main():
    args, tool, python = common.live_test_args(__doc__)
    if not python:
        return common.EXIT_SKIP
    fails = []
    with TruthFirst([python, "-I", "-c", TARGET], name="subinterp target (%s)" % python) as t:
        truth = t.truth
        if truth is None:
            common.log("SKIP: no subinterpreter module in %s" % python)
            return 77
        r = common.run_tool(tool, ["--json", str(t.pid)])
        try:
            doc = json.loads(r.stdout.decode("utf-8"))
        except ValueError:
            doc = None
        if r.rc != 0 or not doc or doc.get("interpreters") != 2:
            fails.append("interpreters: exit %d, %s (want 2)\n%s"
                         % (r.rc, (doc or {}).get("interpreters"), r.stderr_excerpt()))
        else:
            common.log("PASS interpreters: 2")
        r, doc = common.referrers_json(tool, "SubMarker", [str(t.pid)])
        paths = common.paths_of(doc)
        if r.rc != 0 or not doc or doc.get("objects") != SUB or paths != {"sys.keep[*]": SUB}:
            fails.append("submarkers: exit %d, objects %s, paths %r (want %d in sys.keep[*])\n%s"
                         % (r.rc, (doc or {}).get("objects"), paths, SUB, r.stderr_excerpt()))
        else:
            common.log("PASS submarkers: %d in sys.keep[*]" % SUB)
        r, doc = common.referrers_json(tool, truth["int_dict"], [str(t.pid)])
        paths = common.paths_of(doc)
        if r.rc != 0 or paths != {"builtins.int.__dict__": 1}:
            fails.append("int-dict: exit %d, paths %r (want builtins.int.__dict__)\n%s"
                         % (r.rc, paths, r.stderr_excerpt()))
        else:
            common.log("PASS int-dict: builtins.int.__dict__")
        common.check_healthy(t, fails)
    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
