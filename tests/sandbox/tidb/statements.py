"""Handlers for the TiDB-only parts of everyday SQL: who the server is, and GC life time.

- SELECTs mentioning VERSION(), TIDB_VERSION(), TIDB_CURRENT_TSO(), @@version, @@version_comment or
  @@[global.]tidb_gc_life_time get those expressions replaced by literals (named as the
  expression was written, as MySQL names columns), and run on MariaDB otherwise intact.
- SHOW [GLOBAL|SESSION] VARIABLES [LIKE ...|WHERE ...] includes the TiDB values.
- SET [GLOBAL|@@global.]tidb_gc_life_time = ... validates and stores like TiDB.

The old way (UPDATE/SELECT mysql.tidb ... 'tikv_gc_life_time') needs no handler: the
table is real.
"""
import re

from tests.sandbox import changelog
from tests.sandbox.tidb import sqltext
from tests.sandbox.tidb.registry import Ok, Rewrite, statement, unsupported
from tests.sandbox.tidb.sysvars import (VARIABLES, global_only_error, global_read_error)

_WRITABLE = sorted(name for name, var in VARIABLES.items() if var.writable)
_STRING = r"""'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*\""""

# ---------------------------------------------------------------------------------------
# SET


@statement(r"SET\s+(?P<scope>GLOBAL\s+|SESSION\s+|LOCAL\s+|@@(?:GLOBAL|SESSION|LOCAL)\.|@@)?"
           r"`?(?P<name>%s)`?\s*:?=\s*(?P<value>.+?)" % "|".join(_WRITABLE))
def set_tidb_global(ctx, m):
    name = m.group("name").lower()
    scope = (m.group("scope") or "").strip().lower()
    var = VARIABLES[name]
    session = scope not in ("global", "@@global.")
    if session and not getattr(var, "session_scope", False):
        # A bare SET (or @@name) is session scope; TiDB checks scope before the value.
        raise global_only_error(name)
    warning = var.set(ctx, _set_value(m.group("value").strip()), session=session)
    return Ok(warning=warning)


def _set_value(text):
    """The value of a SET's right-hand side; None for DEFAULT."""
    if re.fullmatch(_STRING, text, re.S):
        return sqltext.unquote(text)
    if text.upper() == "DEFAULT":
        return None
    # MySQL reads an unquoted word on the right of a sysvar SET as a string (24h, ON).
    if re.fullmatch(r"[-+]?[\w.\u00b5\u03bc]+", text):
        return text
    raise unsupported("the TiDB stand-in only accepts a quoted string, a word or DEFAULT "
                      "as the value of a TiDB variable, not %r" % text)


@statement(r"SET\b.+", priority=80)
def set_mixed(ctx, m):  # pylint: disable=unused-argument
    """A SET the precise pattern above did not take, naming a TiDB variable: refuse it
    rather than let MariaDB answer 'unknown system variable'."""
    for tok in sqltext.tokens(m.group(0)):
        name = (sqltext.split_sysvar(tok.text)[1] if tok.kind == "sysvar"
                else tok.text.strip("`").lower())
        if tok.kind in ("sysvar", "word", "quoted") and name in _WRITABLE:
            raise unsupported("the TiDB stand-in handles %s only in a SET of that variable "
                              "alone" % name)
    return None

# ---------------------------------------------------------------------------------------
# SHOW VARIABLES


@statement(r"SHOW\s+(?:(?P<scope>GLOBAL|SESSION|LOCAL)\s+)?VARIABLES"
           r"(?:\s+LIKE\s+(?P<like>%s)|\s+WHERE\s+(?P<where>.+?))?" % _STRING)
def show_variables(ctx, m):
    if m.group("like"):
        pattern = sqltext.unquote(m.group("like"))
        names = [n for n in sorted(VARIABLES) if sqltext.like_matches(pattern, n)]
        if not names:
            return None  # nothing of TiDB's in it: MariaDB answers alone
        condition = "WHERE Variable_name LIKE " + m.group("like")
    elif m.group("where"):
        names, condition = sorted(VARIABLES), "WHERE " + m.group("where")
    else:
        names, condition = sorted(VARIABLES), ""
    table = ("GLOBAL_VARIABLES" if (m.group("scope") or "").upper() == "GLOBAL"
             else "SESSION_VARIABLES")
    # SHOW's own rows come from information_schema minus the overridden names, plus ours;
    # the client's LIKE/WHERE then applies to the union, as it would to SHOW's output.
    overridden = ", ".join(sqltext.literal(n) for n in sorted(VARIABLES))
    session = table == "SESSION_VARIABLES"
    ours = "".join(" UNION ALL SELECT %s, %s" % (sqltext.literal(n),
                                                 sqltext.literal(VARIABLES[n].get(ctx, session=session)))
                   for n in names)
    return Rewrite(
        "SELECT Variable_name, `Value` FROM ("
        "SELECT LOWER(VARIABLE_NAME) AS Variable_name, VARIABLE_VALUE AS `Value`"
        " FROM information_schema.%s WHERE LOWER(VARIABLE_NAME) NOT IN (%s)%s"
        ") AS v %s ORDER BY Variable_name" % (table, overridden, ours, condition))


# ---------------------------------------------------------------------------------------
# Expressions inside SELECT

def _current_tso(ctx):
    """A TSO marked with the binlog position now: the changes committed after the call are
    after it in the cluster's change stream (tests/sandbox/changelog.py)."""
    with ctx.admin().cursor() as cur:
        tso, dummy = brie.tso_allocator(ctx).next(mark=lambda: changelog.master_position(cur))
    return tso


