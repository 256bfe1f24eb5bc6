# SPDX-License-Identifier: MIT
"""Live-test target for pyheap-attach.

Usage:  pythonX.Y heap_target.py TRUTH_JSON_PATH

Builds a known heap in the globals of __main__, computes the ground truth of
the heap partition in-process (mirroring the rules the C tool implements),
writes it as JSON to TRUTH_JSON_PATH, prints "ready" on stdout and then idles:
  stdin "ping"         -> stdout "pong"
  stdin "exit" or EOF  -> exit 0
  stdin "truth PATH"   -> recompute the truth into PATH, reply "done"
                          (diagnostics: drift of the heap since "ready")

Runs on CPython 3.8 - 3.13 (x86-64 Linux, GIL builds).  Standard library only.

Ground truth rules (keep in sync with the tool; see tests/live/SIZES.md and
/work/shared/cpython-notes.md):

* Object set: gc.get_objects() closed under R(o), where R(o) is
  gc.get_referents(o) plus stored fields read with ctypes (never through
  attributes that could create objects):
    - type objects: tp_dict, tp_bases, tp_mro, tp_base, tp_cache (NULL
      skipped); heap types additionally tp_subclasses, ht_name, ht_qualname,
      ht_slots;
    - code objects: the stored object fields listed in CODE_FIELDS below.
  The truth computation's own objects are excluded.
* Kind: heap type -> "<__module__>.<ht_qualname>" ("builtins" -> qualname
  only); static type -> tp_name.  Objects of exact type dict are
  "dict of <kind of owner>" when they are the __dict__ of an instance of a
  heap type, "dict of module" when they are a module's md_dict, otherwise
  "dict (no owner)".
* Size: sys.getsizeof(o), plus values_storage_size(o) for 3.11+ instances
  whose attributes live in a values array / inline values without a dict.
"""

# Everything the truth computation needs is imported before the heap is
# built, so these modules are part of the measured heap.
import array
import collections
import functools
import io
import itertools
import operator
import ctypes
import gc
import json
import os
import pickle
import signal
import struct
import sys
import threading
import time
import types
import typing
import xml.etree.ElementTree as ET

V = sys.version_info[:2]

# 3.12.1 starts with ~375 tuples in the permanent generation (gc.freeze()
# state) although nobody called gc.freeze().  gc.get_objects() does not list
# the permanent generation, so move them back into the collected generations:
# afterwards gc.get_objects() and a walk of all generation lists agree.
UNFROZEN = 0
if hasattr(gc, "get_freeze_count") and gc.get_freeze_count():
    UNFROZEN = gc.get_freeze_count()
    gc.unfreeze()

if V < (3, 8):
    # 3.6/3.7 offsets are included below, but the target is only supported
    # (and only verified) on 3.8+.
    sys.stderr.write("heap_target: warning: untested on %d.%d\n" % V)

PY_VERSION = "%d.%d.%d" % tuple(sys.version_info[:3])

# ---------------------------------------------------------------------------
# Layout constants (cpython-notes.md, Appendix A; x86-64)
# ---------------------------------------------------------------------------

TP_NAME = 24
TP_FLAGS = 168
TP_BASE = 256
TP_DICT = 264
TP_BASES = 336
TP_MRO = 344
TP_CACHE = 352
TP_SUBCLASSES = 360

F_INLINE_VALUES = 1 << 2     # 3.13+
F_MANAGED_DICT = 1 << 4      # 3.11+
F_HEAPTYPE = 1 << 9
F_DICT_SUBCLASS = 1 << 29
F_TYPE_SUBCLASS = 1 << 31

# (ht_name, ht_slots, ht_qualname, ht_cached_keys)
_HT = {
    (3, 6): (832, 840, 848, 856),
    (3, 7): (832, 840, 848, 856),
    (3, 8): (848, 856, 864, 872),
    (3, 9): (840, 848, 856, 864),
    (3, 10): (848, 856, 864, 872),
    (3, 11): (848, 856, 864, 872),
    (3, 12): (856, 864, 872, 880),
    (3, 13): (856, 864, 872, 880),
}
if V not in _HT:
    sys.stderr.write("heap_target: unsupported Python %s\n" % PY_VERSION)
    sys.exit(2)
HT_NAME, HT_SLOTS, HT_QUALNAME, HT_CACHED_KEYS = _HT[V]

