"""IMPORT INTO, SHOW IMPORT JOB[S], CANCEL IMPORT JOB: TiDB v7.x's import jobs, run by the
stand-in through the cluster's MariaDB.

What TiDB does (pkg/executor/import_into.go, pkg/executor/importer/{import,job,precheck}.go,
pkg/planner/core/planbuilder.go, pkg/session/session.go) and the stand-in copies:
- IMPORT INTO tbl [(col, ...)] FROM 'path-or-url' [FORMAT 'csv'|'sql'] [WITH opt[=val], ...].
  A local path must be absolute ("file location should be absolute path when import from
  server disk") with a supported suffix (.csv .sql .parquet .gz .gzip .zstd .zst .snappy);
  '*' and '[...]' glob the file name only. s3:// takes BR's query parameters.
- Inside an explicit transaction: 1105 "cannot run IMPORT INTO in explicit transaction"
  (session.validateStatementInTxn, a plain Go error).
- Prechecks (CheckRequirements), in this order: an active (pending/running) job on the
  table, no file matched / empty files, a non-empty target table; all 8173 "PreCheck
  failed: <reason>".
- A job row is kept per cluster (mysql.tidb_import_jobs in TiDB; a JSON file in the
  cluster's state dir here), so every connection and instance of the cluster sees it.
  Statuses pending -> running -> finished | failed | cancelled (TiDB spells it
  "cancelled"); Phase (step) is "importing", then "validating", "" once finished.
- The statement blocks until the job ends and returns one row with the SHOW IMPORT JOB
  columns; with DETACHED it returns that row at once (status pending) and the job runs on.
- SHOW IMPORT JOBS / SHOW IMPORT JOB <id>: Job_ID, Data_Source, Target_Table, Table_ID, Phase,
  Status, Source_File_Size, Imported_Rows, Result_Message, Create_Time, Start_Time,
  End_Time, Created_By (fillOneImportJobInfo). Data_Source is the location with s3
  access-key/secret-access-key/session-token replaced by "xxxxxx" (ast.RedactURL);
  Source_File_Size is go-units BytesSize ("1.5KiB"); Imported_Rows is NULL while unknown.
  Unknown id: 8170 "Job ID <id> doesn't exist".
- CANCEL IMPORT JOB <id>: pending/running jobs become "cancelled" with Result_Message
  "cancelled by user" (cancelJobInState; End_Time stays NULL, as there); any other status:
  8171 "The current job status cannot perform the operation. CANCEL".

What the stand-in does instead (see tests/sandbox/README.md):
- Rows are INSERTed through MariaDB in one transaction committed at the end of the job, so
  a failed or cancelled job leaves the table empty; MariaDB's own errors (duplicate key,
  bad value under strict sql_mode) fail the job with the MariaDB text.
- Table_ID is a stable number derived from the table's name (MariaDB has no table ids).
- An explicit transaction is seen from BEGIN/START TRANSACTION/COMMIT/ROLLBACK passing
  through this stand-in and from InnoDB's open transactions of the connection.
- Knob import_min_seconds stretches every job to at least that long (read when it starts).
"""
import fnmatch
import hashlib
import json
import logging
import os
import re
import threading
import time
import urllib.parse

import pymysql
import pymysql.converters

from tests.sandbox.lightning import source
from tests.sandbox.tidb import brie, brie_parse, knobs, resultset, sqltext, tables
from tests.sandbox.tidb.brie_storage import (UNEMULATED_SCHEMES, BrError, Destination,
                                             open_storage)
from tests.sandbox.tidb.registry import Error, Ok, Rewrite, SqlError, statement, unsupported

LOG = logging.getLogger("tidb-standin")

STATUS_PENDING, STATUS_RUNNING = "pending", "running"
STATUS_FINISHED, STATUS_FAILED, STATUS_CANCELLED = "finished", "failed", "cancelled"
STEP_IMPORTING, STEP_VALIDATING = "importing", "validating"
POLL_SECONDS = 0.2
CANCEL_WAIT_SECONDS = 30.0
INSERT_BATCH = 500

