"""The sandbox's migration source: one MariaDB writing a ROW binlog, with an account for DM
(the privileges DM's precheck asks for) and an admin account for tests to write rows.

Passwords are random per `up`; both accounts are (re)set every time the server starts.
"""
import secrets

from tests.sandbox.mariadb import BINLOG_OPTIONS, MariaDB

DM_USER = "dm_user"
ADMIN_USER = "root"
SERVER_ID = 101
# dump (SELECT, RELOAD, LOCK TABLES for consistency=lock, SHOW VIEW) and replication
# (REPLICATION SLAVE, REPLICATION CLIENT, which MariaDB 10.5+ calls BINLOG MONITOR)
DM_PRIVILEGES = "SELECT, RELOAD, LOCK TABLES, SHOW VIEW, PROCESS, REPLICATION SLAVE, BINLOG MONITOR"


def server(basedir, port, owner):
    return MariaDB(basedir, port, owner, extra_options=BINLOG_OPTIONS + ["--server-id=%d" % SERVER_ID])


def start(basedir, port, owner):
    """Start (initialising when needed) and set the accounts; returns env.json's upstream_mysql."""
    db = server(basedir, port, owner)
    db.initialize()
    db.start()
    password, admin_password = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    with db.admin_connect() as conn, conn.cursor() as cur:
        # (PyMySQL formats the statement with %: the host wildcard is written %%)
        cur.execute("CREATE USER IF NOT EXISTS '" + DM_USER + "'@'%%' IDENTIFIED BY %s", (password,))
        cur.execute("ALTER USER '" + DM_USER + "'@'%%' IDENTIFIED BY %s", (password,))
        cur.execute("GRANT " + DM_PRIVILEGES + " ON *.* TO '" + DM_USER + "'@'%'")
        cur.execute("ALTER USER '" + ADMIN_USER + "'@'%%' IDENTIFIED BY %s", (admin_password,))
    return {"host": "127.0.0.1", "port": db.port, "user": DM_USER, "password": password,
            "admin_user": ADMIN_USER, "admin_password": admin_password, "socket": db.socket_path,
            "server_id": SERVER_ID}
