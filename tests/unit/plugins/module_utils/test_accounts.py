"""Reading TiDB's account text and planning the GRANT/REVOKE that make an account as declared."""
import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools import accounts

CREATE = ("CREATE USER 'u'@'%' IDENTIFIED WITH 'mysql_native_password' AS '*14E65567ABDB5135D0CFD9A70B3032C179A49EE7'"
          " REQUIRE NONE PASSWORD EXPIRE DEFAULT ACCOUNT LOCK PASSWORD HISTORY DEFAULT PASSWORD REUSE INTERVAL DEFAULT")


def test_native_hash_is_mysqls():
    assert accounts.native_hash("secret") == "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7"


def test_show_create_user_is_read():
    assert accounts.parse_create_user(CREATE) == dict(
        plugin="mysql_native_password", hash="*14E65567ABDB5135D0CFD9A70B3032C179A49EE7", locked=True)
    old = "CREATE USER 'u'@'%' IDENTIFIED WITH 'auth_socket' REQUIRE NONE PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK"
    assert accounts.parse_create_user(old) == dict(plugin="auth_socket", hash="", locked=False)
    with pytest.raises(TidbOpsError) as err:
        accounts.parse_create_user("CREATE USER `u`@`%` IDENTIFIED BY PASSWORD '*00'")  # MariaDB's, not TiDB's
    assert err.value.code == "TIDB_OUTPUT_INVALID"


def test_show_grants_lines_become_levels():
    lines = ["GRANT USAGE ON *.* TO 'u'@'%'", "GRANT SELECT,INSERT ON `shop`.* TO 'u'@'%'",
             "GRANT SELECT ON `shop`.`items` TO 'u'@'%' WITH GRANT OPTION", "GRANT 'r1'@'%' TO 'u'@'%'",
             "GRANT BACKUP_ADMIN,RESTORE_ADMIN ON *.* TO 'u'@'%'"]
    assert accounts.parse_grants(lines) == {"*.*": {"BACKUP_ADMIN", "RESTORE_ADMIN"}, "shop.*": {"SELECT", "INSERT"},
                                            "shop.items": {"SELECT", "GRANT OPTION"}}
    assert accounts.parse_grants(["GRANT USAGE ON *.* TO 'u'@'%'"]) == {}


def test_declared_privileges_are_checked_and_normalised():
    assert accounts.declared_privileges({"*.*": "select, Grant, all", "`a`.*": ["show  databases"], "a.b": []}) == {
        "*.*": {"SELECT", "GRANT OPTION", "ALL PRIVILEGES"}, "a.*": {"SHOW DATABASES"}, "a.b": set()}
    for privileges, code in (({"*.*": ["FLY"]}, "PRIVILEGE_UNKNOWN"), ({"a.*": ["BACKUP_ADMIN"]}, "PRIVILEGE_LEVEL_INVALID"),
                             ({"a": ["SELECT"]}, "PRIVILEGE_LEVEL_INVALID"), ({"*.b": ["SELECT"]}, "PRIVILEGE_LEVEL_INVALID")):
        with pytest.raises(TidbOpsError) as err:
            accounts.declared_privileges(privileges)
        assert err.value.code == code, privileges


def test_revokes_come_before_grants_and_append_revokes_nothing():
    current = {"*.*": {"PROCESS", "BACKUP_ADMIN"}, "a.*": {"SELECT"}}
    wanted = {"*.*": {"ALL PRIVILEGES"}, "b.*": {"SELECT"}}
    assert accounts.privilege_changes(current, wanted, append=False) == [
        ("REVOKE", "*.*", ["BACKUP_ADMIN", "PROCESS"], False), ("REVOKE", "a.*", ["SELECT"], False),
        ("GRANT", "*.*", ["ALL PRIVILEGES"], False), ("GRANT", "b.*", ["SELECT"], False)]
    assert accounts.privilege_changes(current, wanted, append=True) == [
        ("GRANT", "*.*", ["ALL PRIVILEGES"], False), ("GRANT", "b.*", ["SELECT"], False)]
    assert accounts.privilege_changes(current, dict(current), append=False) == []


def test_taking_the_grant_option_regrants_the_kept_dynamic_privileges():
    current = {"*.*": {"SYSTEM_VARIABLES_ADMIN", "GRANT OPTION"}}
    assert accounts.privilege_changes(current, {"*.*": {"SYSTEM_VARIABLES_ADMIN"}}, append=False) == [
        ("REVOKE", "*.*", ["GRANT OPTION"], False), ("GRANT", "*.*", ["SYSTEM_VARIABLES_ADMIN"], False)]


def test_levels_are_quoted_for_sql():
    assert accounts.quote_level("*.*") == "*.*"
    assert accounts.quote_level("sh`op.items") == "`sh``op`.`items`"
    assert accounts.account_name("o'neil", "%") == "'o''neil'@'%'"
