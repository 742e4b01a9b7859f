"""The TiDB SQL endpoint stand-in, through real clients against a real MariaDB."""
import json
import os
import socket
import struct
import threading
import time
import urllib.error
import urllib.request

import pymysql
import pytest

from tests.sandbox import procs
from tests.sandbox.tidb import godur, protocol, sqltext
from tests.sandbox.tidb.registry import Error, Forward, Registry, Rewrite

from .conftest import StandIn

SERVER_VERSION = "8.0.11-TiDB-v7.5.1"
GC_COMMENT = ("All versions within life time will not be collected by GC, at least 10m, "
              "in Go format.")


@pytest.fixture(scope="module")
def tidb(mariadb, sandbox_owner):
    standin = StandIn(mariadb, os.path.join(sandbox_owner, "tidb-shared"))
    yield standin
    assert standin.terminate() == 0


@pytest.fixture(autouse=True)
def reset_gc(mariadb):
    """Every test starts from TiDB's default GC life time."""
    yield
    with mariadb.admin_connect() as conn, conn.cursor() as cur:
        cur.execute("REPLACE INTO mysql.tidb VALUES ('tikv_gc_life_time', '10m0s', %s)",
                    (GC_COMMENT,))


def connect(standin, password="", **kw):
    return pymysql.connect(host="127.0.0.1", port=standin.port, user="root",
                           password=password, autocommit=True, **kw)


def run(conn, sql, args=None):
    """(column names, rows) of one statement."""
    with conn.cursor() as cur:
        cur.execute(sql, args)
        names = [d[0] for d in cur.description] if cur.description else None
        return names, cur.fetchall()


def value(conn, sql):
    return run(conn, sql)[1][0][0]


def sql_error(conn, sql):
    with pytest.raises(pymysql.MySQLError) as err:
        run(conn, sql)
    return err.value.args[0], err.value.args[1]


def status(standin, path="/status"):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (standin.status_port, path),
                                timeout=5) as resp:
        return resp.status, resp.headers["Content-Type"], json.loads(resp.read())


# -- identity -------------------------------------------------------------------------------

def test_greeting_is_tidbs_without_tls(tidb):
    with socket.create_connection(("127.0.0.1", tidb.port), timeout=5) as sock:
        seq, payload, dummy = protocol.PacketReader(sock).read()
    assert seq == 0 and payload[0] == 10
    version, rest = payload[1:].split(b"\0", 1)
    assert version.decode() == SERVER_VERSION
    caps_low = struct.unpack_from("<H", rest, 13)[0]
    assert not caps_low & protocol.CLIENT_SSL
    assert not caps_low & protocol.CLIENT_COMPRESS
    assert caps_low & protocol.CLIENT_PROTOCOL_41


def test_version_statements(tidb):
    with connect(tidb) as conn:
        assert conn.get_server_info() == SERVER_VERSION
        names, rows = run(conn, "SELECT VERSION(), @@version, @@global.version")
        assert names == ["VERSION()", "@@version", "@@global.version"]
        assert rows == ((SERVER_VERSION,) * 3,)
        names, rows = run(conn, "select tidb_version();")
        assert names == ["tidb_version()"]
        lines = rows[0][0].split("\n")
        assert lines[:2] == ["Release Version: v7.5.1", "Edition: Community"]
        assert lines[2].startswith("Git Commit Hash: ") and len(lines[2]) == 17 + 40
        assert [line.split(":")[0] for line in lines[3:]] == [
            "Git Branch", "UTC Build Time", "GoVersion", "Race Enabled",
            "Check Table Before Drop", "Store"]
        assert lines[-1] == "Store: tikv"
        assert value(conn, "SHOW VARIABLES LIKE 'version'") == "version"
        assert run(conn, "SHOW VARIABLES LIKE 'version'")[1] == (("version", SERVER_VERSION),)


def test_select_rewrite_keeps_the_rest_of_the_statement(tidb):
    with connect(tidb) as conn:
        names, rows = run(conn, "/* app */ SELECT 1 AS one, CONCAT('v=', version()) AS v, "
                                "'@@version', \"version()\", @@version_comment FROM dual")
        assert names == ["one", "v", "@@version", "version()", "@@version_comment"]
        assert rows == ((1, "v=" + SERVER_VERSION, "@@version", "version()",
                         "TiDB Server (Apache License 2.0) Community Edition, "
                         "MySQL 8.0 compatible"),)
        assert value(conn, "SELECT * FROM (SELECT @@version) AS t") == SERVER_VERSION


