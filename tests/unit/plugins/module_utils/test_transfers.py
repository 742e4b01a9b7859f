"""transfers.py: transfer records, their filters, and the concurrent-transfer slots."""
import os
import socket
import subprocess
import threading
import time

import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.transfer import records as transfers
from ansible_collections.tidbops.manager.plugins.module_utils.catalog.store import Catalog
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.storage.location import open_storage


@pytest.fixture
def catalog(tmp_path, clock):
    return Catalog(open_storage(str(tmp_path / "catalog")), clock=clock)


# -- records -----------------------------------------------------------------------------

def test_new_record_round_trip(catalog, clock, tmp_path):
    record = transfers.new_record(catalog, "exp-1", "prod", "export", "/data/export/prod/x/data", "local",
                                  file_type="sql", comment="nightly", reimport_support=True)
    stored = catalog.get("transfer", "exp-1")
    assert stored == record
    assert (tmp_path / "catalog" / "records" / "transfer" / "exp-1.json").is_file()
    expected = {"id": "exp-1", "cluster": "prod", "type": "export", "path": "/data/export/prod/x/data",
                "storage_type": "local", "file_type": "sql", "status": "processing", "reimport_support": True,
                "size": 0, "rows": None, "start_time": "2026-03-01T12:00:00Z", "end_time": None,
                "comment": "nightly", "config_path": None}
    assert {k: v for k, v in stored.items() if k != "updated_at"} == expected

    clock.advance(90)
    finished = transfers.finish(catalog, record, size=2048, rows=10, config_path="/data/export/prod/x")
    assert finished["status"] == "finished" and finished["end_time"] == "2026-03-01T12:01:30Z"
    assert catalog.get("transfer", "exp-1") == finished
    assert transfers.get_record(catalog, "exp-1")["rows"] == 10


def test_record_failure_marks_failed_and_attaches(catalog):
    record = transfers.new_record(catalog, "imp-1", "prod", "import", "s3://bucket/in?&endpoint=http://s3",
                                  "s3", file_type="csv")
    error = TidbOpsError("TIDB_QUERY_FAILED", "lightning failed")
    transfers.record_failure(catalog, record, error)
    stored = catalog.get("transfer", "imp-1")
    assert stored["status"] == "failed" and stored["error"] == "lightning failed" and stored["end_time"]
    assert error.details["transfer"]["status"] == "failed"


def test_unknown_record(catalog):
    with pytest.raises(TidbOpsError) as info:
        transfers.get_record(catalog, "nope")
    assert info.value.code == "TRANSFER_RECORD_NOT_FOUND"


@pytest.mark.parametrize("path", [
    "s3://bucket/out?access-key=AKID&secret-access-key=SECRET&endpoint=http://s3",
    "s3://bucket/out?&secret_access_key=SECRET",
    "s3://bucket/out?&endpoint=x&access-key=AKID",
    "ftp://user:pw@host/data",
])
def test_secrets_in_path_are_refused(catalog, path):
    with pytest.raises(TidbOpsError) as info:
        transfers.new_record(catalog, "x", "prod", "export", path, "s3")
    assert info.value.code == "CATALOG_RECORD_INVALID"
    assert "SECRET" not in info.value.msg and "pw" not in str(info.value.fail_kwargs())
    assert catalog.ids("transfer") == []


def test_secret_in_a_finished_path_is_refused(catalog):
    record = transfers.new_record(catalog, "x", "prod", "export", "/data/x", "local")
    with pytest.raises(TidbOpsError) as info:
        transfers.finish(catalog, record, path="s3://b/p?secret-access-key=K")
    assert info.value.code == "CATALOG_RECORD_INVALID"
    assert catalog.get("transfer", "x")["status"] == "processing"


@pytest.mark.parametrize("kwargs", [
    dict(transfer_type="copy"), dict(storage_type="nfs"), dict(file_type="parquet"), dict(path=""),
])
def test_invalid_fields_are_refused(catalog, kwargs):
    args = dict(transfer_type="export", path="/data/x", storage_type="local")
    args.update(kwargs)
    with pytest.raises(TidbOpsError) as info:
        transfers.new_record(catalog, "x", "prod", **args)
    assert info.value.code == "TRANSFER_RECORD_INVALID"


