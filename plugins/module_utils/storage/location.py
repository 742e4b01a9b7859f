# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One interface over a local (or NFS-mounted) directory and an S3 bucket/prefix.

A *location* is an absolute local path (``/var/lib/tidbops``, also written
``local:///var/lib/tidbops`` or ``file:///var/lib/tidbops``) or ``s3://bucket[/prefix]``.
``open_storage()`` parses it, refuses anything else before touching anything, and returns a
``LocalStorage`` or an ``S3Storage``. Both offer the same methods; keys are relative to the
location, ``/``-separated, and may not leave it.

Every failure is a ``TidbOpsError`` with one of the ``STORAGE_*`` codes. Messages name the
location (never a credential) and the operation that failed. The S3 secret key and session
token are handed to boto3 and are not kept on the storage object.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import re
import shutil
import tempfile

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError


# Fail fast on an endpoint that does not answer: a refused connection or a DNS failure errors
# at once; a silent (firewalled) endpoint errors after CONNECT_TIMEOUT * MAX_ATTEMPTS seconds.
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 60
MAX_ATTEMPTS = 2

# Temporary files of atomic writes start with this; list/size never report them.
TEMP_PREFIX = ".tidbops-tmp-"

_BUCKET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$")
_SECRET_QUERY_RE = re.compile(r"[?&#].*$", re.DOTALL)
_USERINFO_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@")

_UNREACHABLE_NAMES = ("ETIMEDOUT", "ESTALE", "EHOSTDOWN", "EHOSTUNREACH", "ENOTCONN",
                      "ECONNREFUSED", "ENETUNREACH")
_UNREACHABLE_ERRNOS = frozenset(
    getattr(errno, name) for name in _UNREACHABLE_NAMES if hasattr(errno, name))
_DENIED_ERRNOS = frozenset((errno.EACCES, errno.EPERM, errno.EROFS))
_NO_LINK_ERRNOS = frozenset(
    getattr(errno, name) for name in ("EPERM", "EOPNOTSUPP", "ENOTSUP", "ENOSYS", "EXDEV", "EMLINK")
    if hasattr(errno, name))


def _redact(location):
    """A location safe to show: no query string, fragment or user:password@ part."""
    text = str(location)
    text = _SECRET_QUERY_RE.sub("", text)
    return _USERINFO_RE.sub(r"\1", text)


def _invalid(location, why):
    return TidbOpsError(
        "STORAGE_URL_INVALID",
        "Invalid storage location %r: %s. Use an absolute path (/dir, local:///dir, "
        "file:///dir) or s3://bucket[/prefix]." % (_redact(location), why),
        location=_redact(location))


def _check_parts(location, parts):
    for part in parts:
        if part in (".", ".."):
            raise _invalid(location, "'.' and '..' path components are not allowed")
        if "\0" in part:
            raise _invalid(location, "NUL characters are not allowed")


def parse_location(location):
    """Parse a location without touching it.

    Returns ``("local", "/abs/path")`` or ``("s3", bucket, prefix)`` (prefix without leading or
    trailing ``/``, possibly empty). Raises ``TidbOpsError('STORAGE_URL_INVALID')``.
    """
    if not isinstance(location, str) or not location.strip():
        raise _invalid(location if isinstance(location, str) else repr(location), "it is empty")
    if location != location.strip():
        raise _invalid(location, "it has leading or trailing whitespace")
    if "://" in location:
        scheme, rest = location.split("://", 1)
        scheme = scheme.lower()
        if "?" in rest or "#" in rest:
            raise _invalid(location, "query strings and fragments are not allowed (give "
                                     "endpoint and credentials as separate options)")
        if scheme in ("local", "file"):
            if not rest.startswith("/"):
                raise _invalid(location, "%s:// must be followed by an absolute path "
                                         "(%s:///dir)" % (scheme, scheme))
            return _parse_local(location, rest)
        if scheme == "s3":
            return _parse_s3(location, rest)
        raise _invalid(location, "unsupported scheme %r" % scheme)
    if ":" in location.split("/", 1)[0] and not location.startswith("/"):
        raise _invalid(location, "unsupported scheme")
    return _parse_local(location, location)


def _parse_local(location, path):
    if not path.startswith("/"):
        raise _invalid(location, "a local path must be absolute")
    parts = [p for p in path.split("/") if p]
    _check_parts(location, parts)
    return ("local", "/" + "/".join(parts))


def _parse_s3(location, rest):
    if "@" in rest.split("/", 1)[0]:
        raise _invalid(location, "credentials in the URL are not allowed")
    bucket, _sep, prefix = rest.partition("/")
    if not bucket:
        raise _invalid(location, "the bucket name is empty")
    if not _BUCKET_RE.match(bucket) or ".." in bucket:
        raise _invalid(location, "%r is not a valid bucket name" % bucket)
    parts = [p for p in prefix.split("/") if p]
    _check_parts(location, parts)
    return ("s3", bucket, "/".join(parts))


def _normalize_key(key, allow_empty, location):
    """A key as 'a/b/c' (no empty, '.' or '..' components), or raise STORAGE_KEY_INVALID."""
    if not isinstance(key, str):
        raise TidbOpsError("STORAGE_KEY_INVALID", "A storage key must be a string, not %s."
                           % type(key).__name__, location=location)
    if key.startswith("/"):
        raise TidbOpsError("STORAGE_KEY_INVALID", "Storage key %r is absolute; keys are "
                           "relative to %s." % (key, location), location=location, key=key)
    parts = [p for p in key.split("/") if p]
    for part in parts:
        if part in (".", "..") or "\0" in part:
            raise TidbOpsError("STORAGE_KEY_INVALID", "Storage key %r has a '.', '..' or NUL "
                               "component; keys may not leave %s." % (key, location),
                               location=location, key=key)
    if not parts and not allow_empty:
        raise TidbOpsError("STORAGE_KEY_INVALID", "An empty storage key is not allowed here "
                           "(location %s)." % location, location=location)
    return "/".join(parts)


def _as_bytes(data):
    if isinstance(data, bytes):
        return data
    if isinstance(data, bytearray):
        return bytes(data)
    if isinstance(data, str):
        return data.encode("utf-8")
    raise TypeError("data must be bytes or str, not %s" % type(data).__name__)


def open_storage(location, s3_endpoint=None, s3_region=None, s3_access_key=None,
                 s3_secret_key=None, s3_session_token=None, connect_timeout=CONNECT_TIMEOUT,
                 read_timeout=READ_TIMEOUT, max_attempts=MAX_ATTEMPTS):
    """A LocalStorage or S3Storage for location. Nothing is contacted yet (see check_access).

    For S3, credentials not given here come from boto3's chain (AWS_ACCESS_KEY_ID, ...,
    AWS_PROFILE, instance roles). s3_endpoint selects an S3-compatible server (path-style).
    """
    parsed = parse_location(location)
    if parsed[0] == "local":
        return LocalStorage(parsed[1])
    # boto3 costs about 0.3 s of CPU to import: only an s3:// location pays for it.
    from ansible_collections.tidbops.manager.plugins.module_utils.storage.s3 import S3Storage
    return S3Storage(parsed[1], parsed[2], endpoint=s3_endpoint, region=s3_region,
                     access_key=s3_access_key, secret_key=s3_secret_key,
                     session_token=s3_session_token, connect_timeout=connect_timeout,
                     read_timeout=read_timeout, max_attempts=max_attempts)


class Storage(object):
    """What LocalStorage and S3Storage have in common."""

    kind = None

    @property
    def url(self):
        raise NotImplementedError

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self.url)

    __str__ = __repr__

    def join(self, *parts):
        """The key made of parts ('a', 'b/c' -> 'a/b/c'), validated."""
        pieces = []
        for part in parts:
            if part is None or part == "":
                continue
            pieces.append(str(part).strip("/"))
        return _normalize_key("/".join(p for p in pieces if p), True, self.url)

    def _key(self, key, allow_empty=False):
        return _normalize_key(key, allow_empty, self.url)

    def url_for(self, key=""):
        """The full location of key (e.g. to hand to BR or Dumpling)."""
        key = self._key(key, allow_empty=True)
        if not key:
            return self.url
        return self.url.rstrip("/") + "/" + key

    def size(self, prefix=""):
        """Total bytes of the objects under prefix."""
        return sum(size for _key, size in self.list(prefix))

    def _error(self, code, operation, what, key=None, **extra):
        msg = "Storage %s failed on %s: %s" % (operation, self.url_for(key) if key else self.url,
                                               what)
        details = {"location": self.url, "operation": operation}
        if key:
            details["key"] = key
        details.update(extra)
        return TidbOpsError(code, self._scrub(msg), **details)

    def _scrub(self, text):
        return text


