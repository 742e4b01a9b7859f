"""tiup's console output: the logger's display modes, its errors and prompts.

Copied behaviour (pkg/logger/printer/log.go, components/cluster/command/root.go,
pkg/tui/tui.go):
- default mode: info lines to stdout, warn/error lines to stderr, plain text;
- json mode: each log line is ``{"level":...,"message":...}`` (info on stdout, warn/error on
  stderr); at exit stderr gets ``{"exit_code":0}`` or ``{"exit_code":1,"error":"..."}``;
- errors are either plain (pingcap/errors: Error() is the message) or typed (errorx:
  Error() is ``"<namespace.type>: <message>[ {props}][, cause: <cause>]"``); in default mode
  a typed error prints ``Error: <message> (<type>)`` plus ``caused by:`` lines and its
  suggestion, a plain one prints ``Error: <message>``;
- prompts print to stdout and read a line from stdin; no answer means abort.
"""
import datetime
import json
import os
import sys

from tests.sandbox.tiup import env as tiup_env


def go_json(obj, indent=None):
    """json like Go's encoding/json (HTML-escaped, compact unless indented)."""
    if indent is None:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(obj, ensure_ascii=False, indent=indent)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


class TiupError(Exception):
    """A plain error (pingcap/errors): Error() is the message."""

    precheck = False

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def error_string(self):
        return self.message

    def annotate(self, text):
        """errors.Annotatef: "<text>: <cause>" (keeps the cause's kind for printing)."""
        return TiupError("%s: %s" % (text, self.error_string()))


class TypedError(TiupError):
    """An errorx error: namespace.type, message, optional cause, properties, suggestion."""

    def __init__(self, type_name, message, cause=None, properties=None, suggestion=None,
                 precheck=False):
        super().__init__(message)
        self.type_name = type_name
        self.cause = cause
        self.properties = properties or []
        self.suggestion = suggestion
        self.precheck = precheck

    def _message_text(self):
        text = self.message
        if self.properties:
            props = "{" + ", ".join("%s: %s" % kv for kv in self.properties) + "}"
            text = (text + " " + props) if text else props
        if self.cause is not None:
            cause = _error_text(self.cause)
            text = (text + ", cause: " + cause) if text else cause
        return text

    def error_string(self):
        text = self._message_text()
        return (self.type_name + ": " + text) if text else self.type_name

    def annotate(self, text):
        return TiupError("%s: %s" % (text, self.error_string()))


def _error_text(err):
    if isinstance(err, TiupError):
        return err.error_string()
    return str(err)


class Printer(object):
    """The logger. mode is 'default' or 'json' (anything else is default, like tiup)."""

    def __init__(self, mode="default", stdout=None, stderr=None):
        self.mode = "json" if str(mode).lower() == "json" else "default"
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.audit = []

    @property
    def json(self):
        return self.mode == "json"

    def _log(self, stream, level, message):
        self.audit.append((level, message))
        if self.json:
            stream.write(go_json({"level": level, "message": message}) + "\n")
        else:
            stream.write(message + "\n")
        stream.flush()

    def info(self, message):
        self._log(self.stdout, "info", message)

    def warn(self, message):
        self._log(self.stderr, "warn", message)

    def error(self, message):
        self._log(self.stderr, "error", message)

    def out(self, text):
        """fmt.Print to stdout (not a log line)."""
        self.stdout.write(text)
        self.stdout.flush()

    def step(self, prefix, suffix=None, mode="done"):
        """A task step's progress display: JSON objects in json mode, a line otherwise."""
        if self.json:
            obj = {"prefix": prefix}
            if suffix:
                obj["suffix"] = suffix
            if mode != "running":
                obj["mode"] = mode
            self.out(go_json(obj) + "\n")
        elif mode == "running":
            self.out("%s\n" % prefix)
        elif mode == "done":
            self.out("%s ... Done\n" % prefix)
        elif mode == "error":
            self.out("%s ... Error\n" % prefix)

    def prompt(self, text):
        """tui.Prompt: print the prompt and a space, read a line; '' on EOF."""
        self.out(text + " ")
        try:
            line = sys.stdin.readline()
        except (OSError, ValueError):
            return ""
        if not line:
            return ""
        return line[:-1] if line.endswith("\n") else line

    def confirm_or_abort(self, text):
        """PromptForConfirmOrAbortError."""
        answer = self.prompt(text + "(default=N)")
        if answer.strip().lower() not in ("y", "yes"):
            raise TypedError("tui.operation_aborted",
                             "Operation aborted by user (with answer '%s')" % answer,
                             precheck=True)

    def answer_or_abort(self, answer, text):
        """PromptForAnswerOrAbortError."""
        got = self.prompt(text + '\n(Type "%s" to continue)\n:' % answer)
        if got != answer:
            raise TypedError("tui.operation_aborted",
                             "Operation aborted by user (with incorrect answer '%s')" % got,
                             precheck=True)

    # --- exit -------------------------------------------------------------------------

    def finish(self, err, component="tiup-cluster", json_mode=None):
        """What root.go's Execute prints at exit; returns the exit code."""
        code = 1 if err is not None else 0
        use_json = self.json if json_mode is None else json_mode
        if use_json:
            obj = {"exit_code": code}
            if err is not None:
                obj["error"] = _error_text(err)
            self.stderr.write(go_json(obj) + "\n")
            self.stderr.flush()
            return code
        if err is None:
            return code
        if isinstance(err, TypedError):
            self.stderr.write("\nError: " + _format_errorx(err))
        else:
            self.stderr.write("\nError: %s\n" % _error_text(err))
        if not getattr(err, "precheck", False):
            path = write_debug_log(component, self.audit, err)
            if path:
                self.stderr.write("\nVerbose debug logs has been written to %s.\n" % path)
            else:
                self.stderr.write("\nWarn: Failed to write error debug log.\n")
        suggestion = _suggestion(err)
        if suggestion:
            self.stderr.write("\n%s\n\n" % suggestion)
        self.stderr.flush()
        return code


