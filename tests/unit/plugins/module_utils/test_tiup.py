"""The tiup runner: JSON-mode parsing and error codes, with tiup's documented output shapes."""
import json

import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.tiup import (
    Tiup, parse_trailer, selection_args)


class FakeModule(object):
    def __init__(self, answers, bin_path="/usr/bin/tiup"):
        self.answers = list(answers)
        self.calls = []
        self.bin_path = bin_path

    def get_bin_path(self, name):
        return self.bin_path

    def run_command(self, argv, environ_update=None, cwd=None, data=None, binary_data=False):
        self.calls.append((argv, environ_update))
        return self.answers.pop(0)


DISPLAY = {"cluster_meta": {"cluster_name": "c1", "cluster_version": "v7.5.1"},
           "instances": [{"id": "127.0.0.1:20160", "role": "tikv", "status": "Up"}]}


def test_display_parses_indented_json_and_passes_json_flags():
    module = FakeModule([(0, json.dumps(DISPLAY, indent=2), '{"exit_code":0}\n')])
    tiup = Tiup(module, tiup_home="/srv/tiup")
    assert tiup.display("c1", roles=["tikv"]) == DISPLAY
    argv, env = module.calls[0]
    assert argv == ["/usr/bin/tiup", "cluster", "display", "c1", "--role", "tikv", "--format", "json", "--yes"]
    assert env == {"TIUP_HOME": "/srv/tiup"}


def test_list_reads_the_single_line():
    line = json.dumps({"clusters": [{"name": "c1", "user": "tidb", "version": "v7.5.1"}]})
    tiup = Tiup(FakeModule([(0, line + "\n", '{"exit_code":0}')]))
    assert tiup.list_clusters()[0]["name"] == "c1"


@pytest.mark.parametrize("error, code", [
    ("Cluster c9 not found", "CLUSTER_NOT_FOUND"),
    ("tidb cluster `c9` not exists", "CLUSTER_NOT_FOUND"),
    ("port conflict for '2379' between 'pd_servers:127.0.0.1.client_port' and 'tikv_servers'",
     "CLUSTER_TOPOLOGY_INVALID"),
    ("something else broke", "TIUP_COMMAND_FAILED"),
])
def test_errors_get_codes_from_the_trailer(error, code):
    trailer = json.dumps({"exit_code": 1, "error": error})
    tiup = Tiup(FakeModule([(1, "", '{"level":"info","message":"x"}\n' + trailer)]))
    with pytest.raises(TidbOpsError) as caught:
        tiup.cluster("display", "c9")
    assert caught.value.code == code
    assert error in caught.value.msg


def test_deploy_failure_without_specific_cause_is_deploy_failed():
    trailer = json.dumps({"exit_code": 1, "error": "ssh: handshake failed"})
    tiup = Tiup(FakeModule([(1, "", trailer)]))
    with pytest.raises(TidbOpsError) as caught:
        tiup.deploy("c1", "v7.5.1", "/tmp/t.yaml")
    assert caught.value.code == "CLUSTER_DEPLOY_FAILED"


def test_missing_tiup_is_reported():
    with pytest.raises(TidbOpsError) as caught:
        Tiup(FakeModule([], bin_path=None))
    assert caught.value.code == "TIUP_NOT_FOUND"
    with pytest.raises(TidbOpsError) as caught:
        Tiup(FakeModule([]), tiup_path="/nonexistent/tiup")
    assert caught.value.code == "TIUP_NOT_FOUND"


def test_non_json_output_is_an_error():
    tiup = Tiup(FakeModule([(0, "not json at all", '{"exit_code":0}')]))
    with pytest.raises(TidbOpsError) as caught:
        tiup.display("c1")
    assert caught.value.code == "TIUP_OUTPUT_INVALID"


def test_trailer_and_selection_helpers():
    assert parse_trailer('noise\n{"level":"warn","message":"w"}\n{"exit_code":0}') == {"exit_code": 0}
    assert parse_trailer("no trailer") is None
    assert selection_args(["tikv", "pd"], ["h:1"]) == ["--role", "tikv,pd", "--node", "h:1"]
