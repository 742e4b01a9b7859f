"""dm_task's decisions against a fake DM-master: create, idempotence, check mode, drift and the
update path (stop every source first), non-updatable changes, start/stop quirks, delete, the
precheck, and passwords kept out of results."""
import copy
import json

import pytest
import yaml

from ansible.module_utils.six.moves.urllib.parse import parse_qs, unquote, urlsplit
from ansible.module_utils.testing import patch_module_args

from ansible_collections.tidbops.manager.plugins.module_utils.dm import api as dm_api
from ansible_collections.tidbops.manager.plugins.module_utils.tools.http import HttpResponse
from ansible_collections.tidbops.manager.plugins.modules import dm_task


# A small fake DM-master, shared with test_dm_source_member.py: the OpenAPI v1 paths the modules
# use, with DM's error shape and quirks (400/46018 for a missing task, a bare 404 for a missing
# source, start/stop of a missing task answering 200, stop reading Paused, the password read as
# ******, a PUT that checks only the first source's stage).
class FakeDm(object):
    def __init__(self):
        self.tasks = {}      # name -> Task as created
        self.stages = {}     # name -> {source: stage}
        self.expect = {}     # name -> {source: expected stage}: Running after a start until a stop
        self.errors = {}     # (name, source) -> error_msg of a subtask paused by an error
        self.sources = {}    # name -> Source
        self.log = []        # (method, path, body) of every request
        self.check_result = "pre-check is passed. "
        self.fail_next = {}  # (method, path prefix) -> (dm code, msg)

    def client(self):
        client = dm_api.DmClient(["http://dm-master:8261"])
        client.http.request = self.request
        return client

    def writes(self):
        return [(m, p) for m, p, _b in self.log if m != "GET"]

    # -- transport ---------------------------------------------------------------------

    def request(self, method, path, payload=None):
        self.log.append((method, path, copy.deepcopy(payload)))
        url = urlsplit(path)
        parts = [unquote(p) for p in url.path.split("/")[3:]]
        query = dict((k, v[0]) for k, v in parse_qs(url.query).items())
        for (m, prefix), (code, msg) in list(self.fail_next.items()):
            if m == method and url.path.startswith(prefix):
                del self.fail_next[(m, prefix)]
                return self.error(code, msg)
        handler = getattr(self, "_%s_%s" % (method.lower(), parts[0]))
        return handler(parts[1:], query, payload or {})

    @staticmethod
    def ok(status, body=None):
        return HttpResponse(status, json.dumps(body) if body is not None else "")

    @staticmethod
    def error(code, msg):
        return HttpResponse(400, json.dumps({"error_code": code, "error_msg": msg}))

    # -- tasks ---------------------------------------------------------------------------

    def task_view(self, name, with_status=True):
        task = copy.deepcopy(self.tasks[name])
        if with_status:
            task["status_list"] = self.status(name)
        return task

    def status(self, name):
        return [dict(name=name, source_name=s, worker_name="worker-" + s, stage=stage, unit="Sync",
                     error_msg=self.errors.get((name, s), "")) for s, stage in sorted(self.stages[name].items())]

    def _get_tasks(self, parts, query, body):
        if not parts:
            return self.ok(200, {"total": len(self.tasks), "data": [self.task_view(n) for n in sorted(self.tasks)]})
        name = parts[0]
        if name not in self.tasks:
            return self.error(46018, "task with name %s not exist" % name)
        if parts[1:] == ["status"]:
            return self.ok(200, {"total": len(self.stages[name]), "data": self.status(name)})
        return self.ok(200, self.task_view(name, query.get("with_status") == "true"))

    def _post_tasks(self, parts, query, body):
        if not parts:
            task = body["task"]
            if task["name"] in self.tasks:
                return self.error(46014, "subtasks with name %s for sources already exist" % task["name"])
            self.tasks[task["name"]] = copy.deepcopy(task)
            self.stages[task["name"]] = dict((s["source_name"], "Stopped") for s in task["source_config"]["source_conf"])
            return self.ok(201, {"task": task, "check_result": self.check_result})
        name, op = parts
        if name not in self.tasks:
            return self.ok(200)  # DM's quirk: nothing to start or stop, success
        sources = body.get("source_name_list") or sorted(self.stages[name])
        for source in sources:
            self.expect.setdefault(name, {})[source] = "Running" if op == "start" else "Stopped"
            if self.stages[name][source] != "Finished" and not self.errors.get((name, source)):
                self.stages[name][source] = "Running" if op == "start" else "Paused"  # a stop reads Paused
        return self.ok(200)

    def _put_tasks(self, parts, query, body):
        name = parts[0]
        first = sorted(self.stages[name])[0]
        if self.stages[name][first] == "Running":  # DM checks only the first source (tiflow#12815)
            return self.error(46035, "subtask with name %s source name %s can only update when no running tasks"
                              % (name, first))
        self.tasks[name] = copy.deepcopy(body["task"])
        return self.ok(200, {"task": body["task"], "check_result": self.check_result})

    def _delete_tasks(self, parts, query, body):
        name = parts[0]
        if name not in self.tasks:
            return self.error(46018, "task with name %s not exist" % name)
        # DM looks at the expected stages: a finished or error-paused subtask is still expected Running
        if query.get("force") != "true" and "Running" in self.expect.get(name, {}).values():
            return self.error(49001, "task %s have running subtasks" % name)
        del self.tasks[name], self.stages[name]
        self.expect.pop(name, None)
        return self.ok(204)

    # -- sources ---------------------------------------------------------------------------

    def _get_sources(self, parts, query, body):
        name = parts[0]
        if name not in self.sources:
            return HttpResponse(404, "")
        source = dict(copy.deepcopy(self.sources[name]), password="******")
        if parts[1:] == ["status"]:
            return self.ok(200, {"total": 1, "data": source.get("status_list", [])})
        return self.ok(200, source)

    def _post_sources(self, parts, query, body):
        if not parts:
            source = copy.deepcopy(body["source"])
            if source["source_name"] in self.sources:
                return self.error(46007, "source config with ID %s already exists" % source["source_name"])
            if source.get("password") == "wrong":
                return self.error(10001, "Error 1045: Access denied for user 'root'")
            source["status_list"] = [dict(source_name=source["source_name"], worker_name=body.get("worker_name", "w1"))]
            self.sources[source["source_name"]] = source
            return self.ok(201, source)
        name, op = parts[0], "/".join(parts[1:])
        if name not in self.sources:
            return self.error(46008, "source config with ID %s not exists" % name)
        source = self.sources[name]
        if op in ("enable", "disable"):
            source["enable"] = op == "enable"
        elif op == "transfer":
            source["status_list"][0]["worker_name"] = body["worker_name"]
        elif op == "relay/enable":
            source["status_list"][0]["relay_status"] = {"stage": "Running"}
        elif op == "relay/disable":
            source["status_list"][0].pop("relay_status", None)
        return self.ok(200)

    def _put_sources(self, parts, query, body):
        source = copy.deepcopy(body["source"])
        source.setdefault("password", self.sources[parts[0]].get("password"))
        source["status_list"] = self.sources[parts[0]]["status_list"]
        self.sources[parts[0]] = source
        return self.ok(200, source)

    def _delete_sources(self, parts, query, body):
        del self.sources[parts[0]]
        return self.ok(204)

    # -- cluster -------------------------------------------------------------------------------

    def _get_cluster(self, parts, query, body):
        if parts == ["masters"]:
            return self.ok(200, {"total": 2, "data": [
                {"name": "master-1", "alive": True, "leader": True, "addr": "10.0.0.1:8261"},
                {"name": "master-2", "alive": True, "leader": False, "addr": "10.0.0.2:8261"}]})
        return self.ok(200, {"total": 1, "data": [
            {"name": "worker-1", "addr": "10.0.0.3:8262", "bound_stage": "bound", "bound_source_name": "mysql-01"}]})

    def _delete_cluster(self, parts, query, body):
        return self.ok(204)


