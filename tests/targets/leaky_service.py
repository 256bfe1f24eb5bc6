# SPDX-License-Identifier: MIT
"""A small leaking "web service" for the demo: a request handler that keeps
every request in a module-global list (the classic Twisted leak), sessions
that are never expired, and a timing decorator that accumulates lists in a
global dict. It writes "ready" to stdout once it has served some requests,
then keeps serving (and leaking) until stdin closes."""
import sys
import threading
import time

memory_leak = []
sessions = {}
timings = {}


def timed(fn):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timings.setdefault(fn.__name__, []).append(time.perf_counter() - start)
    return wrapper


class Request:
    def __init__(self, n):
        self.path = "/items/%d" % n
        self.headers = {"user-agent": "demo/1.0", "x-request-id": "req-%08d" % n}
        self.body = b"x" * 64


class Session:
    def __init__(self, user):
        self.user = user
        self.cart = [n for n in range(8)]


@timed
def handle(n):
    req = Request(n)
    memory_leak.append(req)            # the leak
    sessions.setdefault("user%d" % (n % 500), Session(n % 500))
    return "OK"


def serve(stop):
    n = 0
    while not stop.is_set() and n < 200000:
        handle(n)
        n += 1
        if n % 1000 == 0:
            stop.wait(0.01)


def main():
    for n in range(5000):
        handle(n)
    stop = threading.Event()
    t = threading.Thread(target=serve, args=(stop,), name="server", daemon=True)
    t.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.read()  # until the parent closes our stdin
    stop.set()


if __name__ == "__main__":
    main()
