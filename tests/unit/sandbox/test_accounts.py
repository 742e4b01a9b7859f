"""The TiDB stand-in's accounts: SHOW CREATE USER and SHOW GRANTS in TiDB's text, dynamic
privileges in mysql.global_grants, TiDB's error numbers, and hashes that replay on another server."""
import hashlib

import pymysql
import pytest

from tests.sandbox.tidb.accounts import DYNAMIC

# mysql_native_password's hash of 'secret': '*' + SHA1(SHA1(password)) in upper-case hex
NATIVE_HASH = "*" + hashlib.sha1(hashlib.sha1(b"secret").digest()).hexdigest().upper()
POLICY = " PASSWORD HISTORY DEFAULT PASSWORD REUSE INTERVAL DEFAULT"


def connect(standin, user="root", password=""):
    return pymysql.connect(host="127.0.0.1", port=standin.port, user=user, password=password, autocommit=True)


def rows(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return [d[0] for d in cur.description], [r[0] for r in cur.fetchall()]


def fails(conn, sql):
    with pytest.raises(pymysql.MySQLError) as err:
        with conn.cursor() as cur:
            cur.execute(sql)
    return err.value.args[0], err.value.args[1]


@pytest.fixture
def tidb_conn(start_standin, mariadb):
    standin = start_standin()
    conn = connect(standin)
    yield standin, conn
    conn.close()
    with mariadb.admin_connect() as admin, admin.cursor() as cur:
        cur.execute("SELECT User, Host FROM mysql.user WHERE User LIKE 'acct%%'")
        for user, host in cur.fetchall():
            cur.execute("DROP USER %s@%s", (user, host))
        cur.execute("DELETE FROM mysql.global_grants")


def test_show_create_user_is_tidbs_text_and_replays_the_hash(tidb_conn, start_standin):
    standin, conn = tidb_conn
    with conn.cursor() as cur:
        cur.execute("CREATE USER 'acct1'@'%' IDENTIFIED BY 'secret'")
    names, text = rows(conn, "SHOW CREATE USER 'acct1'@'%'")
    assert names == ["CREATE USER for acct1@%"]
    assert text == ["CREATE USER 'acct1'@'%' IDENTIFIED WITH 'mysql_native_password' AS '" + NATIVE_HASH
                    + "' REQUIRE NONE PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK" + POLICY]
    # replayed under another name (TiDB's own text, policy clauses included), the password logs in
    with conn.cursor() as cur:
        cur.execute(text[0].replace("'acct1'", "'acct2'", 1))
        cur.execute("ALTER USER acct1 ACCOUNT LOCK")
    connect(standin, "acct2", "secret").close()
    assert rows(conn, "SHOW CREATE USER acct1")[1][0].endswith("ACCOUNT LOCK" + POLICY)
    assert fails(conn, "SHOW CREATE USER 'acct9'@'%'") == (1396, "Operation SHOW CREATE USER failed for 'acct9'@'%'")

    old = connect(start_standin("old", version="v6.1.0"))
    try:
        assert rows(old, "SHOW CREATE USER acct2")[1][0].endswith("PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK")
        assert fails(old, "CREATE USER acct3 IDENTIFIED BY 'x' PASSWORD HISTORY DEFAULT")[0] == 1064
    finally:
        old.close()


def test_grants_static_and_dynamic_in_tidbs_lines(tidb_conn, mariadb):
    _standin, conn = tidb_conn
    with conn.cursor() as cur:
        cur.execute("CREATE USER acct1 IDENTIFIED BY 'secret'")
        cur.execute("CREATE DATABASE IF NOT EXISTS shop")
        cur.execute("CREATE TABLE IF NOT EXISTS shop.items (id INT PRIMARY KEY)")
        cur.execute("GRANT insert, Select ON shop.* TO acct1")
        cur.execute("GRANT SELECT ON shop.items TO 'acct1'@'%' WITH GRANT OPTION")
        cur.execute("GRANT RESTORE_ADMIN, backup_admin, PROCESS ON *.* TO acct1")
        cur.execute("GRANT SYSTEM_VARIABLES_ADMIN ON *.* TO acct1 WITH GRANT OPTION")
    names, lines = rows(conn, "SHOW GRANTS FOR acct1")
    assert names == ["Grants for acct1@%"]
    assert lines == ["GRANT PROCESS ON *.* TO 'acct1'@'%'",
                     "GRANT SELECT,INSERT ON `shop`.* TO 'acct1'@'%'",
                     "GRANT SELECT ON `shop`.`items` TO 'acct1'@'%' WITH GRANT OPTION",
                     "GRANT BACKUP_ADMIN,RESTORE_ADMIN ON *.* TO 'acct1'@'%'",
                     "GRANT SYSTEM_VARIABLES_ADMIN ON *.* TO 'acct1'@'%' WITH GRANT OPTION"]
    with mariadb.admin_connect() as admin, admin.cursor() as cur:
        cur.execute("SELECT PRIV, WITH_GRANT_OPTION FROM mysql.global_grants WHERE USER = 'acct1' ORDER BY PRIV")
        assert cur.fetchall() == (("BACKUP_ADMIN", "N"), ("RESTORE_ADMIN", "N"), ("SYSTEM_VARIABLES_ADMIN", "Y"))

    assert fails(conn, "GRANT BACKUP_ADMIN ON shop.* TO acct1") == (3619, "Illegal privilege level specified for BACKUP_ADMIN")
    assert fails(conn, "GRANT NO_SUCH_ADMIN ON *.* TO acct1") == (
        3929, "Dynamic privilege 'NO_SUCH_ADMIN' is not registered with the server.")
    assert fails(conn, "GRANT SELECT ON *.* TO acct9") == (1410, "You are not allowed to create a user with GRANT")
    assert fails(conn, "SHOW GRANTS FOR acct9") == (1141, "There is no such grant defined for user 'acct9' on host '%'")

    with conn.cursor() as cur:
        cur.execute("REVOKE BACKUP_ADMIN, INSERT ON *.* FROM acct1")  # INSERT on *.* was never granted: MariaDB's word
    assert rows(conn, "SHOW GRANTS FOR acct1")[1][3] == "GRANT RESTORE_ADMIN ON *.* TO 'acct1'@'%'"
    with conn.cursor() as cur:
        cur.execute("REVOKE NO_SUCH_ADMIN ON *.* FROM acct1")
        cur.execute("SHOW WARNINGS")
        assert cur.fetchall()[0][1] == 3929
        cur.execute("GRANT ALL ON *.* TO acct1")
    lines = rows(conn, "SHOW GRANTS FOR acct1")[1]
    assert lines[0] == "GRANT ALL PRIVILEGES ON *.* TO 'acct1'@'%'" and lines[-1] == "GRANT %s ON *.* TO 'acct1'@'%%'" % ",".join(sorted(DYNAMIC))
    with conn.cursor() as cur:
        cur.execute("DROP USER acct1")
    with mariadb.admin_connect() as admin, admin.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM mysql.global_grants WHERE USER = 'acct1'")
        assert cur.fetchone() == (0,)
