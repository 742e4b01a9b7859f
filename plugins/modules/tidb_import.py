#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tidb_import
short_description: Import data into a TiDB cluster with TiDB Lightning or IMPORT INTO, keeping a transfer record
version_added: "0.2.0"
description:
  - V(present) imports Dumpling-format data (SQL or CSV files, schema files optional) into the
    cluster and keeps a transfer record in the catalog. The import is keyed by O(name); when a
    finished import of that name exists the module reports it and changes nothing.
  - The data comes from an V(s3://) URL or a directory (O(source)), a zip archive (O(archive), sent
    from the controller unless O(remote_src=true)), or a finished export's record (O(from_export),
    a re-import).
  - With O(method=lightning) it runs TiDB Lightning (C(tiup tidb-lightning) or a binary) with a
    C(tidb-lightning.toml) built from the options and a file checkpoint in the job's working
    directory, so a run that was killed resumes where it stopped when the task runs again, with no
    duplicate rows.
  - With O(method=import_into) it runs one detached C(IMPORT INTO) per table (TiDB 7.2 or later),
    creating missing tables from the export's schema files, follows each job in
    C(SHOW IMPORT JOB) and cancels it (C(CANCEL IMPORT JOB)) when it outlives O(timeout). A re-run
    follows the jobs a killed run started instead of starting new ones.
  - V(absent) deletes the record and the job's working directory (checkpoint, unpacked archive);
    the imported rows and the source stay.
options:
  cluster:
    description:
      - The cluster's name (the key of its records and of its transfer slots).
    type: str
    required: true
  name:
    description:
      - The import's id. Running the task again with the same O(name) reports or resumes that import.
      - Without it a new id is made from the current time.
    type: str
    aliases: [id]
  state:
    description:
      - V(present) imports, V(absent) deletes the import's record and working directory.
    type: str
    choices: [present, absent]
    default: present
  source:
    description:
      - The data, an absolute directory on the managed node or an V(s3://bucket/prefix) URL.
      - For O(method=import_into) a directory must be readable by the TiDB server itself.
    type: str
  archive:
    description:
      - A zip archive of the data, on the controller (sent to the managed node by the action plugin)
        or, with O(remote_src=true), on the managed node. It is unpacked into the job's working
        directory; an archive with entries that would leave it (absolute names, C(..), links) is
        refused with C(IMPORT_ARCHIVE_INVALID), one over O(max_file_size) with
        C(TRANSFER_FILE_SIZE_INVALID), before anything is written.
    type: path
  remote_src:
    description:
      - O(archive) is already on the managed node.
    type: bool
    default: false
  from_export:
    description:
      - Import again the data of this export (the id of a finished M(tidbops.manager.tidb_export) record
        that supports re-import).
    type: str
  method:
    description:
      - V(lightning) runs TiDB Lightning; V(import_into) runs C(IMPORT INTO) statements (TiDB 7.2 or later).
    type: str
    choices: [lightning, import_into]
    default: lightning
  backend:
    description:
      - Lightning's C([tikv-importer] backend). V(local) needs empty target tables and PD
        (O(pd_addr), found with tiup when not given); V(tidb) writes through SQL.
    type: str
    choices: [local, tidb]
    default: local
  sorted_kv_dir:
    description:
      - Lightning's C(sorted-kv-dir) for the local backend; C(<job dir>/sorted-kv) by default.
    type: path
  conflict_strategy:
    description:
      - Lightning's C([conflict] strategy) (v7.3 and later) for rows whose keys already exist.
    type: str
    choices: [error, replace, ignore]
  check_requirements:
    description:
      - Lightning's C(check-requirements) prechecks (TiUniManager turned them off).
    type: bool
    default: false
  no_schema:
    description:
      - Lightning's C(no-schema); the target tables must exist.
    type: bool
    default: false
  filter:
    description:
      - Lightning's C([mydumper] filter), table filters such as V(shop.*).
    type: list
    elements: str
  csv:
    description:
      - Lightning's C([mydumper.csv]) settings for CSV data (header is also used by IMPORT INTO to
        skip the first line).
    type: dict
    suboptions:
      separator:
        description: Field separator.
        type: str
      delimiter:
        description: Quoting delimiter.
        type: str
      terminator:
        description: Line terminator.
        type: str
      header:
        description: The files start with a header line.
        type: bool
      "null":
        description: The text of NULL.
        type: str
      backslash_escape:
        description: Backslashes escape characters.
        type: bool
      trim_last_separator:
        description: A separator ends each line.
        type: bool
      not_null:
        description: No field is NULL.
        type: bool
  checksum:
    description:
      - Lightning's C([post-restore] checksum).
    type: str
    choices: [required, optional, "off"]
    default: required
  analyze:
    description:
      - Lightning's C([post-restore] analyze).
    type: str
    choices: [required, optional, "off"]
    default: optional
  pd_addr:
    description:
      - PD's C(host:port) for Lightning's local backend; taken from C(tiup cluster display) when not given.
    type: str
  status_port:
    description:
      - The TiDB server's status port for Lightning; taken from C(tiup cluster display) when not given.
    type: int
  threads:
    description:
      - C(THREAD) of each C(IMPORT INTO) job.
    type: int
  timeout:
    description:
      - Seconds each C(IMPORT INTO) job may take; a job still running then is cancelled.
    type: int
    default: 86400
  lightning_path:
    description:
      - A C(tidb-lightning) binary to run, instead of C(tiup tidb-lightning).
    type: path
