"""Test knobs: sandbox-only settings a test flips to shape what the stand-ins do, invisibly
to the collection (no SQL, no flag, nothing a real TiDB would answer differently to).

They live in one JSON file, DIR/knobs.json, of the sandbox directory DIR:

    python -m tests.sandbox knob --dir DIR brie_min_seconds=5     # set
    python -m tests.sandbox knob --dir DIR brie_min_seconds=0     # clear (0 = default)
    python -m tests.sandbox knob --dir DIR                        # print them

A TiDB stand-in finds DIR from its owner tag (procs.OWNER_ENV), which the tiup stand-in
sets to DIR/clusters/<name> for every process of a cluster (the tag is the only sandbox
variable a daemon is sure to get: tiup's runtime drops the caller's own tag and
procs.spawn_daemon sets the cluster's). A process whose tag is not of that form (a unit
test's stand-in) uses its tag directory itself. Knobs are read when they matter (a BRIE
task reads them when it starts), so a change needs no restart.
"""
import json
import os

from tests.sandbox import procs

KNOBS_FILE = "knobs.json"

# name -> (parser, meaning)
KNOWN = {
    "brie_min_seconds": (float, "every BACKUP/RESTORE task lasts at least this many seconds "
                                "(its progress spread over the time), so that it can be seen "
                                "in SHOW BACKUPS and cancelled; 0 = as fast as it goes"),
    "import_min_seconds": (float, "every IMPORT INTO job lasts at least this many seconds (its "
                                  "rows spread over the time), so that it can be seen running "
                                  "in SHOW IMPORT JOBS and cancelled; 0 = as fast as it goes"),
    "lightning_row_delay": (float, "seconds tidb-lightning waits after each row it writes, so "
                                   "that a run can be killed half-way; 0 = as fast as it goes"),
}


class KnobError(ValueError):
    pass


def sandbox_dir_of_owner(owner):
    """DIR for an owner tag DIR/clusters/<name>; the tag itself otherwise."""
    owner = os.path.abspath(owner)
    parent = os.path.dirname(owner)
    if os.path.basename(parent) == "clusters":
        return os.path.dirname(parent)
    return owner


def own_sandbox_dir():
    """This process's sandbox dir, from its owner tag; None when it has no tag."""
    owner = os.environ.get(procs.OWNER_ENV)
    return sandbox_dir_of_owner(owner) if owner else None


def knobs_path(directory):
    return os.path.join(os.path.abspath(directory), KNOBS_FILE)


def read(directory):
    """{name: value} of the knobs set in directory (unknown or broken entries ignored)."""
    if not directory:
        return {}
    try:
        with open(knobs_path(directory), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    out = {}
    for name, value in (data.items() if isinstance(data, dict) else ()):
        if name in KNOWN:
            try:
                out[name] = KNOWN[name][0](value)
            except (TypeError, ValueError):
                continue
    return out


def get(name, default=None, directory=None):
    """One knob of this process's sandbox (or of directory)."""
    return read(directory if directory is not None else own_sandbox_dir()).get(name, default)


def parse_assignment(text):
    """'name=value' -> (name, value); KnobError when the name or value is wrong."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep:
        raise KnobError("expected NAME=VALUE, got %r" % text)
    if name not in KNOWN:
        raise KnobError("unknown knob %r (known: %s)" % (name, ", ".join(sorted(KNOWN))))
    try:
        value = KNOWN[name][0](raw.strip())
    except ValueError:
        raise KnobError("bad value %r for knob %s" % (raw, name)) from None
    if value < 0:
        raise KnobError("knob %s must not be negative" % name)
    return name, value


def write(directory, assignments):
    """Apply {name: value} (0 clears a knob); the file is replaced atomically. Returns all."""
    if not os.path.isdir(directory):
        raise KnobError("%s is not a directory" % directory)
    current = read(directory)
    for name, value in assignments.items():
        if value:
            current[name] = value
        else:
            current.pop(name, None)
    path = knobs_path(directory)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(current, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(tmp, path)
    return current
