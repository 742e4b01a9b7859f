"""Accounts and grants as TiDB shows and takes them, over MariaDB's own accounts.

The cluster's accounts are MariaDB accounts (the client logs in to MariaDB through the
proxy), so passwords, plugins, locks and static privileges are MariaDB's. What TiDB does
differently is answered here:

- SHOW CREATE USER prints TiDB's text (pkg/executor/show.go fetchShowCreateUser):
  ``CREATE USER 'u'@'h' IDENTIFIED WITH 'plugin' AS 'hash' REQUIRE NONE PASSWORD EXPIRE
  DEFAULT ACCOUNT UNLOCK``, and from v6.5.0 (password policies) ``PASSWORD HISTORY DEFAULT
  PASSWORD REUSE INTERVAL DEFAULT`` after it; an unknown account is 1396.
- CREATE/ALTER USER take TiDB's clauses MariaDB lacks: ``PASSWORD HISTORY DEFAULT`` and
  ``PASSWORD REUSE INTERVAL DEFAULT`` from v6.5.0 (a syntax error before, as in TiDB), and
  MySQL 8's ``IDENTIFIED WITH 'plugin' BY 'password'``.
- Dynamic privileges (pkg/privilege/privileges/privileges.go dynamicPrivs) live in
  mysql.global_grants (USER, HOST, PRIV, WITH_GRANT_OPTION), as in TiDB: GRANT writes them
  (only ON *.*: 3619 otherwise; an unregistered name is 3929), REVOKE deletes them (an
  unregistered name is only a warning there), ALL ON *.* grants and revokes every one, and
  DROP USER removes them. A GRANT to an account that does not exist is 1410 (TiDB's
  NO_AUTO_CREATE_USER), where MariaDB would say 1133.
- SHOW GRANTS FOR prints TiDB's lines (pkg/privilege/privileges/cache_grants.go showGrants):
  accounts quoted 'u'@'h', privileges upper-case joined by ',' in TiDB's order, the global
  line, then database lines and table lines (each sorted), then the dynamic privileges on
  one line (and the grantable ones on another, WITH GRANT OPTION); no password in them.

Not here: roles (MariaDB's have no host), the CONFIG, CREATE ROLE and DROP ROLE privileges
(MariaDB has none: refused as unsupported), caching_sha2_password and tidb_sm3_password
(MariaDB has neither plugin: MariaDB's own error).
"""
import json
import re

import pymysql

from tests.sandbox.tidb import resultset
from tests.sandbox.tidb.registry import Ok, Rewrite, SqlError, statement, unsupported

# pkg/privilege/privileges/privileges.go dynamicPrivs (v7.5)
DYNAMIC = ("BACKUP_ADMIN", "RESTORE_ADMIN", "SYSTEM_USER", "SYSTEM_VARIABLES_ADMIN", "ROLE_ADMIN",
           "CONNECTION_ADMIN", "PLACEMENT_ADMIN", "DASHBOARD_CLIENT", "RESTRICTED_TABLES_ADMIN",
           "RESTRICTED_STATUS_ADMIN", "RESTRICTED_VARIABLES_ADMIN", "RESTRICTED_USER_ADMIN",
           "RESTRICTED_CONNECTION_ADMIN", "RESTRICTED_REPLICA_WRITER_ADMIN", "RESOURCE_GROUP_ADMIN")

# The static privileges in the order TiDB prints them (pkg/parser/mysql/privs.go AllGlobalPrivs).
ORDER = ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "PROCESS", "REFERENCES", "ALTER",
         "SHOW DATABASES", "SUPER", "EXECUTE", "INDEX", "CREATE USER", "CREATE TABLESPACE", "TRIGGER",
         "CREATE VIEW", "SHOW VIEW", "CREATE ROLE", "DROP ROLE", "CREATE TEMPORARY TABLES", "LOCK TABLES",
         "CREATE ROUTINE", "ALTER ROUTINE", "EVENT", "SHUTDOWN", "RELOAD", "FILE", "CONFIG",
         "REPLICATION CLIENT", "REPLICATION SLAVE")
