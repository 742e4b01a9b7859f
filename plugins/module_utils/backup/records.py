# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup records in the catalog: filtering, deleting a backup with its files, progress."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import threading

from ansible_collections.tidbops.manager.plugins.module_utils.tools.brie import (
    BACKUPMETA, RECORD_COPY, backupmeta_end_version)
from ansible_collections.tidbops.manager.plugins.module_utils.catalog import kinds
from ansible_collections.tidbops.manager.plugins.module_utils.catalog.store import format_time, parse_time
from ansible_collections.tidbops.manager.plugins.module_utils.catalog.access import open_location
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.sql import run_sql

KIND = kinds.BACKUP
STATUSES = ("processing", "finished", "failed", "cancelled")


def storage_of(record, params):
    """The Storage holding a backup's files (its path, with the shared S3 options)."""
    return open_location(record["path"].replace("local://", "", 1), params)


def prepare_destination(storage):
    """Make sure a backup can be written there: a local directory is created (BR writes into it
    from every TiKV host, so an NFS mount must exist on them too); S3 must answer."""
    if storage.kind == "local":
        storage.ensure_root()
    storage.check_access()


def holds_backup(storage):
    return storage.exists(BACKUPMETA)


def backup_ts_of(storage):
    """The BackupTS a finished backup's backupmeta records (for a backup whose job died before
    it could read BACKUP's result), or None."""
    return backupmeta_end_version(storage.get_bytes(BACKUPMETA))


def filter_records(records, cluster=None, mode=None, status=None, since=None, until=None):
    """Records matching every given filter, newest first (by start_time)."""
    since = parse_time(since) if since else None
    until = parse_time(until) if until else None
    chosen = []
    for record in records:
        if cluster and record.get("cluster") != cluster:
            continue
        if mode and record.get("mode") != mode:
            continue
        if status and record.get("status") not in status:
            continue
        started = parse_time(record["start_time"]) if record.get("start_time") else None
        if since and (started is None or started < since):
            continue
        if until and (started is None or started >= until):
            continue
        chosen.append(record)
    return sorted(chosen, key=lambda r: (r.get("start_time") or "", r.get("id")), reverse=True)


def delete_backup(catalog, record, params):
    """Remove a backup's files (every object under its path) and then its record."""
    if record.get("status") == "processing":
        raise TidbOpsError("BACKUP_RECORD_INVALID", "backup %s is still processing; cancel it first"
                           % record["id"], backup=record)
    removed = storage_of(record, params).delete_prefix("")
    catalog.delete(KIND, record["id"])
    return removed


def new_record(catalog, backup_id, cluster, cluster_id, mode, target, databases=None, tables=None, last=None,
               window=None):
    """The record of a backup about to start (status processing); the job writes it once it
    holds the cluster's lock, so a refused job leaves none.

    cluster is the name the job gave, cluster_id PD's id of the physical cluster (identity.py).
    target is the BrieTarget of its path; last the finished backup an incremental one builds on;
    window the strategy window an automatic one fills."""
    record = dict(id=backup_id, cluster=cluster, cluster_id=cluster_id, mode=mode, type="incremental" if last else "full",
                  path=target.url, storage_type=target.kind, size=0, backup_ts=None, status="processing",
                  start_time=format_time(catalog.now()), end_time=None, checksums={},
                  databases=databases, tables=tables, last_backup=last["id"] if last else None,
                  window=window, progress=0.0)
    return record


def request_cancel(catalog, backup_id):
    """Note, before the BACKUP is killed, that its end is a cancel: TiDB reports a killed BACKUP
    as any failure (8124 "Backup failed: ... context canceled"), so the job running it learns
    from this note that it was cancelled. The note is its own record: the running job rewrites
    the backup record with its progress and would drop a field set there."""
    catalog.put(kinds.CANCEL, dict(id=backup_id, requested_at=format_time(catalog.now())))


def cancelled_error(catalog, record, error):
    """The error a failed BACKUP ends with: BACKUP_CANCELLED when a cancel of it was asked for
    (the note is removed), else the error itself."""
    if error.code == "BACKUP_FAILED" and catalog.find(kinds.CANCEL, record["id"]) is not None:
        catalog.delete(kinds.CANCEL, record["id"])
        return TidbOpsError("BACKUP_CANCELLED", "backup %s was cancelled (%s)" % (record["id"], error.msg),
                            **error.details)
    return error


def mark_cancelled(catalog, backup_id):
    """Record a cancel that no job recorded (the job that ran the backup is gone)."""
    record = catalog.get(KIND, backup_id)
    record.update(status="cancelled", end_time=format_time(catalog.now()))
    catalog.put(KIND, record)
    if catalog.find(kinds.CANCEL, backup_id) is not None:
        catalog.delete(kinds.CANCEL, backup_id)
    return record


def finish_record(catalog, record, storage, **fields):
    """Mark a record finished and put a copy of it beside the backup's data."""
    record.update(fields)
    record.update(status="finished", end_time=format_time(catalog.now()))
    catalog.put(KIND, record)
    storage.put_bytes(RECORD_COPY, _json_bytes(record))
    return record


def record_failure(catalog, kind, record, error, status="failed"):
    """Mark a job's record failed (or cancelled) with the error, and attach it to the error so
    that the failed task returns it."""
    record.update(status=status, end_time=format_time(catalog.now()), error=error.msg)
    catalog.put(kind, record)
    error.details[kind] = record


def _json_bytes(record):
    return json.dumps(record, indent=2, sort_keys=True).encode("utf-8")


class ProgressReporter(object):
    """While a BACKUP/RESTORE runs on one connection, reads its progress from SHOW BACKUPS on
    another (short, growing intervals) and keeps it in the record, so that tidb_backup_info
    shows how far a long job is from any other play."""

    def __init__(self, connect, catalog, kind, record, statement="SHOW BACKUPS", first_interval=0.5,
                 max_interval=10.0):
        self.connect = connect
        self.catalog = catalog
        self.kind = kind
        self.record = record
        self.statement = statement
        self.first_interval = first_interval
        self.max_interval = max_interval
        self.connection_id = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)
        self._thread.daemon = True

    def start(self, connection_id):
        self.connection_id = connection_id
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread.ident is not None and self._thread.is_alive():
            self._thread.join(5)

    def _run(self):
        try:
            connection = self.connect()
        except TidbOpsError:
            return
        interval = self.first_interval
        try:
            while not self._stop.wait(interval):
                interval = min(interval * 1.5, self.max_interval)
                try:
                    rows, _count, _warnings = run_sql(connection, self.statement)
                except TidbOpsError:
                    return
                for row in rows or []:
                    if str(row.get("Connection")) == str(self.connection_id):
                        progress = row.get("Progress")
                        if progress is not None and progress != self.record.get("progress"):
                            self.record["progress"] = float(progress)
                            self.catalog.put(self.kind, dict(self.record))
        finally:
            connection.close()