SHOW_COLUMNS = [("Job_ID", resultset.UINT), ("Data_Source", resultset.STR),
                ("Target_Table", resultset.STR), ("Table_ID", resultset.UINT),
                ("Phase", resultset.STR), ("Status", resultset.STR),
                ("Source_File_Size", resultset.STR), ("Imported_Rows", resultset.UINT),
                ("Result_Message", resultset.STR), ("Create_Time", resultset.DATETIME),
                ("Start_Time", resultset.DATETIME), ("End_Time", resultset.DATETIME),
                ("Created_By", resultset.STR)]

CSV_OPTIONS = ("CHARACTER_SET", "FIELDS_TERMINATED_BY", "FIELDS_ENCLOSED_BY", "FIELDS_ESCAPED_BY",
               "FIELDS_DEFINED_NULL_BY", "LINES_TERMINATED_BY", "SKIP_ROWS", "SPLIT_FILE")
OTHER_OPTIONS = ("DISK_QUOTA", "DISABLE_TIKV_IMPORT_MODE", "THREAD", "MAX_WRITE_SPEED",
                 "CHECKSUM_TABLE", "DETACHED", "CLOUD_STORAGE_URI", "DISABLE_PRECHECK")
FLAG_OPTIONS = ("DETACHED", "DISABLE_TIKV_IMPORT_MODE", "SPLIT_FILE", "DISABLE_PRECHECK")
SERVER_DISK_SUFFIXES = (".csv", ".sql", ".parquet", ".gz", ".gzip", ".zstd", ".zst", ".snappy")
COMPRESSED = {".gz": 1, ".gzip": 1, ".snappy": 2, ".zst": 3, ".zstd": 3}

PRECHECK_FAILED, JOB_NOT_FOUND, INVALID_OPERATION = 8173, 8170, 8171
INTERRUPTED = (1317, "70100", "Query execution was interrupted")


def _now():
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())


def precheck_error(reason):
    return SqlError(PRECHECK_FAILED, "HY000", "PreCheck failed: %s" % reason)


def invalid_uri(reason):
    """ErrLoadDataInvalidURI with plannercore.ImportIntoDataSource."""
    return SqlError(8158, "HY000", "The URI of data source is invalid. Reason: %s" % reason)


def bytes_size(size):
    """docker/go-units BytesSize: '%.4g%s' over 1024-based units."""
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
    size, i = float(size), 0
    while size >= 1024.0 and i < len(units) - 1:
        size /= 1024.0
        i += 1
    return "%.4g%s" % (size, units[i])


def redact_url(text):
    """ast.RedactURL: s3/ks3 credentials replaced by xxxxxx, query re-encoded (sorted)."""
    parts = urllib.parse.urlsplit(text)
    if parts.scheme.lower() not in ("s3", "ks3"):
        return text
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    for key in query:
        if key.replace("_", "-").lower() in ("access-key", "secret-access-key",
                                             "session-token"):
            query[key] = ["xxxxxx"]
    encoded = urllib.parse.urlencode(sorted((k, v) for k, vs in query.items() for v in vs))
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, encoded,
                                    parts.fragment))


# ---------------------------------------------------------------------------------------
# explicit transactions, seen as statements pass by


@statement(r"(?P<verb>BEGIN|START\s+TRANSACTION|COMMIT|ROLLBACK)\b(?P<rest>.*)", priority=1)
def track_transaction(ctx, m):
    verb = m.group("verb").split()[0].upper()
    rest = m.group("rest").strip().upper()
    if verb == "BEGIN" and rest not in ("", "WORK", "PESSIMISTIC", "OPTIMISTIC"):
        return None  # BEGIN NOT ATOMIC ... (a MariaDB compound statement)
    if verb == "ROLLBACK" and rest.startswith(("TO", "WORK TO")):
        return None  # ROLLBACK TO SAVEPOINT keeps the transaction
    ctx.session.tidbops_in_txn = verb in ("BEGIN", "START")
    return None  # always forwarded


