"""The DM-master stand-in over HTTP: sources, tasks, the quirks of DM's OpenAPI, and real
migrations from the sandbox's upstream MariaDB into a plain MariaDB target."""
import json
import urllib.error
import urllib.request

import pymysql
import pytest

from tests.sandbox import procs


def api(env, method, path, body=None):
    """(status, decoded JSON or raw text) of one request to the DM-master stand-in."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(env["dm_master"]["url"] + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw) if raw else raw
    except ValueError:
        return status, raw.decode()


def upstream_sql(env, *statements):
    """Run statements upstream as the admin account (what tests use to write rows)."""
    up = env["upstream_mysql"]
    with pymysql.connect(host=up["host"], port=up["port"], user=up["admin_user"], password=up["admin_password"],
                         autocommit=True) as conn, conn.cursor() as cur:
        for sql in statements:
            cur.execute(sql)
        return cur.fetchall()


def target_sql(db, sql):
    with pymysql.connect(host="127.0.0.1", port=db.port, user="root", password="", autocommit=True) as conn:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()


def eventually(check, timeout=20):
    """Poll check() with short growing intervals until it returns a truthy value."""
    result = []
    assert procs.wait_until(lambda: result.append(check()) or result[-1], timeout, max_interval=0.2), result[-1:]
    return result[-1]


def source_body(env, name, **over):
    up = env["upstream_mysql"]
    source = {"source_name": name, "host": up["host"], "port": up["port"], "user": up["user"],
              "password": up["password"], "enable_gtid": False, "enable": True}
    source.update(over)
    return {"source": source}


def task_body(db, name, source, rules, mode="all", **over):
    task = {"name": name, "task_mode": mode, "enhance_online_schema_change": True, "on_duplicate": "replace",
            "target_config": {"host": "127.0.0.1", "port": db.port, "user": "root", "password": ""},
            "table_migrate_rule": [{"source": {"source_name": source, "schema": s, "table": t}, **({"target": tgt} if tgt else {})}
                                   for s, t, tgt in rules],
            "source_config": {"source_conf": [{"source_name": source}]}}
    task.update(over)
    return {"task": task}


@pytest.fixture(scope="module")
def env(sandbox):
    upstream_sql(sandbox, "DROP DATABASE IF EXISTS shop", "CREATE DATABASE shop",
                 "CREATE TABLE shop.orders (id INT PRIMARY KEY, item VARCHAR(20), qty INT)",
                 "CREATE TABLE shop.users (id INT PRIMARY KEY, name VARCHAR(20))",
                 "INSERT INTO shop.orders VALUES (1, 'pen', 2), (2, 'ink', 5)",
                 "INSERT INTO shop.users VALUES (1, 'ann')")
    assert api(sandbox, "POST", "/api/v1/sources", source_body(sandbox, "mysql-01"))[0] == 201
    return sandbox


def test_cluster_endpoints_and_missing_things(env):
    status, masters = api(env, "GET", "/api/v1/cluster/masters")
    assert status == 200 and masters["data"][0]["leader"] is True and masters["total"] == 1
    status, workers = api(env, "GET", "/api/v1/cluster/workers")
    assert status == 200 and {w["name"] for w in workers["data"]} == {"worker1", "worker2"}
    assert {"bound", "free"} == {w["bound_stage"] for w in workers["data"]}
    assert api(env, "DELETE", "/api/v1/cluster/workers/worker1")[1]["error_code"] == 46005
    assert api(env, "GET", "/api/v1/cluster/info")[0] == 200
    # missing source: a bare 404; missing task: 400 46018; start/stop of a missing task: 200
    assert api(env, "GET", "/api/v1/sources/nope") == (404, b"")
    status, body = api(env, "GET", "/api/v1/tasks/nope")
    assert status == 400 and body["error_code"] == 46018 and "task with name nope not exist" in body["error_msg"]
    assert api(env, "GET", "/api/v1/tasks/nope/status")[1]["error_code"] == 46018
    assert api(env, "POST", "/api/v1/tasks/nope/start")[0] == 200
    assert api(env, "POST", "/api/v1/tasks/nope/stop", {})[0] == 200
    assert api(env, "GET", "/api/v1/nothing") == (404, "404 page not found")


def test_sources(env):
    status, body = api(env, "POST", "/api/v1/sources", source_body(env, "bad", password="wrong"))
    assert status == 400 and body["error_code"] == 10001
    assert body["error_msg"].startswith("[code=10001:class=database:scope=upstream:level=high], Message: database driver error")
    assert "Error 1045 (28000)" in body["error_msg"]
    status, body = api(env, "POST", "/api/v1/sources", source_body(env, "mysql-01"))
    assert status == 400 and body["error_code"] == 46007
    status, source = api(env, "GET", "/api/v1/sources/mysql-01?with_status=true")
    assert status == 200 and source["password"] == "******" and source["flavor"] == "mariadb"
    assert source["status_list"][0]["worker_name"] in ("worker1", "worker2")
    # PUT without a password keeps the stored one (a wrong one would fail the connection check)
    update = source_body(env, "mysql-01", enable_gtid=False)
    del update["source"]["password"]
    assert api(env, "PUT", "/api/v1/sources/mysql-01", update)[0] == 200
    # spec validation: missing required field, bad type
    bad = source_body(env, "x")
    del bad["source"]["host"]
    status, body = api(env, "POST", "/api/v1/sources", bad)
    assert status == 400 and "error" in body and '"host" is missing' in body["error"]
    status, body = api(env, "GET", "/api/v1/sources?with_status=maybe")
    assert status == 400 and "invalid boolean" in body["error"]
    assert api(env, "GET", "/api/v1/sources")[1]["total"] == 1


def test_all_mode_task_lifecycle(env, mariadb):
    target_sql(mariadb, "DROP DATABASE IF EXISTS shop_copy")
    body = task_body(mariadb, "t_all", "mysql-01", [("shop", "*", {"schema": "shop_copy"})])
    body["task"]["shard_mode"] = "pessimistic_xxd"
    assert "error" in api(env, "POST", "/api/v1/tasks", body)[1]  # bad enum: the validator's 400
    del body["task"]["shard_mode"]
    body["task"]["source_config"]["source_conf"] = [{"source_name": "ghost"}]
    assert api(env, "POST", "/api/v1/tasks", body)[1]["error_code"] == 46008
    body = task_body(mariadb, "t_all", "mysql-01", [("shop", "*", {"schema": "shop_copy"})])
    status, created = api(env, "POST", "/api/v1/tasks", body)
    assert status == 201, created
    # MariaDB upstream: DM's version check warns
    assert created["check_result"].startswith("fail to check synchronization configuration with type: "
                                              "no errors but some warnings")
    assert api(env, "POST", "/api/v1/tasks", body)[1]["error_code"] == 46014
    status, st = api(env, "GET", "/api/v1/tasks/t_all/status")
    assert st["data"][0]["stage"] == "Stopped" and st["data"][0]["unit"] == "Dump"
    assert api(env, "POST", "/api/v1/tasks/t_all/start")[0] == 200
    eventually(lambda: target_sql(mariadb, "SELECT COUNT(*) FROM shop_copy.orders")[0][0] == 2
               if target_sql(mariadb, "SHOW DATABASES LIKE 'shop_copy'") else False)
    eventually(lambda: api(env, "GET", "/api/v1/tasks/t_all/status")[1]["data"][0]["unit"] == "Sync")
    upstream_sql(env, "INSERT INTO shop.orders VALUES (3, 'pad', 1)", "UPDATE shop.orders SET qty = 9 WHERE id = 1",
                 "DELETE FROM shop.orders WHERE id = 2", "INSERT INTO shop.users VALUES (2, 'bob')")
    eventually(lambda: target_sql(mariadb, "SELECT id, qty FROM shop_copy.orders ORDER BY id") == ((1, 9), (3, 1)))
    eventually(lambda: target_sql(mariadb, "SELECT COUNT(*) FROM shop_copy.users")[0][0] == 2)
    # running: PUT refused, source update refused, source delete refused
    assert api(env, "PUT", "/api/v1/tasks/t_all", body)[1]["error_code"] == 46035
    assert api(env, "PUT", "/api/v1/sources/mysql-01", source_body(env, "mysql-01"))[1]["error_code"] == 46025
    assert api(env, "DELETE", "/api/v1/sources/mysql-01")[1]["error_code"] == 46010
    assert api(env, "DELETE", "/api/v1/tasks/t_all")[1]["error_code"] == 49001
    # stop -> Paused; rows written meanwhile arrive after start, once
    assert api(env, "POST", "/api/v1/tasks/t_all/stop")[0] == 200
    assert api(env, "GET", "/api/v1/tasks/t_all/status")[1]["data"][0]["stage"] == "Paused"
    upstream_sql(env, "INSERT INTO shop.orders VALUES (4, 'cup', 4)", "INSERT INTO shop.users VALUES (3, 'cid')")
    # a non-updatable change, then a block-allow list change (orders only)
    changed = json.loads(json.dumps(body))
    changed["task"]["meta_schema"] = "other_meta"
    status, err = api(env, "PUT", "/api/v1/tasks/t_all", changed)
    assert err["error_code"] == 46035 and "can not update because [code=40081" in err["error_msg"], err
    narrowed = task_body(mariadb, "t_all", "mysql-01", [("shop", "orders", {"schema": "shop_copy"})])
    status, updated = api(env, "PUT", "/api/v1/tasks/t_all", narrowed)
    assert status == 200, updated
    assert api(env, "POST", "/api/v1/tasks/t_all/start", {})[0] == 200
    upstream_sql(env, "INSERT INTO shop.orders VALUES (5, 'box', 5)", "INSERT INTO shop.users VALUES (4, 'dan')")
    eventually(lambda: target_sql(mariadb, "SELECT id FROM shop_copy.orders ORDER BY id") == ((1,), (3,), (4,), (5,)))
    eventually(lambda: api(env, "GET", "/api/v1/tasks/t_all/status")[1]["data"][0]["sync_status"]["synced"])
    assert target_sql(mariadb, "SELECT id FROM shop_copy.users ORDER BY id") == ((1,), (2,))
    # GET returns the normalized task
    status, task = api(env, "GET", "/api/v1/tasks/t_all")
    assert task["meta_schema"] == "dm_meta" and task["source_config"]["full_migrate_conf"]["data_dir"] == "./dumped_data"
    assert task["source_config"]["incr_migrate_conf"] == {"repl_batch": 100, "repl_threads": 16, "safe_mode": False}
    assert task["table_migrate_rule"] == narrowed["task"]["table_migrate_rule"]
    assert task["target_config"]["password"] == ""
    # delete with keep_meta keeps the checkpoint; without it drops it
    assert api(env, "POST", "/api/v1/tasks/t_all/stop")[0] == 200
    assert api(env, "DELETE", "/api/v1/tasks/t_all?keep_meta=true")[0] == 204
    assert target_sql(mariadb, "SHOW TABLES FROM dm_meta LIKE 't_all_syncer_checkpoint'")
    assert api(env, "POST", "/api/v1/tasks", narrowed)[0] == 201
    assert api(env, "GET", "/api/v1/tasks/t_all/status")[1]["data"][0]["unit"] == "Sync"
    assert api(env, "DELETE", "/api/v1/tasks/t_all")[0] == 204
    assert not target_sql(mariadb, "SHOW TABLES FROM dm_meta LIKE 't_all_%'")


def test_full_and_incremental_modes(env, mariadb):
    target_sql(mariadb, "DROP DATABASE IF EXISTS shop_full")
    body = task_body(mariadb, "t_full", "mysql-01", [("shop", "users", {"schema": "shop_full"})], mode="full",
                     ignore_checking_items=["version"])
    status, created = api(env, "POST", "/api/v1/tasks", body)
    assert status == 201 and created["check_result"] == "pre-check is passed. ", created
    api(env, "POST", "/api/v1/tasks/t_full/start")
    eventually(lambda: api(env, "GET", "/api/v1/tasks/t_full/status")[1]["data"][0]["stage"] == "Finished")
    assert target_sql(mariadb, "SELECT COUNT(*) FROM shop_full.users")[0][0] == upstream_sql(
        env, "SELECT COUNT(*) FROM shop.users")[0][0]
    assert api(env, "DELETE", "/api/v1/tasks/t_full?force=true")[0] == 204
    body = task_body(mariadb, "t_incr", "mysql-01", [("shop", "orders", {"schema": "shop_incr"})], mode="incremental",
                     ignore_checking_items=["all"])
    status, created = api(env, "POST", "/api/v1/tasks", body)
    assert status == 201 and created["check_result"] == ""
    assert api(env, "POST", "/api/v1/tasks/t_incr/start")[1]["error_code"] == 20022
    api(env, "DELETE", "/api/v1/tasks/t_incr")
    name, pos = upstream_sql(env, "SHOW MASTER STATUS")[0][:2]
    body["task"]["source_config"]["source_conf"][0].update(binlog_name=name, binlog_pos=pos)
    assert api(env, "POST", "/api/v1/tasks", body)[0] == 201
    assert api(env, "POST", "/api/v1/tasks/t_incr/start")[0] == 200
    upstream_sql(env, "INSERT INTO shop.orders VALUES (10, 'new', 1)")
    eventually(lambda: target_sql(mariadb, "SHOW DATABASES LIKE 'shop_incr'")
               and target_sql(mariadb, "SELECT id FROM shop_incr.orders") == ((10,),))
    assert api(env, "DELETE", "/api/v1/tasks/t_incr?force=true")[0] == 204


def test_precheck_failure_and_disabled_source(env, mariadb):
    upstream_sql(env, "CREATE USER IF NOT EXISTS 'weak'@'%' IDENTIFIED BY 'weak'",
                 "GRANT SELECT, RELOAD ON *.* TO 'weak'@'%'")
    assert api(env, "POST", "/api/v1/sources", source_body(env, "weak-src", user="weak", password="weak",
                                                           enable=False))[0] == 201
    body = task_body(mariadb, "t_weak", "weak-src", [("shop", "*", None)])
    status, err = api(env, "POST", "/api/v1/tasks", body)
    assert status == 400 and err["error_code"] == 26005, err
    assert err["error_msg"].startswith("[code=26005:class=dm-master:scope=internal:level=medium], Message: fail to check "
                                       "synchronization configuration with type: check was failed, please see detail")
    assert "lack of REPLICATION CLIENT global (*.*) privilege; lack of REPLICATION SLAVE global (*.*) privilege" in err["error_msg"]
    body["task"]["ignore_checking_items"] = ["replication_privilege"]
    assert api(env, "POST", "/api/v1/tasks", body)[0] == 201
    status, err = api(env, "POST", "/api/v1/tasks/t_weak/start")
    assert err["error_code"] == 38058 and "source: weak-src is not enabled" in err["error_msg"]
    assert api(env, "DELETE", "/api/v1/sources/weak-src?force=true")[0] == 204
    assert api(env, "GET", "/api/v1/tasks/t_weak")[1]["error_code"] == 46018


def test_converters(env, mariadb):
    body = task_body(mariadb, "t_conv", "mysql-01", [("shop", "orders", {"schema": "s2", "table": "o2"})],
                     binlog_filter_rule={"nodelete": {"ignore_event": ["delete"]}})
    body["task"]["table_migrate_rule"][0]["binlog_filter_rule"] = ["nodelete"]
    status, out = api(env, "POST", "/api/v1/tasks/converters", body)
    assert status == 200, out
    assert "source-id: mysql-01" in out["task_config_file"] and "target-schema: s2" in out["task_config_file"]
    status, back = api(env, "POST", "/api/v1/tasks/converters", {"task_config_file": out["task_config_file"]})
    assert status == 200, back
    assert back["task"]["binlog_filter_rule"] == {"mysql-01-filter-rule-0": {"ignore_event": ["delete"]}}
    assert back["task"]["table_migrate_rule"][0]["target"] == {"schema": "s2", "table": "o2"}
    status, err = api(env, "POST", "/api/v1/tasks/converters", {})
    assert err["error_code"] == 49001
