#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Safety test: read-only by construction.

usage: readonly.py --tool PATH --fault-tool PATH --python LABEL

  source   lib/ and cmd/ never name process_vm_writev, and the only ptrace
           requests they name are PTRACE_SEIZE, PTRACE_INTERRUPT and
           PTRACE_DETACH (no PTRACE_POKE*, PTRACE_SET*, PTRACE_ATTACH, which
           would send a SIGSTOP); every open of /proc/PID/mem is O_RDONLY and
           no source file that deals with /proc opens anything O_RDWR or
           O_WRONLY (the tool writes its own files: snapshots, the cache)
  binary   the built tool imports no process_vm_writev
  syscalls the tool run under `strace -f` (its threads included) against a
           live target makes no process_vm_writev, no ptrace request other
           than SEIZE / INTERRUPT / DETACH, and opens nothing of the target's
           /proc directory other than read-only; the same with the fallback
           on /proc/PID/mem (the fault build with PYHEAP_FAULT_MEMFD=1), which
           must then be opened O_RDONLY and read with pread64
exit: 0 pass, 1 fail, 77 skip
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safety  # noqa: E402
from safety import common, log  # noqa: E402

ALLOWED_REQUESTS = {"PTRACE_SEIZE", "PTRACE_INTERRUPT", "PTRACE_DETACH"}
# Names that are not requests (events, options, flags).
NOT_REQUESTS = {"PTRACE_EVENT_STOP", "PTRACE_O_TRACECLONE", "PTRACE_O_TRACEEXEC"}


def check_source():
    fails = []
    files = sorted(glob.glob(os.path.join(safety.REPO, "lib", "*.[ch]")) +
                   glob.glob(os.path.join(safety.REPO, "cmd", "*.[ch]")))
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)     # comments out
        code = re.sub(r"//[^\n]*", "", code)
        name = os.path.relpath(path, safety.REPO)
        if "process_vm_writev" in code:
            fails.append("%s uses process_vm_writev" % name)
        for req in sorted(set(re.findall(r"\bPTRACE_[A-Z_]+\b", code))):
            if req not in ALLOWED_REQUESTS and req not in NOT_REQUESTS:
                fails.append("%s names %s" % (name, req))
        # Writing our own files (snapshots, caches) is fine; a file that
        # deals with /proc must open nothing for writing.
        if re.search(r'"/proc/%d', code):
            for m in re.finditer(r"\bO_(RDWR|WRONLY)\b", code):
                fails.append("%s opens something %s" % (name, m.group(0)))
            for m in re.finditer(r'\bfopen\s*\([^;]*?,\s*"([^"]*)"\s*\)', code):
                if set(m.group(1)) & set("wa+"):
                    fails.append('%s opens something with fopen mode "%s"' % (name, m.group(1)))
        if re.search(r"/proc/%d/mem", code):
            opens = re.findall(r"\bopen(?:at)?\s*\([^;]*?\)", code)
            mem_opens = [o for o in opens if "O_RDONLY" in o or "path" in o]
            if not mem_opens or any("O_RDONLY" not in o for o in mem_opens):
                fails.append("%s: an open near /proc/PID/mem is not O_RDONLY" % name)
    return fails, len(files)


