# SPDX-License-Identifier: MIT
"""Live-test target for `pyheap-attach --referrers`: the classic leak stories.

Usage:  pythonX.Y leak_stories.py TRUTH_JSON_PATH

Builds one leak per story (each with its own class, so that every story can be
selected by its last component), computes the ground truth in-process with
gc.get_referrers() and the known paths, writes it as JSON to TRUTH_JSON_PATH,
prints "ready" on stdout and then idles (raw fd I/O only):
  stdin "ping"         -> stdout "pong"
  stdin "exit" or EOF  -> exit 0
  stdin "truth PATH"   -> recompute the truth into PATH, reply "done"
                          (diagnostics: drift of the heap since "ready")

The stories (selection name -> what keeps the objects alive):
  Request     a module-global list `memory_leak` (web-server leak)
  Session     a registry dict `sessions`, each Session holding an asyncio.Event
  asyncio.locks.Event   the events of the sessions (attribute `.event`)
  list        a timing decorator appending lists of floats to `timings[name]`
              (selects every list of the heap: all referrer rows compared)
  CacheEntry  a dict held only by a closure cell of `cached_lookup`
  LocalOnly   a local variable `x` of the thread "sleeper", blocked on an Event
  NativeHeld  only a reference taken with ctypes.pythonapi.Py_IncRef
  NativePayload  an attribute of the NativeHeld object
  CycleNode   a 2-node cycle held only by the closure of a weakref callback
              (`anchor_ref = weakref.ref(ANCHOR, callback)`)
  WeakTarget  a strong global list `weak_strong`, plus a WeakValueDictionary
              `weak_cache` (weak referrers, never a path)
  Token       a dict `tokens` keyed by 64-hex-digit session tokens (str keys
              longer than 50 characters)
  dict of Profile  instance dicts (materialised with vars() on 3.11+) of the
              Profile objects in the list `profiles`
  GarbageNode unreachable cycles left while the GC is disabled
  Twin        one class in __main__ and one in module `leak_stories_other`
              (an ambiguous last component)
  Job         a job queue `job_queue`, a collections.deque consumed from the
              left (its items span two blocks)
  Pending     callbacks `callbacks`: functools.partial objects (a C type) whose
              first argument is the Pending object
  Bound       handlers `handlers`: instances of a Python subclass of
              functools.partial (the C base's members, which subtype_traverse
              visits through the base's traverse) whose first argument is the
              Bound object
  Orphan      lists in the local `held` of suspended asyncio tasks that wait
              for an asyncio.Event `aio_stop` nobody sets (fire-and-forget
              tasks: only the event's waiting futures hold them, through
              their callbacks, the tasks and the tasks' coroutines)
  Reply       results of done futures left in the waiters of an
              asyncio.Event `aio_replies` (orphaned waiters, seed 001)
  Nested      a list in the local `nested` of a coroutine that the coroutine
              of the task `nested_task` awaits (`return await nested_inner()`):
              the awaiting frame's value stack holds it, Python's `cr_await`
  Scope       values of a contextvars.ContextVar `request_scope` set in
              contexts kept in the list `contexts` (contextvars.Context holds
              its values in a HAMT: Context -> hamt -> node)
  Backlogged  items waiting in a queue.SimpleQueue `backlog` (a C type: a list
              up to 3.12, a ring buffer since 3.13), a few taken already
  Visit       per-thread state: a list of Visits in the attribute `history`
              of a threading.local `request_state` (a C type: each thread's
              attributes are a dict in a dict the local holds, named by
              its thread)
  Entry       objects attached to the elements of an XML tree `feed` (the C
              ElementTree: children and attributes in C fields), as
              attribute values
  ThreadScope the value of a ContextVar `thread_scope` set in the sleeper thread
              (its current context, which only the thread state holds)
  Message     objects sent through a long-lived pickle.Pickler `wire` (never
              clear_memo()'d): its memo holds each (only where gc.get_referrers
              sees the memo, 3.11.7+ / 3.12+; the tool follows it everywhere)
  Report      instances dropped by their users but kept by the unbounded
              functools.lru_cache of their method `render` (its cache's keys
              are tuples (self, width))
  Connection  connections closed but never atexit.unregister()'d: each
              registered bound method `close` holds its connection (the
              interpreter's atexit state, or the atexit module's, holds them)
  Charset     objects in the closures of search functions registered with
              codecs.register() (the interpreter's codec registry holds them)
  AuditRecord records appended by an audit hook (sys.addaudithook(), a bound
              method of an Auditor) on the events "leak_stories.login"
  Span        spans kept by a tracer whose bound method is the sleeper
              thread's trace function (sys.settrace() in that thread)
  Failure     the argument of the exception the sleeper thread is handling
              while it waits (in an except block: only the thread state's
              exception stack holds it)
  Pool        pools whose bound method `reinit` each registered with
              os.register_at_fork(after_in_child=) (the interpreter's list)
  Stash       objects a C extension would keep in the main thread's state
              dict (PyThreadState_GetDict(), here through ctypes)
  Seen        objects kept by the asyncgen firstiter hook of the main thread
              (sys.set_asyncgen_hooks(), a bound method)
  Worker      the worker whose bound method handles SIGUSR2 (signal.signal():
              the runtime's handler array, or signalmodule.c's Handlers)
  Probe       (3.12+) probes kept by a sys.monitoring tool's PY_START callback
              (registered, its events never enabled)

Named objects: the truth gives the addresses of int's and datetime.date's
__dict__ (3.12+: kept in the interpreter's state) and of the weak reference
an ABC's negative cache keeps (abc's C _abc_data); their paths must end with
"int.__dict__", "date.__dict__" and "Checked._abc_impl._abc_negative_cache{item}".

Module state: the truth also lists the objects (up to 8) whose only referrers
are C module objects other than through the module's __dict__: what a
module's state holds (m_traverse visits it; e.g. _ssl's error tables from
3.12, imported here for them); the tool must find each through
`<module>.<state>[N]`.

The GC is disabled for the whole life of the target (gc.disable()): the
partition must warn about it and count the garbage cycles.

Runs on CPython 3.8 - 3.13 (x86-64 Linux, GIL builds).  Standard library only.

Referrer truth (mirrors the tool's "Referrers by kind"): for each story, the
targets are every object of the story's kind; for each referrer r that
gc.get_referrers() returns (minus the truth computation's own objects), the
kind of r gets the targets that gc.get_referents(r) contains; the count of a
kind is the number of distinct targets referred to by at least one referrer
of that kind.  Kinds are named like the tool: heap types "module.qualname"
("builtins" -> qualname), static types tp_name, an instance's __dict__
"dict of module.qualname", a module's dict "dict of module", sys.modules
"dict (sys.modules)", other dicts "dict (no owner)".  Two additions to
gc.get_referrers(): on 3.8-3.10 the frames on every thread's stack (objects,
but untracked while they run, so gc never reports them; the tool reports them
as kind "frame"), and an instance as the referrer of its own __dict__ (3.13's
traverse may visit the inline values instead).  Combinations: per target, its
sorted referrer kinds joined by " | " ("<no referrers>" when none).  Weak
referrers: weakref.getweakrefs() of each target, counted per weak reference.
"""

