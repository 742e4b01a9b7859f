"""catalog.py: records and locks, on a real directory and on a real S3 API server (moto)."""
import datetime
import json
import threading

import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.catalog.store import (
    Catalog, find_secrets, format_time, parse_time)
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.storage.location import open_storage
from tests.unit.conftest import S3_ACCESS_KEY, S3_SECRET_KEY

from .conftest import T0


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return open_storage(str(tmp_path / "catalog"))
    server = request.getfixturevalue("moto_s3")
    return open_storage("s3://%s/tidbops" % server.new_bucket(), s3_endpoint=server.endpoint,
                        s3_access_key=S3_ACCESS_KEY, s3_secret_key=S3_SECRET_KEY)


@pytest.fixture
def catalog(storage, clock):
    return Catalog(storage, clock=clock)


# -- records -----------------------------------------------------------------------------

def test_record_round_trip(catalog, storage, clock):
    record = {"id": "bk-20260301-120000", "cluster": "prod", "status": "running",
              "size": 0, "tables": ["db.t1", "db.t2"], "meta": {"tso": 4242}}
    written = catalog.put("backup", record)
    assert written["updated_at"] == "2026-03-01T12:00:00Z"
    assert "updated_at" not in record  # the caller's dict is not modified
    assert storage.exists("records/backup/bk-20260301-120000.json")
    got = catalog.get("backup", "bk-20260301-120000")
    assert got == written
    assert json.loads(storage.get_bytes("records/backup/bk-20260301-120000.json")) == written

    clock.advance(90)
    record["status"] = "done"
    catalog.put("backup", record)
    got = catalog.get("backup", "bk-20260301-120000")
    assert got["status"] == "done"
    assert got["updated_at"] == "2026-03-01T12:01:30Z"


def test_get_find_missing(catalog):
    assert catalog.find("backup", "nope") is None
    with pytest.raises(TidbOpsError) as err:
        catalog.get("backup", "nope")
    assert err.value.code == "CATALOG_RECORD_NOT_FOUND"
    assert "nope" in err.value.msg and catalog.url in err.value.msg
    assert catalog.list("backup") == []


def test_list_and_delete(catalog):
    for record_id, cluster in (("b3", "prod"), ("b1", "prod"), ("b2", "test")):
        catalog.put("backup", {"id": record_id, "cluster": cluster})
    catalog.put("transfer", {"id": "t1", "cluster": "prod"})
    catalog.put("gc-hold", {"id": "prod", "gc_life_time": "10m"})
    assert [r["id"] for r in catalog.list("backup")] == ["b1", "b2", "b3"]
    assert [r["id"] for r in catalog.list("backup", lambda r: r["cluster"] == "prod")] == \
        ["b1", "b3"]
    assert catalog.ids("transfer") == ["t1"]
    assert catalog.get("gc-hold", "prod")["gc_life_time"] == "10m"
    assert catalog.delete("backup", "b2") is True
    assert catalog.delete("backup", "b2") is False
    assert [r["id"] for r in catalog.list("backup")] == ["b1", "b3"]


@pytest.mark.parametrize("record_id", ["../x", "a/b", "", ".hidden", "x" * 201, "sp ace",
                                       "semi;colon", 5, None])
def test_bad_ids_refused(catalog, storage, record_id):
    with pytest.raises(TidbOpsError) as err:
        catalog.put("backup", {"id": record_id})
    assert err.value.code == "CATALOG_RECORD_INVALID"
    assert storage.list() == []


@pytest.mark.parametrize("record", [{"cluster": "x"}, ["id", "x"], "x",
                                    {"id": "x", "bad": object()},
                                    {"id": "x", "nan": float("nan")}])
def test_malformed_records_refused(catalog, storage, record):
    with pytest.raises(TidbOpsError) as err:
        catalog.put("backup", record)
    assert err.value.code == "CATALOG_RECORD_INVALID"
    assert storage.list() == []


