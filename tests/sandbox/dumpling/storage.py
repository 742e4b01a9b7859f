"""External storage as br/pkg/storage parses it, for the dumpling and lightning stand-ins.

A location is a local path (`/x`, `./x`, `file:///x`, `local:///x`) or
`s3://bucket/prefix?endpoint=...&region=...&access-key=...&secret-access-key=...
&session-token=...&force-path-style=true&provider=...` (BR's query parameters). The
`--s3.*` flags fill what the URL leaves out; credentials missing from the URL come from
the standard AWS environment (boto3's chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY ...).
gcs/azure/hdfs are real storages that the sandbox does not emulate: refused.
"""
import os
import urllib.parse


class StorageError(Exception):
    pass


S3_FLAGS = ("endpoint", "region", "storage-class", "sse", "sse-kms-key-id", "acl", "provider",
            "role-arn", "external-id")
GCS_FLAGS = ("endpoint", "storage-class", "predefined-acl", "credentials-file")
AZ_FLAGS = ("endpoint", "access-tier", "account-name", "account-key", "sas-token",
            "encryption-scope", "encryption-key")


def define_flags(fs):
    """storage.DefineFlags: --s3.*, --gcs.*, --azblob.*."""
    for name in S3_FLAGS:
        fs.add("s3." + name, "", "string", "", "(experimental) S3 option " + name)
    for name in GCS_FLAGS:
        fs.add("gcs." + name, "", "string", "", "(experimental) GCS option " + name)
    for name in AZ_FLAGS:
        fs.add("azblob." + name, "", "string", "", "(experimental) Azure option " + name)


def open_storage(location, s3_options=None):
    """A LocalStorage or S3Storage for location (s3_options: {endpoint, region, ...})."""
    if not location:
        raise StorageError("empty store is not allowed")
    parts = urllib.parse.urlsplit(location)
    scheme = parts.scheme.lower()
    if scheme in ("", "file", "local"):
        path = location if scheme == "" else parts.netloc + parts.path
        if scheme and not path:
            raise StorageError("empty store is not allowed")
        return LocalStorage(path)
    if scheme == "s3":
        if not parts.netloc:
            raise StorageError("please specify the bucket for s3 in %s" % location)
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        opts = dict(s3_options or {})
        for key, value in query.items():
            if value != "":
                opts[key] = value
        return S3Storage(parts.netloc, parts.path.strip("/"), opts, location)
    if scheme in ("gcs", "gs", "azure", "azblob", "hdfs", "noop"):
        raise StorageError("tidbops sandbox: %s storage is not emulated (use a local path "
                           "or s3://)" % scheme)
    raise StorageError("storage %s not support yet: [BR:ExternalStorage:ErrStorageInvalidConfig]"
                       "invalid external storage config" % scheme)


class LocalStorage:
    def __init__(self, path):
        self.base = os.path.abspath(path)
        self.location = path

    def uri(self):
        return "file://" + self.base

    def ensure(self):
        try:
            os.makedirs(self.base, mode=0o755, exist_ok=True)
        except OSError as exc:
            raise StorageError("mkdir %s: %s" % (self.base, exc.strerror)) from None

    def write(self, name, data):
        path = os.path.join(self.base, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)

    def read(self, name):
        with open(os.path.join(self.base, name), "rb") as handle:
            return handle.read()

    def exists(self, name=""):
        return os.path.exists(os.path.join(self.base, name))

    def size(self, name):
        return os.path.getsize(os.path.join(self.base, name))

    def walk(self):
        """Relative names of every file below the base, sorted."""
        if not os.path.isdir(self.base):
            raise StorageError("open %s: no such file or directory" % self.base)
        out = []
        for root, dummy, files in os.walk(self.base):
            for name in files:
                out.append(os.path.relpath(os.path.join(root, name), self.base))
        return sorted(out)


class S3Storage:
    def __init__(self, bucket, prefix, opts, location):
        self.bucket = bucket
        self.prefix = prefix
        self.opts = opts
        self.location = location
        self._client = None

    def uri(self):
        return "s3://%s/%s" % (self.bucket, self.prefix)

    def client(self):
        if self._client is None:
            import boto3
            import botocore.config
            kwargs = {}
            endpoint = self.opts.get("endpoint")
            if endpoint:
                if "://" not in endpoint:
                    endpoint = "https://" + endpoint
                kwargs["endpoint_url"] = endpoint
            kwargs["region_name"] = self.opts.get("region") or "us-east-1"
            if self.opts.get("access-key"):
                kwargs["aws_access_key_id"] = self.opts["access-key"]
                kwargs["aws_secret_access_key"] = self.opts.get("secret-access-key", "")
                if self.opts.get("session-token"):
                    kwargs["aws_session_token"] = self.opts["session-token"]
            path_style = str(self.opts.get("force-path-style", "true")).lower() != "false"
            kwargs["config"] = botocore.config.Config(
                s3={"addressing_style": "path" if path_style else "virtual"},
                retries={"max_attempts": 2}, connect_timeout=5, read_timeout=30)
            self._client = boto3.client("s3", **kwargs)
        return self._client

    def _key(self, name):
        return "%s/%s" % (self.prefix, name) if self.prefix else name

    def _fail(self, exc):
        raise StorageError(str(exc)) from None

    def ensure(self):
        try:
            self.client().head_bucket(Bucket=self.bucket)
        except Exception as exc:  # pylint: disable=broad-except
            raise StorageError("Bucket %s is not accessible: %s" % (self.bucket, exc)) from None

    def write(self, name, data):
        try:
            self.client().put_object(Bucket=self.bucket, Key=self._key(name), Body=data)
        except Exception as exc:  # pylint: disable=broad-except
            self._fail(exc)

    def read(self, name):
        try:
            return self.client().get_object(Bucket=self.bucket, Key=self._key(name))["Body"].read()
        except Exception as exc:  # pylint: disable=broad-except
            self._fail(exc)

    def exists(self, name=""):
        try:
            self.client().head_object(Bucket=self.bucket, Key=self._key(name))
            return True
        except Exception:  # pylint: disable=broad-except
            return False

    def size(self, name):
        try:
            return self.client().head_object(Bucket=self.bucket,
                                             Key=self._key(name))["ContentLength"]
        except Exception as exc:  # pylint: disable=broad-except
            self._fail(exc)

    def walk(self):
        prefix = self.prefix + "/" if self.prefix else ""
        out = []
        try:
            paginator = self.client().get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    out.append(item["Key"][len(prefix):])
        except Exception as exc:  # pylint: disable=broad-except
            self._fail(exc)
        return sorted(n for n in out if n)
