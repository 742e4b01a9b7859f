"""Result sets a handler computes itself, answered through MariaDB (registry.Rewrite).

    Rewrite(select_literals([("Id", UINT), ("Destination", STR)], [(1, "s3://b/p")]))

produces one SELECT of literals (UNION ALL for several rows, an always-false WHERE for
none) whose column names and types are TiDB's: unsigned BIGINT for TiDB's LONGLONG
columns (TiDB's buildColumnWithName marks them unsigned), DOUBLE, DATETIME, VARCHAR.
A filter (SHOW ... LIKE/WHERE) can wrap it as a derived table.

DATETIME literals may be TiDB's zero time '0000-00-00 00:00:00' (SHOW BACKUPS' Finish_time
of a running task); the sandbox's sql_mode has NO_ZERO_DATE, so such statements run under
SET STATEMENT sql_mode='' FOR ... (MariaDB), which returns the zero value as TiDB does.
"""
from tests.sandbox.tidb import sqltext

STR, INT, UINT, DOUBLE, DATETIME = "str", "int", "uint", "double", "datetime"
ZERO_DATETIME = "0000-00-00 00:00:00"


def _value(kind, value):
    if value is None:
        return {STR: "CAST(NULL AS CHAR)", INT: "CAST(NULL AS SIGNED)", UINT: "CAST(NULL AS UNSIGNED)",
                DOUBLE: "CAST(NULL AS DOUBLE)", DATETIME: "CAST(NULL AS DATETIME)"}[kind]
    if kind == STR:
        return sqltext.literal(str(value))
    if kind == UINT:
        # '| 0' makes the column BIGINT UNSIGNED whatever the value's width (TiDB: LONGLONG).
        return "(CAST(%d AS UNSIGNED) | 0)" % int(value)
    if kind == INT:
        return "CAST(%d AS SIGNED)" % int(value)
    if kind == DOUBLE:
        return "CAST(%r AS DOUBLE)" % float(value)
    return "CAST(%s AS DATETIME)" % sqltext.literal(str(value))


def select_literals(columns, rows):
    """SQL for a result set with these (name, kind) columns and rows."""
    def item(kind, value, name):
        return "%s AS %s" % (_value(kind, value), sqltext.identifier(name))

    if not rows:
        body = "SELECT " + ", ".join(item(k, None, n) for n, k in columns) + " FROM DUAL WHERE 0"
    else:
        parts = []
        for row in rows:
            parts.append("SELECT " + ", ".join(item(k, v, n) for (n, k), v in zip(columns, row)))
        body = " UNION ALL ".join(parts)
    return body


def statement(sql, columns):
    """sql made safe for zero DATETIME values when any column is a DATETIME."""
    if any(kind == DATETIME for dummy, kind in columns):
        return "SET STATEMENT sql_mode='' FOR " + sql
    return sql


def rewrite_sql(columns, rows, condition=None):
    """The full statement: the literals, filtered by condition (SQL over the columns)."""
    sql = select_literals(columns, rows)
    if condition:
        names = ", ".join(sqltext.identifier(n) for n, dummy in columns)
        sql = "SELECT %s FROM (%s) AS `t` WHERE %s" % (names, sql, condition)
    return statement(sql, columns)


# Words that may follow a table reference that has no alias.
_AFTER_TABLE = {"WHERE", "ORDER", "GROUP", "HAVING", "LIMIT", "JOIN", "INNER", "LEFT", "RIGHT", "CROSS",
                "NATURAL", "STRAIGHT_JOIN", "UNION", "ON", "USING", "FOR", "LOCK", "WINDOW", "EXCEPT",
                "INTERSECT", "INTO"}


def table_references(sql, schema, table):
    """(start, end, aliased) of every schema.table in sql (names case-insensitive, backquoted or not)."""
    toks = sqltext.tokens(sql)

    def name(tok):
        return tok.text.strip("`").lower() if tok.kind in ("word", "quoted") else None

    for i in range(len(toks) - 2):
        if name(toks[i]) == schema and toks[i + 1].text == "." and name(toks[i + 2]) == table:
            following = toks[i + 3] if i + 3 < len(toks) else None
            aliased = following is not None and (
                following.kind == "quoted" or following.kind == "word" and following.text.upper() not in _AFTER_TABLE)
            yield toks[i].start, toks[i + 2].end, aliased


def replace_table(sql, references, columns, rows, alias):
    """sql with each reference (table_references) replaced by a derived table of these rows,
    named alias unless the statement names it itself: a memory table TiDB builds per query."""
    table = "(%s)" % select_literals(columns, rows)
    for start, end, aliased in reversed(references):
        sql = sql[:start] + table + ("" if aliased else " AS " + alias) + sql[end:]
    return sql
