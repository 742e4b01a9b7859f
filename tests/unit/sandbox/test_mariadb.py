"""The sandbox's MariaDB: a real server set up to look like a fresh TiDB's storage."""
import os
import signal
import socket

import pymysql
import pytest

from tests.sandbox import mariadb as mariadb_module
from tests.sandbox import procs
from tests.sandbox.mariadb import MariaDB, MariaDBError


def tcp_connect(db, password="", **kw):
    return pymysql.connect(host="127.0.0.1", port=db.port, user="root", password=password,
                           autocommit=True, **kw)


def query(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def test_tcp_root_is_tidbs_default_account(mariadb):
    with tcp_connect(mariadb) as conn:
        assert query(conn, "SELECT CURRENT_USER()") == (("root@%",),)
        plugin = query(conn, "SELECT plugin FROM mysql.user WHERE User='root' AND Host='%'")
        assert plugin == (("mysql_native_password",),)


def test_only_root_accounts_and_the_system_one_exist(mariadb):
    with mariadb.admin_connect() as conn:
        accounts = set(query(conn, "SELECT User, Host FROM mysql.user"))
    # No root@127.0.0.1 or root@<hostname>: they would shadow root@'%' for TCP clients.
    assert accounts == {("root", "%"), ("root", "localhost"), ("mariadb.sys", "localhost")}


def test_mysql_tidb_holds_gc_life_time(mariadb):
    with mariadb.admin_connect() as conn:
        rows = query(conn, "SELECT VARIABLE_NAME, VARIABLE_VALUE, COMMENT FROM mysql.tidb")
    assert rows == (("tikv_gc_life_time", "10m0s",
                     "All versions within life time will not be collected by GC, "
                     "at least 10m, in Go format."),)


def test_admin_socket_survives_tcp_password_change(mariadb):
    with tcp_connect(mariadb) as conn:
        query(conn, "ALTER USER 'root'@'%' IDENTIFIED BY 'n3w-secret'")
    try:
        with pytest.raises(pymysql.err.OperationalError) as err:
            tcp_connect(mariadb)
        assert err.value.args[0] == 1045
        with mariadb.admin_connect() as conn:
            assert query(conn, "SELECT CURRENT_USER()") == (("root@localhost",),)
    finally:
        with mariadb.admin_connect() as conn:
            query(conn, "ALTER USER 'root'@'%' IDENTIFIED BY ''")
    tcp_connect(mariadb).close()


def test_server_settings(mariadb):
    with mariadb.admin_connect() as conn:
        (row,) = query(conn, "SELECT @@log_bin, @@skip_name_resolve, "
                             "@@innodb_buffer_pool_size, @@collation_server, @@bind_address")
    assert row == (0, 1, 32 * 1024 * 1024, "utf8mb4_bin", "127.0.0.1")


def test_initialize_and_start_are_idempotent(mariadb):
    marker = os.path.join(mariadb.basedir, ".initialized")
    before = os.stat(marker).st_mtime_ns
    mariadb.initialize()
    assert os.stat(marker).st_mtime_ns == before
    pid = mariadb._server_pid()  # pylint: disable=protected-access
    mariadb.start()
    assert mariadb._server_pid() == pid  # pylint: disable=protected-access


def test_lifecycle_keeps_data(tmp_path):
    owner = str(tmp_path)
    db = MariaDB(tmp_path / "db", procs.free_port(), owner)
    assert not db.initialized() and not db.running()
    db.stop()  # not running: no-op
    db.initialize()
    assert db.initialized()
    # the datadir is a copy of the one installed template, not a new install of its own
    template = mariadb_module._template_datadir()  # pylint: disable=protected-access
    assert sorted(os.listdir(db.datadir)) == sorted(os.listdir(template))
    try:
        db.start()
        assert db.running()
        with db.admin_connect() as conn:
            query(conn, "CREATE DATABASE keep")
            query(conn, "CREATE TABLE keep.t (id INT PRIMARY KEY)")
            query(conn, "INSERT INTO keep.t VALUES (1), (2)")
        db.stop()
        assert not db.running()
        assert not os.path.exists(db.socket_path)
        assert procs.owned_pids(owner) == []
        db.start()
        with tcp_connect(db) as conn:
            assert query(conn, "SELECT COUNT(*) FROM keep.t") == ((2,),)
    finally:
        db.stop()
    assert procs.owned_pids(owner) == []


def test_a_killed_server_is_revived_with_its_cause(tmp_path):
    """What the unit suite's watch does for its session server (tests/unit/sandbox/conftest.py)."""
    from tests.unit.sandbox.conftest import revive
    db = MariaDB(tmp_path / "db", procs.free_port(), str(tmp_path))
    db.initialize()
    try:
        db.start()
        assert revive(db) is None
        os.kill(db._server_pid(), signal.SIGKILL)  # pylint: disable=protected-access
        assert procs.wait_until(lambda: not db.running(), 10)
        why = revive(db)
        assert "killed by signal 9" in why and "Its log ended with" in why
        with tcp_connect(db) as conn:
            assert query(conn, "SELECT 1") == ((1,),)
    finally:
        db.stop()
    assert procs.owned_pids(str(tmp_path)) == []


def test_start_failure_reports_the_log(tmp_path):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    try:
        db = MariaDB(tmp_path / "db", blocker.getsockname()[1], str(tmp_path))
        db.initialize()
        with pytest.raises(MariaDBError) as err:
            db.start(timeout=15)
        assert "mariadbd" in str(err.value) and "port" in str(err.value).lower()
        assert not db.running()
    finally:
        blocker.close()
    assert procs.owned_pids(str(tmp_path)) == []


def test_start_requires_initialize(tmp_path):
    with pytest.raises(MariaDBError):
        MariaDB(tmp_path / "db", procs.free_port(), str(tmp_path)).start()


def test_socket_path_stays_short():
    short = MariaDB("/tmp/x", 1, "/tmp")
    assert short.socket_path == "/tmp/x/mysqld.sock"
    long_dir = "/tmp/" + "d" * 120
    path = MariaDB(long_dir, 1, "/tmp").socket_path
    assert path.startswith("/tmp/tidbops-sock-") and path.endswith(".sock")
    assert len(path) < 100
    assert path == MariaDB(long_dir, 2, "/tmp").socket_path  # stable per basedir
    assert path != MariaDB(long_dir + "e", 1, "/tmp").socket_path
