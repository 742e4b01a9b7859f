"""tidb_variables through ansible-playbook: values checked in TiDB itself from a connection of
the test's own, idempotence across spellings, check mode, and bad input that sets nothing."""
import pymysql

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
