"""The MySQL-protocol proxy: one Session (two threads) per client connection.

client --> [session thread] --> MariaDB      COM_QUERY packets are offered to the registry;
client <-- [pump thread]    <-- MariaDB      everything else is forwarded byte for byte.

The MySQL protocol is strictly request/response, so when the session thread answers a
statement itself (an ERR packet) the server has nothing in flight towards the client;
a lock on the client socket still keeps two writers from ever interleaving.

Only packets with sequence id 0 are commands. Authentication exchanges and LOAD DATA
LOCAL file contents carry higher ids, which is why they are never mistaken for queries.
"""
import logging
import socket
import threading
import time

import pymysql

from tests.sandbox.tidb import protocol
from tests.sandbox.tidb.registry import REGISTRY, Context, Error, Forward, Ok, Rewrite

LOG = logging.getLogger("tidb-standin")

# Statements longer than this are forwarded unread: TiDB-only statements are short, and
# decoding multi-megabyte INSERTs for nothing would slow bulk loads down.
INSPECT_LIMIT = 1 << 20


class Server:
    def __init__(self, identity, host, port, backend_port, backend_socket, state_dir,
                 registry=REGISTRY):
        self.identity = identity
        self.host = host
        self.port = port
        self.backend_port = backend_port
        self.backend_socket = backend_socket
        self.state_dir = state_dir
        self.registry = registry
        self._listener = None
        self._sessions = set()
        self._by_id = {}
        self._lock = threading.Lock()
        self._closing = False

    def start(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept_loop, name="accept", daemon=True).start()

    def close(self):
        """Stop listening and drop every client connection."""
        self._closing = True
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            except OSError:
                pass
            self._listener.close()
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            session.close()

    def connection_count(self):
        with self._lock:
            return len(self._sessions)

    def find_session(self, conn_id):
        with self._lock:
            return self._by_id.get(conn_id)

    def admin_connect(self, **kw):
        args = dict(unix_socket=self.backend_socket, user="root", password="",
                    charset="utf8mb4", autocommit=True, connect_timeout=5)
        args.update(kw)
        return pymysql.connect(**args)

    def _accept_loop(self):
        while not self._closing:
            try:
                client, dummy = self._listener.accept()
            except OSError:
                if self._closing:
                    return
                LOG.exception("accept failed")
                time.sleep(0.1)  # e.g. out of file descriptors: do not spin
                continue
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            session = Session(self, client)
            with self._lock:
                self._sessions.add(session)
            threading.Thread(target=session.run, name="session", daemon=True).start()

    def _identified(self, session):
        with self._lock:
            self._by_id[session.conn_id] = session

    def _forget(self, session):
        with self._lock:
            self._sessions.discard(session)
            if self._by_id.get(session.conn_id) is session:
                del self._by_id[session.conn_id]


