#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live test: asyncio tasks, what they await and what their coroutines hold
(--tasks).

usage: tasks.py --tool PATH --python LABEL
exit:  0 pass, 1 fail, 77 skip (interpreter absent)

The target runs an event loop with named tasks: two requests (req-10,
req-300), each handler(n) awaiting fetch(n), which holds n unique bytes in a
list (local 'rows') and awaits a future that never completes; a task (waiter)
awaiting the task req-10; one three coroutines deep (deep: a() awaits b()
awaits c() awaits asyncio.sleep()); and a task done, kept in a global. Its
truth, written from inside the loop: each task's name, its await chain as
Python reads it (get_coro(), then each coroutine's cr_await while it is a
coroutine: the function names), the id() of the future it waits on
(_fut_waiter), and for the requests the id() of their list and its bytes
(sys.getsizeof of the list and of each bytes). Checks (PASS/FAIL):
  names     --tasks --json lists every task the target has (asyncio.all_tasks()
            and the one done), by name
  chains    each task's coroutines, innermost first, are its await chain
            reversed (function names: fetch, handler; c, b, a with sleep
            innermost; ...), none for the task done
  lines     each coroutine's line is its cr_frame's f_lineno (live; a snapshot
            file keeps no lines), none for a finished one
  awaiting  each pending task awaits the object at the address of its
            _fut_waiter (the waiter: the task req-10)
  locals    fetch()'s locals of each request are exactly n, rows and fut; its
            local 'rows' is the list at the address the target gave, with len
            n and retaining the list and its n bytes as built
  text      the text report names the tasks (task 'req-300' at 0x…), the
            waiter's "awaiting task 'req-10'", fetch()'s frame and its rows
  file      the same chains, lines and locals from a snapshot file (-o, --load)
  (req-20 is asyncio's pure-Python task, asyncio.tasks._PyTask: the same
  checks, its coroutine in ._coro)
  trio      a second target (trio, when importable: Debian's python3-trio,
            also for the pyenv builds it runs on), two requests (req-10,
            req-300) in a nursery, fetch() awaiting an Event through trio's
            Event.wait(), wait_task_rescheduled() and a generator-based
            _async_yield(): the names, chains (cr_await, then gi_yieldfrom),
            lines and fetch()'s locals as above (JSON), and the text's
            "task 'req-300' (trio.lowlevel.Task) at 0x…"
  healthy   the targets still answer ping
"""

import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from threads import TruthFirst  # noqa: E402

TARGET = r"""
import asyncio, json, sys

def chain(t):
    out, lines, co = [], [], t.get_coro()
    while co is not None and type(co).__name__ == "coroutine":
        out.append(co.cr_code.co_name)
        lines.append(co.cr_frame.f_lineno if co.cr_frame is not None else None)
        co = co.cr_await
    return out, lines

async def fetch(n):
    rows = [b"r" * 100 + str(i).encode() for i in range(n)]
    ROWS[n] = {"id": id(rows), "size": sys.getsizeof(rows) + sum(map(sys.getsizeof, rows))}
    fut = asyncio.get_running_loop().create_future()
    await fut

async def handler(n):
    data = {"n": n}
    await fetch(n)

async def c():
    await asyncio.sleep(600)

async def b():
    await c()

async def a():
    await b()

async def waiter(t):
    await t

async def quick():
    return 1

ROWS = {}
DONE = []

async def main():
    r10 = asyncio.create_task(handler(10), name="req-10")
    r300 = asyncio.create_task(handler(300), name="req-300")
    w = asyncio.create_task(waiter(r10), name="waiter")
    d = asyncio.create_task(a(), name="deep")
    # (asyncio's own task in Python, as where _asyncio is missing.)
    py = asyncio.tasks._PyTask(handler(20), name="req-20")
    q = asyncio.create_task(quick(), name="done")
    await q
    DONE.append(q)
    for _ in range(5):
        await asyncio.sleep(0)
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] + [q]
    truth = {"tasks": {}, "rows": ROWS}
    for t in tasks:
        fw = getattr(t, "_fut_waiter", None)
        names, lines = chain(t)
        truth["tasks"][t.get_name()] = {"chain": names, "lines": lines,
                                        "waits": id(fw) if fw is not None else None}
    sys.stdout.write("truth " + json.dumps(truth) + "\n")
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line or line.strip() == "exit":
            break
        if line.strip() == "ping":
            sys.stdout.write("pong\n")
            sys.stdout.flush()
    for t in (r10, r300, w, d, py):
        t.cancel()

