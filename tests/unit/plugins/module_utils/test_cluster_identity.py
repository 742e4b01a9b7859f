"""Which physical cluster a job works on: tiup's metadata or an explicit login says where it is,
PD's cluster id says which it is (cluster/identity.py)."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from ansible_collections.tidbops.manager.plugins.module_utils.cluster import identity
from ansible_collections.tidbops.manager.plugins.module_utils.cluster.identity import Cluster, same_cluster
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError


@pytest.fixture
def pd():
    """A PD answering GET /pd/api/v1/cluster with a settable id; yields (endpoint, setter)."""
    state = dict(id=6723894561234567890)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # pylint: disable=invalid-name
            body = json.dumps({"id": state["id"], "max_peer_count": 3}).encode()
            self.send_response(200 if self.path == "/pd/api/v1/cluster" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "127.0.0.1:%d" % server.server_address[1], state
    server.shutdown()
    server.server_close()


def write_meta(home, name, pd_endpoint, tidb=("10.0.0.7", 4100)):
    host, port = pd_endpoint.split(":")
    path = home / "storage" / "cluster" / "clusters" / name
    path.mkdir(parents=True)
    topology = dict(pd_servers=[dict(host=host, client_port=int(port))],
                    tidb_servers=[dict(host=tidb[0], port=tidb[1])] if tidb else [])
    (path / "meta.yaml").write_text(yaml.safe_dump(dict(user="tidb", tidb_version="v7.5.1", topology=topology)))


def params(home, **values):
    base = dict(cluster="c1", tiup_home=str(home), login_host=None, login_port=None, login_user="root",
                login_password="", connect_timeout=5)
    base.update(values)
    return base


def test_a_name_nothing_knows_without_a_login_is_cluster_not_found(tmp_path):
    cluster = Cluster(params(tmp_path, cluster="nosuch"))
    with pytest.raises(TidbOpsError) as error:
        cluster.login()
    assert error.value.code == "CLUSTER_NOT_FOUND" and "nosuch" in error.value.msg
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_name_tiup_knows_logs_in_to_its_first_tidb_and_asks_its_pd(tmp_path, pd):
    endpoint, state = pd
    write_meta(tmp_path, "c1", endpoint)
    cluster = Cluster(params(tmp_path))
    assert (cluster.login()["login_host"], cluster.login()["login_port"]) == ("10.0.0.7", 4100)
    assert cluster.identify() == state["id"] and cluster.key == str(state["id"])
    state["id"] = 1
    assert cluster.identify() == 6723894561234567890  # asked once per job


def test_a_login_given_is_kept_and_defaults_fill_the_rest(tmp_path):
    assert Cluster(params(tmp_path, login_port=4001)).login()["login_host"] == "127.0.0.1"
    assert Cluster(params(tmp_path, login_host="db1")).login()["login_port"] == 4000


def test_a_topology_without_tidb_asks_for_a_login(tmp_path, pd):
    write_meta(tmp_path, "c1", pd[0], tidb=None)
    with pytest.raises(TidbOpsError) as error:
        Cluster(params(tmp_path)).login()
    assert error.value.code == "CLUSTER_TOPOLOGY_INVALID"


def test_a_login_of_another_cluster_than_tiups_is_cluster_mismatch(tmp_path, pd, monkeypatch):
    endpoint, state = pd
    write_meta(tmp_path, "c1", endpoint)
    other = dict(id=42)
    monkeypatch.setattr(Cluster, "pd_of_tidb", lambda self: ["10.9.9.9:2379"])
    real = identity.cluster_id
    monkeypatch.setattr(identity, "cluster_id",
                        lambda endpoints, required=True: other["id"] if endpoints == ["10.9.9.9:2379"]
                        else real(endpoints, required))
    with pytest.raises(TidbOpsError) as error:
        Cluster(params(tmp_path, login_port=4000)).identify()
    assert error.value.code == "CLUSTER_MISMATCH" and "10.9.9.9:2379" in error.value.msg
    other["id"] = state["id"]  # other PD endpoints of the same cluster: fine
    assert Cluster(params(tmp_path, login_port=4000)).identify() == state["id"]


def test_a_login_of_a_cluster_tiup_does_not_know_asks_the_pd_its_tidb_uses(tmp_path, pd, monkeypatch):
    endpoint, state = pd
    monkeypatch.setattr(Cluster, "pd_of_tidb", lambda self: [endpoint])
    assert Cluster(params(tmp_path, cluster="elsewhere", login_host="db1")).identify() == state["id"]


def test_no_pd_answering_is_pd_unreachable(tmp_path, monkeypatch):
    monkeypatch.setattr(Cluster, "pd_of_tidb", lambda self: ["127.0.0.1:9"])
    with pytest.raises(TidbOpsError) as error:
        Cluster(params(tmp_path, login_host="db1")).identify()
    assert error.value.code == "PD_UNREACHABLE"


def test_records_match_by_cluster_id_or_for_old_records_by_name(tmp_path, pd):
    write_meta(tmp_path, "c1", pd[0])
    cluster = Cluster(params(tmp_path))
    assert same_cluster(dict(cluster="alias", cluster_id=pd[1]["id"]), cluster)
    assert not same_cluster(dict(cluster="c1", cluster_id=1), cluster)  # the name, given to a new cluster
    assert same_cluster(dict(cluster="c1"), cluster) and not same_cluster(dict(cluster="c2"), cluster)
