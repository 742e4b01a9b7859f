"""dm_source, dm_task_info, dm_member_info and dm_member against the fake DM-master."""
import copy
import json

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.tidbops.manager.plugins.module_utils.dm import api as dm_api
from ansible_collections.tidbops.manager.plugins.modules import dm_member, dm_member_info, dm_source, dm_task, dm_task_info
from tests.unit.plugins.modules.test_dm_task import TASK, FakeDm

SRC_PASSWORD = "Upstream-Secret-3q"


@pytest.fixture
def fake(monkeypatch):
    dm = FakeDm()
    monkeypatch.setattr(dm_api.DmClient, "from_params", classmethod(lambda cls, params: dm.client()))
    return dm


def run(main, args, capsys, check=False, diff=False):
    with patch_module_args(dict(args, _ansible_check_mode=check, _ansible_diff=diff)):
        with pytest.raises(SystemExit):
            main()
    out = capsys.readouterr().out
    assert SRC_PASSWORD not in out and "Target-Secret-7x" not in out
    return json.loads(out)


def source_args(**extra):
    return dict(dict(name="mysql-01", host="10.0.2.10", port=3306, user="dm", password=SRC_PASSWORD), **extra)


def test_source_create_idempotent_and_write_only_password(fake, capsys):
    assert run(dm_source.main, source_args(), capsys, check=True)["actions"] == ["create"] and fake.sources == {}
    result = run(dm_source.main, source_args(), capsys)
    assert result["actions"] == ["create"] and fake.sources["mysql-01"]["password"] == SRC_PASSWORD
    assert result["source"]["password"] == "******"
    assert not run(dm_source.main, source_args(), capsys)["changed"]  # the masked password is not a change
    always = run(dm_source.main, source_args(update_password="always"), capsys)
    put = [b for m, p, b in fake.log if m == "PUT"]
    assert always["actions"] == ["update"] and put[-1]["source"]["password"] == SRC_PASSWORD


def test_source_update_keeps_the_password_unless_always(fake, capsys):
    run(dm_source.main, source_args(), capsys)
    result = run(dm_source.main, source_args(host="10.0.2.11"), capsys, diff=True)
    assert result["actions"] == ["update"] and result["changed_fields"] == ["host"]
    put = [b for m, p, b in fake.log if m == "PUT"][0]
    assert "password" not in put["source"] and put["source"]["host"] == "10.0.2.11"
    assert "10.0.2.10" in result["diff"]["before"] and "password" not in result["diff"]["after"]


def test_source_from_yaml_file_states_transfer_relay_and_delete(fake, capsys, tmp_path):
    path = tmp_path / "source.yaml"
    path.write_text(yaml.safe_dump({"source-id": "mysql-02", "enable-gtid": True,
                                    "from": {"host": "h", "port": 3306, "user": "u", "password": SRC_PASSWORD}}))
    assert run(dm_source.main, dict(source_file=str(path), state="disabled"), capsys)["actions"] == ["create"]
    assert fake.sources["mysql-02"]["enable"] is False and fake.sources["mysql-02"]["enable_gtid"] is True
    result = run(dm_source.main, dict(source_file=str(path), state="enabled", worker="w2", relay="enabled"), capsys)
    assert result["actions"] == ["transfer", "enable", "relay_enable"]
    again = run(dm_source.main, dict(source_file=str(path), state="enabled", worker="w2", relay="enabled"), capsys)
    assert not again["changed"]
    assert run(dm_source.main, dict(name="mysql-02", relay="disabled"), capsys)["actions"] == ["relay_disable"]
    assert run(dm_source.main, dict(name="mysql-02", state="absent", force=True), capsys)["actions"] == ["delete"]
    assert ("DELETE", "/api/v1/sources/mysql-02?force=true") in fake.writes()
    assert not run(dm_source.main, dict(name="mysql-02", state="absent"), capsys)["changed"]