# Stored object fields of PyCodeObject that R(code) follows, name -> offset.
if V >= (3, 11):
    CODE_FIELDS = (("co_consts", 24), ("co_names", 32),
                   ("co_exceptiontable", 40), ("co_localsplusnames", 96),
                   ("co_localspluskinds", 104), ("co_filename", 112),
                   ("co_name", 120), ("co_qualname", 128),
                   ("co_linetable", 136))
elif V >= (3, 8):
    CODE_FIELDS = (("co_code", 48), ("co_consts", 56), ("co_names", 64),
                   ("co_varnames", 72), ("co_freevars", 80),
                   ("co_cellvars", 88), ("co_filename", 104),
                   ("co_name", 112),
                   ("co_linetable" if V == (3, 10) else "co_lnotab", 120))
else:
    CODE_FIELDS = (("co_code", 40), ("co_consts", 48), ("co_names", 56),
                   ("co_varnames", 64), ("co_freevars", 72),
                   ("co_cellvars", 80), ("co_filename", 96),
                   ("co_name", 104), ("co_lnotab", 112))
CODE_OFFSETS = tuple(off for _, off in CODE_FIELDS)

TYPE_OFFSETS = (TP_DICT, TP_BASES, TP_MRO, TP_BASE, TP_CACHE)
HEAPTYPE_OFFSETS = (TP_SUBCLASSES, HT_NAME, HT_QUALNAME, HT_SLOTS)

MODULE_MD_DICT = 16
DK_USABLE = 16 if V >= (3, 11) else 24
DK_NENTRIES = 24 if V >= (3, 11) else 32

_vp = ctypes.c_void_p.from_address
_pyo = ctypes.py_object.from_address
_u8 = ctypes.c_uint8.from_address
_ssz = ctypes.c_ssize_t.from_address
_cstr = ctypes.c_char_p.from_address


def values_storage_size(o, t):
    """Bytes of attribute storage of instance `o` (type `t`, 3.11+) that
    sys.getsizeof(o) does not count because no dict object holds them;
    0 when there is none.  Formulas from tests/live/SIZES.md (shared with
    the tool):
      3.11: V = *(obj-32) non-NULL and no dict at *(obj-24).
      3.12: w = *(obj-24) with w & 1; V = w + 1.
        3.11/3.12: P = *(uint8_t*)(V-1) (prefix, = roundup8(n+2));
        n = dk_nentries + dk_usable of ht_cached_keys, clamped to
        [P-9, P-2]; extra = P + 8*n   (dictobject.c new_values()).
      3.13: type has Py_TPFLAGS_INLINE_VALUES and the managed dict *(obj-24)
        is NULL; C = capacity byte at obj + tp_basicsize;
        extra = 8 + 8*C + roundup8(C)   (_PyInlineValuesSize()).
    n is the usable size of the shared keys *now*; the values array was
    sized with the value at allocation time.  The target drains each test
    class's dk_usable to 1 before keeping instances, so both agree for them.
    """
    a = id(o)
    if V >= (3, 13):
        if not (t.__flags__ & F_INLINE_VALUES) or _vp(a - 24).value:
            return 0
        cap = _u8(a + t.__basicsize__).value
        return 8 + 8 * cap + ((cap + 7) & ~7)
    if V == (3, 12):
        w = _vp(a - 24).value
        if not w or not (w & 1):
            return 0
        values = w + 1
    else:  # 3.11
        values = _vp(a - 32).value
        if not values or _vp(a - 24).value:
            return 0
    prefix = _u8(values - 1).value
    keys = _vp(id(t) + HT_CACHED_KEYS).value
    n = _ssz(keys + DK_NENTRIES).value + _ssz(keys + DK_USABLE).value if keys else 0
    n = min(max(n, prefix - 9), prefix - 2)
    return prefix + 8 * n


# ---------------------------------------------------------------------------
# The known heap
# ---------------------------------------------------------------------------

N_PLAIN = 1000
N_SLOTTED = 700
N_MATERIALISED = 300
N_NODES = 50
N_DRAIN = 64      # throw-away instances per class (see values_storage_size)


class Plain:
    def __init__(self, i):
        self.num = i
        self.label = "plain-%d" % i
        if i % 3 == 0:
            self.extra = i * 0.5
        elif i % 3 == 1:
            self.extra = b"plain-bytes-%d" % i
        else:
            self.extra = 10 ** 25 + i


