# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IMPORT INTO (TiDB >= 7.2): one detached job per table of a Dumpling export, followed in
SHOW IMPORT JOB by column name (the columns differ between TiDB versions, tools.md §4), and
cancelled with CANCEL IMPORT JOB when it outlives the timeout.

The statement carries the storage URL with S3 keys as BR's query parameters (TiDB reads the
files itself), so it is built here and masked in everything that leaves the module;
SHOW IMPORT JOBS shows the keys as ``xxxxxx``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.tidbops.manager.plugins.module_utils.tools.brie import BrieTarget, quote_identifier, quote_string
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.polling import poll_until
from ansible_collections.tidbops.manager.plugins.module_utils.tools.sql import run_sql

# Dumpling's data files {db}.{table}.{index}.{sql|csv}[.gz|.snappy|.zst] (dumpling -c gzip, snappy,
# zstd), with the other names of the compressions IMPORT INTO reads (.gzip, .zstd).
DATA_FILE_RE = re.compile(r"^(?P<db>[^/]+?)\.(?P<table>[^/]+?)\.(?P<index>\d+)\.(?P<format>sql|csv)"
                          r"(?P<compression>\.gz|\.gzip|\.snappy|\.zst|\.zstd)?$")
ACTIVE = ("pending", "running")
DONE = ("finished",)
FAILED = ("failed", "cancelled", "canceled")


def source_tables(names):
    """{(db, table): {format, compression (its suffix, or ""), files}} for the data files among
    names (a storage listing)."""
    tables = {}
    for name in names:
        match = DATA_FILE_RE.match(name)
        if not match:
            continue
        entry = tables.setdefault((match.group("db"), match.group("table")),
                                  dict(format=match.group("format"), compression=match.group("compression") or "",
                                       files=[]))
        if entry["format"] != match.group("format") or entry["compression"] != (match.group("compression") or ""):
            raise TidbOpsError("IMPORT_SOURCE_INVALID", "table %s.%s has data files of different formats"
                               % (match.group("db"), match.group("table")))
        entry["files"].append(name)
    return tables


def split_statements(text):
    """The statements of a Dumpling schema file (they end with ';' at a line's end)."""
    statements, current = [], []
    for line in text.splitlines():
        current.append(line)
        if line.rstrip().endswith(";"):
            statement = "\n".join(current).strip().rstrip(";").strip()
            if statement:
                statements.append(statement)
            current = []
    rest = "\n".join(current).strip()
    return statements + ([rest] if rest else [])


def table_exists(connection, db, table):
    rows, _count, _warnings = run_sql(
        connection, "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
        (db, table))
    return bool(rows and rows[0]["n"])


def ensure_table(connection, storage, db, table):
    """Create the database and the table from Dumpling's schema files when they are missing
    (IMPORT INTO needs an existing, empty table). Returns True when something was created."""
    if table_exists(connection, db, table):
        return False
    schema_file = "%s.%s-schema.sql" % (db, table)
    if not storage.exists(schema_file):
        raise TidbOpsError("IMPORT_SOURCE_INVALID", "table %s.%s does not exist and the source has no %s to create "
                           "it from; IMPORT INTO needs the table" % (db, table, schema_file))
    run_sql(connection, "CREATE DATABASE IF NOT EXISTS %s" % quote_identifier(db))
    run_sql(connection, "USE %s" % quote_identifier(db))
    for statement in split_statements(storage.get_bytes(schema_file).decode("utf-8")):
        run_sql(connection, statement)
    return True


def import_statement(location, params, db, table, entry, header):
    """(statement, masked statement) importing one table's files from location."""
    target = BrieTarget(location, params)
    pattern = "%s.%s.*.%s%s" % (db, table, entry["format"], entry["compression"])
    if target.kind == "local":
        url = target.url[len("local://"):].rstrip("/") + "/" + pattern
    else:
        base, _sep, query = target.sql_url.partition("?")
        url = base.rstrip("/") + "/" + pattern + ("?" + query if query else "")
    options = ["DETACHED"]
    if entry["format"] == "csv" and header:
        options.append("SKIP_ROWS=1")
    if params.get("threads"):
        options.append("THREAD=%d" % int(params["threads"]))
    statement = "IMPORT INTO %s.%s FROM %s FORMAT '%s' WITH %s" % (
        quote_identifier(db), quote_identifier(table), quote_string(url), entry["format"], ", ".join(options))
    return statement, target.mask(statement)


