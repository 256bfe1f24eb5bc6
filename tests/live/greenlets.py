#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: what suspended greenlets hold (gevent, eventlet: the greenlet
package; Debian's python3-greenlet for /usr/bin/python3.11 and python3.11d, and
for the pyenv builds 3.8 to 3.11 the same greenlet 2.0.2 compiled from the
sources that package ships, when g++ is there).

usage: greenlets.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent, or greenlet neither importable
       nor buildable for it)

The target starts WORKERS greenlets (greenlet.greenlet(handler)), each of which
builds a list of OUTER Outer objects in a local of handler(), calls inner(),
which makes a Token in a local of its own and switches back to the main
greenlet: each stays suspended two frames deep. A subclass of greenlet.greenlet
(Special, its run() method) stays suspended holding a Mark in a local; one
switched away inside a generator (its frame on top, its caller's below) that
holds a Held; one (looper) switched away inside a `for` loop over a generator
whose local 'items' holds ITEMS Item objects, the generator on the loop frame's
value stack only; another greenlet ran to its end. greenlet keeps a suspended greenlet's frames in its
own C++ state, which neither its tp_traverse nor gc.get_referents() visits: the
truth is the target's own bookkeeping (what it built, counted by type from
gc.get_objects()), printed before "ready".

Checks (one line each, PASS/FAIL):
  token     `--referrers Token --json --paths 0`: WORKERS objects, each held by a
            greenlet ("greenlet.greenlet" the only referrer kind; through 3.10 its
            top frame object, "frame"), the one path group
            "__main__.workers[*].gr_frame local 'token'"
  outer     `--referrers Outer`: WORKERS * OUTER objects, the path
            "__main__.workers[*].gr_frame.f_back local 'outer'[*]" (the frame
            below the top one), no "held by native code"
  subclass  `--referrers Mark`: 1 object, "__main__.special.gr_frame local 'mark'"
  generator `--referrers Held`: 1 object, held by the running generator
            "__main__.genworker.gr_frame.f_generator local 'held'" (through 3.10
            "….gr_frame local 'held'": the generator's frame object is the top one)
  stack     `--referrers Item`: ITEMS objects, the one path group "<held by
            native code (1 ref unaccounted): the value stack of
            __main__.looper.gr_frame>" then " local 'items'[*]" (through 3.10
            ".gi_frame local 'items'[*]": the generator's frame object)
  frame     `--referrers frame`: the suspended greenlets' top frame objects
            (WORKERS + 1) are found, at "….gr_frame" each
  tasks     `--tasks --json`: each worker greenlet listed (suspended) with its
            frames innermost first at their lines (the target's code's),
            inner() holding its Token in local 'token', handler() its list of
            OUTER in local 'outer'; Special's run() its Mark
  text      the text report of Token names the path
  file      the same Token and Outer paths, and the same tasks with their
            lines, from a snapshot file (-o, --load)
  gevent    a second target: JOBS gevent jobs (gevent.spawn) waiting on an Event,
            each holding SESSIONS Session objects in a local: `--referrers
            Session`, "__main__.jobs[*].gr_frame local 'sessions'[*]", the
            lists' referrers of gevent's Greenlet kind; its partition with no
            reference unreadable (skipped, said so, when gevent is not importable)
  main      a third target: a thread's main greenlet suspended in main(), whose
            local 'app' holds CONNS Conn objects, while another greenlet runs
            (greenlet: one main() switched to; gevent: a job main() joins, the
            hub between them; greenlet again, main() run by a thread named
            "worker"): `--referrers Conn`, "thread 0x… (MainThread) main
            greenlet.gr_frame local 'app'.conns[*]" ("(worker)"; the thread's id
            as the target gives it), live, from a snapshot file and from a
            gcore core (gevent: skipped, said so, when not importable)
  healthy   the targets run and answer ping afterwards
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from threads import TruthFirst  # noqa: E402

WORKERS = 4
OUTER = 50
ITEMS = 30

