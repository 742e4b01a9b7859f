#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tidb_backup
short_description: Back up a TiDB cluster with BR (BACKUP statement), cancel or delete a backup
version_added: "0.1.0"
description:
  - V(present) runs C(BACKUP DATABASE * TO '<url>') (or named databases or tables) through a TiDB
    server of the cluster, and keeps a record of it in the catalog and beside the data. A backup
    is keyed by O(name); when a finished backup of that name exists, the module reports it and
    changes nothing. When its record is still V(processing) because the job that ran it died, the
    module takes it over - it waits for the BACKUP still running in TiDB and records its result,
    or runs it again into the same path, where BR's checkpoints make it continue. A failed or
    cancelled backup of that name is taken again, into a new path.
  - With O(mode=auto), the cluster's strategy (M(tidbops.manager.tidb_backup_strategy)) decides;
    a backup runs only when the current hour is inside the strategy's window and no backup exists
    for this window yet; then the oldest automatic backups beyond the retention are deleted.
  - V(cancelled) finds the running backup in C(SHOW BACKUPS) and kills it (C(KILL TIDB QUERY)).
  - V(absent) deletes a backup's files and its record.
  - The cluster's lock in the catalog is held while a backup runs, so that two jobs cannot back
    up or restore the same cluster at once.
options:
  cluster:
    description:
      - The cluster's name (the key of its records and of its lock).
    type: str
    required: true
  name:
    description:
      - The backup's id. Running the task again with the same O(name) reports that backup
        instead of taking another.
      - Without it a manual backup gets a new id from the current time, so every run takes a
        new backup. Automatic backups get an id from their window.
    type: str
    aliases: [id]
  state:
    description:
      - V(present) takes the backup, V(cancelled) cancels it while it runs, V(absent) deletes it.
    type: str
    choices: [present, cancelled, absent]
    default: present
  mode:
    description:
      - V(manual) backs up now; V(auto) follows the cluster's strategy (see above).
    type: str
    choices: [manual, auto]
    default: manual
  storage:
    description:
      - Where backups go, an absolute local/NFS path (it must be the same on every TiKV host) or an
        V(s3://bucket/prefix) URL; the backup is written under
        C(<storage>/<cluster>/<YYYY-MM-DD-HH-MM-SS>-full) (C(-incremental) for incremental ones), as
        TiUniManager did.
      - Required to take a backup, unless O(path) is given.
    type: str
  path:
    description:
      - The exact destination of the backup, instead of the layout under O(storage); the two
        exclude each other.
      - It must not hold a backup already (C(BACKUP_PATH_NOT_EMPTY)).
    type: str
  databases:
    description:
      - Back up only these databases (C(BACKUP DATABASE a, b)).
    type: list
    elements: str
  tables:
    description:
      - Back up only these tables, written V(db.table) (C(BACKUP TABLE)).
    type: list
    elements: str
  last_backup:
    description:
      - Make an incremental backup of the changes since this backup (its id in the catalog).
    type: str
  rate_limit:
    description:
      - C(RATE_LIMIT), in MB/s per TiKV.
    type: int
  concurrency:
    description:
      - C(CONCURRENCY), the number of concurrent tasks per TiKV.
    type: int
  checksum:
    description:
      - C(CHECKSUM) of the BACKUP statement, and whether the tables' checksums
        (C(ADMIN CHECKSUM TABLE)) are kept in the record for O(tidbops.manager.tidb_restore#module:verify).
    type: bool
    default: true
  snapshot:
    description:
      - C(SNAPSHOT), the time to back up (a TSO, a timestamp, or an expression such as V(1 HOUR AGO)).
    type: str
  now:
    description:
      - The current time, ISO-8601, for O(mode=auto). Meant for tests and for replaying a schedule.
    type: str
extends_documentation_fragment:
  - tidbops.manager.login
  - tidbops.manager.tiup
  - tidbops.manager.catalog
  - tidbops.manager.s3
  - tidbops.manager.lock
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
attributes:
  check_mode:
    support: full
    details: Predicts C(changed) from the records, the storage and the strategy; runs no BACKUP.
  diff_mode:
    support: none
notes:
  - S3 credentials (O(s3_access_key), O(s3_secret_key)) reach BR inside the statement's storage URL,
    as BR's query parameters; they are never written to a record, a log or a result.
  - O(state=cancelled) must reach the TiDB server that runs the backup (C(SHOW BACKUPS) lists only
    that server's tasks).
  - The tables' checksums are taken just before the BACKUP statement; writes during the backup
    make a later verify report differences.
seealso:
  - module: tidbops.manager.tidb_backup_info
  - module: tidbops.manager.tidb_backup_strategy
  - module: tidbops.manager.tidb_restore
  - name: BACKUP statement
    description: TiDB's BACKUP statement.
    link: https://docs.pingcap.com/tidb/stable/sql-statement-backup
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: Back up the whole cluster to S3
  tidbops.manager.tidb_backup:
    cluster: prod-1
    name: before-upgrade
    storage: s3://backups/tidb
    s3_endpoint: http://minio:9000
    s3_access_key: "{{ vault_s3_access_key }}"
    s3_secret_key: "{{ vault_s3_secret_key }}"
    catalog: s3://backups/tidbops-catalog
    login_host: 10.0.1.5

- name: Hourly, from cron or an AWX schedule - back up when the strategy says so
  tidbops.manager.tidb_backup:
    cluster: prod-1
    mode: auto
    storage: /mnt/nfs/backups

- name: Cancel a running backup
  tidbops.manager.tidb_backup:
    cluster: prod-1
    name: before-upgrade
    state: cancelled

- name: Delete a backup and its files
  tidbops.manager.tidb_backup:
    cluster: prod-1
    name: before-upgrade
    state: absent
'''

RETURN = r'''
replaced_lock:
  description: The cluster lock this job replaced, with why (C(replaced_because)) - its holder was gone, or O(break_lock).
  returned: when the job took over or broke another job's lock
  type: dict
backup:
  description: The backup's record (after the task; in check mode, as it is now).
  returned: always
  type: dict
  contains:
    id:
      description: The backup's id.
      type: str
    cluster:
      description: The cluster backed up.
      type: str
    mode:
      description: V(manual) or V(auto).
      type: str
    type:
      description: V(full) or V(incremental).
      type: str
    path:
      description: Where the backup is, without credentials.
      type: str
    storage_type:
      description: V(local) or V(s3).
      type: str
    size:
      description: Bytes, as BACKUP reported them.
      type: int
    backup_ts:
      description: The backup's TSO.
      type: int
    status:
      description: V(processing), V(finished), V(failed) or V(cancelled).
      type: str
    start_time:
      description: When the backup started (UTC).
      type: str
    end_time:
      description: When it ended (UTC).
      type: str
    checksums:
      description: The tables' C(ADMIN CHECKSUM TABLE) results when the backup started.
      type: dict
  sample:
    id: before-upgrade
    cluster: prod-1
    mode: manual
    type: full
    path: s3://backups/tidb/prod-1/2026-11-22-02-00-00-full
    storage_type: s3
    size: 74346
    backup_ts: 439330705621123078
    status: finished
due:
  description: With O(mode=auto), whether the strategy's window is open now.
  returned: when mode is auto
  type: bool
window:
  description: With O(mode=auto), the window the backup belongs to.
  returned: when mode is auto and the window is open
  type: dict
deleted:
  description: Ids of the backups deleted (O(state=absent), or retention after an automatic backup).
  returned: always
  type: list
  elements: str
error_code:
  description: A stable code for the failure (see docs/error-codes.md).
  returned: failure
  type: str
  sample: BACKUP_PATH_NOT_EMPTY
'''

import datetime

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule
from ansible_collections.tidbops.manager.plugins.module_utils.specs import UINT32

from ansible_collections.tidbops.manager.plugins.module_utils.backup import schedule
from ansible_collections.tidbops.manager.plugins.module_utils.backup.records import (
    KIND, ProgressReporter, backup_ts_of, cancelled_error, delete_backup, filter_records, finish_record, holds_backup,
    mark_cancelled, new_record, prepare_destination, record_failure, request_cancel)
from ansible_collections.tidbops.manager.plugins.module_utils.tools.brie import (
    BrieTarget, backup_statement, checksums, kill_query, missing_objects, run_brie, running_task, user_tables,
    validate_tables)
from ansible_collections.tidbops.manager.plugins.module_utils.catalog import kinds
from ansible_collections.tidbops.manager.plugins.module_utils.catalog.access import (
    cluster_lock, open_catalog, open_location, replaced_note)
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.polling import poll_until
from ansible_collections.tidbops.manager.plugins.module_utils.cluster.identity import Cluster, same_cluster


class BackupTask(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.cluster = module.params["cluster"]
        self.target = Cluster(module.params)
        # An injected time drives the records too, so a schedule can be replayed hour by hour.
        self.catalog = open_catalog(module.params, now=schedule.parse_now(module.params["now"])
                                    if module.params["now"] else None)
        self.result = dict(backup={}, deleted=[])

    # -- present -------------------------------------------------------------------------

    def present(self, backup_id, mode="manual", window=None):
        record = self.catalog.find(KIND, backup_id)
        if record and record["status"] == "finished":
            self.result["backup"] = record
            return
        if record and record["status"] == "processing":
            return self.resume(record)
        self.target.identify()  # CLUSTER_NOT_FOUND, PD_UNREACHABLE, CLUSTER_MISMATCH before anything is written
        now = self.catalog.now()
        last = self.last_backup()
        location = self.destination(now, last)
        target = BrieTarget(location, self.params)
        storage = open_location(location, self.params)
        self.check_scope()
        if not self.module.act("backup"):
            self.result["backup"] = record or {}
            return
        if holds_backup(storage):
            raise TidbOpsError("BACKUP_PATH_NOT_EMPTY", "%s already holds a backup (its backupmeta exists)"
                               % target.url, path=target.url)
        record = new_record(self.catalog, backup_id, self.cluster, self.target.identify(), mode, target,
                            self.params["databases"], self.params["tables"], last, window)
        self.run_backup(record, target, storage, last)

    def check_scope(self):
        """BACKUP_SCOPE_NOT_FOUND for databases or tables the cluster does not have: BR would
        back up nothing and call it a success."""
        if not (self.params["databases"] or self.params["tables"]):
            return
        connection = self.target.connect()
        try:
            missing = missing_objects(connection, self.params["databases"], self.params["tables"])
        finally:
            connection.close()
        if missing:
            raise TidbOpsError("BACKUP_SCOPE_NOT_FOUND", "cluster %s has no %s; nothing was backed up"
                               % (self.cluster, ", ".join(missing)), missing=missing)

    def destination(self, now, last):
        if self.params["path"]:
            return self.params["path"]
        if not self.params["storage"]:
            raise TidbOpsError("INVALID_ARGUMENT", "storage (or path) is needed to take a backup")
        suffix = "incremental" if last else "full"
        return "%s/%s/%s-%s" % (self.params["storage"].rstrip("/"), self.cluster,
                                now.strftime("%Y-%m-%d-%H-%M-%S"), suffix)

    def last_backup(self):
        if not self.params["last_backup"]:
            return None
        last = self.catalog.find(KIND, self.params["last_backup"])
        if last is None:
            raise TidbOpsError("BACKUP_RECORD_NOT_FOUND", "no backup %s to build an incremental backup on"
                               % self.params["last_backup"])
        if last["status"] != "finished" or not same_cluster(last, self.target):
            found = (last["id"], last["status"], last.get("cluster"), last.get("cluster_id"))
            raise TidbOpsError("BACKUP_RECORD_INVALID",
                               "backup %s is %s (of cluster %s, PD cluster id %s); an incremental backup needs a finished "
                               "backup of %s (PD cluster id %s)" % (found + (self.cluster, self.target.identify())))
        if not last.get("backup_ts"):
            # LAST_BACKUP = 0 would make it a full backup, silently.
            raise TidbOpsError("BACKUP_RECORD_INVALID", "backup %s has no backup_ts (its BackupTS could not be read "
                               "from its backupmeta); an incremental backup cannot be built on it" % last["id"])
        return last

    def resume(self, record):
        """A record left processing: the job that ran it died. Its BACKUP may still run in TiDB
        (TiDB does not notice a client gone until it answers), so wait for it and take over its
        result; one that ended without completing is run again into the same path, where BR's
        checkpoints make it continue."""
        target = BrieTarget(record["path"], self.params)
        storage = open_location(record["path"].replace("local://", "", 1), self.params)
        if not self.module.act("resume"):
            self.result["backup"] = record
            return
        with cluster_lock(self.catalog, self.target.key, "backup/" + record["id"], self.params["lock_ttl"],
                          self.params["break_lock"]) as replaced:
            self.note_replaced(replaced)
            self.wait_for_running(record, target)
            if holds_backup(storage):
                self.result["backup"] = finish_record(self.catalog, record, storage, size=storage.size(""),
                                                      backup_ts=backup_ts_of(storage), recovered=True,
                                                      progress=100.0)
                return
        last = self.catalog.find(KIND, record["last_backup"]) if record.get("last_backup") else None
        self.run_backup(record, target, storage, last)

    def wait_for_running(self, record, target):
        connection = self.target.connect()
        try:
            def finished():
                task = running_task(connection, "backup", target)
                if task is not None and task.get("Progress") is not None:
                    record["progress"] = float(task["Progress"])
                    self.catalog.put(KIND, record)
                return task is None

            done, _value = poll_until(finished, self.params["lock_ttl"], first_interval=0.5, max_interval=1.0)
            if not done:
                raise TidbOpsError("CLUSTER_LOCKED", "backup %s is still running in TiDB after lock_ttl seconds"
                                   % record["id"], backup=record)
        finally:
            connection.close()

    def run_backup(self, record, target, storage, last):
        connection = self.target.connect()
        try:
            with cluster_lock(self.catalog, self.target.key, "backup/" + record["id"], self.params["lock_ttl"],
                              self.params["break_lock"]) as replaced:
                self.note_replaced(replaced)
                prepare_destination(storage)  # only once the lock is held: a refused job creates nothing
                self.catalog.put(KIND, record)
                self.backup_recorded(connection, record, target, storage, last)
        finally:
            connection.close()

    def note_replaced(self, replaced):
        if replaced:
            self.result["replaced_lock"] = replaced
            self.module.warn(replaced_note(replaced))

    def backup_recorded(self, connection, record, target, storage, last):
        """BACKUP, with the record following it: finished, or failed/cancelled with the error."""
        reporter = ProgressReporter(self.target.connect, self.catalog, KIND, record)
        try:
            if self.params["checksum"]:
                record["checksums"] = checksums(connection, user_tables(connection, self.params["databases"],
                                                                        self.params["tables"]))
                self.catalog.put(KIND, record)  # a job taking over after a crash keeps them
            statement = backup_statement(target, self.params["databases"], self.params["tables"],
                                         self.params["rate_limit"], self.params["concurrency"],
                                         self.params["checksum"], last["backup_ts"] if last else None,
                                         self.params["snapshot"])
            reporter.start(connection.thread_id())
            row = run_brie(connection, statement, target, "BACKUP_FAILED")
            reporter.stop()
            self.result["backup"] = finish_record(
                self.catalog, record, storage, size=int(row.get("Size") or 0),
                backup_ts=int(row.get("BackupTS") or 0), progress=100.0)
        except TidbOpsError as failure:
            reporter.stop()
            error = cancelled_error(self.catalog, record, failure)
            record_failure(self.catalog, KIND, record, error,
                           "cancelled" if error.code == "BACKUP_CANCELLED" else "failed")
            raise error

    # -- auto ------------------------------------------------------------------------------

    def auto(self):
        strategy = self.catalog.find(kinds.STRATEGY, self.cluster)
        if strategy is None:
            raise TidbOpsError("BACKUP_STRATEGY_INVALID", "cluster %s has no backup strategy; set one with "
                               "tidbops.manager.tidb_backup_strategy" % self.cluster)
        now = self.catalog.now()
        window = schedule.current_window(strategy, now)
        self.result["due"] = window is not None
        if window:
            self.result["window"] = window
            backup_id = self.params["name"] or "auto-%s-%s" % (self.cluster, window_key(window))
            existing = self.catalog.find(KIND, backup_id)
            if existing and existing["status"] in ("failed", "cancelled") and not self.module.check_mode:
                self.catalog.delete(KIND, backup_id)  # a failed try does not fill the window
            self.present(backup_id, mode="auto", window=window)
        self.apply_retention(strategy, now)

    def apply_retention(self, strategy, now):
        autos = filter_records(self.catalog.list(KIND), cluster=self.cluster, mode="auto")
        for victim in schedule.retention_victims(autos, strategy, now):
            self.result["deleted"].append(victim["id"])
            if self.module.act("delete"):
                delete_backup(self.catalog, victim, self.params)

    # -- cancelled / absent ----------------------------------------------------------------

    def cancelled(self, backup_id):
        record = self.catalog.find(KIND, backup_id)
        if record is None:
            raise TidbOpsError("BACKUP_RECORD_NOT_FOUND", "no backup %s" % backup_id)
        self.result["backup"] = record
        if record["status"] == "cancelled":
            return
        if record["status"] != "processing":
            raise TidbOpsError("BACKUP_RECORD_INVALID", "backup %s is %s, there is nothing to cancel"
                               % (backup_id, record["status"]), backup=record)
        if not self.module.act("cancel"):
            return
        target = BrieTarget(record["path"], self.params)
        connection = self.target.connect()
        try:
            task = running_task(connection, "backup", target)
            if task is None:
                raise TidbOpsError("BACKUP_CANCEL_FAILED", "backup %s is not in SHOW BACKUPS of %s:%s; cancel it "
                                   "on the TiDB server that runs it" % (backup_id, self.params["login_host"],
                                                                        self.params["login_port"]))
            request_cancel(self.catalog, backup_id)
            kill_query(connection, task["Connection"])
        finally:
            connection.close()
        # The job running the backup records the cancel itself; if that job is gone, do it here.
        done, record = poll_until(lambda: self.settled(backup_id), 15)
        if not done:
            record = mark_cancelled(self.catalog, backup_id)
        self.result["backup"] = record

    def settled(self, backup_id):
        record = self.catalog.get(KIND, backup_id)
        return record if record["status"] != "processing" else None

    def absent(self, backup_id):
        record = self.catalog.find(KIND, backup_id)
        if record is None:
            return
        if record.get("cluster") != self.cluster:
            raise TidbOpsError("BACKUP_RECORD_INVALID", "backup %s belongs to cluster %s, not %s"
                               % (backup_id, record.get("cluster"), self.cluster))
        self.result.update(backup=record, deleted=[backup_id])
        if self.module.act("delete"):
            delete_backup(self.catalog, record, self.params)

    def run(self):
        state, name = self.params["state"], self.params["name"]
        if state == "cancelled":
            self.cancelled(name)
        elif state == "absent":
            self.absent(name)
        elif self.params["mode"] == "auto":
            self.auto()
        else:
            self.present(name or self.catalog.now().strftime("%Y-%m-%d-%H-%M-%S-full"))
        return self.module.result(**self.result)


def window_key(window):
    """A compact, id-safe form of a window's start."""
    start = window["start"]
    if isinstance(start, datetime.datetime):
        start = start.isoformat()
    return "".join(c for c in start[:13] if c.isalnum())


def validate(params):
    validate_tables(params["tables"])
    for location in (params["storage"], params["path"]):
        if location:
            BrieTarget(location, params)  # STORAGE_URL_INVALID before anything happens
    if params["mode"] == "auto" and params["state"] != "present":
        raise TidbOpsError("INVALID_ARGUMENT", "mode auto takes backups; cancel or delete them by name")
    if params["now"]:
        schedule.parse_now(params["now"])


def run(module):
    validate(module.params)  # nothing is read or written for bad input
    return BackupTask(module).run()


def main():
    module = TidbOpsModule(
        dict(
            cluster=dict(type="str", required=True),
            name=dict(type="str", aliases=["id"]),
            state=dict(type="str", default="present", choices=["present", "cancelled", "absent"]),
            mode=dict(type="str", default="manual", choices=["manual", "auto"]),
            storage=dict(type="str"),
            path=dict(type="str"),
            databases=dict(type="list", elements="str"),
            tables=dict(type="list", elements="str"),
            last_backup=dict(type="str"),
            rate_limit=dict(type="int"),
            concurrency=dict(type="int"),
            checksum=dict(type="bool", default=True),
            snapshot=dict(type="str"),
            now=dict(type="str"),
        ),
        mutually_exclusive=[["databases", "tables"], ["storage", "path"]],
        required_if=[("state", "cancelled", ("name",)), ("state", "absent", ("name",))],
        ranges=dict(rate_limit=(1, UINT32), concurrency=(1, UINT32)),
        blocks=("login", "tiup", "catalog", "s3", "lock"), supports_check_mode=True)
    module.run(run, module)


if __name__ == "__main__":
    main()
