"""The owner's work: changefeeds in state normal move the upstream's changes to their sinks.

One TiCDC server of a cluster is the owner (it holds `<cluster state>/cdc/owner.lock`; the
others take over when it stops, as a new owner is elected from etcd). Each round, for each
changefeed in state normal, it takes a TSO marked with the upstream binlog's end
(tests/sandbox/changelog.py), applies every transaction between the changefeed's position and
that mark to the sink, one sink transaction per upstream transaction, in commit order, then
moves the checkpoint to the TSO. Rows are written in TiCDC's safe mode (REPLACE, and DELETE
plus REPLACE for an update), so a transaction applied again after a restart or a resume
leaves the same rows. DDL of replicated schemas is run on the sink; the filter's rules, the
system schemas and rows restored by RESTORE or IMPORT INTO (which never reach the binlog, as
TiKV's change data capture never sees SST ingestion) are not replicated. A sink error puts
the changefeed in state warning with the error; it is retried each round and cleared when a
round succeeds. The owner holds the service GC safepoint `ticdc-default-<cluster id>` at the
smallest checkpoint for `--gc-ttl` seconds (24 h by default).
"""
import fcntl
import logging
import os
import re
import threading
import time

import pymysql

from tests.sandbox import changelog, pd_server
from tests.sandbox.cdc import feeds as F

LOG = logging.getLogger("cdc-standin")
MIN_INTERVAL = 0.05
MAX_INTERVAL = 0.5
SAFEPOINT_EVERY = 5.0

_DDL = re.compile(r"^\s*(?:/\*.*?\*/\s*)*(CREATE|ALTER|DROP|RENAME|TRUNCATE)\s+(?:OR\s+REPLACE\s+)?"
                  r"(?:(?:UNIQUE|FULLTEXT|SPATIAL|TEMPORARY)\s+)?(TABLE|DATABASE|SCHEMA|INDEX|VIEW)\b(.*)$",
                  re.I | re.S)
_NAME = r"(?:`((?:[^`]|``)+)`|([A-Za-z0-9_$]+))"
_QUALIFIED = re.compile(r"^\s*(?:IF\s+(?:NOT\s+)?EXISTS\s+)?" + _NAME + r"(?:\s*\.\s*" + _NAME + ")?", re.I | re.S)
_ON_TABLE = re.compile(r"\bON\s+" + _NAME + r"(?:\s*\.\s*" + _NAME + ")?", re.I | re.S)


def ddl_target(schema, query):
    """(schema, table or None) a DDL statement changes, or None when it is no schema change
    TiCDC replicates (accounts, grants, SET ...)."""
    match = _DDL.match(query or "")
    if not match:
        return None
    kind, rest = match.group(2).upper(), match.group(3)
    if kind == "INDEX":
        found = _ON_TABLE.search(rest)
    else:
        found = _QUALIFIED.match(rest)
    if not found:
        return (schema, None)
    first = (found.group(1) or "").replace("``", "`") or found.group(2)
    second = (found.group(3) or "").replace("``", "`") or found.group(4)
    if kind in ("DATABASE", "SCHEMA"):
        return (first, None)
    if second:
        return (first, second)
    return (schema, first)


