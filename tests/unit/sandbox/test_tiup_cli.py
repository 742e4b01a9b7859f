"""The tiup stand-in's command line, messages and errors (mostly without processes)."""
import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.sandbox.tiup import cluster_cli
from tests.sandbox.tiup import spec as S
from tests.sandbox.tiup.yamlout import dump

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

GOOD = """
global:
  user: tidb
  deploy_dir: /tidb-deploy
  data_dir: /tidb-data
monitored:
  node_exporter_port: 19100
  blackbox_exporter_port: 19115
pd_servers:
  - host: 127.0.0.1
    client_port: 12379
    peer_port: 12380
tikv_servers:
  - host: 127.0.0.1
    port: 30160
    status_port: 30180
tidb_servers:
  - host: 127.0.0.1
    port: 14000
    status_port: 20080
"""


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("TIUP_HOME", str(tmp_path / "tiup"))
    monkeypatch.setenv("TIDBOPS_SANDBOX_DIR", str(tmp_path))
    monkeypatch.delenv("TIUP_COMPONENT_DATA_DIR", raising=False)
    return tmp_path


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    from tests.sandbox.tiup.runtime import generate_ssh_key
    directory = tmp_path_factory.mktemp("ssh")
    generate_ssh_key(str(directory))
    return str(directory / "id_rsa")


@pytest.fixture
def cli(home, capsys, key, monkeypatch):
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)

    def run(*args):
        args = [str(a) for a in args]
        if args and args[0] == "deploy" and "--no-key" not in args:
            args += ["-i", key]
        args = [a for a in args if a != "--no-key"]
        code = cluster_cli.main(args)
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


def write(home, text, name="topo.yaml"):
    path = home / name
    path.write_text(text)
    return str(path)


def trailer(err):
    return json.loads(err.strip().splitlines()[-1])


def tiup_process(home, *args):
    env = dict(os.environ, TIUP_HOME=str(home / "tiup"), TIDBOPS_SANDBOX_DIR=str(home),
               PYTHONPATH=REPO_ROOT)
    return subprocess.run([sys.executable, "-m", "tests.sandbox.tiup"] + list(args), env=env,
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, check=False)


def test_version_and_unknown_component(home):
    result = tiup_process(home, "--version")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == "1.16.1 tiup"
    assert result.stdout.splitlines()[1].startswith("Go Version: go")
    result = tiup_process(home, "nosuchthing", "--x")
    assert result.returncode == 1
    assert "The component `nosuchthing` not found (may be deleted from repository); skipped" \
        in result.stdout
    assert result.stderr.strip().endswith(
        "Error: use `tiup install nosuchthing` to install component `nosuchthing` first: "
        "component not installed")
    result = tiup_process(home, "cluster", "list", "--format", "json")
    assert result.returncode == 0
    assert result.stdout == '{"clusters":[]}\n'
    assert result.stderr == '{"exit_code":0}\n'  # no "Starting component" for cluster


def test_flag_errors_are_plain_text_even_in_json_mode(cli):
    code, out, err = cli("display", "x", "--format", "json", "--bogus")
    assert code == 1
    assert err.startswith("\nError: unknown flag: --bogus\n")
    code, out, err = cli("display", "x", "--status-timeout", "abc")
    assert code == 1
    assert 'invalid argument "abc" for "--status-timeout" flag: strconv.ParseUint' in err
    code, out, err = cli("stop", "x", "-Z")
    assert "unknown shorthand flag: 'Z' in -Z" in err


def test_not_found_messages(cli):
    code, out, err = cli("display", "nope", "--format", "json")
    assert (code, trailer(err)) == (1, {"exit_code": 1, "error": "Cluster nope not found"})
    for sub in ("start", "stop", "restart", "destroy", "show-config"):
        code, out, err = cli(sub, "nope", "--format", "json", "-y")
        assert code == 1, sub
        assert trailer(err) == {"exit_code": 1, "error": "tidb cluster `nope` not exists"}, sub


