"""The DM-master OpenAPI client: error shapes and codes, the 404/46018 quirks, status helpers;
the precheck result parsing; dmctl's output; the source model."""
import json

import pytest

from ansible_collections.tidbops.manager.plugins.module_utils.dm import api as dm_api
from ansible_collections.tidbops.manager.plugins.module_utils.dm import source_config as scfg
from ansible_collections.tidbops.manager.plugins.module_utils.dm.check import check_details, summarize_check
from ansible_collections.tidbops.manager.plugins.module_utils.tools.dmctl import master_addr, parse_output
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.http import HttpResponse


def client_answering(*answers):
    """A DmClient whose transport answers (status, body) in turn and records the requests."""
    client = dm_api.DmClient(["http://dm:8261"])
    queue = list(answers)
    client.sent = []

    def request(method, path, payload=None):
        client.sent.append((method, path, payload))
        status, body = queue.pop(0)
        return HttpResponse(status, body if isinstance(body, str) else json.dumps(body))

    client.http.request = request
    return client


def dm_error(code, msg):
    return (400, {"error_code": code, "error_msg": msg})


def test_missing_task_is_400_46018_and_reads_as_none():
    client = client_answering(dm_error(46018, "task with name t1 not exist"))
    assert client.get_task("t1") is None
    assert client.sent == [("GET", "/api/v1/tasks/t1?with_status=true", None)]


def test_missing_source_is_a_bare_404_and_reads_as_none():
    client = client_answering((404, ""))
    assert client.get_source("s 1") is None
    assert client.sent[0][1] == "/api/v1/sources/s%201?with_status=true"


@pytest.mark.parametrize("dm_code, code", [
    (26005, "DM_TASK_CHECK_FAILED"), (46035, "DM_TASK_NOT_UPDATABLE"), (40081, "DM_TASK_NOT_UPDATABLE"),
    (38058, "DM_TASK_START_FAILED"), (20022, "DM_TASK_START_FAILED"), (46008, "DM_SOURCE_NOT_FOUND"),
    (46014, "DM_TASK_EXISTS"), (46010, "DM_SOURCE_IN_USE"), (40070, "DM_WORKER_NOT_FOUND"),
    (10001, "DM_TASK_INVALID"),  # no code of its own: the operation's fallback
])
def test_dm_errors_carry_a_code_and_dms_code(dm_code, code):
    client = client_answering(dm_error(dm_code, "[code=%d] it went wrong" % dm_code))
    with pytest.raises(TidbOpsError) as caught:
        client.create_task({"name": "t1"})
    assert caught.value.code == code
    assert caught.value.details["dm_error_code"] == dm_code and "it went wrong" in caught.value.msg


def test_unknown_errors_and_a_disabled_openapi():
    with pytest.raises(TidbOpsError) as caught:
        client_answering(dm_error(0, "boom")).stop_task("t1")
    assert caught.value.code == "DM_API_ERROR" and caught.value.details["dm_error_code"] is None
    with pytest.raises(TidbOpsError) as caught:
        client_answering((404, "404 page not found")).list_tasks()
    assert caught.value.code == "DM_API_ERROR" and "openapi = true" in caught.value.msg


def test_unreachable_masters_raise_dm_api_unreachable():
    client = dm_api.DmClient(["http://127.0.0.1:1"], timeout=1)
    with pytest.raises(TidbOpsError) as caught:
        client.list_tasks()
    assert caught.value.code == "DM_API_UNREACHABLE"


def test_request_bodies_and_queries():
    client = client_answering((200, ""), (200, ""), (204, ""), (200, {"total": 0, "data": []}))
    client.start_task("t1", sources=["a", "b"], start_time="2026-01-02 03:04:05")
    client.stop_task("t1")
    client.delete_task("t1", force=True, keep_meta=True)
    assert client.task_status("t1", sources=["a", "b"]) == []
    assert client.sent == [
        ("POST", "/api/v1/tasks/t1/start", {"source_name_list": ["a", "b"], "start_time": "2026-01-02 03:04:05"}),
        ("POST", "/api/v1/tasks/t1/stop", None),
        ("DELETE", "/api/v1/tasks/t1?force=true&keep_meta=true", None),
        ("GET", "/api/v1/tasks/t1/status?source_name_list=a%2Cb", None)]
    assert client.calls == ["POST /api/v1/tasks/t1/start", "POST /api/v1/tasks/t1/stop",
                            "DELETE /api/v1/tasks/t1?force=true&keep_meta=true"]


def test_dm_master_url_is_required():
    with pytest.raises(TidbOpsError) as caught:
        dm_api.DmClient.from_params({"dm_master_url": [" "], "dm_timeout": 5})
    assert caught.value.code == "INVALID_ARGUMENT"


