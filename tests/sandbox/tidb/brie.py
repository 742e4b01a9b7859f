"""BACKUP, RESTORE, SHOW BACKUPS|RESTORES: TiDB's BRIE statements, run by the stand-in.

What TiDB does (pkg/executor/brie.go, br/pkg/task, br/pkg/backup) and the stand-in copies:
- One BRIE task runs per TiDB process at a time; the others wait in state 'Wait'. Every
  task is listed by SHOW BACKUPS / SHOW RESTORES (columns Id, Destination, State, Progress,
  Queue_time, Execution_time, Finish_time, Connection, Message) while it waits and runs,
  and after it ends until it is 30 minutes old (pruned at most every 10 minutes, when a
  BRIE statement or a SHOW runs). State is the step's name ('Wait', 'Backup', 'Checksum',
  'Restore'); a task that ends before its step completed shows '<step> Canceled' with
  Progress 100 (so does a failed one: its progress is closed, quirk included). Destination
  is the URL without its query (BR moves s3:// parameters into options), so no secret.
  SHOW ... LIKE 'p' filters the first column, Id (TiDB's buildShow), WHERE any column.
- KILL TIDB QUERY <conn> (or KILL QUERY) cancels the task of that connection. TiDB notices
  the kill on a 3-second ticker started with the task and cancels the task's context, so
  cancelling takes up to 3 s. BR then ends with the context's error, which Next wraps like
  any other (handleBRIEError): the statement fails with 8124 "Backup failed: context
  canceled" (8125 "Restore failed: ..." for a restore), not with 1317; a task killed while it
  waits in the queue gets acquireTask's bare error, 1105 "context canceled". What was written
  stays (backup.lock, checkpoint meta, some data files, no backupmeta).
- BACKUP: checks the destination (backupmeta present: "backup meta file exists in ...";
  backup.lock with .sst files and no checkpoint meta: "backup lock file and sst file exist
  in ..."; a checkpoint meta of another configuration: "failed to backup to ..."), writes
  backup.lock ("DO NOT DELETE..."), takes the BackupTS, writes checkpoints/backup/
  checkpoint.meta, the data files, and backupmeta last, then removes checkpoints/backup/.
  A checkpoint left by an interrupted run of the same configuration is resumed (with its
  BackupTS), as BR does. Result: Destination, Size, BackupTS, Queue Time, Execution Time.
- RESTORE: reads backupmeta ("load backupmeta failed: ..."), refuses tables that exist
  ("table already exists: db.t ...: [BR:Restore:ErrTablesAlreadyExisted]..."; not for an
  incremental backup), creates databases and tables and loads the rows, then compares the
  table checksums (CHECKSUM, default on; skipped for incrementals). Result: Destination,
  Size, BackupTS, Cluster TS, Queue Time, Execution Time (TiDB >= v6.x).
- Errors: BACKUP's are 8124 "Backup failed: <BR's error>", RESTORE's 8125 "Restore
  failed: <BR's error>" (SQLSTATE HY000); the task's Message is "[executor:8124]...".

What the stand-in does instead of BR (see tests/sandbox/README.md):
- Data files are named like BR's SSTs (<store>_<region>_<epoch>_<hash>_<ts>_default.sst)
  but hold the stand-in's own format: a magic line and zlib-compressed rows (the
  canonical encoding of tables.py), up to ROWS_PER_FILE rows each. backupmeta is a protobuf
  BackupMeta with BR's own field numbers for cluster_id, cluster_version, start_version,
  end_version (the BackupTS) and br_version (backupmeta.py), and the stand-in's JSON
  description of the tables and files (format "tidbops-sandbox-backupmeta") in a field BR
  does not have; the table DDL in it is MariaDB's SHOW CREATE TABLE.
- A backup reads one consistent InnoDB snapshot; SNAPSHOT = <past> cannot be emulated
  (MariaDB keeps no old versions to read) and is refused.
- LAST_BACKUP = <tso> (incremental): the cluster's state dir keeps, per BackupTS of each
  backup this cluster took, a signature of every table it covered (DDL, checksum, count);
  the incremental holds the tables whose signature changed since that backup, whole, and
  the names of those dropped since. Restoring it replaces those tables. A TSO that is not
  one of this cluster's BackupTS fails (the sandbox cannot tell what changed since then).
- Views, sequences and system schemas (mysql, sys, ...) are not backed up as tables; a full
  backup takes the accounts, which RESTORE DATABASE * merges back as BR does when
  WITH_SYS_TABLE is on (systables.py). CONCURRENCY, LOAD_STATS, WAIT_TIFLASH_READY, ... are
  accepted and change nothing.
  RATE_LIMIT = n MB/SECOND throttles the data written or read to n MiB/s.
- Knob brie_min_seconds (python -m tests.sandbox knob) stretches every task to at least
  that long, its progress spread over the time. A running task reads it again twice a
  second, so a test holds a task as long as it needs (a large value) and lets it go (0).
"""
import hashlib
import json
import logging
import math
import os
import re
import threading
import time
import zlib

