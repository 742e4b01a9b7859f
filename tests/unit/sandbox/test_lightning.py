"""The tidb-lightning stand-in against real sandbox clusters: dumpling dumps the source
cluster (sql, csv, gzip, S3), Lightning imports into a second cluster; the file checkpoint
survives a SIGKILL half-way without duplicating rows; prechecks, passwords and errors."""
import base64
import os
import signal
import subprocess
import time

import pytest

from tests.sandbox import procs
from tests.sandbox.lightning import checkpoint as cpt
from tests.sandbox.services import Sandbox
from tests.unit.sandbox.test_dumpling import REPO_ROOT, make_cluster, run, sandbox_env, seed, sql


@pytest.fixture(scope="module")
def clusters(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("lightning"))
    sandbox = Sandbox(directory)
    sandbox.up(out=open(os.devnull, "w"))
    env, info = sandbox_env(directory)
    src = make_cluster(directory, env, "src")
    dst = make_cluster(directory, env, "dst")
    seed(src)
    sql(src, "CREATE TABLE shop.big (k INT, v VARCHAR(10))")  # no key: duplicates would show
    sql(src, "INSERT INTO shop.big VALUES (%s, %s)", [(i % 7, "v%d" % i) for i in range(60)],
        many=True)
    yield {"dir": directory, "env": env, "info": info, "src": src, "dst": dst}
    sandbox.down(out=open(os.devnull, "w"))
    assert procs.owned_pids(directory) == []


def rows(port, table):
    return sorted(sql(port, "SELECT * FROM %s" % table), key=repr)


def reset(port):
    for db in ("shop", "other"):
        sql(port, "DROP DATABASE IF EXISTS %s" % db)


