"""Backup and restore through ansible-playbook: data checked by checksums, records, files,
cancel, locks, retention, and secrets nowhere."""
import glob
import json
import os
import signal
import subprocess
import sys
import time

import boto3
import pymysql
import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.catalog.access import cluster_lock, open_catalog
from tests.conftest import REPO_ROOT
from tests.integration.conftest import VERSION
from tests.sandbox.procs import wait_until


def table_checksums(port, tables=("shop.items", "crm.people")):
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", password="")
    try:
        with conn.cursor() as cur:
            result = {}
            for table in tables:
                cur.execute("ADMIN CHECKSUM TABLE %s" % table)
                row = cur.fetchone()
                result[table] = (str(row[2]), int(row[3]), int(row[4]))
            return result
    finally:
        conn.close()


def s3_keys(sandbox, prefix):
    s3 = boto3.client("s3", endpoint_url=sandbox["s3"]["endpoint"], region_name=sandbox["s3"]["region"],
                      aws_access_key_id=sandbox["s3"]["access_key"],
                      aws_secret_access_key=sandbox["s3"]["secret_key"])
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=sandbox["s3"]["bucket"], Prefix=prefix)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def read_tree(path):
    """Every file's text under path (for looking for secrets)."""
    texts = []
    for name in glob.glob(os.path.join(str(path), "**"), recursive=True):
        if os.path.isfile(name):
            with open(name, "rb") as handle:
                texts.append(handle.read().decode("utf-8", "replace"))
    return "\n".join(texts)


def lock_file(catalog, cluster):
    return catalog / "locks" / ("cluster-%d.json" % cluster["id"])


@pytest.fixture
def knob(sandbox):
    def set_knob(**values):
        args = ["%s=%s" % item for item in values.items()]
        subprocess.run([sys.executable, "-m", "tests.sandbox", "knob", "--dir", sandbox["dir"]] + args,
                       cwd=REPO_ROOT, check=True, capture_output=True)
    yield set_knob
    set_knob(brie_min_seconds=0)