import abc
import asyncio
import atexit
import codecs
import collections
import contextvars
import ctypes
import datetime
import decimal
import enum
import functools
import gc
import http
import json
import os
import queue
import signal
import ssl  # noqa: F401  (_ssl's state holds dicts of its own from 3.12)
import sys
import threading
import time
import types
import uuid
import weakref

V = sys.version_info[:2]
PY_VERSION = "%d.%d.%d" % tuple(sys.version_info[:3])
SCRIPT = os.path.basename(__file__)

# Same reason as heap_target.py: 3.12.1 starts with tuples in the permanent
# generation; put them back where gc.get_referrers() scans.
if hasattr(gc, "get_freeze_count") and gc.get_freeze_count():
    gc.unfreeze()

TP_NAME = 24
F_MANAGED_DICT = 1 << 4      # 3.11+
F_HEAPTYPE = 1 << 9
F_TYPE_SUBCLASS = 1 << 31
_vp = ctypes.c_void_p.from_address
_ssz = ctypes.c_ssize_t.from_address
_cstr = ctypes.c_char_p.from_address

N_REQUESTS = 300
N_SESSIONS = 40
N_TIMED = 12           # decorated functions -> timing lists
N_TIMED_CALLS = 5
N_CACHE = 25
N_WEAK = 30
N_GARBAGE_PAIRS = 50
N_TWIN_MAIN = 2
N_TWIN_OTHER = 3
N_TOKENS = 20          # keys: 64 hex digits (longer than 50 characters)
N_PROFILES = 15        # instances whose __dict__ was materialised
N_JOBS = 90            # jobs left in the deque (after 10 were consumed)
N_PENDING = 25         # functools.partial callbacks
N_BOUND = 15           # instances of a Python subclass of functools.partial
N_NESTED = 7          # Nesteds in the local of an awaited coroutine
N_ORPHAN_TASKS = 12    # suspended asyncio tasks ...
ORPHANS_EACH = 5       # ... each holding this many Orphans in a local list
N_REPLIES = 20         # done futures left in an Event's waiters
N_BACKLOG = 28         # items put in a SimpleQueue ...
N_BACKLOG_TAKEN = 4    # ... and taken again
N_SCOPES = 16          # contexts, each with one Scope as a context variable's value
N_REPORTS = 30         # Report objects kept by an lru_cache on a method
N_VISITS = 22          # Visits in a threading.local's attribute (main thread)
N_ENTRIES = 18         # Entries in the attributes of an XML tree's elements
N_MESSAGES = 14        # Messages pickled through a Pickler that keeps its memo
N_CONNECTIONS = 17     # Connections whose close() stays registered with atexit
N_CHARSETS = 6         # codec search functions, each closing over a Charset
N_AUDIT_RECORDS = 11   # AuditRecords an audit hook kept
N_SPANS = 9            # Spans a tracer (the sleeper's trace function) keeps
N_POOLS = 7            # Pools registered with os.register_at_fork
N_STASHED = 5          # Stash objects in the main thread's state dict
N_SEEN = 4             # Seen objects of the asyncgen firstiter hook
N_PROBES = 6           # Probes of a sys.monitoring callback (3.12+)
MONITORING_TOOL = 4    # its tool id
REQUEST_INDEX = 7      # the request selected by address

# ---------------------------------------------------------------------------
# Story classes (distinct names, each selected by its last component)
# ---------------------------------------------------------------------------


class Request:
    def __init__(self, n):
        self.path = "/items/%d" % n
        self.headers = {"x-request-id": "req-%06d" % n}
        self.body = b"x" * 32


class Session:
    def __init__(self, user):
        self.user = user
        self.event = asyncio.Event()   # 3.8/3.9: bound to the default loop
        self.cart = [user]


class CacheEntry:
    def __init__(self, key):
        self.key = key
        self.value = ("v",) * 3


class LocalOnly:
    def __init__(self):
        self.note = "held by a local of the sleeper thread"


class ThreadScope:
    """Set in the sleeper thread's own context (a ContextVar set outside any
    task): held by that thread's current contextvars.Context alone."""


class NativePayload:
    pass


class NativeHeld:
    def __init__(self):
        self.payload = NativePayload()


class Anchor:
    pass


class CycleNode:
    def __init__(self, name):
        self.name = name
        self.other = None


class WeakTarget:
    def __init__(self, i):
        self.i = i


class GarbageNode:
    def __init__(self):
        self.peer = None


class Twin:
    pass


class Token:
    def __init__(self, user):
        self.user = user


class Pending:
    def __init__(self, n):
        self.n = n


class Bound:
    def __init__(self, n):
        self.n = n


class Handler(functools.partial):
    pass


def on_done(pending, result=None):
    return pending, result


class Job:
    def __init__(self, n):
        self.n = n


class StopEvent(asyncio.Event):
    """(Its own kind: the Event story counts every asyncio.Event.)"""


class Orphan:
    def __init__(self, n):
        self.n = n


class Nested:
    def __init__(self, n):
        self.n = n


class Color(enum.Enum):
    RED = 1
    BLUE = "blue"


class Level(str, enum.Enum):
    HIGH = "high"


class Perm(enum.IntFlag):
    READ = 4


class PlainZone(datetime.tzinfo):
    """A time zone of its own class: shown by its kind and address."""

    def utcoffset(self, dt):
        return datetime.timedelta(hours=2)


class NotAnEnum:
    """Named like an enum's member, but no enum's: no value."""

    def __init__(self):
        self._name_ = "RED"
        self._value_ = 1