class LocalStorage(Storage):
    """A directory on a local or NFS-mounted file system."""

    kind = "local"

    def __init__(self, root):
        parsed = parse_location(root)
        if parsed[0] != "local":
            raise _invalid(root, "LocalStorage needs a local path")
        self.root = parsed[1]

    @property
    def url(self):
        return self.root

    def sub(self, prefix):
        """A LocalStorage rooted at prefix below this one."""
        prefix = self._key(prefix, allow_empty=True)
        return LocalStorage(self.url_for(prefix))

    def path(self, key=""):
        """The file system path of key."""
        key = self._key(key, allow_empty=True)
        return os.path.join(self.root, *key.split("/")) if key else self.root

    def _os_error(self, operation, exc, key=None):
        if isinstance(exc, TidbOpsError):
            return exc
        err = getattr(exc, "errno", None)
        what = "%s" % (exc.strerror or exc) if isinstance(exc, OSError) else str(exc)
        extra = {}
        if err == errno.ENOENT:
            code = "STORAGE_NOT_FOUND"
            extra["missing"] = "object"
        elif err in _DENIED_ERRNOS:
            code = "STORAGE_ACCESS_DENIED"
        elif err in _UNREACHABLE_ERRNOS:
            code = "STORAGE_UNREACHABLE"
        else:
            code = "STORAGE_FAILED"
        return self._error(code, operation, what, key=key, **extra)

    @staticmethod
    def _file_mode():
        """0666 less the process umask (read without changing it where /proc allows)."""
        umask = None
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("Umask:"):
                        umask = int(line.split()[1], 8)
                        break
        except (IOError, OSError, ValueError):
            umask = None
        if umask is None:
            umask = os.umask(0o022)
            os.umask(umask)
        return 0o666 & ~umask

    @staticmethod
    def _fsync_dir(directory):
        try:
            fd = os.open(directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def _write_temp(self, directory, writer):
        return _write_temp(directory, writer)

    def _atomic_write(self, key, writer):
        target = self.path(key)
        directory = os.path.dirname(target)
        os.makedirs(directory, exist_ok=True)
        tmp = self._write_temp(directory, writer)
        try:
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        self._fsync_dir(directory)

    def exists(self, key):
        key = self._key(key)
        try:
            return os.path.isfile(self.path(key))
        except OSError as exc:  # pragma: no cover - isfile swallows most errors
            raise self._os_error("exists", exc, key)

    def get_bytes(self, key):
        key = self._key(key)
        try:
            with open(self.path(key), "rb") as handle:
                return handle.read()
        except (IOError, OSError) as exc:
            if getattr(exc, "errno", None) == errno.EISDIR:
                raise self._error("STORAGE_NOT_FOUND", "get", "it is a directory, not a file",
                                  key=key)
            raise self._os_error("get", exc, key)

    def put_bytes(self, key, data):
        key = self._key(key)
        data = _as_bytes(data)
        try:
            self._atomic_write(key, lambda handle: handle.write(data))
        except (IOError, OSError) as exc:
            raise self._os_error("put", exc, key)

    def put_file(self, key, path):
        key = self._key(key)
        try:
            with open(path, "rb") as source:
                self._atomic_write(key, lambda handle: shutil.copyfileobj(source, handle,
                                                                          1024 * 1024))
        except (IOError, OSError) as exc:
            if getattr(exc, "filename", None) == path:
                raise TidbOpsError("STORAGE_FAILED", "Cannot read local file %s to upload to "
                                   "%s: %s" % (path, self.url_for(key), exc.strerror or exc),
                                   location=self.url, key=key, operation="put_file")
            raise self._os_error("put_file", exc, key)

    def get_file(self, key, path):
        key = self._key(key)
        source_path = self.path(key)
        try:
            source = open(source_path, "rb")
        except (IOError, OSError) as exc:
            raise self._os_error("get_file", exc, key)
        try:
            _write_local_file(
                path, lambda handle: shutil.copyfileobj(source, handle, 1024 * 1024))
        except (IOError, OSError) as exc:
            raise TidbOpsError("STORAGE_FAILED", "Cannot write %s (downloading %s): %s"
                               % (path, self.url_for(key), exc.strerror or exc),
                               location=self.url, key=key, operation="get_file")
        finally:
            source.close()

    def create_exclusive(self, key, data):
        """Create key with data unless it exists. True if created, False if it existed.

        The content is written to a temp file first and hard-linked into place (link fails
        if the name exists; works on NFS), so a reader never sees a half-written file. Where
        hard links are not supported, O_CREAT|O_EXCL is used instead.
        """
        key = self._key(key)
        data = _as_bytes(data)
        target = self.path(key)
        directory = os.path.dirname(target)
        try:
            os.makedirs(directory, exist_ok=True)
            tmp = self._write_temp(directory, lambda handle: handle.write(data))
        except (IOError, OSError) as exc:
            raise self._os_error("create_exclusive", exc, key)
        try:
            try:
                os.link(tmp, target)
                created = True
            except OSError as exc:
                if exc.errno == errno.EEXIST:
                    created = False
                elif exc.errno in _NO_LINK_ERRNOS:
                    created = self._create_excl_open(target, data)
                else:
                    # NFS may report an error for a link that was made (lost reply).
                    try:
                        created = os.stat(tmp).st_nlink == 2
                    except OSError:
                        created = False
                    if not created:
                        raise
        except (IOError, OSError) as exc:
            raise self._os_error("create_exclusive", exc, key)
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        if created:
            self._fsync_dir(directory)
        return created

    def _create_excl_open(self, target, data):
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                return False
            raise
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return True

    def list(self, prefix=""):
        """[(key, size)] of every file under prefix (a directory, or one file), sorted."""
        prefix = self._key(prefix, allow_empty=True)
        start = self.path(prefix)
        found = []

        def walk_error(exc):
            if exc.errno != errno.ENOENT:  # a directory removed while walking is skipped
                raise exc

        try:
            if os.path.isfile(start):
                return [(prefix, os.path.getsize(start))]
            if not os.path.isdir(start):
                return []
            for dirpath, _dirnames, filenames in os.walk(start, onerror=walk_error):
                rel_dir = os.path.relpath(dirpath, self.root)
                for name in filenames:
                    if name.startswith(TEMP_PREFIX):
                        continue
                    full = os.path.join(dirpath, name)
                    try:
                        if not os.path.isfile(full):
                            continue
                        size = os.path.getsize(full)
                    except OSError as exc:
                        if exc.errno == errno.ENOENT:
                            continue
                        raise
                    rel = name if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/" + name
                    found.append((rel, size))
        except (IOError, OSError) as exc:
            raise self._os_error("list", exc, prefix or None)
        return sorted(found)

    def delete(self, key):
        """Delete one file. True if it existed."""
        key = self._key(key)
        try:
            os.unlink(self.path(key))
        except (IOError, OSError) as exc:
            if exc.errno == errno.ENOENT:
                return False
            if exc.errno in (errno.EISDIR, errno.EPERM) and os.path.isdir(self.path(key)):
                raise self._error("STORAGE_FAILED", "delete", "it is a directory; use "
                                  "delete_prefix", key=key)
            raise self._os_error("delete", exc, key)
        return True

    def delete_prefix(self, prefix):
        """Delete every file under prefix ('' = everything in the location, which stays).

        Returns the number of files deleted; empty directories left behind are removed.
        """
        prefix = self._key(prefix, allow_empty=True)
        start = self.path(prefix)
        count = 0
        try:
            if os.path.islink(start) or os.path.isfile(start):
                os.unlink(start)
                return 1
            if not os.path.isdir(start):
                return 0

            def walk_error(exc):
                if exc.errno != errno.ENOENT:
                    raise exc

            for dirpath, dirnames, filenames in os.walk(start, topdown=False,
                                                        onerror=walk_error):
                for name in filenames:
                    full = os.path.join(dirpath, name)
                    counted = not name.startswith(TEMP_PREFIX)
                    try:
                        os.unlink(full)
                    except OSError as exc:
                        if exc.errno != errno.ENOENT:
                            raise
                        counted = False
                    if counted:
                        count += 1
                for name in dirnames:
                    full = os.path.join(dirpath, name)
                    try:
                        if os.path.islink(full):
                            os.unlink(full)
                        else:
                            os.rmdir(full)
                    except OSError as exc:
                        if exc.errno not in (errno.ENOENT, errno.ENOTEMPTY):
                            raise
            if prefix:
                try:
                    os.rmdir(start)
                except OSError as exc:
                    if exc.errno not in (errno.ENOENT, errno.ENOTEMPTY):
                        raise
        except (IOError, OSError) as exc:
            raise self._os_error("delete_prefix", exc, prefix or None)
        return count

    def check_access(self, writable=True):
        """The directory exists and is usable: writable=True writes and removes a temp file."""
        if not os.path.exists(self.root):
            raise self._error("STORAGE_NOT_FOUND", "check_access", "the directory does not "
                              "exist")
        if not os.path.isdir(self.root):
            raise self._error("STORAGE_FAILED", "check_access", "it is not a directory")
        try:
            if writable:
                fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=self.root)
                os.close(fd)
                os.unlink(tmp)
            else:
                os.listdir(self.root)
        except (IOError, OSError) as exc:
            raise self._os_error("check_access", exc)
        return True

    def ensure_root(self):
        """Create the directory (and parents) if missing."""
        try:
            os.makedirs(self.root, exist_ok=True)
        except (IOError, OSError) as exc:
            raise self._os_error("mkdir", exc)


def _write_temp(directory, writer):
    """Write a temp file in directory with writer(fileobj); return its path (fsync'ed, with the
    mode a new file would get)."""
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            writer(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, LocalStorage._file_mode())
    except BaseException:
        _unlink_quietly(tmp)
        raise
    return tmp


def _write_local_file(path, writer):
    """Atomically write a local file (temp in the same directory + fsync + replace)."""
    tmp = _write_temp(os.path.dirname(os.path.abspath(path)), writer)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def remove_path(path):
    """Remove a local file or directory tree if it is there (a job's working files)."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        _unlink_quietly(path)