asyncio.run(main())
"""

# trio's tasks (trio.lowlevel.Task: its coroutine in .coro), three requests
# awaiting an Event through trio's own coroutines and a generator-based one.
TRIO_TARGET = r"""
import json, sys
try:
    import trio
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")  # (Debian's python3-trio)
    try:
        import trio
    except Exception as e:
        sys.stdout.write("truth " + json.dumps({"skip": "trio: %s" % e}) + "\nready\n")
        sys.stdout.flush()
        sys.stdin.read()
        sys.exit(0)

def chain(task):
    out, lines, co = [], [], task.coro
    while co is not None:
        gen = type(co).__name__ == "generator"
        out.append((co.gi_code if gen else co.cr_code).co_name)
        f = co.gi_frame if gen else co.cr_frame
        lines.append(f.f_lineno if f is not None else None)
        co = co.gi_yieldfrom if gen else co.cr_await
    return out, lines

ROWS = {}
EVENT = None

async def fetch(n):
    rows = [b"r" * 100 + str(i).encode() for i in range(n)]
    ROWS[n] = {"id": id(rows), "size": sys.getsizeof(rows) + sum(map(sys.getsizeof, rows))}
    fut = EVENT
    await fut.wait()

async def handler(n):
    data = {"n": n}
    await fetch(n)

async def main():
    global EVENT
    EVENT = trio.Event()
    async with trio.open_nursery() as nursery:
        for n in (10, 300):
            nursery.start_soon(handler, n, name="req-%d" % n)
        for _ in range(5):
            await trio.sleep(0)
        truth = {"tasks": {}, "rows": ROWS}
        for t in nursery.child_tasks:
            names, lines = chain(t)
            truth["tasks"][t.name] = {"chain": names, "lines": lines, "waits": None}
        sys.stdout.write("truth " + json.dumps(truth) + "\n")
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        while True:
            line = await trio.to_thread.run_sync(sys.stdin.readline)
            if not line or line.strip() == "exit":
                break
            if line.strip() == "ping":
                sys.stdout.write("pong\n")
                sys.stdout.flush()
        nursery.cancel_scope.cancel()