PASSWORD = "Target-Secret-7x"
TASK = yaml.safe_load("""
name: orders
task-mode: all
target-database: {host: 127.0.0.1, port: 4000, user: root, password: %s}
mysql-instances:
  - {source-id: mysql-01, block-allow-list: ba}
  - {source-id: mysql-02, block-allow-list: ba}
block-allow-list:
  ba: {do-dbs: [shop, crm]}
""" % PASSWORD)


@pytest.fixture
def fake(monkeypatch):
    dm = FakeDm()
    monkeypatch.setattr(dm_api.DmClient, "from_params", classmethod(lambda cls, params: dm.client()))
    return dm


def run(main, args, check=False, diff=False, capsys=None):
    args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            main()
    out = capsys.readouterr().out
    assert PASSWORD not in out, "the target password leaked into the result"
    return json.loads(out)


def task_args(**extra):
    return dict(dict(task=copy.deepcopy(TASK)), **extra)


def test_create_started_then_idempotent(fake, capsys):
    result = run(dm_task.main, task_args(state="started"), capsys=capsys)
    assert result["changed"] and result["actions"] == ["create", "start"]
    assert result["stage"] == "Running" and result["check"]["passed"]
    assert [s["stage"] for s in result["status"]] == ["Running", "Running"]
    assert result["task"]["target_config"]["password"] == "******"
    again = run(dm_task.main, task_args(state="started"), capsys=capsys)
    assert not again["changed"] and again["actions"] == []


