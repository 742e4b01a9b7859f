"""The one direction of imports (docs/architecture.md): only the outside-facing files of
module_utils (tools/ and storage/) import the libraries that reach outside the process, and
a module that needs no S3 or HTTP does not pay for loading boto3 or Ansible's HTTP client."""
import ast
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = os.path.join(ROOT, "plugins")
# The libraries that run programs, open sockets or touch trees of files.
OUTSIDE = ("subprocess", "pymysql", "boto3", "botocore", "socket", "shutil", "http.client",
           "urllib.request", "urllib.error", "ansible.module_utils.urls",
           "ansible.module_utils.six.moves.urllib.request", "ansible.module_utils.six.moves.urllib.error")
OUTSIDE_FACING = ("module_utils/tools/", "module_utils/storage/")
# Controller-side plugins run Ansible's own machinery, not the managed node's.
CONTROLLER = ("action/",)


def imported_names(path):
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            for alias in node.names:
                yield "%s.%s" % (node.module, alias.name)


def python_files():
    for directory, _dirs, files in os.walk(PLUGINS):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                yield os.path.relpath(path, PLUGINS).replace(os.sep, "/"), path


def reaches_outside(name):
    return any(name == lib or name.startswith(lib + ".") for lib in OUTSIDE)


def test_only_outside_facing_files_import_outside_libraries():
    offenders = []
    for rel, path in python_files():
        if rel.startswith(OUTSIDE_FACING + CONTROLLER):
            continue
        offenders += ["%s imports %s" % (rel, name) for name in imported_names(path) if reaches_outside(name)]
    assert offenders == []


def test_the_rule_sees_an_offender(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import shutil\nfrom ansible.module_utils.urls import open_url\n")
    assert [n for n in imported_names(str(bad)) if reaches_outside(n)] == [
        "shutil", "ansible.module_utils.urls", "ansible.module_utils.urls.open_url"]


@pytest.mark.parametrize("module", ["tidb_query", "tidb_gc", "tidb_cluster", "tidb_cluster_info", "tidb_backup",
                                    "tidb_restore", "tidb_backup_info", "tidb_export", "tidb_import",
                                    "tidb_variables", "tidb_user", "tidb_changefeed", "tidb_changefeed_info",
                                    "tidb_config"])
def test_tidb_modules_load_neither_boto3_nor_the_http_client(module):
    code = ("import sys; sys.path.insert(0, %r); "
            "import ansible_collections.tidbops.manager.plugins.modules.%s; "
            "print(sorted(m for m in ('boto3', 'botocore', 'ansible.module_utils.urls') if m in sys.modules))"
            % (os.environ["TIDBOPS_COLLECTIONS_ROOT"], module))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["tidb_query", "tidb_gc", "tidb_backup", "tidb_restore", "tidb_backup_info",
                                    "dm_member", "tidb_variables", "tidb_user", "tidb_changefeed",
                                    "tidb_changefeed_info", "tidb_config"])
def test_modules_that_show_no_yaml_do_not_load_pyyaml(module):
    code = ("import sys; sys.path.insert(0, %r); "
            "import ansible_collections.tidbops.manager.plugins.modules.%s; "
            "print('yaml' in sys.modules)" % (os.environ["TIDBOPS_COLLECTIONS_ROOT"], module))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
