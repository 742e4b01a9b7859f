#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tidb_restore
short_description: Restore a BR backup into an existing TiDB cluster (RESTORE statement)
version_added: "0.1.0"
description:
  - Runs C(RESTORE DATABASE * FROM '<url>') (or named databases or tables) through a TiDB server of
    the target cluster, from a backup record of M(tidbops.manager.tidb_backup) or from a storage path.
  - Keeps a restore record in the catalog, keyed by O(name), so the same restore run again reports the
    finished one and changes nothing.
  - BR never overwrites tables; when the target already has one of the backup's tables the module
    fails with C(RESTORE_TABLES_EXIST) and the cluster is left as it was.
  - O(verify=true) compares the restored tables' C(ADMIN CHECKSUM TABLE) with the checksums the
    backup recorded.
  - The target cluster's lock in the catalog is held while the restore runs.
options:
  cluster:
    description:
      - The target cluster's name (the key of its lock and of the restore record).
    type: str
    required: true
  backup:
    description:
      - The id of the backup record to restore.
    type: str
    aliases: [backup_id]
  path:
    description:
      - The storage path or V(s3://) URL of a backup to restore, instead of O(backup). Its own copy
        of its record, when present, gives the checksums for O(verify).
    type: str
  name:
    description:
      - The restore's id. By default V(<backup>-to-<cluster>).
    type: str
  databases:
    description:
      - Restore only these databases.
    type: list
    elements: str
  tables:
    description:
      - Restore only these tables, written V(db.table).
    type: list
    elements: str
  rate_limit:
    description:
      - C(RATE_LIMIT), in MB/s per TiKV.
    type: int
  concurrency:
    description:
      - C(CONCURRENCY).
    type: int
  checksum:
    description:
      - C(CHECKSUM) of the RESTORE statement.
    type: bool
  verify:
    description:
      - Compare the restored tables' checksums with those the backup recorded.
    type: bool
    default: false
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
    details: Predicts C(changed) from the records; runs no RESTORE.
  diff_mode:
    support: none
seealso:
  - module: tidbops.manager.tidb_backup
  - name: RESTORE statement
    description: TiDB's RESTORE statement.
    link: https://docs.pingcap.com/tidb/stable/sql-statement-restore
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: Restore last night's backup into the staging cluster and check the data
  tidbops.manager.tidb_restore:
    cluster: staging
    backup: auto-prod-1-2026112302
    verify: true
    login_host: 10.0.2.5

- name: Restore from a path
  tidbops.manager.tidb_restore:
    cluster: staging
    path: s3://backups/tidb/prod-1/2026-11-22-02-00-00-full
'''

RETURN = r'''
replaced_lock:
  description: The cluster lock this job replaced, with why (C(replaced_because)) - its holder was gone, or O(break_lock).
  returned: when the job took over or broke another job's lock
  type: dict
restore:
  description: The restore record (id, cluster, backup_id, path, status, size, backup_ts,
    start_time, end_time, verified, differences).
  returned: always
  type: dict
verified:
  description: With O(verify=true), whether every restored table's checksum equals the backup's.
  returned: when verify is true
  type: bool
differences:
  description: Tables whose checksums differ (or are missing) after the restore.
  returned: when verify is true
  type: list
  elements: str
error_code:
  description: A stable code for the failure (see docs/error-codes.md).
  returned: failure
  type: str
  sample: RESTORE_TABLES_EXIST
'''

import json

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule
from ansible_collections.tidbops.manager.plugins.module_utils.specs import UINT32

from ansible_collections.tidbops.manager.plugins.module_utils.backup.records import (
    KIND as BACKUP_KIND, holds_backup, record_failure)
from ansible_collections.tidbops.manager.plugins.module_utils.backup import restores
from ansible_collections.tidbops.manager.plugins.module_utils.tools.brie import (
    RECORD_COPY, BrieTarget, checksums, missing_objects, restore_statement, run_brie, validate_tables)
from ansible_collections.tidbops.manager.plugins.module_utils.catalog.store import format_time
from ansible_collections.tidbops.manager.plugins.module_utils.catalog import kinds
from ansible_collections.tidbops.manager.plugins.module_utils.catalog.access import (
    cluster_lock, open_catalog, open_location, replaced_note)
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.cluster.identity import Cluster

KIND = kinds.RESTORE


def resolve_source(catalog, params):
    """(backup record or {}, Storage, BrieTarget) of what to restore; fails before any change."""
    if params["backup"]:
        record = catalog.find(BACKUP_KIND, params["backup"])
        if record is None:
            raise TidbOpsError("BACKUP_RECORD_NOT_FOUND", "no backup %s in the catalog %s"
                               % (params["backup"], catalog.url))
        if record["status"] != "finished":
            raise TidbOpsError("BACKUP_RECORD_INVALID", "backup %s is %s; only a finished backup can be restored"
                               % (record["id"], record["status"]), backup=record)
        location = record["path"]
    else:
        record, location = None, params["path"]
    target = BrieTarget(location, params)
    storage = open_location(location.replace("local://", "", 1), params)
    if not holds_backup(storage):
        raise TidbOpsError("BACKUP_RECORD_NOT_FOUND", "%s holds no finished backup (no backupmeta)" % target.url)
    if record is None:
        record = json.loads(storage.get_bytes(RECORD_COPY)) if storage.exists(RECORD_COPY) else {}
    return record, target


def compare(expected, actual):
    differences = []
    for table, want in sorted(expected.items()):
        got = actual.get(table)
        if got != want:
            differences.append("%s: backup %s, restored %s" % (table, want, got))
    return differences


def verify(connection, backup, params):
    expected = backup.get("checksums") or {}
    if params["tables"]:
        expected = dict((t, c) for t, c in expected.items() if t in params["tables"])
    elif params["databases"]:
        expected = dict((t, c) for t, c in expected.items() if t.split(".", 1)[0] in params["databases"])
    if not expected:
        raise TidbOpsError("BACKUP_RECORD_INVALID", "the backup recorded no checksums to verify against "
                           "(it was taken with checksum=false, or its record is missing)")
    return compare(expected, checksums(connection, sorted(expected)))


def restore_recorded(connection, catalog, record, target, backup, params, result):
    """RESTORE (and verify), with the record following it: finished, or failed with the error."""
    try:
        row = run_brie(connection, restore_statement(target, params["databases"], params["tables"],
                                                     params["rate_limit"], params["concurrency"],
                                                     params["checksum"]), target, "RESTORE_FAILED")
        record.update(size=int(row.get("Size") or 0), backup_ts=int(row.get("BackupTS") or 0))
        if params["verify"]:
            differences = verify(connection, backup, params)
            record.update(verified=not differences, differences=differences)
            result.update(verified=not differences, differences=differences)
            if differences:
                raise TidbOpsError("RESTORE_VERIFY_FAILED", "restored tables differ from the backup: %s"
                                   % "; ".join(differences), differences=differences)
        record.update(status="finished", end_time=format_time(catalog.now()))
        catalog.put(KIND, record)
    except TidbOpsError as error:
        record_failure(catalog, KIND, record, error)
        raise


def still_there(backup, params, cluster):
    """Whether what a finished restore restored is still on the cluster (a dropped table means
    the restore is to be done again)."""
    tables, databases = restores.restored_objects(backup, params["databases"], params["tables"])
    if tables is None and databases is None:
        return True
    connection = cluster.connect()
    try:
        return not missing_objects(connection, databases=databases, tables=tables)
    finally:
        connection.close()


def run(module):
    params = module.params
    validate_tables(params["tables"])
    catalog = open_catalog(params)
    backup, target = resolve_source(catalog, params)
    restores.check_scope(backup, params["databases"], params["tables"])
    name = params["name"] or restores.restore_id(backup.get("id"), params["cluster"], params["databases"],
                                                 params["tables"])
    existing = catalog.find(KIND, name)
    result = dict(restore=existing or {})
    cluster = Cluster(params)
    if existing and existing["status"] == "finished" and still_there(backup, params, cluster):
        if params["verify"]:
            connection = cluster.connect()
            try:
                differences = verify(connection, backup, params)
            finally:
                connection.close()
            result.update(verified=not differences, differences=differences)
        return module.result(**result)
    cluster.identify()  # CLUSTER_NOT_FOUND, PD_UNREACHABLE, CLUSTER_MISMATCH before anything is written
    if not module.act("restore"):
        return module.result(**result)

    record = dict(id=name, cluster=params["cluster"], cluster_id=cluster.identify(), backup_id=backup.get("id"), path=target.url,
                  status="processing", start_time=format_time(catalog.now()), end_time=None,
                  databases=params["databases"], tables=params["tables"], verified=None)
    connection = cluster.connect()
    try:
        with cluster_lock(catalog, cluster.key, "restore/" + name, params["lock_ttl"],
                          params["break_lock"]) as replaced:
            if replaced:
                result["replaced_lock"] = replaced
                module.warn(replaced_note(replaced))
            catalog.put(KIND, record)
            restore_recorded(connection, catalog, record, target, backup, params, result)
    finally:
        connection.close()
    result["restore"] = record
    return module.result(**result)


def main():
    module = TidbOpsModule(
        dict(
            cluster=dict(type="str", required=True),
            backup=dict(type="str", aliases=["backup_id"]),
            path=dict(type="str"),
            name=dict(type="str"),
            databases=dict(type="list", elements="str"),
            tables=dict(type="list", elements="str"),
            rate_limit=dict(type="int"),
            concurrency=dict(type="int"),
            checksum=dict(type="bool"),
            verify=dict(type="bool", default=False),
        ),
        mutually_exclusive=[["backup", "path"], ["databases", "tables"]],
        required_one_of=[["backup", "path"]],
        ranges=dict(rate_limit=(1, UINT32), concurrency=(1, UINT32)),
        blocks=("login", "tiup", "catalog", "s3", "lock"), supports_check_mode=True)
    module.run(run, module)


if __name__ == "__main__":
    main()