@pytest.mark.parametrize("record, where", [
    ({"id": "x", "password": "hunter2"}, "record.password"),
    ({"id": "x", "source": {"login_password": "hunter2"}}, "record.source.login_password"),
    ({"id": "x", "targets": [{"s3": {"S3_SECRET_KEY": "hunter2"}}]},
     "record.targets[0].s3.S3_SECRET_KEY"),
    ({"id": "x", "s3": {"access-key": "hunter2"}}, "record.s3.access-key"),
    ({"id": "x", "s3": {"accessKey": "hunter2"}}, "record.s3.accessKey"),
    ({"id": "x", "sessionToken": "hunter2"}, "record.sessionToken"),
    ({"id": "x", "aws_credentials": {"profile": "hunter2"}}, "record.aws_credentials"),
    ({"id": "x", "url": "s3://b/p?access-key=AK&secret-access-key=hunter2"}, "record.url"),
    ({"id": "x", "dsn": "mysql://root:hunter2@db:3306/"}, "record.dsn"),
])
def test_secret_holding_record_refused(catalog, storage, record, where):
    with pytest.raises(TidbOpsError) as err:
        catalog.put("clone", record)
    assert err.value.code == "CATALOG_RECORD_INVALID"
    assert where in err.value.msg
    assert "hunter2" not in err.value.msg
    assert "hunter2" not in json.dumps(err.value.fail_kwargs())
    assert storage.list() == []


def test_empty_secret_fields_are_allowed(catalog):
    record = {"id": "x", "password": "", "token": None, "credentials": {}, "secret_keys": [],
              "copy_passwords": False, "url": "s3://bucket/prefix?endpoint=http://minio:9000"}
    assert find_secrets(record) == []
    catalog.put("clone", record)
    assert catalog.get("clone", "x")["url"] == record["url"]


def test_unreadable_record_is_invalid(catalog, storage):
    storage.put_bytes("records/backup/bad.json", b"{not json")
    storage.put_bytes("records/backup/list.json", b"[1, 2]")
    storage.put_bytes("records/backup/other.json", b'{"id": "someone-else"}')
    for record_id in ("bad", "list", "other"):
        with pytest.raises(TidbOpsError) as err:
            catalog.get("backup", record_id)
        assert err.value.code == "CATALOG_RECORD_INVALID"
        assert record_id in err.value.msg
    with pytest.raises(TidbOpsError) as err:
        catalog.list("backup")
    assert err.value.code == "CATALOG_RECORD_INVALID"


def test_time_helpers():
    assert format_time(T0) == "2026-03-01T12:00:00Z"
    assert format_time(datetime.datetime(2026, 3, 1, 12)) == "2026-03-01T12:00:00Z"
    assert parse_time("2026-03-01T12:00:00Z") == T0
    assert parse_time("2026-03-01T14:00:00+02:00") == T0
    assert parse_time("2026-03-01T12:00:00.250Z") == T0 + datetime.timedelta(milliseconds=250)
    assert parse_time("yesterday") is None and parse_time(None) is None


# -- locks -------------------------------------------------------------------------------

def test_lock_is_exclusive(catalog, storage):
    lock = catalog.acquire("prod", "awx-job-1", "backup", 3600)
    assert lock == {"resource": "prod", "owner": "awx-job-1", "purpose": "backup",
                    "acquired_at": "2026-03-01T12:00:00Z", "expires_at": "2026-03-01T13:00:00Z"}
    assert json.loads(storage.get_bytes("locks/prod.json")) == lock
    assert catalog.holder("prod") == lock
    with pytest.raises(TidbOpsError) as err:
        catalog.acquire("prod", "awx-job-2", "restore", 3600)
    assert err.value.code == "CLUSTER_LOCKED"
    for text in ("awx-job-1", "backup", "2026-03-01T13:00:00Z"):
        assert text in err.value.msg
    assert err.value.details["holder"] == "awx-job-1"
    assert err.value.details["purpose"] == "backup"
    assert err.value.details["expired"] is False
    assert catalog.holder("prod") == lock
    # Another resource is independent.
    assert catalog.acquire("staging", "awx-job-2", "restore", 60)["owner"] == "awx-job-2"


def test_lock_is_reentrant_for_its_owner(catalog, clock):
    first = catalog.acquire("prod", "job-1", "clone", 600)
    clock.advance(300)
    again = catalog.acquire("prod", "job-1", "clone", 600)
    assert again["acquired_at"] == first["acquired_at"]
    assert again["expires_at"] == "2026-03-01T12:15:00Z"
    assert catalog.holder("prod") == again
    # Even after it expired, its own owner (a resumed job) may take it again.
    clock.advance(3600)
    resumed = catalog.acquire("prod", "job-1", "clone", 600)
    assert resumed["expires_at"] == "2026-03-01T13:15:00Z"


