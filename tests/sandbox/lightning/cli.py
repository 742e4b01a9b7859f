"""`tidb-lightning`: lightning/cmd/tidb-lightning/main.go.

    tidb-lightning --config tidb-lightning.toml [-d DIR|URL] [--backend local|tidb] ...

stdout: "Verbose debug logs will be written to <file>" (when the log goes to a file), then
"tidb lightning exit successfully" (exit 0) or "tidb lightning canceled" (SIGTERM/SIGINT,
exit 0); failures: stderr "tidb lightning encountered error: <err>", exit 1. Flag and
config-file errors: stdout "Failed to parse command flags: <err>", exit 2.
"""
import signal
import sys

from tests.sandbox.dumpling import golog
from tests.sandbox.lightning import config as lconfig
from tests.sandbox.lightning import importer

DEFAULT_VERSION = "v7.5.1"
GIT_HASH = "7f5d4b6d9c1a1e8f0a3b2c4d5e6f708192a3b4c5"

# name -> (kind, default, usage); kinds: string, int, bool, choice:<a|b>, strings
FLAGS = [
    ("c", "string", "", "(deprecated alias of -config)"),
    ("config", "string", "", "tidb-lightning configuration file"),
    ("V", "bool", False, "print version of lightning"),
    ("L", "choice:|info|debug|warn|warning|error|fatal", "",
     "log level: info, debug, warn, error, fatal (default info)"),
    ("log-file", "string", "", "log file path"),
    ("tidb-host", "string", "", "TiDB server host"),
    ("tidb-port", "int", 0, "TiDB server port (default 4000)"),
    ("tidb-user", "string", "", "TiDB user name to connect"),
    ("tidb-password", "string", "", "TiDB password to connect"),
    ("tidb-status", "int", 0, "TiDB server status port (default 10080)"),
    ("pd-urls", "string", "", "PD endpoint address"),
    ("d", "string", "", "Directory of the dump to import"),
    ("importer", "string", "", "address (host:port) to connect to tikv-importer"),
    ("backend", "choice:|local|importer|tidb", "", "delivery backend: local, importer, tidb"),
    ("sorted-kv-dir", "string", "", "path for KV pairs when local backend enabled"),
    ("enable-checkpoint", "bool", True, "whether to enable checkpoints"),
    ("no-schema", "bool", False, "ignore schema files, get schema directly from TiDB instead"),
    ("checksum", "choice:|required|optional|off|true|false", "",
     "compare checksum after importing."),
    ("analyze", "choice:|required|optional|off|true|false", "", "analyze table after importing"),
    ("check-requirements", "bool", True, "check cluster version before starting"),
    ("ca", "string", "", "CA certificate path for TLS connection"),
    ("cert", "string", "", "certificate path for TLS connection"),
    ("key", "string", "", "private key path for TLS connection"),
    ("redact-info-log", "bool", False, "whether to redact sensitive info in log"),
    ("status-addr", "string", "", "the Lightning server address"),
    ("server-mode", "bool", False, "start Lightning in server mode, wait for multiple tasks "
                                   "instead of starting immediately"),
    ("check-only", "string", "", "do check only, supported value: normal, sample=rate,rows"),
    ("f", "strings", [], "select tables to import"),
]


class FlagErr(Exception):
    pass


class HelpRequested(Exception):
    pass


def usage():
    lines = ["Usage:"]
    for name, kind, default, text in FLAGS:
        typ = {"string": " string", "int": " int", "bool": "", "strings": " value"}.get(
            kind, " value")
        lines.append("  -%s%s\n    \t%s" % (name, typ, text))
    return "\n".join(lines) + "\n"


def parse_flags(argv):
    """Go's flag package (ContinueOnError): -x, --x, -x=v, -x v; stops at a non-flag."""
    spec = {name: (kind, default) for name, kind, default, dummy in FLAGS}
    values = {name: (list(default) if isinstance(default, list) else default)
              for name, (kind, default) in spec.items()}
    args = list(argv)
    while args:
        arg = args[0]
        if len(arg) < 2 or arg[0] != "-":
            break
        if arg == "--":
            args.pop(0)
            break
        args.pop(0)
        name = arg[2:] if arg.startswith("--") else arg[1:]
        if not name or name[0] in "-=":
            raise FlagErr("bad flag syntax: %s" % arg)
        name, eq, raw = name.partition("=")
        if name in ("h", "help") and name not in spec:
            raise HelpRequested()
        if name not in spec:
            raise FlagErr("flag provided but not defined: -%s" % name)
        kind, dummy = spec[name]
        if kind == "bool":
            if not eq:
                values[name] = True
                continue
            if raw in ("1", "t", "T", "true", "TRUE", "True"):
                values[name] = True
            elif raw in ("0", "f", "F", "false", "FALSE", "False"):
                values[name] = False
            else:
                raise FlagErr('invalid boolean value "%s" for -%s: parse error' % (raw, name))
            continue
        if not eq:
            if not args:
                raise FlagErr("flag needs an argument: -%s" % name)
            raw = args.pop(0)
        if kind == "int":
            try:
                values[name] = int(raw, 0)
            except ValueError:
                raise FlagErr('invalid value "%s" for flag -%s: parse error' % (raw, name)) \
                    from None
        elif kind == "strings":
            values[name].append(raw)
        elif kind.startswith("choice:"):
            choices = kind[len("choice:"):].split("|")
            if raw not in choices:
                raise FlagErr('invalid value "%s" for flag -%s: invalid choice "%s"'
                              % (raw, name, raw))
            values[name] = raw
        else:
            values[name] = raw
    return values


