# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Automatic backup strategies: validation, the window that is due now, and retention.

Pure logic: no I/O. ``tidb_backup_strategy`` stores what ``normalize_strategy`` returns as
the catalog record of kind ``strategy`` (id = cluster); ``tidb_backup`` with ``mode: auto``
asks ``current_window`` whether a backup is due and ``retention_victims`` what to delete.

A strategy is TiUniManager's (``backupDate`` weekdays plus ``period`` ``"HH:00-HH:00"``),
with its quirks fixed and retention added:

- the end hour is enforced: the window is ``[start, end)``, so at ``end:00`` it is over;
- hour 0 is an hour like any other (TiUniManager's hourly job skipped its hour filter at
  hour 0, so every strategy of that weekday fired at midnight);
- hours are ``0 <= start < end <= 24``; an end of ``24:00`` means midnight at the end of the
  day (TiUniManager stopped at 23, so its last hour of a day could not be scheduled). A
  window never spans midnight: use two weekdays' windows instead;
- weekdays and hours are read in the strategy's ``timezone``: ``UTC`` or a fixed offset such
  as ``+08:00`` (fixed, so there is no daylight-saving ambiguity);
- ``max_backups`` and ``max_age`` bound the automatic backups kept; manual backups are never
  touched, the newest finished backup is never deleted, and a running one never.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import re

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

UTC = datetime.timezone.utc

# Statuses of backup records (TiUniManager's, compared case-insensitively).
FINISHED_STATUSES = frozenset(("finished",))
ENDED_BADLY_STATUSES = frozenset(("failed", "cancelled", "canceled"))

_CODE = "BACKUP_STRATEGY_INVALID"
_NAME_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$")  # a catalog record id
_PERIOD_RE = re.compile(r"^(\d{2}):00-(\d{2}):00$")
_OFFSET_RE = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
_DURATION_PART_RE = re.compile(r"(\d+)([smhdw])")
_DURATION_RE = re.compile(r"^(\d+[smhdw])+$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_ISO_OFFSET_RE = re.compile(r"([+-]\d{2})(\d{2})$")
_MAX_OFFSET_MINUTES = 14 * 60
# "monday" and "mon" -> 0, ... "sunday" and "sun" -> 6 (datetime's weekday()).
_WEEKDAY_BY_NAME = dict(
    [(day.lower(), index) for index, day in enumerate(WEEKDAYS)] +
    [(day[:3].lower(), index) for index, day in enumerate(WEEKDAYS)])


def _invalid(field, msg, value=None):
    details = {"field": field}
    if value is not None:
        details["value"] = value if isinstance(value, (str, int, list)) else str(value)
    return TidbOpsError(_CODE, "Invalid backup strategy: %s: %s" % (field, msg), **details)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


# -- fields -------------------------------------------------------------------------------


def normalize_weekdays(weekdays):
    """Canonical weekday names, Monday first, deduplicated.

    Accepts a list of names and/or TiUniManager's comma-separated string ("Monday,Friday");
    names are case-insensitive and may be abbreviated to three letters ("mon").
    """
    if isinstance(weekdays, str):
        items = [weekdays]
    elif isinstance(weekdays, (list, tuple)):
        items = list(weekdays)
    else:
        raise _invalid("weekdays", "expected a list of weekday names, not %s"
                       % type(weekdays).__name__)
    found = set()
    for item in items:
        if not isinstance(item, str):
            raise _invalid("weekdays", "%r is not a weekday name" % (item,), item)
        for part in item.split(","):
            name = part.strip()
            if not name:
                continue
            index = _WEEKDAY_BY_NAME.get(name.lower())
            if index is None:
                raise _invalid("weekdays", "%r is not a weekday (use %s, or their first three "
                               "letters)" % (name, ", ".join(WEEKDAYS)), name)
            found.add(index)
    if not found:
        raise _invalid("weekdays", "at least one weekday is needed (to remove a schedule, use "
                       "state=absent)")
    return [WEEKDAYS[index] for index in sorted(found)]


def parse_period(period):
    """(start_hour, end_hour) of "HH:00-HH:00", with 0 <= start < end <= 24."""
    if not isinstance(period, str):
        raise _invalid("period", "expected a string \"HH:00-HH:00\", not %s"
                       % type(period).__name__)
    match = _PERIOD_RE.match(period.strip())
    if not match:
        raise _invalid("period", "%r is not of the form \"HH:00-HH:00\" (two-digit hours on the "
                       "hour, e.g. \"02:00-04:00\")" % (period,), period)
    start, end = int(match.group(1)), int(match.group(2))
    if start > 23:
        raise _invalid("period", "%r: the start hour must be 00 to 23" % (period,), period)
    if end > 24:
        raise _invalid("period", "%r: the end hour must be 01 to 24 (24:00 is midnight at the "
                       "end of the day)" % (period,), period)
    if start >= end:
        raise _invalid("period", "%r: the start hour must be before the end hour (a window does "
                       "not span midnight; 24:00 ends it at midnight)" % (period,), period)
    return start, end


def format_period(start_hour, end_hour):
    return "%02d:00-%02d:00" % (start_hour, end_hour)


def parse_timezone(timezone):
    """(canonical text, datetime.timezone) of "UTC" (or "Z") or a fixed offset "+08:00"."""
    if not isinstance(timezone, str):
        raise _invalid("timezone", "expected \"UTC\" or an offset such as \"+08:00\", not %s"
                       % type(timezone).__name__)
    text = timezone.strip()
    if text.upper() in ("UTC", "Z"):
        return "UTC", UTC
    match = _OFFSET_RE.match(text)
    if not match:
        raise _invalid("timezone", "%r is neither \"UTC\" nor a fixed offset such as \"+08:00\" "
                       "or \"-05:30\" (zone names are not supported)" % (timezone,), timezone)
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3))
    if minutes > 59 or hours * 60 + minutes > _MAX_OFFSET_MINUTES:
        raise _invalid("timezone", "%r is not an offset between -14:00 and +14:00"
                       % (timezone,), timezone)
    total = hours * 60 + minutes
    if total == 0:
        return "UTC", UTC
    if sign == "-":
        total = -total
    return ("%s%02d:%02d" % (sign, hours, minutes),
            datetime.timezone(datetime.timedelta(minutes=total)))


