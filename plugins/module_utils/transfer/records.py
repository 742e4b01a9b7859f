# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transfer (import/export) records in the catalog, and the limit on concurrent transfers.

A record has TiUniManager's fields (``DataTransportRecord``) in snake_case: ``id``,
``cluster``, ``type`` (export|import), ``path`` (never holding a key or a password),
``storage_type`` (local|s3), ``file_type`` (sql|csv|None), ``status``, ``reimport_support``,
``size``, ``rows``, ``start_time``, ``end_time``, ``comment`` and ``config_path``.

The limit: TiUniManager's documentation promised "at most 3 import/export tasks in
parallel", but its code had no such limit. Here a transfer holds one of ``max_concurrent``
slot locks ``transfer-<cluster>-<n>`` in the catalog while it runs, so the limit holds
across playbooks, hosts and AWX jobs.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import os
import re

from ansible_collections.tidbops.manager.plugins.module_utils.backup import records as backups
from ansible_collections.tidbops.manager.plugins.module_utils.catalog import kinds
from ansible_collections.tidbops.manager.plugins.module_utils.catalog.store import format_time
from ansible_collections.tidbops.manager.plugins.module_utils.catalog.access import holder_alive, job_purpose
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.polling import poll_until
from ansible_collections.tidbops.manager.plugins.module_utils.storage.location import remove_path

KIND = kinds.TRANSFER
TYPES = ("export", "import")
STORAGE_TYPES = ("local", "s3")
FILE_TYPES = ("sql", "csv")
STATUSES = ("processing", "finished", "failed")
MAX_CONCURRENT = 3
# TiUniManager's file server refused uploads and downloads over 2 GB (MaxFileSize).
MAX_FILE_SIZE = 2 * 1024 * 1024 * 1024

# Keyed storage URLs (TiUniManager stored "<bucket>?&endpoint=<ep>", never the keys) and
# user:password@ URLs.
_PATH_SECRET_RES = (
    re.compile(r"(secret[-_]access[-_]key|access[-_]key|session[-_]token)=", re.IGNORECASE),
    re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]*@"),
)


def _check_choice(what, value, choices):
    if value not in choices:
        raise TidbOpsError("TRANSFER_RECORD_INVALID", "A transfer record's %s must be one of %s, not %r."
                           % (what, ", ".join(choices), value), **{what: value})


def check_path(path):
    """Refuse a path that is not a non-empty string or that carries a secret (CATALOG_RECORD_INVALID)."""
    if not isinstance(path, str) or not path.strip():
        raise TidbOpsError("TRANSFER_RECORD_INVALID", "A transfer record needs a path (a directory or an "
                           "s3:// URL).")
    if any(regex.search(path) for regex in _PATH_SECRET_RES):
        # The path itself is not repeated: it holds the secret.
        raise TidbOpsError("CATALOG_RECORD_INVALID", "Refusing to store a transfer record whose path holds a "
                           "key or a password; keep credentials in the S3 options, out of the path.")


def new_record(catalog, record_id, cluster, transfer_type, path, storage_type, file_type=None, comment=None,
               reimport_support=False, **extra):
    """Write a new record with status 'processing' (TiUniManager's state on create); returns it.

    extra: further fields (the slot the job holds, its working directory as config_path, ...)."""
    _check_choice("type", transfer_type, TYPES)
    _check_choice("storage_type", storage_type, STORAGE_TYPES)
    if file_type is not None:
        _check_choice("file_type", file_type, FILE_TYPES)
    if not isinstance(cluster, str) or not cluster:
        raise TidbOpsError("TRANSFER_RECORD_INVALID", "A transfer record needs a cluster name.")
    check_path(path)
    record = {
        "id": record_id,
        "cluster": cluster,
        "type": transfer_type,
        "path": path,
        "storage_type": storage_type,
        "file_type": file_type,
        "status": "processing",
        "reimport_support": bool(reimport_support),
        "size": 0,
        "rows": None,
        "start_time": format_time(catalog.now()),
        "end_time": None,
        "comment": comment,
        "config_path": None,
    }
    record.update(extra)
    record.update(catalog.put(KIND, record))
    return record


def get_record(catalog, record_id):
    """The transfer record, or TRANSFER_RECORD_NOT_FOUND."""
    record = catalog.find(KIND, record_id)
    if record is None:
        raise TidbOpsError("TRANSFER_RECORD_NOT_FOUND", "No transfer record %r in catalog %s."
                           % (record_id, catalog.url), id=record_id)
    return record


def finish(catalog, record, **fields):
    """Mark a record finished (with fields such as size, rows, config_path); returns it."""
    if "path" in fields:
        check_path(fields["path"])
    record.update(fields)
    record.update(status="finished", end_time=format_time(catalog.now()))
    record.update(catalog.put(KIND, record))
    return record


def record_failure(catalog, record, error):
    """Mark a record failed with the error, and attach it to the error (as 'transfer') so
    that the failed task returns it."""
    backups.record_failure(catalog, KIND, record, error)


