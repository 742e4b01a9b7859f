"""Ansible's own argument checks fail with an error code too (INVALID_ARGUMENT), for every
module, and the refusal masks the secrets it was given."""

import yaml

from tests.integration.test_packaging import MODULES

SECRET = "Arg-Check-Secret-93xq"
# What each module needs besides the option under test, so the refusal is about that option.
REQUIRED = dict(tidb_backup=dict(cluster="c1"), tidb_backup_strategy=dict(cluster="c1"), tidb_cluster=dict(name="c1"),
                tidb_export=dict(cluster="c1"), tidb_gc=dict(cluster="c1"), tidb_import=dict(cluster="c1"),
                tidb_query=dict(query="SELECT 1"), tidb_restore=dict(cluster="c1", backup="b1"),
                tidb_user=dict(name="u1"), tidb_variables=dict(variables={"tidb_txn_mode": "pessimistic"}),
                tidb_changefeed=dict(changefeed_id="f1"),
                tidb_config=dict(cluster="c1", component="tikv", settings={"split.qps-threshold": 1}))
# The pairs each module declares it cannot take together (mutually_exclusive, required_if, required_by).
CONFLICTS = dict(
    dm_member=dict(state="leader_evicted"),
    dm_source=dict(name="s1", relay="purged"),
    dm_task=dict(task={"name": "t"}, task_file="/nonexistent.yaml"),
    dm_task_info=dict(dest="/nonexistent.yaml"),
    tidb_cluster_info=dict(nodes=["127.0.0.1:20160"]),
    tidb_export=dict(state="absent"),
    tidb_import=dict(source="/nonexistent", from_export="e1"),
    tidb_backup=dict(databases=["a"], tables=["a.b"]),
    tidb_backup_strategy=dict(state="present"),
    tidb_cluster=dict(topology={"pd_servers": []}, topology_file="/nonexistent.yaml"),
    tidb_query=dict(positional_args=[1], named_args={"a": 1}),
    tidb_restore=dict(path="/nonexistent", databases=["a"], tables=["a.b"]),
    tidb_user=dict(password="pw-1", password_hash="*00"),
)
# Modules whose options have no pair that excludes the other: a choice not offered instead.
CHOICES = dict(dm_member_info=dict(role="leaders"), tidb_backup_info=dict(status=["done"]), tidb_gc=dict(state="hold"),
               tidb_transfer_info=dict(type="copy"), tidb_variables=dict(variables="not a mapping"),
               tidb_changefeed=dict(state="running"), tidb_changefeed_info=dict(cdc_timeout="soon"),
               tidb_config=dict(component="tidb"))


def cases():
    for module in MODULES:
        base = dict(REQUIRED.get(module, {}), login_password=SECRET, s3_secret_key=SECRET)
        yield module, "wrong type", dict(base, login_port="fast")
        yield module, "unknown option", dict(base, no_such_option=1)
        yield module, "conflict", dict(base, **CONFLICTS.get(module) or CHOICES[module])


def test_every_argument_error_has_an_error_code(playbook, ansible_env, tmp_path):
    tasks = [{"name": "%s %s" % (module, what), "tidbops.manager." + module: args, "ignore_errors": True}
             for module, what, args in cases()]
    path = tmp_path / "bad_arguments.yml"
    path.write_text(yaml.safe_dump([dict(hosts="localhost", gather_facts=False, tasks=tasks)]))
    run = playbook(str(path))
    results = dict(run.results)
    assert sorted(set(CONFLICTS) | set(CHOICES)) == sorted(MODULES) and not set(CONFLICTS) & set(CHOICES)
    assert len(results) == len(tasks) == len(MODULES) * 3
    for name, result in results.items():
        assert result.get("failed"), (name, result)
        assert result.get("error_code") == "INVALID_ARGUMENT", (name, result.get("msg"), result)
        assert SECRET not in str(result), name
    assert "mutually exclusive" in results["tidb_query conflict"]["msg"]
    assert "state is leader_evicted but all of the following are missing: member_name" in results["dm_member conflict"]["msg"]
    assert "missing parameter(s) required by 'nodes': name" in results["tidb_cluster_info conflict"]["msg"]
    assert "no_such_option" in results["tidb_gc unknown option"]["msg"]
    assert SECRET not in run.stdout + run.stderr
    with open(ansible_env["ANSIBLE_LOG_PATH"]) as log:
        assert SECRET not in log.read()


