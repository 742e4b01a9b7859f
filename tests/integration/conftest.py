"""Integration tests: real ansible-playbook runs against the sandbox of tests/sandbox.

One sandbox (S3 server, tiup stand-in) serves the whole session; each test deploys its own
clusters on free ports and destroys them. Results come from Ansible's json callback, so
tests assert on what each task really returned (changed, error_code, data).
"""
import json
import os
import subprocess
import sys
import urllib.request

import pytest

from tests.conftest import COLLECTIONS_ROOT, REPO_ROOT

VERSION = "v7.5.1"
PLAYBOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "playbooks")


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("sandbox"))
    subprocess.run([sys.executable, "-m", "tests.sandbox", "up", "--dir", directory],
                   cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
    try:
        with open(os.path.join(directory, "env.json")) as handle:
            env = json.load(handle)
        yield env
    finally:
        subprocess.run([sys.executable, "-m", "tests.sandbox", "down", "--dir", directory],
                       cwd=REPO_ROOT, check=False, stdout=subprocess.DEVNULL)


class PlaybookRun(object):
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stderr = proc.stderr
        self.stdout = proc.stdout
        self.results = []  # (task name, result dict) in order, for localhost
        try:
            doc = json.loads(proc.stdout)
        except ValueError:
            raise AssertionError("ansible-playbook printed no JSON (rc %s):\n%s\n%s"
                                 % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
        for play in doc.get("plays", []):
            for task in play.get("tasks", []):
                for result in task.get("hosts", {}).values():
                    self.results.append((task["task"]["name"], result))

    def task(self, name):
        """The result of the last task called name (a role's task: with or without 'role : ')."""
        found = [result for task_name, result in self.results
                 if task_name == name or task_name.endswith(" : " + name)]
        assert found, "no task %r ran; tasks: %s" % (name, [task_name for task_name, _result in self.results])
        return found[-1]

    def failed(self):
        """The failed tasks, with what they said (for assertion messages)."""
        return [(name, r.get("error_code"), r.get("msg"), r.get("module_stderr", "")[-1500:])
                for name, r in self.results if r.get("failed")]


@pytest.fixture(scope="session")
def ansible_env(sandbox, tmp_path_factory):
    env = dict(os.environ)
    env.update(
        PATH=sandbox["path"],
        TIUP_HOME=sandbox["tiup_home"],
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT,
        ANSIBLE_STDOUT_CALLBACK="results_json",
        ANSIBLE_CALLBACK_PLUGINS=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                              "callback_plugins"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_LOCAL_TEMP=str(tmp_path_factory.mktemp("ansible-local")),
        ANSIBLE_REMOTE_TEMP=str(tmp_path_factory.mktemp("ansible-remote")),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_LOG_PATH=str(tmp_path_factory.mktemp("ansible-log") / "ansible.log"),
    )
    env.pop("TIDBOPS_SANDBOX_OWNER", None)
    return env


@pytest.fixture(scope="session")
def playbook(ansible_env, sandbox):
    """playbook(file, check=False, diff=False, env=None, **extra_vars) -> PlaybookRun."""
    def run(playbook_file, check=False, diff=False, env=None, **extra_vars):
        extra = dict(sandbox=sandbox)
        extra.update(extra_vars)
        argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                "-i", "localhost,", "-c", "local", os.path.join(PLAYBOOKS, playbook_file),
                "-e", json.dumps(extra)]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        proc = subprocess.run(argv, env=dict(ansible_env, **(env or {})), cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=900, check=False)
        return PlaybookRun(proc)
    return run


@pytest.fixture(scope="session")
def topology(sandbox):
    """topology(pd=1, tikv=3, tidb=1, cdc=0) -> a topology dict on free ports of 127.0.0.1."""
    import yaml

    def make(pd=1, tikv=3, tidb=1, cdc=0):
        out = subprocess.run([sys.executable, "-m", "tests.sandbox", "topology", "--pd", str(pd),
                              "--tikv", str(tikv), "--tidb", str(tidb), "--cdc", str(cdc)],
                             cwd=REPO_ROOT, check=True, capture_output=True, text=True).stdout
        return yaml.safe_load(out)
    return make


@pytest.fixture
def cluster(playbook, topology, request):
    """A started 1 PD / 1 TiKV / 1 TiDB cluster with rows; destroyed afterwards."""
    name = "bk%d" % (abs(hash(request.node.name)) % 100000)
    topo = topology(pd=1, tikv=1, tidb=1)
    port = topo["tidb_servers"][0]["port"]
    password = "Ops-Pw-%d-x" % os.getpid()
    run = playbook("cluster_up.yml", name=name, topology=topo, version=VERSION, tidb_port=port, rows=500,
                   ops_password=password)
    assert run.rc == 0, run.failed() or run.stderr
    yield dict(name=name, port=port, topology=topo, password=password, id=pd_cluster_id(topo))
    playbook("cluster_remove.yml", name=name)


def pd_cluster_id(topo):
    """PD's cluster id: the identity the lock and the records go by."""
    url = "http://127.0.0.1:%d/pd/api/v1/cluster" % topo["pd_servers"][0]["client_port"]
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=5) as resp:
        return json.loads(resp.read())["id"]