class Slotted:
    __slots__ = ("a", "b", "c")

    def __init__(self, i):
        self.a = i
        self.b = "slot-%d" % i
        self.c = float(i)


class Materialised:
    def __init__(self, i):
        self.x = i
        self.y = "mat-%d" % i
        self.z = (i, i + 1)
        # A list value keeps the materialised dict GC-tracked.  On 3.13.0
        # subtype_traverse visits the inline values instead of the managed
        # dict, so an untracked materialised dict would not be in the object
        # set at all (neither in gc.get_objects() nor a referent).
        self.w = [i]


class Node:
    def __init__(self, i):
        self.idx = i
        self.next = None
        self.payload = "node-%d" % i


class ThreadLocalThing:
    def __init__(self, tag):
        self.tag = tag
        self.data = [tag] * 3


def _drain(cls, make):
    # Creating an instance decrements the shared keys' dk_usable (3.11+)
    # until it reaches 1, so the first instances of a class get larger values
    # arrays than later ones.  Burn through that phase with throw-away
    # instances so every kept instance has the same, predictable storage.
    junk = [make(cls, i) for i in range(N_DRAIN)]
    del junk


_drain(Plain, lambda c, i: c(i))
_drain(Materialised, lambda c, i: c(i))
_drain(Node, lambda c, i: c(i))
_drain(ThreadLocalThing, lambda c, i: c("drain-%d" % i))

PLAINS = [Plain(i) for i in range(N_PLAIN)]
SLOTTED = [Slotted(i) for i in range(N_SLOTTED)]
MATERIALISED = [Materialised(i) for i in range(N_MATERIALISED)]
for _o in MATERIALISED:
    _o.__dict__          # materialise a real dict object (3.11+)
del _o

NODES = [Node(i) for i in range(N_NODES)]
for _i in range(N_NODES):
    NODES[_i].next = NODES[(_i + 1) % N_NODES]     # a ring: reference cycle
del _i

STR_KEY_DICTS = [{"k%d" % j: j * i for j in range(6)} for i in range(300)]
INT_KEY_DICTS = [{j + i: "v%d" % j for j in range(4)} for i in range(200)]
MIXED_DICTS = [{"p": PLAINS[i], "s": SLOTTED[i]} for i in range(150)]
LISTS = [[i, "l%d" % i, float(i)] for i in range(400)]
NESTED_LISTS = [[LISTS[i], LISTS[i + 1]] for i in range(0, 400, 2)]
TUPLES = [(i, "t%d" % i, i * 1.5) for i in range(400)]
OBJ_TUPLES = [(PLAINS[i], NODES[i % N_NODES]) for i in range(200)]
SETS = [set(range(i, i + 5)) for i in range(200)]
FROZENSETS = [frozenset(("f%d" % i, i, -i)) for i in range(200)]
ASCII_STRS = ["ascii-string-%05d" % i for i in range(1000)]
LATIN1_STRS = ["caf\u00e9-%d" % i for i in range(200)]          # kind 1, non-ASCII
UCS2_STRS = ["\u20ac\u0416-%d" % i for i in range(200)]         # kind 2
UCS4_STRS = ["\U0001F600-%d" % i for i in range(200)]           # kind 4
BIG_INTS = [10 ** 30 + i for i in range(500)] + [-(2 ** 100) - i for i in range(100)]
# Held only by deques (and itertools.repeat below): complex numbers are not tracked by the GC (in no GC
# list) and nothing else here makes any, so only following a deque's blocks
# finds them. A queue consumed from the left (its first block partly empty),
# and a subclass of deque.
class Backlog(collections.deque):
    pass


QUEUE = collections.deque(complex(i, 1) for i in range(400))
for _i in range(77):
    QUEUE.popleft()
QUEUE.appendleft(complex(-1, 1))
BACKLOG = Backlog(complex(1000 + _i, 2) for _i in range(130))
del _i
# ... and by C objects the walker emulates by their fields (itertools.repeat's
# element, operator.itemgetter's item, a lagging tee's buffered values).
REPEATS = [itertools.repeat(complex(2000 + _i, 3), 2) for _i in range(50)]
GETTERS = [operator.itemgetter(complex(3000 + _i, 4)) for _i in range(20)]
# A tee whose other copy ran ahead: the copy left keeps the 70 values it has
# not read yet, 57 per buffer block.
_ahead, LAGGING = itertools.tee(complex(4000 + _i, 5) for _i in range(70))
for _v in _ahead:
    pass