def check_file_size(size, limit=MAX_FILE_SIZE):
    """TRANSFER_FILE_SIZE_INVALID unless 0 <= size <= limit (TiUniManager's 2 GB)."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 0 or size > limit:
        raise TidbOpsError("TRANSFER_FILE_SIZE_INVALID", "File size %r is not between 0 and %d bytes."
                           % (size, limit), size=size, limit=limit)
    return size


def reimportable(record):
    """Can the record's data be imported again (TiUniManager: reImport=true also requires Finished)?"""
    return bool(record.get("reimport_support")) and record.get("status") == "finished"


def filter_transfers(records, cluster=None, transfer_type=None, status=None, reimport=None):
    """Records matching every given filter, newest first (by start_time).

    status is a list of statuses (or one); reimport=True keeps the records that can be
    imported again (reimport_support and finished), reimport=False those that cannot."""
    if isinstance(status, str):
        status = [status]
    chosen = []
    for record in records:
        if cluster and record.get("cluster") != cluster:
            continue
        if transfer_type and record.get("type") != transfer_type:
            continue
        if status and record.get("status") not in status:
            continue
        if reimport is not None and reimportable(record) != bool(reimport):
            continue
        chosen.append(record)
    return sorted(chosen, key=lambda r: (r.get("start_time") or "", r.get("id") or ""), reverse=True)


# -- the limit ---------------------------------------------------------------------------

def slot_resources(cluster, max_concurrent=MAX_CONCURRENT):
    return ["transfer-%s-%d" % (cluster, number) for number in range(1, max_concurrent + 1)]


def _try_slots(catalog, resources, job, purpose, ttl_seconds, holders):
    """One attempt: the slot this job already holds, else a free one, else an expired one.
    Returns the slot's resource or None (holders then lists who has them)."""
    del holders[:]
    for resource in resources:  # re-entrant: a resumed job gets its own slot back
        lock = catalog.holder(resource)
        if lock is not None and lock.get("owner") == job:
            catalog.acquire(resource, job, purpose, ttl_seconds)
            return resource
    for resource in resources:
        try:
            catalog.acquire(resource, job, purpose, ttl_seconds)
            return resource
        except TidbOpsError as exc:
            if exc.code != "CLUSTER_LOCKED":
                raise
            lock = exc.details
            if (lock.get("expired") or not holder_alive(lock)) and _take_over(catalog, resource, lock):
                try:
                    catalog.acquire(resource, job, purpose, ttl_seconds)
                    return resource
                except TidbOpsError as again:
                    if again.code != "CLUSTER_LOCKED":
                        raise
                    lock = again.details
            holders.append(dict(slot=resource, owner=lock.get("holder"), purpose=lock.get("purpose"),
                                acquired_at=lock.get("acquired_at"), expires_at=lock.get("expires_at"),
                                expired=bool(lock.get("expired"))))
    return None


def _take_over(catalog, resource, seen):
    """Break a slot lock that expired or whose holder is provably gone (the rule of
    cluster_lock: a process of this host that no longer runs), if it is still the one seen.

    A slot is capacity, not exclusive ownership of a cluster: a job that died holding one must
    not shrink the limit for a day, and nothing is corrupted if two jobs race here - the worst
    case is one transfer more than max_concurrent for a while."""
    current = catalog.holder(resource)
    if current is None:
        return True
    if current.get("owner") != seen.get("holder") or current.get("acquired_at") != seen.get("acquired_at") \
            or not (catalog.lock_expired(current) or not holder_alive(current)):
        return False
    catalog.break_lock(resource)
    return True


@contextlib.contextmanager
def transfer_slot(catalog, cluster, job, max_concurrent=MAX_CONCURRENT, wait=False, wait_timeout=600,
                  ttl_seconds=86400):
    """Hold one of the cluster's max_concurrent transfer slots while a transfer runs; yields
    the slot's lock resource (transfer-<cluster>-<n>).

    The owner is the job (e.g. 'export/nightly-dump'): a re-run of the same job gets its own
    slot again. When every slot is held by other jobs: TRANSFER_LIMIT_REACHED naming them,
    or with wait=True, poll (short, growing intervals) until one frees or wait_timeout
    seconds pass. A slot whose job died is taken over: at once when its process was of this host,
    else once the slot expired."""
    if isinstance(max_concurrent, bool) or not isinstance(max_concurrent, int) or max_concurrent < 1:
        raise TidbOpsError("INVALID_ARGUMENT", "max_concurrent must be a positive integer, not %r."
                           % (max_concurrent,))
    if not isinstance(cluster, str) or not cluster:
        raise TidbOpsError("INVALID_ARGUMENT", "A transfer slot needs a cluster name.")
    resources = slot_resources(cluster, max_concurrent)
    for resource in resources:
        catalog.lock_key(resource)  # INVALID_ARGUMENT for a cluster name a lock cannot carry
    purpose = job_purpose(job)
    holders = []

    def attempt():
        return _try_slots(catalog, resources, job, purpose, ttl_seconds, holders)

    if wait:
        done, slot = poll_until(attempt, wait_timeout, first_interval=0.2, max_interval=1.0)
        if not done:
            slot = None
    else:
        slot = attempt()
    if slot is None:
        raise TidbOpsError(
            "TRANSFER_LIMIT_REACHED",
            "All %d transfer slots of cluster %r are taken%s: %s. Wait for one of those jobs to finish%s."
            % (max_concurrent, cluster, " (waited %ss)" % wait_timeout if wait else "",
               "; ".join("%s by %r for %r until %s" % (h["slot"], h["owner"], h["purpose"], h["expires_at"])
                         for h in holders),
               "" if wait else ", or wait for a slot"),
            cluster=cluster, max_concurrent=max_concurrent, holders=list(holders))
    try:
        yield slot
    finally:
        try:
            catalog.release(slot, job)
        except TidbOpsError as exc:
            # The slot expired and another job took it over: it is no longer ours to release.
            if exc.code != "LOCK_NOT_HELD":
                raise