def test_check_mode_touches_nothing(fake, capsys):
    result = run(dm_task.main, task_args(state="started"), check=True, diff=True, capsys=capsys)
    assert result["changed"] and result["actions"] == ["create", "start"]
    assert fake.writes() == [] and fake.tasks == {}
    assert "shop" in result["diff"]["after"] and result["diff"]["before"] == ""


def test_present_creates_stopped(fake, capsys):
    result = run(dm_task.main, task_args(), capsys=capsys)
    assert result["actions"] == ["create"] and result["stage"] == "Stopped"


def test_block_allow_change_stops_every_source_updates_and_starts_again(fake, capsys):
    run(dm_task.main, task_args(state="started"), capsys=capsys)
    fake.log[:] = []
    changed = task_args(state="present")
    changed["task"]["block-allow-list"]["ba"]["do-dbs"] = ["shop"]
    result = run(dm_task.main, changed, diff=True, capsys=capsys)
    assert result["actions"] == ["update"] and result["changed_fields"] == ["table_migrate_rule"]
    # Every source stopped before the PUT (DM checks only the first), then started again.
    assert fake.writes() == [("POST", "/api/v1/tasks/orders/stop"), ("PUT", "/api/v1/tasks/orders"),
                             ("POST", "/api/v1/tasks/orders/start")]
    assert result["stage"] == "Running" and "crm" in result["diff"]["before"] and "crm" not in result["diff"]["after"]
    assert not run(dm_task.main, changed, capsys=capsys)["changed"]


def test_update_of_a_task_running_on_its_second_source_only(fake, capsys):
    run(dm_task.main, task_args(), capsys=capsys)
    fake.stages["orders"]["mysql-02"] = "Running"  # DM would accept a PUT here without effect
    changed = task_args(state="stopped")
    changed["task"]["block-allow-list"]["ba"]["do-dbs"] = ["shop"]
    result = run(dm_task.main, changed, capsys=capsys)
    assert result["actions"] == ["update"] and fake.writes()[-2:] == [("POST", "/api/v1/tasks/orders/stop"),
                                                                      ("PUT", "/api/v1/tasks/orders")]
    assert result["stage"] == "Stopped"


def test_non_updatable_change_fails_clearly_or_recreates_keeping_meta(fake, capsys):
    run(dm_task.main, task_args(state="started"), capsys=capsys)
    changed = task_args(state="started")
    changed["task"]["target-database"]["host"] = "10.0.0.9"
    failed = run(dm_task.main, changed, capsys=capsys)
    assert failed["failed"] and failed["error_code"] == "DM_TASK_NOT_UPDATABLE"
    assert "target_config.host" in failed["msg"] and fake.stages["orders"]["mysql-01"] == "Running"
    fake.log[:] = []
    result = run(dm_task.main, dict(changed, recreate=True), capsys=capsys)
    assert result["actions"] == ["recreate", "start"]
    assert ("DELETE", "/api/v1/tasks/orders?keep_meta=true") in fake.writes()
    assert fake.tasks["orders"]["target_config"]["host"] == "10.0.0.9"