del _ahead, _v

# ... and by the other itertools, collections' iterators and threading.local
# (each line: how many complex numbers it holds). Where a version lacks the
# type (pairwise before 3.10, batched before 3.12) a list holds as many.
def _cx(tag, n):
    return [complex(5000 + 100 * tag + _j, 6) for _j in range(n)]


def _started(it):
    next(it)
    return it


ITERTOOLS_HOLDERS = [
    itertools.product(_cx(0, 3), _cx(1, 2)),                       # 5
    itertools.combinations(tuple(_cx(2, 4)), 2),                   # 4
    itertools.combinations_with_replacement(_cx(3, 3), 2),         # 3
    _started(itertools.permutations(_cx(4, 3), 2)),                # 3
    _started(itertools.groupby(_cx(5, 4))),                        # 4
    _started(itertools.accumulate(_cx(6, 3))),                     # 3 + the total
    itertools.zip_longest(_cx(7, 2), _cx(8, 3), fillvalue=complex(-2, 6)),  # 6
    itertools.compress(_cx(9, 3), [1, 0, 1]),                      # 3
    itertools.starmap(complex, [(_c,) for _c in _cx(10, 2)]),      # 2
    itertools.takewhile(bool, _cx(11, 2)),                         # 2
    itertools.dropwhile(bool, _cx(12, 2)),                         # 2
    itertools.filterfalse(bool, _cx(13, 2)),                       # 2
    _started(getattr(itertools, "pairwise", iter)(_cx(14, 3))),    # 3
    getattr(itertools, "batched", lambda xs, n: iter(xs))(_cx(15, 4), 2),  # 4
    _started(iter(collections.deque(_cx(16, 3)))),                 # 3
    reversed(collections.deque(_cx(17, 3))),                       # 3
    # an OrderedDict iterator keeps the next key; the dict its keys and values
    _started(iter(collections.OrderedDict(zip(_cx(18, 3), _cx(19, 3))).items())),  # 6
]
# a grouper (the current group) alone: it holds its groupby and the key
_GROUPS = itertools.groupby(_cx(20, 2))
GROUPER = next(_GROUPS)[1]                                         # 2
del _GROUPS
# threading.local: each thread's attributes are in a dict only the local
# holds (the main thread's here; the worker thread sets none)
TLS = threading.local()
TLS.cached = _cx(21, 3)                                            # 3

# An XML tree (the C ElementTree): its elements hold their attributes (dicts
# the GC does not track when their values are atomic), text and tail, and
# their children, in C fields. 60 + 20 + 10 complex numbers held only so.
XML_ROOT = ET.Element("root")
for _i in range(60):
    _child = ET.SubElement(XML_ROOT, "item", {"id": complex(6000 + _i, 7)})
    if _i < 20:
        _child.text = complex(7000 + _i, 8)
    if _i < 10:
        _child.tail = complex(8000 + _i, 9)
del _i, _child

# Picklers that have pickled: __sizeof__ adds the memo table and the output
# buffer. (What they pickled is held by their memo, and also here: before
# 3.11.x gc.get_referents() leaves the memo out, and the truth follows it;
# lists of str and int make nothing that only the memo holds.)
PICKLED = [["p%d" % _i, 10 ** 6 + _i] for _i in range(30)]
PICKLERS = []
for _i in range(6):
    _p = pickle.Pickler(io.BytesIO(), protocol=4)
    for _x in PICKLED[_i * 5:_i * 5 + 5]:
        _p.dump(_x)
    PICKLERS.append(_p)
del _i, _p, _x

# Views over receive buffers that nothing else holds: each bytearray is held
# only by its view's managed buffer (a slice shares the one it was cut from).
VIEWS = [memoryview(bytearray(b"v" * (100 + _i)))[2:] for _i in range(12)]

# A text stream read from: its decoder, and the text it decoded ahead.
TEXT_STREAM = io.TextIOWrapper(io.BytesIO(b"line\n" * 2000), encoding="utf-8")
TEXT_STREAM.readline()

# ctypes types: their storage info (a StgDict before 3.13, in the type
# since) has a format string, a shape and ffi elements their size counts.
class CPoint(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_double)]


CGRID = ctypes.c_int * 3 * 4

# Compiled struct formats: __sizeof__ adds their array of format codes.
STRUCTS = [struct.Struct(_f) for _f in ("<i", "<2hq", "!I3s4x?", ">" + "bhilq" * 10)]

