"""IMPORT INTO / SHOW IMPORT JOB[S] / CANCEL IMPORT JOB of the TiDB stand-in, through real
clients: a real MariaDB, the stand-in process and the sandbox's real S3 server (moto)."""
import gzip
import os
import threading
import time

import pymysql
import pytest

from tests.sandbox.tidb import import_into

from .test_brie import connect, fails, run, s3_client, s3_url, set_knob

DB = "imp_a"
COLUMNS = ["Job_ID", "Data_Source", "Target_Table", "Table_ID", "Phase", "Status",
           "Source_File_Size", "Imported_Rows", "Result_Message", "Create_Time", "Start_Time",
           "End_Time", "Created_By"]


@pytest.fixture(autouse=True)
def clean(mariadb):
    with mariadb.admin_connect() as conn, conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS %s" % DB)
        cur.execute("CREATE DATABASE %s" % DB)
        cur.execute("CREATE TABLE %s.t (id INT PRIMARY KEY, name VARCHAR(40), price "
                    "DECIMAL(10,2), note TEXT)" % DB)
    yield
    with mariadb.admin_connect() as conn, conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS %s" % DB)


def csv_rows(start, count):
    return "".join('%d,"n%d, quoted ""x""",%d.25,%s\n'
                   % (i, i, i, "\\N" if i % 5 == 0 else "note%d" % i)
                   for i in range(start, start + count))


def table_rows(conn):
    return run(conn, "SELECT id, name, price, note FROM %s.t ORDER BY id" % DB)[1]


def as_dicts(names, rows):
    return [dict(zip(names, r)) for r in rows]


def test_csv_from_local_dir(tidb, tmp_path):
    (tmp_path / "part1.csv").write_text("id,name,price,note\n" + csv_rows(1, 300))
    (tmp_path / "part2.csv").write_text("id,name,price,note\n" + csv_rows(301, 200))
    (tmp_path / "other.txt").write_text("not matched")
    conn = connect(tidb, database=DB)
    names, rows = run(conn, "IMPORT INTO t FROM '%s/part*.csv' WITH SKIP_ROWS=1, THREAD=2, "
                            "CHECKSUM_TABLE='required'" % tmp_path)
    assert names == COLUMNS
    job = as_dicts(names, rows)[0]
    assert job["Status"] == "finished" and job["Phase"] == ""
    assert job["Imported_Rows"] == 500 and job["Target_Table"] == "`imp_a`.`t`"
    assert job["Data_Source"] == "%s/part*.csv" % tmp_path
    size = os.path.getsize(tmp_path / "part1.csv") + os.path.getsize(tmp_path / "part2.csv")
    assert job["Source_File_Size"] == import_into.bytes_size(size)
    assert job["Source_File_Size"].endswith("KiB")
    assert job["Start_Time"] is not None and job["End_Time"] is not None
    assert job["Created_By"].startswith("root@")
    got = table_rows(conn)
    assert len(got) == 500
    assert got[0] == (1, 'n1, quoted "x"', pytest.approx(1.25), "note1")
    assert got[4][3] is None  # \N is NULL

    # the job is listed by id and in the list, from another connection
    other = connect(tidb)
    names, rows = run(other, "SHOW IMPORT JOB %d" % job["Job_ID"])
    assert as_dicts(names, rows)[0]["Status"] == "finished"
    assert job["Job_ID"] in [r[0] for r in run(other, "SHOW IMPORT JOBS")[1]]

    # non-empty table refused, with TiDB's precheck error
    assert fails(conn, "IMPORT INTO t FROM '%s/part1.csv'" % tmp_path) == (
        8173, "PreCheck failed: target table is not empty")
    # finished jobs cannot be cancelled; unknown ids
    assert fails(conn, "CANCEL IMPORT JOB %d" % job["Job_ID"]) == (
        8171, "The current job status cannot perform the operation. CANCEL")
    assert fails(conn, "SHOW IMPORT JOB 999999") == (8170, "Job ID 999999 doesn't exist")
    assert fails(conn, "CANCEL IMPORT JOB 999999") == (8170, "Job ID 999999 doesn't exist")


