"""Changefeeds as TiCDC keeps them, and what it checks before it takes one.

Facts from pingcap/tiflow: cdc/api/v2/api_helpers.go verifyCreateChangefeedConfig (id and
namespace patterns, duplicate id, start_ts 0 = now, start_ts above the current TSO, the GC
check through a `-creating-` service safepoint of 1 h, target_ts after start_ts),
pkg/txnutil/gc (ErrStartTsBeforeGC), pkg/sink/mysql/config.go (sink URI parameters and their
limits; worker-count and max-txn-row must be positive from v6.0.0, PR #4482), errors.toml (the
messages), cdc/api/util.go (which errors are HTTP 400), pkg/filter (system schemas).

The changefeeds of a cluster live in `<cluster state>/cdc/changefeeds.json`, shared by its
TiCDC servers as etcd is, changed under the file's lock.
"""
import datetime
import os
import re
import time
import urllib.parse

from tests.sandbox import changelog, pd_server
from tests.sandbox.dumpling import tablefilter
from tests.sandbox.mariadb import MariaDB
from tests.sandbox.tidb import tso

ID_PATTERN = re.compile(r"^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$")
ID_MAX = 128
NAMESPACE_PATTERN = re.compile(r"^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$")
ENSURE_TTL = 3600
DEFAULT_GC_TTL = 86400
SINK_SCHEMES = ("mysql", "mysql+ssl", "tidb", "tidb+ssl")
# pkg/sink/mysql/config.go: (default, maximum); larger values are clamped with a warning
SINK_LIMITS = {"worker-count": (16, 1024), "max-txn-row": (256, 2048),
               "max-multi-update-row": (40, 256), "max-multi-update-row-size": (1024, 8192)}
# TiDB's IsSystemSchema plus TiCDC's own (pkg/filter/utils.go isSysSchema)
SYSTEM_SCHEMAS = {"mysql", "information_schema", "performance_schema", "metrics_schema", "sys",
                  "tidb_cdc", "lightning_task_info", "workload_schema"}

BAD_REQUEST = {"CDC:ErrAPIInvalidParam", "CDC:ErrSinkURIInvalid", "CDC:ErrStartTsBeforeGC",
               "CDC:ErrChangeFeedNotExists", "CDC:ErrTargetTsBeforeStartTs", "CDC:ErrTableIneligible",
               "CDC:ErrFilterRuleInvalid", "CDC:ErrChangefeedUpdateRefused", "CDC:ErrMySQLConnectionError",
               "CDC:ErrMySQLInvalidConfig", "CDC:ErrCaptureNotExist", "CDC:ErrSchedulerRequestFailed"}


class CDCError(Exception):
    """An error as TiCDC's HTTP API returns it: {"error_msg": "[code]message", "error_code"}."""

    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code = "CDC:" + code
        self.message = message

    @property
    def status(self):
        return 400 if self.code in BAD_REQUEST else 500

    def body(self):
        return {"error_msg": "[%s]%s" % (self.code, self.message), "error_code": self.code}


def version_tuple(text):
    match = re.match(r"v?(\d+)\.(\d+)\.(\d+)", text or "")
    return tuple(int(x) for x in match.groups()) if match else (0, 0, 0)


def json_time(seconds):
    """model.JSONTime: local time, milliseconds."""
    return datetime.datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def tso_time(value):
    return json_time(tso.to_unix(value)) if value else json_time(0)


