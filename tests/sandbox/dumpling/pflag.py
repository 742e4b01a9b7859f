"""Command-line parsing with spf13/pflag's rules and error texts (what dumpling uses).

--name=value, --name value, -xVALUE, -x VALUE, bool flags without a value, '--' ends the
flags, non-flag arguments are collected in order. A string slice splits each value as one
CSV record and its first use replaces the default. Errors are pflag's:

    unknown flag: --foo
    unknown shorthand flag: 'q' in -q
    flag needs an argument: --output
    invalid argument "x" for "-P, --port" flag: strconv.ParseInt: parsing "x": invalid syntax
"""
import csv
import re


class FlagError(Exception):
    pass


class Flag:
    def __init__(self, name, shorthand, kind, default, usage, hidden=False):
        self.name = name
        self.shorthand = shorthand
        self.kind = kind  # string bool int uint64 slice map duration
        self.default = default
        self.usage = usage
        self.hidden = hidden
        self.value = list(default) if isinstance(default, list) else (
            dict(default) if isinstance(default, dict) else default)
        self.changed = False

    def label(self):
        return "-%s, --%s" % (self.shorthand, self.name) if self.shorthand else "--" + self.name

    def set(self, raw):
        if self.kind == "string":
            self.value = raw
        elif self.kind == "bool":
            self.value = _parse_bool(raw, self)
        elif self.kind in ("int", "uint64"):
            self.value = _parse_int(raw, self)
        elif self.kind == "duration":
            self.value = raw
        elif self.kind == "slice":
            try:
                items = next(csv.reader([raw])) if raw else []
            except (csv.Error, StopIteration) as exc:
                raise FlagError('invalid argument %s for "%s" flag: %s'
                                % (_goquote(raw), self.label(), exc)) from None
            self.value = (self.value if self.changed else []) + items
        elif self.kind == "map":
            pairs = {}
            for item in next(csv.reader([raw])) if raw else []:
                key, sep, val = item.partition("=")
                if not sep:
                    raise FlagError('invalid argument %s for "%s" flag: %s must be formatted '
                                    'as key=value' % (_goquote(raw), self.label(), item))
                pairs[key] = val
            self.value = dict(self.value if self.changed else {}, **pairs)
        self.changed = True


def _goquote(text):
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def _parse_bool(raw, flag):
    if raw in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if raw in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise FlagError('invalid argument %s for "%s" flag: strconv.ParseBool: parsing %s: '
                    'invalid syntax' % (_goquote(raw), flag.label(), _goquote(raw)))


def _parse_int(raw, flag):
    func = "strconv.ParseInt" if flag.kind == "int" else "strconv.ParseUint"
    pattern = r"[+-]?[0-9]+\Z" if flag.kind == "int" else r"\+?[0-9]+\Z"
    if not re.match(pattern, raw or ""):
        raise FlagError('invalid argument %s for "%s" flag: %s: parsing %s: invalid syntax'
                        % (_goquote(raw), flag.label(), func, _goquote(raw)))
    value = int(raw)
    limit = 2 ** 63 if flag.kind == "int" else 2 ** 64
    if value >= limit or value < -limit:
        raise FlagError('invalid argument %s for "%s" flag: %s: parsing %s: value out of range'
                        % (_goquote(raw), flag.label(), func, _goquote(raw)))
    return value


class FlagSet:
    def __init__(self):
        self.flags = {}
        self.shorts = {}
        self.order = []
        self.args = []

    def add(self, name, shorthand, kind, default, usage, hidden=False):
        flag = Flag(name, shorthand, kind, default, usage, hidden)
        self.flags[name] = flag
        self.order.append(flag)
        if shorthand:
            self.shorts[shorthand] = flag
        return flag

    def __getitem__(self, name):
        return self.flags[name].value

    def changed(self, name):
        return self.flags[name].changed

    def parse(self, argv):
        args = list(argv)
        while args:
            arg = args.pop(0)
            if arg == "--":
                self.args.extend(args)
                return
            if arg.startswith("--") and len(arg) > 2:
                name, eq, raw = arg[2:].partition("=")
                flag = self.flags.get(name)
                if flag is None:
                    raise FlagError("unknown flag: --%s" % name)
                if eq:
                    flag.set(raw)
                elif flag.kind == "bool":
                    flag.set("true")
                elif args:
                    flag.set(args.pop(0))
                else:
                    raise FlagError("flag needs an argument: --%s" % name)
            elif arg.startswith("-") and len(arg) > 1:
                shorts = arg[1:]
                while shorts:
                    char, shorts = shorts[0], shorts[1:]
                    flag = self.shorts.get(char)
                    if flag is None:
                        raise FlagError("unknown shorthand flag: '%s' in -%s" % (char, arg[1:]))
                    if shorts.startswith("="):
                        flag.set(shorts[1:])
                        shorts = ""
                    elif flag.kind == "bool":
                        flag.set("true")
                    elif shorts:
                        flag.set(shorts)
                        shorts = ""
                    elif args:
                        flag.set(args.pop(0))
                    else:
                        raise FlagError("flag needs an argument: '%s' in -%s" % (char, arg[1:]))
            else:
                self.args.append(arg)

    def usage(self):
        lines = []
        for flag in self.order:
            if flag.hidden:
                continue
            head = "  -%s, --%s" % (flag.shorthand, flag.name) if flag.shorthand \
                else "      --%s" % flag.name
            kind = {"bool": "", "slice": " strings", "map": " stringToString",
                    "int": " int", "uint64": " uint"}.get(flag.kind, " string")
            lines.append("%s%s\t%s" % (head, kind, flag.usage))
        return "\n".join(lines) + "\n"