extends_documentation_fragment:
  - tidbops.manager.login
  - tidbops.manager.catalog
  - tidbops.manager.s3
  - tidbops.manager.tiup
  - tidbops.manager.transfer
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
    details: The action plugin sends O(archive) from the controller.
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Checks the source, the archive and the cluster; runs nothing, writes nothing.
  diff_mode:
    support: none
notes:
  - The TiDB password reaches Lightning only inside C(tidb-lightning.toml), written 0600 into a
    private directory that is removed when Lightning exits; S3 keys reach Lightning through the
    C(AWS_*) environment variables. For C(IMPORT INTO) the S3 keys travel inside the statement
    (as BR's URL parameters) and are masked in everything the module returns.
  - C(rows) in the record is the number of rows the imported tables hold afterwards.
seealso:
  - module: tidbops.manager.tidb_export
  - module: tidbops.manager.tidb_transfer_info
  - name: TiDB Lightning
    description: TiDB Lightning's configuration.
    link: https://docs.pingcap.com/tidb/stable/tidb-lightning-configuration
  - name: IMPORT INTO
    description: TiDB's IMPORT INTO statement.
    link: https://docs.pingcap.com/tidb/stable/sql-statement-import-into
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: Import an S3 export with Lightning's local backend
  tidbops.manager.tidb_import:
    cluster: staging
    name: shop-from-prod
    source: s3://exports/tidb/prod-1/shop-2026-11-22
    login_password: "{{ tidb_root_password }}"

- name: Import a zip from the controller through SQL (tidb backend)
  tidbops.manager.tidb_import:
    cluster: staging
    name: fixtures
    archive: files/fixtures.zip
    backend: tidb
    conflict_strategy: replace

- name: Import an export again
  tidbops.manager.tidb_import:
    cluster: staging
    name: shop-again
    from_export: shop-2026-11-22

- name: IMPORT INTO from S3, at most one hour per table
  tidbops.manager.tidb_import:
    cluster: staging
    name: shop-import-into
    method: import_into
    source: s3://exports/tidb/prod-1/shop-2026-11-22
    csv:
      header: true
    timeout: 3600
'''

RETURN = r'''
transfer:
  description: The import's transfer record (in check mode, as it is now).
  returned: always
  type: dict
  contains:
    id:
      description: The import's id.
      type: str
    cluster:
      description: The cluster imported into.
      type: str
    type:
      description: V(import).
      type: str
    path:
      description: The data imported (a directory or an s3:// URL without credentials).
      type: str
    storage_type:
      description: V(local) or V(s3).
      type: str
    method:
      description: V(lightning) or V(import_into).
      type: str
    source_export:
      description: The export imported again, with O(from_export).
      type: str
    status:
      description: V(processing), V(finished) or V(failed).
      type: str
    rows:
      description: Rows the imported tables hold.
      type: int
    tables:
      description: The tables imported, V(db.table).
      type: list
      elements: str
    jobs:
      description: With O(method=import_into), the C(IMPORT INTO) job id of each table.
      type: dict
    progress:
      description: Each table's status while the import runs (the tables Lightning has completed; with
        O(method=import_into), each job's status and imported rows).
      type: dict
    config_path:
      description: The job's working directory (Lightning's log and checkpoint).
      type: str
  sample:
    id: shop-from-prod
    cluster: staging
    type: import
    path: s3://exports/tidb/prod-1/shop-2026-11-22
    storage_type: s3
    method: lightning
    status: finished
    rows: 20000
    tables: [shop.items]
actions:
  description: What the task did (in check mode, would do).
  returned: always
  type: list
  elements: str
  sample: [import]
  choices: [import, delete]
commands:
  description: The Lightning command lines run.
  returned: always
  type: list
  elements: str
error_code:
  description: A stable code for the failure (see docs/error-codes.md).
  returned: failure
  type: str
  sample: IMPORT_ARCHIVE_INVALID
'''

import os

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule
from ansible_collections.tidbops.manager.plugins.module_utils.specs import INT32, PORT, SECONDS

from ansible_collections.tidbops.manager.plugins.module_utils.tools import import_into
from ansible_collections.tidbops.manager.plugins.module_utils.tools import lightning
from ansible_collections.tidbops.manager.plugins.module_utils.transfer import records as transfers
from ansible_collections.tidbops.manager.plugins.module_utils.storage.archive import check_archive, unzip
from ansible_collections.tidbops.manager.plugins.module_utils.catalog.access import open_location
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.storage.location import parse_location, remove_path
from ansible_collections.tidbops.manager.plugins.module_utils.polling import poll_until
from ansible_collections.tidbops.manager.plugins.module_utils.cluster import topology as topo
from ansible_collections.tidbops.manager.plugins.module_utils.tools.tiup import Tiup
from ansible_collections.tidbops.manager.plugins.module_utils.transfer.task import TransferTask
from ansible_collections.tidbops.manager.plugins.module_utils.tools.program import (
    LogWatcher, find_tool, processes_with_argument, read_text, tool_location)

TOML_PLACEHOLDER = "@TIDB_LIGHTNING_TOML@"
UNPACKED = "data"


class ImportTask(TransferTask):
    TYPE = "import"

    # -- present -------------------------------------------------------------------------

    def start(self, record_id, record):
        work = self.job_dir(record_id)
        location, storage_type, source_export = self.source(work)
        tool = find_tool(self.module, self.params, "tidb-lightning", "lightning_path") \
            if self.params["method"] == "lightning" else None
        connection = self.target.connect()  # an unknown or unreachable cluster fails before anything is written
        try:
            self.result["transfer"] = record or {}
            if not self.module.act("import"):
                return
            with self.running(record_id, record, location, storage_type, method=self.params["method"],
                              source_export=source_export, tables=[], jobs={}) as record:
                # What killed imports of this cluster left: their TOML, with the password (a killed
                # run of this very job left one that Lightning's start replaces).
                transfers.remove_stale_secrets(self.catalog, self.params["work_dir"], self.cluster,
                                               [lightning.CONFIG_FILE])
                self.load(connection, record, tool, work)
        finally:
            connection.close()

    def source(self, work):
        """(location, storage type, export id) of the data; every check that can fail before
        anything is written happens here."""
        params = self.params
        if params["from_export"]:
            export = transfers.get_record(self.catalog, params["from_export"])
            if export.get("type") != "export" or not transfers.reimportable(export):
                raise TidbOpsError("TRANSFER_RECORD_INVALID", "%s cannot be imported again: it is a %s %s record%s"
                                   % (export["id"], export.get("status"), export.get("type"),
                                      "" if export.get("reimport_support") else " without re-import support "
                                      "(a sql export)"), transfer=export)
            location = export["path"]
        elif params["archive"]:
            if not os.path.isfile(params["archive"]):
                raise TidbOpsError("IMPORT_SOURCE_INVALID", "archive %s does not exist" % params["archive"])
            check_archive(params["archive"], params["max_file_size"])
            return os.path.join(work, UNPACKED), "local", None
        else:
            location = params["source"]
        storage = open_location(location, params)
        if not storage.list(""):
            raise TidbOpsError("IMPORT_SOURCE_INVALID", "%s holds no files to import" % storage.url, path=storage.url)
        return storage.url, storage.kind, params["from_export"]

    def load(self, connection, record, tool, work):
        try:
            if self.params["archive"]:
                self.unpack(work)
            location = data_dir(record["path"]) if record["storage_type"] == "local" else record["path"]
            storage = open_location(location, self.params)
            tables = import_into.source_tables(name for name, _size in storage.list(""))
            if not tables:
                raise TidbOpsError("IMPORT_SOURCE_INVALID", "%s holds no Dumpling data files ({db}.{table}.N.sql|csv)"
                                   % storage.url, path=storage.url)
            if self.params["method"] == "lightning":
                self.lightning(tool, work, location, record)
            else:
                self.import_into(connection, record, storage, location, tables)
            names = ["%s.%s" % pair for pair in sorted(tables)]
            self.result["transfer"] = transfers.finish(self.catalog, record, tables=names,
                                                       rows=import_into.count_rows(connection, sorted(tables)))
        except TidbOpsError as error:
            if self.params["on_failure"] == "remove":
                for leftover in (lightning.CHECKPOINT_FILE, UNPACKED, "sorted-kv"):
                    remove_path(os.path.join(work, leftover))
            transfers.record_failure(self.catalog, record, error)
            raise

    def unpack(self, work):
        """Unpack the archive, unless a complete unpack of it is already there (a resumed job
        must read the same files its checkpoint points into)."""
        target = os.path.join(work, UNPACKED)
        marker = os.path.join(work, ".unpacked")
        if os.path.isdir(target) and os.path.exists(marker):
            return
        unzip(self.params["archive"], target, self.params["max_file_size"])
        with open(marker, "w") as handle:
            handle.write(os.path.basename(self.params["archive"]))

    def lightning(self, tool, work, location, record):
        url, env, secret_env = tool_location(location, self.params)
        pd_addr, status_port = self.cluster_addresses()
        config = lightning.lightning_config(self.params, work, url, pd_addr, status_port)
        log_file = os.path.join(work, lightning.LOG_FILE)
        with LogWatcher(log_file, lightning.TABLE_DONE_RE, lambda done: self.tables_done(record, done)):
            if self.follow_orphan(os.path.join(work, lightning.CONFIG_FILE), log_file, record):
                return
            result = tool.run(["--config", TOML_PLACEHOLDER], (env, secret_env), cwd=work, secret_dir=work,
                              secret_files={TOML_PLACEHOLDER: (lightning.CONFIG_FILE, lightning.render_toml(config))})
        self.result["commands"].append(result.cmd)
        lightning.outcome(result, read_text(log_file), os.path.join(work, lightning.CHECKPOINT_FILE))

    def follow_orphan(self, config_path, log_file, record):
        """A Lightning of this job that a killed run left (found by its --config, in the job's
        directory) is waited for, not started a second time on the same tables; True when it
        imported everything, False when the job is to be run (again, from its checkpoint)."""
        orphans = processes_with_argument(config_path)
        if not orphans:
            return False
        self.module.warn("TiDB Lightning of this job (pid %s), left by a run that was killed, is still running; "
                         "waiting for it instead of starting a second one" % ", ".join(str(p) for p in orphans))
        self.module.actions.append("follow")
        record["following"] = orphans  # shown by tidb_transfer_info while this run waits
        self.catalog.put(transfers.KIND, record)
        done, _gone = poll_until(lambda: not processes_with_argument(config_path), self.params["timeout"],
                                 first_interval=0.2, max_interval=1.0)
        if not done:
            raise TidbOpsError("IMPORT_TIMEOUT", "TiDB Lightning of this job (pid %s) still runs after %ss"
                               % (", ".join(str(p) for p in orphans), self.params["timeout"]), pids=orphans)
        if os.path.lexists(config_path):
            os.unlink(config_path)  # its password: the killed run could not remove it
        record.pop("following", None)
        return bool(lightning.finished_in_log(read_text(log_file)))

    def tables_done(self, record, done):
        """Lightning's progress in the record: each table it has completed."""
        for db, table in done:
            record.setdefault("progress", {})["%s.%s" % (db.replace("``", "`"), table.replace("``", "`"))] = \
                dict(status="finished")
        self.catalog.put(transfers.KIND, record)

    def cluster_addresses(self):
        """(pd_addr, status_port): given, or read from tiup for the local backend."""
        pd_addr, status_port = self.params["pd_addr"], self.params["status_port"]
        if self.params["backend"] != "local" or (pd_addr and status_port):
            return pd_addr, status_port
        try:
            display = Tiup(self.module, self.params["tiup_path"], self.params["tiup_home"]).display(self.cluster)
        except TidbOpsError as error:
            raise TidbOpsError("INVALID_ARGUMENT", "the local backend needs PD's address: set pd_addr and "
                               "status_port, or let tiup find them (%s)" % error.msg)
        return topo.import_addresses(display.get("instances", []), self.params["login_port"], pd_addr, status_port)

    def import_into(self, connection, record, storage, location, tables):
        import_into.import_tables(connection, storage, location, self.params, tables, record["jobs"],
                                  saved=lambda: self.catalog.put(transfers.KIND, record),
                                  progress=lambda key, row: self.report_progress(record, key, row))

    def report_progress(self, record, key, row):
        """Keep each table's job status and imported rows in the record, for tidb_transfer_info."""
        progress = dict(status=row.get("Status"), imported_rows=row.get("Imported_Rows"))
        if record.setdefault("progress", {}).get(key) != progress:
            record["progress"][key] = progress
            self.catalog.put(transfers.KIND, record)


def data_dir(path):
    """An unpacked archive holding one top directory (data/, say) imports from that directory."""
    if os.path.isdir(path):
        entries = [e for e in os.listdir(path) if not e.startswith(".")]
        if len(entries) == 1 and os.path.isdir(os.path.join(path, entries[0])):
            return os.path.join(path, entries[0])
    return path


def validate(params):
    if params["source"]:
        parse_location(params["source"])  # STORAGE_URL_INVALID before anything happens


def run(module):
    validate(module.params)  # nothing is read or written for bad input
    return ImportTask(module).run()


def main():
    module = TidbOpsModule(
        dict(
            cluster=dict(type="str", required=True),
            name=dict(type="str", aliases=["id"]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            source=dict(type="str"),
            archive=dict(type="path"),
            remote_src=dict(type="bool", default=False),
            from_export=dict(type="str"),
            method=dict(type="str", default="lightning", choices=["lightning", "import_into"]),
            backend=dict(type="str", default="local", choices=["local", "tidb"]),
            sorted_kv_dir=dict(type="path"),
            conflict_strategy=dict(type="str", choices=["error", "replace", "ignore"]),
            check_requirements=dict(type="bool", default=False),
            no_schema=dict(type="bool", default=False),
            filter=dict(type="list", elements="str"),
            csv=dict(type="dict", options=dict(
                separator=dict(type="str"), delimiter=dict(type="str"), terminator=dict(type="str"),
                header=dict(type="bool"), null=dict(type="str"), backslash_escape=dict(type="bool"),
                trim_last_separator=dict(type="bool"), not_null=dict(type="bool"))),
            checksum=dict(type="str", default="required", choices=["required", "optional", "off"]),
            analyze=dict(type="str", default="optional", choices=["required", "optional", "off"]),
            pd_addr=dict(type="str"),
            status_port=dict(type="int"),
            threads=dict(type="int"),
            timeout=dict(type="int", default=86400),
            lightning_path=dict(type="path"),
        ),
        mutually_exclusive=[["source", "archive", "from_export"]],
        required_if=[("state", "absent", ("name",)), ("state", "present", ("source", "archive", "from_export"), True)],
        ranges=dict(threads=(1, INT32), timeout=SECONDS, status_port=PORT),
        blocks=("login", "catalog", "s3", "tiup", "transfer"), supports_check_mode=True)
    if module.params["csv"]:
        module.params["csv"] = dict((k, v) for k, v in module.params["csv"].items() if v is not None)
    module.run(run, module)


if __name__ == "__main__":
    main()
