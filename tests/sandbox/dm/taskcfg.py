"""Task configuration: the OpenAPI Task, the per-source subtask configs DM keeps, and the
dmctl YAML, converted the way pingcap/tiflow dm/config/task_converters.go does.

A subtask config here is a plain dict (see new_subtask); what GET /tasks returns is rebuilt
from the subtask configs (SubTaskConfigsToOpenAPITask), so it carries DM's defaults, filter
rules renamed "<source>-filter-rule-<idx>", on_duplicate taken from the loader's
on_duplicate_logical (the Task's own on_duplicate is not stored, as in DM), and the target
password as stored.
"""
import copy
import fnmatch
import json
import re

import yaml

from tests.sandbox.dm.errors import DMError

DEFAULT_META_SCHEMA = "dm_meta"
DEFAULT_DIR = "./dumped_data"
MODES = ("full", "incremental", "all", "dump", "load")
CHECKING_ITEMS = (
    "all", "dump_privilege", "replication_privilege", "version", "server_id", "binlog_enable", "binlog_format",
    "binlog_row_image", "table_schema", "schema_of_shard_tables", "auto_increment_ID", "online_ddl", "binlog_db",
    "meta_position", "conn_number", "target_privilege", "empty_region", "region_distribution",
    "downstream_version", "free_space", "downstream_mutex_features", "downstream_table_empty", "primary_key")


def has_dump(mode):
    return mode in ("full", "all", "dump")


def has_load(mode):
    return mode in ("full", "all", "load")


def has_sync(mode):
    return mode in ("incremental", "all")


def adjust_task(task):
    """openapi Task.Adjust: default meta_schema, check the timezone."""
    task.setdefault("meta_schema", DEFAULT_META_SCHEMA)
    tz = task.get("timezone")
    if tz:
        if not re.match(r"^(Local|UTC|[A-Za-z_]+(/[A-Za-z_+\-0-9]+)*|[+-]\d{2}:\d{2})$", tz):
            raise DMError("ErrConfigInvalidTimezone", tz)
    if not task.get("name"):
        raise DMError("ErrConfigTaskNameEmpty")


def target_db(task):
    """GetTargetDBCfgFromOpenAPITask."""
    tc = task["target_config"]
    to = {"host": tc["host"], "port": tc["port"], "user": tc["user"], "password": tc.get("password", ""),
          "session": None, "security": None}
    session = tc.get("session") or {}
    if session.get("foreign_key_checks") is not None:
        to["session"] = {"foreign_key_checks": session["foreign_key_checks"]}
    if tc.get("security"):
        to["security"] = copy.deepcopy(tc["security"])
    return to


def new_subtask(name, mode, source_id):
    return {
        "name": name, "mode": mode, "source_id": source_id, "meta_schema": DEFAULT_META_SCHEMA,
        "timezone": "", "shard_mode": "", "strict_optimistic_shard_mode": False, "online_ddl": True,
        "case_sensitive": False, "meta": None, "to": None,
        "mydumper": {"threads": 4, "extra_args": ""},
        "loader": {"pool_size": 16, "dir": DEFAULT_DIR, "import_mode": "logical", "on_duplicate_logical": "replace",
                   "on_duplicate_physical": "", "pd_addr": "", "security": None, "range_concurrency": 0,
                   "sorting_dir": "", "disk_quota": "", "checksum": "", "analyze": "", "compress_kv_pairs": ""},
        "syncer": {"worker_count": 16, "batch": 100, "safe_mode": False},
        "routes": [], "filters": [], "ba_list": None, "ignore_checking_items": [],
    }


def _adjust_subtask(cfg):
    """SubTaskConfig.Adjust: the dump dir gets the task name as suffix; items are checked."""
    for item in cfg["ignore_checking_items"]:
        if item not in CHECKING_ITEMS:
            raise DMError("ErrConfigCheckItemNotSupport", item, "************ supporting checking items ************")
    if cfg["mode"] not in MODES:
        raise DMError("ErrConfigInvalidTaskMode")
    if not cfg["loader"]["dir"].endswith("." + cfg["name"]):
        cfg["loader"]["dir"] = cfg["loader"]["dir"] + "." + cfg["name"]