# -- pass-through ---------------------------------------------------------------------------

def test_rows_pass_through_to_mariadb(tidb, mariadb):
    with connect(tidb) as conn:
        run(conn, "CREATE DATABASE IF NOT EXISTS passthru")
        run(conn, "CREATE TABLE passthru.t (id INT PRIMARY KEY, name VARCHAR(20))")
        with conn.cursor() as cur:
            assert cur.executemany("INSERT INTO passthru.t VALUES (%s, %s)",
                                   [(1, "a"), (2, "b"), (3, "ü")]) == 3
        assert run(conn, "SELECT * FROM passthru.t ORDER BY id")[1] == (
            (1, "a"), (2, "b"), (3, "ü"))
    with mariadb.admin_connect() as conn:
        assert run(conn, "SELECT COUNT(*) FROM passthru.t")[1] == ((3,),)
        run(conn, "DROP DATABASE passthru")


def test_wrong_password_is_refused_by_mariadb(tidb):
    with pytest.raises(pymysql.err.OperationalError) as err:
        connect(tidb, password="wrong")
    assert err.value.args[0] == 1045


def test_error_answer_leaves_the_connection_usable(tidb):
    with connect(tidb) as conn:
        assert sql_error(conn, "SET GLOBAL tidb_gc_life_time = 'nope'")[0] == 1232
        assert value(conn, "SELECT 41 + 1") == 42
        assert sql_error(conn, "SELECT * FROM no_such_db.t")[0] == 1146


def test_multi_packet_query_is_forwarded(tidb):
    big = "x" * (17 * 1024 * 1024)  # more than one 16 MiB packet
    with connect(tidb) as conn:
        assert value(conn, "SELECT LENGTH(%s)" % sqltext.literal(big)) == len(big)


# -- tidb_gc_life_time ----------------------------------------------------------------------

def test_gc_life_time_reads(tidb):
    with connect(tidb) as conn:
        names, rows = run(conn, "SELECT @@global.tidb_gc_life_time, @@tidb_gc_life_time")
        assert names == ["@@global.tidb_gc_life_time", "@@tidb_gc_life_time"]
        assert rows == (("10m0s", "10m0s"),)
        expected = (("tidb_gc_life_time", "10m0s"),)
        assert run(conn, "SHOW VARIABLES LIKE 'tidb_gc_life_time'") == (
            ["Variable_name", "Value"], expected)
        assert run(conn, "show  global\nvariables like 'tidb_gc_life_time' ;")[1] == expected
        assert run(conn, "SHOW SESSION VARIABLES WHERE Variable_name = "
                         "'tidb_gc_life_time'")[1] == expected
        assert value(conn, "SELECT VARIABLE_VALUE FROM mysql.tidb "
                           "WHERE VARIABLE_NAME = 'tikv_gc_life_time'") == "10m0s"
        # A pattern naming none of TiDB's variables is MariaDB's business alone.
        assert run(conn, "SHOW VARIABLES LIKE 'max_allowed_packet'")[1] == (
            ("max_allowed_packet", str(64 * 1024 * 1024)),)


@pytest.mark.parametrize("given, stored", [
    ("24h", "24h0m0s"), ("90m", "1h30m0s"), ("1h30m", "1h30m0s"), ("720h", "720h0m0s"),
    ("10m", "10m0s"), ("8760h", "8760h0m0s")])
def test_gc_life_time_set_normalises(tidb, given, stored):
    with connect(tidb) as conn:
        run(conn, "SET GLOBAL tidb_gc_life_time = '%s'" % given)
        assert conn.show_warnings() == ()
        assert value(conn, "SELECT @@global.tidb_gc_life_time") == stored
        assert value(conn, "SELECT VARIABLE_VALUE FROM mysql.tidb "
                           "WHERE VARIABLE_NAME = 'tikv_gc_life_time'") == stored


def test_gc_life_time_set_forms(tidb):
    with connect(tidb) as conn:
        run(conn, "set @@GLOBAL.tidb_gc_life_time='2h';")
        assert value(conn, "SELECT @@tidb_gc_life_time") == "2h0m0s"
        run(conn, "SET GLOBAL tidb_gc_life_time = 3h")  # an unquoted word is a string
        assert value(conn, "SELECT @@tidb_gc_life_time") == "3h0m0s"
        run(conn, "SET GLOBAL tidb_gc_life_time = DEFAULT")
        assert value(conn, "SELECT @@tidb_gc_life_time") == "10m0s"


