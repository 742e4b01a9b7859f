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

from tests.sandbox import protowire

SANDBOX_FIELD = 1000
FIELDS = [(1, "cluster_id", "uint64"), (2, "cluster_version", "string"), (5, "start_version", "uint64"),
          (6, "end_version", "uint64"), (11, "br_version", "string")]


def encode(meta):
    """The backupmeta bytes for the stand-in's description of a backup."""
    return protowire.message(FIELDS, meta) + protowire.scalar(
        SANDBOX_FIELD, "bytes", json.dumps(meta, sort_keys=True).encode("utf-8"))


def fields(data):
    """{field number: value} of the top-level fields."""
    return dict((num, value) for num, _wire, value in protowire.fields(data))


def decode(data):
    """The stand-in's description of the backup in backupmeta bytes, or None when the bytes
    are not a backupmeta the stand-in wrote."""
    try:
        sandbox = fields(data).get(SANDBOX_FIELD)
        return json.loads(bytes(sandbox).decode("utf-8")) if sandbox else None
    except (protowire.WireError, ValueError, UnicodeDecodeError, TypeError):
        return None
