"""tidb_backup against the raw BACKUP statement on the same data, and its no-op re-run.

    python -m tests.bench.bench_backup [--rows 20000] [--runs 3]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import pymysql
import yaml

from tests.conftest import COLLECTIONS_ROOT, REPO_ROOT

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/tidbops.manager.all:
      login_port: {port}
      catalog: {catalog}
      ssh_identity_file: {ssh_key}
  tasks:
    - name: step
      {task}
"""


def sandbox(*args):
    return subprocess.run([sys.executable, "-m", "tests.sandbox"] + list(args), cwd=REPO_ROOT, check=True,
                          capture_output=True, text=True).stdout


def timed(func):
    started = time.monotonic()
    func()
    return time.monotonic() - started


class Bench(object):
    def __init__(self, directory, rows):
        self.dir = directory
        sandbox("up", "--dir", os.path.join(directory, "sandbox"))
        with open(os.path.join(directory, "sandbox", "env.json")) as handle:
            self.env_json = json.load(handle)
        self.topology = yaml.safe_load(sandbox("topology", "--pd", "1", "--tikv", "1", "--tidb", "1"))
        self.port = self.topology["tidb_servers"][0]["port"]
        self.env = dict(os.environ, PATH=self.env_json["path"], TIUP_HOME=self.env_json["tiup_home"],
                        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_PYTHON_INTERPRETER=sys.executable)
        self.catalog = os.path.join(directory, "catalog")
        self.play('tidbops.manager.tidb_cluster: {name: bench, version: v7.5.1, state: started, topology: %s}'
                  % json.dumps(self.topology))
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE bench")
            cur.execute("CREATE TABLE bench.t (id INT PRIMARY KEY, payload VARCHAR(200))")
            for start in range(0, rows, 1000):
                cur.executemany("INSERT INTO bench.t VALUES (%s, %s)",
                                [(i, "row-%d-" % i + "x" * 100) for i in range(start, min(rows, start + 1000))])
        conn.close()

    def connect(self):
        return pymysql.connect(host="127.0.0.1", port=self.port, user="root", password="", autocommit=True)

    def play(self, task):
        path = os.path.join(self.dir, "play.yml")
        with open(path, "w") as handle:
            handle.write(PLAYBOOK.format(port=self.port, catalog=self.catalog, ssh_key=self.env_json["ssh_key"],
                                         task=task))
        subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                        "-c", "local", path], env=self.env, cwd=REPO_ROOT, check=True, capture_output=True)

    def destination(self, label):
        return os.path.join(self.dir, "backups", label)

    def raw_pymysql(self, label):
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("BACKUP DATABASE * TO 'local://%s'" % self.destination(label))
        conn.close()

    def raw_ansible(self, label):
        self.play("tidbops.manager.tidb_query: {query: \"BACKUP DATABASE * TO 'local://%s'\"}"
                  % self.destination(label))

    def module(self, label):
        self.play("tidbops.manager.tidb_backup: {cluster: bench, name: %s, path: %s}"
                  % (label, self.destination(label)))

    def close(self):
        sandbox("down", "--dir", os.path.join(self.dir, "sandbox"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="tidbops-bench-")
    bench = Bench(directory, args.rows)
    try:
        results = {}
        for name, func in (("raw BACKUP (PyMySQL)", bench.raw_pymysql),
                           ("raw BACKUP (tidb_query, ansible-playbook)", bench.raw_ansible),
                           ("tidb_backup (ansible-playbook)", bench.module)):
            results[name] = [timed(lambda: func("%s-%d" % (func.__name__, run))) for run in range(args.runs)]
        results["tidb_backup no-op re-run"] = [timed(lambda: bench.module("module-0")) for _run in range(args.runs)]
    finally:
        bench.close()
        shutil.rmtree(directory, ignore_errors=True)
    base = statistics.median(results["raw BACKUP (tidb_query, ansible-playbook)"])
    print("backup of %d rows, median of %d runs" % (args.rows, args.runs))
    print("%-45s %10s %8s" % ("what", "seconds", "ratio"))
    for name, times in results.items():
        print("%-45s %10.2f %8.2f" % (name, statistics.median(times), statistics.median(times) / base))
    print("(ratio: against the raw statement through the same ansible-playbook)")


if __name__ == "__main__":
    main()
