"""Backup records: filtering (newest first, by cluster, mode, status and start time) and life cycle."""
import datetime

from ansible_collections.tidbops.manager.plugins.module_utils.backup.records import (
    KIND, filter_records, mark_cancelled, new_record)
from ansible_collections.tidbops.manager.plugins.module_utils.catalog.access import open_catalog
from ansible_collections.tidbops.manager.plugins.module_utils.tools.brie import BrieTarget

RECORDS = [
    dict(id="a", cluster="c1", mode="manual", status="finished", start_time="2026-11-20T01:00:00Z"),
    dict(id="b", cluster="c1", mode="auto", status="finished", start_time="2026-11-21T02:00:00Z"),
    dict(id="c", cluster="c2", mode="auto", status="failed", start_time="2026-11-22T02:00:00Z"),
    dict(id="d", cluster="c1", mode="auto", status="processing", start_time="2026-11-22T03:00:00Z"),
]


def ids(records):
    return [r["id"] for r in records]


def test_newest_first():
    assert ids(filter_records(RECORDS)) == ["d", "c", "b", "a"]


def test_filters_combine():
    assert ids(filter_records(RECORDS, cluster="c1", mode="auto")) == ["d", "b"]
    assert ids(filter_records(RECORDS, status=["finished", "failed"])) == ["c", "b", "a"]
    assert ids(filter_records(RECORDS, since="2026-11-21T00:00:00Z", until="2026-11-22T03:00:00Z")) == ["c", "b"]
    assert ids(filter_records(RECORDS, since="2026-11-22T10:00:00+08:00")) == ["d", "c"]


def test_a_new_record_is_not_written_until_the_job_holds_the_lock_and_a_cancel_is_recorded(tmp_path):
    moment = datetime.datetime(2026, 12, 3, 4, 0, tzinfo=datetime.timezone.utc)
    catalog = open_catalog(dict(catalog=str(tmp_path)), now=moment)
    last = dict(id="full-1")
    record = new_record(catalog, "inc-1", "c1", 7, "auto", BrieTarget(str(tmp_path / "b"), {}), tables=["db.t"],
                        last=last, window=dict(start="2026-12-03T04:00:00Z"))
    assert catalog.find(KIND, "inc-1") is None
    assert record["type"] == "incremental" and record["last_backup"] == "full-1" and record["status"] == "processing"
    assert record["start_time"] == "2026-12-03T04:00:00Z" and record["path"].startswith("local://")
    catalog.put(KIND, record)
    cancelled = mark_cancelled(catalog, "inc-1")
    assert cancelled["status"] == "cancelled" and catalog.get(KIND, "inc-1")["end_time"] == "2026-12-03T04:00:00Z"
