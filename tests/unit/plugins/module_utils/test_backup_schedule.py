"""backup_schedule: strategy validation, the window due now, and retention (pure logic)."""
import datetime

import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.backup import schedule as bs
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError

UTC = datetime.timezone.utc


def strategy(weekdays=("Monday",), period="02:00-04:00", **kwargs):
    return bs.normalize_strategy("prod-1", list(weekdays), period, **kwargs)


def invalid(field, *args, **kwargs):
    with pytest.raises(TidbOpsError) as caught:
        bs.normalize_strategy(*args, **kwargs)
    assert caught.value.code == "BACKUP_STRATEGY_INVALID"
    assert caught.value.details["field"] == field
    assert field in caught.value.msg
    return caught.value


def at(text):
    return bs.parse_now(text)


# -- normalize_strategy -------------------------------------------------------------------


def test_canonical_record():
    assert bs.normalize_strategy("prod-1", ["thu", "MONDAY", "Monday"], "02:00-04:00",
                                 max_backups=3, max_age="7d") == {
        "id": "prod-1", "cluster": "prod-1", "weekdays": ["Monday", "Thursday"],
        "period": "02:00-04:00", "start_hour": 2, "end_hour": 4, "max_backups": 3,
        "max_age": "7d", "timezone": "UTC"}


def test_retention_optional():
    record = strategy()
    assert record["max_backups"] is None and record["max_age"] is None


@pytest.mark.parametrize("weekdays, expected", [
    (["Sunday", "Monday"], ["Monday", "Sunday"]),
    (["sun", "SAT", "fRi"], ["Friday", "Saturday", "Sunday"]),
    ("Monday,Wednesday,Friday", ["Monday", "Wednesday", "Friday"]),  # TiUniManager's backupDate
    (["Tuesday, tue", "Monday"], ["Monday", "Tuesday"]),
    ([" wednesday "], ["Wednesday"]),
    (list(bs.WEEKDAYS), list(bs.WEEKDAYS)),
    (list(reversed(bs.WEEKDAYS)) * 2, list(bs.WEEKDAYS)),
])
def test_weekdays(weekdays, expected):
    assert bs.normalize_strategy("c", weekdays, "02:00-04:00")["weekdays"] == expected


@pytest.mark.parametrize("weekdays", [["Funday"], ["Mo"], ["Monday", "Mond"], [], "", [","],
                                      [1], None, "Monday;Tuesday"])
def test_bad_weekdays(weekdays):
    invalid("weekdays", "c", weekdays, "02:00-04:00")


@pytest.mark.parametrize("period, hours", [
    ("02:00-04:00", (2, 4)),
    ("00:00-01:00", (0, 1)),
    ("23:00-24:00", (23, 24)),   # end 24 = midnight at the end of the day
    ("00:00-24:00", (0, 24)),
    (" 05:00-06:00 ", (5, 6)),
])
def test_periods(period, hours):
    record = bs.normalize_strategy("c", ["Mon"], period)
    assert (record["start_hour"], record["end_hour"]) == hours
    assert record["period"] == "%02d:00-%02d:00" % hours


@pytest.mark.parametrize("period", [
    "25:00-03:00",   # start hour out of range
    "03:00-03:00",   # empty window
    "04:00-02:00",   # backwards (no window spans midnight)
    "2:00-4:00",     # one-digit hours: the format is HH:00-HH:00
    "02:30-04:00",   # not on the hour
    "02:00-25:00",
    "24:00-24:00",
    "02:00 - 04:00",
    "02-04",
    "",
    None,
    4,
])
def test_bad_periods(period):
    error = invalid("period", "c", ["Mon"], period)
    if period == "25:00-03:00":
        assert "25:00-03:00" in error.msg and error.details["value"] == period


@pytest.mark.parametrize("value", [0, -1, True, "3", 2.5])
def test_bad_max_backups(value):
    invalid("max_backups", "c", ["Mon"], "02:00-04:00", max_backups=value)


@pytest.mark.parametrize("text, seconds", [
    ("7d", 7 * 86400), ("36h", 36 * 3600), ("2w", 14 * 86400), ("90m", 5400), ("45s", 45),
    ("1d12h", 36 * 3600), ("1W 2D", 9 * 86400)])
