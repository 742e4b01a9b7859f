"""MySQL client/server protocol pieces the proxy needs: packets, the greeting, ERR.

A packet is a 3-byte little-endian payload length, a 1-byte sequence id and the payload.
Payloads of 0xFFFFFF bytes or more are split; the proxy never inspects those, it only
forwards them.
"""
import struct

MAX_PAYLOAD = 0xFFFFFF
COM_QUERY = 0x03

CLIENT_COMPRESS = 0x00000020
CLIENT_PROTOCOL_41 = 0x00000200
CLIENT_SSL = 0x00000800


class PacketReader:
    """Reads whole packets from a socket, keeping what it read past the last one."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = bytearray()

    def read(self):
        """(seq, payload, raw packet bytes), or None at end of stream."""
        if not self._fill(4):
            return None
        length = self.buffer[0] | self.buffer[1] << 8 | self.buffer[2] << 16
        if not self._fill(4 + length):
            return None
        raw = bytes(self.buffer[:4 + length])
        del self.buffer[:4 + length]
        return raw[3], raw[4:], raw

    def _fill(self, size):
        while len(self.buffer) < size:
            chunk = self.sock.recv(max(65536, size - len(self.buffer)))
            if not chunk:
                return False
            self.buffer += chunk
        return True


def packets(seq, payload):
    """payload as wire packets from sequence id seq, split at 16 MiB as the protocol says."""
    out = bytearray()
    offset = 0
    while True:
        chunk = payload[offset:offset + MAX_PAYLOAD]
        out += struct.pack("<I", len(chunk))[:3] + bytes([seq & 0xFF]) + chunk
        offset += len(chunk)
        seq += 1
        if len(chunk) < MAX_PAYLOAD:
            return bytes(out)


def rewrite_greeting(payload, server_version):
    """The server greeting with TiDB's version and no TLS or compression offered.

    Returns (new payload, connection id), or (payload, None) if it is not a v10 greeting
    (an ERR packet such as 'too many connections' goes through untouched).

    The sandbox has no TLS, and compressed packets could not be inspected, so the
    CLIENT_SSL and CLIENT_COMPRESS bits are cleared and no client asks for them.
    """
    if not payload or payload[0] != 10:
        return payload, None
    version_end = payload.index(b"\0", 1)
    rest = bytearray(payload[version_end + 1:])
    # rest: connection id (4), auth data part 1 (8), filler (1), capabilities low (2), ...
    conn_id = struct.unpack_from("<I", rest, 0)[0]
    caps_low = struct.unpack_from("<H", rest, 13)[0]
    caps_low &= ~(CLIENT_SSL | CLIENT_COMPRESS) & 0xFFFF
    struct.pack_into("<H", rest, 13, caps_low)
    return b"\x0a" + server_version.encode() + b"\0" + bytes(rest), conn_id


def client_capabilities(payload):
    """Capability flags from a client's handshake response."""
    if len(payload) >= 4:
        caps = struct.unpack_from("<I", payload, 0)[0]
        if caps & CLIENT_PROTOCOL_41:
            return caps
    return struct.unpack_from("<H", payload, 0)[0] if len(payload) >= 2 else 0


def err_payload(errno, sqlstate, message, capabilities=CLIENT_PROTOCOL_41):
    body = b"\xff" + struct.pack("<H", errno)
    if capabilities & CLIENT_PROTOCOL_41:
        body += b"#" + sqlstate.encode("ascii")[:5].ljust(5, b"0")
    return body + message.encode("utf-8", "replace")
