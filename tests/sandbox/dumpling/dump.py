"""The dumpling stand-in: flags, checks, messages and files of pingcap/tidb dumpling.

Flow (dumpling/cmd/dumpling/main.go, export/dump.go): parse flags (pflag errors exit 2),
ParseFromFlags (errors: "\\nparse arguments failed: ..." exit 1), NewDumper (connect,
SELECT version(), consistency, snapshot; errors: "\\ncreate dumper failed: ..." exit 1),
Dump (errors: "\\ndump failed: ..." exit 1), then the log line "dump data successfully,
dumpling will exit now". The version banner goes to stderr, log lines to -L or stdout.
"""
import datetime
import gzip
import re
import socket
import sys

import pymysql
import pymysql.converters
import pymysql.cursors

from tests.sandbox.dumpling import golog, storage, tablefilter
from tests.sandbox.dumpling.pflag import FlagError, FlagSet

DEFAULT_VERSION = "v7.5.1"
DEFAULT_TABLE_FILTER = ("!/^(mysql|sys|INFORMATION_SCHEMA|PERFORMANCE_SCHEMA|METRICS_SCHEMA|"
                        "INSPECTION_SCHEMA)$/.*")
DEFAULT_STATEMENT_SIZE = 1000000
SPEC_COMMENT = "/*!40101 SET NAMES binary*/;"
USAGE_HEAD = "Dumpling is a CLI tool that helps you dump MySQL/TiDB data\n\nUsage:\n  dumpling [flags]\n\nFlags:\n"

RAW_CONV = {k: v for k, v in pymysql.converters.conversions.items() if not isinstance(k, int)}

# pymysql FIELD_TYPE codes -> what the Go driver's DatabaseTypeName reports, reduced to
# dumpling's three receivers: number (raw), bytes (x'..' in SQL), string (quoted).
_NUMBER = {0, 1, 2, 3, 4, 5, 8, 9, 246}
_BLOBS = {249, 250, 251, 252}
_STRINGS_BIN = {253, 254}  # VAR_STRING / STRING: VARBINARY / BINARY when charset is binary

_FILENAME_ESCAPE = re.compile(r'[\x00-\x1f%"*./:<>?\\|]|-(?i:schema)')


class DumpError(Exception):
    pass


def fn_escape(name):
    """The template function `fn`: escape what cannot be in a file name."""
    return _FILENAME_ESCAPE.sub(lambda m: "%%%02X%s" % (ord(m.group(0)[0]), m.group(0)[1:]),
                                name)


def go_error(exc):
    """A PyMySQL / socket error as go-sql-driver/mysql prints it."""
    if isinstance(exc, pymysql.err.MySQLError) and exc.args and isinstance(exc.args[0], int):
        code, msg = exc.args[0], exc.args[1] if len(exc.args) > 1 else ""
        if code in (2003, 2013, 2006) and ("Connection refused" in msg or "timed out" in msg
                                           or "Can't connect" in msg):
            return None  # the caller renders the dial error
        state = {1045: "28000", 1044: "42000", 1049: "42000", 1064: "42000", 1146: "42S02",
                 1054: "42S22", 1062: "23000", 1142: "42000", 1227: "42000"}.get(code, "HY000")
        return "Error %d (%s): %s" % (code, state, msg)
    return str(exc)


def connect(conf, raw=False, database=None):
    kwargs = dict(host=conf["host"], port=conf["port"], user=conf["user"],
                  password=conf["password"], charset="utf8mb4", autocommit=True,
                  connect_timeout=10, read_timeout=900, database=database)
    if raw:
        kwargs.update(use_unicode=False, conv=RAW_CONV)
    try:
        return pymysql.connect(**kwargs)
    except pymysql.err.OperationalError as exc:
        text = go_error(exc)
        if text is None:
            raise DumpError("dial tcp %s: connect: connection refused"
                            % _hostport(conf["host"], conf["port"])) from None
        raise DumpError(text) from None