@statement(r"(?:CREATE|ALTER|DROP|TRUNCATE|RENAME)\b.*", priority=1)
def track_implicit_commit(ctx, _match):
    ctx.session.tidbops_in_txn = False  # DDL commits implicitly
    return None


def _in_explicit_txn(ctx):
    if getattr(ctx.session, "tidbops_in_txn", False):
        return True
    with ctx.admin().cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.INNODB_TRX"
                    " WHERE trx_mysql_thread_id = %s", (ctx.conn_id,))
        return int(cur.fetchone()[0]) > 0


# ---------------------------------------------------------------------------------------
# the job store: one JSON file per cluster, changed under an exclusive lock


class JobStore:
    def __init__(self, directory):
        self.path = os.path.join(directory, "import", "jobs.json")

    def _load(self):
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            data = {}
        data.setdefault("next_id", 1)
        data.setdefault("jobs", {})
        return data

    def _save(self, data):
        tmp = "%s.%d.tmp" % (self.path, os.getpid())
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
        os.replace(tmp, self.path)

    def change(self, func):
        """func(data) under the lock; its result is returned and data saved."""
        import fcntl
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(self.path + ".lock", "a", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                data = self._load()
                result = func(data)
                self._save(data)
                return result
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def jobs(self):
        return self.change(_reap_orphans)

    def get(self, job_id):
        return self.jobs().get(str(job_id))

    def update(self, job_id, only_if=None, **fields):
        """Set fields when the job's status is one of only_if (any if None); True if set."""
        def apply(data):
            job = data["jobs"].get(str(job_id))
            if job is None or (only_if is not None and job["status"] not in only_if):
                return False
            job.update(fields)
            return True
        return self.change(apply)


def _reap_orphans(data):
    """Jobs whose stand-in process is gone can never end: mark them failed."""
    for job in data["jobs"].values():
        if job["status"] in (STATUS_PENDING, STATUS_RUNNING) and not _alive(job.get("pid")):
            job.update(status=STATUS_FAILED, end_time=_now(),
                       error_message="tidbops sandbox: the TiDB instance that ran this job "
                                     "stopped")
    return dict(data["jobs"])


def _alive(pid):
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def job_store(ctx):
    return JobStore(brie.cluster_state_dir(ctx))


def job_row(job):
    imported = job.get("imported_rows")
    return (job["id"], job["data_source"], "`%s`.`%s`" % (job["db"], job["table"]),
            job["table_id"], job["step"], job["status"], bytes_size(job["source_file_size"]),
            imported, job.get("error_message") or "", job["create_time"],
            job.get("start_time"), job.get("end_time"), job["created_by"])


# ---------------------------------------------------------------------------------------
# parsing


class Plan:
    def __init__(self):
        self.db = None
        self.table = None
        self.columns = None
        self.path = None
        self.format = "csv"
        self.options = {}


def _parse(sql):
    toks = sqltext.tokens(sql)
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else None

    def take():
        tok = peek()
        pos[0] += 1
        return tok

    def is_word(tok, *words):
        return tok is not None and tok.kind == "word" and tok.text.upper() in words

    def expect_word(*words):
        tok = take()
        if not is_word(tok, *words):
            raise brie_parse.syntax_error(sql, tok)
        return tok.text.upper()

    def name():
        tok = take()
        if tok is None or tok.kind not in ("word", "quoted"):
            raise brie_parse.syntax_error(sql, tok)
        return tok.text[1:-1].replace("``", "`") if tok.kind == "quoted" else tok.text

    plan = Plan()
    expect_word("IMPORT")
    expect_word("INTO")
    first = name()
    if peek() is not None and peek().text == ".":
        take()
        plan.db, plan.table = first, name()
    else:
        plan.table = first
    if peek() is not None and peek().text == "(":
        take()
        plan.columns = []
        while True:
            tok = peek()
            if tok is not None and tok.kind == "uservar":
                raise unsupported("IMPORT INTO with @variables in the column list is not "
                                  "emulated")
            plan.columns.append(name())
            tok = take()
            if tok is not None and tok.text == ")":
                break
            if tok is None or tok.text != ",":
                raise brie_parse.syntax_error(sql, tok)
    if is_word(peek(), "SET"):
        raise unsupported("IMPORT INTO ... SET is not emulated")
    expect_word("FROM")
    tok = take()
    if is_word(tok, "SELECT", "WITH", "TABLE", "VALUES") or (tok is not None and tok.text == "("):
        raise unsupported("IMPORT INTO ... FROM SELECT is not emulated")
    if tok is None or tok.kind != "string":
        raise brie_parse.syntax_error(sql, tok)
    plan.path = sqltext.unquote(tok.text)
    if is_word(peek(), "FORMAT"):
        take()
        tok = take()
        if tok is None or tok.kind != "string":
            raise brie_parse.syntax_error(sql, tok)
        plan.format = sqltext.unquote(tok.text).lower()
    if is_word(peek(), "WITH"):
        take()
        while True:
            opt = take()
            if opt is None or opt.kind != "word":
                raise brie_parse.syntax_error(sql, opt)
            key = opt.text.upper()
            value = None
            if peek() is not None and peek().text == "=":
                take()
                tok = take()
                if tok is None or tok.kind not in ("string", "word"):
                    raise brie_parse.syntax_error(sql, tok)
                value = sqltext.unquote(tok.text) if tok.kind == "string" else tok.text
            if key in plan.options:
                raise SqlError(8165, "HY000", "Option %s specified more than once" % key.lower())
            plan.options[key] = value
            if peek() is None:
                break
            tok = take()
            if tok.text != ",":
                raise brie_parse.syntax_error(sql, tok)
    if peek() is not None:
        raise brie_parse.syntax_error(sql, peek())
    return plan


def _check_options(plan):
    """Option checks of importer.initOptions; returns the CSV parser's settings."""
    if plan.format not in ("csv", "sql", "parquet"):
        raise SqlError(8157, "HY000", "The FORMAT '%s' is not supported" % plan.format)
    if plan.format == "parquet":
        raise unsupported("FORMAT 'parquet' is not emulated")
    opts = plan.options

    def invalid(key):
        return SqlError(8164, "HY000", "Invalid option value for %s" % key.lower())

    for key, value in opts.items():
        if key not in CSV_OPTIONS + OTHER_OPTIONS:
            raise SqlError(8163, "HY000", "Unknown option %s" % key.lower())
        if plan.format != "csv" and key in CSV_OPTIONS:
            raise SqlError(8166, "HY000", "Unsupported option %s for non-CSV format"
                           % key.lower())
        if (key in FLAG_OPTIONS) != (value is None):
            raise invalid(key)
    csv = {"separator": ",", "delimiter": '"', "terminator": "", "null": ["\\N"],
           "backslash-escape": True, "trim-last-separator": False, "not-null": False}
    if "FIELDS_TERMINATED_BY" in opts:
        if not opts["FIELDS_TERMINATED_BY"]:
            raise invalid("FIELDS_TERMINATED_BY")
        csv["separator"] = opts["FIELDS_TERMINATED_BY"]
    if "FIELDS_ENCLOSED_BY" in opts:
        if len(opts["FIELDS_ENCLOSED_BY"]) > 1:
            raise invalid("FIELDS_ENCLOSED_BY")
        csv["delimiter"] = opts["FIELDS_ENCLOSED_BY"]
    if "FIELDS_ESCAPED_BY" in opts:
        escape = opts["FIELDS_ESCAPED_BY"]
        if len(escape) > 1:
            raise invalid("FIELDS_ESCAPED_BY")
        if escape not in ("", "\\"):
            raise unsupported("FIELDS_ESCAPED_BY other than '\\\\' or '' is not emulated")
        csv["backslash-escape"] = escape == "\\"
    if "FIELDS_DEFINED_NULL_BY" in opts:
        csv["null"] = [opts["FIELDS_DEFINED_NULL_BY"]]
    if "LINES_TERMINATED_BY" in opts:
        csv["terminator"] = opts["LINES_TERMINATED_BY"]
    for key in ("SKIP_ROWS", "THREAD"):
        if key in opts and not re.fullmatch(r"\d+", opts[key] or ""):
            raise invalid(key)
    if "THREAD" in opts and int(opts["THREAD"]) < 1:
        raise invalid("THREAD")
    if opts.get("CHECKSUM_TABLE", "required").lower() not in ("required", "optional", "off"):
        raise invalid("CHECKSUM_TABLE")
    if opts.get("CHARACTER_SET", "utf8mb4").lower() not in ("utf8mb4", "utf8", "binary"):
        raise unsupported("CHARACTER_SET other than utf8mb4/utf8/binary is not emulated")
    if opts.get("CLOUD_STORAGE_URI"):
        raise unsupported("global sort (CLOUD_STORAGE_URI) is not emulated")
    return csv


# ---------------------------------------------------------------------------------------
# source files


class Source:
    """The files a location names: (name, size) pairs and a reader."""

    def __init__(self, ctx, path):
        self.path = path
        self.data_source = redact_url(path)
        dest = Destination(path)
        self.dest = dest
        if dest.scheme in ("", "local", "file"):
            local = dest.local_base() if dest.scheme else path
            if not os.path.isabs(local):
                raise invalid_uri("file location should be absolute path when import from "
                                  "server disk")
            if os.path.splitext(local)[1].lower() not in SERVER_DISK_SUFFIXES:
                raise invalid_uri("the file suffix is not supported when import from "
                                  "server disk")
            directory = os.path.dirname(local)
            try:
                os.stat(directory)
            except OSError as exc:
                raise invalid_uri("stat %s: %s" % (directory, exc.strerror.lower())) from None
            self.pattern = os.path.basename(local)
            self.store = open_storage(Destination(directory))
            self.dir_uri = directory
        elif dest.scheme == "s3":
            parts = urllib.parse.urlsplit(path)
            key = urllib.parse.unquote(parts.path).strip("/")
            prefix, dummy, self.pattern = key.rpartition("/")
            base = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + prefix,
                                            parts.query, ""))
            try:
                self.store = open_storage(Destination(base), True, knobs.own_sandbox_dir())
            except BrError as exc:
                raise SqlError(8160, "HY000", "Failed to read source files. Reason: %s. %s"
                               % (dest.redact(str(exc)), "Please check the file location "
                                  "is correct")) from None
            self.dir_uri = "s3://%s/%s" % (parts.netloc, prefix)
        elif dest.scheme in UNEMULATED_SCHEMES:
            raise unsupported("%s:// sources are not emulated (use a local path or s3://)"
                              % dest.scheme)
        else:
            raise invalid_uri("storage %s not support yet" % dest.scheme)
        self.files = self._match()

    def _match(self):
        try:
            if not re.search(r"[*\[]", self.pattern):
                data = self.store.read(self.pattern)
                return [(self.pattern, len(data))]
            names = [n for n in self.store.walk() if "/" not in n
                     and fnmatch.fnmatchcase(n, self.pattern.replace("?", "[?]"))]
            return [(n, len(self.store.read(n))) for n in sorted(names)]
        except BrError as exc:
            raise SqlError(8160, "HY000", "Failed to read source files. Reason: %s. %s"
                           % (self.dest.redact(str(exc)), "Please check the file location "
                              "is correct")) from None

    @property
    def total_size(self):
        return sum(size for dummy, size in self.files)

    def read(self, name):
        ext = os.path.splitext(name)[1].lower()
        try:
            return source.read_file(self.store, name, COMPRESSED.get(ext, 0))
        except BrError as exc:
            raise source.SourceError(self.dest.redact(str(exc))) from None