def test_file_size_limit():
    assert transfers.check_file_size(transfers.MAX_FILE_SIZE) == transfers.MAX_FILE_SIZE
    for size in (transfers.MAX_FILE_SIZE + 1, -1, None):
        with pytest.raises(TidbOpsError) as info:
            transfers.check_file_size(size)
        assert info.value.code == "TRANSFER_FILE_SIZE_INVALID"


def _records():
    def rec(record_id, cluster, kind, status, reimport, start):
        return dict(id=record_id, cluster=cluster, type=kind, status=status, reimport_support=reimport,
                    start_time="2026-03-01T%s:00:00Z" % start)
    return [rec("a", "c1", "export", "finished", True, "01"),
            rec("b", "c1", "export", "processing", True, "02"),
            rec("c", "c1", "import", "failed", False, "03"),
            rec("d", "c2", "export", "finished", False, "04"),
            rec("e", "c2", "import", "finished", False, "05")]


def ids(found):
    return [r["id"] for r in found]


def test_filters_newest_first():
    records = _records()
    assert ids(transfers.filter_transfers(records)) == ["e", "d", "c", "b", "a"]
    assert ids(transfers.filter_transfers(records, cluster="c1")) == ["c", "b", "a"]
    assert ids(transfers.filter_transfers(records, transfer_type="import")) == ["e", "c"]
    assert ids(transfers.filter_transfers(records, status=["finished", "failed"])) == ["e", "d", "c", "a"]
    assert ids(transfers.filter_transfers(records, status="processing")) == ["b"]
    # reimport=True also requires finished: b supports re-import but is still processing.
    assert ids(transfers.filter_transfers(records, reimport=True)) == ["a"]
    assert ids(transfers.filter_transfers(records, reimport=False)) == ["e", "d", "c", "b"]
    assert ids(transfers.filter_transfers(records, cluster="c1", transfer_type="export", reimport=True)) == ["a"]


# -- slots -------------------------------------------------------------------------------

def test_three_slots_then_the_limit(catalog):
    with transfers.transfer_slot(catalog, "prod", "job-1") as s1, \
            transfers.transfer_slot(catalog, "prod", "job-2") as s2, \
            transfers.transfer_slot(catalog, "prod", "job-3") as s3:
        assert sorted([s1, s2, s3]) == ["transfer-prod-1", "transfer-prod-2", "transfer-prod-3"]
        with pytest.raises(TidbOpsError) as info:
            with transfers.transfer_slot(catalog, "prod", "job-4"):
                pass
        assert info.value.code == "TRANSFER_LIMIT_REACHED"
        assert sorted(h["owner"] for h in info.value.details["holders"]) == ["job-1", "job-2", "job-3"]
        assert "job-1" in info.value.msg and "job-3" in info.value.msg
        # Another cluster has its own slots.
        with transfers.transfer_slot(catalog, "other", "job-4") as other:
            assert other == "transfer-other-1"
    # All released.
    assert [catalog.holder(r) for r in transfers.slot_resources("prod")] == [None, None, None]


def test_same_job_reenters_its_slot(catalog, clock):
    with transfers.transfer_slot(catalog, "prod", "job-1"):
        with transfers.transfer_slot(catalog, "prod", "job-2") as held:
            first = catalog.holder(held)
            clock.advance(60)
            # A resumed job-2 (e.g. a re-run) gets the same slot back, its expiry refreshed.
            with transfers.transfer_slot(catalog, "prod", "job-2", max_concurrent=2) as again:
                assert again == held
                refreshed = catalog.holder(held)
                assert refreshed["acquired_at"] == first["acquired_at"]
                assert refreshed["expires_at"] > first["expires_at"]


def test_released_slot_is_reused(catalog):
    with transfers.transfer_slot(catalog, "prod", "job-1"):
        with transfers.transfer_slot(catalog, "prod", "job-2") as freed:
            pass
        with transfers.transfer_slot(catalog, "prod", "job-3", max_concurrent=2) as reused:
            assert reused == freed
            with pytest.raises(TidbOpsError) as info:
                with transfers.transfer_slot(catalog, "prod", "job-4", max_concurrent=2):
                    pass
            assert info.value.code == "TRANSFER_LIMIT_REACHED"


def _hold_then_release(catalog, job, holding, release_after):
    with transfers.transfer_slot(catalog, "prod", job, max_concurrent=1):
        holding.set()
        time.sleep(release_after)


