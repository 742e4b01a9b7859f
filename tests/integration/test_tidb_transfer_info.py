"""tidb_transfer_info through a real ansible-playbook run, over records written into a local catalog."""
import datetime
import hashlib
import os

from ansible_collections.tidbops.manager.plugins.module_utils.transfer import records as transfers
from ansible_collections.tidbops.manager.plugins.module_utils.catalog.store import Catalog
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.storage.location import open_storage

UTC = datetime.timezone.utc


def tree_digest(path):
    """Names, sizes and contents of every file under path (to show nothing changed)."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(str(path)):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            digest.update(full.encode("utf-8"))
            with open(full, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()


def write_records(catalog_dir):
    """Five records, one an hour from 01:00 (newest last), as the export/import modules write them."""
    moments = iter(datetime.datetime(2026, 3, 1, hour, 0, 0, tzinfo=UTC) for hour in range(1, 30))
    now = [None]
    catalog = Catalog(open_storage(str(catalog_dir)), clock=lambda: now[0])

    def add(record_id, cluster, kind, storage, status, reimport):
        now[0] = next(moments)
        record = transfers.new_record(catalog, record_id, cluster, kind, "/data/%s/%s/data" % (kind, record_id)
                                      if storage == "local" else "s3://bucket/%s?&endpoint=http://s3:9000" % record_id,
                                      storage, file_type="sql", comment="it", reimport_support=reimport)
        if status == "finished":
            transfers.finish(catalog, record, size=1024, rows=42, config_path="/data/%s/%s" % (kind, record_id))
        elif status == "failed":
            transfers.record_failure(catalog, record, TidbOpsError("TIDB_QUERY_FAILED", "lightning failed"))

    add("exp-c1-a", "c1", "export", "local", "finished", True)
    add("exp-c1-b", "c1", "export", "local", "processing", True)
    add("imp-c1-c", "c1", "import", "local", "failed", False)
    add("exp-c2-d", "c2", "export", "s3", "finished", False)
    add("imp-c2-e", "c2", "import", "local", "finished", False)


def ids(result):
    return [record["id"] for record in result["transfers"]]


def test_transfer_info(playbook, tmp_path):
    catalog = tmp_path / "catalog"
    write_records(catalog)
    assert (catalog / "records" / "transfer" / "exp-c1-a.json").is_file()
    before = tree_digest(catalog)
    run = playbook("transfer_info.yml", catalog_dir=str(catalog))
    assert run.rc == 0, run.failed() or run.stderr
    assert [name for name, _code, _msg, _err in run.failed()] == ["Invalid status", "Negative offset", "No catalog"]

    everything = run.task("All transfers")
    assert everything["changed"] is False
    assert ids(everything) == ["imp-c2-e", "exp-c2-d", "imp-c1-c", "exp-c1-b", "exp-c1-a"]
    assert everything["total"] == 5
    first = everything["transfers"][-1]
    assert {k: v for k, v in first.items() if k != "updated_at"} == {
        "id": "exp-c1-a", "cluster": "c1", "type": "export", "path": "/data/export/exp-c1-a/data",
        "storage_type": "local", "file_type": "sql", "status": "finished", "reimport_support": True, "size": 1024,
        "rows": 42, "start_time": "2026-03-01T01:00:00Z", "end_time": "2026-03-01T01:00:00Z", "comment": "it",
        "config_path": "/data/export/exp-c1-a"}
    assert everything["transfers"][1]["path"] == "s3://bucket/exp-c2-d?&endpoint=http://s3:9000"

    assert ids(run.task("Transfers of c1")) == ["imp-c1-c", "exp-c1-b", "exp-c1-a"]
    assert ids(run.task("Imports")) == ["imp-c2-e", "imp-c1-c"]
    assert ids(run.task("Finished or failed")) == ["imp-c2-e", "exp-c2-d", "imp-c1-c", "exp-c1-a"]
    # reimport also requires finished: exp-c1-b supports it but is still processing.
    assert ids(run.task("Re-importable exports of c1")) == ["exp-c1-a"]
    assert ids(run.task("Not re-importable")) == ["imp-c2-e", "exp-c2-d", "imp-c1-c", "exp-c1-b"]
    assert ids(run.task("One by id")) == ["exp-c1-b"] and run.task("One by id")["total"] == 1
    unknown = run.task("An unknown id")
    assert unknown["transfers"] == [] and unknown["total"] == 0 and not unknown.get("failed")

    page = run.task("Second page")
    assert ids(page) == ["imp-c1-c", "exp-c1-b"] and page["total"] == 5
    past = run.task("Past the last page")
    assert past["transfers"] == [] and past["total"] == 5

    check = run.task("In check mode")
    assert check["changed"] is False and ids(check) == ["imp-c2-e"] and check["total"] == 2

    bad = run.task("Invalid status")
    assert bad["failed"] is True and "status" in bad["msg"] and "done" in bad["msg"]
    assert run.task("Negative offset")["error_code"] == "INVALID_ARGUMENT"
    assert run.task("No catalog")["error_code"] == "INVALID_ARGUMENT"

    # Never changes anything.
    assert tree_digest(catalog) == before