# ---------------------------------------------------------------------------------------
# IMPORT INTO


@statement(r"IMPORT\s+INTO\b.*", priority=40)
def import_into(ctx, m):
    try:
        return _import_into(ctx, m.group(0))
    except (SqlError, pymysql.MySQLError):
        raise
    except Exception as exc:  # pylint: disable=broad-except
        LOG.error("IMPORT INTO failed: %s: %s", type(exc).__name__,
                  re.sub(r"(://[^\s'\"?]*)\?[^\s'\"]*", r"\1?<redacted>", str(exc)))
        return Error(1105, "HY000", "tidbops sandbox: IMPORT INTO failed inside the stand-in "
                                    "(see its log)")


def _import_into(ctx, sql):
    plan = _parse(sql)
    if _in_explicit_txn(ctx):
        raise SqlError(1105, "HY000", "cannot run IMPORT INTO in explicit transaction")
    csv = _check_options(plan)
    current_db, user = tables.client_session(ctx)
    db = plan.db or current_db
    if not db:
        raise tables.no_database_error()
    conn = tables.data_connection(ctx)
    try:
        found = tables.find_table(conn, db, plan.table)
        if found is None:
            raise tables.table_missing_error(db, plan.table)
        info = tables.table_info(conn, *found)
        columns = plan.columns or list(info.insert_columns)
        lower = {c.lower(): c for c in info.columns}
        for col in columns:
            if col.lower() not in lower:
                raise SqlError(1054, "42S22", "Unknown column '%s' in 'field list'" % col)
        columns = [lower[c.lower()] for c in columns]
        src = Source(ctx, plan.path)
        store = job_store(ctx)
        active = [j for j in store.jobs().values()
                  if j["status"] in (STATUS_PENDING, STATUS_RUNNING)
                  and (j["db"], j["table"]) == found]
        if active:
            raise precheck_error("there is active job on the target table already")
        if src.total_size == 0:
            raise precheck_error("No file matched, or the file is empty. Please provide a "
                                 "valid file location.")
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM %s LIMIT 1" % tables.qualified(*found))
            if cur.fetchone():
                raise precheck_error("target table is not empty")
    finally:
        conn.close()

    host = ""
    with ctx.admin().cursor() as cur:
        cur.execute("SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = %s",
                    (ctx.conn_id,))
        row = cur.fetchone()
        if row:
            host = _text(row[0]).rsplit(":", 1)[0]
    table_id = 100 + int(hashlib.sha1(("%s/%s.%s" % (ctx.cluster, found[0], found[1]))
                                      .encode()).hexdigest()[:6], 16) % 900000

    def create(data):
        job_id = data["next_id"]
        data["next_id"] = job_id + 1
        job = {"id": job_id, "data_source": src.data_source, "db": found[0],
               "table": found[1], "table_id": table_id, "step": "", "status": STATUS_PENDING,
               "source_file_size": src.total_size, "imported_rows": None, "error_message": "",
               "create_time": _now(), "start_time": None, "end_time": None,
               "created_by": "%s@%s" % (_text(user), host),
               "pid": os.getpid(), "format": plan.format}
        data["jobs"][str(job_id)] = job
        return dict(job)

    job = store.change(create)
    LOG.info("IMPORT INTO job %d: %s into `%s`.`%s` (connection %s)", job["id"],
             src.data_source, found[0], found[1], ctx.conn_id)
    runner = _Runner(ctx, store, job["id"], src, found, columns, plan, csv)
    worker = threading.Thread(target=runner.run, daemon=True,
                              name="import-job-%d" % job["id"])
    worker.start()
    if "DETACHED" in plan.options:
        return Rewrite(resultset.rewrite_sql(SHOW_COLUMNS, [job_row(job)]))
    while worker.is_alive():
        if ctx.sleep(POLL_SECONDS):
            # The statement was killed: TiDB cancels the job and waits for it.
            store.update(job["id"], only_if=(STATUS_PENDING, STATUS_RUNNING),
                         status=STATUS_CANCELLED, error_message="cancelled by user")
            worker.join()
            return Error(*INTERRUPTED)
    job = store.get(job["id"])
    if job["status"] == STATUS_FINISHED:
        return Rewrite(resultset.rewrite_sql(SHOW_COLUMNS, [job_row(job)]))
    return Error(1105, "HY000", job.get("error_message") or job["status"])


