"""A YAML writer that formats like Go's gopkg.in/yaml.v3 Marshal (what tiup writes to
meta.yaml and prints in show-config): 4-space indent, sequences indented under their key,
``{}``/``[]`` for empty collections, struct fields in declaration order (``Struct``) and Go
map keys sorted (plain dicts), literal blocks (``|-``) for multi-line strings and double
quotes for strings that would otherwise read back as another type."""
import json
import re

import yaml


class Struct(object):
    """An ordered mapping (a Go struct): fields are emitted in the given order."""

    def __init__(self, items=None):
        self.items = list(items or [])

    def add(self, key, value):
        self.items.append((key, value))


_PLAIN = re.compile(r"^[A-Za-z0-9_./~$()\[\]+-][A-Za-z0-9_./~$()\[\]+ ,=:@%^*!<>?-]*$")


def _scalar(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text
    text = str(value)
    if text == "":
        return '""'
    if (_PLAIN.match(text) and not text.endswith(" ") and ": " not in text
            and " #" not in text and not text.endswith(":")
            and not re.match(r"^[-?:,\[\]{}#&*!|>'\"%@`]( |$)", text)
            and not text.startswith(("[", "]", "*", "!", "%", "@", "?", "<", ">"))):
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError:
            loaded = None
        if loaded == text and text.lower() not in ("y", "n", "yes", "no", "on", "off"):
            return text
    return json.dumps(text, ensure_ascii=False)


def _is_empty_collection(value):
    if isinstance(value, Struct):
        return not value.items
    return isinstance(value, (dict, list)) and not value


def _items(value):
    if isinstance(value, Struct):
        return value.items
    return sorted(value.items(), key=lambda kv: str(kv[0]))


def _emit_mapping(items, indent, out):
    pad = " " * indent
    for key, value in items:
        key_text = _scalar(key)
        if isinstance(value, (dict, Struct)) and not _is_empty_collection(value):
            out.append("%s%s:\n" % (pad, key_text))
            _emit_mapping(_items(value), indent + 4, out)
        elif isinstance(value, list) and value:
            out.append("%s%s:\n" % (pad, key_text))
            _emit_sequence(value, indent + 4, out)
        elif isinstance(value, str) and "\n" in value:
            out.append("%s%s: %s\n" % (pad, key_text, _block_header(value)))
            _emit_block(value, indent + 4, out)
        else:
            out.append("%s%s: %s\n" % (pad, key_text, _flow(value)))


def _flow(value):
    if isinstance(value, (dict, Struct)):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def _block_header(text):
    return "|-" if not text.endswith("\n") else "|"


def _emit_block(text, indent, out):
    pad = " " * indent
    body = text[:-1] if text.endswith("\n") else text
    for line in body.split("\n"):
        out.append((pad + line).rstrip() + "\n" if line else "\n")


def _emit_sequence(values, indent, out):
    pad = " " * indent
    for value in values:
        if isinstance(value, (dict, Struct)) and not _is_empty_collection(value):
            sub = []
            _emit_mapping(_items(value), indent + 2, sub)
            first = sub[0]
            sub[0] = pad + "- " + first[indent + 2:]
            out.extend(sub)
        elif isinstance(value, list) and value:
            sub = []
            _emit_sequence(value, indent + 2, sub)
            sub[0] = pad + "- " + sub[0][indent + 2:]
            out.extend(sub)
        else:
            out.append("%s- %s\n" % (pad, _flow(value)))


def dump(value):
    """Serialize a Struct/dict (the document root) like yaml.v3 Marshal."""
    out = []
    if isinstance(value, (dict, Struct)):
        if _is_empty_collection(value):
            return "{}\n"
        _emit_mapping(_items(value), 0, out)
    elif isinstance(value, list):
        if not value:
            return "[]\n"
        _emit_sequence(value, 0, out)
    else:
        out.append(_scalar(value) + "\n")
    return "".join(out)
