"""The dumpling stand-in against a real sandbox cluster (1 PD, 1 TiKV, 1 TiDB, one MariaDB):
files and formats, metadata, filters, --where, --sql, chunking, gzip, S3, errors."""
import gzip
import os
import re
import subprocess

import boto3
import pymysql
import pytest

from tests.sandbox import procs
from tests.sandbox.services import Sandbox, topology_yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def run(env, *args, timeout=60):
    return subprocess.run([str(a) for a in args], env=env, cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)


def sandbox_env(directory):
    info = Sandbox(directory).load_env()
    env = dict(os.environ)
    env.pop("TIUP_COMPONENT_DATA_DIR", None)
    env.pop(procs.OWNER_ENV, None)
    env.update({"PATH": info["path"], "TIUP_HOME": info["tiup_home"],
                "TIDBOPS_SANDBOX_DIR": directory,
                "AWS_ACCESS_KEY_ID": info["s3"]["access_key"],
                "AWS_SECRET_ACCESS_KEY": info["s3"]["secret_key"],
                "AWS_DEFAULT_REGION": info["s3"]["region"]})
    return env, info


def make_cluster(directory, env, name):
    """Deploy and start a 1/1/1 cluster; returns its TiDB port."""
    text = topology_yaml(pd=1, tikv=1, tidb=1)
    path = os.path.join(directory, name + ".yaml")
    with open(path, "w") as handle:
        handle.write(text)
    key = os.path.join(directory, "ssh", "id_rsa")
    result = run(env, "tiup", "cluster", "deploy", name, "v7.5.1", path, "--yes", "-i", key)
    assert result.returncode == 0, result.stderr
    result = run(env, "tiup", "cluster", "start", name)
    assert result.returncode == 0, result.stderr
    return int(re.search(r"tidb_servers:\n  - host: \S+\n    port: (\d+)", text).group(1))


def sql(port, statement, args=None, many=False):
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", password="",
                           autocommit=True)
    try:
        with conn.cursor() as cur:
            if many:
                cur.executemany(statement, args)
            else:
                cur.execute(statement, args)
            return cur.fetchall()
    finally:
        conn.close()


def seed(port):
    sql(port, "CREATE DATABASE shop")
    sql(port, "CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(40), price "
              "DECIMAL(8,2), data VARBINARY(8), note TEXT)")
    rows = [(i, "item'%d\n\"x\\" % i, i * 1.5, bytes([i % 256, 0]),
             None if i % 3 == 0 else "n,%d" % i) for i in range(1, 41)]
    sql(port, "INSERT INTO shop.items VALUES (%s,%s,%s,%s,%s)", rows, many=True)
    sql(port, "CREATE TABLE shop.logs (msg VARCHAR(20))")
    sql(port, "INSERT INTO shop.logs VALUES ('a'), ('b'), ('a')")
    sql(port, "CREATE DATABASE other")
    sql(port, "CREATE TABLE other.t (id INT PRIMARY KEY)")
    sql(port, "INSERT INTO other.t VALUES (1), (2)")
    sql(port, "ANALYZE TABLE shop.items")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("dumpling"))
    sandbox = Sandbox(directory)
    sandbox.up(out=open(os.devnull, "w"))
    env, info = sandbox_env(directory)
    port = make_cluster(directory, env, "src")
    seed(port)
    yield {"dir": directory, "env": env, "port": port, "info": info}
    sandbox.down(out=open(os.devnull, "w"))
    assert procs.owned_pids(directory) == []


def dumpling(cluster, *args, **kw):
    return run(cluster["env"], "dumpling", "-P", cluster["port"], *args, **kw)