# -- jobs and their files ----------------------------------------------------------------

def job_name(transfer_type, record_id):
    """The owner of a transfer's slot (and its one-time account): 'export/<id>'."""
    return "%s/%s" % (transfer_type, record_id)


def job_dir(work_dir, cluster, transfer_type, record_id):
    """The job's working directory (tool logs, Lightning's checkpoint, the zip, an unpacked
    archive): <work_dir>/<cluster>/<type>-<id>, as TiUniManager's <ExportPath>/<clusterId>/..."""
    for what, value in (("cluster", cluster), ("name", record_id)):
        if not value or "/" in value or value in (".", ".."):
            raise TidbOpsError("INVALID_ARGUMENT", "%s %r cannot name a directory" % (what, value))
    return os.path.join(os.path.expanduser(work_dir), cluster, "%s-%s" % (transfer_type, record_id))


def make_private_dir(path):
    if not os.path.isdir(path):
        os.makedirs(path, 0o700)
    os.chmod(path, 0o700)
    return path


def job_running(catalog, record):
    """Is the record's job alive: does it still hold the slot it ran in (an unexpired lock of a
    process that still exists)?"""
    if not record.get("slot"):
        return False
    lock = catalog.holder(record["slot"])
    return lock is not None and lock.get("owner") == job_name(record["type"], record["id"]) \
        and not catalog.lock_expired(lock) and holder_alive(lock)


def remove_stale_secrets(catalog, work_dir, cluster, file_names):
    """Remove the secret files (Lightning's TOML, with the TiDB password) that killed jobs left
    in the job directories of the cluster; a job that still runs keeps its own. Returns the
    paths removed."""
    root = os.path.join(os.path.expanduser(work_dir), cluster)
    removed = []
    for entry in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        transfer_type, _sep, record_id = entry.partition("-")
        paths = [os.path.join(root, entry, name) for name in file_names]
        if transfer_type not in TYPES or not any(os.path.lexists(p) for p in paths):
            continue
        record = catalog.find(KIND, record_id)
        if record is not None and job_running(catalog, record):
            continue
        for path in paths:
            if os.path.lexists(path):
                os.unlink(path)
                removed.append(path)
    return removed


def check_not_running(catalog, record):
    """TRANSFER_JOB_RUNNING when another process runs this record's job now: a second run
    of the same job must not take over its slot and files."""
    if record and record.get("status") == "processing" and job_running(catalog, record):
        lock = catalog.holder(record["slot"]) or {}
        raise TidbOpsError("TRANSFER_JOB_RUNNING", "%s %s is running now (%s, since %s); wait for it to end"
                           % (record["type"], record["id"], lock.get("purpose"), lock.get("acquired_at")),
                           transfer=record)


def start_again(catalog, record, slot):
    """Put a record left processing or failed back to processing, for a new run in slot."""
    record.update(status="processing", start_time=format_time(catalog.now()), end_time=None, error=None, slot=slot)
    record.update(catalog.put(KIND, record))
    return record


def delete_transfer(catalog, record, storage, delete_data=False):
    """Remove what a transfer made, then its record: its working directory always; an
    export's data on local storage always, on S3 only with delete_data (TiUniManager kept S3
    data). An import's source is never touched. Returns the locations removed."""
    check_not_running(catalog, record)
    removed = []
    if record["type"] == "export" and storage is not None and (record["storage_type"] == "local" or delete_data):
        storage.delete_prefix("")
        if record["storage_type"] == "local":
            remove_path(record["path"])
        removed.append(record["path"])
    if record.get("config_path") and os.path.isdir(record["config_path"]):
        remove_path(record["config_path"])
        removed.append(record["config_path"])
    catalog.delete(KIND, record["id"])
    return removed