def test_dm_refusing_an_update_restarts_the_task_and_reports_dms_code(fake, capsys):
    run(dm_task.main, task_args(state="started"), capsys=capsys)
    fake.fail_next[("PUT", "/api/v1/tasks/orders")] = (40081, "can only update task config for limited fields")
    changed = task_args()
    changed["task"]["block-allow-list"]["ba"]["do-dbs"] = ["shop"]
    result = run(dm_task.main, changed, capsys=capsys)
    assert result["error_code"] == "DM_TASK_NOT_UPDATABLE" and result["dm_error_code"] == 40081
    assert fake.stages["orders"] == {"mysql-01": "Running", "mysql-02": "Running"}


def test_stopped_reads_paused_and_is_idempotent(fake, capsys):
    run(dm_task.main, task_args(state="started"), capsys=capsys)
    result = run(dm_task.main, dict(name="orders", state="stopped", timeout="30s"), capsys=capsys)
    assert result["actions"] == ["stop"] and result["stage"] == "Stopped"
    assert [s["stage"] for s in result["status"]] == ["Paused", "Paused"]
    assert ("POST", "/api/v1/tasks/orders/stop", {"timeout_duration": "30s", "source_name_list": ["mysql-01", "mysql-02"]}) in fake.log
    assert not run(dm_task.main, dict(name="orders", state="stopped"), capsys=capsys)["changed"]


def test_start_of_a_missing_task_is_never_sent(fake, capsys):
    result = run(dm_task.main, dict(name="ghost", state="started"), capsys=capsys)
    assert result["error_code"] == "DM_TASK_NOT_FOUND" and fake.writes() == []


def test_start_sources_start_time_and_no_remove_meta_unless_reset(fake, capsys):
    run(dm_task.main, task_args(), capsys=capsys)
    run(dm_task.main, dict(name="orders", state="started", sources=["mysql-02"], start_time="2026-01-02 00:00:00",
                           safe_mode_time_duration="60s"), capsys=capsys)
    start = [b for m, p, b in fake.log if p == "/api/v1/tasks/orders/start"]
    assert start == [{"source_name_list": ["mysql-02"], "start_time": "2026-01-02 00:00:00",
                      "safe_mode_time_duration": "60s"}]
    assert fake.stages["orders"] == {"mysql-01": "Stopped", "mysql-02": "Running"}
    result = run(dm_task.main, dict(name="orders", state="started", reset=True), capsys=capsys)
    assert result["actions"] == ["stop", "start"]
    assert [b for m, p, b in fake.log if p == "/api/v1/tasks/orders/start"][-1]["remove_meta"] is True
    unknown = run(dm_task.main, dict(name="orders", state="started", sources=["nope"]), capsys=capsys)
    assert unknown["error_code"] == "INVALID_ARGUMENT"


def test_absent_stops_then_deletes_and_is_idempotent(fake, capsys):
    run(dm_task.main, task_args(state="started"), capsys=capsys)
    result = run(dm_task.main, dict(name="orders", state="absent", keep_meta=True), capsys=capsys)
    assert result["actions"] == ["stop", "delete"] and fake.tasks == {}
    assert ("DELETE", "/api/v1/tasks/orders?keep_meta=true") in fake.writes()
    assert not run(dm_task.main, dict(name="orders", state="absent"), capsys=capsys)["changed"]


def test_error_paused_subtask_is_stopped_on_every_run_without_a_change(fake, capsys):
    run(dm_task.main, task_args(state="started"), capsys=capsys)
    fake.stages["orders"]["mysql-02"] = "Paused"
    fake.errors[("orders", "mysql-02")] = "[code=10001:...] Duplicate entry"
    result = run(dm_task.main, dict(name="orders", state="stopped"), capsys=capsys)
    assert result["actions"] == ["stop_errored", "stop"] and result["changed"]
    assert [b for m, p, b in fake.log if p == "/api/v1/tasks/orders/stop"] == [
        {"source_name_list": ["mysql-02"]}, {"source_name_list": ["mysql-01"]}]
    assert fake.expect["orders"] == {"mysql-01": "Stopped", "mysql-02": "Stopped"}
    again = run(dm_task.main, dict(name="orders", state="stopped"), capsys=capsys)
    assert not again["changed"] and again["actions"] == ["stop_errored"] and again["stage"] == "Error"
    assert run(dm_task.main, dict(name="orders", state="stopped"), check=True, capsys=capsys)["actions"] == []