def test_backup_local_and_s3_drop_restore_delete(playbook, cluster, sandbox, tmp_path, ansible_env):
    before = table_checksums(cluster["port"])
    catalog, local = tmp_path / "catalog", tmp_path / "backups"
    s3_prefix = "it-%d" % os.getpid()
    storage_s3 = "s3://%s/%s" % (sandbox["s3"]["bucket"], s3_prefix)
    run = playbook("backup_restore.yml", cluster=cluster["name"], tidb_port=cluster["port"],
                   ops_password=cluster["password"], catalog=str(catalog), storage_local=str(local),
                   storage_s3=storage_s3)
    assert run.rc == 0, run.failed() or run.stderr

    assert run.task("Hold GC")["changed"] is True and run.task("Hold GC")["gc_life_time"] == "720h0m0s"
    assert run.task("Hold GC")["original"] == "10m0s"
    assert run.task("Hold GC again")["changed"] is False
    assert run.task("Release GC in check mode")["changed"] is True

    assert run.task("Back up locally in check mode")["changed"] is True
    local_backup = run.task("Back up locally")
    assert local_backup["changed"] is True
    record = local_backup["backup"]
    assert record["status"] == "finished" and record["type"] == "full" and record["mode"] == "manual"
    assert record["path"].startswith("local://%s/%s/" % (local, cluster["name"])) and record["path"].endswith("-full")
    assert record["size"] > 0 and record["backup_ts"] > 0
    assert set(record["checksums"]) == {"shop.items", "crm.people"}
    again = run.task("Back up locally again")
    assert again["changed"] is False and again["backup"]["path"] == record["path"]
    s3_backup = run.task("Back up to S3")["backup"]
    assert s3_backup["status"] == "finished" and s3_backup["path"].startswith(storage_s3 + "/" + cluster["name"])
    same_path = run.task("Back up into a path that holds a backup")
    assert same_path["error_code"] == "BACKUP_PATH_NOT_EMPTY" and same_path["changed"] is False

    listed = run.task("List the backups")
    assert [b["id"] for b in listed["backups"]] in (["b-s3", "b-local"], ["b-local", "b-s3"])
    assert listed["total"] == 2
    assert listed["backups"][0]["start_time"] >= listed["backups"][1]["start_time"]
    assert run.task("List the backups in check mode")["total"] == 2
    assert len(run.task("List the backups in check mode")["backups"]) == 1

    assert run.task("Release GC")["changed"] is True and run.task("Release GC")["gc_life_time"] == "10m0s"
    assert run.task("Release GC again")["changed"] is False

    assert run.task("Restore in check mode")["changed"] is True
    restore = run.task("Restore")
    assert restore["changed"] is True and restore["verified"] is True and restore["differences"] == []
    assert restore["restore"]["status"] == "finished"
    assert run.task("Restore again")["changed"] is False
    over = run.task("Restore over existing tables")
    assert over["error_code"] == "RESTORE_TABLES_EXIST", over
    assert run.task("Restore an unknown backup")["error_code"] == "BACKUP_RECORD_NOT_FOUND"

    # The data itself: the restored tables equal what was backed up.
    assert table_checksums(cluster["port"]) == before

    assert run.task("Delete the local backup in check mode")["changed"] is True
    assert run.task("Delete the local backup")["deleted"] == ["b-local"]
    assert not glob.glob(os.path.join(record["path"][len("local://"):], "*"))
    assert run.task("Delete the S3 backup")["changed"] is True
    assert s3_keys(sandbox, s3_prefix) == []
    assert run.task("Delete the S3 backup again")["changed"] is False
    assert not os.path.exists(catalog / "records" / "backup" / "b-local.json")

    with open(ansible_env["ANSIBLE_LOG_PATH"]) as log:
        ansible_log = log.read()
    for secret in (sandbox["s3"]["secret_key"], cluster["password"]):
        assert secret not in run.stdout and secret not in run.stderr and secret not in ansible_log
        assert secret not in read_tree(catalog) and secret not in read_tree(local)


def test_restore_into_a_new_cluster(playbook, cluster, topology, tmp_path):
    catalog, local = tmp_path / "catalog", tmp_path / "backups"
    run = playbook("backup_one.yml", cluster=cluster["name"], tidb_port=cluster["port"], catalog=str(catalog),
                   backup_name="for-new", backup_location=str(local))
    assert run.task("Back up")["backup"]["status"] == "finished", run.task("Back up")
    topo = topology(pd=1, tikv=1, tidb=1)
    new_port = topo["tidb_servers"][0]["port"]
    run = playbook("restore_new.yml", cluster="restored", topology=topo, version=VERSION, tidb_port=new_port,
                   catalog=str(catalog), backup="for-new")
    assert run.rc == 0, run.failed() or run.stderr
    assert run.task("Restore into the cluster")["verified"] is True
    assert table_checksums(new_port) == table_checksums(cluster["port"])
    playbook("cluster_remove.yml", name="restored")


