#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Records the fuzz corpus: for each interpreter found, starts
tests/fuzz/corpus_target.py, runs `pyheap-attach --dump-memory FILE
--max-objects N PID` (hidden options) and writes corpus/<label>.dump.xz.

usage: make_corpus.py --tool build/cmd/pyheap-attach [--max-objects 4000 (0: all)]
                      [--labels 3.8,3.11,...] [--out tests/fuzz/corpus]
The recordings are small (the walk stops after N objects; lines the walk did
not read are zeros) and deterministic for a given interpreter build."""
import argparse
import lzma
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "live"))
import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--max-objects", type=int, default=4000)
    ap.add_argument("--labels", default=",".join(common.PYENV_LABELS))
    ap.add_argument("--out", default=os.path.join(HERE, "corpus"))
    args = ap.parse_args()
    tool = common.require_tool(args.tool)
    os.makedirs(args.out, exist_ok=True)
    total = 0
    for label in args.labels.split(","):
        python = common.find_interpreter(label)
        if not python:
            print("%s: not found, skipped" % label)
            continue
        target = common.Target([python, "-I", "-S", os.path.join(HERE, "corpus_target.py")],
                               name="corpus target (%s)" % label)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                raw = os.path.join(tmp, "dump")
                bound = ["--max-objects", args.max_objects] if args.max_objects > 0 else []
                res = common.run_tool(tool, ["--dump-memory", raw, "--limit", 1] + bound +
                                      [target.pid])
                if res.rc != 0:
                    print("%s: %s\n%s" % (label, res.describe(), res.stderr_excerpt()))
                    return 1
                with open(raw, "rb") as f:
                    data = f.read()
        finally:
            target.stop()
        out = os.path.join(args.out, label + ".dump.xz")
        packed = lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)
        with open(out, "wb") as f:
            f.write(packed)
        total += len(packed)
        print("%s: %d bytes, %d compressed -> %s" % (label, len(data), len(packed), out))
    print("corpus: %d bytes compressed" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