@pytest.mark.parametrize("given", ["1 h", "24", "abc", "", "1d", "h1"])
def test_gc_life_time_invalid_value(tidb, given):
    with connect(tidb) as conn:
        run(conn, "SET GLOBAL tidb_gc_life_time = '1h'")
        # TiDB's checkDurationSystemVar: ErrWrongTypeForVar (1232) for what Go cannot parse.
        assert sql_error(conn, "SET GLOBAL tidb_gc_life_time = '%s'" % given) == (
            1232, "Incorrect argument type to variable 'tidb_gc_life_time'")
        assert value(conn, "SELECT @@global.tidb_gc_life_time") == "1h0m0s"


@pytest.mark.parametrize("given, stored", [("5m", "10m0s"), ("-1h", "10m0s"),
                                           ("9000h", "8760h0m0s")])
def test_gc_life_time_out_of_range_is_clamped_with_warning(tidb, given, stored):
    with connect(tidb) as conn:
        run(conn, "SET GLOBAL tidb_gc_life_time = '%s'" % given)
        assert conn.show_warnings() == (
            ("Warning", 1292, "Truncated incorrect tidb_gc_life_time value: '%s'" % given),)
        assert value(conn, "SELECT @@global.tidb_gc_life_time") == stored


@pytest.mark.parametrize("statement", [
    "SET tidb_gc_life_time = '1h'", "SET SESSION tidb_gc_life_time = '1h'",
    "SET @@session.tidb_gc_life_time = '1h'", "SET @@tidb_gc_life_time = '1h'",
    "SET LOCAL tidb_gc_life_time = 'bad'"])
def test_gc_life_time_is_global_only(tidb, statement):
    with connect(tidb) as conn:
        assert sql_error(conn, statement) == (
            1229, "Variable 'tidb_gc_life_time' is a GLOBAL variable and should be set "
                  "with SET GLOBAL")
        assert sql_error(conn, "SELECT @@session.tidb_gc_life_time") == (
            1238, "Variable 'tidb_gc_life_time' is a GLOBAL variable")
        assert value(conn, "SELECT @@global.tidb_gc_life_time") == "10m0s"


def test_gc_life_time_old_style_table_update(tidb):
    with connect(tidb) as conn:
        run(conn, "UPDATE mysql.tidb SET VARIABLE_VALUE = '720h' "
                  "WHERE VARIABLE_NAME = 'tikv_gc_life_time'")
        assert value(conn, "SELECT VARIABLE_VALUE FROM mysql.tidb "
                           "WHERE VARIABLE_NAME = 'tikv_gc_life_time'") == "720h"
        # TiDB normalises what it reads from the table.
        assert value(conn, "SELECT @@global.tidb_gc_life_time") == "720h0m0s"


def test_gc_life_time_unsupported_forms_are_refused(tidb):
    with connect(tidb) as conn:
        errno, message = sql_error(conn, "SET GLOBAL tidb_gc_life_time = CONCAT('1', 'h')")
        assert errno == 1105 and "stand-in" in message
        errno, dummy = sql_error(conn, "SET GLOBAL max_connections = 100, "
                                       "tidb_gc_life_time = '1h'")
        assert errno == 1105
        assert value(conn, "SELECT @@global.tidb_gc_life_time") == "10m0s"


def test_gc_life_time_persists_across_restart(mariadb, start_standin):
    first = start_standin("tidb-restart-1")
    with connect(first) as conn:
        run(conn, "SET GLOBAL tidb_gc_life_time = '36h'")
    assert first.terminate() == 0
    second = start_standin("tidb-restart-2")
    with connect(second) as conn:
        assert value(conn, "SELECT @@global.tidb_gc_life_time") == "36h0m0s"
    assert second.terminate() == 0


# -- status, concurrency, shutdown ----------------------------------------------------------

@pytest.fixture
def clean_variables(mariadb):
    """TiDB's own variables back at their defaults after the test (the GLOBAL ones persist)."""
    yield
    with mariadb.admin_connect() as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS mysql.global_variables")


