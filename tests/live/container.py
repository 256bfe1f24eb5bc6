#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: a Python process in a container, read from the machine outside.

usage: container.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent, not root, or no unshare /
       pivot_root)

The container is what Docker, Podman and Kubernetes make, by hand: the target
runs in its own mount and PID namespaces (unshare), with its root pivoted to a
temporary directory (pivot_root, /proc mounted: it is pid 1 there). That root
holds this machine's /usr, read-only, and for a pyenv label the interpreter's
prefix at /opt/python -- a path this machine does not have, so the tool must
find the interpreter's files through /proc/PID/root, where the kernel's
/proc/PID/maps names them as the container does. Debian's python3.11 (label
debian-3.11) runs as /usr/bin/python3.11.

The target builds SESSIONS Session objects in the list __main__.sessions and,
when greenlet imports (Debian's python3-greenlet, for debian-3.11), a main()
holding an App whose .conns lists CONNS Conn objects, which switches to a
greenlet that serves the test's commands: the main greenlet stays suspended.
Its truth line, written from inside: its pid (1), version, executable, thread
ident and what it counted with gc.get_objects().

Checks (one line each, PASS/FAIL):
  maps       the process is the namespace's pid 1 and /proc/PID/maps names the
             interpreter by the container's path (a pyenv label: /opt/python/…,
             no such file outside)
  partition  --json: the interpreter's path as the container names it, the
             version, the layout from DWARF, Session's count as the target
             counts it
  referrers  --referrers Session: SESSIONS objects at __main__.sessions[*]
  debug      (debian-3.11; python3.11-dbg installed here, so in the container's
             /usr too) with --debug-dir EMPTY --no-cache, so that this machine's
             debug dirs and cache are not looked in: the layout from the separate
             debug info in the container's own /usr/lib/debug, found through
             /proc/PID/root ("separate debug info (build-id …,
             /proc/PID/root/usr/lib/debug/.build-id/…)"), not the tables
  core       a gcore core of it, read with --sysroot /proc/PID/root (the
             container's root): the same Session count; on debian-3.11 with
             --debug-dir EMPTY --no-cache, the debug info found under the sysroot
  greenlet   (greenlet importable) --referrers Conn: the suspended main
             greenlet is a root of the main thread, "thread 0x… (MainThread) main
             greenlet.gr_frame local 'app'.conns[*]" -- greenlet's main thread is
             found by its native id, which is the pid in the container's
             namespace (1), not outside (3.11+)
  healthy    the target runs and answers ping afterwards
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from threads import TruthFirst  # noqa: E402

SESSIONS = 321
CONNS = 17

TARGET = r"""
import gc, json, os, sys, threading

class Session:
    pass

class Conn:
    pass

class App:
    pass

sessions = [Session() for _ in range(%(sessions)d)]
for i, s in enumerate(sessions):
    s.i = i
del s

def count(cls):
    return sum(1 for o in gc.get_objects() if type(o) is cls)

def serve(in_greenlet):
    sys.stdout.write("truth " + json.dumps({
        "pid": os.getpid(), "version": sys.version.split()[0],
        "executable": sys.executable, "thread": threading.get_ident(),
        "greenlet": in_greenlet, "sessions": count(Session), "conns": count(Conn)}) + "\n")
    exec(%(idle)r, {})

def main():
    app = App()
    app.conns = [Conn() for _ in range(%(conns)d)]
    greenlet.greenlet(serve).switch(True)

try:
    import greenlet
except ImportError:
    serve(False)
else:
    main()
"""


def container_argv(root, binds, python, script, env):
    """argv of a shell that makes the container and runs @python @script in
    it as its pid 1: @binds are (host path, path in the container) pairs,
    bound read-only; @env is set for the interpreter."""
    cmds = ["mount --bind %s %s" % (root, root)]
    for src, dst in binds:
        at = root + dst
        cmds.append("mount --bind %s %s && mount -o remount,bind,ro %s" % (src, at, at))
    cmds += ["cd %s" % root, "pivot_root . .old", "mount -t proc proc /proc",
             "umount -l /.old",
             "exec env -i %s %s -I %s" % (" ".join("%s=%s" % kv for kv in env), python, script)]
    return ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--propagation",
            "private", "sh", "-ec", " && ".join(cmds)]


def make_root(tmp):
    """The container's root directory: mount points, and the links or mount
    points of /bin, /lib, /lib64, /sbin as this machine has them. Returns
    (root, binds)."""
    root = os.path.join(tmp, "root")
    binds = [("/usr", "/usr")]
    for d in ("usr", "opt/python", "app", "proc", ".old", "tmp"):
        os.makedirs(os.path.join(root, d))
    for d in ("bin", "lib", "lib64", "sbin"):
        host = "/" + d
        if os.path.islink(host):
            os.symlink(os.readlink(host), os.path.join(root, d))
        elif os.path.isdir(host):
            os.makedirs(os.path.join(root, d))
            binds.append((host, host))
    return root, binds


def host_pid(unshare_pid):
    """The pid, outside, of unshare's one child (the container's pid 1)."""
    def child():
        try:
            with open("/proc/%d/task/%d/children" % (unshare_pid, unshare_pid)) as f:
                kids = f.read().split()
        except OSError:
            return None
        return int(kids[0]) if len(kids) == 1 else None
    return common.poll_until(child, 10)


def check(cond, tag, detail, fails, result=None):
    if cond:
        common.log("PASS %s: %s" % (tag, detail))
    else:
        fails.append("%s: %s%s" % (tag, detail, "\n" + result.stderr_excerpt() if result else ""))
    return cond


