"""KILL [TIDB] [CONNECTION | QUERY] <id>, as TiDB v6.1+ (global kill) reads it.

Connection ids are MariaDB thread ids (what CONNECTION_ID() and SHOW BACKUPS' Connection
give), so the statement is forwarded to MariaDB as KILL [QUERY] <id>: MariaDB checks the
privilege, answers 1094 "Unknown thread id" for an id it does not know, and interrupts
what runs there. When the connection is one of this stand-in's and a handler runs on it
(BACKUP/RESTORE), KILL QUERY also signals that handler, which stops the way TiDB's
executor does (a BRIE task notices on its 3-second ticker). KILL CONNECTION closes the
MariaDB side, which closes the client connection and signals the handler too.

Not emulated: TiDB's own owner check for KILL QUERY of another user's BRIE task (the
signal is given before MariaDB's privilege check answers).
"""
from tests.sandbox.tidb.registry import Rewrite, statement


@statement(r"KILL\s+(?:TIDB\s+)?(?:(?P<what>CONNECTION|QUERY)\s+)?(?P<id>\d+)")
def kill(ctx, m):
    conn_id = int(m.group("id"))
    if (m.group("what") or "").upper() == "QUERY":
        target = ctx.find_session(conn_id)
        if target is not None:
            target.cancel()
        return Rewrite("KILL QUERY %d" % conn_id)
    return Rewrite("KILL CONNECTION %d" % conn_id)
