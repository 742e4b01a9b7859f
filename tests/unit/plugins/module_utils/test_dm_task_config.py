"""dmctl task YAML -> OpenAPI Task, the normal form used for drift, and what DM can update."""
import copy

import pytest
import yaml

from ansible_collections.tidbops.manager.plugins.module_utils.dm import task_config as cfg
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError

# The shape of tiflow's dm/master/task_basic.yaml: two sources, a block-allow list only.
BASIC = yaml.safe_load("""
name: test
task-mode: all
meta-schema: dm_meta
target-database:
  host: 127.0.0.1
  port: 4000
  user: root
  password: "TargetPw-1"
mysql-instances:
  - source-id: mysql-replica-01
    block-allow-list: instance
    mydumper-thread: 4
  - source-id: mysql-replica-02
    block-allow-list: instance
    mydumper-thread: 4
block-allow-list:
  instance:
    do-dbs: ["~^dmctl"]
    do-tables:
      - db-name: dmctl
        tbl-name: t_1
""")

# The shape of task_advanced.yaml without what the OpenAPI cannot express (ignore-dbs, Do filters).
ADVANCED = yaml.safe_load("""
name: test
task-mode: all
is-sharding: true
meta-schema: dm_meta
enable-heartbeat: false
target-database: {host: 192.168.0.1, port: 4000, user: root, password: ""}
mysql-instances:
  - source-id: instance118-4306
    meta: {binlog-name: mysql-bin.000001, binlog-pos: 4}
    route-rules: [user-route-rules-schema, user-route-rules]
    filter-rules: [user-filter-1]
    block-allow-list: instance
    mydumper-config-name: global
    loader-config-name: global
    syncer-config-name: global
  - source-id: instance118-5306
    meta: {binlog-name: mysql-bin.000001, binlog-pos: 320}
    route-rules: [user-route-rules-schema, user-route-rules]
    block-allow-list: instance
    mydumper: {threads: 4, chunk-filesize: 64, skip-tz-utc: true, extra-args: "--consistency none"}
    loader: {pool-size: 16, dir: ./dumped_data}
    syncer: {worker-count: 16, batch: 100}
routes:
  user-route-rules-schema: {schema-pattern: "test_*", target-schema: test}
  user-route-rules: {schema-pattern: "test_*", table-pattern: "t_*", target-schema: test, target-table: t}
filters:
  user-filter-1:
    schema-pattern: "test_*"
    table-pattern: "t_*"
    events: ["truncate table", "drop table"]
    sql-pattern: ["^DROP\\\\s+PROCEDURE"]
    action: Ignore
block-allow-list:
  instance:
    do-dbs: ["~^test.*", "do"]
mydumpers:
  global: {threads: 4, chunk-filesize: 64, skip-tz-utc: true, extra-args: "--consistency none"}
loaders:
  global: {pool-size: 16, dir: ./dumped_data}
syncers:
  global: {worker-count: 16, batch: 100}
""")


def convert(doc):
    return cfg.to_openapi_task(copy.deepcopy(doc))


def test_basic_task_becomes_do_rules_per_source():
    task, warnings = convert(BASIC)
    assert warnings == []
    assert task["name"] == "test" and task["task_mode"] == "all" and task["meta_schema"] == "dm_meta"
    assert task["target_config"] == {"host": "127.0.0.1", "port": 4000, "user": "root", "password": "TargetPw-1"}
    assert [c["source_name"] for c in task["source_config"]["source_conf"]] == ["mysql-replica-01", "mysql-replica-02"]
    rules = [(r["source"]["source_name"], r["source"]["schema"], r["source"]["table"]) for r in task["table_migrate_rule"]]
    assert rules == [("mysql-replica-01", "~^dmctl", ""), ("mysql-replica-01", "dmctl", "t_1"),
                     ("mysql-replica-02", "~^dmctl", ""), ("mysql-replica-02", "dmctl", "t_1")]
    assert task["source_config"]["full_migrate_conf"] == {"export_threads": 4}
    assert "shard_mode" not in task


def test_advanced_task_routes_filters_meta_and_units():
    task, warnings = convert(ADVANCED)
    assert task["shard_mode"] == "pessimistic"  # is-sharding: true, as DM's adjust does
    assert any("enable-heartbeat" in w for w in warnings) is False  # false is not worth a warning
    assert any("chunk-filesize" in w for w in warnings)
    conf = dict((c["source_name"], c) for c in task["source_config"]["source_conf"])
    assert conf["instance118-5306"] == {"source_name": "instance118-5306", "binlog_name": "mysql-bin.000001",
                                        "binlog_pos": 320}
    first = [r for r in task["table_migrate_rule"] if r["source"]["source_name"] == "instance118-4306"]
    assert first[0] == {"source": {"source_name": "instance118-4306", "schema": "test_*", "table": ""},
                        "target": {"schema": "test"}}
    assert first[1]["target"] == {"schema": "test", "table": "t"}
    assert first[1]["binlog_filter_rule"] == ["user-filter-1"]  # same schema/table pattern as the filter
    assert task["binlog_filter_rule"] == {"user-filter-1": {"ignore_event": ["truncate table", "drop table"],
                                                            "ignore_sql": ["^DROP\\s+PROCEDURE"]}}
    full = task["source_config"]["full_migrate_conf"]
    assert full == {"export_threads": 4, "consistency": "none", "import_threads": 16, "data_dir": "./dumped_data"}
    assert task["source_config"]["incr_migrate_conf"] == {"repl_threads": 16, "repl_batch": 100}


