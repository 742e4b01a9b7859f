"""Ansible's own argument checks fail with an error code too (INVALID_ARGUMENT), for every
module, and the refusal masks the secrets it was given."""

import yaml

from tests.integration.test_packaging import MODULES

SECRET = "Arg-Check-Secret-93xq"
# What each module needs besides the option under test, so the refusal is about that option.
REQUIRED = dict(tidb_backup=dict(cluster="c1"), tidb_backup_strategy=dict(cluster="c1"), tidb_cluster=dict(name="c1"),
                tidb_export=dict(cluster="c1"), tidb_gc=dict(cluster="c1"), tidb_import=dict(cluster="c1"),
                tidb_query=dict(query="SELECT 1"), tidb_restore=dict(cluster="c1", backup="b1"))
# The pairs each module declares it cannot take together (mutually_exclusive, required_if).
CONFLICTS = dict(
    dm_task=dict(task={"name": "t"}, task_file="/nonexistent.yaml"),
    tidb_backup=dict(databases=["a"], tables=["a.b"]),
    tidb_backup_strategy=dict(state="present"),
    tidb_cluster=dict(topology={"pd_servers": []}, topology_file="/nonexistent.yaml"),
    tidb_query=dict(positional_args=[1], named_args={"a": 1}),
    tidb_restore=dict(path="/nonexistent", databases=["a"], tables=["a.b"]),
)


def cases():
    for module in MODULES:
        base = dict(REQUIRED.get(module, {}), login_password=SECRET, s3_secret_key=SECRET)
        yield module, "wrong type", dict(base, login_port="fast")
        yield module, "unknown option", dict(base, no_such_option=1)
        if module in CONFLICTS:
            yield module, "conflict", dict(base, **CONFLICTS[module])


def test_every_argument_error_has_an_error_code(playbook, ansible_env, tmp_path):
    tasks = [{"name": "%s %s" % (module, what), "tidbops.manager." + module: args, "ignore_errors": True}
             for module, what, args in cases()]
    path = tmp_path / "bad_arguments.yml"
    path.write_text(yaml.safe_dump([dict(hosts="localhost", gather_facts=False, tasks=tasks)]))
    run = playbook(str(path))
    results = dict(run.results)
    assert len(results) == len(tasks) == len(MODULES) * 2 + len(CONFLICTS)
    for name, result in results.items():
        assert result.get("failed"), (name, result)
        assert result.get("error_code") == "INVALID_ARGUMENT", (name, result.get("msg"), result)
        assert SECRET not in str(result), name
    assert "mutually exclusive" in results["tidb_query conflict"]["msg"]
    assert "no_such_option" in results["tidb_gc unknown option"]["msg"]
    assert SECRET not in run.stdout + run.stderr
    with open(ansible_env["ANSIBLE_LOG_PATH"]) as log:
        assert SECRET not in log.read()