def build_info(version):
    return ("Release Version: %s\nGit Commit Hash: %s\nGit Branch: heads/refs/tags/%s\n"
            "Go Version: go version go1.21.6 linux/amd64\nUTC Build Time: 2024-02-28 "
            "09:19:54\nRace Enabled: false" % (version, GIT_HASH, version))


def main(argv=None, version=DEFAULT_VERSION):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        flags = parse_flags(argv)
    except HelpRequested:
        sys.stderr.write(usage())
        return 0
    except FlagErr as exc:
        sys.stderr.write("%s\n%s" % (exc, usage()))
        sys.stdout.write("Failed to parse command flags:  %s\n" % exc)
        return 2
    if flags["V"]:
        sys.stdout.write(build_info(version) + "\n")
        return 0
    path = flags["config"] or flags["c"]
    doc = {}
    try:
        if path:
            doc = lconfig.load_toml(path)
        if flags["server-mode"]:
            raise lconfig.ConfigError("tidbops sandbox: server mode is not emulated")
        if flags["check-only"]:
            raise lconfig.ConfigError("tidbops sandbox: -check-only is not emulated")
        if flags["ca"] or flags["cert"] or flags["key"]:
            raise lconfig.ConfigError("tidbops sandbox: TLS is not emulated")
        cfg = lconfig.build(doc, flags)
    except lconfig.ConfigError as exc:
        sys.stdout.write("Failed to parse command flags:  %s\n" % exc)
        return 2
    log_file = cfg["lightning"]["file"]
    if log_file != "-":
        sys.stdout.write("Verbose debug logs will be written to %s\n\n" % log_file)
        sys.stdout.flush()
    try:
        log = golog.Logger(None if log_file == "-" else log_file, cfg["lightning"]["level"])
    except OSError as exc:
        sys.stderr.write("tidb lightning encountered error: open %s: %s\n"
                         % (log_file, (exc.strerror or str(exc)).lower()))
        return 1
    log.info("info.go:53", "Welcome to TiDB-Lightning", release_version=version,
             git_hash=GIT_HASH, git_branch="heads/refs/tags/" + version,
             go_version="go1.21.6", utc_build_time="2024-02-28 09:19:54", race_enabled=False)

    cancelled = {"flag": False}

    def on_signal(signum, frame):  # pylint: disable=unused-argument
        log.info("main.go:78", "got signal to exit", signal=signal.Signals(signum).name)
        cancelled["flag"] = True
        raise importer.Cancelled()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, on_signal)

    task = None
    err = None
    try:
        unknown = lconfig.unknown_keys(doc)
        if unknown:
            raise importer.TaskError("config file contained unknown configuration options: %s"
                                     % ", ".join(unknown))
        try:
            lconfig.adjust(cfg)
        except lconfig.ConfigError as exc:
            raise importer.TaskError(str(exc)) from None
        log.info("lightning.go:382", "cfg", cfg=_redacted(cfg))
        task = importer.Importer(cfg, log, version)
        task.run()
    except importer.Cancelled:
        pass
    except importer.TaskError as exc:
        err = str(exc)
    except Exception as exc:  # pylint: disable=broad-except
        err = "%s: %s" % (type(exc).__name__, exc)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_DFL)
        if task is not None:
            task.close()
    if err is not None:
        log.error("main.go:103", "tidb lightning encountered error stack info", error=err)
        sys.stderr.write("tidb lightning encountered error: %s\n" % err)
        log.close()
        return 1
    finished = not cancelled["flag"]
    log.info("main.go:106", "tidb lightning exit", finished=finished)
    sys.stdout.write("tidb lightning exit successfully\n" if finished
                     else "tidb lightning canceled\n")
    log.close()
    return 0


def _redacted(cfg):
    import json
    safe = json.loads(json.dumps(cfg, default=str))
    if safe.get("tidb", {}).get("password"):
        safe["tidb"]["password"] = "******"
    return json.dumps(safe, sort_keys=True)