# Type variables with an attribute of their own: instances of a Python class
# before 3.12, of a C type with a managed dict since ("dict of typing.TypeVar"
# through the C type's traverse).
TYPEVARS = [typing.TypeVar("TV%d" % _i) for _i in range(8)]
for _tv in TYPEVARS:
    _tv.note = "n"
del _tv

# OrderedDicts (their __sizeof__ adds a fast-lookup array and a node per
# item), and a hand-written LRU cache on one, as services write them.
ODICTS = [collections.OrderedDict(("k%d" % _j, _j) for _j in range(_i)) for _i in range(30)]


class LRUCache(collections.OrderedDict):
    def put(self, key, value, limit=1000):
        self[key] = value
        self.move_to_end(key)
        if len(self) > limit:
            self.popitem(last=False)


LRU = LRUCache()
for _i in range(150):
    LRU.put(_i % 120, "v%d" % _i)

# lru_caches: a bounded one with 120 entries (each a functools._lru_list_elem,
# a type 3.8/3.9 never ready, held by the cache's dict and holding the key and
# result) and an unbounded one (the cache dict holds keys and results). The
# ints are held by nothing else.
@functools.lru_cache(maxsize=256)
def cached_square(n):
    return n * n


@functools.lru_cache(maxsize=None)
def cached_cube(n):
    return n * n * n


for _i in range(120):
    cached_square(10 ** 6 + _i)
    cached_cube(2 * 10 ** 6 + _i)
del _i

# io objects and arrays whose sys.getsizeof counts their buffer: BytesIO written to (its
# own bytes buffer) and one sharing its initial bytes; a buffered reader
# that has read (its buffer allocated).
BYTESIOS = []
for _i in range(40):
    _b = io.BytesIO()
    _b.write(b"payload-%d-" % _i * (10 + _i))
    BYTESIOS.append(_b)
SHARED_BYTES = b"shared-initial-bytes" * 20
BYTESIOS.append(io.BytesIO(SHARED_BYTES))
ARRAYS = [array.array("d", range(100 + 50 * _i)) for _i in range(20)]
ARRAYS += [array.array("b", b"x" * 3000), array.array("I", range(7))]
# Iterators over arrays that only they hold: array's iterator declares no
# member; its struct holds the array (what its tp_traverse visits).
ARRAY_ITERS = [iter(array.array("q", range(200 + _i))) for _i in range(6)]
READER = open(__file__, "rb")
READER.read(1)
del _i, _b

FLOATS = [i + 0.25 for i in range(500)]
BYTES = [b"bytes-object-%05d" % i for i in range(300)]
BYTEARRAYS = [bytearray(b"ba-%d" % i) for i in range(50)]

# ThreadLocalThing instances: one in the worker's locals (and here), two more
# created by the main thread.
THREAD_THINGS = [ThreadLocalThing("main-0"), ThreadLocalThing("main-1")]


# A signal handler holding objects nothing else holds: a root through the
# handler table (before 3.12 signalmodule.c's Handlers, which a stripped
# interpreter without its debug file names by no symbol).
class SignalHolder:
    def __init__(self):
        self.payload = ["signal-payload-%d" % i for i in range(30)]

    def on_signal(self, signum, frame):
        pass


signal.signal(signal.SIGUSR2, SignalHolder().on_signal)


# ---------------------------------------------------------------------------
# Second thread, blocked on an Event
# ---------------------------------------------------------------------------

STARTED = threading.Event()
STOP = threading.Event()


def worker():
    local_list = ["worker-local-%d" % i for i in range(20)]
    thing = ThreadLocalThing("worker")
    THREAD_THINGS.append(thing)
    STARTED.set()
    STOP.wait()
    return len(local_list), thing


WORKER = threading.Thread(target=worker, name="heap-target-worker", daemon=True)
WORKER.start()


def _thread_blocked_forever(tid):
    # True when the thread sits in a futex wait without a timeout (the waiter
    # lock of Condition.wait), as opposed to waiting for the GIL (timed wait).
    try:
        with open("/proc/self/task/%d/syscall" % tid, "rb") as f:
            fields = f.read().split()
    except OSError:
        return False
    return len(fields) >= 5 and fields[0] == b"202" and int(fields[4], 16) == 0


