"""DM (data migration) through ansible-playbook against the sandbox's DM-master stand-in: an
upstream MariaDB migrated into a sandbox TiDB cluster by an all-mode task, its life cycle (each
step in check mode, for real and again), the update path, bad input with DM's codes, the dm_task
role with its rescue path, and the passwords nowhere."""
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pymysql
import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.integration.conftest import PLAYBOOKS, PlaybookRun
from tests.sandbox.procs import wait_until

VERSION = "v7.5.1"
SOURCE = "mariadb-01"
TASK = "dmit"
DB = "dmapp"


def run_playbook(ansible_env, sandbox, playbook_file, check=False, **extra_vars):
    """As the playbook fixture, for module-scoped fixtures."""
    extra = dict(sandbox=sandbox)
    extra.update(extra_vars)
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
            os.path.join(PLAYBOOKS, playbook_file), "-e", json.dumps(extra)]
    if check:
        argv.append("--check")
    proc = subprocess.run(argv, env=ansible_env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
                          check=False)
    return PlaybookRun(proc)


@pytest.fixture(scope="module")
def target(sandbox, ansible_env):
    """One started 1 PD / 1 TiKV / 1 TiDB cluster, the migration target of every test here, with
    an account 'ops' with a password (the task's target password)."""
    out = subprocess.run([sys.executable, "-m", "tests.sandbox", "topology", "--pd", "1", "--tikv", "1", "--tidb", "1"],
                         cwd=REPO_ROOT, check=True, capture_output=True, text=True).stdout
    topo = yaml.safe_load(out)
    name = "dm%d" % (os.getpid() % 100000)
    port = topo["tidb_servers"][0]["port"]
    password = "Dm-Target-Pw-%d" % os.getpid()
    run = run_playbook(ansible_env, sandbox, "cluster_up.yml", name=name, topology=topo, version=VERSION,
                       tidb_port=port, rows=1, ops_password=password)
    assert run.rc == 0, run.failed() or run.stderr
    yield dict(name=name, port=port, user="ops", password=password)
    run_playbook(ansible_env, sandbox, "cluster_remove.yml", name=name)


@pytest.fixture
def dm_clean(sandbox):
    """Every DM task and source removed after the test (force), so tests do not share them."""
    yield
    for task in api(sandbox, "GET", "/tasks").get("data") or []:
        api(sandbox, "DELETE", "/tasks/%s?force=true" % task["name"])
    for source in api(sandbox, "GET", "/sources").get("data") or []:
        api(sandbox, "DELETE", "/sources/%s?force=true" % source["source_name"])