class Values:
    """Floats, bytes, strs, big ints, datetime's values, decimal.Decimal
    values and a bound method whose values `--referrers 0xADDRESS` shows as
    repr() does (the method by its function's name)."""

    def __init__(self):
        self.third = 1 / 3
        self.big = 1e16
        self.tiny = 5e-324
        self.neg_zero = -0.0
        self.small = 1e-05
        self.fixed = 0.0001
        self.whole = 2.0
        self.wide = 1234567890123456.0
        self.inf = float("-inf")
        self.nan = float("nan")
        self.money = 123456789.125
        self.raw = b"it's \x00\xff\n\\"
        self.quoted = b'say "hi"'
        self.both = b"'\""
        self.empty = b""
        self.long = b"y" * 100
        self.buffer = bytearray(b"it's \x00\xff")
        self.no_buffer = bytearray()
        self.quoted_buffer = bytearray(b'say "hi"')
        self.both_buffer = bytearray(b"'\"")
        self.long_buffer = bytearray(b"z" * 100)
        # (Deleting from the front moves where its data starts.)
        self.consumed = bytearray(b"HEADERbody")
        del self.consumed[:6]
        self.said = "it's"
        self.mixed = "'\"\t"
        # (What repr() escapes past ASCII: C1 controls, separators, format
        # characters, private use; what it prints: letters, emoji.)
        self.unprintable = "a\xa0b\u200bc\u2028d\x85e\ufefff\xe9\U0001F600\u2066\ue000"
        self.cplx = 1 + 2j
        self.imag = 2j
        self.zero_j = 0j
        self.neg_parts = complex(-0.0, -1.0)
        self.signs = complex(-1.5, -0.0)
        self.odd_parts = complex(1e16, float("nan"))
        self.infs = complex(float("inf"), float("-inf"))
        self.bound = self.describe
        self.color = Color.RED
        self.shade = Color.BLUE
        self.lookalike = NotAnEnum()
        self.uid = uuid.UUID("12345678-1234-5678-1234-567812345678")
        self.small_uid = uuid.UUID(int=5)
        self.max_uid = uuid.UUID(int=2 ** 128 - 1)
        captured = 42
        self.cell = (lambda: captured).__closure__[0]
        self.empty_cell = types.CellType()
        self.stamp = datetime.datetime(2026, 12, 7, 15, 4, 5, 123)
        self.minute = datetime.datetime(2026, 12, 7, 15, 4)
        self.aware = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
        east = datetime.timezone(datetime.timedelta(hours=5, minutes=30), "IST")
        self.named_zone = datetime.datetime(2026, 1, 2, 3, 4, tzinfo=east)
        self.west_clock = datetime.time(
            3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=-7)))
        self.own_zone = datetime.datetime(2026, 1, 2, tzinfo=PlainZone())
        # (A time zone made for it alone, as parsing an offset makes one.)
        self.parsed = datetime.datetime.fromisoformat("2026-01-02T03:04:05+05:45")
        self.utc = datetime.timezone.utc
        try:
            import zoneinfo  # (3.9+, with the system's time zone files)
            # (The zone held by an attribute too: the gc module sees no
            # datetime's tzinfo, and the module state test would take it
            # for what _zoneinfo's state alone holds.)
            self.paris_zone = zoneinfo.ZoneInfo("Europe/Paris")
            self.paris = datetime.datetime(2026, 7, 1, 12, tzinfo=self.paris_zone)
            self.tz_key = zoneinfo.ZoneInfo("America/New_York")
        except Exception:
            pass
        self.zone = east
        self.status = http.HTTPStatus.NOT_FOUND
        self.level = Level.HIGH
        self.perm = Perm.READ
        self.day = datetime.date(1999, 12, 31)
        self.clock = datetime.time(23, 59, 1)
        self.folded = datetime.time(1, 2, 0, 7, fold=1)
        self.ttl = datetime.timedelta(days=1, seconds=5)
        self.zero = datetime.timedelta(0)
        self.before = datetime.timedelta(microseconds=-1)
        self.snowflake = 1234567890123456789012
        self.uuid_int = 2 ** 127 + 12345
        self.debt = -(2 ** 64) + 5
        self.widest = 2 ** 210 - 1
        self.huge = 2 ** 300
        for i, v in enumerate(("12.50", "0.00", "-0", "1E+2", "1.2E+7", "1E-7", "0.000001",
                               "123456789012345678901234567890.123", "NaN", "-Infinity",
                               "sNaN12", "-12.5E-10", "1" * 76)):
            setattr(self, "amount%d" % i, decimal.Decimal(v))

    def describe(self):
        return "values"


class Keyed:
    pass


def keyed_fn():
    pass


# A dict keyed by what is no str or number (a memo keyed by arguments): each
# value's path names its key, as Python's repr() would, shortly.
keyed = {}
values_holder = Values()


class Reply:
    def __init__(self, n):
        self.n = n


class Backlogged:
    def __init__(self, n):
        self.n = n


class Scope:
    def __init__(self, n):
        self.n = n


class Entry:
    def __init__(self, n):
        self.n = n


class Message:
    def __init__(self, n):
        self.n = n


class Visit:
    def __init__(self, n):
        self.n = n


class Report:
    def __init__(self, n):
        self.n = n

    @functools.lru_cache(maxsize=None)
    def render(self, width):
        return "%d:%d" % (self.n, width)


class Connection:
    def __init__(self, n):
        self.n = n

    def close(self):
        pass


class Charset:
    def __init__(self, name):
        self.name = name
        self.codec_info = None   # (a codecs.CodecInfo, built on first use)


class AuditRecord:
    def __init__(self, args):
        self.args = args


class Auditor:
    def __init__(self):
        self.records = []

    def hook(self, event, args):
        if event == "leak_stories.login":
            self.records.append(AuditRecord(args))


class Span:
    def __init__(self, n):
        self.n = n


class Tracer:
    def __init__(self):
        self.spans = [Span(n) for n in range(N_SPANS)]

    def trace(self, frame, event, arg):
        return None


class Failure:
    pass


class RetryableError(Exception):
    pass


class Pool:
    def reinit(self):
        pass


class Stash:
    pass


class Seen:
    pass


class GenWatch:
    def __init__(self):
        self.seen = [Seen() for _ in range(N_SEEN)]

    def first(self, agen):
        pass


class Worker:
    def on_signal(self, signum, frame):
        pass


class Probe:
    pass


class Collector:
    def __init__(self):
        self.probes = [Probe() for _ in range(N_PROBES)]

    def on_start(self, code, offset):
        pass


class Profile:
    def __init__(self, i):
        self.i = i
        self.name = "profile-%d" % i


# ---------------------------------------------------------------------------
# The stories (module globals; built inside functions so that no stray
# module-level name keeps an extra reference)
# ---------------------------------------------------------------------------

memory_leak = []        # 1. web-server leak
sessions = {}           # 2. registry of sessions
timings = {}            # 3. timing decorator
cached_lookup = None    # 4. closure over the cache dict
NATIVE_ADDRESS = 0      # 6. id() of the NativeHeld object (an int, no ref)
ANCHOR = Anchor()       # 7. the weakly referenced anchor
anchor_ref = None       #    weakref.ref(ANCHOR, callback)
weak_strong = []        # weak story: strong holder
weak_cache = weakref.WeakValueDictionary()  # weak story: weak holder
twins = []
twins_other = []
tokens = {}             # session tokens (long str keys) -> Token
profiles = []           # Profile instances with a dict object each
job_queue = collections.deque()  # jobs waiting (consumed from the left)
callbacks = []          # functools.partial(on_done, Pending(n))
handlers = []           # Handler(on_done, Bound(n))
request_scope = contextvars.ContextVar("request_scope")
thread_scope = contextvars.ContextVar("thread_scope")
contexts = []           # contextvars.Context objects, each holding a Scope
backlog = queue.SimpleQueue()  # Backlogged items waiting
aio_loop = None         # the event loop of the asyncio stories (not running)
aio_stop = None         # asyncio.Event the orphan tasks wait for (never set)
aio_replies = None      # asyncio.Event whose waiters are done futures