STATIC = set(ORDER) | {"ALL", "ALL PRIVILEGES", "USAGE", "GRANT OPTION"}
NOT_IN_MARIADB = {"CONFIG", "CREATE ROLE", "DROP ROLE"}
# MariaDB's names for TiDB's (10.5+ calls REPLICATION CLIENT "BINLOG MONITOR").
FROM_MARIADB = {"BINLOG MONITOR": "REPLICATION CLIENT"}

POLICY_VERSION = (6, 5, 0)  # password history and reuse interval (TiDB v6.5.0)

_NAME = r"(?:'(?:[^'\\]|\\.|'')*'|`(?:[^`]|``)*`|\"(?:[^\"\\]|\\.|\"\")*\"|[\w.$%-]+)"
ACCOUNT = r"%s(?:\s*@\s*%s)?" % (_NAME, _NAME)
_POLICY_RE = re.compile(r"\s+PASSWORD\s+(?:HISTORY|REUSE\s+INTERVAL)\s+DEFAULT\b", re.I)


def release(version):
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def _unquote_name(text):
    text = text.strip()
    if text[:1] in "'\"`" and text[-1:] == text[:1]:
        quote = text[0]
        return text[1:-1].replace(quote * 2, quote).replace("\\" + quote, quote)
    return text


def parse_account(text):
    """"'u'@'h'", "u@h", "`u`", "u" -> (user, host); the host is '%' when none is given."""
    match = re.fullmatch(r"\s*(%s)(?:\s*@\s*(%s))?\s*" % (_NAME, _NAME), text, re.S)
    if not match:
        raise SqlError(1064, "42000", "You have an error in your SQL syntax near '%s'" % text.strip())
    return _unquote_name(match.group(1)), _unquote_name(match.group(2)) if match.group(2) else "%"


def split_list(text):
    """Comma-separated items outside quotes and parentheses."""
    items, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [item.strip() for item in items if item.strip()]


def quoted(user, host):
    return "'%s'@'%s'" % (user, host)


def _account_row(ctx, user, host):
    with ctx.admin().cursor() as cur:
        cur.execute("SELECT Priv FROM mysql.global_priv WHERE User = %s AND Host = %s", (user, host))
        row = cur.fetchone()
    return json.loads(row[0]) if row else None


# ---------------------------------------------------------------------------------------
# SHOW CREATE USER


@statement(r"SHOW\s+CREATE\s+USER\s+(?P<account>%s)" % ACCOUNT)
def show_create_user(ctx, m):
    user, host = parse_account(m.group("account"))
    priv = _account_row(ctx, user, host)
    if priv is None:
        raise SqlError(1396, "HY000", "Operation SHOW CREATE USER failed for %s" % quoted(user, host))
    text = "CREATE USER %s IDENTIFIED WITH '%s' AS '%s' REQUIRE NONE PASSWORD EXPIRE DEFAULT ACCOUNT %s" % (
        quoted(user, host), priv.get("plugin") or "mysql_native_password", priv.get("authentication_string", ""),
        "LOCK" if priv.get("account_locked") else "UNLOCK")
    if release(ctx.version) >= POLICY_VERSION:
        text += " PASSWORD HISTORY DEFAULT PASSWORD REUSE INTERVAL DEFAULT"
    return Rewrite(resultset.select_literals([("CREATE USER for %s@%s" % (user, host), resultset.STR)], [(text,)]))


# ---------------------------------------------------------------------------------------
# CREATE USER / ALTER USER: TiDB's password-policy clauses


_WITH_BY_RE = re.compile(r"IDENTIFIED\s+WITH\s+('[^']*'|\"[^\"]*\"|`[^`]*`|\w+)\s+BY\s+(%s)"
                         % r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"", re.I | re.S)