def api(sandbox, method, path):
    """(A DM-master OpenAPI answer as JSON, or {} for an empty or error answer."""
    request = urllib.request.Request(sandbox["dm_master"]["url"] + "/api/v1" + path, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return dict(json.loads(body), http_status=exc.code)
        except ValueError:
            return dict(http_status=exc.code)
    return json.loads(body) if body else {}


def upstream(sandbox, *statements):
    up = sandbox["upstream_mysql"]
    conn = pymysql.connect(host=up["host"], port=up["port"], user=up["admin_user"], password=up["admin_password"],
                           autocommit=True)
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


def rows(host, port, user, password, table):
    """The table's rows ordered by id, or None when it cannot be read (not there yet)."""
    try:
        conn = pymysql.connect(host=host, port=port, user=user, password=password, connect_timeout=5)
    except pymysql.MySQLError:
        return None
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT * FROM %s ORDER BY id" % table)
            return [tuple(str(v) for v in row) for row in cur.fetchall()]
    except pymysql.MySQLError:
        return None
    finally:
        conn.close()


def upstream_rows(sandbox, table):
    up = sandbox["upstream_mysql"]
    return rows(up["host"], up["port"], up["admin_user"], up["admin_password"], table)


def downstream_rows(target, table):
    return rows("127.0.0.1", target["port"], "root", "", table)


def in_sync(sandbox, target, tables, timeout=30):
    """True once every table reads the same rows downstream as upstream."""
    def same():
        return all(downstream_rows(target, t) == upstream_rows(sandbox, t) for t in tables)
    return wait_until(same, timeout, first_interval=0.1, max_interval=1.0)


def task_yaml(target, name=TASK, source=SOURCE, ba=None, **extra):
    """A dmctl task file's content (all mode)."""
    doc = {
        "name": name,
        "task-mode": "all",
        "meta-schema": "dm_meta",
        "ignore-checking-items": ["version"],
        "target-database": {"host": "127.0.0.1", "port": target["port"], "user": target["user"],
                            "password": target["password"]},
        "mysql-instances": [{"source-id": source, "block-allow-list": "ba-app", "mydumper-config-name": "global",
                             "loader-config-name": "global", "syncer-config-name": "global"}],
        "block-allow-list": {"ba-app": ba or {"do-dbs": [DB]}},
        "mydumpers": {"global": {"threads": 4}},
        "loaders": {"global": {"pool-size": 16, "dir": "./dumped_data"}},
        "syncers": {"global": {"worker-count": 16, "batch": 100}},
    }
    doc.update(extra)
    return yaml.safe_dump(doc, sort_keys=False)


def write(path, text):
    path.write_text(text)
    return str(path)


def secrets_absent(texts, *secrets):
    for secret in secrets:
        assert secret, "an empty secret proves nothing"
        for where, text in texts.items():
            assert secret not in text, "a password appears in %s" % where


def ansible_log(ansible_env):
    path = ansible_env["ANSIBLE_LOG_PATH"]
    if not os.path.exists(path):
        return ""
    with open(path, errors="replace") as handle:
        return handle.read()


@pytest.mark.usefixtures("dm_clean")
def test_dm_task_life_cycle(playbook, sandbox, target, tmp_path, ansible_env):
    upstream(sandbox,
             "DROP DATABASE IF EXISTS %s" % DB,
             "CREATE DATABASE %s" % DB,
             "CREATE TABLE %s.orders (id INT PRIMARY KEY, item VARCHAR(64), qty INT)" % DB,
             "CREATE TABLE %s.users (id INT PRIMARY KEY, name VARCHAR(64))" % DB,
             "INSERT INTO %s.orders VALUES (1, 'apple', 3), (2, 'pear', 5), (3, 'plum', 7)" % DB,
             "INSERT INTO %s.users VALUES (1, 'ana'), (2, 'bo')" % DB)
    tables = ["%s.orders" % DB, "%s.users" % DB]
    task_file = write(tmp_path / "task.yaml", task_yaml(target))
    dest = tmp_path / "got" / "task.yaml"
    dest.parent.mkdir()
    runs = []

    # -- create the source and the task, start it ------------------------------------------------
    run = playbook("dm_setup.yml", source_name=SOURCE, task_file=task_file, task_name=TASK, dest=str(dest))
    runs.append(run)
    assert run.rc == 0, run.failed() or run.stderr
    assert run.task("Source in check mode")["changed"] is True
    assert run.task("Source after check mode")["status"] == 404
    source = run.task("Source")
    assert source["changed"] is True and source["actions"] == ["create"]
    assert source["source"]["password"] == "******"
    assert run.task("Source again")["changed"] is False

    check = run.task("Check the task only")
    assert check["changed"] is False and check["check_method"] == "openapi"
    assert check["check"]["passed"] is True and check["check"]["error_total"] == 0
    assert run.task("Tasks after the check")["tasks"] == []  # the probe task is gone

    assert run.task("Task in check mode")["changed"] is True
    assert run.task("Task after check mode")["exists"] is False
    created = run.task("Task")
    assert created["changed"] is True and created["actions"] == ["create"]
    assert created["check"]["passed"] is True and created["stage"] == "Stopped"
    assert created["task"]["target_config"]["password"] == "******"
    again = run.task("Task again")
    assert again["changed"] is False and again["changed_fields"] == [], again["changed_fields"]

    assert run.task("Start in check mode")["changed"] is True
    assert run.task("Status after the check-mode start")["stage"] == "Stopped"
    started = run.task("Start")
    assert started["changed"] is True and started["actions"] == ["start"]
    assert started["stage"] == "Running", started["status"]
    assert run.task("Start again")["changed"] is False

    assert [t["name"] for t in run.task("Running tasks")["tasks"]] == [TASK]
    assert run.task("Stopped tasks")["tasks"] == []
    assert run.task("Tasks of another source")["tasks"] == []
    got = run.task("Task config to a file")
    assert got["changed"] is True and got["exists"] is True and got["stage"] == "Running"
    assert [s["source_name"] for s in got["status"]] == [SOURCE] and got["status"][0]["unit"] in ("Load", "Sync")
    saved = yaml.safe_load(dest.read_text())
    assert saved["name"] == TASK and saved["task-mode"] == "all"
    assert saved["target-database"]["password"] == "******"
    assert saved["mysql-instances"][0]["source-id"] == SOURCE
    assert run.task("Task config to a file again")["changed"] is False
    members = run.task("Members")
    assert members["leader"] == sandbox["dm_master"]["name"]
    assert [w["name"] for w in members["workers"]] == sandbox["dm_master"]["workers"]
    assert [w["name"] for w in run.task("Workers")["workers"]] == sandbox["dm_master"]["workers"]

    # -- the full copy, then the binlog ---------------------------------------------------------------
    assert in_sync(sandbox, target, tables), (downstream_rows(target, tables[0]), api(sandbox, "GET", "/tasks/%s/status" % TASK))
    upstream(sandbox,
             "INSERT INTO %s.orders VALUES (4, 'fig', 1), (5, 'kiwi', 2)" % DB,
             "UPDATE %s.orders SET qty = qty + 10 WHERE id IN (1, 4)" % DB,
             "DELETE FROM %s.orders WHERE id = 2" % DB,
             "INSERT INTO %s.users VALUES (3, 'cy')" % DB)
    assert in_sync(sandbox, target, tables), api(sandbox, "GET", "/tasks/%s/status" % TASK)
    assert [r[0] for r in downstream_rows(target, tables[0])] == ["1", "3", "4", "5"]

    # -- stop, change the block-allow list to orders only, start --------------------------------------
    new_file = write(tmp_path / "task-orders.yaml", task_yaml(
        target, ba={"do-tables": [{"db-name": DB, "tbl-name": "orders"}]}))
    run = playbook("dm_update.yml", task_file=new_file, task_name=TASK)
    runs.append(run)
    assert run.rc == 0, run.failed() or run.stderr
    assert run.task("Stop in check mode")["changed"] is True
    assert run.task("Status after the check-mode stop")["stage"] == "Running"
    stop = run.task("Stop")
    assert stop["changed"] is True and stop["stage"] == "Stopped"
    assert [s["stage"] for s in stop["status"]] == ["Paused"]
    assert run.task("Stop again")["changed"] is False
    assert [t["name"] for t in run.task("Paused tasks")["tasks"]] == [TASK]

    update_check = run.task("Update in check mode")
    assert update_check["changed"] is True and update_check["changed_fields"] == ["table_migrate_rule"]
    assert "orders" in update_check["diff"]["after"]
    rules = run.task("Config after the check-mode update")["task"]["table_migrate_rule"]
    assert [r["source"] for r in rules] == [{"source_name": SOURCE, "schema": DB, "table": ""}]
    update = run.task("Update")
    assert update["changed"] is True and update["actions"] == ["update"], update
    assert update["task"]["table_migrate_rule"][0]["source"]["table"] == "orders"
    assert update["stage"] == "Stopped"
    assert run.task("Update again")["changed"] is False
    assert run.task("Start the updated task in check mode")["changed"] is True
    assert run.task("Status after the check-mode restart")["stage"] == "Stopped"
    restart = run.task("Start the updated task")
    assert restart["changed"] is True and restart["stage"] == "Running"
    assert run.task("Start the updated task again")["changed"] is False

    users_before = downstream_rows(target, tables[1])
    upstream(sandbox,
             "INSERT INTO %s.users VALUES (4, 'dee')" % DB,
             "UPDATE %s.users SET name = 'ANA' WHERE id = 1" % DB,
             "INSERT INTO %s.orders VALUES (6, 'lime', 9)" % DB,
             "UPDATE %s.orders SET item = 'PLUM' WHERE id = 3" % DB)
    assert in_sync(sandbox, target, tables[:1]), api(sandbox, "GET", "/tasks/%s/status" % TASK)
    assert downstream_rows(target, tables[1]) == users_before  # no longer allowed: not followed
    assert upstream_rows(sandbox, tables[1]) != users_before

    # -- delete the task and the source ----------------------------------------------------------------
    run = playbook("dm_delete.yml", task_name=TASK, source_name=SOURCE)
    runs.append(run)
    assert run.rc == 0, run.failed() or run.stderr
    assert run.task("Delete the task in check mode")["changed"] is True
    assert run.task("Task after the check-mode delete")["exists"] is True
    deleted = run.task("Delete the task")
    assert deleted["changed"] is True and deleted["actions"] == ["stop", "delete"]
    assert run.task("Delete the task again")["changed"] is False
    assert run.task("Task after delete")["exists"] is False
    assert run.task("Delete the source in check mode")["changed"] is True
    assert run.task("Delete the source")["changed"] is True
    assert run.task("Delete the source again")["changed"] is False
    assert api(sandbox, "GET", "/sources/%s" % SOURCE)["http_status"] == 404

    texts = dict(("run %d %s" % (i, what), getattr(r, what)) for i, r in enumerate(runs) for what in ("stdout", "stderr"))
    texts.update({"ansible log": ansible_log(ansible_env), "task_info dest": dest.read_text()})
    secrets_absent(texts, sandbox["upstream_mysql"]["password"], target["password"])


@pytest.mark.usefixtures("dm_clean")
def test_dm_bad_input(playbook, sandbox, target, tmp_path, ansible_env):
    weak_password = "Weak-Pw-%d" % os.getpid()
    upstream(sandbox,
             "CREATE DATABASE IF NOT EXISTS %s" % DB,
             "CREATE TABLE IF NOT EXISTS %s.orders (id INT PRIMARY KEY, item VARCHAR(64), qty INT)" % DB,
             "CREATE USER IF NOT EXISTS 'dm_weak'@'%%' IDENTIFIED BY '%s'" % weak_password,
             "GRANT SELECT ON %s.* TO 'dm_weak'@'%%'" % DB)
    bad_enum = {"name": "bad-enum", "task_mode": "all", "on_duplicate": "overwrite",
                "enhance_online_schema_change": True, "table_migrate_rule": [],
                "target_config": {"host": "127.0.0.1", "port": target["port"], "user": target["user"],
                                  "password": target["password"]},
                "source_config": {"source_conf": [{"source_name": SOURCE}]}}
    files = dict(
        bad_yaml_file=write(tmp_path / "bad.yaml", "name: [unclosed\n  task-mode: all\n"),
        bad_mode_file=write(tmp_path / "mode.yaml", task_yaml(target, name="bad-mode", **{"task-mode": "everything"})),
        unknown_source_file=write(tmp_path / "unknown.yaml", task_yaml(target, name="unknown-src", source="no-such-src")),
        weak_file=write(tmp_path / "weak.yaml", task_yaml(target, name="weak", source="weak-01")),
        task_file=write(tmp_path / "task.yaml", task_yaml(target)),
        meta_file=write(tmp_path / "meta.yaml", task_yaml(target, **{"meta-schema": "dm_meta2"})),
        ba_file=write(tmp_path / "ba.yaml", task_yaml(target, ba={"do-tables": [{"db-name": DB, "tbl-name": "orders"}]})),
    )
    run = playbook("dm_errors.yml", source_name=SOURCE, weak_user="dm_weak", weak_password=weak_password,
                   bad_enum_task=bad_enum, task_name=TASK, **files)
    assert run.rc == 0, run.failed() or run.stderr

    wrong = run.task("Source with a wrong password")
    assert wrong["failed"] is True and wrong["error_code"] == "DM_SOURCE_INVALID" and wrong["dm_error_code"] == 10001
    assert "Access denied" in wrong["msg"]
    assert run.task("Source")["changed"] is True

    bad_yaml = run.task("Task file that is not YAML")
    assert bad_yaml["error_code"] == "DM_TASK_INVALID" and "not valid YAML" in bad_yaml["msg"]
    bad_mode = run.task("Task file with an unknown task-mode")
    assert bad_mode["error_code"] == "DM_TASK_INVALID" and "everything" in bad_mode["msg"]
    bad_enum = run.task("OpenAPI task with a value DM's validator refuses")
    assert bad_enum["error_code"] == "DM_TASK_INVALID" and "on_duplicate" in bad_enum["msg"], bad_enum
    unknown = run.task("Task of an unknown source")
    assert unknown["error_code"] == "DM_SOURCE_NOT_FOUND" and unknown["dm_error_code"] == 46008, unknown
    assert "no-such-src" in unknown["msg"]

    precheck = run.task("Task failing the precheck")
    assert precheck["error_code"] == "DM_TASK_CHECK_FAILED" and precheck["dm_error_code"] == 26005, precheck
    names = [e["name"] for e in precheck["check"]["errors"]]
    assert "source db replication privilege checker" in names, precheck["check"]
    assert precheck["check"]["passed"] is False and precheck["check"]["error_total"] >= 2
    check = run.task("Check only, failing")
    assert check["error_code"] == "DM_TASK_CHECK_FAILED" and check["check_method"] == "openapi"
    assert len(check["check"]["errors"]) == 1 and check["check"]["error_total"] >= 2
    assert run.task("Tasks after the failures")["tasks"] == []

    assert run.task("Task")["changed"] is True
    meta = run.task("Change the meta schema")
    assert meta["error_code"] == "DM_TASK_NOT_UPDATABLE" and "meta_schema" in meta["msg"]
    assert meta["changed_fields"] == ["meta_schema"] and meta["changed"] is False
    ba = run.task("Change the block-allow list of a task never started")
    assert ba["error_code"] == "DM_TASK_NOT_UPDATABLE" and ba["dm_error_code"] == 46035, ba
    assert "sync unit" in ba["msg"]
    assert run.task("Change the meta schema, recreating in check mode")["changed"] is True
    recreated = run.task("Change the meta schema, recreating")
    assert recreated["changed"] is True and recreated["actions"] == ["recreate"]
    assert recreated["task"]["meta_schema"] == "dm_meta2"
    assert run.task("Change the meta schema, recreating again")["changed"] is False
    missing = run.task("Start a task that does not exist")
    assert missing["error_code"] == "DM_TASK_NOT_FOUND"

    texts = {"stdout": run.stdout, "stderr": run.stderr, "ansible log": ansible_log(ansible_env)}
    secrets_absent(texts, sandbox["upstream_mysql"]["password"], target["password"], weak_password)


def all_results(run, name):
    return [result for task_name, result in run.results if task_name == name or task_name.endswith(" : " + name)]


@pytest.mark.usefixtures("dm_clean")
def test_dm_task_role(playbook, sandbox, target, tmp_path, ansible_env):
    upstream(sandbox,
             "DROP DATABASE IF EXISTS dmrole",
             "CREATE DATABASE dmrole",
             "CREATE TABLE dmrole.t (id INT PRIMARY KEY, v VARCHAR(16))",
             "INSERT INTO dmrole.t VALUES (1, 'a'), (2, 'b')",
             "DROP DATABASE IF EXISTS dmclash",
             "CREATE DATABASE dmclash",
             "CREATE TABLE dmclash.t (id INT PRIMARY KEY, v VARCHAR(16))",
             "INSERT INTO dmclash.t VALUES (1, 'upstream')")
    # A row downstream with the same key: the full copy with on-duplicate error pauses with an error.
    conn = pymysql.connect(host="127.0.0.1", port=target["port"], user="root", password="", autocommit=True)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE DATABASE IF NOT EXISTS dmclash")
        cur.execute("CREATE TABLE IF NOT EXISTS dmclash.t (id INT PRIMARY KEY, v VARCHAR(16))")
        cur.execute("REPLACE INTO dmclash.t VALUES (1, 'downstream')")
    up = sandbox["upstream_mysql"]
    source = dict(name=SOURCE, host=up["host"], port=up["port"], user=up["user"], password=up["password"])
    task_file = write(tmp_path / "role.yaml", task_yaml(target, name="dmrole", ba={"do-dbs": ["dmrole"]}))
    failing = write(tmp_path / "clash.yaml", task_yaml(target, name="dmclash", ba={"do-dbs": ["dmclash"]},
                                                       **{"task-mode": "full",
                                                          "loaders": {"global": {"on-duplicate-logical": "error"}}}))
    extra = dict(source=source, task_file=task_file, task_name="dmrole", failing_task_file=failing,
                 failing_task_name="dmclash")

    check = playbook("dm_role.yml", check=True, **extra)
    assert check.rc == 0, check.failed() or check.stderr
    assert api(sandbox, "GET", "/tasks").get("data") == [] and api(sandbox, "GET", "/sources").get("data") == []

    run = playbook("dm_role.yml", **extra)
    assert run.rc == 0, run.failed() or run.stderr
    sources = all_results(run, "Ensure the sources")
    assert [s["changed"] for s in sources] == [True, False, False]
    ensured = all_results(run, "Ensure the task")
    assert [e["changed"] for e in ensured[:2]] == [True, False]
    started = all_results(run, "Start the task")
    assert [s["changed"] for s in started[:2]] == [True, False]
    waited = all_results(run, "Wait until the task runs")
    assert waited[0]["stage"] == "Running" and waited[1]["stage"] == "Running"
    assert in_sync(sandbox, target, ["dmrole.t"])

    failure = run.task("The role's failure")["msg"]
    assert "DM task dmclash failed at 'Wait until the task runs'" in failure, failure
    assert "stage: Error" in failure and "Duplicate entry" in failure, failure
    assert "stopped: Error" in failure, failure
    stopped = all_results(run, "Stop the task")[-1]
    assert not stopped.get("failed") and stopped["actions"] == ["stop_errored"]
    status = api(sandbox, "GET", "/tasks/dmclash/status")["data"]
    assert [s["stage"] for s in status] == ["Paused"], status
    # stopped for good: DM no longer expects it to run, so it is deleted without force
    assert api(sandbox, "DELETE", "/tasks/dmclash") == {}

    texts = {"check": check.stdout + check.stderr, "run": run.stdout + run.stderr, "ansible log": ansible_log(ansible_env)}
    secrets_absent(texts, up["password"], target["password"])