def test_refusals(tidb, tmp_path):
    (tmp_path / "a.csv").write_text(csv_rows(1, 3))
    conn = connect(tidb, database=DB)
    assert fails(conn, "IMPORT INTO t FROM '%s/none*.csv'" % tmp_path) == (
        8173, "PreCheck failed: No file matched, or the file is empty. Please provide a valid "
              "file location.")
    assert fails(conn, "IMPORT INTO t FROM 'rel/a.csv'")[0] == 8158
    assert fails(conn, "IMPORT INTO nope FROM '%s/a.csv'" % tmp_path) == (
        1146, "Table 'imp_a.nope' doesn't exist")
    assert fails(conn, "IMPORT INTO t FROM '%s/a.csv' WITH bogus=1" % tmp_path) == (
        8163, "Unknown option bogus")
    assert fails(conn, "IMPORT INTO t FROM '%s/a.csv' FORMAT 'sql' WITH SKIP_ROWS=1"
                 % tmp_path)[0] == 8166
    run(conn, "BEGIN")
    assert fails(conn, "IMPORT INTO t FROM '%s/a.csv'" % tmp_path) == (
        1105, "cannot run IMPORT INTO in explicit transaction")
    run(conn, "ROLLBACK")
    run(conn, "IMPORT INTO t FROM '%s/a.csv'" % tmp_path)
    assert len(table_rows(conn)) == 3


def test_sql_gz_and_options(tidb, tmp_path):
    dump = ("/*!40101 SET NAMES binary*/;\nINSERT INTO `t` VALUES\n"
            "(1,'a\\'b',1.50,NULL),\n(2,'c',2.00,'x');\n")
    with gzip.open(tmp_path / "imp_a.t.000000000.sql.gz", "wt") as handle:
        handle.write(dump)
    conn = connect(tidb, database=DB)
    run(conn, "IMPORT INTO %s.t FROM '%s/*.sql.gz' FORMAT 'sql'" % (DB, tmp_path))
    assert table_rows(conn) == ((1, "a'b", pytest.approx(1.5), None),
                                (2, "c", pytest.approx(2.0), "x"))
    run(conn, "DELETE FROM t")
    (tmp_path / "b.csv").write_text("5|'x|y'|1|NIL;6|z|2|q;")
    run(conn, "IMPORT INTO t (id, name, price, note) FROM '%s/b.csv' WITH "
              "FIELDS_TERMINATED_BY='|', FIELDS_ENCLOSED_BY=\"'\", FIELDS_ESCAPED_BY='', "
              "FIELDS_DEFINED_NULL_BY='NIL', LINES_TERMINATED_BY=';', DISABLE_PRECHECK"
        % tmp_path)
    assert table_rows(conn) == ((5, "x|y", pytest.approx(1), None),
                                (6, "z", pytest.approx(2), "q"))


