"""The tiup stand-in driving a real sandbox cluster (1 PD, 3 TiKV, 1 TiDB, one MariaDB):
deploy, start, display, stop/start of a single TiKV, whole-cluster stop, start timeouts,
--init, destroy. The tests of this module run in order on one cluster."""
import json
import os
import subprocess
import sys
import urllib.request

import pymysql
import pytest
import yaml

from tests.sandbox import procs
from tests.sandbox.services import Sandbox, topology_yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
NAME = "unit1"
INSTANCE_FIELDS = ["id", "role", "host", "manage_host", "ports", "os_arch", "status", "memory",
                   "memory_limit", "cpu_quota", "since", "data_dir", "deploy_dir", "numa_node",
                   "numa_cores", "version"]


def tiup(sandbox_dir, *args, stdin=subprocess.DEVNULL, timeout=180, env_extra=None):
    env = dict(os.environ)
    env.pop("TIUP_COMPONENT_DATA_DIR", None)
    env.update({"TIUP_HOME": os.path.join(sandbox_dir, "tiup"),
                "TIDBOPS_SANDBOX_DIR": sandbox_dir, "PYTHONPATH": REPO_ROOT})
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "tests.sandbox.tiup"] + [str(a) for a in args],
                          env=env, cwd=REPO_ROOT, stdin=stdin, capture_output=True, text=True,
                          timeout=timeout, check=False)


def trailer(result):
    return json.loads(result.stderr.strip().splitlines()[-1])


def get_json(url):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="module")
def sandbox_dir(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("tiupcluster"))
    yield directory
    Sandbox(directory).down(out=open(os.devnull, "w"))
    assert procs.owned_pids(directory) == []


@pytest.fixture(scope="module")
def key(sandbox_dir):
    from tests.sandbox.tiup.runtime import generate_ssh_key
    generate_ssh_key(os.path.join(sandbox_dir, "ssh"))
    return os.path.join(sandbox_dir, "ssh", "id_rsa")


@pytest.fixture(scope="module")
def topo(sandbox_dir):
    text = topology_yaml(pd=1, tikv=3, tidb=1)
    path = os.path.join(sandbox_dir, "topology.yaml")
    with open(path, "w") as handle:
        handle.write(text)
    return path, yaml.safe_load(text)


def ids(topo_doc):
    pd = topo_doc["pd_servers"][0]
    return {"pd": "127.0.0.1:%d" % pd["client_port"],
            "tikv": ["127.0.0.1:%d" % kv["port"] for kv in topo_doc["tikv_servers"]],
            "tidb": "127.0.0.1:%d" % topo_doc["tidb_servers"][0]["port"],
            "pd_url": "http://127.0.0.1:%d" % pd["client_port"]}


def display(sandbox_dir, *extra):
    result = tiup(sandbox_dir, "cluster", "display", NAME, "--format", "json", *extra)
    assert result.returncode == 0, result.stderr
    assert trailer(result) == {"exit_code": 0}
    return json.loads(result.stdout)


def statuses(doc):
    return {inst["id"]: inst["status"] for inst in doc["instances"]}


def test_deploy_json_mode(sandbox_dir, topo, key):
    result = tiup(sandbox_dir, "cluster", "deploy", NAME, "v7.5.1", topo[0], "--yes",
                  "--format", "json", "-i", key)
    assert result.returncode == 0, result.stderr
    assert trailer(result) == {"exit_code": 0}
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[-1] == {"level": "info", "message":
                         "Cluster `%s` deployed successfully, you can start it with command: "
                         "`tiup cluster start %s --init`" % (NAME, NAME)}
    assert "Starting component" not in result.stderr


