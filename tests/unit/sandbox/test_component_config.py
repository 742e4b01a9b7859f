"""The configuration the TiKV and PD stand-ins keep: what they take online, what they refuse
with the real servers' texts, and what TiKV writes back to its config file."""
import tomllib

import pytest

from tests.sandbox import component_config as cc
from tests.sandbox import pd_server
from tests.sandbox.tikv_config import OnlineConfig


def test_values_take_the_type_of_the_items_default():
    assert cc.coerce(3000, "1000") == 1000
    assert cc.coerce(True, "false") is False
    assert cc.coerce("96MiB", 1024) == "1024B"
    assert cc.coerce("10s", "1m") == "1m"
    for default, value in ((3000, "many"), (3000, True), (True, 1), ("96MiB", "big"), ("10s", "soon")):
        with pytest.raises(ValueError):
            cc.coerce(default, value)


def test_tikv_takes_dynamic_items_and_writes_them_to_its_file(tmp_path):
    path = tmp_path / "tikv.toml"
    path.write_text("# WARNING: generated\n[split]\nqps-threshold = 2000\n")
    config = OnlineConfig(str(path))
    assert config.get()["split"]["qps-threshold"] == 2000
    assert config.update({"split.qps-threshold": 1000, "raftstore.apply-pool-size": "3"}) is None
    assert config.get()["raftstore"]["apply-pool-size"] == 3
    text = path.read_text()
    assert text.startswith("# WARNING: generated\n")
    assert tomllib.loads(text)["split"]["qps-threshold"] == 1000
    # a restart reads the file: the change is still there
    assert OnlineConfig(str(path)).get()["split"]["qps-threshold"] == 1000


def test_tikv_refuses_what_it_cannot_change_online_and_changes_nothing(tmp_path):
    path = tmp_path / "tikv.toml"
    path.write_text("")
    config = OnlineConfig(str(path))
    assert config.update({"log-level": "warn"}) == 'fail to update, error: "config log-level can not be changed"'
    assert config.update({"split.qps-threshold": 5, "storage.scheduler-concurrency": 1}) == \
        'fail to update, error: "config storage.scheduler-concurrency can not be changed"'
    assert config.update({"split.qps-threshold": "many"}).startswith("fail to update, error: ")
    assert config.get()["split"]["qps-threshold"] == 3000
    assert path.read_text() == ""


def test_pd_checks_items_like_its_config_api():
    for value, ok in ((2, True), ("2", False), (-1, False), (True, False)):
        try:
            pd_server._pd_value(3, value)
            assert ok
        except ValueError as exc:
            assert not ok and "cannot unmarshal" in str(exc)
    assert pd_server._pd_value("true", False) == "false"
    assert pd_server._child_tag(cc.flatten(pd_server.PERSISTED_DEFAULTS), "max-replicas") == \
        "replication.max-replicas"