trio.run(main)
"""


def check(cond, tag, detail, fails, result=None):
    if cond:
        common.log("PASS %s: %s" % (tag, detail))
    else:
        fails.append("%s: %s%s" % (tag, detail, "\n" + result.stderr_excerpt() if result else ""))
    return cond


def tasks_doc(tool, args):
    """The result of `--tasks --json ARGS` and its document (None if no JSON)."""
    r = common.run_tool(tool, ["--tasks", "--json"] + args)
    try:
        return r, json.loads(r.stdout.decode("utf-8"))
    except ValueError:
        return r, None


def check_doc(doc, truth, tag, fails):
    """names, chains, awaiting and locals of a --tasks document."""
    tasks = dict((t.get("name"), t) for t in (doc or {}).get("tasks", []))
    want = truth["tasks"]
    check(set(want) <= set(tasks), "names%s" % tag,
          "tool %s, target %s" % (sorted(tasks), sorted(want)), fails)
    for name, w in sorted(want.items()):
        t = tasks.get(name, {})
        got = [(c.get("function") or "?").split(".")[-1] for c in t.get("coroutines", [])]
        check(got == list(reversed(w["chain"])), "chains%s %s" % (tag, name),
              "innermost first %r, the target's await chain %r" % (got, w["chain"]), fails)
        lines = [c.get("line") for c in t.get("coroutines", [])]
        check(lines == list(reversed(w["lines"])), "lines%s %s" % (tag, name),
              "innermost first %r, the target's f_lineno %r" % (lines, w["lines"]), fails)
        if w["waits"] is not None:
            aw = (t.get("awaiting") or {}).get("address")
            check(aw == "0x%x" % w["waits"], "awaiting%s %s" % (tag, name),
                  "%s (%s), _fut_waiter at 0x%x" % (aw, (t.get("awaiting") or {}).get("kind"),
                                                   w["waits"]), fails)
    for n, r in sorted(truth["rows"].items()):
        t = tasks.get("req-%s" % n, {})
        fetch = ([c for c in t.get("coroutines") or []
                  if (c.get("function") or "").split(".")[-1] == "fetch"] or [{}])[0]
        labels = sorted(x.get("label") for x in fetch.get("locals", []))
        rows = [x for x in fetch.get("locals", []) if x.get("label") == "local 'rows'"]
        row = rows[0] if rows else {}
        ok = (labels == ["local 'fut'", "local 'n'", "local 'rows'"] and
              row.get("address") == "0x%x" % r["id"] and row.get("len") == int(n) and
              row.get("retained") == {"objects": int(n) + 1, "size": r["size"]})
        check(ok, "locals%s req-%s" % (tag, n),
              "fetch()'s locals %r; 'rows' %r, built 0x%x holding %s bytes of %s items"
              % (labels, row, r["id"], r["size"], n), fails)


def main():
    args, tool, python = common.live_test_args(__doc__)
    if not python:
        return common.EXIT_SKIP
    fails = []
    tmp = tempfile.mkdtemp(prefix="pyheap-tasks-")
    try:
        with TruthFirst([python, "-I", "-c", TARGET], name="tasks target (%s)" % python) as t:
            truth = t.truth
            r, doc = tasks_doc(tool, [str(t.pid)])
            check(r.rc == 0 and doc is not None, "json", r.describe(), fails, r)
            check_doc(doc, truth, "", fails)

            r = common.run_tool(tool, ["--tasks", "--all", str(t.pid)])
            text = r.stdout.decode("utf-8", "replace")
            pats = [r"^task 'req-300' at 0x[0-9a-f]+: retained \d+ bytes, \d+ objects; "
                    r"awaiting _asyncio\.Future at 0x[0-9a-f]+$",
                    r"^task 'waiter' at 0x[0-9a-f]+: .*; awaiting task 'req-10' at 0x[0-9a-f]+$",
                    r"^  #0 fetch\(\) <string>:%d$" % truth["tasks"]["req-300"]["lines"][-1],
                    r"^ +local 'rows' +list +0x%x +\d+ +%d  len 300$"
                    % (truth["rows"]["300"]["id"], truth["rows"]["300"]["size"])]
            missing = [p for p in pats if not re.search(p, text, re.M)]
            check(r.rc == 0 and not missing, "text", "%s; missing %r" % (r.describe(), missing),
                  fails)
            if missing:
                common.log(text[:4000])

            snap = os.path.join(tmp, "s.pyheap")
            r = common.run_tool(tool, ["-o", snap, str(t.pid)])
            if check(r.rc == 0, "file", "-o: %s" % r.describe(), fails, r):
                r, doc = tasks_doc(tool, ["--load", snap])
                check_doc(doc, truth, " (file)", fails)
            common.check_healthy(t, fails)
        with TruthFirst([python, "-I", "-c", TRIO_TARGET],
                        name="trio target (%s)" % python) as t:
            truth = t.truth
            if "skip" in truth:
                common.log("SKIP trio: %s" % truth["skip"])
            else:
                r, doc = tasks_doc(tool, [str(t.pid)])
                check(r.rc == 0 and doc is not None, "trio json", r.describe(), fails, r)
                check_doc(doc, truth, " (trio)", fails)
                r = common.run_tool(tool, ["--tasks", "--all", str(t.pid)])
                text = r.stdout.decode("utf-8", "replace")
                pat = (r"^task 'req-300' \(trio\.lowlevel\.Task\) at 0x[0-9a-f]+: retained "
                       r"\d+ bytes, \d+ objects$")
                check(r.rc == 0 and re.search(pat, text, re.M), "trio text",
                      "%s; %r" % (r.describe(), pat), fails)
                common.check_healthy(t, fails)
    except common.TargetError as e:
        fails.append("tasks target: %s" % e)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return common.report(fails, args.python)


if __name__ == "__main__":
    sys.exit(main())
