"""INFORMATION_SCHEMA.VARIABLES_INFO: every system variable with its scope, default, current
value, range, possible values and whether it is a noop (pkg/executor/infoschema_reader.go
setDataForVariablesInfo).

TiDB's columns and their values: VARIABLE_SCOPE is the scope flags joined by commas
(``SESSION,GLOBAL``, ``GLOBAL``, ``INSTANCE``, ``NONE``: ScopeFlag.String); CURRENT_VALUE is the
asking session's value (its own, else the global one); MIN_VALUE and MAX_VALUE only for numeric
variables (NULL otherwise); POSSIBLE_VALUES only for enums (comma-joined); IS_NOOP YES/NO. The
stand-in lists the variables it keeps itself (sysvars.VARIABLES), not MariaDB's.
"""
from tests.sandbox.tidb import resultset
from tests.sandbox.tidb.registry import Rewrite, statement
from tests.sandbox.tidb.resultset import INT, STR, UINT
from tests.sandbox.tidb.sysvars import VARIABLES

COLUMNS = [("VARIABLE_NAME", STR), ("VARIABLE_SCOPE", STR), ("DEFAULT_VALUE", STR), ("CURRENT_VALUE", STR),
           ("MIN_VALUE", INT), ("MAX_VALUE", UINT), ("POSSIBLE_VALUES", STR), ("IS_NOOP", STR)]


@statement(r"(?:SELECT\b|WITH\b|\().*\bVARIABLES_INFO\b.*", priority=85)
def select_variables_info(ctx, m):
    found = list(resultset.table_references(m.string, "information_schema", "variables_info"))
    if not found:
        return None
    rows = [VARIABLES[name].info_row(ctx) for name in sorted(VARIABLES)]
    return Rewrite(resultset.replace_table(m.string, found, COLUMNS, rows, "VARIABLES_INFO"))
