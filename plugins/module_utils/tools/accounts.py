# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TiDB accounts: what one is (SHOW CREATE USER), what it may do (SHOW GRANTS FOR), and the
statements that make it what is declared.

An account is read as ``dict(plugin, hash, locked, privileges)``, privileges being
``{level: set of privilege names}`` with levels written ``*.*``, ``db.*`` or ``db.table``
(no backquotes) and ``GRANT OPTION`` as one of the names of the levels that have it. TiDB
prints dynamic privileges (BACKUP_ADMIN, ...) on lines of their own; they are merged into
``*.*``, the only level they exist at.

Passwords are bound as statement parameters, never formatted into the text; a hash read from
SHOW CREATE USER is replayed with ``IDENTIFIED WITH 'plugin' AS 'hash'``, so copying an account
never needs its password.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import re

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.sql import run_sql

NATIVE = "mysql_native_password"
# TiDB's authentication plugins (docs security-compatibility-with-mysql.md).
PLUGINS = (NATIVE, "caching_sha2_password", "tidb_sm3_password", "auth_socket", "tidb_auth_token",
           "authentication_ldap_sasl", "authentication_ldap_simple")

# TiDB's static privileges (pkg/parser/mysql/privs.go) and its registered dynamic ones
# (pkg/privilege/privileges/privileges.go dynamicPrivs).
STATIC = ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "PROCESS", "REFERENCES", "ALTER",
          "SHOW DATABASES", "SUPER", "EXECUTE", "INDEX", "CREATE USER", "CREATE TABLESPACE", "TRIGGER",
          "CREATE VIEW", "SHOW VIEW", "CREATE ROLE", "DROP ROLE", "CREATE TEMPORARY TABLES", "LOCK TABLES",
          "CREATE ROUTINE", "ALTER ROUTINE", "EVENT", "SHUTDOWN", "RELOAD", "FILE", "CONFIG",
          "REPLICATION CLIENT", "REPLICATION SLAVE")
DYNAMIC = ("BACKUP_ADMIN", "RESTORE_ADMIN", "SYSTEM_USER", "SYSTEM_VARIABLES_ADMIN", "ROLE_ADMIN",
           "CONNECTION_ADMIN", "PLACEMENT_ADMIN", "DASHBOARD_CLIENT", "RESTRICTED_TABLES_ADMIN",
           "RESTRICTED_STATUS_ADMIN", "RESTRICTED_VARIABLES_ADMIN", "RESTRICTED_USER_ADMIN",
           "RESTRICTED_CONNECTION_ADMIN", "RESTRICTED_REPLICA_WRITER_ADMIN", "RESOURCE_GROUP_ADMIN")
ALL = "ALL PRIVILEGES"
OPTION = "GRANT OPTION"
GLOBAL = "*.*"

_NAME = r"(?:`(?:[^`]|``)*`|[^.`\s]+)"
_LEVEL_RE = re.compile(r"^(\*|%s)\.(\*|%s)$" % (_NAME, _NAME))
_CREATE_RE = re.compile(r"IDENTIFIED WITH '(?P<plugin>[^']*)'(?: AS '(?P<hash>(?:[^']|'')*)')?.*?"
                        r"ACCOUNT (?P<lock>LOCK|UNLOCK)", re.S)
_GRANT_RE = re.compile(r"^GRANT (?P<privs>.+?) ON (?P<level>\S+) TO '(?:[^']|'')*'@'(?:[^']|'')*'"
                       r"(?P<option> WITH GRANT OPTION)?$", re.S)


def native_hash(password):
    """mysql_native_password's stored form: '*' and SHA1(SHA1(password)) in upper-case hex."""
    return "*" + hashlib.sha1(hashlib.sha1(password.encode("utf-8")).digest()).hexdigest().upper()


def _unquote(name):
    return name[1:-1].replace("``", "`") if name.startswith("`") else name


def quote_level(level):
    """'shop.items' -> '`shop`.`items`' ('*' stays as is)."""
    return ".".join(part if part == "*" else "`%s`" % part.replace("`", "``") for part in level.split(".", 1))


def normalise_level(text):
    match = _LEVEL_RE.match(str(text).strip())
    if not match or (match.group(1) == "*" and match.group(2) != "*"):
        raise TidbOpsError("PRIVILEGE_LEVEL_INVALID", "not a privilege level (*.*, db.* or db.table): %s" % text)
    return "%s.%s" % (_unquote(match.group(1)), _unquote(match.group(2)))


def normalise_privilege(name):
    name = re.sub(r"\s+", " ", str(name).strip()).upper()
    if name in ("ALL", ALL):
        return ALL
    if name in ("GRANT", OPTION):
        return OPTION
    return name


