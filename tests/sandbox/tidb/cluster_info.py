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

from tests.sandbox.tidb import resultset
from tests.sandbox.tidb.registry import Error, Rewrite, statement
from tests.sandbox.tidb.resultset import STR, UINT

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


@statement(r"(?:SELECT\b|WITH\b|\().*\bCLUSTER_INFO\b.*", priority=85)
def select_cluster_info(ctx, m):
    found = list(resultset.table_references(m.string, "information_schema", "cluster_info"))
    if not found:
        return None
    try:
        found_rows = rows(ctx.identity)
    except OSError as exc:
        # TiDB passes the PD client's error through (ER_UNKNOWN_ERROR).
        return Error(1105, "HY000", str(exc))
    return Rewrite(resultset.replace_table(m.string, found, COLUMNS, found_rows, "CLUSTER_INFO"))
