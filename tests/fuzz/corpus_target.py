# SPDX-License-Identifier: MIT
"""A tiny heap with one or two objects of every kind the walker emulates, for
the fuzz corpus (tests/fuzz/make_corpus.py).  They are held by a local of the
frame that waits (a thread's frame is a root, walked breadth-first), so that a
walk bounded with --max-objects records them among the first.
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
import array
# (an array only its iterator holds: a word of a C struct, not a member)
array_iter = iter(array.array("q", [5, 6, 7]))
import operator
getters = [operator.itemgetter(1.25), operator.methodcaller("m", "arg")]
ahead, lagging = itertools.tee(iter([7.5, "tee", (8,)]))
next(ahead)
next(ahead)
combinatorics = [itertools.product([9.5], ("p", 1)), itertools.permutations([1.75, "q"], 2),
                 itertools.combinations((3.25, "c", 4), 2),
                 itertools.zip_longest([1], [2, 3], fillvalue=6.25),
                 itertools.accumulate([0.5, 1.5]), itertools.starmap(pow, [(2, 3)]),
                 itertools.compress("ab", [1, 0]), itertools.dropwhile(bool, [0.25])]
next(combinatorics[1])
next(combinatorics[4])
groups = itertools.groupby([2.25, 2.25, "g"])
group = next(groups)[1]
deque_iter = iter(collections.deque([8.25, "d"]))
odict_iter = iter(collections.OrderedDict([(4.5, "o")]).items())
import xml.etree.ElementTree as ET
tree = ET.Element("root", {"a": 12.5})
for _n in range(6):                       # past the 4 inline children
    ET.SubElement(tree, "c", {"n": float(_n)}).text = "t%d" % _n
tree[0].tail = 13.5
import io
import pickle
wire = pickle.Pickler(io.BytesIO(), protocol=4)
wire.dump([14.5, "pickled", (15,)])
import threading
local = threading.local()
local.value = [11.5, "local"]
simple = queue_module.SimpleQueue()
for _n in range(5):
    simple.put((_n, "item"))
simple.get()
view = memoryview(bytearray(b"viewed" * 3))[2:]
text = io.TextIOWrapper(io.BytesIO(b"first\nsecond\n"), encoding="utf-8")
text.readline()
import struct
packer = struct.Struct("<2hq")
import typing
tvar = typing.TypeVar("tvar")
tvar.note = [28.5, "typevar"]
# What the interpreter holds outside objects (roots of their own).
import atexit
import codecs
atexit.register(functools.partial(print, [16.5, "atexit"]), kw=17.5)
codecs.register(functools.partial(lambda held, name: None, [18.5, "codec"]))
sys.addaudithook(functools.partial(lambda held, event, args: None, [19.5, "audit"]))
sys.settrace(functools.partial(lambda held, *a: None, [20.5, "trace"]))
sys.setprofile(functools.partial(lambda held, *a: None, [21.5, "profile"]))
import os
os.register_at_fork(after_in_child=functools.partial(print, [22.5, "fork"]))
sys.set_asyncgen_hooks(firstiter=functools.partial(print, [23.5, "firstiter"]))
import ctypes
_get = ctypes.pythonapi.PyThreadState_GetDict
_get.restype = ctypes.py_object
_tdict = _get()
ctypes.pythonapi.Py_IncRef(ctypes.py_object(_tdict))  # (borrowed, released by ctypes)
_tdict["corpus"] = [24.5, "thread dict"]
import signal
signal.signal(signal.SIGUSR2, functools.partial(print, [26.5, "signal"]))
if sys.version_info >= (3, 12):
    sys.monitoring.use_tool_id(4, "corpus")
    sys.monitoring.register_callback(4, sys.monitoring.events.PY_START,
                                     functools.partial(print, [27.5, "monitoring"]))
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


def wait(held):
    # The objects above, held by this frame's local too: a thread's frame is
    # a root, so they are among the first objects a bounded walk reaches.
    try:
        raise Error([25.5, "handled"])
    except Error:                         # an exception being handled
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        sys.stdin.read()


wait([queue, cached, ctx, iterators, array_iter, getters, ahead, lagging, combinatorics, groups, group,
      deque_iter, odict_iter, local, tree, wire, simple, waiting, done, task, plains, slotted, ref, wm,
      g, co, ag, inner, bound, proxy, data, caught, var, view, text, packer, tvar])
co.close()
sys.stdout.flush()
import os
os._exit(0)  # (the loop's pending task would complain at exit)
