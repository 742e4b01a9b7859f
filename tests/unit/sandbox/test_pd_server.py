"""The PD stand-in's HTTP API (and the TiKV listener that needs it), as real processes."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import yaml

from tests.sandbox import procs
from tests.sandbox.pd_server import read_gc, update_service_safepoint

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def request(url, method="GET"):
    """(status, body bytes) without raising on HTTP errors."""
    req = urllib.request.Request(url, method=method)
    try:
        with OPENER.open(req, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def get_json(url):
    status, body = request(url)
    assert status == 200, (url, status, body)
    return json.loads(body)


class Listener(object):
    """Something listening on a TiKV port (what PD probes)."""

    def __init__(self, port=None):
        self.port = port or procs.free_port()
        self.sock = None
        self.open()

    def open(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)

    def close(self):
        self.sock.close()


class Cluster(object):
    """A meta.yaml with n PDs and the given TiKV ports, and PD processes on demand."""

    def __init__(self, base, n_pd=1, tikv_ports=(), version="v7.5.1"):
        self.base = str(base)
        self.state = os.path.join(self.base, "pd-state.json")
        self.meta = os.path.join(self.base, "meta.yaml")
        self.pds = [{"name": "pd-%d" % i, "host": "127.0.0.1", "client_port": procs.free_port(),
                     "peer_port": procs.free_port(), "deploy_dir": "/tidb-deploy/pd-%d" % i}
                    for i in range(n_pd)]
        self.tikv_ports = list(tikv_ports)
        self.write_meta(version)
        self.procs = {}

    def write_meta(self, version):
        topo = {"pd_servers": self.pds,
                "tikv_servers": [{"host": "127.0.0.1", "port": p, "status_port": p + 1,
                                  "deploy_dir": "/tidb-deploy/tikv-%d" % p} for p in self.tikv_ports]}
        with open(self.meta, "w") as handle:
            yaml.safe_dump({"user": "tidb", "tidb_version": version, "topology": topo}, handle)

    def url(self, i):
        return "http://127.0.0.1:%d" % self.pds[i]["client_port"]

    def start(self, i):
        pd = self.pds[i]
        argv = [sys.executable, "-m", "tests.sandbox.pd_server", "--name=%s" % pd["name"],
                "--client-urls=http://127.0.0.1:%d" % pd["client_port"],
                "--peer-urls=http://127.0.0.1:%d" % pd["peer_port"],
                "--data-dir=%s" % os.path.join(self.base, "data", pd["name"]),
                "--log-file=%s" % os.path.join(self.base, "%s.log" % pd["name"]),
                "--sandbox-meta=%s" % self.meta, "--sandbox-state=%s" % self.state]
        env = dict(os.environ, PYTHONPATH=REPO_ROOT)
        env[procs.OWNER_ENV] = self.base
        proc = subprocess.Popen(argv, env=env, cwd=REPO_ROOT, stdin=subprocess.DEVNULL,  # pylint: disable=consider-using-with
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        self.procs[i] = proc
        assert procs.wait_until(lambda: procs.port_open(pd["client_port"]) or proc.poll() is not None, 15)
        assert proc.poll() is None

    def stop(self, i):
        proc = self.procs.pop(i)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0

    def close(self):
        for proc in self.procs.values():
            proc.kill()
            proc.wait(timeout=10)
        self.procs.clear()


@pytest.fixture
def make_cluster(tmp_path):
    made = []

    def make(**kw):
        base = tmp_path / ("c%d" % len(made))
        base.mkdir()
        cluster = Cluster(base, **kw)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.close()
    assert procs.owned_pids(str(tmp_path)) == []


def test_single_pd_api(make_cluster):
    kv1, kv2 = Listener(), Listener()
    kv2.close()
    cluster = make_cluster(n_pd=1, tikv_ports=[kv1.port, kv2.port])
    cluster.start(0)
    base = cluster.url(0)
    status, body = request(base + "/pd/ping")
    assert (status, body) == (200, b"")
    assert get_json(base + "/pd/api/v1/version") == {"version": "v7.5.1"}
    members = get_json(base + "/pd/api/v1/members")
    assert [m["name"] for m in members["members"]] == ["pd-0"]
    assert members["leader"]["name"] == "pd-0" and members["header"]["cluster_id"] > 0
    assert members["members"][0]["client_urls"] == [base]
    health = get_json(base + "/pd/api/v1/health")
    assert health == [{"name": "pd-0", "member_id": members["members"][0]["member_id"],
                       "client_urls": [base], "health": True}]
    assert get_json(base + "/pd/api/v1/leader")["name"] == "pd-0"
    assert get_json(base + "/pd/api/v1/cluster") == {"id": members["header"]["cluster_id"],
                                                     "max_peer_count": 3}
    assert get_json(base + "/pd/api/v1/config")["pd-server"]["dashboard-address"] == base

    # a TiKV registers when it first answers; state follows a real TCP probe
    stores = get_json(base + "/pd/api/v1/stores")
    assert stores["count"] == 1
    assert stores["stores"][0]["store"]["address"] == "127.0.0.1:%d" % kv1.port
    assert stores["stores"][0]["store"]["state_name"] == "Up"
    assert stores["stores"][0]["store"]["version"] == "7.5.1"
    kv2.open()
    stores = get_json(base + "/pd/api/v1/stores?state=0&state=1&state=2")
    by_addr = {s["store"]["address"]: s["store"] for s in stores["stores"]}
    assert {a: s["id"] for a, s in by_addr.items()} == {
        "127.0.0.1:%d" % kv1.port: 1, "127.0.0.1:%d" % kv2.port: 2}
    kv1.close()
    stores = get_json(base + "/pd/api/v1/stores")
    by_addr = {s["store"]["address"]: s["store"] for s in stores["stores"]}
    assert by_addr["127.0.0.1:%d" % kv1.port]["state_name"] == "Down"
    assert by_addr["127.0.0.1:%d" % kv2.port]["state_name"] == "Up"
    assert get_json(base + "/pd/api/v1/store/2")["store"]["address"] == "127.0.0.1:%d" % kv2.port
    status, body = request(base + "/pd/api/v1/store/9")
    assert status == 404 and json.loads(body) == "[PD:core:ErrStoreNotFound]store 9 not found"
    status, body = request(base + "/pd/api/v1/stores?state=x")
    assert status == 400

    # restarting PD keeps the store ids (the state is shared, like etcd)
    cluster.stop(0)
    cluster.start(0)
    stores = get_json(base + "/pd/api/v1/stores")
    assert sorted(s["store"]["id"] for s in stores["stores"]) == [1, 2]

    # errors the way PD/gorilla answer them
    status, body = request(base + "/pd/api/v1/nothing")
    assert (status, body) == (404, b"404 page not found\n")
    status, body = request(base + "/pd/api/v1/members", method="POST")
    assert status == 405
    status, body = request(base + "/pd/api/v2/ready")
    assert status == 404  # added in PD v8.5.2
    kv2.close()


def test_gc_safepoints(make_cluster):
    cluster = make_cluster(n_pd=1)
    cluster.start(0)
    base = cluster.url(0)
    doc = get_json(base + "/pd/api/v1/gc/safepoint")
    assert doc["service_gc_safe_points"][0]["service_id"] == "gc_worker"
    assert doc["service_gc_safe_points"][0]["expired_at"] == 9223372036854775807
    assert set(doc) >= {"service_gc_safe_points", "gc_safe_point"}
    ts = (int(time.time() * 1000) << 18)
    assert update_service_safepoint(cluster.state, "br-1234", 300, ts) == 0  # gc_worker at 0
    doc = get_json(base + "/pd/api/v1/gc/safepoint")
    ids = {s["service_id"]: s for s in doc["service_gc_safe_points"]}
    assert ids["br-1234"]["safe_point"] == ts
    assert ids["br-1234"]["expired_at"] > time.time()
    status, body = request(base + "/pd/api/v1/gc/safepoint/br-1234", method="DELETE")
    assert (status, json.loads(body)) == (200, "Delete service GC safepoint successfully.")
    doc = get_json(base + "/pd/api/v1/gc/safepoint")
    assert [s["service_id"] for s in doc["service_gc_safe_points"]] == ["gc_worker"]
    # the emulated GC worker: once the cluster is older than the life time, the safepoint
    # moves to now - life time, held back by live service safepoints
    held = ((int(time.time()) - 1800) * 1000) << 18
    update_service_safepoint(cluster.state, "cdc-x", 600, held)
    with open(cluster.state) as handle:
        state = json.load(handle)
    state["created"] -= 3600
    with open(cluster.state, "w") as handle:
        json.dump(state, handle)
    gc = read_gc(cluster.state)
    assert gc["gc_worker"] == held
    # a safepoint behind the GC safepoint is refused (the minimum is returned)
    assert update_service_safepoint(cluster.state, "late", 600, held - 1) == held
    update_service_safepoint(cluster.state, "cdc-x", 0, 0)
    assert read_gc(cluster.state)["gc_worker"] > held
    doc = get_json(base + "/pd/api/v1/gc/safepoint")
    assert doc["gc_safe_point"] == doc["service_gc_safe_points"][0]["safe_point"] > held


def test_leader_follows_topology_order_and_quorum(make_cluster):
    cluster = make_cluster(n_pd=3)
    for i in range(3):
        cluster.start(i)
    assert get_json(cluster.url(2) + "/pd/api/v1/leader")["name"] == "pd-0"
    cluster.stop(0)
    time.sleep(0.4)  # the stand-in caches probes for 0.3 s
    assert get_json(cluster.url(2) + "/pd/api/v1/leader")["name"] == "pd-1"
    health = {h["name"]: h["health"] for h in get_json(cluster.url(1) + "/pd/api/v1/health")}
    assert health == {"pd-0": False, "pd-1": True, "pd-2": True}
    cluster.stop(1)
    time.sleep(0.4)
    status, body = request(cluster.url(2) + "/pd/api/v1/leader")
    assert status == 500
    assert json.loads(body) == "[PD:apiutil:ErrRedirectNoLeader]redirect finds no leader"
    status, body = request(cluster.url(2) + "/pd/ping")
    assert status == 200  # a PD without quorum still answers ping


def test_ready_exists_from_v8_5_2(make_cluster):
    cluster = make_cluster(n_pd=1, version="v8.5.2")
    cluster.start(0)
    assert request(cluster.url(0) + "/pd/api/v2/ready") == (200, b"")
    assert get_json(cluster.url(0) + "/pd/api/v2/ready?verbose") == {
        "region_loaded": True, "is_bootstrapped": True}


def tikv_argv(port, status_port, pd, log, timeout="1"):
    return [sys.executable, "-m", "tests.sandbox.tikv_server", "--addr", "127.0.0.1:%d" % port,
            "--status-addr", "127.0.0.1:%d" % status_port, "--pd", pd, "--log-file", log,
            "--pd-timeout", timeout]


def test_tikv_needs_pd(make_cluster, tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    env[procs.OWNER_ENV] = str(tmp_path)
    port, status_port = procs.free_port(), procs.free_port()
    log = str(tmp_path / "tikv.log")
    result = subprocess.run(tikv_argv(port, status_port, "127.0.0.1:%d" % procs.free_port(), log),
                            env=env, cwd=REPO_ROOT, timeout=30, check=False,
                            stdin=subprocess.DEVNULL, capture_output=True)
    assert result.returncode == 1
    with open(log) as handle:
        text = handle.read()
    assert "[FATAL]" in text and "PD cluster failed to respond" in text
    assert not procs.port_open(port)

    cluster = make_cluster(n_pd=1)
    cluster.start(0)
    proc = subprocess.Popen(tikv_argv(port, status_port, "127.0.0.1:%d" % cluster.pds[0]["client_port"],  # pylint: disable=consider-using-with
                                      log, "10"), env=env, cwd=REPO_ROOT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        assert procs.wait_until(lambda: procs.port_open(port) and procs.port_open(status_port), 15)
        assert request("http://127.0.0.1:%d/status" % status_port) == (200, b"")
        status, body = request("http://127.0.0.1:%d/metrics" % status_port)
        assert status == 200 and b'tikv_raftstore_region_count{type="leader"}' in body
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
