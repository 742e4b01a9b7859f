"""The TiDB connection options and statement classification."""
import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.specs import login_options
from ansible_collections.tidbops.manager.plugins.module_utils.tools.sql import connection_params, is_read_only


def params(**overrides):
    spec = login_options()
    values = dict((k, v.get("default")) for k, v in spec.items())
    values.update(overrides)
    return values


def test_password_is_no_log_and_defaults_match_tidb():
    spec = login_options()
    assert spec["login_password"]["no_log"] is True
    assert spec["login_user"]["default"] == "root"
    # no default host or port: a login given says which cluster (cluster/identity.py); without
    # one and without a cluster, TiDB's own defaults
    assert "default" not in spec["login_host"] and "default" not in spec["login_port"]
    kwargs = connection_params(params())
    assert (kwargs["host"], kwargs["port"]) == ("127.0.0.1", 4000)


def test_tls_options_become_pymysql_ssl():
    kwargs = connection_params(params(ca_cert="/ca.pem", client_cert="/c.pem", client_key="/k.pem",
                                      check_hostname=False))
    assert kwargs["ssl"] == {"ca": "/ca.pem", "cert": "/c.pem", "key": "/k.pem", "check_hostname": False}
    assert "ssl" not in connection_params(params())


@pytest.mark.parametrize("statement, read_only", [
    ("SELECT 1", True), ("  show databases", True), ("(SELECT 1) UNION (SELECT 2)", True),
    ("WITH t AS (SELECT 1) SELECT * FROM t", True), ("EXPLAIN SELECT 1", True),
    ("SELECT * FROM t FOR UPDATE", False), ("SELECT 1 INTO OUTFILE '/tmp/x'", False),
    ("INSERT INTO t VALUES (1)", False), ("SET GLOBAL tidb_gc_life_time = '24h'", False),
])
def test_read_only_statements(statement, read_only):
    assert is_read_only(statement) is read_only