def test_meta_and_files(sandbox_dir, topo):
    cluster_dir = os.path.join(sandbox_dir, "tiup", "storage", "cluster", "clusters", NAME)
    with open(os.path.join(cluster_dir, "meta.yaml")) as handle:
        meta = yaml.safe_load(handle)
    assert list(meta) == ["user", "tidb_version", "last_ops_ver", "topology"]
    assert meta["user"] == "tidb" and meta["tidb_version"] == "v7.5.1"
    assert meta["last_ops_ver"].startswith("1.16.1 tiup\nGo Version:")
    tikv = meta["topology"]["tikv_servers"][0]
    port = topo[1]["tikv_servers"][0]["port"]
    assert tikv["deploy_dir"] == "/tidb-deploy/tikv-%d" % port
    assert tikv["data_dir"] == "/tidb-data/tikv-%d" % port
    assert tikv["log_dir"] == "/tidb-deploy/tikv-%d/log" % port
    assert tikv["arch"] == "amd64" and tikv["os"] == "linux" and tikv["ssh_port"] == 22
    assert meta["topology"]["pd_servers"][0]["name"].startswith("pd-127.0.0.1-")
    assert meta["topology"]["global"]["ssh_type"] == "builtin"
    for sub in ("ssh/id_rsa", "ssh/id_rsa.pub", "config-cache", "patch"):
        assert os.path.exists(os.path.join(cluster_dir, sub)), sub
    audit = os.path.join(sandbox_dir, "tiup", "storage", "cluster", "audit")
    assert os.listdir(audit)
    host_root = os.path.join(sandbox_dir, "hosts", "127.0.0.1")
    for sub in ("bin", "conf/tikv.toml", "scripts/run_tikv.sh", "log"):
        assert os.path.exists(os.path.join(host_root, "tidb-deploy/tikv-%d" % port, sub)), sub
    # deploy initialises the storage but starts nothing
    assert procs.owned_pids(os.path.join(sandbox_dir, "clusters", NAME)) == []


def test_start_and_display(sandbox_dir, topo):
    result = tiup(sandbox_dir, "cluster", "start", NAME)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "Starting cluster %s..." % NAME
    assert out[-1] == "Started cluster `%s` successfully" % NAME
    assert out.index("Starting component pd") < out.index("Starting component tikv") \
        < out.index("Starting component tidb")
    doc = display(sandbox_dir)
    want = ids(topo[1])
    meta = doc["cluster_meta"]
    assert meta["cluster_type"] == "tidb" and meta["cluster_name"] == NAME
    assert meta["cluster_version"] == "v7.5.1" and meta["deploy_user"] == "tidb"
    assert meta["tls_enabled"] is False
    assert meta["dashboard_url"] == "http://%s/dashboard" % want["pd"]
    st = statuses(doc)
    assert st[want["pd"]] == "Up|L|UI"
    assert st[want["tidb"]] == "Up"
    assert all(st[i] == "Up" for i in want["tikv"])
    for inst in doc["instances"]:
        assert list(inst) == INSTANCE_FIELDS
        assert all(isinstance(v, str) for v in inst.values())
    keys = [(i["role"], i["host"], i["ports"]) for i in doc["instances"]]
    assert keys == sorted(keys)
    tidb = [i for i in doc["instances"] if i["role"] == "tidb"][0]
    assert tidb["data_dir"] == "-" and tidb["os_arch"] == "linux/x86_64"
    # the text form
    result = tiup(sandbox_dir, "cluster", "display", NAME)
    assert result.returncode == 0
    text = result.stdout.splitlines()
    assert text[0] == "Cluster type:       tidb"
    assert text[1] == "Cluster name:       %s" % NAME
    assert "Dashboard URL:      http://%s/dashboard" % want["pd"] in text
    head = [line for line in text if line.startswith("ID ")][0]
    assert head.split() == ["ID", "Role", "Host", "Ports", "OS/Arch", "Status", "Data", "Dir",
                            "Deploy", "Dir"]
    assert text[-1] == "Total nodes: 5"
    # only PD answers the --version question
    result = tiup(sandbox_dir, "cluster", "display", NAME, "--version")
    assert result.stdout == "v7.5.1\n"