def to_subtasks(task, sources):
    """OpenAPITaskToSubTaskConfigs: one config per source_conf entry, in that order."""
    rules_by_source = {}
    for rule in task["table_migrate_rule"]:
        rules_by_source.setdefault(rule["source"]["source_name"], []).append(rule)
    templates = {}
    for rule_name, rule in (task.get("binlog_filter_rule") or {}).items():
        templates[rule_name] = {"events": list(rule.get("ignore_event") or []),
                                "sql_pattern": list(rule.get("ignore_sql") or []), "action": "Ignore"}
    full = task["source_config"].get("full_migrate_conf") or {}
    incr = task["source_config"].get("incr_migrate_conf") or {}
    to = target_db(task)
    result = []
    for conf in task["source_config"]["source_conf"]:
        src = conf["source_name"]
        if src not in sources:
            raise DMError("ErrConfigSourceIDNotFound", src)
        cfg = new_subtask(task["name"], task["task_mode"], src)
        cfg["timezone"] = task.get("timezone") or ""
        cfg["meta_schema"] = task["meta_schema"]
        if any(k in conf for k in ("binlog_name", "binlog_pos", "binlog_gtid")):
            cfg["meta"] = {"binlog_name": conf.get("binlog_name", ""), "binlog_pos": conf.get("binlog_pos", 0),
                           "binlog_gtid": conf.get("binlog_gtid", "")}
        if task.get("shard_mode"):
            cfg["shard_mode"] = task["shard_mode"]
        cfg["strict_optimistic_shard_mode"] = bool(task.get("strict_optimistic_shard_mode", False))
        cfg["online_ddl"] = task["enhance_online_schema_change"]
        cfg["to"] = copy.deepcopy(to)
        loader, dumper = cfg["loader"], cfg["mydumper"]
        for key, field in (("analyze", "analyze"), ("checksum", "checksum"), ("compress-kv-pairs", "compress_kv_pairs"),
                           ("import_threads", "pool_size"), ("data_dir", "dir"), ("disk_quota", "disk_quota"),
                           ("import_mode", "import_mode"), ("on_duplicate_logical", "on_duplicate_logical"),
                           ("on_duplicate_physical", "on_duplicate_physical"), ("pd_addr", "pd_addr"),
                           ("range_concurrency", "range_concurrency"), ("sorting_dir", "sorting_dir")):
            if full.get(key) is not None:
                loader[field] = full[key]
        if full.get("security"):
            sec = full["security"]
            if not (sec.get("ssl_ca_content") and sec.get("ssl_cert_content") and sec.get("ssl_key_content")):
                raise DMError("ErrOpenAPICommonError", message="Invalid security config, full migrate conf's "
                              "security fields should not be \"\"")
            loader["security"] = copy.deepcopy(sec)
        if full.get("consistency") is not None:
            dumper["extra_args"] = "--consistency %s" % full["consistency"]
        if full.get("export_threads") is not None:
            dumper["threads"] = full["export_threads"]
        for key, field in (("repl_threads", "worker_count"), ("repl_batch", "batch"), ("safe_mode", "safe_mode")):
            if incr.get(key) is not None:
                cfg["syncer"][field] = incr[key]
        do_dbs, do_tables = [], []
        for rule in rules_by_source.get(src, []):
            source, target = rule["source"], rule.get("target") or {}
            if target.get("schema") is not None or target.get("table") is not None:
                cfg["routes"].append({"schema_pattern": source["schema"], "table_pattern": source["table"],
                                      "target_schema": target.get("schema") or "",
                                      "target_table": target.get("table") or ""})
            for name in rule.get("binlog_filter_rule") or []:
                if name not in templates:
                    raise DMError("ErrOpenAPICommonError", message="filter rule name %s not found." % name)
                one = dict(templates[name], schema_pattern=source["schema"], table_pattern=source["table"])
                cfg["filters"].append(one)
            if source["table"] != "":
                do_tables.append({"schema": source["schema"], "name": source["table"]})
            elif source["schema"] not in do_dbs:
                do_dbs.append(source["schema"])
        if do_dbs or do_tables:
            cfg["ba_list"] = {"do_dbs": do_dbs, "do_tables": do_tables}
        cfg["ignore_checking_items"] = list(task.get("ignore_checking_items") or [])
        _adjust_subtask(cfg)
        result.append(cfg)
    return result


