#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generates the per-version layout tables in symbols/ from pyenv builds.

usage: symbols/generate.py --tool build/cmd/pyheap-attach [--check] [MINOR ...]

For each minor version (default: 3.8 to 3.13) it takes the newest plain pyenv
build ($PYENV_ROOT/versions/3.X.Y, default ~/.pyenv), asks the project's own
DWARF layer for its layout (`pyheap-attach --dump-layout lib/libpython3.X.so.1.0`,
and for the structs of shared extension modules (the C asyncio.Future/Task,
queue.SimpleQueue), the same of lib/python3.X/lib-dynload/_asyncio*.so and
_queue*.so) and writes symbols/cpython-3.X.layout: the layout text form that
`pyheap-attach --layout FILE` also reads, with a header saying which interpreter
it came from, which versions it applies to and how to regenerate it. The output
depends only on the library and the field list (lib/layout_fields.h): run it
again after adding a field.

--check   compare the existing files with what the builds give now, write
          nothing; exit 0 when equal, 1 when a file differs, 77 when no
          matching pyenv build is installed (the version a file records).

The 3.14 files (cpython-3.14.0.layout, cpython-3.14.5.layout) are written by
hand from ../shared/cpython-notes.md and CPython's headers: no 3.14 build is
installed here; this script never touches them.
"""

import argparse
import glob
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MINORS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
EXIT_SKIP = 77


def pyenv_root():
    return os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")


def pyenv_builds(minor):
    """[(micro, prefix)] of plain pyenv builds of `minor`, newest first."""
    pat = re.compile(r"^%s\.(\d+)$" % re.escape(minor))
    found = []
    for prefix in glob.glob(os.path.join(pyenv_root(), "versions", minor + ".*")):
        m = pat.match(os.path.basename(prefix))
        lib = os.path.join(prefix, "lib", "libpython%s.so.1.0" % minor)
        if m and os.path.isfile(lib):
            found.append((int(m.group(1)), prefix))
    found.sort(reverse=True)
    return found


def table_path(minor):
    return os.path.join(HERE, "cpython-%s.layout" % minor)


def extract(tool, lib):
    """(build_id, [(id, value)]) from `tool --dump-layout lib`."""
    p = subprocess.run([tool, "--dump-layout", lib], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("%s --dump-layout %s: exit %d: %s"
                           % (tool, lib, p.returncode, p.stderr.decode().strip()))
    build_id = "none"
    fields = []
    lines = p.stdout.decode().splitlines()
    if not lines or lines[0] != "# pyheap layout 1":
        raise RuntimeError("unexpected --dump-layout output: %r" % lines[:1])
    for line in lines[1:]:
        if line.startswith("#"):
            m = re.search(r"build-id ([0-9a-f]+|none)", line)
            if m:
                build_id = m.group(1)
            continue
        ident, value = line.split()
        fields.append((ident, int(value)))
    return build_id, fields


# Shared modules with structs the walker emulates: their fields (by prefix)
# come from the module's own DWARF.
MODULES = (("_asyncio", ("fut_", "task_", "wakeup_", "stepwrap_", "futiter_")),
           ("_queue", ("sq_",)), ("array", ("array_", "arraydescr_")),
           ("_elementtree", ("elem_", "elemextra_")),
           ("_pickle", ("pickler_", "memotable_", "memoentry_")),
           ("_struct", ("struct_", "formatcode_")), ("_ctypes", ("stgdict_", "stginfo_")))


def module_file(prefix, minor, name):
    found = sorted(glob.glob(os.path.join(prefix, "lib", "python" + minor, "lib-dynload",
                                          name + ".*.so")))
    return found[0] if found else None


def merge_module(fields, module_fields, prefixes):
    """The module's fields the library lacks."""
    mod = dict(module_fields)
    return [(k, mod.get(k, v) if k.startswith(prefixes) and v < 0 else v)
            for k, v in fields]


