"""storage.py against a real directory (tmp_path) and a real S3 API server (moto)."""
import json
import os
import socket
import stat
import threading
import time

import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.storage import location as storage_mod
from ansible_collections.tidbops.manager.plugins.module_utils.storage import s3 as s3_mod
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.storage.location import (
    LocalStorage, open_storage, parse_location)
from ansible_collections.tidbops.manager.plugins.module_utils.storage.s3 import S3Storage
from tests.sandbox.procs import free_port
from tests.unit.conftest import S3_ACCESS_KEY, S3_SECRET_KEY

SECRET = S3_SECRET_KEY


def assert_no_secret(*things):
    for thing in things:
        texts = [str(thing), repr(thing)]
        if isinstance(thing, TidbOpsError):
            texts.append(json.dumps(thing.fail_kwargs(), default=str))
        if not isinstance(thing, (str, TidbOpsError)):
            texts.append(repr(vars(thing)))
        for text in texts:
            assert SECRET not in text


def s3_open(server, location, **kwargs):
    options = dict(s3_endpoint=server.endpoint, s3_access_key=S3_ACCESS_KEY,
                   s3_secret_key=SECRET)
    options.update(kwargs)
    return open_storage(location, **options)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return open_storage(str(tmp_path / "store"))
    server = request.getfixturevalue("moto_s3")
    return s3_open(server, "s3://%s/some/prefix" % server.new_bucket())


# -- locations ---------------------------------------------------------------------------

@pytest.mark.parametrize("location, expected", [
    ("/var/lib/tidbops", ("local", "/var/lib/tidbops")),
    ("/var/lib/tidbops/", ("local", "/var/lib/tidbops")),
    ("/var//lib/tidbops", ("local", "/var/lib/tidbops")),
    ("/", ("local", "/")),
    ("local:///var/lib/tidbops", ("local", "/var/lib/tidbops")),
    ("file:///mnt/nfs/backups", ("local", "/mnt/nfs/backups")),
    ("FILE:///mnt/nfs", ("local", "/mnt/nfs")),
    ("s3://bucket", ("s3", "bucket", "")),
    ("s3://bucket/", ("s3", "bucket", "")),
    ("s3://my-bucket.example/a/b/", ("s3", "my-bucket.example", "a/b")),
    ("S3://bucket/x", ("s3", "bucket", "x")),
])
def test_parse_location_valid(location, expected):
    assert parse_location(location) == expected


@pytest.mark.parametrize("location", [
    "", "   ", " /leading-space", "relative/path", "./here", "~/x", "C:\\backups",
    "local://relative", "file://host/path", "local:", "gs://bucket/x", "http://host/x",
    "hdfs:///x", "s3://", "s3:///prefix", "s3://b", "s3://bad_bucket!/x", "s3://a..b/x",
    "/a/../b", "/a/./b", "/..", "local:///a/../../etc", "s3://bucket/a/../b", "s3://bucket/..",
    "s3:/bucket/x", None, 42,
])
def test_parse_location_refused(location):
    with pytest.raises(TidbOpsError) as err:
        open_storage(location)
    assert err.value.code == "STORAGE_URL_INVALID"


def test_refused_location_touches_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def no_client(*args, **kwargs):
        raise AssertionError("a client was created for an invalid location")

    monkeypatch.setattr(s3_mod.boto3.session, "Session", no_client)
    for location in ("relative/dir", "s3://", "s3://bucket/../x", "local://x"):
        with pytest.raises(TidbOpsError) as err:
            open_storage(location, s3_endpoint="http://127.0.0.1:1")
        assert err.value.code == "STORAGE_URL_INVALID"
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("location", [
    "s3://bucket/p?access-key=AK&secret-access-key=%s" % SECRET,
    "s3://AK:%s@bucket/p" % SECRET,
    "s3://bucket/p#%s" % SECRET,
])
def test_refused_location_does_not_echo_secret(location):
    with pytest.raises(TidbOpsError) as err:
        open_storage(location)
    assert err.value.code == "STORAGE_URL_INVALID"
    assert_no_secret(err.value)