@statement(r"(?:CREATE|ALTER)\s+USER\b.*")
def create_or_alter_user(ctx, m):
    text = m.group(0).rstrip().rstrip(";")
    if _POLICY_RE.search(text):
        if release(ctx.version) < POLICY_VERSION:
            return None  # MariaDB's syntax error, as TiDB before v6.5 gives
        text = _POLICY_RE.sub("", text)
        if re.search(r"\bPASSWORD\s+(?:HISTORY|REUSE\s+INTERVAL)\b", text, re.I):
            raise unsupported("only PASSWORD HISTORY DEFAULT and PASSWORD REUSE INTERVAL DEFAULT are taken")
    # MySQL 8's IDENTIFIED WITH plugin BY 'password' is MariaDB's IDENTIFIED VIA plugin USING PASSWORD('...')
    text = _WITH_BY_RE.sub(lambda w: "IDENTIFIED VIA %s USING PASSWORD(%s)" % (_unquote_name(w.group(1)), w.group(2)),
                           text)
    return None if text == m.group(0).rstrip().rstrip(";") else Rewrite(text)


# ---------------------------------------------------------------------------------------
# GRANT / REVOKE


def _privileges(text):
    """[upper-case privilege names] of a GRANT/REVOKE list; None when it has column lists."""
    if "(" in text:
        return None
    return [re.sub(r"\s+", " ", item).upper() for item in split_list(text)]


def _level(text):
    parts = [_unquote_name(p) for p in re.findall(r"`(?:[^`]|``)*`|[^.`]+", text.strip())]
    return ".".join(parts)


def _accounts(text):
    return [parse_account(item) for item in split_list(text)]


@statement(r"GRANT\s+(?P<privs>.+?)\s+ON\s+(?:TABLE\s+)?(?P<level>\S+)\s+TO\s+(?P<to>.+?)"
           r"(?P<option>\s+WITH\s+GRANT\s+OPTION)?")
def grant(ctx, m):
    privileges = _privileges(m.group("privs"))
    if privileges is None or re.search(r"\b(?:IDENTIFIED|REQUIRE)\b", m.group("to"), re.I):
        return None  # column privileges, GRANT ... IDENTIFIED: MariaDB answers
    level = _level(m.group("level"))
    dynamic = [p for p in privileges if p not in STATIC]
    for name in dynamic:  # TiDB checks the level, then the name (executor/grant.go grantDynamicPriv)
        if level != "*.*":
            raise SqlError(3619, "HY000", "Illegal privilege level specified for %s" % name)
        if name not in DYNAMIC:
            raise SqlError(3929, "HY000", "Dynamic privilege '%s' is not registered with the server." % name)
    missing = set(privileges) & NOT_IN_MARIADB
    if missing:
        raise unsupported("the %s privilege is not emulated" % ", ".join(sorted(missing)))
    accounts = _accounts(m.group("to"))
    for user, host in accounts:
        if _account_row(ctx, user, host) is None:
            raise SqlError(1410, "42000", "You are not allowed to create a user with GRANT")
    if level == "*.*" and {"ALL", "ALL PRIVILEGES"} & set(privileges):
        dynamic = list(DYNAMIC)
    option = "Y" if m.group("option") else "N"
    with ctx.admin().cursor() as cur:
        for user, host in accounts:
            for name in dynamic:
                cur.execute("REPLACE INTO mysql.global_grants (USER, HOST, PRIV, WITH_GRANT_OPTION)"
                            " VALUES (%s, %s, %s, %s)", (user, host, name, option))
    static = [p for p in privileges if p in STATIC]
    if not static:
        return Ok()
    return Rewrite("GRANT %s ON %s TO %s%s" % (", ".join(static), m.group("level"), m.group("to"), m.group("option") or ""))


def _delete_dynamic(ctx, accounts, names=None):
    with ctx.admin().cursor() as cur:
        for user, host in accounts:
            if names is None:
                cur.execute("DELETE FROM mysql.global_grants WHERE USER = %s AND HOST = %s", (user, host))
            for name in names or ():
                cur.execute("DELETE FROM mysql.global_grants WHERE USER = %s AND HOST = %s AND PRIV = %s",
                            (user, host, name))


