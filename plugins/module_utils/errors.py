# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one catalogue of error codes, and the exception that carries them to fail_json.

Codes are stable: playbooks match on them (``failed_when: result.error_code == ...``), so a
code is never renamed or reused. docs/error-codes.md lists them for users; a unit test keeps
that page and this catalogue in step.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


ERROR_CODES = {
    # Input
    "INVALID_ARGUMENT": "An option has a value the module cannot use.",
    # Tools on the managed node
    "TIUP_NOT_FOUND": "The tiup binary is not on PATH and tiup_path does not point to one.",
    "TIUP_COMMAND_FAILED": "A tiup command exited non-zero for a reason with no more specific code.",
    "TIUP_OUTPUT_INVALID": "tiup printed output that could not be parsed.",
    # Clusters
    "CLUSTER_NOT_FOUND": "No cluster of that name is known to tiup, and no login_host or login_port says where it is.",
    "CLUSTER_MISMATCH": "The login reaches a TiDB server of another cluster (another PD cluster id) than tiup's cluster of that name.",
    "CLUSTER_TOPOLOGY_INVALID": "The topology is malformed or refused by tiup.",
    "CLUSTER_TOPOLOGY_DRIFT": "The deployed topology differs from the requested one; the module does not scale or edit it.",
    "CLUSTER_VERSION_INVALID": "The version is not a TiDB release version such as v7.5.1 or nightly.",
    "CLUSTER_VERSION_MISMATCH": "The deployed version differs from the requested one; upgrading is not done by this module.",
    "CLUSTER_NODE_NOT_FOUND": "A node or role named in nodes/roles is not part of the cluster.",
    "CLUSTER_START_FAILED": "tiup could not start every requested instance.",
    "CLUSTER_STOP_FAILED": "tiup could not stop every requested instance.",
    "CLUSTER_DEPLOY_FAILED": "tiup could not deploy the cluster.",
    "CLUSTER_DESTROY_FAILED": "tiup could not destroy the cluster.",
    "PD_UNREACHABLE": "No PD endpoint of the cluster answered.",
    # System variables
    "VARIABLE_NOT_FOUND": "TiDB has no system variable of that name.",
    "VARIABLE_READ_ONLY": "The system variable is read-only (scope NONE).",
    "VARIABLE_SCOPE_INVALID": "The system variable has no global value to set (INSTANCE- or SESSION-scoped).",
    "VARIABLE_VALUE_INVALID": "The value is out of the variable's range or not one of its possible values.",
    # Accounts
    "PRIVILEGE_UNKNOWN": "TiDB has no privilege of that name (static or registered dynamic).",
    "PRIVILEGE_LEVEL_INVALID": "The privilege level is malformed, or a dynamic privilege is given on another level than `*.*`.",
    "ACCOUNT_PASSWORD_UNCOMPARABLE": "update_password always with a plugin whose stored hash cannot be compared with a password.",
    # SQL
    "TIDB_CONNECTION_FAILED": "Could not connect to the TiDB SQL endpoint.",
    "TIDB_AUTH_FAILED": "TiDB refused the login_user/login_password.",
    "TIDB_QUERY_FAILED": "A SQL statement failed.",
    "TIDB_OUTPUT_INVALID": "TiDB answered a statement with text the module cannot read.",
    "MISSING_LIBRARY": "A Python library the module needs is not installed on the managed node.",
    # Storage and catalog
    "STORAGE_URL_INVALID": "The storage location is neither an absolute local path nor an s3://bucket[/prefix] URL.",
    "STORAGE_UNREACHABLE": "The storage endpoint did not answer.",
    "STORAGE_ACCESS_DENIED": "The storage refused the credentials or the operation.",
    "STORAGE_NOT_FOUND": "The object, file or bucket does not exist.",
    "STORAGE_FAILED": "A storage operation failed for a reason with no more specific code.",
    "STORAGE_KEY_INVALID": "A storage key is empty, absolute, or has . or .. components that would leave the storage location.",
    "CATALOG_RECORD_INVALID": "A catalog record could not be read, or a record to write is malformed or holds a secret.",
    "CATALOG_RECORD_NOT_FOUND": "No catalog record has that id.",
    "CLUSTER_LOCKED": "Another job holds the cluster's lock (the maintenance status).",
    "LOCK_NOT_HELD": "The lock to release or break is not held, or is held by another owner.",
    # Backup and restore
    "BACKUP_STRATEGY_INVALID": "The backup strategy is invalid (weekdays, period HH:00-HH:00, retention).",
    "BACKUP_RECORD_INVALID": "The backup record cannot be used for this operation (wrong status, cluster or type).",
    "BACKUP_RECORD_NOT_FOUND": "No backup record has that id, and no backup is at that path.",
    "BACKUP_PATH_NOT_EMPTY": "The backup destination already holds a backup (its backupmeta exists).",
    "BACKUP_SCOPE_NOT_FOUND": "A database or table named in databases/tables does not exist on the cluster; nothing was backed up.",
    "BACKUP_FAILED": "The BACKUP statement failed.",
    "BACKUP_CANCELLED": "The backup was cancelled (KILL TIDB QUERY) while it ran.",
    "BACKUP_CANCEL_FAILED": "The running backup could not be found in SHOW BACKUPS or could not be killed.",
    "BACKUP_NOT_DUE": "An automatic backup was asked for outside the strategy's window.",
    "RESTORE_FAILED": "The RESTORE statement failed.",
    "RESTORE_SCOPE_NOT_IN_BACKUP": "The databases/tables to restore name nothing the backup holds; nothing was restored.",
    "RESTORE_TABLES_EXIST": "The target cluster already has tables the backup holds; BR does not overwrite them.",
    "RESTORE_VERIFY_FAILED": "The restored tables' checksums differ from those recorded at backup time.",
    # Import and export
    "TRANSFER_LIMIT_REACHED": "Every transfer slot of the cluster is held by another import or export job.",
    "TRANSFER_RECORD_NOT_FOUND": "No transfer (import/export) record has that id.",
    "TRANSFER_RECORD_INVALID": "The transfer record cannot be used for this operation, or has invalid fields.",
    "TRANSFER_FILE_SIZE_INVALID": "A file or archive is over the size limit (2 GiB unless set otherwise), or its size is unreadable.",
    "TRANSFER_JOB_RUNNING": "The import or export of that name is running now in another process; a second run would duplicate it.",
    "TRANSFER_PATH_NOT_EMPTY": "The export destination already holds files that no record of this export accounts for.",
    "EXPORT_ACCOUNT_FAILED": "The one-time account Dumpling logs in with could not be created (login_user needs CREATE USER and GRANT OPTION).",
    "EXPORT_FAILED": "Dumpling failed.",
    "IMPORT_SOURCE_INVALID": "The import source is missing, unreadable, or holds no data files Lightning or IMPORT INTO can use.",
    "IMPORT_ARCHIVE_INVALID": "The zip archive to import is not a zip, or has entries that would leave the destination (absolute, .., links).",
    "IMPORT_FAILED": "TiDB Lightning or an IMPORT INTO job failed.",
    "IMPORT_CHECKPOINT_FAILED": "Lightning's checkpoint marks tables failed by an earlier run; the message says what to run to import them again.",
    "IMPORT_TIMEOUT": "An IMPORT INTO job did not finish within the timeout; it was cancelled (CANCEL IMPORT JOB).",
    # HTTP APIs
    "HTTP_REQUEST_FAILED": "An HTTP API answered with an error.",
    # Data Migration
    # TiCDC changefeeds
    "CDC_UNREACHABLE": "No TiCDC server in cdc_url answered.",
    "CDC_API_ERROR": "The TiCDC OpenAPI answered with an error that has no more specific code (see cdc_error_code).",
    "CDC_CHANGEFEED_INVALID": "TiCDC refused the changefeed's settings: its id, start_ts, target_ts or filter rules.",
    "CDC_SINK_INVALID": ("The sink is refused: a parameter out of range (worker-count or max-txn-row not positive), "
                         "credentials in its options, or TiCDC cannot log in to it."),
    "CDC_START_TS_BEFORE_GC": "The start TSO is at or before the upstream's GC safe point: the changes after it are gone (CDC:ErrStartTsBeforeGC).",
    "CDC_TABLE_INELIGIBLE": "Tables the filter takes have no primary or not-null unique key (CDC:ErrTableIneligible); set ignore_ineligible_table.",
    "CDC_CHANGEFEED_NOT_UPDATABLE": "The changefeed differs in what TiCDC cannot update (its start_ts); remove it and create it again.",
    "CDC_SYNC_TIMEOUT": "The changefeed's checkpoint did not reach the upstream's TSO of the call within wait_timeout.",
    # Component configuration
    "CONFIG_NO_INSTANCE": "The cluster has no instance of the component that answers SHOW CONFIG.",
    "CONFIG_KEY_UNKNOWN": "A configuration item the component does not have (it is in no row of SHOW CONFIG).",
    "CONFIG_NEEDS_RESTART": "Items that change only with the config file and a restart; set allow_restart to apply them.",
    "CONFIG_SET_FAILED": "SET CONFIG failed, or an instance refused the change (its warning is in the message).",
    "CONFIG_PERSIST_FAILED": "tiup cluster edit-config did not save the topology with the new values.",
    "CONFIG_RELOAD_FAILED": "tiup cluster reload failed to write the config files or to restart the component.",
    "CONFIG_NOT_APPLIED": "After the change, an instance still shows another value than the one declared.",
    "CDC_CHANGEFEED_FAILED": "The changefeed is in state failed, or stopped with an error, while it was waited for.",
    "DM_API_UNREACHABLE": "No DM-master in dm_master_url answered.",
    "DM_API_ERROR": "The DM-master OpenAPI answered with an error that has no more specific code (see dm_error_code).",
    "DM_TASK_INVALID": "The task (DM task YAML or OpenAPI model) is malformed, or DM refused its configuration.",
    "DM_TASK_UNSUPPORTED": "The task YAML uses a feature the OpenAPI cannot express (expression filters, validators, Do filters, ignore lists...).",
    "DM_TASK_NOT_FOUND": "No DM task has that name (DM error 46018).",
    "DM_TASK_EXISTS": "A DM task of that name already exists for those sources (DM error 46014).",
    "DM_TASK_CHECK_FAILED": "DM's precheck of the task failed (DM error 26005), or found more warnings than allowed.",
    "DM_TASK_NOT_UPDATABLE": "The change touches fields DM cannot update on an existing task (DM errors 46035, 40081); use recreate.",
    "DM_TASK_START_FAILED": "DM refused to start the task, or a subtask paused with an error while starting.",
    "DM_SOURCE_NOT_FOUND": "No DM source has that name (HTTP 404, DM errors 46008, 20031).",
    "DM_SOURCE_INVALID": "The source (options or DM source YAML) is malformed, or DM refused it (e.g. cannot connect upstream).",
    "DM_SOURCE_EXISTS": "A DM source of that name already exists (DM error 46007).",
    "DM_SOURCE_IN_USE": "The source cannot be changed or deleted while tasks use it or relay runs (DM errors 46010, 46025).",
    "DM_WORKER_NOT_FOUND": "No DM-worker has that name, or no worker is bound to the source (DM errors 46004, 40070).",
    "DM_MEMBER_NOT_FOUND": "No DM-master or DM-worker has that name.",
    "DM_TIMEOUT": "A DM task or source did not reach the wanted stage in time.",
    "DM_DMCTL_NOT_FOUND": "The operation exists only in dmctl (DDL locks, leader eviction, task check limits) and no dmctl binary was found.",
    "DM_DMCTL_FAILED": "dmctl answered result false, or printed output that could not be parsed.",
}


class TidbOpsError(Exception):
    """A failure with a stable error code and details safe to return (no secrets)."""

    def __init__(self, code, msg, **details):
        if code not in ERROR_CODES:
            raise ValueError("unknown error code %r" % (code,))
        super(TidbOpsError, self).__init__(msg)
        self.code = code
        self.msg = msg
        self.details = details

    def fail_kwargs(self):
        result = dict(self.details)
        result["msg"] = self.msg
        result["error_code"] = self.code
        return result
