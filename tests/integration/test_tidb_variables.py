"""tidb_variables through ansible-playbook: values checked in TiDB itself from a connection of
the test's own, idempotence across spellings, check mode, and bad input that sets nothing."""
import pymysql

from tests.integration.conftest import VERSION

BAD = [("no_such_variable", "1", "VARIABLE_NOT_FOUND"),
       ("version", "9.9.9", "VARIABLE_READ_ONLY"),
       ("tidb_enable_slow_log", "OFF", "VARIABLE_SCOPE_INVALID"),
       ("tidb_txn_mode", "eventual", "VARIABLE_VALUE_INVALID"),
       ("tidb_mem_quota_query", "lots", "VARIABLE_VALUE_INVALID"),
       ("tidb_ddl_reorg_worker_cnt", "1000", "VARIABLE_VALUE_INVALID")]


def global_values(port, names):
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", password="")
    try:
        with conn.cursor() as cur:
            return dict((name, cur.execute("SELECT @@global.%s" % name) and cur.fetchone()[0]) for name in names)
    finally:
        conn.close()


def test_variables_are_set_once_checked_first_and_reset(playbook, cluster):
    names = ["tidb_mem_quota_query", "tidb_txn_mode", "low_priority_updates", "tidb_gc_life_time",
             "tidb_ddl_reorg_worker_cnt"]
    defaults = global_values(cluster["port"], names)
    run = playbook("variables.yml", tidb_port=cluster["port"], bad_variables=[list(bad[:2]) for bad in BAD])
    assert run.rc == 0, run.failed() or run.stderr

    predicted = run.task("Set variables in check mode")
    assert predicted["changed"] is True and sorted(predicted["changed_variables"]) == sorted(names[:4])
    assert predicted["variables"]["tidb_txn_mode"] == "OPTIMISTIC"
    assert "tidb_mem_quota_query: 1073741824" in predicted["diff"]["before"]
    assert "tidb_mem_quota_query: 2147483648" in predicted["diff"]["after"]

    first = run.task("Set variables")
    assert first["changed"] is True and first["actions"] == ["set " + n for n in sorted(names[:4])]
    assert first["variables"] == {"tidb_mem_quota_query": "2147483648", "tidb_txn_mode": "optimistic",
                                  "low_priority_updates": "ON", "tidb_gc_life_time": "24h0m0s"}
    assert any("noop" in w for w in first.get("warnings", [])), first.get("warnings")
    again = run.task("Set them again, written another way")
    assert again["changed"] is False and again["actions"] == [] and again["changed_variables"] == {}

    for result, (name, _value, code) in zip(run.task("A mix of good and bad variables")["results"], BAD):
        assert result["error_code"] == code, (name, result)
        assert result["changed"] is False and name in result["msg"], name

    reset = run.task("Back to the default")
    assert reset["changed_variables"] == {"tidb_mem_quota_query": {"before": "2147483648", "after": "1073741824"}}

    # TiDB itself: check mode and the refused mixes set nothing, the rest is as declared
    after = global_values(cluster["port"], names)
    assert after == dict(defaults, tidb_txn_mode="optimistic", low_priority_updates="ON", tidb_gc_life_time="24h0m0s")
    assert after["tidb_ddl_reorg_worker_cnt"] == defaults["tidb_ddl_reorg_worker_cnt"] == "4"


def test_copy_from_takes_what_the_source_customised(playbook, cluster, topology):
    """The source's customised global variables come over (not its noop or instance ones), the
    target's own declarations win, a second copy changes nothing, the source's password is shown nowhere."""
    topo = topology(pd=1, tikv=1, tidb=1)
    target = topo["tidb_servers"][0]["port"]
    up = playbook("cluster_up.yml", name="vt%d" % (cluster["port"] % 100000), topology=topo, version=VERSION,
                  tidb_port=target, rows=1)
    assert up.rc == 0, up.failed() or up.stderr
    try:
        run = playbook("variables_copy.yml", source_port=cluster["port"], source_password=cluster["password"],
                       target_port=target)
        assert run.rc == 0, run.failed() or run.stderr
        copied = run.task("Copy to the target, with one of its own")
        assert copied["copied"] == {"tidb_mem_quota_query": "536870912"}, copied["copied"]
        assert copied["changed"] is True and sorted(copied["changed_variables"]) == [
            "tidb_ddl_reorg_worker_cnt", "tidb_mem_quota_query"]
        assert run.task("Copy again")["changed"] is False
        assert global_values(target, ["tidb_mem_quota_query", "tidb_txn_mode", "low_priority_updates",
                                      "tidb_enable_slow_log", "tidb_ddl_reorg_worker_cnt"]) == {
            "tidb_mem_quota_query": "536870912", "tidb_txn_mode": "pessimistic", "low_priority_updates": "OFF",
            "tidb_enable_slow_log": "ON", "tidb_ddl_reorg_worker_cnt": "8"}
        assert cluster["password"] not in run.stdout + run.stderr
    finally:
        playbook("cluster_remove.yml", name="vt%d" % (cluster["port"] % 100000))