import pymysql

from tests.sandbox import changelog
from tests.sandbox.tidb import backupmeta, brie_parse, checksum, cluster_info, knobs, resultset, systables, tables, tso
from tests.sandbox.tidb.brie_storage import (ERR_INVALID_ARGUMENT, ERR_INVALID_METAFILE,
                                             ERR_RESTORE_CHECKSUM, ERR_TABLES_EXIST,
                                             UNEMULATED_SCHEMES, BrError, Destination,
                                             annotate, open_storage)
from tests.sandbox.tidb.registry import Error, Rewrite, SqlError, statement, unsupported

LOG = logging.getLogger("tidb-standin")

META_FILE = "backupmeta"
LOCK_FILE = "backup.lock"
LOCK_CONTENT = (b"DO NOT DELETE\n"
                b"This file exists to remind other backup jobs won't use this path")
CHECKPOINT_DIR = "checkpoints/backup"
CHECKPOINT_META = CHECKPOINT_DIR + "/checkpoint.meta"
META_FORMAT = "tidbops-sandbox-backupmeta"
FILE_MAGIC = b"TIDBOPS-SANDBOX-SST 1\n"
ROWS_PER_FILE = 256
INSERT_BATCH = 200

KILL_POLL_SECONDS = 3.0      # brie.go: the Killed status is checked on a 3 s ticker
CLEAR_INTERVAL = 600.0       # brie.go clearInterval
OUTDATED_SECONDS = 1800.0    # brie.go outdatedDuration
HISTORY_KEEP = 500

CONTEXT_CANCELED = "context canceled"  # Go's context.Canceled, what a killed task's BR returns
BACKUP_FAILED, RESTORE_FAILED = 8124, 8125


class Cancelled(Exception):
    pass


def now_datetime():
    """types.CurrentTime(mysql.TypeDatetime): the server's local time, seconds."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())


# ---------------------------------------------------------------------------------------
# the queue

class Task:
    def __init__(self, task_id, kind, destination, conn_id):
        self.id = task_id
        self.kind = kind
        self.destination = destination
        self.conn_id = conn_id
        self.queue_time = now_datetime()
        self.exec_time = resultset.ZERO_DATETIME
        self.finish_time = resultset.ZERO_DATETIME
        self.finished_at = None
        self.message = ""
        self.state = "Wait"
        self.current = 0
        self.total = 1
        self.backup_ts = 0
        self.restore_ts = 0
        self.size = 0
        self.cancel_event = threading.Event()
        self.done = threading.Event()
        self.lock = threading.Lock()

    # progress (glue.Progress)
    def start_progress(self, name, total):
        with self.lock:
            self.state = name
            self.total = total
            self.current = 0

    def inc(self, count=1):
        with self.lock:
            self.current += count

    def close_progress(self):
        with self.lock:
            if self.current < self.total:
                self.state = "%s Canceled" % self.state
            self.current = self.total

    def progress(self):
        with self.lock:
            return self.state, 100.0 * self.current / self.total if self.total else 100.0

    # cancellation
    @property
    def cancelled(self):
        return self.cancel_event.is_set()

    def check(self):
        if self.cancel_event.is_set():
            raise Cancelled()

    def wait(self, seconds):
        if seconds > 0 and self.cancel_event.wait(seconds):
            raise Cancelled()
        self.check()


class Queue:
    """globalBRIEQueue: every task of this process, and the one-at-a-time worker slot."""

    def __init__(self):
        self._lock = threading.Lock()
        self._slot = threading.Condition(self._lock)
        self._busy = False
        self._tasks = {}
        self._next_id = 0
        self._last_clear = 0.0

    def register(self, kind, destination, conn_id):
        with self._lock:
            self._next_id += 1
            task = Task(self._next_id, kind, destination, conn_id)
            self._tasks[task.id] = task
            return task

    def acquire(self, task):
        """Wait for the worker slot; False when the task was cancelled meanwhile."""
        with self._slot:
            while self._busy and not task.cancelled:
                self._slot.wait(0.2)
            if task.cancelled:
                return False
            self._busy = True
            return True

    def release(self):
        with self._slot:
            self._busy = False
            self._slot.notify_all()

    def tasks(self, kind):
        with self._lock:
            return [t for t in sorted(self._tasks.values(), key=lambda t: t.id)
                    if t.kind == kind]

    def clear(self):
        """clearTask: drop tasks that finished over 30 minutes ago, at most every 10 min."""
        now = time.time()
        with self._lock:
            if now - self._last_clear < CLEAR_INTERVAL:
                return
            self._last_clear = now
            for task_id in [t.id for t in self._tasks.values()
                            if t.finished_at is not None
                            and now - t.finished_at > OUTDATED_SECONDS]:
                del self._tasks[task_id]


QUEUE = Queue()


# ---------------------------------------------------------------------------------------
# SHOW BACKUPS | RESTORES

SHOW_COLUMNS = [("Id", resultset.UINT), ("Destination", resultset.STR),
                ("State", resultset.STR), ("Progress", resultset.DOUBLE),
                ("Queue_time", resultset.DATETIME), ("Execution_time", resultset.DATETIME),
                ("Finish_time", resultset.DATETIME), ("Connection", resultset.UINT),
                ("Message", resultset.STR)]
_STRING = r"""'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*\""""


