"""The stand-in's checkpoint decides a batch that was in flight when Lightning died:
committed (advance), not committed (write again), or unknowable (fail). The states are
built by editing a real checkpoint file, so every branch runs deterministically."""
import os

import pytest

from tests.sandbox import procs
from tests.sandbox.lightning import checkpoint as cpt
from tests.sandbox.lightning import source
from tests.sandbox.services import Sandbox
from tests.unit.sandbox.test_dumpling import make_cluster, run, sandbox_env, sql

TABLE = "`shop`.`big`"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("lightningcp"))
    sandbox = Sandbox(directory)
    sandbox.up(out=open(os.devnull, "w"))
    env, dummy = sandbox_env(directory)
    src = make_cluster(directory, env, "src")
    dst = make_cluster(directory, env, "dst")
    sql(src, "CREATE DATABASE shop")
    sql(src, "CREATE TABLE shop.big (k INT, v VARCHAR(10))")
    sql(src, "INSERT INTO shop.big VALUES (%s, %s)", [(i % 5, "v%d" % i) for i in range(30)],
        many=True)
    out = os.path.join(directory, "dump")
    result = run(env, "dumpling", "-P", src, "-o", out, "--consistency", "none", "-B", "shop")
    assert result.returncode == 0, result.stdout
    cfg = os.path.join(directory, "l.toml")
    with open(cfg, "w") as handle:
        handle.write('[lightning]\nfile = "%s.log"\n[checkpoint]\ndsn = "%s.pb"\n'
                     'keep-after-success = "origin"\n[tikv-importer]\nbackend = "tidb"\n'
                     '[mydumper]\ndata-source-dir = "%s"\n[tidb]\nhost = "127.0.0.1"\n'
                     'port = %d\nuser = "root"\n' % (cfg, cfg, out, dst))
    result = run(env, "tidb-lightning", "--config", cfg)
    assert result.returncode == 0, result.stderr
    with open(cfg + ".pb", "rb") as handle:
        finished = handle.read()
    yield {"env": env, "src": src, "dst": dst, "cfg": cfg, "out": out, "finished": finished}
    sandbox.down(out=open(os.devnull, "w"))
    assert procs.owned_pids(directory) == []


def rows(port):
    return sorted(sql(port, "SELECT k, v FROM shop.big"))


def rewind(setup, prefix_rows, pending):
    """Target holds the first prefix_rows rows; the checkpoint says the chunk stopped at
    them with a pending batch of `pending` further rows (count_before/after set)."""
    sql(setup["dst"], "DELETE FROM shop.big")
    model = cpt.decode(setup["finished"])
    table = model["tables"][TABLE]
    table["status"] = cpt.STATUS_LOADED
    chunk = table["engines"][0]["chunks"]["shop.big.000000000.sql:0"]
    data = open(os.path.join(setup["out"], chunk["path"]), "rb").read()
    parsed = list(source.SQLParser(data, chunk["path"]).rows())
    values = [b"(" + b",".join(v) + b")" for dummy, v, dummy2 in parsed]
    if prefix_rows:
        sql(setup["dst"], b"INSERT INTO shop.big VALUES " + b",".join(values[:prefix_rows]))
    chunk.update(pos=parsed[prefix_rows - 1][2] if prefix_rows else 0, real_pos=0,
                 kvc_kvs=prefix_rows, pending_pos=parsed[prefix_rows + pending - 1][2],
                 pending_rows=pending, pending_bytes=1, count_before=prefix_rows,
                 count_after=prefix_rows + pending)
    with open(setup["cfg"] + ".pb", "wb") as handle:
        handle.write(cpt.encode(model))
    return values


def test_pending_batch_that_was_committed_is_not_written_again(setup):
    values = rewind(setup, 10, 5)
    sql(setup["dst"], b"INSERT INTO shop.big VALUES " + b",".join(values[10:15]))  # it committed
    result = run(setup["env"], "tidb-lightning", "--config", setup["cfg"])
    assert result.returncode == 0, result.stderr
    assert rows(setup["dst"]) == rows(setup["src"])
    log = open(setup["cfg"] + ".log").read()
    assert "last batch of the previous run was committed" in log


def test_pending_batch_that_was_rolled_back_is_written_again(setup):
    rewind(setup, 10, 5)
    result = run(setup["env"], "tidb-lightning", "--config", setup["cfg"])
    assert result.returncode == 0, result.stderr
    assert rows(setup["dst"]) == rows(setup["src"])


def test_pending_batch_with_foreign_writes_fails(setup):
    rewind(setup, 10, 5)
    sql(setup["dst"], "INSERT INTO shop.big VALUES (99, 'intruder')")
    result = run(setup["env"], "tidb-lightning", "--config", setup["cfg"])
    assert result.returncode == 1
    assert "cannot tell whether the last batch of `shop`.`big`" in result.stderr
    # the table is now marked failed in the checkpoint, as Lightning does after an error
    result = run(setup["env"], "tidb-lightning", "--config", setup["cfg"])
    assert result.returncode == 1
    assert "TiDB Lightning has failed last time" in result.stderr
    assert "--checkpoint-error-destroy='`shop`.`big`'" in result.stderr


def test_encode_decode_roundtrip():
    model = {"task": {"task_id": 1, "source_dir": "/d", "backend": "tidb", "importer_addr": "",
                      "tidb_host": "h", "tidb_port": 4000, "pd_addr": "", "sorted_kv_dir": "",
                      "lightning_ver": "v"},
             "tables": {"`a`.`b`": {"hash": b"", "status": 30, "tableID": 7, "kv_bytes": 0,
                                    "kv_kvs": 0, "kv_checksum": 2 ** 63 + 5, "table_info": b"",
                                    "autoRandBase": 0, "autoIncrBase": -3, "autoRowIDBase": 0,
                                    "engines": {-1: {"status": 30, "chunks": {}},
                                                0: {"status": 30, "chunks": {
                                                    "f.sql:0": {"path": "f.sql", "pos": 12,
                                                                "real_pos": -1,
                                                                "count_after": 3}}}}}}}
    back = cpt.decode(cpt.encode(model))
    assert back["task"] == model["task"]
    table = back["tables"]["`a`.`b`"]
    assert table["kv_checksum"] == 2 ** 63 + 5 and table["autoIncrBase"] == -3
    assert sorted(table["engines"]) == [-1, 0]
    chunk = table["engines"][0]["chunks"]["f.sql:0"]
    assert (chunk["path"], chunk["pos"], chunk["real_pos"], chunk["count_after"]) == \
        ("f.sql", 12, -1, 3)