TARGET = r"""
import gc, json, sys
try:
    import greenlet
except ImportError:
    sys.stdout.write("truth null\n")
    greenlet = None

class Outer:
    pass

class Token:
    pass

class Mark:
    pass

class Held:
    pass

class Item:
    pass

def inner():
    token = Token()
    greenlet.getcurrent().parent.switch()
    return token

def handler(n):
    outer = [Outer() for _ in range(n)]
    inner()
    return outer

def rows():
    held = Held()
    greenlet.getcurrent().parent.switch()
    yield held

def consume():
    for row in rows():
        pass

def source(n):
    items = [Item() for _ in range(n)]
    for i in range(len(items)):
        yield i

def loop():
    for i in source(%(items)d):
        greenlet.getcurrent().parent.switch()

if greenlet is not None:
    class Special(greenlet.greenlet):
        def run(self):
            mark = Mark()
            self.parent.switch()
            return mark

    workers = []
    for _ in range(%(workers)d):
        g = greenlet.greenlet(handler)
        g.switch(%(outer)d)
        workers.append(g)
    special = Special()
    special.switch()
    genworker = greenlet.greenlet(consume)
    genworker.switch()
    looper = greenlet.greenlet(loop)
    looper.switch()
    finished = greenlet.greenlet(lambda: None)
    finished.switch()
    del g
    counts = {}
    for o in gc.get_objects():
        name = type(o).__name__
        if name in ("Outer", "Token", "Mark", "Held", "Item"):
            counts[name] = counts.get(name, 0) + 1
    sys.stdout.write("truth " + json.dumps({
        "version": greenlet.__version__, "minor": sys.version_info[1],
        "suspended": sum(1 for g in workers + [special, genworker, looper] if g and not g.dead),
        "dead": finished.dead,
        # (The lines each suspended frame is at, from the functions' code:
        # reading the frames' f_lineno would make frame objects of them.)
        "lines": {"inner": inner.__code__.co_firstlineno + 2,
                  "handler": handler.__code__.co_firstlineno + 2,
                  "run": Special.run.__code__.co_firstlineno + 2},
        "counts": counts}) + "\n")
""" % {"workers": WORKERS, "outer": OUTER, "items": ITEMS} + common.IDLE_CODE

JOBS = 3
SESSIONS = 20

# gevent (Debian's python3-gevent): jobs spawned, waiting on an event, each
# holding its sessions in a local; the hub idle, the main greenlet reading stdin.
GEVENT_TARGET = r"""
import gc, json, sys
try:
    import gevent
    from gevent.event import Event
except ImportError:
    sys.stdout.write("truth null\n")
    gevent = None

class Session:
    pass

if gevent is not None:
    stop = Event()

    def serve(n):
        sessions = [Session() for _ in range(n)]
        stop.wait()
        return sessions

    jobs = [gevent.spawn(serve, %(sessions)d) for _ in range(%(jobs)d)]
    gevent.idle()  # the hub runs them until each waits on the event
    t = type(jobs[0])
    sys.stdout.write("truth " + json.dumps({
        "version": gevent.__version__, "kind": t.__module__ + "." + t.__qualname__,
        "waiting": sum(1 for j in jobs if j and not j.dead),
        "sessions": sum(1 for o in gc.get_objects() if type(o) is Session)}) + "\n")
""" % {"jobs": JOBS, "sessions": SESSIONS} + common.IDLE_CODE


CONNS = 12

# A thread's main greenlet suspended: main() holds an App in a local and
# switches to a greenlet (plain greenlet, or a gevent job main() joins, the
# hub between them), which says what it is and then serves the test's
# commands, reading stdin (a blocking read: the main greenlet stays suspended).
MAIN_TARGET = r"""
import gc, json, sys, threading
try:
    import %(module)s
except ImportError:
    sys.stdout.write("truth null\n")
    %(module)s = None

class App:
    pass

class Conn:
    pass

def serve():
    sys.stdout.write("truth " + json.dumps({
        "thread": threading.get_ident(),
        "conns": sum(1 for o in gc.get_objects() if type(o) is Conn)}) + "\n")
    exec(%(idle)r, {})

def main():
    app = App()
    app.conns = [Conn() for _ in range(%(conns)d)]
    %(start)s

if %(module)s is None:
    exec(%(idle)r, {})
else:
    %(run)s
"""


