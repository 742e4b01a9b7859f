"""Tables as the TiDB stand-in's handlers see them: names (case-insensitive, like TiDB's),
metadata, and rows in a canonical form shared by ADMIN CHECKSUM and BACKUP/RESTORE.

Rows are read on a separate admin connection that returns every value as MariaDB's text
protocol sends it, undecoded: str for character columns, bytes for everything else
(numbers, temporal values, binary strings, BIT). That form is canonical for a schema (the
same rows give the same values on any cluster), round-trips through INSERT (bytes go back
as _binary literals, str as character literals) and is what the checksum is taken over.
TIMESTAMP values are read and written with time_zone '+00:00', so they do not depend on a
client's time zone.
"""
import struct

import pymysql
import pymysql.converters
import pymysql.cursors

from tests.sandbox.tidb.registry import SqlError

# TiDB's memory and system schemas, plus MariaDB's own; BACKUP DATABASE * skips them.
SYSTEM_SCHEMAS = ("mysql", "information_schema", "performance_schema", "metrics_schema",
                  "sys")

# Encoders only: parameters are still escaped, but no result value is converted.
RAW_CONV = {k: v for k, v in pymysql.converters.conversions.items() if not isinstance(k, int)}

NULL_TAG, BYTES_TAG, STR_TAG = b"\x00", b"\x01", b"\x02"


def text(value):
    """A value read through RAW_CONV as text (bytes decoded, invalid UTF-8 kept as surrogates)."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "surrogateescape")
    return value


def quote(name):
    return "`" + name.replace("`", "``") + "`"


def qualified(db, name):
    return "%s.%s" % (quote(db), quote(name))


def data_connection(ctx):
    """A new admin connection for reading or writing rows in canonical form."""
    conn = ctx.admin_connect(conv=RAW_CONV)
    with conn.cursor() as cur:
        cur.execute("SET SESSION time_zone = '+00:00'")
    return conn


def client_session(ctx):
    """(current database or None, user) of the client's own MariaDB connection."""
    with ctx.admin().cursor() as cur:
        cur.execute("SELECT DB, USER FROM information_schema.PROCESSLIST WHERE ID = %s",
                    (ctx.conn_id,))
        row = cur.fetchone()
    if not row:
        return None, None
    return row[0], row[1]


def find_table(conn, db, name):
    """(db, name) as stored, matched case-insensitively (exact case first); None if absent.

    Only base tables and views count as tables (as TiDB's infoschema does)."""
    with conn.cursor() as cur:
        cur.execute("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES"
                    " WHERE LOWER(TABLE_SCHEMA) = LOWER(%s) AND LOWER(TABLE_NAME) = LOWER(%s)",
                    (db, name))
        rows = [tuple(_text(v) for v in r) for r in cur.fetchall()]
    if not rows:
        return None
    for row in rows:
        if row == (db, name):
            return row
    return sorted(rows)[0]


def find_database(conn, db):
    with conn.cursor() as cur:
        cur.execute("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
                    " WHERE LOWER(SCHEMA_NAME) = LOWER(%s)", (db,))
        rows = sorted(_text(r[0]) for r in cur.fetchall())
    if not rows:
        return None
    return db if db in rows else rows[0]


def list_databases(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
        return sorted(_text(r[0]) for r in cur.fetchall())


def list_base_tables(conn, db):
    with conn.cursor() as cur:
        cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES"
                    " WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE'", (db,))
        return sorted(_text(r[0]) for r in cur.fetchall())


def _text(value):
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "surrogateescape")
    return value


class TableInfo:
    """What the handlers need of one table."""

    def __init__(self, db, name, columns, generated, create_sql, index_count,
                 has_unique_key):
        self.db = db
        self.name = name
        self.columns = columns            # every column, in order
        self.generated = generated        # names of generated columns (not inserted)
        self.create_sql = create_sql      # SHOW CREATE TABLE
        self.index_count = index_count    # index KVs per row, as TiDB would store them
        self.has_unique_key = has_unique_key

    @property
    def insert_columns(self):
        return [c for c in self.columns if c not in self.generated]

    def key(self):
        return "%s.%s" % (self.db, self.name)


def table_info(conn, db, name):
    with conn.cursor() as cur:
        cur.execute("SELECT COLUMN_NAME, IS_GENERATED, DATA_TYPE FROM information_schema.COLUMNS"
                    " WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
                    (db, name))
        cols = [tuple(_text(v) for v in r) for r in cur.fetchall()]
        cur.execute("SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, NULLABLE"
                    " FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s"
                    " AND TABLE_NAME = %s ORDER BY INDEX_NAME, SEQ_IN_INDEX", (db, name))
        stats = [tuple(_text(v) for v in r) for r in cur.fetchall()]
        cur.execute("SHOW CREATE TABLE %s" % qualified(db, name))
        create_sql = _text(cur.fetchone()[1])
    types = {c[0]: c[2].lower() for c in cols}
    indexes = {}
    for index_name, non_unique, column, nullable in stats:
        entry = indexes.setdefault(index_name, {"unique": str(non_unique) == "0",
                                                "columns": [], "nullable": False})
        entry["columns"].append(column)
        entry["nullable"] = entry["nullable"] or nullable == "YES"
    index_count = len(indexes)
    primary = indexes.get("PRIMARY")
    if primary and len(primary["columns"]) == 1 and types.get(primary["columns"][0]) in (
            "tinyint", "smallint", "mediumint", "int", "bigint"):
        index_count -= 1  # an integer primary key is TiDB's row handle, not an index
    has_unique = any(i["unique"] and not i["nullable"] for i in indexes.values())
    return TableInfo(db, name, [c[0] for c in cols],
                     {c[0] for c in cols if c[1] == "ALWAYS"}, create_sql, index_count,
                     has_unique)


def stream_rows(conn, info, batch=1000):
    """Yield lists of rows (tuples of None/str/bytes) of the table, in storage order."""
    sql = "SELECT %s FROM %s" % (", ".join(quote(c) for c in info.columns),
                                 qualified(info.db, info.name))
    cur = conn.cursor(pymysql.cursors.SSCursor)
    try:
        cur.execute(sql)
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                return
            yield rows
    finally:
        cur.close()


def encode_row(row):
    """The canonical encoding of a row: per value a tag, and a length and the bytes."""
    out = []
    for value in row:
        if value is None:
            out.append(NULL_TAG)
        elif isinstance(value, str):
            data = value.encode("utf-8", "surrogateescape")
            out.append(STR_TAG + struct.pack(">I", len(data)) + data)
        else:
            data = bytes(value)
            out.append(BYTES_TAG + struct.pack(">I", len(data)) + data)
    return b"".join(out)


def decode_rows(data, column_count):
    """Inverse of b''.join(encode_row(r) for r in rows)."""
    rows, pos, end = [], 0, len(data)
    while pos < end:
        row = []
        for dummy in range(column_count):
            tag = data[pos:pos + 1]
            pos += 1
            if tag == NULL_TAG:
                row.append(None)
                continue
            (size,) = struct.unpack_from(">I", data, pos)
            pos += 4
            raw = data[pos:pos + size]
            pos += size
            row.append(raw.decode("utf-8", "surrogateescape") if tag == STR_TAG else raw)
        rows.append(tuple(row))
    return rows


def no_database_error():
    return SqlError(1046, "3D000", "No database selected")


def table_missing_error(db, name):
    return SqlError(1146, "42S02", "Table '%s.%s' doesn't exist" % (db, name))
