# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TiDB's global system variables: what each one is (INFORMATION_SCHEMA.VARIABLES_INFO), what it
is set to (SHOW GLOBAL VARIABLES), whether a wanted value is already there, and SET GLOBAL.

VARIABLES_INFO (TiDB v6.0+) gives each variable's scope (``SESSION,GLOBAL``, ``GLOBAL``,
``INSTANCE``, ``NONE``), default, numeric range (MIN_VALUE/MAX_VALUE, numeric types only),
possible values (enums) and IS_NOOP; so a value is checked before anything is set, and only
what differs is set. Its CURRENT_VALUE is the session's, hence SHOW GLOBAL VARIABLES for the
global value.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.sql import parse_go_duration, run_sql

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
BOOLS = {"on": "ON", "1": "ON", "true": "ON", "off": "OFF", "0": "OFF", "false": "OFF"}
INT_RE = re.compile(r"^[-+]?\d+$")


def as_text(value):
    """A wanted value as TiDB reads it: booleans are ON/OFF, numbers their digits, None is DEFAULT."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "ON" if value else "OFF"
    return str(value)


def check_names(names):
    bad = [name for name in names if not NAME_RE.match(name)]
    if bad:
        raise TidbOpsError("INVALID_ARGUMENT", "not a system variable name: %s" % ", ".join(sorted(bad)))


def _placeholders(names):
    return ", ".join(["%s"] * len(names))


def describe(connection, names):
    """{name: VARIABLES_INFO row} for the names that exist."""
    rows, _count, _warnings = run_sql(
        connection, "SELECT VARIABLE_NAME, VARIABLE_SCOPE, DEFAULT_VALUE, MIN_VALUE, MAX_VALUE, POSSIBLE_VALUES, IS_NOOP"
        " FROM INFORMATION_SCHEMA.VARIABLES_INFO WHERE VARIABLE_NAME IN (%s)" % _placeholders(names), list(names))
    return dict((row["VARIABLE_NAME"].lower(), row) for row in rows or [])


def global_values(connection, names):
    """{name: its GLOBAL value}."""
    rows, _count, _warnings = run_sql(connection, "SHOW GLOBAL VARIABLES WHERE Variable_name IN (%s)"
                                      % _placeholders(names), list(names))
    return dict((row["Variable_name"].lower(), row["Value"]) for row in rows or [])


def customised(connection):
    """{name: global value} of the variables a cluster has set away from their defaults, that
    a copy can carry over: global, writable, not a noop (VARIABLES_INFO)."""
    rows, _count, _warnings = run_sql(
        connection, "SELECT VARIABLE_NAME, DEFAULT_VALUE FROM INFORMATION_SCHEMA.VARIABLES_INFO"
        " WHERE VARIABLE_SCOPE LIKE '%%GLOBAL%%' AND IS_NOOP = 'NO'")
    defaults = dict((row["VARIABLE_NAME"].lower(), row["DEFAULT_VALUE"]) for row in rows or [])
    if not defaults:
        return {}
    values = global_values(connection, sorted(defaults))
    return dict((name, value) for name, value in values.items()
                if name in defaults and not same(value, defaults[name] or ""))


def check(name, info, wanted):
    """Refuse what SET GLOBAL would refuse, or clamp: an unknown, read-only, instance- or
    session-scoped variable, a number out of range, a value not among the possible ones."""
    if info is None:
        raise TidbOpsError("VARIABLE_NOT_FOUND", "TiDB has no system variable %s" % name, variable=name)
    scope = (info["VARIABLE_SCOPE"] or "").upper().split(",")
    if "NONE" in scope:
        raise TidbOpsError("VARIABLE_READ_ONLY", "%s is read-only" % name, variable=name)
    if "GLOBAL" not in scope:
        where = ("applies to one TiDB server and is not persisted: set it in the topology (server_configs.tidb) "
                 "instead" if "INSTANCE" in scope else "has no global value")
        raise TidbOpsError("VARIABLE_SCOPE_INVALID", "%s is %s-scoped: it %s" % (name, "/".join(scope), where),
                           variable=name, scope=info["VARIABLE_SCOPE"])
    if wanted is None:
        return
    if info.get("MIN_VALUE") is not None and info.get("MAX_VALUE") is not None:
        if not INT_RE.match(wanted.strip()) or not int(info["MIN_VALUE"]) <= int(wanted) <= int(info["MAX_VALUE"]):
            raise TidbOpsError("VARIABLE_VALUE_INVALID", "%s takes an integer from %s to %s, not %r"
                               % (name, info["MIN_VALUE"], info["MAX_VALUE"], wanted), variable=name)
    if info.get("POSSIBLE_VALUES"):
        choices = info["POSSIBLE_VALUES"].split(",")
        if wanted.lower() not in [choice.lower() for choice in choices]:
            raise TidbOpsError("VARIABLE_VALUE_INVALID", "%s takes one of %s, not %r" % (name, ", ".join(choices), wanted),
                               variable=name)


def _seconds(text):
    """Seconds of a Go duration (24h, 1h30m0s), or None for any other text."""
    try:
        return parse_go_duration(text)
    except TidbOpsError:
        return None


def same(current, wanted):
    """Whether TiDB holding current already means wanted: ON is 1 is true, 0100 is 100, 24h is 24h0m0s,
    enums ignore case."""
    if current is None:
        return False
    current, wanted = current.strip(), wanted.strip()
    if current.lower() in BOOLS and wanted.lower() in BOOLS and current.upper() in ("ON", "OFF"):
        return BOOLS[current.lower()] == BOOLS[wanted.lower()]
    if INT_RE.match(current) and INT_RE.match(wanted):
        return int(current) == int(wanted)
    if _seconds(current) is not None and _seconds(wanted) is not None:
        return _seconds(current) == _seconds(wanted)
    return current.lower() == wanted.lower()


def set_global(connection, name, wanted):
    """SET GLOBAL name = wanted (DEFAULT for None); the value is sent as a bound string."""
    if wanted is None:
        run_sql(connection, "SET GLOBAL %s = DEFAULT" % name)
    else:
        run_sql(connection, "SET GLOBAL %s = %%s" % name, [wanted])
