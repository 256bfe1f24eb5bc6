#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: the interpreter's file deleted or replaced under a running target.

usage: replaced.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent, or not run as root)

A package upgrade replaces /usr/lib/libpython3.X.so or /usr/bin/python3.X
while services keep running the old one: /proc/PID/maps then names a file
"(deleted)", and the file at that path, if any, is another build. The tool
must read the file the process maps (/proc/PID/map_files, root only), and
without root say why it cannot, never read another build's symbols.

The ELF that holds the runtime (pyenv labels: libpython, through
LD_LIBRARY_PATH; debian-3.11: the executable) is copied into a temporary
directory and the heap target runs from the copy. As root:
  a  --json partition with the copy in place;
  b  the copy replaced (renamed over) by another build: the runtime ELF of
     another interpreter when there is one, else a copy with another
     build-id; the same kinds as a, and the path said "(deleted)", as
     /proc/PID/maps says it;
  c  the copy deleted: the same kinds as a, the path "(deleted)";
  d  the target still answers ping.
debian-3.11 only, when the tool and interpreter can run as `nobody`: an
idle target and the tool both run as that user (no CAP_SYS_ADMIN: no
map_files):
  e  the copy in place, then replaced by the same build (a new inode): the
     same kinds;
  f  replaced by a copy with another build-id, then deleted: exit 4 each,
     and the message names map_files and says to run as root;
  g  root then reads it: the same kinds as e.
