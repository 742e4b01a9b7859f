"""Filtering backup records: newest first, by cluster, mode, status and start time."""
from ansible_collections.tidbops.manager.plugins.module_utils.backup.records import filter_records

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
