"""BR's external storage, for the BACKUP/RESTORE stand-in: URLs, local and S3 storage, and
BR's error texts (br/pkg/storage: parse.go, local.go, s3.go; br/pkg/errors).

URLs, as TiDB's BRIE executor and BR read them (pkg/executor/brie.go, storage/parse.go):
- '+' is replaced by '%2B' before parsing (AWS secrets may hold '+');
- s3:// (and gs://, gcs://): the query parameters are moved into options and dropped from
  the URL; what is left is the task's Destination (SHOW BACKUPS, result rows). Other
  schemes keep their query in the Destination;
- local:// and file:// use the URL's path (local://host/p is /p); no scheme at all is a
  path, made absolute against the server's working directory; noop:// writes nothing;
- S3 query keys are case-insensitive and '_' is '-'; the known ones are BR's
  S3BackendOptions (access-key, secret-access-key, session-token, endpoint, region,
  force-path-style (default true), storage-class, sse, sse-kms-key-id, acl, provider,
  use-accelerate-endpoint, role-arn, external-id, object-lock-enabled);
- without access-key/secret-access-key BR takes credentials from the TiDB process's
  environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN], the older
  AWS_ACCESS_KEY/AWS_SECRET_KEY) or the shared credentials file, as the AWS SDK does.

Errors carry the text BR's Go error would print (errors.Annotate: "message: cause", and
normalized errors "[BR:Class:Code]message"), never a secret. S3 failures read as the AWS
SDK (v1) prints them: "RequestError: send request failed\\ncaused by: Head \\"...\\": dial
tcp ...: connect: connection refused", "NotFound: Not Found\\n\\tstatus code: 404, request
id: ..., host id: ...". The sandbox's moto server does not check credentials, so when the
endpoint is the sandbox's own S3 server (DIR/env.json) the stand-in compares the keys with
the sandbox's and answers as S3 does for wrong ones (403 InvalidAccessKeyId /
SignatureDoesNotMatch; HEAD requests carry no body: "Forbidden: Forbidden"). Requests fail
fast (2 s connect timeout, one retry) where BR's retryer would keep trying for longer.
"""
import configparser
import errno
import hashlib
import json
import os
import re
import secrets
import socket
import urllib.parse
import uuid

ERR_INVALID_ARGUMENT = "[BR:Common:ErrInvalidArgument]invalid argument"
ERR_INVALID_METAFILE = "[BR:Common:ErrInvalidMetaFile]invalid metafile"
ERR_STORAGE_INVALID_CONFIG = ("[BR:ExternalStorage:ErrStorageInvalidConfig]"
                              "invalid external storage config")
ERR_TABLES_EXIST = ("[BR:Restore:ErrTablesAlreadyExisted]"
                    "tables already existed in restored cluster")
ERR_RESTORE_CHECKSUM = "[BR:Restore:ErrRestoreChecksumMismatch]restore checksum mismatch"

DEFAULT_REGION = "us-east-1"
S3_OPTIONS = ("endpoint", "region", "storage-class", "sse", "sse-kms-key-id", "acl",
              "access-key", "secret-access-key", "session-token", "provider",
              "force-path-style", "use-accelerate-endpoint", "role-arn", "external-id",
              "object-lock-enabled")
S3_BOOL_OPTIONS = ("force-path-style", "use-accelerate-endpoint", "object-lock-enabled")
SECRET_OPTIONS = ("access-key", "secret-access-key", "session-token")
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 30.0


class BrError(Exception):
    """A BR failure; str() is the text of BR's Go error (err.Error())."""


def annotate(message, cause):
    """pingcap/errors.Annotate(cause, message).Error()."""
    return "%s: %s" % (message, cause)


def go_errno_text(exc):
    """Go's text for a syscall error (its strerror table is lower-case)."""
    code = getattr(exc, "errno", None)
    if code is None:
        return str(exc)
    text = os.strerror(code)
    return text[:1].lower() + text[1:]


def path_error(op, path, exc):
    """Go's *os.PathError text: 'open /x/y: no such file or directory'."""
    return "%s %s: %s" % (op, path, go_errno_text(exc))


_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


