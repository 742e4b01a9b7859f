"""System variables whose TiDB value differs from what MariaDB would answer.

Three kinds:
- constants of the TiDB identity (version, version_comment; scope NONE): MariaDB already
  refuses to SET them, so only reads are answered here;
- GLOBAL-only TiDB variables kept in TiDB's mysql.tidb table (tidb_gc_life_time), read
  and written through the admin connection, validated like TiDB's sysvar code
  (pkg/sessionctx/variable: checkDurationSystemVar, validateScope);
- a few of TiDB's own variables of each scope and type (TidbVar): SESSION,GLOBAL ones whose
  GLOBAL value TiDB persists in mysql.global_variables (so does the stand-in, in the cluster's
  MariaDB), INSTANCE ones held by the one TiDB process, and noop ones (IS_NOOP). Each has
  TiDB's default, type and range (pkg/sessionctx/variable/sysvar.go, noop.go).

Every variable describes itself for INFORMATION_SCHEMA.VARIABLES_INFO (info_row).
"""
from tests.sandbox.tidb import godur
from tests.sandbox.tidb.registry import SqlError


class ConstVar:
    writable = False
    scope = "NONE"
    noop = False

    def __init__(self, name, getter):
        self.name = name
        self._getter = getter

    def get(self, ctx, session=False):  # pylint: disable=unused-argument
        return self._getter(ctx.identity)

    def info_row(self, ctx):
        value = self.get(ctx)
        return (self.name, self.scope, value, value, None, None, None, "NO")


class TidbTableDurationVar:
    """A GLOBAL duration variable stored in mysql.tidb (TiDB's GC variables)."""
    writable = True
    scope = "GLOBAL"
    noop = False

    def __init__(self, name, key, default, minimum, maximum, comment):
        self.name = name
        self.key = key
        self.default = default
        self.minimum = minimum
        self.maximum = maximum
        self.comment = comment

    def info_row(self, ctx):
        return (self.name, self.scope, self.default, self.get(ctx), None, None, None, "NO")

    def get(self, ctx, session=False):  # pylint: disable=unused-argument
        with ctx.admin().cursor() as cur:
            cur.execute("SELECT VARIABLE_VALUE FROM mysql.tidb WHERE VARIABLE_NAME = %s",
                        (self.key,))
            row = cur.fetchone()
        if row is None or row[0] is None:
            return self.default
        # TiDB re-validates values read from the table ("relaxed validation"), so an old
        # '720h' written by UPDATE mysql.tidb reads back as '720h0m0s', and values outside
        # the range read back clamped; a value it cannot parse is returned as stored.
        try:
            return godur.format(self._clamp(godur.parse(row[0])))
        except ValueError:
            return row[0]

    def set(self, ctx, value, session=False):  # pylint: disable=unused-argument
        """Validate, normalise and store value (None = DEFAULT); returns a warning or None."""
        warning = None
        if value is None:
            normalised = self.default
        else:
            try:
                nanos = godur.parse(value)
            except ValueError:
                raise SqlError(1232, "42000",
                               "Incorrect argument type to variable '%s'" % self.name) from None
            if self._clamp(nanos) != nanos:
                # TiDB clamps to the range and warns with ErrTruncatedWrongValue.
                warning = (1292, "Truncated incorrect %.32s value: '%.128s'"
                           % (self.name, value))
            normalised = godur.format(self._clamp(nanos))
        with ctx.admin().cursor() as cur:
            cur.execute("INSERT INTO mysql.tidb (VARIABLE_NAME, VARIABLE_VALUE, COMMENT)"
                        " VALUES (%s, %s, %s) ON DUPLICATE KEY UPDATE"
                        " VARIABLE_VALUE = VALUES(VARIABLE_VALUE), COMMENT = VALUES(COMMENT)",
                        (self.key, normalised, self.comment))
        return warning

    def _clamp(self, nanos):
        return min(max(nanos, self.minimum), self.maximum)


INT, BOOL, ENUM = "int", "bool", "enum"
_BOOLS = {"on": "ON", "1": "ON", "true": "ON", "off": "OFF", "0": "OFF", "false": "OFF"}


