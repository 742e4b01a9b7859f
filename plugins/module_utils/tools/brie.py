# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""BR through SQL (BACKUP, RESTORE, SHOW BACKUPS, KILL TIDB QUERY, ADMIN CHECKSUM TABLE).

The statements carry the storage URL, and for S3 the URL carries the credentials as BR's
query parameters: that URL is built here, used only inside the statement, and every text that
leaves this module (messages, returned statements) has the secrets masked.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible.module_utils.six.moves.urllib.parse import quote, urlencode

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.runner import mask_secrets
from ansible_collections.tidbops.manager.plugins.module_utils.storage.location import parse_location
from ansible_collections.tidbops.manager.plugins.module_utils.tools.sql import run_sql

SYSTEM_SCHEMAS = ("mysql", "information_schema", "performance_schema", "sys", "metrics_schema")
BACKUPMETA = "backupmeta"
RECORD_COPY = "tidbops-backup.json"  # the backup's own record, beside its data
INTERRUPTED = 1317  # ER_QUERY_INTERRUPTED: a killed statement; a killed BRIE task is 8124, see cancelled_error()


def quote_identifier(name):
    return "`%s`" % name.replace("`", "``")


def quote_string(text):
    return "'%s'" % text.replace("\\", "\\\\").replace("'", "''")


class BrieTarget(object):
    """A backup destination: its plain URL (safe to show) and the URL BR gets (with credentials)."""

    def __init__(self, location, params):
        parsed = parse_location(location)
        self.secrets = [s for s in (params.get("s3_secret_key"), params.get("s3_session_token")) if s]
        if parsed[0] == "local":
            self.kind = "local"
            self.url = "local://" + parsed[1]
            self.sql_url = self.url
        else:
            self.kind = "s3"
            bucket, prefix = parsed[1], parsed[2]
            self.url = "s3://%s/%s" % (bucket, prefix) if prefix else "s3://%s" % bucket
            query = []
            for option, name in (("s3_access_key", "access-key"), ("s3_secret_key", "secret-access-key"),
                                 ("s3_session_token", "session-token"), ("s3_endpoint", "endpoint"),
                                 ("s3_region", "region")):
                if params.get(option):
                    query.append((name, params[option]))
            if params.get("s3_endpoint"):
                query.append(("force-path-style", "true"))
            self.sql_url = self.url + ("?" + urlencode(query, quote_via=quote) if query else "")

    def mask(self, text):
        encoded = [quote(s, safe="") for s in self.secrets]
        return mask_secrets(text, self.secrets + encoded)


def scope_clause(databases, tables):
    """DATABASE * | DATABASE `a`,`b` | TABLE `db`.`t`,..."""
    if tables:
        return "TABLE " + ", ".join(".".join(quote_identifier(p) for p in split_table(t)) for t in tables)
    if databases:
        return "DATABASE " + ", ".join(quote_identifier(d) for d in databases)
    return "DATABASE *"


def split_table(name):
    parts = name.split(".")
    if len(parts) != 2 or not all(parts):
        raise TidbOpsError("INVALID_ARGUMENT", "table %r must be written db.table" % (name,))
    return parts


def validate_tables(tables):
    """INVALID_ARGUMENT, before anything happens, for a table not written db.table."""
    for name in tables or []:
        split_table(name)


def backup_statement(target, databases=None, tables=None, rate_limit=None, concurrency=None,
                     checksum=None, last_backup=None, snapshot=None):
    sql = "BACKUP %s TO %s" % (scope_clause(databases, tables), quote_string(target.sql_url))
    return sql + options_clause(rate_limit, concurrency, checksum, last_backup=last_backup, snapshot=snapshot)


def restore_statement(target, databases=None, tables=None, rate_limit=None, concurrency=None, checksum=None):
    sql = "RESTORE %s FROM %s" % (scope_clause(databases, tables), quote_string(target.sql_url))
    return sql + options_clause(rate_limit, concurrency, checksum)


def options_clause(rate_limit, concurrency, checksum, last_backup=None, snapshot=None):
    options = []
    if rate_limit:
        options.append("RATE_LIMIT = %d MB/SECOND" % int(rate_limit))
    if concurrency:
        options.append("CONCURRENCY = %d" % int(concurrency))
    if checksum is not None:
        options.append("CHECKSUM = %s" % ("TRUE" if checksum else "FALSE"))
    if last_backup:
        options.append("LAST_BACKUP = %d" % int(last_backup))
    if snapshot:
        options.append("SNAPSHOT = %s" % (snapshot if re.match(r"^\d+$", str(snapshot)) else quote_string(snapshot)))
    return (" " + " ".join(options)) if options else ""