class Destination:
    """One BRIE storage URL, parsed as TiDB and BR parse it."""

    def __init__(self, raw):
        self.raw = raw
        text = raw.replace("+", "%2B")
        scheme_match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", text)
        self.scheme = scheme_match.group(1).lower() if scheme_match else ""
        if self.scheme:
            text = self.scheme + text[len(self.scheme):]
        parts = urllib.parse.urlsplit(text)
        self.parts = parts
        params = {}
        for key, values in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items():
            normalized = key.lower().replace("_", "-")
            if values and normalized not in params:
                params[normalized] = values[0]
        self.params = params
        self.secrets = [params[k] for k in SECRET_OPTIONS if params.get(k)]
        if self.scheme in ("s3", "gs", "gcs"):
            base = text.split("?", 1)[0]
            if parts.fragment:
                base = base.split("#", 1)[0] + "#" + parts.fragment
            self.display = base  # BRIE's info.storage: the URL without its query
        else:
            # TiDB keeps other schemes' query; the sandbox masks secret-looking values in
            # it all the same (such a URL fails anyway: BR knows no such storage).
            self.display = self.redact(text)

    def bad_escape(self):
        """Go's url.Parse error for a malformed escape, with secrets masked; or None."""
        match = _BAD_ESCAPE.search(self.raw.replace("+", "%2B"))
        if not match:
            return None
        bad = self.raw.replace("+", "%2B")[match.start():match.start() + 3]
        return 'parse "%s": invalid URL escape "%s"' % (self.redact(self.raw), bad)

    def redact(self, text):
        for value in sorted(set(self.secrets), key=len, reverse=True):
            for form in dict.fromkeys((value, urllib.parse.quote(value, safe=""),
                                       urllib.parse.quote_plus(value, safe=""))):
                text = text.replace(form, "redacted")
        return text

    # ---- storage -------------------------------------------------------------------

    def local_base(self):
        if self.scheme == "":
            return os.path.abspath(self.display)
        return urllib.parse.unquote(urllib.parse.urlsplit(self.display).path)

    def config_hash_input(self):
        """What BR's checkpoint config hash sees of the storage (URL and S3 options)."""
        return {"storage": self.display,
                "s3": {k: self.params.get(k, "") for k in S3_OPTIONS}}


def open_storage(dest, send_credentials=True, sandbox_dir=None):
    """storage.New for dest; raises BrError with BR's text."""
    if dest.scheme in ("", "local", "file"):
        return LocalStorage(dest.local_base())
    if dest.scheme == "noop":
        return NoopStorage()
    if dest.scheme == "s3":
        return S3Storage.open(dest, send_credentials, sandbox_dir)
    raise BrError(annotate("storage %s not support yet" % dest.scheme,
                           ERR_STORAGE_INVALID_CONFIG))


UNEMULATED_SCHEMES = ("gs", "gcs", "azure", "azblob", "hdfs", "ks3")


# ---------------------------------------------------------------------------------------
# local