@pytest.mark.parametrize("stages, errors, stage", [
    (["Running", "Running"], [], "Running"),
    (["Running", "Paused"], [], "Running"),
    (["Paused", "Paused"], [], "Stopped"),  # a stop reads Paused
    (["Stopped"], [], "Stopped"),
    (["Finished", "Finished"], [], "Finished"),
    (["Paused", "Running"], ["Paused"], "Error"),
    (["Pausing"], [], "Stopping"),
    ([], [], "Stopped"),
])
def test_task_stage(stages, errors, stage):
    status = [dict(source_name="s%d" % i, stage=s, error_msg="bad" if s in errors else "") for i, s in enumerate(stages)]
    assert dm_api.task_stage(status) == stage


CHECK_DETAIL = {"results": [
    {"id": 1, "name": "binlog_format", "desc": "check binlog format", "state": "fail",
     "errors": [{"severity": "fail", "short_error": "binlog_format is STATEMENT, and should be ROW"}],
     "instruction": "set global binlog_format=ROW"},
    {"id": 2, "name": "version", "desc": "check version", "state": "warn",
     "errors": [{"severity": "warn", "short_error": "version 5.5 is not supported"}]},
    {"id": 3, "name": "server_id", "desc": "check server_id", "state": "success"}],
    "summary": {"passed": False, "total": 3, "successful": 1, "failed": 1, "warning": 1}}


def test_precheck_failure_message_is_summarized_within_limits():
    msg = ("[code=26005:class=task-check] fail to check synchronization configuration with type: "
           "binlog_format is STATEMENT\n detail: %s" % json.dumps(CHECK_DETAIL))
    summary = summarize_check(msg, False, error_count=10, warn_count=0)
    assert summary["passed"] is False and summary["error_total"] == 1 and summary["warn_total"] == 1
    assert summary["errors"][0]["name"] == "binlog_format" and summary["warnings"] == []
    assert summary["errors"][0]["instruction"] == "set global binlog_format=ROW"
    assert "detail" not in summary["message"]


def test_precheck_passed_and_warnings_only():
    assert summarize_check("pre-check is passed. ", True)["errors"] == []
    warn_only = dict(CHECK_DETAIL, results=CHECK_DETAIL["results"][1:])
    text = ("fail to check synchronization configuration with type: no errors but some warnings\n detail: %s"
            % json.dumps(warn_only))
    summary = summarize_check(text, True)
    assert summary["passed"] and summary["warn_total"] == 1 and summary["errors"] == []
    assert check_details("no json here") is None


def test_dmctl_output_invalid_json_is_read_leniently():
    # check-task splices raw text into its JSON (tiflow#11736); exit code 0 means nothing.
    text = '{\n    "result": false,\n    "msg": "fail to check ... detail: %s"\n}' % json.dumps(CHECK_DETAIL)
    doc = parse_output(text)
    assert doc["result"] is False and summarize_check(doc.get("msg") or doc["raw"], False)["error_total"] == 1
    assert parse_output('{"result": true, "msg": "", "locks": []}') == {"result": True, "msg": "", "locks": []}
    assert parse_output("Error: context deadline exceeded") is None
    assert master_addr("https://dm-1:8261/") == "dm-1:8261"


SOURCE_YAML = {"source-id": "mysql-replica-01", "enable-gtid": True, "flavor": "mysql", "enable-relay": False,
               "relay-binlog-name": "", "server-id": 101,
               "from": {"host": "127.0.0.1", "port": 3306, "user": "root", "password": "SrcPw-2"},
               "purge": {"interval": 3600, "expires": 0, "remain-space": 15}}


def test_source_yaml_to_openapi_model():
    source, warnings = scfg.source_from_yaml(SOURCE_YAML)
    assert source["source_name"] == "mysql-replica-01" and source["password"] == "SrcPw-2"
    assert source["purge"] == {"interval": 3600, "expires": 0, "remain_space": 15}
    assert source["relay_config"] == {"enable_relay": False, "relay_binlog_name": ""}
    assert warnings == ["source YAML: server-id is ignored by the DM OpenAPI"]
    with pytest.raises(TidbOpsError) as caught:
        scfg.source_from_yaml(dict(SOURCE_YAML, filters=[{"schema-pattern": "x"}]))
    assert caught.value.code == "DM_SOURCE_INVALID"


def test_source_drift_ignores_the_masked_password_and_detected_flavor():
    wanted = scfg.validate_source(scfg.merge_options({}, dict(source_name="s1", host="h", port=3306, user="u",
                                                              password="pw", enable_gtid=None, flavor=None)))
    actual = dict(source_name="s1", host="h", port=3306, user="u", password="******", enable_gtid=False,
                  enable=True, flavor="mariadb", purge={"interval": 3600, "expires": 0, "remain_space": 15})
    assert scfg.changed_fields(wanted, actual) == []
    assert scfg.changed_fields(dict(wanted, host="h2", purge={"expires": 24}), actual) == ["host", "purge.expires"]
    assert scfg.masked_source(wanted)["password"] == "******" and "password" not in scfg.comparable(wanted)
