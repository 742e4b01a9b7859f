"""Lightning's file checkpoint: a protobuf `CheckpointsModel` at [checkpoint].dsn
(lightning/pkg/checkpoints/checkpointspb/file_checkpoints.proto), encoded by hand.

    CheckpointsModel      1: map<string, TableCheckpointModel> (key "`db`.`tbl`")
                          2: TaskCheckpointModel
    TaskCheckpointModel   task_id, source_dir, backend, importer_addr, tidb_host, tidb_port,
                          pd_addr, sorted_kv_dir, lightning_ver
    TableCheckpointModel  hash, status, engines map<sint32, EngineCheckpointModel>, tableID,
                          kv_bytes, kv_kvs, kv_checksum, table_info, auto*Base
    EngineCheckpointModel status, chunks map<string "path:offset", ChunkCheckpointModel>
    ChunkCheckpointModel  path, offset, end_offset, pos, prev_rowid_max, rowid_max, kvc_*,
                          timestamp, type, compression, sort_key, file_size, real_pos

The stand-in adds fields a real reader skips as unknown (numbers >= 1000 in a chunk): the
batch that was being committed when the process stopped (pending_pos, pending_rows,
pending_bytes) and the target table's row count before and after that batch
(count_before, count_after). They make a killed run's last batch decidable: see
importer.py. The file is replaced atomically (temp file, fsync, rename).
"""
import os
import struct

from tests.sandbox import protowire

# checkpoints.CheckpointStatus
STATUS_MISSING = 0
STATUS_MAX_INVALID = 25
STATUS_LOADED = 30
STATUS_ALL_WRITTEN = 60
STATUS_CLOSED = 90
STATUS_IMPORTED = 120
STATUS_INDEX_IMPORTED = 140
STATUS_ALTERED_AUTO_INC = 150
STATUS_CHECKSUM_SKIPPED = 170
STATUS_CHECKSUMMED = 180
STATUS_INDEX_ADDED = 190
STATUS_ANALYZE_SKIPPED = 200
STATUS_ANALYZED = 210

METRIC_NAMES = {STATUS_LOADED: "pending", STATUS_ALL_WRITTEN: "written",
                STATUS_CLOSED: "closed", STATUS_IMPORTED: "imported",
                STATUS_INDEX_IMPORTED: "index_imported",
                STATUS_ALTERED_AUTO_INC: "alter_auto_increment",
                STATUS_CHECKSUM_SKIPPED: "checksum_skipped", STATUS_CHECKSUMMED: "checksum",
                STATUS_INDEX_ADDED: "index_added", STATUS_ANALYZE_SKIPPED: "analyze_skipped",
                STATUS_ANALYZED: "analyzed"}

TASK_FIELDS = [(1, "task_id", "int64"), (2, "source_dir", "string"), (3, "backend", "string"),
               (4, "importer_addr", "string"), (5, "tidb_host", "string"),
               (6, "tidb_port", "int32"), (7, "pd_addr", "string"),
               (8, "sorted_kv_dir", "string"), (9, "lightning_ver", "string")]
TABLE_FIELDS = [(1, "hash", "bytes"), (3, "status", "uint32"), (9, "tableID", "int64"),
                (10, "kv_bytes", "uint64"), (11, "kv_kvs", "uint64"),
                (12, "kv_checksum", "fixed64"), (13, "table_info", "bytes"),
                (14, "autoRandBase", "int64"), (15, "autoIncrBase", "int64"),
                (16, "autoRowIDBase", "int64")]
ENGINE_FIELDS = [(1, "status", "uint32")]
CHUNK_FIELDS = [(1, "path", "string"), (2, "offset", "int64"), (5, "end_offset", "int64"),
                (6, "pos", "int64"), (7, "prev_rowid_max", "int64"), (8, "rowid_max", "int64"),
                (9, "kvc_bytes", "uint64"), (10, "kvc_kvs", "uint64"),
                (11, "kvc_checksum", "fixed64"), (13, "timestamp", "sfixed64"),
                (14, "type", "int32"), (15, "compression", "int32"),
                (16, "sort_key", "string"), (17, "file_size", "int64"),
                (18, "real_pos", "int64"),
                # sandbox extension (unknown to real readers, which skip them)
                (1001, "pending_pos", "int64"), (1002, "pending_rows", "int64"),
                (1003, "count_before", "int64"), (1004, "count_after", "int64"),
                (1005, "pending_bytes", "int64")]


