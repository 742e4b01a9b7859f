# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An S3 bucket/prefix as a Storage (boto3). Loaded only when an s3:// location is opened."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import tempfile
import time

try:
    import boto3
    import botocore
    import botocore.config
    import botocore.exceptions
    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
    _AWS_ERRORS = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
except ImportError as exc:  # pragma: no cover - depends on the managed node
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = exc
    _AWS_ERRORS = ()

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.storage.location import (
    CONNECT_TIMEOUT, MAX_ATTEMPTS, READ_TIMEOUT, TEMP_PREFIX, LocalStorage, Storage, _as_bytes, _redact,
    parse_location)
from ansible_collections.tidbops.manager.plugins.module_utils.tools.runner import mask_secrets

_S3_DELETE_BATCH = 1000
_ENDPOINT_RE = re.compile(r"^https?://[^/?#@\s]+(/[^?#@\s]*)?$", re.IGNORECASE)
_CONFLICT_RETRIES = 5
_S3_DENIED_CODES = frozenset((
    "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
    "InvalidToken", "TokenRefreshRequired", "AllAccessDisabled", "AccountProblem",
    "InvalidSecurity", "RequestTimeTooSkewed", "403", "Forbidden"))
_S3_NOT_FOUND_CODES = frozenset(("NoSuchBucket", "NoSuchKey", "404", "NotFound"))


def _under(key, prefix):
    """Is key the prefix itself or below it (prefix as a directory, '' = everything)?"""
    return not prefix or key == prefix or key.startswith(prefix + "/")


def _make_scrubber(secrets):
    """A function that masks the secrets in a message, as the command runner masks its output."""
    secrets = [s for s in secrets if s]
    return lambda text: mask_secrets(text, secrets)


