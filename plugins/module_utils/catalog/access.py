# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Opening the catalog and storage locations from a module's (shared) options."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import errno
import os
import re

from ansible_collections.tidbops.manager.plugins.module_utils.catalog.store import Catalog
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.storage.location import open_storage


def open_location(location, params):
    """A Storage for location (a path or s3:// URL), with the shared S3 options."""
    return open_storage(location, s3_endpoint=params.get("s3_endpoint"), s3_region=params.get("s3_region"),
                        s3_access_key=params.get("s3_access_key"), s3_secret_key=params.get("s3_secret_key"),
                        s3_session_token=params.get("s3_session_token"))


def open_catalog(params, now=None):
    """The Catalog at params['catalog']; INVALID_ARGUMENT when none is set. With now (a
    datetime), the catalog's clock stands still there: records get that time, so a schedule can
    be replayed hour by hour."""
    if not params.get("catalog"):
        raise TidbOpsError("INVALID_ARGUMENT", "this module keeps records: set catalog (a directory or an "
                           "s3://bucket/prefix URL), for all modules at once with module_defaults "
                           "group/tidbops.manager.all")
    return Catalog(open_location(params["catalog"], params), clock=(lambda: now) if now else None)


def page_of(records, params):
    """(the records of the page that limit and offset select, how many records there are)."""
    return records[params["offset"]:params["offset"] + params["limit"]], len(records)


def records_of(catalog, kind, record_id=None):
    """The record with that id (an empty list when it does not exist), or every record of kind."""
    if record_id:
        found = catalog.find(kind, record_id)
        return [found] if found else []
    return catalog.list(kind)


@contextlib.contextmanager
def cluster_lock(catalog, cluster_key, job, ttl_seconds, break_lock=False):
    """Hold the cluster's lock (TiUniManager's maintenance status) while a job runs; yields
    the lock it broke or took over, or None.

    cluster_key is the physical cluster's (PD's cluster id, identity.Cluster.key), not the name
    a job gives it, so that two names for one cluster share the lock.

    The owner is the job itself (e.g. 'backup/nightly'), not the process: a re-run of an
    interrupted job takes its own lock again and resumes. Another job's lock is taken over at
    once when its holder is provably gone (a process of this host that no longer runs, or
    whose pid now belongs to another process), and broken with break_lock (a holder on
    another host cannot be checked from here); the new lock names the one it replaced.
    Otherwise the job fails with CLUSTER_LOCKED saying who holds it, from which host and
    process."""
    resource = "cluster-%s" % cluster_key
    replaced = None
    try:
        catalog.acquire(resource, job, job_purpose(job), ttl_seconds)
    except TidbOpsError as error:
        held = catalog.holder(resource) if error.code == "CLUSTER_LOCKED" else None
        alive = held is not None and holder_alive(held)
        if held is None or (alive and not break_lock):
            raise
        replaced = catalog.break_lock(resource)
        replaced["replaced_because"] = "break_lock" if alive else "its holder is gone"
        purpose = "%s, replacing %s (%s)" % (job_purpose(job), held.get("owner"), held.get("purpose"))
        catalog.acquire(resource, job, purpose, ttl_seconds)
    try:
        yield replaced
    finally:
        catalog.release(resource, job)


def replaced_note(replaced):
    """The warning a job gives when it took over or broke another job's lock."""
    return "took over the cluster's lock of %s (%s): %s" % (
        replaced.get("owner"), replaced.get("purpose"), replaced.get("replaced_because"))


# A lock's purpose says which process holds it: "<job> (host <host>, pid <pid>, start <ticks>)",
# the start being the process's start time in clock ticks after boot (/proc/<pid>/stat field
# 22), which tells a pid reused by another process from the holder itself.
_PURPOSE_RE = re.compile(r"\(host (?P<host>[^,()]+), pid (?P<pid>\d+)(, start (?P<start>\d+))?\)")


def job_purpose(job):
    """The purpose written into the locks a job takes, naming this host and process."""
    start = _start_ticks(os.getpid())
    return "%s (host %s, pid %d%s)" % (job, _hostname(), os.getpid(), ", start %s" % start if start else "")


def _hostname():
    return os.uname().nodename


def holder_alive(lock):
    """False when the lock's purpose names a process of this host that is gone (a job killed
    here can be resumed at once instead of after its lock's expiry); True otherwise."""
    match = _PURPOSE_RE.search(lock.get("purpose") or "")
    if not match or match.group("host") != _hostname():
        return True
    pid = int(match.group("pid"))
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno != errno.ESRCH
    if match.group("start") and _start_ticks(pid) not in (None, match.group("start")):
        return False  # the pid now belongs to another process
    return not _zombie(pid)


def _stat_fields(pid):
    """The fields of /proc/<pid>/stat after the command name (field 3 on), or None."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (IOError, OSError, IndexError):
        return None


def _start_ticks(pid):
    fields = _stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else None


def _zombie(pid):
    """A killed process nobody has reaped yet still answers kill(pid, 0)."""
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] == "Z"
