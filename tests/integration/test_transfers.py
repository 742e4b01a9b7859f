"""Export and import through ansible-playbook: Dumpling and Lightning stand-ins moving real rows
between sandbox clusters, checked by checksums and row counts; records, limits, resumes, bad
input, and passwords nowhere."""
import json
import os
import subprocess
import sys
import threading
import time
import zipfile

import pymysql
import pytest

from tests.conftest import REPO_ROOT
from tests.integration.conftest import PLAYBOOKS
from tests.integration.test_backup_restore import kill_tree, read_tree, s3_keys, table_checksums
from tests.sandbox.procs import wait_until

VERSION = "v7.5.1"
TABLES = ("shop.items", "crm.people")


def connect(port):
    return pymysql.connect(host="127.0.0.1", port=port, user="root", password="", autocommit=True)


def sql(port, statement):
    conn = connect(port)
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall()
    finally:
        conn.close()


def drop_data(port):
    for db in ("shop", "crm"):
        sql(port, "DROP DATABASE IF EXISTS %s" % db)


def count(port, table):
    return int(sql(port, "SELECT COUNT(*) FROM %s" % table)[0][0])


def cmdlines():
    """(pid, argv words) of every process this user may read."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as handle:
                    found.append((int(entry), handle.read().decode("utf-8", "replace").split("\0")))
            except OSError:
                continue
    return found


class CmdlineWatcher(object):
    """Reads every process's argv (/proc/*/cmdline) while a job runs: what ps shows to every user."""

    def __init__(self, markers=("dumpling", "lightning")):
        self.markers = markers
        self.seen = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for _pid, words in cmdlines():
                argv = " ".join(words)
                if any(marker in argv for marker in self.markers):
                    self.seen.append(argv)
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def two_clusters(playbook, topology):
    """Two started 1/1/1 clusters with an 'ops' account: src holds shop.items (800 rows) and
    crm.people, dst gets emptied before each test."""
    made = []
    password = "Xfer-Pw-%d-q" % os.getpid()
    for role, rows in (("src", 800), ("dst", 1)):
        name = "%s%d" % (role, os.getpid() % 100000)
        topo = topology(pd=1, tikv=1, tidb=1)
        port = topo["tidb_servers"][0]["port"]
        run = playbook("cluster_up.yml", name=name, topology=topo, version=VERSION, tidb_port=port, rows=rows,
                       ops_password=password)
        assert run.rc == 0, run.failed() or run.stderr
        made.append(dict(name=name, port=port))
    yield dict(src=made[0], dst=made[1], password=password)
    for cluster in made:
        playbook("cluster_remove.yml", name=cluster["name"])


@pytest.fixture
def clusters(two_clusters):
    drop_data(two_clusters["dst"]["port"])
    sql(two_clusters["dst"]["port"], "DROP DATABASE IF EXISTS tidb_lightning_checkpoint")
    return two_clusters


@pytest.fixture
def transfer(playbook, clusters, sandbox, tmp_path):
    """transfer('export'|'import', cluster, check=False, **module_options) -> (PlaybookRun, result)."""
    catalog, work_dir = str(tmp_path / "catalog"), str(tmp_path / "work")

    def run(kind, cluster, check=False, env=None, **options):
        book, register, key = ("export_one.yml", "Export", "export") if kind == "export" \
            else ("import_one.yml", "Import", "import_args")
        result = playbook(book, check=check, env=env, cluster=cluster["name"], tidb_port=cluster["port"],
                          catalog=catalog, work_dir=work_dir, ops_password=clusters["password"],
                          **{key: options})
        return result, result.task(register)

    def argv(cluster, **options):
        """The ansible-playbook command of an import, for a test that runs it in the background."""
        extra = dict(sandbox=sandbox, cluster=cluster["name"], tidb_port=cluster["port"], catalog=catalog,
                     work_dir=work_dir, ops_password=clusters["password"], import_args=options)
        return [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
                os.path.join(PLAYBOOKS, "import_one.yml"), "-e", json.dumps(extra)]
    run.catalog, run.work_dir, run.argv = catalog, work_dir, argv
    return run


