"""Real processes for the sandbox tests: one MariaDB per session, TiDB stand-ins on demand.

Every process carries the session's owner tag (procs.OWNER_ENV), so the teardown can
prove nothing was left behind.
"""
import io
import os
import signal
import subprocess
import sys
import warnings

import pytest

from tests.sandbox import procs
from tests.sandbox.mariadb import MariaDB
from tests.sandbox.services import Sandbox

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


@pytest.fixture(scope="session")
def sandbox_owner(tmp_path_factory):
    owner = str(tmp_path_factory.mktemp("sandbox"))
    yield owner
    leftovers = procs.owned_pids(owner)
    procs.terminate(leftovers)
    assert not leftovers, "processes left behind: %s" % leftovers


@pytest.fixture(scope="session")
def mariadb(sandbox_owner):
    db = MariaDB(os.path.join(sandbox_owner, "storage"), procs.free_port(), sandbox_owner)
    db.initialize()
    db.start()
    yield db
    db.stop()


def revive(db):
    """Start db again if it has stopped; returns what happened to it, or None if it runs."""
    if db.running():
        return None
    why = "the MariaDB in %s had stopped (%s); started again. Its log ended with:\n%s" % (
        db.basedir, db.exit_status() or "gone", db.log_tail())
    db.start()
    return why


@pytest.fixture(autouse=True)
def mariadb_watch(request):
    """The session MariaDB serves many test modules: if it ends, say how (signal or exit code)
    and what its log said, and start it again, so one loss shows its cause and does not fail
    every later test with "Connection refused"."""
    if "mariadb" not in request.fixturenames:
        yield
        return
    db = request.getfixturevalue("mariadb")
    lost = revive(db)
    if lost:
        warnings.warn("before %s: %s" % (request.node.nodeid, lost))
    yield
    if not db.running():
        request.node.add_report_section(
            "teardown", "session MariaDB",
            "the session MariaDB stopped during this test (%s); its log ended with:\n%s"
            % (db.exit_status() or "gone", db.log_tail(60)))


class StandIn:
    """One `python -m tests.sandbox.tidb` process, run as the tiup stand-in runs it.

    Started with Popen rather than procs.spawn_daemon so a test can read its exit code.
    """

    def __init__(self, mariadb, owner, version="v7.5.1", cluster="unit"):
        self.port = procs.free_port()
        self.status_port = procs.free_port()
        self.owner = owner
        self.state_dir = os.path.join(owner, "state")
        self.log_path = os.path.join(owner, "tidb.log")
        os.makedirs(owner, exist_ok=True)
        argv = [sys.executable, "-m", "tests.sandbox.tidb",
                "--host", "127.0.0.1", "--port", str(self.port),
                "--status-port", str(self.status_port),
                "--backend-port", str(mariadb.port),
                "--backend-socket", mariadb.socket_path,
                "--version", version, "--cluster", cluster, "--state-dir", self.state_dir]
        env = dict(os.environ, PYTHONPATH=REPO_ROOT)
        env[procs.OWNER_ENV] = os.path.abspath(owner)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
                argv, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        ready = procs.wait_until(
            lambda: self.proc.poll() is not None
            or procs.port_open(self.port) and procs.port_open(self.status_port), 15)
        if not ready or self.proc.poll() is not None:
            self.kill()
            raise RuntimeError("stand-in did not start; log:\n" + self.log())

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def terminate(self, timeout=10):
        """SIGTERM; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def start_standin(mariadb, sandbox_owner):
    """Factory: start_standin(name) -> StandIn; all are stopped at the end of the test."""
    started = []

    def start(name="tidb", **kw):
        standin = StandIn(mariadb, os.path.join(sandbox_owner, name), **kw)
        started.append(standin)
        return standin

    yield start
    for standin in started:
        standin.kill()


@pytest.fixture(scope="module")
def sandbox(sandbox_owner, request):
    """The sandbox's services (S3 server, env.json) in a directory of the test module."""
    box = Sandbox(os.path.join(sandbox_owner, request.module.__name__.rsplit(".", 1)[-1] + "-sandbox"))
    env = box.up(out=io.StringIO())
    yield env
    box.down(out=io.StringIO())


@pytest.fixture(scope="module")
def tidb(mariadb, sandbox):
    """A stand-in tagged as cluster 'unit' of that sandbox (so it finds knobs and env.json)."""
    standin = StandIn(mariadb, os.path.join(sandbox["dir"], "clusters", "unit"))
    yield standin
    assert standin.terminate() == 0