def wait_worker_blocked():
    if not STARTED.wait(30):
        raise RuntimeError("worker thread did not start")
    cond = STOP._cond
    deadline = time.monotonic() + 10
    # 1. The worker has appended its waiter lock and released the condition.
    while True:
        with cond:
            if cond._waiters:
                break
        if time.monotonic() > deadline:
            raise RuntimeError("worker never reached Event.wait()")
        time.sleep(0.001)
    # 2. It is inside waiter.acquire() (bounded poll; GIL is released by I/O).
    tid = getattr(WORKER, "native_id", None)
    while tid is not None and not _thread_blocked_forever(tid):
        if time.monotonic() > deadline:
            sys.stderr.write("heap_target: warning: worker not seen blocked\n")
            break
        time.sleep(0.001)


# ---------------------------------------------------------------------------
# Self-checks of the layout constants (before the heap is measured)
# ---------------------------------------------------------------------------

def _ob_type_addr(addr):
    return _vp(addr + 8).value


def self_check():
    errors = []

    def expect(what, got, want):
        if got != want:
            errors.append("%s: got %r want %r" % (what, got, want))

    t = Plain
    expect("tp_flags", _vp(id(t) + TP_FLAGS).value & 0xffffffff,
           t.__flags__ & 0xffffffff)
    expect("tp_base", _vp(id(t) + TP_BASE).value, id(object))
    expect("tp_bases", _vp(id(t) + TP_BASES).value, id(t.__bases__))
    expect("tp_mro", _vp(id(t) + TP_MRO).value, id(t.__mro__))
    expect("tp_dict type", _ob_type_addr(_vp(id(t) + TP_DICT).value), id(dict))
    expect("tp_dict content", "__init__" in _pyo(id(t) + TP_DICT).value, True)
    expect("ht_name", _vp(id(t) + HT_NAME).value, id(t.__name__))
    expect("ht_qualname", _vp(id(t) + HT_QUALNAME).value, id(t.__qualname__))
    slots = _vp(id(Slotted) + HT_SLOTS).value
    expect("ht_slots type", slots and _ob_type_addr(slots), id(tuple))
    if slots:
        expect("ht_slots", sorted(_pyo(id(Slotted) + HT_SLOTS).value),
               ["a", "b", "c"])
    expect("tp_name", _cstr(id(int) + TP_NAME).value, b"int")
    expect("md_dict", _vp(id(sys) + MODULE_MD_DICT).value, id(sys.__dict__))
    keys = _vp(id(t) + HT_CACHED_KEYS).value
    if V >= (3, 11):
        expect("cached keys", bool(keys), True)
        if keys:
            expect("dk_nentries", _ssz(keys + DK_NENTRIES).value, 3)
            expect("dk_usable (drained)", _ssz(keys + DK_USABLE).value, 1)

    co = Plain.__init__.__code__
    for name, off in CODE_FIELDS:
        p = _vp(id(co) + off).value
        if name in ("co_localsplusnames", "co_localspluskinds"):
            want = id(tuple) if name.endswith("names") else id(bytes)
            expect(name, p and _ob_type_addr(p), want)
            if name.endswith("names") and p:
                expect(name + " content", _pyo(id(co) + off).value[:2],
                       ("self", "i"))
        else:
            expect(name, p, id(getattr(co, name)))

    # values storage (3.11+): storage must be consistent with the prefix byte
    if V in ((3, 11), (3, 12)):
        o = PLAINS[-1]
        w = _vp(id(o) - (32 if V == (3, 11) else 24)).value
        if V == (3, 12):
            expect("3.12 tagged values", bool(w and (w & 1)), True)
            w = w + 1 if w else w
        if w:
            expect("values prefix", _u8(w - 1).value, ((3 + 1 + 2) + 7) & ~7)
    if V >= (3, 13):
        o = PLAINS[-1]
        expect("INLINE_VALUES flag", bool(Plain.__flags__ & F_INLINE_VALUES), True)
        expect("inline capacity", _u8(id(o) + Plain.__basicsize__).value, 4)
        expect("inline valid", _u8(id(o) + Plain.__basicsize__ + 3).value, 1)
        m = MATERIALISED[0]
        expect("materialised dict ptr", _vp(id(m) - 24).value, id(m.__dict__))
    if V >= (3, 11):
        m = MATERIALISED[0]
        d = _vp(id(m) - 24).value
        expect("materialised managed dict", d and _ob_type_addr(d), id(dict))
        expect("materialised storage", values_storage_size(m, Materialised), 0)
        # 3 attributes + 1 usable slot left after draining: n = C = 4
        expect("Plain storage", values_storage_size(PLAINS[0], Plain),
               48 if V >= (3, 13) else 40)
    else:
        expect("dictoffset", Plain.__dictoffset__ > 0, True)
    if hasattr(gc, "get_freeze_count"):
        expect("gc.get_freeze_count()", gc.get_freeze_count(), 0)
    expect("gc enabled before truth", gc.isenabled(), True)

    if errors:
        for e in errors:
            sys.stderr.write("heap_target: self-check failed: %s\n" % e)
        sys.stderr.flush()
        os._exit(3)


