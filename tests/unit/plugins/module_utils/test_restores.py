"""restores.py: a restore is keyed by its backup and scope, refused when the scope is not in the
backup, and knows what shows that its data is still there."""
import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.backup import restores
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError

BACKUP = dict(id="rb1", checksums={"rdb.t1": {}, "rdb.t2": {}, "shop.items": {}})


def test_a_restore_is_keyed_by_backup_and_scope():
    whole = restores.restore_id("rb1", "c")
    assert whole == "rb1-to-c"
    one = restores.restore_id("rb1", "c", tables=["rdb.t1"])
    assert one.startswith("rb1-to-c-") and one != whole
    assert one == restores.restore_id("rb1", "c", tables=["RDB.T1"])  # TiDB compares names case-insensitively
    assert restores.restore_id("rb1", "c", databases=["rdb"]) not in (whole, one)
    assert restores.restore_id(None, "c") == "path-to-c"


@pytest.mark.parametrize("scope", [dict(tables=["rdb.typo"]), dict(databases=["nosuch"]), dict(tables=["x.t1"])])
def test_a_scope_the_backup_does_not_hold_is_refused(scope):
    with pytest.raises(TidbOpsError) as caught:
        restores.check_scope(BACKUP, **scope)
    assert caught.value.code == "RESTORE_SCOPE_NOT_IN_BACKUP"
    assert caught.value.details["missing"] == (scope.get("tables") or scope.get("databases"))


def test_a_scope_the_backup_holds_or_cannot_tell_is_accepted():
    restores.check_scope(BACKUP, tables=["rdb.t1", "SHOP.items"])
    restores.check_scope(BACKUP, databases=["rdb"])
    restores.check_scope(dict(id="nochecksum"), tables=["any.thing"])
    restores.check_scope(dict(id="dbs", databases=["rdb"]), tables=["rdb.anything"])
    with pytest.raises(TidbOpsError):
        restores.check_scope(dict(id="dbs", databases=["rdb"]), tables=["other.t"])


def test_what_shows_a_restore_is_still_there():
    assert restores.restored_objects(BACKUP) == (["rdb.t1", "rdb.t2", "shop.items"], None)
    assert restores.restored_objects(BACKUP, databases=["rdb"]) == (["rdb.t1", "rdb.t2"], None)
    assert restores.restored_objects(BACKUP, tables=["shop.items"]) == (["shop.items"], None)
    assert restores.restored_objects(dict(databases=["rdb"])) == (None, ["rdb"])
    assert restores.restored_objects({}) == (None, None)
