"""dumpling.py: the one-time account Dumpling logs in with, its flags, and its outcome."""
import re

import pymysql
import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.tools import dumpling
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.runner import MASK, CommandResult


class FakeConnection(object):
    """Records each statement as PyMySQL would send it; fail(statement) may raise."""

    def __init__(self, fail=None):
        self.sent = []
        self.fail = fail or (lambda statement: None)

    def cursor(self, cursor_class=None):
        assert cursor_class is pymysql.cursors.DictCursor
        return FakeCursor(self)


class FakeCursor(object):
    description = None
    rowcount = 0
    warning_count = 0

    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, statement, args=None):
        if args is not None:  # PyMySQL fills placeholders with % and quoted values
            statement = statement % tuple("'%s'" % a for a in args)
        self.connection.sent.append(statement)
        self.connection.fail(statement)

    def fetchall(self):
        return []


def denied(prefix):
    def fail(statement):
        if statement.startswith(prefix):
            raise pymysql.err.OperationalError(1227, "Access denied; you need the CREATE USER privilege")
    return fail


def params(**overrides):
    values = dict(login_host="10.0.0.5", login_port=4000, file_type="sql", threads=8, file_size="256MiB",
                  rows=200000, filter=None, sql=None, where=None, compress=None, consistency=None, snapshot=None,
                  ca_cert=None, client_cert=None, client_key=None)
    values.update(overrides)
    return values


# -- the account -------------------------------------------------------------------------

def test_account_name_is_stable_short_and_per_job():
    name = dumpling.account_name("export/nightly-dump-with-a-rather-long-name-2026-03-01")
    assert name == dumpling.account_name("export/nightly-dump-with-a-rather-long-name-2026-03-01")
    assert len(name) <= 32 and re.match(r"^[a-z0-9_]+$", name)
    assert name != dumpling.account_name("export/other")


def test_one_time_account_is_created_granted_and_dropped():
    connection = FakeConnection()
    with dumpling.one_time_account(connection, "export/x") as (user, password):
        assert user == dumpling.account_name("export/x")
        assert len(password) >= 24
        assert connection.sent == [
            "DROP USER IF EXISTS '%s'@'%%'" % user,
            "CREATE USER '%s'@'%%' IDENTIFIED BY '%s'" % (user, password),
            "GRANT SELECT, RELOAD, LOCK TABLES, REPLICATION CLIENT, PROCESS, SHOW VIEW ON *.* TO '%s'@'%%'" % user,
        ]
    assert connection.sent[3:] == ["DROP USER IF EXISTS '%s'@'%%'" % user]


def test_one_time_passwords_differ():
    passwords = []
    for _run in range(2):
        with dumpling.one_time_account(FakeConnection(), "export/x") as (_user, password):
            passwords.append(password)
    assert passwords[0] != passwords[1]


def test_one_time_account_is_dropped_when_the_dump_fails():
    connection = FakeConnection()
    with pytest.raises(RuntimeError):
        with dumpling.one_time_account(connection, "export/x") as (user, _password):
            raise RuntimeError("dumpling crashed")
    assert connection.sent[-1] == "DROP USER IF EXISTS '%s'@'%%'" % user
    assert len(connection.sent) == 4


@pytest.mark.parametrize("failing", ["CREATE USER", "GRANT"])
def test_a_refused_account_is_export_account_failed_and_dropped(failing):
    connection = FakeConnection(fail=denied(failing))
    with pytest.raises(TidbOpsError) as info:
        with dumpling.one_time_account(connection, "export/x"):
            pytest.fail("the body must not run")
    user = dumpling.account_name("export/x")
    assert info.value.code == "EXPORT_ACCOUNT_FAILED"
    assert info.value.details["account"] == user and info.value.details["sql_errno"] == 1227
    assert "Access denied" in info.value.msg
    assert connection.sent[-1] == "DROP USER IF EXISTS '%s'@'%%'" % user
    password = re.search(r"IDENTIFIED BY '([^']+)'", connection.sent[1]).group(1)
    assert password not in str(info.value.fail_kwargs())


def test_a_failing_drop_after_a_refused_create_still_reports_the_create():
    def fail(statement):
        if not statement.startswith("DROP") or fail.drops:
            raise pymysql.err.OperationalError(1227, "Access denied")
        fail.drops += 1
    fail.drops = 0
    with pytest.raises(TidbOpsError) as info:
        with dumpling.one_time_account(FakeConnection(fail=fail), "export/x"):
            pass
    assert info.value.code == "EXPORT_ACCOUNT_FAILED"


# -- flags -------------------------------------------------------------------------------

def flag_values(argv, flag):
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == flag]


def test_dumpling_argv_defaults():
    argv = dumpling.dumpling_argv(params(), "/data/out", "tidbops_dump_1", "pw", "/work/dumpling.log")
    assert argv == ["-h", "10.0.0.5", "-P", "4000", "-u", "tidbops_dump_1", "-p", "pw", "-o", "/data/out",
                    "--filetype", "sql", "-t", "8", "-F", "256MiB", "-L", "/work/dumpling.log", "--loglevel", "info",
                    "-r", "200000"]


