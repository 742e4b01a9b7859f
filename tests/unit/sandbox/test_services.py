"""`python -m tests.sandbox up/down/status/topology`: services, env files, the tiup wrapper,
and cleaning up after a crashed run."""
import glob
import json
import os
import signal
import stat
import subprocess
import sys
import time

import boto3
import yaml

from tests.sandbox import procs

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def sandbox(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "tests.sandbox"] + list(args), cwd=REPO_ROOT,
                          env=dict(os.environ, PYTHONPATH=REPO_ROOT), capture_output=True,
                          text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL)


def shell(directory, script, timeout=120):
    """Run script with the sandbox's env.sh sourced (PATH has DIR/bin/tiup first)."""
    return subprocess.run(["sh", "-c", ". %s/env.sh && %s" % (directory, script)],
                          capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin", "HOME": directory})


def test_topology_has_free_distinct_ports():
    result = sandbox("topology", "--pd", "1", "--tikv", "3", "--tidb", "2")
    assert result.returncode == 0
    topo = yaml.safe_load(result.stdout)
    ports = [topo["monitored"]["node_exporter_port"], topo["monitored"]["blackbox_exporter_port"]]
    for pd in topo["pd_servers"]:
        ports += [pd["client_port"], pd["peer_port"]]
    for kv in topo["tikv_servers"] + topo["tidb_servers"]:
        ports += [kv["port"], kv["status_port"]]
    assert len(ports) == 2 + 2 + 6 + 4 == len(set(ports))
    assert not any(procs.port_open(p) for p in ports)
    assert {kv["host"] for kv in topo["tikv_servers"]} == {"127.0.0.1"}
    assert len({kv["config"]["server.labels"]["host"] for kv in topo["tikv_servers"]}) == 3


def test_up_status_down(tmp_path):
    directory = str(tmp_path / "sbx")
    result = sandbox("up", "--dir", directory)
    assert result.returncode == 0, result.stderr
    try:
        with open(os.path.join(directory, "env.json")) as handle:
            env = json.load(handle)
        assert set(env) >= {"s3", "tiup_home", "bin_dir", "path", "dir", "ssh_key"}
        assert os.path.isfile(env["ssh_key"]) and os.path.isfile(env["ssh_key"] + ".pub")
        assert set(env["s3"]) == {"endpoint", "region", "bucket", "access_key", "secret_key"}
        assert env["path"].split(os.pathsep)[0] == env["bin_dir"] == os.path.join(directory, "bin")
        assert env["tiup_home"] == os.path.join(directory, "tiup")
        assert env["s3"]["secret_key"] not in result.stdout
        assert stat.S_IMODE(os.stat(os.path.join(directory, "env.json")).st_mode) == 0o600
        s3 = boto3.client("s3", endpoint_url=env["s3"]["endpoint"], region_name=env["s3"]["region"],
                          aws_access_key_id=env["s3"]["access_key"],
                          aws_secret_access_key=env["s3"]["secret_key"])
        s3.put_object(Bucket=env["s3"]["bucket"], Key="probe", Body=b"x")
        assert s3.get_object(Bucket=env["s3"]["bucket"], Key="probe")["Body"].read() == b"x"
        # the wrapper is what PATH finds; it runs the stand-in against DIR/tiup
        result = shell(directory, "command -v tiup && tiup cluster list --format json")
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == [os.path.join(directory, "bin", "tiup"),
                                              '{"clusters":[]}']
        # up again: reports it is up, changes nothing
        again = sandbox("up", "--dir", directory)
        assert again.returncode == 0 and "already up" in again.stdout
        with open(os.path.join(directory, "env.json")) as handle:
            assert json.load(handle) == env
        assert sandbox("status", "--dir", directory).returncode == 0
    finally:
        result = sandbox("down", "--dir", directory)
    assert result.returncode == 0, result.stderr
    assert procs.owned_pids(directory) == []
    status = sandbox("status", "--dir", directory)
    assert status.returncode == 1 and "is down" in status.stdout


def test_crashed_run_is_cleaned_by_up_and_down(tmp_path):
    directory = str(tmp_path / "crash")
    topo = os.path.join(str(tmp_path), "topo.yaml")
    with open(topo, "w") as handle:
        handle.write(sandbox("topology", "--pd", "1", "--tikv", "1", "--tidb", "1").stdout)
    # a parent that brings everything up, then dies hard
    script = ("%s -m tests.sandbox up --dir %s >/dev/null && . %s/env.sh && "
              "tiup cluster deploy crash v7.5.1 %s -y -i \"$TIDBOPS_SSH_KEY\" >/dev/null && "
              "tiup cluster start crash -y >/dev/null && touch %s/ready && sleep 300"
              % (sys.executable, directory, directory, topo, directory))
    parent = subprocess.Popen(["sh", "-c", script], cwd=REPO_ROOT,  # pylint: disable=consider-using-with
                              env=dict(os.environ, PYTHONPATH=REPO_ROOT),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert procs.wait_until(lambda: os.path.exists(os.path.join(directory, "ready"))
                                or parent.poll() is not None, 90)
        assert parent.poll() is None, "the cluster did not come up"
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()
        before = set(procs.owned_pids(directory))
        assert len(before) >= 5  # moto, MariaDB, PD, TiKV, TiDB
        # the crash also lost every pid file
        for path in (glob.glob(os.path.join(directory, "clusters", "*", "pids", "*.pid"))
                     + glob.glob(os.path.join(directory, "clusters", "*", "mariadb", "*.pid"))
                     + [os.path.join(directory, "services", "services.json")]):
            os.unlink(path)
        result = sandbox("up", "--dir", directory)
        assert result.returncode == 0, result.stderr
        assert "killing" in result.stdout
        assert not any(procs.pid_alive(pid) for pid in before)
        # the cluster's meta survived; it can be started again in the new sandbox
        result = shell(directory, "tiup cluster start crash -y --format json")
        assert result.returncode == 0, result.stderr
        assert len(procs.owned_pids(os.path.join(directory, "clusters", "crash"))) == 4
        for path in glob.glob(os.path.join(directory, "clusters", "*", "pids", "*.pid")):
            os.unlink(path)
    finally:
        if parent.poll() is None:
            os.killpg(parent.pid, signal.SIGKILL)
            parent.wait()
        result = sandbox("down", "--dir", directory)
    assert result.returncode == 0, result.stderr
    deadline = time.time() + 5
    while procs.owned_pids(directory) and time.time() < deadline:
        time.sleep(0.1)
    assert procs.owned_pids(directory) == []
