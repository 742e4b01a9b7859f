"""SHOW CONFIG, INFORMATION_SCHEMA.CLUSTER_CONFIG and SET CONFIG, as TiDB does them.

TiDB asks each instance of the cluster (CLUSTER_INFO's list) for its configuration over
HTTP and flattens the JSON into dotted names (SHOW CONFIG: Type, Instance, Name, Value;
CLUSTER_CONFIG: TYPE, INSTANCE, KEY, VALUE): PD at ``/pd/api/v1/config``, TiKV at
``/config`` of its status address; TiDB its own. An instance that does not answer is left
out with a warning, as TiDB's memtable reader does.

SET CONFIG (pkg/executor/set_config.go):
- ``SET CONFIG tikv|pd <name> = <value>`` for every instance of the type, or
  ``SET CONFIG '<host:port>' ...`` for one (its address as CLUSTER_INFO lists it, never the
  status address: "instance %v is not found in this cluster");
- ``tidb`` is refused ("TiDB doesn't support to change configs online, please use SQL
  variables"), another type is "unknown type %v", NULL "cannot set config to null";
- the name is lower-cased and sent as ``{"<name>": <value>}`` (a string quoted, a number
  bare, TRUE/FALSE as booleans) by POST to each instance; an instance that refuses it
  (HTTP 4xx/5xx) becomes a warning 1105 "bad request to <url>: <body>" and the statement
  still succeeds. (The stand-in shows the first refusal only: its OK carries one warning.)
"""
import json
import re
import urllib.error
import urllib.request

from tests.sandbox import component_config
from tests.sandbox.tidb import cluster_info, resultset, sqltext
from tests.sandbox.tidb.registry import Error, Ok, Rewrite, SqlError, statement
from tests.sandbox.tidb.resultset import STR

SHOW_COLUMNS = [("Type", STR), ("Instance", STR), ("Name", STR), ("Value", STR)]
TABLE_COLUMNS = [("TYPE", STR), ("INSTANCE", STR), ("KEY", STR), ("VALUE", STR)]
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_STRING = r"""'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*\""""
# a config item's name: dotted parts, each a word with dashes or backquoted
_NAME = r"(?:`[^`]+`|[\w-]+)(?:\s*\.\s*(?:`[^`]+`|[\w-]+))*"


def _tidb_config(identity):
    """The part of TiDB's own configuration the stand-in shows."""
    host, dummy, port = identity.address.rpartition(":")
    shost, dummy, sport = identity.status_address.rpartition(":")
    return {"host": "0.0.0.0", "advertise-address": host, "port": int(port or 4000),
            "store": "tikv", "path": ",".join(identity.pd),
            "status": {"status-host": "0.0.0.0", "status-port": int(sport or 10080),
                       "report-status": True},
            "log": {"level": "info", "format": "text"},
            "performance": {"max-procs": 0, "txn-total-size-limit": 104857600},
            "instance": {"tidb_slow_log_threshold": 300, "max_connections": 0}}


def _url(kind, status_address):
    return "http://%s%s" % (status_address, "/pd/api/v1/config" if kind == "pd" else "/config")


def _servers(ctx):
    try:
        return [(row[0], row[1], row[2]) for row in cluster_info.rows(ctx.identity)]
    except OSError as exc:
        raise SqlError(1105, "HY000", str(exc))


def config_rows(ctx):
    """[(type, instance, name, value)], and the first instance that did not answer."""
    found, failed = [], None
    for kind, instance, status in _servers(ctx):
        if kind == "tidb":
            config = _tidb_config(ctx.identity)
        else:
            try:
                with _OPENER.open(_url(kind, status), timeout=5) as resp:
                    config = json.loads(resp.read().decode())
            except (OSError, ValueError) as exc:
                failed = failed or "%s: %s" % (instance, exc)
                continue
        for name, value in sorted(component_config.flatten(config).items()):
            found.append((kind, instance, name, component_config.shown(value)))
    return found, failed


