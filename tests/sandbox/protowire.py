"""Protocol Buffers wire format, by hand, for the stand-ins that write the real tools' protobuf
files (Lightning's checkpoint, BR's backupmeta): varints, keys, length-delimited and scalar
fields, and reading a message back as its top-level fields."""
import struct


class WireError(ValueError):
    """Bytes that are not a protobuf message (truncated, or an unknown wire type)."""


def varint(value):
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(num, wire):
    return varint((num << 3) | wire)


def ld(num, payload):
    return key(num, 2) + varint(len(payload)) + payload


def scalar(num, kind, value):
    if kind in ("string", "bytes"):
        data = value.encode("utf-8") if isinstance(value, str) else value
        return ld(num, data) if data else b""
    if not value:
        return b""
    if kind == "fixed64":
        return key(num, 1) + struct.pack("<Q", value & ((1 << 64) - 1))
    if kind == "sfixed64":
        return key(num, 1) + struct.pack("<q", value)
    if kind == "sint32":
        return key(num, 0) + varint((value << 1) ^ (value >> 31))
    return key(num, 0) + varint(value)


def message(fields, data):
    return b"".join(scalar(num, kind, data.get(name)) for num, name, kind in fields
                    if data.get(name) not in (None, "", b"", 0))


def read_varint(buf, pos):
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def fields(buf):
    """[(num, wire, value)] of one message."""
    out, pos = [], 0
    while pos < len(buf):
        tag, pos = read_varint(buf, pos)
        num, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = read_varint(buf, pos)
        elif wire == 1:
            value = buf[pos:pos + 8]
            pos += 8
        elif wire == 2:
            length, pos = read_varint(buf, pos)
            value = buf[pos:pos + length]
            pos += length
        elif wire == 5:
            value = buf[pos:pos + 4]
            pos += 4
        else:
            raise WireError("unsupported wire type %d" % wire)
        out.append((num, wire, value))
    return out


def signed(value, bits=64):
    return value - (1 << bits) if value >= 1 << (bits - 1) else value