def test_wait_gets_a_slot_released_in_time(tmp_path):
    # Real time here: the waiting side polls with real sleeps while another thread releases.
    catalog = Catalog(open_storage(str(tmp_path / "catalog")))
    holding = threading.Event()
    holder = threading.Thread(target=_hold_then_release, args=(catalog, "job-1", holding, 0.6))
    holder.start()
    try:
        assert holding.wait(5)
        started = time.monotonic()
        with transfers.transfer_slot(catalog, "prod", "job-2", max_concurrent=1, wait=True,
                                     wait_timeout=10) as slot:
            assert slot == "transfer-prod-1"
            assert catalog.holder(slot)["owner"] == "job-2"
        assert time.monotonic() - started < 8
    finally:
        holder.join(10)


def test_wait_fails_after_the_timeout(tmp_path):
    catalog = Catalog(open_storage(str(tmp_path / "catalog")))
    holding = threading.Event()
    holder = threading.Thread(target=_hold_then_release, args=(catalog, "job-1", holding, 3))
    holder.start()
    try:
        assert holding.wait(5)
        started = time.monotonic()
        with pytest.raises(TidbOpsError) as info:
            with transfers.transfer_slot(catalog, "prod", "job-2", max_concurrent=1, wait=True, wait_timeout=0.7):
                pass
        assert info.value.code == "TRANSFER_LIMIT_REACHED"
        assert info.value.details["holders"][0]["owner"] == "job-1"
        assert 0.6 <= time.monotonic() - started < 2.5
    finally:
        holder.join(10)


def test_an_expired_slot_is_taken_over(catalog, clock):
    catalog.acquire("transfer-prod-1", "dead-job", "export (host gone)", 60)
    with pytest.raises(TidbOpsError):
        with transfers.transfer_slot(catalog, "prod", "job-2", max_concurrent=1):
            pass
    clock.advance(61)
    with transfers.transfer_slot(catalog, "prod", "job-2", max_concurrent=1) as slot:
        assert catalog.holder(slot)["owner"] == "job-2"
    assert catalog.holder("transfer-prod-1") is None


def test_a_slot_of_a_process_that_is_gone_is_taken_over_at_once(catalog):
    child = subprocess.Popen(["true"])
    child.wait()
    catalog.acquire("transfer-prod-1", "export/killed", "export/killed (host %s, pid %d)"
                    % (socket.gethostname(), child.pid), 86400)
    with transfers.transfer_slot(catalog, "prod", "job-2", max_concurrent=1) as slot:
        assert catalog.holder(slot)["owner"] == "job-2"
    # a live holder (this process) keeps its slot until it expires
    catalog.acquire("transfer-prod-1", "export/alive", "export/alive (host %s, pid %d)"
                    % (socket.gethostname(), os.getpid()), 86400)
    with pytest.raises(TidbOpsError) as info:
        with transfers.transfer_slot(catalog, "prod", "job-3", max_concurrent=1):
            pass
    assert info.value.code == "TRANSFER_LIMIT_REACHED"


def test_release_after_a_takeover_does_not_fail(catalog, clock):
    with transfers.transfer_slot(catalog, "prod", "slow-job", max_concurrent=1, ttl_seconds=60) as slot:
        clock.advance(61)
        with transfers.transfer_slot(catalog, "prod", "job-2", max_concurrent=1):
            assert catalog.holder(slot)["owner"] == "job-2"
            # slow-job leaves its block now: job-2's slot must survive.
        catalog.acquire(slot, "job-3", "x", 60)
    assert catalog.holder(slot)["owner"] == "job-3"


@pytest.mark.parametrize("kwargs", [dict(max_concurrent=0), dict(max_concurrent=True), dict(cluster="a/b"),
                                    dict(cluster="")])
def test_invalid_slot_arguments(catalog, kwargs):
    args = dict(cluster="prod")
    args.update(kwargs)
    with pytest.raises(TidbOpsError) as info:
        with transfers.transfer_slot(catalog, job="job-1", **args):
            pass
    assert info.value.code == "INVALID_ARGUMENT"


# -- jobs and their files ----------------------------------------------------------------

def test_job_name():
    assert transfers.job_name("export", "nightly") == "export/nightly"
    assert transfers.job_name("import", "x") != transfers.job_name("export", "x")


