"""Global system variables: values compared as TiDB reads them, and refusals before any SET."""
import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools import sysvars


def info(scope="SESSION,GLOBAL", minimum=None, maximum=None, choices=None):
    return dict(VARIABLE_SCOPE=scope, DEFAULT_VALUE="1", MIN_VALUE=minimum, MAX_VALUE=maximum,
                POSSIBLE_VALUES=choices, IS_NOOP="NO")


@pytest.mark.parametrize("current, wanted, same", [
    ("ON", "1", True), ("OFF", "false", True), ("ON", "OFF", False), ("100", "0100", True), ("100", "101", False),
    ("24h0m0s", "24h", True), ("1h30m0s", "90m", True), ("10m0s", "11m", False),
    ("pessimistic", "PESSIMISTIC", True), ("80%", "80%", True), (None, "1", False),
    ("1", "ON", False),  # a number is no boolean unless TiDB shows it as ON/OFF
])
def test_values_compare_as_tidb_reads_them(current, wanted, same):
    assert sysvars.same(current, wanted) is same


def test_wanted_values_as_text():
    assert [sysvars.as_text(v) for v in (True, False, 5, "x", None)] == ["ON", "OFF", "5", "x", None]


@pytest.mark.parametrize("row, wanted, code", [
    (None, "1", "VARIABLE_NOT_FOUND"),
    (info("NONE"), "1", "VARIABLE_READ_ONLY"),
    (info("INSTANCE"), "1", "VARIABLE_SCOPE_INVALID"),
    (info("SESSION"), "1", "VARIABLE_SCOPE_INVALID"),
    (info(minimum=1, maximum=256), "1000", "VARIABLE_VALUE_INVALID"),
    (info(minimum=1, maximum=256), "eight", "VARIABLE_VALUE_INVALID"),
    (info(choices="OFF,ON,WARN"), "maybe", "VARIABLE_VALUE_INVALID"),
])
def test_refusals(row, wanted, code):
    with pytest.raises(TidbOpsError) as error:
        sysvars.check("v", row, wanted)
    assert error.value.code == code


def test_accepted_values_and_names():
    sysvars.check("v", info(minimum=-1, maximum=10), "-1")
    sysvars.check("v", info(choices="OFF,ON,WARN"), "warn")
    sysvars.check("v", info("GLOBAL"), None)  # DEFAULT
    with pytest.raises(TidbOpsError) as error:
        sysvars.check_names(["tidb_txn_mode", "x; DROP TABLE t"])
    assert error.value.code == "INVALID_ARGUMENT"