def check_main_greenlet(tool, python, path, fails, module, thread=None):
    start = {"greenlet": "greenlet.greenlet(serve).switch()",
             "gevent": "gevent.spawn(serve).join()"}[module]
    run = ("t = threading.Thread(target=main, name=%r); t.start(); t.join()" % thread
           if thread else "main()")
    code = MAIN_TARGET % {"module": module, "idle": common.IDLE_CODE, "conns": CONNS,
                          "start": start, "run": run}
    tag = "main greenlet (%s%s)" % (module, ", thread %s" % thread if thread else "")
    with TruthFirst([python, "-I", "-c", with_path(code, path)],
                    name="%s target (%s)" % (tag, python)) as t:
        truth = t.truth
        if truth is None:
            common.log("SKIP %s: not importable by %s" % (tag, python))
            return
        if truth["conns"] != CONNS:
            fails.append("%s target: not the state built: %r" % (tag, truth))
        want = {"thread 0x%x (%s) main greenlet.gr_frame local 'app'.conns[*]"
                % (truth["thread"], thread or "MainThread"): CONNS}
        tmp = tempfile.mkdtemp(prefix="pyheap-maingr-")
        try:
            for what, src in common.each_source(tool, t.pid, tmp, fails):
                check_kind(tool, src, "Conn", CONNS, want, fails, "%s, %s" % (tag, what),
                           referrer=None)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        common.check_healthy(t, fails)


def check_tasks(tool, source, fails, lines, tag="tasks"):
    """tasks: --tasks --json lists each suspended worker greenlet with its
    frames innermost first at their lines, inner() holding its Token,
    handler() its list of Outer; the Special greenlet's run() its Mark."""
    r = common.run_tool(tool, ["--tasks", "--json"] + source)
    try:
        doc = json.loads(r.stdout.decode("utf-8"))
    except ValueError:
        doc = {}
    workers, special = 0, 0
    for t in doc.get("tasks", []):
        frames = t.get("coroutines", [])
        names = [(f.get("function") or "?").split(".")[-1] for f in frames]
        local = [dict((x.get("label"), x) for x in f.get("locals", [])) for f in frames]
        at = [f.get("line") for f in frames]
        if not t.get("greenlet"):
            continue
        if (t.get("kind") == "greenlet.greenlet" and names == ["inner", "handler"] and
                at == [lines["inner"], lines["handler"]] and
                local[0].get("local 'token'", {}).get("kind") == "__main__.Token" and
                local[1].get("local 'outer'", {}).get("len") == OUTER):
            workers += 1
        if (t.get("kind") == "__main__.Special" and names[:1] == ["run"] and
                at[:1] == [lines["run"]] and
                local[0].get("local 'mark'", {}).get("kind") == "__main__.Mark"):
            special += 1
    if r.rc != 0 or workers != WORKERS or special != 1:
        fails.append("%s: exit %s, %d worker greenlets with inner() at line %d holding its "
                     "Token and handler() at %d its %d Outer (want %d), %d Special with run() "
                     "at %d holding its Mark:\n%s"
                     % (tag, r.rc, workers, lines["inner"], lines["handler"], OUTER, WORKERS, special,
                        lines["run"], json.dumps(doc.get("tasks"))[:3000]))
    else:
        common.log("PASS %s: %d worker greenlets' frames inner(), handler() at their lines "
                   "with their locals, and Special.run()" % (tag, workers))


def check_kind(tool, source, what, count, want_paths, fails, tag, referrer="greenlet.greenlet"):
    r, doc = common.referrers_json(tool, what, source)
    paths = common.paths_of(doc)
    kinds = dict((k["kind"], k["count"]) for k in (doc or {}).get("referrers", []))
    native = [p for p in paths if "held by native code" in p]
    if (r.rc != 0 or not doc or doc.get("objects") != count or paths != want_paths or native
            or (referrer and kinds.get(referrer) != count)):
        fails.append("%s: exit %s, objects %s (want %d), paths %r (want %r), referrers %r\n%s"
                     % (tag, r.rc, (doc or {}).get("objects"), count, paths, want_paths, kinds,
                        r.stderr_excerpt()))
        return False
    common.log("PASS %s: %d, %s" % (tag, count, ", ".join(sorted(paths))))
    return True


# What Debian's python3-greenlet ships beside its module: its C++ sources.
GREENLET_SRC = "/usr/lib/python3/dist-packages/greenlet"


