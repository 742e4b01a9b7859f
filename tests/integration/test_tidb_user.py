"""tidb_user through ansible-playbook: accounts checked by logging in as them and by TiDB's own
SHOW GRANTS, idempotence across spellings, check mode, bad input that writes nothing, and copies
between two clusters that keep the password without ever reading it."""
import hashlib
import os

import pymysql
import pytest

from tests.integration.conftest import VERSION


def login(port, user, password):
    pymysql.connect(host="127.0.0.1", port=port, user=user, password=password, connect_timeout=5).close()


def refused(port, user, password):
    with pytest.raises(pymysql.err.OperationalError) as err:
        login(port, user, password)
    return err.value.args[0]


def grants(port, user, host="%"):
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM mysql.user WHERE User = %s AND Host = %s", (user, host))
            if not cur.fetchone()[0]:
                return None
            cur.execute("SHOW GRANTS FOR %s@%s", (user, host))
            return sorted(row[0] for row in cur.fetchall())
    finally:
        conn.close()


def test_an_account_is_kept_as_declared(playbook, cluster):
    port = cluster["port"]
    app_password, new_password = "App-%d-pw" % os.getpid(), "New-%d-pw" % os.getpid()
    run = playbook("users.yml", tidb_port=port, app_password=app_password, new_password=new_password)
    assert run.rc == 0, run.failed() or run.stderr

    predicted = run.task("Create in check mode")
    assert predicted["changed"] is True and predicted["actions"][0] == "create 'app_shop'@'%'"
    assert predicted["user"]["privileges"] == {"*.*": ["BACKUP_ADMIN", "PROCESS"], "usr.*": ["INSERT", "SELECT"]}
    assert "app_shop@%" in predicted["diff"]["after"] and predicted["diff"]["before"] == ""

    created = run.task("Create")
    assert created["changed"] is True and created["actions"] == [
        "create 'app_shop'@'%'", "grant BACKUP_ADMIN,PROCESS ON *.* to 'app_shop'@'%'",
        "grant INSERT,SELECT ON usr.* to 'app_shop'@'%'"]
    assert created["user"] == {"name": "app_shop", "host": "%", "plugin": "mysql_native_password", "locked": False,
                               "privileges": {"*.*": ["BACKUP_ADMIN", "PROCESS"], "usr.*": ["INSERT", "SELECT"]}}
    again = run.task("Again, privileges written another way")
    assert again["changed"] is False and again["actions"] == []
    assert run.task("A new password, fewer privileges, in check mode")["actions"] == [
        "set password of 'app_shop'@'%'", "revoke BACKUP_ADMIN,PROCESS ON *.* from 'app_shop'@'%'",
        "revoke INSERT ON usr.* from 'app_shop'@'%'"]
    changed = run.task("A new password, fewer privileges")
    assert changed["changed"] is True and changed["user"]["privileges"] == {"usr.*": ["SELECT"]}

    codes = [r["error_code"] for r in run.task("Bad input, nothing written")["results"]]
    assert codes == ["PRIVILEGE_UNKNOWN", "PRIVILEGE_LEVEL_INVALID", "PRIVILEGE_LEVEL_INVALID",
                     "ACCOUNT_PASSWORD_UNCOMPARABLE", "INVALID_ARGUMENT"]
    assert run.task("Locked")["user"]["locked"] is True
    dropped = run.task("Dropped")["results"]
    assert [d["changed"] for d in dropped] == [True, False] and dropped[1]["user"] is None

    # TiDB itself: nothing of the bad input exists, the account went through each state, and is gone now
    for name in ("app_bad1", "app_bad2", "app_bad3", "app_bad4"):
        assert grants(port, name) is None
    assert grants(port, "app_shop") is None
    assert app_password not in run.stdout + run.stderr and new_password not in run.stdout + run.stderr

    # each state seen from outside: the password logs in, SHOW GRANTS has TiDB's lines
    first, second = "Step1-%d-pw" % os.getpid(), "Step2-%d-pw" % os.getpid()
    step = playbook("user_step.yml", tidb_port=port, user_password=first,
                    privileges={"*.*": ["BACKUP_ADMIN", "PROCESS"], "usr.*": ["SELECT", "INSERT"]})
    assert step.rc == 0, step.failed() or step.stderr
    login(port, "app_step", first)
    assert grants(port, "app_step") == sorted([
        "GRANT PROCESS ON *.* TO 'app_step'@'%'", "GRANT SELECT,INSERT ON `usr`.* TO 'app_step'@'%'",
        "GRANT BACKUP_ADMIN ON *.* TO 'app_step'@'%'"])
    step = playbook("user_step.yml", tidb_port=port, user_password=second, privileges={"usr.*": ["SELECT"]})
    assert step.rc == 0, step.failed() or step.stderr
    assert refused(port, "app_step", first) == 1045
    login(port, "app_step", second)
    assert grants(port, "app_step") == ["GRANT SELECT ON `usr`.* TO 'app_step'@'%'", "GRANT USAGE ON *.* TO 'app_step'@'%'"]
    step = playbook("user_step.yml", tidb_port=port, user_password=second, privileges={"usr.*": ["SELECT"]}, locked=True)
    assert step.rc == 0, step.failed() or step.stderr
    # a locked account is refused (TiDB: 3118; the sandbox's MariaDB answers the login: 4151)
    assert refused(port, "app_step", second) in (3118, 4151)
    step = playbook("user_step.yml", tidb_port=port, user_password=second, privileges={}, state="absent")
    assert step.rc == 0 and grants(port, "app_step") is None


def test_copy_from_keeps_the_passwords_it_never_reads(playbook, cluster, topology):
    topo = topology(pd=1, tikv=1, tidb=1)
    target = topo["tidb_servers"][0]["port"]
    name = "ut%d" % (cluster["port"] % 100000)
    up = playbook("cluster_up.yml", name=name, topology=topo, version=VERSION, tidb_port=target, rows=1)
    assert up.rc == 0, up.failed() or up.stderr
    app_password = "Copy-%d-pw" % os.getpid()
    try:
        run = playbook("users_copy.yml", source_port=cluster["port"], source_password=cluster["password"],
                       target_port=target, app_password=app_password)
        assert run.rc == 0, run.failed() or run.stderr
        copied = run.task("Copy to the target")
        assert copied["changed"] is True
        assert [(u["name"], u["host"]) for u in copied["users"]] == [
            ("app_copy", "%"), ("app_copy", "127.0.0.1"), ("app_gone", "%")]  # not root, not other
        assert run.task("Copy again")["changed"] is False
        # the target's accounts log in with the source's password; the grants are the source's
        login(target, "app_copy", app_password)
        assert grants(target, "app_copy") == [
            "GRANT RESTORE_ADMIN ON *.* TO 'app_copy'@'%'", "GRANT SELECT ON *.* TO 'app_copy'@'%'"]
        assert grants(target, "app_copy", "127.0.0.1") == [
            "GRANT SYSTEM_VARIABLES_ADMIN ON *.* TO 'app_copy'@'127.0.0.1' WITH GRANT OPTION",
            "GRANT USAGE ON *.* TO 'app_copy'@'127.0.0.1'"]
        assert refused(target, "app_gone", app_password) in (3118, 4151)
        assert grants(target, "other") is None
        text = run.stdout + run.stderr
        hashed = "*" + hashlib.sha1(hashlib.sha1(app_password.encode()).digest()).hexdigest().upper()
        assert app_password not in text and cluster["password"] not in text and hashed[1:] not in text
    finally:
        playbook("cluster_remove.yml", name=name)
