"""TSOs: what PD hands out as timestamps, physical milliseconds << 18 | logical.

A cluster's TiDB stand-ins share one allocator file in the cluster's state dir, taken
under an exclusive lock, so TSOs are strictly increasing across the cluster's processes
and restarts (as PD's are), and the physical part follows the wall clock.

A TSO can be given a mark: the cluster's binlog position at the moment it was handed out
(tests/sandbox/changelog.py), taken under the same lock, so marks grow with their TSOs and a
change stream reader knows which binlog transactions a TSO comes after. Marks are kept in
`<allocator>.marks`, one `tso file pos` line each.
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

    @property
    def marks_path(self):
        return self.path + ".marks"

    def next(self, mark=None, record=True):
        """A TSO greater than every one this allocator gave before.

        mark: a callable run under the allocator's lock that returns the binlog position
        (file, pos) the TSO stands for; with record, the mark is appended to the marks file.
        Returns the TSO, or (tso, position) when a mark was asked for."""
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
                if mark is None:
                    return tso
                position = mark()
                if record and position:
                    with open(self.marks_path, "a", encoding="ascii") as handle:
                        handle.write("%d %s %d\n" % (tso, position[0], position[1]))
                return tso, position
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def read_marks(path):
    """[(tso, (file, pos))] of a marks file, in TSO order."""
    marks = []
    try:
        with open(path, encoding="ascii") as handle:
            for line in handle:
                parts = line.split()
                if len(parts) == 3:
                    marks.append((int(parts[0]), (parts[1], int(parts[2]))))
    except OSError:
        pass
    marks.sort()
    return marks
