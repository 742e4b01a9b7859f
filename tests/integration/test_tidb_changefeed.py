"""tidb_changefeed and tidb_changefeed_info through ansible-playbook, the way a clone uses them: the
source backed up, restored into the target, a changefeed from the backup's BackupTS; the target
then equals the source, row for row, after writes on the source; a paused changefeed holds rows
back until it is resumed; bad input is refused before anything exists; the sink password never
shows. Against TiCDC v6.1 the module drives OpenAPI v1, and a start TSO behind the GC safe point
is refused."""
import os

import pymysql
import pytest

from tests.integration.conftest import VERSION
from tests.sandbox import pd_server


def connect(port):
    return pymysql.connect(host="127.0.0.1", port=port, user="root", password="", autocommit=True)


def rows(port, table):
    conn = connect(port)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) = %s",
                        (table,))
            if not cur.fetchone()[0]:
                return None
            cur.execute("SELECT * FROM %s ORDER BY 1" % table)
            return [tuple(str(v) for v in row) for row in cur.fetchall()]
    finally:
        conn.close()


def execute(port, *statements):
    conn = connect(port)
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


TABLES = ("shop.items", "crm.people", "shop.extra")


@pytest.fixture
def source(playbook, topology, request):
    """A started cluster with rows and one TiCDC server."""
    name = "cf%d" % (abs(hash(request.node.name)) % 100000)
    topo = topology(pd=1, tikv=1, tidb=1, cdc=1)
    port = topo["tidb_servers"][0]["port"]
    run = playbook("cluster_up.yml", name=name, topology=topo, version=request.param if hasattr(request, "param")
                   else VERSION, tidb_port=port, rows=300)
    assert run.rc == 0, run.failed() or run.stderr
    yield dict(name=name, port=port, cdc_url="http://127.0.0.1:%d" % topo["cdc_servers"][0]["port"])
    playbook("cluster_remove.yml", name=name)


def test_a_changefeed_from_the_backup_makes_the_target_equal_the_source(playbook, source, topology, tmp_path):
    target_topology = topology(pd=1, tikv=1, tidb=1)
    target_port = target_topology["tidb_servers"][0]["port"]
    target = source["name"] + "t"
    password = "Sink-%d-pw" % os.getpid()
    common = dict(cdc_url=source["cdc_url"], source_port=source["port"], target_port=target_port,
                  sink_password=password)
    try:
        run = playbook("changefeed_setup.yml", source=source["name"], target=target, target_topology=target_topology,
                       version=VERSION, catalog=str(tmp_path / "catalog"), backup_path=str(tmp_path / "base"),
                       **common)
        assert run.rc == 0, run.failed() or run.stderr
        seen = run.stdout + run.stderr

        codes = [r.get("error_code") for r in run.task("Bad input, nothing created")["results"]]
        assert codes == ["CDC_SINK_INVALID", "CDC_SINK_INVALID", "CDC_SINK_INVALID", "CDC_CHANGEFEED_INVALID",
                         "CDC_CHANGEFEED_INVALID", "CDC_SINK_INVALID"]
        predicted = run.task("Create in check mode")
        assert predicted["changed"] is True and predicted["actions"] == ["create"]
        assert run.task("Nothing exists yet")["changefeeds"] == []

        created = run.task("Create from the backup")
        backup_ts = run.task("Back up the source")["backup"]["backup_ts"]
        feed = created["changefeed"]
        assert created["changed"] is True and created["actions"] == ["create"] and created["api"] == "v2"
        assert feed["start_ts"] == backup_ts and feed["state"] == "normal"
        assert feed["checkpoint_ts"] >= created["synced_ts"] > backup_ts
        assert feed["sink_uri"] == "mysql://cdc_writer:xxxxx@127.0.0.1:%d/?safe-mode=true&worker-count=4" % target_port
        assert feed["filter_rules"] == ["shop.*", "crm.*"]
        again = run.task("Create again")
        assert again["changed"] is False and again["actions"] == []

        # changes on the source after the changefeed started, DDL included, reach the target
        execute(source["port"], "INSERT INTO shop.items VALUES (1001, 'late', 9.99)",
                "UPDATE shop.items SET price = 0.5 WHERE id <= 10", "DELETE FROM shop.items WHERE id BETWEEN 20 AND 29",
                "DELETE FROM crm.people WHERE id = 2",
                "CREATE TABLE shop.extra (id INT PRIMARY KEY, note VARCHAR(20))",
                "INSERT INTO shop.extra VALUES (1, 'new'), (2, 'table')",
                "CREATE DATABASE other", "CREATE TABLE other.skipped (id INT PRIMARY KEY)",
                "INSERT INTO other.skipped VALUES (1)")
        synced = playbook("changefeed_step.yml", wait="synced", **common)
        assert synced.rc == 0, synced.failed() or synced.stderr
        step = synced.task("The changefeed")
        assert step["changed"] is False and step["changefeed"]["checkpoint_ts"] >= step["synced_ts"]
        for table in TABLES:
            assert rows(target_port, table) == rows(source["port"], table), table
        assert len(rows(target_port, "shop.items")) == 300 + 1 - 10
        assert rows(target_port, "other.skipped") is None  # outside the filter

        # paused: rows written on the source stay behind; resumed with wait: they arrive
        paused = playbook("changefeed_step.yml", state="paused", **common)
        assert paused.task("The changefeed")["actions"] == ["pause"]
        assert paused.task("Changefeeds")["changefeeds"][0]["state"] == "stopped"
        execute(source["port"], "INSERT INTO shop.extra VALUES (3, 'held back')")
        held = playbook("changefeed_step.yml", state="paused", **common)
        assert held.task("The changefeed")["changed"] is False
        assert len(rows(target_port, "shop.extra")) == 2
        resumed = playbook("changefeed_step.yml", wait="synced", **common)
        assert resumed.task("The changefeed")["actions"] == ["resume"]
        assert rows(target_port, "shop.extra") == rows(source["port"], "shop.extra")
        assert len(rows(target_port, "shop.extra")) == 3

        # drift: another filter and sink option is an update (pause, update, resume); check mode predicts it
        drift = dict(common, filter_rules=["shop.*"], options={"worker-count": 8})
        predicted = playbook("changefeed_step.yml", check=True, **drift).task("The changefeed")
        assert predicted["actions"] == ["pause", "update filter sink", "resume"]
        assert playbook("changefeed_step.yml", **common).task("Changefeeds")["changefeeds"][0]["sink_uri"].endswith(
            "worker-count=4")
        updated = playbook("changefeed_step.yml", **drift).task("The changefeed")
        assert updated["actions"] == ["pause", "update filter sink", "resume"]
        assert updated["changefeed"]["filter_rules"] == ["shop.*"] and updated["changefeed"]["state"] == "normal"
        refused = playbook("changefeed_step.yml", start_ts=backup_ts + 1, **drift).task("The changefeed")
        assert refused["error_code"] == "CDC_CHANGEFEED_NOT_UPDATABLE"

        info = playbook("changefeed_step.yml", **drift).task("Changefeeds")
        listed = info["changefeeds"][0]
        assert listed["id"] == "source-to-target" and listed["lag_seconds"] >= 0 and listed["error"] is None
        removed = playbook("changefeed_step.yml", state="absent", **drift)
        assert removed.task("The changefeed")["actions"] == ["remove"]
        assert removed.task("Changefeeds")["changefeeds"] == []
        gone = playbook("changefeed_step.yml", state="absent", **drift)
        assert gone.task("The changefeed")["changed"] is False

        runs = [run, synced, paused, held, resumed, removed]
        assert password not in seen and all(password not in r.stdout + r.stderr for r in runs)
    finally:
        playbook("cluster_remove.yml", name=target)