class _Cancelled(Exception):
    pass


class _Runner:
    def __init__(self, ctx, store, job_id, src, table, columns, plan, csv):
        self.ctx = ctx
        self.store = store
        self.job_id = job_id
        self.src = src
        self.table = table
        self.columns = columns
        self.plan = plan
        self.csv = csv
        self.min_seconds = knobs.get("import_min_seconds", 0.0, knobs.own_sandbox_dir())
        self.started = time.monotonic()
        self.last_check = 0.0

    def check(self, force=False):
        now = time.monotonic()
        if not force and now - self.last_check < POLL_SECONDS:
            return
        self.last_check = now
        job = self.store.get(self.job_id)
        if job is None or job["status"] == STATUS_CANCELLED:
            raise _Cancelled()

    def pace(self, fraction):
        target = self.started + self.min_seconds * fraction
        while True:
            self.check(force=True)
            left = target - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(POLL_SECONDS, left))

    def run(self):
        if not self.store.update(self.job_id, only_if=(STATUS_PENDING,), status=STATUS_RUNNING,
                                 step=STEP_IMPORTING, start_time=_now()):
            self.store.update(self.job_id, stopped=True)
            return
        conn = None
        try:
            conn = tables.data_connection(self.ctx)
            with conn.cursor() as cur:
                # a physical import: TiCDC does not see the rows (tests/sandbox/changelog.py)
                cur.execute("SET SESSION sql_log_bin = 0")
            count = self._import(conn)
            self.store.update(self.job_id, only_if=(STATUS_RUNNING,), step=STEP_VALIDATING)
            with conn.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM %s" % tables.qualified(*self.table))
                if int(cur.fetchone()[0]) != count:
                    raise source.SourceError("[Lighting:Restore:ErrChecksumMismatch]checksum "
                                             "mismatched remote vs local")
            self.pace(1.0)
            conn.commit()
            if self.store.update(self.job_id, only_if=(STATUS_RUNNING,), status=STATUS_FINISHED,
                                 step="", end_time=_now(), imported_rows=count):
                LOG.info("IMPORT INTO job %d finished: %d rows", self.job_id, count)
        except _Cancelled:
            _rollback(conn)
            LOG.info("IMPORT INTO job %d cancelled", self.job_id)
        except (source.SourceError, pymysql.MySQLError, SqlError) as exc:
            _rollback(conn)
            if isinstance(exc, pymysql.MySQLError):
                text = "[tidbops sandbox: MariaDB error %s]%s" % (
                    exc.args[0] if exc.args else "?", exc.args[1] if len(exc.args) > 1 else exc)
            elif isinstance(exc, SqlError):
                text = exc.reply.message
            else:
                text = str(exc)
            self._fail(self.src.dest.redact(text))
        except Exception as exc:  # pylint: disable=broad-except
            _rollback(conn)
            LOG.error("IMPORT INTO job %d failed: %s", self.job_id,
                      self.src.dest.redact("%s: %s" % (type(exc).__name__, exc)))
            self._fail("tidbops sandbox: the job failed inside the stand-in (see its log)")
        finally:
            if conn is not None:
                conn.close()
            self.store.update(self.job_id, stopped=True)

    def _fail(self, text):
        LOG.info("IMPORT INTO job %d failed: %s", self.job_id, text)
        self.store.update(self.job_id, only_if=(STATUS_PENDING, STATUS_RUNNING),
                          status=STATUS_FAILED, end_time=_now(), error_message=text)

    def _import(self, conn):
        with conn.cursor() as cur:
            cur.execute("SET SESSION time_zone = @@global.time_zone")
            cur.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
            cur.execute("START TRANSACTION")
        head = b"INSERT INTO %s (%s) VALUES " % (
            tables.qualified(*self.table).encode("utf-8"),
            ",".join(tables.quote(c) for c in self.columns).encode("utf-8"))
        files = [(name, self.src.read(name)) for name, dummy in self.src.files]
        total = sum(len(data) for dummy, data in files) or 1
        done_bytes, count = 0, 0
        for name, data in files:
            batch = []
            end = 0
            for values, end in self._rows(name, data):
                if len(values) != len(self.columns):
                    raise source.SourceError(
                        "tidbops sandbox: %s has a row of %d fields for %d columns (at offset "
                        "%d)" % (name, len(values), len(self.columns), end))
                batch.append(b"(" + b",".join(values) + b")")
                if len(batch) >= INSERT_BATCH:
                    count = self._write(conn, head, batch, count)
                    batch = []
                    self.pace((done_bytes + end) / total * 0.9)
            if batch:
                count = self._write(conn, head, batch, count)
            done_bytes += len(data)
            self.pace(done_bytes / total * 0.9)
        return count

    def _write(self, conn, head, batch, count):
        with conn.cursor() as cur:
            cur.execute(head + b",".join(batch))
        count += len(batch)
        self.store.update(self.job_id, only_if=(STATUS_RUNNING,), imported_rows=count)
        return count

    def _rows(self, name, data):
        """(literal values, end offset) per row of a data file."""
        if self.plan.format == "sql":
            for cols, values, end in source.SQLParser(data, name).rows():
                if cols is not None and [c.lower() for c in cols] != [
                        c.lower() for c in self.columns]:
                    raise source.SourceError("tidbops sandbox: the column list of %s differs "
                                             "from the target's; not emulated" % name)
                yield values, end
            return
        skip = int(self.plan.options.get("SKIP_ROWS") or 0)
        for values, end in source.CSVParser(data, name, self.csv).rows():
            if skip:
                skip -= 1
                continue
            yield [b"NULL" if v is None else pymysql.converters.escape_bytes(v).encode()
                   for v in values], end