def set_knob(sandbox, **values):
    """python -m tests.sandbox knob NAME=VALUE ... for this sandbox."""
    subprocess.run([sys.executable, "-m", "tests.sandbox", "knob", "--dir", sandbox["dir"]]
                   + ["%s=%s" % item for item in values.items()], cwd=REPO_ROOT, check=True, capture_output=True)


def test_export_and_import_sql_csv_local_s3_reimport_zip(transfer, clusters, sandbox, tmp_path, ansible_env):
    src, dst = clusters["src"], clusters["dst"]
    expected = table_checksums(src["port"], TABLES)
    local = str(tmp_path / "exports")
    s3_prefix = "xfer-%d" % os.getpid()
    s3_storage = "s3://%s/%s" % (sandbox["s3"]["bucket"], s3_prefix)

    # SQL to a local path: check mode changes nothing, then the export, then a no-op re-run.
    _run, checked = transfer("export", src, check=True, name="sql-local", storage=local, zip=True)
    assert checked["changed"] is True and not checked.get("failed")
    assert not os.path.exists(local) and not os.path.exists(os.path.join(transfer.catalog, "records"))
    _run, sql_local = transfer("export", src, name="sql-local", storage=local, zip=True)
    assert sql_local["changed"] is True, sql_local.get("msg")
    record = sql_local["transfer"]
    assert record["status"] == "finished" and record["rows"] == 802 and record["reimport_support"] is True
    assert record["path"] == os.path.join(local, src["name"], "sql-local") and record["storage_type"] == "local"
    files = sorted(os.listdir(record["path"]))
    assert "metadata" in files and "shop.items-schema.sql" in files
    assert [f for f in files if f.startswith("shop.items.000000000") and f.endswith(".sql")]
    assert record["size"] == sum(os.path.getsize(os.path.join(record["path"], f)) for f in files)
    assert zipfile.ZipFile(record["zip_path"]).namelist()  # the archive for download
    _run, again = transfer("export", src, name="sql-local", storage=local, zip=True)
    assert again["changed"] is False and again["transfer"]["end_time"] == record["end_time"]

    # CSV to S3.
    _run, csv_s3 = transfer("export", src, name="csv-s3", storage=s3_storage, file_type="csv")
    assert csv_s3["changed"] is True and csv_s3["transfer"]["status"] == "finished", csv_s3.get("msg")
    keys = s3_keys(sandbox, "%s/%s/csv-s3/" % (s3_prefix, src["name"]))
    assert any("shop.items.000000000" in k and k.endswith(".csv") for k in keys) and any(k.endswith("/metadata") for k in keys)

    # Import the SQL export into the other cluster (Lightning, local backend): same checksums.
    _run, checked = transfer("import", dst, check=True, name="in-sql", source=record["path"])
    assert checked["changed"] is True and sql(dst["port"], "SHOW DATABASES LIKE 'shop'") == ()
    _run, in_sql = transfer("import", dst, name="in-sql", source=record["path"])
    assert in_sql["changed"] is True, in_sql.get("msg")
    assert in_sql["transfer"]["rows"] == 802 and in_sql["transfer"]["tables"] == list(TABLES[::-1])
    assert in_sql["transfer"]["progress"] == {"crm.people": {"status": "finished"}, "shop.items": {"status": "finished"}}
    assert table_checksums(dst["port"], TABLES) == expected
    _run, again = transfer("import", dst, name="in-sql", source=record["path"])
    assert again["changed"] is False and count(dst["port"], "shop.items") == 800

    # The CSV export from S3, through SQL (tidb backend).
    drop_data(dst["port"])
    _run, in_csv = transfer("import", dst, name="in-csv", source=csv_s3["transfer"]["path"], backend="tidb")
    assert in_csv["changed"] is True and in_csv["transfer"]["storage_type"] == "s3", in_csv.get("msg")
    assert table_checksums(dst["port"], TABLES) == expected

    # IMPORT INTO from S3: one job per table, followed to the end.
    drop_data(dst["port"])
    _run, into = transfer("import", dst, name="in-into", source=csv_s3["transfer"]["path"], method="import_into",
                          csv={"header": True})
    assert into["changed"] is True, into.get("msg")
    assert sorted(into["transfer"]["jobs"]) == ["crm.people", "shop.items"]
    assert into["transfer"]["progress"]["shop.items"] == {"status": "finished", "imported_rows": 800}
    assert table_checksums(dst["port"], TABLES) == expected
    jobs = sql(dst["port"], "SHOW IMPORT JOBS")
    assert len(jobs) == 2 and all(row[5] in ("finished", b"finished") for row in jobs)
    assert sandbox["s3"]["secret_key"] not in json.dumps(into)

    # Re-import from the SQL export's record.
    drop_data(dst["port"])
    _run, reimported = transfer("import", dst, name="in-again", from_export="sql-local")
    assert reimported["changed"] is True and reimported["transfer"]["source_export"] == "sql-local"
    assert table_checksums(dst["port"], TABLES) == expected

    # The zip, sent from the controller by the action plugin.
    drop_data(dst["port"])
    controller_zip = str(tmp_path / "download.zip")
    with open(record["zip_path"], "rb") as source, open(controller_zip, "wb") as sink:
        sink.write(source.read())
    _run, from_zip = transfer("import", dst, name="in-zip", archive=controller_zip, backend="tidb")
    assert from_zip["changed"] is True, from_zip.get("msg")
    assert table_checksums(dst["port"], TABLES) == expected
    unpacked = os.path.join(transfer.work_dir, dst["name"], "import-in-zip", "data")
    assert from_zip["transfer"]["path"] == unpacked and "metadata" in os.listdir(unpacked)

    # Secrets: neither the TiDB password nor the S3 secret is in a record, a log or a file.
    everything = read_tree(transfer.catalog) + read_tree(transfer.work_dir) + read_tree(local)
    with open(ansible_env["ANSIBLE_LOG_PATH"]) as log:
        everything += log.read()
    for secret in (clusters["password"], sandbox["s3"]["secret_key"]):
        assert secret not in everything
    # Dumpling's one-time accounts are gone.
    assert sql(src["port"], "SELECT user FROM mysql.user WHERE user LIKE 'tidbops_dump_%'") == ()

    # Deleting: local files go with the record; S3 objects only with delete_data.
    _run, deleted = transfer("export", src, name="sql-local", state="absent")
    assert deleted["changed"] is True and not os.path.exists(record["path"])
    assert not os.path.exists(record["config_path"])
    _run, deleted = transfer("export", src, name="csv-s3", state="absent")
    assert deleted["changed"] is True and s3_keys(sandbox, "%s/%s/csv-s3/" % (s3_prefix, src["name"]))
    _run, again = transfer("export", src, name="csv-s3", state="absent")
    assert again["changed"] is False
    _run, deleted = transfer("import", dst, name="in-zip", state="absent")
    assert deleted["changed"] is True and not os.path.exists(unpacked)
    assert os.path.exists(controller_zip)