class LocalStorage:
    """BR's LocalStorage: files under base, written to a temporary name then renamed."""

    def __init__(self, base):
        self.base = base
        if not os.path.exists(base):
            try:
                os.makedirs(base, 0o755, exist_ok=True)
            except OSError as exc:
                raise BrError(path_error("mkdir", _failing_dir(base), exc)) from None

    def uri(self):
        return "local://" + self.base

    def _path(self, name):
        return os.path.join(self.base, name)

    def exists(self, name):
        try:
            os.stat(self._path(name))
            return True
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise BrError(path_error("stat", self._path(name), exc)) from None

    def write(self, name, data):
        path = self._path(name)
        tmp = "%s.tmp.%s" % (path, uuid.uuid4())
        try:
            os.makedirs(os.path.dirname(path), 0o755, exist_ok=True)
            with open(tmp, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except OSError as exc:
            raise BrError(path_error("open", tmp, exc)) from None

    def read(self, name):
        path = self._path(name)
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise BrError(path_error("open", path, exc)) from None

    def walk(self):
        """Relative paths of every regular file under base."""
        out = []
        for root, dummy, files in os.walk(self.base):
            for name in files:
                out.append(os.path.relpath(os.path.join(root, name), self.base))
        return sorted(out)

    def delete_tree(self, sub):
        """Delete the files under sub (BR deletes files one by one; directories stay)."""
        for root, dummy, files in os.walk(self._path(sub)):
            for name in files:
                try:
                    os.remove(os.path.join(root, name))
                except OSError:
                    pass


def _failing_dir(path):
    """The directory MkdirAll would fail on: the first that does not exist."""
    parts = path.rstrip("/").split("/")
    for i in range(2, len(parts) + 1):
        candidate = "/".join(parts[:i]) or "/"
        if not os.path.isdir(candidate):
            return candidate
    return path


class NoopStorage:
    """noop://: accepts writes, holds nothing (BR's noop backend)."""

    def uri(self):
        return "noop:///"

    def exists(self, name):  # pylint: disable=unused-argument
        return False

    def write(self, name, data):
        pass

    def read(self, name):  # pylint: disable=unused-argument
        return b""

    def walk(self):
        return []

    def delete_tree(self, sub):
        pass


# ---------------------------------------------------------------------------------------
# S3

class S3Failure(Exception):
    """An AWS SDK error, its text as aws-sdk-go v1 prints it."""


class S3Storage:
    def __init__(self, dest, bucket, prefix, endpoint, region, path_style, creds,
                 sandbox_s3):
        self.dest = dest
        self.bucket = bucket
        self.prefix = prefix  # '' or ends with '/'
        self.endpoint = endpoint
        self.region = region
        self.path_style = path_style
        self.creds = creds  # (access key, secret, token) or None
        self.sandbox_s3 = sandbox_s3
        self._client = None

    # ---- creation (NewS3Storage) -----------------------------------------------------

    @classmethod
    def open(cls, dest, send_credentials, sandbox_dir):
        params = dest.params
        bucket = dest.parts.netloc.rsplit("@", 1)[-1]
        if not bucket:
            raise BrError(annotate("please specify the bucket for s3 in %s" % dest.display,
                                   ERR_STORAGE_INVALID_CONFIG))
        prefix = urllib.parse.unquote(dest.parts.path).strip("/")
        bools = {"force-path-style": True, "use-accelerate-endpoint": False}
        for name in bools:
            value = _parse_go_bool(params.get(name))
            if value is not None:
                bools[name] = value
        region = params.get("region") or DEFAULT_REGION
        endpoint = params.get("endpoint", "")
        if endpoint:
            parsed = urllib.parse.urlsplit(endpoint)
            if not parsed.scheme:
                raise BrError(annotate("scheme not found in endpoint", ERR_STORAGE_INVALID_CONFIG))
            if not parsed.netloc:
                raise BrError(annotate("host not found in endpoint", ERR_STORAGE_INVALID_CONFIG))
        path_style = bools["force-path-style"]
        if params.get("provider") in ("alibaba", "netease") or bools["use-accelerate-endpoint"]:
            path_style = False
        access, secret = params.get("access-key", ""), params.get("secret-access-key", "")
        if not access and secret:
            raise BrError(annotate("access_key not found", ERR_STORAGE_INVALID_CONFIG))
        if access and not secret:
            raise BrError(annotate("secret_access_key not found", ERR_STORAGE_INVALID_CONFIG))
        if params.get("role-arn"):
            raise BrError("tidbops sandbox: role-arn (STS AssumeRole) is not emulated")
        creds = (access, secret, params.get("session-token", "")) if access else _env_credentials()
        if creds is None and send_credentials:
            raise BrError(NO_CREDENTIALS)
        storage = cls(dest, bucket, prefix + "/" if prefix else "", endpoint, region,
                      path_style, creds, _sandbox_s3(sandbox_dir))
        real_region = storage._bucket_region()
        if real_region != region:
            raise BrError("s3 bucket and region are not matched, bucket=%s, input region=%s, "
                          "real region=%s" % (bucket, region, real_region))
        return storage

    def uri(self):
        return "s3://" + self.bucket + "/" + self.prefix

    def _endpoint_url(self):
        if self.endpoint:
            return self.endpoint.rstrip("/")
        return "https://s3.%s.amazonaws.com" % self.region

    def _object_url(self, key=""):
        base = urllib.parse.urlsplit(self._endpoint_url())
        path = urllib.parse.quote(key)
        if self.path_style:
            return "%s://%s/%s%s" % (base.scheme, base.netloc, self.bucket,
                                     "/" + path if key else "")
        return "%s://%s.%s/%s" % (base.scheme, self.bucket, base.netloc, path)

    def _boto(self, unsigned=False):
        import boto3
        import botocore.config
        from botocore import UNSIGNED
        kwargs = dict(
            connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT,
            retries={"max_attempts": 2, "mode": "standard"},
            s3={"addressing_style": "path" if self.path_style else "virtual"})
        if unsigned:
            kwargs["signature_version"] = UNSIGNED
        config = botocore.config.Config(**kwargs)
        session = boto3.session.Session()
        creds = self.creds or ("", "", "")
        return session.client(
            "s3", endpoint_url=self._endpoint_url(), region_name=self.region, config=config,
            aws_access_key_id=creds[0] or "none", aws_secret_access_key=creds[1] or "none",
            aws_session_token=creds[2] or None)

    def _client_signed(self):
        if self._client is None:
            self._client = self._boto()
        return self._client

    def _bucket_region(self):
        """s3manager.GetBucketRegionWithClient: an anonymous HEAD of the bucket, path style;
        any answer carrying X-Amz-Bucket-Region gives the region."""
        client = self._boto(unsigned=True)
        url = "%s/%s" % (self._endpoint_url(), self.bucket)
        try:
            resp = client.head_bucket(Bucket=self.bucket)
            headers = resp.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        except Exception as exc:  # pylint: disable=broad-except
            headers = _error_headers(exc)
            region = headers.get("x-amz-bucket-region")
            if region:
                return region
            raise BrError(annotate("failed to get region of bucket %s" % self.bucket,
                                   _aws_text(exc, "Head", url, head=True))) from None
        return headers.get("x-amz-bucket-region") or DEFAULT_REGION

    # ---- operations ------------------------------------------------------------------

    def _call(self, method, key, fn, head=False):
        url = self._object_url(key)
        if self.creds is None:
            raise S3Failure(NO_CREDENTIALS)
        self._check_sandbox_credentials(head)
        try:
            return fn(self._client_signed())
        except Exception as exc:  # pylint: disable=broad-except
            raise S3Failure(_aws_text(exc, method, url, head=head)) from None

    def _check_sandbox_credentials(self, head):
        if not self.sandbox_s3:
            return
        host = urllib.parse.urlsplit(self._endpoint_url()).netloc
        if _same_host(host) != _same_host(self.sandbox_s3["host"]):
            return
        access, secret = self.creds[0], self.creds[1]
        if access == self.sandbox_s3["access_key"] and secret == self.sandbox_s3["secret_key"]:
            return
        if head:
            raise S3Failure(_request_failure("Forbidden", "Forbidden", 403))
        if access != self.sandbox_s3["access_key"]:
            raise S3Failure(_request_failure(
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.", 403))
        raise S3Failure(_request_failure(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.", 403))

    def exists(self, name):
        key = self.prefix + name
        try:
            self._call("Head", key, lambda c: c.head_object(Bucket=self.bucket, Key=key),
                       head=True)
            return True
        except S3Failure as exc:
            if re.match(r"(NoSuchBucket|NoSuchKey|NotFound):", str(exc)):
                return False
            raise BrError(str(exc)) from None

    def write(self, name, data):
        key = self.prefix + name
        try:
            self._call("Put", key, lambda c: c.put_object(Bucket=self.bucket, Key=key,
                                                          Body=data))
        except S3Failure as exc:
            raise BrError(str(exc)) from None

    def read(self, name):
        key = self.prefix + name
        try:
            resp = self._call("Get", key, lambda c: c.get_object(Bucket=self.bucket, Key=key))
            return resp["Body"].read()
        except S3Failure as exc:
            raise BrError(annotate("failed to read s3 file, file info: input.bucket='%s', "
                                   "input.key='%s'" % (self.bucket, key), exc)) from None

    def walk(self):
        names, marker = [], None
        while True:
            def page(client, marker=marker):
                kwargs = dict(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1000)
                if marker:
                    kwargs["Marker"] = marker
                return client.list_objects(**kwargs)
            try:
                resp = self._call("Get", "", page)
            except S3Failure as exc:
                raise BrError(str(exc)) from None
            contents = resp.get("Contents", [])
            for obj in contents:
                marker = obj["Key"]
                rel = obj["Key"][len(self.prefix):].lstrip("/")
                if obj.get("Size", 0) <= 0 and rel.endswith("/"):
                    continue
                names.append(rel)
            if not resp.get("IsTruncated") or not contents:
                return sorted(names)

    def delete_tree(self, sub):
        for name in self.walk():
            if name == sub or name.startswith(sub.rstrip("/") + "/"):
                key = self.prefix + name
                try:
                    self._call("Delete", key,
                               lambda c, key=key: c.delete_object(Bucket=self.bucket, Key=key))
                except S3Failure:
                    pass


NO_CREDENTIALS = ("NoCredentialProviders: no valid providers in chain\n"
                  "caused by: EnvAccessKeyNotFound: failed to find credentials in the "
                  "environment.\nSharedCredsLoad: failed to load profile, default.\n"
                  "EC2RoleRequestError: no EC2 instance role found")


def _parse_go_bool(text):
    """strconv.ParseBool; None when text is absent or not a Go bool."""
    if text is None:
        return None
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


def _env_credentials():
    """The AWS SDK's env provider, then the shared credentials file; None if neither."""
    env = os.environ
    access = env.get("AWS_ACCESS_KEY_ID") or env.get("AWS_ACCESS_KEY")
    secret = env.get("AWS_SECRET_ACCESS_KEY") or env.get("AWS_SECRET_KEY")
    if access and secret:
        return access, secret, env.get("AWS_SESSION_TOKEN", "")
    path = env.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.join(
        os.path.expanduser("~"), ".aws", "credentials")
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
        section = parser[env.get("AWS_PROFILE") or "default"]
        access = section.get("aws_access_key_id")
        secret = section.get("aws_secret_access_key")
    except (KeyError, configparser.Error):
        return None
    if access and secret:
        return access, secret, section.get("aws_session_token", "")
    return None


def _sandbox_s3(sandbox_dir):
    """The sandbox's own S3 server and keys (DIR/env.json), or None."""
    if not sandbox_dir:
        return None
    try:
        with open(os.path.join(sandbox_dir, "env.json"), encoding="utf-8") as handle:
            s3 = json.load(handle)["s3"]
        return {"host": urllib.parse.urlsplit(s3["endpoint"]).netloc,
                "access_key": s3["access_key"], "secret_key": s3["secret_key"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _same_host(netloc):
    host, sep, port = netloc.lower().rpartition(":")
    if not sep:
        host, port = port, ""
    if host in ("localhost", "[::1]", "::1"):
        host = "127.0.0.1"
    return host, port


def _request_id():
    return secrets.token_hex(8).upper()


def _host_id():
    return hashlib.sha256(uuid.uuid4().bytes).hexdigest()[:56]


def _request_failure(code, message, status, request_id=None, host_id=None):
    """awserr.RequestFailure's text (aws-sdk-go v1, S3's error with host id)."""
    return "%s: %s\n\tstatus code: %d, request id: %s, host id: %s" % (
        code, message, status, request_id or _request_id(), host_id or _host_id())


_STATUS_TEXT = {301: "Moved Permanently", 400: "Bad Request", 403: "Forbidden",
                404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
                500: "Internal Server Error", 501: "Not Implemented",
                503: "Service Unavailable"}


def _error_headers(exc):
    response = getattr(exc, "response", None) or {}
    return {k.lower(): v for k, v in
            response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).items()}


def _aws_text(exc, method, url, head=False):
    """aws-sdk-go v1's Error() for what boto3 raised."""
    response = getattr(exc, "response", None)
    if response is not None and "ResponseMetadata" in response:
        meta = response.get("ResponseMetadata", {})
        status = int(meta.get("HTTPStatusCode") or 0)
        request_id = meta.get("RequestId", "")
        host_id = meta.get("HostId", "")
        if head:
            # HEAD has no body: the SDK falls back on the status text.
            text = _STATUS_TEXT.get(status, "Status %d" % status)
            return _request_failure(text.replace(" ", ""), text, status, request_id, host_id)
        err = response.get("Error", {})
        code = err.get("Code") or _STATUS_TEXT.get(status, "").replace(" ", "")
        message = err.get("Message") or _STATUS_TEXT.get(status, "")
        return _request_failure(code, message, status, request_id, host_id)
    return "RequestError: send request failed\ncaused by: %s \"%s\": %s" % (
        method, url, _dial_text(exc, url))


def _dial_text(exc, url):
    """net/http's dial error for a connection failure."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = "%s:%d" % (host, port)
    chain, seen = [], exc
    while seen is not None and len(chain) < 10:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    text = " ".join(str(e) for e in chain)
    for item in chain:
        if isinstance(item, socket.gaierror) or "Name or service not known" in text \
                or "nodename nor servname" in text or "Temporary failure in name" in text:
            return "dial tcp: lookup %s: no such host" % host
    if "timed out" in text.lower() or "timeout" in type(exc).__name__.lower():
        return "dial tcp %s: i/o timeout" % address
    for item in chain:
        if isinstance(item, ConnectionRefusedError) or getattr(item, "errno", None) == \
                errno.ECONNREFUSED:
            return "dial tcp %s: connect: connection refused" % address
    if "refused" in text.lower():
        return "dial tcp %s: connect: connection refused" % address
    return "read tcp %s: read: connection reset by peer" % address