def run_brie(connection, statement, target, failure_code):
    """Run a BACKUP/RESTORE; the result row as a dict. Errors come back with secrets masked."""
    try:
        rows, _count, _warnings = run_sql(connection, statement)
    except TidbOpsError as error:
        errno = error.details.get("sql_errno")
        code = failure_code
        text = target.mask(error.msg)
        if errno == INTERRUPTED:
            code = "BACKUP_CANCELLED" if failure_code == "BACKUP_FAILED" else failure_code
        elif "ErrTablesAlreadyExisted" in text or "already existed" in text:
            code = "RESTORE_TABLES_EXIST"
        elif "backup meta file exists" in text or "backup lock file and sst file exist" in text:
            code = "BACKUP_PATH_NOT_EMPTY"  # BR's checkBackupLock: another backup's files are there
        raise TidbOpsError(code, text, sql_errno=errno, statement=target.mask(statement))
    return rows[0] if rows else {}


def user_tables(connection, databases=None, tables=None):
    """['db.table', ...] of the base tables a backup of this scope holds, sorted."""
    rows, _count, _warnings = run_sql(
        connection,
        "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name FROM information_schema.TABLES "
        "WHERE TABLE_TYPE = 'BASE TABLE' AND LOWER(TABLE_SCHEMA) NOT IN (%s)"
        % ", ".join("'%s'" % s for s in SYSTEM_SCHEMAS))
    found = sorted("%s.%s" % (r["db"], r["name"]) for r in rows)
    if tables:
        wanted = set(tables)
        return [t for t in found if t in wanted]
    if databases:
        return [t for t in found if t.split(".", 1)[0] in databases]
    return found


def missing_objects(connection, databases=None, tables=None):
    """The names among tables ('db.table') or databases that the cluster does not have, compared
    as TiDB compares names (case-insensitively: lower_case_table_names is 2)."""
    if tables:
        rows, _count, _warnings = run_sql(
            connection, "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name FROM information_schema.TABLES")
        have = set(("%s.%s" % (r["db"], r["name"])).lower() for r in rows)
        return [t for t in tables if t.lower() not in have]
    if databases:
        rows, _count, _warnings = run_sql(connection, "SELECT SCHEMA_NAME AS db FROM information_schema.SCHEMATA")
        have = set(r["db"].lower() for r in rows)
        return [d for d in databases if d.lower() not in have]
    return []


def missing_from_backup(held, databases=None, tables=None):
    """The names among tables or databases that a backup holding the tables held ('db.table')
    has nothing of (case-insensitively)."""
    held = set(t.lower() for t in held)
    if tables:
        return [t for t in tables if t.lower() not in held]
    if databases:
        schemas = set(t.split(".", 1)[0] for t in held)
        return [d for d in databases if d.lower() not in schemas]
    return []


def checksums(connection, table_names):
    """{'db.table': {'crc64_xor': str, 'total_kvs': int, 'total_bytes': int}} by ADMIN CHECKSUM TABLE."""
    result = {}
    for name in table_names:
        db, table = split_table(name)
        rows, _count, _warnings = run_sql(
            connection, "ADMIN CHECKSUM TABLE %s.%s" % (quote_identifier(db), quote_identifier(table)))
        row = rows[0]
        result[name] = dict(crc64_xor=str(row["Checksum_crc64_xor"]), total_kvs=int(row["Total_kvs"]),
                            total_bytes=int(row["Total_bytes"]))
    return result


def running_task(connection, kind, target):
    """The SHOW BACKUPS (or RESTORES) row of a task writing to target that has not finished, or
    None. TiDB lists finished tasks for a while too; only those have a Finish_time."""
    statement = "SHOW %s" % ("BACKUPS" if kind == "backup" else "RESTORES")
    rows, _count, _warnings = run_sql(connection, statement)
    for row in rows or []:
        destination = str(row.get("Destination") or "")
        if destination.split("?", 1)[0].rstrip("/") == target.url.rstrip("/") and not finished(row):
            return row
    return None


def finished(task_row):
    finish = task_row.get("Finish_time")
    return bool(finish) and not str(finish).startswith("0000-00-00")


def kill_query(connection, connection_id):
    run_sql(connection, "KILL TIDB QUERY %d" % int(connection_id))


def tso_to_unix(tso):
    """The physical part of a TSO, in seconds since the epoch."""
    return (int(tso) >> 18) / 1000.0


# backupmeta is a protobuf brpb.BackupMeta (pingcap/kvproto proto/brpb.proto); its field 6,
# end_version, is the backup's BackupTS, which an incremental backup on it starts from.
END_VERSION_FIELD = 6


def _varint(data, index):
    shift = value = 0
    while True:
        if index >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = bytearray(data[index:index + 1])[0]
        index += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, index
        shift += 7


def backupmeta_end_version(data):
    """The end_version (BackupTS) in backupmeta bytes, or None when it is not there or the
    bytes are not a plain protobuf BackupMeta (an encrypted one, say)."""
    index = 0
    try:
        while index < len(data):
            key, index = _varint(data, index)
            number, wire = key >> 3, key & 7
            if wire == 0:
                value, index = _varint(data, index)
                if number == END_VERSION_FIELD:
                    return value or None
            elif wire == 2:
                length, index = _varint(data, index)
                index += length
            elif wire in (1, 5):
                index += 8 if wire == 1 else 4
            else:
                return None
    except ValueError:
        return None
    return None
