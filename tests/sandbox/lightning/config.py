"""tidb-lightning's configuration: Go `flag` command line, the TOML file, and Config.Adjust
(pkg/lightning/config/{global,config}.go).

Command-line values override the TOML. Flag errors and unreadable/unparsable TOML are
LoadGlobalConfig errors (printed on stdout, exit 2); unknown TOML keys and Adjust errors
come later, from the task (stderr "tidb lightning encountered error: ...", exit 1).
"""
import copy
import os
import tomllib

DEFAULT_FILTER = ["*.*", "!mysql.*", "!sys.*", "!INFORMATION_SCHEMA.*", "!PERFORMANCE_SCHEMA.*",
                  "!METRICS_SCHEMA.*", "!INSPECTION_SCHEMA.*"]
ANY = object()  # a table whose keys are free (session-vars, max-error)

KNOWN = {
    "lightning": {"level", "file", "max-size", "max-days", "max-backups", "status-addr",
                  "server-mode", "check-requirements", "index-concurrency",
                  "table-concurrency", "region-concurrency", "io-concurrency", "max-error",
                  "max-error-records", "task-info-schema-name", "meta-schema-name",
                  "pprof-port", "enable-diagnose-logs"},
    "security": {"ca-path", "cert-path", "key-path", "redact-info-log"},
    "checkpoint": {"enable", "schema", "driver", "dsn", "keep-after-success"},
    "conflict": {"strategy", "precheck-conflict-before-import", "threshold",
                 "max-record-rows"},
    "tikv-importer": {"backend", "addr", "sorted-kv-dir", "disk-quota", "range-concurrency",
                      "duplicate-resolution", "incremental-import", "parallel-import",
                      "on-duplicate", "max-kv-pairs", "send-kv-pairs", "send-kv-size",
                      "compress-kv-pairs", "region-split-size", "region-split-keys",
                      "region-split-batch-size", "region-split-concurrency",
                      "region-check-backoff-limit", "engine-mem-cache-size",
                      "local-writer-mem-cache-size", "store-write-bwlimit",
                      "add-index-by-sql", "keyspace-name", "logical-import-batch-size",
                      "logical-import-batch-rows", "logical-import-prep-stmt",
                      "pause-pd-scheduler-scope", "block-size"},
    "mydumper": {"read-block-size", "batch-size", "batch-import-ratio", "source-id",
                 "data-source-dir", "character-set", "csv", "max-region-size", "filter",
                 "files", "no-schema", "case-sensitive", "strict-format", "default-file-rules",
                 "ignore-data-columns", "ignore-columns", "data-character-set",
                 "data-invalid-char-replace"},
    "mydumper.csv": {"separator", "delimiter", "terminator", "null", "header",
                     "header-schema-match", "trim-last-separator", "not-null",
                     "backslash-escape", "escaped-by", "fields-enclosed-by",
                     "lines-starting-by", "quoted-by"},
    "tidb": {"host", "port", "user", "password", "status-port", "pd-addr", "sql-mode", "tls",
             "security", "max-allowed-packet", "distsql-scan-concurrency",
             "build-stats-concurrency", "index-serial-scan-concurrency",
             "checksum-table-concurrency", "session-vars", "log-level", "keyspace-name"},
    "tidb.security": {"ca-path", "cert-path", "key-path"},
    "tidb.session-vars": ANY,
    "lightning.max-error": ANY,
    "post-restore": {"checksum", "analyze", "level-1-compact", "compact",
                     "post-process-at-last", "checksum-via-sql"},
    "cron": {"switch-mode", "log-progress", "check-disk-quota"},
    "routes": None,  # array of tables, not emulated
    "mydumper.files": None,
}


class ConfigError(Exception):
    pass


def invalid(msg):
    return ConfigError("[Lightning:Config:ErrInvalidConfig]" + msg)


def unknown_keys(doc, prefix=""):
    out = []
    for key, value in doc.items():
        full = prefix + key
        if not prefix:
            if key not in KNOWN:
                out.append(full)
                continue
            if KNOWN[key] is None:
                continue
            if isinstance(value, dict):
                out += unknown_keys(value, key + ".")
            else:
                out.append(full)
            continue
        section = prefix[:-1]
        allowed = KNOWN.get(section)
        if allowed is ANY or allowed is None:
            continue
        if key not in allowed:
            out.append(full)
        elif isinstance(value, dict) and full in KNOWN:
            out += unknown_keys(value, full + ".")
    return out