def _trim_dir(cfg):
    suffix = "." + cfg["name"]
    path = cfg["loader"]["dir"]
    return path[:-len(suffix)] if path.endswith(suffix) else path


def to_task(subtasks):
    """SubTaskConfigsToOpenAPITask (sources and rules in a stable order, not Go's map order)."""
    one = subtasks[0]
    full = {"export_threads": one["mydumper"]["threads"], "data_dir": _trim_dir(one),
            "import_threads": one["loader"]["pool_size"]}
    if one["loader"]["import_mode"] == "physical":
        full["pd_addr"] = one["loader"]["pd_addr"]
    if one["loader"]["import_mode"]:
        full["import_mode"] = one["loader"]["import_mode"]
    consistency = one["mydumper"]["extra_args"].replace("--consistency ", "", 1)
    if consistency:
        full["consistency"] = consistency
    if one["loader"]["security"]:
        sec = one["loader"]["security"]
        full["security"] = {"ssl_ca_content": sec.get("ssl_ca_content", ""), "ssl_cert_content": sec.get("ssl_cert_content", ""),
                            "ssl_key_content": sec.get("ssl_key_content", ""), "cert_allowed_cn": sec.get("cert_allowed_cn") or []}
    source_conf, filter_rules, migrate, seen = [], {}, [], set()
    for cfg in subtasks:
        conf = {"source_name": cfg["source_id"]}
        if cfg["meta"] is not None:
            conf.update(binlog_gtid=cfg["meta"]["binlog_gtid"], binlog_name=cfg["meta"]["binlog_name"],
                        binlog_pos=cfg["meta"]["binlog_pos"])
        source_conf.append(conf)
        for idx, rule in enumerate(cfg["filters"]):
            one_rule = {}
            if rule["events"]:
                one_rule["ignore_event"] = list(rule["events"])
            if rule["sql_pattern"]:
                one_rule["ignore_sql"] = list(rule["sql_pattern"])
            filter_rules["%s-filter-rule-%d" % (cfg["source_id"], idx)] = one_rule

    def append(cfg, schema, table, target_schema, target_table):
        key = "-".join([cfg["source_id"], schema, table])
        if key in seen:
            return
        seen.add(key)
        rule = {"source": {"source_name": cfg["source_id"], "schema": schema, "table": table}}
        if target_schema:
            rule["target"] = {"schema": target_schema}
            if target_table:
                rule["target"]["table"] = target_table
        if cfg["filters"]:
            rule["binlog_filter_rule"] = ["%s-filter-rule-%d" % (cfg["source_id"], i) for i in range(len(cfg["filters"]))]
        migrate.append(rule)

    for cfg in subtasks:
        for route in cfg["routes"]:
            append(cfg, route["schema_pattern"], route["table_pattern"], route["target_schema"], route["target_table"])
    for cfg in subtasks:
        if cfg["ba_list"]:
            for db in cfg["ba_list"]["do_dbs"]:
                append(cfg, db, "", "", "")
            for tbl in cfg["ba_list"]["do_tables"]:
                append(cfg, tbl["schema"], tbl["name"], "", "")
    to = one["to"]
    task = {
        "name": one["name"], "task_mode": one["mode"], "enhance_online_schema_change": one["online_ddl"],
        "meta_schema": one["meta_schema"], "on_duplicate": one["loader"]["on_duplicate_logical"],
        "source_config": {"source_conf": source_conf, "full_migrate_conf": full,
                          "incr_migrate_conf": {"repl_batch": one["syncer"]["batch"],
                                                "repl_threads": one["syncer"]["worker_count"],
                                                "safe_mode": one["syncer"]["safe_mode"]}},
        "target_config": {"host": to["host"], "port": to["port"], "user": to["user"], "password": to["password"]},
        "strict_optimistic_shard_mode": one["strict_optimistic_shard_mode"],
        "table_migrate_rule": migrate,
    }
    if one["timezone"]:
        task["timezone"] = one["timezone"]
    if one["shard_mode"]:
        task["shard_mode"] = one["shard_mode"]
    if filter_rules:
        task["binlog_filter_rule"] = filter_rules
    if one["ignore_checking_items"]:
        task["ignore_checking_items"] = list(one["ignore_checking_items"])
    if to.get("security"):
        sec = to["security"]
        task["target_config"]["security"] = {
            "ssl_ca_content": sec.get("ssl_ca_content", ""), "ssl_cert_content": sec.get("ssl_cert_content", ""),
            "ssl_key_content": sec.get("ssl_key_content", ""), "cert_allowed_cn": sec.get("cert_allowed_cn") or []}
    if to.get("session") and "foreign_key_checks" in to["session"]:
        enabled = str(to["session"]["foreign_key_checks"]).lower() in ("1", "on", "true")
        task["target_config"]["session"] = {"foreign_key_checks": "1" if enabled else "0"}
    return task