def test_job_dir_expands_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert transfers.job_dir("~/.tidbops/transfers", "prod", "export", "n1") == \
        str(tmp_path / ".tidbops" / "transfers" / "prod" / "export-n1")
    assert transfers.job_dir("/srv/work", "prod", "import", "n1") == "/srv/work/prod/import-n1"


@pytest.mark.parametrize("cluster, name", [("prod", "a/b"), ("prod", "."), ("prod", ".."), ("prod", ""),
                                           ("a/b", "n1"), ("..", "n1"), (".", "n1"), ("", "n1")])
def test_job_dir_refuses_names_that_leave_it(cluster, name):
    with pytest.raises(TidbOpsError) as info:
        transfers.job_dir("/srv/work", cluster, "export", name)
    assert info.value.code == "INVALID_ARGUMENT"


def _slot_record(catalog, record_id="r1", transfer_type="export", path="/data/x", storage_type="local", **extra):
    return transfers.new_record(catalog, record_id, "prod", transfer_type, path, storage_type,
                                slot="transfer-prod-1", **extra)


def test_job_running_follows_the_slot(catalog, clock):
    record = _slot_record(catalog)
    assert transfers.job_running(catalog, record) is False  # nobody holds the slot
    assert transfers.job_running(catalog, dict(record, slot=None)) is False
    catalog.acquire("transfer-prod-1", "export/other", "x", 60)
    assert transfers.job_running(catalog, record) is False  # another job's slot
    catalog.break_lock("transfer-prod-1")
    catalog.acquire("transfer-prod-1", "export/r1", "x", 60)
    assert transfers.job_running(catalog, record) is True
    assert transfers.job_running(catalog, dict(record, type="import")) is False  # import/r1 is another job
    clock.advance(61)
    assert transfers.job_running(catalog, record) is False  # its lock expired: the job died


def test_start_again(catalog, clock):
    record = _slot_record(catalog)
    transfers.record_failure(catalog, record, TidbOpsError("EXPORT_FAILED", "dumpling failed"))
    failed = catalog.get("transfer", "r1")
    assert failed["status"] == "failed" and failed["error"]
    clock.advance(3600)
    again = transfers.start_again(catalog, failed, "transfer-prod-2")
    stored = catalog.get("transfer", "r1")
    assert stored == again
    assert (stored["status"], stored["error"], stored["end_time"], stored["slot"]) == \
        ("processing", None, None, "transfer-prod-2")
    assert stored["start_time"] == "2026-03-01T13:00:00Z"


def _tree(root, names):
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    return root


class FakeS3(object):
    kind = "s3"

    def __init__(self):
        self.deleted = []

    def delete_prefix(self, prefix):
        self.deleted.append(prefix)
        return 3


def test_delete_local_export_removes_data_and_working_dir(catalog, tmp_path):
    data = _tree(tmp_path / "exports" / "x", ["db.t.000000000.sql", "sub/metadata"])
    work = _tree(tmp_path / "work" / "prod" / "export-r1", ["dumpling.log", "data.zip"])
    record = _slot_record(catalog, path=str(data), config_path=str(work))
    transfers.finish(catalog, record)
    removed = transfers.delete_transfer(catalog, record, open_storage(str(data)))
    assert removed == [str(data), str(work)]
    assert not data.exists() and not work.exists()
    assert (tmp_path / "exports").is_dir()
    assert catalog.find("transfer", "r1") is None


@pytest.mark.parametrize("delete_data", [False, True])
def test_delete_s3_export_keeps_data_unless_asked(catalog, tmp_path, delete_data):
    work = _tree(tmp_path / "work" / "prod" / "export-r1", ["dumpling.log"])
    record = _slot_record(catalog, path="s3://bucket/exports/x", storage_type="s3", config_path=str(work))
    transfers.finish(catalog, record)
    storage = FakeS3()
    removed = transfers.delete_transfer(catalog, record, storage, delete_data=delete_data)
    assert storage.deleted == ([""] if delete_data else [])
    assert removed == (["s3://bucket/exports/x"] if delete_data else []) + [str(work)]
    assert not work.exists()
    assert catalog.find("transfer", "r1") is None