def greenlet_dir(python, tmp):
    """A directory to put first on the target's sys.path so that it imports
    greenlet: "" when it does already, else greenlet 2.0.2 compiled for it from
    GREENLET_SRC (None when that cannot be done)."""
    ok = subprocess.run([python, "-I", "-c", "import greenlet"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode == 0
    cxx = shutil.which("g++")
    if ok:
        return ""
    if not cxx or not os.path.exists(os.path.join(GREENLET_SRC, "greenlet.cpp")):
        return None
    lines = common.build_paths(python)
    if not lines:
        return None
    pkg = os.path.join(tmp, "site", "greenlet")
    os.makedirs(pkg)
    shutil.copy(os.path.join(GREENLET_SRC, "__init__.py"), pkg)
    r = subprocess.run([cxx, "-O1", "-shared", "-fPIC", "-std=gnu++11", "-I" + lines[0],
                        "-I" + GREENLET_SRC, os.path.join(GREENLET_SRC, "greenlet.cpp"),
                        "-o", os.path.join(pkg, "_greenlet" + lines[1])],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        common.log("greenlet does not build for %s:\n%s"
                   % (python, r.stdout.decode("utf-8", "replace")[-1500:]))
        return None
    common.log("greenlet built from %s for %s" % (GREENLET_SRC, python))
    return os.path.dirname(pkg)


def with_path(code, path):
    return ("import sys; sys.path.insert(0, %r)\n" % path if path else "") + code


def check_gevent(tool, python, path, fails):
    with TruthFirst([python, "-I", "-c", with_path(GEVENT_TARGET, path)],
                    name="gevent target (%s)" % python) as t:
        truth = t.truth
        if truth is None:
            common.log("SKIP gevent: not importable by %s" % python)
            return
        common.log("gevent %s; truth %s" % (truth["version"], json.dumps(truth)))
        if truth["waiting"] != JOBS or truth["sessions"] != JOBS * SESSIONS:
            fails.append("gevent target: not the state built: %r" % truth)
        r, doc = common.referrers_json(tool, "Session", [str(t.pid)])
        paths = common.paths_of(doc)
        want = {"__main__.jobs[*].gr_frame local 'sessions'[*]": truth["sessions"]}
        lists = [p for p in (doc or {}).get("pattern", [])
                 if p.get("depth") == 2 and p.get("kind") == truth["kind"]]
        if (r.rc != 0 or not doc or doc.get("objects") != truth["sessions"] or paths != want
                or not lists or lists[0].get("count") != JOBS):
            fails.append("gevent: exit %s, objects %s, paths %r (want %r), pattern %r\n%s"
                         % (r.rc, (doc or {}).get("objects"), paths, want,
                            (doc or {}).get("pattern"), r.stderr_excerpt()))
        else:
            common.log("PASS gevent: %d, %s, held by %d %s"
                       % (truth["sessions"], ", ".join(paths), JOBS, truth["kind"]))
        # (A getter that tests the int a field points to names no field: the
        # hub's libev watchers' `active`; their field points into themselves.)
        doc = common.run_json(tool, [str(t.pid)], None, "gevent partition", fails)
        if doc is not None and doc.get("unreadable") != 0:
            fails.append("gevent partition: %s references unreadable (want 0)"
                         % doc.get("unreadable"))
        elif doc is not None:
            common.log("PASS gevent partition: no reference unreadable")
        common.check_healthy(t, fails)


def main():
    args, tool, python = common.live_test_args(__doc__)
    if not python:
        return common.EXIT_SKIP
    fails = []
    tmp = tempfile.mkdtemp(prefix="pyheap-greenlets-")
    try:
        path = greenlet_dir(python, tmp)
        if path is None:
            common.log("SKIP: greenlet is neither importable by %s nor buildable" % python)
            return common.EXIT_SKIP
        with TruthFirst([python, "-I", "-c", with_path(TARGET, path)],
                        name="greenlets target (%s)" % python) as t:
            truth = t.truth
            if truth is None:
                common.log("SKIP: greenlet is not importable by %s" % python)
                return common.EXIT_SKIP
            common.log("greenlet %s; truth %s" % (truth["version"], json.dumps(truth)))
            counts = truth["counts"]
            if (truth["suspended"] != WORKERS + 3 or not truth["dead"] or counts !=
                    {"Outer": WORKERS * OUTER, "Token": WORKERS, "Mark": 1, "Held": 1,
                     "Item": ITEMS}):
                fails.append("target: not the state built: %r" % truth)
            src = [str(t.pid)]
            n_token, n_outer = counts.get("Token", 0), counts.get("Outer", 0)
            token = ("__main__.workers[*].gr_frame local 'token'", n_token)
            outer = ("__main__.workers[*].gr_frame.f_back local 'outer'[*]", n_outer)
            # (Through 3.10 frames are objects: the frame holds its locals,
            # and a generator's frame is the greenlet's top one itself.)
            old = truth["minor"] <= 10
            check_kind(tool, src, "Token", n_token, dict([token]), fails, "token",
                       referrer="frame" if old else "greenlet.greenlet")
            check_kind(tool, src, "Outer", n_outer, dict([outer]), fails, "outer",
                       referrer="list")
            check_kind(tool, src, "Mark", counts.get("Mark", 0),
                       {"__main__.special.gr_frame local 'mark'": 1}, fails, "subclass",
                       referrer="frame" if old else "__main__.Special")
            check_kind(tool, src, "Held", counts.get("Held", 0),
                       {"__main__.genworker.gr_frame%s local 'held'"
                        % ("" if old else ".f_generator"): 1}, fails,
                       "generator", referrer="frame" if old else "generator")
            r, doc = common.referrers_json(tool, "Item", src)
            paths = common.paths_of(doc)
            want = {"<held by native code (1 ref unaccounted): the value stack of "
                    "__main__.looper.gr_frame>%s local 'items'[*]" % (".gi_frame" if old else ""):
                    counts.get("Item", 0)}
            if r.rc != 0 or not doc or doc.get("objects") != ITEMS or paths != want:
                fails.append("stack: exit %s, objects %s (want %d), paths %r (want %r)\n%s"
                             % (r.rc, (doc or {}).get("objects"), ITEMS, paths, want,
                                r.stderr_excerpt()))
            else:
                common.log("PASS stack: %d, %s" % (ITEMS, ", ".join(paths)))
            r, doc = common.referrers_json(tool, "frame", src)
            paths = common.paths_of(doc)
            want = {"__main__.workers[*].gr_frame": WORKERS, "__main__.special.gr_frame": 1}
            if r.rc != 0 or any(paths.get(p) != n for p, n in want.items()):
                fails.append("frame: exit %s, paths %r (want %r among them)\n%s"
                             % (r.rc, paths, want, r.stderr_excerpt()))
            else:
                common.log("PASS frame: %d top frames at .gr_frame" % (WORKERS + 1))
            check_tasks(tool, src, fails, truth["lines"])
            r = common.run_tool(tool, ["--referrers", "Token", str(t.pid)])
            text = r.stdout.decode("utf-8", "replace")
            if r.rc != 0 or "%6d  %s" % (WORKERS, token[0]) not in text:
                fails.append("text: exit %s, no line %r in:\n%s" % (r.rc, token[0], text))
            else:
                common.log("PASS text")
            snap = os.path.join(tmp, "g.pyheap")
            r = common.run_tool(tool, ["-o", snap, str(t.pid)])
            if r.rc != 0:
                fails.append("file: -o failed (exit %s)\n%s" % (r.rc, r.stderr_excerpt()))
            else:
                check_kind(tool, ["--load", snap], "Token", n_token, dict([token]), fails,
                           "file token", referrer="frame" if old else "greenlet.greenlet")
                check_kind(tool, ["--load", snap], "Outer", n_outer, dict([outer]), fails,
                           "file outer", referrer="list")
                check_tasks(tool, ["--load", snap], fails, truth["lines"], "file tasks")
            common.check_healthy(t, fails)
        check_gevent(tool, python, path, fails)
        check_main_greenlet(tool, python, path, fails, "greenlet")
        check_main_greenlet(tool, python, path, fails, "greenlet", thread="worker")
        check_main_greenlet(tool, python, path, fails, "gevent")
    except common.TargetError as e:
        fails.append(str(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