def update_refusal(old, new):
    """Syncer.CheckCanUpdateCfg: None, or why the new subtask config cannot replace old.

    Only the block-allow list, routes, binlog filters, the syncer config and the target
    session may change; safe-mode and foreign_key_checks need a re-initialisation.
    """
    if old["syncer"]["safe_mode"] != new["syncer"]["safe_mode"]:
        return "can't update safe-mode for syncer because it requires reinitialization, task: %s" % old["name"]
    if _fk_checks(old["to"]) != _fk_checks(new["to"]):
        return "can't update foreign_key_checks for syncer because it requires reinitialization, task: %s" % old["name"]
    a, b = copy.deepcopy(old), copy.deepcopy(new)
    for cfg in (a, b):
        for key in ("ba_list", "routes", "filters", "syncer"):
            cfg.pop(key)
        cfg["to"].pop("session", None)
    if json.dumps(a, sort_keys=True) != json.dumps(b, sort_keys=True):
        return ("can't update subtask config for syncer because new config contains some fields that should not be "
                "changed, task: %s" % old["name"])
    return None


def _fk_checks(to):
    session = to.get("session") or {}
    return str(session.get("foreign_key_checks", "0")).lower() in ("1", "on", "true")


# ---- table filter and router ---------------------------------------------------------------------

def _match(pattern, name):
    """DM's table-filter patterns: '~' starts a regular expression, else '*'/'?' wildcards;
    names compare case-insensitively (case-sensitive: false, the default)."""
    if pattern.startswith("~"):
        return re.search(pattern[1:], name, re.IGNORECASE) is not None
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


def allowed(cfg, schema, table):
    """Whether the block-allow list lets schema.table through."""
    ba = cfg["ba_list"]
    if ba is None:
        return schema.lower() not in ("mysql", "information_schema", "performance_schema", "sys", cfg["meta_schema"])
    if any(_match(db, schema) for db in ba["do_dbs"]):
        return True
    return any(_match(t["schema"], schema) and _match(t["name"], table) for t in ba["do_tables"])


def route(cfg, schema, table):
    """(target schema, target table): table-level rules win over schema-level ones."""
    table_rules = [r for r in cfg["routes"] if r["table_pattern"] not in ("", "*")]
    schema_rules = [r for r in cfg["routes"] if r["table_pattern"] in ("", "*")]
    for rule in table_rules + schema_rules:
        if _match(rule["schema_pattern"], schema) and (rule["table_pattern"] == "" or _match(rule["table_pattern"], table)):
            return (rule["target_schema"] or schema, rule["target_table"] or table)
    return (schema, table)


def ignored_dml(cfg, schema, table, kind):
    """Binlog filter rules with action Ignore: kind is insert/update/delete."""
    for rule in cfg["filters"]:
        if not _match(rule["schema_pattern"], schema) or not _match(rule.get("table_pattern") or "*", table):
            continue
        events = [e.lower() for e in rule["events"]]
        if "all" in events or "all dml" in events or kind in events:
            return True
    return False


# ---- dmctl YAML ---------------------------------------------------------------------------------