def test_argument_checks(cli, home):
    code, out, err = cli("deploy", "a", "v7.5.1", "--format", "json")
    assert trailer(err)["error"] == ("tui.mismatch_args: Expect at least 3 arguments, but "
                                     "received 2 arguments")
    code, out, err = cli("start")
    assert code == 0 and "Usage:" in out
    code, out, err = cli("deploy", "bad name", "v7.5.1", write(home, GOOD), "-y", "--format", "json")
    assert trailer(err)["error"] == "common.invalid_cluster_name: Cluster name 'bad name' is invalid"
    code, out, err = cli("deploy", "a", "7.x", write(home, GOOD), "-y", "--format", "json")
    assert trailer(err)["error"] == "version 7.x is not a valid SemVer string"
    code, out, err = cli("start", "a", "-R", "tikv,nope", "--format", "json")
    assert trailer(err)["error"].startswith("not valid role: nope, should be one of: [pd tso ")
    code, out, err = cli("scale-out", "a", "x.yaml")
    assert code == 1 and "not emulated" in err


BAD_TOPOLOGIES = [
    ("foo: 1\n" + GOOD, "yaml: unmarshal errors:\n  line 1: field foo not found in type spec.topology"),
    (GOOD.replace("port: 30160", "port: abc"),
     "yaml: unmarshal errors:\n  line 15: cannot unmarshal !!str `abc` into int"),
    (GOOD.replace("  user: tidb", "  user: tidb\n  colour: red"),
     "yaml: unmarshal errors:\n  line 4: field colour not found in type spec.GlobalOptions"),
    (GOOD.replace("port: 30160", "port: 14000"),
     "port conflict for '14000' between 'tidb_servers:127.0.0.1.port' and 'tikv_servers:127.0.0.1.port'"),
    (GOOD.replace("  - host: 127.0.0.1\n    port: 30160", "  - host: ''\n    port: 30160"),
     "`tikv_servers` contains empty host field"),
    (GOOD.replace("status_port: 30180", "status_port: 70000"),
     "`tikv_servers` of status_port=70000 is invalid, port should be in the range [1, 65535]"),
    (GOOD + "tiflash_servers:\n  - host: 127.0.0.1\n", "sandbox: tiflash_servers is not emulated"),
    ("pd_servers: [\n", "yaml: line"),
]


@pytest.mark.parametrize("text,cause", BAD_TOPOLOGIES)
def test_bad_topology(cli, home, text, cause):
    path = write(home, text)
    code, out, err = cli("deploy", "t1", "v7.5.1", path, "-y", "--format", "json")
    assert code == 1
    error = trailer(err)["error"]
    assert error.startswith("topology.parse_failed: Failed to parse topology file %s, cause: " % path)
    assert cause in error
    assert not os.path.exists(home / "tiup" / "storage" / "cluster" / "clusters" / "t1" / "meta.yaml")


def test_bad_topology_default_mode_and_missing_file(cli, home):
    code, out, err = cli("deploy", "t1", "v7.5.1", write(home, "foo: 1\n" + GOOD), "-y")
    assert "Error: Failed to parse topology file" in err and "(topology.parse_failed)" in err
    assert "  caused by: yaml: unmarshal errors:" in err
    missing = str(home / "missing.yaml")
    code, out, err = cli("deploy", "t1", "v7.5.1", missing, "-y", "--format", "json")
    assert trailer(err)["error"] == ("topology.read_failed: Failed to read topology file %s, "
                                     "cause: open %s: no such file or directory" % (missing, missing))


def test_unreachable_host_and_labels(cli, home):
    far = write(home, GOOD.replace("127.0.0.1", "10.0.0.9"))
    code, out, err = cli("deploy", "t1", "v7.5.1", far, "-y", "--format", "json", "-u", "admin")
    assert trailer(err)["error"].startswith(
        "failed to fetch cpu-arch or kernel-name: executor.ssh.execute_failed: Failed to "
        "execute command over SSH for 'admin@10.0.0.9:22'")
    two = GOOD.replace("tidb_servers:", "  - host: 127.0.0.1\n    port: 30161\n"
                                        "    status_port: 30181\ntidb_servers:")
    code, out, err = cli("deploy", "t1", "v7.5.1", write(home, two), "-y", "--format", "json")
    assert trailer(err)["error"] == (
        "check TiKV label failed, please fix that before continue:\n"
        "127.0.0.1:30160:\n\tmultiple TiKV instances are deployed at the same host but location "
        "label missing\n127.0.0.1:30161:\n\tmultiple TiKV instances are deployed at the same host "
        "but location label missing\n")