@pytest.mark.parametrize("source", ["v6.1.0"], indirect=True)
def test_an_old_ticdc_is_driven_through_v1_and_gc_bounds_the_start(playbook, source, sandbox):
    """TiCDC v6.1 has no full OpenAPI v2: create, pause, resume and remove go through v1 (HTTP 202, then read
    until the change shows). Once GC has run, a start TSO behind its safe point is refused."""
    upstream = sandbox["upstream_mysql"]  # a MySQL sink: the sandbox's plain MariaDB
    common = dict(cdc_url=source["cdc_url"], source_port=source["port"], target_port=upstream["port"],
                  sink_user=upstream["admin_user"], sink_password=upstream["admin_password"], filter_rules=["shop.*"])
    created = playbook("changefeed_step.yml", **common).task("The changefeed")
    assert created["api"] == "v1" and created["actions"] == ["create"], created
    assert created["changefeed"]["state"] == "normal"
    paused = playbook("changefeed_step.yml", state="paused", **common).task("The changefeed")
    assert paused["actions"] == ["pause"] and paused["changefeed"]["state"] == "stopped"
    resumed = playbook("changefeed_step.yml", **common).task("The changefeed")
    assert resumed["actions"] == ["resume"] and resumed["changefeed"]["state"] == "normal"
    removed = playbook("changefeed_step.yml", state="absent", **common)
    assert removed.task("The changefeed")["actions"] == ["remove"] and removed.task("Changefeeds")["changefeeds"] == []

    # the cluster made an hour old: GC has moved to now - 10 min, so a TSO of 20 minutes ago is gone
    state = os.path.join(sandbox["dir"], "clusters", source["name"], "pd-state.json")
    pd_server.age_cluster(state, 3600)
    old = pd_server.compose_ts((pd_server.read_gc(state)["gc_worker"] >> 18) - 600 * 1000)
    too_old = playbook("changefeed_step.yml", start_ts=old, **common).task("The changefeed")
    assert too_old["error_code"] == "CDC_START_TS_BEFORE_GC" and too_old.get("cdc_error_code") == "CDC:ErrStartTsBeforeGC"
    assert playbook("changefeed_step.yml", state="absent", **common).task("The changefeed")["changed"] is False
