"""import_into.py: Dumpling's files grouped by table, IMPORT INTO statements, and following a job."""
import pymysql
import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.tools import import_into
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError


class FakeConnection(object):
    """Answers each statement with answer(statement) (rows, or an exception to raise); records them."""

    def __init__(self, answer):
        self.answer = answer
        self.sent = []

    def cursor(self, cursor_class=None):
        assert cursor_class is pymysql.cursors.DictCursor
        return FakeCursor(self)


class FakeCursor(object):
    warning_count = 0

    def __init__(self, connection):
        self.connection = connection
        self.rows = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    @property
    def description(self):
        return (("column",),) if self.rows is not None else None

    @property
    def rowcount(self):
        return len(self.rows or [])

    def execute(self, statement, args=None):
        self.connection.sent.append((statement, args))
        answer = self.connection.answer(statement)
        if isinstance(answer, Exception):
            raise answer
        self.rows = answer

    def fetchall(self):
        return tuple(self.rows)


def job(status, **extra):
    row = {"Job_ID": 7, "Data_Source": b"s3://b/p/db.t.*.sql", "Target_Table": b"`db`.`t`", "Status": status,
           "Result_Message": b"", "Imported_Rows": 0}
    row.update(extra)
    return row


def statuses(*sequence):
    """An answer giving SHOW IMPORT JOB rows with these statuses in turn (the last one repeats)."""
    remaining = list(sequence)

    def answer(statement):
        if statement.startswith("SHOW IMPORT JOB "):
            return [job(remaining.pop(0) if len(remaining) > 1 else remaining[0])]
        return None
    return answer


# -- source files ------------------------------------------------------------------------

DUMP_LISTING = [
    "metadata", "db1-schema-create.sql", "db1.t1-schema.sql", "db1.t1.000000000.sql", "db1.t1.000000001.sql",
    "db1.t2-schema.sql", "db1.t2.0000000000000.csv.gz", "db1.t2.0000000010000.csv.gz", "db1.v1-schema-view.sql",
    "db1.t1-schema-triggers.sql", "sub/db1.t3.000000000.sql", "db2.orders.000000000.csv",
]


def test_source_tables_groups_data_files():
    tables = import_into.source_tables(DUMP_LISTING)
    assert tables == {
        ("db1", "t1"): {"format": "sql", "compression": "", "files": ["db1.t1.000000000.sql", "db1.t1.000000001.sql"]},
        ("db1", "t2"): {"format": "csv", "compression": ".gz",
                        "files": ["db1.t2.0000000000000.csv.gz", "db1.t2.0000000010000.csv.gz"]},
        ("db2", "orders"): {"format": "csv", "compression": "", "files": ["db2.orders.000000000.csv"]},
    }


def test_source_tables_without_data_files():
    assert import_into.source_tables(["metadata", "db1-schema-create.sql", "db1.t1-schema.sql"]) == {}


@pytest.mark.parametrize("second", ["db.t.000000001.csv", "db.t.000000001.sql.gz"])
def test_mixed_formats_of_a_table_are_refused(second):
    with pytest.raises(TidbOpsError) as info:
        import_into.source_tables(["db.t.000000000.sql", second])
    assert info.value.code == "IMPORT_SOURCE_INVALID"
    assert "db.t" in info.value.msg