def test_absent_stops_finished_and_error_paused_subtasks_first(fake, capsys):
    run(dm_task.main, task_args(state="started"), capsys=capsys)
    fake.stages["orders"] = {"mysql-01": "Finished", "mysql-02": "Paused"}
    fake.errors[("orders", "mysql-02")] = "[code=10001:...] Duplicate entry"
    result = run(dm_task.main, dict(name="orders", state="absent"), capsys=capsys)
    assert result["actions"] == ["stop", "delete"] and fake.tasks == {}, result
    assert [b for m, p, b in fake.log if p == "/api/v1/tasks/orders/stop"] == [
        {"source_name_list": ["mysql-01", "mysql-02"]}]


def test_precheck_failure_on_create_carries_the_check(fake, capsys):
    detail = {"results": [{"id": 1, "name": "binlog_format", "state": "fail",
                           "errors": [{"severity": "fail", "short_error": "binlog_format is STATEMENT"}]}],
              "summary": {"passed": False}}
    fake.fail_next[("POST", "/api/v1/tasks")] = (26005, "fail to check synchronization configuration with type: "
                                                        "binlog_format\n detail: %s" % json.dumps(detail))
    result = run(dm_task.main, task_args(), capsys=capsys)
    assert result["error_code"] == "DM_TASK_CHECK_FAILED" and result["dm_error_code"] == 26005
    assert result["check"]["errors"][0]["name"] == "binlog_format" and fake.tasks == {}


def test_check_only_without_dmctl_probes_under_a_temporary_name(fake, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    fake.check_result = ("fail to check synchronization configuration with type: no errors but some warnings\n"
                         ' detail: {"results": [{"name": "version", "state": "warn", "errors": []}], "summary": {}}')
    result = run(dm_task.main, task_args(check_only=True, warn_count=5), capsys=capsys)
    assert not result["changed"] and result["check_method"] == "openapi"
    assert result["check"]["passed"] and result["check"]["warn_total"] == 1
    created = [b["task"]["name"] for m, p, b in fake.log if (m, p) == ("POST", "/api/v1/tasks")]
    assert len(created) == 1 and created[0].startswith("orders-check-") and fake.tasks == {}
    skipped = run(dm_task.main, task_args(check_only=True), check=True, capsys=capsys)
    assert not skipped["changed"] and "check" not in skipped


def test_check_only_with_dmctl_parses_its_result(fake, capsys, tmp_path):
    dmctl = tmp_path / "dmctl"
    dmctl.write_text("#!/bin/sh\n"
                     "cat \"$4\" | grep -q 'task-mode' || exit 3\n"
                     "echo '{\"result\": false, \"msg\": \"fail to check ... detail: "
                     "{\"results\": [{\"name\": \"dump_privilege\", \"state\": \"fail\", \"errors\": []}]}\"}'\n")
    dmctl.chmod(0o755)
    result = run(dm_task.main, task_args(check_only=True, dmctl_path=str(dmctl)), capsys=capsys)
    assert result["error_code"] == "DM_TASK_CHECK_FAILED" and result["check_method"] == "dmctl"
    assert result["check"]["errors"][0]["name"] == "dump_privilege" and fake.writes() == []


def test_invalid_task_yaml_fails_before_any_request(fake, capsys, tmp_path):
    bad = tmp_path / "task.yaml"
    bad.write_text("name: x\ntask-mode: all\nexpression-filter: {e: {schema: a}}\n")
    result = run(dm_task.main, dict(task_file=str(bad)), capsys=capsys)
    assert result["error_code"] == "DM_TASK_UNSUPPORTED" and fake.log == []
    bad.write_text("name: [x\n")
    assert run(dm_task.main, dict(task_file=str(bad)), capsys=capsys)["error_code"] == "DM_TASK_INVALID"


def test_task_from_an_openapi_model(fake, capsys):
    from ansible_collections.tidbops.manager.plugins.module_utils.dm.task_config import to_openapi_task
    model, _warnings = to_openapi_task(copy.deepcopy(TASK))
    run(dm_task.main, dict(task=model), capsys=capsys)
    assert not run(dm_task.main, task_args(), capsys=capsys)["changed"]  # the same task as dmctl YAML