def test_parse_duration(text, seconds):
    assert bs.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["7", "7 days", "0d", "d", "-1d", "1.5d", "", 7, "7y"])
def test_bad_max_age(text):
    invalid("max_age", "c", ["Mon"], "02:00-04:00", max_age=text)


def test_max_age_canonical():
    assert strategy(max_age="1D 12H")["max_age"] == "1d12h"


@pytest.mark.parametrize("text, canonical", [
    ("UTC", "UTC"), ("utc", "UTC"), ("Z", "UTC"), ("+00:00", "UTC"), ("-00:00", "UTC"),
    ("+08:00", "+08:00"), ("-05:30", "-05:30"), ("+0545", "+05:45"), ("+14:00", "+14:00")])
def test_timezones(text, canonical):
    assert strategy(timezone=text)["timezone"] == canonical


@pytest.mark.parametrize("text", ["Asia/Shanghai", "+8", "+08:60", "+15:00", "GMT+8", "", 8])
def test_bad_timezones(text):
    invalid("timezone", "c", ["Mon"], "02:00-04:00", timezone=text)


@pytest.mark.parametrize("cluster", ["", ".hidden", "a/b", "../x", None, "x" * 201])
def test_bad_cluster(cluster):
    invalid("cluster", cluster, ["Mon"], "02:00-04:00")


# -- parse_now ----------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("2026-11-23T02:30:00Z", datetime.datetime(2026, 11, 23, 2, 30, tzinfo=UTC)),
    ("2026-11-23T02:30:00", datetime.datetime(2026, 11, 23, 2, 30, tzinfo=UTC)),
    ("2026-11-23 02:30", datetime.datetime(2026, 11, 23, 2, 30, tzinfo=UTC)),
    ("2026-11-23T10:30:00+08:00", datetime.datetime(2026, 11, 23, 2, 30, tzinfo=UTC)),
    ("2026-11-22T21:30:00-0500", datetime.datetime(2026, 11, 23, 2, 30, tzinfo=UTC)),
])
def test_parse_now(text, expected):
    moment = bs.parse_now(text)
    assert moment == expected and moment.utcoffset() == datetime.timedelta(0)


def test_parse_now_default_is_now_utc():
    before = datetime.datetime.now(UTC)
    moment = bs.parse_now()
    assert moment.tzinfo is not None and before <= moment <= datetime.datetime.now(UTC)


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01T00:00:00", "2026-11-23T25:00"])
def test_parse_now_bad(text):
    with pytest.raises(TidbOpsError) as caught:
        bs.parse_now(text)
    assert caught.value.code == "INVALID_ARGUMENT"


# -- current_window -----------------------------------------------------------------------
# 2026-11-23 is a Monday.


def test_window_due():
    window = bs.current_window(strategy(), at("2026-11-23T02:30:00Z"))
    assert window == {"id": "2026-11-23T02:00+00:00", "start": "2026-11-23T02:00:00+00:00",
                      "end": "2026-11-23T04:00:00+00:00"}


@pytest.mark.parametrize("now, due", [
    ("2026-11-23T01:59:59Z", False),
    ("2026-11-23T02:00:00Z", True),    # start included
    ("2026-11-23T03:59:59Z", True),
    ("2026-11-23T04:00:00Z", False),   # end hour enforced (TiUniManager never checked it)
    ("2026-11-23T05:00:00Z", False),
    ("2026-11-24T02:30:00Z", False),   # Tuesday: not a listed weekday
    ("2026-11-30T02:30:00Z", True),    # next Monday
])
def test_window_bounds(now, due):
    assert (bs.current_window(strategy(), at(now)) is not None) is due


