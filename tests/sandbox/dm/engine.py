"""The migration a subtask (one task on one source) runs, in a thread of the DM-master
stand-in: the full phase (units Dump, Load) copies the allowed tables from one consistent
snapshot of the upstream, the Sync unit follows the upstream binlog (ROW events) from the
checkpoint, applying each upstream transaction downstream in one transaction together with
the checkpoint update, so stop/start neither loses nor repeats rows.
"""
import datetime
import logging
import random
import threading

import pymysql
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.event import QueryEvent, RotateEvent, XidEvent
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

from tests.sandbox import changelog
from tests.sandbox.dm import checkpoint as cp
from tests.sandbox.dm import precheck, taskcfg
from tests.sandbox.dm.errors import DMError, db_error

LOG = logging.getLogger("dm-standin")
BATCH_ROWS = 500


class Stopped(Exception):
    """The user stopped the subtask; the stage becomes Paused."""


def connect_down(to, **kw):
    session = dict(to.get("session") or {})
    init = "SET SESSION foreign_key_checks = %s" % (1 if str(session.get("foreign_key_checks", "0")) in ("1", "ON") else 0)
    return pymysql.connect(host=to["host"], port=int(to["port"]), user=to["user"], password=to.get("password") or "",
                           connect_timeout=5, read_timeout=60, charset="utf8mb4", init_command=init, **kw)


def parse_start_time(text):
    """DM's start_time formats: 2006-01-02 15:04:05, with T, optional +08:00/+0800 (local time
    of the upstream without a zone). Returns a Unix timestamp."""
    value = text.strip().replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = datetime.datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed.timestamp()
    raise DMError("ErrOpenAPICommonError", message="start_time %s is not valid, use format like "
                  "'2006-01-02 15:04:05' or '2006-01-02T15:04:05+08:00'" % text)