@statement(r"SHOW\s+(?P<kind>BACKUPS|RESTORES)(?:\s+LIKE\s+(?P<like>%s)|\s+WHERE\s+(?P<where>.+?))?"
           % _STRING)
def show_brie(ctx, m):  # pylint: disable=unused-argument
    kind = "backup" if m.group("kind").upper() == "BACKUPS" else "restore"
    rows = []
    for task in QUEUE.tasks(kind):
        state, progress = task.progress()
        rows.append((task.id, task.destination, state, progress, task.queue_time,
                     task.exec_time, task.finish_time, task.conn_id, task.message or None))
    QUEUE.clear()
    condition = None
    if m.group("like"):
        # TiDB's buildShow applies LIKE to the first column, which is Id here (quirk: a
        # destination pattern matches nothing).
        condition = "`Id` LIKE " + m.group("like")
    elif m.group("where"):
        condition = m.group("where")
    return Rewrite(resultset.rewrite_sql(SHOW_COLUMNS, rows, condition))


# ---------------------------------------------------------------------------------------
# BACKUP | RESTORE

BACKUP_COLUMNS = [("Destination", resultset.STR), ("Size", resultset.UINT),
                  ("BackupTS", resultset.UINT), ("Queue Time", resultset.DATETIME),
                  ("Execution Time", resultset.DATETIME)]
RESTORE_COLUMNS = [("Destination", resultset.STR), ("Size", resultset.UINT),
                   ("BackupTS", resultset.UINT), ("Cluster TS", resultset.UINT),
                   ("Queue Time", resultset.DATETIME), ("Execution Time", resultset.DATETIME)]


class Plan:
    """What buildBRIE makes of a statement: destination, scope and options."""

    def __init__(self, stmt, dest, tables_scope, options):
        self.stmt = stmt
        self.kind = stmt.kind
        self.dest = dest
        self.all = stmt.all
        self.databases = [d.lower() for d in stmt.databases]
        self.tables = tables_scope  # [(db, name)]
        self.checksum = bool(options.get("CHECKSUM", 1))
        self.send_credentials = bool(options.get("SEND_CREDENTIALS_TO_TIKV", 1))
        self.rate_limit = options.get("RATE_LIMIT", 0)  # bytes per second, 0: unlimited
        self.last_backup = 0
        self.options = options

    # filter.All / NewSchemasFilter / NewTablesFilter, made case-insensitive
    def match_schema(self, db):
        low = db.lower()
        if self.all:
            return low not in tables.SYSTEM_SCHEMAS
        if self.databases:
            return low in self.databases
        return any(low == t[0].lower() for t in self.tables)

    def match_table(self, db, name):
        if self.all or self.databases:
            return self.match_schema(db)
        return (db.lower(), name.lower()) in {(d.lower(), n.lower()) for d, n in self.tables}

    def config_hash(self):
        """BackupConfig.Hash: what a checkpoint must agree on. Like BR's, it covers the
        storage and its options, LAST_BACKUP and the credentials flag, but not the tables
        (SQL BRIE sets a filter, not FilterStr)."""
        data = {"last-backup-ts": self.last_backup, "send-credentials-to-tikv":
                self.send_credentials, "use-checkpoint": True}
        data.update(self.dest.config_hash_input())
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _build_plan(ctx, stmt):
    dest = Destination(stmt.url)
    bad = dest.bad_escape()
    if bad:
        raise SqlError(1105, "HY000", "invalid destination URL: " + bad)
    if dest.scheme in UNEMULATED_SCHEMES:
        raise unsupported("%s:// storage is not emulated (use local:// or s3://)" % dest.scheme)
    options = stmt.options
    scope = []
    if stmt.tables:
        current_db = None
        if any(db is None for db, dummy in stmt.tables):
            current_db = tables.client_session(ctx)[0]
            if not current_db:
                raise tables.no_database_error()
        scope = [(db or current_db, name) for db, name in stmt.tables]
    named = list(stmt.databases) + [db for db, dummy in scope]
    system = [d for d in named if d.lower() in tables.SYSTEM_SCHEMAS]
    if system:
        raise unsupported("%s of system schema %s is not emulated (the sandbox's system "
                          "tables are MariaDB's, not TiDB's)" % (stmt.kind.upper(), system[0]))
    plan = Plan(stmt, dest, scope, options)
    if stmt.kind == "backup":
        if "SNAPSHOT" in options:
            raise unsupported("BACKUP ... SNAPSHOT cannot be emulated: the sandbox's storage "
                              "(MariaDB) keeps no old versions to back up; back up the "
                              "current data (no SNAPSHOT option)")
        last = options.get("LAST_BACKUP")
        if last is not None:
            plan.last_backup = last[1] if last[0] == "tso" else _datetime_tso(last[1])
    return plan


