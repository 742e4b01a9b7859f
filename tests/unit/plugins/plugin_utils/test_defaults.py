"""module_defaults' shared options reach only the modules that take them."""

import glob
import os
import re

import pytest
from ansible.errors import AnsibleError

from ansible_collections.tidbops.manager.plugins.module_utils.specs import BLOCKS, secret_names
from ansible_collections.tidbops.manager.plugins.plugin_utils.defaults import (
    MODULES_DIR, defaulted_names, foreign_options, module_options, without_foreign_defaults)

MODULES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(MODULES_DIR, "*.py")))


@pytest.mark.parametrize("module", MODULES)
def test_the_documented_blocks_are_the_blocks_the_module_takes(module):
    with open(os.path.join(MODULES_DIR, module + ".py")) as handle:
        declared = re.search(r"blocks=\(([^)]*)\)", handle.read()).group(1)
    assert module_options(module)[0] == set(re.findall(r'"(\w+)"', declared))


@pytest.mark.parametrize("module", MODULES)
def test_every_module_runs_through_the_collections_action(module):
    """Without its action plugin a module gets module_defaults' foreign options and refuses them."""
    action = os.path.join(os.path.dirname(MODULES_DIR), "action", module + ".py")
    with open(action) as handle:
        assert "class ActionModule(ModuleAction)" in handle.read()


def test_each_module_takes_only_what_it_uses():
    assert module_options("tidb_query") == ({"login"}, {"query", "positional_args", "named_args", "single_transaction"})
    assert module_options("dm_task")[0] == {"dm"}
    assert module_options("tidb_cluster")[0] == {"tiup", "ssh"}
    assert module_options("tidb_import")[0] == {"login", "catalog", "s3", "tiup", "transfer"}
    assert module_options("tidb_backup_info")[0] == {"catalog", "s3", "paging"}
    assert {"name", "cluster_name"} <= module_options("tidb_cluster")[1]


def test_foreign_options_are_those_of_the_other_blocks_aliases_included():
    foreign = foreign_options({"login"})
    assert {"dm_master_url", "catalog", "s3_secret_key", "tiup_home", "ssh_user", "work_dir", "cdc_url"} <= foreign
    assert not foreign & {"login_host", "login_password", "ssl_ca"}
    assert foreign_options(set(BLOCKS)) == set()
    # A module's own option of a block's name is not foreign (dm_task's wait, wait_timeout).
    assert "wait" in foreign_options({"dm"}) and "wait" not in foreign_options({"dm"}, own={"wait"})


def test_defaulted_names_reads_groups_modules_and_templated_entries():
    defaults = [{"group/tidbops.manager.all": "{{ tidbops_defaults }}"},
                {"tidbops.manager.tidb_query": {"login_port": 4001}, "group/other": "not a dict"}]
    templated = {"{{ tidbops_defaults }}": {"catalog": "/c", "dm_master_url": ["http://m:8261"]}}
    names = defaulted_names(defaults, lambda value: templated.get(value, value))
    assert names == {"catalog", "dm_master_url", "login_port"}
    assert defaulted_names(None, str) == set()
    assert defaulted_names({"group/tidbops.manager.dm": {"dm_timeout": 5}}, str) == {"dm_timeout"}


def test_only_defaulted_foreign_options_are_dropped():
    args = dict(query="SELECT 1", login_host="h", catalog="/c", dm_master_url=["u"], s3_secret_key="k")
    kept = without_foreign_defaults(args, ({"login"}, {"query"}), defaulted={"login_host", "catalog", "s3_secret_key"})
    # dm_master_url was written on the task itself: it stays, and the module refuses it.
    assert kept == dict(query="SELECT 1", login_host="h", dm_master_url=["u"])


def test_every_secret_of_every_block_is_known_to_the_module_class():
    assert {"login_password", "s3_access_key", "s3_secret_key", "s3_session_token"} <= secret_names()


def test_a_module_whose_documentation_is_not_yaml_is_an_error_not_an_empty_set(tmp_path):
    (tmp_path / "broken.py").write_text("DOCUMENTATION = r\'\'\'\nmodule: broken\ndescription:\n  - a: b: c\n\'\'\'\n")
    with pytest.raises(AnsibleError) as error:
        module_options("broken", modules_dir=str(tmp_path))
    assert "tidbops.manager.broken" in str(error.value) and "YAML" in str(error.value)