class Session:
    def __init__(self, server, client):
        self.server = server
        self.client = client
        self.backend = None
        # MariaDB's thread id, from the greeting: what CONNECTION_ID() returns, so it is
        # also the id other sessions use to cancel this one.
        self.conn_id = None
        self.capabilities = protocol.CLIENT_PROTOCOL_41
        self.cancel_event = threading.Event()
        self._admin = None
        self._client_lock = threading.Lock()
        self._close_lock = threading.Lock()
        self._closed = False

    def run(self):
        try:
            self.backend = socket.create_connection(("127.0.0.1", self.server.backend_port),
                                                    timeout=10)
        except OSError as exc:
            # TiDB without its storage cannot serve; say so the MySQL way and hang up.
            try:
                self._send_client(protocol.packets(0, protocol.err_payload(
                    9005, "HY000", "tidbops sandbox: storage unreachable: %s" % exc)))
            except OSError:
                pass
            self.close()
            self.server._forget(self)  # pylint: disable=protected-access
            return
        self.backend.settimeout(None)
        self.backend.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=self._pump_from_backend, name="pump", daemon=True).start()
        try:
            self._pump_from_client()
        except OSError:
            pass
        except Exception:  # pylint: disable=broad-except
            LOG.exception("session %s failed", self.conn_id)
        finally:
            self.close()
            self._close_admin()
            self.server._forget(self)  # pylint: disable=protected-access

    def cancel(self):
        """Ask the statement this session is running in a handler to stop."""
        self.cancel_event.set()

    def close(self):
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self.cancel_event.set()
        for sock in (self.client, self.backend):
            if sock is None:
                continue
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the other thread's recv()
            except OSError:
                pass
            sock.close()

    def admin(self):
        if self._admin is not None:
            try:
                self._admin.ping(reconnect=True)
            except pymysql.MySQLError:
                self._close_admin()
        if self._admin is None:
            self._admin = self.server.admin_connect()
        return self._admin

    # -- the two directions ------------------------------------------------------------

    def _pump_from_client(self):
        reader = protocol.PacketReader(self.client)
        first = True
        while True:
            packet = reader.read()
            if packet is None:
                return
            seq, payload, raw = packet
            if first:
                # The handshake response: its flags decide the ERR packet layout.
                self.capabilities = protocol.client_capabilities(payload)
                first = False
            elif (seq == 0 and payload[:1] == bytes([protocol.COM_QUERY])
                  and len(payload) < protocol.MAX_PAYLOAD):
                self._on_query(payload[1:], raw)
                continue
            self.backend.sendall(raw)

    def _pump_from_backend(self):
        try:
            reader = protocol.PacketReader(self.backend)
            packet = reader.read()
            if packet is None:
                return
            seq, payload, dummy = packet
            greeting, conn_id = protocol.rewrite_greeting(
                payload, self.server.identity.server_version)
            if conn_id is not None:
                self.conn_id = conn_id
                self.server._identified(self)  # pylint: disable=protected-access
            self._send_client(protocol.packets(seq, greeting) + bytes(reader.buffer))
            while True:
                data = self.backend.recv(65536)
                if not data:
                    return
                self._send_client(data)
        except OSError:
            pass
        finally:
            self.close()

    def _send_client(self, data):
        with self._client_lock:
            self.client.sendall(data)

    # -- statements --------------------------------------------------------------------

    def _on_query(self, sql_bytes, raw):
        if len(sql_bytes) > INSPECT_LIMIT:
            self.backend.sendall(raw)
            return
        # surrogateescape: whatever the client's charset, untouched bytes round-trip.
        sql = sql_bytes.decode("utf-8", "surrogateescape")
        self.cancel_event.clear()
        try:
            reply = self.server.registry.dispatch(Context(self.server, self), sql)
        except Exception:  # pylint: disable=broad-except
            LOG.exception("handler failed on %r", sql[:200])
            reply = Error(1105, "HY000",
                          "tidbops sandbox: the TiDB stand-in failed on this statement "
                          "(see its log)")
        if reply is None or isinstance(reply, Forward):
            self.backend.sendall(raw)
        elif isinstance(reply, Rewrite):
            self._send_backend_query(reply.sql)
        elif isinstance(reply, Ok):
            self._send_backend_query(_ok_statement(reply))
        elif isinstance(reply, Error):
            self._send_client(protocol.packets(1, protocol.err_payload(
                reply.errno, reply.sqlstate, reply.message, self.capabilities)))
        else:
            raise TypeError("handler returned %r" % (reply,))

    def _send_backend_query(self, sql):
        payload = bytes([protocol.COM_QUERY]) + sql.encode("utf-8", "surrogateescape")
        self.backend.sendall(protocol.packets(0, payload))

    def _close_admin(self):
        if self._admin is not None:
            try:
                self._admin.close()
            except Exception:  # pylint: disable=broad-except
                pass
            self._admin = None


def _ok_statement(reply):
    """The SQL whose answer is the OK packet a handler asked for.

    The OK is produced by MariaDB rather than forged here, so its status flags (autocommit,
    in transaction) stay true and SHOW WARNINGS afterwards shows this statement's warning
    (SIGNAL with a class-01 SQLSTATE raises a warning and completes with OK).
    """
    if reply.warning is None:
        # A statement that reads a table: MariaDB keeps the previous statement's warnings
        # across one that reads none (DO 0), where TiDB clears them for every statement.
        return "DO (SELECT 0 FROM information_schema.CHARACTER_SETS LIMIT 0)"
    code, message = reply.warning
    # SIGNAL takes only a plain literal, so no hex form; MESSAGE_TEXT holds 128 chars.
    message = "".join(ch for ch in message if ch != "\\" and ord(ch) >= 32)[:128]
    return ("SIGNAL SQLSTATE '01000' SET MYSQL_ERRNO = %d, MESSAGE_TEXT = '%s'"
            % (code, message.replace("'", "''")))