def test_sql_dump_files_and_formats(cluster, tmp_path):
    out = tmp_path / "sql"
    result = dumpling(cluster, "-o", out, "--consistency", "none", "-B", "shop")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dump data successfully, dumpling will exit now" in result.stdout
    assert result.stderr.startswith("Release version: v7.5.1\n")
    assert sorted(os.listdir(out)) == ["metadata", "shop-schema-create.sql", "shop.items-schema.sql",
                                       "shop.items.000000000.sql", "shop.logs-schema.sql",
                                       "shop.logs.000000000.sql"]
    schema = (out / "shop.items-schema.sql").read_text()
    assert schema.startswith("/*!40101 SET NAMES binary*/;\nCREATE TABLE `items` (")
    assert schema.endswith(";\n")
    data = (out / "shop.items.000000000.sql").read_text()
    lines = data.splitlines()
    assert lines[:2] == ["/*!40101 SET NAMES binary*/;", "INSERT INTO `items` VALUES"]
    assert lines[2] == "(1,'item\\'1\\n\\\"x\\\\',1.50,x'0100','n,1'),"
    assert lines[4] == "(3,'item\\'3\\n\\\"x\\\\',4.50,x'0300',NULL),"
    assert lines[-1].endswith(");") and len(lines) == 42
    meta = (out / "metadata").read_text()
    assert re.match(r"Started dump at: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n", meta)
    assert meta.endswith("\nFinished dump at: %s\n" % meta.splitlines()[-1][18:])


def test_default_consistency_records_the_tso(cluster, tmp_path):
    """auto = snapshot on TiDB: Pos is SHOW MASTER STATUS's TSO. A server that answers no
    row makes real dumpling panic in getSnapshot (index out of range), so does the stand-in."""
    status = sql(cluster["port"], "SHOW MASTER STATUS")
    out = tmp_path / "snap"
    result = dumpling(cluster, "-o", out, "-T", "other.t")
    if not status:
        assert result.returncode == 2
        assert "panic: runtime error: index out of range [1] with length 0" in result.stderr
        return
    assert result.returncode == 0, result.stdout + result.stderr
    meta = (out / "metadata").read_text().splitlines()
    assert meta[1:3] == ["SHOW MASTER STATUS:", "\tLog: tidb-binlog"] and meta[4] == "\tGTID:"
    # The position is the TSO when the dump started: later than the one read before it.
    assert meta[3].startswith("\tPos: ") and int(meta[3].split()[1]) > int(status[0][1]) > 400000000000000000


def test_explicit_snapshot_and_tables_list(cluster, tmp_path):
    out = tmp_path / "snap2"
    result = dumpling(cluster, "-o", out, "--snapshot", "434000000000000000", "-T", "other.t",
                      "--filetype", "csv")
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(os.listdir(out)) == ["metadata", "other-schema-create.sql",
                                       "other.t-schema.sql", "other.t.000000000.csv"]
    assert (out / "other.t.000000000.csv").read_bytes() == b'"id"\r\n1\r\n2\r\n'


def test_filter_where_and_gzip(cluster, tmp_path):
    out = tmp_path / "flt"
    result = dumpling(cluster, "-o", out, "--consistency", "none", "-f", "shop.*", "-f",
                      "!shop.logs", "--where", "id > 35", "-c", "gzip")
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(os.listdir(out)) == ["metadata", "shop-schema-create.sql.gz",
                                       "shop.items-schema.sql.gz", "shop.items.000000000.sql.gz"]
    data = gzip.decompress((out / "shop.items.000000000.sql.gz").read_bytes()).decode()
    ids = re.findall(r"^\((\d+),", data, re.M)
    assert ids == ["36", "37", "38", "39", "40"]


def test_rows_chunks_and_filesize(cluster, tmp_path):
    out = tmp_path / "chunks"
    result = dumpling(cluster, "-o", out, "--consistency", "none", "-T", "shop.items",
                      "-r", "10", "--filetype", "csv", "--no-header")
    assert result.returncode == 0, result.stdout + result.stderr
    files = sorted(f for f in os.listdir(out) if f.endswith(".csv"))
    assert files == ["shop.items.%09d.csv" % i for i in range(len(files))] and len(files) >= 4
    total = sum(len((out / f).read_bytes().splitlines()) for f in files)
    assert total == 40
    out = tmp_path / "sized"
    result = dumpling(cluster, "-o", out, "--consistency", "none", "-T", "shop.items",
                      "-F", "1KiB")
    assert result.returncode == 0, result.stdout + result.stderr
    files = sorted(f for f in os.listdir(out) if f.endswith(".sql") and "schema" not in f)
    assert files[:2] == ["shop.items.000000000.sql", "shop.items.000000001.sql"]