def yaml_to_task(text, sources):
    """TaskConfig (dmctl YAML) -> Task: through subtask configs, as TaskConfigToOpenAPITask does."""
    try:
        doc = yaml.safe_load(text) or {}
        if not isinstance(doc, dict):
            raise ValueError("the task config is not a mapping")
    except (yaml.YAMLError, ValueError) as exc:
        raise DMError("ErrConfigYamlTransform", "decode task config failed: %s" % exc)
    if not doc.get("name"):
        raise DMError("ErrConfigTaskNameEmpty")
    mode = doc.get("task-mode", "")
    if mode not in MODES:
        raise DMError("ErrConfigInvalidTaskMode")
    ba_lists = doc.get("block-allow-list") or doc.get("black-white-list") or {}
    subtasks = []
    for inst in doc.get("mysql-instances") or []:
        src = inst.get("source-id", "")
        if src not in sources:
            raise DMError("ErrConfigSourceIDNotFound", src)
        cfg = new_subtask(doc["name"], mode, src)
        cfg["meta_schema"] = doc.get("meta-schema") or DEFAULT_META_SCHEMA
        cfg["timezone"] = doc.get("timezone") or ""
        cfg["shard_mode"] = doc.get("shard-mode") or ("pessimistic" if doc.get("is-sharding") else "")
        cfg["strict_optimistic_shard_mode"] = bool(doc.get("strict-optimistic-shard-mode", False))
        cfg["online_ddl"] = bool(doc.get("online-ddl", doc.get("online-ddl-scheme") is not None))
        cfg["ignore_checking_items"] = list(doc.get("ignore-checking-items") or [])
        tdb = doc.get("target-database") or {}
        cfg["to"] = {"host": tdb.get("host", ""), "port": tdb.get("port", 0), "user": tdb.get("user", ""),
                     "password": tdb.get("password", ""), "session": tdb.get("session") or None, "security": None}
        if inst.get("meta"):
            meta = inst["meta"]
            cfg["meta"] = {"binlog_name": meta.get("binlog-name", ""), "binlog_pos": meta.get("binlog-pos", 0),
                           "binlog_gtid": meta.get("binlog-gtid", "")}
        for name in inst.get("route-rules") or []:
            rule = (doc.get("routes") or {}).get(name) or {}
            cfg["routes"].append({"schema_pattern": rule.get("schema-pattern", ""), "table_pattern": rule.get("table-pattern", ""),
                                  "target_schema": rule.get("target-schema", ""), "target_table": rule.get("target-table", "")})
        for name in inst.get("filter-rules") or []:
            rule = (doc.get("filters") or {}).get(name) or {}
            cfg["filters"].append({"schema_pattern": rule.get("schema-pattern", ""), "table_pattern": rule.get("table-pattern", ""),
                                   "events": list(rule.get("events") or []), "sql_pattern": list(rule.get("sql-pattern") or []),
                                   "action": rule.get("action", "Ignore")})
        ba = ba_lists.get(inst.get("block-allow-list") or inst.get("black-white-list") or "")
        if ba:
            cfg["ba_list"] = {"do_dbs": list(ba.get("do-dbs") or []),
                              "do_tables": [{"schema": t.get("db-name", ""), "name": t.get("tbl-name", "")}
                                            for t in ba.get("do-tables") or []]}
        dumper = (doc.get("mydumpers") or {}).get(inst.get("mydumper-config-name") or "") or {}
        cfg["mydumper"]["threads"] = inst.get("mydumper-thread") or dumper.get("threads", 4)
        cfg["mydumper"]["extra_args"] = dumper.get("extra-args", "")
        loader = (doc.get("loaders") or {}).get(inst.get("loader-config-name") or "") or {}
        cfg["loader"]["pool_size"] = inst.get("loader-thread") or loader.get("pool-size", 16)
        cfg["loader"]["dir"] = loader.get("dir", DEFAULT_DIR)
        cfg["loader"]["import_mode"] = loader.get("import-mode", "logical")
        cfg["loader"]["on_duplicate_logical"] = loader.get("on-duplicate-logical", "replace")
        syncer = (doc.get("syncers") or {}).get(inst.get("syncer-config-name") or "") or {}
        cfg["syncer"]["worker_count"] = inst.get("syncer-thread") or syncer.get("worker-count", 16)
        cfg["syncer"]["batch"] = syncer.get("batch", 100)
        cfg["syncer"]["safe_mode"] = bool(syncer.get("safe-mode", False))
        _adjust_subtask(cfg)
        subtasks.append(cfg)
    if not subtasks:
        raise DMError("ErrConfigYamlTransform", "must specify at least one mysql-instances")
    return to_task(subtasks), subtasks