@pytest.mark.parametrize("endpoint", ["minio:9000", "ftp://host", "http://user:%s@host" % SECRET,
                                      "http://host:9000?x=1", ""])
def test_bad_endpoint_refused(endpoint):
    if endpoint == "":
        storage = open_storage("s3://bucket/x", s3_endpoint=endpoint, s3_region="us-east-1")
        assert storage.endpoint is None  # empty means "not given"
        return
    with pytest.raises(TidbOpsError) as err:
        open_storage("s3://bucket/x", s3_endpoint=endpoint)
    assert err.value.code == "STORAGE_URL_INVALID"
    assert_no_secret(err.value)


def test_partial_credentials_refused():
    with pytest.raises(TidbOpsError) as err:
        open_storage("s3://bucket/x", s3_access_key="AK")
    assert err.value.code == "INVALID_ARGUMENT"
    with pytest.raises(TidbOpsError) as err:
        open_storage("s3://bucket/x", s3_secret_key=SECRET)
    assert err.value.code == "INVALID_ARGUMENT"
    assert_no_secret(err.value)


def test_types_and_urls(tmp_path):
    local = open_storage("local://" + str(tmp_path))
    assert isinstance(local, LocalStorage) and local.kind == "local"
    assert local.url == str(tmp_path)
    assert local.url_for("a/b") == str(tmp_path) + "/a/b"
    s3 = open_storage("s3://bucket/pre/", s3_endpoint="http://127.0.0.1:1",
                      s3_access_key="AK", s3_secret_key=SECRET, s3_session_token="TOKEN-XYZ")
    assert isinstance(s3, S3Storage) and s3.kind == "s3"
    assert s3.url == "s3://bucket/pre"
    assert s3.url_for("x/y.json") == "s3://bucket/pre/x/y.json"
    assert s3.sub("x").url == "s3://bucket/pre/x"
    assert_no_secret(s3, s3.sub("x"))
    assert "TOKEN-XYZ" not in repr(vars(s3))


def test_credentials_from_environment(moto_s3, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    bucket = moto_s3.new_bucket()
    store = open_storage("s3://%s" % bucket, s3_endpoint=moto_s3.endpoint)
    store.put_bytes("k", b"v")
    assert store.get_bytes("k") == b"v"
    assert store.access_key is None
    assert_no_secret(store)


# -- keys --------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["../escape", "a/../../escape", "/etc/passwd", "a/./b", "..",
                                 "a/\0/b"])
def test_keys_escaping_the_root_are_refused(store, key, tmp_path):
    for call in (lambda: store.put_bytes(key, b"x"), lambda: store.get_bytes(key),
                 lambda: store.exists(key), lambda: store.list(key), lambda: store.delete(key),
                 lambda: store.delete_prefix(key), lambda: store.create_exclusive(key, b"x")):
        with pytest.raises(TidbOpsError) as err:
            call()
        assert err.value.code == "STORAGE_KEY_INVALID"
    assert not (tmp_path / "escape").exists()


def test_empty_key_refused_for_objects(store):
    with pytest.raises(TidbOpsError) as err:
        store.put_bytes("", b"x")
    assert err.value.code == "STORAGE_KEY_INVALID"


def test_join(store):
    assert store.join("records", "backup/", "x.json") == "records/backup/x.json"
    assert store.join("a", "", None, "/b/") == "a/b"
    with pytest.raises(TidbOpsError):
        store.join("a", "..", "b")


# -- objects -----------------------------------------------------------------------------

def test_put_get_exists_delete(store):
    assert not store.exists("a/b.json")
    store.put_bytes("a/b.json", b'{"x": 1}')
    assert store.exists("a/b.json")
    assert store.get_bytes("a/b.json") == b'{"x": 1}'
    store.put_bytes("a/b.json", "r\u00e9written")
    assert store.get_bytes("a/b.json") == "r\u00e9written".encode("utf-8")
    assert store.delete("a/b.json") is True
    assert store.delete("a/b.json") is False
    assert not store.exists("a/b.json")