def test_filtered_and_sql_exports(transfer, clusters, tmp_path):
    src, dst = clusters["src"], clusters["dst"]
    local = str(tmp_path / "exports")
    _run, filtered = transfer("export", src, name="only-crm", storage=local, filter=["crm.*"])
    assert filtered["changed"] is True and filtered["transfer"]["rows"] == 2, filtered.get("msg")
    files = os.listdir(filtered["transfer"]["path"])
    assert [f for f in files if f.startswith("crm.people.0")] and not [f for f in files if f.startswith("shop.")]

    query = "SELECT id, name FROM shop.items WHERE id <= 25"
    _run, queried = transfer("export", src, name="query", storage=local, file_type="csv", sql=query)
    record = queried["transfer"]
    assert queried["changed"] is True and record["rows"] == 25 and record["reimport_support"] is False
    result_files = [f for f in os.listdir(record["path"]) if f.startswith("result.") and f.endswith(".csv")]
    assert len(result_files) == 1
    with open(os.path.join(record["path"], result_files[0])) as handle:
        lines = handle.read().splitlines()
    assert len(lines) == 26 and lines[1].startswith("1,")  # a header and 25 rows

    _run, refused = transfer("import", dst, name="from-query", from_export="query")
    assert refused.get("failed") and refused["error_code"] == "TRANSFER_RECORD_INVALID"
    _run, info = transfer("import", dst, name="only-crm-in", source=filtered["transfer"]["path"])
    assert info["changed"] is True and count(dst["port"], "crm.people") == 2
    assert sql(dst["port"], "SHOW DATABASES LIKE 'shop'") == ()