def defaults():
    return {
        "lightning": {"level": "info", "file": "", "check-requirements": True,
                      "region-concurrency": os.cpu_count() or 4,
                      "task-info-schema-name": "lightning_task_info"},
        "checkpoint": {"enable": True, "schema": "tidb_lightning_checkpoint", "driver": "",
                       "dsn": "", "keep-after-success": "remove"},
        "conflict": {"strategy": "", "threshold": -1, "max-record-rows": -1,
                     "precheck-conflict-before-import": False},
        "tikv-importer": {"backend": "", "sorted-kv-dir": "", "on-duplicate": "",
                          "duplicate-resolution": "", "parallel-import": False,
                          "incremental-import": False,
                          "logical-import-batch-size": 96 * 1024,
                          "logical-import-batch-rows": 65536},
        "mydumper": {"data-source-dir": "", "no-schema": False, "filter": list(DEFAULT_FILTER),
                     "case-sensitive": False,
                     "csv": {"separator": ",", "delimiter": '"', "terminator": "",
                             "null": ["\\N"], "header": True, "header-schema-match": True,
                             "trim-last-separator": False, "not-null": False,
                             "backslash-escape": True}},
        "tidb": {"host": "127.0.0.1", "port": 0, "user": "root", "password": "",
                 "status-port": 10080, "pd-addr": "",
                 "sql-mode": "ONLY_FULL_GROUP_BY,NO_AUTO_CREATE_USER", "tls": ""},
        "post-restore": {"checksum": "required", "analyze": "optional"},
    }


def merge(base, doc):
    for key, value in doc.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def op_level(value, where):
    if isinstance(value, bool):
        return "required" if value else "off"
    text = str(value).lower()
    if text in ("off", "false"):
        return "off"
    if text in ("required", "true"):
        return "required"
    if text == "optional":
        return "optional"
    raise ConfigError("invalid op level '%s', please choose valid option between ['off', "
                      "'optional', 'required']" % value)


def keep_strategy(value):
    if isinstance(value, bool):
        return "rename" if value else "remove"
    text = str(value).lower()
    mapping = {"remove": "remove", "false": "remove", "rename": "rename", "true": "rename",
               "origin": "origin"}
    if text not in mapping:
        raise ConfigError("invalid checkpoint keep strategy '%s', please choose valid option "
                          "between ['remove', 'rename', 'origin']" % value)
    return mapping[text]


