"""The task precheck that create and update run (dm/checker, dm/pkg/checker), for what the
sandbox can check: version, server_id, binlog_enable/format/row_image, dump and replication
privileges of the source account, table_schema (primary/unique keys of the migrated
tables) and target_privilege. Results, messages and the check_result / 26005 texts are
DM's (CheckSyncConfig, Checker.Process, checker.Result JSON).
"""
import json
import re

import pymysql

from tests.sandbox.dm import taskcfg
from tests.sandbox.dm.errors import DMError, db_error

HEADER = "fail to check synchronization configuration with type"
PASSED = "pre-check is passed. "
SYSTEM_SCHEMAS = ("mysql", "information_schema", "performance_schema", "sys")
# TiDB's PrivilegeType order, which LackedPrivilegesAsStr sorts by.
PRIV_ORDER = ["Select", "Reload", "REPLICATION CLIENT", "REPLICATION SLAVE"]
PRIV_SQL = {"Select": "SELECT", "Reload": "RELOAD", "REPLICATION CLIENT": "REPLICATION CLIENT",
            "REPLICATION SLAVE": "REPLICATION SLAVE"}


def connect(db, timeout=5):
    return pymysql.connect(host=db["host"], port=int(db["port"]), user=db["user"], password=db.get("password") or "",
                           connect_timeout=timeout, read_timeout=30, autocommit=True, charset="utf8mb4")


