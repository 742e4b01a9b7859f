"""`make demo`: start the sandbox, run playbooks/demo.yml against it, say what happened.

The sandbox lives in .sandbox/demo and is stopped at the end (DEMO_KEEP=1 keeps it up, with
its env.sh to source for trying the collection by hand).
"""
import json
import os
import shutil
import subprocess
import sys

import yaml

from tests.conftest import COLLECTIONS_ROOT, REPO_ROOT

SANDBOX_DIR = os.path.join(REPO_ROOT, ".sandbox", "demo")


def sandbox(*args):
    return subprocess.run([sys.executable, "-m", "tests.sandbox"] + list(args), cwd=REPO_ROOT,
                          check=True, capture_output=True, text=True).stdout


def main():
    # A fresh sandbox each time: a cluster left by an interrupted demo would not match the
    # new topology (the demo picks free ports), and tidb_cluster rightly refuses to guess.
    if os.path.isdir(SANDBOX_DIR):
        sandbox("down", "--dir", SANDBOX_DIR)
        shutil.rmtree(SANDBOX_DIR)
    print("== starting the sandbox in %s" % SANDBOX_DIR, flush=True)
    sandbox("up", "--dir", SANDBOX_DIR)
    try:
        with open(os.path.join(SANDBOX_DIR, "env.json")) as handle:
            env_json = json.load(handle)
        topology = sandbox("topology", "--pd", "1", "--tikv", "3", "--tidb", "1")
        extra = {"demo_topology": yaml.safe_load(topology),
                 "demo_ssh_key": env_json["ssh_key"],
                 "demo_data_dir": os.path.join(SANDBOX_DIR, "demo-data"),
                 "demo_dm_master_url": env_json["dm_master"]["url"],
                 "demo_upstream": env_json["upstream_mysql"]}
        env = dict(os.environ, PATH=env_json["path"], TIUP_HOME=env_json["tiup_home"],
                   ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH", COLLECTIONS_ROOT),
                   ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1")
        print("== running playbooks/demo.yml (tiup on PATH is the sandbox's stand-in)", flush=True)
        proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                               "-i", "localhost,", "-c", "local", "playbooks/demo.yml",
                               "-e", json.dumps(extra)], cwd=REPO_ROOT, env=env, check=False)
        if proc.returncode != 0:
            print("== the demo playbook failed (rc %d)" % proc.returncode)
            return proc.returncode
        print("== done: deployed a 1 PD / 3 TiKV / 1 TiDB cluster with tidb_cluster, wrote rows "
              "with tidb_query, set global variables (tidb_variables), created an account with dynamic "
              "privileges (tidb_user), stopped one TiKV (nodes:) and saw it Down, started it and saw it Up "
              "with tidb_cluster_info, read the rows back, backed the cluster up (tidb_backup) and "
              "exported it (tidb_export, zipped), dropped the data, restored it (tidb_restore, "
              "checksums verified), dropped it again, imported the export (tidb_import), read the "
              "rows back, migrated a MariaDB database into it with DM (dm_task role: source, "
              "check, task, start; a row written upstream afterwards arrived through the binlog), "
              "deleted the task and the source, and removed the cluster.")
        return 0
    finally:
        if os.environ.get("DEMO_KEEP") == "1":
            print("== sandbox kept: source %s/env.sh" % SANDBOX_DIR)
        else:
            sandbox("down", "--dir", SANDBOX_DIR)
            shutil.rmtree(SANDBOX_DIR, ignore_errors=True)
            print("== sandbox stopped and removed")


if __name__ == "__main__":
    sys.exit(main())
