"""BR statements: the storage URL, credentials kept inside the statement only, and masking."""
import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.tools.brie import (
    BrieTarget, backup_statement, backupmeta_end_version, restore_statement, run_brie, scope_clause, tso_to_unix)
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError

S3 = dict(s3_endpoint="http://127.0.0.1:9000", s3_region="us-east-1", s3_access_key="AKID",
          s3_secret_key="se/cr+et=key", s3_session_token=None)


def test_local_target():
    target = BrieTarget("/mnt/backups/c1/2026-01-01-00-00-00-full", {})
    assert target.kind == "local"
    assert target.url == target.sql_url == "local:///mnt/backups/c1/2026-01-01-00-00-00-full"


def test_s3_target_puts_credentials_only_in_the_sql_url():
    target = BrieTarget("s3://bucket/prefix/c1", S3)
    assert target.url == "s3://bucket/prefix/c1"
    assert "secret" not in target.url
    assert target.sql_url.startswith("s3://bucket/prefix/c1?")
    assert "secret-access-key=se%2Fcr%2Bet%3Dkey" in target.sql_url
    assert "access-key=AKID" in target.sql_url and "force-path-style=true" in target.sql_url
    assert "endpoint=http%3A%2F%2F127.0.0.1%3A9000" in target.sql_url


def test_mask_hides_plain_and_encoded_secret():
    target = BrieTarget("s3://bucket/p", S3)
    text = "failed for %s and se/cr+et=key" % target.sql_url
    masked = target.mask(text)
    assert "se/cr+et=key" not in masked and "se%2Fcr%2Bet%3Dkey" not in masked


def test_statements():
    target = BrieTarget("/b/x", {})
    assert backup_statement(target) == "BACKUP DATABASE * TO 'local:///b/x'"
    assert backup_statement(target, databases=["shop", "we`ird"], rate_limit=120, concurrency=4, checksum=False,
                            last_backup=439330705621123078) == (
        "BACKUP DATABASE `shop`, `we``ird` TO 'local:///b/x' RATE_LIMIT = 120 MB/SECOND CONCURRENCY = 4 "
        "CHECKSUM = FALSE LAST_BACKUP = 439330705621123078")
    assert backup_statement(target, snapshot="2026-01-01 00:00:00").endswith("SNAPSHOT = '2026-01-01 00:00:00'")
    assert restore_statement(target, tables=["shop.items"]) == "RESTORE TABLE `shop`.`items` FROM 'local:///b/x'"
    assert scope_clause(None, None) == "DATABASE *"
    with pytest.raises(TidbOpsError):
        scope_clause(None, ["items"])


def test_quotes_in_paths_cannot_break_the_statement():
    target = BrieTarget("/b/it's", {})
    assert backup_statement(target) == "BACKUP DATABASE * TO 'local:///b/it''s'"


class FailingConnection(object):
    def __init__(self, errno, message):
        self.errno, self.message = errno, message

    def cursor(self, *args):
        import pymysql

        errno, message = self.errno, self.message

        class Cursor(object):
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def execute(self, statement, args=None):
                raise pymysql.err.OperationalError(errno, message)
        return Cursor()


@pytest.mark.parametrize("errno, message, failure, code", [
    (1317, "Query execution was interrupted", "BACKUP_FAILED", "BACKUP_CANCELLED"),
    (8124, "[BR:Restore:ErrTablesAlreadyExisted]tables already existed in restored cluster", "RESTORE_FAILED",
     "RESTORE_TABLES_EXIST"),
    (8124, "backup meta file exists in local:///b/backupmeta, there may be some backup files in the path already",
     "BACKUP_FAILED", "BACKUP_PATH_NOT_EMPTY"),
    (8124, "[BR:ExternalStorage:ErrStorageUnknown] connection refused", "BACKUP_FAILED", "BACKUP_FAILED"),
    # BR's checkBackupLock (br/pkg/task/backup.go): a lock and SST files of a backup that never wrote its meta.
    (8124, "backup lock file and sst file exist in local:///b, there are some backup files in the path already, "
     "please specify a correct backup directory!", "BACKUP_FAILED", "BACKUP_PATH_NOT_EMPTY"),
])
def test_brie_errors_get_codes_and_lose_secrets(errno, message, failure, code):
    target = BrieTarget("s3://bucket/p", S3)
    with pytest.raises(TidbOpsError) as caught:
        run_brie(FailingConnection(errno, message + " " + target.sql_url), backup_statement(target), target, failure)
    assert caught.value.code == code
    assert "se/cr+et=key" not in caught.value.msg and "se%2Fcr%2Bet%3Dkey" not in caught.value.msg
    assert "se%2Fcr%2Bet%3Dkey" not in caught.value.details["statement"]


def test_tso_physical_part():
    # The BR docs' sample TSO: physical part 1675913641438 ms, i.e. 2023-02-09.
    assert tso_to_unix(439330705621123078) == pytest.approx(1675913641.438)


def test_a_task_is_finished_only_with_a_finish_time():
    import datetime
    from ansible_collections.tidbops.manager.plugins.module_utils.tools.brie import finished
    assert finished({"Finish_time": datetime.datetime(2026, 11, 22, 2, 0)}) is True
    assert finished({"Finish_time": "0000-00-00 00:00:00"}) is False
    assert finished({"Finish_time": None}) is False


def encode_fields(*fields):
    """A protobuf message of (number, value) fields: ints as varints, bytes length-delimited."""
    def varint(value):
        out = bytearray()
        while True:
            out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
            value >>= 7
            if not value:
                return bytes(out)
    data = b""
    for number, value in fields:
        if isinstance(value, int):
            data += varint(number << 3) + varint(value)
        else:
            data += varint(number << 3 | 2) + varint(len(value)) + value
    return data


def test_the_backup_ts_is_read_from_backupmeta_field_6():
    ts = 439330705621123078
    meta = encode_fields((1, 7012345678901234567), (2, b"v7.5.1"), (4, b"\x0a\x03sst"), (6, ts), (11, b"BR v7.5.1"))
    assert backupmeta_end_version(meta) == ts
    assert backupmeta_end_version(encode_fields((1, 5), (2, b"v7.5.1"))) is None
    assert backupmeta_end_version(b"\xff\xff\xff") is None  # not a protobuf (encrypted, truncated)
    assert backupmeta_end_version(b"") is None