def test_get_missing_is_not_found(store):
    with pytest.raises(TidbOpsError) as err:
        store.get_bytes("nope/missing.json")
    assert err.value.code == "STORAGE_NOT_FOUND"
    assert err.value.details["key"] == "nope/missing.json"
    assert store.url in err.value.msg


def test_put_file_get_file(store, tmp_path):
    source = tmp_path / "big.bin"
    # Above boto3's 8 MiB multipart threshold, so S3 goes through a multipart upload.
    payload = os.urandom(1024) * (9 * 1024)
    source.write_bytes(payload)
    store.put_file("dump/big.bin", str(source))
    assert store.list("dump") == [("dump/big.bin", len(payload))]
    target = tmp_path / "out" / "big.bin"
    target.parent.mkdir()
    store.get_file("dump/big.bin", str(target))
    assert target.read_bytes() == payload
    with pytest.raises(TidbOpsError) as err:
        store.get_file("dump/missing.bin", str(tmp_path / "out" / "missing.bin"))
    assert err.value.code == "STORAGE_NOT_FOUND"
    assert sorted(os.listdir(str(tmp_path / "out"))) == ["big.bin"]  # no temp file left
    with pytest.raises(TidbOpsError) as err:
        store.put_file("dump/x", str(tmp_path / "does-not-exist"))
    assert err.value.code == "STORAGE_FAILED"


def test_list_size_delete_prefix(store):
    files = {"b/2": b"22", "a/1": b"1", "a/sub/3": b"333", "ab/4": b"4444", "top": b"55555"}
    for key, data in files.items():
        store.put_bytes(key, data)
    assert store.list() == [("a/1", 1), ("a/sub/3", 3), ("ab/4", 4), ("b/2", 2), ("top", 5)]
    assert store.list("a") == [("a/1", 1), ("a/sub/3", 3)]  # not ab/4: prefixes are directories
    assert store.list("a/") == store.list("a")
    assert store.list("top") == [("top", 5)]
    assert store.list("nothing-here") == []
    assert store.size() == 15
    assert store.size("a") == 4
    assert store.delete_prefix("a") == 2
    assert store.list() == [("ab/4", 4), ("b/2", 2), ("top", 5)]
    assert store.delete_prefix("nothing-here") == 0
    assert store.delete_prefix("") == 3
    assert store.list() == []


def test_s3_delete_prefix_batches(moto_s3, monkeypatch):
    store = s3_open(moto_s3, "s3://%s/p" % moto_s3.new_bucket())
    monkeypatch.setattr(s3_mod, "_S3_DELETE_BATCH", 3)
    calls = []
    real = store._client.delete_objects

    def counting(**kwargs):
        calls.append(len(kwargs["Delete"]["Objects"]))
        return real(**kwargs)

    monkeypatch.setattr(store._client, "delete_objects", counting)
    for index in range(7):
        store.put_bytes("x/%d" % index, b"x")
    store.put_bytes("keep", b"k")
    assert store.delete_prefix("x") == 7
    assert calls == [3, 3, 1]
    assert store.list() == [("keep", 1)]


def test_s3_prefix_isolation(moto_s3):
    bucket = moto_s3.new_bucket()
    whole = s3_open(moto_s3, "s3://%s" % bucket)
    inner = s3_open(moto_s3, "s3://%s/tenant" % bucket)
    whole.put_bytes("tenant/a", b"1")
    whole.put_bytes("tenant-other/b", b"22")
    moto_s3.client().put_object(Bucket=bucket, Key="dir-marker/", Body=b"")
    assert inner.list() == [("a", 1)]
    assert whole.list() == [("tenant-other/b", 2), ("tenant/a", 1)]
    assert inner.delete_prefix("") == 1
    assert whole.list() == [("tenant-other/b", 2)]