def test_filter_without_matching_rule_applies_to_all_rules_with_a_warning():
    doc = copy.deepcopy(ADVANCED)
    doc["filters"]["user-filter-1"]["schema-pattern"] = "other"
    task, warnings = convert(doc)
    first = [r for r in task["table_migrate_rule"] if r["source"]["source_name"] == "instance118-4306"]
    assert all(r["binlog_filter_rule"] == ["user-filter-1"] for r in first)
    assert any("matches no rule" in w for w in warnings)


@pytest.mark.parametrize("mutate, code, words", [
    (lambda d: d.update({"expression-filter": {"e": {"schema": "a"}}}), "DM_TASK_UNSUPPORTED", "expression-filter"),
    (lambda d: d.update({"validators": {"v": {"mode": "full"}}}), "DM_TASK_UNSUPPORTED", "validators"),
    (lambda d: d.update({"column-mappings": {"c": {}}}), "DM_TASK_UNSUPPORTED", "column-mappings"),
    (lambda d: d["block-allow-list"]["instance"].update({"ignore-dbs": ["mysql"]}), "DM_TASK_UNSUPPORTED", "ignore-dbs"),
    (lambda d: d["filters"]["user-filter-1"].update({"action": "Do"}), "DM_TASK_UNSUPPORTED", "action Do"),
    (lambda d: d["mysql-instances"][1]["syncer"].update({"worker-count": 32}), "DM_TASK_UNSUPPORTED", "syncer"),
    (lambda d: d.update({"task-mode": "load&sync"}), "DM_TASK_UNSUPPORTED", "load&sync"),
    (lambda d: d.update({"task-mode": "sometimes"}), "DM_TASK_INVALID", "task-mode"),
    (lambda d: d.pop("name"), "DM_TASK_INVALID", "name"),
    (lambda d: d.update({"mysql-instances": []}), "DM_TASK_INVALID", "mysql-instances"),
    (lambda d: d.update({"colour": "blue"}), "DM_TASK_INVALID", "unknown key colour"),
    (lambda d: d["mysql-instances"][0].update({"route-rules": ["nope"]}), "DM_TASK_INVALID", "nope"),
    (lambda d: d["mysql-instances"][1].update({"source-id": "instance118-4306"}), "DM_TASK_INVALID", "twice"),
])
def test_bad_task_yaml_is_refused_with_a_code(mutate, code, words):
    doc = copy.deepcopy(ADVANCED)
    mutate(doc)
    with pytest.raises(TidbOpsError) as caught:
        convert(doc)
    assert caught.value.code == code and words in caught.value.msg


def test_openapi_model_passes_through_validated():
    task, _warnings = convert(BASIC)
    again, warnings = cfg.to_openapi_task(dict(task, status_list=[{"stage": "Running"}]))
    assert warnings == [] and "status_list" not in again and again["table_migrate_rule"] == task["table_migrate_rule"]
    broken = copy.deepcopy(task)
    broken["table_migrate_rule"][0]["binlog_filter_rule"] = ["missing"]
    with pytest.raises(TidbOpsError) as caught:
        cfg.to_openapi_task(broken)
    assert caught.value.code == "DM_TASK_INVALID"


def as_dm_returns_it(task):
    """What GET /tasks/{name} gives back for a task created from `task` (task_converters.go):
    filters renamed per source and attached to every rule of the source, routes first, defaults
    filled in, data_dir with the task suffix trimmed, rules in another order."""
    returned = copy.deepcopy(task)
    names = {}
    for rule in returned["table_migrate_rule"]:
        source = rule["source"]["source_name"]
        for name in rule.pop("binlog_filter_rule", []):
            names.setdefault(source, []).append(name)
    filters = {}
    for source, used in names.items():
        for index, name in enumerate(used):
            filters["%s-filter-rule-%d" % (source, index)] = task["binlog_filter_rule"][name]
        for rule in returned["table_migrate_rule"]:
            if rule["source"]["source_name"] == source:
                rule["binlog_filter_rule"] = ["%s-filter-rule-%d" % (source, i) for i in range(len(used))]
    if filters:
        returned["binlog_filter_rule"] = filters
    returned["table_migrate_rule"].reverse()
    returned["source_config"]["source_conf"].reverse()
    for conf in returned["source_config"]["source_conf"]:
        conf.setdefault("binlog_gtid", "")
        conf.setdefault("binlog_name", "")
        conf.setdefault("binlog_pos", 0)
    full = returned["source_config"].setdefault("full_migrate_conf", {})
    full.setdefault("export_threads", 4)
    full.setdefault("import_threads", 16)
    full["data_dir"] = full.get("data_dir", "./dumped_data")
    full.setdefault("import_mode", "logical")
    returned["source_config"]["incr_migrate_conf"] = dict({"repl_threads": 16, "repl_batch": 100, "safe_mode": False},
                                                          **returned["source_config"].get("incr_migrate_conf", {}))
    returned["strict_optimistic_shard_mode"] = False
    returned["status_list"] = [{"source_name": "x", "stage": "Paused"}]
    return returned


