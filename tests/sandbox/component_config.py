"""Configuration as TiKV and PD hold it, shared by their stand-ins and by tiup's config files.

- TOML text of a nested map (tiup writes conf/<role>.toml with it; TiKV rewrites its file
  with it when a change is made online, as the real one persists online changes);
- nested <-> dotted names (``raftstore.apply-pool-size``), the form SET CONFIG and SHOW
  CONFIG use;
- a value checked against the type of the item's default, as the real servers decode it
  into typed structs (an int, a bool, a size such as ``96MiB``, a duration such as ``30m``).
"""
import json
import re

SIZE_UNITS = {"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10,
              "M": 1 << 20, "MB": 1 << 20, "MIB": 1 << 20, "G": 1 << 30, "GB": 1 << 30,
              "GIB": 1 << 30, "T": 1 << 40, "TB": 1 << 40, "TIB": 1 << 40,
              "P": 1 << 50, "PB": 1 << 50, "PIB": 1 << 50}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGTP]I?B?|B)", re.I)
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:h|m|s|ms|us|µs|ns))+")


# ---- TOML ---------------------------------------------------------------------------------

def toml_dump(data, prefix=""):
    """TOML text of a nested map: plain keys first, then one table per sub-map."""
    lines = []
    tables = []
    for key in sorted(data):
        value = data[key]
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append("%s = %s" % (_toml_key(key), _toml_value(value)))
    out = "\n".join(lines)
    for key, value in tables:
        name = (prefix + "." if prefix else "") + _toml_key(key)
        body = toml_dump(value, name)
        out += ("\n\n" if out else "") + "[%s]\n%s" % (name, body)
    return out


def _toml_key(key):
    key = str(key)
    if key.replace("-", "").replace("_", "").isalnum():
        return key
    return json.dumps(key)


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if value is None:
        return '""'
    return json.dumps(str(value))


# ---- names ----------------------------------------------------------------------------------

def flatten(data, prefix=""):
    """{dotted name: value} of a nested map."""
    out = {}
    for key, value in data.items():
        name = prefix + str(key)
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def set_dotted(data, name, value):
    """Set ``a.b.c`` in a nested map, creating the maps on the way."""
    parts = name.split(".")
    for part in parts[:-1]:
        child = data.get(part)
        if not isinstance(child, dict):
            child = data[part] = {}
        data = child
    data[parts[-1]] = value


def merge(base, extra):
    """A copy of base with extra laid over it, map by map."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def shown(value):
    """The text SHOW CONFIG gives for a value: strings bare, booleans lower-case, numbers
    as JSON writes them, lists as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value)


# ---- typed values ---------------------------------------------------------------------------

def is_size(text):
    return isinstance(text, str) and bool(_SIZE.fullmatch(text.strip()))


def is_duration(text):
    return isinstance(text, str) and bool(_DURATION.fullmatch(text.strip()))


def coerce(default, value):
    """The value as the item's type takes it, or ValueError with the decoder's complaint.

    The type is the default's: TiKV and PD decode into typed fields, so a string where a
    number belongs is refused, not stored."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError("invalid type: %s, expected a boolean" % _kind(value))
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError("invalid type: %s, expected an integer" % _kind(value))
        try:
            number = int(value) if not isinstance(value, float) else value
        except ValueError:
            raise ValueError("invalid type: %s, expected an integer" % _kind(value))
        if isinstance(number, float) and not number.is_integer():
            raise ValueError("invalid type: floating point `%s`, expected an integer" % value)
        return int(number)
    if isinstance(default, float):
        if isinstance(value, bool):
            raise ValueError("invalid type: boolean, expected a float")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError("invalid type: %s, expected a float" % _kind(value))
    if is_size(default):
        if isinstance(value, int) and not isinstance(value, bool):
            return "%dB" % value
        if is_size(value):
            return value.strip()
        raise ValueError("unable to parse readable size %s" % json.dumps(value))
    if is_duration(default):
        if is_duration(value):
            return value.strip()
        raise ValueError("unable to parse readable duration %s" % json.dumps(value))
    if isinstance(value, (dict, list)) or value is None:
        raise ValueError("invalid type: %s, expected a string" % _kind(value))
    return str(value) if not isinstance(value, bool) else ("true" if value else "false")


def _kind(value):
    if isinstance(value, bool):
        return "boolean `%s`" % ("true" if value else "false")
    if isinstance(value, (int, float)):
        return "number `%s`" % value
    if isinstance(value, str):
        return "string %s" % json.dumps(value)
    return "a %s" % type(value).__name__