def test_password_never_in_argv(transfer, clusters, tmp_path):
    """Read every process's argv while Dumpling and Lightning run."""
    src, dst = clusters["src"], clusters["dst"]
    slow_dumpling = tmp_path / "dumpling"
    slow_dumpling.write_text("#!/bin/sh\nsleep 1\nexec dumpling \"$@\"\n")
    slow_dumpling.chmod(0o755)
    with CmdlineWatcher() as watcher:
        _run, exported = transfer("export", src, name="watched", storage=str(tmp_path / "x"),
                                  dumpling_path=str(slow_dumpling))
    assert exported["changed"] is True, exported.get("msg")
    dumplings = [argv for argv in watcher.seen if " -u tidbops_dump_" in argv]
    assert dumplings, "no dumpling process was seen"
    with CmdlineWatcher() as watcher:
        _run, imported = transfer("import", dst, name="watched-in", source=exported["transfer"]["path"],
                                  backend="tidb", env={"TIDBOPS_SANDBOX_LIGHTNING_ROW_DELAY": "0.002"})
    assert imported["changed"] is True, imported.get("msg")
    assert [argv for argv in watcher.seen if "tidb-lightning" in argv and "--config" in argv]
    assert not [argv for argv in watcher.seen if clusters["password"] in argv]
    assert "-p ********" in exported["commands"][0]


def test_import_killed_half_way_resumes_without_duplicates(transfer, clusters, tmp_path, ansible_env, sandbox):
    src, dst = clusters["src"], clusters["dst"]
    # Small files: Lightning commits a chunk (a file) at a time, so a kill leaves part of the rows.
    _run, exported = transfer("export", src, name="big", storage=str(tmp_path / "x"), filter=["shop.*"], file_size="2KiB")
    assert exported["changed"] is True, exported.get("msg")

    argv = transfer.argv(dst, name="resumed", source=exported["transfer"]["path"], backend="tidb",
                         max_concurrent_transfers=1)
    env = dict(ansible_env, TIDBOPS_SANDBOX_LIGHTNING_ROW_DELAY="0.03")
    job = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: sql(dst["port"], "SHOW TABLES FROM shop LIKE 'items'")
                          if sql(dst["port"], "SHOW DATABASES LIKE 'shop'") else False, 60)
        assert wait_until(lambda: count(dst["port"], "shop.items") >= 100, 60)

        # While it runs: the cluster's only slot is taken.
        _run, limited = transfer("export", dst, name="blocked", storage=str(tmp_path / "y"),
                                 max_concurrent_transfers=1)
        assert limited.get("failed") and limited["error_code"] == "TRANSFER_LIMIT_REACHED"
        assert "import/resumed" in limited["msg"]
        assert not os.path.exists(os.path.join(transfer.catalog, "records", "transfer", "blocked.json"))
        # The same import again while it runs: refused, not run twice.
        _run, twice = transfer("import", dst, name="resumed", source=exported["transfer"]["path"], backend="tidb")
        assert twice.get("failed") and twice["error_code"] == "TRANSFER_JOB_RUNNING", twice.get("msg")
    finally:
        kill_tree(job.pid)
        job.wait()
    half = count(dst["port"], "shop.items")
    assert 0 < half < 800
    with open(os.path.join(transfer.catalog, "records", "transfer", "resumed.json")) as handle:
        assert json.load(handle)["status"] == "processing"

    _run, resumed = transfer("import", dst, name="resumed", source=exported["transfer"]["path"], backend="tidb")
    assert resumed["changed"] is True and resumed["transfer"]["status"] == "finished", resumed.get("msg")
    assert count(dst["port"], "shop.items") == 800
    assert sql(dst["port"], "SELECT COUNT(DISTINCT id) FROM shop.items")[0][0] == 800
    assert table_checksums(dst["port"], ("shop.items",)) == table_checksums(src["port"], ("shop.items",))