@pytest.mark.parametrize("doc", [BASIC, ADVANCED])
def test_a_task_read_back_has_no_drift(doc):
    task, _warnings = convert(doc)
    assert cfg.changed_fields(cfg.normalize_task(task), cfg.normalize_task(as_dm_returns_it(task))) == []


def test_block_allow_change_is_updatable_and_target_change_is_not():
    task, _warnings = convert(BASIC)
    actual = as_dm_returns_it(task)
    wanted = copy.deepcopy(task)
    wanted["table_migrate_rule"].pop()
    fields = cfg.changed_fields(cfg.normalize_task(wanted), cfg.normalize_task(actual))
    assert fields == ["table_migrate_rule"] and cfg.not_updatable(fields) == []
    wanted["target_config"]["host"] = "10.0.0.9"
    wanted["source_config"]["incr_migrate_conf"] = {"repl_threads": 32, "safe_mode": True}
    fields = cfg.changed_fields(cfg.normalize_task(wanted), cfg.normalize_task(actual))
    assert fields == ["incr_migrate_conf.repl_threads", "incr_migrate_conf.safe_mode", "table_migrate_rule",
                      "target_config.host"]
    assert cfg.not_updatable(fields) == ["incr_migrate_conf.safe_mode", "target_config.host"]


def test_on_duplicate_is_compared_as_dm_applies_it():
    task, _warnings = convert(BASIC)
    actual = as_dm_returns_it(task)
    wanted = copy.deepcopy(task)
    wanted["on_duplicate"] = "error"  # DM takes it from full_migrate_conf.on_duplicate_logical only
    wanted["source_config"]["full_migrate_conf"]["on_duplicate_logical"] = "replace"
    assert cfg.changed_fields(cfg.normalize_task(wanted), cfg.normalize_task(actual)) == []


def test_passwords_are_compared_only_when_readable_and_masked_on_return():
    task, _warnings = convert(BASIC)
    actual = as_dm_returns_it(task)
    assert not cfg.password_changed(task, actual)
    actual["target_config"]["password"] = "other"
    assert cfg.password_changed(task, actual)
    actual["target_config"]["password"] = cfg.MASK
    assert not cfg.password_changed(task, actual)
    shown = cfg.masked_task(task)
    assert shown["target_config"]["password"] == cfg.MASK and task["target_config"]["password"] == "TargetPw-1"
    assert "TargetPw-1" not in yaml.safe_dump(cfg.to_dmctl_yaml(task))
    assert "TargetPw-1" not in yaml.safe_dump(cfg.normalize_task(task))


@pytest.mark.parametrize("doc", [BASIC, ADVANCED])
def test_dmctl_yaml_of_a_task_converts_back_to_the_same_task(doc):
    task, _warnings = convert(doc)
    back = cfg.to_dmctl_yaml(as_dm_returns_it(task), mask=False)
    again, _warnings = cfg.to_openapi_task(back)
    assert cfg.changed_fields(cfg.normalize_task(task), cfg.normalize_task(again)) == []


def test_target_security_files_become_contents():
    doc = copy.deepcopy(BASIC)
    doc["target-database"]["security"] = {"ssl-ca": "/ca.pem", "cert-allowed-cn": ["tidb"]}
    task, _warnings = cfg.to_openapi_task(doc, read_file=lambda path: "PEM of %s" % path)
    assert task["target_config"]["security"] == {"ssl_ca_content": "PEM of /ca.pem", "ssl_cert_content": "",
                                                 "ssl_key_content": "", "cert_allowed_cn": ["tidb"]}


def test_dmctl_yaml_keeps_on_duplicate_read_back_at_the_top_level_only():
    doc = copy.deepcopy(BASIC)
    doc["loaders"] = {"global": {"on-duplicate-logical": "error"}}
    for instance in doc["mysql-instances"]:
        instance["loader-config-name"] = "global"
    task, _warnings = convert(doc)
    actual = as_dm_returns_it(task)
    # DM answers on_duplicate from the loader's setting; full_migrate_conf does not carry it
    actual["on_duplicate"] = "error"
    actual["source_config"]["full_migrate_conf"].pop("on_duplicate_logical", None)
    back = cfg.to_dmctl_yaml(actual, mask=False)
    assert back["loaders"]["global"]["on-duplicate-logical"] == "error"
    again, _warnings = cfg.to_openapi_task(back)
    assert cfg.changed_fields(cfg.normalize_task(task), cfg.normalize_task(again)) == []
