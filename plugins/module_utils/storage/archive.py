# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Zip archives of exports, for download and for import, within a size limit.

TiUniManager's file server refused uploads and downloads over 2 GB and unzipped uploads with
path traversal refused. Both checks happen here before a byte is written: an archive whose
entries would leave the destination (absolute names, ``..``, links) or whose size is over the
limit is refused whole, so a refused archive leaves nothing behind.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import stat
import tempfile
import zipfile

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.transfer.records import check_file_size

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or an empty archive's end record


def directory_size(path):
    """Bytes of the regular files under path."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            if os.path.isfile(full) and not os.path.islink(full):
                total += os.path.getsize(full)
    return total


def zip_directory(source_dir, zip_path, limit):
    """Pack source_dir's files into zip_path (names relative to source_dir); returns its size.

    The files' total size is checked against limit first (TRANSFER_FILE_SIZE_INVALID), then
    the archive itself; the archive appears under its name only when complete."""
    check_file_size(directory_size(source_dir), limit)
    directory = os.path.dirname(zip_path) or "."
    fd, partial = tempfile.mkstemp(prefix=".zip-", dir=directory)
    os.close(fd)
    # The archive may live inside the directory it packs: never pack it, or its partial self.
    skip = set(os.path.realpath(p) for p in (zip_path, partial))
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            for root, dirs, files in os.walk(source_dir):
                dirs.sort()
                for name in sorted(files):
                    full = os.path.join(root, name)
                    if os.path.isfile(full) and not os.path.islink(full) and os.path.realpath(full) not in skip:
                        archive.write(full, os.path.relpath(full, source_dir))
        size = check_file_size(os.path.getsize(partial), limit)
        os.chmod(partial, 0o644)
        os.rename(partial, zip_path)
        return size
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def is_zip(path):
    with open(path, "rb") as handle:
        return handle.read(4) in ZIP_MAGIC


def _bad(path, why, **details):
    return TidbOpsError("IMPORT_ARCHIVE_INVALID", "Refusing archive %s: %s." % (path, why), archive=path, **details)


def check_archive(zip_path, limit):
    """The archive's entries, after refusing it (IMPORT_ARCHIVE_INVALID) when it is not a zip,
    has an entry that would leave the destination or is a link, or unpacks to more than
    limit bytes (TRANSFER_FILE_SIZE_INVALID, as does an archive file over the limit)."""
    check_file_size(os.path.getsize(zip_path), limit)
    if not is_zip(zip_path) or not zipfile.is_zipfile(zip_path):
        raise _bad(zip_path, "it is not a zip archive")
    with zipfile.ZipFile(zip_path) as archive:
        entries = archive.infolist()
    total = 0
    files, directories = set(), set()
    for entry in entries:
        name = entry.filename.replace("\\", "/")
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in parts or not parts:
            raise _bad(zip_path, "entry %r would be written outside the destination" % entry.filename,
                       entry=entry.filename)
        if stat.S_ISLNK(entry.external_attr >> 16):
            raise _bad(zip_path, "entry %r is a symbolic link" % entry.filename, entry=entry.filename)
        total += entry.file_size
        (directories if entry.is_dir() else files).add("/".join(parts))
        directories.update("/".join(parts[:n]) for n in range(1, len(parts)))
    clash = sorted(files & directories)
    if clash:
        raise _bad(zip_path, "%r is both a file and a directory" % clash[0], entry=clash[0])
    try:
        check_file_size(total, limit)
    except TidbOpsError as error:
        error.msg = "The archive %s unpacks to %d bytes, over the limit of %d bytes." % (zip_path, total, limit)
        raise
    return entries


def unzip(zip_path, dest_dir, limit):
    """Unpack a checked archive into dest_dir, which appears only when complete (an
    interrupted unpack is redone). Returns the number of files."""
    entries = check_archive(zip_path, limit)
    parent = os.path.dirname(dest_dir.rstrip("/")) or "."
    if not os.path.isdir(parent):
        os.makedirs(parent, 0o700)
    partial = tempfile.mkdtemp(prefix=".unzip-", dir=parent)
    try:
        count = 0
        with zipfile.ZipFile(zip_path) as archive:
            for entry in entries:
                target = os.path.join(partial, *[p for p in entry.filename.replace("\\", "/").split("/")
                                                 if p not in ("", ".")])
                if entry.is_dir():
                    if not os.path.isdir(target):
                        os.makedirs(target)
                    continue
                if not os.path.isdir(os.path.dirname(target)):
                    os.makedirs(os.path.dirname(target))
                with archive.open(entry) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink)
                count += 1
        if os.path.isdir(dest_dir):
            shutil.rmtree(dest_dir)
        os.rename(partial, dest_dir)
        return count
    finally:
        if os.path.isdir(partial):
            shutil.rmtree(partial, ignore_errors=True)