@statement(r"SHOW\s+CONFIG(?:\s+LIKE\s+(?P<like>%s)|\s+WHERE\s+(?P<where>.+?))?" % _STRING)
def show_config(ctx, m):
    found, dummy = config_rows(ctx)
    if m.group("like"):
        pattern = sqltext.unquote(m.group("like"))
        found = [row for row in found if sqltext.like_matches(pattern, row[2])]
    return Rewrite(resultset.rewrite_sql(SHOW_COLUMNS, found, m.group("where")))


@statement(r"(?:SELECT\b|WITH\b|\().*\bCLUSTER_CONFIG\b.*", priority=85)
def select_cluster_config(ctx, m):
    refs = list(resultset.table_references(m.string, "information_schema", "cluster_config"))
    if not refs:
        return None
    found, dummy = config_rows(ctx)
    return Rewrite(resultset.replace_table(m.string, refs, TABLE_COLUMNS, found, "CLUSTER_CONFIG"))


@statement(r"SET\s+CONFIG\s+(?P<target>%s|[\w-]+)\s+(?P<name>%s)\s*=\s*(?P<value>.+?)"
           % (_STRING, _NAME))
def set_config(ctx, m):
    target = m.group("target")
    kind = instance = ""
    if target[0] in "'\"":
        instance = sqltext.unquote(target).lower()
        if not re.fullmatch(r"[\w.-]+:\d+", instance):
            return Error(1105, "HY000", "invalid instance %s" % instance)
    else:
        kind = target.lower()
        if kind not in ("tikv", "tidb", "pd", "tiflash", "tso", "scheduling"):
            return Error(1105, "HY000", "unknown type %s" % kind)
        if kind == "tidb":
            return Error(1105, "HY000", "TiDB doesn't support to change configs online, "
                                        "please use SQL variables")
        if kind in ("tso", "scheduling"):
            return Error(1105, "HY000", "%s doesn't support to change configs online" % kind)
    name = "".join(part.strip().strip("`") for part in re.split(r"(\.)", m.group("name"))).lower()
    value = _value(m.group("value").strip())
    servers = [s for s in _servers(ctx)
               if (not kind or s[0] == kind) and (not instance or s[1] == instance)]
    if instance and not servers:
        return Error(1105, "HY000", "instance %s is not found in this cluster" % instance)
    body = json.dumps({name: value}).encode()
    warning = None
    for server_kind, dummy, status in servers:
        if server_kind == "tidb":
            return Error(1105, "HY000", "TiDB doesn't support to change configs online, "
                                        "please use SQL variables")
        url = _url(server_kind, status)
        problem = _post(url, body)
        if problem and warning is None:
            warning = (1105, problem)
    return Ok(warning=warning)


def _value(text):
    """The JSON value SET CONFIG sends (ConvertConfigItem2JSON)."""
    if re.fullmatch(_STRING, text, re.S):
        return sqltext.unquote(text)
    upper = text.upper()
    if upper == "NULL":
        raise SqlError(1105, "HY000", "cannot set config to null")
    if upper in ("TRUE", "FALSE"):
        return upper == "TRUE"
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    if re.fullmatch(r"[-+]?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?\d+[eE][-+]?\d+", text):
        return float(text)
    raise SqlError(1105, "HY000", "tidbops sandbox: SET CONFIG takes a literal value here, "
                                  "not %r" % text)


def _post(url, body):
    """None when the instance took the change, else the warning TiDB shows."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with _OPENER.open(request, timeout=10) as resp:
            if resp.status == 200:
                return None
            return "request %s failed: %s %s" % (url, resp.status, resp.reason)
    except urllib.error.HTTPError as exc:
        message = exc.read().decode("utf-8", "replace")
        return "bad request to %s: %s" % (url, message)
    except OSError as exc:
        return str(exc)