def subtasks_to_yaml(subtasks):
    """SubTaskConfigsToTaskConfig then its YAML, with generated rule names (route-01, ...)."""
    one = subtasks[0]
    doc = {"name": one["name"], "task-mode": one["mode"], "is-sharding": bool(one["shard_mode"]),
           "shard-mode": one["shard_mode"], "strict-optimistic-shard-mode": one["strict_optimistic_shard_mode"],
           "ignore-checking-items": list(one["ignore_checking_items"]), "meta-schema": one["meta_schema"],
           "timezone": one["timezone"], "case-sensitive": one["case_sensitive"], "collation_compatible": "loose",
           "online-ddl": one["online_ddl"],
           "target-database": {"host": one["to"]["host"], "port": one["to"]["port"], "user": one["to"]["user"],
                               "password": one["to"]["password"], "max-allowed-packet": None,
                               "session": one["to"].get("session") or {}, "security": None},
           "mysql-instances": [], "routes": {}, "filters": {}, "block-allow-list": {}, "mydumpers": {},
           "loaders": {}, "syncers": {}, "clean-dump-file": True}
    names = {}

    def name_of(kind, rule):
        key = kind + json.dumps(rule, sort_keys=True)
        if key not in names:
            names[key] = "%s-%02d" % (kind, sum(1 for k in names if k.startswith(kind + "{")) + 1)
        return names[key]

    for cfg in subtasks:
        inst = {"source-id": cfg["source_id"], "meta": None, "filter-rules": [], "route-rules": []}
        if cfg["meta"]:
            inst["meta"] = {"binlog-name": cfg["meta"]["binlog_name"], "binlog-pos": cfg["meta"]["binlog_pos"],
                            "binlog-gtid": cfg["meta"]["binlog_gtid"]}
        for rule in cfg["routes"]:
            name = name_of("route", rule)
            inst["route-rules"].append(name)
            doc["routes"][name] = {"schema-pattern": rule["schema_pattern"], "table-pattern": rule["table_pattern"],
                                   "target-schema": rule["target_schema"], "target-table": rule["target_table"]}
        for rule in cfg["filters"]:
            name = name_of("filter", rule)
            inst["filter-rules"].append(name)
            doc["filters"][name] = {"schema-pattern": rule["schema_pattern"], "table-pattern": rule["table_pattern"],
                                    "events": rule["events"], "sql-pattern": rule["sql_pattern"], "action": rule["action"]}
        ba = cfg["ba_list"] or {"do_dbs": [], "do_tables": []}
        name = name_of("balist", ba)
        inst["block-allow-list"] = name
        doc["block-allow-list"][name] = {"do-dbs": ba["do_dbs"], "do-tables": [
            {"db-name": t["schema"], "tbl-name": t["name"]} for t in ba["do_tables"]], "ignore-dbs": [], "ignore-tables": []}
        name = name_of("dump", cfg["mydumper"])
        inst["mydumper-config-name"] = name
        doc["mydumpers"][name] = {"threads": cfg["mydumper"]["threads"], "chunk-filesize": "64",
                                  "extra-args": cfg["mydumper"]["extra_args"]}
        name = name_of("load", cfg["loader"])
        inst["loader-config-name"] = name
        doc["loaders"][name] = {"pool-size": cfg["loader"]["pool_size"], "dir": _trim_dir(cfg),
                                "import-mode": cfg["loader"]["import_mode"],
                                "on-duplicate-logical": cfg["loader"]["on_duplicate_logical"]}
        name = name_of("sync", cfg["syncer"])
        inst["syncer-config-name"] = name
        doc["syncers"][name] = {"worker-count": cfg["syncer"]["worker_count"], "batch": cfg["syncer"]["batch"],
                                "safe-mode": cfg["syncer"]["safe_mode"]}
        doc["mysql-instances"].append(inst)
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)