def test_import_into_cancelled_after_timeout_then_run_again(transfer, clusters, sandbox, tmp_path):
    src, dst = clusters["src"], clusters["dst"]
    _run, exported = transfer("export", src, name="for-into", storage=str(tmp_path / "x"), file_type="csv",
                              filter=["crm.*"])
    assert exported["changed"] is True, exported.get("msg")
    earlier_jobs = len(sql(dst["port"], "SHOW IMPORT JOBS"))  # the cluster is shared by this module's tests
    # The job outlasts timeout=1 on any machine; the module's CANCEL IMPORT JOB ends it.
    set_knob(sandbox, import_min_seconds=3600)
    try:
        _run, timed_out = transfer("import", dst, name="slow-into", source=exported["transfer"]["path"],
                                   method="import_into", csv={"header": True}, timeout=1)
    finally:
        set_knob(sandbox, import_min_seconds=0)
    assert timed_out.get("failed") and timed_out["error_code"] == "IMPORT_TIMEOUT", timed_out.get("msg")
    assert timed_out["transfer"]["status"] == "failed"
    jobs = sql(dst["port"], "SHOW IMPORT JOBS")[earlier_jobs:]
    assert [row[5] for row in jobs] in (["cancelled"], [b"cancelled"])  # CANCEL IMPORT JOB was issued
    assert count(dst["port"], "crm.people") == 0

    _run, again = transfer("import", dst, name="slow-into", source=exported["transfer"]["path"],
                           method="import_into", csv={"header": True})
    assert again["changed"] is True and again["transfer"]["status"] == "finished", again.get("msg")
    assert count(dst["port"], "crm.people") == 2
    assert len(sql(dst["port"], "SHOW IMPORT JOBS")) == earlier_jobs + 2  # the cancelled job, and one new job


def zip_with(path, entries):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return str(path)


def test_bad_input_changes_nothing(transfer, clusters, tmp_path):
    src, dst = clusters["src"], clusters["dst"]
    records = os.path.join(transfer.catalog, "records", "transfer")

    evil = zip_with(tmp_path / "evil.zip", [("shop.items.000000000.sql", "INSERT INTO items VALUES (1);\n"),
                                            ("../../escaped.sql", "boom")])
    _run, refused = transfer("import", dst, name="evil", archive=evil)
    assert refused.get("failed") and refused["error_code"] == "IMPORT_ARCHIVE_INVALID", refused.get("msg")
    assert not os.path.exists(tmp_path / "work" / dst["name"] / "import-evil")
    assert not list(tmp_path.glob("**/escaped.sql"))

    big = zip_with(tmp_path / "big.zip", [("shop.items.000000000.sql", "x" * 5000)])
    _run, refused = transfer("import", dst, name="big", archive=big, max_file_size=1000)
    assert refused.get("failed") and refused["error_code"] == "TRANSFER_FILE_SIZE_INVALID"

    _run, refused = transfer("export", src, name="both", storage=str(tmp_path / "x"), file_type="csv",
                             sql="SELECT 1", filter=["shop.*"])
    assert refused.get("failed") and refused["error_code"] == "INVALID_ARGUMENT" and "filter" in refused["msg"]

    _run, refused = transfer("import", dst, name="nothing", from_export="no-such-export")
    assert refused.get("failed") and refused["error_code"] == "TRANSFER_RECORD_NOT_FOUND"

    closed = dict(dst, port=1)  # nothing listens there
    _run, refused = transfer("export", closed, name="unreachable", storage=str(tmp_path / "x"))
    assert refused.get("failed") and refused["error_code"] == "TIDB_CONNECTION_FAILED"
    _run, refused = transfer("import", closed, name="unreachable", source=str(tmp_path))
    assert refused.get("failed") and refused["error_code"] in ("TIDB_CONNECTION_FAILED", "IMPORT_SOURCE_INVALID")

    assert not os.path.exists(records) or os.listdir(records) == []
    assert not os.path.exists(tmp_path / "x")
    assert sql(dst["port"], "SHOW DATABASES LIKE 'shop'") == ()


