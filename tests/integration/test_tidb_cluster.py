"""tidb_cluster, tidb_cluster_info and tidb_query through real ansible-playbook runs."""
import json
import os
import subprocess

import pymysql

from tests.sandbox.procs import port_open

VERSION = "v7.5.1"


def tiup_clusters(sandbox):
    out = subprocess.run(["tiup", "cluster", "list", "--format", "json"], capture_output=True,
                         text=True, check=True, env=dict(os.environ, PATH=sandbox["path"],
                                                         TIUP_HOME=sandbox["tiup_home"])).stdout
    return sorted(c["name"] for c in json.loads(out.splitlines()[-1])["clusters"])


def names(info):
    return [c["name"] for c in info["clusters"]]


def instance(info, node):
    return [i for i in info["clusters"][0]["instances"] if i["id"] == node][0]


def test_lifecycle(playbook, topology, sandbox):
    topo = topology(pd=1, tikv=3, tidb=1)
    tikv = topo["tikv_servers"][1]
    tikv_node = "127.0.0.1:%d" % tikv["port"]
    tidb_port = topo["tidb_servers"][0]["port"]
    run = playbook("cluster_lifecycle.yml", name="life", topology=topo, version=VERSION,
                   tikv_node=tikv_node, tikv_port=tikv["port"], tidb_port=tidb_port)
    assert run.rc == 0, run.failed() or run.stderr

    assert run.task("Deploy and start in check mode")["changed"] is True
    assert "life" not in names(run.task("Clusters after check mode"))
    deploy = run.task("Deploy and start")
    assert deploy["changed"] is True
    assert {i["status"] for i in deploy["cluster"]["instances"]} <= {"Up", "Up|L", "Up|L|UI", "Up|UI"}
    assert deploy["cluster"]["cluster_meta"]["cluster_version"] == VERSION
    assert run.task("Deploy and start again")["changed"] is False

    assert run.task("Write rows")["changed"] is True
    assert run.task("Write rows again")["changed"] is False
    write_check = run.task("Write more rows in check mode")
    assert write_check["changed"] is True
    assert write_check["executed_queries"] == ["SELECT COUNT(*) AS n FROM shop.items"]
    assert write_check["query_result"] == [[{"n": 3}]]
    info_check, info_again = run.task("Status in check mode"), run.task("Status again")
    assert info_check["changed"] is False and info_again["changed"] is False
    assert info_check["clusters"] == info_again["clusters"]

    assert run.task("Stop one TiKV in check mode")["changed"] is True
    stop = run.task("Stop one TiKV")
    assert stop["changed"] is True and stop["nodes"] == [tikv_node]
    assert instance(run.task("Status with one TiKV down"), tikv_node)["status"] == "Down"
    others = [i for i in run.task("Status with one TiKV down")["clusters"][0]["instances"]
              if i["id"] != tikv_node]
    assert all(i["status"].startswith("Up") for i in others)
    assert run.task("Stop one TiKV again")["changed"] is False

    assert run.task("Start the whole cluster in check mode")["changed"] is True
    start = run.task("Start the whole cluster")
    assert start["changed"] is True and start["nodes"] == [tikv_node]
    info_up = run.task("Status with every instance up")["clusters"][0]
    assert [i["role"] for i in info_up["instances"]] == ["tikv"] * 3
    assert info_up["status_counts"] == {"Up": 3}

    assert run.task("Restart the TiDB servers")["changed"] is True
    assert run.task("Count rows after the restarts")["query_result"] == [[{"n": 3}]]

    # The data itself, read past the modules.
    conn = pymysql.connect(host="127.0.0.1", port=tidb_port, user="root", password="")
    with conn.cursor() as cur:
        cur.execute("SELECT id, name FROM shop.items ORDER BY id")
        assert cur.fetchall() == ((1, "apple"), (2, "pear"), (3, "plum"))
        cur.execute("SELECT VERSION()")
        assert cur.fetchone()[0] == "8.0.11-TiDB-" + VERSION
    conn.close()

    gone = playbook("cluster_destroy.yml", name="life")
    assert gone.rc == 0, gone.failed() or gone.stderr
    assert gone.task("Destroy in check mode")["changed"] is True
    assert "life" in names(gone.task("Clusters after check mode"))
    assert gone.task("Destroy")["changed"] is True
    assert gone.task("Destroy again")["changed"] is False
    assert "life" not in names(gone.task("Clusters after destroy"))
    assert "life" not in tiup_clusters(sandbox)
    assert not port_open(tidb_port) and not port_open(tikv["port"])