def kind_count(doc, kind):
    for k in (doc or {}).get("kinds", []):
        if k["kind"] == kind:
            return k["count"]
    return None


def debug_checks(tool, pid, source, empty, tag, fails):
    """The layout from the container's own debug info, this machine's debug
    dirs and cache out of the way (debian-3.11)."""
    r = common.run_tool(tool, ["--json", "--all", "--no-cache", "--debug-dir", empty]
                        + source)
    try:
        doc = json.loads(r.stdout.decode("utf-8"))
    except ValueError:
        doc = None
    layout = (doc or {}).get("layout", "")
    want = r"^separate debug info \(build-id [0-9a-f]+, /proc/%d/root/usr/lib/debug/\.build-id/" % pid
    check(r.rc == 0 and re.match(want, layout) is not None
          and kind_count(doc, "__main__.Session") == SESSIONS, tag,
          "exit %s, layout %r, %s Sessions" % (r.rc, layout, kind_count(doc, "__main__.Session")),
          fails, r)


def main():
    args, tool, python = common.live_test_args(__doc__)
    if not python:
        return common.EXIT_SKIP
    if os.geteuid() != 0:
        common.log("SKIP: needs root (namespaces, mounts)")
        return common.EXIT_SKIP
    for exe in ("unshare", "pivot_root", "mount", "umount"):
        if not shutil.which(exe):
            common.log("SKIP: %s is not installed (util-linux, mount)" % exe)
            return common.EXIT_SKIP
    debian = args.python.startswith("debian-")
    prefix = None if debian else common.pyenv_prefix(args.python)
    fails = []
    tmp = tempfile.mkdtemp(prefix="pyheap-container-")
    try:
        root, binds = make_root(tmp)
        env = [("PATH", "/usr/bin:/bin")]
        if debian:
            inside = python
        else:
            binds.append((prefix, "/opt/python"))
            inside = "/opt/python/bin/" + os.path.basename(python)
            env.append(("LD_LIBRARY_PATH", "/opt/python/lib"))
        with open(os.path.join(root, "app", "target.py"), "w") as f:
            f.write(TARGET % {"sessions": SESSIONS, "conns": CONNS, "idle": common.IDLE_CODE})
        argv = container_argv(root, binds, inside, "/app/target.py", env)
        with TruthFirst(argv, name="container target (%s)" % args.python) as t:
            truth = t.truth
            pid = host_pid(t.pid)
            if not truth or not pid:
                fails.append("container target: truth %r, pid outside %r" % (truth, pid))
                return common.report(fails, args.python)
            with open("/proc/%d/maps" % pid) as f:
                maps = f.read()
            named = re.findall(r" (/\S*/(?:python\d\.\d+|libpython\S*))$", maps, re.M)
            check(truth["pid"] == 1 and truth["sessions"] == SESSIONS and named
                  and all(n.startswith(os.path.dirname(os.path.dirname(inside))) for n in named)
                  and (debian or not os.path.exists(named[0])), "maps",
                  "pid %d outside, %d inside, %d Sessions; maps name %s"
                  % (pid, truth["pid"], truth["sessions"], ", ".join(sorted(set(named)))), fails)

            r = common.run_tool(tool, ["--json", "--all", str(pid)])
            try:
                doc = json.loads(r.stdout.decode("utf-8"))
            except ValueError:
                doc = None
            doc = doc or {}
            path = doc.get("python_path") or ""
            check(r.rc == 0 and path in named and doc.get("python") == truth["version"]
                  and doc.get("layout_source") == "dwarf"
                  and kind_count(doc, "__main__.Session") == truth["sessions"], "partition",
                  "exit %s, %s %s (%s), %s Sessions" % (r.rc, doc.get("python"), path,
                                                       doc.get("layout"),
                                                       kind_count(doc, "__main__.Session")),
                  fails, r)

            r, doc = common.referrers_json(tool, "Session", [str(pid)])
            paths = common.paths_of(doc)
            check(r.rc == 0 and paths == {"__main__.sessions[*]": SESSIONS}, "referrers",
                  "exit %s, paths %r" % (r.rc, paths), fails, r)

            empty = os.path.join(tmp, "no-debug")
            os.makedirs(empty)
            if debian:
                debug_checks(tool, pid, [str(pid)], empty, "debug", fails)

            for what, src in common.each_source(tool, pid, tmp, fails):
                if what != "core":
                    continue
                src = src + ["--sysroot", "/proc/%d/root" % pid]
                r = common.run_tool(tool, ["--json", "--all"] + src)
                try:
                    doc = json.loads(r.stdout.decode("utf-8"))
                except ValueError:
                    doc = None
                n = kind_count(doc, "__main__.Session")
                check(r.rc == 0 and n == SESSIONS, "core",
                      "exit %s, %s Sessions, layout %r" % (r.rc, n, (doc or {}).get("layout")),
                      fails, r)
                if debian:
                    debug_checks(tool, pid, src, empty, "core debug", fails)

            if truth["greenlet"]:
                want = {"thread 0x%x (MainThread) main greenlet.gr_frame local 'app'.conns[*]"
                        % truth["thread"]: CONNS}
                r, doc = common.referrers_json(tool, "Conn", [str(pid)])
                paths = common.paths_of(doc)
                check(r.rc == 0 and truth["conns"] == CONNS and paths == want, "greenlet",
                      "exit %s, %d Conns, paths %r (want %r)" % (r.rc, truth["conns"], paths,
                                                                  want), fails, r)
            else:
                common.log("(greenlet is not importable by %s: no main greenlet check)"
                           % args.python)
            common.check_healthy(t, fails)
    except common.TargetError as e:
        fails.append("container target: %s" % e)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