def test_hour_zero_is_like_any_other_hour():
    # TiUniManager's hourly job skipped the hour filter at hour 0: every strategy of the
    # weekday fired at midnight. Here a 02:00 strategy is not due at 00:30 ...
    assert bs.current_window(strategy(period="02:00-04:00"), at("2026-11-23T00:30:00Z")) is None
    # ... and a 00:00-01:00 strategy is due from 00:00 to 00:59 only, on its weekdays only.
    midnight = strategy(period="00:00-01:00")
    window = bs.current_window(midnight, at("2026-11-23T00:00:00Z"))
    assert window["id"] == "2026-11-23T00:00+00:00"
    assert window["end"] == "2026-11-23T01:00:00+00:00"
    assert bs.current_window(midnight, at("2026-11-23T00:59:59Z"))["id"] == window["id"]
    assert bs.current_window(midnight, at("2026-11-23T01:00:00Z")) is None
    assert bs.current_window(midnight, at("2026-11-24T00:30:00Z")) is None  # Tuesday
    assert bs.current_window(midnight, at("2026-11-22T23:59:59Z")) is None  # Sunday


def test_end_hour_24_is_midnight():
    late = strategy(period="22:00-24:00")
    window = bs.current_window(late, at("2026-11-23T23:59:59Z"))
    assert window["end"] == "2026-11-24T00:00:00+00:00"
    assert bs.current_window(late, at("2026-11-24T00:00:00Z")) is None  # Tuesday 00:00


def test_window_ids_stable_within_and_distinct_across_windows():
    plan = strategy(weekdays=["Mon", "Tue"], period="02:00-05:00")
    first = {bs.current_window(plan, at(t))["id"] for t in (
        "2026-11-23T02:00:00Z", "2026-11-23T03:17:41Z", "2026-11-23T04:59:59.999999Z")}
    assert first == {"2026-11-23T02:00+00:00"}
    second = bs.current_window(plan, at("2026-11-24T02:10:00Z"))["id"]
    next_week = bs.current_window(plan, at("2026-11-30T02:10:00Z"))["id"]
    assert len({first.pop(), second, next_week}) == 3


def test_timezone_across_midnight():
    # Monday 02:00-04:00 at +08:00 is Sunday 18:00-20:00 UTC.
    plan = strategy(period="02:00-04:00", timezone="+08:00")
    window = bs.current_window(plan, at("2026-11-22T18:30:00Z"))  # a Sunday in UTC
    assert window == {"id": "2026-11-22T18:00+00:00", "start": "2026-11-23T02:00:00+08:00",
                      "end": "2026-11-23T04:00:00+08:00"}
    assert bs.current_window(plan, at("2026-11-23T02:30:00Z")) is None  # Monday 10:30 local
    assert bs.current_window(plan, at("2026-11-22T20:00:00Z")) is None  # the end hour, local
    # The same window, the moment given with another offset.
    assert bs.current_window(plan, at("2026-11-23T03:59:00+08:00"))["id"] == window["id"]


def test_negative_offset_across_weekday_boundary():
    # Sunday 22:00-24:00 at -05:30 is Monday 03:30-05:30 UTC.
    plan = strategy(weekdays=["Sunday"], period="22:00-24:00", timezone="-05:30")
    window = bs.current_window(plan, at("2026-11-23T04:00:00Z"))  # a Monday in UTC
    assert window["id"] == "2026-11-23T03:30+00:00"
    assert window["start"] == "2026-11-22T22:00:00-05:30"
    assert window["end"] == "2026-11-23T00:00:00-05:30"
    assert bs.current_window(plan, at("2026-11-23T05:30:00Z")) is None
    assert bs.current_window(plan, at("2026-11-23T03:29:59Z")) is None
    # Sunday 22:30 UTC is Sunday 17:00 local: the weekday matches, the hour does not.
    assert bs.current_window(plan, at("2026-11-22T22:30:00Z")) is None


def test_window_id_independent_of_timezone_spelling():
    utc = strategy(period="02:00-04:00")
    same = strategy(period="02:00-04:00", timezone="+00:00")
    moment = at("2026-11-23T03:00:00Z")
    assert bs.current_window(utc, moment) == bs.current_window(same, moment)


def test_current_window_accepts_naive_and_text():
    plan = strategy()
    assert bs.current_window(plan, datetime.datetime(2026, 11, 23, 3, 0))["id"] == \
        "2026-11-23T02:00+00:00"
    assert bs.current_window(plan, "2026-11-23T03:00:00Z")["id"] == "2026-11-23T02:00+00:00"


def test_current_window_bad_record():
    with pytest.raises(TidbOpsError) as caught:
        bs.current_window({"id": "c", "weekdays": ["Monday"]}, at("2026-11-23T03:00:00Z"))
    assert caught.value.code == "BACKUP_STRATEGY_INVALID"


