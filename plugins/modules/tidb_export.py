#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tidb_export
short_description: Export data from a TiDB cluster with Dumpling, keeping a transfer record
version_added: "0.2.0"
description:
  - V(present) runs Dumpling (C(tiup dumpling) or a C(dumpling) binary) against a TiDB server of the
    cluster and writes SQL or CSV files to a local/NFS directory or an S3 prefix, with a transfer
    record in the catalog (TiUniManager's C(DataTransportRecord)). The export is keyed by O(name);
    when a finished export of that name exists the module reports it and changes nothing.
  - A record left V(processing) by a job that died, or a V(failed) one, is exported again into the
    same path (Dumpling cannot continue a dump; its partial files are removed first).
  - With O(zip=true) a local export is also packed into one archive for download, within
    O(max_file_size).
  - V(absent) deletes the record with the export's local files and working directory; S3 objects
    only with O(delete_data=true).
  - At most O(max_concurrent_transfers) imports and exports run on a cluster at once (slots in the
    catalog); the next one fails with C(TRANSFER_LIMIT_REACHED), or waits with O(wait=true).
options:
  cluster:
    description:
      - The cluster's name (the key of its records and of its transfer slots).
    type: str
    required: true
  name:
    description:
      - The export's id. Running the task again with the same O(name) reports that export.
      - Without it a new id is made from the current time, so every run exports again.
    type: str
    aliases: [id]
  state:
    description:
      - V(present) exports, V(absent) deletes an export and its record.
    type: str
    choices: [present, absent]
    default: present
  storage:
    description:
      - Where exports go, an absolute local/NFS path or an V(s3://bucket/prefix) URL; the export is
        written under C(<storage>/<cluster>/<name>).
      - Required to export, unless O(path) is given.
    type: str
  path:
    description:
      - The exact destination, instead of the layout under O(storage). It must be empty.
    type: str
  file_type:
    description:
      - Dumpling's C(--filetype).
    type: str
    choices: [sql, csv]
    default: sql
  filter:
    description:
      - Table filters (Dumpling's C(-f), the table-filter syntax, for example V(shop.*) or V(!shop.audit)).
    type: list
    elements: str
  sql:
    description:
      - Export the result of this query (Dumpling's C(--sql)); only with O(file_type=csv), not with O(filter)
        or O(where). Such an export cannot be imported again (it has no table).
    type: str
  where:
    description:
      - Dumpling's C(--where), applied to every table exported.
    type: str
  threads:
    description:
      - Dumpling's C(-t) (TiUniManager used 8).
    type: int
    default: 8
  rows:
    description:
      - Dumpling's C(-r), rows per chunk (splits big tables for concurrency). V(0) turns it off.
    type: int
    default: 200000
  file_size:
    description:
      - Dumpling's C(-F), the size at which a data file is split.
    type: str
    default: 256MiB
  compress:
    description:
      - Dumpling's C(-c).
    type: str
    choices: [gzip, snappy, zstd, no-compression]
  consistency:
    description:
      - Dumpling's C(--consistency); its default V(auto) is V(snapshot) on TiDB.
    type: str
    choices: [auto, none, flush, lock, snapshot]
  snapshot:
    description:
      - Dumpling's C(--snapshot), a TSO or a time V(YYYY-MM-DD hh:mm:ss).
    type: str
  zip:
    description:
      - Pack a local export into one zip archive (C(<work_dir>/<cluster>/export-<name>/<zip_name>)),
        for download, refused over O(max_file_size).
    type: bool
    default: false
  zip_name:
    description:
      - The archive's file name.
    type: str
    default: data.zip
  dumpling_path:
    description:
      - A C(dumpling) binary to run, instead of C(tiup dumpling).
    type: path
extends_documentation_fragment:
  - tidbops.manager.login
  - tidbops.manager.catalog
  - tidbops.manager.s3
  - tidbops.manager.tiup
  - tidbops.manager.transfer
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
attributes:
  check_mode:
    support: full
    details: Predicts C(changed) from the record and the destination; runs nothing, writes nothing.
  diff_mode:
    support: none
notes:
  - Dumpling takes a password only on its command line, which every local user can read. So the
    module never gives it O(login_password) - it creates a one-time account with a random
    password and only the privileges a dump needs (C(SELECT, RELOAD, LOCK TABLES, REPLICATION
    CLIENT, PROCESS, SHOW VIEW)), lets Dumpling log in with it, and drops it when Dumpling ends.
    O(login_user) therefore needs C(CREATE USER) and those privileges C(WITH GRANT OPTION).
  - S3 keys reach Dumpling through the C(AWS_ACCESS_KEY_ID)/C(AWS_SECRET_ACCESS_KEY) environment
    variables; the URL it gets carries only the endpoint. No record, log or result holds a key.
  - The number of rows comes from Dumpling's C(backup success summary) log line.
seealso:
  - module: tidbops.manager.tidb_import
  - module: tidbops.manager.tidb_transfer_info
  - name: Dumpling
    description: Dumpling's documentation.
    link: https://docs.pingcap.com/tidb/stable/dumpling-overview
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: Export the shop database as CSV to S3
  tidbops.manager.tidb_export:
    cluster: prod-1
    name: shop-2026-11-22
    storage: s3://exports/tidb
    file_type: csv
    filter: ["shop.*"]
    login_password: "{{ tidb_root_password }}"
    catalog: s3://ops/catalog
    s3_endpoint: https://s3.example.com
    s3_access_key: "{{ s3_key }}"
    s3_secret_key: "{{ s3_secret }}"

- name: Export to NFS and pack a zip for download
  tidbops.manager.tidb_export:
    cluster: prod-1
    name: orders-dump
    storage: /mnt/exports
    zip: true
    catalog: /mnt/exports/catalog
  register: dump

- name: Export the result of a query
  tidbops.manager.tidb_export:
    cluster: prod-1
    name: big-orders
    storage: /mnt/exports
    file_type: csv
    sql: SELECT * FROM shop.orders WHERE total > 1000

- name: Delete an S3 export with its data
  tidbops.manager.tidb_export:
    cluster: prod-1
    name: shop-2026-11-22
    state: absent
    delete_data: true
'''

RETURN = r'''
transfer:
  description: The export's transfer record (in check mode, as it is now).
  returned: always
  type: dict
  contains:
    id:
      description: The export's id.
      type: str
    cluster:
      description: The cluster exported.
      type: str
    type:
      description: V(export).
      type: str
    path:
      description: Where the data is (a directory or an s3:// URL without credentials).
      type: str
    storage_type:
      description: V(local) or V(s3).
      type: str
    file_type:
      description: V(sql) or V(csv).
      type: str
    status:
      description: V(processing), V(finished) or V(failed).
      type: str
    reimport_support:
      description: Whether M(tidbops.manager.tidb_import) can import it again (not for O(sql) exports).
      type: bool
    size:
      description: Bytes written.
      type: int
    rows:
      description: Rows exported.
      type: int
    zip_path:
      description: The archive, with O(zip=true).
      type: str
    config_path:
      description: The job's working directory.
      type: str
    start_time:
      description: When the export started (UTC).
      type: str
    end_time:
      description: When it ended (UTC).
      type: str
  sample:
    id: shop-2026-11-22
    cluster: prod-1
    type: export
    path: s3://exports/tidb/prod-1/shop-2026-11-22
    storage_type: s3
    file_type: csv
    status: finished
    reimport_support: true
    size: 1048576
    rows: 20000
actions:
  description: What the task did (in check mode, would do).
  returned: always
  type: list
  elements: str
  sample: [export]
  choices: [export, zip, delete]
commands:
  description: The Dumpling command lines run, with the one-time password masked.
  returned: always
  type: list
  elements: str
deleted:
  description: Locations removed with O(state=absent).
  returned: when state is absent
  type: list
  elements: str
error_code:
  description: A stable code for the failure (see docs/error-codes.md).
  returned: failure
  type: str
  sample: TRANSFER_LIMIT_REACHED
'''

import os

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule
from ansible_collections.tidbops.manager.plugins.module_utils.specs import INT32, INT64

from ansible_collections.tidbops.manager.plugins.module_utils.tools import dumpling
from ansible_collections.tidbops.manager.plugins.module_utils.transfer import records as transfers
from ansible_collections.tidbops.manager.plugins.module_utils.storage.archive import zip_directory
from ansible_collections.tidbops.manager.plugins.module_utils.catalog.access import open_location
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.storage.location import parse_location
from ansible_collections.tidbops.manager.plugins.module_utils.transfer.task import TransferTask
from ansible_collections.tidbops.manager.plugins.module_utils.tools.program import (
    find_tool, read_text, tool_location)

LOG_FILE = "dumpling.log"


class ExportTask(TransferTask):
    TYPE = "export"

    # -- present -------------------------------------------------------------------------

    def finished(self, record):
        if self.params["zip"] and not (record.get("zip_path") and os.path.isfile(record["zip_path"])):
            if self.module.act("zip"):
                self.result["transfer"] = transfers.finish(self.catalog, record, zip_path=self.pack(record))

    def start(self, record_id, record):
        location = record["path"] if record else self.destination(record_id)
        storage = open_location(location, self.params)
        if self.params["zip"] and storage.kind != "local":
            raise TidbOpsError("INVALID_ARGUMENT", "zip packs a local export; %s is on S3" % storage.url)
        tool = find_tool(self.module, self.params, "dumpling", "dumpling_path")
        connection = self.target.connect()  # an unknown or unreachable cluster fails before anything is written
        try:
            if record is None and storage.list(""):
                raise TidbOpsError("TRANSFER_PATH_NOT_EMPTY", "%s already holds files; export into an empty "
                                   "location" % storage.url, path=storage.url)
            self.result["transfer"] = record or {}
            if not self.module.act("export"):
                return
            with self.running(record_id, record, storage.url, storage.kind, file_type=self.params["file_type"],
                              reimport_support=not self.params["sql"]) as record:
                self.export(connection, record, storage, tool)
        finally:
            connection.close()

    def destination(self, record_id):
        if self.params["path"]:
            return self.params["path"]
        if not self.params["storage"]:
            raise TidbOpsError("INVALID_ARGUMENT", "storage (or path) is needed to export")
        return "%s/%s/%s" % (self.params["storage"].rstrip("/"), self.cluster, record_id)

    def export(self, connection, record, storage, tool):
        """Dumpling into an emptied destination; the record follows: finished or failed."""
        work, job = record["config_path"], transfers.job_name("export", record["id"])
        try:
            storage.delete_prefix("")  # what a dead or failed run left: Dumpling starts over
            if storage.kind == "local":
                storage.ensure_root()
            log_file = os.path.join(work, LOG_FILE)
            if os.path.exists(log_file):
                os.unlink(log_file)
            url, env, secret_env = tool_location(record["path"], self.params)
            running = [transfers.job_name("export", r["id"]) for r in self.catalog.list(transfers.KIND)
                       if r.get("type") == "export" and r.get("cluster") == self.cluster
                       and r.get("status") == "processing" and transfers.job_running(self.catalog, r)]
            dumpling.drop_stale_accounts(connection, keep=[dumpling.account_name(j) for j in running])
            with dumpling.one_time_account(connection, job) as (user, password):
                result = tool.run(dumpling.dumpling_argv(self.params, url, user, password, log_file),
                                  (env, secret_env), argv_secrets=[password], cwd=work)
                self.result["commands"].append(result.cmd)
                rows = dumpling.outcome(result, read_text(log_file), [password])
            fields = dict(size=storage.size(""), rows=rows)
            if self.params["zip"]:
                fields["zip_path"] = self.pack(record)
            self.result["transfer"] = transfers.finish(self.catalog, record, **fields)
        except TidbOpsError as error:
            if self.params["on_failure"] == "remove":
                storage.delete_prefix("")
            transfers.record_failure(self.catalog, record, error)
            raise

    def pack(self, record):
        zip_path = os.path.join(record["config_path"], self.params["zip_name"])
        zip_directory(record["path"], zip_path, self.params["max_file_size"])
        return zip_path

    def data_storage(self, record):
        return open_location(record["path"], self.params)


def validate(params):
    for location in (params["storage"], params["path"]):
        if location:
            parse_location(location)  # STORAGE_URL_INVALID before anything happens
    if params["state"] == "present":
        dumpling.check_options(params)
    if os.path.basename(params["zip_name"]) != params["zip_name"] or params["zip_name"] in ("", ".", ".."):
        raise TidbOpsError("INVALID_ARGUMENT", "zip_name %r must be a file name, without a directory"
                           % params["zip_name"])


def run(module):
    validate(module.params)  # nothing is read or written for bad input
    return ExportTask(module).run()


def main():
    module = TidbOpsModule(
        dict(
            cluster=dict(type="str", required=True),
            name=dict(type="str", aliases=["id"]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            storage=dict(type="str"),
            path=dict(type="str"),
            file_type=dict(type="str", default="sql", choices=["sql", "csv"]),
            filter=dict(type="list", elements="str"),
            sql=dict(type="str"),
            where=dict(type="str"),
            threads=dict(type="int", default=8),
            rows=dict(type="int", default=200000),
            file_size=dict(type="str", default="256MiB"),
            compress=dict(type="str", choices=["gzip", "snappy", "zstd", "no-compression"]),
            consistency=dict(type="str", choices=["auto", "none", "flush", "lock", "snapshot"]),
            snapshot=dict(type="str"),
            zip=dict(type="bool", default=False),
            zip_name=dict(type="str", default="data.zip"),
            dumpling_path=dict(type="path"),
        ),
        required_if=[("state", "absent", ("name",))],
        ranges=dict(threads=(1, INT32), rows=(0, INT64)),
        blocks=("login", "catalog", "s3", "tiup", "transfer"), supports_check_mode=True)
    module.run(run, module)


if __name__ == "__main__":
    main()
