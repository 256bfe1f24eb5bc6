# SPDX-License-Identifier: MIT
"""Target process of the safety tests (standard library only, CPython 3.8+).

usage: target.py [--threads N] [--busy N] [--objects N]

Builds DATA, a fixed structure of about --objects objects (dicts, lists,
tuples, str, bytes, int, float, sets, instances), and its checksum (SHA-256 of
its pickle), starts --threads idle threads (blocked in Event.wait) and --busy
worker threads, prints "ready CHECKSUM" and serves lines on stdin:

  ping         -> pong
  check        -> "ok CHECKSUM ITERATIONS FAILURES" (DATA's checksum now; the
                  workers' iterations so far; consistency failures seen)
  exec         -> replaces itself (os.execv) by the same command: prints
                  "ready CHECKSUM" again
  exit-in MS   -> the process ends (os._exit) after MS milliseconds
  exit         -> exits (also at EOF)

A busy worker, all the time: allocates and frees lists, dicts, strings and
instances; mutates a shared ledger under a lock (transfers between accounts:
the total never changes), a shared dict whose every value is a function of
its key, and a list whose sum is tracked; starts short threads; runs
gc.collect().  Every iteration checks those invariants; a violation counts as
a failure (reported by "check").  The tool must change none of this: it only
reads memory.
"""
import argparse
import gc
import hashlib
import os
import pickle
import random
import sys
import threading
import time


class Item(object):
    def __init__(self, i):
        self.i = i
        self.name = "item-%d" % i
        self.tags = ("t%d" % (i % 7), i * 1.5)


class Slotted(object):
    __slots__ = ("a", "b")

    def __init__(self, i):
        self.a = i
        self.b = [i, str(i)]


def build(n):
    data = {"items": [], "index": {}, "blobs": [], "sets": [], "slots": []}
    for i in range(n // 10):
        it = Item(i)
        data["items"].append(it)
        data["index"]["k%d" % i] = (i, -i, "v" * (i % 13))
        data["blobs"].append(bytes(range(i % 256)) * 2)
        data["sets"].append(frozenset(range(i % 5)))
        data["slots"].append(Slotted(i))
    data["big"] = [2 ** 100 + i for i in range(100)]
    return data


def checksum(data):
    return hashlib.sha256(pickle.dumps(data, 4)).hexdigest()


class Busy(object):
    ACCOUNTS = 64
    TOTAL = 64 * 1000

    def __init__(self):
        self.lock = threading.Lock()
        self.ledger = {"acct%d" % i: 1000 for i in range(self.ACCOUNTS)}
        self.table = {}
        self.tracked = []
        self.tracked_sum = 0
        self.kept = None
        self.iterations = 0
        self.failures = 0
        self.first_failure = None
        self.stop = False

    def fail(self, what):
        self.failures += 1
        if self.first_failure is None:
            self.first_failure = what
            sys.stderr.write("target: consistency failure: %s\n" % what)
            sys.stderr.flush()

    def step(self, rng):
        # Churn: new objects of many kinds, most freed at once.
        junk = [Item(rng.randrange(1000)) for _ in range(rng.randrange(1, 50))]
        junk.append({str(j): [j] * (j % 5) for j in range(rng.randrange(1, 40))})
        junk.append("x" * rng.randrange(1, 2000))
        junk.append(set(range(rng.randrange(30))))
        keep = junk if rng.random() < 0.05 else None
        with self.lock:
            # Ledger: a transfer keeps the total.
            a = "acct%d" % rng.randrange(self.ACCOUNTS)
            b = "acct%d" % rng.randrange(self.ACCOUNTS)
            amount = rng.randrange(100)
            self.ledger[a] -= amount
            self.ledger[b] += amount
            if sum(self.ledger.values()) != self.TOTAL:
                self.fail("ledger total %d" % sum(self.ledger.values()))
            # Table: value == f(key); keys come and go (dict resizes).
            k = rng.randrange(5000)
            if rng.random() < 0.5:
                self.table[k] = ("v", k * 3, str(k))
            else:
                self.table.pop(k, None)
            for key in rng.sample(list(self.table), min(5, len(self.table))):
                if self.table[key] != ("v", key * 3, str(key)):
                    self.fail("table[%r] = %.200r" % (key, self.table[key]))
            # Tracked list: its sum is known.
            if self.tracked and rng.random() < 0.4:
                self.tracked_sum -= self.tracked.pop(rng.randrange(len(self.tracked)))
            else:
                v = rng.randrange(1000)
                self.tracked.insert(rng.randrange(len(self.tracked) + 1), v)
                self.tracked_sum += v
            if sum(self.tracked) != self.tracked_sum:
                self.fail("tracked sum %d != %d" % (sum(self.tracked), self.tracked_sum))
            if keep is not None:
                self.kept = keep          # replaced later: freed then
            self.iterations += 1

    def worker(self, seed):
        rng = random.Random(seed)
        n = 0
        while not self.stop:
            self.step(rng)
            n += 1
            if n % 200 == 0:
                gc.collect(rng.randrange(3))
            if n % 150 == 0:
                t = threading.Thread(target=self.step, args=(random.Random(n),))
                t.start()
                t.join()
            if n % 50 == 0:
                time.sleep(0.001)         # let the main thread answer quickly


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--busy", type=int, default=0)
    ap.add_argument("--objects", type=int, default=20000)
    args = ap.parse_args()

    data = build(args.objects)
    initial = checksum(data)
    idle = threading.Event()
    for _ in range(args.threads):
        threading.Thread(target=idle.wait, daemon=True).start()
    busy = Busy()
    for i in range(args.busy):
        threading.Thread(target=busy.worker, args=(i,), daemon=True).start()

    out = sys.stdout
    out.write("ready %s\n" % initial)
    out.flush()
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "exit":
            break
        if cmd[0] == "ping":
            out.write("pong\n")
        elif cmd[0] == "check":
            with busy.lock:
                it, fails = busy.iterations, busy.failures
            out.write("ok %s %d %d\n" % (checksum(data), it, fails))
        elif cmd[0] == "exec":
            out.flush()
            flags = (["-I"] if sys.flags.isolated else []) + (["-S"] if sys.flags.no_site else [])
            os.execv(sys.executable, [sys.executable] + flags + sys.argv)
        elif cmd[0] == "exit-in":
            # The reply first: with a delay near 0 the timer could end the
            # process before it is written (the test then saw EOF).
            delay = float(cmd[1]) / 1000.0
            out.write("exiting\n")
            out.flush()
            threading.Thread(target=lambda: (time.sleep(delay), os._exit(0)),
                             daemon=True).start()
        out.flush()
    busy.stop = True
    idle.set()


if __name__ == "__main__":
    main()
