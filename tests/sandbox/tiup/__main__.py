"""`tiup`: the top-level dispatcher (pingcap/tiup cmd/root.go, pkg/exec/run.go).

    tiup --version | -v             the version block
    tiup [--tag T] [--binpath P] <component>[:version] [args...]

A component is a module under tests/sandbox/tiup/components/. tiup prints
"Starting component <name>: <binary> <args>" to stderr before running a component, except
for cluster and playground; passwords in that line are redacted like
environment.HideSensitiveInfo does. An unknown component fails the way tiup fails when the
mirror does not have it.
"""
import os
import re
import sys
import urllib.parse

from tests.sandbox.tiup import env as tiup_env
from tests.sandbox.tiup.components import ComponentContext, load

# tiup's own subcommands; the sandbox does not emulate them
TIUP_SUBCOMMANDS = ("install", "list", "uninstall", "update", "status", "clean", "mirror",
                    "env", "history", "link", "unlink", "completion", "help")

ROOT_HELP = """TiUP is a command-line component management tool that can help to download and install
TiDB platform components to the local system. You can run a specific version of a component via
"tiup <component>[:version]". If no version number is specified, the latest version installed
locally will be used. If the specified component does not have any version installed locally,
the latest stable version will be downloaded from the repository.

Usage:
  tiup [flags] <command> [args...]
  tiup [flags] <component> [args...]

Flags:
      --binary <component>[:version]   Print binary path of a specific version of a component <component>[:version]
      --binpath string                 Specify the binary path of component instance
  -h, --help                           help for tiup
  -T, --tag string                     [Deprecated] Specify a tag for component instance
  -v, --version                        Print the version of tiup
"""

_REDACT = ("-p", "-password", "--password", "-tidb-password", "--tidb-password", "encrypt")
_URI_KEYS = ("sasl-password", "access-key", "secret-access-key", "session-token")


def _filter_uri(arg):
    try:
        parts = urllib.parse.urlsplit(arg)
    except ValueError:
        return arg
    if not parts.scheme:
        return arg
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, "******" if k in _URI_KEYS else v) for k, v in query]
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(":" + parts.password + "@", ":xxxxx@", 1)
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path,
                                    urllib.parse.urlencode(query), parts.fragment))


def hide_sensitive_info(args):
    out = []
    i = 0
    while i < len(args):
        arg = args[i]
        redacted = False
        for key in _REDACT:
            if arg.startswith(key) and len(arg) > len(key):
                out.append(key + "******")
                redacted = True
                break
            if arg == key and i + 1 < len(args):
                out.extend([key, "******"])
                i += 1
                redacted = True
                break
            arg = _filter_uri(arg)
            if arg.startswith("--sink-uri="):
                arg = "--sink-uri=" + _filter_uri(arg[len("--sink-uri="):])
        if not redacted:
            out.append(arg)
        i += 1
    return out


def _error(message):
    sys.stderr.write("Error: %s\n" % message)
    sys.stderr.flush()
    return 1


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        sys.stdout.write(ROOT_HELP)
        return 0
    tag = None
    binpath = None
    while args and args[0].startswith("-"):
        flag = args[0]
        if flag in ("--help", "-h"):
            sys.stdout.write(ROOT_HELP)
            return 0
        if flag in ("--version", "-v"):
            sys.stdout.write(tiup_env.tiup_version_string() + "\n")
            return 0
        if flag in ("--tag", "-T", "--binpath", "--binary"):
            if len(args) < 2:
                return _error("flag %s needs an argument" % flag)
            if flag == "--binary":
                return _binary(args[1])
            if flag == "--binpath":
                binpath = args[1]
            else:
                tag = args[1]
            args = args[2:]
            continue
        if flag == "--force-pull":
            args = args[1:]
            continue
        return _error("unknown flag: %s" % flag)
    if not args:
        sys.stdout.write(ROOT_HELP)
        return 0
    spec, rest = args[0], args[1:]
    if rest and rest[0] == "--":
        rest = rest[1:]
    if spec in TIUP_SUBCOMMANDS:
        return _error("sandbox: `tiup %s` is not emulated by the TiDB sandbox" % spec)
    name, dummy, version = spec.partition(":")
    module = load(name)
    if module is None:
        sys.stderr.write("The component `%s` version %s is not installed; downloading from "
                         "repository.\n" % (name, version))
        sys.stdout.write("The component `%s` not found (may be deleted from repository); "
                         "skipped\n" % name)
        sys.stdout.flush()
        if version:
            return _error("use `tiup install %s:%s` to install specified version: component "
                          "not installed" % (name, version))
        return _error("use `tiup install %s` to install component `%s` first: component not "
                      "installed" % (name, name))
    version = version or getattr(module, "DEFAULT_VERSION", "")
    binary = binpath or _binary_path(name, version, getattr(module, "BINARY", None))
    _component_env(name, version, binary, tag)
    if not getattr(module, "SKIP_STARTING_MESSAGE", False):
        sys.stderr.write("Starting component %s: %s\n"
                         % (name, " ".join(hide_sensitive_info([binary] + rest))))
        sys.stderr.flush()
    ctx = ComponentContext(name, version, binary)
    try:
        return int(module.main(rest, ctx) or 0)
    except KeyboardInterrupt:
        return 130


def _binary_path(name, version, binary=None):
    binary = binary or ("tiup-" + name if name in ("cluster", "dm", "playground") else name)
    return os.path.join(tiup_env.tiup_home(), "components", name, version, binary)


def _binary(spec):
    name, dummy, version = spec.partition(":")
    module = load(name)
    if module is None:
        return _error("use `tiup install %s` to install component `%s` first: component not "
                      "installed" % (name, name))
    version = version or getattr(module, "DEFAULT_VERSION", "")
    sys.stdout.write(_binary_path(name, version, getattr(module, "BINARY", None)) + "\n")
    return 0


def _component_env(name, version, binary, tag):
    """What PrepareCommand puts into a component's environment (user values win)."""
    home = tiup_env.tiup_home()
    defaults = {
        "TIUP_HOME": home,
        "TIUP_USER_INPUT_VERSION": version,
        "TIUP_VERSION": tiup_env.TIUP_VERSION,
        "TIUP_COMPONENT_DATA_DIR": os.path.join(home, "storage", name),
        "TIUP_COMPONENT_INSTALL_DIR": os.path.dirname(binary),
        "TIUP_WORK_DIR": os.getcwd(),
        "TIUP_TAG": tag or "",
    }
    for key, value in defaults.items():
        if key not in os.environ:
            os.environ[key] = value
    if re.match(r"^[A-Za-z0-9_.-]+$", tag or ""):
        os.environ.setdefault("TIUP_INSTANCE_DATA_DIR", os.path.join(home, "data", tag))


if __name__ == "__main__":
    sys.exit(main())
