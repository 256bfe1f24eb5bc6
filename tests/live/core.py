#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: --core FILE on core files of a real CPython process, written
by gdb's gcore (the process runs on) and by the kernel (the process dies of
SIGABRT), against the target's in-process census and a live run of the tool
on the same process; and the messages for cores it cannot use.

usage: core.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent)
"""

import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import partition  # noqa: E402

log = common.log
PT_LOAD, PT_NOTE, NT_FILE = 1, 4, 0x46494C45


def core_layout(path):
    """(segments [(vaddr, offset, filesz, memsz)], files [(start, end, offset, path)])
    of a 64-bit little-endian core, read with struct."""
    with open(path, "rb") as f:
        data = f.read()
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    segs, files = [], []
    for i in range(phnum):
        p_type, _flags, off, vaddr, _pa, filesz, memsz, _al = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + i * phentsize)
        if p_type == PT_LOAD:
            segs.append((vaddr, off, filesz, memsz))
        elif p_type == PT_NOTE:
            pos, end = off, off + filesz
            while pos + 12 <= end:
                namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
                name_at = pos + 12
                desc_at = name_at + ((namesz + 3) & ~3)
                if ntype == NT_FILE and data[name_at:name_at + 4] == b"CORE":
                    count, page = struct.unpack_from("<QQ", data, desc_at)
                    names = data[desc_at + 16 + 24 * count:desc_at + descsz].split(b"\0")
                    for k in range(count):
                        s, e, o = struct.unpack_from("<QQQ", data, desc_at + 16 + 24 * k)
                        files.append((s, e, o * page, names[k].decode("utf-8", "replace")))
                pos = desc_at + ((descsz + 3) & ~3)
    return segs, files


def check_partition(what, doc, truth, pid, core_path, fails):
    """The partition read from a core against the census (partition.py's bounds)."""
    kinds = common.kinds_of(doc)
    n0 = len(fails)
    fails.extend("%s: %s" % (what, f) for f in partition.compare(truth, doc, kinds))
    if doc.get("pid") != pid:
        fails.append("%s: pid %r, the process was %d" % (what, doc.get("pid"), pid))
    if doc.get("core") != core_path:
        fails.append("%s: core %r, expected %r" % (what, doc.get("core"), core_path))
    if doc.get("unreadable"):
        fails.append("%s: %s references unreadable" % (what, doc.get("unreadable")))
    if len(fails) == n0:
        log("PASS %s: %s objects, %s bytes against the census's %d, %d (%d kinds, the exact "
            "ones exact)" % (what, doc.get("objects"), doc.get("size"), truth["objects"],
                             truth["size"], len(kinds)))
    return kinds


def same_kinds(what, a, b, fails, slack=2):
    differ = sorted(k for k in set(a) | set(b)
                    if abs(a.get(k, (0, 0))[0] - b.get(k, (0, 0))[0]) > slack)
    if differ:
        fails.append("%s: %d kinds differ: %s" % (what, len(differ), ", ".join(
            "%s %s/%s" % (k, a.get(k), b.get(k)) for k in differ[:6])))
    else:
        log("PASS %s: the same %d kinds" % (what, len(a)))


def body_of(text):
    """A text report without its header lines on the process (pid or core, pause,
    pymalloc's and malloc's arenas: the target may allocate and free between two
    reads), nor the addresses of the largest objects only native code holds that
    follow the note about them (the buffer of a read in progress moves)."""
    body, in_note = [], False
    for l in text.decode("utf-8", "replace").splitlines():
        if in_note and l.startswith(("  0x", "  <")):
            continue
        in_note = l.startswith("referred to by no object or root (held by native code")
        if (not l.startswith(("pyheap-attach: ", "layout: ", "pymalloc: ", "malloc: "))
                and "of pymalloc's arenas is free" not in l
                and "of what glibc's malloc took from the system is free" not in l):
            body.append(l)
    return body


def kernel_core(python, tmp, env, tool, fails):
    """A core the kernel writes when the target dies of SIGABRT: (path, truth, pid)
    or None (logged) when this machine's core_pattern hands cores to a program."""
    try:
        with open("/proc/sys/kernel/core_pattern") as f:
            pattern = f.read().strip()
    except OSError:
        pattern = ""
    if pattern.startswith("|") or "/" in pattern:
        log("note: core_pattern %r sends cores elsewhere: no kernel core here" % pattern)
        return None
    cwd = os.path.join(tmp, "kernel")
    os.mkdir(cwd)

    def prepare():
        os.chdir(cwd)
        try:
            resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY,
                                                      resource.RLIM_INFINITY))
        except (ValueError, OSError):  # (a hard limit it may not raise: its own)
            hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
            resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))

    tmpt = tempfile.mkdtemp(prefix="pyheap-truth-")
    truth_path = os.path.join(tmpt, "truth.json")
    target = common.Target([python] + list(common.TARGET_FLAGS)
                           + [common.TARGET_SCRIPT, truth_path],
                           name="heap target to dump (%s)" % python, preexec_fn=prepare)
    try:
        target.wait_reading_stdin()
        with open(truth_path) as f:
            truth = __import__("json").load(f)
        pid = target.pid
        os.kill(pid, signal.SIGABRT)
        target.proc.wait(timeout=60)
        if target.proc.returncode != -signal.SIGABRT:
            fails.append("the target did not die of SIGABRT: %s" % target.proc.returncode)
            return None
    finally:
        target.stop()
        shutil.rmtree(tmpt, ignore_errors=True)
    cores = [os.path.join(cwd, n) for n in os.listdir(cwd)
             if os.path.isfile(os.path.join(cwd, n))]
    cores = [p for p in cores if open(p, "rb").read(18)[16:18] == b"\x04\x00"]
    if not cores:
        log("note: the kernel wrote no core (core_pattern %r, a limit of the container?)"
            % pattern)
        return None
    return cores[0], truth, pid


