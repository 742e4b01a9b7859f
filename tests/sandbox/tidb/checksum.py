"""ADMIN CHECKSUM TABLE t[, db.t2 ...], and the table checksum BACKUP/RESTORE share.

TiDB xors a CRC64 (ECMA) over every key-value pair of the table and its indexes, so the
result does not depend on row order. The stand-in cannot see TiKV's KV encoding; it xors a
CRC64-ECMA of each row's canonical encoding (tables.encode_row: the values as MariaDB's
text protocol gives them, each tagged and length-prefixed), which has the property that
matters: two clusters holding the same rows answer the same checksum, whatever order the
rows were written in. Identical rows (possible without a unique key) are told apart by
their occurrence number, so they do not cancel out.

Total_kvs is TiDB's count: one KV per row plus one per index entry (an integer primary key
is the row handle, not an index). Total_bytes is the encoded size plus an estimated key
size per KV (TiDB's record keys are 19 bytes); it is an approximation of TiDB's figure.

Columns (pkg/planner/core/planbuilder.go buildChecksumTableSchema): Db_name, Table_name,
Checksum_crc64_xor, Total_kvs, Total_bytes. An unknown table fails with TiDB's 1146.
"""
import collections

from tests.sandbox.tidb import resultset, sqltext, tables
from tests.sandbox.tidb.registry import Rewrite, statement

KEY_BYTES = 19
_MASK = 0xFFFFFFFFFFFFFFFF
_POLY = 0xC96C5795D7870F42  # ECMA-182, reflected (Go's crc64.ECMA)


def _make_table():
    table = []
    for i in range(256):
        crc = i
        for dummy in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _make_table()


def crc64(data, crc=0):
    """Go's crc64.Update(crc, crc64.MakeTable(crc64.ECMA), data)."""
    crc ^= _MASK
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ _MASK


class Accumulator:
    """Checksum of a stream of rows of one table."""

    def __init__(self, info):
        self.info = info
        self.xor = 0
        self.rows = 0
        self.bytes = 0
        self._seen = None if info.has_unique_key else collections.Counter()

    def add(self, rows):
        for row in rows:
            data = tables.encode_row(row)
            crc = crc64(data)
            if self._seen is not None:
                count = self._seen[crc]
                self._seen[crc] = count + 1
                if count:
                    crc = crc64(b"#%d" % count, crc)
            self.xor ^= crc
            self.rows += 1
            self.bytes += len(data)

    def result(self):
        kvs = self.rows * (1 + self.info.index_count)
        total_bytes = self.bytes + kvs * KEY_BYTES + self.rows * self.info.index_count * 8
        return {"crc64_xor": self.xor, "total_kvs": kvs, "total_bytes": total_bytes}


def table_checksum(conn, info, cancelled=None):
    """{'crc64_xor', 'total_kvs', 'total_bytes'} of a table (conn from data_connection)."""
    acc = Accumulator(info)
    for rows in tables.stream_rows(conn, info):
        acc.add(rows)
        if cancelled is not None and cancelled():
            return None
    return acc.result()


def parse_table_list(text):
    """[(db or None, name)] from 'a, db.b, `c`'; None when it is not a table list."""
    toks = sqltext.tokens(text)
    out, i = [], 0
    while i < len(toks):
        parts = []
        while True:
            if i >= len(toks) or toks[i].kind not in ("word", "quoted"):
                return None
            parts.append(_ident(toks[i]))
            i += 1
            if i < len(toks) and toks[i].text == ".":
                i += 1
                continue
            break
        if len(parts) > 2:
            return None
        out.append((parts[0], parts[1]) if len(parts) == 2 else (None, parts[0]))
        if i < len(toks):
            if toks[i].text != ",":
                return None
            i += 1
            if i >= len(toks):
                return None
    return out or None


def _ident(tok):
    if tok.kind == "quoted":
        return tok.text[1:-1].replace("``", "`")
    return tok.text


COLUMNS = [("Db_name", resultset.STR), ("Table_name", resultset.STR),
           ("Checksum_crc64_xor", resultset.UINT), ("Total_kvs", resultset.UINT),
           ("Total_bytes", resultset.UINT)]


@statement(r"ADMIN\s+CHECKSUM\s+TABLE\s+(?P<tables>.+)")
def admin_checksum_table(ctx, m):
    names = parse_table_list(m.group("tables"))
    if names is None:
        return None  # not ours to judge: MariaDB answers with a syntax error
    current_db = None
    if any(db is None for db, dummy in names):
        current_db = tables.client_session(ctx)[0]
        if not current_db:
            raise tables.no_database_error()
    conn = tables.data_connection(ctx)
    try:
        rows = []
        for db, name in names:
            db = db or current_db
            found = tables.find_table(conn, db, name)
            if found is None:
                raise tables.table_missing_error(db, name)
            info = tables.table_info(conn, *found)
            result = table_checksum(conn, info)
            rows.append((found[0], found[1], result["crc64_xor"], result["total_kvs"],
                         result["total_bytes"]))
    finally:
        conn.close()
    return Rewrite(resultset.rewrite_sql(COLUMNS, rows))


def _selftest():
    # Go: crc64.Checksum([]byte("123456789"), crc64.MakeTable(crc64.ECMA))
    if crc64(b"123456789") != 0x995DC9BBDF1939FA:
        raise AssertionError("crc64 is not ECMA")


_selftest()
