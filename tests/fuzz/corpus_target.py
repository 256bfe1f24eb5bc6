# SPDX-License-Identifier: MIT
"""A tiny heap with one or two objects of every kind the walker emulates, for
the fuzz corpus (tests/fuzz/make_corpus.py).  The GC is disabled first, so the
objects made here stay in generation 0, which the walker lists first: a walk
bounded with --max-objects records them before the interpreter's own.
Protocol: prints "ready", then exits at EOF on stdin."""
import gc
gc.disable()
import asyncio
import collections
import contextvars
import functools
import sys
import weakref

# First (the oldest objects, walked first): C types with emulated fields.
queue = collections.deque([1.5, "q", (2,)])


@functools.lru_cache(maxsize=4)
def cached(n):
    return [n]


for _n in range(6):
    cached(_n)
var = contextvars.ContextVar("var", default="dflt")
ctx = contextvars.Context()
ctx.run(var.set, {"in": "context"})


async def early():
    return 1


import itertools
import queue as queue_module
iterators = [iter([1, 2.5]), iter((3, "t")), iter({"k": 1}), {"v": 2}.values(),
             enumerate(["e"]), zip([1], ["z"]), map(str, [4]), itertools.cycle([5.5]),
             itertools.repeat(b"r", 2), itertools.count(2 ** 70)]
import operator
getters = [operator.itemgetter(1.25), operator.methodcaller("m", "arg")]
ahead, lagging = itertools.tee(iter([7.5, "tee", (8,)]))
next(ahead)
next(ahead)
simple = queue_module.SimpleQueue()
for _n in range(5):
    simple.put((_n, "item"))
simple.get()
loop = asyncio.new_event_loop()
waiting = loop.create_future()
done = loop.create_future()
done.set_result(["result"])
task = loop.create_task(early())


class Plain(object):
    def __init__(self, i):
        self.a = i
        self.b = "s%d" % i
        self.c = [i, i + 1]


class Slotted(object):
    __slots__ = ("x", "y", "__weakref__")

    def __init__(self):
        self.x = (1, 2.5, b"bytes")
        self.y = {"k": frozenset({1, 2})}


class Meta(type):
    pass


class WithMeta(metaclass=Meta):
    @property
    def prop(self):
        return 1

    @classmethod
    def cm(cls):
        return cls

    @staticmethod
    def sm():
        return 2


class Error(Exception):
    pass


def gen():
    local = [1, 2, 3]
    yield local


async def coro():
    return 1


async def agen():
    yield 1


def closure():
    cell = {"in": "cell"}

    def inner():
        return cell
    return inner


try:
    raise Error("boom", 42)
except Error as e:
    caught = e

plains = [Plain(i) for i in range(8)]
for p in plains[:3]:
    p.extra = bytearray(b"x" * 10)       # an instance dict that grew
slotted = Slotted()
ref = weakref.ref(slotted)
wm = WithMeta()
g = gen()
next(g)                                   # a suspended frame
co = coro()
ag = agen()
inner = closure()
bound = wm.cm
proxy = WithMeta.__dict__                 # mappingproxy
data = {
    "ints": [0, 1, -1, 2 ** 70, -(2 ** 100)],
    "floats": (1.5, float("inf")),
    "strs": ["ascii", "latin-é", "bmp-\u20ac", "astral-\U0001F600", "x" * 300],
    "set": {1, "two", (3,)},
    "nested": {"a": {"b": {"c": [None, True, False]}}},
    "methods": [len, "".join, plains[0].__init__],
}
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.read()
co.close()
sys.stdout.flush()
import os
os._exit(0)  # (the loop's pending task would complain at exit)
