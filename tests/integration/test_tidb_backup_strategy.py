"""tidb_backup_strategy through a real ansible-playbook run, with a local catalog."""
import base64
import json
import os

STRATEGY_KEYS = {"id", "cluster", "weekdays", "period", "start_hour", "end_hour", "max_backups",
                 "max_age", "timezone"}


def slurped(result):
    return json.loads(base64.b64decode(result["content"]).decode("utf-8"))


def test_backup_strategy(playbook, tmp_path):
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    run = playbook("backup_strategy.yml", catalog_dir=str(catalog))
    assert run.rc == 0, run.failed() or run.stderr

    # Create: canonical record, stored as JSON in the catalog.
    create = run.task("Create")
    assert create["changed"] is True
    expected = {"id": "prod-1", "cluster": "prod-1", "weekdays": ["Monday", "Thursday"],
                "period": "02:00-04:00", "start_hour": 2, "end_hour": 4, "max_backups": 4,
                "max_age": "7d", "timezone": "UTC"}
    assert {k: v for k, v in create["strategy"].items() if k != "updated_at"} == expected
    assert create["strategy"]["updated_at"].endswith("Z")
    assert "diff" not in create

    # The same strategy, spelt the same or differently: no change.
    for name in ("Create again", "Create again with TiUniManager's backupDate string"):
        again = run.task(name)
        assert again["changed"] is False, name
        assert again["strategy"] == create["strategy"], name

    # Check mode predicts the change and leaves the file alone.
    check = run.task("Change in check mode")
    assert check["changed"] is True
    assert check["strategy"]["weekdays"] == ["Saturday"]
    assert check["strategy"]["period"] == "22:00-24:00" and check["strategy"]["end_hour"] == 24
    assert "updated_at" not in check["strategy"]
    before_check = slurped(run.task("Record before check mode"))
    assert before_check == create["strategy"]
    assert slurped(run.task("Record after check mode")) == before_check

    change = run.task("Change")
    assert change["changed"] is True
    assert change["strategy"]["timezone"] == "+08:00"
    assert change["strategy"]["max_age"] is None and change["strategy"]["max_backups"] == 2
    assert run.task("Change again")["changed"] is False

    # Diff mode: before and after, as YAML.
    diffed = run.task("Change with diff")
    assert diffed["changed"] is True
    diff = diffed["diff"]
    assert "- Saturday" in diff["before"] and "- Sunday" not in diff["before"]
    assert "period: 22:00-24:00" in diff["before"]
    assert "- Sunday" in diff["after"] and "period: 00:00-01:00" in diff["after"]
    assert "updated_at" not in diff["before"] and "updated_at" not in diff["after"]
    on_disk = slurped(run.task("Record after change"))
    assert on_disk == diffed["strategy"]
    assert set(on_disk) == STRATEGY_KEYS | {"updated_at"}
    assert on_disk["weekdays"] == ["Saturday", "Sunday"] and on_disk["start_hour"] == 0

    # Absent: check mode keeps the record; then it goes; then nothing to do.
    assert run.task("Remove in check mode")["changed"] is True
    assert run.task("Remove in check mode")["strategy"] == {}
    assert run.task("Record after removal in check mode")["stat"]["exists"] is True
    remove = run.task("Remove")
    assert remove["changed"] is True and remove["strategy"] == {}
    assert "period: 00:00-01:00" in remove["diff"]["before"] and remove["diff"]["after"] == ""
    again = run.task("Remove again")
    assert again["changed"] is False and again["strategy"] == {}
    assert not (catalog / "records" / "strategy" / "prod-1.json").exists()

    # Bad input: a clear error code, the bad field named, nothing written.
    for name, field, value in (("Period 25:00-03:00", "period", "25:00-03:00"),
                               ("Period 04:00-02:00", "period", "04:00-02:00"),
                               ("Unknown weekday", "weekdays", "Funday"),
                               ("Zero max_backups", "max_backups", 0),
                               ("Bad max_age", "max_age", "7 days"),
                               ("Zone name as timezone", "timezone", "Asia/Shanghai")):
        result = run.task(name)
        assert result.get("failed") is True, name
        assert result["error_code"] == "BACKUP_STRATEGY_INVALID", (name, result)
        assert result["field"] == field and result["value"] == value, (name, result)
        assert field in result["msg"], (name, result["msg"])
    assert "25:00-03:00" in run.task("Period 25:00-03:00")["msg"]
    missing = run.task("Missing period")
    assert missing.get("failed") is True and "period" in missing["msg"]
    no_catalog = run.task("No catalog")
    assert no_catalog.get("failed") is True and no_catalog["error_code"] == "INVALID_ARGUMENT"
    assert run.task("Bad strategy record after bad input")["stat"]["exists"] is False
    assert os.listdir(str(catalog / "records" / "strategy")) == []
    assert not (catalog / "locks").exists() or os.listdir(str(catalog / "locks")) == []
