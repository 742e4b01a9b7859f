"""What BR does with the accounts of the mysql schema (facts: pingcap/tidb
br/pkg/restore/snap_client/systable_restore.go, br/pkg/task/restore.go; docs
br/br-snapshot-guide.md, br/br-system-tables.md).

- A full backup (BACKUP DATABASE *) takes the privilege tables with the data.
- RESTORE DATABASE * brings them back when WITH_SYS_TABLE is on: its default is on from v7.6.0
  (release notes 7.6.0, tidb#48567) and off before. BR merges them with REPLACE INTO
  mysql.<table> keyed on the account, so an account of the backup replaces the target's account
  of the same name (root@% included, password and all), accounts only the target has stay, and
  then it flushes privileges.
- mysql.tidb and mysql.global_variables are never backed up for restore: system variables do
  not come over.

The sandbox's privilege tables are MariaDB's (global_priv holds an account's plugin, hash and
lock; db, tables_priv and columns_priv its grants) plus TiDB's global_grants; each is backed
up and merged row by row as BR does with TiDB's. MariaDB's own accounts that a TiDB does not
have (root@localhost, the sandbox's admin login, and mariadb.sys) are left out.
"""
import re

from tests.sandbox.tidb.tables import text

# (table, user column, host column)
TABLES = (("global_priv", "User", "Host"), ("db", "User", "Host"), ("tables_priv", "User", "Host"),
          ("columns_priv", "User", "Host"), ("global_grants", "USER", "HOST"))
NOT_TIDBS = (("root", "localhost"), ("mariadb.sys", "localhost"))
RESTORED_BY_DEFAULT_FROM = (7, 6, 0)


def _exclusion(user, host):
    return " AND ".join("NOT (`%s` = '%s' AND `%s` = '%s')" % (user, u, host, h) for u, h in NOT_TIDBS)


def dump(conn):
    """{table: {"columns": [...], "rows": [[text or None]]}} of the privilege tables."""
    found = {}
    with conn.cursor() as cur:
        for table, user, host in TABLES:
            cur.execute("SELECT * FROM mysql.`%s` WHERE %s" % (table, _exclusion(user, host)))
            found[table] = {"columns": [d[0] for d in cur.description],
                            "rows": [[text(v) for v in row] for row in cur.fetchall()]}
    return found


def restore(conn, saved):
    """REPLACE INTO each privilege table what the backup holds, then FLUSH PRIVILEGES."""
    with conn.cursor() as cur:
        for table, _user, _host in TABLES:
            part = saved.get(table)
            if not part or not part["rows"]:
                continue
            sql = "REPLACE INTO mysql.`%s` (%s) VALUES (%s)" % (
                table, ", ".join("`%s`" % c for c in part["columns"]), ", ".join(["%s"] * len(part["columns"])))
            cur.executemany(sql, [tuple(row) for row in part["rows"]])
        cur.execute("FLUSH PRIVILEGES")


def restores_accounts(options, version):
    """RESTORE's WITH_SYS_TABLE: as given, else on from v7.6.0."""
    if "WITH_SYS_TABLE" in options:
        return bool(options["WITH_SYS_TABLE"])
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3]) >= RESTORED_BY_DEFAULT_FROM
