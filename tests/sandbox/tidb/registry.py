"""The statement-handler registry: how the stand-in answers TiDB-only SQL.

A handler is registered with a regex for a whole statement:

    @statement(r"SHOW\\s+BACKUPS(?:\\s+WHERE\\s+(?P<where>.+?))?")
    def show_backups(ctx, m):
        return Rewrite("SELECT ... AS `Destination`, ...")

The regex is matched case-insensitively against the whole COM_QUERY text, with leading
whitespace and comments, trailing whitespace and one trailing ';' allowed; '.' matches
newlines. Patterns are tried by priority (lower first), then registration order. A handler
gets a Context and the re.Match and returns one of

- Forward()                 send the statement to MariaDB unchanged (also: return None,
                            which additionally lets later patterns try);
- Rewrite(sql)              run other SQL on the client's own MariaDB connection; its
                            result (rows, OK or error) goes back to the client untouched,
                            which is how handlers produce result sets;
- Error(errno, state, msg)  answer with an ERR packet (or raise SqlError);
- Ok(warning=None)          answer with an OK packet, optionally with one warning.

Handlers run on the client connection's own thread, so a slow one (BACKUP, IMPORT INTO)
blocks only its own client. Such handlers should wait with ctx.sleep() or poll
ctx.cancelled, so that another connection can cancel them through ctx.find_session().
"""
import re
import threading

import pymysql


class Forward:
    def __repr__(self):
        return "Forward()"


class Rewrite:
    def __init__(self, sql):
        self.sql = sql

    def __repr__(self):
        return "Rewrite(%r)" % self.sql


class Error:
    def __init__(self, errno, sqlstate, message):
        self.errno = errno
        self.sqlstate = sqlstate
        self.message = message

    def __repr__(self):
        return "Error(%d, %r, %r)" % (self.errno, self.sqlstate, self.message)


class Ok:
    def __init__(self, warning=None):
        # warning: (code, message) shown by SHOW WARNINGS with level Warning.
        self.warning = warning

    def __repr__(self):
        return "Ok(warning=%r)" % (self.warning,)


class SqlError(Exception):
    """Raise from a handler (or anything it calls) to answer with an ERR packet."""

    def __init__(self, errno, sqlstate, message):
        super().__init__(message)
        self.reply = Error(errno, sqlstate, message)


# TiDB's generic error (ErrUnknown) is MySQL's 1105 HY000.
def unsupported(message):
    return SqlError(1105, "HY000", "tidbops sandbox: " + message)


class Context:
    """What a handler may use: who is asking, where to keep files, the storage."""

    def __init__(self, server, session):
        self.server = server
        self.session = session

    @property
    def identity(self):
        return self.server.identity

    @property
    def cluster(self):
        return self.server.identity.cluster

    @property
    def version(self):
        return self.server.identity.version

    @property
    def state_dir(self):
        return self.server.state_dir

    @property
    def conn_id(self):
        return self.session.conn_id

    def admin(self):
        """This session's admin connection to MariaDB (root over the unix socket).

        Opened on first use and kept for the session; autocommit is on, so what a handler
        writes is visible to every other connection at once, as TiDB's global state is.
        """
        return self.session.admin()

    def admin_connect(self, **kw):
        """A new, separate admin connection; the caller closes it."""
        return self.server.admin_connect(**kw)

    @property
    def cancelled(self):
        return self.session.cancel_event.is_set()

    def sleep(self, seconds):
        """Wait up to seconds; True if the running statement was cancelled meanwhile."""
        return self.session.cancel_event.wait(seconds)

    def find_session(self, conn_id):
        """Another client's session by connection id (to cancel it), or None."""
        return self.server.find_session(conn_id)


class Registry:
    def __init__(self):
        self._entries = []  # (priority, order, compiled, handler)
        self._lock = threading.Lock()

    def register(self, pattern, handler, priority=50):
        compiled = re.compile(r"\s*(?:%s)\s*;?\s*\Z" % pattern, re.I | re.S)
        with self._lock:
            self._entries.append((priority, len(self._entries), compiled, handler))
            self._entries.sort(key=lambda e: e[:2])

    def statement(self, pattern, priority=50):
        """Decorator form of register()."""
        def decorate(handler):
            self.register(pattern, handler, priority)
            return handler
        return decorate

    def dispatch(self, ctx, sql):
        """The reply for sql, or None when no handler claims it (forward it)."""
        text = strip_leading_comments(sql)
        with self._lock:
            entries = list(self._entries)
        for dummy_priority, dummy_order, compiled, handler in entries:
            match = compiled.match(text)
            if not match:
                continue
            try:
                reply = handler(ctx, match)
            except SqlError as exc:
                return exc.reply
            except pymysql.MySQLError as exc:
                # The handler's own storage access failed: report it as TiDB would an
                # internal error rather than dropping the client.
                return Error(1105, "HY000", "tidbops sandbox: storage error: %s" % (exc,))
            if reply is not None:
                return reply
        return None


_LEADING_COMMENT_RE = re.compile(r"\s*(?:/\*(?!!).*?\*/|(?:--[ \t]|#)[^\n]*(?:\n|\Z))", re.S)


def strip_leading_comments(sql):
    """Drop leading whitespace and comments (not /*! executable comments */)."""
    while True:
        match = _LEADING_COMMENT_RE.match(sql)
        if not match or match.end() == 0:
            return sql.lstrip()
        sql = sql[match.end():]


REGISTRY = Registry()
statement = REGISTRY.statement
