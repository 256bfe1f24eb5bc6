# SPDX-License-Identifier: MIT
"""The README's demo: starts the leaking service, inspects it with
pyheap-attach (what fills the heap, who holds the Requests, what the list
that leaks holds), shows it is still running, and stops it."""
import os
import select
import subprocess
import sys


def main():
    tool = sys.argv[1] if len(sys.argv) > 1 else "build/cmd/pyheap-attach"
    python = sys.argv[2] if len(sys.argv) > 2 else sys.executable
    here = os.path.dirname(os.path.abspath(__file__))
    svc = subprocess.Popen([python, os.path.join(here, "leaky_service.py")],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        ready, _, _ = select.select([svc.stdout], [], [], 60)
        if not ready or svc.stdout.readline().strip() != b"ready":
            print("demo: the service did not start", file=sys.stderr)
            return 1
        print("$ pyheap-attach --limit 12 %d" % svc.pid, flush=True)
        rc = subprocess.call([tool, "--limit", "12", str(svc.pid)])
        print("\n$ pyheap-attach --referrers Request --depth 3 %d" % svc.pid, flush=True)
        rc = rc or subprocess.call([tool, "--referrers", "Request", "--depth", "3",
                                    str(svc.pid)])
        # The leaking list itself, by the path the report printed.
        print("\n$ pyheap-attach --referrers __main__.memory_leak --limit 5 %d" % svc.pid,
              flush=True)
        rc = rc or subprocess.call([tool, "--referrers", "__main__.memory_leak", "--limit", "5",
                                    str(svc.pid)])
        state = open("/proc/%d/stat" % svc.pid).read().rsplit(")", 1)[1].split()[0]
        print("\n(the service is still running: state %s)" % state)
        return rc
    finally:
        svc.stdin.close()
        try:
            svc.wait(10)
        except subprocess.TimeoutExpired:
            svc.kill()


if __name__ == "__main__":
    sys.exit(main())