def _text(value):
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "surrogateescape")
    return value or ""


def _rollback(conn):
    if conn is None:
        return
    try:
        conn.rollback()
    except pymysql.MySQLError:
        pass


# ---------------------------------------------------------------------------------------
# SHOW IMPORT JOB[S], CANCEL IMPORT JOB


@statement(r"SHOW\s+IMPORT\s+(?:JOBS|JOB\s+(?P<id>\d+))")
def show_import_jobs(ctx, m):
    jobs = job_store(ctx).jobs()
    if m.group("id") is not None:
        job = jobs.get(str(int(m.group("id"))))
        if job is None:
            raise SqlError(JOB_NOT_FOUND, "HY000", "Job ID %d doesn't exist" % int(m.group("id")))
        rows = [job_row(job)]
    else:
        rows = [job_row(j) for j in sorted(jobs.values(), key=lambda j: j["id"])]
    return Rewrite(resultset.rewrite_sql(SHOW_COLUMNS, rows))


@statement(r"CANCEL\s+IMPORT\s+JOB\s+(?P<id>\d+)")
def cancel_import_job(ctx, m):
    job_id = int(m.group("id"))
    store = job_store(ctx)
    job = store.jobs().get(str(job_id))
    if job is None:
        raise SqlError(JOB_NOT_FOUND, "HY000", "Job ID %d doesn't exist" % job_id)
    if not store.update(job_id, only_if=(STATUS_PENDING, STATUS_RUNNING),
                        status=STATUS_CANCELLED, error_message="cancelled by user"):
        raise SqlError(INVALID_OPERATION, "HY000",
                       "The current job status cannot perform the operation. CANCEL")
    LOG.info("IMPORT INTO job %d: cancel requested (connection %s)", job_id, ctx.conn_id)
    # cancelAndWaitImportJob: the statement returns once the job has stopped.
    deadline = time.monotonic() + CANCEL_WAIT_SECONDS
    while time.monotonic() < deadline:
        job = store.jobs().get(str(job_id))
        if job is None or job.get("stopped") or not _alive(job.get("pid")):
            break
        time.sleep(POLL_SECONDS)
    return Ok()