def test_variables_info_describes_each_variable_as_tidb_does(tidb, clean_variables):
    with connect(tidb) as conn:
        names, rows = run(conn, "SELECT * FROM INFORMATION_SCHEMA.VARIABLES_INFO WHERE VARIABLE_NAME IN "
                                "('tidb_mem_quota_query', 'tidb_txn_mode', 'tidb_enable_slow_log', 'version', "
                                "'low_priority_updates', 'tidb_gc_life_time') ORDER BY VARIABLE_NAME")
        assert names == ["VARIABLE_NAME", "VARIABLE_SCOPE", "DEFAULT_VALUE", "CURRENT_VALUE", "MIN_VALUE",
                         "MAX_VALUE", "POSSIBLE_VALUES", "IS_NOOP"]
        by_name = {row[0]: row[1:] for row in rows}
        assert by_name["tidb_mem_quota_query"] == ("SESSION,GLOBAL", "1073741824", "1073741824", -1, 2 ** 63 - 1,
                                                   None, "NO")
        assert by_name["tidb_txn_mode"][:2] == ("SESSION,GLOBAL", "pessimistic")
        assert by_name["tidb_txn_mode"][3:] == (None, None, "pessimistic,optimistic", "NO")
        assert by_name["tidb_enable_slow_log"][:3] == ("INSTANCE", "ON", "ON")
        assert by_name["version"][0] == "NONE" and by_name["tidb_gc_life_time"][0] == "GLOBAL"
        assert by_name["low_priority_updates"][-1] == "YES"
        # CURRENT_VALUE is the asking session's value
        run(conn, "SET SESSION tidb_mem_quota_query = 2048")
        assert value(conn, "SELECT CURRENT_VALUE FROM information_schema.variables_info v "
                           "WHERE v.VARIABLE_NAME = 'tidb_mem_quota_query'") == "2048"


def test_global_variables_are_validated_persisted_and_shared_session_ones_are_not(tidb, clean_variables):
    with connect(tidb) as conn, connect(tidb) as other:
        run(conn, "SET GLOBAL tidb_mem_quota_query = '536870912'")
        run(conn, "SET GLOBAL tidb_txn_mode = 'OPTIMISTIC'")
        run(conn, "SET @@global.low_priority_updates = 1")
        assert run(other, "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('tidb_mem_quota_query', 'tidb_txn_mode',"
                          " 'low_priority_updates')")[1] == (
            ("low_priority_updates", "ON"), ("tidb_mem_quota_query", "536870912"), ("tidb_txn_mode", "optimistic"))
        assert value(other, "SELECT VARIABLE_VALUE FROM mysql.global_variables "
                            "WHERE VARIABLE_NAME = 'tidb_mem_quota_query'") == "536870912"
        run(conn, "SET tidb_ddl_reorg_worker_cnt = 8")  # this session only
        assert run(conn, "SELECT @@tidb_ddl_reorg_worker_cnt, @@global.tidb_ddl_reorg_worker_cnt")[1] == (("8", "4"),)
        assert value(other, "SELECT @@tidb_ddl_reorg_worker_cnt") == "4"
        # out of range: clamped with TiDB's warning; wrong type, wrong value, wrong scope refused
        run(conn, "SET GLOBAL tidb_ddl_reorg_worker_cnt = 1000")
        assert conn.show_warnings() == (("Warning", 1292, "Truncated incorrect tidb_ddl_reorg_worker_cnt value: '1000'"),)
        assert value(conn, "SELECT @@global.tidb_ddl_reorg_worker_cnt") == "256"
        assert sql_error(conn, "SET GLOBAL tidb_mem_quota_query = 'lots'") == (
            1232, "Incorrect argument type to variable 'tidb_mem_quota_query'")
        assert sql_error(conn, "SET GLOBAL tidb_txn_mode = 'eventual'") == (
            1231, "Variable 'tidb_txn_mode' can't be set to the value of 'eventual'")
        assert sql_error(conn, "SET tidb_enable_slow_log = OFF") == (
            1229, "Variable 'tidb_enable_slow_log' is a GLOBAL variable and should be set with SET GLOBAL")
        assert sql_error(conn, "SET GLOBAL version = 'x'")[0] == 1238
        # INSTANCE: this TiDB's own, not persisted
        run(conn, "SET GLOBAL tidb_enable_slow_log = OFF")
        assert value(other, "SELECT @@global.tidb_enable_slow_log") == "OFF"
        assert value(conn, "SELECT COUNT(*) FROM mysql.global_variables WHERE VARIABLE_NAME = 'tidb_enable_slow_log'") == 0
        run(conn, "SET GLOBAL tidb_enable_slow_log = DEFAULT")


