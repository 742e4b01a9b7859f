"""Request validation against DM's OpenAPI spec (dm/openapi/spec/dm.yaml), as gin's
OapiRequestValidator middleware does before any handler runs.

Only the request bodies and query parameters the stand-in serves are described, in a
compact form of the spec's schemas. A failure is answered the way that middleware answers
(oapi-codegen v1.9 gin middleware, what DM uses): HTTP 400 with {"error": "<kin-openapi
text>"} -- not DM's ErrorWithMessage shape, because it aborts before DM's error handler.
"""
import json


def obj(props, required=(), extra=True):
    return {"type": "object", "properties": props, "required": list(required), "extra": extra}


def arr(items):
    return {"type": "array", "items": items}


def enum(*values):
    return {"type": "string", "enum": list(values)}


STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
STR_LIST = arr(STR)
NSTR = {"type": "string", "nullable": True}
NINT = {"type": "integer", "nullable": True}

SECURITY = dict(obj({"ssl_ca_content": STR, "ssl_cert_content": STR, "ssl_key_content": STR,
                     "cert_allowed_cn": STR_LIST},
                    ["ssl_ca_content", "ssl_cert_content", "ssl_key_content"]), nullable=True)
PURGE = obj({"interval": NINT, "expires": NINT, "remain_space": NINT})
RELAY_CONFIG = obj({"enable_relay": BOOL, "relay_binlog_name": NSTR, "relay_binlog_gtid": NSTR,
                    "relay_dir": NSTR})
SOURCE = obj({"source_name": STR, "host": STR, "port": INT, "user": STR, "password": NSTR,
              "enable_gtid": BOOL, "enable": BOOL, "flavor": STR, "task_name_list": STR_LIST,
              "security": SECURITY, "purge": PURGE, "status_list": arr({"type": "object"}),
              "relay_config": RELAY_CONFIG},
             ["source_name", "host", "port", "user", "enable_gtid", "enable"])

TASK = obj({
    "name": STR,
    "task_mode": enum("full", "incremental", "all", "dump", "load"),
    "shard_mode": enum("pessimistic", "optimistic"),
    "strict_optimistic_shard_mode": BOOL,
    "meta_schema": STR,
    "timezone": STR,
    "enhance_online_schema_change": BOOL,
    "on_duplicate": enum("replace", "error", "ignore"),
    "target_config": obj({"host": STR, "port": INT, "user": STR, "password": STR, "security": SECURITY,
                          "session": obj({"foreign_key_checks": enum("0", "1")}, extra=False)},
                         ["host", "port", "user", "password"]),
    "binlog_filter_rule": {"type": "object", "additional": obj({"ignore_event": STR_LIST, "ignore_sql": STR_LIST})},
    "table_migrate_rule": arr(obj({
        "source": obj({"source_name": STR, "schema": STR, "table": STR}, ["source_name", "schema", "table"]),
        "target": obj({"schema": STR, "table": STR}),
        "binlog_filter_rule": STR_LIST}, ["source"])),
    "source_config": obj({
        "full_migrate_conf": obj({
            "export_threads": INT, "import_threads": INT, "data_dir": STR, "consistency": STR,
            "import_mode": enum("logical", "physical", "import-into"), "sorting_dir": STR, "disk_quota": STR,
            "checksum": enum("required", "optional", "off"), "analyze": enum("required", "optional", "off"),
            "range_concurrency": INT, "compress-kv-pairs": STR, "pd_addr": STR, "security": SECURITY,
            "on_duplicate_logical": enum("replace", "error", "ignore"),
            "on_duplicate_physical": enum("none", "manual")}),
        "incr_migrate_conf": obj({"repl_threads": INT, "repl_batch": INT, "safe_mode": BOOL}),
        "source_conf": arr(obj({"source_name": STR, "binlog_name": STR, "binlog_pos": INT, "binlog_gtid": STR},
                               ["source_name"]))}, ["source_conf"]),
    "status_list": arr({"type": "object"}),
    "ignore_checking_items": STR_LIST,
}, ["name", "task_mode", "enhance_online_schema_change", "on_duplicate", "target_config",
    "table_migrate_rule", "source_config"])

