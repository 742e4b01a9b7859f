# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog: records (backups, transfers, clones, GC holds, strategies, restores) and
locks (TiUniManager's "maintenance status"), kept as JSON documents in a Storage.

Layout under the catalog location::

    records/<kind>/<id>.json     one record, written atomically, never holding a secret
    locks/<resource>.json        one lock, created exclusively (O_EXCL / conditional PUT)

A lock holds ``resource``, ``owner``, ``purpose``, ``acquired_at`` and ``expires_at`` (UTC,
ISO-8601). An expired lock is never taken over silently: ``acquire`` reports it
(``CLUSTER_LOCKED`` with ``expired=True``) and it must be removed with ``break_lock``. The
owner that holds a lock may acquire it again (a resumed job): that refreshes its expiry.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import re

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError


_NAME_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$")
# Key names that hold secrets (compared lower-cased, with '-' and ' ' read as '_').
SECRET_KEY_WORDS = ("password", "passwd", "secret", "token", "access_key", "accesskey",
                    "secret_key", "secretkey", "credential")
# String values that carry a secret whatever their key: keyed storage URLs and user:pw@ URLs.
_SECRET_VALUE_RES = (
    re.compile(r"[?&](access[-_]key|secret[-_]access[-_]key|session[-_]token)=[^&\s]",
               re.IGNORECASE),
    re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"),
)
_LOCK_ACQUIRE_ATTEMPTS = 5

UTC = datetime.timezone.utc


def utc_now():
    return datetime.datetime.now(UTC)


def format_time(moment):
    """UTC ISO-8601 with a Z, to the second: 2026-01-02T03:04:05Z."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text):
    """A datetime (aware, UTC) from an ISO-8601 string; None if it cannot be read."""
    if not isinstance(text, str) or not text:
        return None
    value = text.strip()
    if value.endswith("Z") or value.endswith("z"):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _object_missing(error, key):
    """Is error 'this object does not exist' (and not, e.g., 'the bucket does not exist')?"""
    return error.code == "STORAGE_NOT_FOUND" and error.details.get("key") == key and \
        error.details.get("missing") == "object"


def _check_name(what, value, code="CATALOG_RECORD_INVALID"):
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise TidbOpsError(code, "Invalid %s %r: use 1-200 characters from A-Z a-z 0-9 . _ - "
                           "(not starting with '.')." % (what, value), **{what: str(value)})


def _is_secret_name(name):
    norm = str(name).lower().replace("-", "_").replace(" ", "_")
    return any(word in norm for word in SECRET_KEY_WORDS)


def _is_empty(value):
    # Booleans cannot hold a secret (e.g. "copy_passwords": true is a setting, not a secret).
    return value is None or isinstance(value, bool) or \
        (isinstance(value, (str, bytes, list, tuple, dict)) and len(value) == 0)


def find_secrets(value, path="record"):
    """Paths (e.g. 'record.source.password') of the secrets held in value."""
    found = []
    if isinstance(value, dict):
        for key in value:
            sub_path = "%s.%s" % (path, key)
            if _is_secret_name(key) and not _is_empty(value[key]):
                found.append(sub_path)
            else:
                found.extend(find_secrets(value[key], sub_path))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found.extend(find_secrets(item, "%s[%d]" % (path, index)))
    elif isinstance(value, str):
        if any(regex.search(value) for regex in _SECRET_VALUE_RES):
            found.append(path)
    return found


class Catalog(object):
    """Records and locks on top of a Storage (see storage.open_storage)."""

    def __init__(self, storage, clock=None):
        self.storage = storage
        self.clock = clock or utc_now

    def __repr__(self):
        return "Catalog(%r)" % (self.storage,)

    @property
    def url(self):
        return self.storage.url

    def now(self):
        moment = self.clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)

    # -- records ---------------------------------------------------------------------------

    @staticmethod
    def record_key(kind, record_id):
        _check_name("kind", kind)
        _check_name("id", record_id)
        return "records/%s/%s.json" % (kind, record_id)

    def _encode(self, what, document):
        secrets = find_secrets(document)
        if secrets:
            raise TidbOpsError("CATALOG_RECORD_INVALID", "Refusing to store %s: it holds a "
                               "secret at %s. Records never hold passwords or keys."
                               % (what, ", ".join(secrets)), catalog=self.url, fields=secrets)
        try:
            text = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False,
                              allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TidbOpsError("CATALOG_RECORD_INVALID", "Cannot store %s in %s: it is not "
                               "plain JSON data (%s)." % (what, self.url, exc), catalog=self.url)
        return (text + "\n").encode("utf-8")

    def _decode(self, what, key, data):
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise TidbOpsError("CATALOG_RECORD_INVALID", "%s at %s is not valid JSON: %s"
                               % (what, self.storage.url_for(key), exc), catalog=self.url,
                               key=key)
        if not isinstance(document, dict):
            raise TidbOpsError("CATALOG_RECORD_INVALID", "%s at %s is not a JSON object"
                               % (what, self.storage.url_for(key)), catalog=self.url, key=key)
        return document

    def put(self, kind, record):
        """Write record (a dict with an 'id') atomically; sets updated_at. Returns what was
        written."""
        if not isinstance(record, dict):
            raise TidbOpsError("CATALOG_RECORD_INVALID", "A %s record must be a dict, not %s."
                               % (kind, type(record).__name__), catalog=self.url)
        if "id" not in record:
            raise TidbOpsError("CATALOG_RECORD_INVALID", "A %s record needs an 'id'." % kind,
                               catalog=self.url)
        key = self.record_key(kind, record["id"])
        document = dict(record)
        document["updated_at"] = format_time(self.now())
        data = self._encode("%s record %r" % (kind, record["id"]), document)
        self.storage.put_bytes(key, data)
        return document

    def find(self, kind, record_id):
        """The record, or None if there is none."""
        key = self.record_key(kind, record_id)
        try:
            data = self.storage.get_bytes(key)
        except TidbOpsError as exc:
            if _object_missing(exc, key):
                return None
            raise
        what = "%s record %r" % (kind, record_id)
        document = self._decode(what, key, data)
        if document.get("id") != record_id:
            raise TidbOpsError("CATALOG_RECORD_INVALID", "%s at %s has id %r" % (
                what, self.storage.url_for(key), document.get("id")), catalog=self.url, key=key)
        return document

    def get(self, kind, record_id):
        """The record, or TidbOpsError('CATALOG_RECORD_NOT_FOUND')."""
        document = self.find(kind, record_id)
        if document is None:
            raise TidbOpsError("CATALOG_RECORD_NOT_FOUND", "No %s record %r in catalog %s."
                               % (kind, record_id, self.url), catalog=self.url, kind=kind,
                               id=record_id)
        return document

    def ids(self, kind):
        """The ids of the records of kind, sorted."""
        _check_name("kind", kind)
        prefix = "records/%s" % kind
        found = []
        for key, _size in self.storage.list(prefix):
            name = key[len(prefix) + 1:]
            if "/" in name or not name.endswith(".json"):
                continue
            record_id = name[:-len(".json")]
            if _NAME_RE.match(record_id):
                found.append(record_id)
        return sorted(found)

    def list(self, kind, predicate=None):
        """The records of kind (sorted by id), those for which predicate(record) is true."""
        records = []
        for record_id in self.ids(kind):
            record = self.find(kind, record_id)
            if record is None:  # deleted while listing
                continue
            if predicate is None or predicate(record):
                records.append(record)
        return records

    def delete(self, kind, record_id):
        """Delete the record. True if it existed."""
        return self.storage.delete(self.record_key(kind, record_id))

    # -- locks -----------------------------------------------------------------------------

    @staticmethod
    def lock_key(resource):
        _check_name("resource", resource, code="INVALID_ARGUMENT")
        return "locks/%s.json" % resource

    def lock_expired(self, lock):
        """Is the lock past its expires_at (an unreadable expiry counts as expired)?"""
        expires = parse_time(lock.get("expires_at"))
        return expires is None or expires <= self.now()

    def holder(self, resource):
        """The lock on resource, or None."""
        key = self.lock_key(resource)
        try:
            data = self.storage.get_bytes(key)
        except TidbOpsError as exc:
            if _object_missing(exc, key):
                return None
            raise
        lock = self._decode("The lock on %r" % resource, key, data)
        return lock

    def _locked_error(self, resource, lock):
        expired = self.lock_expired(lock)
        msg = ("%r is locked by %r for %r since %s; the lock expire%s at %s."
               % (resource, lock.get("owner"), lock.get("purpose"), lock.get("acquired_at"),
                  "d" if expired else "s", lock.get("expires_at")))
        if expired:
            msg += (" The lock is expired but is not taken over automatically: if its job is "
                    "gone, break it explicitly.")
        else:
            msg += " Wait for that job to finish, or break the lock if its job is gone."
        return TidbOpsError("CLUSTER_LOCKED", msg, resource=resource, holder=lock.get("owner"),
                            purpose=lock.get("purpose"), acquired_at=lock.get("acquired_at"),
                            expires_at=lock.get("expires_at"), expired=expired)

    def acquire(self, resource, owner, purpose, ttl_seconds):
        """Take the lock on resource for owner; returns the lock.

        The same owner may acquire again (refreshes expires_at, keeps acquired_at). Another
        owner's lock, expired or not, raises CLUSTER_LOCKED.
        """
        key = self.lock_key(resource)
        if not isinstance(owner, str) or not owner.strip():
            raise TidbOpsError("INVALID_ARGUMENT", "A lock owner must be a non-empty string.")
        if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, (int, float)) or \
                ttl_seconds <= 0:
            raise TidbOpsError("INVALID_ARGUMENT", "ttl_seconds must be a positive number, "
                               "not %r." % (ttl_seconds,))
        for _attempt in range(_LOCK_ACQUIRE_ATTEMPTS):
            now = self.now()
            lock = {
                "resource": resource,
                "owner": owner,
                "purpose": purpose,
                "acquired_at": format_time(now),
                "expires_at": format_time(now + datetime.timedelta(seconds=ttl_seconds)),
            }
            data = self._encode("the lock on %r" % resource, lock)
            if self.storage.create_exclusive(key, data):
                return lock
            current = self.holder(resource)
            if current is None:
                continue  # released between our attempt and the read: try again
            if current.get("owner") != owner:
                raise self._locked_error(resource, current)
            # Re-entrant: the same owner (a resumed job) refreshes its expiry.
            lock["acquired_at"] = current.get("acquired_at") or lock["acquired_at"]
            self.storage.put_bytes(key, self._encode("the lock on %r" % resource, lock))
            return lock
        raise TidbOpsError("CLUSTER_LOCKED", "Could not take the lock on %r: it was taken and "
                           "released repeatedly by other jobs while trying." % resource,
                           resource=resource)

    def release(self, resource, owner):
        """Release owner's lock: True if released, False if there was none; another owner's
        lock raises LOCK_NOT_HELD."""
        current = self.holder(resource)
        if current is None:
            return False
        if current.get("owner") != owner:
            raise TidbOpsError("LOCK_NOT_HELD", "%r cannot release the lock on %r: it is held "
                               "by %r for %r (expires %s)." % (
                                   owner, resource, current.get("owner"),
                                   current.get("purpose"), current.get("expires_at")),
                               resource=resource, holder=current.get("owner"),
                               purpose=current.get("purpose"),
                               expires_at=current.get("expires_at"))
        return self.storage.delete(self.lock_key(resource))

    def break_lock(self, resource):
        """Remove the lock on resource whoever holds it; returns the broken lock or None.

        A lock file that cannot be read is removed too (returned as {'resource', 'invalid'}).
        """
        key = self.lock_key(resource)
        try:
            lock = self.holder(resource)
        except TidbOpsError as exc:
            if exc.code != "CATALOG_RECORD_INVALID":
                raise
            lock = {"resource": resource, "invalid": True}
        if lock is None:
            return None
        if not self.storage.delete(key):
            return None
        return lock