class TidbVar:
    """One of TiDB's own variables, with TiDB's scope, default, type and range.

    SESSION,GLOBAL: the GLOBAL value is persisted in mysql.global_variables (what TiDB does),
    a session's own value lives in the session. INSTANCE: one value per TiDB process, not
    persisted (TiDB maps these to its config file)."""
    writable = True

    def __init__(self, name, scope, default, kind, minimum=None, maximum=None, choices=(), noop=False):
        self.name, self.scope, self.default, self.kind = name, scope, default, kind
        self.minimum, self.maximum, self.choices, self.noop = minimum, maximum, tuple(choices), noop

    @property
    def session_scope(self):
        return "SESSION" in self.scope

    def info_row(self, ctx):
        numeric = self.kind == INT
        return (self.name, self.scope, self.default, self.get(ctx, session=self.session_scope),
                self.minimum if numeric else None, self.maximum if numeric else None,
                ",".join(self.choices) if self.kind == ENUM else None, "YES" if self.noop else "NO")

    def get(self, ctx, session=False):
        if session and self.name in _session_values(ctx):
            return _session_values(ctx)[self.name]
        if self.scope == "INSTANCE":
            return _instance_values(ctx).get(self.name, self.default)
        with ctx.admin().cursor() as cur:
            _ensure_table(cur)
            cur.execute("SELECT VARIABLE_VALUE FROM mysql.global_variables WHERE VARIABLE_NAME = %s", (self.name,))
            row = cur.fetchone()
        return self.default if row is None else row[0]

    def set(self, ctx, value, session=False):
        """Validate and store value (None = DEFAULT) as TiDB does; returns a warning or None."""
        normalised, warning = (self.default, None) if value is None else self.validate(value)
        if session:
            _session_values(ctx)[self.name] = normalised
        elif self.scope == "INSTANCE":
            _instance_values(ctx)[self.name] = normalised
        else:
            with ctx.admin().cursor() as cur:
                _ensure_table(cur)
                cur.execute("REPLACE INTO mysql.global_variables (VARIABLE_NAME, VARIABLE_VALUE) VALUES (%s, %s)",
                            (self.name, normalised))
        return warning

    def validate(self, value):
        """(normalised value, warning): TiDB's checkInt64SystemVar, checkBoolean, checkEnum."""
        text = str(value).strip()
        if self.kind == BOOL:
            if text.lower() not in _BOOLS:
                raise wrong_value_error(self.name, value)
            return _BOOLS[text.lower()], None
        if self.kind == ENUM:
            for choice in self.choices:
                if choice.lower() == text.lower():
                    return choice, None
            raise wrong_value_error(self.name, value)
        try:
            number = int(text)
        except ValueError:
            raise SqlError(1232, "42000", "Incorrect argument type to variable '%s'" % self.name) from None
        clamped = min(max(number, self.minimum), self.maximum)
        warning = None if clamped == number else (1292, "Truncated incorrect %.32s value: '%.128s'"
                                                  % (self.name, value))
        return str(clamped), warning


def _ensure_table(cur):
    # TiDB's bootstrap creates it (CreateGlobalVariablesTable: VARIABLE_VALUE varchar(16383),
    # which is too wide for a MariaDB row in utf8mb4, hence TEXT); the sandbox's MariaDB has none.
    cur.execute("CREATE TABLE IF NOT EXISTS mysql.global_variables (VARIABLE_NAME VARCHAR(64) NOT NULL PRIMARY KEY,"
                " VARIABLE_VALUE TEXT DEFAULT NULL)")


def _session_values(ctx):
    if not hasattr(ctx.session, "sysvars"):
        ctx.session.sysvars = {}
    return ctx.session.sysvars


def _instance_values(ctx):
    if not hasattr(ctx.server, "instance_sysvars"):
        ctx.server.instance_sysvars = {}
    return ctx.server.instance_sysvars


def wrong_value_error(name, value):
    """ErrWrongValueForVar."""
    return SqlError(1231, "42000", "Variable '%s' can't be set to the value of '%s'" % (name, value))


def global_only_error(name):
    """TiDB's errGlobalVariable, for SET SESSION of a GLOBAL-only variable."""
    return SqlError(1229, "HY000",
                    "Variable '%s' is a GLOBAL variable and should be set with SET GLOBAL"
                    % name)


def global_read_error(name):
    """ErrIncorrectGlobalLocalVar, for SELECT @@session.<GLOBAL-only variable>."""
    return SqlError(1238, "HY000", "Variable '%s' is a GLOBAL variable" % name)


VARIABLES = {v.name: v for v in [
    ConstVar("version", lambda identity: identity.server_version),
    ConstVar("version_comment", lambda identity: identity.version_comment),
    TidbTableDurationVar(
        "tidb_gc_life_time", key="tikv_gc_life_time", default="10m0s",
        minimum=10 * godur.MINUTE, maximum=365 * 24 * godur.HOUR,
        comment=("All versions within life time will not be collected by GC, "
                 "at least 10m, in Go format.")),
    TidbVar("tidb_mem_quota_query", "SESSION,GLOBAL", "1073741824", INT, -1, 2 ** 63 - 1),
    TidbVar("tidb_ddl_reorg_worker_cnt", "SESSION,GLOBAL", "4", INT, 1, 256),
    TidbVar("tidb_txn_mode", "SESSION,GLOBAL", "pessimistic", ENUM, choices=("pessimistic", "optimistic")),
    TidbVar("tidb_enable_noop_functions", "SESSION,GLOBAL", "OFF", ENUM, choices=("OFF", "ON", "WARN")),
    TidbVar("tidb_enable_slow_log", "INSTANCE", "ON", BOOL),
    TidbVar("tidb_slow_log_threshold", "INSTANCE", "300", INT, -1, 2 ** 63 - 1),
    TidbVar("low_priority_updates", "SESSION,GLOBAL", "OFF", BOOL, noop=True),
]}