def build_requests():
    for n in range(N_REQUESTS):
        memory_leak.append(Request(n))


def build_sessions():
    for u in range(N_SESSIONS):
        sessions["user-%d" % u] = Session(u)


def timed(fn):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timings.setdefault(fn.__name__, []).append(time.perf_counter() - start)
    return wrapper


def build_timings():
    for i in range(N_TIMED):
        def handler(x, _i=i):
            return x + _i
        handler.__name__ = "handler_%02d" % i
        h = timed(handler)
        for k in range(N_TIMED_CALLS):
            h(k)


def make_cache():
    cache = {}
    for i in range(N_CACHE):
        cache["key-%d" % i] = CacheEntry(i)

    def lookup(key):
        return cache.get(key)
    return lookup


def build_native():
    o = NativeHeld()
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(o))
    return id(o)


def make_anchor_ref():
    a = CycleNode("a")
    b = CycleNode("b")
    a.other = b
    b.other = a
    head = a

    def on_anchor_dead(ref):
        head.name = "fired"
    return weakref.ref(ANCHOR, on_anchor_dead)


def build_weak():
    for i in range(N_WEAK):
        o = WeakTarget(i)
        weak_strong.append(o)
        weak_cache[i] = o


def build_tokens():
    for i in range(N_TOKENS):
        tokens["%064x" % (0x9e3779b97f4a7c15 * (i + 1))] = Token(i)


def build_profiles():
    for i in range(N_PROFILES):
        p = Profile(i)
        vars(p)          # 3.11+: materialise the dict (it exists before 3.11)
        profiles.append(p)


def build_garbage():
    for _ in range(N_GARBAGE_PAIRS):
        a = GarbageNode()
        b = GarbageNode()
        a.peer = b
        b.peer = a


def build_jobs():
    for n in range(N_JOBS + 10):
        job_queue.append(Job(n))
    for _ in range(10):
        job_queue.popleft()


def build_callbacks():
    for n in range(N_PENDING):
        callbacks.append(functools.partial(on_done, Pending(n)))
    for n in range(N_BOUND):
        handlers.append(Handler(on_done, Bound(n)))


async def orphan_task():
    held = [Orphan(n) for n in range(ORPHANS_EACH)]
    await aio_stop.wait()
    return held


async def nested_inner():
    nested = [Nested(n) for n in range(N_NESTED)]
    await aio_nested.wait()
    return nested


async def nested_outer():
    return await nested_inner()


async def setup_async():
    global aio_stop, aio_replies, aio_nested, nested_task
    aio_stop = StopEvent()
    aio_replies = StopEvent()
    aio_nested = StopEvent()
    nested_task = asyncio.ensure_future(nested_outer())
    for _ in range(N_ORPHAN_TASKS):
        asyncio.ensure_future(orphan_task())
    loop = asyncio.get_event_loop()
    for n in range(N_REPLIES):
        fut = loop.create_future()
        fut.set_result(Reply(n))
        aio_replies._waiters.append(fut)
    # Let every task run up to its wait.
    for _ in range(3):
        await asyncio.sleep(0)


def build_async():
    global aio_loop
    aio_loop = asyncio.new_event_loop()
    asyncio.set_event_loop(aio_loop)
    aio_loop.run_until_complete(setup_async())
    if len(aio_stop._waiters) != N_ORPHAN_TASKS:
        raise RuntimeError("asyncio story: %d tasks waiting, want %d"
                           % (len(aio_stop._waiters), N_ORPHAN_TASKS))


def build_backlog():
    for n in range(N_BACKLOG):
        backlog.put(Backlogged(n))
    for _ in range(N_BACKLOG_TAKEN):
        backlog.get()


def build_scopes():
    for n in range(N_SCOPES):
        ctx = contextvars.Context()
        ctx.run(request_scope.set, Scope(n))
        contexts.append(ctx)


request_state = threading.local()  # per-thread request history


feed = None  # an XML tree (xml.etree.ElementTree, C)


def build_feed():
    global feed
    import xml.etree.ElementTree as ET
    feed = ET.Element("feed")
    for n in range(N_ENTRIES):
        ET.SubElement(feed, "entry", {"obj": Entry(n)}).text = "entry %d" % n


wire = None  # a pickle.Pickler kept for a connection's life


def build_wire():
    global wire
    import io
    import pickle
    wire = pickle.Pickler(io.BytesIO(), protocol=4)
    for n in range(N_MESSAGES):
        wire.dump(Message(n))


def memo_is_traversed():
    """Whether gc.get_referrers() sees a Pickler's memo (3.11.7+, 3.12+)."""
    import io
    import pickle
    p = pickle.Pickler(io.BytesIO())
    x = []
    p.dump(x)
    return any(r is p for r in gc.get_referrers(x))


def build_abc_cache():
    isinstance(Unrelated(), Checked)


def build_connections():
    for n in range(N_CONNECTIONS):
        atexit.register(Connection(n).close)


def make_search(charset):
    def search(name):
        return charset.codec_info if name == charset.name else None
    return search


def build_charsets():
    for n in range(N_CHARSETS):
        codecs.register(make_search(Charset("x-leak-%d" % n)))


def build_audit():
    sys.addaudithook(Auditor().hook)
    for n in range(N_AUDIT_RECORDS):
        sys.audit("leak_stories.login", "user-%d" % n)


def build_forkers():
    for _ in range(N_POOLS):
        os.register_at_fork(after_in_child=Pool().reinit)


def build_stash():
    get = ctypes.pythonapi.PyThreadState_GetDict
    get.restype = ctypes.py_object
    d = get()
    # A borrowed reference, which ctypes releases as if it were new.
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(d))
    d["leak_stories.stash"] = [Stash() for _ in range(N_STASHED)]


def build_asyncgen_hooks():
    sys.set_asyncgen_hooks(firstiter=GenWatch().first)


def build_signal_handler():
    signal.signal(signal.SIGUSR2, Worker().on_signal)


def build_monitoring():
    if V >= (3, 12):
        mon = sys.monitoring
        mon.use_tool_id(MONITORING_TOOL, "leak_stories")
        mon.register_callback(MONITORING_TOOL, mon.events.PY_START, Collector().on_start)


def build_keyed():
    keys = [("user", 42), str, keyed_fn, None, True, frozenset([1]), (1, 2, 3, 4, 5, 6),
            ("a[b]",)]
    for k in keys:
        keyed[k] = Keyed()


