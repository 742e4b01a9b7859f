"""Log lines as pingcap/log writes them (the text encoder every TiDB tool uses):

    [2024/03/01 10:40:19.123 +08:00] [INFO] [main.go:82] ["dump data successfully, ..."] [k=v]

The message is always quoted; a field value is quoted (Go strconv.Quote style) when it holds
a space, a quote, '=', '[' or ']' or a control character. Shared by the dumpling and
tidb-lightning stand-ins.
"""
import datetime
import json
import sys
import threading

LEVELS = {"debug": 0, "info": 1, "warn": 2, "warning": 2, "error": 3, "dpanic": 4,
          "panic": 4, "fatal": 5}
_NAMES = {0: "DEBUG", 1: "INFO", 2: "WARN", 3: "ERROR", 4: "PANIC", 5: "FATAL"}


def _needs_quote(text):
    return text == "" or any(c <= " " or c in "\"=[]" or not c.isprintable() for c in text)


def quote(text):
    return json.dumps(text, ensure_ascii=False)


def _value(value):
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (list, tuple)):
        text = "[" + ",".join(quote(str(v)) if isinstance(v, str) else str(v)
                              for v in value) + "]"
    elif isinstance(value, float):
        text = repr(value)
    else:
        text = str(value)
    return quote(text) if _needs_quote(text) else text


def timestamp(now=None):
    now = now or datetime.datetime.now().astimezone()
    offset = now.strftime("%z")
    return "%s.%03d %s:%s" % (now.strftime("%Y/%m/%d %H:%M:%S"), now.microsecond // 1000,
                              offset[:3], offset[3:])


class Logger:
    """A small zap-alike. path None or '-' writes to stdout."""

    def __init__(self, path=None, level="info"):
        self.level = LEVELS.get((level or "info").lower(), 1)
        self.path = path
        self._lock = threading.Lock()
        if path and path != "-":
            self._fh = open(path, "a", encoding="utf-8")  # pylint: disable=consider-using-with
        else:
            self._fh = None

    def log(self, level, source, message, **fields):
        if LEVELS[level] < self.level:
            return
        parts = ["[%s]" % timestamp(), "[%s]" % _NAMES[LEVELS[level]], "[%s]" % source,
                 "[%s]" % quote(message)]
        for key, value in fields.items():
            key = key.replace("_", "-") if key.endswith("_") else key
            parts.append("[%s=%s]" % (key, _value(value)))
        line = " ".join(parts) + "\n"
        with self._lock:
            if self._fh is not None:
                self._fh.write(line)
                self._fh.flush()
            else:
                sys.stdout.write(line)
                sys.stdout.flush()

    def debug(self, source, message, **fields):
        self.log("debug", source, message, **fields)

    def info(self, source, message, **fields):
        self.log("info", source, message, **fields)

    def warn(self, source, message, **fields):
        self.log("warn", source, message, **fields)

    def error(self, source, message, **fields):
        self.log("error", source, message, **fields)

    def close(self):
        if self._fh is not None:
            self._fh.close()
            self._fh = None
