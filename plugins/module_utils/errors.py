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
    "CLUSTER_NOT_FOUND": "No cluster of that name is known to tiup.",
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
    # SQL
    "TIDB_CONNECTION_FAILED": "Could not connect to the TiDB SQL endpoint.",
    "TIDB_AUTH_FAILED": "TiDB refused the login_user/login_password.",
    "TIDB_QUERY_FAILED": "A SQL statement failed.",
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
    "BACKUP_FAILED": "The BACKUP statement failed.",
    "BACKUP_CANCELLED": "The backup was cancelled (KILL TIDB QUERY) while it ran.",
    "BACKUP_CANCEL_FAILED": "The running backup could not be found in SHOW BACKUPS or could not be killed.",
    "BACKUP_NOT_DUE": "An automatic backup was asked for outside the strategy's window.",
    "RESTORE_FAILED": "The RESTORE statement failed.",
    "RESTORE_TABLES_EXIST": "The target cluster already has tables the backup holds; BR does not overwrite them.",
    "RESTORE_VERIFY_FAILED": "The restored tables' checksums differ from those recorded at backup time.",
    # Import and export
    "TRANSPORT_LIMIT_REACHED": "Every transfer slot of the cluster is held by another import or export job.",
    "TRANSPORT_RECORD_NOT_FOUND": "No transport (import/export) record has that id.",
    "TRANSPORT_RECORD_INVALID": "The transport record cannot be used for this operation, or has invalid fields.",
    "TRANSPORT_FILE_SIZE_INVALID": "The file's size is negative, unreadable, or over the 2 GB limit.",
    # HTTP APIs
    "HTTP_REQUEST_FAILED": "An HTTP API answered with an error.",
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


def fail(module, error, **extra):
    """fail_json for a TidbOpsError, with extra result keys (e.g. what already happened)."""
    kwargs = error.fail_kwargs()
    kwargs.update(extra)
    module.fail_json(**kwargs)