def _suggestion(err):
    while isinstance(err, TypedError):
        if err.suggestion:
            return err.suggestion
        err = err.cause
    return None


def _format_errorx(err):
    lines = []
    ident = 0
    cur = err
    while cur is not None:
        prefix = ("  " * ident + "caused by: ") if ident > 0 else ""
        if cur.message:
            if ident == 0:
                lines.append(prefix + "%s (%s)\n" % (cur.message, cur.type_name))
            else:
                lines.append(prefix + "%s\n" % cur.message)
            ident += 1
        else:
            lines.append(prefix)
        cause = cur.cause
        if isinstance(cause, TypedError):
            cur = cause
            continue
        if cause is not None:
            lines.append(("  " * ident + "caused by: " if ident > 0 else "") + _error_text(cause) + "\n")
        break
    return "".join(lines)


def write_debug_log(component, audit, err):
    directory = tiup_env.logs_dir()
    try:
        os.makedirs(directory, exist_ok=True)
        now = datetime.datetime.now()
        path = os.path.join(directory, now.strftime(component + "-debug-%Y-%m-%d-%H-%M-%S.log"))
        with open(path, "w") as handle:
            stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
            handle.write("%s\tINFO\tExecute command\t{\"command\": %s}\n"
                         % (stamp, go_json(" ".join(["tiup", "cluster"] + sys.argv[1:]))))
            for level, message in audit:
                handle.write("%s\t%s\t%s\n" % (stamp, level.upper(), message))
            handle.write("%s\tINFO\tExecute command finished\t{\"code\": 1, \"error\": %s}\n"
                         % (stamp, go_json(_error_text(err))))
        return path
    except OSError:
        return None


_BASE52 = "0123456789bcdfghjkmnpqrstvwxyzBCDFGHJKLMNPQRSTVWXYZ"


def base52(number):
    out = ""
    while number > 0:
        number, rem = divmod(number, len(_BASE52))
        out = _BASE52[rem] + out
    return out or "0"


def write_audit(directory, argv, audit):
    """pkg/cluster/audit: one file per command, named by a base52 time id; the first line
    is the command line, then the log."""
    import random
    import time
    try:
        os.makedirs(directory, exist_ok=True)
        audit_id = base52(time.time_ns() + random.randint(0, 999))
        with open(os.path.join(directory, audit_id), "w") as handle:
            handle.write(" ".join(argv) + "\n")
            stamp = datetime.datetime.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
            for level, message in audit:
                handle.write("%s\t%s\t%s\n" % (stamp, level.upper(), message))
    except OSError:
        pass