def test_cancel_a_running_backup_and_the_lock(playbook, cluster, sandbox, tmp_path, knob, ansible_env):
    catalog = tmp_path / "catalog"
    storage = "s3://%s/cancel-%d" % (sandbox["s3"]["bucket"], os.getpid())
    knob(brie_min_seconds=3600)  # the backup runs until the cancel ends it, however slow the machine
    args = dict(cluster=cluster["name"], tidb_port=cluster["port"], catalog=str(catalog), backup_location=storage,
                ops_password=cluster["password"])
    record_file = catalog / "records" / "backup" / "slow.json"
    with open(tmp_path / "slow.out", "w") as out:
        extra = dict(sandbox=sandbox, backup_name="slow", **args)
        slow = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
             os.path.join(REPO_ROOT, "tests", "integration", "playbooks", "backup_one.yml"), "-e", json.dumps(extra)],
            env=ansible_env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            assert wait_until(lambda: record_file.exists() and "processing" in record_file.read_text(), 60)
            # While it runs: neither the S3 secret nor the password is on any command line.
            ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
            assert "tidb_backup" in ps or "ansible" in ps
            assert sandbox["s3"]["secret_key"] not in ps and cluster["password"] not in ps

            locked = playbook("backup_one.yml", backup_name="second", **args)
            assert locked.task("Back up")["error_code"] == "CLUSTER_LOCKED", locked.task("Back up")
            assert not (catalog / "records" / "backup" / "second.json").exists()
            # another name for the same cluster takes the same lock: the physical cluster's
            aliased = playbook("backup_one.yml", backup_name="third", **dict(args, cluster="another-name"))
            assert aliased.task("Back up")["error_code"] == "CLUSTER_LOCKED", aliased.task("Back up")
            assert "backup/slow" in aliased.task("Back up")["msg"]
            assert not (catalog / "records" / "backup" / "third.json").exists()

            cancel = playbook("backup_one.yml", backup_name="slow", backup_state="cancelled", **args)
            assert cancel.task("Back up")["changed"] is True, cancel.task("Back up")
            assert slow.wait(60) == 0
        finally:
            if slow.poll() is None:
                slow.kill()
    with open(tmp_path / "slow.out") as out:
        slow_run = out.read()
    assert "BACKUP_CANCELLED" in slow_run
    record = json.loads(record_file.read_text())
    assert record["status"] == "cancelled"
    assert sandbox["s3"]["secret_key"] not in record_file.read_text() and cluster["password"] not in slow_run
    after = playbook("backup_one.yml", backup_name="slow", backup_state="cancelled", **args)
    assert after.task("Back up")["changed"] is False
    assert "slow" not in [b["id"] for b in after.task("Finished backups")["backups"]]
    assert not lock_file(catalog, cluster).exists()


def test_bad_input_changes_nothing(playbook, cluster, tmp_path):
    catalog, local = tmp_path / "catalog", tmp_path / "backups"
    started = time.monotonic()
    run = playbook("backup_errors.yml", cluster=cluster["name"], tidb_port=cluster["port"], catalog=str(catalog),
                   storage_local=str(local))
    expected = {
        "Invalid storage URL": "STORAGE_URL_INVALID",
        "Relative storage path": "STORAGE_URL_INVALID",
        "Unreachable S3": "STORAGE_UNREACHABLE",
        "Wrong password": "TIDB_AUTH_FAILED",
        "Table without its database": "INVALID_ARGUMENT",
        "Incremental on an unknown backup": "BACKUP_RECORD_NOT_FOUND",
        "Cancel an unknown backup": "BACKUP_RECORD_NOT_FOUND",
        "No catalog": "INVALID_ARGUMENT",
    }
    for task, code in expected.items():
        result = run.task(task)
        assert result.get("error_code") == code, (task, result)
        assert result["changed"] is False, task
    assert "not-a-real-secret" not in run.stdout
    assert time.monotonic() - started < 120
    assert not glob.glob(str(catalog / "records" / "backup" / "*.json"))
    assert not glob.glob(str(local / "**" / "backupmeta"), recursive=True)


