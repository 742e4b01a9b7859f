"""cluster_lock: a lock whose holder is provably gone is taken over at once; one held from
another host waits for break_lock; the new lock names the one it replaced."""
import os
import subprocess
import sys

import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.catalog import access
from ansible_collections.tidbops.manager.plugins.module_utils.catalog.access import (
    cluster_lock, holder_alive, job_purpose, open_catalog)
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError


def gone_pid():
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def catalog(tmp_path):
    return open_catalog(dict(catalog=str(tmp_path / "catalog")))


def hold(catalog, owner, purpose):
    catalog.acquire("cluster-c1", owner, purpose, 86400)


def test_a_lock_of_a_process_that_is_gone_is_taken_over_at_once(catalog):
    hold(catalog, "backup/killed", "backup/killed (host %s, pid %d)" % (os.uname().nodename, gone_pid()))
    with cluster_lock(catalog, "c1", "restore/next", 60) as replaced:
        assert replaced["owner"] == "backup/killed" and replaced["replaced_because"] == "its holder is gone"
        lock = catalog.holder("cluster-c1")
        assert lock["owner"] == "restore/next" and "replacing backup/killed" in lock["purpose"]
    assert catalog.holder("cluster-c1") is None


def test_a_reused_pid_is_not_the_holder(catalog):
    # Our own pid, with a start time that is not ours: the holder was another process.
    hold(catalog, "backup/old", "backup/old (host %s, pid %d, start 1)" % (os.uname().nodename, os.getpid()))
    assert not holder_alive(catalog.holder("cluster-c1"))
    with cluster_lock(catalog, "c1", "backup/new", 60) as replaced:
        assert replaced["owner"] == "backup/old"


def test_a_live_holder_and_a_holder_on_another_host_keep_their_lock_until_broken(catalog):
    hold(catalog, "backup/live", job_purpose("backup/live"))
    assert holder_alive(catalog.holder("cluster-c1")) and ", start " in catalog.holder("cluster-c1")["purpose"]
    with pytest.raises(TidbOpsError) as caught:
        with cluster_lock(catalog, "c1", "restore/other", 60):
            pass
    assert caught.value.code == "CLUSTER_LOCKED" and caught.value.details["holder"] == "backup/live"
    catalog.break_lock("cluster-c1")
    hold(catalog, "backup/far", "backup/far (host elsewhere.example, pid %d)" % gone_pid())
    with pytest.raises(TidbOpsError):
        with cluster_lock(catalog, "c1", "restore/other", 60):
            pass
    with cluster_lock(catalog, "c1", "restore/other", 60, break_lock=True) as replaced:
        assert replaced["owner"] == "backup/far" and replaced["replaced_because"] == "break_lock"


def test_the_same_job_takes_its_own_lock_again(catalog):
    hold(catalog, "backup/nightly", "backup/nightly (host %s, pid %d)" % (os.uname().nodename, gone_pid()))
    with cluster_lock(catalog, "c1", "backup/nightly", 60) as replaced:
        assert replaced is None


def test_start_ticks_are_read_from_proc():
    assert access._start_ticks(os.getpid()).isdigit()
    assert access._start_ticks(gone_pid()) is None
