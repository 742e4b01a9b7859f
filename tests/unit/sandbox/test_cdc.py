"""The TiCDC stand-in's rules as TiCDC has them: sink parameters by version, masked URIs, which DDL
it replicates, the routes each version serves, and the TSO marks that tie TSOs to the binlog."""
import pytest

from tests.sandbox import changelog
from tests.sandbox.cdc import api, feeds, replicator
from tests.sandbox.tidb import tso


def test_zero_workers_are_refused_from_v6_and_ignored_before():
    with pytest.raises(feeds.CDCError) as err:
        feeds.parse_sink("mysql://root@h:4000/?worker-count=0", "v6.0.0")
    assert err.value.code == "CDC:ErrMySQLInvalidConfig" and err.value.status == 400
    assert err.value.body()["error_msg"] == ("[CDC:ErrMySQLInvalidConfig]invalid worker-count 0, which must be "
                                             "greater than 0")
    old = feeds.parse_sink("mysql://root@h:4000/?worker-count=0&max-txn-row=0", "v5.4.0")
    assert old["params"]["worker-count"] == 16 and old["params"]["max-txn-row"] == 0  # v5's quirks
    clamped = feeds.parse_sink("tidb://u:p%40w@h:4001/?worker-count=5000", "v7.5.1")
    assert clamped["params"]["worker-count"] == 1024 and clamped["password"] == "p@w" and clamped["port"] == 4001


def test_other_sinks_and_bad_uris_are_refused():
    for uri in ("kafka://broker:9092/topic", "h:4000", "mysql://root@h:99999/"):
        with pytest.raises(feeds.CDCError) as err:
            feeds.parse_sink(uri, "v7.5.1")
        assert err.value.code == "CDC:ErrSinkURIInvalid", uri


def test_the_password_is_shown_as_go_redacts_it():
    assert feeds.redacted("mysql://root:secret@h:4000/?a=1") == "mysql://root:xxxxx@h:4000/?a=1"
    assert feeds.redacted("mysql://root:@h:4000/") == "mysql://root:xxxxx@h:4000/"
    assert feeds.redacted("mysql://root@h:4000/") == "mysql://root@h:4000/"


@pytest.mark.parametrize("schema,query,target", [
    ("shop", "CREATE TABLE extra (id INT PRIMARY KEY)", ("shop", "extra")),
    ("", "CREATE TABLE IF NOT EXISTS `crm`.`a``b` (id INT)", ("crm", "a`b")),
    ("x", "DROP DATABASE other", ("other", None)),
    ("shop", "CREATE UNIQUE INDEX i ON items (name)", ("shop", "items")),
    ("shop", "ALTER TABLE shop.items ADD COLUMN c INT", ("shop", "items")),
    ("", "CREATE USER 'u'@'%' IDENTIFIED BY 'p'", None),
    ("", "GRANT SELECT ON *.* TO 'u'@'%'", None),
    ("", "ALTER USER 'root'@'%' IDENTIFIED BY 'p'", None),
])
def test_only_schema_changes_are_replicated_ddl(schema, query, target):
    assert replicator.ddl_target(schema, query) == target


def test_system_schemas_are_never_replicated():
    everything = feeds.table_filter({})
    assert feeds.replicated(everything, "shop", "items")
    assert not any(feeds.replicated(everything, s, "t") for s in ("mysql", "lightning_task_info", "tidb_cdc", "sys"))
    only_shop = feeds.table_filter({"filter": {"rules": ["shop.*", "!shop.secret"]}})
    assert feeds.replicated(only_shop, "shop", "items") and not feeds.replicated(only_shop, "shop", "secret")


def test_v2_routes_appear_with_the_versions_that_had_them():
    def routes(version):
        return sorted(set(name for method, pattern, name, since in api.V2_ROUTES
                          if feeds.version_tuple(version) >= since))
    assert routes("v6.1.0") == []
    assert "v2_list" not in routes("v6.5.3") and "v2_create" in routes("v6.5.3")
    assert "v2_status" not in routes("v7.0.0") and "v2_status" in routes("v7.1.0")
    assert "v2_synced" not in routes("v7.5.1") and "v2_synced" in routes("v7.6.0")


def test_marks_tie_tsos_to_binlog_positions_in_order(tmp_path):
    allocator = tso.Allocator(str(tmp_path / "tso"))
    first, pos1 = allocator.next(mark=lambda: ("mysql-bin.000001", 400))
    plain = allocator.next()
    second, pos2 = allocator.next(mark=lambda: ("mysql-bin.000002", 4))
    unrecorded, dummy = allocator.next(mark=lambda: ("mysql-bin.000002", 900), record=False)
    assert first < plain < second < unrecorded and pos2 == ("mysql-bin.000002", 4)
    marks = tso.read_marks(allocator.marks_path)
    assert marks == [(first, pos1), (second, pos2)]
    assert changelog.marked_position(marks, first - 1) is None
    assert changelog.marked_position(marks, first) == pos1
    assert changelog.marked_position(marks, plain) == pos1
    assert changelog.marked_position(marks, unrecorded) == pos2