def _one(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def _variable(conn, name):
    rows = _one(conn, "SHOW GLOBAL VARIABLES LIKE '%s'" % name)
    return rows[0][1] if rows else ""


def grants(conn):
    """{'global': set(privs), 'dbs': {db: set(privs)}} from SHOW GRANTS (MariaDB's names mapped
    to MySQL's: BINLOG MONITOR is REPLICATION CLIENT)."""
    found = {"global": set(), "dbs": {}}
    for (line,) in _one(conn, "SHOW GRANTS"):
        match = re.match(r"GRANT (.+?) ON (\S+) TO ", line)
        if not match:
            continue
        privs = {p.strip().upper() for p in match.group(1).split(",")}
        if "ALL PRIVILEGES" in privs:
            privs |= {"SELECT", "RELOAD", "REPLICATION CLIENT", "REPLICATION SLAVE", "CREATE", "INSERT", "UPDATE",
                      "DELETE", "ALTER", "DROP", "INDEX"}
        if "BINLOG MONITOR" in privs:
            privs.add("REPLICATION CLIENT")
        target = match.group(2).replace("`", "")
        if target == "*.*":
            found["global"] |= privs
        else:
            found["dbs"].setdefault(target.split(".", 1)[0], set()).update(privs)
    return found


def _result(name, desc, extra=None):
    result = {"id": 0, "name": name, "desc": desc, "state": "success"}
    if extra:
        result["extra"] = extra
    return result


def _fail(result, text, instruction, severity="fail"):
    result["state"] = severity if result["state"] != "fail" else "fail"
    result.setdefault("errors", []).append({"severity": severity, "short_error": text})
    if instruction:
        result["instruction"] = instruction


def _lack(granted, needed, tables=()):
    """LackedPrivilegesAsStr for privileges needed globally (or, for Select, on tables)."""
    parts = []
    for priv in PRIV_ORDER:
        if priv not in needed or PRIV_SQL[priv] in granted["global"]:
            continue
        if priv == "Select" and tables:
            missing = ["`%s`.`%s`" % t for t in tables if "SELECT" not in granted["dbs"].get(t[0], set())]
            if missing:
                parts.append("lack of Select privilege: {%s}; " % ",".join(sorted(set(missing))))
            continue
        parts.append("lack of %s global (*.*) privilege; " % priv)
    return "".join(parts)


def source_tables(conn, cfg):
    """The (schema, table) pairs of the source that the task's block-allow list lets through."""
    rows = _one(conn, "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'")
    return sorted((s, t) for s, t in rows if s.lower() not in SYSTEM_SCHEMAS and taskcfg.allowed(cfg, s, t))


def _check_source(conn, cfg, source, items):
    extra = "address of db instance - %s:%s" % (source["host"], source["port"])
    results = []
    version = _one(conn, "SELECT VERSION()")[0][0]
    if "version" in items:
        res = _result("mysql_version", "check whether mysql version is satisfied", extra)
        if "mariadb" in version.lower():
            _fail(res, "Migrating from MariaDB is still experimental.",
                  "It is recommended that you upgrade MariaDB to 10.1.2 or a later version.", "warn")
        results.append(res)
    granted = grants(conn)
    tables = source_tables(conn, cfg)
    if taskcfg.has_dump(cfg["mode"]) and "dump_privilege" in items:
        res = _result("source db dump privilege checker", "check dump privileges of source DB", extra)
        consistency = cfg["mydumper"]["extra_args"].replace("--consistency ", "") or "auto"
        needed = {"Select"} | ({"Reload"} if consistency in ("auto", "flush") else set())
        lack = _lack(granted, needed, tables)
        if lack:
            _fail(res, lack, "You need grant related privileges.")
        results.append(res)
    if taskcfg.has_sync(cfg["mode"]):
        if "server_id" in items:
            res = _result("mysql_server_id", "check whether mysql server_id has been greater than 0", extra)
            if str(_variable(conn, "server_id")) in ("", "0"):
                _fail(res, "server_id is 0", "please set server_id greater than 0", "warn")
            results.append(res)
        for item, name, desc, var, want, instruction in (
                ("binlog_enable", "mysql_binlog_enable", "check whether mysql binlog is enabled", "log_bin", "ON",
                 "MySQL as source: please refer to the document to enable the binlog "
                 "https://dev.mysql.com/doc/refman/5.7/en/replication-howto-masterbaseconfig.html"),
                ("binlog_format", "mysql_binlog_format", "check whether mysql binlog_format is ROW", "binlog_format", "ROW",
                 "MySQL as source: please execute 'set global binlog_format=ROW;'"),
                ("binlog_row_image", "mysql_binlog_row_image", "check whether mysql binlog_row_image is FULL",
                 "binlog_row_image", "FULL", "MySQL as source: please execute 'set global binlog_row_image = FULL;'")):
            if item not in items:
                continue
            res = _result(name, desc, extra)
            value = _variable(conn, var)
            if value.upper() != want:
                _fail(res, "%s is %s, and should be %s" % (var, value, want), instruction)
            results.append(res)
        if "replication_privilege" in items:
            res = _result("source db replication privilege checker", "check replication privileges of source DB", extra)
            lack = _lack(granted, {"REPLICATION CLIENT", "REPLICATION SLAVE"})
            if lack:
                _fail(res, lack, "You need grant related privileges.")
            results.append(res)
    return results, tables


def _check_tables(conn, tables):
    res = _result("table structure compatibility check", "check compatibility of table structure")
    for schema, table in tables:
        rows = _one(conn, "SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = '%s' "
                    "AND TABLE_NAME = '%s' AND CONSTRAINT_TYPE IN ('PRIMARY KEY', 'UNIQUE')"
                    % (schema.replace("'", "''"), table.replace("'", "''")))
        if not rows[0][0]:
            _fail(res, "table `%s`.`%s` primary/unique key does not exist" % (schema, table),
                  "You need to set primary/unique keys for the table. Otherwise replication efficiency might become "
                  "very low and exactly-once replication cannot be guaranteed.", "warn")
    return res


def _check_target(to):
    res = _result("target db privilege checker", "check privileges of target DB",
                  "address of db instance - %s:%s" % (to["host"], to["port"]))
    try:
        conn = connect(to)
    except pymysql.MySQLError as exc:
        raise db_error(exc, "downstream")
    with conn:
        granted = grants(conn)["global"]
    missing = [p for p in ("CREATE", "SELECT", "INSERT", "UPDATE", "DELETE", "ALTER", "DROP", "INDEX") if p not in granted]
    if missing:
        _fail(res, "".join("lack of %s global (*.*) privilege; " % p.capitalize() for p in missing),
              "You need grant related privileges.", "warn")
    return res


def run(subtasks, sources):
    """CheckSyncConfig: the check_result text, or DMError 26005 when a check fails."""
    ignored = subtasks[0]["ignore_checking_items"]
    if "all" in ignored:
        return ""
    items = set(taskcfg.CHECKING_ITEMS) - set(ignored) - {"all", "primary_key"}
    results = []
    if "target_privilege" in items:
        results.append(_check_target(subtasks[0]["to"]))
    for cfg in subtasks:
        source = sources[cfg["source_id"]]
        try:
            conn = connect(source)
        except pymysql.MySQLError as exc:
            raise db_error(exc, "upstream")
        with conn:
            found, tables = _check_source(conn, cfg, source, items)
            results += found
            if "table_schema" in items:
                results.append(_check_tables(conn, tables))
    for idx, res in enumerate(results):
        res["id"] = idx
    summary = {"passed": not any(r["state"] == "fail" for r in results), "total": len(results),
               "successful": sum(r["state"] == "success" for r in results),
               "failed": sum(r["state"] == "fail" for r in results),
               "warning": sum(r["state"] == "warn" for r in results)}
    shown = [r for r in results if r["state"] != "success"]
    detail = ""
    if summary["successful"] != summary["total"]:
        # json.MarshalIndent(result, "\t", "\t")
        detail = json.dumps({"results": shown, "summary": summary}, indent="\t").replace("\n", "\n\t")
    if not summary["passed"]:
        raise DMError("ErrTaskCheckSyncConfigError", HEADER, "check was failed, please see detail", detail,
                      klass="dm-master")
    if not detail:
        return PASSED
    return "%s: no errors but some warnings\n detail: %s" % (HEADER, detail)