def main():
    args, tool, python = common.live_test_args(__doc__)
    if not python:
        return common.EXIT_SKIP
    gcore = shutil.which("gcore")
    if not gcore:
        log("FAIL: gcore (gdb) is not installed: .ci/setup installs gdb")
        return common.EXIT_FAIL
    log("core test: %s (%s)" % (args.python, python))
    tmp = tempfile.mkdtemp(prefix="pyheap-core-")
    env = common.tool_env(os.path.join(tmp, "cache"))
    fails = []
    try:
        # 1. gcore: a core of a running process, which runs on.
        with common.Target.heap(python) as target:
            target.wait_reading_stdin()
            truth = target.load_truth()
            live = common.run_json(tool, [target.pid], env, "live run", fails)
            res = common.run_tool("/bin/sh", ["-c", "%s -o %s %d >/dev/null 2>&1" % (
                gcore, os.path.join(tmp, "core"), target.pid)], timeout=120)
            path = os.path.join(tmp, "core.%d" % target.pid)
            if res.rc != 0 or not os.path.exists(path):
                fails.append("gcore failed: rc=%s" % res.rc)
                return common.report(fails, args.python)
            log("gcore wrote %s (%.1f MiB)" % (path, os.path.getsize(path) / 2**20))
            common.check_healthy(target, fails)
            ref_live = common.run_tool(tool, ["--referrers", "__main__.Node", target.pid],
                                       env=env)
            # What changed between the core and the process now: nothing of its
            # own (the target waits for a line; a ping leaves a few objects).
            d = common.run_json(tool, ["--diff", path, target.pid], env, "--diff core PID",
                                fails)
            if d is not None:
                if (not d.get("same_process") or d["new"]["objects"] > 20
                        or d["freed"]["objects"] > 20 or not d["a"]["source"].startswith("core ")):
                    fails.append("--diff core PID: same_process %r, %d new, %d freed, A %r"
                                 % (d.get("same_process"), d["new"]["objects"],
                                    d["freed"]["objects"], d["a"]["source"]))
                else:
                    log("PASS --diff core PID: the same process, %d objects new, %d freed"
                        % (d["new"]["objects"], d["freed"]["objects"]))
            pid = target.pid
        doc = common.run_json(tool, ["--core", path], env, "--core (gcore)", fails)
        if doc is not None:
            kinds = check_partition("gcore", doc, truth, pid, path, fails)
            if live is not None:
                same_kinds("gcore against the live run", kinds, common.kinds_of(live), fails)
        if doc is not None and args.python == common.DEBIAN_LABEL:
            # Debian's stripped interpreter without its debug info: the
            # built-in table, checked against the core as against a process.
            empty = os.path.join(tmp, "no-debug")
            os.mkdir(empty)
            tdoc = common.run_json(tool, ["--core", path, "--debug-dir", empty], common.tool_env(
                os.path.join(tmp, "cache-tables")), "--core without debug info", fails)
            if tdoc is not None:
                if tdoc.get("layout_source") != "tables":
                    fails.append("without debug info: layout %r" % tdoc.get("layout"))
                same_kinds("gcore with the built-in table against DWARF",
                           common.kinds_of(tdoc), kinds, fails, slack=0)
        if doc is not None:
            # The process's files elsewhere (a container's image unpacked
            # here): --sysroot DIR; another build there is refused, naming it.
            segs, files = core_layout(path)
            root = os.path.join(tmp, "sysroot")
            for _s, _e, _o, p in files:
                dst = root + p
                if p.startswith("/") and os.path.isfile(p) and not os.path.exists(dst):
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    shutil.copyfile(p, dst)
            sdoc = common.run_json(tool, ["--core", path, "--sysroot", root], env,
                                   "--core --sysroot", fails)
            if sdoc is not None:
                same_kinds("--sysroot (a copy of every file)", common.kinds_of(sdoc), kinds,
                           fails, slack=0)
            mine = root + doc["python_path"]
            with open(mine, "r+b") as f:
                f.seek(0x28)
                b = f.read(1)
                f.seek(0x28)
                f.write(bytes([b[0] ^ 0xff]))
            r = common.run_tool(tool, ["--core", path, "--sysroot", root], env=env)
            msg = r.stderr.decode("utf-8", "replace")
            if r.rc != 8 or mine not in msg:
                fails.append("--sysroot with another build: rc %s, %r (want 8 naming %s)"
                             % (r.rc, msg[:300], mine))
            else:
                log("PASS --sysroot with another build: refused, naming %s" % mine)
            shutil.rmtree(root, ignore_errors=True)
        # A snapshot kept from a core prints what the core printed, core named.
        snap = os.path.join(tmp, "from-core.pyheap")
        a = common.run_tool(tool, ["--core", path, "-o", snap, "--all"], env=env)
        b = common.run_tool(tool, ["--load", snap, "--all"], env=env)
        if a.rc != 0 or b.rc != 0 or a.stdout != b.stdout:
            fails.append("--core -o then --load: rc %s/%s, the same output: %s"
                         % (a.rc, b.rc, a.stdout == b.stdout))
        else:
            log("PASS --core -o FILE, --load FILE: the same %d lines, the core named"
                % len(b.stdout.splitlines()))
        # Who holds: the same report from the core as from the process.
        ref_core = common.run_tool(tool, ["--referrers", "__main__.Node", "--core", path],
                                   env=env)
        if ref_core.rc != 0 or ref_live.rc != 0:
            fails.append("--referrers: rc %s (core), %s (live): %s"
                         % (ref_core.rc, ref_live.rc, ref_core.stderr_excerpt(400)))
        elif body_of(ref_core.stdout) != body_of(ref_live.stdout):
            fails.append("--referrers __main__.Node from the core differs from the live "
                         "run:\n%s\n---\n%s" % ("\n".join(body_of(ref_core.stdout)[:30]),
                                                 "\n".join(body_of(ref_live.stdout)[:30])))
        else:
            log("PASS --referrers __main__.Node: the core's report is the live run's (%d "
                "lines)" % len(body_of(ref_core.stdout)))
        head = ref_core.stdout.decode("utf-8", "replace").splitlines()[:1]
        if not head or not head[0].startswith("pyheap-attach: core %s of pid %d " % (path, pid)):
            fails.append("--referrers header names no core: %r" % head)

        # 2. The kernel's core of a process that died.
        got = kernel_core(python, tmp, env, tool, fails)
        if got:
            kpath, ktruth, kpid = got
            log("the kernel wrote %s (%.1f MiB)" % (kpath, os.path.getsize(kpath) / 2**20))
            kdoc = common.run_json(tool, ["--core", kpath], env, "--core (kernel)", fails)
            if kdoc is not None:
                check_partition("kernel core", kdoc, ktruth, kpid, kpath, fails)

        # 3. Cores it cannot use, each said so.
        segs, files = core_layout(path)
        runtime = live.get("python_path") if live else None
        start = [s for s, e, o, p in files if p == runtime and o == 0]
        seg = [s for s in segs if start and s[0] == start[0] and s[2] > 0]
        if not seg:
            fails.append("gcore kept no first page of %s: cannot check another build" % runtime)
        else:
            other = os.path.join(tmp, "other-build.core")
            shutil.copyfile(path, other)
            with open(other, "r+b") as f:  # (e_shoff: another build's ELF header)
                f.seek(seg[0][1] + 0x28)
                b = f.read(1)
                f.seek(seg[0][1] + 0x28)
                f.write(bytes([b[0] ^ 0xff]))
            r = common.run_tool(tool, ["--core", other], env=env)
            msg = r.stderr.decode("utf-8", "replace")
            if r.rc != 8 or "not the file the process mapped" not in msg or runtime not in msg:
                fails.append("a core of another build: rc %s, %r (want 8, naming %s)"
                             % (r.rc, msg[:300], runtime))
            else:
                log("PASS another build: %s" % msg.strip())
        # (gcore writes its notes last, the kernel first: a truncated
        # kernel core keeps its notes and loses memory.)
        whole = got[0] if got else path
        cut = os.path.join(tmp, "truncated.core")
        with open(whole, "rb") as f, open(cut, "wb") as g:
            g.write(f.read(os.path.getsize(whole) * 6 // 10))
        r = common.run_tool(tool, ["--json", "--core", cut], env=env)
        msg = r.stderr.decode("utf-8", "replace").strip()
        if r.timed_out or r.rc not in (0, 8, 9):
            fails.append("a truncated core: rc %s %r" % (r.rc, msg[:300]))
        elif r.rc == 0:
            import json
            tdoc = json.loads(r.stdout.decode())
            if not tdoc.get("truncated") or "cut short" not in (tdoc.get("truncated_reason")
                                                                  or ""):
                fails.append("a truncated core: %s objects, reported as whole"
                             % tdoc.get("objects"))
            else:
                log("PASS a truncated core: %d objects, %d references unreadable, partial: %s"
                    % (tdoc["objects"], tdoc["unreadable"], tdoc["truncated_reason"]))
        else:
            log("PASS a truncated core: rc %d, %s" % (r.rc, msg))
        # A core of a process that is no Python.
        sleeper = subprocess.Popen(["sleep", "60"])
        try:
            subprocess.run([gcore, "-o", os.path.join(tmp, "sleep"), str(sleeper.pid)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        finally:
            sleeper.kill()
            sleeper.wait()
        r = common.run_tool(tool, ["--core", os.path.join(tmp, "sleep.%d" % sleeper.pid)],
                            env=env)
        msg = r.stderr.decode("utf-8", "replace")
        if r.rc != 6 or "not a Python process" not in msg:
            fails.append("--core of sleep: rc %s %r" % (r.rc, msg[:200]))
        else:
            log("PASS a core of sleep: %s" % msg.strip())
        r = common.run_tool(tool, ["--core", os.path.abspath(__file__)], env=env)
        msg = r.stderr.decode("utf-8", "replace")
        if r.rc != 2 or "not an ELF core file" not in msg:
            fails.append("--core on a script: rc %s %r" % (r.rc, msg[:200]))
        else:
            log("PASS not a core: %s" % msg.strip())
    except common.TargetError as e:
        fails.append(str(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