def test_ssh_credentials_are_required(cli, home, tmp_path):
    path = write(home, GOOD)
    code, out, err = cli("deploy", "t1", "v7.5.1", path, "-y", "--format", "json", "--no-key",
                         "-i", str(tmp_path / "none"))
    assert trailer(err)["error"] == ("tui.id_read_failed: none of ssh password, identity file, "
                                     "SSH_AUTH_SOCK specified")
    bad = write(home, "not a key\n", "bad_key")
    code, out, err = cli("deploy", "t1", "v7.5.1", path, "-y", "--format", "json", "--no-key",
                         "-i", bad)
    assert trailer(err)["error"].startswith(
        "tui.id_read_failed: Failed to read SSH identity file '%s'" % bad)
    assert not S.cluster_exists("t1")


def test_deploy_confirmation(cli, home):
    path = write(home, GOOD)
    code, out, err = cli("deploy", "t1", "v7.5.1", path)
    assert code == 1
    assert "Cluster name:    t1" in out and "Do you want to continue? [y/N]: (default=N)" in out
    assert "Operation aborted by user (with answer '')" in err
    assert not S.cluster_exists("t1")
    # json mode never asks (tiup skips the confirmation there)
    code, out, err = cli("deploy", "t1", "v7.5.1", path, "--format", "json")
    assert code == 0, err
    assert S.cluster_exists("t1")
    # a second cluster may not reuse the ports of the first
    code, out, err = cli("deploy", "t2", "v7.5.1", path, "-y", "--format", "json")
    assert trailer(err)["error"] == "spec.deploy.port_conflict: Deploy port conflicts to an existing cluster"
    code, out, err = cli("destroy", "t1", "-y")
    assert code == 0, err


def test_relative_dirs_and_meta_format():
    topo = S.parse_topology_text(
        "pd_servers:\n  - host: 127.0.0.1\ntikv_servers:\n  - host: 127.0.0.1\n"
        "tidb_servers:\n  - host: 127.0.0.1\n", "t.yaml")
    topo.expand_relative_dirs()
    tikv = topo.instances("tikv")[0]
    assert tikv.deploy_dir == "/home/tidb/deploy/tikv-20160"
    assert tikv.data_dir == "/home/tidb/deploy/tikv-20160/data"
    assert tikv.log_dir == "/home/tidb/deploy/tikv-20160/log"
    assert topo.instances("pd")[0].name == "pd-127.0.0.1-2379"
    assert topo.instances("tidb")[0].ports == [4000, 10080]
    mon = topo.data["monitored"]
    assert mon["deploy_dir"] == "/home/tidb/deploy/monitor-9100"
    assert mon["data_dir"] == "/home/tidb/deploy/monitor-9100/data/monitor-9100"  # tiup's quirk
    text = dump(topo.to_struct())
    assert "tiflash_servers: []" in text and "monitoring_servers: []" in text
    assert "server_configs" not in text  # all empty: omitted like yaml.v3 omitempty
    assert yaml.safe_load(text)["tidb_servers"][0]["port"] == 4000
    # yaml.v3 layout: 4-space indent, sequences indented under their key, sorted map keys
    assert dump({"x": [{"host": "127.0.0.1", "ssh_port": 22}], "a": {}, "b": "yes",
                 "c": "multi\nline"}) == (
        'a: {}\nb: "yes"\nc: |-\n    multi\n    line\nx:\n    - host: 127.0.0.1\n      ssh_port: 22\n')


def test_component_data_dir_replaces_storage_cluster(cli, home, monkeypatch):
    data = home / "elsewhere"
    monkeypatch.setenv("TIUP_COMPONENT_DATA_DIR", str(data))
    code, out, err = cli("deploy", "t9", "v7.5.1", write(home, GOOD), "-y", "--format", "json")
    assert code == 0, err
    assert (data / "clusters" / "t9" / "meta.yaml").is_file()
    assert (data / "audit").is_dir()
    assert not (home / "tiup" / "storage" / "cluster" / "clusters" / "t9").exists()
    code, out, err = cli("list", "--format", "json")
    assert json.loads(out)["clusters"][0]["path"] == str(data / "clusters" / "t9")
    code, out, err = cli("destroy", "t9", "-y", "--format", "json")
    assert code == 0, err
