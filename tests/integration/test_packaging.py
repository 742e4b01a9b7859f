"""The collection builds, its tarball installs, and every module's documentation renders."""
import glob
import json
import os
import subprocess
import sys

import yaml

from ansible_collections.tidbops.manager.plugins.module_utils.specs import BLOCKS
from ansible_collections.tidbops.manager.plugins.plugin_utils.defaults import module_options
from tests.conftest import COLLECTIONS_ROOT, REPO_ROOT

BIN = os.path.dirname(sys.executable)
MODULES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(REPO_ROOT, "plugins", "modules", "*.py"))
                 if not p.endswith("__init__.py"))


def test_every_module_is_in_the_all_action_group():
    with open(os.path.join(REPO_ROOT, "meta", "runtime.yml")) as handle:
        runtime = yaml.safe_load(handle)
    assert sorted(runtime["action_groups"]["all"]) == MODULES
    # Each module is in the group of its family too (tidb_*, dm_*).
    assert sorted(runtime["action_groups"]["tidb"] + runtime["action_groups"]["dm"]) == MODULES
    assert all(m.startswith("tidb_") for m in runtime["action_groups"]["tidb"])
    assert runtime["requires_ansible"].startswith(">=2.16")


def test_build_install_and_ansible_doc(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(dist),
                    REPO_ROOT], check=True, capture_output=True, text=True)
    tarballs = glob.glob(str(dist / "tidbops-manager-*.tar.gz"))
    assert len(tarballs) == 1
    installed = tmp_path / "collections"
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", "-p", str(installed),
                    tarballs[0]], check=True, capture_output=True, text=True)
    root = installed / "ansible_collections" / "tidbops" / "manager"
    assert (root / "meta" / "runtime.yml").is_file()
    assert not (root / ".venv").exists() and not (root / "build").exists()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(installed))
    for module in MODULES:
        shown = subprocess.run([os.path.join(BIN, "ansible-doc"), "tidbops.manager." + module], env=env,
                               check=False, capture_output=True, text=True)
        assert shown.returncode == 0, (module, shown.stderr)
        doc = shown.stdout
        assert "EXAMPLES" in doc and "RETURN VALUES" in doc, module
        assert "tidbops.manager." + module in doc


def test_ansible_doc_shows_each_module_only_the_options_it_uses():
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT)
    shown = subprocess.run([os.path.join(BIN, "ansible-doc"), "--json"] + ["tidbops.manager." + m for m in MODULES],
                           env=env, check=True, capture_output=True, text=True)
    docs = json.loads(shown.stdout)
    options = dict((name.rpartition(".")[2], set(doc["doc"]["options"])) for name, doc in docs.items())
    assert sorted(options) == MODULES
    assert not options["tidb_query"] & {"dm_master_url", "catalog", "s3_secret_key", "tiup_home", "ssh_user"}
    assert {"login_host", "login_password", "query"} <= options["tidb_query"]
    assert not options["dm_task"] & {"login_host", "catalog", "tiup_path"} and "dm_master_url" in options["dm_task"]
    assert not options["tidb_cluster_info"] & {"login_host", "catalog", "ssh_user", "dm_master_url"}
    assert {"ssh_user", "tiup_home"} <= options["tidb_cluster"] and "login_host" not in options["tidb_cluster"]
    # Every module documents the blocks it names (plugin_utils reads the same list).
    for module, names in options.items():
        blocks, _own = module_options(module)
        assert set().union(*(set(BLOCKS[b]()) for b in blocks)) <= names, module