def render(minor, micro, build_id, fields):
    version = "%s.%d" % (minor, micro)
    out = [
        "# pyheap layout 1",
        "# table: %s" % minor,
        "# versions: %s.0 - %s.*" % (minor, minor),
        "# interpreter: CPython %s, pyenv build, lib/libpython%s.so.1.0 (build-id %s)"
        % (version, minor, build_id),
        "# source: DWARF of that build (fut_* ... futiter_*: of its _asyncio module, sq_*: of "
        "_queue, array_*: of array, elem_*: of _elementtree, pickler_* memo*: of _pickle, struct_* formatcode_*: of _struct, stg*: of _ctypes), "
        "extracted by "
        "pyheap-attach --dump-layout",
        "# tested live: yes",
        "# regenerate: python3 symbols/generate.py --tool build/cmd/pyheap-attach %s" % minor,
        "#   (needs the pyenv build %s; generated, do not edit by hand)" % version,
    ]
    out += ["%s %d" % f for f in fields]
    return "\n".join(out) + "\n"


def recorded_version(path):
    """The CPython version a table file says it was extracted from, or None."""
    try:
        with open(path) as f:
            for line in f:
                m = re.match(r"# interpreter: CPython (\d+\.\d+\.\d+)", line)
                if m:
                    return m.group(1)
    except OSError:
        pass
    return None


def data_lines(text):
    return [l for l in text.splitlines() if l and not l.startswith("#")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", required=True, help="path of pyheap-attach")
    ap.add_argument("--check", action="store_true",
                    help="compare with the committed files instead of writing them")
    ap.add_argument("minors", nargs="*", default=list(MINORS))
    args = ap.parse_args()

    status = 0
    ran = 0
    for minor in args.minors:
        if minor not in MINORS:
            ap.error("no generated table for %s (choose from %s)" % (minor, ", ".join(MINORS)))
        path = table_path(minor)
        builds = pyenv_builds(minor)
        if args.check:
            want = recorded_version(path)
            if want is None:
                print("FAIL %s: %s is missing or has no '# interpreter:' line" % (minor, path))
                status = 1
                continue
            builds = [b for b in builds if "%s.%d" % (minor, b[0]) == want]
            if not builds:
                print("SKIP %s: the pyenv build %s is not installed" % (minor, want))
                continue
        elif not builds:
            print("SKIP %s: no pyenv build under %s" % (minor, pyenv_root()))
            continue
        micro, prefix = builds[0]
        lib = os.path.join(prefix, "lib", "libpython%s.so.1.0" % minor)
        build_id, fields = extract(args.tool, lib)
        for name, prefixes in MODULES:
            module = module_file(prefix, minor, name)
            if module:
                fields = merge_module(fields, extract(args.tool, module)[1], prefixes)
        text = render(minor, micro, build_id, fields)
        ran += 1
        if args.check:
            with open(path) as f:
                old = f.read()
            if data_lines(old) != data_lines(text):
                old_d = dict(l.split() for l in data_lines(old))
                new_d = dict(l.split() for l in data_lines(text))
                diffs = ["%s: file %s, build %s" % (k, old_d.get(k, "absent"),
                                                     new_d.get(k, "absent"))
                         for k in sorted(set(old_d) | set(new_d))
                         if old_d.get(k) != new_d.get(k)]
                print("FAIL %s: %s differs from the DWARF of %s (%d fields): %s"
                      % (minor, os.path.basename(path), lib, len(diffs), "; ".join(diffs[:20])))
                print("     regenerate: python3 symbols/generate.py --tool %s %s"
                      % (args.tool, minor))
                status = 1
            elif old != text:
                print("FAIL %s: %s has the right values but another header "
                      "(build-id or text); regenerate it" % (minor, os.path.basename(path)))
                status = 1
            else:
                print("OK   %s: %s matches %s" % (minor, os.path.basename(path), lib))
        else:
            with open(path, "w") as f:
                f.write(text)
            print("wrote %s (%s.%d, %d fields)" % (path, minor, micro, len(fields)))
    if status == 0 and ran == 0:
        return EXIT_SKIP
    return status


if __name__ == "__main__":
    sys.exit(main())