class Cluster(object):
    """The upstream cluster of a TiCDC server: its sandbox state dir."""

    def __init__(self, state_dir):
        self.state_dir = os.path.abspath(state_dir)
        self.feeds_path = os.path.join(self.state_dir, "cdc", "changefeeds.json")
        self.pd_state = os.path.join(self.state_dir, "pd-state.json")
        self.allocator = tso.Allocator(os.path.join(self.state_dir, "brie", "tso"))

    @property
    def cluster_id(self):
        with pd_server.locked_state(self.pd_state) as state:
            return int(state.get("cluster_id") or 0)

    def gc_service_id(self):
        return "ticdc-default-%d" % self.cluster_id

    def binlog_settings(self):
        """pymysqlreplication settings for the cluster's MariaDB (its admin socket)."""
        socket = MariaDB(os.path.join(self.state_dir, "mariadb"), 0, self.state_dir).socket_path
        return {"unix_socket": socket, "user": "root", "passwd": ""}

    def connect(self):
        import pymysql  # the only users of a connection are the worker and creation checks
        settings = self.binlog_settings()
        return pymysql.connect(unix_socket=settings["unix_socket"], user="root", password="",
                               autocommit=True, connect_timeout=5, charset="utf8mb4")

    def now(self, conn):
        """(tso, binlog position) of now, under the allocator's lock."""
        with conn.cursor() as cur:
            return self.allocator.next(mark=lambda: changelog.master_position(cur), record=False)

    def start_position(self, conn, start_ts):
        """Where the changes after start_ts begin in the binlog: the position of the latest
        TSO mark at or before it (BackupTS, TIDB_CURRENT_TSO()), else the first transaction
        written in or after its second."""
        found = changelog.marked_position(tso.read_marks(self.allocator.marks_path), start_ts)
        if found:
            return found
        with conn.cursor() as cur:
            first = changelog.first_position(cur)
            master = changelog.master_position(cur)
        at = changelog.position_at_time(self.binlog_settings(), first, tso.to_unix(start_ts))
        return at or master

    def feeds(self):
        return pd_server.locked_state(self.feeds_path)


def key(namespace, feed_id):
    return "%s/%s" % (namespace, feed_id)


# ---- checks ------------------------------------------------------------------------------

def check_id(feed_id):
    if not feed_id or len(feed_id) > ID_MAX or not ID_PATTERN.match(feed_id):
        raise CDCError("ErrAPIInvalidParam", "invalid changefeed_id: %s" % feed_id)


def check_namespace(namespace):
    if not NAMESPACE_PATTERN.match(namespace or ""):
        raise CDCError("ErrAPIInvalidParam", "invalid namespace: %s" % namespace)


def redacted(uri):
    """Go's url.URL.Redacted(): the password as xxxxx."""
    parts = urllib.parse.urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = "%s:xxxxx@%s" % (parts.username or "", parts.netloc.rsplit("@", 1)[1])
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def parse_sink(uri, version):
    """The MySQL sink's settings from its URI, checked as TiCDC checks them."""
    try:
        parts = urllib.parse.urlsplit(uri)
        port = parts.port
    except ValueError as exc:
        raise CDCError("ErrSinkURIInvalid", "parse %s: %s" % (redacted(uri), exc))
    scheme = parts.scheme.lower()
    if not scheme:
        raise CDCError("ErrSinkURIInvalid", "sink uri invalid '%s'" % redacted(uri))
    if scheme not in SINK_SCHEMES:
        raise CDCError("ErrSinkURIInvalid", "sink uri invalid '%s': the sandbox emulates only the "
                       "MySQL sink (mysql, mysql+ssl, tidb, tidb+ssl)" % redacted(uri))
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    sink = {"host": parts.hostname or "127.0.0.1", "port": port or 4000,
            "user": urllib.parse.unquote(parts.username or "root"),
            "password": urllib.parse.unquote(parts.password or ""), "params": {}}
    validating = version_tuple(version) >= (6, 0, 0)
    for name, (default, maximum) in SINK_LIMITS.items():
        values = query.get(name)
        if not values:
            sink["params"][name] = default
            continue
        try:
            value = int(values[0])
        except ValueError:
            raise CDCError("ErrMySQLInvalidConfig", 'strconv.Atoi: parsing "%s": invalid syntax' % values[0])
        if value <= 0:
            if validating:
                raise CDCError("ErrMySQLInvalidConfig", "invalid %s %d, which must be greater than 0" % (name, value))
            if name == "worker-count":
                value = default  # v5.x applied it only if > 0
        sink["params"][name] = min(value, maximum)
    return sink