def test_status_endpoint_counts_connections(tidb):
    code, content_type, body = status(tidb)
    assert code == 200 and content_type == "application/json"
    assert body["version"] == SERVER_VERSION
    assert len(body["git_hash"]) == 40 and int(body["git_hash"], 16) >= 0
    baseline = body["connections"]
    conns = [connect(tidb), connect(tidb)]
    assert status(tidb)[2]["connections"] == baseline + 2
    for conn in conns:
        conn.close()
    assert procs.wait_until(lambda: status(tidb)[2]["connections"] == baseline, 5)
    with pytest.raises(urllib.error.HTTPError) as err:
        status(tidb, "/metrics-nope")
    assert err.value.code == 404


def test_connections_are_independent_and_concurrent(tidb):
    with connect(tidb) as slow, connect(tidb) as fast:
        assert slow.thread_id() != fast.thread_id()
        assert value(slow, "SELECT CONNECTION_ID()") == slow.thread_id()
        assert value(slow, "SELECT GET_LOCK('sandbox-lock', 0)") == 1
        assert value(fast, "SELECT GET_LOCK('sandbox-lock', 0)") == 0
        done = threading.Event()
        thread = threading.Thread(target=lambda: (run(slow, "SELECT SLEEP(1)"), done.set()))
        thread.start()
        started = time.monotonic()
        assert value(fast, "SELECT @@global.tidb_gc_life_time") == "10m0s"
        assert value(fast, "SELECT 1") == 1
        assert time.monotonic() - started < 0.8 and not done.is_set()
        thread.join(5)
        assert done.is_set()


def test_sigterm_closes_connections_and_exits_cleanly(start_standin):
    standin = start_standin("tidb-sigterm")
    conn = connect(standin)
    assert value(conn, "SELECT 1") == 1
    assert standin.terminate() == 0
    with pytest.raises(pymysql.err.OperationalError):
        run(conn, "SELECT 1")
    assert not procs.port_open(standin.port) and not procs.port_open(standin.status_port)
    assert procs.owned_pids(standin.owner) == []
    assert "shutting down" in standin.log()


def test_bad_version_is_refused(start_standin):
    with pytest.raises(RuntimeError) as err:
        start_standin("tidb-badversion", version="7.5.1")
    assert "v7.5.1" in str(err.value)


# -- pure pieces ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, nanos, printed", [
    ("24h", 24 * godur.HOUR, "24h0m0s"), ("1.5h", 90 * godur.MINUTE, "1h30m0s"),
    (".5m", 30 * godur.SECOND, "30s"), ("1h2m3.5s", 3723500 * godur.MILLISECOND, "1h2m3.5s"),
    ("300ms", 300 * godur.MILLISECOND, "300ms"), ("2us", 2000, "2\u00b5s"), ("0", 0, "0s"),
    ("-90s", -90 * godur.SECOND, "-1m30s"), ("+1m", godur.MINUTE, "1m0s")])
def test_go_durations(text, nanos, printed):
    assert godur.parse(text) == nanos
    assert godur.format(nanos) == printed


@pytest.mark.parametrize("text", ["", "1", "h", ".h", "1 h", "1d", "1e3h", "-",
                                  "9999999999999999999h"])
def test_go_duration_errors(text):
    with pytest.raises(ValueError):
        godur.parse(text)


def test_registry_matching_rules():
    registry = Registry()
    seen = []
    registry.register(r"KILL\s+TIDB\s+QUERY\s+(?P<id>\d+)",
                      lambda ctx, m: seen.append(m.group("id")) or Error(1, "HY000", "x"))
    registry.register(r"SELECT\b.*", lambda ctx, m: None, priority=90)
    registry.register(r"SELECT\s+1", lambda ctx, m: Rewrite("SELECT 2"), priority=95)
    registry.register(r"SHOW\s+BACKUPS", lambda ctx, m: Forward())
    assert isinstance(registry.dispatch(None, " -- c\n/* x */ kill  tidb\tQUERY 7 ;"), Error)
    assert seen == ["7"]
    assert registry.dispatch(None, "KILL TIDB QUERY 7 8") is None
    # A handler returning None lets later (lower-priority) patterns try.
    assert registry.dispatch(None, "select 1").sql == "SELECT 2"
    assert isinstance(registry.dispatch(None, "SHOW BACKUPS"), Forward)
    assert registry.dispatch(None, "INSERT INTO t VALUES (1)") is None


def test_like_matching():
    assert sqltext.like_matches("tidb_gc%", "tidb_gc_life_time")
    assert sqltext.like_matches("TIDB_GC_LIFE_TIME", "tidb_gc_life_time")
    assert not sqltext.like_matches("tidb\\_gc", "tidbxgc")
    assert sqltext.like_matches("tidb_gc", "tidbxgc")
