#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Exit 0 if at least one interpreter label of the live tests resolves to an
existing interpreter, else 1.  Prints the label -> path mapping."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main():
    found = 0
    for label in common.ALL_LABELS:
        path = common.find_interpreter(label)
        common.log("%-12s %s" % (label, path or "(absent)"))
        found += bool(path)
    if not found:
        common.log("no interpreter for any of: %s (pyenv root %s)"
                   % (", ".join(common.ALL_LABELS), common.pyenv_root()))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
