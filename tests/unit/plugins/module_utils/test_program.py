"""tools/program.py: finding Dumpling/Lightning and handing them a storage location without its keys."""
import os
import re
import subprocess
import sys
import time

import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from tests.sandbox.procs import wait_until
from ansible_collections.tidbops.manager.plugins.module_utils.tools.program import (
    LogWatcher, find_tool, last_line_with, processes_with_argument, tool_location)


class FakeModule(object):
    def __init__(self, bin_path="/usr/bin/tiup"):
        self.bin_path = bin_path
        self.asked = []

    def get_bin_path(self, name):
        self.asked.append(name)
        return self.bin_path


def executable(path, mode=0o755):
    path.write_text("#!/bin/sh\nexit 0\n")
    os.chmod(str(path), mode)
    return str(path)


# -- tool_location -----------------------------------------------------------------------

def test_local_path_is_passed_through():
    assert tool_location("/data/exports/x", dict(s3_access_key="AKID", s3_region="r")) == ("/data/exports/x", {}, {})


def test_s3_url_gets_endpoint_and_region_and_keys_go_to_the_secret_env():
    params = dict(s3_endpoint="http://minio:9000", s3_region="us-east-1", s3_access_key="AKIDEXAMPLE",
                  s3_secret_key="wJalr/SECRET+key", s3_session_token="TOKEN123")
    url, env, secret_env = tool_location("s3://bucket/exports/prod/x", params)
    assert url == "s3://bucket/exports/prod/x?endpoint=http://minio:9000&force-path-style=true&region=us-east-1"
    assert env == {"AWS_DEFAULT_REGION": "us-east-1"}
    assert secret_env == {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalr/SECRET+key",
                          "AWS_SESSION_TOKEN": "TOKEN123"}
    for secret in ("AKIDEXAMPLE", "SECRET", "TOKEN123"):
        assert secret not in url and secret not in str(env)


def test_s3_url_without_options_and_without_prefix():
    assert tool_location("s3://bucket", {}) == ("s3://bucket", {}, {})
    url, env, secret_env = tool_location("s3://bucket/p", dict(s3_secret_key="only-secret"))
    assert (url, env, secret_env) == ("s3://bucket/p", {}, {"AWS_SECRET_ACCESS_KEY": "only-secret"})


def test_endpoint_query_characters_are_encoded():
    url, _env, _secret = tool_location("s3://bucket/p", dict(s3_endpoint="http://h:9000/a b?x=1&y"))
    assert url == "s3://bucket/p?endpoint=http://h:9000/a%20b%3Fx%3D1%26y&force-path-style=true"


# -- find_tool ---------------------------------------------------------------------------

def test_binary_path_that_is_executable(tmp_path):
    binary = executable(tmp_path / "dumpling")
    module = FakeModule()
    tool = find_tool(module, dict(dumpling_path=binary, tool_version="v7.5.1"), "dumpling", "dumpling_path")
    assert (tool.argv, tool.env) == ([binary], {})
    assert module.asked == []


@pytest.mark.parametrize("make", ["not-executable", "missing", "directory"])
def test_binary_path_that_cannot_run_is_invalid(tmp_path, make):
    binary = tmp_path / "dumpling"
    if make == "not-executable":
        executable(binary, 0o644)
    elif make == "directory":
        binary.mkdir()
    with pytest.raises(TidbOpsError) as info:
        find_tool(FakeModule(), dict(dumpling_path=str(binary)), "dumpling", "dumpling_path")
    assert info.value.code == "INVALID_ARGUMENT"
    assert "dumpling_path" in info.value.msg


def test_tiup_component_with_version():
    module = FakeModule("/home/tidb/.tiup/bin/tiup")
    tool = find_tool(module, dict(lightning_path=None, tool_version="v7.5.1"), "tidb-lightning", "lightning_path")
    assert tool.argv == ["/home/tidb/.tiup/bin/tiup", "tidb-lightning:v7.5.1"]
    assert tool.env == {}
    assert module.asked == ["tiup"]


def test_tiup_component_with_tiup_path_and_home(tmp_path):
    tiup = executable(tmp_path / "tiup")
    tool = find_tool(FakeModule(None), dict(tiup_path=tiup, tiup_home="/srv/tiup"), "dumpling", "dumpling_path")
    assert tool.argv == [tiup, "dumpling"]
    assert tool.env == {"TIUP_HOME": "/srv/tiup"}


def test_no_tiup_and_no_binary():
    with pytest.raises(TidbOpsError) as info:
        find_tool(FakeModule(None), {}, "dumpling", "dumpling_path")
    assert info.value.code == "TIUP_NOT_FOUND"


# -- last_line_with ----------------------------------------------------------------------

def test_last_line_with():
    text = "start\n  first Error: a  \nnoise\n[ERROR] second\nend\n"
    assert last_line_with(text, "Error") == "first Error: a"
    assert last_line_with(text, "Error", "[ERROR]") == "[ERROR] second"
    assert last_line_with(text, "panic:") is None
    assert last_line_with(None, "x") is None


def test_log_watcher_reports_what_the_log_adds(tmp_path):
    log = tmp_path / "tool.log"
    seen = []
    pattern = re.compile(r"done=(\w+)")
    with LogWatcher(str(log), pattern, seen.append, first_interval=0.01, max_interval=0.02):
        log.write_text("start\ndone=a\n")
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        with open(str(log), "a") as handle:
            handle.write("done=b\n")
    assert seen[0] == ["a"] and seen[-1] == ["a", "b"]  # the last lines are read when the tool ends


def test_log_watcher_survives_a_failing_callback(tmp_path):
    log = tmp_path / "tool.log"
    log.write_text("done=a\n")

    def broken(_matches):
        raise RuntimeError("catalog unreachable")

    with LogWatcher(str(log), re.compile(r"done=(\w+)"), broken, first_interval=0.01):
        time.sleep(0.05)


def test_a_process_is_found_by_a_word_of_its_command_line(tmp_path):
    config = str(tmp_path / "tidb-lightning.toml")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "--config", config])
    try:
        # The child's command line shows once it has exec'd, which Popen does not wait for.
        assert wait_until(lambda: processes_with_argument(config), 10) and processes_with_argument(config) == [child.pid]
        assert processes_with_argument(config + ".other") == []
    finally:
        child.kill()
        child.wait()
    assert processes_with_argument(config) == []
