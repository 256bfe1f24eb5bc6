# SPDX-License-Identifier: MIT
"""Target of tests/live/value_stack.py (standard library only).

serve() iterates over a generator, source(), and waits for its next line on
stdin inside the loop: the generator is held only by serve()'s value stack
(CPython keeps the stack's depth in a register while the frame runs), and the
ITEMS Item objects only by the generator's local 'items'. serve()'s local
'kept' holds KEPT Kept objects. Prints "truth <json>" (counts from
gc.get_objects(), the thread's id, the line serve() waits at), then "ready",
then answers "ping" until "exit" or EOF.
"""

import gc
import json
import sys
import threading

ITEMS = 150
KEPT = 40


class Item(object):
    pass


class Kept(object):
    pass


def source(n):
    items = [Item() for _ in range(n)]
    for i in range(len(items)):
        yield i


def serve():
    kept = [Kept() for _ in range(KEPT)]
    for first in source(ITEMS):
        truth = {"items": sum(1 for o in gc.get_objects() if type(o) is Item),
                 "kept": sum(1 for o in gc.get_objects() if type(o) is Kept),
                 "thread": "0x%x" % threading.get_ident(),
                 "version": list(sys.version_info[:2]),
                 "line": [i for i, text in enumerate(open(__file__), 1)
                          if text.strip() == "line = sys.stdin.readline()"][0]}
        del first
        sys.stdout.write("truth " + json.dumps(truth) + "\nready\n")
        sys.stdout.flush()
        while True:
            line = sys.stdin.readline()
            if not line or line.strip() == "exit":
                break
            if line.strip() == "ping":
                sys.stdout.write("pong\n")
                sys.stdout.flush()
        break
    return kept


serve()