@statement(r"REVOKE\s+(?P<privs>.+?)\s+ON\s+(?:TABLE\s+)?(?P<level>\S+)\s+FROM\s+(?P<accounts>.+)")
def revoke(ctx, m):
    privileges = _privileges(m.group("privs"))
    if privileges is None:
        return None
    level = _level(m.group("level"))
    dynamic = [p for p in privileges if p not in STATIC]
    if dynamic and level != "*.*":
        raise SqlError(3619, "HY000", "Illegal privilege level specified for %s" % dynamic[0])
    accounts = _accounts(m.group("accounts"))
    for user, host in accounts:
        if _account_row(ctx, user, host) is None:
            raise SqlError(1141, "42000", "There is no such grant defined for user '%s' on host '%s'" % (user, host))
    everything = level == "*.*" and {"ALL", "ALL PRIVILEGES"} & set(privileges)
    _delete_dynamic(ctx, accounts, None if everything else dynamic)
    unknown = [p for p in dynamic if p not in DYNAMIC]
    static = [p for p in privileges if p in STATIC]
    if not static:
        warning = (3929, "Dynamic privilege '%s' is not registered with the server." % unknown[0]) if unknown else None
        return Ok(warning=warning)
    return Rewrite("REVOKE %s ON %s FROM %s" % (", ".join(static), m.group("level"), m.group("accounts")))


@statement(r"REVOKE\s+ALL(?:\s+PRIVILEGES)?\s*,\s*GRANT\s+OPTION\s+FROM\s+(?P<accounts>.+)")
def revoke_everything(ctx, m):
    _delete_dynamic(ctx, _accounts(m.group("accounts")))


@statement(r"DROP\s+USER\s+(?:IF\s+EXISTS\s+)?(?P<accounts>.+)")
def drop_user(ctx, m):
    _delete_dynamic(ctx, _accounts(m.group("accounts")))  # then MariaDB drops the accounts


# ---------------------------------------------------------------------------------------
# SHOW GRANTS FOR

_MARIADB_GRANT_RE = re.compile(
    r"GRANT (?P<privs>.+?) ON (?P<level>\S+) TO `(?P<user>(?:[^`]|``)*)`@`(?P<host>(?:[^`]|``)*)`"
    r"(?: IDENTIFIED (?:BY PASSWORD|VIA|WITH) .*?)?(?P<option> WITH GRANT OPTION)?$")


def _tidb_privileges(text):
    names = [FROM_MARIADB.get(p.strip().upper(), p.strip().upper()) for p in split_list(text)]
    known = [n for n in ORDER if n in names]
    return ",".join(known + [n for n in names if n not in ORDER])


@statement(r"SHOW\s+GRANTS\s+FOR\s+(?P<account>%s)" % ACCOUNT)
def show_grants(ctx, m):
    user, host = parse_account(m.group("account"))
    with ctx.admin().cursor() as cur:
        try:
            cur.execute("SHOW GRANTS FOR %s@%s", (user, host))
        except pymysql.MySQLError as exc:
            errno = exc.args[0] if exc.args else 1105
            raise SqlError(errno, "42000", exc.args[-1] if exc.args else str(exc)) from None
        lines = [row[0] for row in cur.fetchall()]
        cur.execute("SELECT PRIV, WITH_GRANT_OPTION FROM mysql.global_grants WHERE USER = %s AND HOST = %s",
                    (user, host))
        dynamic = cur.fetchall()
    account = quoted(user, host)
    glob, dbs, tables = [], [], []
    for line in lines:
        match = _MARIADB_GRANT_RE.match(line)
        if not match or match.group("privs").upper() == "PROXY":
            continue  # roles and PROXY: not TiDB's
        option = " WITH GRANT OPTION" if match.group("option") else ""
        text = "GRANT %s ON %s TO %s%s" % (_tidb_privileges(match.group("privs")), match.group("level"), account, option)
        level = match.group("level")
        (glob if level == "*.*" else dbs if level.endswith(".*") else tables).append(text)
    rows = glob + sorted(dbs) + sorted(tables)
    plain = sorted(p for p, o in dynamic if o != "Y")
    grantable = sorted(p for p, o in dynamic if o == "Y")
    if plain:
        rows.append("GRANT %s ON *.* TO %s" % (",".join(plain), account))
    if grantable:
        rows.append("GRANT %s ON *.* TO %s WITH GRANT OPTION" % (",".join(grantable), account))
    return Rewrite(resultset.select_literals([("Grants for %s@%s" % (user, host), resultset.STR)],
                                             [(r,) for r in rows]))