def check_binary(tool):
    nm = shutil.which("nm")
    if not nm:
        return []
    out = subprocess.run([nm, "-D", "--undefined-only", tool], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout.decode()
    if "process_vm_writev" in out:
        return ["%s imports process_vm_writev" % tool]
    if "process_vm_readv" not in out:
        log("    note: %s does not import process_vm_readv (static?)" % tool)
    return []


def check_syscalls(strace, tool, target, env=None, want_memfd=False):
    fails = []
    tmp = tempfile.mkdtemp(prefix="pyheap-ro-")
    log_path = os.path.join(tmp, "strace.log")
    try:
        argv = [strace, "-f", "-qq", "-s", "256", "-o", log_path, "-e",
                "trace=process_vm_writev,process_vm_readv,ptrace,open,openat,pwrite64,"
                "pwritev,pwritev2,pread64",
                tool, "--json", str(target.pid)]
        env = dict(env if env is not None else os.environ)
        # LeakSanitizer stops the process with ptrace at exit: impossible
        # under strace (when the tool is an ASan build).
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, env=env, timeout=120)
        if r.returncode != 0:
            fails.append("%s under strace: exit %d: %s" % (os.path.basename(tool), r.returncode,
                                                            r.stderr.decode()[-300:]))
        with open(log_path) as f:
            lines = f.read().splitlines()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    proc_dir = "/proc/%d/" % target.pid
    requests, mem_opens, preads, readvs = set(), [], 0, 0
    for line in lines:
        m = re.search(r"\b(process_vm_writev|pwrite64|pwritev2?|ptrace|openat|open|pread64|"
                      r"process_vm_readv)\((.*)", line)
        if not m:
            continue
        call, args = m.group(1), m.group(2)
        if call == "process_vm_writev":
            fails.append("process_vm_writev: " + line)
        elif call == "ptrace":
            req = args.split(",")[0].strip()
            requests.add(req)
            if req not in ALLOWED_REQUESTS:
                fails.append("ptrace request %s: %s" % (req, line))
        elif call in ("open", "openat"):
            pm = re.search(r'"([^"]*)"', args)
            path = pm.group(1) if pm else ""
            if path.startswith(proc_dir) or re.match(r"/proc/%d/task/\d+/" % target.pid, path):
                if "O_RDONLY" not in args or "O_RDWR" in args or "O_WRONLY" in args:
                    fails.append("opens the target's %s not read-only: %s" % (path, line))
                if path.endswith("/mem"):
                    mem_opens.append(line)
        elif call == "pread64":
            preads += 1
        elif call == "process_vm_readv":
            readvs += 1
        elif call.startswith("pwrite"):
            fails.append("writes with %s: %s" % (call, line))
    log("    %s%s: %d traced calls; ptrace requests %s; process_vm_readv x%d; "
        "/proc/PID/mem opened %d times; pread64 x%d" % (
            os.path.basename(tool), " (PYHEAP_FAULT_MEMFD=1)" if want_memfd else "",
            len(lines), ", ".join(sorted(requests)), readvs, len(mem_opens), preads))
    if not requests >= {"PTRACE_SEIZE", "PTRACE_DETACH"}:
        fails.append("expected PTRACE_SEIZE and PTRACE_DETACH in the trace (got %s)" % requests)
    if want_memfd and (not mem_opens or not preads):
        fails.append("the /proc/PID/mem fallback was not exercised")
    return fails


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--fault-tool", required=True)
    ap.add_argument("--python", required=True, metavar="LABEL")
    args = ap.parse_args()
    python = safety.pick_python(args.python)
    tool = common.require_tool(args.tool)
    ftool = common.require_tool(args.fault_tool)
    fig = safety.Figures("readonly-" + args.python)
    fails = []
    src_fails, nfiles = check_source()
    log("%s source: %d files of lib/ and cmd/" % ("FAIL" if src_fails else "PASS", nfiles))
    fails += src_fails
    bin_fails = check_binary(tool) + check_binary(ftool)
    log("%s binary imports" % ("FAIL" if bin_fails else "PASS"))
    fails += bin_fails
    strace = shutil.which("strace")
    if not strace:
        log("SKIP syscalls: strace not installed")
    else:
        with safety.SafetyTarget(python, threads=2) as target:
            sys_fails = check_syscalls(strace, tool, target)
            sys_fails += check_syscalls(strace, ftool, target,
                                        env=safety.fault_env(extra={"PYHEAP_FAULT_MEMFD": "1"}),
                                        want_memfd=True)
            ok, detail = target.healthy()
            if not ok:
                sys_fails.append(detail)
        fig.add("runs", 2)
        log("%s syscalls" % ("FAIL" if sys_fails else "PASS"))
        fails += sys_fails
    for f in fails:
        log("    " + f)
    fig.add("failures", len(fails))
    fig.emit()
    if fails:
        log("RESULT: FAIL")
        return common.EXIT_FAIL
    log("RESULT: PASS")
    return common.EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