def test_roles_export_download_and_import(playbook, clusters, tmp_path):
    src, dst = clusters["src"], clusters["dst"]
    run = playbook("data_roles.yml", source_cluster=src["name"], source_port=src["port"], target_cluster=dst["name"],
                   target_port=dst["port"], catalog=str(tmp_path / "catalog"), work_dir=str(tmp_path / "work"),
                   download_dir=str(tmp_path / "downloads"), transfer_name="nightly",
                   ops_password=clusters["password"])
    assert run.rc == 0, run.failed()
    assert os.path.isfile(tmp_path / "downloads" / "nightly.zip")
    assert run.task("Run the import")["transfer"]["status"] == "finished"
    assert table_checksums(dst["port"], TABLES) == table_checksums(src["port"], TABLES)

    # The fail path: the same archive into tables that now hold the rows (local backend refuses
    # non-empty tables); the record is marked failed and the play says so.
    run = playbook("data_roles.yml", source_cluster=src["name"], source_port=src["port"], target_cluster=dst["name"],
                   target_port=dst["port"], catalog=str(tmp_path / "catalog"), work_dir=str(tmp_path / "work"),
                   download_dir=str(tmp_path / "downloads"), transfer_name="again", ops_password=clusters["password"],
                   import_on_failure="remove")
    assert run.rc != 0
    failure = run.task("Fail with the import's error")
    assert "IMPORT_FAILED" in failure["msg"] and "record: failed" in failure["msg"], failure["msg"]
    assert not os.path.exists(tmp_path / "work" / dst["name"] / "import-again" / "tidb_lightning_checkpoint.pb")
    assert count(dst["port"], "shop.items") == 800


