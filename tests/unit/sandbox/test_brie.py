"""BACKUP / RESTORE / SHOW BACKUPS / KILL TIDB QUERY / ADMIN CHECKSUM TABLE of the TiDB
stand-in, through real clients: a real MariaDB, the stand-in process, and the sandbox's real
S3 server (moto), as `python -m tests.sandbox up` starts it."""
import os
import subprocess
import sys
import threading
import time
import urllib.parse

import boto3
import pymysql
import pytest

from tests.sandbox import procs
from tests.sandbox.tidb import backupmeta, brie_parse, checksum, knobs, tso
from tests.sandbox.mariadb import MariaDB

from .conftest import REPO_ROOT, StandIn

LOCK = "DO NOT DELETE\nThis file exists to remind other backup jobs won't use this path"
DBS = ("brie_a", "brie_b", "brie_c")


@pytest.fixture(autouse=True)
def clean(mariadb):
    yield
    with mariadb.admin_connect() as conn, conn.cursor() as cur:
        for db in DBS:
            cur.execute("DROP DATABASE IF EXISTS %s" % db)


def connect(standin, **kw):
    kw.setdefault("password", "")
    return pymysql.connect(host="127.0.0.1", port=standin.port, user="root", autocommit=True, **kw)


def run(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        names = [d[0] for d in cur.description] if cur.description else None
        return names, cur.fetchall()


def fails(conn, sql):
    with pytest.raises(pymysql.MySQLError) as err:
        run(conn, sql)
    return err.value.args[0], err.value.args[1]


def make_data(conn, db="brie_a"):
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE %s" % db)
        cur.execute("CREATE TABLE %s.items (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(20),"
                    " price DECIMAL(10,2), raw BLOB, seen TIMESTAMP NULL, doc JSON,"
                    " half INT AS (id DIV 2) VIRTUAL, KEY (name))" % db)
        cur.executemany("INSERT INTO %s.items (id, name, price, raw, seen, doc) VALUES "
                        "(%%s, %%s, %%s, %%s, %%s, %%s)" % db,
                        [(i, "n%d \u00e9" % i, i * 1.25, bytes([i % 256, 0, 255, 39, 92]),
                          None if i % 7 else "2024-02-29 12:34:56", '{"k": %d}' % i)
                         for i in range(1, 601)])
        cur.execute("CREATE TABLE %s.notes (a INT, b TEXT)" % db)  # no key: duplicates
        cur.executemany("INSERT INTO %s.notes VALUES (%%s, %%s)" % db,
                        [(1, "x"), (1, "x"), (2, None), (None, "")])


def checksums(conn, *names):
    return {n: run(conn, "ADMIN CHECKSUM TABLE %s" % n)[1][0][2:] for n in names}


def s3_url(sandbox, prefix, **override):
    s3 = sandbox["s3"]
    query = {"access-key": s3["access_key"], "secret-access-key": s3["secret_key"],
             "endpoint": s3["endpoint"], "force-path-style": "true", "region": s3["region"]}
    query.update(override)
    return "s3://%s/%s?%s" % (s3["bucket"], prefix,
                              urllib.parse.urlencode({k: v for k, v in query.items() if v}))


def s3_client(sandbox):
    s3 = sandbox["s3"]
    return boto3.client("s3", endpoint_url=s3["endpoint"], region_name=s3["region"],
                        aws_access_key_id=s3["access_key"],
                        aws_secret_access_key=s3["secret_key"])


def set_knob(sandbox, **values):
    subprocess.run([sys.executable, "-m", "tests.sandbox", "knob", "--dir", sandbox["dir"]]
                   + ["%s=%s" % kv for kv in values.items()], cwd=REPO_ROOT, check=True,
                   capture_output=True, env=dict(os.environ, PYTHONPATH=REPO_ROOT))


def show(conn, kind="BACKUPS", where=""):
    names, rows = run(conn, "SHOW %s%s" % (kind, where))
    return [dict(zip(names, r)) for r in rows]


# -- backup, files, restore -----------------------------------------------------------

def test_local_backup_files_and_restore(tidb, tmp_path):
    conn = connect(tidb)
    make_data(conn)
    before = checksums(conn, "brie_a.items", "brie_a.notes")
    dest = tmp_path / "full"
    started = tso.compose(int(time.time() * 1000))
    names, rows = run(conn, "BACKUP DATABASE brie_a TO 'local://%s'" % dest)
    assert names == ["Destination", "Size", "BackupTS", "Queue Time", "Execution Time"]
    destination, size, backup_ts, queued, executed = rows[0]
    assert destination == "local://%s" % dest
    assert started <= backup_ts <= tso.compose(int(time.time() * 1000))
    assert queued <= executed

    files = sorted(os.listdir(dest))
    ssts = [f for f in files if f.endswith(".sst")]
    assert set(files) == set(ssts) | {"backup.lock", "backupmeta", "checkpoints"}
    assert len(ssts) == 4  # 600 rows in 256-row files, and one file for the small table
    assert size == sum(os.path.getsize(dest / f) for f in ssts)
    assert (dest / "backup.lock").read_text() == LOCK

    def mtime(name):
        return os.stat(dest / name).st_mtime_ns

    assert mtime("backup.lock") <= min(mtime(f) for f in ssts)
    assert max(mtime(f) for f in ssts) <= mtime("backupmeta")
    assert not [f for r, d, fs in os.walk(dest / "checkpoints") for f in fs]
    raw = (dest / "backupmeta").read_bytes()
    assert backupmeta.fields(raw)[6] == backup_ts and 5 not in backupmeta.fields(raw)  # BR's end_version
    meta = backupmeta.decode(raw)
    assert meta["end_version"] == backup_ts and meta["start_version"] == 0
    assert sorted(t["name"] for t in meta["tables"]) == ["items", "notes"]

    code, message = fails(conn, "BACKUP DATABASE brie_a TO 'local://%s'" % dest)
    assert (code, message) == (8124, (
        "Backup failed: backup meta file exists in local://%s/backupmeta, there may be some "
        "backup files in the path already, please specify a correct backup directory!: "
        "[BR:Common:ErrInvalidArgument]invalid argument" % dest))

    code, message = fails(conn, "RESTORE DATABASE * FROM 'local://%s'" % dest)
    assert (code, message) == (8125, (
        "Restore failed: table already exists: brie_a.items brie_a.notes : "
        "[BR:Restore:ErrTablesAlreadyExisted]tables already existed in restored cluster"))

    run(conn, "DROP DATABASE brie_a")
    names, rows = run(conn, "RESTORE DATABASE brie_a FROM 'local://%s' CHECKSUM = TRUE "
                            "CONCURRENCY = 8" % dest)
    assert names == ["Destination", "Size", "BackupTS", "Cluster TS", "Queue Time",
                     "Execution Time"]
    assert rows[0][:3] == (destination, size, backup_ts) and rows[0][3] > backup_ts
    assert checksums(conn, "brie_a.items", "brie_a.notes") == before
    assert run(conn, "SELECT raw, half FROM brie_a.items WHERE id = 300")[1] == (
        (bytes([44, 0, 255, 39, 92]), 150),)

    code, message = fails(conn, "RESTORE DATABASE * FROM 'local://%s/none'" % tmp_path)
    assert (code, message) == (8125, "Restore failed: load backupmeta failed: open "
                                     "%s/none/backupmeta: no such file or directory" % tmp_path)
    shown = show(conn, "RESTORES")
    assert [r["State"] for r in shown[-3:]] == ["Wait Canceled", "Restore", "Wait Canceled"]
    assert shown[-1]["Message"].startswith("[executor:8125]Restore failed: load backupmeta")


def test_current_tso_and_backup_ts_come_from_one_clock(tidb, tmp_path):
    """TIDB_CURRENT_TSO() is a BIGINT from the cluster's allocator that BACKUP's BackupTS uses too,
    so a TSO taken before a backup is below its BackupTS and one taken after is above it."""
    conn = connect(tidb)
    make_data(conn)
    names, rows = run(conn, "SELECT TIDB_CURRENT_TSO()")
    before = rows[0][0]
    assert names == ["TIDB_CURRENT_TSO()"] and isinstance(before, int)
    backup_ts = run(conn, "BACKUP DATABASE brie_a TO 'local://%s'" % (tmp_path / "tso"))[1][0][2]
    after = run(conn, "SELECT tidb_current_tso() AS t, TIDB_CURRENT_TSO() + 0")[1][0]
    assert before < backup_ts < after[0] < after[1]
    assert abs(tso.to_unix(after[0]) - time.time()) < 60  # physical part is the wall clock


def test_s3_backup_restore_and_no_secret(tidb, sandbox):
    conn = connect(tidb)
    make_data(conn)
    before = checksums(conn, "brie_a.items")
    url = s3_url(sandbox, "unit-s3")
    names, rows = run(conn, "BACKUP TABLE `brie_a`.`items` TO '%s' RATE_LIMIT = 64 MB/SECOND"
                      % url)
    assert rows[0][0] == "s3://tidbops/unit-s3"
    objects = {o["Key"]: o["LastModified"] for o in s3_client(sandbox).list_objects_v2(
        Bucket="tidbops", Prefix="unit-s3/")["Contents"]}
    keys = sorted(objects)
    assert {"unit-s3/backup.lock", "unit-s3/backupmeta"} <= set(keys)
    assert len([k for k in keys if k.endswith(".sst")]) == 3
    assert not [k for k in keys if "checkpoint" in k]
    assert objects["unit-s3/backupmeta"] == max(objects.values())

    code, message = fails(conn, "BACKUP TABLE brie_a.items TO '%s'" % url)
    assert message.startswith("Backup failed: backup meta file exists in "
                              "s3://tidbops/unit-s3//backupmeta, there may be")  # BR's '//'
    run(conn, "DROP TABLE brie_a.items")
    run(conn, "RESTORE TABLE brie_a.items FROM '%s'" % url)
    assert checksums(conn, "brie_a.items") == before
    shown = show(conn, where=" WHERE Destination = 's3://tidbops/unit-s3'")
    assert len(shown) == 2 and shown[0]["State"] == "Checksum"
    assert show(conn, where=" LIKE 's3://%'") == []  # LIKE applies to Id, TiDB's quirk
    assert show(conn, where=" LIKE '%s'" % shown[0]["Id"]) == shown[:1]

    secret = sandbox["s3"]["secret_key"]
    assert secret not in repr(show(conn)) + repr(show(conn, "RESTORES")) + message
    assert secret not in tidb.log()


def test_s3_credentials_from_the_tidb_environment(mariadb, sandbox, start_standin,
                                                  monkeypatch):
    """Without keys in the URL, BR uses the TiDB process's AWS_* environment."""
    s3 = sandbox["s3"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3["access_key"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3["secret_key"])
    standin = start_standin("tidb-aws-env")
    conn = connect(standin)
    run(conn, "CREATE DATABASE brie_c")
    run(conn, "CREATE TABLE brie_c.t (id INT PRIMARY KEY)")
    url = "s3://%s/unit-env?endpoint=%s" % (s3["bucket"], s3["endpoint"])
    assert run(conn, "BACKUP DATABASE brie_c TO '%s'" % url)[1][0][0] == "s3://tidbops/unit-env"
    keys = [o["Key"] for o in s3_client(sandbox).list_objects_v2(
        Bucket="tidbops", Prefix="unit-env/")["Contents"]]
    assert "unit-env/backupmeta" in keys


def test_s3_failures_are_fast_and_shaped_like_brs(tidb, sandbox):
    conn = connect(tidb)
    make_data(conn)
    secret = sandbox["s3"]["secret_key"]
    port = procs.free_port()
    cases = [
        (s3_url(sandbox, "u1", endpoint="http://127.0.0.1:%d" % port),
         'failed to get region of bucket tidbops: RequestError: send request failed\ncaused '
         'by: Head "http://127.0.0.1:%d/tidbops": dial tcp 127.0.0.1:%d: connect: connection '
         'refused' % (port, port)),
        (s3_url(sandbox, "u1").replace("s3://tidbops/", "s3://no-such-bucket/"),
         "failed to get region of bucket no-such-bucket: NotFound: Not Found\n\tstatus code: 404"),
        (s3_url(sandbox, "u1", **{"secret-access-key": secret + "x"}),
         "error occurred when checking backupmeta file: Forbidden: Forbidden\n\tstatus code: 403"),
        (s3_url(sandbox, "u1", **{"access-key": "AKIDWRONG"}),
         "error occurred when checking backupmeta file: Forbidden: Forbidden\n\tstatus code: 403"),
        (s3_url(sandbox, "u1", region="eu-west-1"),
         "s3 bucket and region are not matched, bucket=tidbops, input region=eu-west-1, real "
         "region=us-east-1"),
        ("s3:///u1", "please specify the bucket for s3 in s3:///u1: "
                     "[BR:ExternalStorage:ErrStorageInvalidConfig]invalid external storage config"),
        ("ftp://host/u1?secret-access-key=%s" % secret,
         "storage ftp not support yet: [BR:ExternalStorage:ErrStorageInvalidConfig]invalid "
         "external storage config"),
    ]
    for url, expected in cases:
        started = time.monotonic()
        code, message = fails(conn, "BACKUP DATABASE brie_a TO '%s'" % url)
        assert time.monotonic() - started < 5
        assert code == 8124 and message.startswith("Backup failed: " + expected), message
        assert secret not in message
    assert not s3_client(sandbox).list_objects_v2(Bucket="tidbops", Prefix="u1/").get("Contents")
    code, message = fails(conn, "RESTORE DATABASE * FROM '%s'" % s3_url(sandbox, "u1"))
    assert code == 8125 and message.startswith(
        "Restore failed: load backupmeta failed: failed to read s3 file, file info: "
        "input.bucket='tidbops', input.key='u1/backupmeta': NoSuchKey: The specified key "
        "does not exist.\n\tstatus code: 404, request id: ")
    assert secret not in repr(show(conn)) and secret not in tidb.log()


# -- queue, progress, kill --------------------------------------------------------------

def test_stretched_task_is_shown_waits_and_is_killed(tidb, sandbox, tmp_path):
    admin = connect(tidb)
    make_data(admin)
    set_knob(sandbox, brie_min_seconds=5)
    worker, queued = connect(tidb), connect(tidb)
    worker_id, queued_id = worker.thread_id(), queued.thread_id()
    results = {}

    def backup(conn, name, dest):
        try:
            results[name] = run(conn, "BACKUP DATABASE brie_a TO 'local://%s'" % dest)
        except pymysql.MySQLError as exc:
            results[name] = exc.args

    first = threading.Thread(target=backup, args=(worker, "first", tmp_path / "one"))
    first.start()
    try:
        assert procs.wait_until(lambda: [r for r in show(admin) if r["Connection"] == worker_id
                                         and r["State"] == "Backup"], 5)
        second = threading.Thread(target=backup, args=(queued, "second", tmp_path / "two"))
        second.start()
        assert procs.wait_until(lambda: [r for r in show(admin) if r["Connection"] == queued_id
                                         and r["State"] == "Wait"], 5)
        row = [r for r in show(admin) if r["Connection"] == worker_id][-1]
        assert row["Destination"] == "local://%s" % (tmp_path / "one")
        assert str(row["Finish_time"]) == "0000-00-00 00:00:00" and row["Message"] is None
        first_progress = row["Progress"]
        assert procs.wait_until(lambda: [r for r in show(admin) if r["Connection"] == worker_id
                                         ][-1]["Progress"] > first_progress, 4)

        killed_at = time.monotonic()
        run(admin, "KILL TIDB QUERY %d" % worker_id)
        first.join(10)
        # TiDB wraps the cancelled context like any BR error (brie.go handleBRIEError), not as 1317.
        assert results["first"] == (8124, "Backup failed: context canceled")
        assert time.monotonic() - killed_at < 4.5  # TiDB checks for kills every 3 s
        files = os.listdir(tmp_path / "one")
        assert "backup.lock" in files and "backupmeta" not in files
        row = [r for r in show(admin) if r["Connection"] == worker_id][-1]
        assert row["State"] == "Backup Canceled" and row["Progress"] == 100.0
        assert row["Message"] == "[executor:8124]Backup failed: context canceled"

        # The queued task runs once the slot is free; kill it while it runs.
        assert procs.wait_until(lambda: [r for r in show(admin) if r["Connection"] == queued_id
                                         and r["State"] == "Backup"], 5)
        run(admin, "KILL QUERY %d" % queued_id)
        second.join(10)
        assert results["second"] == (8124, "Backup failed: context canceled")
    finally:
        set_knob(sandbox, brie_min_seconds=0)
        first.join(15)
    # The same backup again resumes from the checkpoint the killed one left.
    names, rows = run(worker, "BACKUP DATABASE brie_a TO 'local://%s'" % (tmp_path / "one"))
    assert "backupmeta" in os.listdir(tmp_path / "one")
    # KILL of a connection that runs no BRIE task is MariaDB's.
    assert fails(admin, "KILL TIDB QUERY 987654") == (1094, "Unknown thread id: 987654")
    run(admin, "KILL TIDB %d" % queued_id)
    assert procs.wait_until(lambda: not _alive(queued), 5)


def _alive(conn):
    try:
        conn.ping(reconnect=False)
        return True
    except pymysql.MySQLError:
        return False


# -- incremental ------------------------------------------------------------------------

def test_incremental_backup_and_restore(tidb, tmp_path):
    conn = connect(tidb)
    make_data(conn)
    make_data(conn, "brie_b")
    full_ts = run(conn, "BACKUP DATABASE brie_a, brie_b TO 'local://%s'"
                  % (tmp_path / "full"))[1][0][2]
    run(conn, "INSERT INTO brie_a.items (id, name) VALUES (1000, 'new')")
    run(conn, "DROP TABLE brie_b.notes")
    run(conn, "CREATE TABLE brie_b.fresh (x INT PRIMARY KEY)")
    run(conn, "INSERT INTO brie_b.fresh VALUES (7)")
    after = checksums(conn, "brie_a.items", "brie_a.notes", "brie_b.items", "brie_b.fresh")
    names, rows = run(conn, "BACKUP DATABASE brie_a, brie_b TO 'local://%s' LAST_BACKUP = %d"
                      % (tmp_path / "incr", full_ts))
    assert rows[0][2] > full_ts
    meta = backupmeta.decode((tmp_path / "incr" / "backupmeta").read_bytes())
    assert meta["start_version"] == full_ts and meta["is_incremental"]
    assert sorted("%s.%s" % (t["db"], t["name"]) for t in meta["tables"]) == [
        "brie_a.items", "brie_b.fresh"]
    assert meta["dropped_tables"] == [{"db": "brie_b", "name": "notes"}]

    run(conn, "DROP DATABASE brie_a")
    run(conn, "DROP DATABASE brie_b")
    run(conn, "RESTORE DATABASE * FROM 'local://%s'" % (tmp_path / "full"))
    run(conn, "RESTORE DATABASE * FROM 'local://%s'" % (tmp_path / "incr"))
    assert checksums(conn, "brie_a.items", "brie_a.notes", "brie_b.items",
                     "brie_b.fresh") == after
    assert run(conn, "SHOW TABLES FROM brie_b")[1] == (("fresh",), ("items",))

    code, message = fails(conn, "BACKUP DATABASE brie_a TO 'local://%s' LAST_BACKUP = %d"
                          % (tmp_path / "x", full_ts + 1))
    assert code == 1105 and "not the BackupTS of a backup this cluster took" in message
    future = tso.compose(int(time.time() * 1000) + 3600000)
    code, message = fails(conn, "BACKUP DATABASE brie_a TO 'local://%s' LAST_BACKUP = %d"
                          % (tmp_path / "y", future))
    assert (code, message) == (8124, "Backup failed: LastBackupTS is larger or equal to current "
                                     "TS: [BR:Common:ErrInvalidArgument]invalid argument")


# -- ADMIN CHECKSUM TABLE, syntax, refusals -------------------------------------------

def test_admin_checksum_table(tidb):
    conn = connect(tidb)
    run(conn, "CREATE DATABASE brie_c")
    for name, order in (("t1", range(50)), ("t2", reversed(range(50)))):
        run(conn, "CREATE TABLE brie_c.%s (id INT PRIMARY KEY, v VARCHAR(10))" % name)
        for i in order:
            run(conn, "INSERT INTO brie_c.%s VALUES (%d, 'v%d')" % (name, i, i))
    names, rows = run(conn, "ADMIN CHECKSUM TABLE brie_c.t1, `brie_c`.`t2`")
    assert names == ["Db_name", "Table_name", "Checksum_crc64_xor", "Total_kvs", "Total_bytes"]
    assert [r[:2] for r in rows] == [("brie_c", "t1"), ("brie_c", "t2")]
    assert rows[0][2:] == rows[1][2:] and rows[0][3] == 50
    run(conn, "CREATE TABLE brie_c.dups (v INT)")
    run(conn, "INSERT INTO brie_c.dups VALUES (1), (1)")
    assert run(conn, "ADMIN CHECKSUM TABLE brie_c.dups")[1][0][2] != 0
    assert fails(conn, "ADMIN CHECKSUM TABLE brie_c.nope") == (
        1146, "Table 'brie_c.nope' doesn't exist")
    assert fails(conn, "ADMIN CHECKSUM TABLE t1") == (1046, "No database selected")
    run(conn, "USE brie_c")
    assert run(conn, "ADMIN CHECKSUM TABLE T1")[1] == (rows[0],)  # names: case-insensitive


def test_syntax_errors_and_refusals(tidb, tmp_path):
    conn = connect(tidb)
    run(conn, "CREATE DATABASE brie_c")
    code, message = fails(conn, "BACKUP DATABASE * TO 'local:///tmp/x' FOO = 1")
    assert code == 1064 and message.endswith('line 1 column 41 near "FOO = 1" ')
    assert fails(conn, "BACKUP STAGE START")[0] == 1064
    code, message = fails(conn, "BACKUP DATABASE brie_c TO 'local://%s' SNAPSHOT = 5 MINUTE AGO"
                          % tmp_path)
    assert code == 1105 and "SNAPSHOT cannot be emulated" in message
    assert fails(conn, "BACKUP TABLE t TO 'local://%s'" % tmp_path) == (1046,
                                                                        "No database selected")
    code, message = fails(conn, "BACKUP DATABASE mysql TO 'local://%s'" % tmp_path)
    assert code == 1105 and "system schema" in message
    assert not os.listdir(tmp_path)
    # Nothing matched: backupmeta alone, Size 0 (BR's "Nothing to backup").
    rows = run(conn, "BACKUP DATABASE brie_nothing TO 'local://%s'" % (tmp_path / "n"))[1]
    assert rows[0][1] == 0 and sorted(os.listdir(tmp_path / "n")) == ["backup.lock",
                                                                      "backupmeta"]


def test_statement_parser():
    stmt = brie_parse.parse("backup table a.t, `b`.`u` to 's3://x/y' rate_limit 8 MB/SECOND "
                            "checksum = 0 send_credentials_to_tikv = FALSE last_backup 42")
    assert stmt.kind == "backup" and stmt.tables == [("a", "t"), ("b", "u")]
    assert stmt.options == {"RATE_LIMIT": 8 << 20, "CHECKSUM": 0,
                            "SEND_CREDENTIALS_TO_TIKV": 0, "LAST_BACKUP": ("tso", 42)}
    stmt = brie_parse.parse("RESTORE SCHEMA * FROM 'local:///x' WITH_SYS_TABLE = TRUE "
                            "CHECKSUM_CONCURRENCY 4 LOAD_STATS 0 WAIT_TIFLASH_READY 1 "
                            "CHECKSUM OPTIONAL")
    assert stmt.all and stmt.options["CHECKSUM"] == 1
    assert checksum.crc64(b"123456789") == 0x995DC9BBDF1939FA


def test_knob_cli(tmp_path):
    def run_cli(*a):
        return subprocess.run(
            [sys.executable, "-m", "tests.sandbox", "knob", "--dir", str(tmp_path)] + list(a),
            cwd=REPO_ROOT, capture_output=True, text=True, check=False,
            env=dict(os.environ, PYTHONPATH=REPO_ROOT))

    assert run_cli("brie_min_seconds=2.5").stdout == "brie_min_seconds=2.5\n"
    assert knobs.read(str(tmp_path)) == {"brie_min_seconds": 2.5}
    assert run_cli().stdout == "brie_min_seconds=2.5\n"
    assert run_cli("brie_min_seconds=0").stdout == ""
    assert knobs.read(str(tmp_path)) == {}
    bad = run_cli("nope=1")
    assert bad.returncode == 2 and "unknown knob" in bad.stderr
    assert knobs.sandbox_dir_of_owner("/s/clusters/c1") == "/s"
    assert knobs.sandbox_dir_of_owner("/s/other") == "/s/other"


# -- accounts (the mysql schema's privilege tables) ---------------------------------------

def test_full_restore_brings_accounts_as_br_does(tmp_path, sandbox_owner):
    """BACKUP DATABASE * takes the accounts; RESTORE DATABASE * merges them back when WITH_SYS_TABLE
    is on (the default from v7.6.0): same-named accounts are replaced (root's password too), the
    target's own stay, system variables never come over."""
    db = MariaDB(str(tmp_path / "storage"), procs.free_port(), sandbox_owner)
    db.initialize()
    db.start()
    standins = []

    def standin(version):
        started = StandIn(db, str(tmp_path / version), version=version)
        standins.append(started)
        return started

    def login(server, user, password):
        pymysql.connect(host="127.0.0.1", port=server.port, user=user, password=password).close()

    try:
        old = standin("v7.5.1")
        conn = connect(old)
        make_data(conn)
        with conn.cursor() as cur:
            cur.execute("CREATE USER acct_b IDENTIFIED BY 'secret'")
            cur.execute("GRANT SELECT ON brie_a.* TO acct_b")
            cur.execute("GRANT BACKUP_ADMIN ON *.* TO acct_b")
            cur.execute("SET GLOBAL tidb_mem_quota_query = 2147483648")
        dest = "local://%s" % (tmp_path / "full")
        run(conn, "BACKUP DATABASE * TO '%s'" % dest)
        with conn.cursor() as cur:
            cur.execute("DROP USER acct_b")
            cur.execute("CREATE USER acct_t IDENTIFIED BY 'target'")
            cur.execute("SET GLOBAL tidb_mem_quota_query = 1073741825")
            cur.execute("ALTER USER 'root'@'%' IDENTIFIED BY 'changed'")
        conn.close()
        conn = connect(old, password="changed")

        def restore(server, conn, options=""):
            with conn.cursor() as cur:
                cur.execute("DROP DATABASE brie_a")
            run(conn, "RESTORE DATABASE * FROM '%s'%s" % (dest, options))

        restore(old, conn)  # before v7.6: data only
        assert run(conn, "SELECT COUNT(*) FROM brie_a.items")[1] == ((600,),)
        with pytest.raises(pymysql.err.OperationalError):
            login(old, "acct_b", "secret")
        restore(old, conn, " WITH_SYS_TABLE = 1")
        login(old, "acct_b", "secret")
        login(old, "acct_t", "target")  # the target's own account stays
        login(old, "root", "")  # root is the backup's again, password and all
        conn.close()
        conn = connect(old)
        assert run(conn, "SHOW GRANTS FOR acct_b")[1] == (
            ("GRANT USAGE ON *.* TO 'acct_b'@'%'",), ("GRANT SELECT ON `brie_a`.* TO 'acct_b'@'%'",),
            ("GRANT BACKUP_ADMIN ON *.* TO 'acct_b'@'%'",))
        assert run(conn, "SELECT @@global.tidb_mem_quota_query")[1] == (("1073741825",),)  # never restored
        conn.close()

        new = standin("v7.6.0")
        conn = connect(new)
        with conn.cursor() as cur:
            cur.execute("DROP USER acct_b")
        restore(new, conn, " WITH_SYS_TABLE = 0")
        with pytest.raises(pymysql.err.OperationalError):
            login(new, "acct_b", "secret")
        restore(new, conn)  # from v7.6 the default
        login(new, "acct_b", "secret")
        conn.close()
    finally:
        for started in standins:
            started.kill()
        db.stop()