def _datetime_tso(text):
    """parseTSString: a datetime in the session's time zone (the server's here) -> TSO."""
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            parsed = time.strptime(text.strip(), fmt)
        except ValueError:
            continue
        micro = 0
        if fmt.endswith(".%f"):
            micro = int(text.strip().rsplit(".", 1)[1].ljust(6, "0")[:6])
        return tso.compose(int(time.mktime(parsed)) * 1000 + micro // 1000)
    raise SqlError(1292, "22007", "Incorrect datetime value: '%s'" % text)


@statement(r"(?:BACKUP|RESTORE)\b.*", priority=40)
def brie_statement(ctx, m):
    try:
        return _brie_statement(ctx, m)
    except (SqlError, pymysql.MySQLError):
        raise
    except Exception as exc:  # pylint: disable=broad-except
        # Never let the proxy log the statement: its URL may carry credentials.
        LOG.error("BRIE statement failed: %s: %s", type(exc).__name__,
                  _redact_statement(str(exc)))
        return Error(1105, "HY000", "tidbops sandbox: the BRIE statement failed inside the "
                                    "stand-in (see its log)")


def _redact_statement(text):
    """Text with the query part of any URL-looking string masked."""
    return re.sub(r"(://[^\s'\"?]*)\?[^\s'\"]*", r"\1?<redacted>", text)


def _brie_statement(ctx, m):
    stmt = brie_parse.parse(m.group(0))
    plan = _build_plan(ctx, stmt)
    QUEUE.clear()
    task = QUEUE.register(plan.kind, plan.dest.display, ctx.conn_id)
    session = ctx.session
    watcher = threading.Thread(target=_watch_kill, args=(task, session), daemon=True,
                               name="brie-kill-%d" % task.id)
    watcher.start()
    errno = BACKUP_FAILED if plan.kind == "backup" else RESTORE_FAILED
    prefix = "Backup failed: " if plan.kind == "backup" else "Restore failed: "
    LOG.info("BRIE task %d: %s %s %s (connection %s)", task.id, plan.kind.upper(),
             "to" if plan.kind == "backup" else "from", plan.dest.display, ctx.conn_id)
    reply = None
    try:
        if not QUEUE.acquire(task):
            raise Cancelled("queue")
        try:
            task.exec_time = now_datetime()
            if plan.kind == "backup":
                _Backup(ctx, plan, task).run()
            else:
                _Restore(ctx, plan, task).run()
        finally:
            QUEUE.release()
    except Cancelled as exc:
        if exc.args and exc.args[0] == "queue":
            reply = Error(1105, "HY000", CONTEXT_CANCELED)
        else:
            reply = Error(errno, "HY000", prefix + CONTEXT_CANCELED)
        task.message = "[executor:%d]%s" % (reply.errno, reply.message)
    except BrError as exc:
        text = plan.dest.redact(str(exc))
        reply = Error(errno, "HY000", prefix + text)
        task.message = "[executor:%d]%s%s" % (errno, prefix, text)
    except SqlError as exc:
        reply = exc.reply
        task.message = "[executor:%d]%s" % (reply.errno, reply.message)
    except pymysql.MySQLError as exc:
        # What MariaDB refused while the task ran (a DDL or an INSERT of the restore).
        text = "[tidbops sandbox: MariaDB error %s]%s" % (
            exc.args[0] if exc.args else "?", exc.args[1] if len(exc.args) > 1 else exc)
        reply = Error(errno, "HY000", prefix + plan.dest.redact(text))
        task.message = "[executor:%d]%s" % (errno, reply.message)
    except Exception as exc:  # pylint: disable=broad-except
        LOG.error("BRIE task %d failed: %s", task.id,
                  plan.dest.redact("%s: %s" % (type(exc).__name__, exc)))
        reply = Error(1105, "HY000", "tidbops sandbox: the BRIE task failed inside the "
                                     "stand-in (see its log)")
        task.message = "[executor:1105]" + reply.message
    finally:
        task.finish_time = now_datetime()
        task.finished_at = time.time()
        task.close_progress()
        task.done.set()
    if reply is not None:
        LOG.info("BRIE task %d failed: %s", task.id, task.message)
        return reply
    LOG.info("BRIE task %d finished: size %d, BackupTS %d", task.id, task.size, task.backup_ts)
    if plan.kind == "backup":
        row = (task.destination, task.size, task.backup_ts, task.queue_time, task.exec_time)
        return Rewrite(resultset.rewrite_sql(BACKUP_COLUMNS, [row]))
    row = (task.destination, task.size, task.backup_ts, task.restore_ts, task.queue_time,
           task.exec_time)
    return Rewrite(resultset.rewrite_sql(RESTORE_COLUMNS, [row]))


def _watch_kill(task, session):
    """brie.go's goroutine: every 3 s, a killed session cancels the task."""
    while not task.done.wait(KILL_POLL_SECONDS):
        if session.cancel_event.is_set():
            task.cancel_event.set()
            LOG.info("BRIE job canceled. ID %d", task.id)
            return


# ---------------------------------------------------------------------------------------
# shared by backup and restore

def cluster_state_dir(ctx):
    """The cluster's state dir (a tidb instance's state dir is <cluster>/tidb-<port>)."""
    return os.path.dirname(os.path.abspath(ctx.state_dir))


def tso_allocator(ctx):
    return tso.Allocator(os.path.join(cluster_state_dir(ctx), "brie", "tso"))


class _Pacer:
    """Spreads a task over brie_min_seconds (read again while it waits) and holds it to RATE_LIMIT."""

    RECHECK = 0.5

    def __init__(self, task, sandbox_dir, rate):
        self.task = task
        self.sandbox_dir = sandbox_dir
        self.rate = rate
        self.started = time.monotonic()
        self.bytes = 0

    def min_seconds(self):
        return knobs.get("brie_min_seconds", 0.0, self.sandbox_dir) or 0.0

    def _wait_for(self, target):
        """Wait until target() seconds after the start, in short slices (the knob may change)."""
        while True:
            remaining = self.started + target() - time.monotonic()
            if remaining <= 0:
                self.task.check()
                return
            self.task.wait(min(remaining, self.RECHECK))

    def step(self, done, total, nbytes=0):
        self.bytes += nbytes

        def target():
            share = self.min_seconds() * done / total if total else 0.0
            return max(share, self.bytes / float(self.rate)) if self.rate else share
        self._wait_for(target)

    def finish(self):
        self._wait_for(self.min_seconds)


class _Job:
    def __init__(self, ctx, plan, task):
        self.ctx = ctx
        self.plan = plan
        self.task = task
        self.sandbox_dir = knobs.own_sandbox_dir()
        self.pacer = _Pacer(task, self.sandbox_dir, plan.rate_limit)
        self.history_path = os.path.join(cluster_state_dir(ctx), "brie", "history.json")

    def storage(self):
        return open_storage(self.plan.dest, self.plan.send_credentials, self.sandbox_dir)


# ---------------------------------------------------------------------------------------
# BACKUP

class _Backup(_Job):
    def run(self):
        task, plan = self.task, self.plan
        store = self.storage()
        if _checked_exists(store, META_FILE):
            raise BrError(annotate(
                "backup meta file exists in %s/%s, there may be some backup files in the path "
                "already, please specify a correct backup directory!" % (store.uri(), META_FILE),
                ERR_INVALID_ARGUMENT))
        checkpoint = None
        if _checked_exists(store, CHECKPOINT_META):
            try:
                checkpoint = json.loads(store.read(CHECKPOINT_META).decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                raise BrError(annotate("error occurred when loading %s file" % CHECKPOINT_META,
                                       "invalid checkpoint metadata")) from None
        elif _checked_exists(store, LOCK_FILE) and any(n.endswith(".sst") for n in store.walk()):
            raise BrError(annotate(
                "backup lock file and sst file exist in %s/%s, there are some backup files in "
                "the path already, but hasn't checkpoint metadata, please specify a correct "
                "backup directory!" % (store.uri(), LOCK_FILE), ERR_INVALID_ARGUMENT))
        cfg_hash = plan.config_hash()
        if checkpoint is not None and checkpoint.get("config_hash") != cfg_hash:
            raise BrError(annotate(
                "failed to backup to %s, because the checkpoint mode is used, but the hashs of "
                "the configs are not the same. Please check the config" % store.uri(),
                ERR_INVALID_ARGUMENT))
        store.write(LOCK_FILE, LOCK_CONTENT)

        conn = tables.data_connection(self.ctx)
        try:
            with conn.cursor() as cur:
                cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                if checkpoint is not None:
                    changelog.consistent_snapshot(cur)
                    backup_ts = int(checkpoint["backup_ts"])
                else:
                    # The snapshot is taken under the allocator's lock and marks BackupTS, so a
                    # changefeed from BackupTS starts exactly after what the backup holds.
                    backup_ts, dummy = tso_allocator(self.ctx).next(mark=lambda: changelog.consistent_snapshot(cur))
            task.backup_ts = backup_ts  # glue.Record("BackupTS")
            self._backup(store, conn, backup_ts, checkpoint, cfg_hash)
        finally:
            conn.close()

    def _scope(self, conn):
        """([database], [TableInfo]) the backup covers."""
        dbs = [d for d in tables.list_databases(conn) if self.plan.match_schema(d)]
        infos = []
        for db in dbs:
            for name in tables.list_base_tables(conn, db):
                if self.plan.match_table(db, name):
                    infos.append(tables.table_info(conn, db, name))
        if not (self.plan.all or self.plan.databases):
            # a table filter names its schemas only through the tables that matched
            wanted = {i.db for i in infos} | {d for d in dbs
                                              if not tables.list_base_tables(conn, d)}
            dbs = [d for d in dbs if d in wanted]
        return dbs, infos

    def _backup(self, store, conn, backup_ts, checkpoint, cfg_hash):
        task, plan = self.task, self.plan
        dbs, infos = self._scope(conn)
        meta = {
            "format": META_FORMAT, "version": 1,
            "note": ("tidbops sandbox stand-in for BR's protobuf backupmeta; data files hold "
                     "zlib-compressed rows, not SST"),
            "cluster_id": _cluster_id(self.ctx), "cluster_version": self.ctx.version,
            "br_version": "BR\nRelease Version: %s" % self.ctx.version,
            "start_version": plan.last_backup, "end_version": backup_ts,
            "is_incremental": plan.last_backup > 0, "new_collations_enabled": "True",
            "databases": [], "tables": [], "dropped_tables": [],
        }
        if plan.all:  # a full backup takes the accounts too (BR >= v5.1.0)
            meta["sys_tables"] = systables.dump(conn)
        if not dbs and not infos:
            # "Nothing to backup": backupmeta alone, no progress (the task shows Wait).
            self._write_meta(store, meta)
            self.pacer.finish()
            return
        history = None
        if plan.last_backup:
            if backup_ts <= plan.last_backup:
                raise BrError(annotate("LastBackupTS is larger or equal to current TS",
                                       ERR_INVALID_ARGUMENT))
            history = _load_history(self.history_path).get(str(plan.last_backup))
            if history is None:
                raise unsupported(
                    "LAST_BACKUP = %d is not the BackupTS of a backup this cluster took; the "
                    "sandbox makes incremental backups only from its own backups"
                    % plan.last_backup)
        for db in dbs:
            with conn.cursor() as cur:
                cur.execute("SHOW CREATE DATABASE %s" % tables.quote(db))
                create_db = tables.text(cur.fetchone()[1])
            meta["databases"].append({"name": db, "create": create_db})

        counts = {}
        for info in infos:
            with conn.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM %s" % tables.qualified(info.db, info.name))
                counts[info.key()] = int(cur.fetchone()[0])
        if history is None:
            units = {i.key(): max(1, math.ceil(counts[i.key()] / ROWS_PER_FILE)) for i in infos}
        else:
            units = {i.key(): 1 for i in infos}
        total = sum(units.values())
        task.start_progress("Backup", total)
        if checkpoint is None:
            store.write(CHECKPOINT_META, json.dumps(
                {"config_hash": cfg_hash, "backup_ts": backup_ts,
                 "note": "tidbops sandbox stand-in for BR's checkpoint metadata"},
                sort_keys=True).encode())

        signatures, done, size = {}, 0, 0
        for seq, info in enumerate(infos, start=2):
            task.check()
            if history is not None:
                result = checksum.table_checksum(conn, info, lambda: task.cancelled)
                task.check()
                signatures[info.key()] = _signature(info, result)
                if history["tables"].get(info.key()) == signatures[info.key()]:
                    done += 1
                    task.inc()
                    self.pacer.step(done, total)
                    continue
                entry, written = self._dump_table(store, conn, info, seq, backup_ts, None, None)
                done += 1
                task.inc()
                self.pacer.step(done, total, written)
            else:
                progress = [done]

                # The default binds this iteration's counter (not shared state across calls).
                def on_file(nbytes, progress=progress):  # pylint: disable=dangerous-default-value
                    progress[0] += 1
                    task.inc()
                    self.pacer.step(progress[0], total, nbytes)
                entry, written = self._dump_table(store, conn, info, seq, backup_ts, on_file,
                                                  units[info.key()])
                done = progress[0]
                signatures[info.key()] = _signature(info, entry["checksum"])
            size += written
            meta["tables"].append(entry)
        if history is not None:
            for key in sorted(history["tables"]):
                db, dummy, name = key.partition(".")
                if key not in signatures and plan.match_table(db, name):
                    meta["dropped_tables"].append({"db": db, "name": name})
        self.pacer.finish()

        task.start_progress("Checksum", max(1, len(meta["tables"]) + len(meta["databases"])))
        task.inc(task.total)
        self._write_meta(store, meta)
        store.delete_tree(CHECKPOINT_DIR)
        task.size = size  # glue.Record("Size")
        _record_history(self.history_path, backup_ts, signatures)

    def _dump_table(self, store, conn, info, seq, backup_ts, on_file, expected_files):
        """Write the table's data files; (meta entry, bytes written)."""
        acc = checksum.Accumulator(info)
        files, written, chunk = [], 0, 0
        physical = tso.physical_ms(backup_ts)
        key_hash = hashlib.sha256(info.key().encode("utf-8")).hexdigest()
        buffered = []

        def flush():
            nonlocal written, chunk
            payload = b"".join(tables.encode_row(r) for r in buffered)
            data = FILE_MAGIC + zlib.compress(payload, 6)
            digest = hashlib.sha256(("%s#%d" % (key_hash, chunk)).encode()).hexdigest()
            name = "1_%d_%d_%s_%d_default.sst" % (seq, chunk, digest, physical)
            self.task.check()
            store.write(name, data)
            files.append({"name": name, "size": len(data), "rows": len(buffered),
                          "sha256": hashlib.sha256(data).hexdigest()})
            written += len(data)
            chunk += 1
            buffered.clear()
            if on_file is not None:
                on_file(len(data))

        for rows in tables.stream_rows(conn, info, batch=ROWS_PER_FILE):
            self.task.check()
            acc.add(rows)
            buffered.extend(rows)
            while len(buffered) >= ROWS_PER_FILE:
                rest = buffered[ROWS_PER_FILE:]
                del buffered[ROWS_PER_FILE:]
                flush()
                buffered.extend(rest)
        if buffered or not files:
            flush()
        if on_file is not None and expected_files is not None:
            for dummy in range(expected_files - len(files)):
                on_file(0)
        result = acc.result()
        entry = {"db": info.db, "name": info.name, "create": info.create_sql,
                 "columns": info.columns, "insert_columns": info.insert_columns,
                 "rows": acc.rows, "files": files, "checksum": result,
                 "crc64_xor": result["crc64_xor"], "total_kvs": result["total_kvs"],
                 "total_bytes": result["total_bytes"]}
        return entry, written

    def _write_meta(self, store, meta):
        self.task.check()
        store.write(META_FILE, backupmeta.encode(meta))


def _checked_exists(store, name):
    try:
        return store.exists(name)
    except BrError as exc:
        raise BrError(annotate("error occurred when checking %s file" % name, exc)) from None


def _signature(info, result):
    data = {"create": info.create_sql, "crc64_xor": result["crc64_xor"],
            "total_kvs": result["total_kvs"], "total_bytes": result["total_bytes"]}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _cluster_id(ctx):
    """PD's cluster id, as BR writes it (mgr.GetPDClient().GetClusterID); a TiDB started
    without PD endpoints (unit tests) gets a stable one from its cluster name."""
    if ctx.identity.pd:
        return int(cluster_info.pd_get(ctx.identity.pd, "/pd/api/v1/cluster")["id"])
    return int(hashlib.sha1(("cluster-" + ctx.cluster).encode()).hexdigest()[:15], 16)


def _load_history(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle).get("backups", {})
    except (OSError, ValueError, AttributeError):
        return {}


def _record_history(path, backup_ts, signatures):
    """What this backup covered, by BackupTS, for later LAST_BACKUP = <tso>."""
    import fcntl
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            backups = _load_history(path)
            backups[str(backup_ts)] = {"tables": signatures, "recorded": time.time()}
            for key in sorted(backups, key=int)[:-HISTORY_KEEP]:
                del backups[key]
            tmp = "%s.%d.tmp" % (path, os.getpid())
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump({"backups": backups}, handle, indent=1, sort_keys=True)
            os.replace(tmp, path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# ---------------------------------------------------------------------------------------
# RESTORE

class _Restore(_Job):
    def run(self):
        task, plan = self.task, self.plan
        store = self.storage()
        try:
            data = store.read(META_FILE)
        except BrError as exc:
            raise BrError(annotate("load backupmeta failed", exc)) from None
        meta = _parse_meta(data)
        incremental = bool(meta.get("is_incremental"))
        dbs = [d for d in meta.get("databases", []) if plan.match_schema(d["name"])]
        wanted = [t for t in meta.get("tables", []) if plan.match_table(t["db"], t["name"])]
        dropped = [t for t in meta.get("dropped_tables", [])
                   if plan.match_table(t["db"], t["name"])]
        task.size = sum(f["size"] for t in wanted for f in t["files"])  # glue.Record("Size")
        conn = tables.data_connection(self.ctx)
        try:
            if not incremental:
                existing = [t for t in wanted if tables.find_table(conn, t["db"], t["name"])]
                if existing:
                    raise BrError(annotate(
                        "table already exists: " + "".join("%s.%s " % (t["db"], t["name"])
                                                           for t in existing),
                        ERR_TABLES_EXIST))
            task.restore_ts = tso_allocator(self.ctx).next()
            task.backup_ts = int(meta.get("end_version", 0))
            with conn.cursor() as cur:
                # BR ingests SST files: TiKV's change data capture, hence TiCDC, never sees
                # restored rows; the stand-in writes them past the binlog for the same effect.
                cur.execute("SET SESSION sql_log_bin = 0")
            if wanted or dropped:
                self._restore(store, conn, meta, dbs, wanted, dropped, incremental)
            else:
                self.pacer.finish()
            if plan.all and meta.get("sys_tables") and systables.restores_accounts(plan.options, self.ctx.version):
                systables.restore(conn, meta["sys_tables"])
        finally:
            conn.close()

    def _restore(self, store, conn, meta, dbs, wanted, dropped, incremental):
        task = self.task
        total = len(wanted) + sum(len(t["files"]) for t in wanted) + len(dropped)
        task.start_progress("Restore", max(1, total))
        with conn.cursor() as cur:
            cur.execute("SET SESSION foreign_key_checks = 0, unique_checks = 0, "
                        "sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'")
            for db in dbs:
                if tables.find_database(conn, db["name"]) is None:
                    cur.execute(db["create"])
        done = 0
        for table in wanted:
            task.check()
            with conn.cursor() as cur:
                if tables.find_database(conn, table["db"]) is None:
                    cur.execute("CREATE DATABASE %s" % tables.quote(table["db"]))
                if incremental:
                    found = tables.find_table(conn, table["db"], table["name"])
                    if found:
                        cur.execute("DROP TABLE %s" % tables.qualified(*found))
                cur.execute("USE %s" % tables.quote(table["db"]))
                cur.execute(table["create"])
            done += 1
            task.inc()
            self.pacer.step(done, total)
            columns = table.get("insert_columns") or table["columns"]
            positions = [table["columns"].index(c) for c in columns]
            sql = "INSERT INTO %s (%s) VALUES (%s)" % (
                tables.qualified(table["db"], table["name"]),
                ", ".join(tables.quote(c) for c in columns), ", ".join(["%s"] * len(columns)))
            for item in table["files"]:
                task.check()
                rows = self._read_file(store, item, len(table["columns"]))
                with conn.cursor() as cur:
                    for start in range(0, len(rows), INSERT_BATCH):
                        batch = [tuple(r[p] for p in positions)
                                 for r in rows[start:start + INSERT_BATCH]]
                        cur.executemany(sql, batch)
                done += 1
                task.inc()
                self.pacer.step(done, total, item["size"])
        for table in dropped:
            task.check()
            found = tables.find_table(conn, table["db"], table["name"])
            if found:
                with conn.cursor() as cur:
                    cur.execute("DROP TABLE %s" % tables.qualified(*found))
            done += 1
            task.inc()
        if self.plan.checksum and not incremental:
            for table in wanted:
                task.check()
                info = tables.table_info(conn, table["db"], table["name"])
                result = checksum.table_checksum(conn, info, lambda: task.cancelled)
                task.check()
                expected = table.get("checksum") or {}
                if (result["crc64_xor"], result["total_kvs"]) != (
                        expected.get("crc64_xor"), expected.get("total_kvs")):
                    raise BrError(annotate(
                        "checksum mismatch: table %s.%s" % (table["db"], table["name"]),
                        ERR_RESTORE_CHECKSUM))
        self.pacer.finish()

    def _read_file(self, store, item, column_count):
        data = store.read(item["name"])
        if hashlib.sha256(data).hexdigest() != item.get("sha256"):
            raise BrError(annotate("file %s is corrupted: sha256 mismatch" % item["name"],
                                   ERR_INVALID_METAFILE))
        if not data.startswith(FILE_MAGIC):
            raise BrError(annotate("file %s is not a sandbox data file" % item["name"],
                                   ERR_INVALID_METAFILE))
        return tables.decode_rows(zlib.decompress(data[len(FILE_MAGIC):]), column_count)


def _parse_meta(data):
    if not data:
        return {}  # an empty backupmeta (noop://) unmarshals into an empty BackupMeta
    meta = backupmeta.decode(data)
    if not isinstance(meta, dict) or meta.get("format") != META_FORMAT:
        raise BrError(annotate("parse backupmeta failed",
                               "tidbops sandbox: this backupmeta was not written by the "
                               "sandbox's BACKUP (a real BR backup cannot be restored here)"))
    return meta
