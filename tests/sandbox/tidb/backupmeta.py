"""backupmeta as BR writes it: a protobuf BackupMeta (kvproto proto/brpb.proto), with the
fields a client reads at their real numbers, and the stand-in's own description of the
backup in a field BR does not have.

Fields written (brpb.BackupMeta): 1 cluster_id (uint64), 2 cluster_version (string),
5 start_version and 6 end_version (uint64: the BackupTS of an incremental's base and of this
backup; a full backup has start_version 0 here, as the stand-in's incrementals need it),
11 br_version (string), 12 version (int32, 0 = MetaV1). A reader of the real format (the
collection reads end_version to know a backup's BackupTS when no job recorded it) finds them
where it finds them in a real backup. Field 1000 (bytes) holds the sandbox's JSON document of
databases, tables and data files; protobuf readers skip a field they do not know.
"""
import json

SANDBOX_FIELD = 1000
VARINT, LENGTH_DELIMITED = 0, 2


def _varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(number, wire):
    return _varint((number << 3) | wire)


def _field(number, value):
    if isinstance(value, int):
        return _key(number, VARINT) + _varint(value) if value else b""  # proto3 omits zeros
    data = value.encode("utf-8") if isinstance(value, str) else value
    return _key(number, LENGTH_DELIMITED) + _varint(len(data)) + data if data else b""


def encode(meta):
    """The backupmeta bytes for the stand-in's description of a backup."""
    return b"".join([
        _field(1, int(meta.get("cluster_id") or 0)),
        _field(2, meta.get("cluster_version") or ""),
        _field(5, int(meta.get("start_version") or 0)),
        _field(6, int(meta.get("end_version") or 0)),
        _field(11, meta.get("br_version") or ""),
        _field(SANDBOX_FIELD, json.dumps(meta, sort_keys=True).encode("utf-8")),
    ])


def _read_varint(data, index):
    shift = value = 0
    while True:
        if index >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[index]
        index += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, index
        shift += 7


def fields(data):
    """{field number: value} of the top-level varint and length-delimited fields."""
    found, index = {}, 0
    while index < len(data):
        key, index = _read_varint(data, index)
        number, wire = key >> 3, key & 7
        if wire == VARINT:
            found[number], index = _read_varint(data, index)
        elif wire == LENGTH_DELIMITED:
            length, index = _read_varint(data, index)
            if index + length > len(data):
                raise ValueError("truncated field %d" % number)
            found[number] = data[index:index + length]
            index += length
        elif wire == 1:
            index += 8
        elif wire == 5:
            index += 4
        else:
            raise ValueError("wire type %d" % wire)
    return found


def decode(data):
    """The stand-in's description of the backup in backupmeta bytes, or None when the bytes
    are not a backupmeta the stand-in wrote."""
    try:
        sandbox = fields(data).get(SANDBOX_FIELD)
        return json.loads(sandbox.decode("utf-8")) if sandbox else None
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
