"""CommandRunner: secrets reach the child only through env or 0600 files, never argv or output."""
import os
import stat

import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.tools.runner import (
    MASK, CommandRunner, mask_secrets)


class FakeModule(object):
    """Records what run_command got and answers like a child that echoes its secret."""

    def __init__(self, stdout="", stderr="", rc=0):
        self.calls = []
        self.answer = (rc, stdout, stderr)
        self.file_modes = {}

    def run_command(self, argv, environ_update=None, cwd=None, data=None, binary_data=False):
        self.calls.append(dict(argv=argv, env=environ_update, cwd=cwd))
        for arg in argv:
            if os.path.isfile(arg):
                self.file_modes[arg] = (stat.S_IMODE(os.stat(arg).st_mode), open(arg).read())
        return self.answer


def test_secret_in_argv_is_refused_before_running():
    module = FakeModule()
    with pytest.raises(ValueError):
        CommandRunner(module).run(["tool", "--password=hunter2"], secret_env={"PW": "hunter2"})
    assert module.calls == []


def test_secret_env_reaches_child_and_is_masked_in_output():
    module = FakeModule(stdout="connected with hunter2", stderr="hunter2 failed")
    result = CommandRunner(module).run(["tool", "--user", "root"], secret_env={"PW": "hunter2"})
    assert module.calls[0]["env"]["PW"] == "hunter2"
    assert "hunter2" not in result.stdout + result.stderr + result.cmd
    assert MASK in result.stdout


def test_secret_file_is_0600_and_removed_afterwards():
    module = FakeModule()
    runner = CommandRunner(module)
    result = runner.run(["tool", "--config", "@CFG@"], secret_files={"@CFG@": ("tool.toml", "pw = 's3'")})
    path = module.calls[0]["argv"][2]
    assert path.endswith("tool.toml")
    assert module.file_modes[path] == (0o600, "pw = 's3'")
    assert not os.path.exists(path) and not os.path.exists(os.path.dirname(path))
    assert "s3'" not in result.cmd
    assert runner.history == [result.cmd]


def test_mask_secrets_handles_lists_and_empty_values():
    assert mask_secrets(["a-x", "b"], ["x", ""]) == ["a-" + MASK, "b"]
    assert mask_secrets("", ["x"]) == ""


def test_argv_secrets_reach_argv_and_are_masked_in_everything_returned():
    module = FakeModule(stdout="login as dump_1 with onetime-pw", stderr="Error: onetime-pw refused")
    runner = CommandRunner(module)
    result = runner.run(["dumpling", "-u", "dump_1", "-p", "onetime-pw"], argv_secrets=["onetime-pw", ""])
    assert module.calls[0]["argv"] == ["dumpling", "-u", "dump_1", "-p", "onetime-pw"]
    assert result.cmd == "dumpling -u dump_1 -p " + MASK
    assert result.stdout == "login as dump_1 with " + MASK
    assert result.stderr == "Error: " + MASK + " refused"
    assert runner.history == [result.cmd]


def test_argv_secrets_do_not_let_an_env_secret_onto_the_command_line():
    module = FakeModule()
    with pytest.raises(ValueError):
        CommandRunner(module).run(["tool", "-p", "hunter2"], secret_env={"AWS_SECRET_ACCESS_KEY": "hunter2"},
                                  argv_secrets=["hunter2"])
    assert module.calls == []


def test_argv_secrets_and_secret_env_are_both_masked():
    module = FakeModule(stdout="onetime-pw and s3-key")
    result = CommandRunner(module).run(["dumpling", "-p", "onetime-pw"], secret_env={"AWS_SECRET_ACCESS_KEY": "s3-key"},
                                       argv_secrets=["onetime-pw"])
    assert module.calls[0]["env"] == {"AWS_SECRET_ACCESS_KEY": "s3-key"}
    assert result.stdout == MASK + " and " + MASK


def test_secret_files_in_a_jobs_directory_replace_what_a_killed_run_left(tmp_path):
    job = tmp_path / "import-nightly"
    job.mkdir(mode=0o700)
    (job / "tool.toml").write_text("pw = 'left by a killed run'")
    module = FakeModule()
    CommandRunner(module).run(["tool", "--config", "@CFG@"], secret_dir=str(job),
                              secret_files={"@CFG@": ("tool.toml", "pw = 'now'")})
    path = module.calls[0]["argv"][2]
    assert path == str(job / "tool.toml") and module.file_modes[path] == (0o600, "pw = 'now'")
    assert os.listdir(str(job)) == []  # removed when the command ended; the directory is the job's