# ---------------------------------------------------------------------------
# Ground truth
# ---------------------------------------------------------------------------

def _type_info(t):
    """(kind, flags, is_heap, is_module_type, py_sizeof) for type t."""
    fl = t.__flags__
    heap = bool(fl & F_HEAPTYPE)
    if heap:
        d = _pyo(id(t) + TP_DICT).value if _vp(id(t) + TP_DICT).value else None
        mod = d.get("__module__") if d is not None else None
        qual = _pyo(id(t) + HT_QUALNAME).value
        if type(mod) is not str or mod == "builtins":
            kind = qual
        else:
            kind = mod + "." + qual
    else:
        kind = _cstr(id(t) + TP_NAME).value.decode("utf-8", "replace")
    is_module = types.ModuleType in t.__mro__
    py_sizeof = type(getattr(t, "__sizeof__", None)) is types.FunctionType
    return (kind, fl, heap, is_module, py_sizeof)


def compute_truth(out_path, report=False):
    """Compute the ground truth and write it to out_path.

    Creates no reference cycles (GC is disabled) and frees everything it
    created before returning.  Returns (objects, size, seconds)."""
    t0 = time.monotonic()
    objs = gc.get_objects()
    seen = {}
    excl = {id(objs), id(seen)}
    if V <= (3, 10):
        excl.add(id(sys._getframe()))   # frames are GC objects before 3.11
    for o in objs:
        i = id(o)
        if i not in excl:
            seen[i] = o
    if V <= (3, 10):
        # Every thread's frames are roots (the tool starts from them too);
        # before 3.11 they are objects, untracked while they run.
        frames = sys._current_frames()
        excl.add(id(frames))
        for f in frames.values():
            while f is not None:
                if id(f) not in excl:
                    seen[id(f)] = f
                f = f.f_back
        frames = f = None
    stack = objs                      # reuse the list as the work stack
    stack[:] = seen.values()
    push = stack.append
    pop = stack.pop
    referents = gc.get_referents
    CodeType = types.CodeType
    code_offsets = CODE_OFFSETS
    type_offsets = TYPE_OFFSETS
    heap_offsets = HEAPTYPE_OFFSETS
    vp = _vp
    pyo = _pyo
    inline_values = V >= (3, 13)

    while stack:
        o = pop()
        for r in referents(o):
            i = id(r)
            if i not in seen and i not in excl:
                seen[i] = r
                push(r)
        t = type(o)
        tf = t.__flags__
        if tf & F_DICT_SUBCLASS:
            # The keys of a dict are real memory it holds (dict_traverse
            # skips str keys): the tool follows them too.
            for r in dict.keys(o):
                i = id(r)
                if i not in seen and i not in excl:
                    seen[i] = r
                    push(r)
            continue
        if inline_values and tf & F_INLINE_VALUES:
            # 3.13: an instance whose inline values are valid visits them,
            # not its managed dict; the tool follows that dict as well.
            p = vp(id(o) - 24).value
            if p and p not in seen and p not in excl:
                r = pyo(id(o) - 24).value
                seen[p] = r
                push(r)
            continue
        if t is CodeType:
            extra = code_offsets
        elif t.__flags__ & F_TYPE_SUBCLASS:
            extra = type_offsets
            if o.__flags__ & F_HEAPTYPE:
                a = id(o)
                for off in heap_offsets:
                    p = vp(a + off).value
                    if p and p not in seen and p not in excl:
                        r = pyo(a + off).value
                        seen[p] = r
                        push(r)
        else:
            continue
        a = id(o)
        for off in extra:
            p = vp(a + off).value
            if p and p not in seen and p not in excl:
                r = pyo(a + off).value
                seen[p] = r
                push(r)
    stack = push = pop = objs = o = r = t = None

    # Type information and dict owners.
    tinfo = {}
    owners = {}          # dict address -> kind of the owning instance
    module_dicts = set() # dict addresses that are a module's md_dict
    managed = V >= (3, 11)
    for a, x in seen.items():
        t = type(x)
        info = tinfo.get(id(t))
        if info is None:
            info = tinfo[id(t)] = _type_info(t)
        if info[2] and not (t.__flags__ & F_TYPE_SUBCLASS):  # heap type instance, not a class
            fl = info[1]
            if managed and fl & F_MANAGED_DICT:
                p = vp(a - 24).value
                if V == (3, 12) and p and p & 1:
                    p = None                          # tagged values pointer
            else:
                off = t.__dictoffset__
                if off < 0:
                    n = _ssz(a + 16).value
                    if n < 0:
                        n = -n
                    off += (t.__basicsize__ + n * t.__itemsize__ + 7) & ~7
                p = vp(a + off).value if off else None
            if p and p in seen and type(seen[p]) is dict and p not in owners:
                owners[p] = info[0]
        if info[3]:                                   # module
            p = vp(a + MODULE_MD_DICT).value
            if p:
                module_dicts.add(p)

    # Partition.
    kinds = {}
    dict_of = {}
    py_sizeof_kinds = {}
    getsizeof = sys.getsizeof
    total = 0
    storage_objects = 0
    for a, x in seen.items():
        t = type(x)
        info = tinfo[id(t)]
        if t is dict:
            ok = owners.get(a)
            if ok is not None:
                k = dict_of.get(ok)
                if k is None:
                    k = dict_of[ok] = "dict of " + ok
            elif a in module_dicts:
                k = "dict of module"
            else:
                k = "dict (no owner)"
        else:
            k = info[0]
        s = getsizeof(x, 0)
        if info[4]:
            py_sizeof_kinds[k] = py_sizeof_kinds.get(k, 0) + 1
        if managed and info[2] and info[1] & F_MANAGED_DICT:
            extra_size = values_storage_size(x, t)
            if extra_size:
                storage_objects += 1
                s += extra_size
        total += s
        e = kinds.get(k)
        if e is None:
            kinds[k] = [1, s]
        else:
            e[0] += 1
            e[1] += s
    n_objects = len(seen)
    x = t = info = e = None

    result = {
        "python": PY_VERSION,
        "objects": n_objects,
        "size": total,
        "kinds": kinds,
        "notes": {
            "instances_with_values_storage": storage_objects,
            "kinds_with_python_level_sizeof": py_sizeof_kinds,
            "truth_seconds": round(time.monotonic() - t0, 3),
            "unfrozen_at_startup": UNFROZEN,
        },
    }
    # os.open/os.write: no io/codecs objects (an io.TextIOWrapper would
    # create an encodings.utf_8.IncrementalEncoder instance, which changes the
    # shared keys of that class after the snapshot).
    data = json.dumps(result).encode("utf-8")
    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)
    if report:
        os.write(2, ("heap_target: Python %s pid %d: %d objects, %d bytes, "
                     "%d kinds, truth in %.2fs\n"
                     % (PY_VERSION, os.getpid(), n_objects, total, len(kinds),
                        time.monotonic() - t0)).encode())


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: heap_target.py TRUTH_JSON_PATH\n")
        sys.exit(2)
    wait_worker_blocked()
    self_check()
    gc.collect()
    gc.disable()
    # Dry run: exercises every code path once (ctypes, json, os, ...) so
    # lazily created caches already exist when the real snapshot is taken.
    compute_truth(os.devnull)
    gc.collect()                   # collects nothing new if no cycles leaked
    compute_truth(sys.argv[1], report=True)
    # From here on only raw fd I/O: no io.TextIOWrapper state changes, so the
    # heap the tool sees is the snapshot plus a few loop locals.
    os.write(1, b"ready\n")
    buf = b""
    while True:
        chunk = os.read(0, 4096)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            line = line.strip()
            if line == b"ping":
                os.write(1, b"pong\n")
            elif line == b"exit":
                buf = None
                break
            elif line.startswith(b"truth "):
                # Diagnostics: recompute the truth now (e.g. after the tool
                # ran) to measure how much the heap drifted since "ready".
                compute_truth(os.fsdecode(line[6:]))
                os.write(1, b"done\n")
        if buf is None:
            break
    STOP.set()
    WORKER.join(5)
    sys.exit(0)


main()