def test_expired_lock_is_not_taken_over(catalog, clock):
    lock = catalog.acquire("prod", "job-1", "backup", 60)
    clock.advance(61)
    assert catalog.lock_expired(catalog.holder("prod"))
    with pytest.raises(TidbOpsError) as err:
        catalog.acquire("prod", "job-2", "restore", 60)
    assert err.value.code == "CLUSTER_LOCKED"
    assert err.value.details["expired"] is True
    assert "expired" in err.value.msg and "break" in err.value.msg
    assert catalog.holder("prod") == lock  # untouched
    broken = catalog.break_lock("prod")
    assert broken == lock
    assert catalog.holder("prod") is None
    assert catalog.acquire("prod", "job-2", "restore", 60)["owner"] == "job-2"


def test_release(catalog):
    assert catalog.release("prod", "job-1") is False
    catalog.acquire("prod", "job-1", "backup", 60)
    with pytest.raises(TidbOpsError) as err:
        catalog.release("prod", "job-2")
    assert err.value.code == "LOCK_NOT_HELD"
    assert "job-1" in err.value.msg
    assert catalog.holder("prod")["owner"] == "job-1"
    assert catalog.release("prod", "job-1") is True
    assert catalog.holder("prod") is None
    assert catalog.release("prod", "job-1") is False


def test_break_lock(catalog, storage):
    assert catalog.break_lock("prod") is None
    storage.put_bytes("locks/prod.json", b"garbage")
    with pytest.raises(TidbOpsError) as err:
        catalog.acquire("prod", "job-1", "backup", 60)
    assert err.value.code == "CATALOG_RECORD_INVALID"
    assert catalog.break_lock("prod") == {"resource": "prod", "invalid": True}
    assert catalog.acquire("prod", "job-1", "backup", 60)["owner"] == "job-1"


@pytest.mark.parametrize("kwargs, code", [
    (dict(resource="../prod", owner="o", purpose="p", ttl_seconds=5), "INVALID_ARGUMENT"),
    (dict(resource="prod", owner="", purpose="p", ttl_seconds=5), "INVALID_ARGUMENT"),
    (dict(resource="prod", owner="o", purpose="p", ttl_seconds=0), "INVALID_ARGUMENT"),
    (dict(resource="prod", owner="o", purpose="p", ttl_seconds="5"), "INVALID_ARGUMENT"),
    (dict(resource="prod", owner="o", purpose="password=x", ttl_seconds=True),
     "INVALID_ARGUMENT"),
])
def test_acquire_bad_arguments(catalog, storage, kwargs, code):
    with pytest.raises(TidbOpsError) as err:
        catalog.acquire(**kwargs)
    assert err.value.code == code
    assert storage.list() == []


def test_racing_jobs_one_gets_the_lock(catalog, storage):
    barrier = threading.Barrier(6)
    results = {}

    def job(index):
        barrier.wait()
        try:
            catalog.acquire("prod", "job-%d" % index, "backup", 600)
            results[index] = "locked"
        except TidbOpsError as exc:
            results[index] = exc.code

    threads = [threading.Thread(target=job, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [index for index, result in results.items() if result == "locked"]
    assert len(winners) == 1, results
    assert sorted(r for r in results.values() if r != "locked") == ["CLUSTER_LOCKED"] * 5
    assert catalog.holder("prod")["owner"] == "job-%d" % winners[0]


def test_missing_bucket_is_not_an_empty_catalog(moto_s3):
    storage = open_storage("s3://tidbops-no-such-bucket/cat", s3_endpoint=moto_s3.endpoint,
                           s3_access_key=S3_ACCESS_KEY, s3_secret_key=S3_SECRET_KEY)
    catalog = Catalog(storage)
    for call in (lambda: catalog.find("backup", "b1"), lambda: catalog.list("backup"),
                 lambda: catalog.holder("prod"), lambda: catalog.acquire("prod", "o", "p", 5)):
        with pytest.raises(TidbOpsError) as err:
            call()
        assert err.value.code == "STORAGE_NOT_FOUND"
        assert "tidbops-no-such-bucket" in err.value.msg


def test_missing_local_catalog_is_empty(tmp_path):
    catalog = Catalog(open_storage(str(tmp_path / "not-yet")))
    assert catalog.find("backup", "b1") is None
    assert catalog.list("backup") == []
    assert catalog.holder("prod") is None
    catalog.put("backup", {"id": "b1"})
    assert catalog.ids("backup") == ["b1"]