def test_a_lightning_left_by_a_killed_module_is_followed_not_started_twice(transfer, clusters, sandbox, tmp_path,
                                                                           ansible_env):
    """The module dies, its Lightning runs on; the re-run waits for that Lightning and takes its
    result instead of starting a second one on the same tables (a table without a primary key
    would get every row twice)."""
    src, dst = clusters["src"], clusters["dst"]
    sql(src["port"], "CREATE DATABASE IF NOT EXISTS orphan")
    sql(src["port"], "CREATE TABLE IF NOT EXISTS orphan.nopk (n INT, v VARCHAR(20))")  # no primary key
    sql(src["port"], "INSERT INTO orphan.nopk VALUES %s" % ", ".join("(%d, 'row-%d')" % (i, i) for i in range(30)))
    _run, exported = transfer("export", src, name="orphan-src", storage=str(tmp_path / "x"), filter=["orphan.*"])
    assert exported["changed"] is True, exported.get("msg")

    args = dict(name="orphaned", source=exported["transfer"]["path"], backend="tidb")
    argv = transfer.argv(dst, **args)
    record_file = os.path.join(transfer.catalog, "records", "transfer", "orphaned.json")

    def lightnings():
        return [pid for pid, words in cmdlines() if any("tidb-lightning" in w for w in words)
                and "--config" in words]

    set_knob(sandbox, lightning_row_delay=3600)
    rerun = None
    try:
        job = subprocess.Popen(argv, env=ansible_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            # Held at its first row once it has created the table (past its start-up output, which
            # would meet a broken pipe once the module is gone), however slow the machine.
            assert wait_until(lambda: lightnings() and sql(dst["port"], "SHOW TABLES FROM orphan LIKE 'nopk'")
                              if sql(dst["port"], "SHOW DATABASES LIKE 'orphan'") else False, 60)
        finally:
            kill_tree(job.pid, spare=lightnings())  # the module dies; its Lightning does not
            job.wait()
        assert lightnings()
        with open(tmp_path / "rerun.out", "w") as out:
            rerun = subprocess.Popen(argv, env=ansible_env, stdout=out, stderr=subprocess.STDOUT)
            # Released only once the re-run follows it: then it cannot have started a second one.
            assert wait_until(lambda: os.path.exists(record_file) and "following" in open(record_file).read(), 60)
            set_knob(sandbox, lightning_row_delay=0)
            assert rerun.wait(120) == 0
    finally:
        set_knob(sandbox, lightning_row_delay=0)
        if rerun is not None and rerun.poll() is None:
            rerun.kill()
    output = open(tmp_path / "rerun.out").read()
    assert "waiting for it instead of starting a second one" in output
    with open(record_file) as handle:
        record = json.load(handle)
    assert record["status"] == "finished" and "following" not in record
    assert count(dst["port"], "orphan.nopk") == 30  # each row once
    assert not lightnings()
    assert not os.path.exists(os.path.join(record["config_path"], "tidb-lightning.toml"))


def test_a_table_failed_under_lightning_is_reported_with_what_to_run(transfer, clusters, sandbox, tmp_path,
                                                                     ansible_env):
    """The target fails under Lightning mid-import (here its table vanishes; a database that dies
    does the same): Lightning marks the table failed in its checkpoint and will not touch it again.
    The re-run says so with its own code, naming the table and the command that resets it."""
    src, dst = clusters["src"], clusters["dst"]
    sql(src["port"], "CREATE DATABASE IF NOT EXISTS ckfail")
    sql(src["port"], "CREATE TABLE IF NOT EXISTS ckfail.t (id INT PRIMARY KEY, v VARCHAR(20))")
    sql(src["port"], "INSERT INTO ckfail.t VALUES %s" % ", ".join("(%d, 'v%d')" % (i, i) for i in range(40)))
    _run, exported = transfer("export", src, name="ckfail-src", storage=str(tmp_path / "x"), filter=["ckfail.*"])
    assert exported["changed"] is True, exported.get("msg")

    args = dict(name="ckfail", source=exported["transfer"]["path"], backend="tidb")
    argv = transfer.argv(dst, **args)
    set_knob(sandbox, lightning_row_delay=3600)
    try:
        job = subprocess.Popen(argv, env=ansible_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Held at its first row once it has created the table: the table goes away under it.
        assert wait_until(lambda: sql(dst["port"], "SHOW TABLES FROM ckfail LIKE 't'")
                          if sql(dst["port"], "SHOW DATABASES LIKE 'ckfail'") else False, 60)
        sql(dst["port"], "DROP TABLE ckfail.t")
    finally:
        set_knob(sandbox, lightning_row_delay=0)
    assert job.wait(120) == 0  # the playbook registers the failure (ignore_errors)
    with open(os.path.join(transfer.catalog, "records", "transfer", "ckfail.json")) as handle:
        assert json.load(handle)["status"] == "failed"

    _run, again = transfer("import", dst, **args)
    assert again.get("failed") and again["error_code"] == "IMPORT_CHECKPOINT_FAILED", again.get("msg")
    assert again["failed_tables"] == ["`ckfail`.`t`"]
    assert "--checkpoint-error-destroy='`ckfail`.`t`'" in again["msg"] and again["checkpoint"] in again["msg"]