class CheckpointError(Exception):
    pass


def _decode(fields, buf):
    spec = {num: (name, kind) for num, name, kind in fields}
    data = {name: ("" if kind == "string" else b"" if kind == "bytes" else 0)
            for dummy, name, kind in fields}
    for num, dummy, value in protowire.fields(buf):
        if num not in spec:
            continue
        name, kind = spec[num]
        if kind == "string":
            data[name] = bytes(value).decode("utf-8")
        elif kind == "bytes":
            data[name] = bytes(value)
        elif kind == "fixed64":
            data[name] = struct.unpack("<Q", value)[0]
        elif kind == "sfixed64":
            data[name] = struct.unpack("<q", value)[0]
        elif kind in ("int64", "int32"):
            data[name] = protowire.signed(value)
        else:
            data[name] = value
    return data


# ---- the model ------------------------------------------------------------------------

def encode(model):
    out = bytearray()
    for name in sorted(model["tables"]):
        table = model["tables"][name]
        engines = b""
        for engine_id in sorted(table["engines"]):
            engine = table["engines"][engine_id]
            chunks = b""
            for chunk_key in sorted(engine["chunks"]):
                entry = protowire.scalar(1, "string", chunk_key) + protowire.ld(
                    2, protowire.message(CHUNK_FIELDS, engine["chunks"][chunk_key]))
                chunks += protowire.ld(2, entry)
            body = protowire.message(ENGINE_FIELDS, engine) + chunks
            entry = protowire.key(1, 0) + protowire.varint((engine_id << 1) ^ (engine_id >> 31)) + protowire.ld(2, body)
            engines += protowire.ld(8, entry)
        body = protowire.message(TABLE_FIELDS, table) + engines
        out += protowire.ld(1, protowire.scalar(1, "string", name) + protowire.ld(2, body))
    out += protowire.ld(2, protowire.message(TASK_FIELDS, model["task"]))
    return bytes(out)


def decode(buf):
    model = {"task": None, "tables": {}}
    for num, dummy, value in protowire.fields(buf):
        if num == 2:
            model["task"] = _decode(TASK_FIELDS, value)
        elif num == 1:
            key, body = "", b""
            for fnum, dummy2, fval in protowire.fields(value):
                if fnum == 1:
                    key = bytes(fval).decode("utf-8")
                elif fnum == 2:
                    body = fval
            table = _decode(TABLE_FIELDS, body)
            table["engines"] = {}
            for fnum, dummy2, fval in protowire.fields(body):
                if fnum != 8:
                    continue
                engine_id, engine_body = 0, b""
                for enum, dummy3, evalue in protowire.fields(fval):
                    if enum == 1:
                        engine_id = (evalue >> 1) ^ -(evalue & 1)
                    elif enum == 2:
                        engine_body = evalue
                engine = _decode(ENGINE_FIELDS, engine_body)
                engine["chunks"] = {}
                for cnum, dummy4, cval in protowire.fields(engine_body):
                    if cnum != 2:
                        continue
                    ckey, cbody = "", b""
                    for knum, dummy5, kval in protowire.fields(cval):
                        if knum == 1:
                            ckey = bytes(kval).decode("utf-8")
                        elif knum == 2:
                            cbody = kval
                    engine["chunks"][ckey] = _decode(CHUNK_FIELDS, cbody)
                table["engines"][engine_id] = engine
            model["tables"][key] = table
    return model


class FileCheckpoints:
    """checkpoints.FileCheckpointsDB: the whole model in one file, rewritten on update."""

    def __init__(self, path):
        self.path = path
        self.model = {"task": None, "tables": {}}
        if os.path.exists(path):
            try:
                with open(path, "rb") as handle:
                    self.model = decode(handle.read())
            except (OSError, CheckpointError, protowire.WireError, struct.error, UnicodeDecodeError) as exc:
                raise CheckpointError("open checkpoint file failed: %s" % exc) from None

    @property
    def task(self):
        return self.model["task"]

    def table(self, name):
        return self.model["tables"].get(name)

    def save(self):
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        tmp = "%s.%d.tmp" % (self.path, os.getpid())
        with open(tmp, "wb") as handle:
            handle.write(encode(self.model))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def remove(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def move(self, task_id):
        if os.path.exists(self.path):
            os.replace(self.path, "%s.%d.bak" % (self.path, task_id))
