"""The data source: mydumper/dumpling files found by Lightning's default file routes, and
the parsers of their SQL and CSV data (pkg/lightning/mydump).

Default routes (mydump/router.go): `{db}-schema-create.sql`, `{db}.{tbl}-schema.sql`,
`{db}.{tbl}-schema-view.sql` (views), `{db}.{tbl}[.{n}].{sql|csv|parquet}[.{compression}]`;
anything else is ignored (`metadata` included). Names may carry dumpling's %XX escapes.
"""
import gzip
import re
import urllib.parse

_ROUTES = [
    ("schema", re.compile(r"(?i)^(?:[^/]*/)*([^/.]+)-schema-create\.sql(?:\.(\w*?))?$")),
    ("view", re.compile(r"(?i)^(?:[^/]*/)*([^/.]+)\.(.*?)-schema-view\.sql(?:\.(\w*?))?$")),
    ("sequence", re.compile(r"(?i)^(?:[^/]*/)*([^/.]+)\.(.*?)-schema-sequence\.sql(?:\.(\w*?))?$")),
    ("table", re.compile(r"(?i)^(?:[^/]*/)*([^/.]+)\.(.*?)-schema\.sql(?:\.(\w*?))?$")),
    ("data", re.compile(r"(?i)^(?:[^/]*/)*([^/.]+)\.(.*?)(?:\.([0-9]+))?\.(sql|csv|parquet)"
                        r"(?:\.(\w*?))?$")),
]

# mydump.Compression: 0 none, 1 gzip, 2 snappy, 3 zstd
COMPRESSION = {"": 0, "gz": 1, "gzip": 1, "snappy": 2, "zst": 3, "zstd": 3}
# mydump.SourceType
TYPE_SQL, TYPE_CSV, TYPE_PARQUET = 3, 4, 5


class SourceError(Exception):
    pass


class DataFile:
    def __init__(self, path, db, table, kind, compression, size):
        self.path = path
        self.db = db
        self.table = table
        self.kind = kind
        self.compression = compression
        self.size = size


class TableSource:
    def __init__(self, db, name):
        self.db = db
        self.name = name
        self.schema_file = None
        self.data_files = []

    @property
    def unique(self):
        return "`%s`.`%s`" % (self.db.replace("`", "``"), self.name.replace("`", "``"))


def _unescape(name):
    return urllib.parse.unquote(name)


def discover(store, table_filter, case_sensitive=False):
    """(db_schemas {db: file}, tables {(db, tbl): TableSource}) of store's files."""
    db_schemas, tables = {}, {}

    def key(db, tbl):
        return (db, tbl) if case_sensitive else (db.lower(), tbl.lower())

    for path in store.walk():
        for kind, pattern in _ROUTES:
            match = pattern.match(path)
            if not match:
                continue
            if kind == "schema":
                db = _unescape(match.group(1))
                if table_filter.match_schema(db):
                    db_schemas[db] = path
            elif kind in ("view", "sequence"):
                pass  # not emulated: views/sequences are skipped
            else:
                db, tbl = _unescape(match.group(1)), _unescape(match.group(2))
                if not table_filter.match_table(db, tbl):
                    break
                src = tables.setdefault(key(db, tbl), TableSource(db, tbl))
                if kind == "table":
                    src.schema_file = path
                else:
                    ext = (match.group(5) or "").lower()
                    if ext not in COMPRESSION:
                        break  # unknown suffix: not a data file for the default routes
                    ftype = {"sql": TYPE_SQL, "csv": TYPE_CSV,
                             "parquet": TYPE_PARQUET}[match.group(4).lower()]
                    src.data_files.append(DataFile(path, db, tbl, ftype, COMPRESSION[ext],
                                                   store.size(path)))
            break
    return db_schemas, tables


def read_file(store, data_file_path, compression):
    data = store.read(data_file_path)
    if compression == 1:
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise SourceError("failed to decompress %s: %s" % (data_file_path, exc)) from None
    if compression in (2, 3):
        raise SourceError("tidbops sandbox: %s compression is not emulated"
                          % {2: "snappy", 3: "zstd"}[compression])
    return data


def schema_statements(text):
    """The statements of a schema file, comments and SET NAMES dropped."""
    out = []
    for stmt in split_statements(text):
        body = re.sub(r"^(\s|/\*.*?\*/|--[^\n]*\n|#[^\n]*\n)+", "", stmt, flags=re.S)
        if not body.strip() or re.match(r"(?i)SET\s", body):
            continue
        out.append(body.strip())
    return out