def test_cluster_info_lists_the_instances_and_pd_knows_the_cluster_id(sandbox_dir, topo):
    want = ids(topo[1])
    conn = pymysql.connect(host="127.0.0.1", port=int(want["tidb"].split(":")[1]), user="root",
                           connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT TYPE, INSTANCE, STATUS_ADDRESS, VERSION FROM INFORMATION_SCHEMA.CLUSTER_INFO"
                        " ORDER BY TYPE, INSTANCE")
            found = cur.fetchall()
            cur.execute("SELECT ci.INSTANCE FROM information_schema.`CLUSTER_INFO` ci WHERE ci.TYPE = 'pd'")
            pds = [row[0] for row in cur.fetchall()]
    finally:
        conn.close()
    assert [row[:2] for row in found] == sorted([("pd", want["pd"]), ("tidb", want["tidb"])]
                                                + [("tikv", kv) for kv in want["tikv"]])
    assert all(row[3] == "7.5.1" for row in found)  # the release without its v, for every role
    assert pds == [want["pd"]] and found[0][2] == want["pd"]
    # the cluster's identity: PD's cluster id, the same from every PD, a 64-bit number
    cluster = get_json(want["pd_url"] + "/pd/api/v1/cluster")
    assert 0 < cluster["id"] < 2 ** 64
    assert get_json(want["pd_url"] + "/pd/api/v1/status")["version"] == "v7.5.1"


def test_stop_one_tikv_then_start_it(sandbox_dir, topo):
    want = ids(topo[1])
    victim = want["tikv"][1]
    result = tiup(sandbox_dir, "cluster", "stop", NAME, "-N", victim, "--yes", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert trailer(result) == {"exit_code": 0}
    messages = [json.loads(line)["message"] for line in result.stdout.splitlines()]
    assert "Stopping component tikv" in messages and "\tStop tikv %s success" % victim in messages
    assert "Stopping component pd" not in messages
    st = statuses(display(sandbox_dir))
    assert st[victim] == "Down"
    assert [st[i] for i in want["tikv"] if i != victim] == ["Up", "Up"]
    assert st[want["pd"]] == "Up|L|UI" and st[want["tidb"]] == "Up"
    stores = get_json(want["pd_url"] + "/pd/api/v1/stores")
    by_addr = {s["store"]["address"]: s["store"] for s in stores["stores"]}
    assert stores["count"] == 3
    assert by_addr[victim]["state_name"] == "Down"
    assert by_addr[want["tikv"][0]]["state_name"] == "Up"
    first_ids = sorted(s["id"] for s in by_addr.values())
    # a subset stop leaves the storage running: SQL still works through TiDB
    conn = pymysql.connect(host="127.0.0.1", port=int(want["tidb"].split(":")[1]), user="root",
                           password="", connect_timeout=5)
    conn.close()
    result = tiup(sandbox_dir, "cluster", "start", NAME, "-N", victim)
    assert result.returncode == 0, result.stderr
    assert "Starting component pd" not in result.stdout
    assert statuses(display(sandbox_dir))[victim] == "Up"
    stores = get_json(want["pd_url"] + "/pd/api/v1/stores")
    assert sorted(s["store"]["id"] for s in stores["stores"]) == first_ids
    # -R filters display
    doc = display(sandbox_dir, "-R", "tikv")
    assert {i["role"] for i in doc["instances"]} == {"tikv"}
    assert "dashboard_url" not in doc["cluster_meta"]


def test_list_and_show_config(sandbox_dir):
    result = tiup(sandbox_dir, "cluster", "list", "--format", "json")
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 1
    clusters = json.loads(result.stdout)["clusters"]
    assert [c["name"] for c in clusters] == [NAME]
    assert clusters[0]["private_key"] == os.path.join(clusters[0]["path"], "ssh", "id_rsa")
    result = tiup(sandbox_dir, "cluster", "show-config", NAME)
    assert result.returncode == 0
    assert yaml.safe_load(result.stdout)["global"]["user"] == "tidb"
    assert result.stdout.startswith("global:\n    user: tidb\n")


def test_duplicate_name(sandbox_dir, topo, key):
    result = tiup(sandbox_dir, "cluster", "deploy", NAME, "v7.5.1", topo[0], "-y", "--format", "json",
                  "--identity_file", key)
    assert result.returncode == 1
    assert trailer(result) == {"exit_code": 1,
                               "error": "deploy.name_dup: Cluster name '%s' is duplicated" % NAME}
    result = tiup(sandbox_dir, "cluster", "deploy", NAME, "v7.5.1", topo[0], "-y", "-i", key)
    assert result.returncode == 1
    assert "Error: Cluster name '%s' is duplicated (deploy.name_dup)" % NAME in result.stderr
    assert "Please specify another cluster name" in result.stderr


def test_stop_without_yes_aborts(sandbox_dir, topo):
    result = tiup(sandbox_dir, "cluster", "stop", NAME)
    assert result.returncode == 1
    assert "Will stop the cluster %s with nodes: , roles: ." % NAME in result.stdout
    assert "Operation aborted by user (with answer '')" in result.stderr
    assert statuses(display(sandbox_dir))[ids(topo[1])["pd"]].startswith("Up")


def test_init_sets_password(sandbox_dir, topo):
    port = int(ids(topo[1])["tidb"].split(":")[1])
    result = tiup(sandbox_dir, "cluster", "start", NAME, "--init", "--yes")
    assert result.returncode == 0, result.stderr
    line = [l for l in result.stdout.splitlines() if l.startswith("The new password is: '")][0]
    password = line[len("The new password is: '"):-2]
    assert len(password) == 18
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", password=password,
                           connect_timeout=5)
    conn.close()
    with pytest.raises(pymysql.MySQLError):
        pymysql.connect(host="127.0.0.1", port=port, user="root", password="", connect_timeout=5)
    # a second --init finds a password and fails like tiup does
    result = tiup(sandbox_dir, "cluster", "start", NAME, "--init", "--yes", "--format", "json")
    assert result.returncode == 1
    assert "Error 1045" in trailer(result)["error"]
    assert "Initializing is only working when the root password is empty" in result.stderr