def request_holds():
    """What memory_leak[REQUEST_INDEX] holds (`--referrers 0xADDRESS`): each
    attribute by its address, kind and sys.getsizeof(), a str's and a
    bytes' repr(), a dict's len(), and what the attribute alone keeps (its str, the dict with
    its value: the key is a constant all the dicts share); and its class.
    (getattr, not vars(): 3.11+ would make the instance a dict object.)"""
    r = memory_leak[REQUEST_INDEX]
    rows = []
    for name in ("path", "headers", "body"):
        v = getattr(r, name)
        row = {"label": "." + name, "address": "0x%x" % id(v), "kind": type(v).__name__,
               "size": sys.getsizeof(v),
               "value": repr(v) if isinstance(v, (str, bytes)) else None,
               "len": len(v) if isinstance(v, dict) else None, "retained": None}
        if isinstance(v, (str, bytes)):
            row["retained"] = sys.getsizeof(v)
        elif isinstance(v, dict):
            row["kind"] = "dict (no owner)"
            row["retained"] = sys.getsizeof(v) + sum(sys.getsizeof(x) for x in v.values())
        rows.append(row)
    rows.append({"label": ".__class__", "address": "0x%x" % id(type(r)), "kind": "type",
                 "size": sys.getsizeof(type(r)), "value": "<class '__main__.Request'>",
                 "len": None, "retained": None})
    return rows


def values_truth():
    """What values_holder holds as `--referrers 0xADDRESS` shows it: each
    float's repr(), each bytes' repr() (of its first 40 bytes, "…" before
    the closing quote when longer)."""
    rows = []
    for name, v in vars(values_holder).items():
        if isinstance(v, bytes) and len(v) > 40:
            r = repr(v[:40])
            r = r[:-1] + "\u2026" + r[-1]
        elif isinstance(v, bytearray) and len(v) > 40:
            r = repr(v[:40])
            r = r[:-2] + "\u2026" + r[-2:]
        elif isinstance(v, (datetime.datetime, datetime.time)) and isinstance(v.tzinfo,
                                                                               PlainZone):
            # (A time zone of a class of its own: by its kind and address.)
            r = repr(v.replace(tzinfo=None))[:-1] + ", tzinfo=<%s.%s at 0x%x>)" % (
                __name__, "PlainZone", id(v.tzinfo))
        elif isinstance(v, int) and abs(v).bit_length() > 210:
            r = None  # (more than seven 30-bit digits: no value kept)
        elif isinstance(v, NotAnEnum):
            r = None
        elif type(v).__name__ == "cell":
            # (Its contents by their short value, as the tool writes a cell.)
            try:
                r = "<cell: %r>" % (v.cell_contents,)
            except ValueError:
                r = "<cell: empty>"
        elif type(v).__name__ == "method":
            # (Shortened: repr() goes on with repr(self).)
            r = "<bound method %s>" % v.__func__.__qualname__
        else:
            r = repr(v)
        t = type(v)
        kind = t.__qualname__ if t.__module__ == "builtins" else "%s.%s" % (t.__module__,
                                                                             t.__qualname__)
        row = {"label": "." + name, "address": "0x%x" % id(v), "kind": kind, "value": r}
        if name == "parsed":
            # It alone holds its time zone and the zone's offset (which the
            # gc module does not see: datetime's types have no tp_traverse).
            row["retained"] = {"objects": 3, "size": sys.getsizeof(v) +
                               sys.getsizeof(v.tzinfo) + sys.getsizeof(v.utcoffset())}
        rows.append(row)
    return {"address": "0x%x" % id(values_holder), "rows": rows}


def request_refs():
    """What all the Requests hold, by attribute (`--referrers Request`'s
    holds_by_reference): references, distinct objects and their sizes."""
    rows = {}
    for name in ("path", "headers", "body"):
        vals = [getattr(r, name) for r in memory_leak if type(r) is Request]
        distinct = {id(v): v for v in vals}
        rows["." + name] = {"refs": len(vals), "objects": len(distinct),
                            "size": sum(sys.getsizeof(v) for v in distinct.values())}
    return rows


def keyed_truth():
    """(address of the value, the path --referrers ADDRESS gives it) for each
    entry of `keyed`, its key as the tool writes it."""
    forms = {str: "<class 'str'>", keyed_fn: "<function keyed_fn>", None: "None",
             True: "True", (1, 2, 3, 4, 5, 6): "(1, 2, 3, 4, …)", ("a[b]",): "('a.b.',)",
             ("user", 42): "('user', 42)"}
    out = []
    for k, v in keyed.items():
        form = forms.get(k) if not isinstance(k, frozenset) else "<frozenset at 0x%x>" % id(k)
        out.append({"address": "0x%x" % id(v), "path": "__main__.keyed[%s]" % form})
    return out


def build_visits():
    request_state.history = [Visit(n) for n in range(N_VISITS)]


def build_reports():
    for n in range(N_REPORTS):
        Report(n).render(80)


def build_twins():
    other = types.ModuleType("leak_stories_other")
    exec("class Twin:\n    pass\n", other.__dict__)
    sys.modules["leak_stories_other"] = other
    for _ in range(N_TWIN_MAIN):
        twins.append(Twin())
    for _ in range(N_TWIN_OTHER):
        twins_other.append(other.Twin())


# 5. The sleeper thread: the only reference to a LocalOnly is its local 'x'.
SLEEPER_STARTED = threading.Event()
SLEEPER_STOP = threading.Event()


def sleeper_main():
    x = LocalOnly()
    thread_scope.set(ThreadScope())
    sys.settrace(Tracer().trace)
    try:
        raise RetryableError(Failure())
    except RetryableError:
        SLEEPER_STARTED.set()
        SLEEPER_STOP.wait()  # SLEEPER-WAIT (the frame's line while blocked)
    return x


SLEEPER = threading.Thread(target=sleeper_main, name="sleeper", daemon=True)


def sleeper_line():
    with open(__file__) as f:
        for n, line in enumerate(f, 1):
            if "# SLEEPER-WAIT" in line and "SLEEPER_STOP.wait()" in line:
                return n
    raise RuntimeError("SLEEPER-WAIT marker not found")


def _thread_blocked_forever(tid):
    # A futex wait without a timeout (the waiter lock of Condition.wait).
    try:
        with open("/proc/self/task/%d/syscall" % tid, "rb") as f:
            fields = f.read().split()
    except OSError:
        return False
    return len(fields) >= 5 and fields[0] == b"202" and int(fields[4], 16) == 0