def parse_duration(text, field="max_age"):
    """Seconds in a duration such as "7d", "36h", "2w" or "1d12h" (units s, m, h, d, w).

    Raises BACKUP_STRATEGY_INVALID naming field when text is not a positive duration.
    """
    if not isinstance(text, str):
        raise _invalid(field, "expected a duration such as \"7d\", \"36h\" or \"2w\", not %s"
                       % type(text).__name__)
    compact = re.sub(r"\s+", "", text).lower()
    if not _DURATION_RE.match(compact):
        raise _invalid(field, "%r is not a duration such as \"7d\", \"36h\", \"2w\" or "
                       "\"1d12h\" (units s, m, h, d, w)" % (text,), text)
    seconds = sum(int(number) * _DURATION_UNITS[unit]
                  for number, unit in _DURATION_PART_RE.findall(compact))
    if seconds <= 0:
        raise _invalid(field, "%r must be longer than zero" % (text,), text)
    return seconds


# -- the strategy -------------------------------------------------------------------------


def validate_cluster(cluster):
    """Raise BACKUP_STRATEGY_INVALID unless cluster can name a strategy record."""
    if not isinstance(cluster, str) or not _NAME_RE.match(cluster):
        raise _invalid("cluster", "%r is not a cluster name (1-200 characters from A-Z a-z 0-9 "
                       ". _ -, not starting with '.')" % (cluster,), cluster)


def normalize_strategy(cluster, weekdays, period, max_backups=None, max_age=None,
                       timezone="UTC"):
    """Validate a strategy and return its canonical record (see the module docstring).

    Raises TidbOpsError BACKUP_STRATEGY_INVALID naming the bad field.
    """
    validate_cluster(cluster)
    days = normalize_weekdays(weekdays)
    start, end = parse_period(period)
    if max_backups is not None and (not _is_int(max_backups) or max_backups < 1):
        raise _invalid("max_backups", "%r: keep at least 1 backup (leave max_backups unset to "
                       "keep any number)" % (max_backups,), max_backups)
    age = None
    if max_age is not None:
        parse_duration(max_age, "max_age")
        age = re.sub(r"\s+", "", max_age).lower()
    zone_text, _zone = parse_timezone(timezone if timezone is not None else "UTC")
    return {
        "id": cluster,
        "cluster": cluster,
        "weekdays": days,
        "period": format_period(start, end),
        "start_hour": start,
        "end_hour": end,
        "max_backups": max_backups,
        "max_age": age,
        "timezone": zone_text,
    }


def _strategy_hours(strategy):
    """(start_hour, end_hour, weekday indexes, tzinfo) of a stored strategy record."""
    try:
        start, end = parse_period(strategy.get("period") or
                                  format_period(strategy["start_hour"], strategy["end_hour"]))
        days = normalize_weekdays(strategy["weekdays"])
        _text, zone = parse_timezone(strategy.get("timezone") or "UTC")
    except (KeyError, TypeError) as exc:
        raise _invalid("strategy", "the strategy record lacks a field or has a wrong type (%s)"
                       % (exc,))
    return start, end, [WEEKDAYS.index(day) for day in days], zone