def _hostport(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def _s(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def quote_ident(name):
    return "`" + name.replace("`", "``") + "`"


# ---------------------------------------------------------------------------------------
# flags

def define_flags(fs):
    storage.define_flags(fs)
    add = fs.add
    add("database", "B", "slice", [], "Databases to dump")
    add("tables-list", "T", "slice", [], "Comma delimited table list to dump; must be qualified "
        "table names")
    add("host", "h", "string", "127.0.0.1", "The host to connect to")
    add("user", "u", "string", "root", "Username with privileges to run the dump")
    add("port", "P", "int", 4000, "TCP/IP port to connect to")
    add("password", "p", "string", "", "User password")
    add("allow-cleartext-passwords", "", "bool", False, "Allow passwords to be sent in "
        "cleartext (warning: don't use without TLS)")
    add("threads", "t", "int", 4, "Number of goroutines to use, default 4")
    add("filesize", "F", "string", "", "The approximate size of output file")
    add("statement-size", "s", "uint64", DEFAULT_STATEMENT_SIZE,
        "Attempted size of INSERT statement in bytes")
    add("output", "o", "string", "./export-" + _rfc3339(), "Output directory")
    add("loglevel", "", "string", "info", "Log level: {debug|info|warn|error|dpanic|panic|fatal}")
    add("logfile", "L", "string", "", "Log file `path`, leave empty to write to console")
    add("logfmt", "", "string", "text", "Log `format`: {text|json}")
    add("consistency", "", "string", "auto", "Consistency level during dumping: "
        "{auto|none|flush|lock|snapshot}")
    add("snapshot", "", "string", "", "Snapshot position (uint64 or MySQL style string "
        "timestamp). Valid only when consistency=snapshot")
    add("no-views", "W", "bool", True, "Do not dump views")
    add("no-sequences", "", "bool", True, "Do not dump sequences")
    add("order-by-primary-key", "", "bool", True, "Sort dump results by primary key through "
        "order by sql")
    add("status-addr", "", "string", ":8281", "dumpling API server and pprof addr")
    add("rows", "r", "uint64", 0, "If specified, dumpling will split table into chunks and "
        "concurrently dump them to different files to improve efficiency.")
    add("where", "", "string", "", "Dump only selected records")
    add("escape-backslash", "", "bool", True, "use backslash to escape special characters")
    add("filetype", "", "string", "", "The type of export file (sql/csv)")
    add("no-header", "", "bool", False, "whether not to dump CSV table header")
    add("no-schemas", "m", "bool", False, "Do not dump table schemas with the data")
    add("no-data", "d", "bool", False, "Do not dump table data")
    add("csv-null-value", "", "string", "\\N", "The null value used when export to csv")
    add("sql", "S", "string", "", "Dump data with given sql. This argument doesn't support "
        "concurrent dump", hidden=True)
    add("filter", "f", "slice", ["*.*", DEFAULT_TABLE_FILTER], "filter to select which tables "
        "to dump")
    add("case-sensitive", "", "bool", False, "whether the filter should be case-sensitive")
    add("dump-empty-database", "", "bool", True, "whether to dump empty database")
    add("tidb-mem-quota-query", "", "uint64", 0, "The maximum memory limit for a single SQL "
        "statement, in bytes.")
    add("ca", "", "string", "", "The path name to the certificate authority file for TLS "
        "connection")
    add("cert", "", "string", "", "The path name to the client certificate file for TLS "
        "connection")
    add("key", "", "string", "", "The path name to the client private key file for TLS "
        "connection")
    add("csv-separator", "", "string", ",", "The separator for csv files, default ','")
    add("csv-delimiter", "", "string", "\"", "The delimiter for values in csv files, default '\"'")
    add("csv-line-terminator", "", "string", "\r\n", "The line terminator for csv files, "
        "default '\\r\\n'")
    add("csv-output-dialect", "", "string", "", "The dialect of output csv file, support "
        "'snowflake', 'redshift', 'bigquery'")
    add("output-filename-template", "", "string", "", "The output filename template "
        "(without file extension)")
    add("complete-insert", "", "bool", False, "Use complete INSERT statements that include "
        "column names")
    add("params", "", "map", {}, "Extra session variables used while dumping, accepted "
        "format: --params \"character_set_client=latin1,character_set_connection=latin1\"")
    add("help", "", "bool", False, "Print help message and quit")
    add("read-timeout", "", "duration", "15m0s", "I/O read timeout for db connection.",
        hidden=True)
    add("transactional-consistency", "", "bool", True, "Only support transactional "
        "consistency", hidden=True)
    add("compress", "c", "string", "", "Compress output file type, support 'gzip', 'snappy', "
        "'zstd', 'no-compression' now")
    add("version", "V", "bool", False, "Print Dumpling version")


def _rfc3339():
    now = datetime.datetime.now().astimezone()
    text = now.strftime("%Y-%m-%dT%H:%M:%S%z")
    if text.endswith("+0000"):
        return text[:-5] + "Z"
    return text[:-2] + ":" + text[-2:]


_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024 ** 2, "mb": 1024 ** 2,
          "mib": 1024 ** 2, "g": 1024 ** 3, "gb": 1024 ** 3, "gib": 1024 ** 3, "t": 1024 ** 4,
          "tb": 1024 ** 4, "tib": 1024 ** 4, "p": 1024 ** 5, "pb": 1024 ** 5, "pib": 1024 ** 5}


def parse_file_size(text):
    """ParseFileSize: '' -> 0, a bare number is MiB (with a warning), else units.RAMInBytes."""
    if text == "":
        return 0
    if re.match(r"[0-9]+\Z", text):
        sys.stdout.write("Warning: -F without unit is not recommended, try using `-F '%sMiB'` "
                         "in the future\n" % text)
        return int(text) * 1024 ** 2
    match = re.match(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*\Z", text)
    if match and match.group(2).lower() in _UNITS:
        return int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    raise DumpError("failed to parse filesize (-F '%s')" % text)


COMPRESS = {"": "", "no-compression": "", "gzip": ".gz", "gz": ".gz", "snappy": ".snappy",
            "zstd": ".zst", "zst": ".zst"}


def build_config(fs):
    """ParseFromFlags + adjustConfig checks that do not need the server."""
    conf = {name: fs[name] for name in fs.flags}
    if conf["threads"] <= 0:
        raise DumpError("--threads is set to %d. It should be greater than 0" % conf["threads"])
    if conf["csv-separator"] == "":
        raise DumpError('--csv-separator is set to "". It must not be an empty string')
    tables = conf["tables-list"]
    filters = conf["filter"]
    conf["specified_tables"] = bool(tables)
    try:
        if tables:
            if filters != ["*.*", DEFAULT_TABLE_FILTER]:
                raise DumpError("failed to parse filter: cannot pass --tables-list and "
                                "--filter together")
            pairs = []
            for item in tables:
                db, dot, name = item.partition(".")
                if not dot:
                    raise DumpError("--tables-list only accepts qualified table names, but "
                                    "`%s` lacks a dot" % item)
                pairs.append((db, name))
            conf["table_filter"] = tablefilter.tables_filter(pairs)
            conf["tables"] = pairs
        else:
            conf["table_filter"] = tablefilter.parse(filters, conf["case-sensitive"])
    except tablefilter.FilterError as exc:
        raise DumpError("failed to parse filter: %s" % exc) from None
    if not conf["case-sensitive"]:
        conf["table_filter"].case_sensitive = False
    conf["filesize_bytes"] = parse_file_size(conf["filesize"])
    if conf["compress"] not in COMPRESS:
        raise DumpError("unknown compress type %s" % conf["compress"])
    conf["suffix"] = COMPRESS[conf["compress"]]
    if conf["suffix"] in (".snappy", ".zst"):
        raise DumpError("tidbops sandbox: --compress %s is not emulated (use gzip or "
                        "no-compression)" % conf["compress"])
    if conf["csv-line-terminator"] not in ("\r\n", "\n"):
        raise DumpError("invalid config: csv-line-terminator must be '\\r\\n' or '\\n'")
    if conf["csv-output-dialect"] not in ("", "default"):
        raise DumpError("tidbops sandbox: --csv-output-dialect %s is not emulated"
                        % conf["csv-output-dialect"])
    if conf["ca"] or conf["cert"] or conf["key"]:
        raise DumpError("tidbops sandbox: TLS is not emulated")
    if conf["output-filename-template"]:
        raise DumpError("tidbops sandbox: --output-filename-template is not emulated")
    conf["s3"] = {name[3:]: conf[name] for name in fs.flags
                  if name.startswith("s3.") and conf[name]}
    return conf


def adjust_config(conf):
    """adjustConfig steps of NewDumper: validateSpecifiedSQL, adjustFileFormat."""
    if conf["sql"] and conf["where"]:
        raise DumpError("can't specify both --sql and --where at the same time. Please try to "
                        "combine them into --sql")
    filetype = conf["filetype"].lower()
    if filetype == "":
        filetype = "csv" if conf["sql"] else "sql"
    elif filetype == "sql":
        if conf["sql"]:
            raise DumpError("unsupported config.FileType '%s' when we specify --sql, please "
                            "unset --filetype or set it to 'csv'" % filetype)
    elif filetype == "parquet":
        raise DumpError("tidbops sandbox: --filetype parquet is not emulated")
    elif filetype != "csv":
        raise DumpError("unknown config.FileType '%s'" % filetype)
    conf["filetype"] = filetype


# ---------------------------------------------------------------------------------------
# values

class Column:
    def __init__(self, name, kind):
        self.name = name
        self.kind = kind  # number | bytes | string


def columns_of(cursor):
    cols = []
    for field in cursor._result.fields:  # pylint: disable=protected-access
        code, binary = field.type_code, field.charsetnr == 63
        if code in _NUMBER:
            kind = "number"
        elif code == 16 or (code in _BLOBS and binary) or (code in _STRINGS_BIN and binary):
            kind = "bytes"
        else:
            kind = "string"
        cols.append(Column(field.name, kind))
    return cols


_SQL_ESCAPES = {0: b"\\0", 10: b"\\n", 13: b"\\r", 92: b"\\\\", 39: b"\\'", 34: b'\\"',
                26: b"\\Z"}


def escape_sql(data, backslash):
    if not backslash:
        return data.replace(b"'", b"''")
    out = bytearray()
    for byte in data:
        esc = _SQL_ESCAPES.get(byte)
        if esc is None:
            out.append(byte)
        else:
            out += esc
    return bytes(out)


def escape_csv(data, backslash, delimiter, separator):
    if backslash:
        spec = delimiter[:1] or separator[:1]
        out = bytearray()
        for byte in data:
            if byte == 0:
                out += b"\\0"
            elif byte == 13:
                out += b"\\r"
            elif byte == 10:
                out += b"\\n"
            elif byte == 92:
                out += b"\\\\"
            elif spec and byte == spec[0]:
                out += b"\\" + bytes([byte])
            else:
                out.append(byte)
        return bytes(out)
    if delimiter:
        return data.replace(delimiter, delimiter + delimiter)
    return data


def sql_value(value, kind, backslash):
    if value is None:
        return b"NULL"
    if kind == "number":
        return value
    if kind == "bytes":
        return b"x'" + value.hex().encode() + b"'"
    return b"'" + escape_sql(value, backslash) + b"'"


def csv_value(value, kind, opt):
    if value is None:
        return opt["null"]
    if kind == "number":
        return value
    return opt["delimiter"] + escape_csv(value, opt["backslash"], opt["delimiter"],
                                         opt["separator"]) + opt["delimiter"]


# ---------------------------------------------------------------------------------------
# the dumper

class Dumper:
    def __init__(self, conf, log, version):
        self.conf = conf
        self.log = log
        self.version = version
        self.server_type = "Unknown"
        self.conn = None
        self.data_conn = None
        self.store = None
        self.lock_conn = None
        self.total_rows = 0
        self.files = 0

    # -- NewDumper ----------------------------------------------------------------------
    def setup(self):
        conf = self.conf
        adjust_config(conf)
        try:
            self.store = storage.open_storage(conf["output"], conf["s3"])
            self.store.ensure()
        except storage.StorageError as exc:
            raise DumpError(str(exc)) from None
        try:
            # sql.Open is lazy in Go: the first query (SELECT version()) is what connects
            self.conn = connect(conf)
        except DumpError as exc:
            raise DumpError("sql: SELECT version();: %s" % exc) from None
        try:
            with self.conn.cursor() as cur:
                cur.execute("SELECT version()")
                version = cur.fetchone()[0]
        except pymysql.err.MySQLError as exc:
            raise DumpError("sql: SELECT version();: %s" % go_error(exc)) from None
        if "tidb" in version.lower():
            self.server_type = "TiDB"
        elif "mariadb" in version.lower():
            self.server_type = "MariaDB"
        else:
            self.server_type = "MySQL"
        self.log.info("version.go:421", "detect server version", type=self.server_type,
                      version=version)
        if conf["consistency"] == "auto":
            conf["consistency"] = {"TiDB": "snapshot", "MySQL": "flush",
                                   "MariaDB": "flush"}.get(self.server_type, "none")
        if conf["consistency"] != "snapshot" and conf["snapshot"]:
            raise DumpError("can't specify --snapshot when --consistency isn't snapshot, "
                            "resolved consistency: %s" % conf["consistency"])
        if conf["consistency"] not in ("none", "flush", "lock", "snapshot"):
            raise DumpError("invalid consistency option %s" % conf["consistency"])
        if conf["consistency"] == "snapshot" and self.server_type != "TiDB":
            raise DumpError("snapshot consistency is not supported for this server")
        if conf["consistency"] == "snapshot" and not conf["snapshot"]:
            row = self.master_status()
            if row is None or len(row) < 2:
                # dumpling's getSnapshot indexes the SHOW MASTER STATUS row unchecked.
                raise GoPanic("runtime error: index out of range [1] with length %d"
                              % (0 if row is None else len(row)))
            conf["snapshot"] = _s(row[1])
        self.set_session_params()

    def master_status(self):
        with self.conn.cursor() as cur:
            try:
                cur.execute("SHOW MASTER STATUS")
            except pymysql.err.MySQLError as exc:
                raise DumpError("sql: SHOW MASTER STATUS: %s" % go_error(exc)) from None
            return cur.fetchone()

    def set_session_params(self):
        conf = self.conf
        params = dict(conf["params"])
        if self.server_type == "TiDB" and conf["tidb-mem-quota-query"]:
            params["tidb_mem_quota_query"] = str(conf["tidb-mem-quota-query"])
        if conf["snapshot"] and conf["consistency"] == "snapshot":
            params["tidb_snapshot"] = conf["snapshot"]
        self.session_params = {}
        for key, value in params.items():
            try:
                with self.conn.cursor() as cur:
                    cur.execute("SET SESSION %s = %%s" % key, (value,))
                self.session_params[key] = value
            except pymysql.err.MySQLError as exc:
                if "Unknown system variable" in str(exc):
                    self.log.info("sql.go:874", "session variable is not supported by db",
                                  variable=key, value=value)
                    continue
                raise DumpError(go_error(exc)) from None

    def open_data_conn(self):
        conn = connect(self.conf, raw=True)
        with conn.cursor() as cur:
            for key, value in self.session_params.items():
                cur.execute("SET SESSION %s = %%s" % key, (value,))
            # The sandbox cannot read at a TSO (tidb_snapshot); a consistent-snapshot
            # transaction gives the dump the same property: one point-in-time view.
            cur.execute("START TRANSACTION /*!40108 WITH CONSISTENT SNAPSHOT */")
        return conn

    # -- Dump -----------------------------------------------------------------------------
    def dump(self):
        conf = self.conf
        started = datetime.datetime.now()
        self.log.info("dump.go:151", "begin to run Dump", conf=_conf_json(conf))
        if conf["consistency"] in ("flush", "lock"):
            self.lock_conn = connect(conf)
            with self.lock_conn.cursor() as cur:
                stmt = "FLUSH TABLES WITH READ LOCK"
                try:
                    cur.execute(stmt)
                except pymysql.err.MySQLError as exc:
                    raise DumpError("sql: %s: %s" % (stmt, go_error(exc))) from None
        meta = self.metadata_block()
        self.data_conn = self.open_data_conn()
        if self.lock_conn is not None:
            with self.lock_conn.cursor() as cur:
                cur.execute("UNLOCK TABLES")
            self.log.info("dump.go:229", "All the dumping transactions have started. Start to "
                                         "unlock tables")
        if conf["sql"]:
            self.dump_sql()
        else:
            self.dump_databases()
        finished = datetime.datetime.now()
        text = ("Started dump at: %s\n%sFinished dump at: %s\n"
                % (started.strftime("%Y-%m-%d %H:%M:%S"), meta,
                   finished.strftime("%Y-%m-%d %H:%M:%S")))
        self.store.write("metadata", text.encode())
        self.log.info("collector.go:255", "backup success summary", total_rows=self.total_rows,
                      total_files=self.files)

    def metadata_block(self):
        row = None
        try:
            row = self.master_status()
        except DumpError as exc:
            self.log.info("dump.go:206", "get global metadata failed", error=str(exc))
            return ""
        out = ""
        log_file = _s(row[0]) if row and len(row) > 0 else ""
        if self.server_type == "TiDB" and self.conf["snapshot"]:
            pos = self.conf["snapshot"]
        else:
            pos = _s(row[1]) if row and len(row) > 1 else ""
        gtid = _s(row[4]) if row and len(row) > 4 and row[4] is not None else ""
        if log_file:
            out += "SHOW MASTER STATUS:\n\tLog: %s\n\tPos: %s\n\tGTID:%s\n" % (log_file, pos, gtid)
        return out + "\n"

    def list_tables(self):
        conf = self.conf
        if conf["specified_tables"]:
            tables = {}
            for db, name in conf["tables"]:
                tables.setdefault(db, []).append(name)
            return tables
        with self.conn.cursor() as cur:
            cur.execute("SHOW DATABASES")
            all_dbs = [_s(r[0]) for r in cur.fetchall()]
        if conf["database"]:
            missing = [d for d in conf["database"] if d not in all_dbs]
            if missing:
                raise DumpError("Unknown databases [%s]" % ",".join(missing))
            databases = list(conf["database"])
        else:
            databases = [d for d in all_dbs if conf["table_filter"].match_schema(d)]
        result = {}
        flt = conf["table_filter"]
        for db in databases:
            with self.conn.cursor() as cur:
                query = "SHOW TABLE STATUS FROM %s" % quote_ident(db)
                try:
                    cur.execute(query)
                except pymysql.err.MySQLError as exc:
                    raise DumpError("sql: %s: %s" % (query, go_error(exc))) from None
                names = [d[0] for d in cur.description]
                rows = [dict(zip(names, r)) for r in cur.fetchall()]
            kept = []
            for row in rows:
                engine, comment = row.get("Engine"), _s(row.get("Comment") or "")
                is_view = engine is None and comment in ("", "VIEW")
                if is_view and conf["no-views"]:
                    continue
                if engine is None and not is_view:
                    continue
                if is_view:
                    raise DumpError("tidbops sandbox: dumping views is not emulated")
                name = _s(row["Name"])
                if flt.match_table(db, name):
                    kept.append(name)
            if kept or (conf["dump-empty-database"] and flt.match_schema(db)):
                result[db] = kept
        return result

    def dump_databases(self):
        conf = self.conf
        for db, tables in sorted(self.list_tables().items()):
            if not conf["no-schemas"]:
                with self.conn.cursor() as cur:
                    query = "SHOW CREATE DATABASE %s" % quote_ident(db)
                    try:
                        cur.execute(query)
                    except pymysql.err.MySQLError as exc:
                        raise DumpError("sql: %s: %s" % (query, go_error(exc))) from None
                    create = _s(cur.fetchone()[1])
                self.write_meta(fn_escape(db) + "-schema-create.sql", create)
            for table in tables:
                self.dump_table(db, table)

    def write_meta(self, name, sql):
        if not sql.endswith(";\n"):
            sql += ";\n"
        self.write_file(name, (SPEC_COMMENT + "\n" + sql).encode("utf-8"))

    def write_file(self, name, data):
        name += self.conf["suffix"]
        if self.conf["suffix"] == ".gz":
            data = gzip.compress(data)
        try:
            self.store.write(name, data)
        except (storage.StorageError, OSError) as exc:
            raise DumpError(str(exc)) from None
        self.files += 1

    def table_fields(self, db, table):
        with self.conn.cursor() as cur:
            query = "SHOW COLUMNS FROM %s.%s" % (quote_ident(db), quote_ident(table))
            try:
                cur.execute(query)
            except pymysql.err.MySQLError as exc:
                raise DumpError("sql: %s: %s" % (query, go_error(exc))) from None
            rows = cur.fetchall()
        generated = any("GENERATED" in _s(r[5] or "").upper() or
                        _s(r[5] or "").upper() in ("VIRTUAL", "STORED", "PERSISTENT")
                        for r in rows)
        if not generated and not self.conf["complete-insert"]:
            return "*"
        return ",".join(quote_ident(_s(r[0])) for r in rows
                        if not ("GENERATED" in _s(r[5] or "").upper() or
                                _s(r[5] or "").upper() in ("VIRTUAL", "STORED", "PERSISTENT")))

    def primary_key(self, db, table):
        with self.conn.cursor() as cur:
            cur.execute("SELECT COLUMN_NAME, DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS WHERE "
                        "TABLE_SCHEMA = %s AND TABLE_NAME = %s AND COLUMN_KEY = 'PRI' "
                        "ORDER BY ORDINAL_POSITION", (db, table))
            return [(_s(r[0]), _s(r[1]).upper()) for r in cur.fetchall()]

    def dump_table(self, db, table):
        conf = self.conf
        if not conf["no-schemas"]:
            with self.conn.cursor() as cur:
                query = "SHOW CREATE TABLE %s.%s" % (quote_ident(db), quote_ident(table))
                try:
                    cur.execute(query)
                except pymysql.err.MySQLError as exc:
                    raise DumpError("sql: %s: %s" % (query, go_error(exc))) from None
                create = _s(cur.fetchone()[1])
            self.write_meta("%s.%s-schema.sql" % (fn_escape(db), fn_escape(table)), create)
        if conf["no-data"]:
            return
        fields = self.table_fields(db, table)
        pk = self.primary_key(db, table)
        order = ""
        if conf["order-by-primary-key"] and pk:
            order = "ORDER BY " + ",".join(quote_ident(c) for c, dummy in pk)
        base = "SELECT %s FROM %s.%s" % (fields or "''", quote_ident(db), quote_ident(table))
        chunks = self.chunk_conditions(db, table, pk) if conf["rows"] else [""]
        for index, cond in enumerate(chunks):
            where = build_where(conf["where"], cond)
            query = " ".join(p for p in (base, where, order) if p)
            self.write_chunk(query, db, table, index, fields)

    def chunk_conditions(self, db, table, pk):
        """concurrentDumpTable with the row-range fallback (TiDB's TABLESAMPLE REGIONS()
        is tried first, as dumpling does, and falls back when the server refuses it)."""
        conf = self.conf
        if len(pk) != 1 or pk[0][1] not in ("TINYINT", "SMALLINT", "MEDIUMINT", "INT",
                                            "INTEGER", "BIGINT"):
            self.log.info("dump.go:439", "fallback to sequential dump due to no proper field. "
                                         "This won't influence the whole dump process",
                          database=db, table=table)
            return [""]
        field = pk[0][0]
        with self.conn.cursor() as cur:
            try:
                cur.execute("SELECT %s FROM %s.%s TABLESAMPLE REGIONS() ORDER BY %s"
                            % (quote_ident(field), quote_ident(db), quote_ident(table),
                               quote_ident(field)))
                cur.fetchall()
            except pymysql.err.MySQLError as exc:
                self.log.info("dump.go:424", "fallback to concurrent dump tables using rows due "
                                             "to some problem. This won't influence the whole "
                                             "dump process", database=db, table=table,
                              error=go_error(exc))
            query = "EXPLAIN SELECT %s FROM %s.%s" % (quote_ident(field), quote_ident(db),
                                                      quote_ident(table))
            if conf["where"]:
                query += " WHERE " + conf["where"]
            cur.execute(query)
            names = [d[0].lower() for d in cur.description]
            count = 0
            for row in cur.fetchall():
                for key in ("rows", "estrows", "count"):
                    if key in names and row[names.index(key)] is not None:
                        count = max(count, int(float(row[names.index(key)])))
        if count < conf["rows"]:
            self.log.info("dump.go:452", "fallback to sequential dump due to estimate count < "
                                         "rows. This won't influence the whole dump process",
                          estimate_count=count, conf_rows=conf["rows"], database=db,
                          table=table)
            return [""]
        with self.conn.cursor() as cur:
            query = "SELECT MIN(%s),MAX(%s) FROM %s.%s" % (quote_ident(field),
                                                           quote_ident(field), quote_ident(db),
                                                           quote_ident(table))
            if conf["where"]:
                query += " WHERE " + conf["where"]
            cur.execute(query)
            low, high = cur.fetchone()
        if low is None or high is None:
            return [""]
        low, high = int(low), int(high)
        estimated = count // conf["rows"]
        step = (high - low) // estimated + 1
        out = []
        cutoff = low
        null_cond = "" if conf["where"] else "`%s` IS NULL OR " % field.replace("`", "``")
        qf = "`%s`" % field.replace("`", "``")
        while high >= cutoff:
            nxt = cutoff + step
            out.append("%s(%s >= %d AND %s < %d)" % (null_cond, qf, cutoff, qf, nxt))
            null_cond = ""
            cutoff = nxt
        return out

    def write_chunk(self, query, db, table, chunk_index, fields):
        with self.data_conn.cursor(pymysql.cursors.SSCursor) as cur:
            try:
                cur.execute(query)
            except pymysql.err.MySQLError as exc:
                raise DumpError("sql: %s: %s" % (query, go_error(exc))) from None
            cols = columns_of(cur)
            rows = iter(cur.fetchall_unbuffered())
            self._write_rows(rows, cols, db, table, chunk_index, fields)

    def _file_name(self, db, table, chunk_index, file_index):
        conf = self.conf
        rows, size = bool(conf["rows"]), bool(conf["filesize_bytes"])
        if rows and size:
            index = "%09d%04d" % (chunk_index, file_index)
        elif size:
            index = "%09d" % file_index
        else:
            index = "%09d" % chunk_index
        if conf["sql"]:
            base = "result.%s" % index
        else:
            base = "%s.%s.%s" % (fn_escape(db), fn_escape(table), index)
        return base + "." + conf["filetype"]

    def _write_rows(self, rows, cols, db, table, chunk_index, fields):
        conf = self.conf
        fsize = conf["filesize_bytes"]
        pending = next(rows, None)
        file_index = 0
        while pending is not None:
            if conf["filetype"] == "sql":
                data, count, pending = self._sql_file(rows, pending, cols, table, fields)
            else:
                data, count, pending = self._csv_file(rows, pending, cols)
            self.write_file(self._file_name(db, table, chunk_index, file_index), data)
            self.total_rows += count
            file_index += 1
            if not fsize:
                break

    def _sql_file(self, rows, row, cols, table, fields):
        conf = self.conf
        fsize, ssize = conf["filesize_bytes"], conf["statement-size"]
        backslash = conf["escape-backslash"]
        if fields and fields != "*":
            prefix = ("INSERT INTO %s (%s) VALUES\n" % (quote_ident(table), fields)).encode()
        else:
            prefix = ("INSERT INTO %s VALUES\n" % quote_ident(table)).encode()
        buf = bytearray((SPEC_COMMENT + "\n").encode())
        file_size = len(buf)
        count = 0
        while row is not None:
            stmt_size = 0
            buf += prefix
            file_size += len(prefix)
            stmt_size += len(prefix)
            while row is not None:
                text = b"(" + b",".join(sql_value(v, c.kind, backslash)
                                        for v, c in zip(row, cols)) + b")"
                buf += text
                count += 1
                file_size += len(text) + 2
                stmt_size += len(text) + 2
                row = next(rows, None)
                switch = (fsize and file_size >= fsize) or (ssize and stmt_size >= ssize)
                buf += b",\n" if row is not None and not switch else b";\n"
                if switch:
                    break
            if fsize and file_size >= fsize:
                break
        return bytes(buf), count, row

    def _csv_file(self, rows, row, cols):
        conf = self.conf
        fsize = conf["filesize_bytes"]
        opt = {"null": conf["csv-null-value"].encode(), "separator": conf["csv-separator"].encode(),
               "delimiter": conf["csv-delimiter"].encode(), "backslash": conf["escape-backslash"]}
        term = conf["csv-line-terminator"].encode()
        buf = bytearray()
        if not conf["no-header"] and cols:
            buf += opt["separator"].join(
                opt["delimiter"] + escape_csv(c.name.encode(), opt["backslash"],
                                              opt["delimiter"], opt["separator"])
                + opt["delimiter"] for c in cols) + term
        file_size = len(buf)
        count = 0
        while row is not None:
            text = opt["separator"].join(csv_value(v, c.kind, opt) for v, c in zip(row, cols))
            buf += text + term
            count += 1
            file_size += len(text) + 1
            row = next(rows, None)
            if fsize and file_size >= fsize:
                break
        return bytes(buf), count, row

    def dump_sql(self):
        self.write_chunk(self.conf["sql"], "", "", 0, "*")

    def close(self):
        for conn in (self.data_conn, self.lock_conn, self.conn):
            if conn is not None:
                try:
                    conn.close()
                except Exception:  # pylint: disable=broad-except
                    pass


def build_where(conf_where, where):
    """buildWhereCondition: the --where condition and a chunk's range, bracketed when both."""
    left, right = (" (", ") ") if conf_where and where else (" ", " ")
    sep = "WHERE"
    out = ""
    if conf_where:
        out += sep + left + conf_where + right
        sep = "AND"
    if where:
        out += sep + left + where + right
    return out.strip()


def _conf_json(conf):
    keep = {k: v for k, v in conf.items() if k not in ("password", "table_filter", "s3")
            and not k.startswith(("s3.", "gcs.", "azblob."))}
    return "{" + ",".join('"%s":%s' % (k, _json(v)) for k, v in sorted(keep.items())) + "}"


def _json(value):
    import json
    try:
        return json.dumps(value)
    except TypeError:
        return json.dumps(str(value))


class GoPanic(Exception):
    pass


def long_version(version):
    return ("Release version: %s\nGit commit hash: %s\nGit branch:      heads/refs/tags/%s\n"
            "Build timestamp: 2024-02-28 09:19:54Z\nGo version:      go version go1.21.6 "
            "linux/amd64\n" % (version, "7f5d4b6d9c1a1e8f0a3b2c4d5e6f708192a3b4c5", version))


def main(argv=None, version=DEFAULT_VERSION):
    argv = list(sys.argv[1:] if argv is None else argv)
    fs = FlagSet()
    define_flags(fs)
    try:
        fs.parse(argv)
    except FlagError as exc:
        sys.stderr.write("%s\n%s%s" % (exc, USAGE_HEAD, fs.usage()))
        return 2
    if fs["help"]:
        sys.stderr.write(USAGE_HEAD + fs.usage())
        return 0
    sys.stderr.write(long_version(version) + "\n")
    sys.stderr.flush()
    if fs["version"]:
        return 0
    try:
        conf = build_config(fs)
    except DumpError as exc:
        sys.stdout.write("\nparse arguments failed: %s\n" % exc)
        return 1
    if fs.args:
        sys.stdout.write("\nmeet some unparsed arguments, please check again: [%s]\n"
                         % " ".join(fs.args))
        return 1
    try:
        log = golog.Logger(conf["logfile"] or None, conf["loglevel"])
    except OSError as exc:
        sys.stdout.write("\ncreate dumper failed: open %s: %s\n" % (conf["logfile"],
                                                                    exc.strerror.lower()))
        return 1
    log.info("versioninfo.go:54", "Welcome to dumpling", release_version=version,
             git_hash="7f5d4b6d9c1a1e8f0a3b2c4d5e6f708192a3b4c5",
             git_branch="heads/refs/tags/" + version, go_version="go1.21.6")
    dumper = Dumper(conf, log, version)
    try:
        try:
            dumper.setup()
        except DumpError as exc:
            sys.stdout.write("\ncreate dumper failed: %s\n" % exc)
            return 1
        except GoPanic as exc:
            sys.stderr.write("panic: %s\n\ngoroutine 1 [running]:\n"
                             "github.com/pingcap/tidb/dumpling/export.getSnapshot(...)\n"
                             "\t/workspace/source/tidb/dumpling/export/sql.go:872\n" % exc)
            return 2
        try:
            dumper.dump()
        except (DumpError, storage.StorageError) as exc:
            log.error("main.go:78", "dump failed error stack info", error=str(exc))
            sys.stdout.write("\ndump failed: %s\n" % exc)
            return 1
        except pymysql.err.MySQLError as exc:
            text = go_error(exc) or str(exc)
            log.error("main.go:78", "dump failed error stack info", error=text)
            sys.stdout.write("\ndump failed: %s\n" % text)
            return 1
        except (socket.error, OSError) as exc:
            log.error("main.go:78", "dump failed error stack info", error=str(exc))
            sys.stdout.write("\ndump failed: %s\n" % exc)
            return 1
    finally:
        dumper.close()
    log.info("main.go:82", "dump data successfully, dumpling will exit now")
    log.close()
    return 0