"""

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

EXIT_PERMISSION = 4


class Skip(Exception):
    pass


def other_build_id(src, dst):
    """A copy of ELF @src whose GNU build-id differs in one byte."""
    shutil.copy2(src, dst)
    out = subprocess.run(["readelf", "-SW", dst], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, check=True).stdout.decode()
    for line in out.splitlines():
        if ".note.gnu.build-id" in line:
            off = int(line.split("]", 1)[1].split()[3], 16)
            with open(dst, "r+b") as f:
                f.seek(off + 16)  # the note's header and "GNU\0"
                b = f.read(1)
                f.seek(off + 16)
                f.write(bytes([b[0] ^ 0xFF]))
            return
    raise RuntimeError("%s has no .note.gnu.build-id" % src)


def replace_with(path, src, mode=0o755):
    """Renames a copy of @src over @path (a new inode, as dpkg does)."""
    tmp = path + ".new"
    shutil.copyfile(src, tmp)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def is_deleted_in_maps(pid, path):
    with open("/proc/%d/maps" % pid) as f:
        return any(line.rstrip("\n").endswith(path + " (deleted)") for line in f)


def other_runtime_elf(label):
    """The runtime ELF of another interpreter than @label, or None."""
    for other in common.PYENV_LABELS:
        prefix = common.pyenv_prefix(other)
        if other != label and prefix:
            lib = os.path.join(prefix, "lib", "libpython%s.so.1.0" % other)
            if os.path.isfile(lib):
                return lib
    return None


def check_same(doc, ref, what, fails, deleted=True):
    if doc is None or ref is None:
        return
    # (The file the process runs named as /proc/PID/maps names it.)
    path = doc.get("python_path", "")
    if path.endswith(" (deleted)") != deleted:
        fails.append("%s: python_path %r, want it to %s with ' (deleted)'"
                     % (what, path, "end" if deleted else "not end"))
    d = common.diff_kinds(common.kinds_of(ref), common.kinds_of(doc), "in place", what)
    if d:
        fails.append("%s: %s" % (what, "\n".join(d)))
    else:
        common.log("PASS %s: the same %d kinds" % (what, len(doc["kinds"])))


def as_root(tool, label, python, base, fails):
    if label == common.DEBIAN_LABEL:
        elf, run_path = python, os.path.join(base, "python3.11")
        argv_python, env = run_path, None
    else:
        prefix = common.pyenv_prefix(label)
        elf = os.path.join(prefix, "lib", "libpython%s.so.1.0" % label)
        if not os.path.isfile(elf):
            raise Skip("%s is not a shared-library build" % prefix)
        run_path = os.path.join(base, os.path.basename(elf))
        argv_python = python
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith("PYTHON"))
        env.update(LD_LIBRARY_PATH=base, PYTHONHOME=prefix)
    shutil.copy2(elf, run_path)
    cache = os.path.join(base, "cache")
    os.mkdir(cache)
    tenv = common.tool_env(cache)
    target = common.Target.heap(argv_python, env=env, name="heap target (copy of %s)" % elf)
    try:
        with open("/proc/%d/maps" % target.pid) as f:
            if run_path not in f.read():
                raise RuntimeError("%s is not mapped in pid %d" % (run_path, target.pid))
        ref = common.run_json(tool, [target.pid], tenv, "a in place", fails)
        if ref is not None and ref.get("python_path") != run_path:
            fails.append("a: python_path %r, want %r" % (ref.get("python_path"), run_path))
        other = other_runtime_elf(label) if label != common.DEBIAN_LABEL else None
        if not other:
            other = os.path.join(base, "other-build")
            other_build_id(elf, other)
        replace_with(run_path, other)
        if not is_deleted_in_maps(target.pid, run_path):
            fails.append("b: maps do not show %s (deleted) after the rename" % run_path)
        doc = common.run_json(tool, [target.pid], tenv, "b replaced by %s" % other, fails)
        check_same(doc, ref, "b replaced by another build", fails)
        os.unlink(run_path)
        doc = common.run_json(tool, [target.pid], tenv, "c deleted", fails)
        check_same(doc, ref, "c deleted", fails)
        common.check_healthy(target, fails)
    finally:
        target.stop()


def demote(uid, gid):
    def f():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    return f


def as_user(tool, python, base, fails):
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        common.log("SKIP e-g: no user nobody")
        return
    d = os.path.join(base, "user")
    os.mkdir(d)
    os.chmod(d, 0o755)
    run_path = os.path.join(d, "python3.11")
    shutil.copy2(python, run_path)
    cache = os.path.join(d, "cache")
    os.mkdir(cache)
    for p in (d, run_path, cache):
        os.chown(p, pw.pw_uid, pw.pw_gid)
    os.chmod(base, 0o755)
    probe = subprocess.run([tool, "--version"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, preexec_fn=demote(pw.pw_uid, pw.pw_gid))
    if probe.returncode != 0:
        common.log("SKIP e-g: the tool cannot run as nobody (%s is not reachable)" % tool)
        return
    src = "import sys\nclass Session(object): pass\nkeep = [Session() for i in range(3000)]\n"
    target = common.Target([run_path, "-I", "-S", "-c", src + common.SERVE],
                           name="idle target as nobody", preexec_fn=demote(pw.pw_uid, pw.pw_gid))
    tenv = common.tool_env(cache)
    tenv["HOME"] = d

    def run(args):
        return subprocess.run([tool] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=tenv,
                              timeout=common.TOOL_TIMEOUT,
                              preexec_fn=demote(pw.pw_uid, pw.pw_gid))

    def json_of(what):
        p = run(["--json", target.pid])
        common.log("  %s as nobody: rc=%d" % (what, p.returncode))
        if p.returncode != 0:
            fails.append("%s as nobody: rc=%d: %s" % (what, p.returncode, p.stderr.decode()[-600:]))
            return None
        return json.loads(p.stdout.decode())

    def refused(what):
        p = run([target.pid])
        msg = p.stderr.decode()
        common.log("  %s as nobody: rc=%d" % (what, p.returncode))
        if p.returncode != EXIT_PERMISSION or "map_files" not in msg or \
                "run pyheap-attach as root" not in msg:
            fails.append("%s as nobody: want exit %d naming map_files and root, got rc=%d: %s"
                         % (what, EXIT_PERMISSION, p.returncode, msg[-600:]))
        else:
            common.log("PASS %s as nobody: refused, exit 4: %s" % (what, msg.strip()[:160]))

    try:
        ref = json_of("e in place")
        replace_with(run_path, python)
        check_same(json_of("e same build, new inode"), ref, "e same build, new inode", fails)
        other = os.path.join(d, "other-build")
        other_build_id(python, other)
        os.chmod(other, 0o755)
        replace_with(run_path, other)
        refused("f replaced by another build")
        os.unlink(run_path)
        refused("f deleted")
        doc = common.run_json(tool, [target.pid], common.tool_env(os.path.join(base, "cache")),
                              "g deleted, as root", fails)
        check_same(doc, ref, "g deleted, as root", fails)
        common.check_healthy(target, fails)
    finally:
        target.stop()


def main():
    args, tool, python = common.live_test_args(__doc__)
    if not python:
        return common.EXIT_SKIP
    if os.geteuid() != 0:
        common.log("SKIP: needs root (map_files)")
        return common.EXIT_SKIP
    if not shutil.which("readelf"):
        common.log("SKIP: readelf not installed")
        return common.EXIT_SKIP
    fails = []
    base = tempfile.mkdtemp(prefix="pyheap-replaced-")
    try:
        try:
            as_root(tool, args.python, python, base, fails)
        except Skip as e:
            common.log("SKIP: %s" % e)
            return common.EXIT_SKIP
        if args.python == common.DEBIAN_LABEL:
            as_user(tool, python, base, fails)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