_FUNCTIONS = {
    "version": lambda ctx: ctx.identity.server_version,
    "tidb_version": lambda ctx: ctx.identity.tidb_version_text,
    # A TSO from the cluster's allocator, the one BACKUP's BackupTS comes from, so the two
    # compare as they do on TiDB. (TiDB answers the transaction's start TSO: repeated calls in
    # one explicit transaction agree there; here each call is a new TSO.)
    "tidb_current_tso": _current_tso,
}


# What can follow a select-list item that has no alias.
_ITEM_END = {"FROM", "WHERE", "LIMIT", "INTO", "ORDER", "GROUP", "HAVING", "UNION",
             "WINDOW", "FOR", "LOCK", "EXCEPT", "INTERSECT"}
_SELECT_MODIFIERS = {"SELECT", "DISTINCT", "ALL", "DISTINCTROW", "HIGH_PRIORITY",
                     "STRAIGHT_JOIN", "SQL_SMALL_RESULT", "SQL_BIG_RESULT",
                     "SQL_BUFFER_RESULT", "SQL_CACHE", "SQL_NO_CACHE", "SQL_CALC_FOUND_ROWS"}
# Words that end a select list when walking back from a comma.
_CLAUSES = {"FROM", "WHERE", "BY", "HAVING", "LIMIT", "ON", "USING", "SET", "VALUES",
            "INTO", "WINDOW", "CASE", "WHEN", "THEN", "ELSE", "OVER"}


@statement(r"(?:SELECT\b|WITH\b|\().*", priority=90)
def select_expressions(ctx, m):
    sql = m.string
    toks = sqltext.tokens(sql)
    edits = []
    for first, last, value in _virtual_expressions(ctx, toks):
        text = sql[toks[first].start:toks[last].end]
        # TIDB_CURRENT_TSO() is a BIGINT: a bare number, not a string
        replacement = str(value) if isinstance(value, int) else sqltext.literal(value)
        if _is_bare_select_item(toks, first, last):
            replacement += " AS " + sqltext.identifier(text)
        edits.append((toks[first].start, toks[last].end, replacement))
    if not edits:
        return None
    for start, end, replacement in reversed(edits):
        sql = sql[:start] + replacement + sql[end:]
    return Rewrite(sql)


def _virtual_expressions(ctx, toks):
    """(first token, last token, value) of each TiDB-specific expression."""
    for i, tok in enumerate(toks):
        if tok.kind == "sysvar":
            scope, name = sqltext.split_sysvar(tok.text)
            var = VARIABLES.get(name)
            if var is None:
                continue
            session_scope = getattr(var, "session_scope", False)
            if scope in ("session", "local"):
                if var.writable and not session_scope:
                    raise global_read_error(name)
                if not var.writable:
                    continue  # MariaDB refuses @@session.version by itself, identically
            yield i, i, var.get(ctx, session=session_scope and scope != "global")
        elif (tok.kind == "word" and tok.text.lower() in _FUNCTIONS
              and [t.text for t in toks[i + 1:i + 3]] == ["(", ")"]
              and not (i > 0 and toks[i - 1].text == ".")):
            yield i, i + 2, _FUNCTIONS[tok.text.lower()](ctx)


def _is_bare_select_item(toks, first, last):
    """Is toks[first..last] a whole select-list item without an alias?

    Then MySQL names the column after the expression's text, so the literal that
    replaces it must carry that text as its alias.
    """
    nxt = toks[last + 1] if last + 1 < len(toks) else None
    if not (nxt is None or nxt.text in (",", ";", ")")
            or nxt.kind == "word" and nxt.text.upper() in _ITEM_END):
        return False
    if first == 0:
        return False
    prev = toks[first - 1]
    if prev.kind == "word" and prev.text.upper() in _SELECT_MODIFIERS:
        return True
    if prev.text != ",":
        return False
    depth = 0
    for tok in reversed(toks[:first - 1]):
        if tok.text == ")":
            depth += 1
        elif tok.text == "(":
            if depth == 0:
                return False  # the comma separates function arguments
            depth -= 1
        elif depth == 0 and tok.kind == "word":
            word = tok.text.upper()
            if word == "SELECT":
                return True
            if word in _CLAUSES:
                return False
    return False


# ---------------------------------------------------------------------------------------
# Other statement families register their handlers when imported.

# pylint: disable=wrong-import-position,unused-import
from tests.sandbox.tidb import accounts, brie, checksum, kill, resultset  # noqa: E402,F401
from tests.sandbox.tidb import cluster_config, cluster_info, import_into, variables_info  # noqa: E402,F401


# ---------------------------------------------------------------------------------------
# SHOW MASTER STATUS: TiDB has no binlog of its own; it answers with the current TSO as the
# position (Dumpling records it in its metadata file as the snapshot it dumped).

@statement(r"SHOW\s+(?:MASTER|BINARY\s+LOG)\s+STATUS")
def show_master_status(ctx, _match):
    return Rewrite(resultset.select_literals(
        [("File", resultset.STR), ("Position", resultset.UINT), ("Binlog_Do_DB", resultset.STR),
         ("Binlog_Ignore_DB", resultset.STR), ("Executed_Gtid_Set", resultset.STR)],
        [("tidb-binlog", brie.tso_allocator(ctx).next(), "", "", "")]))