def test_source_wrong_password_and_unknown_source(fake, capsys):
    result = run(dm_source.main, source_args(password="wrong"), capsys)
    assert result["error_code"] == "DM_SOURCE_INVALID" and result["dm_error_code"] == 10001
    assert run(dm_source.main, dict(name="ghost", state="enabled"), capsys)["error_code"] == "DM_SOURCE_INVALID"
    fake.fail_next[("POST", "/api/v1/tasks")] = (46008, "source config with ID mysql-01 not exists")
    unknown = run(dm_task.main, dict(task=copy.deepcopy(TASK)), capsys)
    assert unknown["error_code"] == "DM_SOURCE_NOT_FOUND" and unknown["dm_error_code"] == 46008


def test_task_info_lists_filters_and_gets_yaml(fake, capsys, tmp_path):
    run(dm_task.main, dict(task=copy.deepcopy(TASK), state="started"), capsys)
    other = copy.deepcopy(TASK)
    other["name"] = "crm"
    other["mysql-instances"] = other["mysql-instances"][1:]
    run(dm_task.main, dict(task=other, state="stopped"), capsys)
    listed = run(dm_task_info.main, {}, capsys)["tasks"]
    assert [(t["name"], t["stage"]) for t in listed] == [("crm", "Stopped"), ("orders", "Running")]
    assert [t["name"] for t in run(dm_task_info.main, dict(stage="Stopped"), capsys)["tasks"]] == ["crm"]
    assert [t["name"] for t in run(dm_task_info.main, dict(sources=["mysql-01"]), capsys)["tasks"]] == ["orders"]
    dest = tmp_path / "orders.yaml"
    one = run(dm_task_info.main, dict(name="orders", dest=str(dest), sources=["mysql-02"]), capsys)
    assert one["exists"] and one["changed"] and [s["source_name"] for s in one["status"]] == ["mysql-02"]
    saved = yaml.safe_load(dest.read_text())
    assert saved["target-database"]["password"] == "******" and saved["block-allow-list"]
    assert not run(dm_task_info.main, dict(name="orders", dest=str(dest)), capsys)["changed"]
    assert run(dm_task_info.main, dict(name="ghost"), capsys)["exists"] is False


def test_member_info_and_offline(fake, capsys, monkeypatch):
    info = run(dm_member_info.main, {}, capsys)
    assert info["leader"] == "master-1" and [w["name"] for w in info["workers"]] == ["worker-1"]
    assert run(dm_member_info.main, dict(role="leader"), capsys)["masters"][0]["name"] == "master-1"
    assert run(dm_member.main, dict(member_name="worker-1"), capsys)["actions"] == ["offline"]
    assert ("DELETE", "/api/v1/cluster/workers/worker-1") in fake.writes()
    assert not run(dm_member.main, dict(member_name="worker-9"), capsys)["changed"]


def test_dmctl_only_operations_say_so_without_dmctl(fake, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    evict = run(dm_member.main, dict(member_name="master-2", state="leader_evicted"), capsys)
    assert evict["error_code"] == "DM_DMCTL_NOT_FOUND" and "only in dmctl" in evict["msg"]
    assert run(dm_member.main, dict(state="ddl_lock_unlocked", lock_id="x"), capsys)["error_code"] == "DM_DMCTL_NOT_FOUND"
    assert run(dm_member_info.main, dict(ddl_locks=True), capsys)["error_code"] == "DM_DMCTL_NOT_FOUND"


def test_leader_eviction_through_dmctl_reads_its_result_not_its_exit_code(fake, capsys, tmp_path):
    dmctl = tmp_path / "dmctl"
    dmctl.write_text("#!/bin/sh\necho \"$@\" > %s/args\necho '{\"result\": false, \"msg\": \"not leader\"}'\nexit 0\n"
                     % tmp_path)
    dmctl.chmod(0o755)
    result = run(dm_member.main, dict(member_name="master-2", state="leader_evicted", dmctl_path=str(dmctl)), capsys)
    assert result["error_code"] == "DM_DMCTL_FAILED" and "not leader" in result["msg"]
    assert (tmp_path / "args").read_text().split() == ["--master-addr", "10.0.0.2:8261", "operate-leader", "evict"]