def split_statements(text):
    """Split SQL text on ';' outside quotes and comments."""
    out, buf, i, n = [], [], 0, len(text)
    while i < n:
        c = text[i]
        if c in "'\"`":
            j = i + 1
            while j < n:
                if text[j] == "\\" and c != "`":
                    j += 2
                    continue
                if text[j] == c:
                    if j + 1 < n and text[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            buf.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i) and not text.startswith("/*!", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            buf.append(text[i:j])
            i = j
        elif c == ";":
            out.append("".join(buf))
            buf = []
            i += 1
        else:
            buf.append(c)
            i += 1
    if "".join(buf).strip():
        out.append("".join(buf))
    return out


# ---- SQL data ---------------------------------------------------------------------------

_WS = b" \t\r\n"


class SQLParser:
    """INSERT/REPLACE ... VALUES (...),(...); statements -> rows of raw literal bytes.

    Yields (columns or None, [literal bytes...], end offset) per row; the offset is where the
    next row starts, so a checkpoint `pos` resumes exactly after a committed row.
    """

    def __init__(self, data, path):
        self.data = data
        self.path = path

    def error(self, pos, what):
        return SourceError("syntax error at %s offset %d: %s" % (self.path, pos, what))

    def skip_ws(self, pos):
        data, n = self.data, len(self.data)
        while pos < n:
            if data[pos] in _WS:
                pos += 1
            elif data.startswith(b"/*", pos):
                end = data.find(b"*/", pos + 2)
                pos = n if end < 0 else end + 2
            elif data.startswith(b"--", pos) or data[pos:pos + 1] == b"#":
                end = data.find(b"\n", pos)
                pos = n if end < 0 else end + 1
            else:
                break
        return pos

    def word(self, pos):
        match = re.compile(rb"[A-Za-z_]+").match(self.data, pos)
        return (match.group(0).upper(), match.end()) if match else (b"", pos)

    def ident(self, pos):
        data = self.data
        if data[pos:pos + 1] == b"`":
            end = pos + 1
            while True:
                end = data.find(b"`", end)
                if end < 0:
                    raise self.error(pos, "unterminated identifier")
                if data[end + 1:end + 2] == b"`":
                    end += 2
                    continue
                return data[pos + 1:end].replace(b"``", b"`").decode("utf-8"), end + 1
        match = re.compile(rb"[0-9A-Za-z_$\x80-\xff]+").match(data, pos)
        if not match:
            raise self.error(pos, "identifier expected")
        return match.group(0).decode("utf-8"), match.end()

    def literal(self, pos):
        data, n = self.data, len(self.data)
        start = pos
        if data[pos:pos + 1] == b"_":
            match = re.compile(rb"_[A-Za-z0-9]+").match(data, pos)
            pos = self.skip_ws(match.end())
        if data[pos:pos + 1] in (b"x", b"X", b"b", b"B") and data[pos + 1:pos + 2] == b"'":
            end = data.find(b"'", pos + 2)
            if end < 0:
                raise self.error(pos, "unterminated literal")
            return data[start:end + 1], end + 1
        quote = data[pos:pos + 1]
        if quote in (b"'", b'"'):
            i = pos + 1
            while i < n:
                ch = data[i:i + 1]
                if ch == b"\\":
                    i += 2
                    continue
                if ch == quote:
                    if data[i + 1:i + 2] == quote:
                        i += 2
                        continue
                    return data[start:i + 1], i + 1
                i += 1
            raise self.error(pos, "unterminated string")
        match = re.compile(rb"[-+]?[0-9A-Za-z_.+\-]+").match(data, pos)
        if not match:
            raise self.error(pos, "value expected")
        return data[start:match.end()], match.end()

    def rows(self):
        data, n = self.data, len(self.data)
        pos = self.skip_ws(0)
        columns = None
        in_values = False
        while pos < n:
            if not in_values:
                word, after = self.word(pos)
                if word in (b"INSERT", b"REPLACE"):
                    pos = self.skip_ws(after)
                    word, after = self.word(pos)
                    if word == b"IGNORE":
                        pos = self.skip_ws(after)
                        word, after = self.word(pos)
                    if word != b"INTO":
                        raise self.error(pos, "INTO expected")
                    pos = self.skip_ws(after)
                    dummy, pos = self.ident(pos)
                    pos = self.skip_ws(pos)
                    if data[pos:pos + 1] == b".":
                        dummy, pos = self.ident(self.skip_ws(pos + 1))
                        pos = self.skip_ws(pos)
                    columns = None
                    if data[pos:pos + 1] == b"(":
                        columns = []
                        pos = self.skip_ws(pos + 1)
                        while True:
                            name, pos = self.ident(pos)
                            columns.append(name)
                            pos = self.skip_ws(pos)
                            if data[pos:pos + 1] == b",":
                                pos = self.skip_ws(pos + 1)
                                continue
                            if data[pos:pos + 1] == b")":
                                pos = self.skip_ws(pos + 1)
                                break
                            raise self.error(pos, "',' or ')' expected")
                    word, after = self.word(pos)
                    if word not in (b"VALUES", b"VALUE"):
                        raise self.error(pos, "VALUES expected")
                    pos = self.skip_ws(after)
                    in_values = True
                else:
                    end = data.find(b";", pos)  # SET ..., USE ...: not data
                    pos = self.skip_ws(n if end < 0 else end + 1)
                    continue
            if data[pos:pos + 1] != b"(":
                raise self.error(pos, "'(' expected")
            pos = self.skip_ws(pos + 1)
            values = []
            if data[pos:pos + 1] != b")":
                while True:
                    value, pos = self.literal(pos)
                    values.append(value)
                    pos = self.skip_ws(pos)
                    if data[pos:pos + 1] == b",":
                        pos = self.skip_ws(pos + 1)
                        continue
                    if data[pos:pos + 1] == b")":
                        break
                    raise self.error(pos, "',' or ')' expected")
            pos = self.skip_ws(pos + 1)
            if data[pos:pos + 1] == b",":
                pos = pos + 1
            elif data[pos:pos + 1] == b";":
                pos = pos + 1
                in_values = False
            elif pos < n:
                raise self.error(pos, "',' or ';' expected")
            yield columns, values, pos
            pos = self.skip_ws(pos)


# ---- CSV data ---------------------------------------------------------------------------

class CSVParser:
    """[mydumper.csv] separator, delimiter, terminator, header, null, backslash-escape,
    trim-last-separator -> rows of field values (bytes or None for NULL)."""

    _ESC = {b"0": b"\x00", b"b": b"\b", b"n": b"\n", b"r": b"\r", b"t": b"\t",
            b"Z": b"\x1a"}

    def __init__(self, data, path, opts):
        self.data = data
        self.path = path
        self.sep = opts["separator"].encode()
        self.quote = opts["delimiter"].encode()
        self.term = opts["terminator"].encode()
        self.nulls = [v.encode() for v in opts["null"]]
        self.backslash = opts["backslash-escape"]
        self.trim_last = opts["trim-last-separator"]
        self.not_null = opts["not-null"]

    def _unescape(self, raw):
        if not self.backslash:
            return raw
        out = bytearray()
        i = 0
        while i < len(raw):
            if raw[i:i + 1] == b"\\" and i + 1 < len(raw):
                nxt = raw[i + 1:i + 2]
                out += self._ESC.get(nxt, nxt)
                i += 2
            else:
                out += raw[i:i + 1]
                i += 1
        return bytes(out)

    def _at_term(self, pos):
        data = self.data
        if self.term:
            return len(self.term) if data.startswith(self.term, pos) else 0
        if data.startswith(b"\r\n", pos):
            return 2
        return 1 if data[pos:pos + 1] in (b"\n", b"\r") else 0

    def rows(self, start=0):
        """Yields ([values], end offset); values are bytes or None (NULL)."""
        data, n = self.data, len(self.data)
        pos = start
        while pos < n:
            fields, quoted = [], []
            while True:
                if self.quote and data.startswith(self.quote, pos):
                    i = pos + len(self.quote)
                    buf = bytearray()
                    while True:
                        if i >= n:
                            raise SourceError("syntax error: unterminated quoted field in "
                                              "%s at offset %d" % (self.path, pos))
                        if self.backslash and data[i:i + 1] == b"\\" and i + 1 < n:
                            nxt = data[i + 1:i + 2]
                            buf += self._ESC.get(nxt, nxt)
                            i += 2
                            continue
                        if data.startswith(self.quote, i):
                            if data.startswith(self.quote, i + len(self.quote)):
                                buf += self.quote
                                i += 2 * len(self.quote)
                                continue
                            i += len(self.quote)
                            break
                        buf += data[i:i + 1]
                        i += 1
                    fields.append(bytes(buf))
                    quoted.append(True)
                    pos = i
                else:
                    i = pos
                    while i < n and not data.startswith(self.sep, i) and not self._at_term(i):
                        if self.backslash and data[i:i + 1] == b"\\":
                            i += 2
                            continue
                        i += 1
                    fields.append(data[pos:i])
                    quoted.append(False)
                    pos = i
                if pos < n and data.startswith(self.sep, pos):
                    pos += len(self.sep)
                    if pos >= n or self._at_term(pos):
                        if not self.trim_last:
                            fields.append(b"")
                            quoted.append(False)
                        pos += self._at_term(pos) if pos < n else 0
                        break
                    continue
                if pos < n:
                    step = self._at_term(pos)
                    if not step:
                        raise SourceError("syntax error: unexpected character after field in "
                                          "%s at offset %d" % (self.path, pos))
                    pos += step
                break
            values = []
            for raw, was_quoted in zip(fields, quoted):
                if not self.not_null and not was_quoted and raw in self.nulls:
                    values.append(None)
                elif was_quoted:
                    values.append(raw)
                else:
                    values.append(self._unescape(raw))
            if len(fields) == 1 and fields[0] == b"" and not quoted[0]:
                continue  # blank line
            yield values, pos
