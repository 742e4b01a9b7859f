# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TiDB SQL connection (PyMySQL), shared by every module that speaks SQL."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import traceback

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError

try:
    import pymysql
    HAS_PYMYSQL = True
    PYMYSQL_IMPORT_ERROR = None
except ImportError:
    HAS_PYMYSQL = False
    PYMYSQL_IMPORT_ERROR = traceback.format_exc()

# The login when none is given and no cluster says where its TiDB is (cluster/identity.py).
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4000

# MySQL error numbers TiDB also uses for a refused login.
AUTH_ERRORS = (1045, 1044, 1698)


def connection_params(params):
    """PyMySQL keyword arguments from module params (tidb_argument_spec keys)."""
    kwargs = dict(
        host=DEFAULT_HOST if params["login_host"] is None else params["login_host"],
        port=DEFAULT_PORT if params["login_port"] is None else params["login_port"],
        user=params["login_user"],
        password=params["login_password"] or "",
        connect_timeout=params["connect_timeout"],
        autocommit=True,
        charset="utf8mb4",
    )
    ssl = {}
    for option, key in (("ca_cert", "ca"), ("client_cert", "cert"), ("client_key", "key")):
        if params.get(option):
            ssl[key] = params[option]
    if params.get("check_hostname") is not None:
        ssl["check_hostname"] = params["check_hostname"]
    if ssl:
        kwargs["ssl"] = ssl
    return kwargs


def tidb_connect(params):
    """Open a connection; raises TidbOpsError with TIDB_AUTH_FAILED/TIDB_CONNECTION_FAILED."""
    if not HAS_PYMYSQL:
        raise TidbOpsError("MISSING_LIBRARY", "the PyMySQL library is required on the managed node",
                           exception=PYMYSQL_IMPORT_ERROR)
    where = "%(host)s:%(port)s" % connection_params(params)
    try:
        return pymysql.connect(**connection_params(params))
    except pymysql.err.OperationalError as exc:
        errno = exc.args[0] if exc.args else None
        if errno in AUTH_ERRORS:
            raise TidbOpsError("TIDB_AUTH_FAILED", "TiDB at %s refused user %s: %s; check login_user "
                               "and login_password" % (where, params["login_user"], exc.args[-1]),
                               sql_errno=errno)
        raise TidbOpsError("TIDB_CONNECTION_FAILED", "cannot connect to TiDB at %s: %s"
                           % (where, exc.args[-1] if exc.args else exc), sql_errno=errno)
    except Exception as exc:  # pylint: disable=broad-except
        raise TidbOpsError("TIDB_CONNECTION_FAILED", "cannot connect to TiDB at %s: %s" % (where, exc))


def source_connect(login):
    """A connection to another cluster's TiDB from a copy_from login (specs.source_login_options)."""
    return tidb_connect(dict(login, ca_cert=None, client_cert=None, client_key=None, check_hostname=None))


def run_sql(connection, statement, args=None):
    """Execute one statement; return (rows as dicts or None, rowcount, warnings)."""
    try:
        with connection.cursor(pymysql.cursors.DictCursor) as cursor:
            cursor.execute(statement, args)
            rows = list(cursor.fetchall()) if cursor.description else None
            rowcount = cursor.rowcount
            warnings = []
            if getattr(cursor, "warning_count", 0):
                cursor.execute("SHOW WARNINGS")
                warnings = list(cursor.fetchall())
            return rows, rowcount, warnings
    except pymysql.err.MySQLError as exc:
        errno = exc.args[0] if exc.args else None
        message = exc.args[-1] if exc.args else str(exc)
        raise TidbOpsError("TIDB_QUERY_FAILED", "statement failed (%s): %s" % (errno, message),
                           statement=statement, sql_errno=errno)
    except (TypeError, ValueError, KeyError) as exc:
        # PyMySQL fills placeholders with Python's % operator before sending anything.
        raise TidbOpsError("INVALID_ARGUMENT", "the statement's placeholders do not match the values given "
                           "(%s); a literal %% must be written %%%%" % exc, statement=statement)


READ_ONLY = re.compile(r"^\s*(\(\s*)*(SELECT|SHOW|DESC|DESCRIBE|EXPLAIN|WITH)\b", re.I)


def is_read_only(statement):
    """True for statements that read only (SELECT ... FOR UPDATE/INTO aside)."""
    if not READ_ONLY.match(statement):
        return False
    return not re.search(r"\bINTO\s+(OUTFILE|DUMPFILE)\b|\bFOR\s+UPDATE\b", statement, re.I)


GO_DURATION_UNITS = (("h", 3600.0), ("ms", 0.001), ("us", 0.000001), ("\u00b5s", 0.000001),
                     ("ns", 0.000000001), ("m", 60.0), ("s", 1.0))
GO_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(h|ms|us|\u00b5s|ns|m|s)")


def parse_go_duration(text):
    """Seconds in a Go duration such as '720h', '1h30m' or '10m0s' (TiDB's GC life time)."""
    text = (text or "").strip()
    if not text or GO_DURATION_RE.sub("", text) != "":
        raise TidbOpsError("INVALID_ARGUMENT", "%r is not a duration such as 720h, 1h30m or 10m0s" % (text,))
    units = dict(GO_DURATION_UNITS)
    return sum(float(number) * units[unit] for number, unit in GO_DURATION_RE.findall(text))


def get_gc_life_time(connection):
    """The GC life time: the tidb_gc_life_time variable, or mysql.tidb before TiDB v5.0."""
    try:
        rows, _count, _warnings = run_sql(connection, "SELECT @@global.tidb_gc_life_time AS v")
        return rows[0]["v"]
    except TidbOpsError as error:
        if error.details.get("sql_errno") != 1193:  # unknown system variable: TiDB < v5.0
            raise
    rows, _count, _warnings = run_sql(
        connection, "SELECT VARIABLE_VALUE AS v FROM mysql.tidb WHERE VARIABLE_NAME = 'tikv_gc_life_time'")
    return rows[0]["v"]


def set_gc_life_time(connection, value):
    try:
        run_sql(connection, "SET GLOBAL tidb_gc_life_time = %s", (value,))
    except TidbOpsError as error:
        if error.details.get("sql_errno") != 1193:
            raise
        run_sql(connection, "UPDATE mysql.tidb SET VARIABLE_VALUE = %s WHERE VARIABLE_NAME = 'tikv_gc_life_time'",
                (value,))
