"""TiDB's table filter (pkg/util/table-filter, docs/table-filter.md), as dumpling, BR and
tidb-lightning use it.

Rules: `schema.table` with fnmatch wildcards (* ? [a-z] [!a-z]), `/regex/` parts (matched
as a substring search), quoted parts ("..." or `...`), backslash escapes, a leading `!` for
an exclusion, `@file` to read rules from a file (one level), `#` comments. The last rule
that matches decides; no match means rejected. CaseInsensitive lower-cases both sides.
"""
import re

_IDENT = re.compile(r"[0-9a-zA-Z$_\u0080-\U0010ffff]")


class FilterError(ValueError):
    pass


class _Pattern:
    def __init__(self, regex, match_all):
        self.regex = regex
        self.match_all = match_all

    def match(self, text):
        return self.regex.search(text) is not None


def _parse_part(line, pos, rule, flags=0):
    """One schema or table pattern starting at pos -> (_Pattern, new pos)."""
    if pos >= len(line):
        raise FilterError("syntax error: missing pattern in %s" % rule)
    first = line[pos]
    if first == "/":
        end = pos + 1
        buf = []
        while end < len(line) and line[end] != "/":
            if line[end] == "\\" and end + 1 < len(line):
                buf.append(line[end:end + 2] if line[end + 1] != "/" else "/")
                end += 2
                continue
            buf.append(line[end])
            end += 1
        if end >= len(line):
            raise FilterError("syntax error: incomplete regexp in %s" % rule)
        try:
            regex = re.compile("".join(buf), flags)
        except re.error as exc:
            raise FilterError("invalid pattern: %s" % exc) from None
        return _Pattern(regex, False), end + 1
    if first in "\"`":
        end = pos + 1
        buf = []
        while True:
            if end >= len(line):
                raise FilterError("syntax error: unterminated quoted identifier in %s" % rule)
            if line[end] == first:
                if end + 1 < len(line) and line[end + 1] == first:
                    buf.append(first)
                    end += 2
                    continue
                break
            buf.append(line[end])
            end += 1
        return _Pattern(re.compile("^" + re.escape("".join(buf)) + "$", flags), False), end + 1
    buf = []
    end = pos
    literal_all = True
    while end < len(line) and line[end] != ".":
        char = line[end]
        if char == "\\":
            if end + 1 >= len(line):
                raise FilterError("syntax error: cannot place \\ at end of line in %s" % rule)
            nxt = line[end + 1]
            if nxt.isascii() and nxt.isalnum():
                raise FilterError("cannot escape a letter or number (\\%s), "
                                  "it is reserved for future extension" % nxt)
            buf.append(re.escape(nxt))
            literal_all = False
            end += 2
            continue
        if char == "*":
            buf.append(".*")
        elif char == "?":
            buf.append(".")
            literal_all = False
        elif char == "[":
            close = line.find("]", end + 2)
            if close < 0:
                raise FilterError("syntax error: failed to parse character class in %s" % rule)
            body = line[end + 1:close]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            buf.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
            literal_all = False
            end = close + 1
            continue
        elif _IDENT.match(char):
            buf.append(re.escape(char))
            literal_all = False
        else:
            raise FilterError("syntax error: unexpected special character '%s' in %s"
                              % (char, rule))
        end += 1
    if not buf:
        raise FilterError("syntax error: missing pattern in %s" % rule)
    match_all = literal_all and all(b == ".*" for b in buf)
    return _Pattern(re.compile("^" + "".join(buf) + "$", re.S | flags), match_all), end


class _Rule:
    def __init__(self, positive, schema, table):
        self.positive = positive
        self.schema = schema
        self.table = table


class Filter:
    def __init__(self, rules, case_sensitive=True):
        self.rules = rules
        self.case_sensitive = case_sensitive

    def _norm(self, text):
        return text if self.case_sensitive else text.lower()

    def match_table(self, schema, table):
        schema, table = self._norm(schema), self._norm(table)
        for rule in reversed(self.rules):
            if rule.schema.match(schema) and rule.table.match(table):
                return rule.positive
        return False

    def match_schema(self, schema):
        schema = self._norm(schema)
        for rule in reversed(self.rules):
            if rule.schema.match(schema):
                if rule.positive or rule.table.match_all:
                    return rule.positive
        return False


def parse(args, case_sensitive=True):
    """Rules (list of strings) -> Filter; FilterError on bad syntax."""
    rules = []
    for arg in args:
        lines = [arg]
        if arg.strip().startswith("@"):
            path = arg.strip()[1:]
            try:
                with open(path, encoding="utf-8") as handle:
                    lines = handle.read().splitlines()
            except OSError as exc:
                raise FilterError("cannot open filter file: %s" % exc) from None
            for line in lines:
                if line.strip().startswith("@"):
                    raise FilterError("cannot import filter file %s recursively" % line.strip())
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            positive = True
            text = line
            if text.startswith("!"):
                positive = False
                text = text[1:]
            flags = 0 if case_sensitive else re.IGNORECASE
            schema, pos = _parse_part(text, 0, line, flags)
            if pos >= len(text) or text[pos] != ".":
                raise FilterError("syntax error: missing table pattern in %s" % line)
            table, pos = _parse_part(text, pos + 1, line, flags)
            rest = text[pos:].strip()
            if rest:
                raise FilterError("syntax error: unexpected special character '%s' in %s"
                                  % (rest[0], line))
            rules.append(_Rule(positive, schema, table))
    return Filter(rules, case_sensitive)


def tables_filter(tables):
    """filter.NewTablesFilter: exactly these (schema, table) pairs."""
    rules = [_Rule(True, _Pattern(re.compile("^" + re.escape(s) + "$"), False),
                   _Pattern(re.compile("^" + re.escape(t) + "$"), False)) for s, t in tables]
    return Filter(rules, True)
