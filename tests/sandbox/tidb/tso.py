"""TSOs: what PD hands out as timestamps, physical milliseconds << 18 | logical.

A cluster's TiDB stand-ins share one allocator file in the cluster's state dir, taken
under an exclusive lock, so TSOs are strictly increasing across the cluster's processes
and restarts (as PD's are), and the physical part follows the wall clock.
"""
import fcntl
import os
import time

LOGICAL_BITS = 18
LOGICAL_MASK = (1 << LOGICAL_BITS) - 1


def compose(physical_ms, logical=0):
    return (int(physical_ms) << LOGICAL_BITS) | int(logical)


def physical_ms(tso):
    return int(tso) >> LOGICAL_BITS


def to_unix(tso):
    """Seconds since the epoch of a TSO's physical part."""
    return physical_ms(tso) / 1000.0


def from_unix(seconds):
    return compose(int(seconds * 1000))


class Allocator:
    def __init__(self, path):
        self.path = path

    def next(self):
        """A TSO greater than every one this allocator gave before."""
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with open(self.path + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                try:
                    with open(self.path, encoding="ascii") as handle:
                        last = int(handle.read().strip() or 0)
                except (OSError, ValueError):
                    last = 0
                now = compose(int(time.time() * 1000))
                tso = now if now > last else last + 1
                tmp = "%s.%d.tmp" % (self.path, os.getpid())
                with open(tmp, "w", encoding="ascii") as handle:
                    handle.write("%d\n" % tso)
                os.replace(tmp, self.path)
                return tso
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