def test_local_layout_and_mode(tmp_path):
    store = open_storage(str(tmp_path / "root"))
    store.put_bytes("records/backup/x.json", b"{}")
    path = tmp_path / "root" / "records" / "backup" / "x.json"
    assert path.read_bytes() == b"{}"
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert store.path("records/backup/x.json") == str(path)
    sub = store.sub("records")
    assert sub.list() == [("backup/x.json", 2)]


def test_local_put_is_atomic_when_it_fails(tmp_path, monkeypatch):
    store = open_storage(str(tmp_path))
    store.put_bytes("rec.json", b"old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage_mod.os, "replace", broken_replace)
    with pytest.raises(TidbOpsError) as err:
        store.put_bytes("rec.json", b"new")
    assert err.value.code == "STORAGE_FAILED"
    assert "No space left" in err.value.msg
    monkeypatch.undo()
    assert store.get_bytes("rec.json") == b"old"
    assert os.listdir(str(tmp_path)) == ["rec.json"]  # the temp file is gone


def test_local_readers_never_see_partial_writes(tmp_path):
    store = open_storage(str(tmp_path))
    versions = [bytes([65 + n]) * (512 * 1024) for n in range(4)]
    store.put_bytes("big", versions[0])
    stop = threading.Event()
    seen = []

    def reader():
        while not stop.is_set():
            seen.append(store.get_bytes("big"))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for round_ in range(20):
            store.put_bytes("big", versions[round_ % len(versions)])
    finally:
        stop.set()
        thread.join()
    assert seen
    assert all(data in versions for data in seen)


def test_local_list_skips_temp_files(tmp_path):
    store = open_storage(str(tmp_path))
    store.put_bytes("a", b"1")
    (tmp_path / (storage_mod.TEMP_PREFIX + "leftover")).write_bytes(b"xx")
    assert store.list() == [("a", 1)]
    assert store.delete_prefix("") == 1
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_local_permission_denied(tmp_path):
    root = tmp_path / "ro"
    root.mkdir()
    store = open_storage(str(root))
    root.chmod(0o500)
    try:
        with pytest.raises(TidbOpsError) as err:
            store.put_bytes("x", b"1")
        assert err.value.code == "STORAGE_ACCESS_DENIED"
        with pytest.raises(TidbOpsError) as err:
            store.check_access()
        assert err.value.code == "STORAGE_ACCESS_DENIED"
    finally:
        root.chmod(0o700)


# -- exclusive create ----------------------------------------------------------------------

def test_create_exclusive(store):
    assert store.create_exclusive("locks/c1.json", b"first") is True
    assert store.create_exclusive("locks/c1.json", b"second") is False
    assert store.get_bytes("locks/c1.json") == b"first"
    store.delete("locks/c1.json")
    assert store.create_exclusive("locks/c1.json", b"third") is True
    assert store.list("locks") == [("locks/c1.json", 5)]  # no temp files


def test_create_exclusive_race(store):
    """Many threads race to create the same key: exactly one wins, its content stays.

    On S3 the HEAD pre-check is bypassed so the race is decided by the conditional PUT alone.
    """
    if isinstance(store, S3Storage):
        store.exists = lambda key: False
    for round_ in range(5):
        key = "locks/race-%d.json" % round_
        barrier = threading.Barrier(8)
        results = {}

        def contender(index, key, barrier, results):
            barrier.wait()
            results[index] = store.create_exclusive(key, ("owner-%d" % index).encode())

        threads = [threading.Thread(target=contender, args=(n, key, barrier, results))
                   for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [index for index, won in results.items() if won]
        assert len(results) == 8
        assert len(winners) == 1, results
        assert store.get_bytes(key) == ("owner-%d" % winners[0]).encode()


# -- reachability and errors -----------------------------------------------------------------

def test_check_access(store, tmp_path):
    if isinstance(store, LocalStorage):
        with pytest.raises(TidbOpsError) as err:
            store.check_access()
        assert err.value.code == "STORAGE_NOT_FOUND"
        store.ensure_root()
        assert os.listdir(store.root) == []
    assert store.check_access() is True
    assert store.list() == []


def test_wrong_bucket_is_not_found(moto_s3):
    store = s3_open(moto_s3, "s3://tidbops-no-such-bucket/x")
    for call in (store.check_access, lambda: store.get_bytes("k"), store.list,
                 lambda: store.put_bytes("k", b"v")):
        with pytest.raises(TidbOpsError) as err:
            call()
        assert err.value.code == "STORAGE_NOT_FOUND", err.value.msg
        assert "tidbops-no-such-bucket" in err.value.msg
        assert_no_secret(err.value)


def test_unreachable_endpoint_fails_fast():
    port = free_port()  # nothing listens there: connection refused
    store = open_storage("s3://bucket/x", s3_endpoint="http://127.0.0.1:%d" % port,
                         s3_access_key=S3_ACCESS_KEY, s3_secret_key=SECRET)
    for call in (store.check_access, lambda: store.get_bytes("k"), lambda: store.exists("k"),
                 store.list, lambda: store.create_exclusive("k", b"v")):
        started = time.monotonic()
        with pytest.raises(TidbOpsError) as err:
            call()
        elapsed = time.monotonic() - started
        assert err.value.code == "STORAGE_UNREACHABLE", err.value.msg
        assert "127.0.0.1:%d" % port in err.value.msg
        assert elapsed < 5.0, elapsed
        assert_no_secret(err.value, store)
    print("connection refused -> STORAGE_UNREACHABLE in %.2fs" % elapsed)


def test_silent_endpoint_times_out():
    """An endpoint that accepts connections but never answers errors after the timeouts."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        store = open_storage("s3://bucket/x",
                             s3_endpoint="http://127.0.0.1:%d" % listener.getsockname()[1],
                             s3_access_key=S3_ACCESS_KEY, s3_secret_key=SECRET,
                             read_timeout=1, max_attempts=2)
        started = time.monotonic()
        with pytest.raises(TidbOpsError) as err:
            store.check_access()
        elapsed = time.monotonic() - started
    finally:
        listener.close()
    assert err.value.code == "STORAGE_UNREACHABLE", err.value.msg
    assert elapsed < 6.0, elapsed
    assert_no_secret(err.value)
    print("silent endpoint (read_timeout=1, 2 attempts) -> STORAGE_UNREACHABLE in %.2fs"
          % elapsed)


def test_unresolvable_host_is_unreachable():
    store = open_storage("s3://bucket/x", s3_endpoint="http://tidbops-no-such-host.invalid:9000",
                         s3_access_key=S3_ACCESS_KEY, s3_secret_key=SECRET)
    started = time.monotonic()
    with pytest.raises(TidbOpsError) as err:
        store.check_access()
    elapsed = time.monotonic() - started
    assert err.value.code == "STORAGE_UNREACHABLE", err.value.msg
    assert elapsed < 30.0, elapsed
    print("DNS failure -> STORAGE_UNREACHABLE in %.2fs" % elapsed)


def test_bad_credentials_are_access_denied(moto_s3_auth):
    store = s3_open(moto_s3_auth, "s3://some-bucket/x")
    for call in (store.check_access, lambda: store.get_bytes("k"), store.list,
                 lambda: store.put_bytes("k", b"v"), lambda: store.exists("k")):
        with pytest.raises(TidbOpsError) as err:
            call()
        assert err.value.code == "STORAGE_ACCESS_DENIED", err.value.msg
        assert_no_secret(err.value, store)


def test_secret_is_never_shown(moto_s3):
    store = s3_open(moto_s3, "s3://%s/p" % moto_s3.new_bucket(), s3_session_token="SESSION-TOK")
    assert SECRET not in repr(store) and SECRET not in str(store)
    assert SECRET not in repr(vars(store)) and "SESSION-TOK" not in repr(vars(store))
    # A message that (somehow) contained the secret is scrubbed.
    err = store._error("STORAGE_FAILED", "put", "server said %s" % SECRET, key="k")
    assert SECRET not in err.msg and "********" in err.msg
