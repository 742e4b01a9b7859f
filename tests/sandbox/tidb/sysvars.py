"""System variables whose TiDB value differs from what MariaDB would answer.

Two kinds:
- constants of the TiDB identity (version, version_comment): MariaDB already refuses to
  SET them, so only reads are answered here;
- GLOBAL-only TiDB variables kept in TiDB's mysql.tidb table (tidb_gc_life_time), read
  and written through the admin connection, validated like TiDB's sysvar code
  (pkg/sessionctx/variable: checkDurationSystemVar, validateScope).
"""
from tests.sandbox.tidb import godur
from tests.sandbox.tidb.registry import SqlError


class ConstVar:
    writable = False

    def __init__(self, name, getter):
        self.name = name
        self._getter = getter

    def get(self, ctx):
        return self._getter(ctx.identity)


class TidbTableDurationVar:
    """A GLOBAL duration variable stored in mysql.tidb (TiDB's GC variables)."""
    writable = True

    def __init__(self, name, key, default, minimum, maximum, comment):
        self.name = name
        self.key = key
        self.default = default
        self.minimum = minimum
        self.maximum = maximum
        self.comment = comment

    def get(self, ctx):
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

    def set(self, ctx, value):
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
]}
