"""A sandbox cluster's change stream: its MariaDB's ROW binlog, read as transactions, and the
SQL that applies a row change elsewhere.

TiKV's change data capture hands TiCDC every committed change with its commit TSO. The
sandbox's equivalent is the cluster MariaDB's binlog (written with full row images and column
names, mariadb.BINLOG_OPTIONS), tied to TSOs by the marks of tidb/tso.py: BACKUP marks its
BackupTS with the binlog position of its consistent snapshot, TIDB_CURRENT_TSO() with the
position at the call, so "the changes committed after TSO T" are the binlog transactions after
T's mark. The DM stand-in (migration from the upstream MariaDB) and the TiCDC stand-in
(changefeeds between clusters) both read the binlog through this module.
"""
import bisect
import random

from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.event import QueryEvent, RotateEvent, XidEvent
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

ROW_EVENTS = (WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent)
ROW_KINDS = {WriteRowsEvent: "insert", UpdateRowsEvent: "update", DeleteRowsEvent: "delete"}


def master_position(cur):
    """(file, pos) the binlog ends at now, or None when the server writes none."""
    cur.execute("SHOW MASTER STATUS")
    row = cur.fetchone()
    return (row[0], int(row[1])) if row else None


def consistent_snapshot(cur):
    """Start a read-only consistent snapshot; (file, pos) of the binlog it corresponds to
    (MariaDB reports it for exactly this snapshot), or None without a binlog."""
    cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
    cur.execute("SHOW STATUS LIKE 'binlog_snapshot_%'")
    status = {str(k).lower(): v for k, v in cur.fetchall()}
    name = status.get("binlog_snapshot_file") or ""
    if isinstance(name, bytes):
        name = name.decode()
    if not name:
        return None
    return (name, int(status.get("binlog_snapshot_position") or 0))


def marked_position(marks, tso):
    """The position of the latest mark at or before tso, or None when every mark is later."""
    index = bisect.bisect_right([m[0] for m in marks], tso)
    return marks[index - 1][1] if index else None


def first_position(cur):
    cur.execute("SHOW BINARY LOGS")
    rows = cur.fetchall()
    return (rows[0][0], 4) if rows else None


def position_at_time(settings, start, seconds):
    """The position of the first transaction written at or after Unix time seconds (binlog
    events carry whole seconds), reading from start; None when there is none yet."""
    boundary = start
    stream = _stream(settings, start, [QueryEvent, XidEvent, RotateEvent])
    try:
        for event in stream:
            if event.timestamp and event.timestamp >= int(seconds) and not isinstance(event, RotateEvent):
                return boundary
            if isinstance(event, XidEvent) or (isinstance(event, QueryEvent) and event.query != "BEGIN"):
                boundary = (stream.log_file, stream.log_pos)
    finally:
        stream.close()
    return None


def _stream(settings, start, events):
    return BinLogStreamReader(connection_settings=settings, server_id=random.randint(100000, 2 ** 31 - 1),
                              log_file=start[0], log_pos=int(start[1]), resume_stream=True, blocking=False,
                              only_events=events)


class Transaction(object):
    """One committed unit of the binlog: row events of one transaction, or one DDL."""

    def __init__(self):
        self.rows = []      # row events, in order
        self.ddl = None     # (schema, query) of a DDL
        self.end = None     # (file, pos) after it
        self.timestamp = 0


def transactions(settings, start, until):
    """The transactions from position start up to position until (inclusive of a
    transaction that ends exactly there), in commit order."""
    stream = _stream(settings, start, [WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent, QueryEvent,
                                       XidEvent, RotateEvent])
    current = Transaction()
    try:
        for event in stream:
            if isinstance(event, RotateEvent):
                continue
            if isinstance(event, ROW_EVENTS):
                current.rows.append(event)
                current.timestamp = current.timestamp or event.timestamp
                continue
            if isinstance(event, QueryEvent) and event.query == "BEGIN":
                continue
            here = (stream.log_file, stream.log_pos)
            if here > tuple(until):
                break
            if isinstance(event, QueryEvent) and event.query != "COMMIT":
                schema = event.schema.decode() if isinstance(event.schema, bytes) else (event.schema or "")
                current.ddl = (schema, event.query)
            current.end = here
            current.timestamp = current.timestamp or event.timestamp
            yield current
            current = Transaction()
    finally:
        stream.close()


# ---- applying a row change -------------------------------------------------------------------

def quote(name):
    return "`%s`" % str(name).replace("`", "``")


def primary_key(event):
    keys = getattr(event, "primary_key", None) or ()
    return [keys] if isinstance(keys, str) else list(keys)  # one column comes as a bare name


def where(values, keys):
    cols = [k for k in keys or () if k in values] or list(values)
    return " AND ".join("%s <=> %%s" % quote(c) for c in cols), [values[c] for c in cols]


def write_row(cur, target, values, verb):
    cur.execute("%s INTO %s (%s) VALUES (%s)" % (verb, target, ", ".join(quote(c) for c in values),
                                                 ", ".join(["%s"] * len(values))), list(values.values()))


def delete_row(cur, target, values, keys):
    clause, args = where(values, keys)
    cur.execute("DELETE FROM %s WHERE %s LIMIT 1" % (target, clause), args)


def update_row(cur, target, before, after, keys):
    clause, args = where(before, keys)
    cur.execute("UPDATE %s SET %s WHERE %s LIMIT 1" % (target, ", ".join("%s = %%s" % quote(c) for c in after),
                                                       clause), list(after.values()) + args)


def apply_rows(cur, target, event, safe):
    """One row event on target (a quoted table name). In safe mode an insert is a REPLACE and
    an update a delete plus a REPLACE, so applying a change twice leaves the same rows."""
    kind = ROW_KINDS[type(event)]
    keys = primary_key(event)
    for row in event.rows:
        if kind == "insert":
            write_row(cur, target, row["values"], "REPLACE" if safe else "INSERT")
        elif kind == "delete":
            delete_row(cur, target, row["values"], keys)
        elif safe:
            delete_row(cur, target, row["before_values"], keys)
            write_row(cur, target, row["after_values"], "REPLACE")
        else:
            update_row(cur, target, row["before_values"], row["after_values"], keys)