def wait_sleeper_blocked():
    if not SLEEPER_STARTED.wait(30):
        raise RuntimeError("sleeper thread did not start")
    cond = SLEEPER_STOP._cond
    deadline = time.monotonic() + 10
    while True:
        with cond:
            if cond._waiters:
                break
        if time.monotonic() > deadline:
            raise RuntimeError("sleeper never reached Event.wait()")
        time.sleep(0.001)
    tid = getattr(SLEEPER, "native_id", None)
    while tid is not None and not _thread_blocked_forever(tid):
        if time.monotonic() > deadline:
            sys.stderr.write("leak_stories: warning: sleeper not seen blocked\n")
            break
        time.sleep(0.001)


# ---------------------------------------------------------------------------
# Ground truth
# ---------------------------------------------------------------------------

def type_kind(t):
    """The tool's kind of the instances of type t."""
    if t.__flags__ & F_HEAPTYPE:
        mod = t.__dict__.get("__module__")
        if type(mod) is not str or mod == "builtins":
            return t.__qualname__
        return mod + "." + t.__qualname__
    return _cstr(id(t) + TP_NAME).value.decode("utf-8", "replace")


def instance_dict_address(o):
    """Address of the dict object of instance o of a heap type, read without
    touching o.__dict__ (which would materialise a dict on 3.11+)."""
    t = type(o)
    a = id(o)
    if V >= (3, 11) and t.__flags__ & F_MANAGED_DICT:
        p = _vp(a - 24).value
        if V == (3, 12) and p and p & 1:
            return None                      # tagged values pointer
        return p
    off = t.__dictoffset__
    if not off:
        return None
    if off < 0:
        n = _ssz(a + 16).value
        if n < 0:
            n = -n
        off += (t.__basicsize__ + n * t.__itemsize__ + 7) & ~7
    return _vp(a + off).value


def dict_owners(objs):
    """{address of a dict: its kind} for the dicts that are the __dict__ of
    an instance of a heap type or of a module (every other dict is
    "dict (no owner)"; sys.modules is "dict (sys.modules)")."""
    owners = {}
    for o in objs:
        t = type(o)
        if isinstance(o, types.ModuleType):
            owners[id(o.__dict__)] = "dict of module"
        elif t.__flags__ & F_HEAPTYPE and not t.__flags__ & F_TYPE_SUBCLASS:
            p = instance_dict_address(o)
            if p and p not in owners:
                owners[p] = "dict of " + type_kind(t)
    owners[id(sys.modules)] = "dict (sys.modules)"
    return owners


def referrer_kind(r, owners):
    t = type(r)
    if t is not dict:
        return type_kind(t)
    return owners.get(id(r), "dict (no owner)")


def _truth_codes():
    codes = [referrers_truth.__code__, weak_truth.__code__, story_truth.__code__,
             compute_truth.__code__, instances.__code__, dict_owners.__code__,
             running_frames.__code__]
    codes.extend(c for c in compute_truth.__code__.co_consts if type(c) is types.CodeType)
    return codes


def running_frames():
    """<= 3.10: the frames on every thread's stack, minus the truth
    computation's own.  They are objects, but untracked while they run, so
    gc.get_referrers() never reports them; the tool walks them as roots and
    reports them as kind "frame"."""
    # (Its own frame is left out too: kept in `out`, it would make a cycle
    # that the disabled GC never frees.)
    codes = _truth_codes()
    out = []
    frames = sys._current_frames()
    for f in frames.values():
        while f is not None:
            if f.f_code not in codes:
                out.append(f)
            f = f.f_back
    frames = None
    return out


def referrers_truth(targets, excl, owners):
    """{kind: targets referred to by at least one referrer of that kind}.
    `excl`: ids of the truth computation's own containers."""
    tids = set(id(x) for x in targets)
    excl = excl | {id(tids)}
    codes = _truth_codes()
    per_kind = {}
    # 3.13 copies the *args of gc.get_referrers() into a tuple of its own:
    # the caller's tuple is then a referrer of every target.
    args = tuple(targets)
    excl.add(id(args))
    refs = gc.get_referrers(*args)
    args = None
    excl.add(id(refs))
    if V <= (3, 10):
        refs.extend(running_frames())
    for r in refs:
        if id(r) in excl:
            continue
        # A frame of this computation (tracked or not): not in the target's
        # idle state the tool sees.
        if type(r) is types.FrameType and r.f_code in codes:
            continue
        k = referrer_kind(r, owners)
        s = per_kind.get(k)
        if s is None:
            s = per_kind[k] = set()
        for x in gc.get_referents(r):
            if id(x) in tids:
                s.add(id(x))
    # An instance holds its __dict__ (at its dict offset, or the managed
    # dict pointer).  3.13's subtype_traverse visits the inline values
    # instead of a materialised dict while those stay valid, so
    # gc.get_referents() of the instance may omit the dict: add the edge.
    for x in targets:
        if type(x) is dict:
            k = owners.get(id(x), "")
            if k.startswith("dict of ") and k != "dict of module":
                per_kind.setdefault(k[8:], set()).add(id(x))
    # Combinations (Heapy's byrcs): per target, its sorted referrer kinds.
    kinds_of = dict((i, []) for i in tids)
    for k in sorted(per_kind):
        for i in per_kind[k]:
            kinds_of[i].append(k)
    combos = {}
    for ks in kinds_of.values():
        c = " | ".join(ks) if ks else "<no referrers>"
        combos[c] = combos.get(c, 0) + 1
    refs = r = x = s = kinds_of = ks = None
    return dict((k, len(v)) for k, v in per_kind.items() if v), combos


def weak_truth(targets):
    """{kind of weak reference: weak references to the targets}."""
    out = {}
    for o in targets:
        for w in weakref.getweakrefs(o):
            k = type_kind(type(w))
            out[k] = out.get(k, 0) + 1
    o = w = None
    return out


def story_truth(name, select, targets, excl, owners, paths, **extra):
    kind = type_kind(type(targets[0]))
    if kind == "dict":
        kind = owners.get(id(targets[0]), "dict (no owner)")
    referrers, combos = referrers_truth(targets, excl, owners)
    d = {
        "name": name,
        "select": select,
        "kind": kind,
        "objects": len(targets),
        "referrers": referrers,
        "combinations": combos,
        "weak_referrers": weak_truth(targets),
        "paths": paths,
    }
    d.update(extra)
    return d


def instances(objs, t, dicts=False):
    """The objects of a kind: the instances of type t, or (dicts) their
    __dict__ objects.  Those dicts may be untracked (only atomic values),
    hence absent from gc.get_objects(): reach them through the instances
    (they exist already: vars() creates nothing)."""
    if dicts:
        return [vars(o) for o in objs if type(o) is t]
    return [o for o in objs if type(o) is t]


class Checked(abc.ABC):
    """An ABC whose negative cache keeps a weak reference to Unrelated."""


class Unrelated:
    pass


