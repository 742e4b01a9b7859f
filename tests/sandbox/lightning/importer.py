"""The import task of the tidb-lightning stand-in: schemas, prechecks, chunks, checkpoints,
post-restore. Rows are written through the target cluster's TiDB SQL endpoint.

Chunks and the checkpoint. Every data file is one chunk (engine 0, key "path:0"). A chunk
is written in batches ([tikv-importer] logical-import-batch-rows / -size); each batch is
one transaction on the target:

    BEGIN; INSERT|REPLACE|INSERT IGNORE ... (the batch); SELECT COUNT(*) -> after
    checkpoint := {pending_pos, pending_rows, count_before, count_after}   (fsync, rename)
    COMMIT
    checkpoint := {pos = pending_pos, kvc_kvs += rows, no pending}

A run killed anywhere in that sequence leaves a checkpoint whose last batch is decidable on
restart: the table has count_after rows -> the batch was committed (advance pos), it has
count_before rows -> it was not (write it again), anything else -> someone else wrote the
table (fail). Nothing but the checkpoint records progress; the target holds only its rows.
"""
import datetime
import json
import os
import time
import urllib.error
import urllib.request

import pymysql
import pymysql.converters

from tests.sandbox.dumpling import storage, tablefilter
from tests.sandbox.dumpling.dump import go_error
from tests.sandbox.lightning import checkpoint as cpt
from tests.sandbox.lightning import source

ROW_DELAY_ENV = "TIDBOPS_SANDBOX_LIGHTNING_ROW_DELAY"
ROW_DELAY_KNOB = "lightning_row_delay"


class TaskError(Exception):
    pass


class Cancelled(BaseException):
    """SIGTERM/SIGINT: the task stops where it is (tidb lightning canceled)."""