def dump(clusters, out, *args):
    result = run(clusters["env"], "dumpling", "-P", clusters["src"], "-o", out,
                 "--consistency", "none", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def write_toml(path, clusters, source_dir, backend="tidb", extra=""):
    text = """
[lightning]
level = "info"
file = "{log}"

[checkpoint]
enable = true
driver = "file"
dsn = "{cp}"

[tikv-importer]
backend = "{backend}"

[mydumper]
data-source-dir = "{src}"

[tidb]
host = "127.0.0.1"
port = {port}
user = "root"
password = ""
{extra}
""".format(log=str(path) + ".log", cp=str(path) + ".pb", backend=backend, src=source_dir,
           port=clusters["dst"], extra=extra)
    with open(path, "w") as handle:
        handle.write(text)
    return str(path)


def lightning(clusters, *args, env_extra=None, timeout=60):
    env = dict(clusters["env"], **(env_extra or {}))
    return run(env, "tidb-lightning", *args, timeout=timeout)


def test_sql_dump_imported_with_tidb_backend(clusters, tmp_path):
    reset(clusters["dst"])
    out = dump(clusters, tmp_path / "d", "-B", "shop")
    cfg = write_toml(tmp_path / "l.toml", clusters, out)
    result = lightning(clusters, "--config", cfg)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ("Verbose debug logs will be written to %s.log\n\n"
                             "tidb lightning exit successfully\n" % (tmp_path / "l.toml"))
    for table in ("shop.items", "shop.logs", "shop.big"):
        assert rows(clusters["dst"], table) == rows(clusters["src"], table), table
    log = (tmp_path / "l.toml.log").read_text().splitlines()
    assert log[-1].endswith('["tidb lightning exit"] [finished=true]')
    assert not os.path.exists(str(tmp_path / "l.toml.pb"))  # keep-after-success = remove
    # a second import of the same rows: the tidb backend's default strategy is "error"
    result = lightning(clusters, "--config", cfg)
    assert result.returncode == 1
    assert result.stderr.startswith("tidb lightning encountered error: ")
    assert "Duplicate entry" in result.stderr


def test_csv_gzip_from_s3(clusters, tmp_path):
    reset(clusters["dst"])
    s3 = clusters["info"]["s3"]
    url = "s3://%s/lightning/csv" % s3["bucket"]
    dump(clusters, url, "--s3.endpoint", s3["endpoint"], "--filetype", "csv", "-c", "gzip",
         "-f", "shop.items", "-f", "other.*")
    cfg = write_toml(tmp_path / "l.toml", clusters,
                     url + "?endpoint=%s&force-path-style=true" % s3["endpoint"],
                     extra='\n[post-restore]\nchecksum = "off"\n')
    result = lightning(clusters, "--config", cfg)
    assert result.returncode == 0, result.stdout + result.stderr
    assert rows(clusters["dst"], "shop.items") == rows(clusters["src"], "shop.items")
    assert rows(clusters["dst"], "other.t") == rows(clusters["src"], "other.t")
    assert sql(clusters["dst"], "SHOW TABLES FROM shop") == (("items",),)


def test_sigkill_half_way_then_resume_has_no_duplicates(clusters, tmp_path):
    reset(clusters["dst"])
    out = dump(clusters, tmp_path / "d", "-T", "shop.big", "-F", "300B")
    assert len([f for f in os.listdir(out) if f.startswith("shop.big.0")]) >= 2
    cfg = write_toml(tmp_path / "l.toml", clusters, out)
    text = open(cfg).read().replace('backend = "tidb"',
                                    'backend = "tidb"\nlogical-import-batch-rows = 7')
    with open(cfg, "w") as handle:
        handle.write(text)
    env = dict(clusters["env"], TIDBOPS_SANDBOX_LIGHTNING_ROW_DELAY="0.05")
    proc = subprocess.Popen(["tidb-lightning", "--config", cfg], env=env, cwd=REPO_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cp_path = str(tmp_path / "l.toml.pb")

    def progressed():
        try:
            with open(cp_path, "rb") as handle:
                model = cpt.decode(handle.read())
        except (OSError, cpt.CheckpointError):
            return False
        table = model["tables"].get("`shop`.`big`")
        return bool(table) and sum(c["kvc_kvs"] for c in table["engines"][0]["chunks"]
                                   .values()) >= 14
    assert procs.wait_until(progressed, 30), "no progress"
    time.sleep(0.12)  # land somewhere inside a batch
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    partial = sql(clusters["dst"], "SELECT COUNT(*) FROM shop.big")[0][0]
    assert 14 <= partial < 60
    result = lightning(clusters, "--config", cfg)
    assert result.returncode == 0, result.stdout + result.stderr
    assert rows(clusters["dst"], "shop.big") == rows(clusters["src"], "shop.big")
    assert not os.path.exists(cp_path)


def test_checkpoint_file_is_lightnings_protobuf(clusters, tmp_path):
    reset(clusters["dst"])
    out = dump(clusters, tmp_path / "d", "-T", "other.t")
    cfg = write_toml(tmp_path / "l.toml", clusters, out)
    text = open(cfg).read().replace('dsn = ', 'keep-after-success = "origin"\ndsn = ')
    with open(cfg, "w") as handle:
        handle.write(text)
    result = lightning(clusters, "--config", cfg)
    assert result.returncode == 0, result.stderr
    with open(str(tmp_path / "l.toml.pb"), "rb") as handle:
        model = cpt.decode(handle.read())
    assert model["task"]["backend"] == "tidb" and model["task"]["source_dir"] == str(out)
    assert model["task"]["tidb_port"] == clusters["dst"]
    table = model["tables"]["`other`.`t`"]
    assert table["status"] == cpt.STATUS_ANALYZE_SKIPPED  # tidb backend: checksum/analyze off
    chunk = table["engines"][0]["chunks"]["other.t.000000000.sql:0"]
    assert chunk["kvc_kvs"] == 2 and chunk["type"] == 3 and chunk["pending_pos"] == 0
    # a rerun with the finished checkpoint does nothing and succeeds
    result = lightning(clusters, "--config", cfg)
    assert result.returncode == 0, result.stderr
    assert rows(clusters["dst"], "other.t") == rows(clusters["src"], "other.t")
    # the checkpoint pins the task: another source directory is refused
    result = lightning(clusters, "--config", cfg, "-d", str(tmp_path))
    assert result.returncode == 1
    assert ("[Lightning:Checkpoint:ErrInvalidCheckpoint]config 'mydumper.data-source-dir' "
            "value '%s' different from checkpoint value '%s'" % (tmp_path, out)) in result.stderr


def test_local_backend_precheck_and_import(clusters, tmp_path):
    reset(clusters["dst"])
    out = dump(clusters, tmp_path / "d", "-T", "other.t", "--filetype", "csv")
    meta = open(os.path.join(clusters["dir"], "dst.yaml")).read()
    pd = meta.split("client_port: ")[1].split()[0]
    extra = '\n[post-restore]\nchecksum = "optional"\n'
    cfg = write_toml(tmp_path / "l.toml", clusters, out, backend="local", extra=extra)
    text = open(cfg).read().replace('backend = "local"', 'backend = "local"\nsorted-kv-dir = '
                                    '"%s"' % (tmp_path / "kv")).replace(
        'password = ""', 'password = ""\npd-addr = "127.0.0.1:%s"' % pd)
    with open(cfg, "w") as handle:
        handle.write(text)
    sql(clusters["dst"], "CREATE DATABASE other")
    sql(clusters["dst"], "CREATE TABLE other.t (id INT PRIMARY KEY)")
    sql(clusters["dst"], "INSERT INTO other.t VALUES (9)")
    result = lightning(clusters, "--config", cfg)
    assert result.returncode == 1
    assert result.stderr == ("tidb lightning encountered error: [Lightning:PreCheck:"
                             "ErrPreCheckFailed]tidb-lightning pre-check failed: table(s) "
                             "[`other`.`t`] are not empty\n")
    assert "| CHECK ITEM" in result.stdout
    sql(clusters["dst"], "DELETE FROM other.t")
    os.unlink(str(tmp_path / "l.toml.pb"))
    result = lightning(clusters, "--config", cfg)
    assert result.returncode == 0, result.stdout + result.stderr
    assert rows(clusters["dst"], "other.t") == rows(clusters["src"], "other.t")
    assert os.path.isdir(str(tmp_path / "kv"))


def test_passwords_and_config_errors(clusters, tmp_path):
    reset(clusters["dst"])
    out = dump(clusters, tmp_path / "d", "-T", "other.t")
    sql(clusters["dst"], "CREATE USER IF NOT EXISTS 'imp'@'%%' IDENTIFIED BY 'p@ss:w0rd'")
    sql(clusters["dst"], "GRANT ALL ON *.* TO 'imp'@'%%'")
    cfg = write_toml(tmp_path / "l.toml", clusters, out)
    base = open(cfg).read().replace('user = "root"', 'user = "imp"')
    with open(cfg, "w") as handle:
        handle.write(base.replace('password = ""', 'password = "wrong"'))
    result = lightning(clusters, "--config", cfg)
    assert result.returncode == 1
    assert result.stderr.startswith("tidb lightning encountered error: [Lightning:DB:"
                                    "ErrDBConnect]failed to connect database: Error 1045 "
                                    "(28000): Access denied for user 'imp'@")
    encoded = base64.b64encode(b"p@ss:w0rd").decode()
    with open(cfg, "w") as handle:
        handle.write(base.replace('password = ""', 'password = "%s"' % encoded))
    result = lightning(clusters, "--config", cfg)
    assert result.returncode == 0, result.stderr
    assert rows(clusters["dst"], "other.t") == rows(clusters["src"], "other.t")
    with open(cfg, "w") as handle:
        handle.write(base.replace('host = "127.0.0.1"', 'hots = "127.0.0.1"'))
    result = lightning(clusters, "--config", cfg)
    assert result.returncode == 1
    assert result.stderr == ("tidb lightning encountered error: config file contained unknown "
                             "configuration options: tidb.hots\n")
    with open(cfg, "w") as handle:
        handle.write(base.replace('backend = "tidb"', ""))
    result = lightning(clusters, "--config", cfg)
    assert result.returncode == 1
    assert result.stderr == ("tidb lightning encountered error: [Lightning:Config:"
                             "ErrInvalidConfig]tikv-importer.backend must not be empty!\n")
    result = lightning(clusters, "--config", cfg, "--nope")
    assert result.returncode == 2
    assert result.stdout == "Failed to parse command flags:  flag provided but not defined: -nope\n"


def test_tiup_tidb_lightning(clusters, tmp_path):
    result = run(clusters["env"], "tiup", "tidb-lightning", "-V")
    assert result.returncode == 0
    assert result.stderr.splitlines()[0].endswith("/components/tidb-lightning/v7.5.1/"
                                                  "tidb-lightning -V")
    assert result.stdout.startswith("Release Version: v7.5.1\n")
    result = run(clusters["env"], "tiup", "tidb-lightning", "--tidb-password", "s3cret",
                 "--config", str(tmp_path / "missing.toml"))
    assert result.returncode == 2
    assert "--tidb-password ******" in result.stderr.splitlines()[0]
    assert result.stdout.startswith("Failed to parse command flags:  Cannot read config file")