BODIES = {
    "CreateSourceRequest": obj({"source": SOURCE, "worker_name": STR}, ["source"]),
    "UpdateSourceRequest": obj({"source": SOURCE}, ["source"]),
    "WorkerNameRequest": obj({"worker_name": STR}, ["worker_name"]),
    "EnableRelayRequest": obj({"worker_name_list": STR_LIST, "relay_binlog_name": NSTR,
                               "relay_binlog_gtid": NSTR, "relay_dir": NSTR}),
    "DisableRelayRequest": obj({"worker_name_list": STR_LIST}),
    "PurgeRelayRequest": obj({"relay_binlog_name": STR, "relay_dir": NSTR}, ["relay_binlog_name"]),
    "CreateTaskRequest": obj({"task": TASK}, ["task"]),
    "UpdateTaskRequest": obj({"task": TASK}, ["task"]),
    "StartTaskRequest": obj({"remove_meta": BOOL, "source_name_list": STR_LIST, "start_time": STR,
                             "safe_mode_time_duration": STR}),
    "StopTaskRequest": obj({"timeout_duration": STR, "source_name_list": STR_LIST}),
    "ConverterTaskRequest": obj({"task": TASK, "task_config_file": STR}),
}


class RequestInvalid(Exception):
    """The validator's refusal; str() is the text of the {"error": ...} body."""


_TYPES = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list}


def _type_ok(value, kind):
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _TYPES[kind])


def _check(value, schema, path):
    if value is None:
        if schema.get("nullable"):
            return
        raise RequestInvalid('Error at "%s": Value is not nullable' % (path or "/"))
    kind = schema.get("type")
    if kind and not _type_ok(value, kind):
        article = "an" if kind[0] in "aeiou" else "a"
        raise RequestInvalid('Error at "%s": value must be %s %s' % (path or "/", article, kind))
    if "enum" in schema and value not in schema["enum"]:
        raise RequestInvalid('Error at "%s": value is not one of the allowed values %s'
                             % (path, json.dumps(schema["enum"], separators=(",", ":"))))
    if kind == "object":
        for name in schema.get("required", ()):
            if name not in value:
                raise RequestInvalid('Error at "%s/%s": property "%s" is missing' % (path, name, name))
        props = schema.get("properties", {})
        for name, item in value.items():
            if name in props:
                _check(item, props[name], "%s/%s" % (path, name))
            elif "additional" in schema:
                _check(item, schema["additional"], "%s/%s" % (path, name))
            elif schema.get("extra") is False:
                raise RequestInvalid('Error at "%s": property "%s" is unsupported' % (path or "/", name))
    elif kind == "array":
        for idx, item in enumerate(value):
            _check(item, schema["items"], "%s/%d" % (path, idx))


def parse_body(raw, body_name, required=True):
    """The decoded JSON body, checked against components/schemas/<body_name>."""
    if not raw.strip():
        if required:
            raise RequestInvalid("request body has an error: value is required but missing")
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise RequestInvalid("request body has an error: failed to decode request body: %s" % exc)
    try:
        _check(value, BODIES[body_name], "")
    except RequestInvalid as exc:
        raise RequestInvalid("request body has an error: doesn't match schema #/components/schemas/%s: %s"
                             % (body_name, exc))
    return value


def query_bool(query, name):
    """A boolean query parameter (strconv.ParseBool's spellings), None when absent."""
    values = query.get(name)
    if not values:
        return None
    text = values[-1]
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise RequestInvalid('parameter "%s" in query has an error: value %s: an invalid boolean: invalid syntax'
                         % (name, text))


def query_list(query, name):
    """An array query parameter (form style, explode): ?x=a&x=b."""
    values = query.get(name)
    return list(values) if values else None


def query_enum(query, name, allowed):
    values = query.get(name)
    if not values:
        return None
    if values[-1] not in allowed:
        raise RequestInvalid('parameter "%s" in query has an error: value is not one of the allowed values %s'
                             % (name, json.dumps(list(allowed), separators=(",", ":"))))
    return values[-1]
