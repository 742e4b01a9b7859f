"""Fixtures shared by the unit tests: real S3 API servers (moto's server, one per session).

tests/conftest.py makes the repository importable as ansible_collections.tidbops.manager.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

import pytest

from tests.sandbox.procs import free_port, wait_port

S3_ACCESS_KEY = "AKIDTIDBOPSTEST0001"
S3_SECRET_KEY = "tidbops-unit-secret-DO-NOT-PRINT-8f3a"


class MotoServer(object):
    """A `python -m moto.server` process on 127.0.0.1:<free port>."""

    def __init__(self, extra_env=None):
        self.port = free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.workdir = tempfile.mkdtemp(prefix="tidbops-moto-")
        self.log_path = os.path.join(self.workdir, "moto.log")
        env = dict(os.environ)
        env.update(extra_env or {})
        with open(self.log_path, "ab") as log, open(os.devnull, "rb") as devnull:
            self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdin=devnull, stdout=log, stderr=log, env=env, start_new_session=True)
        if not wait_port(self.port, timeout=30):
            self.stop()
            raise RuntimeError("moto server did not listen on %d; log: %s"
                               % (self.port, self.log_path))

    def client(self):
        import boto3
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=S3_ACCESS_KEY,
                            aws_secret_access_key=S3_SECRET_KEY)

    def new_bucket(self):
        name = "tidbops-%s" % uuid.uuid4().hex[:16]
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def moto_s3():
    """A moto S3 server accepting any credentials."""
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moto_s3_auth():
    """A moto S3 server that checks credentials (unknown access keys get 403)."""
    server = MotoServer({"INITIAL_NO_AUTH_ACTION_COUNT": "0"})
    yield server
    server.stop()