def test_sql_option_to_s3(cluster):
    s3 = cluster["info"]["s3"]
    url = "s3://%s/dumps/sqlopt" % s3["bucket"]
    result = dumpling(cluster, "-o", url, "--s3.endpoint", s3["endpoint"], "--consistency",
                      "none", "--sql", "SELECT id, note FROM shop.items WHERE id <= 3")
    assert result.returncode == 0, result.stdout + result.stderr
    client = boto3.client("s3", endpoint_url=s3["endpoint"], region_name=s3["region"],
                          aws_access_key_id=s3["access_key"],
                          aws_secret_access_key=s3["secret_key"])
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=s3["bucket"],
                                                           Prefix="dumps/sqlopt/")["Contents"])
    assert keys == ["dumps/sqlopt/metadata", "dumps/sqlopt/result.000000000.csv"]
    body = client.get_object(Bucket=s3["bucket"], Key=keys[1])["Body"].read()
    assert body == b'"id","note"\r\n1,"n,1"\r\n2,"n,2"\r\n3,\\N\r\n'


def test_errors(cluster, tmp_path):
    result = dumpling(cluster, "-o", tmp_path / "x", "-p", "wrong")
    assert result.returncode == 1
    assert re.search(r"\ncreate dumper failed: sql: SELECT version\(\);: Error 1045 \(28000\): "
                     r"Access denied for user 'root'@'[^']+' \(using password: YES\)\n",
                     result.stdout), result.stdout
    result = run(cluster["env"], "dumpling", "-P", procs.free_port(), "-o", tmp_path / "y")
    assert result.returncode == 1
    assert "create dumper failed:" in result.stdout and "connection refused" in result.stdout
    result = dumpling(cluster, "--bogus")
    assert result.returncode == 2 and result.stderr.startswith("unknown flag: --bogus\n")
    result = dumpling(cluster, "--sql", "SELECT 1", "--filetype", "sql", "-o", tmp_path / "z")
    assert result.returncode == 1
    assert ("create dumper failed: unsupported config.FileType 'sql' when we specify --sql, "
            "please unset --filetype or set it to 'csv'") in result.stdout
    result = dumpling(cluster, "-T", "shop.items", "-f", "shop.*")
    assert result.returncode == 1
    assert ("parse arguments failed: failed to parse filter: cannot pass --tables-list and "
            "--filter together") in result.stdout
    result = dumpling(cluster, "--sql", "SELECT 1", "--where", "1=1")
    assert result.returncode == 1 and "can't specify both --sql and --where" in result.stdout
    # no password from the environment: dumpling has none (only -p/--password)
    env = dict(cluster["env"], MYSQL_PWD="wrong")
    result = run(env, "dumpling", "-P", cluster["port"], "-o", tmp_path / "w", "-T", "other.t",
                 "--consistency", "none")
    assert result.returncode == 0, result.stdout


def test_tiup_dumpling(cluster, tmp_path):
    result = run(cluster["env"], "tiup", "dumpling", "-P", cluster["port"], "-o",
                 tmp_path / "t", "--consistency", "none", "-T", "other.t", "-p", "secret0")
    assert result.returncode == 1  # root has no password
    first = result.stderr.splitlines()[0]
    assert first.startswith("Starting component dumpling: ")
    assert first.endswith("/components/dumpling/v7.5.1/dumpling -P %d -o %s --consistency none "
                          "-T other.t -p ******" % (cluster["port"], tmp_path / "t"))
