#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: a global imported from the module that defines it into
another one is named by the defining module in paths
(`defs.REGISTRY`), even where the importer comes first in sys.modules
(a circular import: the importer finishes first), as every module-level
path is of the same length.

usage: module_paths.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent)

The test writes two modules into a temporary directory: defs.py
defines a class Registry and its instance REGISTRY, a class Config with no
instance and a function handler(), then (at its end) imports early.py,
which does `from defs import REGISTRY, Config, handler, Registry`; the
target imports defs. (A dict or a list has no module it tells it was
defined in: such a global keeps the name of the module sys.modules lists
first.) The target prints sys.modules'
order of defs and early (early first: the truth says so, else the test
would not test) and the objects' ids before "ready".

Checks (one line each, PASS/FAIL):
  defining   `--referrers 0xID --json --paths 0` of each object: one
             path, defs.NAME (the build before named early.NAME)
  kind       `--referrers Registry`: the class's instance, defs.REGISTRY
  healthy    the target runs and answers ping afterwards
"""

import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from threads import TruthFirst  # noqa: E402

DEFS = """\
class Registry:
    def __init__(self):
        self.items = []


class Config:
    pass


def handler():
    return 1


REGISTRY = Registry()
import early  # noqa: E402,F401  (early finishes first: before defs in sys.modules)
"""

EARLY = """\
from defs import REGISTRY, Config, handler, Registry  # noqa: F401
"""

TARGET = r"""
import json, sys
sys.path.insert(0, %r)
import defs
order = [m for m in sys.modules if m in ("defs", "early")]
objs = dict((name, "0x%%x" %% id(getattr(defs, name)))
            for name in ("REGISTRY", "Config", "handler", "Registry"))
sys.stdout.write("truth " + json.dumps({"order": order, "objects": objs}) + "\n")
""" + common.IDLE_CODE


def main():
    args, tool, python = common.live_test_args(__doc__)
    if not python:
        return common.EXIT_SKIP
    fails = []
    tmp = tempfile.mkdtemp(prefix="pyheap-modpaths-")
    try:
        for name, text in (("defs.py", DEFS), ("early.py", EARLY)):
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
        with TruthFirst([python, "-I", "-c", TARGET % tmp],
                        name="module paths (%s)" % python) as t:
            truth = t.truth
            common.log("truth %s" % json.dumps(truth))
            if truth["order"] != ["early", "defs"]:
                fails.append("target: sys.modules lists %r, not early before defs"
                             % truth["order"])
            src = [str(t.pid)]
            bad = []
            for name, address in sorted(truth["objects"].items()):
                r, doc = common.referrers_json(tool, address, src)
                paths = common.paths_of(doc)
                if r.rc != 0 or paths != {"defs." + name: 1}:
                    bad.append("%s %s: exit %s, paths %r%s"
                               % (name, address, r.rc, paths, r.stderr_excerpt()))
            if bad:
                fails.append("defining: " + "; ".join(bad))
            else:
                common.log("PASS defining: %s" % ", ".join(
                    "defs." + n for n in sorted(truth["objects"])))
            r, doc = common.referrers_json(tool, "Registry", src)
            paths = common.paths_of(doc)
            if r.rc != 0 or paths != {"defs.REGISTRY": 1}:
                fails.append("kind: --referrers Registry: exit %s, paths %r" % (r.rc, paths))
            else:
                common.log("PASS kind: --referrers Registry: defs.REGISTRY")
            common.check_healthy(t, fails)
    except common.TargetError as e:
        fails.append(str(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