# -- retention_victims --------------------------------------------------------------------

NOW = "2026-11-30T03:00:00Z"


def backup(record_id, days_ago, status="Finished", mode="auto", cluster="prod-1"):
    start = at(NOW) - datetime.timedelta(days=days_ago)
    return {"id": record_id, "mode": mode, "status": status, "cluster": cluster,
            "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ")}


def victims(records, **retention):
    return [r["id"] for r in bs.retention_victims(records, strategy(**retention), at(NOW))]


def test_no_retention_keeps_everything():
    records = [backup("b%d" % i, i) for i in range(10)]
    assert victims(records) == []


def test_max_backups_keeps_the_newest_oldest_first():
    records = [backup("b%d" % i, i) for i in (3, 0, 5, 1, 4, 2)]
    assert victims(records, max_backups=3) == ["b5", "b4", "b3"]
    assert victims(records, max_backups=6) == []
    assert victims(records, max_backups=1) == ["b5", "b4", "b3", "b2", "b1"]


def test_max_age():
    records = [backup("b%d" % i, i) for i in range(6)]
    assert victims(records, max_age="3d") == ["b5", "b4"]  # b3 is exactly 3 days old: kept
    assert victims(records, max_age="36h") == ["b5", "b4", "b3", "b2"]


def test_max_age_and_max_backups_combine():
    records = [backup("b%d" % i, i) for i in range(6)]
    assert victims(records, max_backups=4, max_age="2d12h") == ["b5", "b4", "b3"]


def test_never_the_newest_finished_backup():
    # Every backup is too old, but the cluster keeps its newest finished one.
    records = [backup("old", 40), backup("older", 50), backup("oldest", 60)]
    assert victims(records, max_age="7d") == ["oldest", "older"]
    # A newer failed backup does not count as "the newest".
    records.append(backup("failed", 1, status="Failed"))
    assert victims(records, max_age="7d", max_backups=1) == ["oldest", "older"]
    assert victims([backup("only", 90)], max_age="1d", max_backups=1) == []


def test_failed_and_cancelled_go_only_by_age():
    records = [backup("new", 0), backup("f-old", 10, status="Failed"),
               backup("c-old", 9, status="Cancelled"), backup("f-new", 1, status="failed")]
    assert victims(records, max_age="7d") == ["f-old", "c-old"]
    assert victims(records, max_backups=1) == []  # max_backups counts finished backups only


def test_processing_and_unknown_never_deleted():
    records = [backup("new", 0), backup("running", 30, status="Processing"),
               backup("init", 30, status="Initializing"), backup("odd", 30, status="Mystery"),
               backup("old", 20)]
    assert victims(records, max_age="1d", max_backups=1) == ["old"]


def test_processing_does_not_count_as_kept():
    records = [backup("running", 0, status="Processing"), backup("b1", 1), backup("b2", 2)]
    assert victims(records, max_backups=1) == ["b2"]


def test_manual_backups_untouched():
    records = [backup("auto-new", 0), backup("auto-old", 10),
               backup("manual-old", 100, mode="manual"),
               backup("manual-failed", 100, mode="manual", status="Failed"),
               backup("nomode", 100)]
    del records[-1]["mode"]
    assert victims(records, max_backups=1, max_age="1d") == ["auto-old"]


def test_other_clusters_and_undated_records_untouched():
    records = [backup("b0", 0), backup("b1", 1), backup("other", 50, cluster="prod-2"),
               backup("undated", 50)]
    records[-1]["start_time"] = "sometime"
    assert victims(records, max_backups=1) == ["b1"]


def test_future_start_time_is_not_old():
    records = [backup("b0", 0), backup("future", -2)]
    assert victims(records, max_age="1d") == []


def test_ties_ordered_by_id():
    records = [backup("b", 5), backup("a", 5), backup("new", 0)]
    assert victims(records, max_backups=1) == ["a", "b"]


def test_returns_the_records_themselves():
    records = [backup("b0", 0), backup("b1", 1)]
    assert bs.retention_victims(records, strategy(max_backups=1), at(NOW)) == [records[1]]