class Subtask(object):
    """Runtime of one subtask; stage/unit/error are read by the status API."""

    def __init__(self, cfg, source, worker):
        self.cfg = cfg
        self.source = source
        self.worker = worker
        self.stage = "Stopped"
        self.unit = "Sync" if cfg["mode"] == "incremental" else "Dump"
        self.error = None
        self.stats = {"total_events": 0, "master": ("", 0), "syncer": ("", 0), "tables": 0, "done_tables": 0,
                      "rows": 0, "total_rows": 0}
        self._stop = threading.Event()
        self._thread = None
        self._cli = {}

    # ---- control ----------------------------------------------------------------------
    def running(self):
        return self._thread is not None and self._thread.is_alive()

    def start(self, start_time=None, safe_mode_duration=None):
        if self.stage == "Finished" or self.running():
            return
        self._cli = {"start_time": start_time, "safe_mode_duration": safe_mode_duration}
        self._stop.clear()
        self.error = None
        self.stage = "Running"
        self._thread = threading.Thread(target=self._main, name="subtask-%s-%s" % (self.cfg["name"], self.cfg["source_id"]),
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout=15):
        """Pause (what DM's stop does to a started subtask)."""
        if self.running():
            self._stop.set()
            self._thread.join(timeout)
        if self.stage in ("Running", "Paused") or self.error is not None:
            self.stage = "Paused"

    def _check_stop(self):
        if self._stop.is_set():
            raise Stopped()

    def _main(self):
        try:
            self._run()
        except Stopped:
            self.stage = "Paused"
        except DMError as exc:
            self._fail(exc)
        except pymysql.MySQLError as exc:
            self._fail(db_error(exc, "downstream" if self.unit in ("Load", "Sync") else "upstream"))
        except Exception as exc:  # pylint: disable=broad-except
            LOG.exception("subtask %s failed", self.cfg["name"])
            self._fail(DMError("ErrOpenAPICommonError", message=str(exc)))

    def _fail(self, err):
        LOG.warning("subtask %s/%s paused by error: %s", self.cfg["name"], self.cfg["source_id"], err)
        self.error = err
        self.stage = "Paused"

    # ---- the units ----------------------------------------------------------------------
    def _run(self):
        cfg = self.cfg
        meta, task, src = cfg["meta_schema"], cfg["name"], cfg["source_id"]
        try:
            down = connect_down(cfg["to"], autocommit=True)
        except pymysql.MySQLError as exc:
            raise db_error(exc, "downstream")
        with down:
            try:
                with down.cursor() as cur:
                    cp.ensure(cur, meta, task)
                    point = cp.read_global(cur, meta, task, src)
                    loaded, snapshot = cp.loaded_tables(cur, meta, task, src)
            except pymysql.MySQLError as exc:
                raise db_error(exc, "downstream")
        if point is None and cfg["mode"] in ("full", "all", "dump", "load"):
            point = self._full_phase(loaded, snapshot)
            if point is None:
                self.stage = "Finished"
                return
        if point is None:  # incremental: meta or start_time (checked at start)
            if self._cli.get("start_time"):
                point = self._position_at(parse_start_time(self._cli["start_time"])) + ("", 0)
            elif cfg["meta"] and cfg["meta"]["binlog_name"]:
                point = (cfg["meta"]["binlog_name"], int(cfg["meta"]["binlog_pos"] or 4), "", 0)
            else:
                raise DMError("ErrConfigMetadataNotSet", src, "incremental")
        elif self._cli.get("start_time"):
            # start_time wins over checkpoint and meta (Syncer, first run after it is set)
            point = self._position_at(parse_start_time(self._cli["start_time"])) + ("", 0)
        self._cli["start_time"] = None
        self.unit = "Sync"
        self._sync(point)

    def _upstream(self, **kw):
        src = self.source
        try:
            return pymysql.connect(host=src["host"], port=int(src["port"]), user=src["user"], password=src["password"],
                                   connect_timeout=5, read_timeout=60, charset="utf8mb4", **kw)
        except pymysql.MySQLError as exc:
            raise db_error(exc, "upstream")

    def _full_phase(self, loaded, snapshot):
        """Dump + Load. Returns the position Sync starts from (None for full/dump/load)."""
        cfg = self.cfg
        meta, task, src = cfg["meta_schema"], cfg["name"], cfg["source_id"]
        self.unit = "Dump"
        if cfg["mode"] == "load":
            return None  # nothing dumped by an earlier dump task of this sandbox to load
        upstream = self._upstream()
        with upstream, upstream.cursor() as ucur:
            ucur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            ucur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            # MariaDB reports the binlog position of the consistent snapshot itself.
            ucur.execute("SHOW STATUS LIKE 'binlog_snapshot_%'")
            status = {k.lower(): v for k, v in ucur.fetchall()}
            here = (status.get("binlog_snapshot_file", ""), int(status.get("binlog_snapshot_position", 0) or 0))
            tables = precheck.source_tables(upstream, cfg)
            self.stats["tables"] = len(tables)
            self.unit = "Load" if taskcfg.has_load(cfg["mode"]) else "Dump"
            down = connect_down(cfg["to"], autocommit=False)
            ddl = connect_down(cfg["to"], autocommit=True)
            with down, ddl, down.cursor() as dcur:
                if snapshot is None:
                    cp.save_loaded(dcur, meta, task, src, "metadata", here[0], "", here[1])
                    down.commit()
                    snapshot = here
                for schema, table in tables:
                    self._check_stop()
                    if (schema, table) not in loaded:
                        self._copy_table(ucur, dcur, ddl, schema, table)
                        down.commit()
                    self.stats["done_tables"] += 1
                if cfg["mode"] != "all":
                    return None
                # Tables loaded by a resumed run are newer than the first snapshot: replay in
                # safe mode up to this run's snapshot (DM's exit_safe_binlog checkpoint).
                safe = here if here != snapshot else ("", 0)
                cp.save_global(dcur, meta, task, src, snapshot[0], snapshot[1], safe[0], safe[1])
                down.commit()
                return (snapshot[0], snapshot[1], safe[0], safe[1])

    def create_target(self, ucur, ddl, schema, table):
        """CREATE DATABASE/TABLE IF NOT EXISTS downstream from the upstream's SHOW CREATE TABLE,
        under the routed name."""
        t_schema, t_table = taskcfg.route(self.cfg, schema, table)
        ucur.execute("SHOW CREATE TABLE %s" % cp.qname(schema, table))
        create = ucur.fetchone()[1]
        head, rest = create.split("(", 1)
        if not head.upper().startswith("CREATE TABLE"):
            raise DMError("ErrOpenAPICommonError", message="%s.%s is not a base table" % (schema, table))
        with ddl.cursor() as cur:
            cur.execute("CREATE DATABASE IF NOT EXISTS %s" % cp.qname(t_schema))
            cur.execute("CREATE TABLE IF NOT EXISTS %s (%s" % (cp.qname(t_schema, t_table), rest))
        return t_schema, t_table

    def _copy_table(self, ucur, dcur, ddl, schema, table):
        cfg = self.cfg
        t_schema, t_table = self.create_target(ucur, ddl, schema, table)
        if cfg["mode"] == "dump":
            ucur.execute("SELECT COUNT(*) FROM %s" % cp.qname(schema, table))
            self.stats["rows"] += ucur.fetchone()[0]
            return
        verb = {"replace": "REPLACE", "error": "INSERT", "ignore": "INSERT IGNORE"}[cfg["loader"]["on_duplicate_logical"]]
        ucur.execute("SELECT * FROM %s" % cp.qname(schema, table))
        columns = [d[0] for d in ucur.description]
        sql = "%s INTO %s (%s) VALUES (%s)" % (verb, cp.qname(t_schema, t_table), ", ".join(cp.qname(c) for c in columns),
                                               ", ".join(["%s"] * len(columns)))
        count = 0
        while True:
            self._check_stop()
            rows = ucur.fetchmany(BATCH_ROWS)
            if not rows:
                break
            dcur.executemany(sql, rows)
            count += len(rows)
            self.stats["rows"] += len(rows)
        cp.save_loaded(dcur, cfg["meta_schema"], cfg["name"], cfg["source_id"],
                       "%s.%s.000000000.sql" % (schema, table), schema, table, count)

    # ---- sync -------------------------------------------------------------------------------
    def _position_at(self, ts):
        """The binlog position of the first transaction at or after Unix time ts."""
        upstream = self._upstream()
        with upstream, upstream.cursor() as cur:
            first = changelog.first_position(cur)
            master = changelog.master_position(cur)
        return changelog.position_at_time(self._settings(), first, ts) or master

    def _settings(self):
        src = self.source
        return {"host": src["host"], "port": int(src["port"]), "user": src["user"], "passwd": src["password"]}

    def _sync(self, point):
        cfg = self.cfg
        name, pos, safe_name, safe_pos = point[0], int(point[1]), point[2] or "", int(point[3] or 0)
        self.stats["syncer"] = (name, pos)
        server_id = random.randint(100000, 2 ** 31 - 1)
        safe_duration = _seconds(self._cli.get("safe_mode_duration"))
        first_ts = None
        created = set()
        down = connect_down(cfg["to"], autocommit=False)
        ddl = connect_down(cfg["to"], autocommit=True)
        upstream = self._upstream(autocommit=True)
        interval = 0.02
        with down, ddl, upstream:
            while True:
                self._check_stop()
                with upstream.cursor() as ucur:
                    ucur.execute("SHOW MASTER STATUS")
                    row = ucur.fetchone()
                    if row:
                        self.stats["master"] = (row[0], int(row[1]))
                stream = BinLogStreamReader(connection_settings=self._settings(), server_id=server_id, log_file=name,
                                            log_pos=pos, resume_stream=True, blocking=False,
                                            only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent, QueryEvent,
                                                         XidEvent, RotateEvent])
                got = False
                pending = False
                try:
                    with down.cursor() as dcur:
                        for event in stream:
                            self._check_stop()
                            got = True
                            self.stats["total_events"] += 1
                            if isinstance(event, RotateEvent):
                                continue
                            if first_ts is None and event.timestamp:
                                first_ts = event.timestamp
                            if isinstance(event, (WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent)):
                                here = (stream.log_file, stream.log_pos)
                                safe = bool(cfg["syncer"]["safe_mode"] or (safe_name and here <= (safe_name, safe_pos))
                                            or (safe_duration and event.timestamp < first_ts + safe_duration))
                                if self._apply(dcur, ddl, upstream, event, safe, created):
                                    pending = True
                                continue
                            if isinstance(event, QueryEvent) and event.query == "BEGIN":
                                continue
                            # XID, COMMIT or a DDL: a transaction boundary
                            name, pos = stream.log_file, stream.log_pos
                            if safe_name and (name, pos) > (safe_name, safe_pos):
                                safe_name, safe_pos = "", 0
                            cp.save_global(dcur, cfg["meta_schema"], cfg["name"], cfg["source_id"], name, pos,
                                           safe_name, safe_pos)
                            down.commit()
                            pending = False
                            self.stats["syncer"] = (name, pos)
                finally:
                    stream.close()
                    if pending:
                        down.rollback()  # half a transaction: read it again from the checkpoint
                if got:
                    interval = 0.02
                else:
                    interval = min(interval * 1.5, 0.3)
                    if self._stop.wait(interval):
                        raise Stopped()

    def _apply(self, dcur, ddl, upstream, event, safe, created):
        """One row event downstream; False when the table is filtered out."""
        cfg = self.cfg
        schema, table = event.schema, event.table
        if not taskcfg.allowed(cfg, schema, table):
            return False
        kind = changelog.ROW_KINDS[type(event)]
        if taskcfg.ignored_dml(cfg, schema, table, kind):
            return False
        if (schema, table) not in created:
            with upstream.cursor() as ucur:
                t_schema, t_table = self.create_target(ucur, ddl, schema, table)
            created.add((schema, table))
        t_schema, t_table = taskcfg.route(cfg, schema, table)
        changelog.apply_rows(dcur, cp.qname(t_schema, t_table), event, safe)
        return True

    # ---- status -----------------------------------------------------------------------------
    def status(self):
        """SubTaskStatus (without name/source/worker)."""
        out = {"stage": self.stage, "unit": self.unit}
        if self.error is not None:
            out["error_msg"] = self.error.process_error() + "\n"
        if self.unit == "Sync":
            master, syncer = self.stats["master"], self.stats["syncer"]
            out["sync_status"] = {
                "total_events": self.stats["total_events"], "total_tps": 0, "recent_tps": 0,
                "master_binlog": "(%s, %d)" % master, "master_binlog_gtid": "",
                "syncer_binlog": "(%s, %d)" % syncer, "syncer_binlog_gtid": "", "blocking_ddls": [],
                "unresolved_groups": [], "synced": bool(master[0]) and master == syncer, "binlog_type": "remote",
                "seconds_behind_master": 0, "io_total_bytes": 0, "dump_io_total_bytes": 0}
        elif self.unit == "Dump":
            out["dump_status"] = {"total_tables": self.stats["tables"], "completed_tables": float(self.stats["done_tables"]),
                                  "finished_bytes": 0.0, "finished_rows": float(self.stats["rows"]),
                                  "estimate_total_rows": float(self.stats["rows"]), "bps": 0,
                                  "progress": "%.2f %%" % (100.0 if self.stage == "Finished" else 0.0)}
        elif self.unit == "Load":
            done = self.stats["done_tables"]
            total = max(self.stats["tables"], 1)
            out["load_status"] = {"finished_bytes": done, "total_bytes": total, "progress": "%.2f %%" % (100.0 * done / total),
                                  "meta_binlog": "", "meta_binlog_gtid": "", "bps": 0}
        return out


def _seconds(text):
    """A Go duration like 10s, 1m30s, 500ms (safe_mode_time_duration) in seconds, or 0."""
    if not text:
        return 0
    total, number = 0.0, ""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    idx = 0
    while idx < len(text):
        char = text[idx]
        if char.isdigit() or char == ".":
            number += char
            idx += 1
            continue
        unit = "ms" if text[idx:idx + 2] == "ms" else char
        total += float(number or 0) * units.get(unit, 0)
        number = ""
        idx += len(unit)
    return total
