#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Unit test: the layout tables in symbols/.

usage: test_symbols.py --tool PATH [MINOR ...]

- Each generated table (cpython-3.8 .. 3.13) equals what symbols/generate.py
  extracts now, with this tool's DWARF layer, from the pyenv build the file
  names (skipped when that build is not installed).
- Every table file, generated or hand-written (3.14), has the header the build
  needs and one value for every field of lib/layout_fields.h, in that order.
exit: 0 pass, 1 fail, 77 skip (no matching build and nothing else to check).
"""

import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SYMBOLS = os.path.join(REPO, "symbols")


def field_ids():
    with open(os.path.join(REPO, "lib", "layout_fields.h")) as f:
        return [m.group(1) for m in (re.match(r"^X\((\w+),", l) for l in f) if m]


def check_file(path, ids):
    fails = []
    with open(path) as f:
        lines = f.read().splitlines()
    if not lines or lines[0] != "# pyheap layout 1":
        fails.append("%s: first line is not '# pyheap layout 1'" % path)
    meta = dict(m.groups() for m in (re.match(r"^# ([a-z ]+): (.*)$", l) for l in lines) if m)
    for key in ("table", "versions", "interpreter", "source", "tested live", "regenerate"):
        if key not in meta:
            fails.append("%s: no '# %s:' line" % (os.path.basename(path), key))
    data = [l.split() for l in lines if l and not l.startswith("#")]
    got = [d[0] for d in data]
    if got != ids:
        missing = [i for i in ids if i not in got]
        extra = [i for i in got if i not in ids]
        fails.append("%s: fields differ from lib/layout_fields.h (missing %s, unknown %s%s)"
                     % (os.path.basename(path), missing[:8], extra[:8],
                        ", order differs" if not missing and not extra else ""))
    return fails


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("minors", nargs="*")
    args = ap.parse_args()
    ids = field_ids()
    fails = []
    files = sorted(f for f in os.listdir(SYMBOLS) if f.endswith(".layout"))
    for f in files:
        fails += check_file(os.path.join(SYMBOLS, f), ids)
    print("%d table files checked against lib/layout_fields.h (%d fields)" % (len(files), len(ids)))
    p = subprocess.run([sys.executable, os.path.join(SYMBOLS, "generate.py"), "--tool", args.tool,
                        "--check"] + args.minors, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=600)
    sys.stdout.write(p.stdout.decode())
    if p.returncode not in (0, 77):
        fails.append("symbols/generate.py --check: exit %d" % p.returncode)
    for f in fails:
        print("FAIL: " + f)
    if fails:
        return 1
    return 77 if p.returncode == 77 else 0


if __name__ == "__main__":
    sys.exit(main())