def test_auto_backups_follow_the_strategy_and_retention(playbook, cluster, tmp_path):
    catalog, local = tmp_path / "catalog", tmp_path / "backups"
    strategy = dict(weekdays=["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
                    period="00:00-02:00", max_backups=2)
    args = dict(cluster=cluster["name"], tidb_port=cluster["port"], catalog=str(catalog), backup_location=str(local),
                strategy=strategy)

    def hour(now):
        run = playbook("auto_backup.yml", at_time=now, **args)
        assert run.rc == 0, run.failed() or run.stderr
        return run

    outside = hour("2026-11-23T02:00:00Z")  # the end hour is not in the window
    assert outside.task("Automatic backups after the run")["total"] == 0
    first = hour("2026-11-23T00:10:00Z")  # hour 0 is an hour like any other
    assert first.task("Automatic backups after the run")["total"] == 1
    same_window = hour("2026-11-23T01:59:00Z")
    assert same_window.task("Automatic backups after the run")["total"] == 1
    hour("2026-11-24T01:00:00Z")
    third = hour("2026-11-25T00:30:00Z")
    autos = third.task("Automatic backups after the run")["backups"]
    assert len(autos) == 2
    assert [b["start_time"][:10] for b in autos] == ["2026-11-25", "2026-11-24"]
    # Retention removed the oldest backup's files too.
    assert len(glob.glob(str(local / "**" / "backupmeta"), recursive=True)) == 2


def process_tree(root):
    """root and every process descended from it (Ansible runs modules in their own session, so
    killing the job's process group would leave the module running)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier and pid not in tree]
        tree.update(children)
        frontier = children
    return tree


def kill_tree(root, spare=()):
    """SIGKILL root and its descendants but those in spare: the job dies with its module, with
    no chance to tidy up."""
    for pid in process_tree(root) - set(spare):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def running_backups(port):
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", password="")
    try:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SHOW BACKUPS")
            return [r for r in cur.fetchall() if str(r["Finish_time"]).startswith("0000")]
    finally:
        conn.close()


@pytest.mark.parametrize("orphan", ["still-running", "cancelled"])
def test_an_interrupted_backup_is_resumed_not_duplicated(playbook, cluster, sandbox, tmp_path, knob, ansible_env,
                                                         orphan):
    """The job dies with its module; its BACKUP either still runs in TiDB (the re-run takes over
    its result) or has been killed there too (the re-run continues it into the same path)."""
    catalog, local = tmp_path / "catalog", tmp_path / "backups"
    args = dict(cluster=cluster["name"], tidb_port=cluster["port"], catalog=str(catalog),
                backup_location=str(local), ops_password=cluster["password"])
    record_file = catalog / "records" / "backup" / "nightly.json"
    knob(brie_min_seconds=3600)  # held until the knob goes back to 0 below, however slow the machine
    extra = dict(sandbox=sandbox, backup_name="nightly", **args)
    job = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
         os.path.join(REPO_ROOT, "tests", "integration", "playbooks", "backup_one.yml"), "-e", json.dumps(extra)],
        env=ansible_env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        assert wait_until(lambda: record_file.exists() and "processing" in record_file.read_text()
                          and running_backups(cluster["port"]), 60)
    finally:
        kill_tree(job.pid)
        job.wait()
    interrupted = json.loads(record_file.read_text())
    assert interrupted["status"] == "processing" and interrupted["checksums"]
    orphans = running_backups(cluster["port"])
    assert orphans
    if orphan == "cancelled":  # killed while the knob still holds it: it cannot finish first
        conn = pymysql.connect(host="127.0.0.1", port=cluster["port"], user="root", password="")
        with conn.cursor() as cur:
            cur.execute("KILL TIDB QUERY %d" % int(orphans[0]["Connection"]))
        conn.close()
        assert wait_until(lambda: not running_backups(cluster["port"]), 20)
    knob(brie_min_seconds=0)
    run = playbook("backup_one.yml", backup_name="nightly", **args)
    resumed = run.task("Back up")
    assert resumed["changed"] is True and resumed["backup"]["status"] == "finished", resumed
    assert resumed["backup"]["path"] == interrupted["path"]
    assert resumed["backup"].get("recovered") is (True if orphan == "still-running" else None)
    # Taken over or resumed, the record has the BackupTS, read from backupmeta when the job died before it.
    assert resumed["backup"]["backup_ts"] > 0
    assert resumed["backup"]["checksums"] == interrupted["checksums"]
    assert [b["id"] for b in run.task("Finished backups")["backups"]] == ["nightly"]
    assert len(glob.glob(str(local / "**" / "backupmeta"), recursive=True)) == 1
    again = playbook("backup_one.yml", backup_name="nightly", **args)
    assert again.task("Back up")["changed"] is False
    assert not lock_file(catalog, cluster).exists()


def test_incremental_backup_and_restore_from_a_path(playbook, cluster, topology, tmp_path):
    topo = topology(pd=1, tikv=1, tidb=1)
    target_port = topo["tidb_servers"][0]["port"]
    run = playbook("cluster_up.yml", name="incr-target", topology=topo, version=VERSION, tidb_port=target_port,
                   rows=1)
    assert run.rc == 0, run.failed() or run.stderr
    playbook_args = dict(cluster=cluster["name"], tidb_port=cluster["port"], target="incr-target",
                         target_port=target_port, catalog=str(tmp_path / "catalog"),
                         backup_location=str(tmp_path / "backups"))
    # The target starts with its own tables; drop them so that the restore has room.
    empty = pymysql.connect(host="127.0.0.1", port=target_port, user="root", password="", autocommit=True)
    with empty.cursor() as cur:
        cur.execute("DROP DATABASE shop")
        cur.execute("DROP DATABASE crm")
    empty.close()
    try:
        run = playbook("backup_incremental.yml", **playbook_args)
        assert run.rc == 0, run.failed() or run.stderr
        incremental = run.task("Incremental backup")["backup"]
        assert incremental["type"] == "incremental" and incremental["last_backup"] == "full"
        assert incremental["path"].endswith("-incremental")
        assert run.task("Incremental backup again")["changed"] is False
        assert run.task("Restore the full backup from its path")["verified"] is True
        assert run.task("Restore the incremental backup on top")["verified"] is True
        assert table_checksums(target_port) == table_checksums(cluster["port"])
    finally:
        playbook("cluster_remove.yml", name="incr-target")


def test_a_backup_refused_by_the_lock_leaves_no_directory_and_no_record(playbook, cluster, tmp_path):
    catalog, local = tmp_path / "catalog", tmp_path / "backups"
    held = open_catalog(dict(catalog=str(catalog)))
    with cluster_lock(held, str(cluster["id"]), "restore/elsewhere", 600):
        run = playbook("backup_one.yml", cluster=cluster["name"], tidb_port=cluster["port"], catalog=str(catalog),
                       backup_name="refused", backup_location=str(local))
    refused = run.task("Back up")
    assert refused["error_code"] == "CLUSTER_LOCKED" and "restore/elsewhere" in refused["msg"], refused
    assert not local.exists(), list(local.rglob("*"))
    assert not (catalog / "records" / "backup").exists()


def test_scopes_that_name_nothing_are_refused_and_a_restore_follows_its_data(playbook, cluster, tmp_path):
    catalog, local = tmp_path / "catalog", tmp_path / "backups"
    before = table_checksums(cluster["port"], tables=("shop.items",))
    run = playbook("backup_scope.yml", cluster=cluster["name"], tidb_port=cluster["port"], catalog=str(catalog),
                   storage_local=str(local))
    assert run.rc == 0, run.failed() or run.stderr
    for task, missing in (("Back up a table that does not exist", ["shop.nosuch"]),
                          ("Back up a database that does not exist", ["nosuchdb"])):
        refused = run.task(task)
        assert refused["error_code"] == "BACKUP_SCOPE_NOT_FOUND" and refused["missing"] == missing, refused
        assert refused.get("changed") is False
    assert not os.path.exists(catalog / "records" / "backup" / "nosuch-table.json")
    assert sorted(os.listdir(local / cluster["name"])) == [os.path.basename(run.task("Back up shop")["backup"]["path"])]
    typo = run.task("Restore a table the backup does not hold")
    assert typo["error_code"] == "RESTORE_SCOPE_NOT_IN_BACKUP" and typo["missing"] == ["shop.typo"], typo
    # Refused before any record: the only restore record is the whole backup's.
    assert os.listdir(catalog / "records" / "restore") == ["rb1-to-%s.json" % cluster["name"]]
    assert run.task("Restore the backup")["changed"] is True
    assert run.task("Restore the backup again")["changed"] is False
    assert run.task("Restore the backup once its data is gone")["changed"] is True
    assert run.task("Rows after the last restore")["query_result"][0][0]["n"] == 500
    assert table_checksums(cluster["port"], tables=("shop.items",)) == before


def test_the_lock_of_a_killed_job_is_taken_over_by_the_next_job(playbook, cluster, sandbox, tmp_path, knob,
                                                                ansible_env):
    """kill -9 of a backup's module leaves its lock; the next job of another name on the same
    host sees that the holder is gone and takes the lock over at once, saying whose it was."""
    catalog, local = tmp_path / "catalog", tmp_path / "backups"
    args = dict(cluster=cluster["name"], tidb_port=cluster["port"], catalog=str(catalog),
                backup_location=str(local), ops_password=cluster["password"])
    lock = lock_file(catalog, cluster)
    knob(brie_min_seconds=3600)  # held until the module is killed, however slow the machine
    job = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
         os.path.join(REPO_ROOT, "tests", "integration", "playbooks", "backup_one.yml"),
         "-e", json.dumps(dict(sandbox=sandbox, backup_name="killed", **args))],
        env=ansible_env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        assert wait_until(lambda: lock.exists() and running_backups(cluster["port"]), 60)
    finally:
        kill_tree(job.pid)
        job.wait()
    conn = pymysql.connect(host="127.0.0.1", port=cluster["port"], user="root", password="")
    with conn.cursor() as cur:  # the orphan BACKUP too, so the next one does not queue behind it
        cur.execute("KILL TIDB QUERY %d" % int(running_backups(cluster["port"])[0]["Connection"]))
    conn.close()
    # cleared only now: the knob is read while a BACKUP runs, so clearing it first could let
    # the orphan finish before it is looked up
    knob(brie_min_seconds=0)
    assert wait_until(lambda: not running_backups(cluster["port"]), 20)
    assert json.loads(lock.read_text())["owner"] == "backup/killed"
    run = playbook("backup_one.yml", backup_name="next", **args)
    taken = run.task("Back up")
    assert taken["changed"] is True and taken["backup"]["status"] == "finished", taken
    assert taken["replaced_lock"]["owner"] == "backup/killed"
    assert taken["replaced_lock"]["replaced_because"] == "its holder is gone"
    assert not lock.exists()


def test_a_cluster_is_known_by_tiup_or_by_its_login_and_its_lock_is_the_physical_clusters(playbook, cluster, tmp_path):
    """cluster: a name tiup does not know, with no login, is CLUSTER_NOT_FOUND and writes
    nothing; a name tiup knows needs no login; two names for one cluster are one cluster (PD's
    cluster id): its records say so and an incremental backup builds across the names."""
    catalog, local, work = tmp_path / "catalog", tmp_path / "backups", tmp_path / "work"
    run = playbook("cluster_identity.yml", cluster=cluster["name"], tidb_port=cluster["port"], catalog=str(catalog),
                   storage=str(local), work_dir=str(work))
    for task in ("Back up a cluster nothing knows", "Back up a cluster nothing knows in check mode",
                 "Export a cluster nothing knows", "Hold GC of a cluster nothing knows",
                 "Restore into a cluster nothing knows"):
        result = run.task(task)
        assert result.get("error_code") == "CLUSTER_NOT_FOUND", (task, result)
        assert result["changed"] is False and "nosuch" in result["msg"], task
    assert not (local / "nosuch").exists() and not (work / "nosuch").exists()
    records = sorted(p.name for p in (catalog / "records").rglob("*.json"))
    assert records == ["alias-incremental.json", "by-alias.json", "by-name.json"], records
    by_name = run.task("Back up by name alone")["backup"]
    by_alias = run.task("Back up under another name, with the login")["backup"]
    assert by_name["status"] == by_alias["status"] == "finished"
    assert by_name["cluster"] == cluster["name"] and by_alias["cluster"] == "alias"
    assert by_name["cluster_id"] == by_alias["cluster_id"] == cluster["id"]
    incremental = run.task("An incremental backup under the other name on the first one")["backup"]
    assert incremental["type"] == "incremental" and incremental["last_backup"] == "by-name"
    assert not list(catalog.glob("locks/*.json"))  # every job released its lock