def abc_cache_entry():
    """[{"address", "suffix"}] of the weak reference to Unrelated in
    Checked's negative cache (isinstance() said no): only the ABC's
    _abc_impl (a C object, abc's _abc_data) holds it."""
    refs = [r for r in weakref.getweakrefs(Unrelated) if r.__callback__ is not None]
    out = [{"address": "0x%x" % id(r), "suffix": "Checked._abc_impl._abc_negative_cache{item}"}
           for r in refs[:1]]
    refs = None
    return out


def state_held(objs):
    """[{"address", "module"}]: objects held only by C module objects (not
    through their __dict__): a module state's, at most 8.  Candidates: what
    gc.get_referents() of each module gives (its __dict__, and what its
    m_traverse visits), then each one's referrers checked."""
    mods = {}
    for name, m in list(sys.modules.items()):
        if isinstance(m, types.ModuleType):
            mods[id(m)] = name
    dicts = set(id(m.__dict__) for m in sys.modules.values() if isinstance(m, types.ModuleType))
    tracked = set(id(o) for o in objs)
    out = []
    seen = set()
    for m in list(sys.modules.values()):
        if not isinstance(m, types.ModuleType):
            continue
        held = gc.get_referents(m)
        for o in held:
            if len(out) >= 8:
                break
            if (id(o) in dicts or id(o) in seen or id(o) not in tracked or
                    isinstance(o, types.ModuleType)):
                continue
            seen.add(id(o))
            rs = [r for r in gc.get_referrers(o) if r is not objs and r is not out and
                  r is not held]
            names = [mods.get(id(r)) for r in rs]
            if rs and all(names):
                out.append({"address": "0x%x" % id(o), "module": names[0]})
    m = o = rs = held = tracked = seen = None
    return out


def compute_truth(out_path):
    objs = gc.get_objects()
    excl = {id(objs)}
    owners = dict_owners(objs)
    excl.add(id(owners))
    stories = []

    def add(name, select, t, paths, dicts=False, **extra):
        targets = instances(objs, t, dicts)
        excl.add(id(targets))
        try:
            stories.append(story_truth(name, select, targets, excl, owners, paths, **extra))
        finally:
            excl.discard(id(targets))
    excl.add(id(stories))

    add("web-server list", "Request", Request,
        {"__main__.memory_leak[*]": N_REQUESTS},
        exact=True)
    add("session registry", "Session", Session,
        {"__main__.sessions[*]": N_SESSIONS}, exact=True)
    add("asyncio.Event of each session", "asyncio.locks.Event", asyncio.Event,
        {"__main__.sessions[*].event": N_SESSIONS}, exact=True)
    # Story 3 selects every list of the heap: all its referrer rows are
    # compared (the whole heap's lists, not only the timing lists), and the
    # timing lists' path group must be among the paths.
    add("timing decorator", "list", list,
        {"__main__.timings[*]": N_TIMED}, exact=True,
        holders=["dict (no owner)"], partial_paths=True)
    # sys.addaudithook() keeps the hooks in a list it untracks ("Avoid having
    # our list of hooks show up in the GC module"): no gc function sees it;
    # the tool reads it from the interpreter state, a list without referrers.
    stories[-1]["objects"] += 1
    combos = stories[-1]["combinations"]
    combos["<no referrers>"] = combos.get("<no referrers>", 0) + 1
    combos = None
    add("closure-cell cache", "CacheEntry", CacheEntry,
        {"__main__.cached_lookup.__closure__[0].cell_contents[*]": N_CACHE},
        exact=True)
    add("local of a sleeping thread", "LocalOnly", LocalOnly,
        {"thread 0x%x (sleeper) frame sleeper_main() %s:%d local 'x'"
         % (SLEEPER.ident, SCRIPT, SLEEPER_LINE): 1},
        exact=True, frame_story=True)
    add("held by native code", "NativeHeld", NativeHeld,
        {"<held by native code (1 ref unaccounted)>": 1}, exact=True)
    add("attribute of a native-held object", "NativePayload", NativePayload,
        {"<held by native code (1 ref unaccounted)>.payload": 1}, exact=True)
    add("cycle held by a weakref callback", "CycleNode", CycleNode,
        {"__main__.anchor_ref.__callback__.__closure__[0].cell_contents": 1,
         "__main__.anchor_ref.__callback__.__closure__[0].cell_contents.other": 1},
        exact=True)
    add("weakly and strongly referenced", "WeakTarget", WeakTarget,
        {"__main__.weak_strong[*]": N_WEAK}, exact=True,
        forbid_in_paths=["weak_cache", "KeyedRef"],
        forbid_in_pattern=["weakref.KeyedRef", "weakref.WeakValueDictionary"])
    add("cyclic garbage", "GarbageNode", GarbageNode, {}, exact=True,
        unreachable=2 * N_GARBAGE_PAIRS)
    add("session tokens (keys longer than 50 characters)", "Token", Token,
        {"__main__.tokens[*]": N_TOKENS}, exact=True)
    add("materialised instance dicts", "dict of Profile", Profile,
        {"__main__.profiles[*].__dict__": N_PROFILES}, dicts=True, exact=True)
    add("__main__.Twin (exact name of an ambiguous class)", "__main__.Twin", Twin,
        {"__main__.twins[*]": N_TWIN_MAIN}, exact=True)
    add("job queue (collections.deque)", "Job", Job,
        {"__main__.job_queue[*]": N_JOBS}, exact=True)
    add("callbacks (functools.partial, a C type)", "Pending", Pending,
        {"__main__.callbacks[*].args[0]": N_PENDING}, exact=True)
    add("handlers (a Python subclass of functools.partial)", "Bound", Bound,
        {"__main__.handlers[*].args[0]": N_BOUND}, exact=True)
    # Through C asyncio objects: the event's futures, their first callback
    # (the task's wakeup, bound to the task), the task's coroutine, its
    # frame's local (a frame object up to 3.10, inside the coroutine since).
    held = ".cr_frame local 'held'" if V <= (3, 10) else " local 'held'"
    add("locals of suspended asyncio tasks", "Orphan", Orphan,
        {"__main__.aio_stop._waiters[*]._callback0.__self__._coro%s[*]" % held:
         N_ORPHAN_TASKS * ORPHANS_EACH}, exact=True)
    # The coroutine a task's coroutine awaits: on the value stack of its
    # frame, the top (3.11+: Python's cr_await; through 3.10 the frame
    # object's slot after the locals, the stack's only item).
    co = nested_outer.__code__
    assert nested_task._coro.cr_await.cr_code is nested_inner.__code__
    awaited = (".cr_await" if V >= (3, 11) else ".cr_frame stack[%d].cr_frame"
               % (len(co.co_varnames) + len(co.co_cellvars) + len(co.co_freevars)))
    add("locals of an awaited coroutine", "Nested", Nested,
        {"__main__.nested_task._coro%s local 'nested'[*]" % awaited: N_NESTED}, exact=True)
    add("results of orphaned asyncio futures", "Reply", Reply,
        {"__main__.aio_replies._waiters[*]._result": N_REPLIES}, exact=True)
    # A one-entry HAMT: its root node holds the variable at [0], the value at [1].
    add("values of context variables", "Scope", Scope,
        {"__main__.contexts[*].vars.root[1]": N_SCOPES}, exact=True)
    add("items waiting in a queue.SimpleQueue", "Backlogged", Backlogged,
        {("__main__.backlog[*]" if V >= (3, 13) else "__main__.backlog.items[*]"):
         N_BACKLOG - N_BACKLOG_TAKEN}, exact=True)
    add("an lru_cache on a method", "Report", Report,
        {"__main__.Report.render.cache.<key>[0]": N_REPORTS}, exact=True)
    # (Each thread's dict, named by the thread: the main thread built it.)
    add("per-thread state in a threading.local", "Visit", Visit,
        {"__main__.request_state.localdicts[thread 0x%x (MainThread)]['history'][*]"
         % threading.main_thread().ident: N_VISITS}, exact=True)
    add("a context variable set in a thread", "ThreadScope", ThreadScope,
        {"thread 0x%x (sleeper) context.vars.root[1]" % SLEEPER.ident: 1}, exact=True)
    if memo_is_traversed():
        add("objects kept by a pickle.Pickler's memo", "Message", Message,
            {"__main__.wire.memo": N_MESSAGES}, exact=True)
    add("close() methods left registered with atexit", "Connection", Connection,
        {"atexit callbacks[*].func.__self__": N_CONNECTIONS}, exact=True)
    add("closures of codec search functions", "Charset", Charset,
        {"codecs search functions[*].__closure__[0].cell_contents": N_CHARSETS},
        exact=True)
    add("records kept by an audit hook", "AuditRecord", AuditRecord,
        {"sys audit hooks[0].__self__.records[*]": N_AUDIT_RECORDS}, exact=True)
    add("spans kept by a thread's trace function", "Span", Span,
        {"thread 0x%x (sleeper) trace function.__self__.spans[*]" % SLEEPER.ident: N_SPANS},
        exact=True)
    add("an exception a waiting thread is handling", "Failure", Failure,
        {"thread 0x%x (sleeper) handled exception.args[0]" % SLEEPER.ident: 1}, exact=True)
    add("pools registered with os.register_at_fork", "Pool", Pool,
        {"os.register_at_fork after_in_child[*].__self__": N_POOLS}, exact=True)
    main_ident = threading.main_thread().ident
    add("objects in a thread's state dict", "Stash", Stash,
        {"thread 0x%x (MainThread) state dict['leak_stories.stash'][*]" % main_ident: N_STASHED},
        exact=True)
    add("objects kept by an asyncgen hook", "Seen", Seen,
        {"thread 0x%x (MainThread) asyncgen firstiter hook.__self__.seen[*]" % main_ident: N_SEEN},
        exact=True)
    add("the worker handling a signal", "Worker", Worker,
        {"signal.getsignal(%d).__self__" % signal.SIGUSR2: 1}, exact=True)
    if V >= (3, 12):
        add("probes of a sys.monitoring callback", "Probe", Probe,
            {"sys.monitoring tool %d callbacks[0].__self__.probes[*]" % MONITORING_TOOL: N_PROBES},
            exact=True)
    add("attribute values in an XML tree", "Entry", Entry,
        {"__main__.feed[*].attrib['obj']": N_ENTRIES}, exact=True)

    result = {
        "python": PY_VERSION,
        "pid": os.getpid(),
        "gc_enabled": gc.isenabled(),
        "garbage_min_objects": 2 * N_GARBAGE_PAIRS * (1 if V >= (3, 11) else 2),
        "request_address": "0x%x" % id(memory_leak[REQUEST_INDEX]),
        "request_index": REQUEST_INDEX,
        "request_holds": request_holds(),
        "memory_leak_len": len(memory_leak),
        "request_refs": request_refs(),
        "keyed": keyed_truth(),
        "values": values_truth(),
        "request_kind": "__main__.Request",
        "ambiguous": {"select": "Twin",
                      "candidates": ["__main__.Twin", "leak_stories_other.Twin"]},
        "misspelt": {"select": "Requets", "closest": "__main__.Request"},
        "sleeper": {"ident": SLEEPER.ident, "native_id": getattr(SLEEPER, "native_id", None),
                    "line": SLEEPER_LINE},
        "native_address": "0x%x" % NATIVE_ADDRESS,
        "state_held": state_held(objs),
        # The dicts of static types (3.12+: of builtin types, and 3.13: of
        # extensions' managed static types such as datetime's, in the
        # interpreter's state, not in the type): named through the type.
        "type_dicts": [{"address": "0x%x" % id(gc.get_referents(t.__dict__)[0]),
                        "suffix": "%s.__dict__" % t.__name__}
                       for t in (int, datetime.date)] + abc_cache_entry(),
        "stories": stories,
    }
    objs = stories = add = owners = None
    data = json.dumps(result, sort_keys=True).encode("utf-8")
    result = None
    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)