# -- time ---------------------------------------------------------------------------------


def parse_now(text=None):
    """An aware UTC datetime: now, or the ISO-8601 moment text (naive means UTC).

    Accepts "2026-11-23T02:30:00Z", "2026-11-23T02:30:00+08:00", "2026-11-23 02:30" and the
    like (also an aware or naive datetime). Raises INVALID_ARGUMENT when text cannot be read.
    """
    if text is None or (isinstance(text, str) and not text.strip()):
        return datetime.datetime.now(UTC)
    if isinstance(text, datetime.datetime):
        moment = text
    elif isinstance(text, str):
        value = text.strip()
        if value[-1:] in ("Z", "z"):
            value = value[:-1] + "+00:00"
        value = _ISO_OFFSET_RE.sub(r"\1:\2", value) if re.search(r"[T ]\d", value) else value
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise TidbOpsError("INVALID_ARGUMENT", "%r is not an ISO-8601 date and time such as "
                               "2026-11-23T02:30:00+00:00" % (text,), value=text)
    else:
        raise TidbOpsError("INVALID_ARGUMENT", "expected an ISO-8601 date and time, not %s"
                           % type(text).__name__)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _aware(moment):
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def window_id(start):
    """The id of the window starting at start: that instant in UTC, to the minute."""
    return start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M+00:00")


def current_window(strategy, now):
    """The window [start, end) containing now on a listed weekday, or None when not due.

    Weekdays and hours are read in the strategy's timezone. Returns
    {"id": start in UTC ("2026-11-23T02:00+00:00"), "start": iso, "end": iso}, start and
    end in the strategy's timezone. The id is the same for every moment of a window and
    differs between windows.
    """
    start_hour, end_hour, days, zone = _strategy_hours(strategy)
    if not isinstance(now, datetime.datetime):
        now = parse_now(now)
    local = _aware(now).astimezone(zone)
    if local.weekday() not in days or not start_hour <= local.hour < end_hour:
        return None
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight + datetime.timedelta(hours=start_hour)
    end = midnight + datetime.timedelta(hours=end_hour)
    return {"id": window_id(start), "start": start.isoformat(), "end": end.isoformat()}


# -- retention ----------------------------------------------------------------------------


def _record_time(record):
    value = record.get("start_time")
    if isinstance(value, datetime.datetime):
        return _aware(value).astimezone(UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse_now(value)
    except TidbOpsError:
        return None


def _status(record):
    return str(record.get("status") or "").strip().lower()


def retention_victims(auto_records, strategy, now):
    """The automatic backup records to delete, oldest first.

    - finished ones beyond the newest ``max_backups``, and those older than ``max_age``
      (by ``start_time``), but never the newest finished one;
    - failed or cancelled ones older than ``max_age`` (their leftover files);
    - never a record that is processing (or has any other status), never a manual one, never
      one whose ``start_time`` cannot be read, never another cluster's.
    """
    max_backups = strategy.get("max_backups")
    max_age = strategy.get("max_age")
    if max_backups is None and max_age is None:
        return []
    if max_backups is not None and (not _is_int(max_backups) or max_backups < 1):
        raise _invalid("max_backups", "%r: keep at least 1 backup" % (max_backups,), max_backups)
    if not isinstance(now, datetime.datetime):
        now = parse_now(now)
    cutoff = None
    if max_age is not None:
        cutoff = _aware(now).astimezone(UTC) - datetime.timedelta(
            seconds=parse_duration(max_age, "max_age"))
    cluster = strategy.get("cluster")

    finished, ended_badly = [], []
    for record in auto_records or []:
        if not isinstance(record, dict) or record.get("mode") != "auto":
            continue
        if cluster is not None and record.get("cluster") not in (None, cluster):
            continue
        moment = _record_time(record)
        if moment is None:
            continue
        status = _status(record)
        if status in FINISHED_STATUSES:
            finished.append((moment, str(record.get("id")), record))
        elif status in ENDED_BADLY_STATUSES:
            ended_badly.append((moment, str(record.get("id")), record))

    finished.sort(key=lambda item: (item[0], item[1]), reverse=True)  # newest first
    victims = []
    for position, item in enumerate(finished):
        if position == 0:
            continue  # the newest finished backup stays, whatever its age
        if (max_backups is not None and position >= max_backups) or \
                (cutoff is not None and item[0] < cutoff):
            victims.append(item)
    if cutoff is not None:
        victims.extend(item for item in ended_badly if item[0] < cutoff)
    victims.sort(key=lambda item: (item[0], item[1]))
    return [item[2] for item in victims]