def test_whole_stop_then_start_timeout(sandbox_dir, topo):
    state_dir = os.path.join(sandbox_dir, "clusters", NAME)
    result = tiup(sandbox_dir, "cluster", "stop", NAME, "-y")
    assert result.returncode == 0, result.stderr
    assert procs.owned_pids(state_dir) == []  # MariaDB too
    doc = display(sandbox_dir)
    st = statuses(doc)
    assert st[ids(topo[1])["pd"]] == "Down"
    assert all(st[i] == "N/A" for i in ids(topo[1])["tikv"])
    # TiKV without PD never listens: tiup waits --wait-timeout and fails like tiup
    first = ids(topo[1])["tikv"][0]
    port = first.split(":")[1]
    result = tiup(sandbox_dir, "cluster", "start", NAME, "-R", "tikv", "--wait-timeout", "2",
                  "--format", "json")
    assert result.returncode == 1
    error = trailer(result)["error"]
    assert error.startswith("failed to start tikv: failed to start: 127.0.0.1 tikv-")
    assert "please check the instance's log(/tidb-deploy/tikv-" in error
    assert error.endswith("to be started after 2s")
    assert "timed out waiting for port %s" % port in error or "timed out waiting for port" in error
    # a subset start still brought the storage up; stopping the subset leaves it running
    result = tiup(sandbox_dir, "cluster", "stop", NAME, "-R", "tikv", "-y")
    assert result.returncode == 0
    assert procs.owned_pids(state_dir), "MariaDB should still run"
    result = tiup(sandbox_dir, "cluster", "restart", NAME, "-y")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "Restarted cluster `%s` successfully" % NAME
    assert set(statuses(display(sandbox_dir)).values()) == {"Up|L|UI", "Up"}


def test_destroy_needs_yes_then_destroys(sandbox_dir, topo):
    result = tiup(sandbox_dir, "cluster", "destroy", NAME)
    assert result.returncode == 1
    assert "Operation aborted by user (with incorrect answer '')" in result.stderr
    assert display(sandbox_dir)["cluster_meta"]["cluster_name"] == NAME
    result = tiup(sandbox_dir, "cluster", "destroy", NAME, "--yes", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["message"] == \
        "Destroyed cluster `%s` successfully" % NAME
    assert procs.owned_pids(os.path.join(sandbox_dir, "clusters", NAME)) == []
    assert not os.path.exists(os.path.join(sandbox_dir, "tiup", "storage", "cluster", "clusters", NAME))
    assert not os.path.exists(os.path.join(sandbox_dir, "clusters", NAME))
    assert not os.path.exists(os.path.join(sandbox_dir, "hosts", "127.0.0.1", "tidb-deploy"))
    result = tiup(sandbox_dir, "cluster", "display", NAME, "--format", "json")
    assert result.returncode == 1
    assert trailer(result) == {"exit_code": 1, "error": "Cluster %s not found" % NAME}
