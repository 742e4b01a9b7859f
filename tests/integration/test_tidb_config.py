"""tidb_config through ansible-playbook: values checked in the instances themselves (SHOW CONFIG
from a connection of the test's own, PD's API, TiKV's config file), idempotence across spellings,
check mode, refusals that change nothing, and values that survive `tiup cluster reload`."""
import json
import subprocess
import urllib.request

import pymysql
import yaml

ITEMS = ["split.qps-threshold", "raftstore.apply-pool-size", "coprocessor.region-split-size",
         "storage.scheduler-concurrency"]


def tikv_values(port):
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW CONFIG WHERE type = 'tikv'")
            return dict((name, value) for _t, _i, name, value in cur.fetchall() if name in ITEMS)
    finally:
        conn.close()


def max_peer_count(topo):
    url = "http://127.0.0.1:%d/pd/api/v1/cluster" % topo["pd_servers"][0]["client_port"]
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=5) as resp:
        return json.loads(resp.read())["max_peer_count"]


def server_configs(env, name):
    out = subprocess.run(["tiup", "cluster", "show-config", name], env=env, capture_output=True, text=True,
                         check=True).stdout
    return yaml.safe_load(out)["server_configs"]


def test_config_is_set_online_kept_in_the_topology_and_restarts_only_when_allowed(playbook, cluster, ansible_env):
    port = cluster["port"]
    before = tikv_values(port)
    assert before == {"split.qps-threshold": "3000", "raftstore.apply-pool-size": "2",
                      "coprocessor.region-split-size": "96MiB", "storage.scheduler-concurrency": "524288"}
    run = playbook("config.yml", name=cluster["name"], tidb_port=port)
    assert run.rc == 0, run.failed() or run.stderr

    predicted = run.task("TiKV items in check mode")
    assert predicted["changed"] is True and predicted["actions"] == [
        "set coprocessor.region-split-size", "set raftstore.apply-pool-size", "set split.qps-threshold", "edit-config"]
    assert "split.qps-threshold: {" in predicted["diff"]["before"] and "3000" in predicted["diff"]["before"]

    first = run.task("TiKV items")
    assert first["changed"] is True and first["actions"] == predicted["actions"]
    assert first["config"] == {"split.qps-threshold": "1000", "raftstore.apply-pool-size": "4",
                               "coprocessor.region-split-size": "64MiB"}
    assert first["persisted"] == sorted(ITEMS[:3]) and first["restarted"] == []
    again = run.task("The same, written another way")
    assert again["changed"] is False and again["actions"] == [], again

    assert run.task("One replica per region")["actions"] == ["set replication.max-replicas", "edit-config"]
    assert max_peer_count(cluster["topology"]) == 1

    needs_restart, unknown = run.task("Refused before anything changes")["results"]
    assert needs_restart["error_code"] == "CONFIG_NEEDS_RESTART" and "storage.scheduler-concurrency" in needs_restart["msg"]
    assert unknown["error_code"] == "CONFIG_KEY_UNKNOWN" and "no-such.item" in unknown["msg"]
    bad = run.task("A value TiKV refuses")
    assert bad["error_code"] == "CONFIG_SET_FAILED" and "split.qps-threshold" in bad["msg"], bad

    restarted = run.task("An item read only at start, with a restart")
    assert restarted["actions"] == ["edit-config", "reload tikv"] and restarted["restarted"] == ITEMS[3:]

    # the instances themselves: check mode and the refusals changed nothing, the rest as declared
    declared = {"split.qps-threshold": "1000", "raftstore.apply-pool-size": "4",
                "coprocessor.region-split-size": "64MiB", "storage.scheduler-concurrency": "100000"}
    assert tikv_values(port) == declared
    stored = server_configs(ansible_env, cluster["name"])
    assert stored["tikv"] == {"split.qps-threshold": 1000, "raftstore.apply-pool-size": 4,
                              "coprocessor.region-split-size": "64MiB", "storage.scheduler-concurrency": 100000}
    assert stored["pd"]["replication.max-replicas"] == 1

    # a reload writes TiKV's file from the topology and restarts it: the values stay
    subprocess.run(["tiup", "cluster", "reload", cluster["name"], "--yes"], env=ansible_env, check=True,
                   capture_output=True)
    assert tikv_values(port) == declared
    assert max_peer_count(cluster["topology"]) == 1
