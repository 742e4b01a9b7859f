"""The grammar of TiDB's BACKUP and RESTORE statements (pkg/parser/parser.y, BRIEStmt):

    BACKUP  {DATABASE|SCHEMA} {* | db[, db]...} | TABLE tbl[, tbl]...  TO   'url' [option]...
    RESTORE {DATABASE|SCHEMA} {* | db[, db]...} | TABLE tbl[, tbl]...  FROM 'url' [option]...

    option:  CONCURRENCY|CHECKSUM_CONCURRENCY|RESUME [=] n
           | SEND_CREDENTIALS_TO_TIKV|ONLINE|CHECKPOINT|WAIT_TIFLASH_READY|WITH_SYS_TABLE
             |LOAD_STATS|SKIP_SCHEMA_FILES|STRICT_FORMAT|CSV_NOT_NULL|CSV_BACKSLASH_ESCAPE
             |CSV_TRIM_LAST_SEPARATORS [=] {n|TRUE|FALSE}
           | CHECKSUM|ANALYZE [=] {n|TRUE|FALSE|OFF|OPTIONAL|REQUIRED}
           | TIKV_IMPORTER|CSV_SEPARATOR|CSV_DELIMITER|CSV_NULL [=] 'text'
           | BACKEND|ON_DUPLICATE [=] word|'text'        (also ON DUPLICATE)
           | CSV_HEADER [=] {FIELDS|COLUMNS|n}
           | RATE_LIMIT [=] n MB/SECOND
           | SNAPSHOT [=] {n | 'datetime' | n {MICROSECOND|SECOND|MINUTE|HOUR|DAY|WEEK} AGO}
           | LAST_BACKUP [=] {n | 'datetime'}

Options the statement's kind does not use are accepted and ignored, as TiDB's executor
builder does. A statement that does not parse fails with TiDB's 1064 text: "... to use line
1 column N near "<rest>" ", where N is where the lexer stood (the end of the offending
token) and <rest> starts at that token.
"""
import collections

from tests.sandbox.tidb import sqltext
from tests.sandbox.tidb.registry import SqlError

INTEGER_OPTIONS = ("CONCURRENCY", "CHECKSUM_CONCURRENCY", "RESUME")
BOOLEAN_OPTIONS = ("SEND_CREDENTIALS_TO_TIKV", "ONLINE", "CHECKPOINT", "WAIT_TIFLASH_READY",
                   "WITH_SYS_TABLE", "LOAD_STATS", "SKIP_SCHEMA_FILES", "STRICT_FORMAT",
                   "CSV_NOT_NULL", "CSV_BACKSLASH_ESCAPE", "CSV_TRIM_LAST_SEPARATORS")
LEVEL_OPTIONS = ("CHECKSUM", "ANALYZE")
STRING_OPTIONS = ("TIKV_IMPORTER", "CSV_SEPARATOR", "CSV_DELIMITER", "CSV_NULL")
KEYWORD_OPTIONS = ("BACKEND", "ON_DUPLICATE")
LEVELS = {"OFF": 0, "OPTIONAL": 1, "REQUIRED": 2}
TIME_UNITS = {"MICROSECOND": 1e-6, "SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400,
              "WEEK": 604800}
MAX_UINT64 = (1 << 64) - 1
# Reserved words that cannot be an unquoted name here (a subset of TiDB's).
RESERVED = {"TO", "FROM", "TABLE", "DATABASE", "SCHEMA", "SELECT", "WHERE", "AND", "OR", "ON",
            "SET", "LIKE", "TRUE", "FALSE"}

Statement = collections.namedtuple("Statement", "kind databases tables all url options")
# kind: 'backup'|'restore'; databases: [names] (DATABASE list); tables: [(db or None, name)];
# all: DATABASE *; options: {NAME: value} (last one wins, as in TiDB's loop over options)


def syntax_error(sql, tok):
    """TiDB's ErrParse for a failure at token tok (None: at the end)."""
    if tok is None:
        column, near = len(sql), ""
    else:
        column, near = tok.end, sql[tok.start:]
    return SqlError(1064, "42000",
                    "You have an error in your SQL syntax; check the manual that corresponds "
                    "to your TiDB version for the right syntax to use line 1 column %d near "
                    "\"%s\" " % (column, near))