def job_row(row):
    """A job row with text columns as str (PyMySQL hands binary-collated columns over as bytes)."""
    return dict((key, value.decode("utf-8", "replace") if isinstance(value, bytes) else value)
                for key, value in row.items())


def start_job(connection, statement, masked):
    """Run a DETACHED IMPORT INTO; its job row (by column name)."""
    try:
        rows, _count, _warnings = run_sql(connection, statement)
    except TidbOpsError as error:
        raise TidbOpsError("IMPORT_FAILED", "IMPORT INTO failed: %s" % error.msg.replace(statement, masked),
                           sql_errno=error.details.get("sql_errno"), statement=masked)
    return job_row(rows[0])


def show_job(connection, job_id):
    rows, _count, _warnings = run_sql(connection, "SHOW IMPORT JOB %d" % int(job_id))
    return job_row(rows[0])


def active_job(connection, db, table):
    """A pending or running job importing into db.table (one a run that died left), or None."""
    rows, _count, _warnings = run_sql(connection, "SHOW IMPORT JOBS")
    target = "%s.%s" % (quote_identifier(db), quote_identifier(table))
    for row in (job_row(r) for r in rows or []):
        if row.get("Target_Table") in (target, "%s.%s" % (db, table)) and str(row.get("Status")).lower() in ACTIVE:
            return row
    return None


def cancel_job(connection, job_id):
    run_sql(connection, "CANCEL IMPORT JOB %d" % int(job_id))


def wait_job(connection, job_id, timeout, progress=None):
    """Poll SHOW IMPORT JOB until the job ends; its row when finished. A failed or cancelled
    job is IMPORT_FAILED; one still running after timeout seconds is cancelled (IMPORT_TIMEOUT)."""
    def ended():
        row = show_job(connection, job_id)
        if progress:
            progress(row)
        return row if str(row.get("Status")).lower() not in ACTIVE else None

    done, row = poll_until(ended, timeout, first_interval=0.2, max_interval=1.0)
    if not done:
        cancel_job(connection, job_id)
        raise TidbOpsError("IMPORT_TIMEOUT", "IMPORT INTO job %s did not finish within %ss; it was cancelled"
                           % (job_id, timeout), job_id=job_id)
    status = str(row.get("Status")).lower()
    if status not in DONE:
        raise TidbOpsError("IMPORT_FAILED", "IMPORT INTO job %s of %s ended %s: %s"
                           % (job_id, row.get("Target_Table"), status, row.get("Result_Message")),
                           job_id=job_id, job=dict(row))
    return row


def import_tables(connection, storage, location, params, tables, jobs, saved, progress=None):
    """One IMPORT INTO job per table of the source (source_tables()), resumed where an earlier
    run left them: a table whose recorded job finished is skipped, one whose job still runs (or
    that a job of a dead run imports) is followed, one whose job failed or was cancelled (which
    leaves the table empty) starts again.

    jobs maps "db.table" to a job id and is updated in place; saved() is called after each new
    job, so that a re-run follows that job instead of starting a second one; progress(key, row)
    sees each poll of a job."""
    header = bool((params.get("csv") or {}).get("header"))
    for (db, table), entry in sorted(tables.items()):
        key = "%s.%s" % (db, table)
        job_id = jobs.get(key)
        if job_id is not None:
            status = str(show_job(connection, job_id).get("Status")).lower()
            if status in DONE:
                continue
            if status not in ACTIVE:
                job_id = None
        if job_id is None:
            running = active_job(connection, db, table)
            if running is not None:
                job_id = running["Job_ID"]
            else:
                ensure_table(connection, storage, db, table)
                statement, masked = import_statement(location, params, db, table, entry, header)
                job_id = start_job(connection, statement, masked)["Job_ID"]
            jobs[key] = int(job_id)
            saved()
        wait_job(connection, job_id, params["timeout"],
                 progress=(lambda row, key=key: progress(key, row)) if progress else None)


def count_rows(connection, tables):
    """The rows of the (db, table) pairs that exist, together."""
    total = 0
    for db, table in tables:
        if table_exists(connection, db, table):
            rows, _count, _warnings = run_sql(connection, "SELECT COUNT(*) AS n FROM %s.%s"
                                              % (quote_identifier(db), quote_identifier(table)))
            total += int(rows[0]["n"])
    return total
