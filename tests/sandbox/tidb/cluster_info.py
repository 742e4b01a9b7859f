"""INFORMATION_SCHEMA.CLUSTER_INFO: the instances of the cluster, as TiDB lists them.

TiDB builds the table on each query (pkg/infoschema/tables.go, GetClusterServerInfo):

- ``tidb`` rows from the TiDB servers registered in etcd: INSTANCE ``ip:port``,
  STATUS_ADDRESS ``ip:status_port``, VERSION the release without its ``v`` (FormatTiDBVersion);
- ``pd`` rows from the PD endpoints TiDB was started with (``--path``): INSTANCE and
  STATUS_ADDRESS both the endpoint, VERSION and GIT_HASH from PD's ``/pd/api/v1/status``;
- ``tikv`` rows from PD's stores (address, status_address, version, git_hash).

The stand-in lists itself as the only TiDB server (it registers nowhere); the PD and TiKV
rows come from the sandbox PD exactly as TiDB asks for them. A query naming the table gets
it replaced by a derived table of literals with TiDB's column names, so any WHERE, ORDER BY
or column list works as on TiDB. PD unreachable fails the query, as on TiDB.
"""
import datetime
import json
import time
import urllib.request

from tests.sandbox.tidb import sqltext
from tests.sandbox.tidb.registry import Error, Rewrite, statement
from tests.sandbox.tidb.resultset import STR, UINT, select_literals

COLUMNS = [("TYPE", STR), ("INSTANCE", STR), ("STATUS_ADDRESS", STR), ("VERSION", STR),
           ("GIT_HASH", STR), ("START_TIME", STR), ("UPTIME", STR), ("SERVER_ID", UINT)]
STARTED = time.time()


def pd_get(endpoints, path):
    """GET path from the first PD endpoint that answers (JSON), as TiDB's PD client does."""
    failures = []
    for endpoint in endpoints:
        try:
            with urllib.request.urlopen("http://%s%s" % (endpoint, path), timeout=5) as resp:
                return json.loads(resp.read().decode())
        except (OSError, ValueError) as exc:
            failures.append("%s: %s" % (endpoint, exc))
    raise OSError("no PD endpoint answered %s (%s)" % (path, "; ".join(failures) or "none given"))


def _release(version):
    return version[1:] if version.startswith("v") else version


def _time_row(started):
    start = datetime.datetime.fromtimestamp(started).strftime("%Y-%m-%dT%H:%M:%S")
    return start, "%.6fs" % max(0.0, time.time() - started)


def rows(identity):
    start, uptime = _time_row(STARTED)
    found = [("tidb", identity.address, identity.status_address, _release(identity.version),
              identity.git_hash, start, uptime, 0)]
    for endpoint in identity.pd:
        status = pd_get([endpoint], "/pd/api/v1/status")
        start, uptime = _time_row(status.get("start_timestamp") or STARTED)
        found.append(("pd", endpoint, endpoint, _release(status.get("version", "")),
                      status.get("git_hash", ""), start, uptime, 0))
    for store in pd_get(identity.pd, "/pd/api/v1/stores").get("stores") or []:
        meta = store["store"]
        start, uptime = _time_row(meta.get("start_timestamp") or STARTED)
        found.append(("tikv", meta["address"], meta.get("status_address", ""), _release(meta.get("version", "")),
                      meta.get("git_hash", ""), start, uptime, 0))
    return found


# Words that may follow a table reference that has no alias.
_AFTER_TABLE = {"WHERE", "ORDER", "GROUP", "HAVING", "LIMIT", "JOIN", "INNER", "LEFT", "RIGHT", "CROSS",
                "NATURAL", "STRAIGHT_JOIN", "UNION", "ON", "USING", "FOR", "LOCK", "WINDOW", "EXCEPT",
                "INTERSECT", "INTO"}


def _table_references(toks):
    """(start, end, aliased) of every INFORMATION_SCHEMA.CLUSTER_INFO in the statement."""
    def name(tok):
        return tok.text.strip("`").lower() if tok.kind in ("word", "quoted") else None

    for i in range(len(toks) - 2):
        if name(toks[i]) == "information_schema" and toks[i + 1].text == "." and name(toks[i + 2]) == "cluster_info":
            following = toks[i + 3] if i + 3 < len(toks) else None
            aliased = following is not None and (
                following.kind == "quoted" or following.kind == "word" and following.text.upper() not in _AFTER_TABLE)
            yield toks[i].start, toks[i + 2].end, aliased


@statement(r"(?:SELECT\b|WITH\b|\().*\bCLUSTER_INFO\b.*", priority=85)
def select_cluster_info(ctx, m):
    sql = m.string
    found = list(_table_references(sqltext.tokens(sql)))
    if not found:
        return None
    try:
        table = "(%s)" % select_literals(COLUMNS, rows(ctx.identity))
    except OSError as exc:
        # TiDB passes the PD client's error through (ER_UNKNOWN_ERROR).
        return Error(1105, "HY000", str(exc))
    for start, end, aliased in reversed(found):
        sql = sql[:start] + table + ("" if aliased else " AS CLUSTER_INFO") + sql[end:]
    return Rewrite(sql)
