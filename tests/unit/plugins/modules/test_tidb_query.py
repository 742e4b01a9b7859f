"""tidb_query's notion of 'changed' and its conversion of SQL values."""
import datetime
import decimal

import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.modules.tidb_query import is_change, plain, statements


@pytest.mark.parametrize("statement, rowcount, warnings, changed", [
    ("INSERT IGNORE INTO t VALUES (1)", 0, [{"Code": 1062}], False),
    ("INSERT INTO t VALUES (1)", 1, [], True),
    ("UPDATE t SET a = 1 WHERE a = 1", 0, [], False),
    ("CREATE TABLE IF NOT EXISTS t (a INT)", 0, [{"Code": 1050}], False),
    ("CREATE TABLE IF NOT EXISTS t (a INT)", 0, [], True),
    ("DROP DATABASE IF EXISTS d", 0, [{"Code": 1008}], False),
    ("CREATE TABLE t (a INT)", 0, [{"Code": 1050}], True),  # no IF NOT EXISTS: it did run
    ("SET GLOBAL tidb_gc_life_time = '24h'", 0, [], True),
])
def test_is_change(statement, rowcount, warnings, changed):
    assert is_change(statement, rowcount, warnings) is changed


def test_plain_values():
    assert plain(decimal.Decimal("3")) == 3
    assert plain(decimal.Decimal("2.5")) == 2.5
    assert plain(datetime.date(2026, 1, 2)) == "2026-01-02"
    assert plain(b"x") == "x"
    assert plain(None) is None


def test_a_single_statement_is_never_split_on_commas():
    assert statements("SELECT COUNT(*), SUM(qty) FROM t") == ["SELECT COUNT(*), SUM(qty) FROM t"]
    assert statements(["SELECT 1", "SELECT 2"]) == ["SELECT 1", "SELECT 2"]


@pytest.mark.parametrize("query", [[], "", ["SELECT 1", 2], {"a": 1}, ["  "]])
def test_bad_queries_are_refused(query):
    with pytest.raises(TidbOpsError) as caught:
        statements(query)
    assert caught.value.code == "INVALID_ARGUMENT"


def test_placeholder_mismatch_is_a_clear_error():
    from ansible_collections.tidbops.manager.plugins.module_utils.tools.sql import run_sql

    class Cursor(object):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def execute(self, statement, args=None):
            return statement % args  # what PyMySQL does before sending

    class Connection(object):
        def cursor(self, *args):
            return Cursor()

    with pytest.raises(TidbOpsError) as caught:
        run_sql(Connection(), "GRANT ALL ON *.* TO 'ops'@'%'", ("pw",))
    assert caught.value.code == "INVALID_ARGUMENT" and "pw" not in caught.value.msg
