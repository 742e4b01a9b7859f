"""tidb_export and tidb_import against Dumpling and TiDB Lightning run directly on the same data.

    python -m tests.bench.bench_transfers [--rows 100000] [--runs 3]

Each tool runs three ways: directly (the baseline: what a DBA types), through
ansible.builtin.command in the same kind of ansible-playbook run, and through the module. The
ratio is against the direct run; the command-task row shows how much of the difference is
ansible-playbook itself. An import run starts from a dropped database each time.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile

from tests.bench.bench_backup import Bench, timed

LIGHTNING_TOML = """[lightning]
level = "info"
file = "{dir}/lightning.log"
[checkpoint]
enable = false
[tikv-importer]
backend = "tidb"
[mydumper]
data-source-dir = "{source}"
[tidb]
host = "127.0.0.1"
port = {port}
user = "root"
password = ""
"""


class TransferBench(Bench):
    def tool(self, name):
        return os.path.join(self.env_json["bin_dir"], name)

    def dumpling_argv(self, output):
        return [self.tool("dumpling"), "-h", "127.0.0.1", "-P", str(self.port), "-u", "root", "-o", output,
                "--filetype", "sql", "-t", "8", "-r", "200000", "-F", "256MiB", "-L",
                os.path.join(self.dir, os.path.basename(output) + ".log")]

    def export_direct(self, label):
        subprocess.run(self.dumpling_argv(self.out(label)), env=self.env, check=True, capture_output=True)

    def export_command(self, label):
        self.play("ansible.builtin.command: {argv: %s}" % self.dumpling_argv(self.out(label)))

    def export_module(self, label):
        self.play("tidbops.manager.tidb_export: {cluster: bench, name: %s, path: %s, work_dir: %s}"
                  % (label, self.out(label), os.path.join(self.dir, "work")))

    def out(self, label):
        return os.path.join(self.dir, "exports", label)

    def drop(self):
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS bench")
        conn.close()

    def lightning_argv(self, label, source):
        work = os.path.join(self.dir, "lightning", label)
        os.makedirs(work)
        config = os.path.join(work, "tidb-lightning.toml")
        with open(config, "w") as handle:
            handle.write(LIGHTNING_TOML.format(dir=work, source=source, port=self.port))
        return [self.tool("tidb-lightning"), "--config", config]

    def import_direct(self, label, source):
        self.drop()
        argv = self.lightning_argv(label, source)
        return timed(lambda: subprocess.run(argv, env=self.env, check=True, capture_output=True))

    def import_command(self, label, source):
        self.drop()
        argv = self.lightning_argv(label, source)
        return timed(lambda: self.play("ansible.builtin.command: {argv: %s}" % argv))

    def import_module(self, label, source):
        self.drop()
        return timed(lambda: self.play(
            "tidbops.manager.tidb_import: {cluster: bench, name: %s, source: %s, backend: tidb, work_dir: %s}"
            % (label, source, os.path.join(self.dir, "work"))))

    def count(self):
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM bench.t")
            rows = cur.fetchone()[0]
        conn.close()
        return rows


def report(title, results, base_name):
    base = statistics.median(results[base_name])
    print(title)
    print("%-46s %10s %8s" % ("what", "seconds", "ratio"))
    for name, times in results.items():
        print("%-46s %10.2f %8.2f" % (name, statistics.median(times), statistics.median(times) / base))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="tidbops-bench-")
    bench = TransferBench(directory, args.rows)
    exports, imports = {}, {}
    try:
        for name, func in (("dumpling, direct", bench.export_direct),
                           ("dumpling, ansible.builtin.command", bench.export_command),
                           ("tidb_export", bench.export_module)):
            exports[name] = [timed(lambda: func("%s-%d" % (func.__name__, run))) for run in range(args.runs)]
        exports["tidb_export no-op re-run"] = [timed(lambda: bench.export_module("export_module-0"))
                                               for _run in range(args.runs)]
        source = bench.out("export_direct-0")
        for name, func in (("tidb-lightning, direct", bench.import_direct),
                           ("tidb-lightning, ansible.builtin.command", bench.import_command),
                           ("tidb_import", bench.import_module)):
            imports[name] = []
            for run in range(args.runs):
                imports[name].append(func("%s-%d" % (func.__name__, run), source))
                assert bench.count() == args.rows, "the import did not restore every row"
    finally:
        bench.close()
        shutil.rmtree(directory, ignore_errors=True)
    report("export of %d rows (SQL), median of %d runs" % (args.rows, args.runs), exports, "dumpling, direct")
    print()
    report("import of %d rows (tidb backend), median of %d runs" % (args.rows, args.runs), imports,
           "tidb-lightning, direct")
    print("(ratio: against the tool run directly)")


if __name__ == "__main__":
    main()