def wait_status(conn, job_id, wanted, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        names, rows = run(conn, "SHOW IMPORT JOB %d" % job_id)
        job = as_dicts(names, rows)[0]
        if job["Status"] in wanted:
            return job
        time.sleep(0.1)
    raise AssertionError("job %d still %s" % (job_id, job["Status"]))


def test_detached_job_runs_in_background(tidb, tmp_path):
    (tmp_path / "a.csv").write_text(csv_rows(1, 50))
    conn = connect(tidb, database=DB)
    names, rows = run(conn, "IMPORT INTO t FROM '%s/a.csv' WITH DETACHED" % tmp_path)
    job = as_dicts(names, rows)[0]
    assert job["Status"] == "pending" and job["Imported_Rows"] is None
    assert job["Start_Time"] is None and job["End_Time"] is None
    done = wait_status(connect(tidb), job["Job_ID"], ("finished", "failed"))
    assert done["Status"] == "finished" and done["Imported_Rows"] == 50
    assert len(table_rows(conn)) == 50


def test_stretched_job_cancelled_from_another_connection(tidb, sandbox, tmp_path):
    (tmp_path / "a.csv").write_text(csv_rows(1, 2000))
    conn = connect(tidb, database=DB)
    set_knob(sandbox, import_min_seconds=6)
    try:
        names, rows = run(conn, "IMPORT INTO t FROM '%s/a.csv' WITH DETACHED" % tmp_path)
        job_id = as_dicts(names, rows)[0]["Job_ID"]
        other = connect(tidb)
        running = wait_status(other, job_id, ("running",))
        assert running["Phase"] == "importing"
        # a second job on the same table is refused while this one is active
        assert fails(conn, "IMPORT INTO t FROM '%s/a.csv'" % tmp_path) == (
            8173, "PreCheck failed: there is active job on the target table already")
        started = time.time()
        run(other, "CANCEL IMPORT JOB %d" % job_id)
        assert time.time() - started < 3
        job = wait_status(other, job_id, ("cancelled",), timeout=1)
        assert job["Result_Message"] == "cancelled by user"
        assert table_rows(conn) == ()  # nothing committed
        assert fails(other, "CANCEL IMPORT JOB %d" % job_id)[0] == 8171

        # a blocking import killed through CANCEL from another connection fails
        result = {}

        def blocking():
            try:
                run(connect(tidb, database=DB), "IMPORT INTO t FROM '%s/a.csv'" % tmp_path)
            except pymysql.MySQLError as exc:
                result["error"] = exc.args
        worker = threading.Thread(target=blocking)
        worker.start()
        deadline = time.time() + 10
        while time.time() < deadline:
            active = [r for r in run(other, "SHOW IMPORT JOBS")[1] if r[5] == "running"]
            if active:
                break
            time.sleep(0.1)
        run(other, "CANCEL IMPORT JOB %d" % active[0][0])
        worker.join(10)
        assert result["error"] == (1105, "cancelled by user")
    finally:
        set_knob(sandbox, import_min_seconds=0)


def test_s3_source_and_no_secret(tidb, sandbox):
    client = s3_client(sandbox)
    client.put_object(Bucket="tidbops", Key="imp/x.1.csv", Body=csv_rows(1, 10).encode())
    client.put_object(Bucket="tidbops", Key="imp/x.2.csv", Body=csv_rows(11, 5).encode())
    client.put_object(Bucket="tidbops", Key="imp/sub/x.3.csv", Body=csv_rows(100, 5).encode())
    url = s3_url(sandbox, "imp/x.*.csv")
    conn = connect(tidb, database=DB)
    names, rows = run(conn, "IMPORT INTO t FROM '%s'" % url)
    job = as_dicts(names, rows)[0]
    assert job["Imported_Rows"] == 15 and len(table_rows(conn)) == 15
    secret = sandbox["s3"]["secret_key"]
    assert job["Data_Source"].startswith("s3://tidbops/imp/x.*.csv?")
    assert "access-key=xxxxxx" in job["Data_Source"]
    assert "secret-access-key=xxxxxx" in job["Data_Source"]
    listed = run(conn, "SHOW IMPORT JOBS")[1]
    assert secret not in repr(listed)
    assert secret not in tidb.log()
    run(conn, "DELETE FROM t")
    bad = s3_url(sandbox, "imp/x.*.csv", **{"secret-access-key": secret + "x"})
    code, message = fails(conn, "IMPORT INTO t FROM '%s'" % bad)
    assert code == 8160 and secret not in message


def test_bytes_size_and_redaction():
    assert import_into.bytes_size(37) == "37B"
    assert import_into.bytes_size(1536) == "1.5KiB"
    assert import_into.bytes_size(5 * 1024 * 1024) == "5MiB"
    assert import_into.redact_url("s3://b/p/*.csv?secret-access-key=s&access_key=a&endpoint=e") \
        == "s3://b/p/*.csv?access_key=xxxxxx&endpoint=e&secret-access-key=xxxxxx"
    assert import_into.redact_url("/data/x.csv") == "/data/x.csv"