def connect_sink(sink):
    import pymysql
    try:
        return pymysql.connect(host=sink["host"], port=int(sink["port"]), user=sink["user"],
                               password=sink["password"], connect_timeout=5, read_timeout=60,
                               charset="utf8mb4", autocommit=False)
    except pymysql.MySQLError as exc:
        code = exc.args[0] if exc.args else 0
        text = exc.args[1] if len(exc.args) > 1 else str(exc)
        raise CDCError("ErrMySQLConnectionError", "fail to open MySQL connection: Error %s: %s" % (code, text))


def table_filter(config):
    rules = ((config or {}).get("filter") or {}).get("rules") or ["*.*"]
    case_sensitive = bool((config or {}).get("case_sensitive", False))
    try:
        return tablefilter.parse(rules, case_sensitive=case_sensitive)
    except tablefilter.FilterError as exc:
        raise CDCError("ErrFilterRuleInvalid", "filter rule is invalid %s: %s" % (rules, exc))


def replicated(filt, schema, table=None):
    if not schema or schema.lower() in SYSTEM_SCHEMAS:
        return False
    return filt.match_table(schema, table) if table is not None else filt.match_schema(schema)


def ineligible_tables(conn, filt):
    """Tables the filter takes that have neither a primary key nor a not-null unique key."""
    with conn.cursor() as cur:
        cur.execute("SELECT t.TABLE_SCHEMA, t.TABLE_NAME FROM information_schema.TABLES t "
                    "WHERE t.TABLE_TYPE = 'BASE TABLE' AND NOT EXISTS ("
                    " SELECT 1 FROM information_schema.STATISTICS s WHERE s.TABLE_SCHEMA = t.TABLE_SCHEMA"
                    " AND s.TABLE_NAME = t.TABLE_NAME AND s.NON_UNIQUE = 0 AND s.NULLABLE = '')")
        rows = cur.fetchall()
    return sorted("%s.%s" % (db, name) for db, name in rows if replicated(filt, db, name))


def check_start(cluster, feed_key, start_ts):
    """pkg/txnutil/gc EnsureChangefeedStartTsSafety: a service safepoint at start_ts - 1 for
    an hour; a start_ts at or below the GC safepoint is refused."""
    service = cluster.gc_service_id() + "-creating-" + feed_key.replace("/", "_")
    minimum = pd_server.update_service_safepoint(cluster.pd_state, service, ENSURE_TTL, start_ts - 1)
    if start_ts - 1 < minimum:
        raise CDCError("ErrStartTsBeforeGC", "fail to create or maintain changefeed because start-ts %d "
                       "is earlier than or equal to GC safepoint at %d" % (start_ts, minimum))