@pytest.mark.parametrize("delete_data", [False, True])
def test_delete_import_never_touches_its_source(catalog, tmp_path, delete_data):
    source = _tree(tmp_path / "source", ["db.t.000000000.sql", "db.t-schema.sql"])
    work = _tree(tmp_path / "work" / "prod" / "import-r1", ["tidb-lightning.log", "data/db.t.000000000.sql"])
    record = _slot_record(catalog, transfer_type="import", path=str(source), config_path=str(work))
    transfers.finish(catalog, record)
    removed = transfers.delete_transfer(catalog, record, open_storage(str(source)), delete_data=delete_data)
    assert removed == [str(work)]
    assert sorted(p.name for p in source.iterdir()) == ["db.t-schema.sql", "db.t.000000000.sql"]
    assert catalog.find("transfer", "r1") is None


def test_delete_refuses_a_running_job(catalog, tmp_path, clock):
    data = _tree(tmp_path / "exports" / "x", ["db.t.000000000.sql"])
    record = _slot_record(catalog, path=str(data))
    catalog.acquire("transfer-prod-1", "export/r1", "export (host h, pid 1)", 60)
    with pytest.raises(TidbOpsError) as info:
        transfers.delete_transfer(catalog, record, open_storage(str(data)), delete_data=True)
    assert info.value.code == "TRANSFER_JOB_RUNNING"
    assert (data / "db.t.000000000.sql").is_file()
    assert catalog.find("transfer", "r1")["status"] == "processing"
    # Once its slot has expired the job is gone, and what it left can be deleted.
    clock.advance(61)
    assert transfers.delete_transfer(catalog, record, open_storage(str(data))) == [str(data)]
    assert catalog.find("transfer", "r1") is None


def test_a_killed_job_on_this_host_is_not_running(catalog):
    """A job whose process on this host is gone can be resumed at once, not after its lock's expiry;
    one on another host (or of unknown origin) counts as running until the lock expires."""
    record = _slot_record(catalog)
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    catalog.acquire("transfer-prod-1", "export/r1", "export/r1 (host %s, pid %d)" % (host, dead.pid), 60)
    assert transfers.job_running(catalog, record) is False
    transfers.check_not_running(catalog, record)  # nothing raised: a re-run takes over
    catalog.break_lock("transfer-prod-1")
    catalog.acquire("transfer-prod-1", "export/r1", "export/r1 (host %s, pid %d)" % (host, os.getpid()), 60)
    assert transfers.job_running(catalog, record) is True
    with pytest.raises(TidbOpsError) as info:
        transfers.check_not_running(catalog, record)
    assert info.value.code == "TRANSFER_JOB_RUNNING" and str(os.getpid()) in info.value.msg
    catalog.break_lock("transfer-prod-1")
    catalog.acquire("transfer-prod-1", "export/r1", "export/r1 (host elsewhere, pid %d)" % dead.pid, 60)
    assert transfers.job_running(catalog, record) is True


def test_a_killed_job_not_yet_reaped_is_not_running(catalog):
    """A killed module whose parent died too lingers as a zombie until something reaps it."""
    record = _slot_record(catalog)
    zombie = subprocess.Popen(["true"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open("/proc/%d/stat" % zombie.pid) as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            time.sleep(0.01)
        catalog.acquire("transfer-prod-1", "export/r1", "export/r1 (host %s, pid %d)" % (socket.gethostname(), zombie.pid), 60)
        assert transfers.job_running(catalog, record) is False
    finally:
        zombie.wait()


def test_secrets_a_killed_import_left_are_removed_and_a_running_ones_kept(tmp_path):
    catalog = Catalog(open_storage(str(tmp_path / "catalog")))
    work = tmp_path / "work"
    for job in ("import-killed", "import-live", "export-old"):
        (work / "prod" / job).mkdir(parents=True)
        (work / "prod" / job / "tidb-lightning.toml").write_text("password = 'x'")
    with transfers.transfer_slot(catalog, "prod", transfers.job_name("import", "live"), max_concurrent=3) as slot:
        transfers.new_record(catalog, "live", "prod", "import", "/data", "local", slot=slot)
        transfers.new_record(catalog, "killed", "prod", "import", "/data", "local", slot="transfer-prod-9")
        removed = transfers.remove_stale_secrets(catalog, str(work), "prod", ["tidb-lightning.toml"])
    assert sorted(os.path.relpath(p, str(work)) for p in removed) == [
        "prod/export-old/tidb-lightning.toml", "prod/import-killed/tidb-lightning.toml"]
    assert (work / "prod" / "import-live" / "tidb-lightning.toml").exists()
    assert transfers.remove_stale_secrets(catalog, str(work), "nosuch", ["tidb-lightning.toml"]) == []