def parse_size(value, where):
    if isinstance(value, int):
        return value
    units = {"": 1, "b": 1, "kb": 1024, "kib": 1024, "k": 1024, "mb": 1024 ** 2,
             "mib": 1024 ** 2, "m": 1024 ** 2, "gb": 1024 ** 3, "gib": 1024 ** 3}
    import re
    match = re.match(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*\Z", str(value))
    if not match or match.group(2).lower() not in units:
        raise ConfigError("invalid size '%s' for %s" % (value, where))
    return int(float(match.group(1)) * units[match.group(2).lower()])


def load_toml(path):
    """The TOML of --config (LoadGlobalConfig's errors)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ConfigError("Cannot read config file `%s`: open %s: %s"
                          % (path, path, (exc.strerror or str(exc)).lower())) from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError("Cannot parse config file `%s`: toml: %s" % (path, exc)) from None


def build(doc, flags):
    """Merge defaults, TOML and command-line flags (flags win)."""
    cfg = merge(defaults(), copy.deepcopy(doc))
    app, tidb, imp, myd = cfg["lightning"], cfg["tidb"], cfg["tikv-importer"], cfg["mydumper"]
    if flags.get("L"):
        app["level"] = flags["L"]
    if flags.get("log-file"):
        app["file"] = flags["log-file"]
    for flag, key in (("tidb-host", "host"), ("tidb-user", "user"),
                      ("tidb-password", "password"), ("pd-urls", "pd-addr")):
        if flags.get(flag):
            tidb[key] = flags[flag]
    if flags.get("tidb-port"):
        tidb["port"] = flags["tidb-port"]
    if flags.get("tidb-status"):
        tidb["status-port"] = flags["tidb-status"]
    if flags.get("d"):
        myd["data-source-dir"] = flags["d"]
    if flags.get("backend"):
        imp["backend"] = flags["backend"]
    if flags.get("sorted-kv-dir"):
        imp["sorted-kv-dir"] = flags["sorted-kv-dir"]
    if flags.get("enable-checkpoint") is False:
        cfg["checkpoint"]["enable"] = False
    if flags.get("no-schema"):
        myd["no-schema"] = True
    if flags.get("checksum"):
        cfg["post-restore"]["checksum"] = flags["checksum"]
    if flags.get("analyze"):
        cfg["post-restore"]["analyze"] = flags["analyze"]
    if flags.get("check-requirements") is False:
        app["check-requirements"] = False
    if flags.get("f"):
        myd["filter"] = list(flags["f"])
    if not app.get("file"):
        import datetime
        now = datetime.datetime.now().astimezone()
        app["file"] = os.path.join(os.environ.get("TMPDIR") or "/tmp",
                                   now.strftime("lightning.log.%Y-%m-%dT%H.%M.%S%z"))
    return cfg


def adjust(cfg):
    """Config.Adjust: defaults and checks."""
    imp, tidb, ckp, myd = cfg["tikv-importer"], cfg["tidb"], cfg["checkpoint"], cfg["mydumper"]
    backend = str(imp.get("backend") or "")
    if backend == "":
        raise invalid("tikv-importer.backend must not be empty!")
    backend = backend.lower()
    imp["backend"] = backend
    if not imp.get("parallel-import") and imp.get("incremental-import"):
        imp["parallel-import"] = True
    if backend == "tidb":
        for key in ("logical-import-batch-size", "logical-import-batch-rows"):
            imp[key] = parse_size(imp[key], key) if key.endswith("size") else int(imp[key])
            if imp[key] <= 0:
                raise invalid("`tikv-importer.%s` got %d, should be larger than 0"
                              % (key, imp[key]))
    elif backend == "local":
        if not imp.get("sorted-kv-dir"):
            raise invalid("tikv-importer.sorted-kv-dir must not be empty!")
        path = os.path.normpath(imp["sorted-kv-dir"])
        if os.path.exists(path) and not os.path.isdir(path):
            raise invalid("tikv-importer.sorted-kv-dir ('%s') is not a directory" % path)
    else:
        raise invalid("unsupported `tikv-importer.backend` (%s)" % backend)
    post = cfg["post-restore"]
    post["checksum"] = op_level(post.get("checksum"), "checksum")
    post["analyze"] = op_level(post.get("analyze"), "analyze")
    if backend == "tidb":
        post["checksum"] = "off"
        post["analyze"] = "off"
    if not myd.get("data-source-dir"):
        raise invalid("[mydumper] data-source-dir or -d is not set")  # sandbox wording
    if tidb.get("tls") not in ("", "false", None):
        raise invalid("tidbops sandbox: TLS (`tidb.tls`) is not emulated")
    try:
        tidb["port"] = int(tidb.get("port") or 0)
    except (TypeError, ValueError):
        raise invalid("invalid `tidb.port` setting") from None
    # checkpoint
    ckp["keep-after-success"] = keep_strategy(ckp.get("keep-after-success", "remove"))
    if not ckp.get("schema"):
        ckp["schema"] = "tidb_lightning_checkpoint"
    if not ckp.get("driver"):
        ckp["driver"] = "file"
    if ckp["driver"] not in ("file", "mysql"):
        raise invalid("unknown checkpoint driver %s" % ckp["driver"])
    if ckp["driver"] == "mysql" and ckp.get("enable"):
        raise invalid("tidbops sandbox: the mysql checkpoint driver is not emulated "
                      "(use driver = \"file\")")
    if not ckp.get("dsn") and ckp["driver"] == "file":
        ckp["dsn"] = "/tmp/" + ckp["schema"] + ".pb"
    # conflict
    conflict = cfg["conflict"]
    strategy, source = str(conflict.get("strategy") or ""), "conflict.strategy"
    on_dup = str(imp.get("on-duplicate") or "")
    if strategy == "":
        if on_dup == "" and backend == "tidb":
            strategy = "error"
        if on_dup != "":
            strategy, source = on_dup, "tikv-importer.on-duplicate"
    from_dup_res = False
    dup_res = str(imp.get("duplicate-resolution") or "")
    if strategy == "" and dup_res not in ("", "none"):
        strategy, from_dup_res = dup_res, True
    if strategy not in ("replace", "ignore", "error", ""):
        raise invalid("unsupported `%s` (%s)" % (source, strategy))
    if not from_dup_res and strategy != "" and dup_res not in ("", "none"):
        raise invalid("%s cannot be used with tikv-importer.duplicate-resolution" % source)
    if strategy == "ignore" and backend == "local":
        raise invalid('%s cannot be set to "ignore" when use tikv-importer.backend = "local"'
                      % source)
    if conflict.get("precheck-conflict-before-import") and backend == "tidb":
        raise invalid("conflict.precheck-conflict-before-import cannot be set to true when use "
                      'tikv-importer.backend = "tidb"')
    threshold = int(conflict.get("threshold", -1))
    if threshold > 0 and strategy == "error":
        raise invalid('conflict.threshold cannot be set when use conflict.strategy = "error"')
    conflict["strategy"] = strategy
    # csv
    csv = myd["csv"]
    if isinstance(csv.get("null"), str):
        csv["null"] = [csv["null"]]
    if csv.get("separator", "") == "":
        raise invalid("`mydumper.csv.separator` must not be empty")
    if csv.get("delimiter") and (csv["delimiter"] in csv["separator"]
                                 or csv["separator"] in csv["delimiter"]):
        raise invalid("`mydumper.csv.separator` and `mydumper.csv.delimiter` must not be "
                      "prefix of each other")
    return cfg
