#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Safety test: damaged core files never crash or hang the tool.

usage: cores.py --tool PATH --python LABEL [--runs N] [--seed S]

A core of the safety target (gcore's), then --runs damaged versions of it,
each `--json --core FILE` once:
  headers  1-16 random bytes of the ELF header, program headers and notes
  memory   a 4 KiB run of random bytes, or 64 random single bytes, in the
           writable memory the core holds (the interpreter's state, the heap)
  cut      the core cut short at a random length
Each run must end within the timeout with a result (valid JSON) or an exit
status of 2, 6, 7, 8 or 9 and a message; never a signal, never a hang.
exit: 0 pass, 1 fail, 77 skip
"""
import argparse
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safety  # noqa: E402
from safety import common, log  # noqa: E402

ACCEPTED = {0, 2, 6, 7, 8, 9}


def layout(path):
    """(headers [(offset, size)]: the ELF header, the program headers and the
    notes; data [(offset, size)]: the writable memory the core holds)."""
    with open(path, "rb") as f:
        head = f.read(64)
        phoff, = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    headers, data = [(0, 64), (phoff, phentsize * phnum)], []
    for i in range(phnum):
        p_type, flags, off, _va, _pa, filesz, _memsz, _al = struct.unpack_from(
            "<IIQQQQQQ", ph, i * phentsize)
        if p_type == 4:  # PT_NOTE
            headers.append((off, filesz))
        elif p_type == 1 and flags & 2 and filesz:  # PT_LOAD, PF_W
            data.append((off, filesz))
    return headers, data


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--runs", type=int, default=150)
    ap.add_argument("--seed", type=int)
    args = ap.parse_args()
    python = safety.pick_python(args.python)
    tool = common.require_tool(args.tool)
    gcore = shutil.which("gcore")
    if not gcore:
        log("FAIL: gcore (gdb) is not installed: .ci/setup installs gdb")
        return common.EXIT_FAIL
    seed = safety.seed_from(args)
    rnd = random.Random(seed)
    log("cores: %s, %d runs, seed %d" % (python, args.runs, seed))
    tmp = tempfile.mkdtemp(prefix="pyheap-cores-")
    fails, counts = [], {"runs": 0, "results": 0, "refused": 0, "crashes": 0, "hangs": 0}
    try:
        with safety.SafetyTarget(python) as target:
            core = os.path.join(tmp, "core")
            subprocess.run([gcore, "-o", core, str(target.pid)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=120)
            core = "%s.%d" % (core, target.pid)
            common.check_healthy(target, fails)
        if not os.path.exists(core):
            fails.append("gcore wrote no core")
            return common.report(fails, args.python)
        regions, data = layout(core)
        size = os.path.getsize(core)
        log("core: %.1f MiB, %d header and note regions, %d writable segments"
            % (size / 2**20, len(regions), len(data)))
        work = os.path.join(tmp, "damaged")
        shutil.copyfile(core, work)
        for run in range(args.runs):
            kind = rnd.choice(("headers", "headers", "memory", "memory", "cut"))
            saved = []
            with open(work, "r+b") as f:
                if kind == "headers":
                    for _ in range(rnd.randint(1, 16)):
                        o, n = rnd.choice(regions)
                        at = o + rnd.randrange(max(n, 1))
                        f.seek(at)
                        saved.append((at, f.read(1)))
                        f.seek(at)
                        f.write(bytes([rnd.randrange(256)]))
                elif kind == "memory" and data:
                    o, n = rnd.choice(data)
                    if rnd.random() < 0.5:
                        at = o + rnd.randrange(max(n - 4096, 1))
                        f.seek(at)
                        saved.append((at, f.read(4096)))
                        f.seek(at)
                        f.write(bytes(rnd.randrange(256) for _ in range(4096)))
                    else:
                        for _ in range(64):
                            at = o + rnd.randrange(n)
                            f.seek(at)
                            saved.append((at, f.read(1)))
                            f.seek(at)
                            f.write(bytes([rnd.randrange(256)]))
                else:
                    cut = rnd.randrange(size)
                    f.truncate(cut)
            proc = safety.run_tool_async([tool, "--json", "--core", work])
            rc, out, err = safety.finish(proc)
            counts["runs"] += 1
            what = "run %d (%s): %s" % (run, kind, safety.describe_rc(rc))
            if rc is None:
                counts["hangs"] += 1
                fails.append(what)
            elif rc < 0 or rc not in ACCEPTED:
                counts["crashes"] += rc < 0
                fails.append("%s %s" % (what, err[-500:]))
            elif rc == 0:
                try:
                    json.loads(out.decode("utf-8"))
                    counts["results"] += 1
                except (UnicodeDecodeError, ValueError) as e:
                    fails.append("%s: not JSON: %s" % (what, e))
            else:
                counts["refused"] += 1
                if not safety.message(err):
                    fails.append("%s without a message" % what)
            # Undo the damage for the next run.
            if kind == "cut":
                shutil.copyfile(core, work)
            else:
                with open(work, "r+b") as f:
                    for at, b in reversed(saved):
                        f.seek(at)
                        f.write(b)
        log("%(runs)d runs: %(results)d results, %(refused)d refused with a message, "
            "%(crashes)d crashes, %(hangs)d hangs" % counts)
        if counts["results"] == 0 or counts["refused"] == 0:
            fails.append("expected both results and refusals: %r" % counts)
    except common.TargetError as e:
        fails.append(str(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        log("FIGURES " + json.dumps({"runs": counts["runs"], "crashes": counts["crashes"],
                                     "hangs": counts["hangs"], "failures": len(fails)},
                                    sort_keys=True))
    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
