"""Topology checks made before tiup runs, and drift between requested and deployed."""
import copy

import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.cluster import topology as topo

BASE = {
    "global": {"user": "tidb", "deploy_dir": "/tidb-deploy"},
    "pd_servers": [{"host": "10.0.0.1"}],
    "tikv_servers": [{"host": "10.0.0.2"}, {"host": "10.0.0.3", "port": 20161}],
    "tidb_servers": [{"host": "10.0.0.4"}],
}


def code_of(func, *args):
    with pytest.raises(TidbOpsError) as caught:
        func(*args)
    return caught.value.code


@pytest.mark.parametrize("version", ["v7.5.1", "v8.5.0-alpha", "nightly", "v6.5.10"])
def test_good_versions(version):
    topo.validate_version(version)


@pytest.mark.parametrize("version", ["7.5.1", "v7.5", "latest", "", None, "v7.5.1 ; rm -rf /"])
def test_bad_versions(version):
    assert code_of(topo.validate_version, version) == "CLUSTER_VERSION_INVALID"


@pytest.mark.parametrize("mutate", [
    lambda t: t.update(pd_servers="nope"),
    lambda t: t.update(tikv_nodes=[]),
    lambda t: t["tikv_servers"].append({"port": 1}),
    lambda t: t["tikv_servers"].append({"host": "10.0.0.2"}),
    lambda t: t["tidb_servers"].append({"host": "h", "port": "4000"}),
    lambda t: t["tidb_servers"].append({"host": "h", "status_port": 70000}),
    lambda t: t.pop("pd_servers"),
    lambda t: t.update(global_="x") or t.update({"global": ["x"]}),
])
def test_malformed_topologies(mutate):
    broken = copy.deepcopy(BASE)
    mutate(broken)
    assert code_of(topo.validate_topology, broken) == "CLUSTER_TOPOLOGY_INVALID"


def test_instances_use_default_ports():
    topo.validate_topology(BASE)
    assert topo.topology_instances(BASE) == [
        ("pd", "10.0.0.1:2379"), ("tidb", "10.0.0.4:4000"),
        ("tikv", "10.0.0.2:20160"), ("tikv", "10.0.0.3:20161")]


def test_selection_must_exist():
    instances = topo.topology_instances(BASE)
    topo.validate_selection(instances, ["tikv"], ["10.0.0.3:20161"])
    assert code_of(topo.validate_selection, instances, ["tiflash"], []) == "CLUSTER_NODE_NOT_FOUND"
    assert code_of(topo.validate_selection, instances, [], ["10.0.0.9:1"]) == "CLUSTER_NODE_NOT_FOUND"


def test_select_instances_applies_both_filters():
    listed = [{"id": "a:1", "role": "tikv"}, {"id": "b:1", "role": "pd"}, {"id": "c:1", "role": "tikv"}]
    assert topo.select_instances(listed, ["tikv"], []) == [listed[0], listed[2]]
    assert topo.select_instances(listed, ["tikv"], ["c:1", "b:1"]) == [listed[2]]
    assert topo.select_instances(listed, [], []) == listed


def deployed():
    """What show-config prints for BASE: defaults filled in, relative paths made absolute."""
    filled = copy.deepcopy(BASE)
    filled["global"].update(ssh_port=22, data_dir="data")
    filled["pd_servers"][0].update(client_port=2379, peer_port=2380, deploy_dir="/tidb-deploy/pd-2379")
    for tikv in filled["tikv_servers"]:
        tikv.setdefault("port", 20160)
        tikv.update(status_port=20180)
    filled["tidb_servers"][0].update(port=4000, status_port=10080)
    return filled


def test_no_drift_when_only_defaults_differ():
    assert topo.topology_drift(BASE, deployed()) == []


def test_drift_lists_added_removed_and_changed():
    wanted = copy.deepcopy(BASE)
    wanted["tidb_servers"].append({"host": "10.0.0.5"})
    wanted["tikv_servers"].pop(0)
    wanted["pd_servers"][0]["peer_port"] = 2390
    wanted["server_configs"] = {"tikv": {"storage.reserve-space": "0"}}
    found = topo.topology_drift(wanted, deployed())
    assert any("10.0.0.5:4000 is requested but not deployed" in d for d in found)
    assert any("10.0.0.2:20160 is deployed but not requested" in d for d in found)
    assert any("peer_port: deployed 2380, requested 2390" in d for d in found)
    assert any(d.startswith("server_configs.tikv") for d in found)


def test_relative_deploy_dir_matches_absolute():
    wanted = copy.deepcopy(BASE)
    wanted["pd_servers"][0]["deploy_dir"] = "pd-2379"
    assert topo.topology_drift(wanted, deployed()) == []


def test_import_addresses_from_display_instances():
    instances = [dict(role="pd", host="10.0.0.1", ports="2379/2380"), dict(role="pd", host="10.0.0.2", ports="2379/2380"),
                 dict(role="tidb", host="10.0.0.3", ports="4001/10081"), dict(role="tidb", host="10.0.0.4", ports="4000/10080"),
                 dict(role="tikv", host="10.0.0.5", ports="20160/20180")]
    assert topo.import_addresses(instances, 4000) == ("10.0.0.1:2379", 10080)
    assert topo.import_addresses(instances, 4001, pd_addr="pd:1") == ("pd:1", 10081)
    assert topo.import_addresses(instances, 5000) == ("10.0.0.1:2379", None)


def test_tikv_cdc_instances_have_the_role_tiup_gives_them():
    topology = dict(pd_servers=[dict(host="h")], tikv_servers=[dict(host="h")], kvcdc_servers=[dict(host="h")])
    assert ("tikv-cdc", "h:8600") in topo.topology_instances(topology)
    assert "tikv-cdc" in topo.ROLES and "kvcdc" not in topo.ROLES


@pytest.mark.parametrize("section, value, instance", [
    ("component_sources", {"tikv": "tikv-nightly"}, None),
    ("resource_manager_servers", [dict(host="h")], ("resource-manager", "h:3379")),
    ("router_servers", [dict(host="h", port=3380)], ("router", "h:3380")),
    ("tispark_masters", [dict(host="h")], ("tispark-master", "h:7077")),
    ("tispark_workers", [dict(host="h")], ("tispark-worker", "h:7078")),
])
def test_every_section_tiup_accepts_is_accepted(section, value, instance):
    topology = {"pd_servers": [dict(host="p")], "tikv_servers": [dict(host="k")], section: value}
    topo.validate_topology(topology)
    if instance:
        assert instance in topo.topology_instances(topology)