def test_split_statements_of_a_dumpling_schema_file():
    text = ("/*!40101 SET NAMES binary*/;\n"
            "CREATE TABLE `t1` (\n"
            "  `id` bigint(20) NOT NULL,\n"
            "  `note` varchar(64) DEFAULT 'a;b' COMMENT 'semi;colon',\n"
            "  PRIMARY KEY (`id`) /*T![clustered_index] CLUSTERED */\n"
            ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n")
    assert import_into.split_statements(text) == [
        "/*!40101 SET NAMES binary*/",
        "CREATE TABLE `t1` (\n  `id` bigint(20) NOT NULL,\n  `note` varchar(64) DEFAULT 'a;b' COMMENT 'semi;colon',\n"
        "  PRIMARY KEY (`id`) /*T![clustered_index] CLUSTERED */\n"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
    ]


def test_split_statements_keeps_an_unterminated_last_statement():
    assert import_into.split_statements("CREATE DATABASE `db`;\n\nCREATE TABLE `t` (\n  id int\n)\n") == [
        "CREATE DATABASE `db`", "CREATE TABLE `t` (\n  id int\n)"]


# -- the statement -----------------------------------------------------------------------

SQL = {"format": "sql", "compression": "", "files": []}
CSV_GZ = {"format": "csv", "compression": ".gz", "files": []}


def test_import_statement_local():
    statement, masked = import_into.import_statement("/data/exports/x", {}, "db1", "t1", SQL, header=True)
    assert statement == "IMPORT INTO `db1`.`t1` FROM '/data/exports/x/db1.t1.*.sql' FORMAT 'sql' WITH DETACHED"
    assert masked == statement


def test_import_statement_s3_keeps_the_query_after_the_pattern_and_masks_the_secret():
    params = dict(s3_access_key="AKID", s3_secret_key="SECRET/KEY+1", s3_session_token="TOKEN",
                  s3_endpoint="http://minio:9000", s3_region="us-east-1", threads=4)
    statement, masked = import_into.import_statement("s3://bucket/exports/x", params, "db1", "t2", CSV_GZ,
                                                     header=True)
    url = statement.split(" FROM '", 1)[1].split("'", 1)[0]
    base, query = url.split("?", 1)
    assert base == "s3://bucket/exports/x/db1.t2.*.csv.gz"
    assert "secret-access-key=SECRET%2FKEY%2B1" in query and "session-token=TOKEN" in query
    assert "endpoint=http%3A%2F%2Fminio%3A9000" in query and "force-path-style=true" in query
    assert statement.endswith(" FORMAT 'csv' WITH DETACHED, SKIP_ROWS=1, THREAD=4")
    assert "SECRET" not in masked and "TOKEN" not in masked
    assert masked.startswith("IMPORT INTO `db1`.`t2` FROM 's3://bucket/exports/x/db1.t2.*.csv.gz?")


@pytest.mark.parametrize("entry, header, skip", [(CSV_GZ, True, True), (CSV_GZ, False, False), (SQL, True, False)])
def test_skip_rows_only_for_csv_with_a_header(entry, header, skip):
    statement, _masked = import_into.import_statement("/d", {}, "db", "t", entry, header)
    assert ("SKIP_ROWS=1" in statement) is skip
    assert "THREAD" not in statement


@pytest.mark.parametrize("suffix", [".gz", ".snappy", ".zst", ".zstd", ".gzip"])
def test_compressed_exports_are_imported_with_their_own_suffix(suffix):
    """tidb_export offers gzip, snappy and zstd; IMPORT INTO reads all three (by file suffix)."""
    tables = import_into.source_tables(["db.t.000000000.sql" + suffix, "db.t.000000001.sql" + suffix])
    assert tables[("db", "t")]["compression"] == suffix
    statement, _masked = import_into.import_statement("/data", {}, "db", "t", tables[("db", "t")], False)
    assert "'/data/db.t.*.sql%s'" % suffix in statement


def test_import_statement_quotes_names():
    statement, _masked = import_into.import_statement("/d/it's", {}, "my`db", "t", SQL, False)
    assert statement.startswith("IMPORT INTO `my``db`.`t` FROM '/d/it''s/my`db.t.*.sql'")


# -- jobs --------------------------------------------------------------------------------

def test_job_row_decodes_bytes():
    assert import_into.job_row({"Job_ID": 7, "Status": b"finished", "Result_Message": b"\xff ok", "X": None}) == {
        "Job_ID": 7, "Status": "finished", "Result_Message": "\ufffd ok", "X": None}


def test_wait_job_returns_the_finished_row():
    connection = FakeConnection(statuses(b"finished"))
    seen = []
    row = import_into.wait_job(connection, 7, 10, progress=seen.append)
    assert row["Status"] == "finished" and row["Target_Table"] == "`db`.`t`"
    assert seen == [row]
    assert [s for s, _a in connection.sent] == ["SHOW IMPORT JOB 7"]


def test_wait_job_follows_a_running_job_to_its_end():
    connection = FakeConnection(statuses(b"pending", b"running", b"finished"))
    assert import_into.wait_job(connection, 7, 10)["Status"] == "finished"
    assert [s for s, _a in connection.sent] == ["SHOW IMPORT JOB 7"] * 3


@pytest.mark.parametrize("status", [b"failed", b"cancelled"])
def test_wait_job_failed_is_import_failed(status):
    def answer(statement):
        return [job(status, Result_Message=b"checksum mismatched")] if statement.startswith("SHOW") else None
    with pytest.raises(TidbOpsError) as info:
        import_into.wait_job(FakeConnection(answer), 7, 10)
    assert info.value.code == "IMPORT_FAILED"
    assert "checksum mismatched" in info.value.msg and status.decode() in info.value.msg
    assert info.value.details["job_id"] == 7


def test_wait_job_past_the_timeout_is_cancelled():
    connection = FakeConnection(statuses(b"running"))
    with pytest.raises(TidbOpsError) as info:
        import_into.wait_job(connection, 7, 0.05)
    assert info.value.code == "IMPORT_TIMEOUT"
    sent = [s for s, _a in connection.sent]
    assert sent[-1] == "CANCEL IMPORT JOB 7"
    assert set(sent[:-1]) == {"SHOW IMPORT JOB 7"}


def test_start_job_masks_the_statement_in_its_error():
    statement, masked = import_into.import_statement(
        "s3://bucket/p", dict(s3_access_key="AKID", s3_secret_key="SECRET"), "db", "t", SQL, False)

    def answer(sent):
        return pymysql.err.ProgrammingError(1064, "syntax error near '%s'" % sent)
    with pytest.raises(TidbOpsError) as info:
        import_into.start_job(FakeConnection(answer), statement, masked)
    assert info.value.code == "IMPORT_FAILED"
    assert "SECRET" not in str(info.value.fail_kwargs())
    assert info.value.details["sql_errno"] == 1064


def test_start_job_returns_the_decoded_row():
    row = import_into.start_job(FakeConnection(lambda s: [job(b"pending")]), "IMPORT INTO ...", "IMPORT INTO ...")
    assert row["Job_ID"] == 7 and row["Status"] == "pending"


def test_active_job_finds_a_running_job_of_the_table():
    rows = [job(b"finished", Job_ID=5), job(b"running", Job_ID=6, Target_Table=b"`db`.`other`"),
            job(b"running", Job_ID=8)]
    connection = FakeConnection(lambda s: rows)
    assert import_into.active_job(connection, "db", "t")["Job_ID"] == 8
    assert import_into.active_job(connection, "db", "none") is None


# -- resuming one job per table ----------------------------------------------------------

class JobServer(object):
    """SHOW IMPORT JOB[S] and IMPORT INTO answered from a dict of jobs {id: (table, status)}."""

    def __init__(self, jobs, tables=("t",)):
        self.jobs = dict(jobs)
        self.tables = tables
        self.started = []

    def answer(self, statement):
        if statement.startswith("SHOW IMPORT JOB "):
            job_id = int(statement.rsplit(" ", 1)[1])
            table, status = self.jobs[job_id]
            return [job(status, Job_ID=job_id, Target_Table=("`db`.`%s`" % table).encode())]
        if statement == "SHOW IMPORT JOBS":
            return [job(status, Job_ID=i, Target_Table=("`db`.`%s`" % table).encode())
                    for i, (table, status) in self.jobs.items()]
        if statement.startswith("IMPORT INTO"):
            job_id = max(list(self.jobs) + [0]) + 1
            table = statement.split("`")[3]
            self.jobs[job_id] = (table, b"finished")
            self.started.append(table)
            return [job(b"pending", Job_ID=job_id)]
        if "information_schema.tables" in statement:
            return [{"n": 1}]
        return None


def run_import(server, jobs, tables=("t",)):
    saves = []
    entries = dict((("db", t), {"format": "sql", "compression": "", "files": []}) for t in tables)
    import_into.import_tables(FakeConnection(server.answer), None, "/data", dict(timeout=5), entries, jobs,
                              saved=lambda: saves.append(dict(jobs)))
    return saves


def test_import_tables_starts_one_job_per_table_and_saves_it_before_waiting():
    server = JobServer({})
    jobs = {}
    saves = run_import(server, jobs, tables=("a", "b"))
    assert server.started == ["a", "b"] and jobs == {"db.a": 1, "db.b": 2}
    assert saves == [{"db.a": 1}, {"db.a": 1, "db.b": 2}]


def test_import_tables_skips_a_finished_job_and_restarts_a_failed_one():
    server = JobServer({1: ("a", b"finished"), 2: ("b", b"failed")})
    jobs = {"db.a": 1, "db.b": 2}
    run_import(server, jobs, tables=("a", "b"))
    assert server.started == ["b"] and jobs == {"db.a": 1, "db.b": 3}


def test_import_tables_follows_a_job_a_dead_run_started_without_recording_it():
    server = JobServer({4: ("a", b"running")})
    server_answer = server.answer

    def answer(statement):  # the job ends once it has been looked at
        rows = server_answer(statement)
        if statement.startswith("SHOW IMPORT JOB "):
            server.jobs[4] = ("a", b"finished")
        return rows
    server.answer = answer
    jobs = {}
    run_import(server, jobs, tables=("a",))
    assert server.started == [] and jobs == {"db.a": 4}


def test_count_rows_adds_the_tables_that_exist():
    def answer(statement):
        if "information_schema.tables" in statement:
            return [{"n": 0}] if "missing" in str(connection.sent[-1][1]) else [{"n": 1}]
        return [{"n": 21}]
    connection = FakeConnection(answer)
    assert import_into.count_rows(connection, [("db", "a"), ("db", "missing"), ("db", "b")]) == 42
    assert ("SELECT COUNT(*) AS n FROM `db`.`a`", None) in connection.sent