def row_delay():
    """Seconds to spend per row (sandbox test knob): the environment variable, else
    `lightning_row_delay` in DIR/knobs.json of the sandbox (TIDBOPS_SANDBOX_DIR)."""
    raw = os.environ.get(ROW_DELAY_ENV)
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            return 0.0
    directory = os.environ.get("TIDBOPS_SANDBOX_DIR")
    if not directory:
        return 0.0
    try:
        with open(os.path.join(directory, "knobs.json"), encoding="utf-8") as handle:
            return max(0.0, float(json.load(handle).get(ROW_DELAY_KNOB, 0) or 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return 0.0


def qi(name):
    return "`" + name.replace("`", "``") + "`"


class Importer:
    def __init__(self, cfg, log, version):
        self.cfg = cfg
        self.log = log
        self.version = version
        self.conn = None
        self.cp = None
        self.delay = row_delay()

    def pause_after_row(self):
        """The row delay knob, read again every half second while it holds: a test holds
        Lightning with a large delay and lets it go by setting it back to 0."""
        waited = 0.0
        while waited < self.delay:
            step = min(0.5, self.delay - waited)
            time.sleep(step)
            waited += step
            self.delay = row_delay()

    # ---- connections ---------------------------------------------------------------------
    def connect(self):
        tidb = self.cfg["tidb"]
        imp = self.cfg["tikv-importer"]
        if imp["backend"] == "local" and (tidb["port"] <= 0 or not tidb.get("pd-addr")):
            settings = self._tidb_settings()
            if tidb["port"] <= 0:
                tidb["port"] = int(settings.get("port") or 0)
            if not tidb.get("pd-addr"):
                tidb["pd-addr"] = settings.get("path", "")
        if tidb["port"] <= 0:
            raise TaskError("[Lightning:Config:ErrInvalidConfig]invalid `tidb.port` setting")
        if imp["backend"] == "local" and not tidb.get("pd-addr"):
            raise TaskError("[Lightning:Config:ErrInvalidConfig]invalid `tidb.pd-addr` setting")
        password = tidb.get("password") or ""
        try:
            self.conn = self._connect(password)
        except pymysql.err.OperationalError as exc:
            first = exc
            if exc.args and exc.args[0] == 1045:
                import base64
                import binascii
                try:
                    decoded = base64.b64decode(password, validate=True).decode("utf-8",
                                                                               "surrogateescape")
                except (binascii.Error, ValueError):
                    decoded = None
                if decoded is not None and decoded != password:
                    try:
                        self.conn = self._connect(decoded)
                        first = None
                    except pymysql.err.OperationalError:
                        pass
            if first is not None:
                text = go_error(first)
                if text is None:
                    text = "dial tcp %s:%d: connect: connection refused" % (tidb["host"],
                                                                            tidb["port"])
                raise TaskError("[Lightning:DB:ErrDBConnect]failed to connect database: %s"
                                % text) from None
        with self.conn.cursor() as cur:
            cur.execute("SET SESSION sql_mode = %s", (tidb.get("sql-mode") or "",))
            for key, value in (tidb.get("session-vars") or {}).items():
                cur.execute("SET SESSION %s = %%s" % key, (value,))
        if imp["backend"] == "local":
            self._check_pd(tidb["pd-addr"])

    def _connect(self, password):
        tidb = self.cfg["tidb"]
        conv = {k: v for k, v in pymysql.converters.conversions.items() if not isinstance(k, int)}
        return pymysql.connect(host=tidb["host"], port=tidb["port"], user=tidb["user"],
                               password=password, charset="utf8mb4", autocommit=True,
                               connect_timeout=10, conv=conv, use_unicode=True)

    def _tidb_settings(self):
        tidb = self.cfg["tidb"]
        url = "http://%s:%d/settings" % (tidb["host"], int(tidb.get("status-port") or 10080))
        try:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(url, timeout=5) as resp:
                return json.loads(resp.read())
        except (OSError, ValueError, urllib.error.URLError) as exc:
            raise TaskError("[Lightning:Config:ErrInvalidConfig]cannot fetch settings from TiDB, "
                            "please manually fill in `tidb.port` and `tidb.pd-addr`: %s"
                            % exc) from None

    def _check_pd(self, pd_addr):
        first = pd_addr.split(",")[0].strip()
        if "://" not in first:
            first = "http://" + first
        try:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(first.rstrip("/") + "/pd/api/v1/version", timeout=5) as resp:
                resp.read()
        except (OSError, urllib.error.URLError) as exc:
            raise TaskError("[Lightning:PD:ErrCreatePDClient]create pd client error: %s"
                            % exc) from None

    def query(self, sql, args=None):
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()

    def count(self, src):
        return int(self.query("SELECT COUNT(*) FROM %s.%s" % (qi(src.db), qi(src.name)))[0][0])

    # ---- the task ------------------------------------------------------------------------
    def run(self):
        cfg = self.cfg
        myd = cfg["mydumper"]
        self.log.info("lightning.go:596", "load data source start")
        try:
            self.store = storage.open_storage(myd["data-source-dir"])
            if isinstance(self.store, storage.LocalStorage) and not os.path.isdir(
                    self.store.base):
                raise TaskError("[Lightning:Common:ErrInvalidStorageConfig]invalid storage "
                                "config: data-source-dir %s does not exist"
                                % myd["data-source-dir"])
            flt = tablefilter.parse(myd["filter"], myd.get("case-sensitive", False))
            db_schemas, tables = source.discover(self.store, flt, myd.get("case-sensitive"))
        except (storage.StorageError, tablefilter.FilterError) as exc:
            raise TaskError(str(exc)) from None
        self.log.info("lightning.go:596", "load data source completed",
                      tables=len(tables))
        self.connect()
        ckp = cfg["checkpoint"]
        if ckp["enable"]:
            try:
                self.cp = cpt.FileCheckpoints(ckp["dsn"])
            except cpt.CheckpointError as exc:
                raise TaskError(str(exc)) from None
            self.verify_task()
        self.check_invalid(tables)
        if not myd.get("no-schema"):
            self.restore_schema(db_schemas, tables)
        else:
            for src in tables.values():
                if not self.table_exists(src):
                    raise TaskError("[Lightning:Restore:ErrSchemaNotExists]table `%s`.`%s` "
                                    "schema not found" % (src.db, src.name))
        self.precheck(tables)
        for key in sorted(tables):
            self.import_table(tables[key])
        self.clean_checkpoints()
        self.log.info("import.go:1473", "the whole procedure completed")

    def verify_task(self):
        cfg, task = self.cfg, self.cp.task
        if task is None:
            self.cp.model["task"] = {
                "task_id": time.time_ns(), "source_dir": cfg["mydumper"]["data-source-dir"],
                "backend": cfg["tikv-importer"]["backend"], "importer_addr": "",
                "tidb_host": cfg["tidb"]["host"], "tidb_port": cfg["tidb"]["port"],
                "pd_addr": cfg["tidb"].get("pd-addr") or "",
                "sorted_kv_dir": cfg["tikv-importer"].get("sorted-kv-dir") or "",
                "lightning_ver": "Release Version: %s" % self.version}
            self.cp.save()
            return
        usage = ("delete the file '%s' and remove all restored tables and try again"
                 % cfg["checkpoint"]["dsn"])
        checks = [("mydumper.data-source-dir", cfg["mydumper"]["data-source-dir"],
                   task["source_dir"])]
        if task["backend"]:
            checks.append(("tikv-importer.backend", cfg["tikv-importer"]["backend"],
                           task["backend"]))
        if cfg["tikv-importer"]["backend"] == "local":
            checks.append(("mydumper.sorted-kv-dir", cfg["tikv-importer"]["sorted-kv-dir"],
                           task["sorted_kv_dir"]))
        checks += [("tidb.host", cfg["tidb"]["host"], task["tidb_host"]),
                   ("tidb.port", str(cfg["tidb"]["port"]), str(task["tidb_port"]))]
        for name, have, saved in checks:
            if have != saved:
                raise TaskError("[Lightning:Checkpoint:ErrInvalidCheckpoint]config '%s' value "
                                "'%s' different from checkpoint value '%s'. You may %s"
                                % (name, have, saved, usage))

    def check_invalid(self, tables):
        if self.cp is None:
            return
        msgs = []
        for key in sorted(tables):
            src = tables[key]
            table_cp = self.cp.table(src.unique)
            if table_cp and table_cp["status"] <= cpt.STATUS_MAX_INVALID:
                failed = table_cp["status"] * 10
                action = "ignore" if failed in (cpt.STATUS_ALTERED_AUTO_INC,
                                                cpt.STATUS_ANALYZED) else "destroy"
                msgs.append("TiDB Lightning has failed last time. To prevent data loss, this "
                            "run will stop now, %s failed in step(%s), please run command "
                            "./tidb-lightning-ctl --checkpoint-error-%s='%s' --config=...,You "
                            "may also run `./tidb-lightning-ctl --checkpoint-error-destroy=all "
                            "--config=...` to start from scratch,For details of this failure, "
                            "read the log file from the PREVIOUS run"
                            % (src.unique, cpt.METRIC_NAMES.get(failed, str(failed)), action,
                               src.unique))
        if msgs:
            self.log.error("import.go:741", "TiDB Lightning has failed last time. To prevent "
                                            "data loss, this run will stop now. Please resolve "
                                            "errors first", count=len(msgs))
            raise TaskError("[Lightning:PreCheck:ErrPreCheckFailed]tidb-lightning pre-check "
                            "failed: " + ";\n".join(msgs))

    def table_exists(self, src):
        rows = self.query("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND "
                          "TABLE_NAME = %s", (src.db, src.name))
        return bool(rows)

    # ---- schema --------------------------------------------------------------------------
    def restore_schema(self, db_schemas, tables):
        import re
        dbs = {}
        for db, path in db_schemas.items():
            dbs[db] = path
        for src in tables.values():
            dbs.setdefault(src.db, None)
        for db in sorted(dbs):
            stmt = "CREATE DATABASE IF NOT EXISTS %s" % qi(db)
            if dbs[db]:
                text = source.read_file(self.store, dbs[db], _compression(dbs[db])).decode(
                    "utf-8", "surrogateescape")
                for one in source.schema_statements(text):
                    if re.match(r"(?is)CREATE\s+(DATABASE|SCHEMA)\s", one):
                        stmt = re.sub(r"(?is)^CREATE\s+(DATABASE|SCHEMA)\s+(IF\s+NOT\s+EXISTS\s+)?"
                                      r"(`(?:[^`]|``)*`|\S+)",
                                      "CREATE DATABASE IF NOT EXISTS %s" % qi(db), one, count=1)
            self._exec_schema(stmt, "`%s`" % db)
        for key in sorted(tables):
            src = tables[key]
            if src.schema_file is None:
                if not self.table_exists(src):
                    raise TaskError("[Lightning:Restore:ErrSchemaNotExists]table `%s`.`%s` "
                                    "schema not found" % (src.db, src.name))
                continue
            text = source.read_file(self.store, src.schema_file,
                                    _compression(src.schema_file)).decode("utf-8",
                                                                          "surrogateescape")
            for one in source.schema_statements(text):
                if re.match(r"(?is)CREATE\s+TABLE\s", one):
                    one = re.sub(r"(?is)^CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?"
                                 r"(`(?:[^`]|``)*`|\S+)",
                                 "CREATE TABLE IF NOT EXISTS %s.%s" % (qi(src.db), qi(src.name)),
                                 one, count=1)
                    self._exec_schema(one, src.unique)
        self.log.info("restore.go:534", "restore all schema completed")

    def _exec_schema(self, stmt, target):
        try:
            self.query(stmt)
        except pymysql.err.MySQLError as exc:
            raise TaskError("[Lightning:Restore:ErrCreateSchema]create schema failed, table: "
                            "%s, stmt: %s: %s" % (target, stmt, go_error(exc))) from None

    # ---- precheck ------------------------------------------------------------------------
    def precheck(self, tables):
        cfg = self.cfg
        imp = cfg["tikv-importer"]
        if imp["backend"] != "local":
            return
        sorted_dir = imp["sorted-kv-dir"]
        try:
            os.makedirs(sorted_dir, mode=0o700, exist_ok=True)
            probe = os.path.join(sorted_dir, ".tidbops-write-probe")
            with open(probe, "w", encoding="ascii") as handle:
                handle.write("x")
            os.unlink(probe)
        except OSError as exc:
            raise TaskError("[Lightning:Restore:ErrCheckLocalFile]cannot use sorted-kv-dir %s: "
                            "%s" % (sorted_dir, exc.strerror or exc)) from None
        if imp.get("parallel-import"):
            return
        busy = []
        for key in sorted(tables):
            src = tables[key]
            if self.cp is not None and self.cp.table(src.unique) is not None:
                continue
            if self.query("select 1 from %s.%s limit 1" % (qi(src.db), qi(src.name))):
                busy.append(src.unique)
        if busy:
            msg = "table(s) [%s] are not empty" % ", ".join(sorted(busy))
            if cfg["lightning"].get("check-requirements", True):
                sys_stdout_table([(1, msg, "critical", False)])
            raise TaskError("[Lightning:PreCheck:ErrPreCheckFailed]tidb-lightning pre-check "
                            "failed: " + msg)

    # ---- data ----------------------------------------------------------------------------
    def table_columns(self, src):
        rows = self.query("SELECT COLUMN_NAME, EXTRA FROM information_schema.COLUMNS WHERE "
                          "TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
                          (src.db, src.name))
        return [r[0] for r in rows if not any(w in (r[1] or "").upper()
                                              for w in ("GENERATED", "VIRTUAL", "STORED",
                                                        "PERSISTENT"))]

    def import_table(self, src):
        table_cp = self.cp.table(src.unique) if self.cp else None
        if table_cp is None:
            table_cp = {"hash": b"", "status": cpt.STATUS_LOADED, "tableID": 0, "kv_bytes": 0,
                        "kv_kvs": 0, "kv_checksum": 0, "table_info": b"", "autoRandBase": 0,
                        "autoIncrBase": 0, "autoRowIDBase": 0,
                        "engines": {0: {"status": cpt.STATUS_LOADED, "chunks": {}},
                                    -1: {"status": cpt.STATUS_LOADED, "chunks": {}}}}
            for data_file in sorted(src.data_files, key=lambda f: f.path):
                table_cp["engines"][0]["chunks"]["%s:0" % data_file.path] = {
                    "path": data_file.path, "offset": 0, "end_offset": data_file.size,
                    "pos": 0, "type": data_file.kind, "compression": data_file.compression,
                    "file_size": data_file.size, "timestamp": int(time.time()),
                    "kvc_kvs": 0, "kvc_bytes": 0}
            if self.cp is not None:
                self.cp.model["tables"][src.unique] = table_cp
                self.cp.save()
        self.log.info("table_import.go:114", "restore table start", table=src.unique)
        status = table_cp["status"]
        try:
            if status < cpt.STATUS_IMPORTED:
                columns = self.table_columns(src)
                for key in sorted(table_cp["engines"].get(0, {"chunks": {}})["chunks"]):
                    chunk = table_cp["engines"][0]["chunks"][key]
                    self.import_chunk(src, chunk, columns)
                table_cp["engines"][0]["status"] = cpt.STATUS_IMPORTED
                table_cp["engines"][-1]["status"] = cpt.STATUS_IMPORTED
                self.set_status(table_cp, cpt.STATUS_IMPORTED)
                self.log.info("table_import.go:1047", "import whole table completed",
                              table=src.unique)
            self.post_process(src, table_cp)
        except TaskError:
            self.fail(table_cp)
            raise
        except source.SourceError as exc:
            self.fail(table_cp)
            raise TaskError("[Lightning:Restore:ErrRestoreTable]restore table %s failed: %s"
                            % (src.unique, exc)) from None
        except pymysql.err.MySQLError as exc:
            self.fail(table_cp)
            raise TaskError("[Lightning:Restore:ErrRestoreTable]restore table %s failed: %s"
                            % (src.unique, go_error(exc) or exc)) from None
        self.log.info("table_import.go:183", "restore table completed", table=src.unique)

    def set_status(self, table_cp, status):
        table_cp["status"] = status
        if self.cp is not None:
            self.cp.save()

    def fail(self, table_cp):
        if self.cp is not None and table_cp["status"] > cpt.STATUS_MAX_INVALID:
            table_cp["status"] = max(1, _next_step(table_cp["status"]) // 10)
            self.cp.save()

    def save(self):
        if self.cp is not None:
            self.cp.save()

    def _rows(self, src, chunk):
        data = source.read_file(self.store, chunk["path"], chunk["compression"])
        csv_opts = self.cfg["mydumper"]["csv"]
        if chunk["type"] == source.TYPE_SQL:
            for cols, values, end in source.SQLParser(data, chunk["path"]).rows():
                yield cols, values, end
        elif chunk["type"] == source.TYPE_CSV:
            parser = source.CSVParser(data, chunk["path"], csv_opts)
            header = None
            for values, end in parser.rows():
                if csv_opts.get("header", True) and header is None:
                    header = [v.decode("utf-8") if v is not None else "" for v in values]
                    continue
                literals = [b"NULL" if v is None else
                            pymysql.converters.escape_bytes(v).encode() for v in values]
                cols = header if (header is not None and csv_opts.get("header-schema-match",
                                                                      True)) else None
                yield cols, literals, end
        else:
            raise TaskError("tidbops sandbox: parquet data files are not emulated (%s)"
                            % chunk["path"])

    def import_chunk(self, src, chunk, table_columns):
        conflict = self.cfg["conflict"]["strategy"]
        backend = self.cfg["tikv-importer"]["backend"]
        verb = {"replace": "REPLACE INTO", "ignore": "INSERT IGNORE INTO"}.get(conflict,
                                                                               "INSERT INTO")
        if backend == "local" and conflict == "":
            verb = "REPLACE INTO"  # KV pairs of the same key overwrite each other
        imp = self.cfg["tikv-importer"]
        batch_rows = int(imp.get("logical-import-batch-rows") or 65536)
        batch_size = int(imp.get("logical-import-batch-size") or 96 * 1024)
        self.resolve_pending(src, chunk)
        if chunk.get("real_pos") == -1:
            return  # finished in an earlier run
        count = self.count(src)
        batch, batch_cols, size = [], None, 0
        end = chunk["pos"]
        for cols, values, row_end in self._rows(src, chunk):
            if row_end <= chunk["pos"]:
                continue
            cols = cols or table_columns
            if batch and cols != batch_cols:
                count = self.write_batch(src, chunk, verb, batch_cols, batch, end, count)
                batch, size = [], 0
            batch_cols = cols
            text = b"(" + b",".join(values) + b")"
            batch.append(text)
            size += len(text)
            end = row_end
            self.pause_after_row()
            if len(batch) >= batch_rows or size >= batch_size:
                count = self.write_batch(src, chunk, verb, batch_cols, batch, end, count)
                batch, size = [], 0
        if batch:
            count = self.write_batch(src, chunk, verb, batch_cols, batch, end, count)
        chunk["pos"] = max(chunk["pos"], end)
        chunk["real_pos"] = -1  # sandbox marker: the chunk is finished
        self.save()

    def write_batch(self, src, chunk, verb, cols, rows, end, count_before):
        sql = b"%s %s.%s (%s) VALUES %s" % (
            verb.encode(), qi(src.db).encode(), qi(src.name).encode(),
            ",".join(qi(c) for c in cols).encode(), b",".join(rows))
        with self.conn.cursor() as cur:
            cur.execute("BEGIN")
            try:
                cur.execute(sql)  # bytes go to the server as they are
                cur.execute("SELECT COUNT(*) FROM %s.%s" % (qi(src.db), qi(src.name)))
                count_after = int(cur.fetchone()[0])
            except pymysql.err.MySQLError:
                cur.execute("ROLLBACK")
                raise
            chunk.update(pending_pos=end, pending_rows=len(rows), pending_bytes=len(sql),
                         count_before=count_before, count_after=count_after)
            self.save()
            cur.execute("COMMIT")
        self._advance(chunk)
        self.save()
        return count_after

    @staticmethod
    def _advance(chunk):
        chunk["pos"] = chunk["pending_pos"]
        chunk["kvc_kvs"] = chunk.get("kvc_kvs", 0) + chunk["pending_rows"]
        chunk["kvc_bytes"] = chunk.get("kvc_bytes", 0) + chunk["pending_bytes"]
        for key in ("pending_pos", "pending_rows", "pending_bytes", "count_before",
                    "count_after"):
            chunk[key] = 0

    def resolve_pending(self, src, chunk):
        if not chunk.get("pending_pos"):
            return
        now = self.count(src)
        before, after = chunk["count_before"], chunk["count_after"]
        if now == after and after != before:
            self.log.info("chunk_process.go:350", "sandbox: last batch of the previous run was "
                                                  "committed", table=src.unique,
                          path=chunk["path"], pos=chunk["pending_pos"])
            self._advance(chunk)
        elif now == before:
            self.log.info("chunk_process.go:350", "sandbox: last batch of the previous run was "
                                                  "not committed; writing it again",
                          table=src.unique, path=chunk["path"], pos=chunk["pos"])
            for key in ("pending_pos", "pending_rows", "pending_bytes", "count_before",
                        "count_after"):
                chunk[key] = 0
        else:
            raise TaskError("tidbops sandbox: cannot tell whether the last batch of %s (%s) "
                            "was committed: the table had %d rows before it and %d after, "
                            "it has %d now (written by someone else?)"
                            % (src.unique, chunk["path"], before, after, now))
        self.save()

    # ---- post-restore --------------------------------------------------------------------
    def post_process(self, src, table_cp):
        post = self.cfg["post-restore"]
        if table_cp["status"] < cpt.STATUS_CHECKSUM_SKIPPED:
            if post["checksum"] == "off":
                self.log.info("table_import.go:1179", "skip checksum", table=src.unique)
                self.set_status(table_cp, cpt.STATUS_CHECKSUM_SKIPPED)
            else:
                self.checksum(src, table_cp, post["checksum"])
        if table_cp["status"] < cpt.STATUS_ANALYZE_SKIPPED:
            if post["analyze"] == "off":
                self.set_status(table_cp, cpt.STATUS_ANALYZE_SKIPPED)
            else:
                try:
                    self.query("ANALYZE TABLE %s.%s" % (qi(src.db), qi(src.name)))
                    self.log.info("table_import.go:1286", "analyze completed", table=src.unique)
                    self.set_status(table_cp, cpt.STATUS_ANALYZED)
                except pymysql.err.MySQLError as exc:
                    if post["analyze"] == "required":
                        raise TaskError("[Lightning:Restore:ErrAnalyzeTable]analyze table failed: "
                                        "%s" % go_error(exc)) from None
                    self.log.warn("table_import.go:1290", "analyze failed, skipped",
                                  table=src.unique, error=go_error(exc))
                    self.set_status(table_cp, cpt.STATUS_ANALYZE_SKIPPED)

    def checksum(self, src, table_cp, level):
        local_rows = sum(c.get("kvc_kvs", 0) for e in table_cp["engines"].values()
                         for c in e["chunks"].values())
        try:
            row = self.query("ADMIN CHECKSUM TABLE %s.%s" % (qi(src.db), qi(src.name)))[0]
            remote = {"checksum": int(row[2]), "kvs": int(row[3]), "bytes": int(row[4])}
        except (pymysql.err.MySQLError, IndexError, ValueError, TypeError) as exc:
            if level == "required":
                raise TaskError("[Lightning:Restore:ErrChecksumFailed]checksum failed: %s"
                                % (go_error(exc) if isinstance(exc, pymysql.err.MySQLError)
                                   else exc)) from None
            self.log.warn("table_import.go:1207", "do checksum failed, will skip this error "
                                                  "and go on", table=src.unique)
            self.set_status(table_cp, cpt.STATUS_CHECKSUM_SKIPPED)
            return
        remote_rows = self.count(src)
        if remote_rows == local_rows:
            self.log.info("checksum_helper.go:75", "checksum pass", table=src.unique,
                          local=remote, remote=remote)
            self.set_status(table_cp, cpt.STATUS_CHECKSUMMED)
            return
        per_row = remote["kvs"] // remote_rows if remote_rows else 1
        local_kvs = local_rows * per_row
        local_bytes = remote["bytes"] * local_rows // remote_rows if remote_rows else 0
        text = ("checksum mismatched remote vs local => (checksum: %d vs %d) (total_kvs: %d vs "
                "%d) (total_bytes:%d vs %d)" % (remote["checksum"], remote["checksum"] ^ local_rows,
                                                remote["kvs"], local_kvs, remote["bytes"],
                                                local_bytes))
        if level == "required":
            self.log.error("table_import.go:1216", "checksum mismatched", table=src.unique)
            raise TaskError("[Lightning:Restore:ErrChecksumMismatch]" + text)
        self.log.warn("table_import.go:1216", text, table=src.unique)
        self.set_status(table_cp, cpt.STATUS_CHECKSUMMED)

    # ---- end -----------------------------------------------------------------------------
    def clean_checkpoints(self):
        if self.cp is None:
            return
        strategy = self.cfg["checkpoint"]["keep-after-success"]
        self.log.info("import.go:1525", "clean checkpoints start", keepAfterSuccess=strategy,
                      taskID=self.cp.task["task_id"])
        if strategy == "rename":
            self.cp.move(self.cp.task["task_id"])
        elif strategy == "remove":
            self.cp.remove()
        self.log.info("import.go:1525", "clean checkpoints completed")

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # pylint: disable=broad-except
                pass


def _next_step(status):
    for step in (cpt.STATUS_LOADED, cpt.STATUS_ALL_WRITTEN, cpt.STATUS_CLOSED,
                 cpt.STATUS_IMPORTED, cpt.STATUS_CHECKSUMMED, cpt.STATUS_ANALYZED):
        if status < step:
            return step
    return cpt.STATUS_ANALYZED


def _compression(path):
    ext = path.rsplit(".", 1)[-1].lower()
    return source.COMPRESSION.get(ext, 0) if ext in ("gz", "gzip", "zst", "zstd",
                                                     "snappy") else 0


def sys_stdout_table(rows):
    """The precheck result table (jedib0t/go-pretty default style) on stdout."""
    import sys
    header = ("#", "CHECK ITEM", "TYPE", "PASSED")
    cells = [tuple(str(c).lower() if isinstance(c, bool) else str(c) for c in r) for r in rows]
    widths = [max(len(header[i]), *(len(r[i]) for r in cells)) for i in range(4)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line, "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |", line]
    for row in cells:
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
        out.append(line)
    sys.stdout.write("\n".join(out) + "\n\n")
    sys.stdout.flush()


def now_text():
    return datetime.datetime.now().isoformat()