def declared_privileges(privileges):
    """{level: set of names} from the module's option ({level: [names] or 'A,B'}); every name
    and level checked (PRIVILEGE_UNKNOWN, PRIVILEGE_LEVEL_INVALID)."""
    wanted = {}
    for level, names in (privileges or {}).items():
        level = normalise_level(level)
        if isinstance(names, str):
            names = names.split(",")
        names = set(normalise_privilege(n) for n in names or () if str(n).strip())
        names.discard("USAGE")
        unknown = sorted(n for n in names if n not in STATIC and n not in DYNAMIC and n not in (ALL, OPTION))
        if unknown:
            raise TidbOpsError("PRIVILEGE_UNKNOWN", "TiDB has no privilege %s (on %s)" % (", ".join(unknown), level))
        misplaced = sorted(n for n in names if n in DYNAMIC and level != GLOBAL)
        if misplaced:
            raise TidbOpsError("PRIVILEGE_LEVEL_INVALID", "%s can only be granted ON *.*, not on %s"
                               % (", ".join(misplaced), level))
        wanted.setdefault(level, set()).update(names)
    return wanted


def parse_create_user(text):
    """dict(plugin, hash, locked) of SHOW CREATE USER's text."""
    match = _CREATE_RE.search(text)
    if not match:
        raise TidbOpsError("TIDB_OUTPUT_INVALID", "cannot read SHOW CREATE USER's answer")
    return dict(plugin=match.group("plugin"), hash=(match.group("hash") or "").replace("''", "'"),
                locked=match.group("lock") == "LOCK")


def parse_grants(lines):
    """{level: set of names} of SHOW GRANTS FOR's lines (role lines are skipped)."""
    found = {}
    for line in lines:
        match = _GRANT_RE.match(line)
        if not match:
            continue
        level = normalise_level(match.group("level"))
        names = set(normalise_privilege(n) for n in match.group("privs").split(","))
        names.discard("USAGE")
        if match.group("option"):
            names.add(OPTION)
        if names or level != GLOBAL:
            found.setdefault(level, set()).update(names)
    return dict((level, names) for level, names in found.items() if names)


def account_name(user, host):
    return "'%s'@'%s'" % (user.replace("'", "''"), host.replace("'", "''"))


def read(connection, user, host):
    """The account as dict(plugin, hash, locked, privileges), or None when it does not exist."""
    rows, _count, _warnings = run_sql(connection, "SELECT User FROM mysql.user WHERE User = %s AND Host = %s",
                                      (user, host))
    if not rows:
        return None
    rows, _count, _warnings = run_sql(connection, "SHOW CREATE USER %s@%s", (user, host))
    account = parse_create_user(list(rows[0].values())[0])
    rows, _count, _warnings = run_sql(connection, "SHOW GRANTS FOR %s@%s", (user, host))
    account["privileges"] = parse_grants([list(row.values())[0] for row in rows or []])
    return account


def list_accounts(connection):
    """[(user, host)] of every account, sorted."""
    rows, _count, _warnings = run_sql(connection, "SELECT User, Host FROM mysql.user")
    return sorted((row["User"], row["Host"]) for row in rows or [])


def privilege_changes(current, wanted, append):
    """[(REVOKE|GRANT, level, sorted names, with grant option)] that turn current into wanted,
    every REVOKE before any GRANT (so revoking SELECT never takes it back out of a new ALL);
    with append, nothing current is revoked."""
    revokes, grants = [], []
    for level in sorted(set(current) | set(wanted)):
        have, want = current.get(level, set()), wanted.get(level)
        if want is None:
            if not append:
                revokes.append(("REVOKE", level, sorted(have), False))
            continue
        extra, missing = sorted(have - want), sorted(want - have)
        if extra and not append:
            revokes.append(("REVOKE", level, extra, False))
            if OPTION in extra and level == GLOBAL:
                # TiDB keeps WITH GRANT OPTION per dynamic privilege: granting the kept ones again
                # without it is what takes it away from them (REPLACE INTO mysql.global_grants).
                missing = sorted(set(missing) | set(n for n in want & have if n in DYNAMIC))
        if missing:
            grants.append(("GRANT", level, missing, OPTION in want))
    return revokes + grants


def apply_privilege_change(connection, user, host, change):
    verb, level, names, grantable = change
    target = account_name(user, host)
    if verb == "REVOKE":
        run_sql(connection, "REVOKE %s ON %s FROM %s" % (", ".join(names), quote_level(level), target))
        return
    # GRANT OPTION is WITH GRANT OPTION; alone, USAGE grants nothing more.
    names = [n for n in names if n != OPTION] or ["USAGE"]
    option = " WITH GRANT OPTION" if grantable else ""
    run_sql(connection, "GRANT %s ON %s TO %s%s" % (", ".join(names), quote_level(level), target, option))