def new_feed(cluster, version, body, filter_rules=None):
    """verifyCreateChangefeedConfig; returns the stored changefeed."""
    sink_uri = body.get("sink_uri") or ""
    if not sink_uri:
        raise CDCError("ErrSinkURIInvalid", "sink_uri is empty, cannot create a changefeed without sink_uri")
    feed_id = body.get("changefeed_id") or body.get("id") or ""
    check_id(feed_id)
    namespace = body.get("namespace") or "default"
    check_namespace(namespace)
    feed_key = key(namespace, feed_id)
    with cluster.feeds() as state:
        if feed_key in state.get("changefeeds", {}):
            raise CDCError("ErrChangeFeedAlreadyExists", "changefeed already exists, %s" % feed_id)
    config = dict(body.get("replica_config") or {})
    if filter_rules is not None:
        config["filter"] = {"rules": list(filter_rules)}
    for flag in ("force_replicate", "ignore_ineligible_table"):
        if flag in body:
            config[flag] = bool(body[flag])
    conn = cluster.connect()
    try:
        current, dummy = cluster.now(conn)
        start_ts = int(body.get("start_ts") or 0)
        if start_ts == 0:
            start_ts = current
        elif start_ts > current:
            raise CDCError("ErrAPIInvalidParam", "invalid start-ts %d, larger than current tso %d" % (start_ts, current))
        check_start(cluster, feed_key, start_ts)
        target_ts = int(body.get("target_ts") or 0)
        if target_ts and target_ts <= start_ts:
            raise CDCError("ErrTargetTsBeforeStartTs", "fail to create changefeed because target-ts %d is "
                           "earlier than start-ts %d" % (target_ts, start_ts))
        sink = parse_sink(sink_uri, version)
        filt = table_filter(config)
        if not config.get("force_replicate") and not config.get("ignore_ineligible_table"):
            tables = ineligible_tables(conn, filt)
            if tables:
                raise CDCError("ErrTableIneligible", "some tables are not eligible to replicate(%s), if you "
                               "want to ignore these tables, please set ignore_ineligible_table to true"
                               % ("[" + " ".join(tables) + "]"))
        connect_sink(sink).close()
        position = cluster.start_position(conn, start_ts)
    finally:
        conn.close()
    return {"namespace": namespace, "id": feed_id, "upstream_id": cluster.cluster_id, "sink_uri": sink_uri,
            "create_time": pd_server.rfc3339(time.time()), "start_ts": start_ts, "target_ts": target_ts,
            "config": config, "state": "normal", "error": None, "creator_version": version,
            "admin_job_type": 0, "checkpoint_ts": start_ts, "resolved_ts": start_ts,
            "position": list(position) if position else None, "last_synced_ts": 0}


def create(cluster, version, body, filter_rules=None):
    feed = new_feed(cluster, version, body, filter_rules)
    feed_key = key(feed["namespace"], feed["id"])
    with cluster.feeds() as state:
        feeds = state.setdefault("changefeeds", {})
        if feed_key in feeds:
            raise CDCError("ErrChangeFeedAlreadyExists", "changefeed already exists, %s" % feed["id"])
        feeds[feed_key] = feed
    return feed


def get(cluster, namespace, feed_id):
    check_id(feed_id)
    with cluster.feeds() as state:
        feed = state.get("changefeeds", {}).get(key(namespace, feed_id))
    if feed is None:
        raise CDCError("ErrChangeFeedNotExists", "changefeed not exists, %s" % feed_id)
    return feed


def change(cluster, namespace, feed_id, fn):
    """Run fn(feed) on the stored changefeed under the lock; returns the changed feed."""
    check_id(feed_id)
    with cluster.feeds() as state:
        feed = state.get("changefeeds", {}).get(key(namespace, feed_id))
        if feed is None:
            raise CDCError("ErrChangeFeedNotExists", "changefeed not exists, %s" % feed_id)
        fn(feed)
        return dict(feed)


def remove(cluster, namespace, feed_id):
    """True when there was one to remove."""
    check_id(feed_id)
    with cluster.feeds() as state:
        return state.get("changefeeds", {}).pop(key(namespace, feed_id), None) is not None


def pause(feed):
    feed["state"] = "stopped"
    feed["admin_job_type"] = 1


def resume(cluster, feed, overwrite_checkpoint_ts=0):
    if overwrite_checkpoint_ts:
        conn = cluster.connect()
        try:
            current, dummy = cluster.now(conn)
            if overwrite_checkpoint_ts > current:
                raise CDCError("ErrAPIInvalidParam", "invalid checkpoint-ts %d, larger than current tso %d"
                               % (overwrite_checkpoint_ts, current))
            check_start(cluster, key(feed["namespace"], feed["id"]), overwrite_checkpoint_ts)
            position = cluster.start_position(conn, overwrite_checkpoint_ts)
        finally:
            conn.close()
        feed["checkpoint_ts"] = feed["resolved_ts"] = overwrite_checkpoint_ts
        feed["position"] = list(position) if position else None
    feed["state"] = "normal"
    feed["admin_job_type"] = 2
    feed["error"] = None


def running_error(feed):
    """The error shown for a changefeed (none while normal, stopped, finished or removed)."""
    if feed.get("error") and feed["state"] not in ("normal", "stopped", "finished", "removed"):
        return feed["error"]
    return None
