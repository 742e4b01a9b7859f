"""A small command-line parser with spf13/pflag's behaviour (what cobra commands accept).

- flags anywhere among the positional arguments; ``--`` ends the flags;
- ``--name value``, ``--name=value``, ``-n value``, ``-nvalue``, ``-n=value``, bools as
  ``--yes`` / ``--yes=false``, combined bool shorthands (``-yv``);
- string slices take comma-separated values and accumulate when repeated; string arrays
  accumulate without splitting;
- errors with pflag's texts: ``unknown flag: --x``, ``unknown shorthand flag: 'x' in -x``,
  ``flag needs an argument: --x``, ``invalid argument "v" for "--x" flag: ...``.
"""
import csv


class FlagError(Exception):
    """A command-line error (cobra reports it before the command runs)."""


class Flag(object):
    def __init__(self, name, kind="string", short=None, default=None, hidden=False):
        assert kind in ("bool", "string", "int", "uint", "slice", "array")
        self.name = name
        self.kind = kind
        self.short = short
        if default is None:
            default = {"bool": False, "string": "", "int": 0, "uint": 0,
                       "slice": [], "array": []}[kind]
        self.default = default
        self.hidden = hidden

    @property
    def dest(self):
        return self.name.replace("-", "_")


def _convert(flag, value, shown):
    if flag.kind == "bool":
        low = value.lower()
        if low in ("1", "t", "true"):
            return True
        if low in ("0", "f", "false"):
            return False
        raise FlagError('invalid argument "%s" for "%s" flag: strconv.ParseBool: parsing "%s": '
                        'invalid syntax' % (value, shown, value))
    if flag.kind in ("int", "uint"):
        try:
            number = int(value, 10)
        except ValueError:
            func = "ParseUint" if flag.kind == "uint" else "ParseInt"
            raise FlagError('invalid argument "%s" for "%s" flag: strconv.%s: parsing "%s": '
                            'invalid syntax' % (value, shown, func, value))
        if flag.kind == "uint" and number < 0:
            raise FlagError('invalid argument "%s" for "%s" flag: strconv.ParseUint: parsing "%s": '
                            'invalid syntax' % (value, shown, value))
        return number
    if flag.kind == "slice":
        if value == "":
            return []
        return next(csv.reader([value]))
    return value


def _flag_shown(flag, used_short):
    if used_short:
        return "-%s, --%s" % (flag.short, flag.name) if flag.short else "--" + flag.name
    return "-%s, --%s" % (flag.short, flag.name) if flag.short else "--" + flag.name


def parse(args, flags):
    """Parse args with the given Flag list; returns (values: dict dest -> value, positionals,
    set of dests that were given)."""
    by_name = {f.name: f for f in flags}
    by_short = {f.short: f for f in flags if f.short}
    values = {f.dest: (list(f.default) if isinstance(f.default, list) else f.default)
              for f in flags}
    given = set()
    positionals = []

    def store(flag, value, shown):
        converted = _convert(flag, value, shown)
        if flag.kind in ("slice", "array"):
            if flag.dest not in given:
                values[flag.dest] = []
            if flag.kind == "slice":
                values[flag.dest].extend(converted)
            else:
                values[flag.dest].append(converted)
        else:
            values[flag.dest] = converted
        given.add(flag.dest)

    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            positionals.extend(args[i:])
            break
        if arg.startswith("--") and len(arg) > 2:
            body = arg[2:]
            name, eq, value = body.partition("=")
            flag = by_name.get(name)
            if flag is None:
                if name in ("help",):
                    raise HelpRequested()
                raise FlagError("unknown flag: --%s" % name)
            shown = _flag_shown(flag, False)
            if eq:
                store(flag, value, shown)
            elif flag.kind == "bool":
                store(flag, "true", shown)
            elif i < len(args):
                store(flag, args[i], shown)
                i += 1
            else:
                raise FlagError("flag needs an argument: --%s" % name)
            continue
        if arg.startswith("-") and len(arg) > 1:
            shorts = arg[1:]
            while shorts:
                char = shorts[0]
                flag = by_short.get(char)
                if flag is None:
                    if char == "h":
                        raise HelpRequested()
                    raise FlagError("unknown shorthand flag: '%s' in -%s" % (char, arg[1:]))
                shown = _flag_shown(flag, True)
                rest = shorts[1:]
                if rest.startswith("="):
                    store(flag, rest[1:], shown)
                    shorts = ""
                elif flag.kind == "bool":
                    store(flag, "true", shown)
                    shorts = rest
                elif rest:
                    store(flag, rest, shown)
                    shorts = ""
                elif i < len(args):
                    store(flag, args[i], shown)
                    i += 1
                    shorts = ""
                else:
                    raise FlagError("flag needs an argument: '%s' in -%s" % (char, arg[1:]))
            continue
        positionals.append(arg)
    return values, positionals, given


class HelpRequested(Exception):
    """-h / --help was given."""


def first_positional(args, flags):
    """Index of the first positional argument (the subcommand), skipping flags and their
    values the way cobra's stripFlags does; None if there is none."""
    by_name = {f.name: f for f in flags}
    by_short = {f.short: f for f in flags if f.short}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return i + 1 if i + 1 < len(args) else None
        if arg.startswith("--") and len(arg) > 2:
            name, eq, dummy = arg[2:].partition("=")
            flag = by_name.get(name)
            if not eq and flag is not None and flag.kind != "bool":
                i += 2
                continue
            i += 1
            continue
        if arg.startswith("-") and len(arg) > 1:
            flag = by_short.get(arg[1])
            if len(arg) == 2 and flag is not None and flag.kind != "bool":
                i += 2
                continue
            i += 1
            continue
        return i
    return None
