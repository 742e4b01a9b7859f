"""Just enough SQL lexing for the stand-in: find words and @@variables outside strings and
comments, read string literals, and write literals and identifiers back safely.

This is not a parser. Handlers match whole statements with regexes (registry.py); the lexer
is for the few rewrites that must touch one expression inside an arbitrary SELECT.
"""
import collections
import re

Token = collections.namedtuple("Token", "kind text start end")

_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>/\*.*?\*/|--(?:[ \t\r\n]|\Z)[^\n]*|\#[^\n]*)
  | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
  | (?P<quoted>`(?:[^`]|``)*`)
  | (?P<sysvar>@@(?:(?:global|session|local)\.)?[A-Za-z0-9_$]+)
  | (?P<uservar>@[A-Za-z0-9_$.]+)
  | (?P<word>[A-Za-z0-9_$]+)
  | (?P<punct>.)
""", re.X | re.S | re.I)

_SKIPPED = ("ws", "comment")


def tokens(sql):
    """Significant tokens (no whitespace, no comments), with their offsets in sql."""
    return [Token(m.lastgroup, m.group(), m.start(), m.end())
            for m in _TOKEN_RE.finditer(sql) if m.lastgroup not in _SKIPPED]


def words(sql):
    """Upper-cased words of sql outside strings, quoted identifiers and comments."""
    return [t.text.upper() for t in tokens(sql) if t.kind == "word"]


def split_sysvar(text):
    """'@@global.Tidb_GC_life_time' -> ('global', 'tidb_gc_life_time'); scope '' if none."""
    body = text[2:]
    scope, dummy, name = body.rpartition(".")
    return scope.lower(), name.lower()


_ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}


def unquote(literal):
    """The value of a '...' or "..." literal, with MySQL's default escapes."""
    quote, body = literal[0], literal[1:-1]
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            # \% and \_ keep their backslash (they are LIKE escapes, as in MySQL).
            out.append(_ESCAPES.get(nxt, "\\" + nxt if nxt in "%_" else nxt))
            i += 2
        elif ch == quote and body[i + 1:i + 2] == quote:
            out.append(quote)
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def literal(value):
    """A string literal that reads back as value whatever the sql_mode.

    Doubling quotes works with and without NO_BACKSLASH_ESCAPES; a backslash does not,
    so values holding one (or control characters) go as hex, converted to utf8mb4.
    """
    if "\\" in value or any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        return "CONVERT(X'%s' USING utf8mb4)" % value.encode("utf-8").hex()
    return "'" + value.replace("'", "''") + "'"


def identifier(name):
    return "`" + name.replace("`", "``") + "`"


def like_matches(pattern, value):
    """SQL LIKE (case-insensitive, '\\' escape), as SHOW VARIABLES LIKE applies it."""
    regex, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        regex.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.fullmatch("".join(regex), value, re.I | re.S) is not None
