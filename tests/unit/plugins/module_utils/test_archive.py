"""archive.py: zips made within the size limit, and archives refused before a byte is unpacked."""
import os
import stat
import zipfile

import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.storage.archive import check_archive, unzip, zip_directory
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError


def make_tree(root, files):
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


def make_zip(path, entries):
    """entries: [(name or ZipInfo, bytes)], written as given (no name clean-up)."""
    with zipfile.ZipFile(str(path), "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return str(path)


def leftovers(directory):
    return sorted(n for n in os.listdir(str(directory)) if n.startswith((".zip-", ".unzip-")))


# -- zip_directory -----------------------------------------------------------------------

def test_zip_directory_names_are_relative_and_archive_is_complete(tmp_path):
    source = make_tree(tmp_path / "data", {"db.t.000000000.sql": b"INSERT 1;\n" * 50,
                                           "sub/db.t-schema.sql": b"CREATE TABLE t (id int);\n",
                                           "metadata": b"Started dump at: 2026\n"})
    out = tmp_path / "out"
    out.mkdir()
    zip_path = out / "data.zip"
    size = zip_directory(str(source), str(zip_path), 10 ** 6)
    assert size == zip_path.stat().st_size
    assert stat.S_IMODE(zip_path.stat().st_mode) == 0o644
    with zipfile.ZipFile(str(zip_path)) as archive:
        assert sorted(archive.namelist()) == ["db.t.000000000.sql", "metadata", "sub/db.t-schema.sql"]
        assert archive.read("sub/db.t-schema.sql") == b"CREATE TABLE t (id int);\n"
    assert leftovers(out) == []


def test_zip_directory_refuses_files_over_the_limit_before_writing(tmp_path):
    source = make_tree(tmp_path / "data", {"a.sql": b"x" * 100})
    zip_path = tmp_path / "data.zip"
    with pytest.raises(TidbOpsError) as info:
        zip_directory(str(source), str(zip_path), 99)
    assert info.value.code == "TRANSFER_FILE_SIZE_INVALID"
    assert sorted(os.listdir(str(tmp_path))) == ["data"]


def test_zip_directory_refuses_an_archive_over_the_limit_and_leaves_nothing(tmp_path):
    # The files fit (10 bytes) but the archive, with its headers, does not.
    source = make_tree(tmp_path / "data", {"a.sql": b"0123456789"})
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(TidbOpsError) as info:
        zip_directory(str(source), str(out / "data.zip"), 10)
    assert info.value.code == "TRANSFER_FILE_SIZE_INVALID"
    assert os.listdir(str(out)) == []


def test_zip_directory_skips_links(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"not for the archive")
    source = make_tree(tmp_path / "data", {"a.sql": b"x"})
    os.symlink(str(secret), str(source / "link.sql"))
    zip_path = tmp_path / "data.zip"
    zip_directory(str(source), str(zip_path), 10 ** 6)
    with zipfile.ZipFile(str(zip_path)) as archive:
        assert archive.namelist() == ["a.sql"]


# -- check_archive / unzip ---------------------------------------------------------------

def symlink_entry(name):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize("bad", ["../x", "/abs", "a/../../x", "C:\\x", "C:x", "..\\x", "a\\..\\..\\x"])
def test_entries_leaving_the_destination_are_refused(tmp_path, bad):
    zip_path = make_zip(tmp_path / "in.zip", [("ok.sql", b"1"), (bad, b"evil")])
    with pytest.raises(TidbOpsError) as info:
        check_archive(zip_path, 10 ** 6)
    assert info.value.code == "IMPORT_ARCHIVE_INVALID"
    assert info.value.details["entry"] == bad


def test_symlink_entries_are_refused(tmp_path):
    zip_path = make_zip(tmp_path / "in.zip", [("ok.sql", b"1"), (symlink_entry("db.t.000000000.sql"), b"/etc/passwd")])
    with pytest.raises(TidbOpsError) as info:
        check_archive(zip_path, 10 ** 6)
    assert info.value.code == "IMPORT_ARCHIVE_INVALID"
    assert "symbolic link" in info.value.msg


@pytest.mark.parametrize("content", [b"just some text\n", b"PK\x03\x04 but nothing of a zip after it", b""])
def test_not_a_zip_is_refused(tmp_path, content):
    path = tmp_path / "in.zip"
    path.write_bytes(content)
    with pytest.raises(TidbOpsError) as info:
        check_archive(str(path), 10 ** 6)
    assert info.value.code == "IMPORT_ARCHIVE_INVALID"


def test_archive_file_over_the_limit_is_refused(tmp_path):
    zip_path = make_zip(tmp_path / "in.zip", [("a.sql", os.urandom(2000))])
    with pytest.raises(TidbOpsError) as info:
        check_archive(zip_path, 1000)
    assert info.value.code == "TRANSFER_FILE_SIZE_INVALID"


def test_uncompressed_total_over_the_limit_is_refused(tmp_path):
    # A small archive (zeros compress well) that unpacks to 20000 bytes.
    zip_path = make_zip(tmp_path / "in.zip", [("a.sql", b"\0" * 10000), ("b.sql", b"\0" * 10000)])
    assert os.path.getsize(zip_path) < 1000
    assert len(check_archive(zip_path, 20000)) == 2
    with pytest.raises(TidbOpsError) as info:
        check_archive(zip_path, 19999)
    assert info.value.code == "TRANSFER_FILE_SIZE_INVALID"
    assert "20000" in info.value.msg


@pytest.mark.parametrize("entries, limit", [
    ([("ok.sql", b"1"), ("../escape.sql", b"evil")], 10 ** 6),
    ([("ok.sql", b"1"), (symlink_entry("link"), b"/etc/passwd")], 10 ** 6),
    ([("ok.sql", b"\0" * 5000)], 100),
])
def test_a_refused_archive_leaves_nothing_behind(tmp_path, entries, limit):
    zip_path = make_zip(tmp_path / "in.zip", entries)
    parent = tmp_path / "work"
    parent.mkdir()
    dest = parent / "data"
    with pytest.raises(TidbOpsError):
        unzip(zip_path, str(dest), limit)
    assert os.listdir(str(parent)) == []
    assert not (tmp_path / "escape.sql").exists()


def test_a_refused_archive_keeps_an_existing_destination(tmp_path):
    dest = make_tree(tmp_path / "data", {"old.sql": b"old"})
    zip_path = make_zip(tmp_path / "in.zip", [("/abs.sql", b"evil")])
    with pytest.raises(TidbOpsError):
        unzip(zip_path, str(dest), 10 ** 6)
    assert os.listdir(str(dest)) == ["old.sql"]
    assert leftovers(tmp_path) == []


def test_a_good_archive_unpacks_fully(tmp_path):
    entries = [("db-schema-create.sql", b"CREATE DATABASE db;"), ("sub/", b""), ("sub/db.t.000000000.sql", b"INSERT;"),
               ("./db.t2.000000000.csv", b"id\n1\n"), ("deep/er/x.sql", b"x")]
    zip_path = make_zip(tmp_path / "in.zip", entries)
    dest = tmp_path / "work" / "data"
    assert unzip(zip_path, str(dest), 10 ** 6) == 4
    found = {}
    for root, _dirs, files in os.walk(str(dest)):
        for name in files:
            full = os.path.join(root, name)
            with open(full, "rb") as handle:
                found[os.path.relpath(full, str(dest))] = handle.read()
    assert found == {"db-schema-create.sql": b"CREATE DATABASE db;", "sub/db.t.000000000.sql": b"INSERT;",
                     "db.t2.000000000.csv": b"id\n1\n", "deep/er/x.sql": b"x"}
    assert leftovers(tmp_path / "work") == []


def test_an_existing_destination_is_replaced(tmp_path):
    dest = make_tree(tmp_path / "data", {"stale.sql": b"from an interrupted run", "old/x.sql": b"x"})
    zip_path = make_zip(tmp_path / "in.zip", [("new.sql", b"new")])
    assert unzip(zip_path, str(dest), 10 ** 6) == 1
    assert os.listdir(str(dest)) == ["new.sql"]
    assert (dest / "new.sql").read_bytes() == b"new"


def test_zip_then_unzip_round_trip(tmp_path):
    files = {"a.sql": b"a" * 300, "n/b.csv.gz": os.urandom(64), "n/m/c.sql": b""}
    source = make_tree(tmp_path / "data", files)
    zip_path = tmp_path / "data.zip"
    zip_directory(str(source), str(zip_path), 10 ** 6)
    dest = tmp_path / "again"
    assert unzip(str(zip_path), str(dest), 10 ** 6) == 3
    for name, content in files.items():
        assert (dest / name).read_bytes() == content


def test_zip_inside_its_source_does_not_pack_itself(tmp_path):
    source = make_tree(tmp_path / "data", {"a.sql": b"x"})
    zip_path = source / "data.zip"
    zip_directory(str(source), str(zip_path), 10 ** 6)
    with zipfile.ZipFile(str(zip_path)) as archive:
        assert archive.namelist() == ["a.sql"]


def test_a_file_and_a_directory_of_the_same_name_is_a_clear_error(tmp_path):
    zip_path = make_zip(tmp_path / "in.zip", [("a", b"1"), ("a/b", b"2")])
    parent = tmp_path / "work"
    with pytest.raises(TidbOpsError) as raised:
        unzip(zip_path, str(parent / "data"), 10 ** 6)
    assert raised.value.code == "IMPORT_ARCHIVE_INVALID"
    assert not os.path.exists(str(parent)) or os.listdir(str(parent)) == []