class _Parser:
    def __init__(self, sql):
        self.sql = sql
        self.toks = [t for t in sqltext.tokens(sql) if t.text != ";"]
        self.i = 0

    def peek(self, offset=0):
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def fail(self):
        raise syntax_error(self.sql, self.peek())

    def next(self):
        tok = self.peek()
        if tok is None:
            self.fail()
        self.i += 1
        return tok

    def word(self, *choices):
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text.upper() in choices:
            self.i += 1
            return tok.text.upper()
        return None

    def expect_word(self, *choices):
        found = self.word(*choices)
        if found is None:
            self.fail()
        return found

    def punct(self, char):
        tok = self.peek()
        if tok is not None and tok.text == char:
            self.i += 1
            return True
        return False

    def eq_opt(self):
        self.punct("=")

    def number(self):
        tok = self.peek()
        if tok is None or tok.kind != "word" or not tok.text.isdigit():
            self.fail()
        self.i += 1
        value = int(tok.text)
        if value > MAX_UINT64:
            self.i -= 1
            self.fail()
        return value

    def string(self):
        tok = self.peek()
        if tok is None or tok.kind != "string":
            self.fail()
        self.i += 1
        return sqltext.unquote(tok.text)

    def identifier(self):
        tok = self.peek()
        if tok is None or tok.kind not in ("word", "quoted") or (
                tok.kind == "word" and tok.text.upper() in RESERVED):
            self.fail()
        self.i += 1
        if tok.kind == "quoted":
            return tok.text[1:-1].replace("``", "`")
        return tok.text

    def boolean(self):
        if self.word("TRUE"):
            return 1
        if self.word("FALSE"):
            return 0
        return 1 if self.number() != 0 else 0


def parse(sql):
    """Statement for a BACKUP/RESTORE text; SqlError(1064) when it does not parse."""
    p = _Parser(sql)
    kind = p.expect_word("BACKUP", "RESTORE")
    databases, tables, everything = [], [], False
    if p.word("DATABASE", "SCHEMA"):
        if p.punct("*"):
            everything = True
        else:
            databases.append(p.identifier())
            while p.punct(","):
                databases.append(p.identifier())
    elif p.word("TABLE"):
        while True:
            first = p.identifier()
            if p.punct("."):
                tables.append((first, p.identifier()))
            else:
                tables.append((None, first))
            if not p.punct(","):
                break
    else:
        p.fail()
    p.expect_word("TO" if kind == "BACKUP" else "FROM")
    url = p.string()
    options = {}
    while p.peek() is not None:
        name = p.expect_word(*(INTEGER_OPTIONS + BOOLEAN_OPTIONS + LEVEL_OPTIONS + STRING_OPTIONS
                               + KEYWORD_OPTIONS + ("ON", "CSV_HEADER", "RATE_LIMIT", "SNAPSHOT",
                                                    "LAST_BACKUP")))
        if name == "ON":
            p.expect_word("DUPLICATE")
            name = "ON_DUPLICATE"
        p.eq_opt()
        if name in INTEGER_OPTIONS:
            options[name] = p.number()
        elif name in BOOLEAN_OPTIONS:
            options[name] = p.boolean()
        elif name in LEVEL_OPTIONS:
            level = p.word(*LEVELS)
            options[name] = LEVELS[level] if level else p.boolean()
        elif name in STRING_OPTIONS:
            options[name] = p.string()
        elif name in KEYWORD_OPTIONS:
            tok = p.next()
            if tok.kind == "string":
                options[name] = sqltext.unquote(tok.text)
            elif tok.kind == "word":
                options[name] = tok.text
            else:
                p.i -= 1
                p.fail()
        elif name == "CSV_HEADER":
            if not p.word("FIELDS", "COLUMNS"):
                options[name] = p.number()
        elif name == "RATE_LIMIT":
            value = p.number()
            p.expect_word("MB")
            if not p.punct("/"):
                p.fail()
            p.expect_word("SECOND")
            options[name] = value * 1048576  # bytes per second (TiDB: n * 1048576)
        elif name == "SNAPSHOT":
            tok = p.peek()
            if tok is not None and tok.kind == "string":
                options[name] = ("ts", p.string())
            else:
                value = p.number()
                unit = p.word(*TIME_UNITS)
                if unit:
                    p.expect_word("AGO")
                    options[name] = ("ago", value * TIME_UNITS[unit])
                else:
                    options[name] = ("tso", value)
        elif name == "LAST_BACKUP":
            tok = p.peek()
            if tok is not None and tok.kind == "string":
                options[name] = ("ts", p.string())
            else:
                options[name] = ("tso", p.number())
    return Statement(kind.lower(), databases, tables, everything, url, options)