def test_dumpling_argv_every_option():
    argv = dumpling.dumpling_argv(
        params(file_type="csv", filter=["db1.*", "!db1.secret"], where="id < 100", compress="gzip",
               consistency="snapshot", snapshot="446315468923437059", ca_cert="/tls/ca.pem",
               client_cert="/tls/client.pem", client_key="/tls/client.key", threads=2, rows=0),
        "s3://b/p?endpoint=http://minio:9000", "u", "pw", "/l")
    assert flag_values(argv, "-f") == ["db1.*", "!db1.secret"]
    assert flag_values(argv, "--where") == ["id < 100"]
    assert flag_values(argv, "-c") == ["gzip"]
    assert flag_values(argv, "--consistency") == ["snapshot"]
    assert flag_values(argv, "--snapshot") == ["446315468923437059"]
    assert flag_values(argv, "--ca") == ["/tls/ca.pem"]
    assert flag_values(argv, "--cert") == ["/tls/client.pem"]
    assert flag_values(argv, "--key") == ["/tls/client.key"]
    assert flag_values(argv, "--filetype") == ["csv"] and flag_values(argv, "-t") == ["2"]
    assert flag_values(argv, "-o") == ["s3://b/p?endpoint=http://minio:9000"]
    assert "-r" not in argv and "--sql" not in argv


def test_dumpling_argv_sql():
    argv = dumpling.dumpling_argv(params(file_type="csv", sql="SELECT * FROM db.t WHERE a > 1", rows=None),
                                  "/o", "u", "pw", "/l")
    assert flag_values(argv, "--sql") == ["SELECT * FROM db.t WHERE a > 1"]
    assert "-r" not in argv and "-f" not in argv and "--ca" not in argv


# -- option checks -----------------------------------------------------------------------

@pytest.mark.parametrize("overrides", [
    dict(), dict(file_type="csv", sql="SELECT 1"), dict(file_size="1GiB"), dict(file_size="1024"),
    dict(file_size="0.5GiB"), dict(file_size="64m"), dict(rows=None), dict(rows=0),
])
def test_valid_options(overrides):
    dumpling.check_options(params(**overrides))


@pytest.mark.parametrize("overrides, words", [
    (dict(file_type="csv", sql="SELECT 1", filter=["db.*"]), "filter"),
    (dict(file_type="sql", sql="SELECT 1"), "csv"),
    (dict(file_type="csv", sql="SELECT 1", where="a > 1"), "where"),
    (dict(file_size="lots"), "file_size"),
    (dict(file_size="-1MiB"), "file_size"),
    (dict(file_size="256 XB"), "file_size"),
])
def test_invalid_options(overrides, words):
    with pytest.raises(TidbOpsError) as info:
        dumpling.check_options(params(**overrides))
    assert info.value.code == "INVALID_ARGUMENT"
    assert words in info.value.msg


# -- outcome -----------------------------------------------------------------------------

LOG = """[2026/03/01 12:00:00.000 +00:00] [INFO] [versions.go:54] ["Welcome to dumpling"]
[2026/03/01 12:00:01.000 +00:00] [INFO] [collector.go:264] ["backup success summary"] [total-ranges=3] [total_rows=7]
[2026/03/01 12:00:02.000 +00:00] [INFO] [collector.go:264] ["backup success summary"] [total-ranges=4] [total-rows=42]
[2026/03/01 12:00:02.000 +00:00] [INFO] [main.go:82] ["dump data successfully, dumpling will exit now"]
"""


def test_outcome_success_reads_the_last_row_count():
    result = CommandResult("dumpling -p " + MASK, 0, "", "")
    assert dumpling.outcome(result, LOG, ["pw"]) == 42


def test_outcome_success_from_stdout_without_a_count():
    result = CommandResult("dumpling", 0, '["dump data successfully, dumpling will exit now"]', "")
    assert dumpling.outcome(result, None, []) is None


def test_outcome_exit_zero_without_success_is_a_failure():
    result = CommandResult("dumpling", 0, "", "something odd happened")
    with pytest.raises(TidbOpsError) as info:
        dumpling.outcome(result, "", [])
    assert info.value.code == "EXPORT_FAILED"
    assert "something odd happened" in info.value.msg


def test_outcome_failure_is_export_failed_with_the_password_masked():
    password = "Zq3-one-time-pw_x"
    stderr = ("[2026/03/01] [INFO] [dump.go:1] [\"begin to run Dump\"]\n"
              "create dumper failed: sql: SELECT 1: Error 1045: Access denied for user "
              "'tidbops_dump_1'@'%' (using password: " + password + ")\n")
    result = CommandResult("dumpling -p " + MASK, 1, "", stderr)
    with pytest.raises(TidbOpsError) as info:
        dumpling.outcome(result, "", [password])
    assert info.value.code == "EXPORT_FAILED"
    assert info.value.details["rc"] == 1
    assert "create dumper failed" in info.value.msg and "Access denied" in info.value.msg
    assert password not in info.value.msg and MASK in info.value.msg


class AccountServer(FakeConnection):
    """mysql.user with these users; DROP USER statements are recorded in sent."""

    def __init__(self, users, readable=True):
        super(AccountServer, self).__init__()
        self.users, self.readable = users, readable

    def cursor(self, cursor_class=None):
        cursor = FakeCursor(self)
        cursor.description = (("user",),)
        cursor.fetchall = lambda: [dict(user=u.encode()) for u in self.users] \
            if self.sent and "mysql.user" in self.sent[-1] else []
        return cursor


def test_stale_one_time_accounts_are_dropped_and_running_ones_kept():
    running = dumpling.account_name("export/live")
    stale = dumpling.account_name("export/killed")
    server = AccountServer([running, stale, "tidbops_dumper", "app"])
    assert dumpling.drop_stale_accounts(server, keep=[running]) == [stale]
    assert server.sent[0] == "SELECT User AS user FROM mysql.user WHERE User LIKE 'tidbops\\_dump\\_%'"
    assert server.sent[1:] == ["DROP USER IF EXISTS '%s'@'%%'" % stale]


def test_a_login_that_cannot_read_mysql_user_drops_nothing():
    server = FakeConnection(fail=denied("SELECT User"))
    assert dumpling.drop_stale_accounts(server, keep=[]) == []