def test_bad_input_fails_with_codes_and_changes_nothing(playbook, topology, sandbox, tmp_path):
    bad_file = tmp_path / "topology.yaml"
    bad_file.write_text("pd_servers: [host: 127.0.0.1\n  - : :\n")
    before = tiup_clusters(sandbox)
    run = playbook("cluster_errors.yml", name="nope", topology=topology(), version=VERSION,
                   bad_topology_file=str(bad_file))
    assert run.rc == 0, run.stderr
    expected = {
        "Unknown cluster to stop": "CLUSTER_NOT_FOUND",
        "Unknown cluster to read": "CLUSTER_NOT_FOUND",
        "Malformed topology": "CLUSTER_TOPOLOGY_INVALID",
        "Topology with an unknown section": "CLUSTER_TOPOLOGY_INVALID",
        "Topology file that is not YAML": "CLUSTER_TOPOLOGY_INVALID",
        "Topology with a port that is not a number": "CLUSTER_TOPOLOGY_INVALID",
        "Bad version string": "CLUSTER_VERSION_INVALID",
        "Missing tiup": "TIUP_NOT_FOUND",
        "Node that the topology does not have": "CLUSTER_NODE_NOT_FOUND",
    }
    for task, code in expected.items():
        result = run.task(task)
        assert result.get("failed") is True, (task, result)
        assert result.get("error_code") == code, (task, result)
        assert result.get("changed") is False, (task, result)
        assert result["msg"], task
    assert names(run.task("Clusters before")) == names(run.task("Clusters after")) == before
    assert tiup_clusters(sandbox) == before


def test_tiup_not_on_path(playbook, topology, sandbox):
    path_without_tiup = os.pathsep.join(p for p in sandbox["path"].split(os.pathsep)
                                        if p != sandbox["bin_dir"])
    run = playbook("cluster_errors.yml", env={"PATH": path_without_tiup}, name="nope",
                   topology=topology(), version=VERSION, bad_topology_file="/nonexistent")
    assert run.task("Unknown cluster to stop")["error_code"] == "TIUP_NOT_FOUND"
    assert "tiup" in run.task("Unknown cluster to stop")["msg"]


def test_pd_unreachable_drift_and_version_mismatch(playbook, topology, sandbox):
    topo = topology(pd=1, tikv=3, tidb=1)
    tikv = topo["tikv_servers"][0]
    other = json.loads(json.dumps(topo))
    other["tidb_servers"].append({"host": "127.0.0.1", "port": 1, "status_port": 2})
    run = playbook("cluster_pd_down.yml", name="pddown", topology=topo, version=VERSION,
                   tikv_node="127.0.0.1:%d" % tikv["port"], other_topology=other)
    assert run.rc == 0, run.failed() or run.stderr

    drift = run.task("Requested topology differs from the deployed one")
    assert drift["error_code"] == "CLUSTER_TOPOLOGY_DRIFT" and drift["changed"] is False
    assert any("127.0.0.1:1" in d for d in drift["differences"])
    mismatch = run.task("Requested version differs from the deployed one")
    assert mismatch["error_code"] == "CLUSTER_VERSION_MISMATCH"

    pd_down = run.task("Start the TiKV while PD is down")
    assert pd_down["error_code"] == "PD_UNREACHABLE", pd_down
    assert pd_down["changed"] is False
    info = run.task("Status while PD is down")["clusters"][0]
    statuses = dict((i["id"], i["status"]) for i in info["instances"])
    assert statuses["127.0.0.1:%d" % tikv["port"]] != "Up"
    assert not port_open(tikv["port"]), "the TiKV must not have been started"
    assert "pddown" not in tiup_clusters(sandbox)


def test_query_credentials_never_leak(playbook, topology, ansible_env):
    secret = "S3cret-Pw-%d" % os.getpid()
    topo = topology(pd=1, tikv=1, tidb=1)
    run = playbook("query_password.yml", name="pw", topology=topo, version=VERSION,
                   tidb_port=topo["tidb_servers"][0]["port"], new_password=secret)
    assert run.rc == 0, run.failed() or run.stderr
    assert run.task("Log in with the new password")["query_result"] == [[{"who": "root@%"}]]
    wrong = run.task("Log in with a wrong password")
    assert wrong["error_code"] == "TIDB_AUTH_FAILED" and wrong["changed"] is False
    assert secret not in run.stdout and secret not in run.stderr
    with open(ansible_env["ANSIBLE_LOG_PATH"]) as log:
        assert secret not in log.read()


def test_diff_mode_shows_the_topology(playbook, topology):
    topo = topology(pd=1, tikv=1, tidb=1)
    run = playbook("cluster_destroy.yml", check=True, diff=True, name="never-deployed")
    assert run.task("Destroy in check mode")["changed"] is False
    run = playbook("cluster_lifecycle.yml", check=True, diff=True, name="diffed", topology=topo,
                   version=VERSION, tikv_node="x", tikv_port=1, tidb_port=1)
    predicted = run.task("Deploy and start in check mode")
    assert predicted["changed"] is True
    assert predicted["diff"]["before"] == ""
    assert "tikv_servers:" in predicted["diff"]["after"]
    assert str(topo["tikv_servers"][0]["port"]) in predicted["diff"]["after"]