class S3Storage(Storage):
    """A bucket, or a prefix in a bucket, on AWS S3 or an S3-compatible server."""

    kind = "s3"

    def __init__(self, bucket, prefix="", endpoint=None, region=None, access_key=None,
                 secret_key=None, session_token=None, connect_timeout=CONNECT_TIMEOUT,
                 read_timeout=READ_TIMEOUT, max_attempts=MAX_ATTEMPTS, _client=None):
        parsed = parse_location("s3://%s/%s" % (bucket, prefix or ""))
        self.bucket = parsed[1]
        self.prefix = parsed[2]
        self.endpoint = endpoint or None
        self.region = region or None
        # The secret key and token go to boto3 and into a scrubber for messages; no attribute
        # of this object holds them (repr, vars() and tracebacks stay clean).
        self._scrub = _make_scrubber((secret_key, session_token))
        self.access_key = access_key or None
        if _client is not None:
            self._client = _client
            return
        if not HAS_BOTO3:
            raise TidbOpsError("MISSING_LIBRARY", "boto3 and botocore are required for s3:// "
                               "locations (%s): %s" % (self.url, BOTO3_IMPORT_ERROR),
                               location=self.url)
        if self.endpoint is not None:
            if not isinstance(self.endpoint, str) or not _ENDPOINT_RE.match(self.endpoint):
                raise TidbOpsError("STORAGE_URL_INVALID", "Invalid S3 endpoint %r for %s: "
                                   "expected http(s)://host[:port] without credentials."
                                   % (_redact(self.endpoint), self.url), location=self.url)
        if bool(access_key) != bool(secret_key):
            raise TidbOpsError("INVALID_ARGUMENT", "Give both the S3 access key and the "
                               "secret key, or neither (then boto3's credential chain is "
                               "used) for %s." % self.url, location=self.url)
        if session_token and not access_key:
            raise TidbOpsError("INVALID_ARGUMENT", "An S3 session token needs an access key "
                               "and a secret key (%s)." % self.url, location=self.url)
        try:
            session = boto3.session.Session(aws_access_key_id=access_key or None,
                                            aws_secret_access_key=secret_key or None,
                                            aws_session_token=session_token or None,
                                            region_name=self.region)
            region_name = session.region_name
            if not region_name:
                region_name = "us-east-1"
            self._client = session.client("s3", endpoint_url=self.endpoint,
                                          region_name=region_name,
                                          config=self._config(connect_timeout, read_timeout,
                                                              max_attempts))
        except botocore.exceptions.BotoCoreError as exc:
            raise self._error("STORAGE_FAILED", "setup", "cannot create the S3 client: %s"
                              % exc)
        except ValueError as exc:
            raise TidbOpsError("STORAGE_URL_INVALID", self._scrub(
                "Cannot use S3 endpoint %s for %s: %s" % (_redact(self.endpoint), self.url,
                                                          exc)), location=self.url)

    def _config(self, connect_timeout, read_timeout, max_attempts):
        options = dict(
            connect_timeout=connect_timeout, read_timeout=read_timeout,
            retries={"total_max_attempts": max(1, int(max_attempts)), "mode": "standard"},
            s3={"addressing_style": "path" if self.endpoint else "auto"})
        # Newer botocore adds CRC checksums to every PUT by default; many S3-compatible
        # servers reject them. Only send checksums where the API requires one.
        try:
            return botocore.config.Config(request_checksum_calculation="when_required",
                                          response_checksum_validation="when_required",
                                          **options)
        except TypeError:  # pragma: no cover - botocore < 1.36
            return botocore.config.Config(**options)

    def __repr__(self):
        if self.endpoint:
            return "S3Storage(%r, endpoint=%r)" % (self.url, _redact(self.endpoint))
        return "S3Storage(%r)" % (self.url,)

    __str__ = __repr__

    @property
    def url(self):
        if self.prefix:
            return "s3://%s/%s" % (self.bucket, self.prefix)
        return "s3://%s" % self.bucket

    def sub(self, prefix):
        """An S3Storage rooted at prefix below this one (same client and credentials)."""
        prefix = self._key(prefix, allow_empty=True)
        full = "/".join(p for p in (self.prefix, prefix) if p)
        other = S3Storage(self.bucket, full, endpoint=self.endpoint, region=self.region,
                          _client=self._client)
        other._scrub = self._scrub
        other.access_key = self.access_key
        return other

    def _full(self, key):
        return self.prefix + "/" + key if self.prefix and key else (self.prefix or key)

    def _rel(self, full_key):
        if not self.prefix:
            return full_key
        return full_key[len(self.prefix) + 1:]

    def _aws_error(self, operation, exc, key=None):
        if isinstance(exc, TidbOpsError):
            return exc
        if isinstance(exc, botocore.exceptions.ClientError):
            error = exc.response.get("Error", {}) or {}
            code = str(error.get("Code", "") or "")
            status = (exc.response.get("ResponseMetadata", {}) or {}).get("HTTPStatusCode")
            message = error.get("Message") or ""
            what = "%s%s" % (code or status, (": " + message) if message else "")
            if code in _S3_DENIED_CODES or status == 403:
                return self._error("STORAGE_ACCESS_DENIED", operation, what + self._cred_hint(),
                                   key=key)
            if code == "NoSuchBucket" or (code in ("404", "NotFound") and not key):
                return self._error("STORAGE_NOT_FOUND", operation,
                                   "bucket %r does not exist (%s)" % (self.bucket, what),
                                   key=key, missing="bucket")
            if code in _S3_NOT_FOUND_CODES or status == 404:
                return self._error("STORAGE_NOT_FOUND", operation, "no such object (%s)" % what,
                                   key=key, missing="object")
            if code in ("PermanentRedirect", "AuthorizationHeaderMalformed") or status == 301:
                return self._error("STORAGE_FAILED", operation, "%s (is the region right? "
                                   "bucket %r is in another region than %s)"
                                   % (what, self.bucket, self._client.meta.region_name),
                                   key=key)
            return self._error("STORAGE_FAILED", operation, what, key=key)
        if isinstance(exc, (botocore.exceptions.NoCredentialsError,
                            botocore.exceptions.PartialCredentialsError,
                            botocore.exceptions.CredentialRetrievalError)):
            return self._error("STORAGE_ACCESS_DENIED", operation, "no usable credentials: %s"
                               % exc, key=key)
        if isinstance(exc, (botocore.exceptions.ConnectionError,
                            botocore.exceptions.HTTPClientError)):
            return self._error("STORAGE_UNREACHABLE", operation, "%s (endpoint %s)"
                               % (exc, self._endpoint_text()), key=key)
        return self._error("STORAGE_FAILED", operation, str(exc), key=key)

    def _cred_hint(self):
        if self.access_key:
            return " (access key %s)" % self.access_key
        return " (credentials from the environment/profile)"

    def _endpoint_text(self):
        if self.endpoint:
            return _redact(self.endpoint)
        try:
            return self._client.meta.endpoint_url
        except AttributeError:  # pragma: no cover
            return "AWS S3"

    def _call(self, operation, key, method, **kwargs):
        try:
            return method(**kwargs)
        except _AWS_ERRORS as exc:
            raise self._aws_error(operation, exc, key)

    def _transfer_error(self, operation, exc, key):
        """Map an error of boto3's managed transfers (which wrap the botocore error)."""
        cause = exc
        if type(exc).__name__ == "S3UploadFailedError" and exc.__context__ is not None:
            cause = exc.__context__
        elif getattr(exc, "last_exception", None) is not None:  # RetriesExceededError
            cause = exc.last_exception
        if isinstance(cause, _AWS_ERRORS):
            return self._aws_error(operation, cause, key)
        if isinstance(cause, (IOError, OSError)):
            return self._error("STORAGE_FAILED", operation, "local file: %s"
                               % (cause.strerror or cause), key=key)
        return self._error("STORAGE_FAILED", operation, "%s: %s" % (type(cause).__name__, cause),
                           key=key)

    def exists(self, key):
        key = self._key(key)
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._full(key))
            return True
        except _AWS_ERRORS as exc:
            if isinstance(exc, botocore.exceptions.ClientError):
                error = exc.response.get("Error", {}) or {}
                status = (exc.response.get("ResponseMetadata", {}) or {}).get("HTTPStatusCode")
                if status == 404 or error.get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return False
            raise self._aws_error("exists", exc, key)

    def get_bytes(self, key):
        key = self._key(key)
        response = self._call("get", key, self._client.get_object, Bucket=self.bucket,
                              Key=self._full(key))
        try:
            return response["Body"].read()
        except _AWS_ERRORS as exc:
            raise self._aws_error("get", exc, key)
        finally:
            response["Body"].close()

    def put_bytes(self, key, data):
        """One PUT: the object appears whole or not at all."""
        key = self._key(key)
        self._call("put", key, self._client.put_object, Bucket=self.bucket,
                   Key=self._full(key), Body=_as_bytes(data))

    def put_file(self, key, path):
        """Upload a local file (multipart above 8 MiB; the object appears when complete)."""
        key = self._key(key)
        if not os.path.isfile(path):
            raise TidbOpsError("STORAGE_FAILED", "Cannot upload %s to %s: it is not a readable "
                               "file" % (path, self.url_for(key)), location=self.url, key=key,
                               operation="put_file")
        try:
            self._client.upload_file(path, self.bucket, self._full(key))
        except Exception as exc:  # pylint: disable=broad-except
            raise self._transfer_error("put_file", exc, key)

    def get_file(self, key, path):
        """Download to path atomically (temp file next to it, then rename)."""
        key = self._key(key)
        directory = os.path.dirname(os.path.abspath(path))
        try:
            fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=directory)
        except (IOError, OSError) as exc:
            raise TidbOpsError("STORAGE_FAILED", "Cannot write %s (downloading %s): %s"
                               % (path, self.url_for(key), exc.strerror or exc),
                               location=self.url, key=key, operation="get_file")
        os.close(fd)
        try:
            try:
                self._client.download_file(self.bucket, self._full(key), tmp)
            except Exception as exc:  # pylint: disable=broad-except
                raise self._transfer_error("get_file", exc, key)
            os.chmod(tmp, LocalStorage._file_mode())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def create_exclusive(self, key, data):
        """Create key with data unless it exists: a conditional PUT (If-None-Match: *).

        True if created, False if the object already existed. A HEAD first also catches an
        existing object on S3-compatible servers that ignore If-None-Match (not a race).
        """
        key = self._key(key)
        data = _as_bytes(data)
        if self.exists(key):
            return False
        delay = 0.1
        for attempt in range(_CONFLICT_RETRIES):
            try:
                self._client.put_object(Bucket=self.bucket, Key=self._full(key), Body=data,
                                        IfNoneMatch="*")
                return True
            except _AWS_ERRORS as exc:
                if isinstance(exc, botocore.exceptions.ParamValidationError):
                    raise self._error("STORAGE_FAILED", "create_exclusive", "this botocore "
                                      "(%s) cannot send conditional writes (IfNoneMatch); "
                                      "botocore 1.35 or later is needed"
                                      % botocore.__version__, key=key)
                if isinstance(exc, botocore.exceptions.ClientError):
                    error = exc.response.get("Error", {}) or {}
                    status = (exc.response.get("ResponseMetadata", {}) or {}).get(
                        "HTTPStatusCode")
                    code = error.get("Code")
                    if status == 412 or code == "PreconditionFailed":
                        return False
                    if (status == 409 or code == "ConditionalRequestConflict") and \
                            attempt + 1 < _CONFLICT_RETRIES:
                        time.sleep(delay)
                        delay *= 2
                        continue
                    if status == 501 or code == "NotImplemented":
                        raise self._error("STORAGE_FAILED", "create_exclusive", "the S3 server "
                                          "does not support conditional writes "
                                          "(If-None-Match)", key=key)
                raise self._aws_error("create_exclusive", exc, key)
        return False  # pragma: no cover - the loop returns or raises

    def _iter_objects(self, operation, prefix):
        full = self._full(prefix)
        kwargs = {"Bucket": self.bucket}
        if full:
            kwargs["Prefix"] = full
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(**kwargs):
                for item in page.get("Contents", []) or []:
                    name = item["Key"]
                    if name.endswith("/"):
                        continue  # a "directory" marker made by consoles, not data
                    if self.prefix and not name.startswith(self.prefix + "/"):
                        continue
                    rel = self._rel(name)
                    if _under(rel, prefix):
                        yield rel, int(item.get("Size", 0))
        except _AWS_ERRORS as exc:
            raise self._aws_error(operation, exc, prefix or None)

    def list(self, prefix=""):
        """[(key, size)] of every object under prefix (a directory, or one object), sorted."""
        prefix = self._key(prefix, allow_empty=True)
        return sorted(self._iter_objects("list", prefix))

    def delete(self, key):
        """Delete one object. True if it existed."""
        key = self._key(key)
        if not self.exists(key):
            return False
        self._call("delete", key, self._client.delete_object, Bucket=self.bucket,
                   Key=self._full(key))
        return True

    def delete_prefix(self, prefix):
        """Delete every object under prefix ('' = everything in the location), in batches.

        Returns the number of objects deleted.
        """
        prefix = self._key(prefix, allow_empty=True)
        keys = [rel for rel, _size in self._iter_objects("delete_prefix", prefix)]
        count = 0
        for start in range(0, len(keys), _S3_DELETE_BATCH):
            batch = keys[start:start + _S3_DELETE_BATCH]
            response = self._call(
                "delete_prefix", prefix or None, self._client.delete_objects,
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": self._full(k)} for k in batch], "Quiet": True})
            errors = response.get("Errors") or []
            count += len(batch) - len(errors)
            if errors:
                first = errors[0]
                code = first.get("Code") or ""
                what = "%d of %d objects not deleted, first %s: %s %s" % (
                    len(errors), len(batch), first.get("Key"), code, first.get("Message", ""))
                raise self._error("STORAGE_ACCESS_DENIED" if code == "AccessDenied"
                                  else "STORAGE_FAILED", "delete_prefix", what,
                                  key=prefix or None)
        return count

    def check_access(self, writable=True):
        """HEAD the bucket: the endpoint answers, the credentials work, the bucket exists.

        writable is accepted for symmetry with LocalStorage; write permission is not probed.
        """
        self._call("check_access", None, self._client.head_bucket, Bucket=self.bucket)
        return True