def idle():
    # Raw fd I/O only: nothing on the heap changes while the tool looks.
    buf = b""
    while True:
        chunk = os.read(0, 4096)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            line = line.strip()
            if line == b"ping":
                os.write(1, b"pong\n")
            elif line == b"exit":
                return
            elif line.startswith(b"truth "):
                compute_truth(os.fsdecode(line[6:]))
                os.write(1, b"done\n")


SLEEPER_LINE = 0


def main():
    global cached_lookup, NATIVE_ADDRESS, anchor_ref, SLEEPER_LINE
    if len(sys.argv) != 2:
        sys.stderr.write("usage: leak_stories.py TRUTH_JSON_PATH\n")
        sys.exit(2)
    gc.collect()
    gc.disable()                     # the GC stays off: a story of its own
    SLEEPER_LINE = sleeper_line()
    SLEEPER.start()
    build_requests()
    build_sessions()
    build_timings()
    cached_lookup = make_cache()
    NATIVE_ADDRESS = build_native()
    anchor_ref = make_anchor_ref()
    build_weak()
    build_twins()
    build_jobs()
    build_callbacks()
    build_async()
    build_reports()
    build_abc_cache()
    build_connections()
    build_charsets()
    build_audit()
    build_forkers()
    build_stash()
    build_asyncgen_hooks()
    build_signal_handler()
    build_monitoring()
    build_visits()
    build_keyed()
    build_feed()
    build_wire()
    build_scopes()
    build_backlog()
    build_tokens()
    build_profiles()
    build_garbage()
    wait_sleeper_blocked()
    # Dry run: lazily created caches exist before the real truth.
    compute_truth(os.devnull)
    compute_truth(sys.argv[1])
    os.write(1, b"ready\n")
    idle()
    SLEEPER_STOP.set()
    SLEEPER.join(5)


main()