def test_group_defaults_reach_only_the_modules_that_take_them(playbook, tmp_path):
    """group/tidbops.manager.all may hold every family's options; each module gets its own blocks'
    (a catalog module is not refused for the DM address or the SQL login), while the same
    foreign option written on the task is refused."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    defaults = dict(catalog=str(catalog), login_host="127.0.0.9", login_password=SECRET, s3_secret_key=SECRET,
                    dm_master_url=["http://127.0.0.9:8261"], tiup_home=str(tmp_path / "tiup"), ssh_user="tidb")
    tasks = [{"name": "defaults", "tidbops.manager.tidb_backup_info": {}},
             {"name": "on the task", "tidbops.manager.tidb_backup_info": {"dm_timeout": 5},
              "ignore_errors": True}]
    play = dict(hosts="localhost", gather_facts=False, tasks=tasks,
                module_defaults={"group/tidbops.manager.all": "{{ shared }}"}, vars=dict(shared=defaults))
    path = tmp_path / "defaults.yml"
    path.write_text(yaml.safe_dump([play]))
    run = playbook(str(path))
    results = dict(run.results)
    assert results["defaults"].get("failed") is not True, results["defaults"]
    assert results["defaults"]["backups"] == [] and results["defaults"]["total"] == 0
    refused = results["on the task"]
    assert refused["failed"] and refused["error_code"] == "INVALID_ARGUMENT" and "dm_timeout" in refused["msg"]
    assert SECRET not in str(results) + run.stdout + run.stderr


def test_numbers_out_of_range_are_refused_before_anything_is_written(playbook, tmp_path):
    """Every integer option is range-checked with the arguments, and a location is checked before
    any tool sees it: no record, no directory, no file."""
    catalog, storage, work = tmp_path / "catalog", tmp_path / "storage", tmp_path / "work"
    common = dict(cluster="c1", catalog=str(catalog))
    cases = {
        "backup rate_limit": ("tidb_backup", dict(common, storage=str(storage), rate_limit=-5)),
        "backup concurrency": ("tidb_backup", dict(common, storage=str(storage), concurrency=10 ** 20)),
        "backup lock_ttl": ("tidb_backup", dict(common, storage=str(storage), lock_ttl=-1)),
        "backup path and storage": ("tidb_backup", dict(common, storage=str(storage), path=str(storage / "p"))),
        "restore concurrency": ("tidb_restore", dict(common, path=str(storage), concurrency=-3)),
        "export rows": ("tidb_export", dict(common, path=str(storage), rows=10 ** 20, work_dir=str(work))),
        "import timeout": ("tidb_import", dict(common, source=str(storage), timeout=-10, work_dir=str(work))),
        "import slots": ("tidb_import", dict(common, source=str(storage), max_concurrent_transfers=0,
                                             work_dir=str(work))),
        "cluster wait_timeout": ("tidb_cluster", dict(name="c1", state="started", wait_timeout=-5)),
        "info offset": ("tidb_backup_info", dict(catalog=str(catalog), offset=-1)),
        "dm_task error_count": ("dm_task", dict(name="t", error_count=-1)),
        "backup endpoint without scheme": ("tidb_backup", dict(common, storage="s3://b/p", s3_endpoint="127.0.0.1:9000",
                                                               s3_access_key="AKID", s3_secret_key="k")),
    }
    codes = {"backup endpoint without scheme": "STORAGE_URL_INVALID"}
    tasks = [{"name": name, "tidbops.manager." + module: args, "ignore_errors": True}
             for name, (module, args) in cases.items()]
    path = tmp_path / "ranges.yml"
    path.write_text(yaml.safe_dump([dict(hosts="localhost", gather_facts=False, tasks=tasks)]))
    results = dict(playbook(str(path)).results)
    for name in cases:
        assert results[name].get("error_code") == codes.get(name, "INVALID_ARGUMENT"), (name, results[name])
    assert "rate_limit must be between 1 and 4294967295, not -5" in results["backup rate_limit"]["msg"]
    assert "mutually exclusive: storage|path" in results["backup path and storage"]["msg"]
    assert not catalog.exists() and not storage.exists() and not work.exists()