class Owner(threading.Thread):
    def __init__(self, cluster, address, version, gc_ttl):
        threading.Thread.__init__(self, name="cdc-owner", daemon=True)
        self.cluster = cluster
        self.address = address
        self.version = version
        self.gc_ttl = gc_ttl or F.DEFAULT_GC_TTL
        self.is_owner = False
        self._stop = threading.Event()
        self._sinks = {}
        self._upstream = None
        self._safepoint_at = 0.0

    def stop(self):
        self._stop.set()

    def run(self):
        lock_path = os.path.join(os.path.dirname(self.cluster.feeds_path), "owner.lock")
        os.makedirs(os.path.dirname(lock_path), exist_ok=True)
        with open(lock_path, "a") as lock:
            while not self._stop.is_set():
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    self._stop.wait(0.5)
            if self._stop.is_set():
                return
            self.is_owner = True
            LOG.info("campaign owner successfully: %s", self.address)
            interval = MIN_INTERVAL
            while not self._stop.is_set():
                try:
                    moved = self.round()
                except Exception:  # pylint: disable=broad-except
                    LOG.exception("owner round failed")
                    moved = False
                interval = MIN_INTERVAL if moved else min(MAX_INTERVAL, interval * 1.5)
                self._stop.wait(interval)

    # ---- one round ----------------------------------------------------------------------------
    def upstream(self):
        if self._upstream is None:
            self._upstream = self.cluster.connect()
        else:
            self._upstream.ping(reconnect=True)
        return self._upstream

    def round(self):
        with self.cluster.feeds() as state:
            current = [dict(f) for f in state.get("changefeeds", {}).values()]
        self.hold_gc(current)
        moved = False
        for feed in current:
            if feed["state"] in ("normal", "warning") and not self._stop.is_set():
                moved = self.replicate(feed) or moved
        return moved

    def hold_gc(self, current):
        if time.time() - self._safepoint_at < SAFEPOINT_EVERY:
            return
        self._safepoint_at = time.time()
        held = [f["checkpoint_ts"] for f in current if f["state"] not in ("removed", "finished")]
        if held:
            pd_server.update_service_safepoint(self.cluster.pd_state, self.cluster.gc_service_id(),
                                               self.gc_ttl, min(held) - 1)
        else:
            pd_server.update_service_safepoint(self.cluster.pd_state, self.cluster.gc_service_id(), 0, 0)

    def replicate(self, feed):
        """One round of one changefeed; True when it applied anything."""
        feed_key = F.key(feed["namespace"], feed["id"])
        applied = 0
        try:
            conn = self.upstream()
            now_ts, until = self.cluster.now(conn)
            finished = bool(feed["target_ts"]) and now_ts >= feed["target_ts"]
            if finished:
                now_ts = feed["target_ts"]
                until = self.cluster.start_position(conn, now_ts)
            start = tuple(feed["position"]) if feed.get("position") else self.cluster.start_position(
                conn, feed["checkpoint_ts"])
            if start and until and tuple(until) > tuple(start):
                sink = self.sink(feed)
                filt = F.table_filter(feed.get("config"))
                for txn in changelog.transactions(self.cluster.binlog_settings(), start, until):
                    if self._stop.is_set():
                        return applied > 0
                    applied += self.apply(sink, filt, txn)
        except F.CDCError as exc:
            self.fail(feed, feed_key, exc)
            return False
        except pymysql.MySQLError as exc:
            self._sinks.pop(feed_key, None)
            self.fail(feed, feed_key, F.CDCError("ErrMySQLTxnError", "MySQL txn error: Error %s: %s" % (
                exc.args[0] if exc.args else 0, exc.args[1] if len(exc.args) > 1 else exc)))
            return False

        def advance(stored):
            if stored.get("create_time") != feed.get("create_time") or stored["state"] not in ("normal", "warning"):
                return  # paused, removed or re-created meanwhile: this round's checkpoint is not its
            stored["checkpoint_ts"] = stored["resolved_ts"] = max(stored["checkpoint_ts"], now_ts)
            stored["position"] = list(until) if until else stored.get("position")
            stored["state"] = "finished" if finished else "normal"
            stored["error"] = None
            if applied:
                stored["last_synced_ts"] = now_ts
        try:
            F.change(self.cluster, feed["namespace"], feed["id"], advance)
        except F.CDCError:
            pass  # removed meanwhile
        return applied > 0

    def sink(self, feed):
        feed_key = F.key(feed["namespace"], feed["id"])
        cached = self._sinks.get(feed_key)
        if cached and cached[0] == feed["sink_uri"]:
            return cached[1]
        conn = F.connect_sink(F.parse_sink(feed["sink_uri"], feed.get("creator_version") or self.version))
        self._sinks[feed_key] = (feed["sink_uri"], conn)
        return conn

    def apply(self, sink, filt, txn):
        """One upstream transaction on the sink; 1 when it changed anything there."""
        if txn.ddl is not None:
            target = ddl_target(*txn.ddl)
            if target is None or not F.replicated(filt, target[0], target[1]):
                return 0
            with sink.cursor() as cur:
                try:
                    if txn.ddl[0]:
                        cur.execute("USE %s" % changelog.quote(txn.ddl[0]))
                    cur.execute(txn.ddl[1])
                except pymysql.MySQLError as exc:
                    raise F.CDCError("ErrExecDDLFailed", "exec DDL failed %s: Error %s: %s" % (
                        txn.ddl[1], exc.args[0] if exc.args else 0, exc.args[1] if len(exc.args) > 1 else exc))
            sink.commit()
            return 1
        events = [e for e in txn.rows if F.replicated(filt, e.schema, e.table)]
        if not events:
            return 0
        try:
            with sink.cursor() as cur:
                for event in events:
                    changelog.apply_rows(cur, "%s.%s" % (changelog.quote(event.schema), changelog.quote(event.table)),
                                         event, safe=True)
            sink.commit()
        except pymysql.MySQLError:
            sink.rollback()
            raise
        return 1

    def fail(self, feed, feed_key, exc):
        LOG.warning("changefeed %s: %s", feed_key, exc.message)

        def mark(stored):
            if stored.get("create_time") == feed.get("create_time") and stored["state"] in ("normal", "warning"):
                stored["state"] = "warning"
                stored["error"] = {"time": pd_server.rfc3339(time.time()), "addr": self.address,
                                   "code": exc.code, "message": "[%s]%s" % (exc.code, exc.message)}
        try:
            F.change(self.cluster, feed["namespace"], feed["id"], mark)
        except F.CDCError:
            pass
